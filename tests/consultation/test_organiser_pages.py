"""The organiser space: an organiser prepares, schedules, opens and closes a consultation;
nobody else reaches it. Every page is valid, labelled HTML."""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from consultation.models import (
    Ballot,
    BallotEntry,
    Comment,
    Consultation,
    Grade,
    Item,
    Membership,
    Theme,
    Vote,
)
from tests.factories import make_consultation, make_item
from tests.support.accounts import current_totp_code, enable_totp, remove_mfa
from tests.support.html import problems

pytestmark = pytest.mark.django_db
S = Consultation.Status


@pytest.fixture
def odile(organiser):
    enable_totp(organiser)
    return organiser


@pytest.fixture
def draft(odile):
    return make_consultation(status=S.DRAFT, organiser=odile, items=3)


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def assert_sound(response, status=200):
    assert response.status_code == status, response.content.decode()[:2000]
    assert problems(response.content) == []


CONSULTATION_FORM = {
    "title": "Les écrans et les enfants",
    "title_en": "Screens and children",
    "slug": "ecrans-enfants",
    "summary": "Que faire des écrans avant 16 ans ?",
    "summary_en": "What to do about screens before 16?",
    "description": "Une **consultation**.",
    "themes": "École | School\nFamille",
    "voting_enabled": "on",
    "ranking_enabled": "on",
    "comments_enabled": "on",
    "ranking_size": "3",
    "grade_scale": "7",
    "eligibility": "verified_email",
    "results_visibility": "live",
}


def page_names(consultation, item):
    slug = {"slug": consultation.slug}
    each = {"slug": consultation.slug, "item_id": item.pk}
    return [
        ("organiser:manage", slug),
        ("organiser:edit", slug),
        ("organiser:items", slug),
        ("organiser:item_add", slug),
        ("organiser:import", slug),
        ("organiser:item_edit", each),
        ("organiser:item_delete", each),
        ("organiser:schedule", slug),
        ("organiser:close", slug),
        ("organiser:team", slug),
        ("organiser:charter", slug),
    ]


POST_ONLY = [
    ("organiser:open_now", False),
    ("organiser:back_to_draft", False),
    ("organiser:item_move", True),
]


# --- The whole journey ---------------------------------------------------------------


