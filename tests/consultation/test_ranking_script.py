"""static/js/ranking.js: its node tests (keyboard moves, dragging, the form it submits,
``tests/js/ranking.test.mjs``), run from here when node is installed, and the markup they
assume, checked on the real ranking page."""

import shutil
import subprocess

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import make_consultation
from tests.support.html import parse_strict

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_ranking_script_passes_its_node_tests():
    result = subprocess.run(
        ["node", "--test", "tests/js/ranking.test.mjs"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_ranking_page_has_the_markup_the_script_and_its_tests_expect(client_for, citizen):
    consultation = make_consultation(items=3)
    page = client_for(citizen).get(
        reverse("consultation:ranking", kwargs={"slug": consultation.slug})
    )
    document = parse_strict(page.content)
    [form] = [f for f in document.iter("form") if "ranking-form" in (f.get("class") or "")]
    [script] = [s for s in document.iter("script") if "ranking" in (s.get("src") or "")]
    assert script.get("defer") is not None
    [listing] = [e for e in form.iter() if e.get("data-ranking") is not None]
    assert listing.get("data-size") == "3"
    for name in ("data-label-up", "data-label-down", "data-label-handle"):
        assert listing.get(name)
    assert "%(title)s" in listing.get("data-msg-rank") and "%(rank)s" in listing.get(
        "data-msg-rank"
    )
    assert "%(title)s" in listing.get("data-msg-unranked")
    assert any(
        e.get("data-ranking-status") is not None and e.get("aria-live") == "polite"
        for e in form.iter()
    )
    rows = [e for e in listing if "ranking-row" in (e.get("class") or "")]
    assert len(rows) == 3
    for row, item in zip(rows, consultation.items.all(), strict=True):
        assert row.get("data-item-id") == str(item.pk)
        (select,) = row.iter("select")
        (label,) = row.iter("label")
        assert select.get("name") == f"rank_{item.pk}" and label.get("for") == select.get("id")
