"""How each person wants to hear of each kind of notice.

Sensible defaults: what concerns the person most (replies to them, moderation decisions
about them and appeals, results of what they took part in) by e-mail at once, the rest on
the site. Moderation decisions and appeal outcomes are due process: a person may stop
their e-mails, never the notice on the site.
"""

from django.db import transaction

from accounts.models import User
from consultation.models import Channel, Notice, NoticeSettings

Kind = Notice.Kind

DEFAULTS: dict[str, str] = {
    Kind.REPLY: Channel.EMAIL,
    Kind.USEFUL: Channel.SITE,
    Kind.MODERATION: Channel.EMAIL,
    Kind.APPEAL: Channel.EMAIL,
    Kind.REPORT: Channel.SITE,
    Kind.OPENED: Channel.SITE,
    Kind.CLOSING: Channel.SITE,
    Kind.CLOSED_EARLY: Channel.SITE,
    Kind.RESULTS: Channel.EMAIL,
    Kind.PERSONAL_RESULTS: Channel.EMAIL,
}
# Kinds the person cannot silence on the site (they may still stop the e-mails).
ALWAYS_ON_SITE = {Kind.MODERATION, Kind.APPEAL}


def settings_of(user: User) -> NoticeSettings:
    """The person's settings row (created on first use)."""
    row, _created = NoticeSettings.objects.get_or_create(user=user)
    return row


def channel(user: User, kind: str, row: NoticeSettings | None = None) -> str:
    """The channel ``user`` chose for ``kind`` (or its default)."""
    if row is None:
        row = NoticeSettings.objects.filter(user=user).first()
    chosen = (row.channels if row is not None else {}).get(kind) or DEFAULTS.get(kind, Channel.SITE)
    if chosen not in Channel.values:
        chosen = DEFAULTS.get(kind, Channel.SITE)
    if chosen == Channel.NEVER and kind in ALWAYS_ON_SITE:
        return Channel.SITE
    return chosen


def channels(user: User) -> dict[str, str]:
    """Every kind with the channel in force for ``user``."""
    row = NoticeSettings.objects.filter(user=user).first()
    return {kind: channel(user, kind, row) for kind in Kind.values}


def email_state(user: User, kind: str, row: NoticeSettings | None = None) -> str | None:
    """Where a new notice's e-mail starts, or None when no notice is to be written."""
    chosen = channel(user, kind, row)
    if chosen == Channel.NEVER:
        return None
    if not user.email:
        return Notice.Email.NONE
    starts: dict[str, str] = {
        Channel.EMAIL: Notice.Email.PENDING,
        Channel.DAILY: Notice.Email.DIGEST,
        Channel.WEEKLY: Notice.Email.DIGEST,
    }
    return starts.get(chosen, Notice.Email.NONE)


def choices_for(kind: str) -> list[str]:
    """The channels a person may choose for ``kind`` (never "never" for due process)."""
    return [c for c in Channel.values if not (c == Channel.NEVER and kind in ALWAYS_ON_SITE)]


@transaction.atomic
def save(user: User, chosen: dict[str, str], *, show_own_choices: bool | None = None) -> None:
    """Record the person's channels (kinds left out keep theirs; a channel a kind may not
    have is refused by the form before it reaches here, and ignored if it does)."""
    row = NoticeSettings.objects.select_for_update().filter(user=user).first()
    if row is None:
        row = settings_of(user)
    channels_now = dict(row.channels)
    for kind, value in chosen.items():
        if kind in Kind.values and value in choices_for(kind):
            channels_now[kind] = value
    row.channels = channels_now
    fields = ["channels"]
    if show_own_choices is not None:
        row.show_own_choices = show_own_choices
        fields.append("show_own_choices")
    row.save(update_fields=fields)


def stop_emails(user: User, kinds: list[str]) -> list[str]:
    """Put these kinds "on the site only" (the unsubscribe link): the e-mails stop, the
    notices stay on the site. Returns the kinds that changed."""
    current = channels(user)
    changed = [k for k in kinds if k in Kind.values and current[k] != Channel.SITE]
    changed = [k for k in changed if current[k] != Channel.NEVER]  # already silent
    if changed:
        save(user, dict.fromkeys(changed, Channel.SITE))
    return changed
