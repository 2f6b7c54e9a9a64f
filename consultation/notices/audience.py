"""The audience notices: what happens to a consultation, told to the people who follow it
(it opens, it closes in 48 hours, it closes early, its results are published or a new
version of them) and, at each publication, to the people who took part (the personal
results). Their facts (``notice_for``), and their wording in the reader's language
(``title``, ``lines``, registered with ``wording``).

A notice of these kinds is written for many people at once (``notices.fanout``), once per
person and event: its ``key`` names the event (``closing:<consultation>``,
``results:<consultation>:v<version>``...), and the unique (user, key) lets a retried job
write nothing twice. The data keeps facts, never a sentence, and never how anyone voted.
"""

from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from consultation.models import Consultation, Notice, Publication
from consultation.notices import wording

Kind = Notice.Kind
OPENED, CLOSING, CLOSED_EARLY = Kind.OPENED, Kind.CLOSING, Kind.CLOSED_EARLY
RESULTS, PERSONAL_RESULTS = Kind.RESULTS, Kind.PERSONAL_RESULTS
KINDS = frozenset({OPENED, CLOSING, CLOSED_EARLY, RESULTS, PERSONAL_RESULTS})
# Told to the consultation's followers; PERSONAL_RESULTS to the people who took part.
FOLLOWER_KINDS = frozenset({OPENED, CLOSING, CLOSED_EARLY, RESULTS})
# "Closes in 48 hours": how long before closes_at the notice goes.
CLOSING_NOTICE_HOURS = 48


def key_for(kind: str, consultation_id: int, version: int | None = None) -> str:
    """The once-only key of an event: per consultation, and per version for results."""
    if kind in (RESULTS, PERSONAL_RESULTS):
        return f"{kind}:{consultation_id}:v{version}"
    return f"{kind}:{consultation_id}"


def notice_for(
    kind: str, consultation: Consultation, publication: Publication | None = None
) -> dict[str, Any]:
    """The facts every recipient's notice of this event shares: ``key``, ``data``, ``url``
    (the exact page: the consultation, or the published version's results)."""
    data: dict[str, Any] = {
        "consultation_title": consultation.title,
        "consultation_title_en": consultation.title_en,
    }
    url = consultation.get_absolute_url()
    version = None
    if kind in (OPENED, CLOSING):
        data["closes_at"] = consultation.closes_at.isoformat() if consultation.closes_at else None
    elif kind == CLOSED_EARLY:
        data["reason"] = consultation.closing_reason
    elif kind in (RESULTS, PERSONAL_RESULTS):
        if publication is None:
            raise ValueError(f"a {kind} notice needs its publication")
        version = publication.version
        data.update({"version": version, "publication": publication.pk, "note": publication.note})
        url = reverse(
            "consultation:results_version", kwargs={"slug": consultation.slug, "version": version}
        )
    else:
        raise ValueError(f"{kind} is not an audience notice")
    return {
        "kind": str(kind),
        "key": key_for(kind, consultation.pk, version),
        "data": data,
        "url": url,
    }


# --- wording (the caller sets the reader's language) -------------------------------------


def _english() -> bool:
    return (get_language() or "fr").startswith("en")


def consultation_title(data: dict[str, Any]) -> str:
    if _english() and data.get("consultation_title_en"):
        return str(data["consultation_title_en"])
    return str(data.get("consultation_title") or "")


def when(value: str | None) -> str:
    """A stored ISO date and time, in the site's time zone and the reader's format."""
    moment: datetime | None = parse_datetime(value) if value else None
    if moment is None:
        return ""
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def title(notice: Notice) -> str:
    data = notice.data
    name = consultation_title(data)
    version = int(data.get("version") or 1)
    if notice.kind == OPENED:
        return _("“%(title)s” is open: have your say") % {"title": name}
    if notice.kind == CLOSING:
        return _("“%(title)s” closes in less than 48 hours") % {"title": name}
    if notice.kind == CLOSED_EARLY:
        return _("“%(title)s” was closed before its planned date") % {"title": name}
    if notice.kind == RESULTS:
        if version > 1:
            return _("New version (%(version)d) of the results of “%(title)s”") % {
                "version": version,
                "title": name,
            }
        return _("The results of “%(title)s” are published") % {"title": name}
    if notice.kind == PERSONAL_RESULTS:
        if version > 1:
            return _("What became of your votes in “%(title)s” (results, version %(version)d)") % {
                "version": version,
                "title": name,
            }
        return _("What became of your votes in “%(title)s”") % {"title": name}
    return _("Notice")


def lines(notice: Notice) -> list[str]:
    """The facts, one sentence each (on the notices page and in the notice e-mail)."""
    data = notice.data
    out: list[str] = []
    if notice.kind in (OPENED, CLOSING):
        closes = when(data.get("closes_at"))
        if not closes:
            out.append(_("It has no closing date yet."))
        elif notice.kind == OPENED:
            out.append(_("You can take part until %(date)s.") % {"date": closes})
        else:
            out.append(
                _("It closes on %(date)s: there is still time to take part or to change your mind.")
                % {"date": closes}
            )
    elif notice.kind == CLOSED_EARLY:
        out.append(_("Its organisers closed it: votes, grades and rankings are no longer taken."))
        if data.get("reason"):
            out.append(_("Their reason: %(reason)s") % {"reason": data["reason"]})
    elif notice.kind == RESULTS:
        if data.get("note"):
            out.append(_("What changed in this version: %(note)s") % {"note": data["note"]})
        out.append(
            _(
                "The results page explains each counting method and gives the files to "
                "recount them yourself."
            )
        )
    elif notice.kind == PERSONAL_RESULTS:
        count = len(data.get("items") or [])
        out.append(
            ngettext(
                "The result of the measure you voted on, graded or ranked, and the "
                "organisers’ response to it, are on the results page.",
                "The results of the %(count)d measures you voted on, graded or ranked, and "
                "the organisers’ responses to them, are on the results page.",
                count,
            )
            % {"count": count}
        )
        if data.get("note"):
            out.append(_("What changed in this version: %(note)s") % {"note": data["note"]})
    return out


for _kind in KINDS:
    wording.register(_kind, title=title, lines=lines)
