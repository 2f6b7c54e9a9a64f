"""Taking part through the pages: vote, grade, rank, comment, react, and "my participation"."""

import pytest
from django.urls import reverse

from consultation.models import Ballot, Comment, CommentReaction, Consultation, Grade, Vote
from consultation.participation import debate, voting
from tests.factories import make_consultation
from tests.support.html import problems

pytestmark = pytest.mark.django_db


def url(name, item, **kwargs):
    return reverse(
        f"consultation:{name}",
        kwargs={"slug": item.consultation.slug, "item_id": item.pk, **kwargs},
    )


def ranking_url(consultation):
    return reverse("consultation:ranking", kwargs={"slug": consultation.slug})


@pytest.fixture
def item():
    return make_consultation().items.first()


@pytest.fixture
def camille(client_for, citizen):
    client = client_for(citizen)
    client.cookies["django_language"] = "en"
    return client


# --- Vote -----------------------------------------------------------------------


def test_citizen_votes_changes_and_withdraws_from_the_page(camille, citizen, item):
    response = camille.post(url("vote", item), {"choice": "for"})
    assert response.status_code == 302
    assert response["Location"] == item.get_absolute_url() + "#vote-done"
    assert Vote.objects.get(user=citizen, item=item).choice == "for"

    page = camille.get(response["Location"])
    content = page.content.decode()
    assert "Your vote has been recorded." in content
    assert "Withdraw my vote" in content
    assert problems(page.content) == []

    camille.post(url("vote", item), {"choice": "against"})
    assert Vote.objects.get(user=citizen, item=item).choice == "against"

    response = camille.post(url("vote", item), {"withdraw": "1"})
    assert response.status_code == 302
    assert not Vote.objects.filter(user=citizen, item=item).exists()


def test_vote_without_a_choice_is_shown_next_to_the_field(camille, item):
    response = camille.post(url("vote", item), {})
    assert response.status_code == 422
    content = response.content.decode()
    assert 'id="vote_choice_error"' in content
    assert "Choose for, against or abstain." in content
    assert problems(response.content) == []


def test_vote_errors_are_in_french_too(client_for, citizen, item):
    client = client_for(citizen)
    response = client.post(url("vote", item), {"choice": "peut-être"})
    assert response.status_code == 422
    assert 'lang="fr"' in response.content.decode()
    assert 'id="vote_choice_error"' in response.content.decode()
    assert "Choose for, against or abstain." not in response.content.decode()


def test_closed_consultation_refuses_votes_with_403(camille, citizen):
    closed = make_consultation(status=Consultation.Status.CLOSED)
    item = closed.items.first()
    response = camille.post(url("vote", item), {"choice": "for"})
    assert response.status_code == 403
    assert "This consultation is not open for participation." in response.content.decode()
    assert 'name="choice"' not in response.content.decode()
    assert problems(response.content) == []
    assert not Vote.objects.filter(user=citizen).exists()


def test_anonymous_vote_is_refused_with_403(client, item):
    response = client.post(url("vote", item), {"choice": "for"})
    assert response.status_code == 403
    assert problems(response.content) == []


def test_unverified_account_cannot_vote(client_for, unverified, item):
    response = client_for(unverified).post(url("vote", item), {"choice": "for"})
    assert response.status_code == 403
    assert not Vote.objects.exists()


def test_vote_on_a_draft_is_404(client_for, citizen):
    draft = make_consultation(status=Consultation.Status.DRAFT)
    response = client_for(citizen).post(url("vote", draft.items.first()), {"choice": "for"})
    assert response.status_code == 404


def test_vote_needs_post(camille, item):
    assert camille.get(url("vote", item)).status_code == 405


def test_vote_needs_the_csrf_token(citizen, item):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(citizen)
    assert client.post(url("vote", item), {"choice": "for"}).status_code == 403
    assert not Vote.objects.exists()


# --- Grade ----------------------------------------------------------------------


def test_citizen_grades_and_withdraws(camille, citizen, item):
    response = camille.post(url("grade", item), {"grade": "5"})
    assert response["Location"] == item.get_absolute_url() + "#grade-done"
    assert Grade.objects.get(user=citizen, item=item).grade == 5
    content = camille.get(item.get_absolute_url()).content.decode()
    assert "Your grade:" in content and "Very good" in content
    camille.post(url("grade", item), {"withdraw": "1"})
    assert not Grade.objects.filter(user=citizen).exists()


