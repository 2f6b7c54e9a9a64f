"""The recount refuses what it cannot trust: each hostile file gets one line naming the file
(and the line) and the reason, exit code 2, never a traceback nor a raw Python message."""

import json

import pytest

from consultation.counting import compute
from consultation.counting import opendata as od
from tests.counting.test_cli import published, run
from tests.counting.test_opendata import write_items, write_rankings_dir

ITEMS_CSV = "item,position,theme,title,title_en\n10,1,,A,\n11,2,,B,\n12,3,,C,\n"
RANKINGS_HEAD = '{"format": "agora-rankings/1", "consultation": "c", "ranking_size": 3, '
RANKINGS_HEAD += '"items": [10, 11, 12], "ballots": [\n'
GRADES_HEAD = '{"format": "agora-grades/1", "consultation": "c", "scale": 7, '
GRADES_HEAD += '"items": [10, 11, 12], "ballots": [\n'
VOTES_HEAD = '{"format": "agora-votes/1", "consultation": "c", "items": [10, 11, 12], '
VOTES_HEAD += '"ballots": [\n'

# (case, file name, its content, words the one line must hold)
HOSTILE = [
    (
        "a grade twice for the same ballot and item",
        "grades.csv",
        "ballot,item,grade\nb1,10,6\nb2,10,1\nb1,10,6\n",
        ["grades.csv, line 4", "ballot b1 answers item 10 twice"],
    ),
    (
        "a vote twice for the same ballot and item",
        "votes.csv",
        "ballot,item,choice\nb1,10,for\nb1,11,for\nb1,10,against\n",
        ["votes.csv, line 4", "ballot b1 answers item 10 twice"],
    ),
    (
        "the same ballot id twice in rankings.csv",
        "rankings.csv",
        "ballot,rank_1,rank_2,rank_3\nb1,10,11,\nb2,11,,\nb1,12,,\n",
        ["rankings.csv, line 4", "ballot b1 appears twice"],
    ),
    (
        "the same ballot id twice in rankings.json",
        "rankings.json",
        RANKINGS_HEAD
        + '{"ballot": "b1", "ranking": [10]},\n{"ballot": "b1", "ranking": [11]}\n]}\n',
        ["rankings.json, line 3", "ballot b1 appears twice"],
    ),
    (
        "a gap in a ranking",
        "rankings.csv",
        "ballot,rank_1,rank_2,rank_3\nb1,10,11,\nb2,10,,11\n",
        ["rankings.csv, line 3", "rank 2 is empty but a later rank is filled"],
    ),
    (
        "an empty first rank",
        "rankings.csv",
        "ballot,rank_1,rank_2,rank_3\nb1,,,\n",
        ["rankings.csv, line 2", "ranks no item"],
    ),
    (
        "a header and no ballot (rankings)",
        "rankings.csv",
        "ballot,rank_1,rank_2,rank_3\n",
        ["rankings.csv", "no ballots"],
    ),
    (
        "a header and no ballot (grades)",
        "grades.csv",
        "ballot,item,grade\n",
        ["grades.csv", "no ballots"],
    ),
    (
        "a header and no ballot (votes)",
        "votes.csv",
        "ballot,item,choice\n",
        ["votes.csv", "no ballots"],
    ),
    (
        "no ballot in a JSON file",
        "votes.json",
        VOTES_HEAD + "]}\n",
        ["votes.json", "no ballots"],
    ),
    (
        "a votes.json ballot whose votes is a list",
        "votes.json",
        VOTES_HEAD + '{"ballot": "b1", "votes": ["for", "against"]}\n]}\n',
        ["votes.json, line 2", "'votes' is not an object"],
    ),
    (
        "a grades.json ballot whose grades is a list",
        "grades.json",
        GRADES_HEAD + '{"ballot": "b1", "grades": [6, 2]}\n]}\n',
        ["grades.json, line 2", "'grades' is not an object"],
    ),
    (
        "a grades.json ballot that grades an item twice (a key given twice)",
        "grades.json",
        GRADES_HEAD + '{"ballot": "b1", "grades": {"10": 6, "10": 0}}\n]}\n',
        ["grades.json, line 2", "'10' appears twice"],
    ),
    (
        "a votes.json ballot that is not an object",
        "votes.json",
        VOTES_HEAD + '["b1", "for"]\n]}\n',
        ["votes.json, line 2", "not a JSON object"],
    ),
    (
        "a grade written as text in JSON",
        "grades.json",
        GRADES_HEAD + '{"ballot": "b1", "grades": {"10": "six"}}\n]}\n',
        ["grades.json, line 2", "grade 'six' is not an integer"],
    ),
    (
        "a grade outside the scale",
        "grades.csv",
        "ballot,item,grade\nb1,10,9\n",
        ["grades.csv, line 2", "grade 9 is outside 0..6"],
    ),
    (
        "an unknown item in votes.csv",
        "votes.csv",
        "ballot,item,choice\nb1,99,for\n",
        ["votes.csv, line 2", "unknown item 99"],
    ),
    (
        "text that is not UTF-8",
        "rankings.csv",
        b"ballot,rank_1,rank_2,rank_3\nb1,10,\xff\xfe,\n",
        ["rankings.csv", "not UTF-8"],
    ),
    (
        "a JSON file that is a list",
        "rankings.json",
        "[1, 2, 3]\n",
        ["rankings.json", "not an Agora ballots file"],
    ),
    (
        "a JSON file cut in the middle",
        "rankings.json",
        RANKINGS_HEAD + '{"ballot": "b1", "ranking": [10]},\n{"ballot": "b2", "rank',
        ["rankings.json, line 3", "malformed JSON"],
    ),
    (
        "an unclosed quote in a CSV file",
        "votes.csv",
        'ballot,item,choice\nb1,10,"for\n',
        ["votes.csv", "line"],
    ),
]
RAW_PYTHON = ("Traceback", "invalid literal", "object has no attribute", "codec can't", "Errno")


