"""The JSON API as a script sees it: a client sending JSON to /api/v1/ with a bearer
token (the ``api_as`` fixture of tests/api/conftest.py hands one out per persona), and
the order the API lists items in."""

import json

from django.test import Client

API = "/api/v1"


class ApiClient:
    """Sends JSON to /api/v1/ as a script would: bearer token, no cookies, no CSRF."""

    def __init__(self, secret=None):
        self.client = Client(enforce_csrf_checks=True)
        self.headers = {"Authorization": f"Bearer {secret}"} if secret else {}

    def call(
        self, method, path, body=None, *, raw=None, content_type="application/json", headers=None
    ):
        data = raw if raw is not None else ("" if body is None else json.dumps(body))
        headers = self.headers | (headers or {})
        return self.client.generic(
            method, API + path, data, content_type=content_type, headers=headers
        )

    def get(self, path):
        return self.client.get(API + path, headers=self.headers)


def items_of(consultation):
    return list(consultation.items.order_by("position", "id"))
