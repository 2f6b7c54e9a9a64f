"""The authentication backends: Django's and allauth's, reading the signed-in user with
one hand-written statement (config/rows.py).

Every signed-in request and every signed-in websocket connect asks ``get_user`` for the
session's user: through the ORM, building that one query cost more than reading the row
(docs/performance.md, "Reconnect storms"). What they check is unchanged: the user exists
and may authenticate (``is_active``), then Django verifies the session's hash of the
password, as before. The same statement says whether the user has a verified primary
address, which every participation check asks next (``roles.has_verified_email``).

Sessions made before these classes named the backend by Django's or allauth's own path:
``accounts.sessions`` reads those as naming the class here that replaces it.
"""

from allauth.account import auth_backends as allauth_backends
from allauth.account.models import EmailAddress
from django.contrib.auth import backends as django_backends

from accounts import roles
from accounts.models import User
from config import rows

# The user, and whether they have a verified primary address (what every participation
# check asks next: ``roles.has_verified_email``), in one statement, as for a token.
_USER = rows.Columns(User, "u")
_USER_SQL = (
    f"SELECT {_USER.select}, EXISTS("  # noqa: S608 (names: the models' own)
    f' SELECT 1 FROM "{EmailAddress._meta.db_table}" e'
    ' WHERE e."user_id" = u."id" AND e."verified" = %s AND e."primary" = %s)'
    f' FROM "{User._meta.db_table}" u WHERE u."id" = %s'
)


def _read(backend: django_backends.ModelBackend, user_id: object) -> User | None:
    try:
        pk = User._meta.pk.to_python(user_id)
    except Exception:  # a session holding something that is not an id: nobody
        return None
    if not rows.is_id(pk):
        return None
    row = rows.fetch_one(_USER_SQL, [True, True, pk])
    if row is None:
        return None
    user = _USER.instance(row)
    if not backend.user_can_authenticate(user):
        return None
    roles.remember_verified_email(user, bool(row[len(_USER)]))
    return user


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
