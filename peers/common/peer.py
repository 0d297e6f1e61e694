"""peer.py — what the Python peers share with each other and with the C
programs' contract, so that each peer's own file holds only its concurrency
model: the flags (same names, same one-line errors, exit 2), the ready line,
the URL rules, the /bytes/N pattern check, and the fetchers' summary.

It mirrors models/common/flags.c, server.c and fetch.c; the messages are the
same words so that the same tests read them."""
import os
import re
import signal
import sys
import time

# ---- flags: one table, like models/common/flags.h ------------------------


class Flag:
    """One flag: kind is 'int', 'str' or 'bool'; lo/hi bound an int."""

    def __init__(self, name, short, kind, default, lo=0, hi=0, arg="", help=""):
        self.name, self.short, self.kind = name, short, kind
        self.default, self.lo, self.hi, self.arg, self.help = default, lo, hi, arg, help


def die(prog, msg):
    """One line naming the problem, exit 2 (flags_die)."""
    sys.stderr.write("%s: %s (try --help)\n" % (prog, msg))
    sys.exit(2)


def print_help(prog, usage, about, table):
    out = ["usage: %s %s" % (prog, usage), "", about, "", "flags:"]
    for f in table:
        left = ("-%s, " % f.short if f.short else "    ") + "--" + f.name
        if f.kind != "bool":
            left += " " + f.arg
        dflt = "" if f.kind == "bool" or f.default in (None, "") else " (default %s)" % f.default
        out.append("  %-24s %s%s" % (left, f.help, dflt))
    out.append("  %-24s %s" % ("-h, --help", "print this help and exit"))
    print("\n".join(out))
    sys.exit(0)


def parse(prog, usage, about, table, argv, positional=False):
    """Parse argv like flags_parse(): --name VALUE, --name=VALUE, -x VALUE,
    positional arguments anywhere, '--' ends the flags. Returns (values, args)."""
    vals = {f.name: f.default for f in table}
    longs = {f.name: f for f in table}
    shorts = {f.short: f for f in table if f.short}
    args, only_pos, i = [], False, 0
    while i < len(argv):
        a = argv[i]
        i += 1
        if only_pos or not a.startswith("-") or a == "-":
            if not positional:
                die(prog, "unexpected argument '%s'" % a)
            args.append(a)
            continue
        if a == "--":
            only_pos = True
            continue
        if a in ("-h", "--help"):
            print_help(prog, usage, about, table)
        value = None
        if a.startswith("--"):
            name, eq, v = a[2:].partition("=")
            f = longs.get(name)
            if f is None:
                die(prog, "unknown flag '--%s'" % name)
            if eq:
                value = v
        else:
            f = shorts.get(a[1:]) if len(a) == 2 else None
            if f is None:
                die(prog, "unknown flag '%s'" % a)
        if f.kind == "bool":
            if value is not None:
                die(prog, "--%s takes no value" % f.name)
            vals[f.name] = True
            continue
        if value is None:
            if i >= len(argv):
                die(prog, "--%s needs a value (%s)" % (f.name, f.arg or "VALUE"))
            value = argv[i]
            i += 1
        if f.kind == "int":
            # strtol(v, &end, 10) with nothing after: int() alone would also
            # take " 80 " and "1_000"
            if not re.fullmatch(r"[+-]?[0-9]+", value):
                die(prog, "--%s: '%s' is not a whole number" % (f.name, value))
            x = int(value, 10)
            if x < f.lo or x > f.hi:
                die(prog, "--%s: %d is out of range %d..%d" % (f.name, x, f.lo, f.hi))
            vals[f.name] = x
        else:
            vals[f.name] = value
    return vals, args


# ---- servers ------------------------------------------------------------

