"""The browser's session may write only with the CSRF token: every write endpoint."""

import json

import pytest

from consultation.models import Appeal, Comment, Decision, Notice, Report, Rule, Vote
from consultation.participation import debate
from tests.support.api import API, items_of

pytestmark = pytest.mark.django_db

# (method, path, body): {item}, {slug}, {comment}, {decision} are filled in per test.
WRITES = [
    ("PUT", "/items/{item}/vote", {"choice": "for"}),
    ("DELETE", "/items/{item}/vote", None),
    ("PUT", "/items/{item}/grade", {"grade": 4}),
    ("DELETE", "/items/{item}/grade", None),
    ("PUT", "/consultations/{slug}/ballot", {"items": ["ITEM"]}),
    ("DELETE", "/consultations/{slug}/ballot", None),
    ("POST", "/items/{item}/comments", {"body": "Bonjour."}),
    ("PATCH", "/comments/{comment}", {"body": "Modifié."}),
    ("DELETE", "/comments/{comment}", None),
    ("POST", "/comments/{comment}/useful", None),
    ("POST", "/comments/{comment}/reports", {"rule": "spam"}),
    ("POST", "/me/notices/read", {}),
    ("POST", "/moderation-decisions/{decision}/appeal", {"text": "Je conteste."}),
]


@pytest.fixture
def stage(consultation, citizen, make_user):
    item = items_of(consultation)[0]
    own = debate.post_comment(citizen, item, "Le mien.")
    theirs = debate.post_comment(make_user(), item, "Le leur.")
    # A warning to the citizen, which they may appeal.
    decision = Decision.objects.create(
        consultation=consultation,
        comment=own,
        subject=citizen,
        role=Decision.Role.MODERATOR,
        action=Decision.Action.WARN,
        rule=Rule.INSULT,
        rule_number=Rule.number(Rule.INSULT),
    )
    Notice.objects.create(user=citizen, kind=Notice.Kind.MODERATION, data={})

    def fill(method, path, body):
        comment = theirs if path.endswith(("/useful", "/reports")) else own
        path = path.format(
            item=item.pk, slug=consultation.slug, comment=comment.pk, decision=decision.pk
        )
        if body and body.get("items"):
            body = {"items": [item.pk]}
        return method, API + path, body

    return fill


def _send(browser, method, path, body, **headers):
    return browser.generic(
        method,
        path,
        "" if body is None else json.dumps(body),
        content_type="application/json",
        headers=headers,
    )


def test_write_endpoint_list_is_complete():
    from consultation.api import api

    schema = api.get_openapi_schema()
    writes = {
        (method.upper(), path.removeprefix("/api/v1"))
        for path, operations in schema["paths"].items()
        for method in operations
        if method != "get"
    }
    listed = {
        (
            method,
            path.replace("{item}", "{item_id}")
            .replace("{comment}", "{comment_id}")
            .replace("{decision}", "{decision_id}"),
        )
        for method, path, _body in WRITES
    }
    assert listed == writes


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_session_write_without_csrf_token_is_refused(
    method, path, body, stage, browser_for, citizen
):
    method, url, body = stage(method, path, body)
    before = _state()
    response = _send(browser_for(citizen), method, url, body)
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "csrf_failed"
    assert _state() == before


def _state():
    return (
        Vote.objects.count(),
        list(Comment.objects.values_list("body", "deleted_at")),
        Report.objects.count(),
        Appeal.objects.count(),
        Notice.objects.filter(read_at__isnull=True).count(),
    )


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_session_write_with_a_wrong_csrf_token_is_refused(
    method, path, body, stage, browser_for, citizen
):
    method, url, body = stage(method, path, body)
    response = _send(browser_for(citizen), method, url, body, X_CSRFToken="x" * 64)
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_session_write_with_csrf_token_is_accepted(method, path, body, stage, browser_for, citizen):
    method, url, body = stage(method, path, body)
    browser = browser_for(citizen)
    token = browser.cookies["csrftoken"].value
    response = _send(browser, method, url, body, X_CSRFToken=token)
    assert response.status_code in (200, 201), response.content


def test_session_write_from_a_foreign_origin_is_refused(browser_for, citizen, consultation):
    browser = browser_for(citizen)
    token = browser.cookies["csrftoken"].value
    item = items_of(consultation)[0]
    response = _send(
        browser,
        "PUT",
        f"{API}/items/{item.pk}/vote",
        {"choice": "for"},
        X_CSRFToken=token,
        Origin="https://evil.example",
    )
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"


def test_session_reads_need_no_csrf_token(browser_for, citizen, consultation):
    response = browser_for(citizen).get(f"{API}/consultations/{consultation.slug}/me")
    assert response.status_code == 200


def test_anonymous_browser_write_is_told_to_log_in_not_csrf(consultation):
    from django.test import Client

    item = items_of(consultation)[0]
    response = _send(Client(enforce_csrf_checks=True), "PUT", f"{API}/items/{item.pk}/vote", {})
    assert response.status_code == 401
    assert response.json()["code"] == "login_required"
