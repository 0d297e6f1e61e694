"""echo-py-asyncio-proto — the echo server on asyncio's lower API, Transports
and Protocols, written the way its documentation's "TCP Echo Server" example
(asyncio-protocol, "Examples") is: loop.create_server() makes one Echo
protocol per connection, and data_received() writes each piece back with
transport.write(). No coroutine, no task, no StreamReader buffer: the event
loop calls the protocol's methods, as libuv calls echo-libuv's callbacks.

echo-py-asyncio is the same server on streams, the API the asyncio articles
teach; the difference between the two is what the streams cost
(docs/peers.md). Flow control is the protocol's own: when the transport's
write buffer passes its high-water mark, pause_writing() stops reading until
resume_writing() — the back-pressure writer.drain() gives the stream server."""
import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import peer  # noqa: E402

WORK = 0  # --work: units of CPU work per message
TRANSPORTS = set()  # the open connections, for the stop (on Python < 3.13)


class Echo(asyncio.Protocol):
    """One connection: the loop calls these methods; none of them waits."""

    def connection_made(self, transport):
        self.transport = transport
        TRANSPORTS.add(transport)

    def data_received(self, data):
        peer.work_do(WORK, data)
        self.transport.write(data)  # written at once if the kernel takes it, else buffered

    def eof_received(self):
        return False  # the peer closed its side: close ours once the buffer is sent

    def pause_writing(self):
        self.transport.pause_reading()  # the peer is not reading: stop reading from it

    def resume_writing(self):
        self.transport.resume_reading()

    def connection_lost(self, exc):
        TRANSPORTS.discard(self.transport)


async def serve(prog, opts):
    """Serve until SIGINT or SIGTERM; the stop is peer.asyncio_serve's (3.12+)."""
    await peer.asyncio_serve(prog, opts, lambda loop: loop.create_server(
        Echo, opts["bind"], opts["port"], backlog=opts["backlog"], reuse_address=True),
        lambda: list(TRANSPORTS))


def main(prog="echo-py-asyncio-proto"):
    global WORK
    opts = peer.server_flags(prog, (
        "An echo server on Python's asyncio Protocols: one Protocol object per connection,\n"
        "callbacks on one thread, no task. SIGINT or SIGTERM stops it."), sys.argv[1:])
    WORK = opts["work"]
    with asyncio.Runner() as runner:
        runner.run(serve(prog, opts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
