"""echo-py-processes — echo-py-threads' code with socketserver.ForkingTCPServer:
a process forked per connection, like models/fork/echo.c. Each child has its
own interpreter and its own GIL, so the children can use every core."""
import importlib.util
import os
import socketserver
import sys

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("py_threads_echo", os.path.join(here, "..", "py-threads", "echo.py"))
code = importlib.util.module_from_spec(spec)
spec.loader.exec_module(code)

if __name__ == "__main__":
    sys.exit(code.main("echo-py-processes", socketserver.ForkingTCPServer,
                       "a process forked per connection (socketserver.ForkingTCPServer)"))
