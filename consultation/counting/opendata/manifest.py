"""Hashes, the manifest and the published ``results.json``: deterministic documents."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any

from consultation.counting.opendata.formats import MANIFEST_FORMAT, RESULTS_FORMAT
from consultation.counting.result import JSON_OPTIONS, Result


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fp:
        for block in iter(lambda: fp.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_manifest(directory: str | Path, names: Iterable[str]) -> dict[str, Any]:
    """``{"format": "agora-manifest/1", "files": [{"name", "bytes", "sha256"}]}``."""
    directory = Path(directory)
    files = [
        {
            "name": name,
            "bytes": (directory / name).stat().st_size,
            "sha256": sha256_file(directory / name),
        }
        for name in names
    ]
    return {"format": MANIFEST_FORMAT, "files": files}


def build_results(results: Iterable[Result], computed_from: Mapping[str, str]) -> dict[str, Any]:
    """The published ``results.json``: every method's ``to_dict()`` and the input hashes."""
    return {
        "format": RESULTS_FORMAT,
        "methods": {r.method: r.to_dict() for r in results},
        "computed_from": dict(computed_from),
    }


def dump_json(value: Any, fp: IO[str]) -> None:
    """Deterministic JSON document (manifest, results): UTF-8, indent 2, final newline."""
    fp.write(json.dumps(value, **JSON_OPTIONS) + "\n")
