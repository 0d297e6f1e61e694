"""fetch-py-processes — fetch-py-threads' code with multiprocessing.Pool: -c
worker processes (forked: each inherits the URL list), each making blocking
requests with the requests library; the parent collects the results with
pool.imap_unordered(). Every worker has its own interpreter and GIL."""
import importlib.util
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("py_threads_fetch", os.path.join(here, "..", "py-threads", "fetch.py"))
code = importlib.util.module_from_spec(spec)
sys.modules["py_threads_fetch"] = code  # so that the workers can find fetch_job by name
spec.loader.exec_module(code)

if __name__ == "__main__":
    sys.exit(code.main("fetch-py-processes", processes=True))