def test_grade_outside_the_scale_is_shown_next_to_the_field(camille, item):
    response = camille.post(url("grade", item), {"grade": "9"})
    assert response.status_code == 422
    assert 'id="grade_grade_error"' in response.content.decode()
    assert "Choose one of the grades." in response.content.decode()
    assert problems(response.content) == []


def test_grade_widget_is_hidden_when_grading_is_off(camille):
    item = make_consultation(grading_enabled=False).items.first()
    assert 'name="grade"' not in camille.get(item.get_absolute_url()).content.decode()
    assert camille.post(url("grade", item), {"grade": "3"}).status_code == 403


# --- Ranking --------------------------------------------------------------------


def ranks(consultation, *values):
    items = list(consultation.items.all())
    return {f"rank_{item.pk}": value for item, value in zip(items, values, strict=False)}, items


def test_ranking_page_records_the_ballot_without_javascript(camille, citizen):
    consultation = make_consultation(items=4)
    data, items = ranks(consultation, "2", "1", "", "3")
    response = camille.post(ranking_url(consultation), data)
    assert response.status_code == 302
    ballot = Ballot.objects.get(user=citizen)
    assert ballot.ranked_item_ids() == [items[1].pk, items[0].pk, items[3].pk]
    page = camille.get(ranking_url(consultation))
    assert problems(page.content) == []
    content = page.content.decode()
    assert "Your current ranking" in content
    assert "Your ranking has been recorded." in content
    assert 'src="/static/js/ranking' in content
    assert '<option value="2" selected>' in content


def test_ranking_gaps_close_up(camille, citizen):
    consultation = make_consultation(items=3)
    data, items = ranks(consultation, "3", "", "1")
    assert camille.post(ranking_url(consultation), data).status_code == 302
    assert Ballot.objects.get(user=citizen).ranked_item_ids() == [items[2].pk, items[0].pk]


def test_duplicate_ranks_are_shown_next_to_each_field(camille):
    consultation = make_consultation(items=3)
    data, items = ranks(consultation, "1", "1", "2")
    response = camille.post(ranking_url(consultation), data)
    assert response.status_code == 422
    content = response.content.decode()
    assert f'id="ranking_rank_{items[0].pk}_error"' in content
    assert f'id="ranking_rank_{items[1].pk}_error"' in content
    assert f'id="ranking_rank_{items[2].pk}_error"' not in content
    assert "Rank 1 is given to more than one item." in content
    assert problems(response.content) == []
    assert not Ballot.objects.exists()


def test_rank_beyond_k_is_shown_next_to_its_field(camille):
    consultation = make_consultation(items=4, ranking_size=3)
    data, items = ranks(consultation, "1", "2", "3", "4")
    response = camille.post(ranking_url(consultation), data)
    assert response.status_code == 422
    content = response.content.decode()
    assert f'id="ranking_rank_{items[3].pk}_error"' in content
    assert "Choose a rank between 1 and 3" in content
    assert problems(response.content) == []


def test_empty_ranking_is_refused_above_the_form(camille):
    consultation = make_consultation()
    data, _items = ranks(consultation, "", "", "")
    response = camille.post(ranking_url(consultation), data)
    assert response.status_code == 422
    assert "Rank at least one item." in response.content.decode()
    assert problems(response.content) == []


def test_ranking_can_be_withdrawn(camille, citizen):
    consultation = make_consultation()
    voting.submit_ballot(citizen, consultation, [consultation.items.first().pk])
    response = camille.post(ranking_url(consultation), {"withdraw": "1"})
    assert response.status_code == 302
    assert not Ballot.objects.exists()


def test_ranking_a_closed_consultation_is_refused_with_403(camille):
    closed = make_consultation(status=Consultation.Status.CLOSED)
    data, _items = ranks(closed, "1", "1")
    response = camille.post(ranking_url(closed), data)
    assert response.status_code == 403
    assert 'name="rank_' not in response.content.decode()
    assert problems(response.content) == []


# --- Comments -------------------------------------------------------------------


