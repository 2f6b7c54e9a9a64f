"""The counting tests need no Django: switch off the suite's Django autouse fixtures here.

tests/conftest.py collects static files, clears the cache and resets live state before
every test; none of that concerns a pure package, and skipping it keeps these tests fast
and independent of other runs sharing var/. Overriding a fixture by name in a closer
conftest is pytest's documented way to do that. The package itself never imports Django:
test_no_django.py checks it in a fresh interpreter.
"""

import pytest


@pytest.fixture(scope="session", autouse=True)
def _static_manifest():
    return None


@pytest.fixture(autouse=True)
def _capture_mail():
    return None


@pytest.fixture(autouse=True)
def _fast_password_hashing():
    return None


@pytest.fixture(autouse=True)
def _fresh_live_state():
    return None


@pytest.fixture(autouse=True)
def _fresh_cache():
    return None
