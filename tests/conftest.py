"""Fixtures only: personas, the test mailbox and the Celery worker, for both test passes.

Pass 1 (embedded default): SQLite file database, in-memory broker, the embedded
worker thread. Pass 2 (DATABASE_URL + REDIS_URL set by scripts/test.sh):
PostgreSQL, Redis, and a real Celery worker process started here.

Nothing imports this module: builders are in tests/factories.py, the login and
second-factor helpers in tests/support/accounts.py.
"""

import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.core.cache import cache

from tests import factories
from tests.support import mailbox as mailbox_module
from tests.support.accounts import enable_totp, login

# How long mail takes to "deliver" in the tests that ask for ``slow_mail``, like a slow
# SMTP server: a request that waited for delivery would show it in its timing.
SLOW_MAIL_SECONDS = 1.5


def pytest_report_header(config):
    shape = (
        "production (PostgreSQL + Redis + Celery worker process)"
        if os.environ.get("DATABASE_URL")
        else "embedded (SQLite + in-memory layer/broker + embedded worker)"
    )
    return [f"agora backends: {shape}"]


@pytest.fixture(scope="session", autouse=True)
def _static_manifest(tmp_path_factory):
    """Pages are rendered with the production static storage (hashed names), collected
    into a directory of this test process's own: runs side by side (the two passes of
    `make test`, the xdist workers of `make test-fast`) never write into one another's.
    The processes the tests start (the Celery worker, served sites) inherit it."""
    from django.core.management import call_command
    from django.test import override_settings

    root = tmp_path_factory.mktemp("static")
    with pytest.MonkeyPatch.context() as patch, override_settings(STATIC_ROOT=root):
        patch.setenv("STATIC_ROOT", str(root))
        call_command("collectstatic", "--noinput", verbosity=0)
        yield


@pytest.fixture(scope="session")
def mail_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("mail")
    os.environ[mailbox_module.MAIL_DIR_ENV] = str(directory)
    return directory


@pytest.fixture(autouse=True)
def _capture_mail(settings, mail_dir):
    for path in mail_dir.glob("*"):
        path.unlink(missing_ok=True)
    settings.MAILERS = {
        "default": {
            "BACKEND": "tests.support.mailbox.CapturingBackend",
            "OPTIONS": {"directory": str(mail_dir)},
        }
    }


@pytest.fixture
def slow_mail(mail_dir):
    """Delivering a mail takes ``SLOW_MAIL_SECONDS`` in this test (every other test's
    mail is instant), on whichever worker delivers it; returns that delay."""
    mailbox_module.slow_down(mail_dir, SLOW_MAIL_SECONDS)
    yield SLOW_MAIL_SECONDS
    mailbox_module.slow_down(mail_dir, 0)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness is not under test; it would only slow every login.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_live_state():
    """Live counters and frame numbers are keyed by consultation id, and ids come back
    after a rollback: start each test clean, and let its pending tally frames go out
    before the database is closed to it."""
    from consultation.live import events, stores
    from realtime.hub import hub

    stores.reset_for_tests()
    hub.reset_for_tests()
    events.forget_page_slugs()
    yield
    events.wait_for_pending_tallies()


@pytest.fixture(autouse=True)
def _fresh_cache():
    # allauth's rate limits and TOTP replay guards live in the cache.
    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _no_page_copies(settings):
    """Tests change the database behind the domain's back (factories, ``update()``) and
    read pages again at once: the anonymous page cache is off, except where a test asks
    for it (``page_cache_on``, tests/config/test_page_cache.py)."""
    settings.PAGE_CACHE_SECONDS = 0


@pytest.fixture
def page_cache_on(settings):
    settings.PAGE_CACHE_SECONDS = 5


@pytest.fixture
def mailbox(mail_dir):
    return mailbox_module.Mailbox(mail_dir)


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, mail_dir):
    """A Celery worker consuming the configured broker, running against the test database."""
    if settings.CELERY_EMBEDDED_WORKER:
        from config import embedded_worker
        from config.celery import app

        # kombu's in-memory transport sleeps a second whenever a poll takes nothing
        # (virtual Transport.polling_interval): fine for `make run`, but here each job
        # waited up to a second, and 20 queued mails took 10 s to go out.
        options = app.conf.broker_transport_options
        app.conf.broker_transport_options = {**options, "polling_interval": 0.02}
        yield embedded_worker.start(with_beat=False)
        embedded_worker.stop()
        return
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, mailbox_module.MAIL_DIR_ENV: str(mail_dir)}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.worker"], env=env, cwd=settings.BASE_DIR
    )
    from config.celery import app

    deadline = time.monotonic() + 60
    while not app.control.ping(timeout=0.5):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("the Celery worker process did not start")
    yield process
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def make_user(db):
    """``make_user(email=None, *, display_name=None, **fields)``: person1@example.org,
    person2@example.org... unless told otherwise (tests.factories.make_user)."""
    counter = iter(range(1, 10_000))

    def make(email=None, *, display_name=None, **fields):
        n = next(counter)
        return factories.make_user(
            email or f"person{n}@example.org", display_name=display_name or f"Person {n}", **fields
        )

    return make


# --- Personas -------------------------------------------------------------


@pytest.fixture
def citizen(make_user):
    return make_user("camille@example.org", display_name="Camille")


@pytest.fixture
def unverified(make_user):
    return make_user("ursula@example.org", display_name="Ursula", verified=False)


# Role holders have MFA set up, as their roles require: without it their powers do not
# hold (consultation.permissions). Tests about the missing MFA call
# ``tests.support.accounts.remove_mfa``.


@pytest.fixture
def organiser(make_user):
    user = make_user("odile@example.org", display_name="Odile", is_organiser=True)
    enable_totp(user)
    return user


@pytest.fixture
def moderator(make_user):
    user = make_user("malik@example.org", display_name="Malik", is_moderator=True)
    enable_totp(user)
    return user


@pytest.fixture
def staff(make_user):
    user = make_user("sam@example.org", display_name="Sam", is_staff=True, is_superuser=True)
    enable_totp(user)
    return user


@pytest.fixture
def client_for(client):
    """Log a persona in (as if through the login form) and return the client."""

    return lambda user, **options: login(client, user, **options)
