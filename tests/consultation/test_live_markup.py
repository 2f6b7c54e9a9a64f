"""The pages' side of live updates: what live.js finds in the markup, and the script itself.

The script's pure logic (seq rules, back-off, throttled announcements) is tested with
``node --test tests/js/``, run from here when node is installed.
"""

import re
import shutil
import subprocess

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders

from consultation.models import Consultation
from consultation.participation import debate, voting
from tests.factories import make_consultation
from tests.support.html import parse_strict, problems

pytestmark = pytest.mark.django_db

SCRIPT_SRC = re.compile(r'<script src="(/static/js/live[^"]*\.js)" defer></script>')


def sound_page(client, url, language="en"):
    client.cookies["django_language"] = language
    response = client.get(url)
    assert response.status_code == 200
    assert problems(response.content) == []
    return response.content.decode(), parse_strict(response.content)


def live_root(document):
    roots = [e for e in document.iter() if isinstance(e.tag, str) and e.get("data-live-url")]
    assert len(roots) == 1
    return roots[0]


def marked(document, spec):
    return [e for e in document.iter() if isinstance(e.tag, str) and e.get("data-live") == spec]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_consultation_page_marks_its_figures_for_live_updates(client, citizen, language, settings):
    settings.OPEN_DATA_MIN_GROUP = 1  # the markup of a breakdown (small groups: below)
    consultation = make_consultation()
    item = consultation.items.first()
    voting.cast_vote(citizen, item, "for")
    debate.post_comment(citizen, item, "Un avis.", "for")
    content, document = sound_page(client, consultation.get_absolute_url(), language)

    root = live_root(document)
    assert root.get("data-live-url") == f"/ws/consultations/{consultation.slug}/"
    assert root.get("data-live-phase") == "open"
    assert root.get("data-live-results-visible") == "true"
    assert root.get("data-live-item") is None
    for name in ("connecting", "live", "reconnecting", "stopped", "phase", "summary"):
        assert root.get(f"data-msg-{name}"), name
    assert "%(participants)s" in root.get("data-msg-summary")
    assert root.find(".//*[@aria-live='polite']") is not None
    assert root.find(".//*[@data-live-status]").get("hidden") is not None
    assert root.find(".//*[@data-live-notice]").get("hidden") is not None

    assert marked(document, "participation.participants")[0].text == "1"
    assert marked(document, "participation.votes")[0].text == "1"
    counts = marked(document, f"items.{item.pk}.comments")
    assert counts[0].get("data-live-plural") == "comments"
    assert "1" in counts[0].text
    # The list is compact: an item's tally is on its own page (below), not in its row.
    assert not marked(document, f"items.{item.pk}.votes.for")
    assert not elements(document, "data-live-results", f"items.{item.pk}.votes")
    assert len(SCRIPT_SRC.findall(content)) == 1


@pytest.mark.parametrize("language", ["fr", "en"])
def test_item_page_marks_votes_grades_and_new_comments(client, citizen, language, settings):
    settings.OPEN_DATA_MIN_GROUP = 1  # the markup of a breakdown (small groups: below)
    consultation = make_consultation()
    item = consultation.items.first()
    voting.cast_vote(citizen, item, "against")
    voting.grade_item(citizen, item, 6)
    content, document = sound_page(client, item.get_absolute_url(), language)

    root = live_root(document)
    assert root.get("data-live-item") == str(item.pk)
    assert "%(pro)s" in root.get("data-msg-summary-votes")
    assert root.get("data-plural-new-comments-one") and root.get("data-plural-new-comments-other")
    assert marked(document, f"items.{item.pk}.votes.against")[0].text == "1"
    bars = marked(document, f"share:items.{item.pk}.votes.against")
    assert [bar.tag for bar in bars] == ["meter", "span"]
    assert bars[0].get("value") == "100" and bars[1].text == "100"
    assert marked(document, f"sum:items.{item.pk}.votes")[0].tag == "caption"
    # Grades are listed best first; the marks name the stored grade value.
    assert marked(document, f"items.{item.pk}.grades.6")[0].text == "1"
    assert marked(document, f"items.{item.pk}.grades.0")[0].text == "0"
    assert marked(document, f"share:items.{item.pk}.grades.6")[0].get("value") == "100"
    assert len(SCRIPT_SRC.findall(content)) == 1


