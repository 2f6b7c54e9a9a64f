"""Computing results: open data first, then every enabled method from those files."""

import csv
import json
import re

import pytest
from django.db import connection
from django.db.models.signals import post_init
from django.test.utils import CaptureQueriesContext

from consultation.counting import METHODS, RankingProfile, schulze, ties
from consultation.errors import Conflict
from consultation.live import counters, events, repair, stores
from consultation.models import Ballot, BallotEntry, ComputedResult, Grade, Vote
from consultation.participation import voting
from consultation.results import computing, opendata, ranking_reads, reading
from tests.factories import close, make_consultation

pytestmark = pytest.mark.django_db
EVERY_METHOD = {"votes", "majority_judgment", "borda", "schulze", "copeland", "instant_runoff"}


def export_dir(row):
    from django.conf import settings

    return settings.MEDIA_ROOT / row.directory


def test_final_results_are_counted_from_the_exported_files(voted):
    consultation = close(voted(6))
    row = computing.compute_results(consultation.pk, "final")
    document = row.results
    assert document["format"] == "agora-results/1"
    assert set(document["methods"]) == EVERY_METHOD
    assert document["totals"] == {"rankings": 6, "grades": 6, "votes": 6}
    directory = export_dir(row)
    for name, digest in document["computed_from"].items():
        assert opendata.formats.sha256_file(directory / name) == digest
    assert set(document["computed_from"]) == {"rankings.csv", "grades.csv", "votes.csv"}


def test_only_the_enabled_modes_are_counted(voted):
    consultation = close(voted(4, grading_enabled=False, voting_enabled=False))
    document = computing.compute_results(consultation.pk, "final").results
    assert set(document["methods"]) == {"borda", "schulze", "copeland", "instant_runoff"}
    assert sorted(p.name for p in export_dir(consultation.computed_results.get()).iterdir()) == [
        "items.csv",
        "items.json",
        "rankings.csv",
        "rankings.json",
    ]


def test_final_results_wait_for_the_vote_to_close(voted):
    consultation = voted(3)
    with pytest.raises(Conflict) as refusal:
        computing.compute_results(consultation.pk, "final")
    assert refusal.value.code == "not_closed"
    assert not ComputedResult.objects.exists()


def test_computing_twice_stores_the_same_result_in_one_row(voted):
    consultation = close(voted(5))
    first = computing.compute_results(consultation.pk, "final")
    second = computing.compute_results(consultation.pk, "final")
    assert first.changed and not second.changed
    assert ComputedResult.objects.filter(consultation=consultation).count() == 1
    stored = ComputedResult.objects.get(consultation=consultation)
    assert (stored.results_json, stored.manifest_json, stored.directory, stored.computed_at) == (
        first.results_json,
        first.manifest_json,
        first.directory,
        first.computed_at,
    )
    # Content-addressed: no second copy of the files, no scratch left behind.
    assert [p.name for p in opendata.consultation_dir(consultation).iterdir()] == ["computed"]
    assert len(list((opendata.consultation_dir(consultation) / "computed").iterdir())) == 1


