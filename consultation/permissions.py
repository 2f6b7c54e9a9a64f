"""Who may do what, per consultation. Small predicates, tested as a table of
roles x phases x actions (tests/consultation/test_permissions.py).

Every interface (pages, API, admin actions, websockets) asks these; none decides alone.

A role's powers (staff, organiser, moderator: managing, moderating, reading drafts,
previewing) hold only once the account has set up MFA AND the request's authentication
(session, API token, websocket) passed it (``accounts.roles.has_role_powers``,
docs/decisions/0006-roles-and-mfa.md). Until then its holder is a citizen like any other
everywhere, and the pages of their role send them to set MFA up or to pass it
(accounts.middleware).
"""

from typing import TYPE_CHECKING, TypeGuard

from django.db.models import QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from accounts import roles
from accounts.models import User
from accounts.types import Person
from config import request_memo, rows
from consultation.errors import NotAllowed
from consultation.models import (
    Appeal,
    Comment,
    Consultation,
    Decision,
    Membership,
    Report,
    Suspension,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

Status = Consultation.Status


def _has_role(user: Person, consultation: Consultation | None, role: Membership.Role) -> bool:
    if not user.is_authenticated or consultation is None or consultation.pk is None:
        return False
    if not roles.has_role_powers(user):
        return False
    return Membership.objects.filter(consultation=consultation, user=user, role=role).exists()


def is_staff(user: Person) -> bool:
    """Staff powers: an ``is_staff`` or superuser account past the second factor."""
    return roles.has_staff_powers(user)


def can_create_consultation(user: Person) -> TypeGuard[User]:
    """Staff, or a global organiser, with their powers (so signed in: the ``TypeGuard``)."""
    if not user.is_authenticated:
        return False
    return is_staff(user) or (user.is_organiser and roles.has_role_powers(user))


# --- The organiser and moderation spaces ---------------------------------------------
# Who gets an "Organise" / "Moderate" entry in the menu and is let into the space (MFA is
# asked on the way in, by the middleware); and which consultations the space lists.


def _staff_or_member(user: User, role: Membership.Role) -> bool:
    """Staff, or holding ``role`` in at least one consultation (``user`` is signed in)."""
    return user.is_staff or user.is_superuser or role in _member_roles(user)


def _member_roles(user: User) -> frozenset[str]:
    """The roles ``user`` holds in at least one consultation: one read for the menu's two
    spaces, once per page (config/request_memo.py)."""
    return request_memo.remembered(
        ("member roles", user.pk),
        lambda: frozenset(
            Membership.objects.filter(user=user)
            .order_by()
            .values_list("role", flat=True)
            .distinct()
        ),
    )


def has_organiser_space(user: Person) -> bool:
    """A global organiser, staff, or an organiser of at least one consultation."""
    return user.is_authenticated and (
        user.is_organiser or _staff_or_member(user, Membership.Role.ORGANISER)
    )


def has_moderation_space(user: Person) -> bool:
    """A global moderator, staff, or a moderator of at least one consultation."""
    return user.is_authenticated and (
        user.is_moderator or _staff_or_member(user, Membership.Role.MODERATOR)
    )


def _consultations_in_role(user: Person, role: Membership.Role) -> QuerySet[Consultation]:
    if is_staff(user):
        return Consultation.objects.all()
    if not (user.is_authenticated and roles.has_role_powers(user)):
        return Consultation.objects.none()
    return Consultation.objects.filter(memberships__user=user, memberships__role=role).distinct()


def managed_consultations(user: Person) -> QuerySet[Consultation]:
    """The consultations ``user`` may manage (``can_manage``), as a QuerySet."""
    return _consultations_in_role(user, Membership.Role.ORGANISER)


def moderated_consultations(user: Person) -> QuerySet[Consultation]:
    """The consultations ``user`` may moderate (``can_moderate``), as a QuerySet."""
    return _consultations_in_role(user, Membership.Role.MODERATOR)


def can_manage(user: Person, consultation: Consultation) -> bool:
    """Edit, schedule, import items, assign moderators, close early."""
    return is_staff(user) or _has_role(user, consultation, Membership.Role.ORGANISER)


def can_moderate(user: Person, consultation: Consultation) -> bool:
    return is_staff(user) or _has_role(user, consultation, Membership.Role.MODERATOR)


def can_view(user: Person, consultation: Consultation) -> bool:
    if consultation.status != Status.DRAFT:
        return True
    return can_manage(user, consultation)


def can_preview(user: Person, consultation: Consultation) -> bool:
    """See the consultation, before it opens, as citizens will once it does: its
    participation forms shown but disabled. Its organisers (and staff), with MFA."""
    return consultation.status in (Status.DRAFT, Status.SCHEDULED) and can_manage(
        user, consultation
    )


def results_are_public(consultation: Consultation) -> bool:
    """Per-item tallies are shown in this phase (to whoever may view the consultation).

    Nothing is public before the organisers publish, except what their choice of live
    results made public during the vote: a live consultation's tallies show while it
    is open and stay, as they stood at closing, until the publication. "After close"
    (shown as "once published") hides them from everyone, organisers included, until
    the publication: nobody can nudge the outcome with a bandwagon, and the organisers
    review the count before anyone reads it. Either way an item's breakdown needs
    ``OPEN_DATA_MIN_GROUP`` responses (``consultation.results.small_groups``);
    docs/decisions/0023-what-results-show-before-publication.md."""
    if consultation.status == Status.PUBLISHED:
        return True
    return (
        consultation.status in (Status.OPEN, Status.CLOSED)
        and consultation.results_visibility == Consultation.ResultsVisibility.LIVE
    )


def can_see_results(user: Person, consultation: Consultation) -> bool:
    """Per-item tallies, within the small-group rule: see ``results_are_public``. The
    organisers read the count before publishing on their review page
    (``can_review_results``), not here."""
    return can_view(user, consultation) and results_are_public(consultation)


def is_eligible(user: Person, consultation: Consultation) -> bool:
    """The account may take part in this consultation (whatever its phase)."""
    if not roles.can_participate(user):
        return False
    if consultation.eligibility == Consultation.Eligibility.VERIFIED_IDENTITY:
        return user.is_identity_verified
    return True


def suspension_of(user: Person, consultation: Consultation | None) -> Suspension | None:
    """The suspension keeping ``user`` from writing in ``consultation`` (one of its own,
    or a site-wide one), the longest first; None when they may write. Read from the
    database on every call, so that a suspension holds at once on every door; a page's
    request asks once for the whole page (config/request_memo.py: reading requests only).

    Asked on every vote: ``Suspension.objects.active()`` for this person and scope, in SQL
    written by hand (config/rows.py; tests/consultation/test_hand_written_reads.py holds it
    to the ORM's answer)."""
    if not user.is_authenticated:
        return None
    scope = consultation.pk if consultation is not None else None
    return request_memo.remembered(
        ("suspension", user.pk, scope), lambda: _read_suspension(user.pk, scope)
    )


def _read_suspension(user_id: int, consultation_id: int | None) -> Suspension | None:
    now = rows.moment(timezone.now())
    params: list[object] = [user_id, now, now]
    sql = _SUSPENSION_SQL
    if consultation_id is not None:
        sql += ' AND (s."consultation_id" IS NULL OR s."consultation_id" = %s)'
        params.append(consultation_id)
    else:
        sql += ' AND s."consultation_id" IS NULL'
    row = rows.fetch_one(sql + _SUSPENSION_ORDER, params)
    return None if row is None else _SUSPENSION.instance(row)


_SUSPENSION = rows.Columns(Suspension, "s")
# Suspension.objects.active(): not lifted, started, not ended.
_SUSPENSION_SQL = (
    f'SELECT {_SUSPENSION.select} FROM "{Suspension._meta.db_table}" s'  # noqa: S608 (names: the models' own)
    ' WHERE s."user_id" = %s AND s."lifted_at" IS NULL AND s."starts_at" <= %s'
    ' AND (s."ends_at" IS NULL OR s."ends_at" > %s)'
)
# The longest first: no end first, then the latest end.
_SUSPENSION_ORDER = (
    ' ORDER BY CASE WHEN s."ends_at" IS NULL THEN 0 ELSE 1 END, s."ends_at" DESC, s."id" LIMIT 1'
)


def can_participate(user: Person, consultation: Consultation) -> bool:
    return (
        consultation.accepts_participation()
        and is_eligible(user, consultation)
        and suspension_of(user, consultation) is None
    )


def can_vote(user: Person, consultation: Consultation) -> bool:
    return consultation.voting_enabled and can_participate(user, consultation)


def can_grade(user: Person, consultation: Consultation) -> bool:
    return consultation.grading_enabled and can_participate(user, consultation)


def can_rank(user: Person, consultation: Consultation) -> bool:
    return consultation.ranking_enabled and can_participate(user, consultation)


def can_comment(user: Person, consultation: Consultation) -> bool:
    return consultation.comments_enabled and can_participate(user, consultation)


def can_react(user: Person, consultation: Consultation) -> bool:
    return can_comment(user, consultation)


def can_change_comment(user: Person, comment: Comment) -> bool:
    """Its author may edit or delete it while they may comment (open, eligible, comments on),
    unless moderation hid it (an edit would slip past the decision; appeal instead)."""
    return (
        user.is_authenticated
        and comment.author_id == user.pk
        and not comment.is_deleted
        and not comment.is_hidden
        and can_comment(user, comment.item.consultation)
    )


# --- Moderation (consultation.moderation) ------------------------------------------------
# Moderators act on the consultations they moderate (staff everywhere), past the second
# factor like every role. Citizens report and appeal. Nobody's vote is ever shown here.


def can_report(user: Person, comment: Comment) -> bool:
    """Report a comment: a participant (verified, not suspended here) of a consultation
    they may see, once its debate has started, not their own comment and not one already
    removed. Moderation is open while the comments are shown: after closing too."""
    consultation = comment.item.consultation
    return (
        roles.can_participate(user)
        and consultation.status != Status.DRAFT
        and consultation.status != Status.SCHEDULED
        and comment.author_id != user.pk
        and not comment.is_deleted
        and not comment.is_hidden
        and suspension_of(user, consultation) is None
    )


def can_moderate_comment(user: Person, comment: Comment) -> bool:
    return can_moderate(user, comment.item.consultation)


def can_suspend_site_wide(user: Person) -> bool:
    """Suspend an account from every consultation: staff only."""
    return is_staff(user)


def can_lift(user: Person, suspension: Suspension) -> bool:
    """End a suspension early: the moderators of its consultation, staff for a site-wide
    one; never the person suspended."""
    if not user.is_authenticated or suspension.user_id == user.pk:
        return False
    if suspension.consultation is None:
        return can_suspend_site_wide(user)
    return can_moderate(user, suspension.consultation)


def can_appeal(user: Person, decision: Decision) -> bool:
    """The person a decision is about contests it, once; an appeal's outcome is final, and
    lifting what was done to someone (a restore, an unlock, a dismissal) is not contested."""
    return (
        user.is_authenticated
        and decision.subject_id == user.pk
        and decision.action in APPEALABLE
        and not Appeal.objects.filter(decision=decision).exists()
    )


APPEALABLE = (
    Decision.Action.HIDE,
    Decision.Action.LOCK,
    Decision.Action.WARN,
    Decision.Action.SUSPEND,
)


def can_decide_appeal(user: Person, appeal: Appeal) -> bool:
    """Someone other than the one who decided: a moderator or an organiser of the
    consultation (staff for a site-wide decision), never the person appealing."""
    decision = appeal.decision
    if not user.is_authenticated or user.pk in (decision.moderator_id, appeal.appellant_id):
        return False
    if decision.consultation is None:
        return is_staff(user)
    return can_moderate(user, decision.consultation) or can_manage(user, decision.consultation)


def decision_readers(user: Person, decision: Decision) -> dict[str, bool]:
    """Why ``user`` may read a decision's page: they are its subject, reported its
    comment, or moderate where it was taken (staff for a site-wide one)."""
    if not user.is_authenticated:
        return {"is_subject": False, "is_reporter": False, "moderates": False}
    return {
        "is_subject": decision.subject_id == user.pk,
        "is_reporter": decision.comment_id is not None
        and Report.objects.filter(comment_id=decision.comment_id, reporter=user).exists(),
        "moderates": (
            can_moderate(user, decision.consultation)
            if decision.consultation is not None
            else is_staff(user)
        ),
    }


def can_see_decision(user: Person, decision: Decision) -> bool:
    """A decision is for those ``decision_readers`` names; to anyone else it does not
    exist (404), as a draft does."""
    return any(decision_readers(user, decision).values())


def can_edit_charter(user: Person, consultation: Consultation) -> bool:
    """Its organisers word the charter; once the consultation has opened, each change is a
    new version (``consultation.moderation.charter``)."""
    return can_manage(user, consultation)


def can_edit_card(user: Person, consultation: Consultation) -> bool:
    """Its organisers write the consultation card (the declared rule) while it is a draft or
    scheduled; it is frozen at opening (``consultation.organising.card``)."""
    return consultation.status in (
        Consultation.Status.DRAFT,
        Consultation.Status.SCHEDULED,
    ) and can_manage(user, consultation)


def moderator_role(user: Person, consultation: Consultation | None) -> Decision.Role:
    """The role the public log names for a decision by ``user``."""
    if consultation is not None and _has_role(user, consultation, Membership.Role.MODERATOR):
        return Decision.Role.MODERATOR
    if consultation is not None and _has_role(user, consultation, Membership.Role.ORGANISER):
        return Decision.Role.ORGANISER
    return Decision.Role.STAFF


# --- Results (consultation.results) --------------------------------------------------------
# Once the vote is closed, the consultation's organisers (or staff) review the computed
# results, write an official response per item and publish; republishing stays open to
# them after the first version.


def can_review_results(user: Person, consultation: Consultation) -> bool:
    """See the computed, not yet published, final results."""
    return consultation.is_finished and can_manage(user, consultation)


def can_publish(user: Person, consultation: Consultation) -> bool:
    """Publish the results (closed), or a new version of them (published)."""
    return consultation.is_finished and can_manage(user, consultation)


def can_respond(user: Person, consultation: Consultation) -> bool:
    """Write the official responses, which the next publication freezes."""
    return consultation.is_finished and can_manage(user, consultation)


# --- Refusals: why not, as the typed error every interface shapes (errors.py) -------------


def why_not_participate(user: Person, consultation: Consultation) -> NotAllowed:
    """The refusal that explains why ``user`` may not take part in ``consultation`` now."""
    if not user.is_authenticated:
        return NotAllowed("login_required", _("Log in to take part."))
    suspension = suspension_of(user, consultation)
    if suspension is not None:
        return suspended(suspension)
    if not is_eligible(user, consultation):
        if consultation.eligibility == Consultation.Eligibility.VERIFIED_IDENTITY:
            return NotAllowed(
                "identity_required",
                _("This consultation is open to identity-verified accounts only."),
            )
        return NotAllowed("not_eligible", _("Verify your e-mail address to take part."))
    if not consultation.accepts_participation():
        return NotAllowed("not_open", _("This consultation is not open for participation."))
    return NotAllowed("mode_disabled", _("This form of participation is not enabled here."))


def suspended(suspension: Suspension) -> NotAllowed:
    """The refusal a suspended person gets, saying until when and how to contest it."""
    message: StrOrPromise
    if suspension.ends_at is None:
        message = _(
            "A moderation decision suspended your participation: you can read but not "
            "write. See your notices to appeal."
        )
    else:
        message = _(
            "A moderation decision suspended your participation until %(date)s: you can "
            "read but not write. See your notices to appeal."
        ) % {"date": formats.date_format(timezone.localtime(suspension.ends_at), "DATETIME_FORMAT")}
    return NotAllowed("suspended", message)


def require(allowed: bool, code: str, message: "StrOrPromise") -> None:
    """Raise ``NotAllowed(code, message)`` unless ``allowed``."""
    if not allowed:
        raise NotAllowed(code, message)


# Both return the user they let through, signed in (every ``can_*`` asks that first), so
# that a write goes on with a ``User``: ``user = require_manager(user, consultation)``.


def require_participation(allowed: bool, user: Person, consultation: Consultation) -> User:
    """Raise ``why_not_participate`` unless ``allowed`` (one of the ``can_*`` above)."""
    if not allowed or not user.is_authenticated:
        raise why_not_participate(user, consultation)
    return user


def require_manager(user: Person, consultation: Consultation) -> User:
    """Raise unless ``user`` may manage ``consultation`` (``can_manage``)."""
    if not can_manage(user, consultation) or not user.is_authenticated:
        raise NotAllowed(
            "not_organiser", _("Only the organisers of this consultation may do this.")
        )
    return user
