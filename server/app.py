# Generated from notebooks/02_good_evening.ipynb: edit the notebook, not this file.
from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello():
    return "Hello world"


@app.route("/evening")
def evening():
    return "Good evening"
