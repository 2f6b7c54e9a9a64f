"""When PostgreSQL does not answer, pages and the API say "come back in a moment" (503 with
Retry-After), never "server error" (500). A real server, pointed at a PostgreSQL address
where nothing listens: the production shape with its database gone, on either test pass.
The restart under load itself is tests/faults/test_database_restart.py."""

import json
import socket
import urllib.error
import urllib.request

import pytest

from tests.support.html import problems


def _dead_port() -> int:
    with socket.socket() as probe:  # a port nobody listens on, once this closes
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def without_database(serve):
    return serve(
        DEBUG="false",
        DATABASE_URL=f"postgres://agora@127.0.0.1:{_dead_port()}/agora",
        DATABASE_POOL_TIMEOUT="1",
    )


def _fetch(request):
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_a_vote_through_the_api_is_answered_503_with_a_json_reason(without_database):
    request = urllib.request.Request(
        f"{without_database}/api/v1/items/1/vote",
        data=json.dumps({"choice": "for"}).encode(),
        method="PUT",
        headers={"Authorization": "Bearer agora_" + "x" * 43, "Content-Type": "application/json"},
    )
    status, headers, body = _fetch(request)
    assert status == 503, body[:500]
    assert int(headers["Retry-After"]) > 0
    assert json.loads(body)["code"] == "unavailable"


def test_the_health_check_says_the_database_is_away(without_database):
    status, _headers, body = _fetch(urllib.request.Request(f"{without_database}/health/"))
    assert status == 503, body[:500]
    report = json.loads(body)
    assert report["ok"] is False and report["database"] is False
    assert report["cache"] is True  # what still answers is reported as answering


def test_a_page_is_answered_503_saying_to_come_back_in_both_languages(without_database):
    status, headers, body = _fetch(urllib.request.Request(f"{without_database}/consultations/"))
    assert status == 503, body[:500]
    assert int(headers["Retry-After"]) > 0
    page = body.decode()
    assert "Service momentanément indisponible" in page
    assert "Temporarily unavailable" in page
    assert problems(body) == []
