"""A notice's facts worded in the active language: the title and the lines shown on the
notices page and in the e-mail (the caller sets the language: the reader's).

Kinds worded elsewhere (the audience notices) plug in with ``register``: this module then
asks their functions for the title and the lines of a notice of that kind.
"""

from collections.abc import Callable
from typing import Any

from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from consultation.models import Decision, Notice, Report, Rule


def _rule(data: dict[str, Any]) -> str:
    code = data.get("rule", "")
    label = Rule(code).label if code in Rule.values else code
    return _("%(rule)s (rule %(number)s)") % {"rule": label, "number": data.get("rule_number")}


def _action(action: str) -> str:
    return str(Decision.Action(action).label) if action in Decision.Action.values else action


_REGISTERED: dict[str, tuple[Callable[[Notice], str], Callable[[Notice], list[str]]]] = {}


def register(
    kind: str, *, title: Callable[[Notice], str], lines: Callable[[Notice], list[str]]
) -> None:
    """Word notices of ``kind`` with these functions (called in the reader's language)."""
    _REGISTERED[kind] = (title, lines)


def _localized(data: dict[str, Any], field: str) -> str:
    """A text stored with its English version (``<field>_en``), in the active language."""
    if (get_language() or "fr").startswith("en") and data.get(f"{field}_en"):
        return str(data[f"{field}_en"])
    return str(data.get(field) or "")


def _debate_title(notice: Notice) -> str:
    data = notice.data
    if notice.kind == Notice.Kind.REPLY:
        if data.get("to") == "follower":
            return _("New reply in a thread you follow")
        return _("Someone replied to your comment")
    count = int(data.get("count") or 1)
    return ngettext(
        "%(count)d person found your comment useful",
        "%(count)d people found your comment useful",
        count,
    ) % {"count": count}


def link_label(notice: Notice) -> str:
    """What the e-mail's link leads to, in words."""
    if notice.kind == Notice.Kind.REPLY:
        return _("Read the reply")
    if notice.kind == Notice.Kind.USEFUL:
        return _("See your comment")
    if notice.kind in (Notice.Kind.MODERATION, Notice.Kind.APPEAL, Notice.Kind.REPORT):
        return _("Details, and the form to appeal where you may")
    return _("See the details")


def title(notice: Notice) -> str:
    data = notice.data
    if notice.kind in _REGISTERED:
        return _REGISTERED[notice.kind][0](notice)
    if notice.kind in (Notice.Kind.REPLY, Notice.Kind.USEFUL):
        return _debate_title(notice)
    if notice.kind == Notice.Kind.MODERATION:
        return {
            Decision.Action.HIDE: _("Your comment was hidden by moderation"),
            Decision.Action.RESTORE: _("Your comment is visible again"),
            Decision.Action.DISMISS: _("Your comment was reviewed and stays visible"),
            Decision.Action.LOCK: _("A thread you started was locked"),
            Decision.Action.UNLOCK: _("A thread you started was unlocked"),
            Decision.Action.WARN: _("You received a moderation warning"),
            Decision.Action.SUSPEND: _("Your participation was suspended"),
            Decision.Action.LIFT: _("Your suspension was lifted"),
        }.get(data.get("action"), _("A moderation decision concerns you"))
    if notice.kind == Notice.Kind.APPEAL:
        granted = data.get("action") == Decision.Action.APPEAL_GRANTED
        if data.get("role") == "reporter":
            return (
                _("An appeal reversed a decision on a comment you reported")
                if granted
                else _("An appeal upheld a decision on a comment you reported")
            )
        return _("Your appeal was granted") if granted else _("Your appeal was rejected")
    if notice.kind == Notice.Kind.REPORT:
        if data.get("status") == Report.Status.OPEN:
            return _("Your report was received")
        if data.get("status") == Report.Status.UPHELD:
            return _("The comment you reported was hidden")
        return _("The comment you reported was reviewed and stays visible")
    return _("Notice")


def lines(notice: Notice) -> list[str]:
    """The facts, one sentence each: what, under which rule, the note, what to do next."""
    data = notice.data
    if notice.kind in _REGISTERED:
        return _REGISTERED[notice.kind][1](notice)
    out = []
    if data.get("consultation_title"):
        out.append(_("Consultation: %(title)s") % {"title": data["consultation_title"]})
    if data.get("item_title"):
        out.append(_("Item: %(title)s") % {"title": _localized(data, "item_title")})
    if data.get("rule"):
        out.append(_("Rule: %(rule)s") % {"rule": _rule(data)})
    if data.get("action") and notice.kind != Notice.Kind.MODERATION:
        out.append(_("Decision: %(action)s") % {"action": _action(data["action"])})
    if data.get("note"):
        out.append(_("Moderator's note: %(note)s") % {"note": data["note"]})
    if data.get("suspended_until"):
        out.append(_("Until: %(date)s") % {"date": data["suspended_until_display"]})
    elif data.get("action") == Decision.Action.SUSPEND:
        out.append(_("Until an appeal or a moderator lifts it."))
    if data.get("appealable"):
        out.append(
            _(
                "You may appeal this decision once, with a short text: someone other than "
                "the moderator who decided will answer, with a reason."
            )
        )
    return out
