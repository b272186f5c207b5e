"""The lessons' app plus a deliberately slow page, for shutdown tests only,
and a page naming the process that answers, for the worker count."""

import os
import time

from server import app


@app.route("/slow")
def slow():
    print("answering", flush=True)
    time.sleep(0.3)  # a page that takes a while to make
    return "finished"


@app.route("/worker")
def worker():
    return str(os.getpid())  # which worker process answered
