"""When Redis is down, what guards an account fails closed and the rest carries on.

The cache is pointed at a Redis address where nothing listens (connections are refused
at once): the production shape with its Redis gone, on either test pass.
"""

import json
import socket

import pytest
from django.core.cache import caches
from django.urls import reverse

from consultation.models import Vote
from tests.factories import make_consultation
from tests.support.accounts import PASSWORD, current_totp_code, enable_totp

pytestmark = pytest.mark.django_db


def _dead_redis_url() -> str:
    with socket.socket() as probe:  # a port nobody listens on, once this closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


@pytest.fixture
def redis_down(settings):
    location = _dead_redis_url()
    options = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.FailClosedRedisCache",
            "LOCATION": location,
            "OPTIONS": options,
        },
        "degradable": {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": location,
            "OPTIONS": options,
        },
    }
    yield
    for alias in ("default", "degradable"):
        caches[alias].close()


def test_logging_in_is_refused_with_a_clear_503_not_let_through(client, citizen, redis_down):
    client.cookies["django_language"] = "en"
    response = client.post(reverse("account_login"), {"login": citizen.email, "password": PASSWORD})
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert "try again in a minute" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_totp_code_is_not_accepted_while_replays_cannot_be_checked(client, organiser, settings):
    secret = enable_totp(organiser)
    response = client.post(
        reverse("account_login"), {"login": organiser.email, "password": PASSWORD}
    )
    assert response["Location"] == reverse("mfa_authenticate")
    location = _dead_redis_url()  # Redis goes down between the password and the code
    settings.CACHES = {
        name: {"BACKEND": backend, "LOCATION": location, "OPTIONS": {"socket_timeout": 0.5}}
        for name, backend in (
            ("default", "config.cache.FailClosedRedisCache"),
            ("degradable", "config.cache.ResilientRedisCache"),
        )
    }
    response = client.post(reverse("mfa_authenticate"), {"code": current_totp_code(secret)})
    assert response.status_code == 503
    assert "_auth_user_id" not in client.session


def test_confirming_an_account_deletion_waits_for_redis(client_for, citizen, redis_down):
    client = client_for(citizen)
    response = client.post("/compte/supprimer/", {"password": PASSWORD})
    assert response.status_code == 503
    citizen.refresh_from_db()  # still there


def test_the_api_says_so_in_json(client, citizen, redis_down):
    """No API call guards an account with the cache today; a login through the JSON-
    speaking paths would, so the middleware answers JSON under /api/."""
    from django.test import RequestFactory

    from config.cache import CacheOutageMiddleware, CacheUnavailable

    request = RequestFactory().post("/api/v1/anything")
    response = CacheOutageMiddleware(lambda r: None).process_exception(
        request, CacheUnavailable("down")
    )
    assert response.status_code == 503
    assert json.loads(response.content)["code"] == "unavailable"


def test_votes_are_still_taken_and_pages_still_shown(client_for, citizen, redis_down):
    consultation = make_consultation()
    item = consultation.items.first()
    client = client_for(citizen)
    assert client.get(consultation.get_absolute_url()).status_code == 200
    url = reverse("consultation:vote", kwargs={"slug": consultation.slug, "item_id": item.pk})
    response = client.post(url, {"choice": "for"})
    assert response.status_code == 302
    assert Vote.objects.get(user=citizen, item=item).choice == "for"


def test_the_health_page_tells_the_truth(client, redis_down):
    response = client.get(reverse("health"))
    assert response.status_code == 503
    report = response.json()
    assert report["cache"] is False and report["database"] is True
    assert report["worker"] is False  # its heartbeat cannot be read: not claimed alive
