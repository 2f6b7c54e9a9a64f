"""Feeds: the Atom feed of the consultations' events, a consultation's results versions, the
iCalendar feeds of opening and closing dates; valid, linked, in the reader's language,
bounded, drafts absent, hostile texts escaped; and the pages that announce them."""

import random
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from icalendar import Calendar

from consultation.models import Consultation, Publication
from consultation.organising import lifecycle
from consultation.results import computing, publishing
from consultation.timeline import LIMIT
from tests.factories import make_consultation, take_part
from tests.support.html import problems

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
HOSTILE = 'Budget; 2027, "vote" \\ </title><script>alert(1)</script> & co\nEND:VCALENDAR'
Status = Consultation.Status


def parse(document: bytes) -> ET.Element:
    # The standard library's parser, on our own server's output (S314 is about untrusted XML).
    return ET.fromstring(document)  # noqa: S314


def atom(response):
    """The parsed feed, after checking what every Atom document must have (RFC 4287)."""
    assert response.status_code == 200
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    feed = parse(response.content)
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert feed.find(f"{ATOM}{required}").text
    assert feed.find(f"{ATOM}author/{ATOM}name").text == "Agora"
    for entry in feed.findall(f"{ATOM}entry"):
        assert entry.find(f"{ATOM}id").text.startswith("tag:")
        assert entry.find(f"{ATOM}title").text
        datetime.fromisoformat(entry.find(f"{ATOM}updated").text)  # RFC 3339
        link = entry.find(f"{ATOM}link[@rel='alternate']").get("href")
        assert link.startswith("http://testserver/")
    return feed


def entries(feed):
    return [
        {
            "id": entry.find(f"{ATOM}id").text,
            "title": entry.find(f"{ATOM}title").text,
            "updated": datetime.fromisoformat(entry.find(f"{ATOM}updated").text),
            "link": entry.find(f"{ATOM}link[@rel='alternate']").get("href"),
            "summary": entry.find(f"{ATOM}summary").text,
        }
        for entry in feed.findall(f"{ATOM}entry")
    ]


