"""Refusals every interface turns into its own shape (form error, 4xx JSON, error frame)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise  # a str, or a lazy translation of one


class Refused(Exception):
    """A participation or management action was refused. ``code`` is stable, for APIs."""

    status = 400

    def __init__(self, code: str, message: StrOrPromise) -> None:
        super().__init__(str(message))
        self.code = code
        self.message = message


class NotAllowed(Refused):
    """The person may not do this (phase, role, eligibility): HTTP 403."""

    status = 403


class Invalid(Refused):
    """The input is malformed or inconsistent (a bad ballot, an unknown item): HTTP 422."""

    status = 422


class Conflict(Refused):
    """The action does not fit the current state (e.g. a lifecycle transition): HTTP 409."""

    status = 409


class TooMany(Refused):
    """Too many of these in a short time (reports, a new account's comments): HTTP 429."""

    status = 429
