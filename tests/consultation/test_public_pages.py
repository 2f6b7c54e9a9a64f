"""The public pages: list, consultation, item and debate, as anyone sees them."""

import pytest
from django.urls import reverse
from django.utils.http import urlencode

from consultation import queries
from consultation.models import Comment, Consultation, Membership, Theme
from consultation.organising import lifecycle
from consultation.participation import debate, voting
from tests.factories import make_consultation, make_item
from tests.support.accounts import enable_totp, login, remove_mfa
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
    comment = debate.post_comment(citizen, item, "Bien vu.", "for")
    debate.post_comment(citizen, item, "Je précise.", "neutral", parent=comment)
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
    mine = debate.post_comment(citizen, item, "Premier jet.", "for")
    debate.edit_comment(citizen, mine, "Second jet.")
    other = debate.post_comment(make_user(), item, "Un autre avis.", "against")
    debate.post_comment(citizen, item, "Réponse.", parent=other)
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


def disabled_forms(content: bytes) -> dict[str, bool]:
    """{form action: whether all its controls sit in a disabled fieldset}, POST forms of <main>."""
    from tests.support.html import parse_strict

    main = parse_strict(content).find(".//main")
    found = {}
    for form in main.iter("form"):
        if form.get("method") != "post":
            continue
        body = form.find("fieldset")
        controls = [*form.iter("input"), *form.iter("select"), *form.iter("textarea")]
        controls = [c for c in controls if c.get("type") != "hidden"]
        inside = set(body.iter()) if body is not None else set()
        found[form.get("action")] = bool(
            body is not None
            and body.get("disabled") is not None
            and controls
            and all(c in inside for c in controls)
        )
    return found


@pytest.mark.parametrize("phase", [Consultation.Status.DRAFT, Consultation.Status.SCHEDULED])
def test_the_citizen_preview_shows_every_form_disabled(client_for, organiser, phase):
    consultation = make_consultation(status=phase, organiser=organiser)
    item = consultation.items.first()
    client = client_for(organiser)
    client.cookies["django_language"] = "en"
    page = get_sound(client, item.get_absolute_url()).content
    assert b"This is how citizens will see this page once the consultation opens" in page
    assert b"not open for participation" not in page
    slug = consultation.slug
    expected = {
        reverse(f"consultation:{name}", kwargs={"slug": slug, "item_id": item.pk}): True
        for name in ("vote", "grade", "comment")
    }
    assert {k: v for k, v in disabled_forms(page).items() if k in expected} == expected
    ranking = get_sound(client, reverse("consultation:ranking", kwargs={"slug": slug})).content
    assert disabled_forms(ranking) == {reverse("consultation:ranking", kwargs={"slug": slug}): True}
    assert b"js/ranking" not in ranking  # no reordering in a preview
    # What the disabled forms would post is refused all the same.
    response = client.post(expected and next(iter(expected)), {"choice": "for"})
    assert response.status_code == 403


def test_the_public_sees_a_scheduled_consultation_without_forms(client_for, organiser, citizen):
    scheduled = make_consultation(status=Consultation.Status.SCHEDULED, organiser=organiser)
    page = get_sound(client_for(citizen), scheduled.items.first().get_absolute_url()).content
    assert b"preview-banner" not in page
    # No participation form; following it, to hear when it opens, is offered.
    assert disabled_forms(page) == {reverse("notices:follow"): False}


def test_role_holders_without_mfa_see_no_draft_and_no_preview(client_for, make_user):
    from tests.factories import add_member

    by_membership = make_user()
    flagged = make_user(is_organiser=True)
    staff_member = make_user(is_staff=True)
    superuser = make_user(is_staff=True, is_superuser=True)
    draft = make_consultation(status=Consultation.Status.DRAFT)
    scheduled = make_consultation(status=Consultation.Status.SCHEDULED)
    for consultation in (draft, scheduled):
        add_member(consultation, by_membership, Membership.Role.ORGANISER)
        add_member(consultation, flagged, Membership.Role.ORGANISER)
    item = draft.items.first()
    for user in (by_membership, flagged, staff_member, superuser):
        client = client_for(user)
        for url in (
            draft.get_absolute_url(),
            item.get_absolute_url(),
            reverse("consultation:ranking", kwargs={"slug": draft.slug}),
        ):
            assert client.get(url).status_code == 404, (user, url)
        page = get_sound(client, scheduled.get_absolute_url()).content
        assert b"preview-banner" not in page
        enable_totp(user)
        # The same session skipped the code: still nothing; logging in with it opens both.
        assert client.get(draft.get_absolute_url()).status_code == 404
        client = client_for(user)
        assert client.get(draft.get_absolute_url()).status_code == 200
        assert b"preview-banner" in client.get(scheduled.get_absolute_url()).content
        remove_mfa(user)