SERVER_FLAGS = [
    Flag("port", "p", "int", 0, 0, 65535, "PORT", "TCP port; 0 asks the kernel for a free one"),
    Flag("bind", "b", "str", "127.0.0.1", arg="ADDR", help="IPv4 address to listen on"),
    Flag("backlog", "", "int", 4096, 1, 1 << 20, "N", "listen backlog (the kernel caps it at net.core.somaxconn)"),
    Flag("work", "w", "int", 0, 0, 100000000, "N", "units of CPU work per message (models/common/work.c, in Python)"),
    Flag("stack-kib", "", "int", 0, 0, 1 << 20, "KIB", "checked as the C models check it (0, or at least 32), then ignored: "
         "the interpreter sizes its own stacks"),
]
SERVER_STACK_MIN_KIB = 32  # server.c's floor for --stack-kib

M64 = (1 << 64) - 1


def work_do(units, msg):
    """models/common/work.c's work_do(), line for line, in Python: `units`
    times 64 rounds of a splitmix64-style mixer seeded by the message. The
    same arithmetic costs far more here than in C — that is the point: it is
    the interpreter's work per message, and it holds the GIL while it runs."""
    if units <= 0:
        return 0
    x = 0x9E3779B97F4A7C15 ^ len(msg)
    k = min(len(msg), 8)  # memcpy(&x, msg, k): the low k bytes (little-endian) come from msg
    x = (x & ~((1 << (8 * k)) - 1) & M64) | int.from_bytes(msg[:k], "little")
    for _ in range(units * 64):
        x = (x + 0x9E3779B97F4A7C15) & M64
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
        x ^= x >> 31
    return x


def server_flags(prog, about, argv):
    vals, _ = parse(prog, "[flags]", about, SERVER_FLAGS, argv)
    k = vals["stack-kib"]
    if k != 0 and k < SERVER_STACK_MIN_KIB:
        die(prog, "--stack-kib: %d is too small for a connection's 2 KiB buffer; at least %d" % (k, SERVER_STACK_MIN_KIB))
    return vals


def ready(addr):
    """The ready line every server prints once it accepts connections."""
    sys.stdout.write("listening on %s:%d\n" % (addr[0], addr[1]))
    sys.stdout.flush()


def cannot_listen(prog, opts, err):
    """Port in use or bad address: one line, exit 1 (server_listen)."""
    why = os.strerror(err.errno) if getattr(err, "errno", None) else str(err)
    sys.stderr.write("%s: cannot listen on %s:%d: %s\n" % (prog, opts["bind"], opts["port"], why))
    sys.exit(1)


def too_many_files_warning(prog):
    """Rate-limited (once a second) line for EMFILE at accept(), like
    server_complain(). Called by the asyncio servers' exception handler
    (asyncio_accept_errors) and socketserver's get_request (py-threads)."""
    now = int(time.monotonic())
    if getattr(too_many_files_warning, "last", None) != now:
        too_many_files_warning.last = now
        sys.stderr.write("%s: accept: Too many open files; refusing new connections for a moment\n" % prog)


def asyncio_accept_errors(prog, loop):
    """Out of descriptors, asyncio's accept logs "socket.accept() out of
    system resource" with a traceback through the loop's exception handler,
    then stops accepting for a second (its own back-off, asyncio's
    ACCEPT_RETRY_DELAY): the traceback becomes too_many_files_warning's one
    line; every other error goes to the default handler.

    One more: asyncio's _accept_connection does not leave its loop after
    EMFILE, so it tries up to `backlog` accepts and schedules as many retries
    each time; the retries still pending when the server closes fail on the
    closed socket ("Invalid file descriptor: -1"). After the stop those are
    dropped too. Returns the function that marks the stop."""
    import errno as E
    stopping = []

    def handler(loop, context):
        exc = context.get("exception")
        if isinstance(exc, OSError) and exc.errno in (E.EMFILE, E.ENFILE, E.ENOBUFS, E.ENOMEM):
            too_many_files_warning(prog)
        elif stopping and isinstance(exc, ValueError) and "_start_serving" in str(context.get("handle", "")):
            pass
        else:
            loop.default_exception_handler(context)
    loop.set_exception_handler(handler)
    return lambda: stopping.append(True)


