"""The results pages: the published results (every version), the printable report, the
methods' cards, the organisers' review-and-publish page and provisional results.

Every page is valid, labelled HTML in French and English, requests nothing from another
site, and shows exactly the numbers of the frozen publication, in charts and tables.
"""

import json
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone

from consultation.counting import METHODS
from consultation.counting.explain import explain
from consultation.models import (
    ComputedResult,
    Consultation,
    Membership,
    OfficialResponse,
    Publication,
)
from consultation.participation import voting
from consultation.results import computing, publishing, reading
from tests.factories import add_member, close, make_consultation
from tests.support.accounts import enable_totp
from tests.support.html import parse_strict, problems

pytestmark = pytest.mark.django_db
S = Consultation.Status
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def odile(organiser):
    enable_totp(organiser)
    return organiser


@pytest.fixture
def counted(voted, odile):
    """A closed consultation, 24 participants, final results computed, not published."""
    consultation = close(voted(24, items=5))
    computing.compute_results(consultation.pk, "final")
    return consultation


@pytest.fixture
def published(counted, odile):
    publishing.publish(counted, odile)
    return counted


def url(name, consultation, **kwargs):
    return reverse(name, kwargs={"slug": consultation.slug, **kwargs})


def sound(response, status=200):
    assert response.status_code == status, response.content.decode()[:3000]
    assert problems(response.content) == []
    return response.content.decode()


def addresses(document):
    """Every address a page links to or loads (namespaces are not addresses)."""
    for element in document.iter():
        if not isinstance(element.tag, str):
            continue
        for attribute in ("href", "src", "action", "data"):
            if element.get(attribute):
                yield element.get(attribute)


def assert_no_third_party(content):
    for address in addresses(parse_strict(content)):
        host = urlsplit(address).netloc
        assert host in ("", "testserver"), address


def by_item(elements, key="data-value"):
    values = {}
    for element in elements:
        values.setdefault(int(element.get("data-item")), []).append(int(element.get(key)))
    return values


def rows(document, table_id):
    table = document.find(f".//table[@id='{table_id}']")
    assert table is not None, table_id
    return {int(tr.get("data-item")): tr for tr in table.iter("tr") if tr.get("data-item")}


# --- Every page, both languages -----------------------------------------------------------


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_results_page_is_sound_in_both_languages(client_for, published, odile, language):
    publishing.publish(published, odile, note="Une coquille corrigée.")
    client = client_for(odile)
    client.cookies["django_language"] = language
    pages = [
        url("consultation:results", published),
        url("consultation:results_version", published, version=1),
        url("consultation:results", published) + "?version=1",
        url("consultation:report", published),
        url("consultation:report_version", published, version=1),
        reverse("consultation:methods"),
        url("organiser:results", published),
        url("consultation:detail", published),
        reverse("consultation:list"),
        published.items.first().get_absolute_url(),
    ]
    for page in pages:
        response = client.get(page)
        content = sound(response)
        assert f'<html lang="{language}"'.encode() in response.content, page
        assert_no_third_party(response.content)
        assert "{{" not in content and "{%" not in content, page
    french = client.get(url("consultation:results", published)).content.decode()
    if language == "fr":
        assert "Version 2 sur 2" in french and "Rang" in french
    else:
        assert "Version 2 of 2" in french and "Rank" in french


def test_anonymous_visitors_see_the_published_pages(client, published):
    for page in (
        url("consultation:results", published),
        url("consultation:report", published),
        reverse("consultation:methods"),
    ):
        sound(client.get(page))


# --- The numbers ---------------------------------------------------------------------------