@pytest.mark.parametrize(
    ("role", "link"),
    [("organiser", "organiser:dashboard"), ("moderator", "moderation:queue")],
)
def test_the_menu_leads_per_consultation_role_holders_to_their_space(
    client_for, make_user, role, link
):
    from tests.factories import add_member

    member = make_user()
    client = client_for(member)
    assert f'href="{reverse(link)}"' not in client.get("/").content.decode()
    add_member(make_consultation(), member, role)
    assert f'href="{reverse(link)}"' in client.get("/").content.decode()
    enable_totp(member)
    assert client.get(reverse(link))["Location"].startswith(reverse("mfa_reauthenticate"))
    assert client_for(member).get(reverse(link)).status_code == 200


def test_the_menu_leads_staff_who_are_not_superusers_to_both_spaces(client_for, make_user):
    staff_member = make_user(is_staff=True)
    enable_totp(staff_member)
    client = client_for(staff_member)
    content = client.get("/").content.decode()
    for link in ("organiser:dashboard", "moderation:queue"):
        assert f'href="{reverse(link)}"' in content
        assert client.get(reverse(link)).status_code == 200


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


def titles_in_order(content: str, titles: list[str]) -> list[str]:
    return sorted(titles, key=content.index)


def test_consultation_page_orders_items_by_title_or_by_comments(client, make_user):
    consultation = make_consultation(items=0)
    first = make_item(consultation, title="Zones piétonnes")
    make_item(consultation, title="Écoles ouvertes")
    third = make_item(consultation, title="Arbres en ville")
    for body in ("Oui.", "Non."):
        debate.post_comment(make_user(), third, body, "neutral")
    debate.post_comment(make_user(), first, "Peut-être.", "neutral")
    url = consultation.get_absolute_url()
    titles = ["Zones piétonnes", "Écoles ouvertes", "Arbres en ville"]

    def shown(query=""):
        content = get_sound(client, url + query).content.decode()
        return titles_in_order(content[content.index('class="item-list"') :], titles)

    assert shown() == titles  # the organisers' order
    assert shown("?sort=title") == ["Arbres en ville", "Écoles ouvertes", "Zones piétonnes"]
    assert shown("?sort=comments") == ["Arbres en ville", "Zones piétonnes", "Écoles ouvertes"]
    # An order that does not exist is said next to its field, and the page stays whole.
    response = get_sound(client, url + "?sort=random")
    assert "random" in response.content.decode() and shown("?sort=random") == titles


def test_a_participant_sees_their_progress_and_their_votes_in_the_list(client, citizen):
    consultation = make_consultation(items=3)
    first, second, _third = consultation.items.order_by("position")
    url = consultation.get_absolute_url()
    assert "my-progress" not in get_sound(client, url).content.decode()  # a visitor

    login(client, citizen)
    client.cookies["django_language"] = "fr"
    content = get_sound(client, url).content.decode()
    assert "vous avez voté sur 0 des 3 mesures" in content
    assert "Votre classement n’est pas encore fait." in content

    voting.cast_vote(citizen, first, "for")
    voting.cast_vote(citizen, second, "against")
    voting.grade_item(citizen, first, 4)
    voting.submit_ballot(citizen, consultation, [second.pk])
    content = get_sound(client, url).content.decode()
    assert "vous avez voté sur 2 des 3 mesures" in content
    assert "Vous avez noté 1 mesure." in content
    assert "Votre classement est enregistré." in content
    assert content.count('class="my-vote"') == 2
    assert "Votre vote : Pour" in content and "Votre vote : Contre" in content
    client.cookies["django_language"] = "en"
    content = get_sound(client, url).content.decode()
    assert "Your progress: you voted on 2 items of 3." in content
    assert "Your vote: Against" in content


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
    debate.post_comment(citizen, item, "Un avis.")
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
        assert "Results will be shown once the organisers publish them." in content
        assert "Votes cast" not in content


RANKING_PAGE = "consultation:ranking"


def pages_of(consultation):
    item = consultation.items.order_by("position").first()
    ranking = reverse(RANKING_PAGE, kwargs={"slug": consultation.slug})
    return [consultation.get_absolute_url(), item.get_absolute_url(), ranking]


def test_after_close_results_stay_hidden_once_closed_until_published(client, citizen, settings):
    """The organisers' e-mail promises that nothing is public until they publish."""
    settings.OPEN_DATA_MIN_GROUP = 1  # even a breakdown large enough waits for publication
    consultation = make_consultation(results_visibility=Consultation.ResultsVisibility.AFTER_CLOSE)
    item = consultation.items.order_by("position").first()
    voting.cast_vote(citizen, item, "against")
    voting.submit_ballot(citizen, consultation, [item.pk])
    lifecycle.transition(consultation.pk, "closed", reason="")
    client.cookies["django_language"] = "en"
    for url in pages_of(consultation):
        content = get_sound(client, url).content.decode()
        assert "Results will be shown once the organisers publish them." in content, url
        assert "Votes cast" not in content and "Rank 1" not in content, url
    Consultation.objects.filter(pk=consultation.pk).update(status=Consultation.Status.PUBLISHED)
    content = get_sound(client, item.get_absolute_url()).content.decode()
    assert "Votes cast: 1" in content
    assert f'data-live="items.{item.pk}.votes.against">1<' in content