def test_an_organiser_prepares_schedules_opens_and_closes_a_consultation(client_for, odile):
    client = client_for(odile)
    assert_sound(client.get(reverse("organiser:dashboard")))
    assert_sound(client.get(reverse("organiser:create")))

    response = client.post(reverse("organiser:create"), CONSULTATION_FORM)
    consultation = Consultation.objects.get(slug="ecrans-enfants")
    assert response.status_code == 302
    assert response["Location"] == reverse("organiser:manage", kwargs={"slug": "ecrans-enfants"})
    assert consultation.status == S.DRAFT and consultation.created_by == odile
    assert Membership.objects.filter(
        consultation=consultation, user=odile, role=Membership.Role.ORGANISER
    ).exists()
    assert [(t.name, t.name_en) for t in consultation.themes.all()] == [
        ("École", "School"),
        ("Famille", ""),
    ]
    slug = {"slug": consultation.slug}
    assert_sound(client.get(reverse("organiser:manage", kwargs=slug)))
    dashboard = client.get(reverse("organiser:dashboard"))
    assert "Les écrans et les enfants" in dashboard.content.decode()

    # Edit: a new title, a theme removed.
    edited = {**CONSULTATION_FORM, "title": "Les écrans", "themes": "École | School"}
    assert client.post(reverse("organiser:edit", kwargs=slug), edited).status_code == 302
    consultation.refresh_from_db()
    assert consultation.title == "Les écrans"
    assert list(consultation.themes.values_list("name", flat=True)) == ["École"]

    # Add three items.
    school = consultation.themes.get()
    for title in ["Pas de téléphone au collège", "Contrôle parental", "Âge minimum"]:
        response = client.post(
            reverse("organiser:item_add", kwargs=slug), {"title": title, "theme": school.pk}
        )
        assert response.status_code == 302
    titles = lambda: list(consultation.items.values_list("title", flat=True))  # noqa: E731
    assert titles() == ["Pas de téléphone au collège", "Contrôle parental", "Âge minimum"]
    assert_sound(client.get(reverse("organiser:items", kwargs=slug)))

    # Reorder without JavaScript.
    last = consultation.items.get(title="Âge minimum")
    move = reverse("organiser:item_move", kwargs={**slug, "item_id": last.pk})
    assert client.post(move, {"direction": "up"}).status_code == 302
    assert client.post(move, {"direction": "up"}).status_code == 302
    assert titles() == ["Âge minimum", "Pas de téléphone au collège", "Contrôle parental"]
    first = consultation.items.get(title="Âge minimum")
    move_first = reverse("organiser:item_move", kwargs={**slug, "item_id": first.pk})
    assert client.post(move_first, {"direction": "down"}).status_code == 302
    assert titles() == ["Pas de téléphone au collège", "Âge minimum", "Contrôle parental"]

    # Schedule, then open at once.
    now = timezone.now()
    dates = {
        "opens_at": local(now + timedelta(days=2)),
        "closes_at": local(now + timedelta(days=9)),
    }
    assert_sound(client.get(reverse("organiser:schedule", kwargs=slug)))
    assert client.post(reverse("organiser:schedule", kwargs=slug), dates).status_code == 302
    consultation.refresh_from_db()
    assert consultation.status == S.SCHEDULED
    assert local(consultation.opens_at) == dates["opens_at"]
    # Rescheduling a scheduled consultation is allowed.
    dates["opens_at"] = local(now + timedelta(days=3))
    assert client.post(reverse("organiser:schedule", kwargs=slug), dates).status_code == 302
    consultation.refresh_from_db()
    assert (consultation.status, local(consultation.opens_at)) == (S.SCHEDULED, dates["opens_at"])

    assert client.post(reverse("organiser:open_now", kwargs=slug)).status_code == 302
    consultation.refresh_from_db()
    assert consultation.status == S.OPEN
    manage = client.get(reverse("organiser:manage", kwargs=slug))
    assert_sound(manage)
    assert 'name="reason"' in manage.content.decode()

    # Open: items are fixed.
    response = client.post(reverse("organiser:item_add", kwargs=slug), {"title": "Trop tard"})
    assert_sound(response, 409)
    assert not consultation.items.filter(title="Trop tard").exists()

    # Close early: the reason is mandatory.
    response = client.post(reverse("organiser:close", kwargs=slug), {"reason": ""})
    assert_sound(response, 422)
    assert 'aria-invalid="true"' in response.content.decode()
    consultation.refresh_from_db()
    assert consultation.status == S.OPEN
    reason = "Une erreur dans l’énoncé"
    assert (
        client.post(reverse("organiser:close", kwargs=slug), {"reason": reason}).status_code == 302
    )
    consultation.refresh_from_db()
    assert (consultation.status, consultation.closing_reason) == (S.CLOSED, reason)
    assert reason in client.get(reverse("organiser:manage", kwargs=slug)).content.decode()


def test_every_organiser_page_is_sound_in_both_languages(client_for, odile, draft):
    client = client_for(odile)
    item = draft.items.first()
    for language in ("fr", "en"):
        client.cookies["django_language"] = language
        pages = [("organiser:dashboard", {}), ("organiser:create", {}), *page_names(draft, item)]
        for name, kwargs in pages:
            response = client.get(reverse(name, kwargs=kwargs))
            assert_sound(response)
            assert f'<html lang="{language}"'.encode() in response.content


def test_the_overview_links_to_the_citizen_preview(client_for, odile, draft):
    content = client_for(odile).get(reverse("organiser:manage", kwargs={"slug": draft.slug}))
    preview = reverse("consultation:detail", kwargs={"slug": draft.slug})
    assert f'href="{preview}"' in content.content.decode()


