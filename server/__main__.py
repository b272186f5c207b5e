# Generated from notebooks/03_run_the_server.ipynb: edit the notebook, not this file.
"""Run the server from a terminal: python -m server

PORT chooses the port (default 3000; 0 means any free port) and HOST the address
to listen on (default 127.0.0.1: this computer only). Ctrl-C stops it.
"""

import errno
import os
import signal
import socket
import sys
import threading

from werkzeug.serving import WSGIRequestHandler, make_server

from server import app


def read_port():
    """PORT as a number, or stop with one line that names the bad value."""
    text = os.environ.get("PORT", "3000")
    if not (text.isascii() and text.isdigit() and int(text) <= 65535):
        sys.exit(f"PORT must be a whole number from 0 to 65535, not {text!r}.")
    return int(text)


def listen(host, port):
    """Open the listening socket, or stop with one line that says why not."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            sys.exit(f"Port {port} is already in use: stop what uses it, or set PORT.")
        sys.exit(f"Cannot listen on port {port} of {host}: {error.strerror or error}")


class RequestHandler(WSGIRequestHandler):
    """Werkzeug's request handler, keeping count of the requests it is answering."""

    timeout = 30  # seconds a silent client may hold a connection open
    busy = 0
    changed = threading.Condition()

    def run_wsgi(self):
        with self.changed:
            RequestHandler.busy += 1
        try:
            super().run_wsgi()
        finally:
            with self.changed:
                RequestHandler.busy -= 1
                self.changed.notify_all()

    @classmethod
    def wait_until_idle(cls, timeout):
        with cls.changed:
            cls.changed.wait_for(lambda: cls.busy == 0, timeout)


def main():
    host = os.environ.get("HOST", "127.0.0.1")
    port = read_port()
    with listen(host, port) as sock:
        server = make_server(
            host,
            port,
            app,
            threaded=True,
            request_handler=RequestHandler,
            fd=sock.fileno(),
        )
    # Ctrl-C (SIGINT) and `kill` (SIGTERM) both stop the server, the same way.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.default_int_handler)
    print(f"Server is running on http://localhost:{server.port}", flush=True)
    server.serve_forever()  # returns on Ctrl-C, and stops accepting connections
    RequestHandler.wait_until_idle(timeout=2)  # let answers in progress finish


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass  # Ctrl-C before the server started, or pressed twice: stop at once
