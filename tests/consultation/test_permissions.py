"""Who may do what: personas x phases x actions, written out as a table.

The expectations are spelled out here, not derived from the code under test.
Participation actions are checked both on the predicate and through the domain
function, so that a page or API that forgot to ask would still be refused.
"""

import pytest
from django.contrib.auth.models import AnonymousUser

from consultation import permissions
from consultation.errors import NotAllowed
from consultation.models import Comment, Consultation, Membership
from consultation.participation import debate, voting
from tests.factories import add_member, make_consultation
from tests.support.accounts import enable_totp, login

pytestmark = pytest.mark.django_db
S = Consultation.Status

# Role holders have MFA set up unless their name says otherwise: a role's powers need it.
# "…_by_membership" hold their role in this consultation only, without the global flag.
PERSONAS = [
    "anonymous",
    "unverified",
    "citizen",
    "identified",
    "moderator",
    "moderator_by_membership",
    "organiser_here",
    "organiser_by_membership",
    "organiser_without_mfa",
    "organiser_elsewhere",
    "staff",
    "staff_without_mfa",
]
PHASES = [S.DRAFT, S.SCHEDULED, S.OPEN, S.CLOSED, S.PUBLISHED]

# Who manages this consultation: its organisers and staff, with MFA.
MANAGERS = {"organiser_here", "organiser_by_membership", "staff"}

# Who can see the consultation at each phase.
CAN_VIEW = {
    S.DRAFT: MANAGERS,
    **{phase: set(PERSONAS) for phase in (S.SCHEDULED, S.OPEN, S.CLOSED, S.PUBLISHED)},
}
# Who sees it as citizens will once it opens, forms disabled: its managers, before it opens.
CAN_PREVIEW = {
    S.DRAFT: MANAGERS,
    S.SCHEDULED: MANAGERS,
    S.OPEN: set(),
    S.CLOSED: set(),
    S.PUBLISHED: set(),
}
# Everyone who holds a verified account may take part, roles or not, while it is open.
PARTICIPANTS = set(PERSONAS) - {"anonymous", "unverified"}
CAN_PARTICIPATE = {
    S.DRAFT: set(),
    S.SCHEDULED: set(),
    S.OPEN: PARTICIPANTS,
    S.CLOSED: set(),
    S.PUBLISHED: set(),
}
CAN_MANAGE = {phase: MANAGERS for phase in PHASES}
CAN_MODERATE = {phase: {"moderator", "moderator_by_membership", "staff"} for phase in PHASES}
# Live results: during the vote, then as they stood at closing, then published. Nothing is
# public before the organisers publish but what live results showed during the vote.
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
    S.CLOSED: MANAGERS,
    S.PUBLISHED: MANAGERS,
}
# Writing the consultation card (the declared rule): its organisers, until it opens; frozen then.
WRITES_CARD = {
    S.DRAFT: MANAGERS,
    S.SCHEDULED: MANAGERS,
    S.OPEN: set(),
    S.CLOSED: set(),
    S.PUBLISHED: set(),
}
# "After close" results: once published, for everyone; the organisers review them before
# on their own page (MANAGES_RESULTS), never on the public ones.
SEES_AFTER_CLOSE_RESULTS = {
    S.DRAFT: set(),
    S.SCHEDULED: set(),
    S.OPEN: set(),
    S.CLOSED: set(),
    S.PUBLISHED: set(PERSONAS),
}