def test_citizen_comments_and_replies(camille, citizen, make_user, item):
    response = camille.post(url("comment", item), {"body": "Je suis pour.", "stance": "for"})
    comment = Comment.objects.get(author=citizen)
    assert response["Location"] == (
        f"{item.get_absolute_url()}?comment={comment.pk}#comment-{comment.pk}-done"
    )
    assert comment.stance == "for"

    other = debate.post_comment(make_user(), item, "Pas d'accord.", "against")
    response = camille.post(
        url("comment_reply", item, comment_id=other.pk), {"body": "Pourquoi ?", "stance": "neutral"}
    )
    assert response.status_code == 302
    assert Comment.objects.get(body="Pourquoi ?").parent == other
    page = camille.get(item.get_absolute_url())
    assert problems(page.content) == []
    assert 'class="comment depth-1' in page.content.decode()


def test_empty_comment_is_shown_next_to_the_field(camille, item):
    response = camille.post(url("comment", item), {"body": "   ", "stance": "for"})
    assert response.status_code == 422
    content = response.content.decode()
    assert 'id="comment_body_error"' in content
    assert 'aria-describedby="comment_body_error"' in content
    assert "Write something before posting." in content
    assert problems(response.content) == []


def test_empty_reply_opens_its_form_with_the_error(camille, make_user, item):
    other = debate.post_comment(make_user(), item, "Racine")
    response = camille.post(url("comment_reply", item, comment_id=other.pk), {"body": ""})
    assert response.status_code == 422
    content = response.content.decode()
    assert f'id="reply{other.pk}_body_error"' in content
    assert '<details class="action" open>' in content
    assert problems(response.content) == []


def test_editing_keeps_the_history_and_shows_edited(camille, citizen, item):
    comment = debate.post_comment(citizen, item, "Première version", "for")
    response = camille.post(
        url("comment_edit", item, comment_id=comment.pk),
        {"body": "Deuxième version", "stance": "against"},
    )
    assert response.status_code == 302
    comment.refresh_from_db()
    assert comment.body == "Deuxième version" and comment.stance == "against"
    assert list(comment.revisions.values_list("body", flat=True)) == ["Première version"]
    page = camille.get(item.get_absolute_url())
    content = page.content.decode()
    assert "(edited" in content
    assert "1 earlier version" in content and "Première version" in content
    assert problems(page.content) == []


def test_nobody_edits_someone_elses_comment(camille, make_user, item):
    comment = debate.post_comment(make_user(), item, "Le mien")
    response = camille.post(url("comment_edit", item, comment_id=comment.pk), {"body": "Volé"})
    assert response.status_code == 403
    assert "You can only edit your own comments" in response.content.decode()
    comment.refresh_from_db()
    assert comment.body == "Le mien"


def test_nobody_deletes_someone_elses_comment(camille, make_user, item):
    comment = debate.post_comment(make_user(), item, "Le mien")
    response = camille.post(url("comment_delete", item, comment_id=comment.pk))
    assert response.status_code == 403
    comment.refresh_from_db()
    assert (comment.body, comment.is_deleted) == ("Le mien", False)


def test_deleting_leaves_a_placeholder(camille, citizen, make_user, item):
    comment = debate.post_comment(citizen, item, "À retirer")
    debate.post_comment(make_user(), item, "Une réponse", parent=comment)
    response = camille.post(url("comment_delete", item, comment_id=comment.pk))
    assert response.status_code == 302
    page = camille.get(item.get_absolute_url())
    content = page.content.decode()
    assert "Comment deleted by its author" in content
    assert "À retirer" not in content
    assert "Une réponse" in content
    assert problems(page.content) == []


def test_useful_mark_toggles(camille, citizen, make_user, item):
    comment = debate.post_comment(make_user(), item, "Utile ?")
    camille.post(url("comment_useful", item, comment_id=comment.pk))
    assert CommentReaction.objects.filter(comment=comment, user=citizen).exists()
    content = camille.get(item.get_absolute_url()).content.decode()
    assert "1 person found this useful" in content
    assert "Remove my “useful” mark" in content
    camille.post(url("comment_useful", item, comment_id=comment.pk))
    assert not CommentReaction.objects.exists()


def test_own_comment_cannot_be_marked_useful(camille, citizen, item):
    comment = debate.post_comment(citizen, item, "Le mien")
    response = camille.post(url("comment_useful", item, comment_id=comment.pk))
    assert response.status_code == 422
    assert "You cannot mark your own comment as useful." in response.content.decode()
    assert problems(response.content) == []


