"""The authentication backends: Django's and allauth's, reading the signed-in user with
one hand-written statement (config/rows.py).

Every signed-in request and every signed-in websocket connect asks ``get_user`` for the
session's user: through the ORM, building that one query cost more than reading the row
(docs/performance.md, "Reconnect storms"). What they check is unchanged: the user exists
and may authenticate (``is_active``), then Django verifies the session's hash of the
password, as before.

Sessions made before these classes named the backend by Django's or allauth's own path:
``accounts.sessions`` reads those as naming the class here that replaces it.
"""

from allauth.account import auth_backends as allauth_backends
from django.contrib.auth import backends as django_backends

from accounts.models import User
from config import rows

_USER = rows.Columns(User, "u")
_USER_SQL = f'SELECT {_USER.select} FROM "{User._meta.db_table}" u WHERE u."id" = %s'  # noqa: S608 (names: the model's own)


def _read(backend: django_backends.ModelBackend, user_id: object) -> User | None:
    try:
        pk = User._meta.pk.to_python(user_id)
    except Exception:  # a session holding something that is not an id: nobody
        return None
    if not rows.is_id(pk):
        return None
    row = rows.fetch_one(_USER_SQL, [pk])
    if row is None:
        return None
    user = _USER.instance(row)
    return user if backend.user_can_authenticate(user) else None


class ModelBackend(django_backends.ModelBackend):
    def get_user(self, user_id):
        return _read(self, user_id)


class AuthenticationBackend(allauth_backends.AuthenticationBackend):
    def get_user(self, user_id):
        return _read(self, user_id)


# What a session made before names, and what now answers for it.
REPLACED = {
    "django.contrib.auth.backends.ModelBackend": "accounts.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend": (
        "accounts.backends.AuthenticationBackend"
    ),
}