@pytest.fixture
def people(make_user):
    from django.utils import timezone

    identified = make_user("ida@example.org")
    identified.identity_verified_at = timezone.now()
    identified.save()
    people = {
        "anonymous": AnonymousUser(),
        "unverified": make_user("uma@example.org", verified=False),
        "citizen": make_user("cyril@example.org"),
        "identified": identified,
        "moderator": make_user("mona@example.org", is_moderator=True),
        "moderator_by_membership": make_user("max@example.org"),
        "organiser_here": make_user("olga@example.org", is_organiser=True),
        "organiser_by_membership": make_user("omar@example.org"),
        "organiser_without_mfa": make_user("oscar@example.org", is_organiser=True),
        "organiser_elsewhere": make_user("otto@example.org", is_organiser=True),
        "staff": make_user("stan@example.org", is_staff=True),
        "staff_without_mfa": make_user("sid@example.org", is_staff=True, is_superuser=True),
    }
    for name, user in people.items():
        if name.startswith(("moderator", "organiser", "staff")) and "without_mfa" not in name:
            enable_totp(user)
    return people


def build(people, phase, **overrides):
    consultation = make_consultation(status=phase, **overrides)
    for name in ("organiser_here", "organiser_by_membership", "organiser_without_mfa"):
        add_member(consultation, people[name], Membership.Role.ORGANISER)
    for name in ("moderator", "moderator_by_membership"):
        add_member(consultation, people[name], Membership.Role.MODERATOR)
    make_consultation(organiser=people["organiser_elsewhere"])
    return consultation


def allowed(predicate, people, consultation):
    return {name for name, user in people.items() if predicate(user, consultation)}


@pytest.mark.parametrize("phase", PHASES)
def test_matrix_of_viewing_managing_and_moderating(people, phase):
    consultation = build(people, phase)
    assert allowed(permissions.can_view, people, consultation) == CAN_VIEW[phase]
    assert allowed(permissions.can_preview, people, consultation) == CAN_PREVIEW[phase]
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
    from consultation.errors import Refused
    from consultation.results import publishing

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
            publishing.set_official_response(user, item, f"Réponse de {name}.")
        else:
            with pytest.raises(Refused):
                publishing.set_official_response(user, item, "Non.")
            with pytest.raises(Refused):
                publishing.publish(consultation, user)


@pytest.mark.parametrize("phase", PHASES)
def test_matrix_of_writing_the_consultation_card(people, phase):
    from consultation.errors import Refused
    from consultation.organising import card

    consultation = build(people, phase)
    assert allowed(permissions.can_edit_card, people, consultation) == WRITES_CARD[phase]
    for name, user in people.items():
        if name in WRITES_CARD[phase]:
            card.update_card(
                user, consultation, deciding_method="borda", tie_break="draw", quorum=None
            )
        else:
            with pytest.raises(Refused):
                card.update_card(
                    user, consultation, deciding_method="borda", tie_break="draw", quorum=None
                )


def own_comment(user, consultation) -> Comment:
    """A comment of ``user`` on the consultation's first item, whatever its phase (written
    straight to the table: the test is about changing it). Anonymous: someone else's."""
    item = consultation.items.first()
    author = user if user.is_authenticated else None
    comment = Comment.objects.filter(item=item, author=author, body="Déjà écrit.").first()
    return comment or Comment.objects.create(
        item=item, author=author, body="Déjà écrit.", stance="for"
    )


def someone_elses_comment(consultation) -> Comment:
    return Comment.objects.get_or_create(
        item=consultation.items.first(), author=None, body="Un avis.", stance="for"
    )[0]


