"""Who may do what. Small predicates, tested as a table of roles x actions."""

from accounts.roles import can_participate, holds_privileged_role  # noqa: F401 - re-exported


def can_organise(user) -> bool:
    return bool(user.is_authenticated and (user.is_organiser or user.is_superuser))


def can_moderate(user) -> bool:
    return bool(user.is_authenticated and (user.is_moderator or user.is_superuser))
