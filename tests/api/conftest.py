"""Fixtures for the JSON API tests: a token-carrying client and a CSRF-enforcing browser."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.tokens import create_token
from tests.factories import make_consultation
from tests.support.accounts import login
from tests.support.api import ApiClient


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
        browser = login(Client(enforce_csrf_checks=True), user, **options)
        browser.get(reverse("accounts:profile"))  # a page with a form sets the csrftoken cookie
        assert "csrftoken" in browser.cookies
        return browser

    return make
