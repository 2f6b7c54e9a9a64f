"""How the open-data readers refuse what they cannot trust: ``FileError``, whose message
names the file (and the line), and the small checks every reader shares.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

# "utf-8-sig" reads plain UTF-8 and drops a byte order mark at the start if there is one.
ENCODING = "utf-8-sig"


class FileError(ValueError):
    """An open-data file that cannot be trusted: the message names the file (and line)."""


# Where a row is: a line number (CSV, the JSON layout the writers produce) or "ballot n" (other
# JSON). Kept as is while reading and worded only when something is refused: a string built
# for each of a million rows would cost more than the checks themselves.
Where = int | str


def place(path: Path, where: Where) -> str:
    return f"{path.name}, line {where}" if isinstance(where, int) else f"{path.name}, {where}"


def named[T](path: Path, read: Callable[[], T]) -> T:
    """Run ``read``; give its refusals the file's name, and a decoding error a sentence."""
    try:
        return read()
    except FileError:
        raise
    except UnicodeDecodeError as error:
        byte = error.object[error.start : error.start + 1].hex()
        raise FileError(f"{path.name}: not UTF-8 text (byte 0x{byte} cannot be read)") from None
    except ValueError as error:  # a profile's own refusal: already a sentence of ours
        raise FileError(f"{path.name}: {error}") from None


class _DuplicateKey(Exception):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise _DuplicateKey(next(k for k in keys if keys.count(k) > 1))
    return dict(pairs)


def json_value(text: str, path: Path, where: Where | None) -> Any:
    """Parse ``text``; a key given twice in one object is refused (JSON would keep the
    last one silently)."""
    at = path.name if where is None else place(path, where)
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as error:
        raise FileError(f"{at}: malformed JSON ({error.msg.lower()})") from None
    except _DuplicateKey as key:
        raise FileError(f"{at}: the key {key.args[0]!r} appears twice in one object") from None
    except RecursionError:
        raise FileError(f"{at}: JSON nested too deeply") from None


def whole_number(cell: Any, path: Path, where: Where | None, what: str) -> int:
    """A whole number written in ASCII digits (no sign, space or ``_``), or a refusal."""
    if type(cell) is str and cell.isdigit() and cell.isascii():
        try:
            return int(cell)
        except ValueError:  # more digits than Python converts
            pass
    at = path.name if where is None else place(path, where)
    raise FileError(f"{at}: {what} {cell!r} is not an integer")
