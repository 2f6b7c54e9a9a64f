"""Helpers for the JSON API tests: a token-carrying client and a CSRF-enforcing browser."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from accounts.tokens import create_token
from tests.factories import make_consultation

API = "/api/v1"


class ApiClient:
    """Sends JSON to /api/v1/ as a script would: bearer token, no cookies, no CSRF."""

    def __init__(self, secret=None):
        self.client = Client(enforce_csrf_checks=True)
        self.headers = {"Authorization": f"Bearer {secret}"} if secret else {}

    def call(self, method, path, body=None, *, raw=None, content_type="application/json"):
        data = raw if raw is not None else ("" if body is None else json.dumps(body))
        return self.client.generic(
            method, API + path, data, content_type=content_type, headers=self.headers
        )

    def get(self, path):
        return self.client.get(API + path, headers=self.headers)


@pytest.fixture
def consultation():
    return make_consultation()


@pytest.fixture
def api_as():
    """``api_as(user)``: a client authenticated by a fresh personal token of ``user``."""

    def make(user=None):
        if user is None:
            return ApiClient()
        _token, secret = create_token(user, "tests")
        return ApiClient(secret)

    return make


@pytest.fixture
def browser_for():
    """A logged-in browser whose requests are CSRF-checked like a real one's."""

    def make(user, **options):
        from tests.support.accounts import login

        browser = login(Client(enforce_csrf_checks=True), user, **options)
        browser.get(reverse("accounts:profile"))  # a page with a form sets the csrftoken cookie
        assert "csrftoken" in browser.cookies
        return browser

    return make


def items_of(consultation):
    return list(consultation.items.order_by("position", "id"))
