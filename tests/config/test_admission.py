"""A process serving all it can answers the next requests "come back in a moment" (503 with
Retry-After) after a short wait, instead of letting them queue until they time out.

A real server (`make run`'s command) allowed one request at a time, with a tenth of a second
of waiting room. The request holding the one place is a POST whose body has not arrived yet:
it stays in the server, as a slow request would, for as long as the test likes."""

import json
import socket
import time
import urllib.error
import urllib.request

import pytest

from tests.support.html import problems


@pytest.fixture
def one_at_a_time(serve):
    return serve(MAX_CONCURRENT_REQUESTS="1", REQUEST_QUEUE_SECONDS="0.1")


def _fetch(request):
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def _hold_the_place(url: str) -> socket.socket:
    """A POST whose 10-byte body never comes: the server keeps it in flight."""
    host, port = url.removeprefix("http://").split(":")
    held = socket.create_connection((host, int(port)), timeout=30)
    held.sendall(
        b"POST /api/v1/items/1/vote HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 10\r\n\r\n"
    )
    # The held request reaches the application before the next one is sent.
    time.sleep(0.3)
    return held


def test_a_page_asked_while_the_process_is_full_is_answered_503_at_once(one_at_a_time):
    held = _hold_the_place(one_at_a_time)
    try:
        started = time.monotonic()
        status, headers, body = _fetch(urllib.request.Request(f"{one_at_a_time}/consultations/"))
        waited = time.monotonic() - started
    finally:
        held.close()
    assert status == 503, body[:300]
    assert int(headers["Retry-After"]) >= 1
    assert waited < 5, "answered after its short wait, not left to time out"
    page = body.decode()
    assert "Agora est très sollicitée" in page
    assert "Agora is very busy" in page
    assert problems(body) == []


def test_an_api_call_asked_while_the_process_is_full_gets_a_json_reason(one_at_a_time):
    held = _hold_the_place(one_at_a_time)
    try:
        request = urllib.request.Request(
            f"{one_at_a_time}/api/v1/consultations", headers={"Accept-Language": "en"}
        )
        status, headers, body = _fetch(request)
    finally:
        held.close()
    assert status == 503, body[:300]
    assert int(headers["Retry-After"]) >= 1
    answer = json.loads(body)
    assert answer["code"] == "unavailable"
    assert "busy" in answer["detail"]


def test_the_place_is_given_to_the_next_request_once_free(one_at_a_time):
    held = _hold_the_place(one_at_a_time)
    held.sendall(b'{"x": 1}  ')  # the body arrives: that request is answered and leaves
    held.recv(65536)
    held.close()
    status, _headers, body = _fetch(urllib.request.Request(f"{one_at_a_time}/consultations/"))
    assert status == 200, body[:300]


def test_the_health_check_is_answered_even_when_the_process_is_full(one_at_a_time):
    held = _hold_the_place(one_at_a_time)
    try:
        _status, _headers, body = _fetch(urllib.request.Request(f"{one_at_a_time}/health/"))
    finally:
        held.close()
    assert "ok" in json.loads(body), "the health view's own verdict, not the waiting room's"