# --- Who may enter -------------------------------------------------------------------


def _every_request(consultation, item):
    for name, kwargs in page_names(consultation, item):
        yield "get", reverse(name, kwargs=kwargs)
    for name, per_item in POST_ONLY:
        kwargs = {"slug": consultation.slug}
        if per_item:
            kwargs["item_id"] = item.pk
        yield "post", reverse(name, kwargs=kwargs)
    membership = consultation.memberships.first()
    yield (
        "post",
        reverse(
            "organiser:team_remove",
            kwargs={"slug": consultation.slug, "membership_id": membership.pk},
        ),
    )
    yield "post", reverse("organiser:close", kwargs={"slug": consultation.slug})


def test_an_organiser_of_another_consultation_is_refused_everywhere(client_for, make_user, draft):
    other = make_user("olivier@example.org", is_organiser=True)
    enable_totp(other)
    make_consultation(status=S.DRAFT, organiser=other)
    client = client_for(other)
    item = draft.items.first()
    for method, url in _every_request(draft, item):
        response = getattr(client, method)(url, {"direction": "up", "reason": "x"})
        assert response.status_code == 404, (method, url)  # a draft they cannot see
    assert draft.memberships.count() == 1
    assert Consultation.objects.get(pk=draft.pk).status == S.DRAFT


def test_a_citizen_is_refused_everywhere(client_for, citizen, draft):
    enable_totp(citizen)
    client = client_for(citizen)
    for method, url in [
        ("get", reverse("organiser:dashboard")),
        ("get", reverse("organiser:create")),
    ]:
        assert getattr(client, method)(url).status_code == 403, (method, url)
    for method, url in _every_request(draft, draft.items.first()):
        assert getattr(client, method)(url).status_code == 404, (method, url)


def test_a_moderator_of_the_consultation_cannot_manage_it(client_for, moderator, draft):
    enable_totp(moderator)
    Membership.objects.create(consultation=draft, user=moderator, role=Membership.Role.MODERATOR)
    client = client_for(moderator)
    assert client.get(reverse("organiser:manage", kwargs={"slug": draft.slug})).status_code == 404
    draft.status = S.SCHEDULED  # once it is public, the page exists: managing it is refused
    draft.save()
    assert client.get(reverse("organiser:manage", kwargs={"slug": draft.slug})).status_code == 403


def test_an_organiser_without_mfa_is_sent_to_set_it_up(client_for, organiser):
    remove_mfa(organiser)
    consultation = make_consultation(status=S.DRAFT, organiser=organiser)
    client = client_for(organiser)
    for url in [
        reverse("organiser:dashboard"),
        reverse("organiser:create"),
        reverse("organiser:manage", kwargs={"slug": consultation.slug}),
    ]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("mfa_activate_totp"))


def test_a_co_organiser_without_the_global_flag_also_needs_mfa(client_for, citizen, draft):
    Membership.objects.create(consultation=draft, user=citizen, role=Membership.Role.ORGANISER)
    client = client_for(citizen)
    page = reverse("organiser:manage", kwargs={"slug": draft.slug})
    response = client.get(page)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_activate_totp"))
    secret = enable_totp(citizen)
    # The session logged in before the app existed: it has not passed the second factor.
    response = client.get(page)
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    response = client.post(response["Location"], {"code": current_totp_code(secret)})
    assert response["Location"] == page
    assert_sound(client.get(page))


def test_staff_manage_every_consultation(client_for, staff, draft):
    enable_totp(staff)
    assert_sound(client_for(staff).get(reverse("organiser:manage", kwargs={"slug": draft.slug})))


def test_anonymous_visitors_are_sent_to_log_in(client, draft):
    response = client.get(reverse("organiser:manage", kwargs={"slug": draft.slug}))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


# --- Forms and refusals ----------------------------------------------------------------


