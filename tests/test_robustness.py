"""`python -m server` against the real world: odd bytes, many clients, idle sockets.

Whatever arrives, the server answers with an error or closes the connection,
never shows a traceback, and keeps answering everyone else correctly.
"""

import http.client
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from helpers import SERVER_COMMAND, within

LEAKS = (b"Traceback", b'File "', b"__debugger__", b"werkzeug.debug")
CLOSED = None  # the server closed the connection without an answer


def exchange(port, data, timeout=5):
    """Send raw bytes, close our side, and read everything the server answers.

    Returns the status (from the status line, or from the error page of an
    HTTP/0.9-style answer), or CLOSED, and the raw answer.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server answered and closed before reading it all
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass  # it closed with our bytes unread: a refusal, not a hang
    answer = b"".join(chunks)
    status = re.match(rb"HTTP/1\.[01] (\d{3}) ", answer) or re.search(
        rb"Error code: (\d{3})", answer
    )
    return (int(status[1]) if status else CLOSED), answer


def assert_still_serving(port):
    for path, body in [("/", b"Hello world"), ("/evening", b"Good evening")]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", path)
        response = connection.getresponse()
        assert (response.status, response.read()) == (200, body)
        connection.close()


def request(method="GET", target="/", headers=b"Host: x\r\n", body=b""):
    return f"{method} {target} HTTP/1.1\r\n".encode() + headers + b"\r\n" + body


BAD_REQUESTS = {
    # name: (bytes sent, the statuses allowed: an error, or closing)
    "noise": (b"\x00\xff\xfe garbage \x01\r\n\r\n", {400}),
    "tls handshake": (bytes.fromhex("16030100a5010000a10303") + bytes(40), {400}),
    "http/2 preface": (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", {505}),
    "unknown version": (request().replace(b"1.1", b"9.9"), {505}),
    "unknown method": (request("BREW"), {405}),
    "oversized url": (request(target="/" + "a" * 70_000), {414, CLOSED}),
    "oversized header": (
        request(headers=b"X-Big: " + b"a" * 70_000 + b"\r\n"),
        {431, CLOSED},
    ),
    "too many headers": (
        request(headers=b"".join(b"X-%d: y\r\n" % i for i in range(200))),
        {431},
    ),
    "body shorter than said": (
        request("POST", headers=b"Content-Length: 10\r\n", body=b"abc"),
        {405},
    ),
    "negative length": (request("POST", headers=b"Content-Length: -1\r\n"), {405}),
    "broken chunks": (
        request("POST", headers=b"Transfer-Encoding: chunked\r\n", body=b"zz\r\n"),
        {405},
    ),
    "dot-dot path": (request(target="/../../etc/passwd"), {404}),
    "nul in path": (request(target="/%00"), {404}),
    "invalid utf-8 in path": (request(target="/%ff%fe"), {404}),
    "raw bytes in path": (b"GET /\xc3\xa9\x01\x7f HTTP/1.1\r\nHost: x\r\n\r\n", {404}),
    "asterisk": (request("OPTIONS", target="*"), {404}),
    "blank lines only": (b"\r\n\r\n", {CLOSED}),
    "nothing at all": (b"", {CLOSED}),
}


@pytest.mark.parametrize("name", list(BAD_REQUESTS))
def test_a_bad_request_gets_an_error_and_no_traceback(server_process, name):
    data, allowed = BAD_REQUESTS[name]
    status, answer = exchange(server_process.port, data)
    assert status in allowed, answer[:200]
    assert not any(leak in answer for leak in LEAKS), answer
    assert_still_serving(server_process.port)


ODD_BUT_FINE = {
    # name: (bytes sent, the exact body expected)
    "query junk": (request(target="/evening?x=%%%&&=="), b"Good evening"),
    "absolute url": (request(target="http://example.com/evening"), b"Good evening"),
    "no host header": (request(headers=b""), b"Hello world"),
    "junk headers": (
        request(headers=b"Host: \xff\r\nCookie: \xff=\x00;;=\r\nRange: bytes=zz\r\n"),
        b"Hello world",
    ),
    "bare newlines": (b"GET /evening HTTP/1.1\nHost: x\n\n", b"Good evening"),
    "HTTP/1.0": (b"GET / HTTP/1.0\r\n\r\n", b"Hello world"),
}


@pytest.mark.parametrize("name", list(ODD_BUT_FINE))
def test_an_odd_but_valid_request_gets_the_page(server_process, name):
    data, body = ODD_BUT_FINE[name]
    status, answer = exchange(server_process.port, data)
    assert status == 200, answer[:200]
    assert answer.endswith(b"\r\n\r\n" + body)


def test_head_answers_headers_only(server_process):
    status, answer = exchange(server_process.port, request("HEAD"))
    assert status == 200
    assert b"\r\nContent-Type: text/html; charset=utf-8\r\n" in answer
    assert answer.endswith(b"\r\n\r\n")


def test_options_lists_the_methods(server_process):
    status, answer = exchange(server_process.port, request("OPTIONS", "/evening"))
    assert status == 200
    assert re.search(rb"\r\nAllow: (GET|HEAD|OPTIONS), (GET|HEAD|OPTIONS), ", answer)


def test_post_is_not_allowed_and_says_what_is(server_process):
    status, answer = exchange(
        server_process.port, request("POST", headers=b"Content-Length: 0\r\n")
    )
    assert status == 405
    assert re.search(rb"\r\nAllow: [A-Z, ]*GET", answer)


def test_silent_and_slow_clients_do_not_hold_up_others(server_process):
    port = server_process.port
    idle = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(20)]
    try:
        idle[0].sendall(b"GET / HTT")  # a request that stops halfway
        started = time.monotonic()
        assert_still_serving(port)
        assert within(time.monotonic() - started, 2)
    finally:
        for sock in idle:
            sock.close()


CLIENTS, REQUESTS_EACH = 40, 6


def client_session(port, together):
    """One client: keep-alive requests alternating the two pages; its answers.
    After its first answer it waits for every client to have one (`together`,
    a barrier), so that all the connections are open at once."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    answers = []
    try:
        for i in range(REQUESTS_EACH):
            if i == 1:
                together.wait(timeout=30)
            path = "/" if i % 2 == 0 else "/evening"
            connection.request("GET", path, headers={"Connection": "keep-alive"})
            response = connection.getresponse()
            answers.append(
                (
                    path,
                    response.status,
                    response.getheader("Content-Type"),
                    response.read(),
                )
            )
    finally:
        connection.close()
    return answers


def test_forty_clients_at_once_all_get_exact_answers(server_process):
    together = threading.Barrier(CLIENTS)
    with ThreadPoolExecutor(CLIENTS) as pool:
        sessions = [
            pool.submit(client_session, server_process.port, together)
            for _ in range(CLIENTS)
        ]
        answers = [
            answer for session in sessions for answer in session.result(timeout=60)
        ]
    expected = {"/": b"Hello world", "/evening": b"Good evening"}
    assert len(answers) == CLIENTS * REQUESTS_EACH
    wrong = [
        a for a in answers if a[1:] != (200, "text/html; charset=utf-8", expected[a[0]])
    ]
    assert wrong == []


def test_the_debugger_cannot_be_reached(start):
    process = start(SERVER_COMMAND, env={"PORT": "0", "FLASK_DEBUG": "1"})
    port = int(process.next_line().rsplit(":", 1)[1])
    status, answer = exchange(port, request(target="/console"))
    assert status == 404
    assert not any(leak in answer for leak in LEAKS)


def test_nothing_above_logged_a_traceback(server_process):
    assert_still_serving(server_process.port)
    assert "Traceback" not in server_process.stderr
