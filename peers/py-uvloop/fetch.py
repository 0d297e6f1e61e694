"""fetch-py-uvloop — fetch-py-asyncio's code, unchanged, on uvloop: the asyncio
event loop reimplemented over libuv, installed the way uvloop's documentation
says (asyncio.Runner with loop_factory=uvloop.new_event_loop)."""
import importlib.util
import os
import sys

import uvloop

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("py_asyncio_fetch", os.path.join(here, "..", "py-asyncio", "fetch.py"))
code = importlib.util.module_from_spec(spec)
spec.loader.exec_module(code)

if __name__ == "__main__":
    sys.exit(code.main("fetch-py-uvloop", uvloop.new_event_loop, "asyncio on uvloop"))