def test_consultation_form_errors_are_shown_next_to_their_field(client_for, odile, draft):
    client = client_for(odile)
    for language, message in [
        ("fr", "Ce champ est obligatoire."),
        ("en", "This field is required."),
    ]:
        client.cookies["django_language"] = language
        response = client.post(
            reverse("organiser:create"),
            {**CONSULTATION_FORM, "title": "", "slug": draft.slug, "ranking_size": "50"},
        )
        assert_sound(response, 422)
        content = response.content.decode()
        assert message in content
        assert 'aria-describedby="id_title_error"' in content
        assert 'id="id_slug_error"' in content
        assert 'id="id_ranking_size_error"' in content
    assert Consultation.objects.count() == 1


def test_a_consultation_needs_one_way_to_take_part(client_for, odile):
    form = {key: value for key, value in CONSULTATION_FORM.items() if not key.endswith("enabled")}
    response = client_for(odile).post(reverse("organiser:create"), form)
    assert_sound(response, 422)
    assert 'id="id_voting_enabled_error"' in response.content.decode()


def test_settings_are_fixed_once_the_consultation_opens(client_for, odile):
    consultation = make_consultation(status=S.OPEN, organiser=odile, grading_enabled=False)
    client = client_for(odile)
    form = {**CONSULTATION_FORM, "grading_enabled": "on", "slug": "autre", "title": "Nouveau"}
    response = client.post(reverse("organiser:edit", kwargs={"slug": consultation.slug}), form)
    assert response.status_code == 302
    consultation.refresh_from_db()
    assert consultation.title == "Nouveau"  # texts may still change
    assert (consultation.slug, consultation.grading_enabled) != ("autre", True)
    assert consultation.slug.startswith("consultation-") and not consultation.grading_enabled


def test_a_lifecycle_refusal_is_a_409_with_its_message(client_for, odile):
    empty = make_consultation(status=S.DRAFT, organiser=odile, items=0)
    client = client_for(odile)
    client.cookies["django_language"] = "en"
    response = client.post(reverse("organiser:open_now", kwargs={"slug": empty.slug}))
    assert_sound(response, 409)
    assert "Add at least one item before opening the consultation." in response.content.decode()
    empty.refresh_from_db()
    assert empty.status == S.DRAFT


def test_scheduling_in_the_past_is_refused_next_to_the_field(client_for, odile, draft):
    client = client_for(odile)
    now = timezone.now()
    before = (draft.opens_at, draft.closes_at)
    dates = {
        "opens_at": local(now - timedelta(days=1)),
        "closes_at": local(now + timedelta(days=1)),
    }
    response = client.post(reverse("organiser:schedule", kwargs={"slug": draft.slug}), dates)
    assert_sound(response, 409)
    assert 'id="id_opens_at_error"' in response.content.decode()
    draft.refresh_from_db()
    assert (draft.status, draft.opens_at, draft.closes_at) == (S.DRAFT, *before)

    dates = {
        "opens_at": local(now + timedelta(days=2)),
        "closes_at": local(now + timedelta(days=1)),
    }
    response = client.post(reverse("organiser:schedule", kwargs={"slug": draft.slug}), dates)
    assert_sound(response, 422)
    assert 'id="id_closes_at_error"' in response.content.decode()


def test_an_open_consultation_cannot_be_rescheduled(client_for, odile):
    consultation = make_consultation(status=S.OPEN, organiser=odile)
    closes_at = consultation.closes_at
    now = timezone.now()
    dates = {
        "opens_at": local(now + timedelta(days=2)),
        "closes_at": local(now + timedelta(days=3)),
    }
    response = client_for(odile).post(
        reverse("organiser:schedule", kwargs={"slug": consultation.slug}), dates
    )
    assert_sound(response, 409)
    consultation.refresh_from_db()
    assert (consultation.status, consultation.closes_at) == (S.OPEN, closes_at)


