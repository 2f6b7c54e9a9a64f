"""The organisers word the moderation charter in their space: version 1 rewritten in place
until the consultation opens, a new version per change after; and they set the quarantine
threshold on the consultation's form. Nobody else writes either."""

import pytest
from django.urls import reverse

from consultation.models import Charter, Consultation, Membership, Rule
from consultation.moderation import charter
from tests.factories import add_member, make_consultation
from tests.support.accounts import enable_totp
from tests.support.html import problems

pytestmark = pytest.mark.django_db
S = Consultation.Status

CONSULTATION_FORM = {
    "title": "Les écrans et les enfants",
    "slug": "ecrans-enfants",
    "summary": "Que faire des écrans avant 16 ans ?",
    "voting_enabled": "on",
    "comments_enabled": "on",
    "ranking_size": "3",
    "grade_scale": "7",
    "eligibility": "verified_email",
    "results_visibility": "live",
}


def assert_sound(response, status=200):
    assert response.status_code == status, response.content.decode()[:2000]
    assert problems(response.content) == []


def url(consultation):
    return reverse("organiser:charter", kwargs={"slug": consultation.slug})


def wording(**fields):
    """The posted form: every field empty but those given."""
    data = {"intro": ""}
    for code in Rule.values:
        data[f"{code}_title"] = ""
        data[f"{code}_text"] = ""
    return {**data, **fields}


def test_before_opening_the_charter_is_rewritten_in_place_as_version_one(client_for, organiser):
    draft = make_consultation(status=S.DRAFT, organiser=organiser)
    client = client_for(organiser)
    page = client.get(url(draft))
    assert_sound(page)
    content = page.content.decode()
    assert "elle reste en version 1" in content
    assert "la formulation par défaut (rien n’est encore enregistré)" in content
    # The default wording is shown, not pre-filled: saving as is would not freeze it.
    assert str(charter.DEFAULT_TEXTS[Rule.HATE]) in content

    response = client.post(url(draft), wording(intro="Soyons courtois.", spam_title="Pub"))
    assert response.status_code == 302 and response["Location"] == url(draft)
    response = client.post(
        url(draft), wording(intro="Soyons courtois et précis.", spam_title="Publicité")
    )
    assert response.status_code == 302
    [row] = Charter.objects.filter(consultation=draft)
    assert (row.version, row.intro) == (1, "Soyons courtois et précis.")
    assert row.rules == {"spam": {"title": "Publicité", "text": ""}}
    current = charter.current(draft)
    assert current.rule(Rule.SPAM).title == "Publicité"
    assert current.rule(Rule.SPAM).text == str(charter.DEFAULT_TEXTS[Rule.SPAM])
    page = client.get(url(draft))
    assert 'value="Publicité"' in page.content.decode()
    assert "En vigueur : version 1." in page.content.decode()


def test_once_open_each_change_is_a_new_version_and_the_page_says_so(client_for, organiser):
    consultation = make_consultation(status=S.DRAFT, organiser=organiser)
    client = client_for(organiser)
    client.post(url(consultation), wording(intro="Version une."))
    Consultation.objects.filter(pk=consultation.pk).update(status=S.OPEN)

    page = client.get(url(consultation))
    assert_sound(page)
    assert "chaque modification enregistrée devient une nouvelle version" in page.content.decode()
    response = client.post(url(consultation), wording(intro="Version deux.", other_text="Voir."))
    assert response.status_code == 302
    followed = client.get(url(consultation))
    assert "enregistrée en version 2" in followed.content.decode()
    # Saving the same text again makes no version.
    client.post(url(consultation), wording(intro="Version deux.", other_text="Voir."))
    assert "Rien n’a changé" in client.get(url(consultation)).content.decode()
    assert list(
        Charter.objects.filter(consultation=consultation).values_list("version", "intro")
    ) == [(2, "Version deux."), (1, "Version une.")]
    page = client.get(url(consultation)).content.decode()
    assert "En vigueur : version 2." in page and "Version 1," in page


def test_a_too_long_rule_is_refused_next_to_its_field(client_for, organiser):
    draft = make_consultation(status=S.DRAFT, organiser=organiser)
    client = client_for(organiser)
    response = client.post(url(draft), wording(insult_text="x" * (charter.MAX_TEXT + 1)))
    assert_sound(response, 422)
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Charter.objects.filter(consultation=draft).exists()


def test_only_the_organisers_word_the_charter(client_for, make_user, organiser, moderator):
    consultation = make_consultation(organiser=organiser)
    add_member(consultation, moderator, Membership.Role.MODERATOR)
    other = make_user("olivier@example.org", is_organiser=True)
    enable_totp(other)
    make_consultation(organiser=other)
    citizen = make_user("camille@example.org")
    for person in (moderator, other, citizen):
        client = client_for(person)
        assert client.get(url(consultation)).status_code == 403, person
        assert client.post(url(consultation), wording(intro="Non.")).status_code == 403, person
        client.logout()
    response = client.post(url(consultation), wording(intro="Non."))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    assert not Charter.objects.filter(consultation=consultation).exists()


def test_the_subnav_links_to_the_charter_page(client_for, organiser):
    consultation = make_consultation(status=S.DRAFT, organiser=organiser)
    page = client_for(organiser).get(
        reverse("organiser:manage", kwargs={"slug": consultation.slug})
    )
    assert f'href="{url(consultation)}"' in page.content.decode()


def test_the_quarantine_threshold_is_set_on_the_consultation_form(client_for, organiser):
    client = client_for(organiser)
    page = client.get(reverse("organiser:create")).content.decode()
    assert 'name="quarantine_threshold"' in page
    assert "mis de côté, affiché comme en attente d’examen" in page  # its help text
    response = client.post(reverse("organiser:create"), {**CONSULTATION_FORM})
    assert response.status_code == 302
    consultation = Consultation.objects.get(slug=CONSULTATION_FORM["slug"])
    assert consultation.quarantine_threshold is None  # empty: reports only fill the queue

    edit = reverse("organiser:edit", kwargs={"slug": consultation.slug})
    refused = client.post(edit, {**CONSULTATION_FORM, "quarantine_threshold": "0"})
    assert_sound(refused, 422)
    Consultation.objects.filter(pk=consultation.pk).update(status=S.OPEN)
    # A moderation setting, not a participation one: it may change while open.
    assert client.post(edit, {**CONSULTATION_FORM, "quarantine_threshold": "3"}).status_code == 302
    consultation.refresh_from_db()
    assert consultation.quarantine_threshold == 3
