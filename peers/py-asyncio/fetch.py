"""fetch-py-asyncio — the fetcher on asyncio and aiohttp, the way aiohttp's
documentation fetches many URLs: one ClientSession (it owns the connection
pool), one coroutine per URL, all started with asyncio.gather(), and an
asyncio.Semaphore so that at most -c of them are in flight at once.

The same file serves fetch-py-uvloop: main() takes the event loop's factory."""
import asyncio
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import peer  # noqa: E402
import aiohttp  # noqa: E402


async def fetch_one(session, sem, run, t):
    """Fetch one URL under the semaphore; record its result."""
    async with sem:
        start = time.monotonic()
        check = peer.BodyCheck(t)
        length = t.expect  # the body length announced, for a truncation message
        try:
            async with session.get(t.text, allow_redirects=False) as resp:
                check.status = resp.status  # an error page is read, not checked (the status first)
                length = resp.content_length if resp.content_length is not None else length
                async for chunk in resp.content.iter_any():
                    if not check.feed(chunk):
                        break
                reason = check.judge(resp.status, resp.content_length)
        except asyncio.TimeoutError:
            reason = "timeout after %d ms" % run.opt["timeout"]
        except aiohttp.ClientConnectorError as e:
            reason = peer.errno_reason(e.os_error, run.opt["timeout"])
        except aiohttp.ServerDisconnectedError:
            reason = "connection closed before the response"
        except aiohttp.ClientPayloadError as e:
            reason = check.failed("truncated body: %d of %d bytes" % (check.off, length)
                                  if length is not None and length >= 0 else "truncated body: %s" % e)
        except aiohttp.ClientResponseError as e:  # a malformed status line or header
            reason = ("malformed status line" if "status line" in e.message
                      else "malformed Content-Length" if "Content-Length" in e.message
                      else "malformed response: %s" % e.message)
        except (aiohttp.ClientError, OSError) as e:
            reason = peer.errno_reason(e, run.opt["timeout"])
        run.record(t, reason is None, check.fetched(), time.monotonic() - start, reason)


async def fetch_all(run):
    sem = asyncio.Semaphore(run.inflight)
    # The semaphore bounds the requests; the pool must not bound them lower
    # (aiohttp's default is 100 connections). Without --keepalive every
    # request gets its own connection, like the C fetchers.
    connector = aiohttp.TCPConnector(limit=run.inflight, limit_per_host=0,
                                     force_close=not run.opt["keepalive"])
    timeout = aiohttp.ClientTimeout(total=run.timeout_s)  # connect to last byte
    async with aiohttp.ClientSession(connector=connector, timeout=timeout,
                                     auto_decompress=False) as session:
        await asyncio.gather(*(fetch_one(session, sem, run, t) for t in run.jobs))


def main(prog="fetch-py-asyncio", loop_factory=None, what="asyncio"):
    run = peer.FetchRun(prog, (
        "Download many URLs at once on Python's %s and aiohttp: one coroutine per URL,\n"
        "asyncio.gather() over them all, an asyncio.Semaphore keeps -c in flight." % what),
        sys.argv[1:])
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(fetch_all(run))
    return run.finish()


if __name__ == "__main__":
    sys.exit(main())
