"""Participation in "my data", and what deleting an account does to it."""

import pytest

from accounts import lifecycle, privacy
from consultation.models import Ballot, Comment, Consultation, Grade, Vote
from consultation.participation import debate, voting
from tests.factories import make_consultation

pytestmark = pytest.mark.django_db


def take_part(user, consultation):
    item = consultation.items.first()
    voting.cast_vote(user, item, "for")
    voting.grade_item(user, item, 5)
    voting.submit_ballot(user, consultation, [item.pk])
    return debate.post_comment(user, item, "Mon avis", "against")


def test_the_export_contains_votes_grades_rankings_and_comments(citizen):
    consultation = make_consultation()
    take_part(citizen, consultation)
    data = privacy.export_all(citizen)["participation"]
    item = consultation.items.first()
    assert [(v["item"], v["choice"]) for v in data["votes"]] == [(item.pk, "for")]
    assert [(g["item"], g["grade"]) for g in data["grades"]] == [(item.pk, 5)]
    assert data["rankings"][0]["ranked_item_ids"] == [item.pk]
    assert [c["body"] for c in data["comments"]] == ["Mon avis"]


def test_deletion_removes_open_ballots_and_anonymises_closed_ones(citizen, make_user):
    still_open = make_consultation()
    closed = make_consultation()
    take_part(citizen, still_open)
    reply_to = take_part(citizen, closed)
    reply = debate.post_comment(make_user(), closed.items.first(), "Réponse", "for", reply_to)
    Consultation.objects.filter(pk=closed.pk).update(status=Consultation.Status.CLOSED)

    lifecycle.delete_account(citizen)

    # The open consultation: as if this person had never voted.
    assert not Vote.objects.filter(item__consultation=still_open).exists()
    assert not Grade.objects.filter(item__consultation=still_open).exists()
    assert not Ballot.objects.filter(consultation=still_open).exists()
    # The closed one: the ballots still count, but belong to nobody.
    assert list(Vote.objects.filter(item__consultation=closed).values_list("user", "choice")) == [
        (None, "for")
    ]
    assert list(Grade.objects.filter(item__consultation=closed).values_list("user", flat=True)) == [
        None
    ]
    assert list(Ballot.objects.filter(consultation=closed).values_list("user", flat=True)) == [None]
    # Comments become placeholders; replies keep their place.
    placeholder = Comment.objects.get(pk=reply_to.pk)
    assert (placeholder.author, placeholder.body) == (None, "")
    assert placeholder.is_deleted
    assert Comment.objects.get(pk=reply.pk).parent_id == placeholder.pk
    assert not Comment.objects.filter(body="Mon avis").exists()


def test_nothing_about_a_deleted_account_remains_in_participation(citizen):
    consultation = make_consultation()
    take_part(citizen, consultation)
    pk = citizen.pk
    lifecycle.delete_account(citizen)
    for model in (Vote, Grade, Ballot):
        assert not model.objects.filter(user_id=pk).exists()
    assert not Comment.objects.filter(author_id=pk).exists()


def test_the_export_lists_roles_held_and_consultations_created(citizen, organiser):
    from consultation.models import Membership
    from consultation.organising import consultations
    from tests.factories import add_member

    created = consultations.create_consultation(
        organiser, {"slug": "ma-consultation", "title": "Ma consultation"}, []
    )
    moderated = make_consultation()
    add_member(moderated, organiser, Membership.Role.MODERATOR)
    data = privacy.export_all(organiser)["participation"]
    assert [(r["consultation"], r["role"]) for r in data["roles"]] == [
        ("ma-consultation", "organiser"),
        (moderated.slug, "moderator"),
    ]
    assert [
        (c["consultation"], c["title"], c["status"]) for c in data["consultations_created"]
    ] == [("ma-consultation", "Ma consultation", "draft")]
    assert privacy.export_all(citizen)["participation"]["roles"] == []
    assert created.created_by == organiser
