"""The app's contract, through Flask's test client: exact bytes, status, headers."""

import pytest

HTML = "text/html; charset=utf-8"


def test_home_page_says_hello_world(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == HTML
    assert response.data == b"Hello world"


def test_evening_page_says_good_evening(client):
    response = client.get("/evening")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == HTML
    assert response.data == b"Good evening"


@pytest.mark.parametrize(
    "path", ["/morning", "/Evening", "/evening/extra", "/index.html"]
)
def test_unknown_paths_are_not_found(client, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/", "/evening"])
def test_head_answers_headers_without_a_body(client, path):
    response = client.head(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == HTML
    assert response.data == b""


@pytest.mark.parametrize("path", ["/", "/evening"])
def test_options_lists_the_allowed_methods(client, path):
    response = client.options(path)
    assert response.status_code == 200
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_other_methods_are_not_allowed_and_say_what_is(client, method):
    response = client.open("/", method=method)
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_debug_mode_is_off(app):
    assert app.debug is False
