"""The version of the counting code, as the consultation card records it at opening.

``counting_version()`` is the package's release (from ``pyproject.toml``'s ``version``, as
installed) and the first 12 hex digits of the SHA-256 of this package's Python sources,
read in name order: two sites (or a site and a recount) run the same counting code exactly
when they print the same version. No Django, computed once per process.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import metadata
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


@cache
def counting_version() -> str:
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return f"{_release()}+{digest.hexdigest()[:12]}"


def _release() -> str:
    try:
        return metadata.version("agora")
    except metadata.PackageNotFoundError:
        return "0"