def test_a_rebuilt_export_is_byte_identical(voted, tmp_path):
    consultation = close(voted(6))
    opendata.build(consultation, tmp_path / "one")
    opendata.build(consultation, tmp_path / "two")
    names = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert len(names) == 8
    for name in names:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_exports_hold_no_user_ids_emails_or_timestamps(voted, organiser):
    consultation = close(voted(6))
    row = computing.compute_results(consultation.pk, "final")
    directory = export_dir(row)
    people = {b.user for b in Ballot.objects.filter(consultation=consultation)}
    text = "\n".join(p.read_text() for p in directory.iterdir())
    for person in people | {organiser}:
        assert person.email not in text
        assert person.display_name not in text
    assert not re.search(r"\d{4}-\d{2}-\d{2}|\d{2}:\d{2}:\d{2}", text)
    with open(directory / "rankings.csv", newline="") as fp:
        rows = list(csv.reader(fp))
    assert rows[0] == ["ballot", "rank_1", "rank_2", "rank_3"]
    ids = [r[0] for r in rows[1:]]
    assert all(re.fullmatch(r"[0-9a-f]{16}", i) for i in ids)
    assert ids == sorted(ids)  # ordered by id: not by submission
    pks = {str(pk) for pk in Ballot.objects.values_list("pk", flat=True)}
    assert not pks & set(ids)
    for name in ("rankings.json", "grades.json", "votes.json"):
        document = json.loads((directory / name).read_text())
        assert {key for ballot in document["ballots"] for key in ballot} <= {
            "ballot",
            "ranking",
            "grades",
            "votes",
        }
    # One line per citizen in each file, under ids that differ from file to file.
    grades = {r["ballot"] for r in csv.DictReader(open(directory / "grades.csv"))}  # noqa: SIM115
    votes = {r["ballot"] for r in csv.DictReader(open(directory / "votes.csv"))}  # noqa: SIM115
    assert len(grades) == len(votes) == len(ids) == 6
    assert not grades & votes and not grades & set(ids)


def test_the_export_streams_rows_in_chunks_without_model_instances(voted, tmp_path, monkeypatch):
    consultation = close(voted(7))
    monkeypatch.setattr(opendata, "CHUNK_SIZE", 2)
    built = []

    def count(sender, **kwargs):
        built.append(sender)

    for model in (Ballot, BallotEntry, Grade, Vote):
        post_init.connect(count, sender=model)
    try:
        with CaptureQueriesContext(connection) as queries:
            opendata.build(consultation, tmp_path / "export")
    finally:
        for model in (Ballot, BallotEntry, Grade, Vote):
            post_init.disconnect(count, sender=model)
    assert built == []
    sql = [q["sql"] for q in queries.captured_queries]
    entries = [s for s in sql if 'FROM "consultation_ballotentry"' in s]
    per_citizen_grades = [
        s for s in sql if 'FROM "consultation_grade"' in s and '"user_id" IN' in s
    ]
    assert len(entries) == 4  # 7 ballots, 2 at a time
    assert len(per_citizen_grades) == 4  # 7 citizens, 2 at a time
    assert len(sql) < 25


def test_provisional_results_use_the_live_counters_and_matrix(voted):
    consultation = voted(6)
    row = computing.compute_results(consultation.pk, "provisional")
    assert set(row.results["methods"]) == EVERY_METHOD
    rankings = (
        [e.item_id for e in b.entries.order_by("rank")]
        for b in Ballot.objects.filter(consultation=consultation)
    )
    candidates = [i.pk for i in consultation.items.order_by("position", "id")]
    # Counted with the declared draw's seed, from the card alone while the vote runs.
    seed = row.results["draw_seed"]
    assert seed == ties.draw_seed(row.results["card"], {})
    expected = schulze(RankingProfile.from_rankings(candidates, rankings, 3), seed=seed)
    assert row.results["methods"]["schulze"] == expected.to_dict()
    assert reading.provisional_results(consultation) == row.results
    # Provisional results are never exported.
    assert row.directory == "" and row.manifest_json == ""


def test_provisional_borda_and_instant_runoff_are_those_of_the_ballots(voted):
    """Borda from the live rank counters, instant-runoff from one read of the ballots
    (a binary COPY on PostgreSQL): both as a count of the ballots themselves has them."""
    consultation = voted(12, items=5)
    document = computing.compute_results(consultation.pk, "provisional").results
    candidates = tuple(i.pk for i in consultation.items.order_by("position", "id"))
    profile = RankingProfile.from_rankings(candidates, opendata.rankings(consultation), 3)
    seed = document["draw_seed"]
    for name in ("borda", "instant_runoff"):
        expected = METHODS[name].compute(profile, seed).to_dict()
        assert document["methods"][name] == expected
    assert document["methods"]["borda"]["n_ballots"] == 12


