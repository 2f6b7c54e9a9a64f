"""Open-data files: streaming, deterministic writers and readers that give the same profile."""

import hashlib
import io
import json
import random

import pytest

from consultation.counting import GradeProfile, RankingProfile, VoteProfile, compute, safe_csv
from consultation.counting import opendata as od
from tests.counting.helpers import SCHULZE_45

ITEMS = [10, 11, 12, 13, 14, 15]  # 15: nobody ranks it


def schulze_ballots():
    letters = {ch: 10 + i for i, ch in enumerate("ABCDE")}
    n = 0
    for count, order in SCHULZE_45:
        for _ in range(count):
            n += 1
            yield f"b{n:04d}", [letters[ch] for ch in order]


def write_rankings_dir(directory, ballots=None, ranking_size=5):
    with (
        open(directory / "rankings.csv", "w", encoding="utf-8", newline="") as c,
        open(directory / "rankings.json", "w", encoding="utf-8", newline="") as j,
    ):
        od.write_rankings(
            c,
            j,
            consultation="budget-2027",
            ranking_size=ranking_size,
            items=ITEMS,
            ballots=ballots or schulze_ballots(),
        )
    write_items(directory)


def write_items(directory):
    rows = [
        {
            "item": item,
            "position": p,
            "theme": "Mobilité",
            "title": f"Projet {item}",
            "title_en": f"Project {item}",
        }
        for p, item in enumerate(ITEMS)
    ]
    with open(directory / "items.csv", "w", encoding="utf-8", newline="") as fp:
        od.write_items(fp, None, rows)


def test_rankings_csv_and_json_have_the_documented_shape(tmp_path):
    write_rankings_dir(tmp_path)
    csv_lines = (tmp_path / "rankings.csv").read_text(encoding="utf-8").split("\n")
    assert csv_lines[0] == "ballot,rank_1,rank_2,rank_3,rank_4,rank_5"
    assert csv_lines[1] == "b0001,10,12,11,14,13"
    document = json.loads((tmp_path / "rankings.json").read_text(encoding="utf-8"))
    assert list(document) == ["format", "consultation", "ranking_size", "items", "ballots"]
    assert document["format"] == "agora-rankings/1" and document["items"] == ITEMS
    assert document["ballots"][0] == {"ballot": "b0001", "ranking": [10, 12, 11, 14, 13]}
    assert len(document["ballots"]) == 45


def test_truncated_rankings_leave_the_last_cells_empty(tmp_path):
    write_rankings_dir(tmp_path, iter([("x1", [12]), ("x2", [11, 10])]), ranking_size=3)
    assert (tmp_path / "rankings.csv").read_text().split("\n")[1:3] == ["x1,12,,", "x2,11,10,"]


