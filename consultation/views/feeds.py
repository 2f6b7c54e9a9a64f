"""Feeds anyone may subscribe to: Atom feeds of the consultations' events and of one
consultation's published results versions, iCalendar feeds of opening and closing dates
(docs/decisions/0030-feeds.md).

What happened when is read by ``consultation.timeline``; these views only word and shape
it, in the request's language or the one ``?lang=`` names (the pages' autodiscovery links
carry it, so that a reader subscribed from the English page keeps English entries). A
draft's feeds are a 404, like its page. Entries and events have stable identifiers: a
``tag:`` URI, an iCalendar UID, made of the site's host and the consultation's number.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from icalendar import TRANSP, Calendar, Event, vText

from consultation import timeline
from consultation.models import Consultation
from consultation.views.public import get_consultation

TAG_YEAR = 2026  # the year of the tag: URIs, fixed for ever (RFC 4151)


def feed_language(request: HttpRequest) -> str:
    """``?lang=`` when it names one of the site's languages, else the request's."""
    asked = request.GET.get("lang", "")
    if asked in dict(settings.LANGUAGES):
        return asked
    return translation.get_language() or settings.LANGUAGE_CODE


def _host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def _tag(specific: str) -> str:
    return f"tag:{_host()},{TAG_YEAR}:{specific}"


def _when(moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _with_language(path: str, language: str) -> str:
    return f"{path}?lang={language}"


# --- Atom ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedOf:
    """What one request's feed is about: passed along as Django's feed ``obj`` (a Feed
    instance serves every request, so nothing of a request is kept on it)."""

    language: str
    events: list[timeline.Event]
    consultation: Consultation | None = None


class _AtomFeed(Feed):
    feed_type = Atom1Feed

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        language = feed_language(request)
        with translation.override(language):
            response = super().__call__(request, *args, **kwargs)
        response.headers["Content-Language"] = language
        return response

    def author_name(self) -> str:
        return settings.SITE_NAME

    def feed_guid(self, obj: FeedOf) -> str:
        about = f"consultation-{obj.consultation.pk}/results" if obj.consultation else "site"
        return _tag(f"feeds/{about}/{obj.language}")

    def items(self, obj: FeedOf) -> list[timeline.Event]:
        return obj.events

    def item_title(self, event: timeline.Event) -> str:
        title = event.consultation.display_title
        if event.kind == "announced":
            return _("New consultation: %(title)s") % {"title": title}
        if event.kind == "opened":
            return _("Open: %(title)s") % {"title": title}
        if event.kind == "closing":
            return _("Closes soon: %(title)s") % {"title": title}
        if event.kind == "closed":
            if timeline.closed_early(event.consultation):
                return _("Closed early: %(title)s") % {"title": title}
            return _("Closed: %(title)s") % {"title": title}
        if event.version == 1:
            return _("Results published: %(title)s") % {"title": title}
        return _("New version %(version)s of the results: %(title)s") % {
            "version": event.version,
            "title": title,
        }

    def item_description(self, event: timeline.Event) -> str:
        """HTML (Atom's ``summary type="html"``): every text in it is escaped here."""
        consultation = event.consultation
        lines = [consultation.display_summary]
        if event.kind in ("announced", "opened", "closing") and consultation.closes_at:
            if event.kind == "announced" and consultation.opens_at:
                lines.append(
                    _("Open from %(opens)s to %(closes)s.")
                    % {
                        "opens": _when(consultation.opens_at),
                        "closes": _when(consultation.closes_at),
                    }
                )
            else:
                lines.append(_("Closes on %(date)s.") % {"date": _when(consultation.closes_at)})
        elif event.kind == "closed":
            lines.append(_("Closed on %(date)s.") % {"date": _when(event.at)})
            if consultation.closing_reason:
                lines.append(_("Reason: %(reason)s") % {"reason": consultation.closing_reason})
        elif event.kind == "results" and event.note:
            lines.append(event.note)
        return "".join(linebreaks(escape(line)) for line in lines if line)

    def item_link(self, event: timeline.Event) -> str:
        if event.kind == "results":
            return reverse(
                "consultation:results_version", args=[event.consultation.slug, event.version]
            )
        return event.consultation.get_absolute_url()

    def item_guid(self, event: timeline.Event) -> str:
        about = f"consultation-{event.consultation.pk}/{event.kind}"
        return _tag(f"{about}/v{event.version}" if event.kind == "results" else about)

    def item_updateddate(self, event: timeline.Event) -> datetime:
        return event.at

    def item_pubdate(self, event: timeline.Event) -> datetime:
        return event.at


class ConsultationsFeed(_AtomFeed):
    """Consultations announced, opened, closing soon, closed, with results published."""

    def get_object(self, request: HttpRequest) -> FeedOf:
        return FeedOf(feed_language(request), timeline.site_events())

    def title(self) -> str:
        return _("%(site)s: consultations") % {"site": settings.SITE_NAME}

    def subtitle(self) -> str:
        return _("Consultations announced, opened, closing soon, closed, and their results.")

    def link(self) -> str:
        return reverse("consultation:list")

    def feed_url(self, obj: FeedOf) -> str:
        return _with_language(reverse("consultation:feed"), obj.language)


class ResultsFeed(_AtomFeed):
    """One consultation's published results, a version per entry."""

    def get_object(self, request: HttpRequest, slug: str) -> FeedOf:
        consultation = get_consultation(request, slug)  # 404 for a draft, as its page
        return FeedOf(feed_language(request), timeline.results_events(consultation), consultation)

    def title(self, obj: FeedOf) -> str:
        assert obj.consultation is not None
        return _("Results: %(title)s") % {"title": obj.consultation.display_title}

    def subtitle(self, obj: FeedOf) -> str:
        return _("Every published version of this consultation's results.")

    def link(self, obj: FeedOf) -> str:
        assert obj.consultation is not None
        return obj.consultation.get_absolute_url()

    def feed_url(self, obj: FeedOf) -> str:
        assert obj.consultation is not None
        path = reverse("consultation:results_feed", args=[obj.consultation.slug])
        return _with_language(path, obj.language)


consultations_feed = require_safe(ConsultationsFeed())
results_feed = require_safe(ResultsFeed())


# --- iCalendar ---------------------------------------------------------------------------

PRODID = "-//Agora//Consultations//EN"


@require_safe
def calendar(request: HttpRequest) -> HttpResponse:
    """The opening and closing dates of public consultations (``timeline.LIMIT`` of them)."""
    language = feed_language(request)
    with translation.override(language):
        name = _("%(site)s: consultation dates") % {"site": settings.SITE_NAME}
        body = _calendar(request, name, timeline.calendar_consultations(), language)
    return _ics(body, "consultations.ics", language)


@require_safe
def consultation_calendar(request: HttpRequest, slug: str) -> HttpResponse:
    """One consultation's opening and closing dates."""
    consultation = get_consultation(request, slug)  # 404 for a draft, as its page
    language = feed_language(request)
    with translation.override(language):
        body = _calendar(request, consultation.display_title, [consultation], language)
    return _ics(body, f"{consultation.slug}.ics", language)


def _ics(body: bytes, filename: str, language: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Content-Language"] = language
    return response


def _calendar(
    request: HttpRequest, name: str, consultations: list[Consultation], language: str
) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    # TEXT values given as vText: icalendar escapes those (``;``, ``,``, ``\``, line breaks).
    cal.add("name", vText(name))
    cal.add("x-wr-calname", vText(name))
    for consultation in consultations:
        for event in _events(request, consultation):
            cal.add_component(event)
    return cal.to_ical()


def _events(request: HttpRequest, consultation: Consultation) -> list[Event]:
    title = consultation.display_title
    url = request.build_absolute_uri(consultation.get_absolute_url())
    stamp = consultation.updated_at
    events = []
    if consultation.opens_at:
        events.append(
            Event.new(
                uid=f"consultation-{consultation.pk}-opens@{_host()}",
                stamp=stamp,
                last_modified=stamp,
                start=consultation.opens_at,
                summary=_("Opens: %(title)s") % {"title": title},
                description=_description(consultation, url),
                url=url,
                transparency=TRANSP.TRANSPARENT,
            )
        )
    closing = timeline.closing_time(consultation)
    if closing:
        early = timeline.closed_early(consultation)
        summary = _("Closed early: %(title)s") if early else _("Closes: %(title)s")
        extra = ""
        if early and consultation.closing_reason:
            extra = _("Reason: %(reason)s") % {"reason": consultation.closing_reason}
        events.append(
            Event.new(
                uid=f"consultation-{consultation.pk}-closes@{_host()}",
                stamp=stamp,
                last_modified=stamp,
                start=closing,
                summary=summary % {"title": title},
                description=_description(consultation, url, extra),
                url=url,
                transparency=TRANSP.TRANSPARENT,
            )
        )
    return events


def _description(consultation: Consultation, url: str, extra: str = "") -> str:
    return "\n\n".join(part for part in (consultation.display_summary, extra, url) if part)