def test_each_chart_is_an_svg_with_a_table_of_the_published_numbers(client, published):
    document = parse_strict(client.get(url("consultation:results", published)).content)
    methods = reading.published_results(published).results["methods"]
    charts = list(document.iter(f"{SVG}svg"))
    assert len(charts) == 3  # votes, merit profiles, Borda points
    for svg in charts:
        assert svg.get("role") == "img"
        title_id, desc_id = svg.get("aria-labelledby").split()
        assert svg.find(f".//{SVG}title[@id='{title_id}']").text
        assert svg.find(f".//{SVG}desc[@id='{desc_id}']").text
        assert svg.get("style") is None
    figures = {svg.get("id"): svg for svg in charts}

    # Votes: the chart's segments, the table's cells and the publication agree.
    votes = methods["votes"]
    drawn = {}
    for rect in figures["results-votes"].iter(f"{SVG}rect"):
        if rect.get("data-item"):
            drawn[(int(rect.get("data-item")), rect.get("data-key"))] = int(rect.get("data-value"))
    table = rows(document, "votes-table")
    assert list(table) == votes["order"]
    for item, tr in table.items():
        cells = {
            td.get("data-key"): int(td.get("data-value"))
            for td in tr.iter("td")
            if td.get("data-key")
        }
        for choice in ("for", "against", "abstain"):
            assert cells[choice] == drawn[(item, choice)] == votes["scores"][str(item)][choice]

    # Majority judgment: the merit profile, best grade first, in chart and table.
    mj = methods["majority_judgment"]
    drawn = by_item(
        r for r in figures["results-majority-judgment"].iter(f"{SVG}rect") if r.get("data-item")
    )
    table = rows(document, "mj-table")
    assert list(table) == mj["order"]
    for item, tr in table.items():
        profile = mj["scores"][str(item)]["profile"][::-1]
        counted = [int(td.get("data-value")) for td in tr.iter("td") if td.get("data-value")]
        assert counted == drawn[item] == profile

    # Borda: points.
    borda = methods["borda"]
    drawn = by_item(r for r in figures["results-borda"].iter(f"{SVG}rect") if r.get("data-item"))
    table = rows(document, "borda-table")
    assert list(table) == borda["order"]
    for item, tr in table.items():
        [points] = [int(td.get("data-value")) for td in tr.iter("td") if td.get("data-value")]
        assert [points] == drawn[item] == [borda["scores"][str(item)]["points"]]

    # Schulze, Copeland, instant-runoff: their tables, in their order.
    assert list(rows(document, "schulze-table")) == methods["schulze"]["order"]
    assert list(rows(document, "copeland-table")) == methods["copeland"]["order"]
    assert list(rows(document, "irv-table")) == methods["instant_runoff"]["order"]


def test_the_ranking_orders_are_side_by_side(client, published):
    document = parse_strict(client.get(url("consultation:results", published)).content)
    methods = reading.published_results(published).results["methods"]
    table = document.find(".//table[@id='rankings-table']")
    headers = [th for th in table.find("thead").iter("th")][1:]
    assert [h.find("a").text for h in headers] == [
        METHODS[name].title_fr for name in ("borda", "schulze", "copeland", "instant_runoff")
    ]
    places = [[int(td.get("data-item")) for td in tr.iter("td")] for tr in table.find("tbody")]
    columns = list(zip(*places, strict=True))
    assert [list(c) for c in columns] == [
        methods[name]["order"] for name in ("borda", "schulze", "copeland", "instant_runoff")
    ]


def test_the_page_explains_each_order_in_the_pages_language(client, published):
    from consultation.counting import Result

    publication = reading.published_results(published)
    schulze = Result.from_dict(publication.results["methods"]["schulze"])
    a, b = schulze.order[:2]
    names_fr = {item.pk: item.title for item in published.items.all()}
    names_en = {item.pk: item.title_en for item in published.items.all()}
    page = url("consultation:results", published)
    assert explain(schulze, a, b, "fr", names_fr) in client.get(page).content.decode()
    client.cookies["django_language"] = "en"
    assert explain(schulze, a, b, "en", names_en) in client.get(page).content.decode()


def main_of(response) -> str:
    content = response.content.decode()
    return content[content.index("<main") : content.index("</main>")]


def test_published_results_rebuild_into_results_that_explain_themselves(counted):
    """``Result.from_dict`` (used by the pages) gives back the counted Result exactly."""
    from consultation.counting import Result, compute
    from consultation.counting.opendata import load_profile

    computed = counted.computed_results.get(kind="final")
    directory = Path(settings.MEDIA_ROOT) / computed.directory
    for name, data in computed.results["methods"].items():
        rebuilt = Result.from_dict(data)
        assert rebuilt.to_dict() == data
        file = {"ranking": "rankings", "grades": "grades", "votes": "votes"}[METHODS[name].kind]
        original = compute(name, load_profile(directory / f"{file}.csv"))
        for a, b in zip(original.order, original.order[1:], strict=False):
            for lang in ("fr", "en"):
                assert explain(rebuilt, a, b, lang) == explain(original, a, b, lang)


