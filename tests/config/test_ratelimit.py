"""Writes are rate-limited per account (or per IP address), with a clear 429."""

import pytest

from tests.support.html import problems

pytestmark = pytest.mark.django_db


def test_too_many_writes_get_a_429_page(client_for, citizen, settings):
    settings.WRITE_RATE_LIMIT = "3/m"
    client = client_for(citizen)
    statuses = [client.post("/consultations/nope/").status_code for _ in range(4)]
    assert statuses[:3] != [429] * 3 and statuses[3] == 429
    response = client.post("/consultations/nope/")
    assert response.status_code == 429
    assert problems(response.content) == []


def test_too_many_api_writes_get_a_json_reason(client, settings):
    settings.WRITE_RATE_LIMIT = "2/m"
    for _ in range(2):
        client.post("/api/v1/nothing", content_type="application/json")
    response = client.post("/api/v1/nothing", content_type="application/json")
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"


def test_reads_are_not_limited(client, settings):
    settings.WRITE_RATE_LIMIT = "1/m"
    assert all(client.get("/").status_code == 200 for _ in range(5))


def test_one_account_does_not_use_up_another_accounts_allowance(client_for, make_user, settings):
    settings.WRITE_RATE_LIMIT = "2/m"
    first, second = make_user(), make_user()
    client = client_for(first)
    for _ in range(3):
        client.post("/consultations/nope/")
    client.logout()
    assert client_for(second).post("/consultations/nope/").status_code != 429


def test_account_pages_moderation_and_language_switch_are_limited(client_for, citizen, settings):
    settings.WRITE_RATE_LIMIT = "2/m"
    client = client_for(citizen)
    for path in ("/compte/profil/", "/compte/jetons-api/", "/moderation/", "/i18n/setlang/"):
        cache_clear()
        statuses = [client.post(path, {"language": "fr"}).status_code for _ in range(3)]
        assert statuses[:2] != [429, 429] and statuses[2] == 429, (path, statuses)


def test_guessing_the_deletion_password_is_stopped_after_five_tries(client_for, citizen):
    from tests.support.accounts import PASSWORD

    client = client_for(citizen)
    client.cookies["django_language"] = "en"
    for _ in range(5):
        assert client.post("/compte/supprimer/", {"password": "nope"}).status_code == 200
    response = client.post("/compte/supprimer/", {"password": PASSWORD})
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    citizen.refresh_from_db()  # still there: once limited, even the right password waits
    assert problems(response.content) == []


def test_api_token_calls_are_limited_per_account_not_per_address(make_user, settings):
    from django.test import Client

    from accounts import tokens

    settings.WRITE_RATE_LIMIT = "2/m"
    first, second = make_user(), make_user()
    _token, first_secret = tokens.create_token(first, "script")
    _token, other_secret = tokens.create_token(first, "other script")
    _token, second_secret = tokens.create_token(second, "script")

    def post(secret):
        return Client(headers={"Authorization": f"Bearer {secret}"}).post(
            "/api/v1/nothing", content_type="application/json"
        )

    assert [post(first_secret).status_code for _ in range(2)] != [429, 429]
    # Another token of the same account shares its allowance...
    assert post(other_secret).status_code == 429
    # ...another account behind the same address does not.
    assert post(second_secret).status_code != 429


def test_a_wrong_token_is_limited_by_address(client, settings):
    from django.test import Client

    settings.WRITE_RATE_LIMIT = "2/m"
    for _ in range(2):
        Client(headers={"Authorization": "Bearer agora_wrong"}).post("/api/v1/nothing")
    assert client.post("/api/v1/nothing").status_code == 429


def cache_clear():
    from django.core.cache import cache

    cache.clear()


# --- The client's address: X-Forwarded-For counts only when a proxy of ours wrote it ---


def post_from(client, forwarded_for):
    # The test client's socket address (REMOTE_ADDR) is always 127.0.0.1.
    return client.post(
        "/api/v1/nothing", content_type="application/json", HTTP_X_FORWARDED_FOR=forwarded_for
    )


