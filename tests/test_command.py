"""`python -m server`: the command a learner runs in a terminal."""

import signal
import socket
import sys

import psutil
import pytest
import requests

from helpers import (
    SERVER_COMMAND,
    STARTUP_LINE,
    Process,
    free_port,
    start_server,
    wait_until_listening,
    within,
)

HTML = "text/html; charset=utf-8"
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def get(port, path, host="127.0.0.1"):
    return requests.get(f"http://{host}:{port}{path}", timeout=5)


def listening_addresses(pid):
    return {
        c.laddr for c in psutil.Process(pid).net_connections() if c.status == "LISTEN"
    }


def test_it_announces_where_it_runs(server_process):
    # server_process started with PORT=0: the line names the port really bound.
    assert server_process.port > 0
    assert get(server_process.port, "/").status_code == 200


@pytest.mark.parametrize(
    ("path", "body"), [("/", b"Hello world"), ("/evening", b"Good evening")]
)
def test_both_pages_answer_over_http(server_process, path, body):
    response = get(server_process.port, path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == HTML
    assert response.content == body


def test_unknown_paths_are_not_found(server_process):
    assert get(server_process.port, "/morning").status_code == 404


def test_it_listens_on_loopback_only_by_default(server_process):
    assert listening_addresses(server_process.proc.pid) == {
        ("127.0.0.1", server_process.port)
    }


def test_port_chooses_the_port(start):
    port = free_port()
    process = start(SERVER_COMMAND, env={"PORT": str(port)})
    assert process.next_line() == f"Server is running on http://localhost:{port}\n"
    assert get(port, "/evening").content == b"Good evening"


# JupyterHub sets JUPYTERHUB_SERVICE_PREFIX for every learner's JupyterLab, and
# JUPYTERHUB_PUBLIC_URL (JupyterHub 5 on) to its full address when the hub is
# given public_url, empty otherwise.
OFF_A_HUB = {"JUPYTERHUB_SERVICE_PREFIX": None, "JUPYTERHUB_PUBLIC_URL": None}


def on_a_hub(prefix, public_url=""):
    return {"JUPYTERHUB_SERVICE_PREFIX": prefix, "JUPYTERHUB_PUBLIC_URL": public_url}


def test_port_defaults_to_3000(start):
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 3000)) == 0:
            pytest.skip("something on this machine already listens on port 3000")
    process = start(SERVER_COMMAND, env={"PORT": None, **OFF_A_HUB})
    assert process.next_line() == "Server is running on http://localhost:3000\n"
    assert get(3000, "/").content == b"Hello world"


def test_off_a_hub_it_prints_the_startup_line_and_nothing_more(start):
    port = free_port()
    process = start(SERVER_COMMAND, env={"PORT": str(port), **OFF_A_HUB})
    process.next_line()
    # Answering a request: anything it would print before serving is out.
    assert get(port, "/").content == b"Hello world"
    process.stop()
    assert process.stdout_log == [f"Server is running on http://localhost:{port}\n"]


def hub_line(prefix, port):
    """The line `python -m server` adds on a hub that gives no public address."""
    return (
        "Open it through the hub: your hub's site (such as https://hub.example.org)"
        f" followed by {prefix}proxy/{port}/\n"
    )


def started_port(process):
    match = STARTUP_LINE.fullmatch(process.next_line())
    assert match, process.stdout_log
    return int(match[1])


def test_on_a_hub_it_takes_a_free_port_and_says_where_to_open_it(start):
    process = start(SERVER_COMMAND, env={"PORT": None, **on_a_hub("/user/ada/")})
    port = started_port(process)
    assert port != 3000
    assert process.next_line() == hub_line("/user/ada/", port)
    assert get(port, "/").content == b"Hello world"


def test_on_a_hub_with_a_public_address_it_gives_the_whole_address(start):
    hub = on_a_hub("/class/user/ada/", "https://hub.example.org/class/user/ada/")
    process = start(SERVER_COMMAND, env={"PORT": None, **hub})
    port = started_port(process)
    assert process.next_line() == (
        "Open it through the hub:"
        f" https://hub.example.org/class/user/ada/proxy/{port}/\n"
    )


def test_on_a_hub_port_still_chooses_the_port(start):
    port = free_port()
    process = start(SERVER_COMMAND, env={"PORT": str(port), **on_a_hub("/user/ada/")})
    assert process.next_line() == f"Server is running on http://localhost:{port}\n"
    assert process.next_line() == hub_line("/user/ada/", port)
    assert get(port, "/evening").content == b"Good evening"