def write(directory, name, content):
    path = directory / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [case[1:] for case in HOSTILE],
    ids=[case[0] for case in HOSTILE],
)
def test_recount_refuses_a_hostile_file_in_one_line(tmp_path, name, content, words):
    write(tmp_path, "items.csv", ITEMS_CSV)
    path = write(tmp_path, name, content)
    done = run("recount", str(path), *(["--scale", "7"] if name == "grades.csv" else []))
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    for word in words:
        assert word in lines[0], lines[0]
    assert not any(raw in done.stderr for raw in RAW_PYTHON)
    if name.endswith(".json"):
        assert "CSV" not in lines[0]


def test_a_results_file_whose_computed_from_is_not_an_object_is_refused(tmp_path):
    write_rankings_dir(tmp_path)
    results = published(tmp_path)
    document = json.loads(results.read_text(encoding="utf-8"))
    document["computed_from"] = ["rankings.csv"]
    results.write_text(json.dumps(document), encoding="utf-8")
    done = run("recount", str(tmp_path / "rankings.csv"), "--verify", str(results))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: results.json: 'computed_from' is not an object of file names and SHA-256 hashes"
    ]


def test_a_results_file_whose_methods_is_a_list_is_refused(tmp_path):
    write_rankings_dir(tmp_path)
    results = published(tmp_path)
    document = json.loads(results.read_text(encoding="utf-8"))
    document["methods"] = []
    results.write_text(json.dumps(document), encoding="utf-8")
    done = run("recount", str(tmp_path / "rankings.csv"), "--verify", str(results))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "'methods' is not an object" in done.stderr


def test_a_spreadsheet_byte_order_mark_is_accepted(tmp_path):
    write_rankings_dir(tmp_path)
    plain = compute("schulze", od.load_profile(tmp_path / "rankings.csv")).to_dict()
    for name in ("rankings.csv", "items.csv"):
        path = tmp_path / name
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    done = run("recount", str(tmp_path / "rankings.csv"), "--method", "schulze", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == plain


def test_a_missing_file_is_named_in_one_line(tmp_path):
    done = run("recount", str(tmp_path / "nothing.csv"))
    assert done.returncode == 2
    assert done.stderr.strip() == "error: nothing.csv: No such file or directory"


@pytest.mark.parametrize("name", ["rankings.json", "rankings.csv"])
def test_verify_checks_the_json_ballots_file_as_well_as_the_csv(tmp_path, name):
    write_rankings_dir(tmp_path)
    results = published(tmp_path)  # computed_from lists rankings.csv only, as the site's
    files = [
        {"name": n, "bytes": (tmp_path / n).stat().st_size, "sha256": od.sha256_file(tmp_path / n)}
        for n in ("items.csv", "rankings.csv", "rankings.json", "results.json")
    ]
    (tmp_path / "manifest.json").write_text(
        json.dumps({"format": "agora-manifest/1", "files": files}), encoding="utf-8"
    )
    done = run("recount", str(tmp_path / name), "--verify", str(results))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == "OK"
    assert f"OK: sha256 of {name}" in done.stdout


def test_verify_of_a_json_file_changed_after_publication_is_a_mismatch(tmp_path):
    write_rankings_dir(tmp_path)
    results = published(tmp_path)
    files = [{"name": "rankings.json", "bytes": 1, "sha256": "0" * 64}]
    (tmp_path / "manifest.json").write_text(json.dumps({"files": files}), encoding="utf-8")
    done = run("recount", str(tmp_path / "rankings.json"), "--verify", str(results))
    assert done.returncode == 1
    assert "MISMATCH: sha256 of rankings.json" in done.stdout


def test_ballots_without_items_file_still_refuse_a_repeated_answer(tmp_path):
    write(tmp_path, "votes.csv", "ballot,item,choice\nb1,10,for\nb1,10,for\n")
    done = run("recount", str(tmp_path / "votes.csv"))
    assert done.returncode == 2
    assert "votes.csv, line 3: ballot b1 answers item 10 twice" in done.stderr


def test_writing_items_keeps_the_recount_working(tmp_path):
    # The fixtures' own files still recount: the refusals above are not false alarms.
    write_rankings_dir(tmp_path)
    write_items(tmp_path)
    for name in ("rankings.csv", "rankings.json"):
        assert run("recount", str(tmp_path / name)).returncode == 0