def test_a_published_page_shows_the_frozen_numbers_not_a_recount(client, published, make_user):
    before = main_of(client.get(url("consultation:results", published)))
    # The counted results change behind the publication's back (no domain function
    # would do this): the page still shows what was published.
    row = ComputedResult.objects.get(consultation=published, kind="final")
    document = row.results
    document["methods"]["borda"]["order"].reverse()
    ComputedResult.objects.filter(pk=row.pk).update(results_json=json.dumps(document))
    assert main_of(client.get(url("consultation:results", published))) == before


def test_ties_are_shown_as_ties(client, make_user, odile):
    consultation = make_consultation(
        items=3, voting_enabled=False, grading_enabled=False, organiser=odile
    )
    a, b, _c = consultation.items.order_by("position")
    for n in range(8):  # a and b swap places: a perfect tie between them, c unranked
        voting.submit_ballot(make_user(), consultation, [a.pk, b.pk] if n % 2 else [b.pk, a.pk])
    close(consultation)
    computing.compute_results(consultation.pk, "final")
    publishing.publish(consultation, odile)
    content = client.get(url("consultation:results", consultation)).content.decode()
    document = parse_strict(content.encode())
    borda = rows(document, "borda-table")
    ranks = ["".join(tr.find("td").itertext()).strip() for tr in borda.values()]
    assert ranks[0].startswith("1=") and ranks[1].startswith("1=") and ranks[2] == "3"
    assert "sont à égalité selon cette méthode" in content


# --- Versions ------------------------------------------------------------------------------


def test_every_version_stays_visible_and_reachable(client, published, odile):
    publishing.publish(published, odile, note="Réponses officielles ajoutées.")
    latest = client.get(url("consultation:results", published)).content.decode()
    assert "Version 2 sur 2" in latest
    assert "Réponses officielles ajoutées." in latest
    assert url("consultation:results_version", published, version=1) in latest
    older = client.get(url("consultation:results_version", published, version=1)).content.decode()
    assert "Version 1 sur 2" in older
    assert "ancienne version" in older
    assert f'href="{url("consultation:results", published)}"' in older
    by_query = client.get(url("consultation:results", published) + "?version=1").content.decode()
    assert "Version 1 sur 2" in by_query
    for missing in (
        url("consultation:results_version", published, version=3),
        url("consultation:results", published) + "?version=3",
        url("consultation:results", published) + "?version=un",
        url("consultation:report_version", published, version=9),
    ):
        assert client.get(missing).status_code == 404, missing


def test_results_are_hidden_until_published(client, client_for, counted, citizen, odile):
    for page in (url("consultation:results", counted), url("consultation:report", counted)):
        sound(client.get(page), 404)
        sound(client_for(citizen).get(page), 404)
    # Its organisers are sent to the review page instead.
    response = client_for(odile).get(url("consultation:results", counted))
    assert response.status_code == 302
    assert response["Location"] == url("organiser:results", counted)
    # Before publication nothing links to the results page (its feed may be subscribed
    # to early: an empty feed until the first version).
    link = re.compile(re.escape(f'href="{url("consultation:results", counted)}') + r'(#[^"]*)?"')
    for page in (url("consultation:detail", counted), reverse("consultation:list")):
        assert not link.search(client.get(page).content.decode())


def test_once_published_the_pages_link_to_the_results(client, published):
    link = url("consultation:results", published)
    assert link in client.get(url("consultation:detail", published)).content.decode()
    assert link in client.get(reverse("consultation:list")).content.decode()
    item = published.items.first()
    assert f"{link}#item-{item.pk}" in client.get(item.get_absolute_url()).content.decode()


# --- Open data, report, cards ---------------------------------------------------------------


