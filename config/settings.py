"""Agora settings: one file, read from the environment.

With no variable set, Agora runs on the *embedded default*: SQLite (WAL), the
in-memory channel layer, a local-memory cache and a Celery worker running in a
thread of the web process on an in-memory broker. Setting ``DATABASE_URL`` and
``REDIS_URL`` switches to the production shape (PostgreSQL, Redis channel layer,
Redis cache, Redis Celery broker and result store). Every variable is listed in
the README. Readers are typed and fail loudly: ``DEBUG=maybe`` is an error.
"""

import logging
import os
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _
from environs import Env

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = Env(eager=True)


# django-ratelimit's rate syntax, matched whole: a count, "/", an optional multiplier
# and a period (s, m, h, d). django-ratelimit itself only matches a prefix, and fails
# on every request (a 500) when nothing matches.
_RATE = re.compile(r"([1-9][0-9]*)/([1-9][0-9]*)?([smhd])")


def _rate(name: str, default: str) -> str:
    value = env.str(name, default=default).strip()
    if not _RATE.fullmatch(value):
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a rate: write a count per period, "
            'such as "120/m", "1000/h" or "5/15m" (periods: s, m, h, d).'
        )
    return value


# --- Core -----------------------------------------------------------------

DEBUG = env.bool("DEBUG", default=False)
if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="insecure-development-key-never-use-in-production")
else:
    # No default on purpose: a production instance without its own key must not start.
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if not SECRET_KEY:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off "
            '(generate one with: python -c "import secrets; print(secrets.token_urlsafe(50))").'
        )
# Earlier keys, still accepted while SECRET_KEY is rotated: signatures, sessions and the MFA
# secrets' derived keys (docs/security.md, "Rotating keys").
SECRET_KEY_FALLBACKS: list[str] = env.list("SECRET_KEY_FALLBACKS", default=[])

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_NAME = env.str("SITE_NAME", default="Agora")
SITE_OPERATOR = env.str("SITE_OPERATOR", default="")
CONTACT_EMAIL = env.str("CONTACT_EMAIL", default="contact@agora.invalid")

INSTALLED_APPS = [
    "accounts.admin_config.AdminConfig",  # django.contrib.admin, with one login (allauth + MFA)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "servestatic",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "accounts",
    "accounts.oidc",
    "consultation",
    "realtime",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # ServeStatic's, also for a sync chain (config/static.py, config/http.py)
    "config.static.ServeStaticMiddleware",
    # HTML compressed for visitors who are not logged in (BREACH: config/compression.py);
    # above every middleware that reads or writes a response's body, below the static files,
    # and above the page cache: the cache keeps pages as rendered, compressed when sent.
    "config.compression.VisitorPageGZipMiddleware",
    # Anonymous public pages served whole from the cache, before the session (decision 0039)
    "config.page_cache.PageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "accounts.middleware.AuthenticationMiddleware",
    # What a page asks several times (a suspension, the roles), asked once per GET
    "config.request_memo.RequestMemoMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "config.cache.CacheOutageMiddleware",
    "accounts.middleware.RequireMFAMiddleware",
    "config.ratelimit.WriteRateLimitMiddleware",
]
# Writes (votes, grades, rankings, comments, organiser actions, account pages) per
# account (a session's or an API token's), or per IP address for anonymous requests.
WRITE_RATE_LIMIT = _rate("WRITE_RATE_LIMIT", "120/m")
RATE_LIMITED_PREFIXES = (
    "/consultations/",
    "/api/",
    "/organisation/",
    "/ma-participation/",
    "/moderation/",
    "/notifications/",
    "/compte/",
    "/i18n/",
)
# The write limit protects the service, not an account: it may fail open when Redis is
# down, so votes are still taken (config/cache.py). Account limits are allauth's.
RATELIMIT_USE_CACHE = "degradable"
# And when its counter vanishes between django-ratelimit's add and incr (evicted, flushed),
# which django-ratelimit would otherwise answer with a 429 (tests/config/test_ratelimit.py).
RATELIMIT_FAIL_OPEN = True

ROOT_URLCONF = "config.urls"
# Django's renderer, minus echoing control characters (NUL…) back into pages.
FORM_RENDERER = "config.forms.FormRenderer"
WSGI_APPLICATION = None
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.site",
                "consultation.context_processors.spaces",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------

