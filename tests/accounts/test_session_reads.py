"""The session and its user, read with hand-written statements (accounts/sessions.py,
accounts/backends.py), answer as Django's database sessions and backends did."""

from datetime import timedelta

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user
from django.contrib.sessions.models import Session
from django.test import RequestFactory
from django.utils import timezone

from accounts.sessions import SessionStore

pytestmark = pytest.mark.django_db

OLD_PATHS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]


def _session_of(user, backend):
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = backend
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session["note"] = "é"
    session.create()
    session.save()
    return session.session_key


def _user_of(key):
    request = RequestFactory().get("/")
    request.session = SessionStore(key)
    return get_user(request)


@pytest.mark.parametrize("backend", [*OLD_PATHS, "accounts.backends.ModelBackend"])
def test_a_session_is_read_whole_and_its_user_signed_in_whatever_backend_it_names(citizen, backend):
    key = _session_of(citizen, backend)
    session = SessionStore(key)
    assert session["note"] == "é" and session[SESSION_KEY] == str(citizen.pk)
    user = _user_of(key)
    assert user.is_authenticated and user.pk == citizen.pk and user.email == citizen.email


def test_no_user_for_an_expired_or_unknown_session_a_deactivated_or_changed_account(citizen):
    key = _session_of(citizen, OLD_PATHS[1])
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(1))
    assert not _user_of(key).is_authenticated
    assert not _user_of("x" * 32).is_authenticated
    assert not _user_of(None).is_authenticated

    key = _session_of(citizen, OLD_PATHS[1])
    citizen.set_password("un autre mot de passe 2026")
    citizen.save()
    assert not _user_of(key).is_authenticated  # the session's hash no longer matches

    key = _session_of(citizen, OLD_PATHS[1])
    type(citizen).objects.filter(pk=citizen.pk).update(is_active=False)
    assert not _user_of(key).is_authenticated