def test_behind_one_proxy_the_client_is_the_address_the_proxy_saw(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.WRITE_RATE_LIMIT = "2/m"
    # The proxy appends the address it saw; what the client wrote before it changes nothing.
    statuses = [post_from(client, f"198.51.100.{n}, 203.0.113.7").status_code for n in range(3)]
    assert 429 not in statuses[:2] and statuses[2] == 429
    # Another client behind the same proxy has an allowance of its own.
    assert post_from(client, "203.0.113.8").status_code != 429


def test_behind_two_proxies_the_client_is_the_second_address_from_the_right(client, settings):
    settings.TRUSTED_PROXY_COUNT = 2
    settings.WRITE_RATE_LIMIT = "2/m"
    for n in range(2):
        post_from(client, f"198.51.100.{n}, 203.0.113.7, 10.0.0.{n}")
    assert post_from(client, "198.51.100.9, 203.0.113.7, 10.0.0.9").status_code == 429
    assert post_from(client, "203.0.113.8, 10.0.0.1").status_code != 429


def failed_login(client, forwarded_for, n):
    from django.urls import reverse

    return client.post(
        reverse("account_login"),
        {"login": f"nobody{n}@example.org", "password": "wrong password"},
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


def test_allauths_login_limit_counts_the_address_the_proxy_saw(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login_failed": "3/m/ip"}
    client.cookies["django_language"] = "en"
    for n in range(3):  # each with another e-mail address: only the per-address limit counts
        failed_login(client, f"198.51.100.{n}, 203.0.113.7", n)
    limited = failed_login(client, "198.51.100.9, 203.0.113.7", 9)
    assert "Too many failed login attempts" in limited.content.decode()
    other_client = failed_login(client, "203.0.113.8", 10)
    assert other_client.status_code == 200
    assert "Too many failed login attempts" not in other_client.content.decode()


def test_the_documented_production_command_has_make_runs_transport_options():
    """No rewriting of the client's address by uvicorn, and the same websocket message size."""
    import re

    from django.conf import settings as live

    from tests.support.served import uvicorn_options

    readme = (live.BASE_DIR / "README.md").read_text()
    [command] = re.findall(r"^.*-m uvicorn config\.asgi:application.*$", readme, re.MULTILINE)
    production, make_run = command.split(), uvicorn_options()
    assert "--no-proxy-headers" in make_run and "--no-proxy-headers" in production
    ws_max_size = make_run[make_run.index("--ws-max-size") + 1]
    assert production[production.index("--ws-max-size") + 1] == ws_max_size


# Served as `make run` serves it: uvicorn rewrites the client's address from
# X-Forwarded-For for connections from 127.0.0.1 unless told not to.


def open_served(base):
    import http.cookiejar
    import urllib.request

    return urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )


def served_post(opener, url, data: bytes, headers):
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, data=data, method="POST", headers=headers)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.mark.slow
def test_a_client_of_the_served_site_cannot_choose_its_address_for_writes(serve):
    base = serve(WRITE_RATE_LIMIT="3/m")
    opener = open_served(base)
    statuses = [
        served_post(
            opener,
            base + "/api/v1/nothing",
            b"{}",
            {"Content-Type": "application/json", "X-Forwarded-For": f"198.51.100.{n}"},
        )[0]
        for n in range(4)
    ]
    assert 429 not in statuses[:3] and statuses[3] == 429


@pytest.mark.slow
def test_a_client_of_the_served_site_cannot_choose_its_address_for_logins(serve):
    import re
    from urllib.parse import urlencode

    base = serve()
    opener = open_served(base)
    with opener.open(base + "/compte/login/", timeout=10) as response:
        page = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]

    def attempt(n):
        form = {"login": f"nobody{n}@example.org", "password": "wrong password"}
        return served_post(
            opener,
            base + "/compte/login/",
            urlencode({**form, "csrfmiddlewaretoken": token}).encode(),
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept-Language": "en",
                "X-Forwarded-For": f"198.51.100.{n}",
            },
        )

    allowed = 10  # allauth's "login_failed": "10/m/ip" (config/settings.py)
    for n in range(allowed):
        status, page = attempt(n)
        assert status == 200 and "Too many failed login attempts" not in page
    status, page = attempt(allowed)
    assert "Too many failed login attempts" in page


def test_a_write_counter_that_vanishes_mid_count_lets_the_write_through(
    client, settings, monkeypatch
):
    """django-ratelimit adds the window's counter, then increments it. When the key is gone
    in between (Redis evicted it, a failover, a flush), it has no count: the write limit
    fails open then, as it does when Redis is down (decision 0010), instead of refusing a
    person who did nothing (seen in the write-path bench: docs/performance.md)."""
    from django.core.cache import caches

    cache = caches[settings.RATELIMIT_USE_CACHE]
    real_incr = cache.incr

    def incr_after_eviction(key, delta=1, version=None):
        cache.delete(key, version=version)  # what another client of Redis did meanwhile
        return real_incr(key, delta, version=version)

    monkeypatch.setattr(cache, "incr", incr_after_eviction)
    first = client.post("/api/v1/nothing", content_type="application/json")  # counter added
    second = client.post("/api/v1/nothing", content_type="application/json")  # counted
    assert (first.status_code, second.status_code) == (404, 404)