DATABASE_URL = env.str("DATABASE_URL", default="")
if DATABASE_URL:
    DATABASES = {"default": env.dj_db_url("DATABASE_URL", conn_max_age=0, conn_health_checks=True)}
    # PostgreSQL: a pool of connections per process (psycopg's, through Django), not a new
    # connection per request: under ASGI every request runs in a thread of its own, so
    # persistent connections (CONN_MAX_AGE) would never be reused. The pool bounds this
    # process's connections too; a request waits up to DATABASE_POOL_TIMEOUT seconds for
    # one. DATABASE_POOL_SIZE=0 turns it off (a pooler such as pgbouncer in front). Each
    # connection is checked before it is lent (CONN_HEALTH_CHECKS), so a restarted server
    # costs no failed request. docs/decisions/0031-write-path.md.
    DATABASE_POOL_SIZE = env.int("DATABASE_POOL_SIZE", default=10)
    DATABASE_POOL_TIMEOUT = env.float("DATABASE_POOL_TIMEOUT", default=10.0)
    if DATABASE_POOL_SIZE < 0 or DATABASE_POOL_TIMEOUT <= 0:
        raise ImproperlyConfigured(
            "DATABASE_POOL_SIZE must be 0 (no pool) or more, and DATABASE_POOL_TIMEOUT a "
            "positive number of seconds."
        )
    if DATABASE_POOL_SIZE and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": min(2, DATABASE_POOL_SIZE),
            "max_size": DATABASE_POOL_SIZE,
            "timeout": DATABASE_POOL_TIMEOUT,
        }