# (predicate, the domain call). Every one of them is allowed to PARTICIPANTS while open,
# and to nobody otherwise.
ACTIONS = {
    "vote": (permissions.can_vote, lambda user, c: voting.cast_vote(user, c.items.first(), "for")),
    "withdraw vote": (
        permissions.can_vote,
        lambda user, c: voting.withdraw_vote(user, c.items.first()),
    ),
    "grade": (permissions.can_grade, lambda user, c: voting.grade_item(user, c.items.first(), 3)),
    "withdraw grade": (
        permissions.can_grade,
        lambda user, c: voting.withdraw_grade(user, c.items.first()),
    ),
    "rank": (
        permissions.can_rank,
        lambda user, c: voting.submit_ballot(user, c, [c.items.first().pk]),
    ),
    "withdraw ranking": (permissions.can_rank, voting.withdraw_ballot),
    "comment": (
        permissions.can_comment,
        lambda user, c: debate.post_comment(user, c.items.first(), "Mon avis.", "for"),
    ),
    "reply": (
        permissions.can_comment,
        lambda user, c: debate.post_comment(
            user, c.items.first(), "Ma réponse.", "for", parent=someone_elses_comment(c)
        ),
    ),
    "edit own comment": (
        lambda user, c: permissions.can_change_comment(user, own_comment(user, c)),
        lambda user, c: debate.edit_comment(user, own_comment(user, c), "Corrigé.", "against"),
    ),
    "delete own comment": (
        lambda user, c: permissions.can_change_comment(user, own_comment(user, c)),
        lambda user, c: debate.delete_comment(user, own_comment(user, c)),
    ),
    "mark useful": (
        permissions.can_react,
        lambda user, c: debate.toggle_useful(user, someone_elses_comment(c)),
    ),
}
# The participation mode each action belongs to.
MODE_OF = {
    "vote": "voting_enabled",
    "withdraw vote": "voting_enabled",
    "grade": "grading_enabled",
    "withdraw grade": "grading_enabled",
    "rank": "ranking_enabled",
    "withdraw ranking": "ranking_enabled",
    "comment": "comments_enabled",
    "reply": "comments_enabled",
    "edit own comment": "comments_enabled",
    "delete own comment": "comments_enabled",
    "mark useful": "comments_enabled",
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
    assert refusal.value.code in ("identity_required", "not_yours")


@pytest.mark.parametrize("action", ACTIONS)
def test_a_disabled_mode_refuses_everyone(people, action):
    predicate, perform = ACTIONS[action]
    consultation = build(people, S.OPEN, **{MODE_OF[action]: False})
    assert allowed(predicate, people, consultation) == set()
    with pytest.raises(NotAllowed) as refusal:
        perform(people["citizen"], consultation)
    assert refusal.value.code in ("mode_disabled", "not_yours")


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
    comment = debate.post_comment(people["citizen"], consultation.items.first(), "Texte", "for")
    for name, user in people.items():
        assert permissions.can_change_comment(user, comment) is (name == "citizen")
    Consultation.objects.filter(pk=consultation.pk).update(status=S.CLOSED)
    comment.refresh_from_db()
    assert not permissions.can_change_comment(people["citizen"], comment)


# --- Organiser actions, through the pages -------------------------------------------------
# Anyone but a manager is refused, whatever the phase: anonymous visitors are sent to log
# in, role holders without MFA to set it up, everyone else gets a 403. Managers get what
# the phase allows: 302 (done) or 409 (the phase forbids it).
DONE, CONFLICT = 302, 409
PREPARING_ONLY = {
    S.DRAFT: DONE,
    S.SCHEDULED: DONE,
    S.OPEN: CONFLICT,
    S.CLOSED: CONFLICT,
    S.PUBLISHED: CONFLICT,
}
ANY_PHASE = dict.fromkeys(PHASES, DONE)
ORGANISER_ACTIONS = {
    # action: (url name, needs an item, POST data, status for managers by phase)
    "edit the texts": ("organiser:edit", False, "consultation_form", ANY_PHASE),
    "add an item": ("organiser:item_add", False, {"title": "Nouvelle"}, PREPARING_ONLY),
    "change an item": ("organiser:item_edit", True, {"title": "Changée"}, PREPARING_ONLY),
    "delete an item": ("organiser:item_delete", True, {}, PREPARING_ONLY),
    "move an item": ("organiser:item_move", True, {"direction": "down"}, PREPARING_ONLY),
    "import items": ("organiser:import", False, "import_file", PREPARING_ONLY),
    "schedule": (
        "organiser:schedule",
        False,
        "dates",
        {S.DRAFT: DONE, S.SCHEDULED: DONE, S.OPEN: 409, S.CLOSED: 409, S.PUBLISHED: 409},
    ),
    "open now": (
        "organiser:open_now",
        False,
        {},
        {S.DRAFT: DONE, S.SCHEDULED: DONE, S.OPEN: 409, S.CLOSED: 409, S.PUBLISHED: 409},
    ),
    "back to draft": (
        "organiser:back_to_draft",
        False,
        {},
        {S.DRAFT: 409, S.SCHEDULED: DONE, S.OPEN: 409, S.CLOSED: 409, S.PUBLISHED: 409},
    ),
    "close early": (
        "organiser:close",
        False,
        {"reason": "Une erreur."},
        {S.DRAFT: 409, S.SCHEDULED: 409, S.OPEN: DONE, S.CLOSED: 409, S.PUBLISHED: 409},
    ),
    "add to the team": (
        "organiser:team",
        False,
        {"email": "cyril@example.org", "role": "moderator"},
        ANY_PHASE,
    ),
    "remove from the team": ("organiser:team_remove", False, "membership", ANY_PHASE),
}


def organiser_post(action, consultation):
    """The URL and POST data of ``action`` on ``consultation``."""
    from datetime import timedelta

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse
    from django.utils import timezone

    name, needs_item, data, _statuses = ORGANISER_ACTIONS[action]
    kwargs = {"slug": consultation.slug}
    if needs_item:
        kwargs["item_id"] = consultation.items.first().pk
    if data == "membership":
        kwargs["membership_id"] = consultation.memberships.get(
            role=Membership.Role.MODERATOR, user__email="max@example.org"
        ).pk
        data = {}
    elif data == "consultation_form":
        fields = [
            "title",
            "title_en",
            "slug",
            "summary",
            "summary_en",
            "description",
            "ranking_size",
            "grade_scale",
            "eligibility",
            "results_visibility",
        ]
        data = {field: getattr(consultation, field) for field in fields}
        for mode in ("voting_enabled", "grading_enabled", "ranking_enabled", "comments_enabled"):
            if getattr(consultation, mode):
                data[mode] = "on"
        data["title"] = "Nouveau titre"
        data["themes"] = "Thème | Theme"
    elif data == "dates":
        now = timezone.localtime()
        data = {
            "opens_at": (now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
            "closes_at": (now + timedelta(days=9)).strftime("%Y-%m-%dT%H:%M"),
        }
    elif data == "import_file":
        data = {"file": SimpleUploadedFile("items.csv", "title\nImportée\n".encode())}
    return reverse(name, kwargs=kwargs), data


def snapshot(consultation):
    consultation.refresh_from_db()
    return (
        consultation.status,
        consultation.title,
        consultation.opens_at,
        consultation.closes_at,
        list(consultation.items.values_list("pk", "title", "position")),
        sorted(consultation.memberships.values_list("user_id", "role")),
    )


@pytest.mark.parametrize("action", ORGANISER_ACTIONS)
@pytest.mark.parametrize("phase", PHASES)
def test_matrix_of_organiser_actions(people, client, phase, action):
    from django.urls import reverse

    statuses = ORGANISER_ACTIONS[action][3]
    for name, user in people.items():
        consultation = build(people, phase)
        before = snapshot(consultation)
        client.logout()
        if user.is_authenticated:
            login(client, user, backend="django.contrib.auth.backends.ModelBackend")
        url, data = organiser_post(action, consultation)
        response = client.post(url, data)
        if name in MANAGERS:
            assert response.status_code == statuses[phase], (name, response.status_code)
            assert (snapshot(consultation) != before) is (statuses[phase] == DONE), name
            continue
        if name == "anonymous":
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("account_login"))
        elif name.endswith("without_mfa"):
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("mfa_activate_totp"))
        else:
            # A draft they cannot see is answered as an unknown address would be.
            refused = 404 if phase == S.DRAFT else 403
            assert response.status_code == refused, (name, response.status_code)
        assert snapshot(consultation) == before, name
