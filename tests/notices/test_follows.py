"""Following: taking part follows a consultation (a comment, its thread), explicit follow
and unfollow buttons (plain POST forms), an unfollow that taking part never undoes, who the
followers are, and the "what I follow" list."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from consultation.models import Comment, Consultation, Follow
from consultation.notices import follows
from consultation.participation import debate, voting
from tests.factories import make_consultation
from tests.support.accounts import login
from tests.support.html import problems

pytestmark = pytest.mark.django_db


def browser(user=None, language="en"):
    client = Client()
    client.cookies["django_language"] = language
    if user is not None:
        login(client, user)
    return client


def rows(user):
    return {
        (f.consultation_id, f.item_id, f.comment_id): (f.active, f.reason)
        for f in Follow.objects.filter(user=user)
    }


def test_taking_part_follows_the_consultation_and_commenting_follows_the_thread(citizen, make_user):
    consultation = make_consultation()
    first, second, _third = consultation.items.all()
    voting.cast_vote(citizen, first, "for")
    assert rows(citizen) == {(consultation.pk, None, None): (True, "participation")}
    voting.cast_vote(citizen, first, "against")  # again: still one row
    voting.grade_item(citizen, second, 3)
    voting.submit_ballot(citizen, consultation, [first.pk, second.pk])
    assert Follow.objects.filter(user=citizen).count() == 1

    other = make_user()
    root = debate.post_comment(other, first, "Premier avis.")
    reply = debate.post_comment(citizen, first, "Une réponse.", parent=root)
    deeper = debate.post_comment(other, first, "Encore.", parent=reply)
    # Each follows the thread they wrote in: its first comment.
    assert rows(citizen) == {
        (consultation.pk, None, None): (True, "participation"),
        (consultation.pk, None, root.pk): (True, "participation"),
    }
    assert rows(other)[(consultation.pk, None, root.pk)] == (True, "participation")
    assert (consultation.pk, None, deeper.pk) not in rows(other)
    # A ballot in another consultation follows that one.
    elsewhere = make_consultation()
    voting.submit_ballot(citizen, elsewhere, [elsewhere.items.first().pk])
    assert rows(citizen)[(elsewhere.pk, None, None)] == (True, "participation")


def test_an_unfollow_outlasts_taking_part_again(citizen, make_user):
    consultation = make_consultation()
    item = consultation.items.first()
    voting.cast_vote(citizen, item, "for")
    assert follows.unfollow(citizen, consultation=consultation) is True
    voting.cast_vote(citizen, item, "against")
    debate.post_comment(citizen, item, "Un avis.")
    assert rows(citizen)[(consultation.pk, None, None)] == (False, "explicit")
    assert citizen not in follows.followers(consultation)

    # Unfollowing what one never followed is remembered too: taking part then follows not.
    fresh = make_consultation()
    assert follows.unfollow(citizen, consultation=fresh) is False
    voting.cast_vote(citizen, fresh.items.first(), "for")
    assert rows(citizen)[(fresh.pk, None, None)] == (False, "explicit")

    # An explicit follow turns it back on, whatever came before.
    follows.follow(citizen, consultation=consultation)
    follows.follow(citizen, consultation=consultation)  # a double click
    assert rows(citizen)[(consultation.pk, None, None)] == (True, "explicit")
    assert Follow.objects.filter(user=citizen, consultation=consultation).count() == 2  # + thread


def test_followers_are_those_of_the_consultation_or_any_of_its_items(make_user):
    consultation = make_consultation()
    other = make_consultation()
    item = consultation.items.first()
    by_consultation, by_item, by_thread, gone, left, elsewhere = (make_user() for _ in range(6))
    follows.follow(by_consultation, consultation=consultation)
    follows.follow(by_item, consultation=consultation, item=item)
    comment = debate.post_comment(by_thread, item, "Un avis.")
    follows.unfollow(by_thread, consultation=consultation)  # keeps only the thread
    follows.follow(gone, consultation=consultation)
    gone.is_active = False
    gone.save()
    follows.follow(left, consultation=consultation, item=item)
    follows.unfollow(left, consultation=consultation, item=item)
    follows.follow(elsewhere, consultation=other)

    assert set(follows.followers(consultation)) == {by_consultation, by_item}
    assert set(follows.thread_followers(comment)) == {by_thread}


def test_thread_followers_follow_the_comment_or_an_earlier_one_of_its_thread(make_user):
    item = make_consultation().items.first()
    alice, bob, carol, dan = (make_user() for _ in range(4))
    root = debate.post_comment(alice, item, "Racine.")
    branch = debate.post_comment(bob, item, "Branche.", parent=root)
    leaf = debate.post_comment(carol, item, "Feuille.", parent=branch)
    sibling = debate.post_comment(alice, item, "À côté.")
    follows.follow(dan, consultation=item.consultation, comment=branch)

    assert set(follows.thread_followers(leaf)) == {alice, bob, carol, dan}
    assert set(follows.thread_followers(root)) == {alice, bob, carol}
    assert set(follows.thread_followers(sibling)) == {alice}
    follows.unfollow(bob, consultation=item.consultation, comment=root)
    assert bob not in set(follows.thread_followers(leaf))


def test_following_an_item_or_comment_of_another_consultation_is_refused(citizen, make_user):
    from consultation.errors import Invalid, NotAllowed

    consultation = make_consultation()
    other = make_consultation()
    comment = debate.post_comment(make_user(), other.items.first(), "Ailleurs.")
    with pytest.raises(Invalid):
        follows.follow(citizen, consultation=consultation, item=other.items.first())
    with pytest.raises(Invalid):
        follows.follow(citizen, consultation=consultation, comment=comment)
    draft = make_consultation(status=Consultation.Status.DRAFT)
    with pytest.raises(NotAllowed):
        follows.follow(citizen, consultation=draft)
    assert not Follow.objects.filter(user=citizen).exists()


def forms_to(content: str, name: str) -> list[str]:
    """The forms posting to ``notices:<name>``, each as its HTML."""
    action = reverse(f"notices:{name}")
    return re.findall(rf'<form method="post" action="{action}".*?</form>', content, re.S)


def test_the_follow_buttons_are_plain_forms_on_the_consultation_the_item_and_each_comment(
    citizen, make_user
):
    consultation = make_consultation()
    item = consultation.items.first()
    comment = debate.post_comment(make_user(), item, "Un avis.")
    client = browser(citizen)

    page = client.get(consultation.get_absolute_url())
    assert page.status_code == 200 and problems(page.content) == []
    [form] = forms_to(page.content.decode(), "follow")
    assert "Follow this consultation</button>" in form
    assert f'name="consultation" value="{consultation.slug}"' in form

    page = client.get(item.get_absolute_url())
    assert problems(page.content) == []
    content = page.content.decode()
    item_form, comment_form = forms_to(content, "follow")
    assert "Follow this item</button>" in item_form
    assert f'name="item" value="{item.pk}"' in item_form
    assert "Follow this thread<span" in comment_form  # named for screen readers
    assert f'name="comment" value="{comment.pk}"' in comment_form

    # Following the thread, by the form: back to the comment, and the button turns.
    response = client.post(
        reverse("notices:follow"),
        {
            "consultation": consultation.slug,
            "comment": comment.pk,
            "next": f"{item.get_absolute_url()}#comment-{comment.pk}",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"{item.get_absolute_url()}#comment-{comment.pk}"
    assert rows(citizen) == {(consultation.pk, None, comment.pk): (True, "explicit")}
    page = client.get(item.get_absolute_url())
    content = page.content.decode()
    assert problems(page.content) == []
    assert "You follow this thread." in content  # the message
    [unfollow] = forms_to(content, "unfollow")
    assert "Stop following this thread<span" in unfollow

    # The item, then the consultation, unfollowed by the same kind of form.
    client.post(reverse("notices:follow"), {"consultation": consultation.slug, "item": item.pk})
    client.post(
        reverse("notices:unfollow"), {"consultation": consultation.slug, "comment": comment.pk}
    )
    assert rows(citizen) == {
        (consultation.pk, None, comment.pk): (False, "explicit"),
        (consultation.pk, item.pk, None): (True, "explicit"),
    }
    # In French too.
    french = browser(citizen, "fr").get(item.get_absolute_url()).content.decode()
    assert "Ne plus suivre cette mesure</button>" in french
    assert "Suivre cette discussion<span" in french

    # Visitors get no such button.
    anonymous = browser().get(item.get_absolute_url()).content.decode()
    assert not forms_to(anonymous, "follow") and not forms_to(anonymous, "unfollow")


def test_a_reply_under_a_followed_thread_says_it_is_followed_already(citizen, make_user):
    item = make_consultation().items.first()
    root = debate.post_comment(make_user(), item, "Racine.")
    debate.post_comment(make_user(), item, "Réponse.", parent=root)
    follows.follow(citizen, consultation=item.consultation, comment=root)
    content = browser(citizen).get(item.get_absolute_url()).content.decode()
    assert len(forms_to(content, "unfollow")) == 1  # on the root only
    assert content.count("You follow this thread.") == 1  # on the reply


def test_following_answers_what_one_may_not_see_as_unknown(citizen, make_user, organiser):
    consultation = make_consultation()
    other = make_consultation()
    draft = make_consultation(status=Consultation.Status.DRAFT, organiser=organiser)
    client = browser(citizen)
    url = reverse("notices:follow")
    for data in (
        {"consultation": draft.slug},
        {"consultation": "nowhere"},
        {"consultation": consultation.slug, "item": other.items.first().pk},
        {"consultation": consultation.slug, "item": "١"},
        {"consultation": consultation.slug, "comment": "9" * 40},
        {},
    ):
        assert client.post(url, data).status_code == 404, data
    assert client.get(url).status_code == 405
    # Never sent off the site afterwards.
    response = client.post(
        url, {"consultation": consultation.slug, "next": "https://evil.example/"}
    )
    assert response["Location"] == consultation.get_absolute_url()
    assert not Follow.objects.filter(user=citizen, active=False).exists()
    for name in ("notices:follow", "notices:unfollow"):
        response = browser().post(reverse(name), {"consultation": consultation.slug})
        assert response.status_code == 302
        assert response["Location"].split("?")[0] == reverse("account_login")
    assert not Follow.objects.exclude(user=citizen).exists()


def test_the_settings_page_lists_what_i_follow_and_unfollows_it(citizen, make_user):
    consultation = make_consultation()
    item = consultation.items.first()
    voting.cast_vote(citizen, item, "for")
    follows.follow(citizen, consultation=consultation, item=item)
    comment = debate.post_comment(make_user(), item, "Un avis.")
    follows.follow(citizen, consultation=consultation, comment=comment)
    client = browser(citizen)
    page = client.get(reverse("notices:settings"))
    assert page.status_code == 200 and problems(page.content) == []
    content = page.content.decode()
    section = content[content.index('id="follows-heading"') :]
    assert f"The consultation “{consultation.title_en}”" in section
    assert "(because you took part)" in section
    assert f"The item “{item.title_en or item.title}”" in section
    assert f"?comment={comment.pk}#comment-{comment.pk}" in section
    assert len(forms_to(section, "unfollow")) == 3

    response = client.post(
        reverse("notices:unfollow"),
        {
            "consultation": consultation.slug,
            "item": item.pk,
            "next": reverse("notices:settings") + "#follows-heading",
        },
    )
    assert response["Location"] == reverse("notices:settings") + "#follows-heading"
    content = client.get(reverse("notices:settings")).content.decode()
    assert len(forms_to(content, "unfollow")) == 2
    assert Comment.objects.filter(pk=comment.pk).exists()