def test_the_open_data_section_lists_every_file_with_its_fingerprint(client, published):
    publication = reading.published_results(published)
    content = client.get(url("consultation:results", published)).content.decode()
    for entry in publication.manifest["files"]:
        link = url("consultation:open_data", published, version=1, filename=entry["name"])
        assert f'href="{link}"' in content
        assert entry["sha256"] in content
        assert f">{entry['bytes']}<" in content
        assert client.get(link).status_code == 200
    assert (
        "python -m consultation.counting recount rankings.csv --method schulze "
        "--verify results.json" in content
    )


def test_the_printable_report_has_print_styles_and_full_addresses(client, published):
    content = sound(client.get(url("consultation:report", published)))
    document = parse_strict(content.encode())
    [sheet] = [
        link.get("href") for link in document.iter("link") if link.get("rel") == "stylesheet"
    ]
    assert "agora" in sheet and sheet.endswith(".css")
    assert "results-report" in document.find(".//main").get("class")
    with open(finders.find("css/agora.css"), encoding="utf-8") as sheet_file:
        css = sheet_file.read()
    results_css = css[css.index("/* Results") :]
    assert "@media print" in results_css and ".results-report .results-section" in results_css
    assert "break-inside: avoid" in results_css
    rankings = url("consultation:open_data", published, version=1, filename="rankings.csv")
    assert f"http://testserver{rankings}" in content
    # On paper nothing is folded: explanations are open and every card is printed.
    assert all(d.get("open") is not None for d in document.iter("details"))
    for name in reading.published_results(published).results["methods"]:
        assert f"--method {name} " in content


def test_every_counting_method_has_a_card(client):
    """Adding a method to METHODS without writing its card fails here."""
    content = sound(client.get(reverse("consultation:methods")))
    for name, method in METHODS.items():
        get_template(f"consultation/results/cards/{name}.html")
        if method.kind == "ranking":  # its table on the results page
            get_template(f"consultation/results/methods/{name}.html")
        assert f'id="method-{name}"' in content
        assert f"--method {name} --verify results.json" in content
    client.cookies["django_language"] = "en"
    english = sound(client.get(reverse("consultation:methods")))
    assert "Ties" in english and "Égalités" not in english
    assert "Égalités" in content


def test_the_results_page_folds_each_methods_card_next_to_its_result(client, published):
    document = parse_strict(client.get(url("consultation:results", published)).content)
    cards = [d for d in document.iter("details") if d.get("class") == "method-card"]
    assert len(cards) == len(reading.published_results(published).results["methods"])


# --- Small groups ----------------------------------------------------------------------


def test_withheld_ballots_and_items_not_broken_down_are_said(client, make_user, odile):
    consultation = make_consultation(items=2, grading_enabled=False, organiser=odile)
    big, small = consultation.items.order_by("position")
    voters = [make_user() for _ in range(4)]
    for voter in voters:
        voting.cast_vote(voter, big, "for")
    for voter in voters[:2]:
        voting.cast_vote(voter, small, "against")
    voting.submit_ballot(voters[0], consultation, [big.pk])  # 1 ranking: below 3
    close(consultation)
    computing.compute_results(consultation.pk, "final")
    publishing.publish(consultation, odile)
    content = sound(client.get(url("consultation:results", consultation)))
    assert "Petit groupe (classements)" in content
    assert "Petits groupes (votes)" in content
    assert f"{small.title} : 2 réponses" in content or f"{small.title}: 2 réponses" in content
    table = rows(parse_strict(content.encode()), "votes-table")
    assert "Non détaillé" in "".join(table[small.pk].itertext())
    assert "rankings-table" not in content


# --- The organisers' review page ------------------------------------------------------------


def test_only_the_organisers_reach_the_review_page(client, client_for, counted, citizen, make_user):
    page = url("organiser:results", counted)
    assert client.get(page).status_code == 302  # to the login page
    moderator = make_user(is_moderator=True)
    enable_totp(moderator)
    add_member(counted, moderator, Membership.Role.MODERATOR)
    stranger = make_user(is_organiser=True)
    enable_totp(stranger)
    for person in (citizen, moderator, stranger):
        client.logout()
        assert client_for(person).get(page).status_code == 403
        assert client.post(url("organiser:results_publish", counted)).status_code == 403
    assert not Publication.objects.exists()


