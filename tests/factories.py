"""Builders that set the stage for tests: people and consultations. Plain ORM: the domain
functions are what tests exercise; these only set the stage.

The personas (``citizen``, ``organiser``, ``moderator``, ``staff``...) are fixtures in
tests/conftest.py built with ``make_user``; the login and second-factor helpers are in
tests/support/accounts.py.
"""

import random
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.utils import timezone

from consultation.models import Consultation, Item, Membership, Theme
from consultation.organising import lifecycle
from consultation.participation import voting
from tests.support.accounts import PASSWORD

_counter = iter(range(1, 1_000_000))


def make_user(email, *, display_name, verified=True, password=PASSWORD, **fields):
    """A user who signed up with ``email`` (verified unless told otherwise)."""
    user = get_user_model().objects.create_user(
        email=email, password=password, display_name=display_name, **fields
    )
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    return user


def make_consultation(*, items=3, status=Consultation.Status.OPEN, organiser=None, **overrides):
    """An OPEN consultation with ``items`` items and every participation mode on."""
    n = next(_counter)
    now = timezone.now()
    fields = {
        "slug": f"consultation-{n}",
        "title": f"Consultation {n}",
        "title_en": f"Consultation {n} (en)",
        "summary": "Un résumé.",
        "summary_en": "A summary.",
        "description": "Une **description**.",
        "status": status,
        "opens_at": now - timedelta(days=1),
        "closes_at": now + timedelta(days=7),
        "comments_enabled": True,
        "voting_enabled": True,
        "grading_enabled": True,
        "ranking_enabled": True,
        "ranking_size": 3,
        "grade_scale": 7,
    }
    if status in (Consultation.Status.DRAFT, Consultation.Status.SCHEDULED):
        fields["opens_at"] = now + timedelta(days=1)
        fields["closes_at"] = now + timedelta(days=8)
    if status in (Consultation.Status.CLOSED, Consultation.Status.PUBLISHED):
        fields["opens_at"] = now - timedelta(days=8)
        fields["closes_at"] = now - timedelta(days=1)
        fields["closed_at"] = fields["closes_at"]
    fields.update(overrides)
    consultation = Consultation.objects.create(**fields)
    theme = Theme.objects.create(
        consultation=consultation, slug="theme", name="Thème", name_en="Theme"
    )
    for i in range(items):
        make_item(consultation, theme=theme, position=i)
    if organiser is not None:
        Membership.objects.create(
            consultation=consultation, user=organiser, role=Membership.Role.ORGANISER
        )
    return consultation


def make_item(consultation, **overrides):
    n = next(_counter)
    fields = {
        "title": f"Mesure {n}",
        "title_en": f"Measure {n}",
        "summary": f"Résumé de la mesure {n}.",
        "summary_en": f"Summary of measure {n}.",
        "body": "Le texte de la mesure.",
        "position": n,
    }
    fields.update(overrides)
    return Item.objects.create(consultation=consultation, **fields)


def add_member(consultation, user, role):
    return Membership.objects.create(consultation=consultation, user=user, role=role)


CHOICES = ("for", "against", "abstain")


def take_part(user, consultation, *, rng: random.Random):
    """``user`` votes, grades and ranks at random, through the domain (like a person)."""
    items = list(consultation.items.order_by("position", "id"))
    for item in items:
        if consultation.voting_enabled:
            voting.cast_vote(user, item, rng.choice(CHOICES))
        if consultation.grading_enabled:
            voting.grade_item(user, item, rng.randrange(consultation.grade_scale))
    if consultation.ranking_enabled:
        chosen = rng.sample(items, rng.randint(1, min(consultation.ranking_size, len(items))))
        voting.submit_ballot(user, consultation, [item.pk for item in chosen])


def close(consultation) -> Consultation:
    """Close ``consultation`` now, as its organisers would before the date."""
    return lifecycle.transition(consultation.pk, "closed", reason="")


def publish_now(consultation, by) -> Consultation:
    """Closed, counted in this process and published by ``by``: a results page's final
    state with no job left to a worker. (Closing through the lifecycle queues the final
    count, which the production pass's worker, another process with its own MEDIA_ROOT,
    would race this count for.)"""
    from consultation.results import computing, publishing

    Consultation.objects.filter(pk=consultation.pk).update(
        status=Consultation.Status.CLOSED, closed_at=timezone.now()
    )
    consultation.refresh_from_db()
    computing.compute_results(consultation.pk, "final")
    publishing.publish(consultation, by)
    return consultation
