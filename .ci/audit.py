"""Run pip-audit over requirements-dev.txt (and so requirements.txt) and say
plainly how much it could check.

Fails on any known vulnerability. pip-audit skips (and passes) packages whose
vulnerability data it cannot fetch; where that is all of them, as on a machine
that reaches only a package mirror, this says so instead of claiming a pass.
"""

import json
import subprocess
import sys

result = subprocess.run(
    [sys.executable, "-m", "pip_audit", "-r", "requirements-dev.txt", "-f", "json"],
    capture_output=True,
    text=True,
    timeout=600,
)
try:
    dependencies = json.loads(result.stdout)["dependencies"]
except (ValueError, KeyError):
    sys.exit(f"pip-audit failed (exit {result.returncode}):\n{result.stderr}")

audited = [d for d in dependencies if "skip_reason" not in d]
vulnerable = [d for d in audited if d.get("vulns")]
for dependency in vulnerable:
    ids = ", ".join(v["id"] for v in dependency["vulns"])
    print(f"VULNERABLE: {dependency['name']} {dependency['version']}: {ids}")
print(
    f"pip-audit: {len(audited)} of {len(dependencies)} packages audited,"
    f" {len(vulnerable)} with known vulnerabilities"
)
if not audited:
    print("WARNING: no vulnerability data was reachable; nothing was proved.")
sys.exit(1 if vulnerable or result.returncode not in (0, 1) else 0)
