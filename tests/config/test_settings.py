"""One env-driven settings file: loud on nonsense, deploy checks clean in production."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "k" * 20 + "-production-like-secret-with-enough-entropy-8c1f",
    "ALLOWED_HOSTS": "consultation.example.org",
    "DATABASE_URL": "postgres://agora@db.example.org:5432/agora",
    "REDIS_URL": "redis://cache.example.org:6379/0",
    "EMAIL_URL": "smtp+tls://agora:secret@smtp.example.org:587",
    "SITE_URL": "https://consultation.example.org",
}


def manage(*args, env):
    # Start from this process's environment minus everything the test decides.
    base = {k: v for k, v in os.environ.items() if k not in {*PRODUCTION_ENV, "HTTPS"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_deploy_checks_pass_with_production_variables():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_checks_warn_when_mail_goes_nowhere():
    env = {**PRODUCTION_ENV, "EMAIL_URL": "console:"}
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "agora.W001" in result.stdout + result.stderr


def test_deploy_checks_warn_when_links_in_e_mails_are_not_https():
    """RFC 8058's one-click unsubscribe needs an https address: SITE_URL must be one."""
    env = {**PRODUCTION_ENV, "SITE_URL": "http://consultation.example.org"}
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "agora.W002" in result.stdout + result.stderr
    assert "RFC 8058" in result.stdout + result.stderr


def test_nonsense_boolean_is_an_error_not_false():
    result = manage("check", env={**PRODUCTION_ENV, "DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DEBUG" in result.stderr


def test_missing_secret_key_refuses_to_start_without_debug():
    env = {**PRODUCTION_ENV, "SECRET_KEY": ""}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_unknown_email_url_scheme_is_an_error():
    result = manage("check", env={**PRODUCTION_ENV, "EMAIL_URL": "carrier-pigeon://x"})
    assert result.returncode != 0
    assert "EMAIL_URL" in result.stderr


def test_production_shape_uses_postgres_and_redis():
    code = (
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CHANNEL_LAYERS['default']['BACKEND'],"
        " s.CACHES['default']['BACKEND'], s.CACHES['degradable']['BACKEND'],"
        " s.CELERY_BROKER_URL, s.CELERY_EMBEDDED_WORKER,"
        " s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.SECURE_HSTS_SECONDS)"
    )
    result = manage("shell", "--no-imports", "-c", code, env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "channels_redis.core.RedisChannelLayer",
        "config.cache.FailClosedRedisCache",  # guards accounts (config/cache.py)
        "config.cache.ResilientRedisCache",
        "redis://cache.example.org:6379/0",
        "False",
        "True",
        "True",
        "31536000",
    ]


def test_embedded_default_needs_no_server():
    env = {"DEBUG": "true"}
    code = (
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CHANNEL_LAYERS['default']['BACKEND'],"
        " s.CACHES['default']['BACKEND'], s.CELERY_BROKER_URL, s.CELERY_EMBEDDED_WORKER,"
        " 'journal_mode=WAL' in s.DATABASES['default']['OPTIONS']['init_command'])"
    )
    result = manage("shell", "--no-imports", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "channels.layers.InMemoryChannelLayer",
        "django.core.cache.backends.locmem.LocMemCache",
        "memory://localhost/",
        "True",
        "True",
    ]


def test_csp_forbids_inline_scripts_and_third_party_hosts(client, db):
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy


def test_a_rate_that_is_not_a_rate_refuses_to_start():
    for nonsense in ("lots", "120", "120/week", "0/m", "/m", "120/m extra"):
        result = manage("check", env={**PRODUCTION_ENV, "WRITE_RATE_LIMIT": nonsense})
        assert result.returncode != 0, nonsense
        assert "ImproperlyConfigured" in result.stderr, nonsense
        assert "WRITE_RATE_LIMIT" in result.stderr and "is not a rate" in result.stderr


def test_rates_with_a_multiplier_are_accepted():
    code = "from django.conf import settings as s; print(s.WRITE_RATE_LIMIT)"
    result = manage(
        "shell", "--no-imports", "-c", code, env={**PRODUCTION_ENV, "WRITE_RATE_LIMIT": "500/15m"}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "500/15m"


def test_an_unknown_oidc_token_auth_method_refuses_to_start():
    env = {
        **PRODUCTION_ENV,
        "OIDC_ISSUER": "https://idp.example.org",
        "OIDC_CLIENT_ID": "agora",
        "OIDC_CLIENT_SECRET": "s3cret",
        "OIDC_TOKEN_AUTH_METHOD": "banana",
    }
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "OIDC_TOKEN_AUTH_METHOD='banana' is not supported" in result.stderr
    assert "client_secret_basic" in result.stderr
    result = manage("check", env={**env, "OIDC_TOKEN_AUTH_METHOD": "client_secret_basic"})
    assert result.returncode == 0, result.stderr


def test_a_redis_url_that_is_not_one_refuses_to_start():
    for nonsense in ("notaurl", "http://cache.example.org:6379/0", "redis://", "redis:///0"):
        result = manage("check", env={**PRODUCTION_ENV, "REDIS_URL": nonsense})
        assert result.returncode != 0, nonsense
        assert "ImproperlyConfigured" in result.stderr, nonsense
        assert "REDIS_URL" in result.stderr, nonsense
    for fine in ("rediss://:pw@cache.example.org:6380/1", "unix:///run/redis/redis.sock"):
        result = manage("check", env={**PRODUCTION_ENV, "REDIS_URL": fine})
        assert result.returncode == 0, (fine, result.stderr)


@pytest.mark.parametrize(("proxies", "header"), [("0", "None"), ("1", "HTTP_X_FORWARDED_PROTO")])
def test_x_forwarded_proto_is_believed_only_behind_a_proxy_of_ours(proxies, header):
    """Without a proxy, a client talking to the server directly must not be able to
    declare its own request secure (and so dodge the HTTPS redirect or the CSRF rules)."""
    code = "from django.conf import settings as s; print((s.SECURE_PROXY_SSL_HEADER or [None])[0])"
    env = {**PRODUCTION_ENV, "TRUSTED_PROXY_COUNT": proxies}
    result = manage("shell", "--no-imports", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [header]
