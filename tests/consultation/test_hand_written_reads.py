"""The write path's statements written by hand (config/rows.py) answer what the ORM's
would: the same rows, the same instances, on both backends."""

from datetime import timedelta

import pytest
from django.db.models import F
from django.http import Http404
from django.utils import timezone

from accounts import tokens
from accounts.models import ApiToken
from consultation import permissions
from consultation.api.shaping import item_or_404
from consultation.models import Consultation, Follow, Item, Rule, Suspension, Theme, Vote
from consultation.moderation import decisions
from consultation.notices import follows
from consultation.participation import voting
from tests.factories import make_consultation

pytestmark = pytest.mark.django_db


def _orm_suspension(user, consultation):
    scope = Suspension.objects.active().filter(user=user)
    scope = scope.filter(consultation__isnull=True) | scope.filter(consultation=consultation)
    return scope.order_by(F("ends_at").desc(nulls_first=True), "id").first()


def _fields(instance):
    if instance is None:
        return None
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.fields}


def test_suspension_reads_agree_with_the_orm_in_every_state(staff, citizen, make_user):
    consultation = make_consultation()
    other = make_consultation()
    now = timezone.now()
    assert permissions.suspension_of(citizen, consultation) is None

    def suspend(where, days):
        return decisions.suspend(staff, citizen, where, Rule.SPAM, days=days).suspension

    elsewhere = suspend(other, 3)
    assert permissions.suspension_of(citizen, consultation) is None
    assert permissions.suspension_of(citizen, other).pk == elsewhere.pk

    short = suspend(consultation, 1)
    found = permissions.suspension_of(citizen, consultation)
    assert _fields(found) == _fields(_orm_suspension(citizen, consultation))
    assert found.pk == short.pk and found.ends_at > now  # a datetime, as the ORM gives

    longer = suspend(consultation, 5)
    assert permissions.suspension_of(citizen, consultation).pk == longer.pk
    # Site-wide and without end: the longest of all, first.
    forever = suspend(None, None)
    assert permissions.suspension_of(citizen, consultation).pk == forever.pk
    assert permissions.suspension_of(citizen, None).pk == forever.pk

    # Lifted, not yet started, already over: none of them holds.
    Suspension.objects.filter(pk=forever.pk).update(lifted_at=now)
    Suspension.objects.filter(pk=longer.pk).update(starts_at=now + timedelta(hours=1))
    Suspension.objects.filter(pk=short.pk).update(ends_at=now - timedelta(seconds=1))
    assert permissions.suspension_of(citizen, consultation) is None
    assert _orm_suspension(citizen, consultation) is None
    assert permissions.suspension_of(citizen, None) is None
    # Someone else's suspension is theirs.
    assert permissions.suspension_of(make_user(), other) is None


def test_the_item_read_for_a_write_is_the_orm_s_item_and_never_a_draft_s():
    consultation = make_consultation(items=2)
    item = consultation.items.order_by("position").first()
    theme = Theme.objects.create(consultation=consultation, slug="sante", name="Santé")
    Item.objects.filter(pk=item.pk).update(theme=theme)
    expected = Item.objects.select_related("consultation", "theme").get(pk=item.pk)

    found = item_or_404(item.pk)
    assert _fields(found) == _fields(expected)
    assert _fields(found.consultation) == _fields(expected.consultation)
    assert _fields(found.theme) == _fields(expected.theme)
    # Typed as the ORM types them: dates as datetimes, flags as booleans.
    assert found.consultation.closes_at == expected.consultation.closes_at
    assert found.consultation.voting_enabled is True

    without_theme = consultation.items.exclude(pk=item.pk).get()
    Item.objects.filter(pk=without_theme.pk).update(theme=None)
    assert item_or_404(without_theme.pk).theme is None

    Consultation.objects.filter(pk=consultation.pk).update(status=Consultation.Status.DRAFT)
    with pytest.raises(Http404):
        item_or_404(item.pk)
    with pytest.raises(Http404):
        item_or_404(999_999_999)


def test_a_token_is_read_with_its_owner_and_dies_with_their_credentials(citizen, unverified):
    token, secret = tokens.create_token(citizen, "script")
    user = tokens.authenticate(secret)
    assert _fields(user) == _fields(type(citizen).objects.get(pk=citizen.pk))
    assert user._has_verified_email is True
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None

    _token, unverified_secret = tokens.create_token(unverified, "script")
    assert tokens.authenticate(unverified_secret)._has_verified_email is False

    assert tokens.authenticate(secret[:-1] + ("a" if secret[-1] != "a" else "b")) is None
    assert tokens.authenticate("not-a-token") is None
    # Credentials changed after the token was made: the token is dead.
    type(citizen).objects.filter(pk=citizen.pk).update(
        credentials_changed_at=token.created_at + timedelta(seconds=1)
    )
    assert tokens.authenticate(secret) is None
    type(citizen).objects.filter(pk=citizen.pk).update(credentials_changed_at=None, is_active=False)
    assert tokens.authenticate(secret) is None


def test_the_first_vote_follows_the_consultation_and_an_unfollow_stays(citizen):
    consultation = make_consultation(items=2)
    first, second = consultation.items.order_by("position")
    voting.cast_vote(citizen, first, "for")
    follow = Follow.objects.get(user=citizen, consultation=consultation, item=None)
    assert follow.active and follow.reason == follows.PARTICIPATION

    follows.unfollow(citizen, consultation=consultation)
    voting.cast_vote(citizen, first, "against")
    voting.cast_vote(citizen, second, "for")  # a first vote on another item: no new follow
    assert list(Follow.objects.filter(user=citizen).values_list("active", flat=True)) == [False]

    vote = voting.cast_vote(citizen, first, "abstain")
    stored = Vote.objects.get(user=citizen, item=first)
    assert (vote.pk, vote.choice, vote.created_at) == (stored.pk, "abstain", stored.created_at)
    assert stored.updated_at >= stored.created_at


def test_an_id_no_column_can_hold_names_nothing_rather_than_failing(citizen):
    from consultation import reads
    from consultation.errors import Invalid

    consultation = make_consultation(items=2)
    item = consultation.items.first()
    for huge in (2**63, 10**30):
        assert reads.item_with_consultation(huge, drafts=True) is None
        with pytest.raises(Http404):
            item_or_404(huge)
        with pytest.raises(Invalid):
            voting.submit_ballot(citizen, consultation, [item.pk, huge])
    found = reads.item_with_consultation(item.pk, slug=consultation.slug, drafts=False)
    assert found.pk == item.pk and found.consultation.pk == consultation.pk
    assert reads.item_with_consultation(item.pk, slug="another", drafts=True) is None
    assert reads.consultation_by_slug(consultation.slug, drafts=False).pk == consultation.pk
