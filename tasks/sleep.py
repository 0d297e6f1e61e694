"""tasks/sleep.py — N asyncio tasks that each sleep S seconds, all awaited:
the Python asyncio kind of `make bench-tasks` (docs/tasks.md), written the
way the language's documentation would: asyncio.create_task per task, then
asyncio.gather of them all.

    /usr/bin/python3 tasks/sleep.py N S

Prints "started N" once every task exists and "done in T s" at the end, like
bin/tasks-sleep, for bin/tasks-run to read.
"""
import asyncio
import sys
import time


async def task(seconds):
    await asyncio.sleep(seconds)


async def main(n, seconds):
    tasks = [asyncio.create_task(task(seconds)) for _ in range(n)]
    print("started", n, flush=True)
    await asyncio.gather(*tasks)


def usage(msg):
    print("sleep.py: " + msg + " (usage: sleep.py N S)", file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        usage("want two arguments")
    try:
        n, s = int(sys.argv[1]), float(sys.argv[2])
    except ValueError:
        usage("N must be a whole number and S a number")
    if n < 1 or s < 0:
        usage("N must be >= 1 and S >= 0")
    t0 = time.monotonic()
    asyncio.run(main(n, s))
    print("done in %.2f s" % (time.monotonic() - t0), flush=True)