def test_writing_the_same_export_twice_gives_the_same_sha256(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write_rankings_dir(tmp_path / "a")
    write_rankings_dir(tmp_path / "b")
    for name in ("rankings.csv", "rankings.json", "items.csv"):
        assert od.sha256_file(tmp_path / "a" / name) == od.sha256_file(tmp_path / "b" / name)
    data = (tmp_path / "a" / "rankings.json").read_bytes()
    assert b"\r" not in data and data.endswith(b"]}\n")
    assert od.sha256_file(tmp_path / "a" / "rankings.json") == hashlib.sha256(data).hexdigest()


def test_writers_stream_as_they_iterate():
    out = io.StringIO()
    written = []

    def ballots():
        for n in range(3):
            yield f"b{n}", [10]
            written.append(out.tell())

    od.write_rankings(None, out, consultation="c", ranking_size=1, items=ITEMS, ballots=ballots())
    assert written[0] < written[1] < written[2]  # text left the writer ballot by ballot


@pytest.mark.parametrize(
    ("write", "options", "ballots", "message"),
    [
        (od.write_rankings, {"ranking_size": 2}, [("b1", [99])], "unknown item"),
        (od.write_rankings, {"ranking_size": 2}, [("b1", [10, 11, 12])], "invalid ranking"),
        (od.write_grades, {"scale": 6}, [("b1", {10: 6})], "outside"),
    ],
)
def test_writers_refuse_what_a_profile_would_refuse(write, options, ballots, message):
    with pytest.raises(ValueError, match=message):
        write(io.StringIO(), None, consultation="c", items=ITEMS, ballots=ballots, **options)


@pytest.mark.parametrize("name", ["rankings.csv", "rankings.json"])
def test_csv_and_json_load_to_the_same_profile_including_unranked_items(tmp_path, name):
    write_rankings_dir(tmp_path)
    profile = od.load_profile(tmp_path / name)
    assert isinstance(profile, RankingProfile)
    assert profile.candidates == tuple(ITEMS) and profile.ranking_size == 5
    assert compute("schulze", profile).order[:5] == (14, 10, 12, 11, 13)
    assert compute("schulze", profile).order[-1] == 15


def test_csv_without_items_takes_candidates_from_the_ballots_with_a_warning(tmp_path, capsys):
    write_rankings_dir(tmp_path)
    (tmp_path / "items.csv").unlink()
    profile = od.load_profile(tmp_path / "rankings.csv")
    assert profile.candidates == (10, 11, 12, 13, 14)
    assert "no items.csv" in capsys.readouterr().err


def test_items_are_read_in_position_order(tmp_path):
    (tmp_path / "items.csv").write_text(
        "item,position,theme,title,title_en\n7,2,,b,\n3,1,,a,\n9,3,,c,\n", encoding="utf-8"
    )
    assert od.read_items(tmp_path / "items.csv") == [3, 7, 9]


def grade_ballots():
    yield "g1", {12: 6, 10: 3}
    yield "g2", {10: 3}
    yield "g3", {11: 0, 12: 5, 10: 4}


def test_grades_round_trip_through_csv_and_json(tmp_path):
    with (
        open(tmp_path / "grades.csv", "w", encoding="utf-8", newline="") as c,
        open(tmp_path / "grades.json", "w", encoding="utf-8", newline="") as j,
    ):
        assert (
            od.write_grades(c, j, consultation="c", scale=7, items=ITEMS, ballots=grade_ballots())
            == 3
        )
    write_items(tmp_path)
    lines = (tmp_path / "grades.csv").read_text().split("\n")
    assert lines[:3] == ["ballot,item,grade", "g1,10,3", "g1,12,6"]  # display order
    document = json.loads((tmp_path / "grades.json").read_text(encoding="utf-8"))
    assert document["labels"][0] == "À rejeter" and document["labels"][-1] == "Excellent"
    assert document["ballots"][0] == {"ballot": "g1", "grades": {"10": 3, "12": 6}}
    from_csv = od.load_profile(tmp_path / "grades.csv")
    from_json = od.load_profile(tmp_path / "grades.json")
    assert isinstance(from_csv, GradeProfile) and from_csv.scale == 7
    assert from_csv.counts.tolist() == from_json.counts.tolist()
    assert from_csv.n_ballots == from_json.n_ballots == 3
    assert from_csv.counts[0].tolist() == [0, 0, 0, 2, 1, 0, 0]


def test_votes_round_trip_through_csv_and_json(tmp_path):
    ballots = [("v1", {11: "for", 10: "abstain"}), ("v2", {11: "against"})]
    with (
        open(tmp_path / "votes.csv", "w", encoding="utf-8", newline="") as c,
        open(tmp_path / "votes.json", "w", encoding="utf-8", newline="") as j,
    ):
        od.write_votes(c, j, consultation="c", items=ITEMS, ballots=ballots)
    write_items(tmp_path)
    for name in ("votes.csv", "votes.json"):
        profile = od.load_profile(tmp_path / name)
        assert isinstance(profile, VoteProfile) and profile.n_ballots == 2
        assert profile.counts[:2].tolist() == [[0, 0, 1], [1, 1, 0]]


def test_manifest_lists_names_sizes_and_hashes(tmp_path):
    write_rankings_dir(tmp_path)
    manifest = od.build_manifest(tmp_path, ["items.csv", "rankings.csv"])
    assert manifest["format"] == "agora-manifest/1"
    first = manifest["files"][0]
    assert first["name"] == "items.csv"
    assert first["bytes"] == (tmp_path / "items.csv").stat().st_size
    assert first["sha256"] == od.sha256_file(tmp_path / "items.csv")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("ballot,rank_1\nb1,99\n", "unknown item 99"),
        ("ballot,rank_1,rank_2\nb1,10\n", "2 cells, expected 3"),
        ("ballot,rank_1\nb1,ten\n", "'ten' is not an integer"),
        ("voter,item\n", "header starting with 'ballot'"),
        ("ballot,colour\n", "unknown CSV header"),
    ],
)
def test_malformed_csv_files_raise_clear_errors(tmp_path, content, message):
    write_items(tmp_path)
    (tmp_path / "rankings.csv").write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        od.load_profile(tmp_path / "rankings.csv")