def test_only_the_organisers_count_and_answer(client, client_for, counted, citizen, make_user):
    """Asking for the count and writing an official response: POST-only, organisers only."""
    compute = url("organiser:results_compute", counted)
    respond = url("organiser:results_respond", counted, item_id=counted.items.first().pk)
    for page in (compute, respond):
        response = client.post(page, {"text": "Réponse."})
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    moderator = make_user(is_moderator=True)
    enable_totp(moderator)
    add_member(counted, moderator, Membership.Role.MODERATOR)
    stranger = make_user(is_organiser=True)
    enable_totp(stranger)
    for person in (citizen, moderator, stranger):
        client.logout()
        client_for(person)
        for page in (compute, respond):
            assert client.post(page, {"text": "Réponse."}).status_code == 403, (person, page)
    assert not OfficialResponse.objects.exists()


def test_an_organiser_without_mfa_is_sent_to_set_it_up(client_for, counted, odile):
    from allauth.mfa.models import Authenticator

    Authenticator.objects.filter(user=odile).delete()
    response = client_for(odile).get(url("organiser:results", counted))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_activate_totp"))


def test_the_review_page_shows_the_unpublished_results(client_for, counted, odile):
    content = sound(client_for(odile).get(url("organiser:results", counted)))
    assert "Non publiés" in content
    assert 'id="votes-table"' in content and 'id="rankings-table"' in content
    assert url("organiser:results", counted) in content  # the tab in the sub-navigation


def test_the_review_page_waits_for_the_close(client_for, voted, odile):
    consultation = voted(3)
    content = sound(client_for(odile).get(url("organiser:results", consultation)), 409)
    assert "une fois le vote clos" in content


def test_an_organiser_publishes_then_publishes_a_new_version_with_a_note(
    client_for, counted, odile
):
    client = client_for(odile)
    publish = url("organiser:results_publish", counted)
    response = client.post(publish, {"note": ""})
    assert response.status_code == 302 and response["Location"] == url("organiser:results", counted)
    assert Publication.objects.get().version == 1
    counted.refresh_from_db()
    assert counted.status == S.PUBLISHED

    # A second version needs a note: the error is next to the field.
    page = sound(client.get(url("organiser:results", counted)))
    assert "Publier une nouvelle version" in page
    response = client.post(publish, {"note": "  "})
    sound(response, 422)
    document = parse_strict(response.content)
    note = document.find(".//textarea[@name='note']")
    assert note.get("aria-invalid") == "true"
    field = next(d for d in document.iter("div") if note in list(d))
    assert "Indiquez pourquoi vous publiez une nouvelle version" in "".join(field.itertext())
    assert Publication.objects.count() == 1

    response = client.post(publish, {"note": "Coquille corrigée dans une réponse."})
    assert response.status_code == 302
    assert [p.version for p in reading.publication_versions(counted)] == [2, 1]
    review = sound(client.get(url("organiser:results", counted)))
    assert "Coquille corrigée dans une réponse." in review
    assert url("consultation:results_version", counted, version=1) in review


def test_a_too_long_note_is_refused_next_to_the_field(client_for, counted, odile):
    response = client_for(odile).post(
        url("organiser:results_publish", counted), {"note": "x" * (publishing.MAX_NOTE + 1)}
    )
    sound(response, 422)
    note = parse_strict(response.content).find(".//textarea[@name='note']")
    assert note.get("aria-invalid") == "true"
    assert not Publication.objects.exists()


