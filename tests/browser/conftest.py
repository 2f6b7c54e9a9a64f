"""Fixtures of the browser tests (the ``browser`` group, docs/decisions/0037-browser-tests.md).

One Chromium for the group and one served site for the session, a fresh browser context
(cookies, storage) per test: a context costs milliseconds, a browser a second. Every
module here is marked ``browser`` and ``xdist_group("browser")``, so `make test-fast`
runs the group in one worker with one browser. Chromium stops after the group's last
test (``pytest_runtest_teardown``), so the tests that follow in the same process run
without Playwright's event loop in their thread (tests/support/browser.py, ``Chromium``).
"""

import pytest
from django.conf import settings

from tests.support.browser import Chromium, LiveServer, chromium_executable, log_in

_chromium: Chromium | None = None


@pytest.fixture(scope="session")
def chromium():
    global _chromium
    path = chromium_executable()
    if path is None:
        # .ci/run and the setup in CONTRIBUTING.md install it (apt-get install chromium).
        pytest.skip("Chromium is not installed (apt-get install chromium): browser tests skipped")
    _chromium = Chromium(path)
    yield _chromium
    _chromium.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    result = yield
    if _chromium is not None and (nextitem is None or "browser" not in nextitem.keywords):
        _chromium.stop()
    return result


@pytest.fixture(scope="session")
def served_agora(django_db_setup, django_db_blocker):
    """Agora served by uvicorn (HTTP + websockets) on a free loopback port, reading the
    test database: the tests that use it are ``transactional_db``."""
    server = LiveServer()
    yield server
    server.stop()


@pytest.fixture
def browser(chromium, served_agora, transactional_db):
    return chromium.browser()


@pytest.fixture
def new_context(browser, served_agora):
    """``new_context(user=None, *, width=1280, height=800, language="fr", **options)``:
    a browser context (logged in as ``user`` if given), closed after the test."""
    contexts = []

    def make(user=None, *, width=1280, height=800, language="fr", second_factor=True, **options):
        context = browser.new_context(
            base_url=served_agora.url,
            viewport={"width": width, "height": height},
            locale=language,
            extra_http_headers={"Accept-Language": language},
            **options,
        )
        context.set_default_timeout(10_000)
        # The language chosen in the switcher: it wins over a persona's preferred language.
        context.add_cookies(
            [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": served_agora.url}]
        )
        if user is not None:
            log_in(context, served_agora.url, user, second_factor=second_factor)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context):
    """A page in a fresh context, logged out, French, 1280 × 800."""
    return new_context().new_page()