def test_truncated_json_raises_a_clear_error(tmp_path):
    write_rankings_dir(tmp_path)
    path = tmp_path / "rankings.json"
    path.write_text(path.read_text(encoding="utf-8")[:-4], encoding="utf-8")
    with pytest.raises(ValueError, match=r"truncated|malformed"):
        od.load_profile(path)


def test_any_valid_json_layout_is_read_too(tmp_path):
    document = {
        "format": "agora-rankings/1",
        "consultation": "c",
        "ranking_size": 2,
        "items": [1, 2],
        "ballots": [{"ballot": "a", "ranking": [2, 1]}],
    }
    (tmp_path / "rankings.json").write_text(json.dumps(document, indent=4), encoding="utf-8")
    profile = od.load_profile(tmp_path / "rankings.json")
    assert profile.ballots.tolist() == [[1, 0]]


# --- cells a spreadsheet would run as formulas (safe_csv) ---------------------------------


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        # OWASP's rule: a quote before a cell starting with = + - @ TAB CR.
        (
            '=HYPERLINK("https://attacker.example";"Voir")',
            '\'=HYPERLINK("https://attacker.example";"Voir")',
        ),
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+33 6 12 34 56 78", "'+33 6 12 34 56 78"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("-2+3", "'-2+3"),
        ("\tTab", "'\tTab"),
        ("\rCR", "'\rCR"),
        # A French spreadsheet starts a cell after each ";".
        ("Horaires;=1+1", "Horaires;'=1+1"),
        (";;-1", ";;'-1"),
        # Quotes before a trigger get one more, so that the text can be restored exactly.
        ("'=x", "''=x"),
        ("a;''@x", "a;'''@x"),
        # Harmless text is left alone.
        ("", ""),
        ("Mesure 12", "Mesure 12"),
        ("Pistes cyclables - phase 2", "Pistes cyclables - phase 2"),
        ("a = b", "a = b"),
        (" =1+1", " =1+1"),
        ("Horaires ; =1+1", "Horaires ; =1+1"),
        ("'Tis", "'Tis"),
        ("e-mail@example.org", "e-mail@example.org"),
        ("7f3a09c2d1e4b5a6", "7f3a09c2d1e4b5a6"),
        ("against", "against"),
        # Numbers are numbers, never formulas: ids, positions, grades are left as they are.
        (12, 12),
        (0, 0),
        (-3, -3),
        (None, None),
    ],
)
def test_a_cell_a_spreadsheet_would_run_is_written_as_text(typed, written):
    assert safe_csv.neutralise(typed) == written
    assert safe_csv.restore(written) == typed


def test_restoring_gives_back_any_text_exactly():
    rng = random.Random(3)
    alphabet = "=+-@\t\r';a "
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
        written = safe_csv.neutralise(text)
        assert safe_csv.restore(written) == text
        assert not any(part.startswith(tuple(safe_csv.TRIGGERS)) for part in written.split(";"))


def test_items_csv_neutralises_titles_and_the_readers_restore_them(tmp_path):
    titles = ["=1+1", "-2+3", "Horaires;@x", "Projet"]
    rows = [
        {"item": item, "position": p, "theme": "-t", "title": t, "title_en": "+en"}
        for p, (item, t) in enumerate(zip(ITEMS, titles, strict=False), start=1)
    ]
    with (
        open(tmp_path / "items.csv", "w", encoding="utf-8", newline="") as c,
        open(tmp_path / "items.json", "w", encoding="utf-8", newline="") as j,
    ):
        od.write_items(c, j, rows)
    lines = (tmp_path / "items.csv").read_text(encoding="utf-8").split("\n")
    assert lines[1:5] == [
        "10,1,'-t,'=1+1,'+en",
        "11,2,'-t,'-2+3,'+en",
        "12,3,'-t,Horaires;'@x,'+en",
        "13,4,'-t,Projet,'+en",
    ]
    assert json.loads((tmp_path / "items.json").read_text())["items"][0]["title"] == "=1+1"
    assert od.read_items(tmp_path / "items.csv") == ITEMS[:4]
    assert list(od.item_titles(tmp_path / "rankings.csv").values()) == titles
    assert list(od.item_titles(tmp_path / "rankings.csv", "en").values()) == ["+en"] * 4