else:
    VAR_DIR.mkdir(exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "agora.sqlite3",
            # A file, not ":memory:", so the embedded worker thread sees what tests commit;
            # one per process, so two test runs on one checkout do not share it.
            "TEST": {"NAME": VAR_DIR / f"test-agora-{os.getpid()}.sqlite3"},
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers go on while one writer writes; IMMEDIATE takes the write
        # lock at BEGIN so two writers queue on the busy timeout instead of failing
        # with "database is locked" halfway through a transaction.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer, cache, Celery --------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    _redis = urlsplit(REDIS_URL)
    if _redis.scheme not in {"redis", "rediss", "unix"} or not (_redis.hostname or _redis.path):
        raise ImproperlyConfigured(
            f"REDIS_URL={REDIS_URL!r} is not a Redis address: write redis://host:6379/0, "
            "rediss://host:6380/0 (TLS) or unix:///path/to/redis.sock."
        )
    if _redis.scheme != "unix" and not _redis.hostname:
        raise ImproperlyConfigured(
            f"REDIS_URL={REDIS_URL!r} names no host: write redis://host:6379/0."
        )
# Explicit pool size: a connect storm of thousands of sockets must queue for a
# connection, not fail with "Too many connections".
REDIS_MAX_CONNECTIONS = env.int("REDIS_MAX_CONNECTIONS", default=200)

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": "agora:channels"},
        }
    }
    # One Redis, two behaviours when it is down (config/cache.py): "default" guards
    # accounts and fails closed; "degradable" serves uses that may fail open.
    _redis_cache = {
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "agora",
        "OPTIONS": {
            "max_connections": REDIS_MAX_CONNECTIONS,
            "socket_connect_timeout": 1,
            "socket_timeout": 2,
        },
    }
    CACHES = {
        "default": {"BACKEND": "config.cache.FailClosedRedisCache", **_redis_cache},
        "degradable": {"BACKEND": "config.cache.ResilientRedisCache", **_redis_cache},
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # Same LOCATION: one in-memory store behind both names, as one Redis is behind both.
    _memory_cache: dict[str, Any] = {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "agora",
    }
    CACHES = {"default": _memory_cache, "degradable": _memory_cache}

# The anonymous page cache (config/page_cache.py): the most seconds a copy of a public page
# is served. Copies are dropped by the domain after each change that shows; this only
# bounds their age. 0 turns the cache off.
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=5)
if PAGE_CACHE_SECONDS < 0:
    raise ImproperlyConfigured("PAGE_CACHE_SECONDS must be 0 (off) or more seconds.")

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://localhost/")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL or "cache+memory://")
# Embedded: no broker server, so the web process runs the worker and beat in threads.
CELERY_EMBEDDED_WORKER = env.bool(
    "CELERY_EMBEDDED_WORKER", default=CELERY_BROKER_URL.startswith("memory://")
)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis redelivers a task a worker took but never acknowledged (killed mid-task) once
# this many seconds have passed since delivery: longer than the longest task.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
if CELERY_VISIBILITY_TIMEOUT < 1:
    raise ImproperlyConfigured("CELERY_VISIBILITY_TIMEOUT must be a positive number of seconds.")
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
# A request that queues a job must not wait on a Redis that is down: Celery's Redis result
# backend retried its reconnection 20 times, a second apart, inside every send_task (the
# organiser's "close" took 20 s). Bounded like the broker's own publish retries (about a
# second), after which the enqueue fails, is logged, and the write stands; the periodic
# sweeps queue the job again (docs/deploy.md, "Faults").
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "retry_policy": {
        "max_retries": 2,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.5,
    }
}
CELERY_TASK_DEFAULT_QUEUE = "agora"
CELERY_TIMEZONE = "UTC"
# How often the worker writes its heartbeat, which /health/ reads (config/health.py).
WORKER_HEARTBEAT_SECONDS = env.float("WORKER_HEARTBEAT_SECONDS", default=30.0)
# Static schedule (django-celery-beat does not support Django 6.1 yet).
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {
        "task": "config.tasks.record_worker_heartbeat",
        "schedule": WORKER_HEARTBEAT_SECONDS,
    },
    "advance-due-consultations": {
        "task": "consultation.tasks.advance_due_consultations",
        # How late a consultation may open or close (seconds); the fault tests shorten it.
        "schedule": env.float("LIFECYCLE_CHECK_SECONDS", default=30.0),
    },
    # The minute pass reads what changed since the last one; the full check reads every
    # ballot, in chunks (consultation.live.repair, decision 0040).
    "reconcile-live-counters": {
        "task": "consultation.tasks.reconcile_live_counters",
        "schedule": 60.0,
    },
    "reconcile-live-counters-fully": {
        "task": "consultation.tasks.reconcile_live_counters_fully",
        "schedule": env.float("FULL_RECONCILE_SECONDS", default=3600.0),
    },
    "purge-unverified-accounts": {
        "task": "accounts.tasks.purge_unverified_accounts",
        "schedule": 3600.0,
    },
    "compute-provisional-results": {
        "task": "consultation.tasks.compute_provisional_results",
        "schedule": env.float("PROVISIONAL_RESULTS_SECONDS", default=300.0),
    },
    # "Closes in 48 hours", once per consultation (consultation.notices.fanout).
    "notify-closing-soon": {
        "task": "consultation.tasks.notify_closing_soon",
        "schedule": 600.0,
    },
    # Notices' e-mails whose task was lost (consultation.notices.delivery.sweep).
    "sweep-notice-emails": {
        "task": "consultation.tasks.sweep_notice_emails",
        "schedule": 900.0,
    },
    # Sends each digest once it is due (consultation.notices.digests): a run finding
    # nothing due does nothing, so the period only bounds how late a digest may be.
    "send-notice-digests": {
        "task": "consultation.tasks.send_notice_digests",
        "schedule": env.float("NOTICE_DIGEST_CHECK_SECONDS", default=600.0),
    },
    # The API's idempotency keys past their 24 hours (consultation.api.idempotency).
    "purge-idempotency-keys": {
        "task": "consultation.tasks.purge_idempotency_keys",
        "schedule": 3600.0,
    },
}

# --- E-mail (Django 6.1 MAILERS) ---------------------------------------------

DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Agora <noreply@agora.invalid>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)


def _mailer_from_url(url: str) -> dict:
    """Map EMAIL_URL (smtp://, smtp+tls://, smtp+ssl://, console:, file:///dir) to a mailer."""
    parts = urlsplit(url)
    scheme = parts.scheme
    if scheme == "console":
        # Readable text, not quoted-printable: links stay whole (config/mail.py).
        return {"BACKEND": "config.mail.ReadableConsoleBackend"}
    if scheme == "file":
        return {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": parts.path},
        }
    if scheme in {"smtp", "smtp+tls", "smtp+ssl"}:
        from urllib.parse import unquote

        return {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": parts.hostname or "localhost",
                "port": parts.port or {"smtp": 25, "smtp+tls": 587, "smtp+ssl": 465}[scheme],
                "username": unquote(parts.username or ""),
                "password": unquote(parts.password or ""),
                "use_tls": scheme == "smtp+tls",
                "use_ssl": scheme == "smtp+ssl",
                "timeout": 20,
            },
        }
    raise ValueError(
        f"EMAIL_URL: unsupported scheme {scheme!r} (smtp, smtp+tls, smtp+ssl, console, file)"
    )


