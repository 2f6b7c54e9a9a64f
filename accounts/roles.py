"""Who holds which role, and what a role demands (MFA). Small predicates, one place."""

from allauth.mfa.models import Authenticator


def holds_privileged_role(user) -> bool:
    """Staff, organisers and moderators can change what others see: they need MFA.

    Organiser and moderator roles are global flags or memberships of one consultation
    (``consultation.Membership``, reached through its reverse relation).
    """
    if not user.is_authenticated:
        return False
    if user.is_staff or user.is_superuser or user.is_organiser or user.is_moderator:
        return True
    return user.memberships.exists()


def _remembered(user, name: str, ask) -> bool:
    """``ask()``, asked once per user object. A page asks the same question per comment or
    per consultation shown; the request's user is loaded afresh for every request (and
    every websocket connection), so a change (MFA set up, address verified) shows on the
    next one."""
    answer = getattr(user, name, None)
    if answer is None:
        answer = bool(ask())
        setattr(user, name, answer)
    return answer


def has_mfa(user) -> bool:
    return user.is_authenticated and _remembered(
        user,
        "_has_mfa",
        Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists,
    )


def lacks_required_mfa(user) -> bool:
    return holds_privileged_role(user) and not has_mfa(user)


def has_verified_email(user) -> bool:
    from allauth.account.models import EmailAddress

    return user.is_authenticated and _remembered(
        user,
        "_has_verified_email",
        EmailAddress.objects.filter(user=user, verified=True, primary=True).exists,
    )


def can_participate(user) -> bool:
    """Comment, vote, rank: an active account whose e-mail address is verified."""
    return bool(user.is_authenticated and user.is_active and has_verified_email(user))