def test_comment_of_another_item_is_404(camille, make_user, item):
    other_item = make_consultation().items.first()
    comment = debate.post_comment(make_user(), other_item, "Ailleurs")
    response = camille.post(url("comment_reply", item, comment_id=comment.pk), {"body": "Ici"})
    assert response.status_code == 404


def test_closed_consultation_refuses_comments_with_403(camille):
    item = make_consultation(status=Consultation.Status.CLOSED).items.first()
    response = camille.post(url("comment", item), {"body": "Trop tard", "stance": "for"})
    assert response.status_code == 403
    assert not Comment.objects.exists()


# --- My participation --------------------------------------------------------


def test_my_participation_lists_everything_with_links_to_change(camille, citizen, make_user):
    consultation = make_consultation()
    first, second, _third = consultation.items.all()
    voting.cast_vote(citizen, first, "against")
    voting.grade_item(citizen, second, 6)
    voting.submit_ballot(citizen, consultation, [second.pk, first.pk])
    comment = debate.post_comment(citizen, first, "Mon avis sur la mesure")
    closed = make_consultation(status=Consultation.Status.OPEN)
    voting.cast_vote(citizen, closed.items.first(), "for")
    Consultation.objects.filter(pk=closed.pk).update(status=Consultation.Status.CLOSED)
    make_consultation(title="Pas la mienne")

    response = camille.get(reverse("consultation:my_participation"))
    assert response.status_code == 200
    assert problems(response.content) == []
    content = response.content.decode()
    assert "Against" in content and "Excellent" in content
    assert f"{first.get_absolute_url()}#vote" in content
    assert f"{second.get_absolute_url()}#grade" in content
    assert ranking_url(consultation) in content
    assert f"#comment-{comment.pk}" in content
    assert "Mon avis sur la mesure" in content
    assert closed.get_absolute_url() in content
    assert f"{closed.items.first().get_absolute_url()}#vote" not in content
    assert "Pas la mienne" not in content


@pytest.mark.parametrize("language", ["fr", "en"])
def test_my_participation_is_sound_when_empty(client_for, citizen, language):
    client = client_for(citizen)
    client.cookies["django_language"] = language
    response = client.get(reverse("consultation:my_participation"))
    assert response.status_code == 200
    assert problems(response.content) == []


def test_my_participation_needs_an_account(client):
    response = client.get(reverse("consultation:my_participation"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_every_participation_is_three_steps_from_the_consultation_page(camille):
    consultation = make_consultation()
    content = camille.get(consultation.get_absolute_url()).content.decode()
    item = consultation.items.first()
    assert item.get_absolute_url() in content  # step 1: the item (vote, grade, debate)
    assert ranking_url(consultation) in content  # step 1: the ranking
    assert reverse("consultation:my_participation") in content


def test_a_nul_character_is_an_error_next_to_its_field_not_a_crash(
    camille, citizen, make_user, item
):
    own = debate.post_comment(citizen, item, "Mon avis.", "for")
    posts = [
        (url("vote", item), {"choice": "fo\x00r"}, "vote_choice_error"),
        (url("grade", item), {"grade": "\x00"}, "grade_grade_error"),
        (url("comment", item), {"body": "a\x00b", "stance": "for"}, "comment_body_error"),
        (url("comment", item), {"body": "ab", "stance": "\x00"}, "comment_stance_error"),
        (
            url("comment_reply", item, comment_id=own.pk),
            {"body": "a\x00b", "stance": "for"},
            f"reply{own.pk}_body_error",
        ),
        (
            url("comment_edit", item, comment_id=own.pk),
            {"body": "a\x00b", "stance": "for"},
            f"edit{own.pk}_body_error",
        ),
    ]
    for address, data, error_id in posts:
        response = camille.post(address, data, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 422, address
        content = response.content.decode()
        assert f'id="{error_id}"' in content, address
        assert "Null characters are not allowed." in content
        assert problems(response.content) == []
    assert not Vote.objects.exists() and not Grade.objects.exists()
    assert Comment.objects.get().body == "Mon avis."


def test_a_reply_to_a_deleted_comment_is_refused_with_a_message(camille, make_user, item):
    other = make_user()
    comment = debate.post_comment(other, item, "Texte", "for")
    debate.delete_comment(other, comment)
    response = camille.post(
        url("comment_reply", item, comment_id=comment.pk),
        {"body": "Réponse", "stance": "for"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 409
    assert "This comment was deleted: you can no longer reply to it." in response.content.decode()
    assert Comment.objects.count() == 1