def test_a_lone_vote_is_not_broken_down_on_any_page(client, citizen, settings):
    """Live results, closed with one voter: every page gives totals and says why, never
    "against: 1"."""
    settings.OPEN_DATA_MIN_GROUP = 10
    consultation = make_consultation()
    item = consultation.items.order_by("position").first()
    voting.cast_vote(citizen, item, "against")
    voting.grade_item(citizen, item, 2)
    voting.submit_ballot(citizen, consultation, [item.pk])
    lifecycle.transition(consultation.pk, "closed", reason="")
    client.cookies["django_language"] = "en"
    consultation_page, item_page, ranking_page = pages_of(consultation)
    content = get_sound(client, item_page).content.decode()
    assert "Votes cast: 1" in content
    assert "Fewer than 10 votes: not broken down, to protect the secrecy of each vote." in content
    assert f'data-live="items.{item.pk}.votes.against">0<' in content  # the hidden table
    assert f'data-live="items.{item.pk}.votes.against">1<' not in content
    assert "Grades given: 1" in content
    assert "Fewer than 10 grades: not broken down" in content
    assert "The vote is closed: the tallies shown are those at closing." not in content
    content = get_sound(client, consultation_page).content.decode()
    assert f'data-live="items.{item.pk}.votes.against"' not in content  # compact rows
    assert "The vote is closed: the tallies shown are those at closing." in content
    content = get_sound(client, ranking_page).content.decode()
    assert "Ranking ballots: 1" in content
    assert "Fewer than 10 rankings: not broken down" in content
    assert "Rank 1" not in content


def test_a_large_enough_group_is_broken_down_on_the_pages(client, citizen, make_user, settings):
    settings.OPEN_DATA_MIN_GROUP = 3
    consultation = make_consultation()
    item = consultation.items.order_by("position").first()
    for person, choice in ((citizen, "against"), (make_user(), "for"), (make_user(), "for")):
        voting.cast_vote(person, item, choice)
        voting.grade_item(person, item, 6)
        voting.submit_ballot(person, consultation, [item.pk])
    client.cookies["django_language"] = "en"
    _consultation_page, item_page, ranking_page = pages_of(consultation)
    content = get_sound(client, item_page).content.decode()
    assert f'data-live="items.{item.pk}.votes.against">1<' in content
    assert f'data-live="items.{item.pk}.votes.for">2<' in content
    assert f'data-live-small="items.{item.pk}.votes" hidden>' in content
    assert f'data-live-results="items.{item.pk}.votes">' in content  # not hidden
    assert (
        f'data-live="items.{item.pk}.grades.6">3<' in get_sound(client, item_page).content.decode()
    )
    content = get_sound(client, ranking_page).content.decode()
    assert "Rank 1" in content and "rankings: not broken down" not in content


def test_live_results_are_shown_while_open(client, citizen):
    consultation = make_consultation()
    item = consultation.items.first()
    voting.cast_vote(citizen, item, "for")
    client.cookies["django_language"] = "en"
    content = get_sound(client, item.get_absolute_url()).content.decode()
    assert "Votes cast: 1" in content
    assert "Results will be shown" not in content


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
    root = debate.post_comment(other, item, "Racine", "against")
    reply = debate.post_comment(citizen, item, "Réponse", "for", parent=root)
    debate.edit_comment(citizen, reply, "Réponse corrigée")
    gone = debate.post_comment(other, item, "À effacer")
    debate.delete_comment(other, gone)
    orphan = debate.post_comment(other, item, "Compte supprimé")
    debate.erase_comment(orphan, reason="account_deleted")
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
    first = debate.post_comment(make_user(), item, "Premier pour", "for")
    second = debate.post_comment(make_user(), item, "Second contre", "against")
    debate.toggle_useful(make_user(), first)
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


def test_each_comment_control_names_its_comment_for_screen_readers(client_for, citizen, make_user):
    from tests.support.html import parse_strict

    item = make_consultation().items.first()
    debate.post_comment(make_user(display_name="Bérénice"), item, "Un", "for")
    debate.post_comment(make_user(display_name="Gaspard"), item, "Deux", "against")
    debate.post_comment(citizen, item, "Le mien", "neutral")
    client = client_for(citizen)
    client.cookies["django_language"] = "en"
    document = parse_strict(get_sound(client, item.get_absolute_url()).content)

    def names(tag, text):
        controls = [e for e in document.iter(tag) if (e.text or "").strip() == text]
        return ["".join(e.itertext()).strip() for e in controls]

    replies = names("summary", "Reply")
    assert len(replies) == 3 and len(set(replies)) == 3
    assert any(name.startswith("Reply: comment by Bérénice, ") for name in replies)
    assert any(name.startswith("Reply: comment by Gaspard, ") for name in replies)
    useful = names("button", "Mark as useful")
    assert len(useful) == 2 and len(set(useful)) == 2
    assert any("comment by Gaspard" in name for name in useful)
    (edit,) = names("summary", "Edit")
    (delete,) = names("summary", "Delete")
    assert edit.startswith("Edit: my comment of ") and delete.startswith("Delete: my comment of ")