def test_two_learners_at_once_on_a_hub_each_get_their_own_server(start):
    learners = ["ada", "alan"]
    processes = {
        name: start(SERVER_COMMAND, env={"PORT": None, **on_a_hub(f"/user/{name}/")})
        for name in learners  # both started before either has bound a port
    }
    ports = {name: started_port(process) for name, process in processes.items()}
    assert ports["ada"] != ports["alan"]
    for name, process in processes.items():
        assert process.next_line() == hub_line(f"/user/{name}/", ports[name])
        assert get(ports[name], "/").content == b"Hello world"
        assert listening_addresses(process.proc.pid) == {("127.0.0.1", ports[name])}


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="127.0.0.2 is Linux-only"
)
def test_host_chooses_the_address():
    process = start_server({"HOST": "127.0.0.2"})
    try:
        assert listening_addresses(process.proc.pid) == {("127.0.0.2", process.port)}
        assert get(process.port, "/", host="127.0.0.2").content == b"Hello world"
    finally:
        process.stop()


BAD_PORTS = ["abc", "-1", "65536", "30.5", "", "3000x", "１２"]


@pytest.fixture(scope="module")
def bad_port_runs():
    """`python -m server` with each bad PORT, all started at once (it is quicker):
    {value: (exit code, stderr)}."""
    processes = {value: Process(SERVER_COMMAND, {"PORT": value}) for value in BAD_PORTS}
    runs = {}
    try:
        for value, process in processes.items():
            code, _ = process.wait(timeout=20)
            runs[value] = (code, process.stderr)
    finally:
        for process in processes.values():
            process.stop()
    return runs


@pytest.mark.parametrize("value", BAD_PORTS)
def test_a_bad_port_is_one_clear_line(bad_port_runs, value):
    code, stderr = bad_port_runs[value]
    assert code == 1
    assert stderr == f"PORT must be a whole number from 0 to 65535, not {value!r}.\n"


def test_a_port_in_use_is_one_clear_line(server_process, start):
    taken = server_process.port
    process = start(SERVER_COMMAND, env={"PORT": str(taken)})
    code, _ = process.wait(timeout=20)
    assert code != 0
    # Werkzeug's own message, without a traceback.
    assert process.stderr == (
        "Address already in use\n"
        f"Port {taken} is in use by another program. Either identify and stop that"
        " program, or start the server with a different port.\n"
    )


@posix_only
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_it_at_once_and_cleanly(signum):
    process = start_server()
    try:
        assert get(process.port, "/").status_code == 200
        process.proc.send_signal(signum)
        code, seconds = process.wait(timeout=10)
    finally:
        process.stop()
    assert code == 0
    assert within(seconds, 3), seconds
    assert "Traceback" not in process.stderr


@posix_only
def test_ctrl_c_stops_it_even_when_started_ignoring_ctrl_c():
    # A program started in the background by a shell, or by some launchers,
    # inherits "ignore Ctrl-C"; the server must still stop on Ctrl-C.
    ignoring = ["sh", "-c", "trap '' INT; exec \"$0\" -m server", sys.executable]
    process = start_server(args=ignoring)
    try:
        # Serving already: a Ctrl-C between the startup line and serve_forever()
        # would end it with KeyboardInterrupt, which is another matter.
        assert get(process.port, "/").status_code == 200
        process.proc.send_signal(signal.SIGINT)
        code, seconds = process.wait(timeout=10)
    finally:
        process.stop()
    assert code == 0
    assert within(seconds, 3), seconds


def idle_connections(port, count):
    """Connections a browser opens ahead of time and leaves silent, plus one
    that sends half a request."""
    sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
    sockets[-1].sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
    return sockets


@posix_only
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_it_at_once_with_idle_connections_open(signum):
    process = start_server()
    sockets = idle_connections(process.port, 5)
    try:
        # The server is answering others, so it has taken the idle ones in too.
        assert get(process.port, "/").content == b"Hello world"
        process.proc.send_signal(signum)
        code, seconds = process.wait(timeout=10)
    finally:
        for sock in sockets:
            sock.close()
        process.stop()
    assert code == 0
    assert within(seconds, 3), seconds
    assert "Traceback" not in process.stderr


def test_flask_run_serves_the_package_too(start):
    port = free_port()
    flask = [
        sys.executable,
        "-m",
        "flask",
        "--app",
        "server",
        "run",
        "--port",
        str(port),
    ]
    process = start(flask)
    wait_until_listening(process, port)
    assert get(port, "/").content == b"Hello world"
    assert get(port, "/evening").content == b"Good evening"
