"""One-click unsubscribe (RFC 8058): a signed link in every notice e-mail that stops that
kind of e-mail for that person, with no login.

The token is signed with the site's key (``django.core.signing``, its own salt, dated) and
names the person and what the e-mail was about: a kind of notice, or a digest (every kind
the person gets in it). Using it puts those kinds "on the site only": the e-mails stop, the
notices stay on the notices page (for moderation and appeal outcomes, due process, that is
the only choice anyway). Nothing else about the person can be changed with it.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import User
from consultation.models import Channel, Notice
from consultation.notices import preferences

SALT = "agora.notices.unsubscribe"
# A year: people unsubscribe from old e-mails too; the link grants nothing but this.
MAX_AGE_SECONDS = 365 * 24 * 3600
DIGESTS = {"digest:daily": Channel.DAILY, "digest:weekly": Channel.WEEKLY}


class BadToken(Exception):
    """The link was altered, is too old, or names an account or kind that is not there."""


@dataclass(frozen=True)
class Subscription:
    user: User
    what: str  # a kind of notice, or one of DIGESTS

    @property
    def kinds(self) -> list[str]:
        """The kinds of notice the link stops e-mailing."""
        if self.what in DIGESTS:
            chosen = preferences.channels(self.user)
            return [kind for kind, channel in chosen.items() if channel == DIGESTS[self.what]]
        return [self.what]

    def describe(self) -> str:
        """What the link stops, in words (the active language)."""
        if self.what == "digest:daily":
            return _("your daily digest of notifications")
        if self.what == "digest:weekly":
            return _("your weekly digest of notifications")
        return _("the e-mails about “%(kind)s”") % {"kind": Notice.Kind(self.what).label}


def make_token(user: User, what: str) -> str:
    return signing.dumps({"u": user.pk, "k": what}, salt=SALT, compress=True)


def link(user: User, what: str) -> str:
    """The absolute unsubscribe address for ``user`` and ``what``."""
    path = reverse("notices:unsubscribe", kwargs={"token": make_token(user, what)})
    return settings.SITE_URL + path


def read(token: str) -> Subscription:
    try:
        payload = signing.loads(token, salt=SALT, max_age=MAX_AGE_SECONDS)
    except signing.BadSignature as error:  # SignatureExpired is one
        raise BadToken(str(error)) from error
    if not isinstance(payload, dict):
        raise BadToken("not a subscription")
    user_id, what = payload.get("u"), payload.get("k")
    if not isinstance(user_id, int) or not isinstance(what, str):
        raise BadToken("not a subscription")
    if what not in DIGESTS and what not in Notice.Kind.values:
        raise BadToken("unknown kind")
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise BadToken("no such account")
    return Subscription(user, what)


def apply(subscription: Subscription) -> list[str]:
    """Stop the e-mails the link names: those kinds go "on the site only". Returns the
    kinds that changed (none when it was done already: using a link twice is harmless)."""
    return preferences.stop_emails(subscription.user, subscription.kinds)
