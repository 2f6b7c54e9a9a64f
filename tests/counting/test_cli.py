"""The recount CLI, run as a citizen would: a fresh interpreter, no Django settings."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from consultation.counting import JSON_OPTIONS, compute
from consultation.counting import opendata as od
from consultation.counting.cli import main
from tests.counting.test_opendata import write_items, write_rankings_dir

ROOT = Path(__file__).resolve().parents[2]
NO_DJANGO = "assert not any(m.startswith('django') for m in sys.modules), 'django imported'"


def run(*args, code=None):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    command = (
        [sys.executable, "-c", code]
        if code
        else [sys.executable, "-m", "consultation.counting", *args]
    )
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_importing_the_package_does_not_import_django():
    done = run(code=f"import consultation.counting, sys; {NO_DJANGO}")
    assert done.returncode == 0, done.stderr


def test_a_recount_imports_no_django_and_needs_no_settings(tmp_path):
    write_rankings_dir(tmp_path)
    code = (
        "import sys; from consultation.counting.cli import main; "
        f"rc = main(['recount', {str(tmp_path / 'rankings.csv')!r}, '--method', 'schulze']); "
        f"{NO_DJANGO}; sys.exit(rc)"
    )
    done = run(code=code)
    assert done.returncode == 0, done.stderr
    assert "Méthode de Schulze — 45 bulletins" in done.stdout


def test_recount_prints_order_ties_scores_and_reasons(tmp_path):
    write_rankings_dir(tmp_path)
    done = run("recount", str(tmp_path / "rankings.csv"), "--method", "schulze", "--lang", "en")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Schulze method — 45 ballots"
    assert lines[2].startswith("  1. 14 Project 14  wins=5")
    assert "The strongest path from Project 14 to Project 10 has strength 25" in done.stdout


def test_recount_json_is_exactly_the_published_to_dict(tmp_path):
    write_rankings_dir(tmp_path)
    done = run("recount", str(tmp_path / "rankings.json"), "--method", "instant_runoff", "--json")
    assert done.returncode == 0, done.stderr
    result = compute("instant_runoff", od.load_profile(tmp_path / "rankings.json"))
    assert done.stdout == json.dumps(result.to_dict(), **JSON_OPTIONS) + "\n"


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        ("rankings", ["--method", "majority_judgment"], "majority_judgment counts grades"),
        ("unknown item", [], "unknown item 99"),
        ("malformed", [], "not an integer"),
        ("missing", [], "No such file"),
    ],
)
def test_bad_input_gives_one_clear_line_and_exit_code_2(tmp_path, setup, args, message):
    write_rankings_dir(tmp_path)
    path = tmp_path / "rankings.csv"
    if setup == "unknown item":
        path.write_text("ballot,rank_1\nb1,99\n", encoding="utf-8")
    elif setup == "malformed":
        path.write_text("ballot,rank_1\nb1,x\n", encoding="utf-8")
    elif setup == "missing":
        path = tmp_path / "nothing.csv"
    done = run("recount", str(path), *args)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and message in done.stderr
    assert done.stderr.startswith("error: ")


def test_methods_lists_every_method_with_its_kind(capsys):
    assert main(["methods", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    for name, kind in [
        ("schulze", "ranking"),
        ("majority_judgment", "grades"),
        ("votes", "votes"),
        ("instant_runoff", "ranking"),
    ]:
        assert any(line.split()[:2] == [name, kind] for line in out.splitlines())


def published(tmp_path, names=("schulze", "borda"), source="rankings.csv"):
    profile = od.load_profile(tmp_path / source)
    results = [compute(name, profile) for name in names]
    document = od.build_results(results, {source: od.sha256_file(tmp_path / source)})
    with open(tmp_path / "results.json", "w", encoding="utf-8", newline="") as fp:
        od.dump_json(document, fp)
    return tmp_path / "results.json"


def test_verify_recounts_and_checks_the_hash(tmp_path, capsys):
    write_rankings_dir(tmp_path)
    results = published(tmp_path)
    assert main(["recount", str(tmp_path / "rankings.csv"), "--verify", str(results)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["OK: sha256 of rankings.csv", "OK: schulze", "OK: borda", "OK"]


def test_verify_reports_a_changed_ballots_file(tmp_path, capsys):
    write_rankings_dir(tmp_path)
    results = published(tmp_path)
    path = tmp_path / "rankings.csv"
    path.write_text(
        path.read_text(encoding="utf-8")
        .replace("b0001,10", "b0001,11,10", 1)
        .replace("11,14,13", "14,13", 1),
        encoding="utf-8",
    )
    code = main(["recount", str(path), "--verify", str(results), "--method", "schulze"])
    out = capsys.readouterr().out
    assert code == 1
    assert "MISMATCH: sha256 of rankings.csv" in out and out.rstrip().endswith("MISMATCH")


def test_verify_reports_a_changed_published_result(tmp_path, capsys):
    write_rankings_dir(tmp_path)
    results = published(tmp_path)
    document = json.loads(results.read_text(encoding="utf-8"))
    document["methods"]["borda"]["scores"]["10"]["points"] += 1
    results.write_text(json.dumps(document), encoding="utf-8")
    code = main(["recount", str(tmp_path / "rankings.csv"), "--verify", str(results)])
    out = capsys.readouterr().out
    assert code == 1
    assert "OK: schulze" in out
    assert "MISMATCH: borda (at /scores/10/points: published" in out


def test_verify_in_a_fresh_interpreter_exits_0(tmp_path):
    write_rankings_dir(tmp_path)
    results = published(tmp_path, ("copeland",), "rankings.json")
    done = run("recount", str(tmp_path / "rankings.json"), "--verify", str(results))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == "OK"


def test_grades_csv_recount_uses_majority_judgment_by_default(tmp_path, capsys):
    with open(tmp_path / "grades.csv", "w", encoding="utf-8", newline="") as fp:
        od.write_grades(
            fp,
            None,
            consultation="c",
            scale=7,
            items=[10, 11, 12, 13, 14, 15],
            ballots=[("g1", {10: 6, 11: 2}), ("g2", {10: 5, 11: 6})],
        )
    write_items(tmp_path)
    assert main(["recount", str(tmp_path / "grades.csv"), "--scale", "7", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["method"] == "majority_judgment" and data["order"][0] == 10
    assert data["scores"]["10"]["median_label"] == "Très bien"
