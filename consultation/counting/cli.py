"""``python -m consultation.counting``: recount open data without Django or a database.

    python -m consultation.counting methods
    python -m consultation.counting recount rankings.csv --method schulze [--json] [--lang en]
    python -m consultation.counting recount rankings.csv --verify results.json
    python -m consultation.counting verify v2/     # every file of a published version

Exit codes: 0 done (or verified OK), 1 verification MISMATCH, 2 usage or input error
(one line on stderr naming the file, the line and the reason).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from consultation.counting.explain import explain
from consultation.counting.methods import METHODS, compute, kind_of, methods_for
from consultation.counting.opendata import (
    BALLOT_FILES,
    RESULTS_FORMAT,
    FileError,
    item_titles,
    listed_sha256,
    load_profile,
    sha256_file,
    verifying,
)
from consultation.counting.profiles import Profile
from consultation.counting.result import Result
from consultation.counting.ties import draw_seed


class InputError(Exception):
    """A problem with the user's files or options: one line on stderr, exit code 2."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "methods":
            return _methods(args)
        if args.command == "verify":
            return _verify_directory(args)
        return _recount(args)
    except (InputError, FileError) as error:
        print(f"error: {_one_line(str(error))}", file=sys.stderr)
    except OSError as error:
        name = Path(error.filename).name if error.filename else "a file"
        print(f"error: {name}: {error.strerror or 'cannot be read'}", file=sys.stderr)
    except MemoryError:
        print("error: not enough memory to read these files", file=sys.stderr)
    except Exception as error:  # a case no check of ours foresaw: still one line
        print(
            f"error: these files cannot be read (unexpected content: {type(error).__name__})",
            file=sys.stderr,
        )
    return 2


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m consultation.counting",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("methods", help="list the counting methods")
    listing.add_argument("--lang", choices=("fr", "en"), default="fr")
    recount = commands.add_parser("recount", help="recount an open-data ballots file")
    recount.add_argument("file", type=Path, help="rankings/grades/votes file, CSV or JSON")
    recount.add_argument(
        "--method",
        choices=sorted(METHODS),
        help="default: the file's usual method (schulze, majority_judgment or votes)",
    )
    recount.add_argument("--json", action="store_true", help="print the result's exact JSON")
    recount.add_argument("--lang", choices=("fr", "en"), default="fr")
    recount.add_argument("--scale", type=int, choices=(6, 7), help="grade scale of a CSV")
    recount.add_argument(
        "--seed",
        help="the published seed of the declared draw that breaks ties (results.json, "
        "details.tie_break.seed); --verify reads it from results.json",
    )
    recount.add_argument(
        "--verify",
        type=Path,
        metavar="RESULTS_JSON",
        help="compare with a published results.json (exit 0 OK, 1 MISMATCH)",
    )
    verify = commands.add_parser(
        "verify",
        help="check a whole published version: hashes, table schemas, every recount",
    )
    verify.add_argument("directory", type=Path, help="the directory of manifest.json")
    return parser


def _methods(args: argparse.Namespace) -> int:
    for method in METHODS.values():
        title = method.title_en if args.lang == "en" else method.title_fr
        print(f"{method.name:<18} {method.kind:<8} {title}")
    return 0


DEFAULT_METHOD = {"ranking": "schulze", "grades": "majority_judgment", "votes": "votes"}


def _recount(args: argparse.Namespace) -> int:
    profile = load_profile(args.file, scale=args.scale)
    kind = kind_of(profile)
    if args.method and METHODS[args.method].kind != kind:
        raise InputError(
            f"{args.method} counts {METHODS[args.method].kind} ballots but {args.file.name} "
            f"holds {kind} ballots (methods for it: {', '.join(methods_for(kind))})"
        )
    if args.verify:
        return _verify(args, profile, kind)
    result = compute(args.method or DEFAULT_METHOD[kind], profile, args.seed)
    if args.json:
        print(result.to_json())
    else:
        print(readable(result, args.lang, item_titles(args.file, args.lang)))
    return 0


def readable(result: Result, lang: str = "fr", names: dict[int, str] | None = None) -> str:
    """Order, ties, scores and the reason for each consecutive pair, as plain text."""
    en = lang == "en"
    title = METHODS[result.method].title_en if en else METHODS[result.method].title_fr
    lines = [f"{title} — {result.n_ballots} " + ("ballots" if en else "bulletins"), ""]
    for rank, tier in enumerate(result.tiers, start=1):
        tie = (" (tied)" if en else " (ex æquo)") if len(tier) > 1 else ""
        for item in tier:
            name = f"{item} {names[item]}" if names and item in names else str(item)
            lines.append(f"{rank:>3}. {name}{tie}  {_score_text(result.scores[item])}")
    lines += ["", "Why:" if en else "Pourquoi :"]
    for a, b in zip(result.order, result.order[1:], strict=False):
        lines.append(f"  - {explain(result, a, b, lang, names)}")
    return "\n".join(lines)


def _score_text(score: dict[str, Any]) -> str:
    shown = {k: v for k, v in score.items() if not isinstance(v, list | dict)}
    return "  ".join(f"{k}={_short(v)}" for k, v in shown.items())


