"""echo-py-asyncio — the echo server on Python's asyncio, written the way its
documentation's "TCP echo server using streams" example is: asyncio.start_server()
runs handle() as one task per connection, and each `await` is where the task
gives the event loop to the others — the same idea as the C loop model's
co_read/co_write (models/loop/echo.c), in the interpreter.

The same file serves echo-py-uvloop: main() takes the event loop's factory."""
import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import peer  # noqa: E402

BUF = 2048  # read at most this much at a time, like the C models (SERVER_BUF, models/common/server.h)
WORK = 0  # --work: units of CPU work per message
WRITERS = set()  # the open connections' writers, for the stop (on Python < 3.13)


async def handle(reader, writer):
    """One connection's whole life: echo until the peer closes or fails."""
    WRITERS.add(writer)
    try:
        while True:
            data = await reader.read(BUF)
            if not data:  # the peer closed its side: all it sent was echoed
                break
            peer.work_do(WORK, data)
            writer.write(data)
            await writer.drain()  # wait while the kernel's send buffer is full
    except OSError:  # reset by the peer
        pass
    finally:
        WRITERS.discard(writer)
        writer.close()


async def serve(prog, opts):
    """Serve until SIGINT or SIGTERM; the stop is peer.asyncio_serve's (3.12+)."""
    await peer.asyncio_serve(prog, opts, lambda loop: asyncio.start_server(
        handle, opts["bind"], opts["port"], backlog=opts["backlog"], reuse_address=True),
        lambda: [w.transport for w in list(WRITERS)])


def main(prog="echo-py-asyncio", loop_factory=None, what="asyncio"):
    global WORK
    opts = peer.server_flags(prog, (
        "An echo server on Python's %s: one task per connection (asyncio streams),\n"
        "all on one thread. SIGINT or SIGTERM stops it." % what), sys.argv[1:])
    WORK = opts["work"]
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(serve(prog, opts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
