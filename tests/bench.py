"""Benchmark: the development server against the production server (`make bench`).

Starts `python -m server` and the Procfile's `web:` command on free ports, on
127.0.0.1, then loads each in turn with wrk, the servers taking turns round
after round so that both meet the same machine. Prints requests per second,
p50 and p99 latency, and resident memory (all of a server's processes).

Each round also measures Flask's own rate: GET / as a direct WSGI call in this
process, on one core, with no network and no server in between. No server of
this app can go faster per core, so it is the ceiling, and each server's rate
is also given as its share of it.

A benchmark, not a test: nothing in pytest depends on these numbers.

    [WEB_CONCURRENCY=2] python tests/bench.py [--rounds 3] [--seconds 4]
                          [--connections 16] [--also NAME=COMMAND ...]

WEB_CONCURRENCY, as platforms set it, is the Procfile's number of workers.

--also adds another server to compare, started with PORT set, for example
--also 'express=node ../express/server.js'.
"""

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
WRK_MISSING = """wrk is not installed, and the benchmark needs it to send the load.
Install it, then run `make bench` again:
  Debian or Ubuntu:  sudo apt-get install wrk
  macOS (Homebrew):  brew install wrk
  Other systems:     https://github.com/wg/wrk/blob/master/INSTALL"""


def procfile_command():
    for line in (ROOT / "Procfile").read_text(encoding="utf-8").splitlines():
        if line.startswith("web:"):
            return line.removeprefix("web:").strip()
    sys.exit("The Procfile has no web: line.")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self, name, command):
        self.name, self.command = name, command
        self.port = free_port()
        self.results = []

    def start(self, deadline_seconds=30):
        # The venv's own commands (granian) first on PATH, as when it is active.
        path = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
        env = {**os.environ, "PATH": path, "PORT": str(self.port), "HOST": "127.0.0.1"}
        self.proc = subprocess.Popen(
            self.command,
            shell=True,
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + deadline_seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"{self.name} exited at start: {self.command}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)  # polling for the port, bounded by the deadline
        self.stop()
        sys.exit(f"{self.name} did not listen within {deadline_seconds}s")

    def resident_mb(self):
        root = psutil.Process(self.proc.pid)
        processes = [root, *root.children(recursive=True)]
        return sum(p.memory_info().rss for p in processes) / 2**20

    def stop(self):
        if not hasattr(self, "proc") or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def flask_in_process(seconds):
    """Requests per second of the lessons' app called directly, as a WSGI server
    calls it (environ in, body out), in a loop for `seconds`, in this process."""
    from werkzeug.test import EnvironBuilder

    sys.path.insert(0, str(ROOT))  # the lessons' server package
    from server import app

    environ = EnvironBuilder(path="/", base_url="http://127.0.0.1/").get_environ()

    def start_response(status, headers, exc_info=None):
        pass

    calls, started = 0, time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        for _ in range(100):
            body = app(dict(environ), start_response)
            b"".join(body)
            body.close()
        calls += 100
    return calls / (time.perf_counter() - started)


def milliseconds(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def wrk(port, seconds, connections):
    output = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            f"http://127.0.0.1:{port}/",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
        encoding="utf-8",
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1]),
        "p50": milliseconds(re.search(r"^ +50% +(\S+)$", output, re.M)[1]),
        "p99": milliseconds(re.search(r"^ +99% +(\S+)$", output, re.M)[1]),
        "errors": errors[0] if errors else "",
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--also", action="append", default=[], metavar="NAME=COMMAND")
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit(WRK_MISSING)

    # The Procfile runs as many workers as WEB_CONCURRENCY says, 1 when unset:
    # `WEB_CONCURRENCY=2 make bench` runs it as a platform that sets 2 would.
    workers = os.environ.get("WEB_CONCURRENCY", "1")
    servers = [
        Server("development (python -m server)", f"{sys.executable} -m server"),
        Server(f"production (Procfile, {workers} worker(s))", procfile_command()),
    ]
    servers += [Server(*extra.split("=", 1)) for extra in options.also]
    print(
        f"wrk -t1 -c{options.connections} -d{options.seconds}s against GET /,"
        f" {options.rounds} rounds, {os.cpu_count()} cores",
        flush=True,
    )
    ceiling = []  # Flask's in-process rate, once a round
    try:
        for server in servers:
            server.start()
            wrk(server.port, 1, options.connections)  # warm up
        flask_in_process(1)  # warm up
        for round_number in range(1, options.rounds + 1):
            ceiling.append(flask_in_process(options.seconds))
            print(
                f"  round {round_number}, Flask in-process: {ceiling[-1]:,.0f}/s",
                flush=True,
            )
            for server in servers:
                result = wrk(server.port, options.seconds, options.connections)
                result["mb"] = server.resident_mb()
                server.results.append(result)
                print(
                    f"  round {round_number}, {server.name}: {result['rps']:,.0f}/s",
                    result["errors"],
                    flush=True,
                )
    finally:
        for server in servers:
            server.stop()

    top = statistics.median(ceiling)
    print()
    print(
        f"Flask in-process (direct WSGI calls, one core): {top:,.0f}/s"
        f" ({1e6 / top:.1f} us a request), the ceiling;"
        f" range {min(ceiling):,.0f}-{max(ceiling):,.0f}"
    )
    print(
        f"{'server':<36} {'req/s':>7} {'(range)':>15}"
        f" {'p50 ms':>7} {'p99 ms':>7} {'MB':>5} {'share':>6}"
    )
    for server in servers:
        results = server.results
        rps = [r["rps"] for r in results]
        p50, p99, mb = (
            statistics.median(r[k] for r in results) for k in ("p50", "p99", "mb")
        )
        spread = f"({min(rps):,.0f}-{max(rps):,.0f})"
        print(
            f"{server.name:<36} {statistics.median(rps):>7,.0f} {spread:>15}"
            f" {p50:>7.2f} {p99:>7.2f} {mb:>5.0f} {statistics.median(rps) / top:>6.0%}"
        )
    print(
        "req/s, p50 and p99: medians of the rounds; MB: resident memory, all"
        " processes; share: req/s as a share of Flask's in-process rate"
    )


if __name__ == "__main__":
    main()
