"""The public pages: list, consultation, item and debate, as anyone sees them."""

import pytest
from django.urls import reverse
from django.utils.http import urlencode

from consultation import comments, queries, voting
from consultation.models import Comment, Consultation, Membership, Theme
from tests.consultation.factories import make_consultation, make_item
from tests.support.html import problems

pytestmark = pytest.mark.django_db


def get_sound(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status
    assert problems(response.content) == []
    return response


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_public_page_is_sound_in_both_languages(client, citizen, language):
    consultation = make_consultation()
    make_consultation(status=Consultation.Status.SCHEDULED)
    make_consultation(status=Consultation.Status.PUBLISHED)
    item = consultation.items.first()
    comment = comments.post_comment(citizen, item, "Bien vu.", "for")
    comments.post_comment(citizen, item, "Je précise.", "neutral", parent=comment)
    client.cookies["django_language"] = language
    for url in [
        reverse("home"),
        reverse("consultation:list"),
        consultation.get_absolute_url(),
        item.get_absolute_url(),
        reverse("consultation:ranking", kwargs={"slug": consultation.slug}),
    ]:
        response = get_sound(client, url)
        assert f'<html lang="{language}"'.encode() in response.content


def test_signed_in_pages_are_sound_with_every_widget(client_for, citizen, make_user):
    consultation = make_consultation()
    item = consultation.items.first()
    voting.cast_vote(citizen, item, "for")
    voting.grade_item(citizen, item, 3)
    mine = comments.post_comment(citizen, item, "Premier jet.", "for")
    comments.edit_comment(citizen, mine, "Second jet.")
    other = comments.post_comment(make_user(), item, "Un autre avis.", "against")
    comments.post_comment(citizen, item, "Réponse.", parent=other)
    client = client_for(citizen)
    content = get_sound(client, item.get_absolute_url()).content.decode()
    assert 'name="choice"' in content
    assert 'name="grade"' in content
    assert "Mark as useful" in content or "Marquer comme utile" in content
    get_sound(client, consultation.get_absolute_url())


def test_the_list_sorts_consultations_by_phase(client):
    open_one = make_consultation(title="Ouverte")
    soon = make_consultation(status=Consultation.Status.SCHEDULED, title="Bientôt")
    done = make_consultation(status=Consultation.Status.PUBLISHED, title="Finie")
    draft = make_consultation(status=Consultation.Status.DRAFT, title="Brouillon secret")
    content = get_sound(client, reverse("consultation:list")).content.decode()
    assert content.index(open_one.title) < content.index(soon.title) < content.index(done.title)
    assert draft.title not in content


def test_home_page_lists_open_consultations(client):
    consultation = make_consultation(title="Sur la page d'accueil")
    content = get_sound(client, reverse("home")).content.decode()
    assert consultation.get_absolute_url() in content
    assert reverse("consultation:list") in content


def test_drafts_are_hidden_from_citizens(client_for, citizen):
    draft = make_consultation(status=Consultation.Status.DRAFT)
    client = client_for(citizen)
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert client.get(draft.items.first().get_absolute_url()).status_code == 404
    assert client.get(reverse("consultation:ranking", args=[draft.slug])).status_code == 404


def test_organisers_preview_their_draft(client_for, organiser):
    draft = make_consultation(status=Consultation.Status.DRAFT, organiser=organiser)
    response = get_sound(client_for(organiser), draft.get_absolute_url())
    assert b"preview-banner" in response.content


def test_consultation_page_filters_items_by_theme_and_search(client):
    consultation = make_consultation(items=0)
    transport = Theme.objects.create(consultation=consultation, slug="transport", name="Transport")
    make_item(consultation, title="Vélos partout", theme=transport)
    make_item(consultation, title="Cantines bio")
    url = consultation.get_absolute_url()
    content = get_sound(client, url + "?theme=transport").content.decode()
    assert "Vélos partout" in content and "Cantines bio" not in content
    content = get_sound(client, url + "?q=cantines").content.decode()
    assert "Cantines bio" in content and "Vélos partout" not in content
    content = get_sound(client, url).content.decode()
    assert "Cantines bio" in content and "Vélos partout" in content


def test_search_ignores_case_and_accents_on_every_database(client):
    consultation = make_consultation(items=0)
    make_item(consultation, title="Le numérique en commun", summary="Un résumé.")
    make_item(consultation, title="Mise en œuvre", summary_en="Putting it into PRACTICE")
    make_item(consultation, title="Cantines bio", body="Des ÉCOLES mieux nourries.")
    url = consultation.get_absolute_url()

    def found(query):
        return [item.title for item in queries.search_items(consultation, query=query)]

    for query in ("NUMÉRIQUE", "numerique", "Numérique", "NUMERIQUE en"):
        assert found(query) == ["Le numérique en commun"], query
        content = get_sound(client, url + "?" + urlencode({"q": query})).content.decode()
        assert "Le numérique en commun" in content and "Cantines bio" not in content
    assert found("oeuvre") == found("ŒUVRE") == ["Mise en œuvre"]
    assert found("practice") == ["Mise en œuvre"]
    assert found("écoles bio") == found("ecoles") == ["Cantines bio"]
    assert found("numérique cantines") == []


def test_consultation_page_shows_comment_counts_and_participation(client, citizen):
    consultation = make_consultation()
    item = consultation.items.first()
    comments.post_comment(citizen, item, "Un avis.")
    client.cookies["django_language"] = "en"
    content = get_sound(client, consultation.get_absolute_url()).content.decode()
    assert "1 comment" in content
    assert "Participants" in content


def test_results_are_hidden_while_open_when_shown_after_close(client, citizen):
    consultation = make_consultation(results_visibility=Consultation.ResultsVisibility.AFTER_CLOSE)
    item = consultation.items.first()
    voting.cast_vote(citizen, item, "for")
    client.cookies["django_language"] = "en"
    for url in (consultation.get_absolute_url(), item.get_absolute_url()):
        content = get_sound(client, url).content.decode()
        assert "Results will be shown after the vote closes." in content
        assert "Votes cast" not in content


def test_live_results_are_shown_while_open(client, citizen):
    consultation = make_consultation()
    item = consultation.items.first()
    voting.cast_vote(citizen, item, "for")
    client.cookies["django_language"] = "en"
    content = get_sound(client, item.get_absolute_url()).content.decode()
    assert "Votes cast: 1" in content
    assert "Results will be shown after the vote closes." not in content


def test_closed_consultation_shows_results_and_no_widgets(client_for, citizen):
    consultation = make_consultation(status=Consultation.Status.CLOSED)
    item = consultation.items.first()
    client = client_for(citizen)
    client.cookies["django_language"] = "en"
    content = get_sound(client, item.get_absolute_url()).content.decode()
    assert 'name="choice"' not in content
    assert 'name="grade"' not in content
    assert 'name="body"' not in content
    assert "This consultation is not open for participation." in content
    assert "Votes cast: 0" in content


def test_anonymous_visitor_is_told_to_log_in(client):
    item = make_consultation().items.first()
    client.cookies["django_language"] = "en"
    content = get_sound(client, item.get_absolute_url()).content.decode()
    assert "Log in to take part." in content
    assert reverse("account_login") + "?next=" in content
    assert 'name="choice"' not in content


def test_unverified_account_is_told_to_verify(client_for, unverified):
    item = make_consultation().items.first()
    client = client_for(unverified)
    client.cookies["django_language"] = "en"
    content = get_sound(client, item.get_absolute_url()).content.decode()
    assert "Verify your e-mail address to take part." in content


def test_identity_only_consultation_says_so(client_for, citizen):
    consultation = make_consultation(eligibility=Consultation.Eligibility.VERIFIED_IDENTITY)
    client = client_for(citizen)
    client.cookies["django_language"] = "en"
    content = get_sound(client, consultation.items.first().get_absolute_url()).content.decode()
    assert "identity-verified accounts only" in content


def test_description_markdown_is_sanitised(client):
    consultation = make_consultation(
        description="# Titre\n\n**gras** <script>alert(1)</script> [lien](https://example.org)"
        ' <img src="https://evil.example/x.png">'
    )
    content = get_sound(client, consultation.get_absolute_url()).content.decode()
    assert "<strong>gras</strong>" in content
    assert "<script>alert" not in content
    assert "evil.example" not in content
    assert 'rel="nofollow noopener"' in content


def test_debate_shows_replies_edits_and_placeholders(client_for, citizen, make_user):
    item = make_consultation().items.first()
    other = make_user(display_name="Bérénice")
    root = comments.post_comment(other, item, "Racine", "against")
    reply = comments.post_comment(citizen, item, "Réponse", "for", parent=root)
    comments.edit_comment(citizen, reply, "Réponse corrigée")
    gone = comments.post_comment(other, item, "À effacer")
    comments.delete_comment(other, gone)
    orphan = comments.post_comment(other, item, "Compte supprimé")
    comments.erase_comment(orphan, reason="account_deleted")
    Comment.objects.filter(pk=orphan.pk).update(author=None)
    client = client_for(citizen)
    client.cookies["django_language"] = "en"
    content = get_sound(client, item.get_absolute_url()).content.decode()
    assert "Réponse corrigée" in content
    assert "(edited" in content
    assert "1 earlier version" in content
    assert "Comment deleted by its author" in content
    assert "Comment from a deleted account" in content
    assert "À effacer" not in content
    assert 'class="comment depth-1' in content
    assert f'href="#comment-{root.pk}"' in content


def test_debate_sorts_and_filters_by_stance(client, make_user):
    item = make_consultation().items.first()
    first = comments.post_comment(make_user(), item, "Premier pour", "for")
    second = comments.post_comment(make_user(), item, "Second contre", "against")
    comments.toggle_useful(make_user(), first)
    url = item.get_absolute_url()
    content = get_sound(client, url + "?sort=newest").content.decode()
    assert content.index("Second contre") < content.index("Premier pour")
    content = get_sound(client, url + "?sort=useful").content.decode()
    assert content.index("Premier pour") < content.index("Second contre")
    content = get_sound(client, url + "?stance=against").content.decode()
    assert "Second contre" in content and "Premier pour" not in content
    assert second.pk


def test_unknown_item_or_item_of_another_consultation_is_404(client):
    consultation = make_consultation()
    other = make_consultation()
    url = reverse(
        "consultation:item",
        kwargs={"slug": consultation.slug, "item_id": other.items.first().pk},
    )
    get_sound(client, url, status=404)


def test_moderator_role_does_not_reveal_drafts(client_for, moderator):
    draft = make_consultation(status=Consultation.Status.DRAFT)
    Membership.objects.create(consultation=draft, user=moderator, role=Membership.Role.MODERATOR)
    assert client_for(moderator).get(draft.get_absolute_url()).status_code == 404


def test_closed_consultation_does_not_ask_visitors_to_log_in(client):
    item = make_consultation(status=Consultation.Status.CLOSED).items.first()
    client.cookies["django_language"] = "en"
    content = get_sound(client, item.get_absolute_url()).content.decode()
    assert "This consultation is not open for participation." in content
    assert "Log in to take part." not in content
