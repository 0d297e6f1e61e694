"""fetch-py-asyncio-proto — fetch-py-asyncio's code, unchanged: aiohttp's
client already stands on asyncio's Protocol API (its connection is an
asyncio.Protocol fed by data_received, its HTTP parser is C), never on
streams. So the asyncio fetcher is the same program under both names, and
only the echo servers differ (docs/peers.md)."""
import importlib.util
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("py_asyncio_fetch", os.path.join(here, "..", "py-asyncio", "fetch.py"))
code = importlib.util.module_from_spec(spec)
spec.loader.exec_module(code)

if __name__ == "__main__":
    sys.exit(code.main("fetch-py-asyncio-proto", None, "asyncio (aiohttp: Protocols underneath)"))