def _short(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _verify(args: argparse.Namespace, profile: Profile, kind: str) -> int:
    published = _results_document(args.verify)
    ok = _verify_hash(args.file, published["computed_from"], args.verify.parent)
    names = (
        [args.method]
        if args.method
        else [name for name in published["methods"] if name in methods_for(kind)]
    )
    if not names:
        raise InputError(f"{args.verify.name} publishes no {kind} method to verify")
    ok &= _verify_seed(published)
    for name in names:
        ok &= _verify_method(name, published["methods"].get(name), profile)
    print("OK" if ok else "MISMATCH")
    return 0 if ok else 1


def _verify_seed(published: dict[str, Any]) -> bool:
    """The draw's published seed is the one the frozen card and the ballot files give:
    nobody chose it after seeing which items tie (docs/counting.md). Results published
    before the card existed have no seed: nothing to check."""
    if "draw_seed" not in published:
        return True
    card = published.get("card")
    if not isinstance(card, dict):
        raise InputError("results.json: 'card' is not an object")
    expected = draw_seed(card, published["computed_from"])
    if published["draw_seed"] != expected:
        print(f"MISMATCH: draw_seed is not the seed of the card and the ballots ({expected})")
        return False
    print("OK: draw_seed is the seed of the card and the ballot files")
    return True


def _results_document(path: Path) -> dict[str, Any]:
    """A published ``results.json``, its shape checked: every refusal is one sentence."""
    try:
        with open(path, encoding="utf-8-sig") as fp:
            published = json.load(fp)
    except json.JSONDecodeError as error:
        raise InputError(f"{path.name}: not valid JSON ({error.msg.lower()})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path.name}: not UTF-8 text") from None
    if not isinstance(published, dict) or published.get("format") != RESULTS_FORMAT:
        raise InputError(f"{path.name}: not an {RESULTS_FORMAT} file")
    computed_from = published.get("computed_from", {})
    if not isinstance(computed_from, dict) or not all(
        isinstance(v, str) for v in computed_from.values()
    ):
        raise InputError(
            f"{path.name}: 'computed_from' is not an object of file names and SHA-256 hashes"
        )
    methods = published.get("methods", {})
    if not isinstance(methods, dict):
        raise InputError(f"{path.name}: 'methods' is not an object of results by method")
    return {**published, "computed_from": computed_from, "methods": methods}


def _verify_method(name: str, expected: Any, profile: Profile) -> bool:
    recounted = json.loads(compute(name, profile, _published_seed(name, expected)).to_json())
    same = bool(expected == recounted)
    print(
        f"{'OK' if same else 'MISMATCH'}: {name}"
        + ("" if same else _first_difference(expected, recounted))
    )
    return same


def _published_seed(name: str, expected: Any) -> str | None:
    """The seed of the declared draw the published result was counted with (None: none)."""
    details = expected.get("details") if isinstance(expected, dict) else None
    rule = details.get("tie_break") if isinstance(details, dict) else None
    seed = rule.get("seed") if isinstance(rule, dict) else None
    if seed is not None and not isinstance(seed, str):
        raise InputError(f"results.json: the tie-break seed of {name} is not text")
    return seed


def _verify_hash(path: Path, computed_from: dict[str, str], beside: Path) -> bool:
    """The ballots file's SHA-256 against ``computed_from``; a file not listed there (the
    JSON twin of the CSV the site counted) against the ``manifest.json`` beside."""
    expected, source = computed_from.get(path.name), ""
    if expected is None:
        expected, source = listed_sha256(beside / "manifest.json", path.name), " (manifest.json)"
    actual = sha256_file(path)
    if expected is None:
        print(f"MISMATCH: {path.name} is not listed in computed_from nor in a manifest.json")
        return False
    if expected != actual:
        print(f"MISMATCH: sha256 of {path.name} is {actual}, published {expected}{source}")
        return False
    print(f"OK: sha256 of {path.name}{source}")
    return True


def _verify_directory(args: argparse.Namespace) -> int:
    """``verify DIR``: every file of a published version, its hash, its table schema, and
    every ballots file recounted against ``results.json``."""
    directory: Path = args.directory
    if not (directory / "manifest.json").is_file():
        raise InputError(f"{directory.name}: no manifest.json in this directory")
    ok = True
    for line, good in verifying.check_version(directory):
        print(line)
        ok &= good
    published = _results_document(directory / "results.json")
    ok &= _verify_seed(published)
    if "card" in published and "card.json" in verifying.manifest_files(directory / "manifest.json"):
        same = verifying.read_json(directory / "card.json") == published["card"]
        print(f"{'OK' if same else 'MISMATCH'}: card.json is the card results.json counted with")
        ok &= same
    for name in BALLOT_FILES:
        path = directory / name
        if not path.is_file():
            continue
        profile = load_profile(path)
        kind = kind_of(profile)
        for method in [m for m in published["methods"] if m in methods_for(kind)]:
            print(f"{name}: ", end="")
            ok &= _verify_method(method, published["methods"][method], profile)
    print("OK" if ok else "MISMATCH")
    return 0 if ok else 1


def _first_difference(expected: Any, actual: Any, where: str = "") -> str:
    if expected is None:
        return " (not published)"
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in list(expected) + [k for k in actual if k not in expected]:
            if expected.get(key) != actual.get(key):
                return _first_difference(expected.get(key), actual.get(key), f"{where}/{key}")
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            if e != a:
                return _first_difference(e, a, f"{where}/{i}")
    return f" (at {where or '/'}: published {_clip(expected)}, recounted {_clip(actual)})"


def _clip(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."