async def asyncio_serve(prog, opts, create, transports):
    """Run an asyncio server until SIGINT or SIGTERM: `create(loop)` makes and
    returns the Server (start_server or create_server), `transports()` gives
    the open connections' transports. The stop is the one Python 3.12 made
    necessary: since 3.12, Server.wait_closed() (and so `async with server:`)
    waits until every connection has finished, which open clients never do.
    So close() stops accepting, the clients' transports are aborted —
    Server.abort_clients() from 3.13, transports() before — and only then
    wait_closed(). The connections go with the server, as in the C servers."""
    import asyncio
    loop = asyncio.get_running_loop()
    stopping = asyncio_accept_errors(prog, loop)
    stop = asyncio.Event()
    for s in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(s, stop.set)
    try:
        server = await create(loop)
    except OSError as e:
        cannot_listen(prog, opts, e)
    ready(server.sockets[0].getsockname())
    await stop.wait()
    stopping()
    server.close()
    if hasattr(server, "abort_clients"):
        server.abort_clients()
    else:
        for t in transports():
            t.abort()
    await server.wait_closed()


# ---- fetchers -------------------------------------------------------------

FETCH_FLAGS = [
    Flag("concurrency", "c", "int", 10, 1, 100000, "C", "most requests in flight at once"),
    Flag("count", "n", "int", 1, 1, 100000000, "COUNT", "fetch every URL COUNT times"),
    Flag("input", "i", "str", None, arg="FILE", help="read URLs from FILE, one per line ('-' for stdin)"),
    Flag("timeout", "", "int", 10000, 1, 86400000, "MS", "deadline of one request, connect to last byte, in milliseconds"),
    Flag("keepalive", "", "bool", False, help="reuse connections between requests"),
    Flag("verify", "", "str", "auto", arg="MODE", help="auto|on|off: check body bytes against fetchd's pattern (auto: for /bytes/N)"),
    Flag("quiet", "q", "bool", False, help="print nothing unless a fetch failed"),
]
FETCH_LIST_MAX = 20  # failures listed one per line; the rest are counted


def _host_ok(host):
    if host == "localhost":
        return True
    parts = host.split(".")
    return len(parts) == 4 and all(p.isascii() and p.isdigit() and len(p) <= 3 and int(p) <= 255 for p in parts)


def _shown(text):
    """The URL for a message: at most 200 characters, control bytes as '?'."""
    return "".join("?" if ord(c) < 32 or ord(c) == 127 else c for c in text[:200])


def check_url(prog, text):
    """The URL rules of http_url_parse(): http://IPv4-or-localhost[:port]/path,
    the port digits only, the fragment the client's alone (dropped: it is
    never sent). Returns (host, port, path); exit 2 with one line if the URL
    is refused."""
    shown = _shown(text)
    if not text.lower().startswith("http://"):
        die(prog, "'%s': only http:// URLs are supported" % shown)
    rest = text[7:]
    cut = min([k for k in (rest.find(c) for c in ":/?#") if k >= 0] or [len(rest)])
    host, rest = rest[:cut], rest[cut:]
    if not host or len(host) >= 64:
        die(prog, "'%s': missing or too long host" % shown)
    if not _host_ok(host):
        die(prog, "'%s': host must be a dotted IPv4 address or localhost" % shown)
    port = 80
    if rest.startswith(":"):
        nd = len(rest) - 1 - len(rest[1:].lstrip("0123456789"))  # digits only: int() takes "+80"
        digits, after = rest[1:1 + nd], rest[1 + nd:2 + nd]
        if not 1 <= nd <= 5 or not 1 <= int(digits) <= 65535 or (after and after not in "/?#"):
            die(prog, "'%s': bad port" % shown)
        port, rest = int(digits), rest[1 + nd:]
    path = rest.split("#", 1)[0]
    if not path.startswith("/"):
        path = "/" + path  # "http://h" and "http://h?q" mean "/" and "/?q"
    if len(path) >= 1024:
        die(prog, "'%s': path too long" % shown)
    if any(ord(c) <= 32 or ord(c) >= 127 for c in path):  # RFC 3986: percent-encode the rest
        die(prog, "'%s': space, control or non-ASCII byte in path" % shown)
    return host, port, path