def ical(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert b"\r\n" in response.content  # RFC 5545 line ends
    calendar = Calendar.from_ical(response.content)
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    events = calendar.walk("VEVENT")
    for event in events:
        assert event["UID"] and event.get("DTSTAMP") is not None
        assert event.decoded("DTSTART").tzinfo is not None
    return events


def publish_rows(consultation, versions):
    """Publications as the results pages read them (the feeds read nothing else)."""
    now = timezone.now()
    for version in range(1, versions + 1):
        Publication.objects.create(
            consultation=consultation,
            version=version,
            published_by_name="Odile",
            published_at=now - timedelta(hours=versions - version),
            note="" if version == 1 else f"Correction {version}.",
            results_json="{}",
            manifest_json="{}",
        )


@pytest.fixture
def site():
    """One consultation in each phase, and a draft."""
    now = timezone.now()
    return {
        "scheduled": make_consultation(status=Status.SCHEDULED, title="Prochaine"),
        "open": make_consultation(title="Ouverte", closes_at=now + timedelta(days=10)),
        "closing": make_consultation(
            title="Bientôt", opens_at=now - timedelta(days=5), closes_at=now + timedelta(hours=20)
        ),
        "early": make_consultation(
            status=Status.CLOSED,
            title="Écourtée",
            closes_at=now + timedelta(days=3),
            closed_at=now - timedelta(hours=2),
            closing_reason="Travaux avancés.",
        ),
        "published": make_consultation(status=Status.PUBLISHED, title="Publiée"),
        "draft": make_consultation(status=Status.DRAFT, title="Brouillon secret"),
    }


def test_the_consultations_feed_dates_and_links_each_event(client, site):
    publish_rows(site["published"], 2)
    feed = atom(client.get("/consultations/flux.atom", HTTP_ACCEPT_LANGUAGE="en"))
    found = entries(feed)
    by_title = {entry["title"]: entry for entry in found}
    slug = {name: consultation.slug for name, consultation in site.items()}
    expected = {
        "New consultation: Consultation": f"/consultations/{slug['scheduled']}/",
        "Open: Consultation": f"/consultations/{slug['open']}/",
        "Closes soon: Consultation": f"/consultations/{slug['closing']}/",
        "Closed early: Consultation": f"/consultations/{slug['early']}/",
        "Closed: Consultation": f"/consultations/{slug['published']}/",
        "Results published: Consultation": f"/consultations/{slug['published']}/resultats/v1/",
        "New version 2 of the results: Consultation": (
            f"/consultations/{slug['published']}/resultats/v2/"
        ),
    }
    for prefix, path in expected.items():
        matching = [e for e in found if e["title"].startswith(prefix) and e["link"].endswith(path)]
        assert matching, f"no entry {prefix!r} linking to {path}: {sorted(by_title)}"
    # Dated by the event itself, newest first.
    early = site["early"]
    closed = next(e for e in found if e["title"].startswith("Closed early"))
    assert closed["updated"] == early.closed_at
    assert "Travaux avancés." in closed["summary"]
    closing = next(e for e in found if e["title"].startswith("Closes soon"))
    assert closing["updated"] == site["closing"].closes_at - timedelta(hours=48)
    short = make_consultation(
        opens_at=timezone.now() - timedelta(hours=2), closes_at=timezone.now() + timedelta(hours=10)
    )
    found = entries(atom(client.get("/consultations/flux.atom", HTTP_ACCEPT_LANGUAGE="en")))
    [closing] = [e for e in found if e["title"] == f"Closes soon: {short.title_en}"]
    assert closing["updated"] == short.opens_at  # not before it opened
    assert [e["updated"] for e in found] == sorted((e["updated"] for e in found), reverse=True)
    assert len({e["id"] for e in found}) == len(found)
    # The draft is nowhere, nor its address.
    assert b"Brouillon" not in client.get("/consultations/flux.atom").content
    assert site["draft"].slug.encode() not in client.get("/consultations/flux.atom").content


def test_every_entry_links_to_a_page_that_answers(client, make_user, organiser, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    consultation = make_consultation(items=2, organiser=organiser)
    take_part(make_user(), consultation, rng=random.Random(1))
    lifecycle.transition(consultation.pk, "closed", reason="")
    computing.compute_results(consultation.pk, "final")
    publishing.publish(consultation, organiser)
    publishing.publish(consultation, organiser, note="Une correction.")
    for url in (
        "/consultations/flux.atom",
        f"/consultations/{consultation.slug}/resultats/flux.atom",
    ):
        for entry in entries(atom(client.get(url))):
            assert client.get(entry["link"].removeprefix("http://testserver")).status_code == 200


def test_entry_ids_stay_when_titles_and_addresses_change(client, site):
    before = {e["id"] for e in entries(atom(client.get("/consultations/flux.atom")))}
    Consultation.objects.filter(pk=site["open"].pk).update(title="Renommée", slug="renommee")
    after = entries(atom(client.get("/consultations/flux.atom")))
    assert {e["id"] for e in after} == before
    assert any(e["title"] == "Ouverte : Renommée" for e in after)


def test_the_feeds_speak_the_readers_language(client, site):
    french = entries(atom(client.get("/consultations/flux.atom")))
    assert any(e["title"] == "Ouverte : Ouverte" for e in french)
    english = client.get("/consultations/flux.atom", HTTP_ACCEPT_LANGUAGE="en")
    assert english["Content-Language"] == "en"
    title_en = site["open"].title_en
    assert any(e["title"] == f"Open: {title_en}" for e in entries(atom(english)))
    # ?lang= wins over the request (the pages' links carry it, for readers that send none).
    asked = client.get("/consultations/flux.atom?lang=en")
    assert parse(asked.content).get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    events = ical(client.get("/consultations/calendrier.ics?lang=en"))
    assert f"Opens: {title_en}" in {str(event["SUMMARY"]) for event in events}
    events = ical(client.get("/consultations/calendrier.ics?lang=xx"))  # unknown: the default
    assert "Ouverture : Ouverte" in {str(event["SUMMARY"]) for event in events}


def test_a_consultations_results_feed_lists_its_versions(client, site):
    published = site["published"]
    publish_rows(published, 3)
    feed = atom(client.get(f"/consultations/{published.slug}/resultats/flux.atom"))
    found = entries(feed)
    assert [e["link"].rsplit("/", 2)[-2] for e in found] == ["v3", "v2", "v1"]
    assert found[0]["title"] == "Nouvelle version 3 des résultats : Publiée"
    assert "Correction 3." in found[0]["summary"]
    assert found[2]["title"] == "Résultats publiés : Publiée"
    # Before any publication: a valid, empty feed to subscribe to.
    empty = atom(client.get(f"/consultations/{site['open'].slug}/resultats/flux.atom"))
    assert entries(empty) == []


def test_a_drafts_feeds_are_not_found_like_its_page(client, site, organiser):
    draft = site["draft"]
    for url in (
        f"/consultations/{draft.slug}/",
        f"/consultations/{draft.slug}/resultats/flux.atom",
        f"/consultations/{draft.slug}/calendrier.ics",
        "/consultations/nowhere/resultats/flux.atom",
        "/consultations/nowhere/calendrier.ics",
    ):
        assert client.get(url).status_code == 404, url
    calendar = client.get("/consultations/calendrier.ics").content
    assert b"Brouillon" not in calendar and f"consultation-{draft.pk}-".encode() not in calendar


def test_the_calendar_gives_stable_events_for_opening_and_closing(client, site):
    events = ical(client.get("/consultations/calendrier.ics"))
    by_uid = {str(event["UID"]): event for event in events}
    assert len(by_uid) == len(events)
    visible = [c for name, c in site.items() if name != "draft"]
    assert set(by_uid) == {
        f"consultation-{c.pk}-{edge}@127.0.0.1" for c in visible for edge in ("opens", "closes")
    }
    scheduled = site["scheduled"]
    opens = by_uid[f"consultation-{scheduled.pk}-opens@127.0.0.1"]
    assert opens.decoded("DTSTART") == scheduled.opens_at.replace(microsecond=0)
    assert str(opens["SUMMARY"]) == "Ouverture : Prochaine"
    assert str(opens["URL"]) == f"http://testserver/consultations/{scheduled.slug}/"
    # Closed early: the closing event moves to when it really closed, and says why.
    early = by_uid[f"consultation-{site['early'].pk}-closes@127.0.0.1"]
    assert early.decoded("DTSTART") == site["early"].closed_at.replace(microsecond=0)
    assert str(early["SUMMARY"]) == "Close par anticipation : Écourtée"
    assert "Motif : Travaux avancés." in str(early["DESCRIPTION"])
    again = ical(client.get("/consultations/calendrier.ics"))
    assert [(str(e["UID"]), e.decoded("DTSTAMP")) for e in again] == [
        (str(e["UID"]), e.decoded("DTSTAMP")) for e in events
    ]
    # One consultation's own calendar.
    own = ical(client.get(f"/consultations/{scheduled.slug}/calendrier.ics"))
    assert {str(e["UID"]) for e in own} == {
        f"consultation-{scheduled.pk}-opens@127.0.0.1",
        f"consultation-{scheduled.pk}-closes@127.0.0.1",
    }


def test_hostile_texts_are_escaped_in_every_feed(client):
    consultation = make_consultation(
        status=Status.PUBLISHED,
        title=HOSTILE,
        summary="<img src=x onerror=alert(1)>",
        closing_reason="</summary><entry>faux</entry>",
    )
    publish_rows(consultation, 1)
    Publication.objects.create(
        consultation=consultation,
        version=2,
        published_by_name="Odile",
        note="<script>alert(2)</script>",
        results_json="{}",
        manifest_json="{}",
    )
    site_feed = atom(client.get("/consultations/flux.atom"))
    results_feed = atom(client.get(f"/consultations/{consultation.slug}/resultats/flux.atom"))
    for feed in (site_feed, results_feed):
        for entry in entries(feed):
            assert entry["title"].endswith(HOSTILE)  # the exact text, as text
            # summary type="html": its text is HTML in which every tag is escaped.
            assert "<img" not in entry["summary"] and "<script" not in entry["summary"]
            assert "<entry>" not in entry["summary"]
            assert "<script>alert(2)" not in entry["summary"]
        assert len(feed.findall(f"{ATOM}entry")) == len(entries(feed))
    assert "&lt;img src=x onerror=alert(1)&gt;" in entries(site_feed)[0]["summary"]
    # iCalendar: the same text comes back whole, and no line of it became a property.
    for url in (
        "/consultations/calendrier.ics",
        f"/consultations/{consultation.slug}/calendrier.ics",
    ):
        response = client.get(url)
        events = ical(response)
        assert len(events) == 2
        assert {str(e["SUMMARY"]) for e in events} == {
            f"Ouverture : {HOSTILE}",
            f"Close par anticipation : {HOSTILE}",  # it has a closing reason
        }
        lines = response.content.decode().replace("\r\n ", "").split("\r\n")
        assert lines.count("END:VCALENDAR") == 1 and lines[-2] == "END:VCALENDAR"
        assert any(r'Budget\; 2027\, "vote" \\ </title>' in line for line in lines)
    own = Calendar.from_ical(
        client.get(f"/consultations/{consultation.slug}/calendrier.ics").content
    )
    assert "\n" not in own["X-WR-CALNAME"]


def test_feeds_are_bounded_and_read_in_a_fixed_number_of_queries(
    client, django_assert_max_num_queries
):
    for n in range(LIMIT + 5):
        consultation = make_consultation(items=0, status=Status.PUBLISHED, title=f"N{n}")
        publish_rows(consultation, 1)
    with django_assert_max_num_queries(8):
        feed = atom(client.get("/consultations/flux.atom"))
    assert len(entries(feed)) == LIMIT
    with django_assert_max_num_queries(4):
        events = ical(client.get("/consultations/calendrier.ics"))
    assert len(events) == 2 * LIMIT


def test_the_pages_announce_their_feeds(client, site):
    listing = client.get("/consultations/").content.decode()
    assert problems(listing.encode()) == []
    assert re.search(
        r'<link rel="alternate" type="application/atom\+xml" title="[^"]+" '
        r'href="/consultations/flux\.atom\?lang=fr">',
        listing,
    )
    assert (
        'type="text/calendar"' in listing
        and 'href="/consultations/calendrier.ics?lang=fr"' in listing
    )
    slug = site["open"].slug
    page = client.get(f"/consultations/{slug}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert problems(page.encode()) == []
    head = page.split("</head>")[0]
    assert f'href="/consultations/{slug}/resultats/flux.atom?lang=en"' in head
    assert f'href="/consultations/{slug}/calendrier.ics?lang=en"' in head
    body = page.split("</head>")[1]
    assert f'href="/consultations/{slug}/calendrier.ics?lang=en"' in body  # a visible link too


def test_a_drafts_page_announces_no_feed_to_its_organisers(client_for, organiser):
    draft = make_consultation(status=Status.DRAFT, organiser=organiser)
    page = client_for(organiser).get(f"/consultations/{draft.slug}/")
    assert page.status_code == 200
    assert "flux.atom" not in page.content.decode()
    assert "calendrier.ics" not in page.content.decode()
