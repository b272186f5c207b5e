"""A pytest plugin, loaded before nbmake imports nbformat (pyproject.toml's
addopts: -p fast_nbformat_plugin): see tools/fast_nbformat.py."""

from tools import fast_nbformat  # noqa: F401