def bytes_expected(path):
    """N for a path /bytes/N[?...], else -1 (http_bytes_path)."""
    p = path.split("?", 1)[0]
    if p.startswith("/bytes/") and p[7:].isdigit() and len(p) - 7 <= 15:
        return int(p[7:])
    return -1


class Target:
    """One distinct URL."""

    def __init__(self, text, expect, verify):
        self.text = text      # the URL as written, for messages and for the request
        self.expect = expect  # body length we require, -1 if unknown
        self.verify = verify  # check body bytes against the pattern


class FetchRun:
    """The flags, the URL list, the jobs and the totals of one fetcher run."""

    def __init__(self, prog, about, argv):
        self.prog = prog
        o, urls = parse(prog, "[flags] URL... | -i FILE", about, FETCH_FLAGS, argv, positional=True)
        self.opt = o
        mode = {"on": 1, "auto": 2, "off": 0}.get(o["verify"])
        if mode is None:
            die(prog, "--verify: '%s' is not auto, on or off" % o["verify"])
        if o["input"] is not None:
            urls += self._read_file(o["input"])
        if not urls:
            die(prog, "no URLs given")
        self.targets = []
        for u in urls:
            host, port, path = check_url(prog, u)
            expect = bytes_expected(path)
            verify = mode == 1 or (mode == 2 and expect >= 0)
            self.targets.append(Target(u, expect if mode else -1, verify))
        n = len(self.targets) * o["count"]
        if n > 100000000:
            die(prog, "%d fetches is too many (at most 100000000)" % n)
        # every target, count times over, in order (fetch_make_jobs)
        self.jobs = [t for t in self.targets for _ in range(o["count"])]
        self.inflight = min(o["concurrency"], len(self.jobs))
        self.timeout_s = o["timeout"] / 1000.0
        self.ok = self.failed = self.bytes = 0
        self.latencies = []
        self.failures = []
        raise_nofile()
        self.start = time.monotonic()

    def _read_file(self, name):
        try:
            f = sys.stdin if name == "-" else open(name)
        except OSError as e:
            die(self.prog, "-i %s: %s" % (name, e.strerror))
        with f:
            lines = [s.strip() for s in f]
        return [s for s in lines if s and not s.startswith("#")]

    def record(self, target, ok, nbytes, latency_s, reason):
        """Count one result (fetch_record)."""
        self.bytes += nbytes
        if ok:
            self.ok += 1
            self.latencies.append(latency_s)
            return
        self.failed += 1
        if len(self.failures) < FETCH_LIST_MAX:
            self.failures.append("%s: %s" % (target.text, reason))

    def finish(self):
        """The summary (stdout), the failures (stderr); returns the exit status."""
        wall = time.monotonic() - self.start
        missing = len(self.jobs) - self.ok - self.failed
        if not self.opt["quiet"] or self.failed or missing:
            print("%s: fetched %d, failed %d, bytes %d, wall %.3f s (%.0f fetches/s, c=%d%s)" % (
                self.prog, self.ok, self.failed, self.bytes, wall, self.ok / wall if wall > 0 else 0,
                self.inflight, ", keepalive" if self.opt["keepalive"] else ""))
            lat = sorted(self.latencies)
            print("%s: latency p50 %.2f ms, p99 %.2f ms, max %.2f ms" % (
                self.prog, percentile(lat, 50) * 1e3, percentile(lat, 99) * 1e3,
                (lat[-1] if lat else 0) * 1e3))
        sys.stdout.flush()
        for line in self.failures:
            sys.stderr.write("%s: failed %s\n" % (self.prog, line))
        if self.failed > len(self.failures):
            sys.stderr.write("%s: ... and %d more failures\n" % (self.prog, self.failed - len(self.failures)))
        if missing:
            sys.stderr.write("%s: %d fetches never reported a result\n" % (self.prog, missing))
        return 1 if self.failed or missing else 0


