"""fetch-py-threads — the fetcher with concurrent.futures.ThreadPoolExecutor and
requests, the way the concurrent.futures documentation's URL example is
written: -c worker threads, each making plain blocking requests, the main
thread collecting the results in order with executor.map(). Under the GIL the
threads take turns running Python; each releases it while it waits on a socket.

The same file serves fetch-py-processes (multiprocessing.Pool: -c worker
processes). fetch_job() is the whole of one request, in either."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import peer  # noqa: E402
import requests  # noqa: E402

RUN = None  # the run, set before the workers start (a forked worker inherits it)
local = threading.local()  # one requests.Session per worker (thread or process)


class BadLength(Exception):
    """The Content-Length header is not a number."""


def find_oserror(e, depth=0):
    """requests wraps urllib3 which wraps the socket's error: find the OSError
    with an errno inside, to name it the way the C fetchers do."""
    if isinstance(e, OSError) and e.errno:
        return e
    if depth > 6 or e is None:
        return None
    for inner in list(getattr(e, "args", ())) + [getattr(e, "reason", None), e.__cause__, e.__context__]:
        if isinstance(inner, BaseException):
            found = find_oserror(inner, depth + 1)
            if found:
                return found
    return None


def session():
    """The worker's Session, made once. requests' documentation ("Session
    Objects"): a Session keeps urllib3's connection pool and its settings
    across requests, where each requests.get() builds a Session, a pool and an
    adapter and drops them. A Session is not meant to be shared between
    threads, so one per worker. Without --keepalive each request says
    "Connection: close" and gets its own connection, like the C fetchers."""
    if getattr(local, "session", None) is None:
        local.session = requests.Session()
        if not RUN.opt["keepalive"]:
            local.session.headers["Connection"] = "close"
    return local.session


def fetch_job(job):
    """Fetch RUN.jobs[job]; returns (job, ok, bytes, latency_s, reason)."""
    t, timeout_ms = RUN.jobs[job], RUN.opt["timeout"]
    start = time.monotonic()
    check = peer.BodyCheck(t)
    length = t.expect
    try:
        # requests' timeout bounds the connect and each wait for data, not the
        # whole request: the loop below enforces the total deadline.
        with session().get(t.text, stream=True, timeout=RUN.timeout_s, allow_redirects=False) as r:
            check.status = r.status_code  # an error page is read, not checked (the status first)
            try:
                length = int(r.headers.get("Content-Length", length))
            except ValueError:
                raise BadLength() from None
            reason = None
            for chunk in r.iter_content(65536):
                if not check.feed(chunk):
                    break
                if time.monotonic() - start > RUN.timeout_s:
                    reason = "timeout after %d ms" % timeout_ms
                    break
            reason = reason or check.judge(r.status_code, length)
    except BadLength:
        reason = "malformed Content-Length"
    except requests.exceptions.Timeout:
        reason = "timeout after %d ms" % timeout_ms
    except requests.exceptions.ChunkedEncodingError:
        reason = check.failed("truncated body: %d of %d bytes" % (check.off, length)
                              if length >= 0 else "truncated chunked body after %d bytes" % check.off)
    except (requests.exceptions.RequestException, OSError, ValueError) as e:
        inner = find_oserror(e)
        if inner is not None:
            reason = peer.errno_reason(inner, timeout_ms)
        elif "BadStatusLine" in repr(e):
            reason = "malformed status line"
        elif "RemoteDisconnected" in repr(e):
            reason = "connection closed before the response"
        else:
            reason = str(e).splitlines()[0] if str(e) else type(e).__name__
    return job, reason is None, check.fetched(), time.monotonic() - start, reason


def record(run, results):
    for job, ok, nbytes, latency, reason in results:
        run.record(run.jobs[job], ok, nbytes, latency, reason)


def main(prog="fetch-py-threads", processes=False):
    global RUN
    what = ("multiprocessing.Pool: -c worker processes" if processes
            else "concurrent.futures.ThreadPoolExecutor: -c worker threads")
    RUN = run = peer.FetchRun(prog, (
        "Download many URLs at once in Python with %s,\n"
        "each making blocking requests with the requests library." % what), sys.argv[1:])
    jobs = range(len(run.jobs))
    if processes:
        import multiprocessing
        # chunksize: the multiprocessing documentation says that for long
        # iterables a large chunksize "can make the job complete much faster
        # than using the default value of 1" (one pickled task and one result
        # message per URL). This is the size Pool.map() picks itself: the
        # jobs in about four chunks per worker.
        chunk, extra = divmod(len(jobs), run.inflight * 4)
        with multiprocessing.Pool(processes=run.inflight) as pool:
            record(run, pool.imap_unordered(fetch_job, jobs, chunksize=chunk + (1 if extra else 0)))
    else:
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(max_workers=run.inflight) as ex:
            record(run, ex.map(fetch_job, jobs))
    return run.finish()


if __name__ == "__main__":
    sys.exit(main())
