"""Reply and "useful" notices: from the event to the e-mail (both languages) and to the
notices page. A reply tells the parent's author and the thread's followers, once each,
never the replier; "useful" marks make one notice per comment per day, its count growing
while unread, never saying who."""

import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from consultation.models import Channel, Comment, CommentReaction, Membership, Notice, Rule
from consultation.moderation import decisions
from consultation.notices import follows, preferences
from consultation.participation import debate
from tests.factories import add_member, make_consultation
from tests.support.accounts import login
from tests.support.html import problems

pytestmark = pytest.mark.django_db


def browser(user, language):
    client = Client()
    client.cookies["django_language"] = language
    login(client, user)
    return client


def sent(notice, timeout=10.0) -> bool:
    """Wait (bounded) for the worker to mark the notice sent: the mail is in the box a
    moment before the mark."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        notice.refresh_from_db()
        if notice.email == Notice.Email.SENT:
            return True
        time.sleep(0.02)
    return False


def link_to(comment) -> str:
    return f"{comment.item.get_absolute_url()}?comment={comment.pk}#comment-{comment.pk}"


def test_a_reply_tells_the_parents_author_and_the_threads_followers_once_each(make_user):
    item = make_consultation().items.first()
    ana, ben, chloe, dora, eli = (
        make_user(display_name=n) for n in ["Ana", "Ben", "Chloé", "Dora", "Eli"]
    )
    root = debate.post_comment(ana, item, "Le premier avis.")
    follows.follow(chloe, consultation=item.consultation, comment=root)
    first = debate.post_comment(ben, item, "Une réponse.", parent=root)
    # Ana is the parent's author (and a follower): told once, as the author.
    [to_ana] = Notice.objects.filter(user=ana)
    assert (to_ana.kind, to_ana.data["to"], to_ana.url) == ("reply", "author", link_to(first))
    [to_chloe] = Notice.objects.filter(user=chloe)
    assert to_chloe.data["to"] == "follower" and to_chloe.url == link_to(first)
    assert not Notice.objects.filter(user=ben).exists()  # never the replier

    # Dora answers Ben: Ben is the author now; Ana, Chloé (the thread) follow; Eli is not in.
    follows.follow(eli, consultation=item.consultation, comment=debate.post_comment(eli, item, "?"))
    second = debate.post_comment(dora, item, "Je réponds à Ben.", parent=first)
    told = {n.user: n.data["to"] for n in Notice.objects.filter(data__comment=second.pk)}
    assert told == {ben: "author", ana: "follower", chloe: "follower"}
    # Nothing names who replied, and a retried write would not tell twice (one key each).
    assert all(
        set(n.data)
        <= {"consultation_title", "item", "item_title", "item_title_en", "comment", "parent", "to"}
        for n in Notice.objects.filter(kind="reply")
    )
    assert len({(n.user_id, n.key) for n in Notice.objects.filter(kind="reply")}) == 5


def test_a_reply_held_for_review_tells_nobody(make_user, settings):
    item = make_consultation().items.first()
    author, replier = make_user(), make_user()
    root = debate.post_comment(author, item, "Premier.")
    debate.post_comment(replier, item, "Le même texte.", parent=root)
    held = debate.post_comment(replier, item, "Le même texte.", parent=root)  # repeated
    assert held.moderation == Comment.Moderation.HELD
    assert Notice.objects.filter(user=author).count() == 1


@pytest.mark.parametrize("release", ["dismiss", "hide_then_restore"])
def test_a_reply_released_from_review_tells_the_parents_author_then_once(
    make_user, moderator, release
):
    item = make_consultation().items.first()
    add_member(item.consultation, moderator, Membership.Role.MODERATOR)
    author, replier, follower = make_user(), make_user(), make_user()
    root = debate.post_comment(author, item, "Premier.")
    follows.follow(follower, consultation=item.consultation, comment=root)
    debate.post_comment(replier, item, "Le même texte.", parent=root)
    held = debate.post_comment(replier, item, "Le même texte.", parent=root)  # repeated
    assert not Notice.objects.filter(kind="reply", data__comment=held.pk).exists()

    if release == "dismiss":
        decisions.dismiss(moderator, held, Rule.SPAM)
    else:
        decisions.hide(moderator, held, Rule.SPAM)
        assert not Notice.objects.filter(kind="reply", data__comment=held.pk).exists()
        decisions.restore(moderator, held, Rule.SPAM)
    told = {
        n.user: n.data["to"] for n in Notice.objects.filter(kind="reply", data__comment=held.pk)
    }
    assert told == {author: "author", follower: "follower"}
    [notice] = Notice.objects.filter(user=author, kind="reply", data__comment=held.pk)
    assert notice.url == link_to(held)

    # Hidden and shown again: nobody is told a second time.
    decisions.hide(moderator, held, Rule.SPAM)
    decisions.restore(moderator, held, Rule.SPAM)
    assert Notice.objects.filter(kind="reply", data__comment=held.pk).count() == 2


def test_useful_marks_make_one_notice_a_day_whose_count_grows_while_unread(make_user):
    item = make_consultation().items.first()
    author = make_user()
    comment = debate.post_comment(author, item, "Un avis utile.")
    markers = [make_user() for _ in range(4)]
    for marker in markers[:3]:
        debate.toggle_useful(marker, comment)
    [notice] = Notice.objects.filter(user=author, kind="useful")
    assert notice.data["count"] == 3 and notice.url == link_to(comment)
    assert notice.key == f"useful:{comment.pk}:{timezone.localdate().isoformat()}"
    # Never who marked it: the notice holds the comment, its item and a count.
    assert set(notice.data) == {
        "consultation_title",
        "item",
        "item_title",
        "item_title_en",
        "comment",
        "count",
    }
    # Unmarking tells nobody anything; marking again counts again.
    debate.toggle_useful(markers[0], comment)
    debate.toggle_useful(markers[0], comment)
    notice.refresh_from_db()
    assert notice.data["count"] == 3

    # Once read, the day's notice stays as it was read: no second one that day.
    notice.read_at = timezone.now()
    notice.save()
    debate.toggle_useful(markers[3], comment)
    notice.refresh_from_db()
    assert notice.data["count"] == 3
    assert Notice.objects.filter(user=author, kind="useful").count() == 1

    # The next day, a new notice (yesterday's activity moved back a day).
    yesterday = timezone.now() - timedelta(days=1)
    CommentReaction.objects.filter(comment=comment).update(created_at=yesterday)
    Notice.objects.filter(pk=notice.pk).update(
        key=f"useful:{comment.pk}:{timezone.localdate(yesterday).isoformat()}"
    )
    debate.toggle_useful(markers[1], comment)
    debate.toggle_useful(markers[1], comment)  # unmarked again: the notice stays
    debate.toggle_useful(markers[2], comment)
    fresh = Notice.objects.filter(user=author, kind="useful").exclude(pk=notice.pk).get()
    assert fresh.data["count"] == 1


@pytest.mark.parametrize(
    ("language", "title", "listed"),
    [
        ("en", "Someone replied to your comment", "New reply in a thread you follow"),
        (
            "fr",
            "Quelqu’un a répondu à votre commentaire",
            "Nouvelle réponse dans une discussion que vous suivez",
        ),
    ],
)
def test_reply_notices_are_listed_on_the_notices_page(make_user, language, title, listed):
    item = make_consultation().items.first()
    author = make_user(preferred_language=language)
    root = debate.post_comment(author, item, "Premier.")
    reply = debate.post_comment(make_user(), item, "Réponse.", parent=root)
    debate.post_comment(make_user(), item, "Autre réponse.", parent=reply)
    page = browser(author, language).get(reverse("notices:list"))
    assert page.status_code == 200 and problems(page.content) == []
    content = page.content.decode()
    assert title in content and listed in content
    notice = Notice.objects.filter(user=author).order_by("pk").first()
    # Opening it leads to the reply, on the debate page that holds it.
    response = browser(author, language).get(
        reverse("notices:open", kwargs={"notice_id": notice.pk})
    )
    assert response["Location"] == link_to(reply)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("language", "subject", "lines"),
    [
        ("en", "Someone replied to your comment", ["Item: Measure", "Read the reply"]),
        ("fr", "Quelqu’un a répondu à votre commentaire", ["Mesure : Mesure", "Lire la réponse"]),
    ],
)
def test_a_reply_is_mailed_in_the_authors_language(
    make_user, mailbox, celery_worker, django_capture_on_commit_callbacks, language, subject, lines
):
    item = make_consultation().items.first()
    author = make_user("auteur@example.org", preferred_language=language)
    root = debate.post_comment(author, item, "Premier.")
    with django_capture_on_commit_callbacks(execute=True):
        reply = debate.post_comment(make_user(), item, "Réponse.", parent=root)
    [mail] = mailbox.wait_for("auteur@example.org")
    assert subject in mail["subject"]
    for line in lines:
        assert line in mail["body"], line
    assert link_to(reply) in mail["body"] and link_to(reply) in mail["html"]
    assert (
        reverse("notices:settings") in mail["body"]
        and "/notifications/desabonnement/" in mail["html"]
    )
    assert "<img" not in mail["html"]
    notice = Notice.objects.get(user=author)
    assert sent(notice) and notice.emailed_at is not None


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("language", "subject"),
    [
        ("en", "2 people found your comment useful"),
        ("fr", "2 personnes ont trouvé votre commentaire utile"),
    ],
)
def test_useful_marks_are_mailed_once_to_whoever_asked_for_it(
    make_user, mailbox, celery_worker, language, subject
):
    item = make_consultation().items.first()
    author = make_user("auteur@example.org", preferred_language=language)
    preferences.save(author, {"useful": Channel.EMAIL})
    comment = debate.post_comment(author, item, "Un avis.")
    first, second, third = (make_user(display_name=f"Marqueur {n}") for n in range(3))
    with transaction.atomic():  # two marks before the e-mail leaves: one notice, counted 2
        debate.toggle_useful(first, comment)
        debate.toggle_useful(second, comment)
    [mail] = mailbox.wait_for("auteur@example.org")
    assert subject in mail["subject"]
    assert link_to(comment) in mail["body"]
    assert "Marqueur" not in mail["body"] and "Marqueur" not in mail["html"]
    notice = Notice.objects.get(user=author, kind="useful")
    assert sent(notice)
    # A later mark that day only counts: nothing more is queued to be mailed.
    debate.toggle_useful(third, comment)
    notice.refresh_from_db()
    assert notice.data["count"] == 3 and notice.email == "sent"
    assert not Notice.objects.filter(email="pending").exists()