def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list; 0 if empty."""
    if not sorted_values:
        return 0.0
    k = max(0, min(len(sorted_values) - 1, int(-(-p * len(sorted_values) // 100)) - 1))
    return sorted_values[k]


def raise_nofile():
    """-c 1000 needs 1000+ descriptors (net_raise_nofile)."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# ---- the /bytes/N pattern (models/common/pattern.h) ----------------------

PERIOD = 26 * 64  # byte i depends on (i/64 + i%64) % 26 and i%64: it repeats every 26 lines


def pattern_byte(i):
    return 10 if i % 64 == 63 else 97 + (i // 64 + i % 64) % 26


_CHUNK = 1 << 16
_PATTERN = bytes(pattern_byte(i) for i in range(PERIOD + _CHUNK))


class BodyCheck:
    """Checks a body fed in pieces against the pattern and the expected length;
    compares slices of a precomputed copy of the pattern, so the work per byte
    happens in C, not in the interpreter. `reason` is set on the first fault."""

    def __init__(self, target):
        self.t = target
        self.off = 0        # body bytes received so far
        self.reason = None
        self.status = None  # the response's status, once its head is in

    def error_page(self):
        """Is the answer an HTTP error? Then the status is the news, not its
        bytes: they are read but neither checked nor counted (fetch_check_body)."""
        return self.status is not None and not 200 <= self.status <= 299

    def failed(self, reason):
        """The reason of a failure while reading the response; the status
        first if it was an error page ("HTTP status 500; truncated body: ...")."""
        return "HTTP status %d; %s" % (self.status, reason) if self.error_page() else reason

    def fetched(self):
        """The body bytes to count as fetched: none of an error page."""
        return 0 if self.error_page() else self.off

    def feed(self, data):
        if self.error_page():
            self.off += len(data)
            return True
        t, off = self.t, self.off
        if t.expect >= 0 and off + len(data) > t.expect:
            self.reason = "body longer than the %d bytes expected" % t.expect
            return False
        if t.verify:
            mv = memoryview(data)
            for k in range(0, len(mv), _CHUNK):
                piece = mv[k:k + _CHUNK]
                start = (off + k) % PERIOD
                if piece != _PATTERN[start:start + len(piece)]:
                    bad = next(j for j in range(len(piece)) if piece[j] != pattern_byte(off + k + j))
                    self.reason = "pattern mismatch at byte %d" % (off + k + bad)
                    return False
        self.off += len(data)
        return True

    def judge(self, status, announced=None):
        """The whole response arrived: is it what we asked for? (fetch_judge)
        The status first; `announced` is the Content-Length, if the server sent one."""
        if status in (204, 304):
            announced = None  # no body, whatever Content-Length says (RFC 9110 6.4.1)
        if status < 200 or status > 299:
            if announced is not None and 0 <= self.off < announced:  # a client that does not check
                return self.failed("truncated body: %d of %d bytes" % (self.off, announced))
            return "HTTP status %d" % status
        if self.reason:
            return self.reason
        want = announced if announced is not None and announced >= 0 else self.t.expect
        if want >= 0 and self.off < want:
            return "truncated body: %d of %d bytes" % (self.off, want)
        if self.t.expect >= 0 and self.off != self.t.expect:
            return "truncated body: %d of %d bytes" % (self.off, self.t.expect)
        return None


def errno_reason(err, timeout_ms):
    """Words for an OSError, the same as fetch_fail_errno()."""
    import errno as E
    code = getattr(err, "errno", None)
    if code == E.ETIMEDOUT:
        return "timeout after %d ms" % timeout_ms
    if code == E.ECONNREFUSED:
        return "connection refused"
    if code == E.ECONNRESET:
        return "connection reset by peer"
    return str(err) or type(err).__name__


def stop_signals(handler):
    """SIGINT and SIGTERM both call handler (the C servers treat them alike)."""
    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