def test_back_to_draft_stops_a_scheduled_consultation(client_for, odile):
    consultation = make_consultation(status=S.SCHEDULED, organiser=odile)
    response = client_for(odile).post(
        reverse("organiser:back_to_draft", kwargs={"slug": consultation.slug})
    )
    assert response.status_code == 302
    consultation.refresh_from_db()
    assert consultation.status == S.DRAFT


def test_items_are_deleted_only_while_preparing(client_for, odile, draft):
    client = client_for(odile)
    item = draft.items.first()
    url = reverse("organiser:item_delete", kwargs={"slug": draft.slug, "item_id": item.pk})
    assert client.post(url).status_code == 302
    assert not Item.objects.filter(pk=item.pk).exists()

    opened = make_consultation(status=S.OPEN, organiser=odile)
    item = opened.items.first()
    url = reverse("organiser:item_delete", kwargs={"slug": opened.slug, "item_id": item.pk})
    assert_sound(client.post(url), 409)
    assert Item.objects.filter(pk=item.pk).exists()


def test_an_item_of_another_consultation_is_not_found(client_for, odile, draft):
    elsewhere = make_item(make_consultation(status=S.DRAFT, items=0))
    url = reverse("organiser:item_edit", kwargs={"slug": draft.slug, "item_id": elsewhere.pk})
    assert client_for(odile).get(url).status_code == 404


def test_item_titles_are_unique_within_a_consultation(client_for, odile, draft):
    taken = draft.items.first().title
    response = client_for(odile).post(
        reverse("organiser:item_add", kwargs={"slug": draft.slug}), {"title": taken.upper()}
    )
    assert_sound(response, 422)
    assert 'id="id_title_error"' in response.content.decode()


# --- Team ------------------------------------------------------------------------------


def test_moderators_and_co_organisers_are_added_by_email_and_removed(
    client_for, odile, draft, make_user
):
    malik = make_user("malik@example.org")
    olga = make_user("olga@example.org")
    client = client_for(odile)
    url = reverse("organiser:team", kwargs={"slug": draft.slug})
    assert client.post(url, {"email": "MALIK@example.org", "role": "moderator"}).status_code == 302
    assert client.post(url, {"email": "olga@example.org", "role": "organiser"}).status_code == 302
    assert set(draft.memberships.values_list("user__email", "role")) == {
        ("odile@example.org", "organiser"),
        ("malik@example.org", "moderator"),
        ("olga@example.org", "organiser"),
    }
    assert_sound(client.get(url))

    response = client.post(url, {"email": "nobody@example.org", "role": "moderator"})
    assert_sound(response, 422)
    assert 'id="id_email_error"' in response.content.decode()
    response = client.post(url, {"email": "malik@example.org", "role": "moderator"})
    assert_sound(response, 409)

    membership = draft.memberships.get(user=malik)
    remove = reverse(
        "organiser:team_remove", kwargs={"slug": draft.slug, "membership_id": membership.pk}
    )
    assert client.post(remove).status_code == 302
    assert not draft.memberships.filter(user=malik).exists()

    # Olga, now co-organiser, manages it too.
    enable_totp(olga)
    assert (
        client_for(olga).get(reverse("organiser:manage", kwargs={"slug": draft.slug})).status_code
        == 200
    )


def test_the_last_organiser_cannot_be_removed(client_for, odile, draft):
    membership = draft.memberships.get(user=odile)
    remove = reverse(
        "organiser:team_remove", kwargs={"slug": draft.slug, "membership_id": membership.pk}
    )
    assert_sound(client_for(odile).post(remove), 409)
    assert draft.memberships.filter(user=odile).exists()


# --- Admin -----------------------------------------------------------------------------


def test_the_admin_shows_consultations_but_never_votes():
    for model in (Consultation, Theme, Item, Membership, Comment):
        assert admin.site.is_registered(model), model
    for model in (Vote, Grade, Ballot, BallotEntry):
        assert not admin.site.is_registered(model), model


