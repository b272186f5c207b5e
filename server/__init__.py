# Generated from notebooks/01_hello_world.ipynb: edit the notebook, not this file.
"""Your first web server: a tiny Flask app, built one lesson at a time."""

from server.app import app

__all__ = ["app"]
