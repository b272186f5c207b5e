"""The lessons' app plus a deliberately slow page, for shutdown tests only."""

import time

from server import app


@app.route("/slow")
def slow():
    print("answering", flush=True)
    time.sleep(1)  # a page that takes a second to make
    return "finished"
