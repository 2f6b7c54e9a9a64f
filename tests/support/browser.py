"""A real browser on the served product: Debian's Chromium driven by Playwright.

The fixtures are in tests/browser/conftest.py; the plain helpers are here:

- ``LiveServer``: uvicorn, with the options `make run` uses (the Makefile's
  UVICORN_OPTIONS), serving ``config.asgi.application`` from a thread of the test
  process on a free loopback port. In the test process, so the pages read the test
  database (tests are ``transactional_db``), its live hub and counters, its mailbox, and
  the Celery worker of ``celery_worker``; HTTP and websockets alike, as in production.
- ``chromium_executable``: the system's Chromium (``apt-get install chromium``), never a
  browser build downloaded by Playwright (docs/decisions/0037-browser-tests.md).
- ``log_in``: a persona's session cookie in a browser context, as allauth's form would
  leave it (with the second factor when the account has one).
- ``axe_violations``: axe-core (vendored under tests/browser/vendor/, tests only) run on
  the page as it is.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import uvicorn
from django.conf import settings
from django.test import Client

from tests.support.accounts import login
from tests.support.served import uvicorn_options

ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"
AXE_SOURCE = Path(__file__).resolve().parent.parent / "browser" / "vendor" / "axe.min.js"
# Where Debian and Ubuntu put it; PATH first, so another system may say where its own is.
CHROMIUM_NAMES = ("chromium", "chromium-browser")
CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/lib/chromium/chromium")


def chromium_executable() -> str | None:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    for path in CHROMIUM_PATHS:
        if Path(path).exists():
            return path
    return None


class Chromium:
    """The session's Chromium, started at the first browser test and stopped after the
    last one of the group (tests/browser/conftest.py).

    Playwright's synchronous API keeps its event loop set as the running loop of the
    thread that started it, between calls too. While it runs, Django refuses ORM calls
    in that thread as "async unsafe" (no coroutine of ours runs in that loop: the
    factories may write), and no other test could run an event loop of its own there:
    hence DJANGO_ALLOW_ASYNC_UNSAFE exactly while it runs, and a stop when the group ends.
    """

    def __init__(self, executable: str) -> None:
        self.executable = executable
        self._playwright = None
        self._browser = None
        self._allowed_before: str | None = None

    def browser(self):
        if self._browser is None:
            from playwright.sync_api import sync_playwright

            self._allowed_before = os.environ.get(ASYNC_UNSAFE)
            os.environ[ASYNC_UNSAFE] = "true"
            self._playwright = sync_playwright().start()
            self._browser = self._playwright.chromium.launch(
                executable_path=self.executable, headless=True
            )
        return self._browser

    def stop(self) -> None:
        if self._browser is None:
            return
        try:
            self._browser.close()
            self._playwright.stop()
        finally:
            self._browser = self._playwright = None
            if self._allowed_before is None:
                os.environ.pop(ASYNC_UNSAFE, None)
            else:
                os.environ[ASYNC_UNSAFE] = self._allowed_before


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _config_options() -> dict:
    """The Makefile's UVICORN_OPTIONS as uvicorn.Config arguments (the lifespan aside:
    the tests' worker is the ``celery_worker`` fixture's, not the lifespan's)."""
    options: dict = {}
    words = iter(uvicorn_options())
    for word in words:
        if word == "--ws-max-size":
            options["ws_max_size"] = int(next(words))
        elif word == "--no-access-log":
            options["access_log"] = False
        elif word == "--no-proxy-headers":
            options["proxy_headers"] = False
        elif word == "--lifespan":
            next(words)
        else:
            raise ValueError(
                f"UVICORN_OPTIONS: {word!r} is not mirrored in tests/support/browser.py"
            )
    return options


def _fresh_application():
    """``config.asgi``'s router with a Django handler of its own: the module's handler
    loaded its middleware when first imported (at collection, by the websocket tests), and
    ServeStatic's middleware indexes STATIC_ROOT then, before the session's static files
    were collected (tests/conftest.py); a handler made now serves them."""
    from channels.routing import ProtocolTypeRouter

    from config import asgi
    from config.body_limit import BodyLimitMiddleware
    from config.http import get_asgi_application

    router = ProtocolTypeRouter(
        {
            "http": BodyLimitMiddleware(get_asgi_application()),
            "websocket": asgi.router.application_mapping["websocket"],
        }
    )

    async def application(scope, receive, send):
        await router(scope, receive, send)

    return application


class LiveServer:
    """uvicorn in a thread of this process; ``url`` is its address, ``stop()`` ends it."""

    def __init__(self) -> None:
        application = _fresh_application()
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            application,
            host="127.0.0.1",
            port=self.port,
            lifespan="off",
            log_level="warning",
            **_config_options(),
        )
        self.server = uvicorn.Server(config)
        # Not the main thread: uvicorn installs no signal handlers there.
        self.thread = threading.Thread(target=self.server.run, name="live-server", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the live server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


def log_in(context, base_url: str, user, *, second_factor: bool = True) -> None:
    """Give ``context`` ``user``'s session, as logging in through allauth's form would."""
    client = login(Client(), user, second_factor=second_factor)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies(
        [{"name": cookie.key, "value": cookie.value, "url": base_url, "httpOnly": True}]
    )


def axe_violations(page, *, exclude: tuple[str, ...] = ()) -> list[dict]:
    """axe-core's violations on ``page`` now (WCAG 2.x A and AA rules and best practices),
    each reduced to its rule, impact and the first few offending nodes."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE.read_text())
    result = page.evaluate(
        """async (exclude) => {
            const context = exclude.length ? {exclude: exclude.map((s) => [s])} : document;
            return await axe.run(context, {resultTypes: ["violations"]});
        }""",
        list(exclude),
    )
    return [
        {
            "rule": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "nodes": [node["target"] for node in violation["nodes"][:5]],
        }
        for violation in result["violations"]
    ]


def describe(violations: list[dict]) -> str:
    return json.dumps(violations, indent=1, ensure_ascii=False)