EMAIL_URL = env.str("EMAIL_URL", default="console:")
MAILERS = {"default": _mailer_from_url(EMAIL_URL)}

# --- Authentication -------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Django's and allauth's, reading the session's user with one hand-written
    # statement (accounts/backends.py).
    "accounts.backends.ModelBackend",
    "accounts.backends.AuthenticationBackend",
]
# Django's database sessions, read with one hand-written statement (accounts/sessions.py).
SESSION_ENGINE = "accounts.sessions"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupForm"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False  # link scanners must not confirm addresses
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
# allauth's own rate limits (its defaults, spelled out so they are reviewed here).
ACCOUNT_RATE_LIMITS = {
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reset_password": "20/m/ip,5/m/key",
    "reauthenticate": "10/m/user",
    "reset_password_from_key": "20/m/ip",
    "signup": "20/m/ip",
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "confirm_email": "1/3m/key",
    # Ours, through allauth's limiter so it fails closed like the others (config/cache.py):
    # confirming an account deletion takes a password or a TOTP code; guessing is slow.
    "confirm_deletion": "5/15m/user",
}
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SITE_NAME}] "
UNVERIFIED_ACCOUNT_RETENTION_DAYS = env.int("UNVERIFIED_ACCOUNT_RETENTION_DAYS", default=7)

MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = SITE_NAME
# TOTP and recovery-code secrets are encrypted at rest (accounts/mfa.py, decision 0022).
MFA_ADAPTER = "accounts.mfa.MFAAdapter"
MFA_FORMS = {
    "authenticate": "accounts.mfa.AuthenticateForm",
    "reauthenticate": "accounts.mfa.ReauthenticateForm",
}


def _fernet_keys(name: str) -> list[str]:
    from cryptography.fernet import Fernet

    listed: list[str] = env.list(name, default=[])
    keys = [key.strip() for key in listed if key.strip()]
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            # The key itself stays out of the message: it would end up in logs.
            raise ImproperlyConfigured(
                f"{name}: key number {position} is not a Fernet key (32 bytes, URL-safe "
                'base64); generate one with: python -c "from cryptography.fernet import '
                'Fernet; print(Fernet.generate_key().decode())"'
            ) from None
    return keys


# Comma-separated; the first encrypts, all decrypt. Empty: a key derived from SECRET_KEY
# (and from each of SECRET_KEY_FALLBACKS), which still decrypts when this is set.
MFA_ENCRYPTION_KEYS = _fernet_keys("MFA_ENCRYPTION_KEYS")

SOCIALACCOUNT_ONLY = False
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # never merge into an account by e-mail alone
SOCIALACCOUNT_STORE_TOKENS = False

# OpenID Connect identity provider (FranceConnect-style), configured from the environment.
OIDC_ISSUER = env.str("OIDC_ISSUER", default="")
OIDC_CLIENT_ID = env.str("OIDC_CLIENT_ID", default="")
OIDC_CLIENT_SECRET = env.str("OIDC_CLIENT_SECRET", default="")
OIDC_NAME = env.str("OIDC_NAME", default="FranceConnect")
OIDC_SCOPES = env.list("OIDC_SCOPES", default=["openid", "email", "given_name", "family_name"])
OIDC_ACR_VALUES = env.str("OIDC_ACR_VALUES", default="")
OIDC_VERIFIES_IDENTITY = env.bool("OIDC_VERIFIES_IDENTITY", default=True)
# How the client secret reaches the token endpoint (allauth knows these two).
OIDC_TOKEN_AUTH_METHODS = ("client_secret_post", "client_secret_basic")
OIDC_TOKEN_AUTH_METHOD = env.str("OIDC_TOKEN_AUTH_METHOD", default="client_secret_post")
if OIDC_TOKEN_AUTH_METHOD not in OIDC_TOKEN_AUTH_METHODS:
    raise ImproperlyConfigured(
        f"OIDC_TOKEN_AUTH_METHOD={OIDC_TOKEN_AUTH_METHOD!r} is not supported: "
        f"use {' or '.join(OIDC_TOKEN_AUTH_METHODS)}."
    )