def test_official_responses_are_written_on_the_review_page_and_frozen_by_publishing(
    client, client_for, counted, odile
):
    organiser = client_for(odile)
    item = counted.items.order_by("position").first()
    respond = url("organiser:results_respond", counted, item_id=item.pk)

    # English without French: refused, next to the French field.
    response = organiser.post(respond, {"text": "", "text_en": "We will do it."})
    sound(response, 422)
    document = parse_strict(response.content)
    field = document.find(f".//textarea[@id='response{item.pk}_text']")
    assert field.get("aria-invalid") == "true"
    other = document.find(".//textarea[@name='text_en'][@aria-invalid]")
    assert other is None or other.get("id") == f"response{item.pk}_text_en"
    assert not item.__class__.objects.filter(pk=item.pk, official_response__isnull=False).exists()

    response = organiser.post(respond, {"text": "Nous le ferons en 2027.", "text_en": "In 2027."})
    assert response.status_code == 302
    assert response["Location"].endswith(f"#response-{item.pk}")
    assert (
        "Nous le ferons en 2027."
        in organiser.get(url("organiser:results", counted)).content.decode()
    )

    organiser.post(url("organiser:results_publish", counted), {"note": ""})
    organiser.post(respond, {"text": "Finalement en 2028.", "text_en": ""})  # a later draft
    client.logout()
    public = client.get(url("consultation:results", counted)).content.decode()
    assert "Nous le ferons en 2027." in public and "Finalement" not in public
    client.cookies["django_language"] = "en"
    assert "In 2027." in client.get(url("consultation:results", counted)).content.decode()


def test_a_response_to_an_item_of_another_consultation_is_a_404(client_for, counted, odile):
    other = make_consultation(status=S.CLOSED, organiser=odile)
    stranger_item = other.items.first()
    response = client_for(odile).post(
        url("organiser:results_respond", counted, item_id=stranger_item.pk), {"text": "Non."}
    )
    assert response.status_code == 404


@pytest.mark.django_db(transaction=True)
def test_compute_now_queues_the_count_and_never_counts_in_the_request(
    client_for, voted, odile, celery_worker
):
    from tests.results.test_jobs import wait_for_final

    consultation = voted(4)
    # Closed without the closing job (as if it had been lost).
    Consultation.objects.filter(pk=consultation.pk).update(
        status=S.CLOSED, closed_at=timezone.now()
    )
    client = client_for(odile)
    page = sound(client.get(url("organiser:results", consultation)))
    assert "pas encore calculés" in page
    assert url("organiser:results_compute", consultation) in page
    started = time.monotonic()
    response = client.post(url("organiser:results_compute", consultation))
    assert time.monotonic() - started < 1.0
    assert response.status_code == 302
    row = wait_for_final(consultation)
    assert "schulze" in row.results["methods"]
    assert (
        'id="rankings-table"' in client.get(url("organiser:results", consultation)).content.decode()
    )


def test_compute_now_before_the_close_is_refused(client_for, voted, odile):
    consultation = voted(2)
    response = client_for(odile).post(url("organiser:results_compute", consultation))
    sound(response, 409)
    assert not ComputedResult.objects.filter(consultation=consultation, kind="final").exists()


def test_the_review_e_mail_links_to_the_review_page(voted, odile, monkeypatch):
    from accounts import emails

    sent = []
    monkeypatch.setattr(emails, "send_later", sent.append)
    consultation = close(voted(3))
    computing.compute_results(consultation.pk, "final")
    [message] = sent
    assert f"/organisation/{consultation.slug}/resultats/" in message.body


# --- Provisional results ---------------------------------------------------------------------


def test_provisional_orders_show_on_an_open_live_consultation(client, voted):
    consultation = voted(6, results_visibility=Consultation.ResultsVisibility.LIVE)
    computing.compute_results(consultation.pk, "provisional")
    content = sound(client.get(url("consultation:detail", consultation)))
    assert "Résultats provisoires" in content
    row = ComputedResult.objects.get(consultation=consultation, kind="provisional")
    assert timezone.localtime(row.computed_at).isoformat() in content
    document = parse_strict(content.encode())
    table = document.find(".//section[@aria-labelledby='provisional-heading']//table")
    first_column = [int(tr.findall("td")[0].get("data-item")) for tr in table.find("tbody")]
    assert first_column == row.results["methods"]["votes"]["order"]


def test_provisional_results_stay_hidden_when_results_wait_for_the_close(client, voted):
    consultation = voted(6, results_visibility=Consultation.ResultsVisibility.AFTER_CLOSE)
    computing.compute_results(consultation.pk, "provisional")
    assert ComputedResult.objects.filter(consultation=consultation).exists()
    content = sound(client.get(url("consultation:detail", consultation)))
    assert "provisional-heading" not in content
