"""The session store: Django's database sessions, read with one hand-written statement.

Every signed-in request and every signed-in websocket connect reads its session. The
ORM's ``Session.objects.get(session_key=…, expire_date__gt=now)`` spent most of its time
building the query (docs/performance.md, "Reconnect storms"); the statement here asks the
same. Writing, expiry and clearing are Django's, unchanged.

A session that names the authentication backend by the path used before
``accounts.backends`` (Django's or allauth's own) is read as naming its replacement, so
nobody is signed out by the change.
"""

from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.backends import REPLACED
from config import rows

_SESSION = rows.Columns(Session, "s")
_SESSION_SQL = (
    f'SELECT {_SESSION.select} FROM "{Session._meta.db_table}" s'  # noqa: S608 (names: the model's own)
    ' WHERE s."session_key" = %s AND s."expire_date" > %s'
)


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        key = self.session_key  # None when it is not a plausible key
        row = (
            None
            if key is None
            else rows.fetch_one(_SESSION_SQL, [key, rows.moment(timezone.now())])
        )
        if row is None:
            self._session_key = None
            return None
        return _SESSION.instance(row)

    def load(self):
        data = super().load()
        backend = data.get(BACKEND_SESSION_KEY)
        if backend in REPLACED:
            data[BACKEND_SESSION_KEY] = REPLACED[backend]
        return data

    async def aload(self):
        data = await super().aload()
        backend = data.get(BACKEND_SESSION_KEY)
        if backend in REPLACED:
            data[BACKEND_SESSION_KEY] = REPLACED[backend]
        return data