SOCIALACCOUNT_PROVIDERS = {}
if OIDC_ISSUER:
    if not (OIDC_CLIENT_ID and OIDC_CLIENT_SECRET):
        raise ImproperlyConfigured(
            "OIDC_ISSUER is set: OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are required."
        )
    SOCIALACCOUNT_PROVIDERS["agora_oidc"] = {
        "APPS": [
            {
                "provider_id": "idp",
                "name": OIDC_NAME,
                "client_id": OIDC_CLIENT_ID,
                "secret": OIDC_CLIENT_SECRET,
                "settings": {
                    "server_url": OIDC_ISSUER,
                    "scope": OIDC_SCOPES,
                    "auth_params": {"acr_values": OIDC_ACR_VALUES} if OIDC_ACR_VALUES else {},
                    "token_auth_method": OIDC_TOKEN_AUTH_METHOD,
                },
            }
        ]
    }

# --- Internationalisation -------------------------------------------------

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Paris")
USE_I18N = True
USE_TZ = True
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_SAMESITE: Literal["Lax"] = "Lax"

# --- Static files -----------------------------------------------------------

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "servestatic.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Uploaded and generated files (open-data exports) ------------------------

MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
# Absolute address of the site, for links in e-mails sent by background jobs.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# Small-group protection (docs/decisions/0012-open-data-and-publication.md): ballot-level
# open data of a kind with fewer participants than this is withheld, and so is the
# per-item breakdown of an item with fewer responses.
OPEN_DATA_MIN_GROUP = env.int("OPEN_DATA_MIN_GROUP", default=10)
if OPEN_DATA_MIN_GROUP < 1:
    raise ImproperlyConfigured("OPEN_DATA_MIN_GROUP must be at least 1.")
# The licence of every published version's files, one per site (docs/open-data.md, decision
# 0036): an SPDX identifier among those of consultation.counting.opendata.package.LICENCES.
OPEN_DATA_LICENCE = env.str("OPEN_DATA_LICENCE", default="etalab-2.0")
if OPEN_DATA_LICENCE not in ("etalab-2.0", "ODbL-1.0", "CC-BY-4.0", "CC0-1.0"):
    raise ImproperlyConfigured(
        "OPEN_DATA_LICENCE must be one of etalab-2.0, ODbL-1.0, CC-BY-4.0, CC0-1.0."
    )

# Moderation (consultation.moderation, docs/moderation.md). Reports a person may send in
# an hour; an account younger than MODERATION_NEW_ACCOUNT_HOURS posts no links and at
# most MODERATION_NEW_ACCOUNT_COMMENTS_PER_HOUR comments an hour; the same text posted
# again by one person within MODERATION_REPEAT_HOURS is held for review.
MODERATION_REPORTS_PER_HOUR = env.int("MODERATION_REPORTS_PER_HOUR", default=20)
MODERATION_NEW_ACCOUNT_HOURS = env.int("MODERATION_NEW_ACCOUNT_HOURS", default=24)
MODERATION_NEW_ACCOUNT_COMMENTS_PER_HOUR = env.int(
    "MODERATION_NEW_ACCOUNT_COMMENTS_PER_HOUR", default=5
)
MODERATION_REPEAT_HOURS = env.int("MODERATION_REPEAT_HOURS", default=24)

# Notices' e-mails (consultation.notices.delivery): a claim older than this belongs to a
# worker that died, and its notices are sent by the next one.
NOTICE_EMAIL_LEASE_SECONDS = env.int("NOTICE_EMAIL_LEASE_SECONDS", default=300)
# The pace of notices' e-mails for the whole site, every worker together (an SMTP relay's
# quota): at most this many a second, 0 = as fast as the server takes them. They go in
# batches of NOTICE_EMAIL_BATCH, one SMTP connection each (docs/performance.md).
NOTICE_EMAILS_PER_SECOND = env.float("NOTICE_EMAILS_PER_SECOND", default=0.0)
NOTICE_EMAIL_BATCH = env.int("NOTICE_EMAIL_BATCH", default=100)
if NOTICE_EMAILS_PER_SECOND < 0 or NOTICE_EMAIL_BATCH < 1 or NOTICE_EMAIL_LEASE_SECONDS < 1:
    raise ImproperlyConfigured(
        "NOTICE_EMAILS_PER_SECOND must be 0 (no limit) or more, NOTICE_EMAIL_BATCH and "
        "NOTICE_EMAIL_LEASE_SECONDS at least 1."
    )
