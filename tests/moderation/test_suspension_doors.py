"""A suspension holds at every door at once: the pages, the API, and a socket already open
when it was decided (which is told, and through which nothing can be written anyway)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import tokens
from consultation.models import Membership, Rule, Vote
from consultation.moderation import decisions
from tests.factories import add_member, make_consultation
from tests.support.accounts import enable_totp
from tests.support.sockets import Socket, in_thread, session_cookie

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def _setting(make_user):
    consultation = make_consultation()
    moderator = make_user("mod@example.org")
    enable_totp(moderator)
    add_member(consultation, moderator, Membership.Role.MODERATOR)
    author = make_user("author@example.org")
    author.date_joined = timezone.now() - timedelta(days=30)
    author.save()
    return consultation, consultation.items.first(), moderator, author


async def test_a_suspended_person_is_refused_on_every_door_including_an_open_socket(
    client, make_user
):
    consultation, item, moderator, author = await in_thread(_setting)(make_user)
    cookies = await in_thread(session_cookie)(client, author)
    secret = await in_thread(lambda: tokens.create_token(author, "script")[1])()
    socket = Socket(f"/ws/consultations/{consultation.slug}/", cookies=cookies)
    assert await socket.open()
    assert (await socket.frame())["type"] == "snapshot"

    await in_thread(decisions.suspend)(
        moderator, author, consultation, Rule.INSULT, "Propos insultants.", days=3
    )
    # The open socket is told at once, in the person's language, so the page stops its forms.
    [*_, told] = await socket.frames_until(lambda f: f["type"] == "participation.suspended")
    assert told["stream"] == "personal" and told["consultation"] == consultation.slug
    assert told["until"] and "suspend" in told["detail"]
    # Nothing can be written through the socket: it carries no writes at all.
    await socket.send({"type": "vote", "item": item.pk, "choice": "for"})
    error = (await socket.frames_until(lambda f: f["type"] == "error"))[-1]
    assert error["code"] == "unknown_type"
    # The page refuses, and so does the API, with the same reason.
    page = await in_thread(client.post)(
        f"/consultations/{consultation.slug}/mesures/{item.pk}/vote/", {"choice": "for"}
    )
    assert page.status_code == 403
    api = await in_thread(client.put)(
        f"/api/v1/items/{item.pk}/vote",
        data={"choice": "for"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert api.status_code == 403 and api.json()["code"] == "suspended"
    assert not await in_thread(lambda: Vote.objects.filter(user=author).exists())()
    # Reading still works: the socket stays open and the page still answers.
    await socket.send({"type": "ping"})
    assert (await socket.frames_until(lambda f: f["type"] == "pong"))[-1]["type"] == "pong"
    page = await in_thread(client.get)(f"/consultations/{consultation.slug}/mesures/{item.pk}/")
    assert page.status_code == 200
    await socket.close()


async def test_someone_elses_socket_hears_nothing_of_a_suspension(client, make_user):
    consultation, _item, moderator, author = await in_thread(_setting)(make_user)
    bystander = await in_thread(make_user)("bystander@example.org")
    socket = Socket(
        f"/ws/consultations/{consultation.slug}/",
        cookies=await in_thread(session_cookie)(client, bystander),
    )
    assert await socket.open()
    await socket.frame()
    await in_thread(decisions.suspend)(moderator, author, consultation, Rule.SPAM, days=1)
    await socket.send({"type": "ping"})
    frames = await socket.frames_until(lambda f: f["type"] == "pong")
    assert not [f for f in frames if f["type"] == "participation.suspended"]
    await socket.close()
