"""The lessons' app plus a deliberately slow page, for shutdown tests only."""

import time

from server import app


@app.route("/slow")
def slow():
    print("answering", flush=True)
    time.sleep(0.3)  # a page that takes a while to make
    return "finished"