def test_the_ranking_read_gives_every_ballot_as_the_database_holds_it(voted, monkeypatch):
    consultation = voted(9, items=5)
    candidates = tuple(i.pk for i in consultation.items.order_by("position", "id"))
    expected = RankingProfile.from_rankings(candidates, opendata.rankings(consultation), 3)
    found = ranking_reads.ranking_profile(consultation, candidates)
    assert (found.ballots == expected.ballots).all()
    monkeypatch.setattr(ranking_reads, "BATCH_BYTES", 50)  # rows cut across batches
    found = ranking_reads.ranking_profile(consultation, candidates)
    assert (found.ballots == expected.ballots).all()
    assert found.n_ballots == 9
    empty = make_consultation(items=2)
    assert ranking_reads.ranking_profile(empty, (1, 2)).n_ballots == 0


def test_the_live_ledger_gives_every_ballot_without_the_database(voted):
    consultation = voted(9, items=5)
    counters.current_counts(consultation)  # the live view built
    candidates = tuple(i.pk for i in consultation.items.order_by("position", "id"))
    expected = RankingProfile.from_rankings(candidates, opendata.rankings(consultation), 3)
    with CaptureQueriesContext(connection) as queries:
        found = counters.live_ranking_profile(consultation)
    assert len(queries) == 1  # the items, for their order; no ballot
    assert found.candidates == candidates

    def rows(profile):  # in any order: the ledger keeps no order of its own
        return sorted(map(tuple, profile.ballots.tolist()))

    assert rows(found) == rows(expected)
    stores.reset_for_tests()
    assert counters.live_ranking_profile(consultation) is None  # not built: the database


def test_the_live_matrix_follows_replaced_and_withdrawn_ballots(
    voted, make_user, django_capture_on_commit_callbacks
):
    consultation = voted(4)
    assert counters.pairwise_matrix(consultation) is not None  # built from the database
    citizen = make_user()
    items = [i.pk for i in consultation.items.order_by("position", "id")]
    with django_capture_on_commit_callbacks(execute=True):
        voting.submit_ballot(citizen, consultation, [items[0], items[1]])
    with django_capture_on_commit_callbacks(execute=True):
        voting.submit_ballot(citizen, consultation, [items[2]])
    first = Ballot.objects.filter(consultation=consultation).exclude(user=citizen).first()
    with django_capture_on_commit_callbacks(execute=True):
        voting.withdraw_ballot(first.user, consultation)
    found = counters.pairwise_matrix(consultation)
    truth = counters.recount_pairwise(consultation)
    assert found.candidates == truth.candidates
    assert (found.matrix == truth.matrix).all()
    assert found.matrix.sum() > 0
    assert "pairwise" not in repair.reconcile(consultation, full=True)


def test_the_live_matrix_never_travels_in_frames(voted):
    consultation = voted(3)
    counters.pairwise_matrix(consultation)
    frame = json.dumps(events.snapshot_frame(consultation))
    assert "pairwise" not in frame and "pairs" not in frame


def test_a_drifted_live_matrix_is_repaired_by_reconcile(voted):
    consultation = voted(3)
    found = counters.pairwise_matrix(consultation)
    found.matrix[0, 1] += 5
    stores.pairwise_store().replace(consultation.pk, found)
    assert "pairwise" in repair.reconcile(consultation, full=True)
    repaired = counters.pairwise_matrix(consultation).matrix
    assert (repaired == counters.recount_pairwise(consultation).matrix).all()


def test_a_consultation_without_participants_still_computes(organiser):
    consultation = make_consultation(items=2, status="closed", organiser=organiser)
    document = computing.compute_results(consultation.pk, "final").results
    assert document["methods"] == {}
    assert set(document["withheld"]) == {"rankings", "grades", "votes"}
