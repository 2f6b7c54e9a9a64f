"""Who may do what: personas x phases x actions, written out as a table.

The expectations are spelled out here, not derived from the code under test.
Participation actions are checked both on the predicate and through the domain
function, so that a page or API that forgot to ask would still be refused.
"""

import pytest
from django.contrib.auth.models import AnonymousUser

from consultation import comments, permissions, voting
from consultation.errors import NotAllowed
from consultation.models import Consultation, Membership
from tests.consultation.factories import add_member, make_consultation

pytestmark = pytest.mark.django_db
S = Consultation.Status

PERSONAS = [
    "anonymous",
    "unverified",
    "citizen",
    "identified",
    "moderator",
    "organiser_here",
    "organiser_elsewhere",
    "staff",
]
PHASES = [S.DRAFT, S.SCHEDULED, S.OPEN, S.CLOSED, S.PUBLISHED]

# Who can see the consultation at each phase.
CAN_VIEW = {
    S.DRAFT: {"organiser_here", "staff"},
    **{phase: set(PERSONAS) for phase in (S.SCHEDULED, S.OPEN, S.CLOSED, S.PUBLISHED)},
}
# Everyone who holds a verified account may take part, roles or not, while it is open.
PARTICIPANTS = {
    "citizen",
    "identified",
    "moderator",
    "organiser_here",
    "organiser_elsewhere",
    "staff",
}
CAN_PARTICIPATE = {
    S.DRAFT: set(),
    S.SCHEDULED: set(),
    S.OPEN: PARTICIPANTS,
    S.CLOSED: set(),
    S.PUBLISHED: set(),
}
CAN_MANAGE = {phase: {"organiser_here", "staff"} for phase in PHASES}
CAN_MODERATE = {phase: {"moderator", "staff"} for phase in PHASES}
# Live results: during the vote and after. After-close results: only after.
SEES_LIVE_RESULTS = {
    S.DRAFT: set(),
    S.SCHEDULED: set(),
    S.OPEN: set(PERSONAS),
    S.CLOSED: set(PERSONAS),
    S.PUBLISHED: set(PERSONAS),
}
# Reviewing, answering and publishing results: the organisers, once the vote is closed.
MANAGES_RESULTS = {
    S.DRAFT: set(),
    S.SCHEDULED: set(),
    S.OPEN: set(),
    S.CLOSED: {"organiser_here", "staff"},
    S.PUBLISHED: {"organiser_here", "staff"},
}
SEES_AFTER_CLOSE_RESULTS = {
    S.DRAFT: set(),
    S.SCHEDULED: set(),
    S.OPEN: set(),
    S.CLOSED: set(PERSONAS),
    S.PUBLISHED: set(PERSONAS),
}


@pytest.fixture
def people(make_user):
    from django.utils import timezone

    identified = make_user("ida@example.org")
    identified.identity_verified_at = timezone.now()
    identified.save()
    return {
        "anonymous": AnonymousUser(),
        "unverified": make_user("uma@example.org", verified=False),
        "citizen": make_user("cyril@example.org"),
        "identified": identified,
        "moderator": make_user("mona@example.org", is_moderator=True),
        "organiser_here": make_user("olga@example.org", is_organiser=True),
        "organiser_elsewhere": make_user("otto@example.org", is_organiser=True),
        "staff": make_user("stan@example.org", is_staff=True),
    }


def build(people, phase, **overrides):
    consultation = make_consultation(status=phase, **overrides)
    add_member(consultation, people["organiser_here"], Membership.Role.ORGANISER)
    add_member(consultation, people["moderator"], Membership.Role.MODERATOR)
    make_consultation(organiser=people["organiser_elsewhere"])
    return consultation


def allowed(predicate, people, consultation):
    return {name for name, user in people.items() if predicate(user, consultation)}


@pytest.mark.parametrize("phase", PHASES)
def test_matrix_of_viewing_managing_and_moderating(people, phase):
    consultation = build(people, phase)
    assert allowed(permissions.can_view, people, consultation) == CAN_VIEW[phase]
    assert allowed(permissions.can_manage, people, consultation) == CAN_MANAGE[phase]
    assert allowed(permissions.can_moderate, people, consultation) == CAN_MODERATE[phase]