def test_the_admin_consultation_pages_work(client_for, staff, draft):
    enable_totp(staff)
    client = client_for(staff)
    for url in [
        reverse("admin:consultation_consultation_changelist"),
        reverse("admin:consultation_consultation_change", args=[draft.pk]),
        reverse("admin:consultation_item_changelist"),
        reverse("admin:consultation_membership_changelist"),
        reverse("admin:consultation_comment_changelist"),
    ]:
        assert client.get(url).status_code == 200, url


def test_the_admin_cannot_change_an_open_consultations_items(client_for, staff, odile):
    enable_totp(staff)
    consultation = make_consultation(status=S.OPEN, organiser=odile)
    item = consultation.items.first()
    client = client_for(staff)
    change = reverse("admin:consultation_item_change", args=[item.pk])
    response = client.post(change, {"title": "Changée", "consultation": consultation.pk})
    assert response.status_code == 403
    item.refresh_from_db()
    assert item.title != "Changée"
    delete = reverse("admin:consultation_item_delete", args=[item.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403


def test_the_admin_adds_items_only_to_a_consultation_in_preparation(client_for, staff, odile):
    enable_totp(staff)
    client = client_for(staff)
    client.cookies["django_language"] = "en"
    add = reverse("admin:consultation_item_add")
    opened = make_consultation(status=S.OPEN, organiser=odile, items=2)
    draft = make_consultation(status=S.DRAFT, organiser=odile, items=2)
    fields = {"title": "Glissée", "position": 0, "body": ""}
    response = client.post(add, {**fields, "consultation": opened.pk})
    assert response.status_code == 200
    assert "Items can only be added, changed, removed or reordered" in response.content.decode()
    assert not Item.objects.filter(title="Glissée").exists()
    response = client.post(add, {**fields, "consultation": draft.pk})
    assert response.status_code == 302
    added = Item.objects.get(title="Glissée")
    assert added.consultation == draft and added.position == 2  # last, as organisers add them
    # Nor can an item of a draft be moved into the open consultation.
    change = reverse("admin:consultation_item_change", args=[added.pk])
    response = client.post(change, {**fields, "consultation": opened.pk})
    assert response.status_code == 200
    added.refresh_from_db()
    assert added.consultation == draft


def test_the_admin_shows_an_open_consultations_themes_read_only(client_for, staff, odile):
    enable_totp(staff)
    client = client_for(staff)
    opened = make_consultation(status=S.OPEN, organiser=odile)
    theme = opened.themes.get()
    page = client.get(reverse("admin:consultation_consultation_change", args=[opened.pk]))
    assert page.status_code == 200
    assert 'name="themes-0-name"' not in page.content.decode()
    change = reverse("admin:consultation_theme_change", args=[theme.pk])
    response = client.post(change, {"name": "Renommé", "slug": "theme", "position": 0})
    assert response.status_code == 403
    assert (
        client.post(
            reverse("admin:consultation_theme_delete", args=[theme.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    add = reverse("admin:consultation_theme_add")
    fields = {"name": "Nouveau", "slug": "nouveau", "position": 1, "consultation": opened.pk}
    assert client.post(add, fields).status_code == 200
    assert list(opened.themes.values_list("name", flat=True)) == ["Thème"]
    draft = make_consultation(status=S.DRAFT, organiser=odile)
    page = client.get(reverse("admin:consultation_consultation_change", args=[draft.pk]))
    assert 'name="themes-0-name"' in page.content.decode()


def test_a_citizen_cannot_tell_a_draft_from_an_unknown_address(client_for, citizen, draft):
    client = client_for(citizen)
    for slug in (draft.slug, "no-such-consultation"):
        for name in ("organiser:manage", "organiser:items", "organiser:results"):
            assert client.get(reverse(name, kwargs={"slug": slug})).status_code == 404, name
    opened = make_consultation()
    assert client.get(reverse("organiser:manage", kwargs={"slug": opened.slug})).status_code == 403
