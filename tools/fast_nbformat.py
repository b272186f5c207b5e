"""Import this before nbformat: it then loads without jsonschema's grammars
for web addresses.

nbformat checks notebooks with jsonschema, whose import would first build
dozens of grammars for web addresses (rfc3987_syntax, which JupyterLab
brings): 3 s on our 2-core machine, for a check no notebook needs, and
jsonschema goes without it. lessons.py (progress, update), the site build and
every pytest process (tests/fast_nbformat_plugin.py, pyproject's addopts)
import this first.
"""

import sys

sys.modules.setdefault("rfc3987_syntax", None)
