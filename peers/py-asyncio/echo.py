"""echo-py-asyncio — the echo server on Python's asyncio, written the way its
documentation's "TCP echo server using streams" example is: asyncio.start_server()
runs handle() as one task per connection, and each `await` is where the task
gives the event loop to the others — the same idea as the C loop model's
co_read/co_write (models/loop/echo.c), in the interpreter.

The same file serves echo-py-uvloop: main() takes the event loop's factory."""
import asyncio
import os
import signal
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
    loop = asyncio.get_running_loop()
    stopping = peer.asyncio_accept_errors(prog, loop)
    stop = asyncio.Event()
    for s in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(s, stop.set)
    try:
        server = await asyncio.start_server(handle, opts["bind"], opts["port"],
                                            backlog=opts["backlog"], reuse_address=True)
    except OSError as e:
        peer.cannot_listen(prog, opts, e)
    peer.ready(server.sockets[0].getsockname())
    await stop.wait()
    # The stop the 3.12+ documentation implies: since 3.12, wait_closed() (and
    # so `async with server:`) waits until every connection has finished, which
    # open clients never do. So: close() stops accepting, then the clients'
    # transports are aborted — Server.abort_clients() from 3.13, the writers
    # kept in WRITERS before — and only then wait_closed(). The connections go
    # with the server, as in the C servers; asyncio.Runner cancels their tasks.
    stopping()
    server.close()
    if hasattr(server, "abort_clients"):
        server.abort_clients()
    else:
        for w in list(WRITERS):
            w.transport.abort()
    await server.wait_closed()


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
