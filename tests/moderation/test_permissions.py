"""Who may do what in moderation: personas x phases, written out as a table, checked on the
predicate and through the domain (so that a door that forgot to ask would still refuse)."""

import pytest

from consultation import permissions
from consultation.errors import NotAllowed
from consultation.models import Comment, Consultation, Rule
from consultation.moderation import appeals, decisions, reports
from tests.consultation.test_permissions import PERSONAS, PHASES, build, people  # noqa: F401

pytestmark = pytest.mark.django_db
S = Consultation.Status

MODERATORS = {"moderator", "moderator_by_membership", "staff"}
REPORTERS = set(PERSONAS) - {"anonymous", "unverified"}
# Reports open with the debate and stay open while its comments are shown.
CAN_REPORT = {
    S.DRAFT: set(),
    S.SCHEDULED: set(),
    S.OPEN: REPORTERS,
    S.CLOSED: REPORTERS,
    S.PUBLISHED: REPORTERS,
}
# Moderating: the consultation's moderators and staff, in every phase (a debate is
# moderated after closing too; a draft has nothing to moderate, but nothing refuses it).
CAN_MODERATE = {phase: MODERATORS for phase in PHASES}
# An appeal is answered by a moderator or an organiser of the consultation (staff too),
# never the one who decided ("moderator" here) nor the appellant.
CAN_DECIDE_APPEAL = {
    phase: {"moderator_by_membership", "staff", "organiser_here", "organiser_by_membership"}
    for phase in PHASES
}


def _comment(consultation, author):
    return Comment.objects.create(item=consultation.items.first(), author=author, body="Texte.")


def allowed_on(predicate, persons, target):
    return {name for name, user in persons.items() if predicate(user, target)}


@pytest.mark.parametrize("phase", PHASES)
def test_matrix_of_reporting(people, phase, make_user):  # noqa: F811
    consultation = build(people, phase)
    comment = _comment(consultation, make_user("author@example.org"))
    assert allowed_on(permissions.can_report, people, comment) == CAN_REPORT[phase]
    for name, user in people.items():
        if name in CAN_REPORT[phase]:
            reports.report_comment(user, comment, Rule.SPAM)
        else:
            with pytest.raises(NotAllowed):
                reports.report_comment(user, comment, Rule.SPAM)


@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("action", ["hide", "lock", "warn", "suspend", "lift"])
def test_matrix_of_moderation_actions(people, phase, action, make_user):  # noqa: F811
    consultation = build(people, phase)
    author = make_user("author@example.org")
    assert allowed_on(permissions.can_moderate, people, consultation) == CAN_MODERATE[phase]
    perform = {
        "hide": lambda user, c: decisions.hide(user, c, Rule.SPAM),
        "lock": lambda user, c: decisions.lock(user, c, Rule.SPAM),
        "warn": lambda user, c: decisions.warn(user, author, consultation, Rule.SPAM),
        "suspend": lambda user, c: decisions.suspend(user, author, consultation, Rule.SPAM, days=1),
        # A suspension staff decided here, lifted by the persona.
        "lift": lambda user, c: decisions.lift(user, suspended_by_staff(), Rule.SPAM),
    }[action]

    def suspended_by_staff():
        decision = decisions.suspend(people["staff"], author, consultation, Rule.SPAM, days=None)
        return decision.suspension

    for name, user in people.items():
        comment = _comment(consultation, author)
        if name in CAN_MODERATE[phase]:
            perform(user, comment)
        else:
            with pytest.raises(NotAllowed):
                perform(user, comment)


@pytest.mark.parametrize("phase", PHASES)
def test_matrix_of_answering_appeals(people, phase, make_user):  # noqa: F811
    consultation = build(people, phase)
    author = make_user("author@example.org")
    comment = _comment(consultation, author)
    decision = decisions.hide(people["moderator"], comment, Rule.SPAM)
    appeal = appeals.appeal(author, decision, "Je conteste.")
    assert allowed_on(permissions.can_decide_appeal, people, appeal) == CAN_DECIDE_APPEAL[phase]
    assert not permissions.can_decide_appeal(author, appeal)
    for name, user in people.items():
        if name not in CAN_DECIDE_APPEAL[phase]:
            with pytest.raises(NotAllowed):
                appeals.decide(user, appeal, grant=False, reason="Non.")
    appeals.decide(people["staff"], appeal, grant=False, reason="Non.")


def test_only_the_person_concerned_appeals(people, make_user):  # noqa: F811
    consultation = build(people, S.OPEN)
    author = make_user("author@example.org")
    decision = decisions.hide(people["moderator"], _comment(consultation, author), Rule.SPAM)
    for user in people.values():
        assert not permissions.can_appeal(user, decision)
        with pytest.raises(NotAllowed):
            appeals.appeal(user, decision, "Ce n’est pas moi.")
    assert permissions.can_appeal(author, decision)
    restored = decisions.restore(people["moderator"], decision.comment, Rule.SPAM)
    assert not permissions.can_appeal(author, restored)  # lifting a measure is not contested
