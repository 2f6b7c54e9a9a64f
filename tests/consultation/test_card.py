"""The consultation card (issue 14): the rule its organisers declare in draft, frozen at
opening by the lifecycle and by the database itself, shown on the consultation page."""

import importlib

import pytest
from django.apps import apps
from django.db import DatabaseError, IntegrityError, transaction
from django.urls import reverse

from consultation.counting.version import counting_version
from consultation.errors import Conflict, NotAllowed
from consultation.models import Consultation, ConsultationCard, Membership
from consultation.organising import card, lifecycle
from tests.factories import add_member, make_consultation
from tests.support.html import problems

pytestmark = pytest.mark.django_db
S = Consultation.Status


def url(consultation):
    return reverse("organiser:card", kwargs={"slug": consultation.slug})


def test_the_organiser_drafts_the_card_and_opening_freezes_it_with_the_settings(
    client_for, organiser, settings
):
    draft = make_consultation(status=S.DRAFT, organiser=organiser, ranking_size=4)
    client = client_for(organiser)
    page = client.get(url(draft))
    assert page.status_code == 200 and problems(page.content) == []
    content = page.content.decode()
    assert 'name="deciding_method"' in content and 'value="instant_runoff"' in content
    response = client.post(
        url(draft), {"deciding_method": "instant_runoff", "tie_break": "shared", "quorum": "50"}
    )
    assert response.status_code == 302 and response["Location"] == url(draft)
    saved = ConsultationCard.objects.get(consultation=draft)
    assert (saved.deciding_method, saved.tie_break, saved.quorum) == (
        "instant_runoff",
        "shared",
        50,
    )
    assert saved.frozen_at is None and saved.ranking_size is None  # read live until opening

    lifecycle.open_now(organiser, draft)
    frozen = ConsultationCard.objects.get(consultation=draft)
    assert frozen.frozen_at is not None
    assert card.card_document(Consultation.objects.get(pk=draft.pk)) == {
        "format": "agora-card/1",
        "consultation": draft.slug,
        "deciding_method": "instant_runoff",
        "tie_break": "shared",
        "quorum": 50,
        "ranking_size": 4,
        "grade_scale": 7,
        "eligibility": "verified_email",
        "results_visibility": "live",
        "min_group": settings.OPEN_DATA_MIN_GROUP,
        "counting_version": counting_version(),
        "frozen_at": frozen.frozen_at.isoformat(),
        "declared_after_opening": False,
    }
    # After opening: no form, and a post is refused.
    page = client.get(url(draft))
    assert 'name="deciding_method"' not in page.content.decode()
    assert (
        client.post(url(draft), {"deciding_method": "borda", "tie_break": "draw"}).status_code
        == 409
    )
    with pytest.raises(Conflict):
        card.update_card(organiser, draft, deciding_method="borda", tie_break="draw", quorum=None)
    assert ConsultationCard.objects.get(consultation=draft).deciding_method == "instant_runoff"


@pytest.mark.parametrize(
    "change",
    [
        {"deciding_method": "borda"},
        {"tie_break": "draw"},
        {"quorum": None},
        {"ranking_size": 9},
        {"counting_version": "0+forged"},
        {"frozen_at": None},
    ],
)
def test_a_direct_update_of_a_frozen_card_is_refused_by_the_database(organiser, change):
    consultation = make_consultation(status=S.DRAFT, organiser=organiser)
    card.update_card(
        organiser, consultation, deciding_method="schulze", tie_break="shared", quorum=10
    )
    lifecycle.open_now(organiser, consultation)
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        ConsultationCard.objects.filter(consultation=consultation).update(**change)
    assert ConsultationCard.objects.get(consultation=consultation).deciding_method == "schulze"