@pytest.mark.parametrize("phase", PHASES)
def test_matrix_of_results_visibility(people, phase):
    live = build(people, phase, results_visibility="live")
    after = build(people, phase, results_visibility="after_close")
    assert allowed(permissions.can_see_results, people, live) == SEES_LIVE_RESULTS[phase]
    assert allowed(permissions.can_see_results, people, after) == SEES_AFTER_CLOSE_RESULTS[phase]


@pytest.mark.parametrize("phase", PHASES)
def test_matrix_of_reviewing_answering_and_publishing_results(people, phase):
    from consultation import results
    from consultation.errors import Refused

    consultation = build(people, phase)
    for predicate in (
        permissions.can_review_results,
        permissions.can_respond,
        permissions.can_publish,
    ):
        assert allowed(predicate, people, consultation) == MANAGES_RESULTS[phase]
    item = consultation.items.first()
    for name, user in people.items():
        if name in MANAGES_RESULTS[phase]:
            results.set_official_response(user, item, f"Réponse de {name}.")
        else:
            with pytest.raises(Refused):
                results.set_official_response(user, item, "Non.")
            with pytest.raises(Refused):
                results.publish(consultation, user)


ACTIONS = {
    "vote": (permissions.can_vote, lambda user, c: voting.cast_vote(user, c.items.first(), "for")),
    "grade": (permissions.can_grade, lambda user, c: voting.grade_item(user, c.items.first(), 3)),
    "rank": (
        permissions.can_rank,
        lambda user, c: voting.submit_ballot(user, c, [c.items.first().pk]),
    ),
    "comment": (
        permissions.can_comment,
        lambda user, c: comments.post_comment(user, c.items.first(), "Mon avis.", "for"),
    ),
}


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("phase", PHASES)
def test_matrix_of_participation(people, phase, action):
    predicate, perform = ACTIONS[action]
    consultation = build(people, phase)
    assert allowed(predicate, people, consultation) == CAN_PARTICIPATE[phase]
    for name, user in people.items():
        if name in CAN_PARTICIPATE[phase]:
            perform(user, consultation)
        else:
            with pytest.raises(NotAllowed):
                perform(user, consultation)


@pytest.mark.parametrize("action", ACTIONS)
def test_identity_only_consultation_admits_identity_verified_accounts_alone(people, action):
    predicate, perform = ACTIONS[action]
    consultation = build(people, S.OPEN, eligibility="verified_identity")
    assert allowed(predicate, people, consultation) == {"identified"}
    with pytest.raises(NotAllowed) as refusal:
        perform(people["citizen"], consultation)
    assert refusal.value.code == "identity_required"


@pytest.mark.parametrize("action", ACTIONS)
def test_a_disabled_mode_refuses_everyone(people, action):
    predicate, perform = ACTIONS[action]
    mode = {
        "vote": "voting_enabled",
        "grade": "grading_enabled",
        "rank": "ranking_enabled",
        "comment": "comments_enabled",
    }[action]
    consultation = build(people, S.OPEN, **{mode: False})
    assert allowed(predicate, people, consultation) == set()
    with pytest.raises(NotAllowed) as refusal:
        perform(people["citizen"], consultation)
    assert refusal.value.code == "mode_disabled"


def test_open_consultation_past_its_closing_time_refuses_votes(people):
    """The periodic close may lag: closes_at itself is the deadline."""
    from datetime import timedelta

    from django.utils import timezone

    consultation = build(people, S.OPEN)
    consultation.closes_at = timezone.now() - timedelta(seconds=1)
    consultation.opens_at = timezone.now() - timedelta(days=1)
    consultation.save()
    with pytest.raises(NotAllowed) as refusal:
        voting.cast_vote(people["citizen"], consultation.items.first(), "for")
    assert refusal.value.code == "not_open"


def test_only_the_author_changes_a_comment_and_only_while_open(people):
    consultation = build(people, S.OPEN)
    comment = comments.post_comment(people["citizen"], consultation.items.first(), "Texte", "for")
    for name, user in people.items():
        assert permissions.can_change_comment(user, comment) is (name == "citizen")
    Consultation.objects.filter(pk=consultation.pk).update(status=S.CLOSED)
    comment.refresh_from_db()
    assert not permissions.can_change_comment(people["citizen"], comment)
