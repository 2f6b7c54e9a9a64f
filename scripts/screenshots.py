"""Screenshots of the main pages, for the README: `make screenshots`.

Builds the demo (as `make run` does) in a throwaway SQLite database, publishes the closed
demo consultation's results as its organiser would, serves Agora with uvicorn on a free
loopback port, and photographs each page in Debian's Chromium (Playwright, never a
downloaded browser): in French on a 1,280-pixel screen and in English 390 pixels wide, the
first screen of each page. Writes docs/screenshots/<page>-<fr|en>.jpg and stops everything
it started (bounded: each page has 30 s).
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def build_demo() -> dict[str, str]:
    """Migrate, seed the demo, publish the closed consultation; the pages' addresses."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.urls import reverse

    from accounts.models import User
    from consultation.demo import CLOSED_SLUG
    from consultation.models import Consultation
    from consultation.results import publishing
    from tests.support.accounts import enable_totp

    call_command("migrate", interactive=False, verbosity=0)
    call_command("seed_demo", verbosity=0)
    closed = Consultation.objects.get(slug=CLOSED_SLUG)
    if not closed.publications.exists():
        # Publishing takes an organiser who passed MFA: in this throwaway database, the
        # demo organiser gets an authenticator, as the tests' organisers do.
        organiser = User.objects.get(email="organisatrice@demo.agora.test")
        enable_totp(organiser)
        publishing.publish(closed, organiser)
    live = Consultation.objects.filter(status=Consultation.Status.OPEN).order_by("pk").first()
    return {
        "home": reverse("home"),
        "consultations": reverse("consultation:list"),
        "consultation": live.get_absolute_url(),
        "measure": live.items.order_by("position").first().get_absolute_url(),
        "results": reverse("consultation:results", kwargs={"slug": CLOSED_SLUG}),
        "methods": reverse("consultation:methods"),
    }


def main() -> int:
    from tests.support.browser import chromium_executable

    executable = chromium_executable()
    if executable is None:
        print("Chromium is not installed (apt-get install chromium)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="agora-screenshots-") as work:
        os.environ.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DEBUG="true",
            DATABASE_URL=f"sqlite:///{work}/demo.sqlite3",
            MEDIA_ROOT=f"{work}/media",
            REDIS_URL="",
            CELERY_EMBEDDED_WORKER="false",
        )
        pages = build_demo()
        port = free_port()
        command = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host"]
        command += ["127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning"]
        server = subprocess.Popen(command, cwd=ROOT, env=os.environ.copy())  # noqa: S603
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(base + "/health/", timeout=2)  # noqa: S310 (loopback)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise SystemExit("the server did not start in 30 s") from None
                    time.sleep(0.3)
            shoot(executable, base, pages)
        finally:
            server.terminate()
            server.wait(timeout=10)
    return 0


def shoot(executable: str, base: str, pages: dict[str, str]) -> None:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True)
        for language, width, height in (("fr", 1280, 800), ("en", 390, 844)):
            context = browser.new_context(
                base_url=base,
                viewport={"width": width, "height": height},
                locale=language,
                extra_http_headers={"Accept-Language": language},
            )
            context.add_cookies([{"name": "django_language", "value": language, "url": base}])
            context.set_default_timeout(30_000)
            page = context.new_page()
            for name, address in pages.items():
                response = page.goto(address)
                if response is None or not response.ok:
                    raise SystemExit(f"{address}: {response and response.status}")
                path = OUT / f"{name}-{language}.jpg"
                page.screenshot(path=path, type="jpeg", quality=70)
                print(f"{path.relative_to(ROOT)}  {address}")
            context.close()
        browser.close()


if __name__ == "__main__":
    sys.exit(main())
