"""echo-py-threads — the echo server as the socketserver documentation writes
one: a ThreadingTCPServer starts a thread per connection and the request
handler's handle() is a plain blocking loop (recv, sendall), like the C
threads model (models/threads/echo.c). Under the GIL only one of the threads
runs Python code at a time; a thread releases it while it waits in recv/send.

The same file serves echo-py-processes (--processes: ForkingTCPServer, a
process forked per connection, like models/fork/echo.c)."""
import errno
import os
import signal
import time
import socketserver
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import peer  # noqa: E402

BUF = 2048  # read at most this much at a time, like the C models (SERVER_BUF, models/common/server.h)
WORK = 0  # --work: units of CPU work per message


class Echo(socketserver.BaseRequestHandler):
    """One connection's whole life: echo until the peer closes or fails."""

    def handle(self):
        s = self.request
        try:
            while True:
                data = s.recv(BUF)
                if not data:  # the peer closed its side: all it sent was echoed
                    return
                peer.work_do(WORK, data)
                s.sendall(data)
        except OSError:  # reset by the peer
            pass


class Stop(BaseException):
    """Raised by the signal handler to leave serve_forever(). A BaseException,
    like KeyboardInterrupt: socketserver catches every Exception raised while
    it handles a request (handle_error) and would go on serving."""


MAIN_PID = os.getpid()


def on_signal(signum, frame):
    if os.getpid() != MAIN_PID:
        # A child forked just as the signal came (ForkingTCPServer): it runs
        # the handler too, before finish_request resets it; it just ends.
        os._exit(0)
    raise Stop()


def make_server(prog, base, opts):
    spare = [os.open(os.devnull, os.O_RDONLY)]  # one descriptor kept in reserve, as server.c keeps one

    class Server(base):
        allow_reuse_address = True
        request_queue_size = opts["backlog"]  # socketserver's default backlog is 5
        daemon_threads = True  # a stop does not wait for open connections
        block_on_close = False
        max_children = 1 << 20  # ForkingMixIn waits at 40 children by default

        def get_request(self):
            """Out of descriptors, socketserver's accept fails, serve_forever
            returns to select(), which finds the listening socket readable
            again at once: a loop spinning on EMFILE. So do what the C servers
            do (server.c's spare descriptor): close the spare, accept the
            pending connection and close it (the client is refused, not left
            waiting), take the spare back, and say so once a second."""
            try:
                return self.socket.accept()
            except OSError as e:
                if e.errno not in (errno.EMFILE, errno.ENFILE):
                    raise
                peer.too_many_files_warning(prog)
                if not spare:  # no spare to give back: back off instead of spinning
                    time.sleep(0.01)
                    raise
                os.close(spare.pop())
                try:
                    self.socket.accept()[0].close()
                except OSError:
                    pass
                try:
                    spare.append(os.open(os.devnull, os.O_RDONLY))
                except OSError:  # another thread took it meanwhile: the next EMFILE backs off
                    pass
                raise

        def finish_request(self, request, client_address):
            if hasattr(os, "fork") and issubclass(base, socketserver.ForkingMixIn):
                # In a forked child: SIGTERM ends it the default way, not by
                # raising Stop into the handler (the parent sends it on stop).
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
            super().finish_request(request, client_address)

    return Server((opts["bind"], opts["port"]), Echo)


def main(prog="echo-py-threads", base=socketserver.ThreadingTCPServer,
         what="a thread per connection (socketserver.ThreadingTCPServer)"):
    global WORK
    opts = peer.server_flags(prog, "An echo server in Python with %s.\n"
                             "SIGINT or SIGTERM stops it." % what, sys.argv[1:])
    WORK = opts["work"]
    try:
        server = make_server(prog, base, opts)
    except OSError as e:
        peer.cannot_listen(prog, opts, e)
    peer.stop_signals(on_signal)
    peer.ready(server.server_address)
    try:
        server.serve_forever()
    except Stop:
        pass
    if getattr(server, "active_children", None):  # forked children: end and reap them
        for pid in list(server.active_children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:  # it ended and was reaped meanwhile
                pass
        for pid in list(server.active_children):
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:  # already reaped
                pass
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