# Digests (consultation.notices.digests) go at this hour of the site's time zone: daily
# ones every day, weekly ones on this weekday (0 = Monday).
NOTICE_DIGEST_HOUR = env.int("NOTICE_DIGEST_HOUR", default=7)
NOTICE_DIGEST_WEEKDAY = env.int("NOTICE_DIGEST_WEEKDAY", default=0)
if not 0 <= NOTICE_DIGEST_HOUR <= 23 or not 0 <= NOTICE_DIGEST_WEEKDAY <= 6:
    raise ImproperlyConfigured(
        "NOTICE_DIGEST_HOUR must be 0 to 23 and NOTICE_DIGEST_WEEKDAY 0 (Monday) to 6."
    )
for _name in ("MODERATION_REPORTS_PER_HOUR", "MODERATION_NEW_ACCOUNT_COMMENTS_PER_HOUR"):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1.")

# --- Security -------------------------------------------------------------

HTTPS = env.bool("HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=HTTPS)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS: list[str] = []

# Proxies of ours in front of the ASGI server (config/client_ip.py). 0: none, so
# X-Forwarded-For is ignored and the client is the socket's peer; N: the N-th address
# from the right of X-Forwarded-For. Our write limits and allauth's use it alike.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured(
        f"TRUSTED_PROXY_COUNT={TRUSTED_PROXY_COUNT} is not a number of proxies: "
        "write 0 (no proxy) or how many of your proxies stand in front of Agora."
    )
RATELIMIT_IP_META_KEY = "config.client_ip.client_ip"
# allauth asks our adapter (accounts/adapters.py), which asks config.client_ip; its own
# reading of the header is told the same count, should anything bypass the adapter.
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
# X-Forwarded-Proto, likewise, is believed only from a proxy of ours: a client talking to
# the server directly must not declare its own request secure.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXY_COUNT else None

# Request bodies larger than this get a 413 before they are read (config/body_limit.py).
# The largest legitimate one is an organiser's import file (1 MiB at most,
# consultation/organising/importing.py) inside a form. Django's own limits are aligned: a body that
# got through is parsed in memory, not refused again nor spooled to disk.
MAX_REQUEST_BODY_BYTES = env.int("MAX_REQUEST_BODY_BYTES", default=2 * 1024 * 1024)
if MAX_REQUEST_BODY_BYTES < 1:
    raise ImproperlyConfigured(
        f"MAX_REQUEST_BODY_BYTES={MAX_REQUEST_BODY_BYTES} is not a size: write a number of "
        "bytes, such as 2097152 (2 MiB; imports need a little more than 1 MiB)."
    )
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES

# Load shedding (config/admission.py): HTTP requests served at once by one process; the next
# wait up to REQUEST_QUEUE_SECONDS for a place, then are answered 503 with Retry-After.
# 8: under the pool's DATABASE_POOL_SIZE, so a request let in seldom waits for a connection;
# more threads in one process only fight over the interpreter (docs/performance.md).
MAX_CONCURRENT_REQUESTS = env.int("MAX_CONCURRENT_REQUESTS", default=8)
REQUEST_QUEUE_SECONDS = env.float("REQUEST_QUEUE_SECONDS", default=2.0)
if MAX_CONCURRENT_REQUESTS < 1 or REQUEST_QUEUE_SECONDS < 0:
    raise ImproperlyConfigured(
        "MAX_CONCURRENT_REQUESTS must be 1 or more (requests at once per process), and "
        "REQUEST_QUEUE_SECONDS 0 or more (how long the next ones may wait for a place)."
    )

# Content Security Policy through Django's built-in middleware: no inline scripts or
# styles, nothing from another host. The OIDC provider is allowed as a form target
# because the "log in with…" button posts to us and is redirected there.
_form_action: list[str] = [CSP.SELF]
if OIDC_ISSUER:
    _issuer = urlsplit(OIDC_ISSUER)
    _form_action.append(f"{_issuer.scheme}://{_issuer.netloc}")
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": _form_action,
}

# --- Logging --------------------------------------------------------------

LOG_LEVEL = env.log_level("LOG_LEVEL", default=logging.INFO)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
