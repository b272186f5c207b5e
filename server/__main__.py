# Generated from notebooks/03_run_the_server.ipynb: edit the notebook, not this file.
"""Run the server from a terminal: python -m server

PORT chooses the port (default 3000; 0 picks any free port) and HOST the address
(default 127.0.0.1: this computer only). On a JupyterHub, PORT's default is any
free port, and a second line says where to open the page. Ctrl-C stops it.
"""

import os
import signal
import sys

from werkzeug.serving import make_server

from server import app

# JupyterHub sets JUPYTERHUB_SERVICE_PREFIX for each learner, such as /user/ada/.
hub = os.environ.get("JUPYTERHUB_SERVICE_PREFIX")
host = os.environ.get("HOST", "127.0.0.1")
# On a hub, a class shares one computer: each server takes a free port of its own.
port = os.environ.get("PORT", "0" if hub else "3000")
if not (port.isascii() and port.isdigit() and int(port) <= 65535):
    sys.exit(f"PORT must be a whole number from 0 to 65535, not {port!r}.")

# If the port is already in use, make_server says so and stops.
server = make_server(host, int(port), app, threaded=True)
# Ctrl-C (SIGINT) and `kill` (SIGTERM) both stop the server, the same way.
for signum in (signal.SIGINT, signal.SIGTERM):
    signal.signal(signum, signal.default_int_handler)
print(f"Server is running on http://localhost:{server.port}", flush=True)
if hub:  # JupyterLab passes on what comes to its address + proxy/<port>/
    public = os.environ.get("JUPYTERHUB_PUBLIC_URL")  # that address, if known
    site = "your hub's site (such as https://hub.example.org)"
    address = public or f"{site} followed by {hub}"
    print(f"Open it through the hub: {address}proxy/{server.port}/", flush=True)
server.serve_forever()  # until Ctrl-C; then it closes the port
