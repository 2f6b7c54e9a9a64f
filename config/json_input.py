"""The one reader of JSON that comes from outside: API bodies, imported files, websocket
frames.

Python's ``json.loads`` accepts two things that later surface as server errors: an
escaped lone surrogate (``"\\ud800"``), a string that neither UTF-8 nor the database can
store, and arbitrarily deep nesting (``[[[[…]]]]``), which ends in a ``RecursionError``.
pydantic-core's parser (already here through django-ninja; decision 0024) refuses both
while parsing, as invalid JSON with a line and column: a lone surrogate, and nesting
deeper than its recursion limit (about 200 levels; our documents have 3 or 4). Callers
turn ``InvalidJson`` into their 4xx or form error.
"""

from typing import Any

from pydantic_core import from_json


class InvalidJson(ValueError):
    """Not a JSON document we accept; ``str()`` says why and where."""


def load_json(data: bytes | str) -> Any:
    """The document in ``data`` (UTF-8 bytes, or text), or ``InvalidJson``."""
    try:
        if isinstance(data, str):
            data = data.encode()  # a raw lone surrogate fails here
        # No string cache: a process-wide cache would keep what people sent.
        return from_json(data, cache_strings=False)
    except ValueError as error:  # UnicodeEncodeError and every parse error
        raise InvalidJson(str(error)) from error
