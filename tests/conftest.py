"""Personas, the test mailbox and the Celery worker, for both test passes.

Pass 1 (embedded default): SQLite file database, in-memory broker, the embedded
worker thread. Pass 2 (DATABASE_URL + REDIS_URL set by scripts/test.sh):
PostgreSQL, Redis, and a real Celery worker process started here.
"""

import os
import subprocess
import sys
import time

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.cache import cache

from tests.support import mailbox as mailbox_module

PASSWORD = "correct horse battery staple"
# Every test e-mail takes this long to "deliver", like a slow SMTP server: a request
# that waited for delivery would show it in its timing.
MAIL_DELAY = 1.5


def pytest_report_header(config):
    shape = (
        "production (PostgreSQL + Redis + Celery worker process)"
        if os.environ.get("DATABASE_URL")
        else "embedded (SQLite + in-memory layer/broker + embedded worker)"
    )
    return [f"agora backends: {shape}"]


@pytest.fixture(scope="session", autouse=True)
def _static_manifest():
    """Pages are rendered with the production static storage (hashed names)."""
    from django.core.management import call_command

    call_command("collectstatic", "--noinput", verbosity=0)


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
            "OPTIONS": {"directory": str(mail_dir), "delay": MAIL_DELAY},
        }
    }


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
    from realtime import redis as link
    from realtime.hub import hub

    stores._memory.__init__()
    stores._pairwise_memory.__init__()
    hub._seq.clear()
    hub.forget_snapshots()
    if settings.REDIS_URL:
        client = link.redis_client()
        keys = [*client.scan_iter("agora:live:*"), *client.scan_iter("agora:rt:seq:*")]
        if keys:
            client.delete(*keys)
    yield
    events.wait_for_pending_tallies()


@pytest.fixture(autouse=True)
def _fresh_cache():
    # allauth's rate limits and TOTP replay guards live in the cache.
    cache.clear()
    yield


class Mailbox:
    def __init__(self, directory):
        self.directory = directory

    def messages(self, to=None):
        return mailbox_module.messages(self.directory, to)

    def wait_for(self, to, *, timeout=20.0, count=1):
        return mailbox_module.wait_for_mail(self.directory, to, timeout=timeout, count=count)


@pytest.fixture
def mailbox(mail_dir):
    return Mailbox(mail_dir)


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, mail_dir):
    """A Celery worker consuming the configured broker, running against the test database."""
    if settings.CELERY_EMBEDDED_WORKER:
        from config import embedded_worker

        yield embedded_worker.start(with_beat=False)
        embedded_worker.stop()
        return
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        mailbox_module.MAIL_DIR_ENV: str(mail_dir),
        "AGORA_TEST_MAIL_DELAY": str(MAIL_DELAY),
    }
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
    from django.contrib.auth import get_user_model

    counter = iter(range(1, 10_000))

    def make(email=None, *, verified=True, password=PASSWORD, display_name=None, **fields):
        n = next(counter)
        email = email or f"person{n}@example.org"
        user = get_user_model().objects.create_user(
            email=email, password=password, display_name=display_name or f"Person {n}", **fields
        )
        EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
        return user

    return make


# --- Personas -------------------------------------------------------------


@pytest.fixture
def citizen(make_user):
    return make_user("camille@example.org", display_name="Camille")


@pytest.fixture
def unverified(make_user):
    return make_user("ursula@example.org", display_name="Ursula", verified=False)


# Role holders have MFA set up, as their roles require: without it their powers do not
# hold (consultation.permissions). Tests about the missing MFA call ``remove_mfa``.


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


def enable_totp(user) -> str:
    """Give ``user`` a (new) TOTP authenticator, replacing any; return its secret.

    The user object is then marked as a door would mark it after the login's MFA step
    (accounts.roles), so domain calls made with it in tests act with its role's powers.
    Requests get their own user object: log in with ``login`` / ``client_for``."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from accounts import roles

    remove_mfa(user)
    secret = generate_totp_secret()
    authenticator = TOTP.activate(user, secret).instance
    roles.vouch_second_factor(user, [authenticator.pk])
    return secret


def remove_mfa(user) -> None:
    from allauth.mfa.models import Authenticator

    from accounts import roles

    Authenticator.objects.filter(user=user).delete()
    roles.forget_mfa(user)


ALLAUTH_BACKEND = "allauth.account.auth_backends.AuthenticationBackend"


def login(client, user, *, second_factor=True, backend=ALLAUTH_BACKEND):
    """Log ``user`` in on ``client`` as allauth's login form would: with the MFA step
    recorded in the session when the account has TOTP (and ``second_factor``), without
    it otherwise — a password-only session."""
    from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
    from allauth.mfa.models import Authenticator

    client.force_login(user, backend=backend)
    totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    records = [{"method": "password", "at": time.time()}]
    if second_factor and totp is not None:
        records.append({"method": "mfa", "at": time.time(), "id": totp.pk, "type": "totp"})
    session = client.session
    session[AUTHENTICATION_METHODS_SESSION_KEY] = records
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()
    return client


def current_totp_code(secret: str) -> str:
    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    counter = int(time.time()) // app_settings.TOTP_PERIOD
    return format_hotp_value(hotp_value(secret, counter))


@pytest.fixture
def client_for(client):
    """Log a persona in (as if through the login form) and return the client."""

    return lambda user, **options: login(client, user, **options)
