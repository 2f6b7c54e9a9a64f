"""Checking a whole published version (``python -m consultation.counting verify DIR``):
every file of the manifest against its size and SHA-256, the data package's own hashes,
and every CSV file against its Table Schema. The recounts themselves are the CLI's."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from consultation.counting.opendata.manifest import sha256_file
from consultation.counting.opendata.reading import FileError
from consultation.counting.opendata.tables import check_table

BALLOT_FILES = (
    "rankings.csv",
    "rankings.json",
    "grades.csv",
    "grades.json",
    "votes.csv",
    "votes.json",
)


def read_json(path: Path) -> Any:
    """A JSON document of ours; ``FileError`` (one sentence) when it cannot be read."""
    try:
        with open(path, encoding="utf-8-sig") as fp:
            return json.load(fp)
    except json.JSONDecodeError as error:
        raise FileError(f"{path.name}: not valid JSON ({error.msg.lower()})") from None
    except UnicodeDecodeError:
        raise FileError(f"{path.name}: not UTF-8 text") from None


def manifest_files(path: Path) -> dict[str, dict[str, Any]]:
    """``{name: {"bytes", "sha256"}}`` of a ``manifest.json``."""
    manifest = read_json(path)
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, list) or not all(
        isinstance(f, dict) and isinstance(f.get("name"), str) for f in files
    ):
        raise FileError(f"{path.name}: not an Agora manifest (no list of files)")
    return {f["name"]: f for f in files}


def listed_sha256(manifest: Path, name: str) -> str | None:
    """The SHA-256 ``manifest`` gives for ``name``; None without a manifest or entry."""
    if not manifest.is_file():
        return None
    value = manifest_files(manifest).get(name, {}).get("sha256")
    return value if isinstance(value, str) else None


def check_version(directory: Path) -> Iterator[tuple[str, bool]]:
    """``(line to print, good)`` for each check of the version in ``directory``."""
    listed = manifest_files(directory / "manifest.json")
    for name, entry in listed.items():
        path = directory / name
        if "/" in name or "\\" in name or name.startswith("."):
            yield f"MISMATCH: the manifest lists {name!r}, which is not a file name", False
        elif not path.is_file():
            yield f"MISSING: {name}", False
        elif sha256_file(path) != entry.get("sha256") or path.stat().st_size != entry.get("bytes"):
            yield f"MISMATCH: sha256 or size of {name} differs from manifest.json", False
        else:
            yield f"OK: sha256 of {name}", True
    if "datapackage.json" in listed and (directory / "datapackage.json").is_file():
        yield from _check_package(directory, listed)


def _check_package(
    directory: Path, listed: dict[str, dict[str, Any]]
) -> Iterator[tuple[str, bool]]:
    package = read_json(directory / "datapackage.json")
    resources = package.get("resources") if isinstance(package, dict) else None
    if not isinstance(resources, list) or not all(isinstance(r, dict) for r in resources):
        raise FileError("datapackage.json: no list of resources")
    for resource in resources:
        name = resource.get("path")
        if not isinstance(name, str) or name not in listed:
            yield f"MISMATCH: datapackage.json describes {name!r}, not in the manifest", False
            continue
        if resource.get("hash") != f"sha256:{listed[name].get('sha256')}":
            yield f"MISMATCH: datapackage.json's hash of {name} is not the manifest's", False
            continue
        schema = resource.get("schema")
        if schema is None:
            continue
        if isinstance(schema, str):
            if schema not in listed:
                yield f"MISMATCH: the schema of {name}, {schema}, is not in the manifest", False
                continue
            schema = read_json(directory / schema)
        if not isinstance(schema, dict):
            raise FileError(f"datapackage.json: the schema of {name} is not an object")
        # Ballot files are large: the recount refuses a repeated ballot or answer itself.
        unique = name not in BALLOT_FILES
        try:
            rows = check_table(directory / name, schema, unique_keys=unique)
        except ValueError as error:
            yield f"MISMATCH: {error}", False
        else:
            yield f"OK: {name} follows its table schema ({rows} rows)", True