def test_hidden_results_leave_only_participation_to_update(client, citizen):
    consultation = make_consultation(results_visibility=Consultation.ResultsVisibility.AFTER_CLOSE)
    item = consultation.items.first()
    voting.cast_vote(citizen, item, "for")
    for url in (consultation.get_absolute_url(), item.get_absolute_url()):
        content, document = sound_page(client, url)
        assert live_root(document).get("data-live-results-visible") == "false"
        assert marked(document, "participation.votes")[0].text == "1"
        assert not marked(document, f"items.{item.pk}.votes.for")
        assert "Results will be shown once the organisers publish them." in content


def elements(document, attribute, value):
    return [e for e in document.iter() if isinstance(e.tag, str) and e.get(attribute) == value]


def test_a_small_group_shows_its_total_and_is_marked_to_grow(client, citizen, settings):
    """Below the threshold the page gives the item's total and why; the breakdown's table
    is there, hidden and holding zeros, for live.js to fill once the group is large enough."""
    settings.OPEN_DATA_MIN_GROUP = 2
    consultation = make_consultation()
    item = consultation.items.first()
    voting.cast_vote(citizen, item, "against")
    voting.grade_item(citizen, item, 6)
    content, document = sound_page(client, item.get_absolute_url())
    small = elements(document, "data-live-small", f"items.{item.pk}.votes")
    assert len(small) == 1 and small[0].get("hidden") is None
    assert marked(document, f"items.{item.pk}.responses.votes")[0].text == "Votes cast: 1"
    assert "Fewer than 2 votes: not broken down, to protect the secrecy of each vote." in content
    table = elements(document, "data-live-results", f"items.{item.pk}.votes")
    assert len(table) == 1 and table[0].get("hidden") is not None
    assert marked(document, f"items.{item.pk}.votes.against")[0].text == "0"
    small = elements(document, "data-live-small", f"items.{item.pk}.grades")
    assert len(small) == 1 and small[0].get("hidden") is None
    assert elements(document, "data-live-results", f"items.{item.pk}.grades")[0].get("hidden") == ""
    assert marked(document, f"items.{item.pk}.grades.6")[0].text == "0"


def test_plural_samples_follow_the_page_language(client):
    consultation = make_consultation()
    _content, document = sound_page(client, consultation.get_absolute_url(), "fr")
    root = live_root(document)
    assert root.get("data-plural-comments-one") == "1 commentaire"
    assert root.get("data-plural-comments-other") == "2 commentaires"
    assert "Participants" in root.get("data-msg-summary")


@pytest.mark.parametrize("status", [Consultation.Status.CLOSED, Consultation.Status.PUBLISHED])
def test_finished_consultations_are_not_followed(client, status):
    consultation = make_consultation(status=status)
    for url in (consultation.get_absolute_url(), consultation.items.first().get_absolute_url()):
        content, document = sound_page(client, url)
        assert not [e for e in document.iter() if isinstance(e.tag, str) and e.get("data-live-url")]
        assert "js/live" not in content


def test_the_script_is_vendored_and_served(client):
    assert finders.find("js/live.js")
    consultation = make_consultation()
    content, _document = sound_page(client, consultation.get_absolute_url())
    src = SCRIPT_SRC.search(content).group(1)
    response = client.get(src)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    body = (settings.STATIC_ROOT / src.removeprefix(settings.STATIC_URL)).read_bytes()
    assert b"data-live-url" in body
    # No dependency, nothing fetched from elsewhere.
    assert not re.search(rb"\b(import|require)\s*\(|https?://", body)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_script_logic_passes_its_node_tests():
    result = subprocess.run(
        ["node", "--test", "tests/js/"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
