"""Run pip-audit over every locked package and say plainly how much it could
check.

The locks (requirements/dev.txt, which holds all of requirements.txt, and
requirements/uv.txt) pin some packages at two versions, one per Python; each
version is audited, whatever Python runs this. pip-audit reads the pins as
written (--disable-pip), without resolving anything again.

Fails on any known vulnerability. pip-audit skips (and passes) packages whose
vulnerability data it cannot fetch; where that is all of them, as on a machine
that reaches only a package mirror, this says so instead of claiming a pass.
"""

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

LOCKS = ["requirements/dev.txt", "requirements/uv.txt"]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.M)

pins = sorted(
    {
        pin
        for lock in LOCKS
        for pin in PIN.findall(Path(lock).read_text(encoding="utf-8"))
    }
)
# pip-audit takes one version of a name per file: second versions go in a
# second file, and so on.
files = []
for name, version in pins:
    target = next((f for f in files if name not in f), None)
    if target is None:
        files.append(target := {})
    target[name] = version

dependencies = []
with tempfile.TemporaryDirectory() as folder:
    for number, chosen in enumerate(files):
        path = Path(folder) / f"pins-{number}.txt"
        path.write_text(
            "".join(f"{n}=={v}\n" for n, v in chosen.items()), encoding="utf-8"
        )
        command = [sys.executable, "-m", "pip_audit", "--disable-pip", "--no-deps"]
        result = subprocess.run(
            [*command, "-r", str(path), "-f", "json", "--progress-spinner", "off"],
            capture_output=True,
            text=True,
            timeout=600,
            encoding="utf-8",
        )
        try:
            dependencies += json.loads(result.stdout)["dependencies"]
        except (ValueError, KeyError):
            sys.exit(f"pip-audit failed (exit {result.returncode}):\n{result.stderr}")
        if result.returncode not in (0, 1):
            sys.exit(f"pip-audit failed (exit {result.returncode}):\n{result.stderr}")

audited = [d for d in dependencies if "skip_reason" not in d]
vulnerable = [d for d in audited if d.get("vulns")]
for dependency in vulnerable:
    ids = ", ".join(v["id"] for v in dependency["vulns"])
    print(f"VULNERABLE: {dependency['name']} {dependency['version']}: {ids}")
print(
    f"pip-audit: {len(audited)} of {len(dependencies)} locked packages audited,"
    f" {len(vulnerable)} with known vulnerabilities"
)
if not audited:
    print("WARNING: no vulnerability data was reachable; nothing was proved.")
sys.exit(1 if vulnerable else 0)
