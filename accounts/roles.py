"""Who holds which role, and what a role demands (MFA). Small predicates, one place.

A role's powers (staff, organiser, moderator) need two things:

1. the account has a TOTP authenticator (``has_mfa``), and
2. the way *this* request came in passed the second factor (``passed_second_factor``).

The second is a mark that each door puts on the user object it hands to the rest of the
code: the authenticator ids its authentication vouched for. The doors are
``accounts.middleware.AuthenticationMiddleware`` (pages and the API's browser session:
allauth's record of the session's MFA step), ``accounts.tokens.authenticate`` (a token
created after MFA), and ``realtime.middleware`` (a websocket's session). A user object no
door vouched for — a password-only session, a user loaded by a task — holds no powers: the
rule fails closed. docs/security.md lists the doors.
"""

from collections.abc import Callable, Iterable
from typing import TypeGuard

from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.mfa.models import Authenticator
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.base import SessionBase

from accounts.models import User
from accounts.types import Person

# The attribute the doors set: a frozenset of the authenticator ids this authentication
# passed. Absent means "nobody vouched": no second factor.
SECOND_FACTOR_ATTR = "_agora_second_factor"


def holds_privileged_role(user: Person) -> bool:
    """Staff, organisers and moderators can change what others see: they need MFA.

    Organiser and moderator roles are global flags or memberships of one consultation
    (``consultation.Membership``, reached through its reverse relation).
    """
    if not user.is_authenticated:
        return False
    if user.is_staff or user.is_superuser or user.is_organiser or user.is_moderator:
        return True
    return user.memberships.exists()


def _remembered[T](user: Person, name: str, ask: Callable[[], T]) -> T:
    """``ask()``, asked once per user object. A page asks the same question per comment or
    per consultation shown; the request's user is loaded afresh for every request (and
    every websocket connection), so a change (MFA set up, address verified) shows on the
    next one."""
    answer: T | None = getattr(user, name, None)
    if answer is None:
        answer = ask()
        setattr(user, name, answer)
    return answer


def _authenticators(user: Person) -> dict[int, str]:
    """The account's MFA authenticators, ``{id: type}``, read once per user object."""
    return _remembered(
        user,
        "_mfa_authenticators",
        lambda: dict(Authenticator.objects.filter(user=user).values_list("pk", "type")),
    )


def forget_mfa(user: Person) -> None:
    """Drop what this user object remembered about MFA (after adding or removing one)."""
    for name in ("_mfa_authenticators", SECOND_FACTOR_ATTR):
        if hasattr(user, name):
            delattr(user, name)


def has_mfa(user: Person) -> bool:
    """The account has set up a TOTP authenticator (recovery codes alone do not count)."""
    return user.is_authenticated and Authenticator.Type.TOTP in _authenticators(user).values()


# --- The second factor of this authentication ---------------------------------------


def vouch_second_factor[U: AbstractBaseUser | AnonymousUser | None](
    user: U, authenticator_ids: Iterable[int]
) -> U:
    """A door says: the authentication that produced ``user`` passed these authenticators."""
    if user is not None and user.is_authenticated:
        setattr(user, SECOND_FACTOR_ATTR, frozenset(authenticator_ids))
    return user


def second_factor_of_session(session: SessionBase) -> frozenset[int]:
    """The authenticators allauth recorded as passed in this session: its MFA stage at
    login, a reauthentication by code, or (accounts.apps) activating TOTP."""
    try:
        records = session.get(AUTHENTICATION_METHODS_SESSION_KEY) or []
    except AttributeError:
        return frozenset()
    return frozenset(
        record["id"]
        for record in records
        if isinstance(record, dict)
        and record.get("method") == "mfa"
        and isinstance(record.get("id"), int)
    )


def vouch_from_session[U: AbstractBaseUser | AnonymousUser | None](
    user: U, session: SessionBase
) -> U:
    return vouch_second_factor(user, second_factor_of_session(session))


def passed_second_factor(user: Person) -> bool:
    """This authentication passed one of the account's current authenticators, and the
    account still has TOTP. A removed (or replaced) authenticator no longer counts."""
    if not (user.is_authenticated and has_mfa(user)):
        return False
    vouched: frozenset[int] = getattr(user, SECOND_FACTOR_ATTR, frozenset())
    return bool(vouched & _authenticators(user).keys())


def lacks_required_mfa(user: Person) -> bool:
    """A role holder whose account has no TOTP yet: they must set it up."""
    return holds_privileged_role(user) and not has_mfa(user)


def needs_second_factor(user: Person) -> bool:
    """A role holder with TOTP whose authentication skipped it: they must pass it."""
    return holds_privileged_role(user) and has_mfa(user) and not passed_second_factor(user)


def has_role_powers(user: Person) -> bool:
    """A role's powers may hold for this user object (the role itself is asked elsewhere)."""
    return user.is_active and passed_second_factor(user)


def has_staff_powers(user: Person) -> bool:
    """Staff powers: an active ``is_staff`` or superuser account past the second factor."""
    return bool(
        user.is_authenticated and (user.is_staff or user.is_superuser) and has_role_powers(user)
    )


def has_verified_email(user: Person) -> bool:
    from allauth.account.models import EmailAddress

    return user.is_authenticated and bool(
        _remembered(
            user,
            "_has_verified_email",
            lambda: EmailAddress.objects.filter(user=user, verified=True, primary=True).exists(),
        )
    )


def remember_verified_email(user: User, verified: bool) -> None:
    """A door that read whether ``user`` has a verified primary address in its own query
    (accounts.tokens) says so: ``has_verified_email`` answers it without asking again."""
    user._has_verified_email = verified  # type: ignore[attr-defined]


def can_participate(user: Person) -> TypeGuard[User]:
    """Comment, vote, rank: an active account whose e-mail address is verified (so a
    signed-in ``User``, which mypy learns from the ``TypeGuard``)."""
    return bool(user.is_authenticated and user.is_active and has_verified_email(user))