def test_a_draft_card_may_change_directly(organiser):
    consultation = make_consultation(status=S.DRAFT, organiser=organiser)
    card.update_card(
        organiser, consultation, deciding_method="schulze", tie_break="draw", quorum=None
    )
    ConsultationCard.objects.filter(consultation=consultation).update(deciding_method="borda")
    assert card.card_of(consultation).deciding_method == "borda"


def test_the_deciding_method_must_count_ballots_the_consultation_collects(client_for, organiser):
    draft = make_consultation(
        status=S.DRAFT, organiser=organiser, ranking_enabled=False, grading_enabled=False
    )
    content = client_for(organiser).get(url(draft)).content.decode()
    assert 'value="votes"' in content and 'value="schulze"' not in content
    response = client_for(organiser).post(
        url(draft), {"deciding_method": "schulze", "tie_break": "draw"}
    )
    assert response.status_code == 422 and problems(response.content) == []
    # A card written while ranking was on, then ranking turned off: opening is refused.
    ranked = make_consultation(status=S.DRAFT, organiser=organiser)
    card.update_card(organiser, ranked, deciding_method="borda", tie_break="draw", quorum=None)
    Consultation.objects.filter(pk=ranked.pk).update(ranking_enabled=False)
    with pytest.raises(Conflict) as refused:
        lifecycle.open_now(organiser, Consultation.objects.get(pk=ranked.pk))
    assert refused.value.code == "card_method_not_enabled"
    assert Consultation.objects.get(pk=ranked.pk).status == S.DRAFT


def test_only_the_organisers_write_the_card(client_for, make_user, organiser, moderator):
    consultation = make_consultation(status=S.SCHEDULED, organiser=organiser)
    add_member(consultation, moderator, Membership.Role.MODERATOR)
    citizen = make_user("camille@example.org")
    for person in (moderator, citizen):
        with pytest.raises(NotAllowed):
            card.update_card(
                person, consultation, deciding_method="borda", tie_break="draw", quorum=None
            )
    # A moderator sees the scheduled consultation but may not write its card.
    client = client_for(moderator)
    assert client.get(url(consultation)).status_code == 403
    assert client.post(url(consultation), {"deciding_method": "borda"}).status_code == 403
    client.logout()
    response = client.post(url(consultation), {"deciding_method": "borda", "tie_break": "draw"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    assert not ConsultationCard.objects.filter(consultation=consultation).exists()


def test_the_consultation_page_shows_the_declared_card_and_the_method_card_link(client, organiser):
    consultation = make_consultation(status=S.SCHEDULED, organiser=organiser)
    card.update_card(organiser, consultation, deciding_method="borda", tie_break="draw", quorum=25)
    page = client.get(consultation.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and problems(page.content) == []
    content = page.content.decode()
    assert "How the outcome is decided" in content or "Comment le résultat est décidé" in content
    assert reverse("consultation:methods") + "#method-borda" in content
    assert "25" in content


def test_existing_consultations_get_a_card_chosen_from_what_they_enable():
    migration = importlib.import_module("consultation.migrations.0011_consultation_card")
    ranked = make_consultation(status=S.CLOSED)
    graded = make_consultation(status=S.OPEN, ranking_enabled=False)
    voted = make_consultation(status=S.DRAFT, ranking_enabled=False, grading_enabled=False)
    ConsultationCard.objects.all().delete()
    migration.give_each_consultation_its_card(apps, None)
    cards = {c.consultation_id: c for c in ConsultationCard.objects.all()}
    assert cards[ranked.pk].deciding_method == "schulze"
    assert cards[graded.pk].deciding_method == "majority_judgment"
    assert cards[voted.pk].deciding_method == "votes"
    # Past their opening: frozen at once, and said to be set by the update.
    assert cards[ranked.pk].frozen_at and cards[ranked.pk].declared_after_opening
    assert cards[graded.pk].frozen_at and cards[graded.pk].ranking_size == graded.ranking_size
    assert cards[voted.pk].frozen_at is None and not cards[voted.pk].declared_after_opening
