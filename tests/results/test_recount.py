"""Anyone can recount: the CLI, without Django, on the published files, agrees with the site."""

import json
import shutil
import subprocess
import sys

import pytest
from django.conf import settings

from consultation.results import computing, opendata, publishing
from tests.factories import close

pytestmark = pytest.mark.django_db
RANKING_METHODS = ["borda", "schulze", "copeland", "instant_runoff"]


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


def seed(publication, method):
    """The published seed of the declared draw (results.json, details.tie_break.seed)."""
    return publication.results["methods"][method]["details"]["tie_break"]["seed"]


@pytest.fixture
def published(voted, organiser):
    consultation = close(voted(12, seed=11, items=5))
    computing.compute_results(consultation.pk, "final")
    return publishing.publish(consultation, organiser)


@pytest.mark.parametrize("method", RANKING_METHODS)
def test_recounting_the_published_rankings_gives_the_published_result(published, method):
    directory = opendata.version_dir(published.consultation, published.version)
    out = recount(
        directory / "rankings.csv", "--method", method, "--seed", seed(published, method), "--json"
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == published.results["methods"][method]


@pytest.mark.parametrize(
    ("file", "method"), [("grades.csv", "majority_judgment"), ("votes.csv", "votes")]
)
def test_recounting_grades_and_votes_gives_the_published_result(published, file, method):
    directory = opendata.version_dir(published.consultation, published.version)
    out = recount(directory / file, "--method", method, "--seed", seed(published, method), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == published.results["methods"][method]


def test_verify_says_ok_and_then_mismatch_after_one_byte_changes(published, tmp_path):
    source = opendata.version_dir(published.consultation, published.version)
    copy = tmp_path / "download"
    shutil.copytree(source, copy)
    for name in ("rankings.csv", "grades.csv", "votes.csv"):
        out = recount(copy / name, "--verify", copy / "results.json")
        assert out.returncode == 0, out.stdout + out.stderr
        assert out.stdout.strip().splitlines()[-1] == "OK"
    data = bytearray((copy / "rankings.csv").read_bytes())
    last_line = data.rstrip(b"\n").rfind(b"\n") + 1
    data[last_line] = ord("0") if data[last_line] != ord("0") else ord("1")  # a ballot id
    (copy / "rankings.csv").write_bytes(bytes(data))
    out = recount(copy / "rankings.csv", "--verify", copy / "results.json")
    assert out.returncode == 1
    assert "MISMATCH" in out.stdout


def test_verify_refuses_a_draw_seed_that_is_not_the_cards_and_the_ballots(published, tmp_path):
    source = opendata.version_dir(published.consultation, published.version)
    copy = tmp_path / "download"
    shutil.copytree(source, copy)
    out = recount(copy / "rankings.json", "--verify", copy / "results.json")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "OK: draw_seed is the seed of the card and the ballot files" in out.stdout
    # A seed chosen after the count (to pick a winner among tied items) gives itself away,
    # even with every method recounted with it.
    document = json.loads((copy / "results.json").read_text(encoding="utf-8"))
    document["draw_seed"] = "0" * 64
    for method in document["methods"].values():
        method["details"]["tie_break"]["seed"] = "0" * 64
    (copy / "results.json").write_text(json.dumps(document), encoding="utf-8")
    out = recount(copy / "rankings.json", "--verify", copy / "results.json", "--method", "borda")
    assert out.returncode == 1
    assert "MISMATCH: draw_seed is not the seed of the card and the ballots" in out.stdout
