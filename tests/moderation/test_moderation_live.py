"""The moderators' live stream as the queue pages use it (static/js/moderation.js): the
snapshot is the real queue, and a citizen's report, a colleague's decision and an appeal
reach a connected moderator's socket at once.

Run on both passes, with a real websocket client (tests/support/sockets.py): through the
process hub on the embedded default, through Redis pub/sub on the production shape.
"""

import pytest
from django.test import Client
from django.urls import reverse

from consultation.models import Membership, Rule
from consultation.moderation import appeals, decisions, reports
from consultation.participation import debate
from tests.factories import add_member, make_consultation
from tests.support.accounts import enable_totp, login
from tests.support.sockets import Socket, in_thread, session_cookie

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def setting_up(make_user):
    """A consultation with two moderators (Malik, Mia), Alex's comment and a reporter."""
    consultation = make_consultation()
    moderator = make_user(display_name="Malik")
    colleague = make_user(display_name="Mia")
    for person in (moderator, colleague):
        enable_totp(person)
        add_member(consultation, person, Membership.Role.MODERATOR)
    author = make_user(display_name="Alex")
    comment = debate.post_comment(author, consultation.items.first(), "Un texte à revoir.")
    reporter = make_user(display_name="Rita")
    return consultation, moderator, colleague, author, comment, reporter


async def moderators_socket(client, consultation, moderator):
    cookie = await in_thread(session_cookie)(client, moderator)
    socket = Socket(f"/ws/consultations/{consultation.slug}/moderation/", cookies=cookie)
    assert await socket.open()
    return socket


async def test_the_snapshot_is_the_queue_with_the_text_moderators_need(client, make_user):
    consultation, moderator, _colleague, author, comment, reporter = await in_thread(setting_up)(
        make_user
    )

    def held_and_reported():
        consultation.quarantine_threshold = 1
        consultation.save(update_fields=["quarantine_threshold"])
        reports.report_comment(reporter, comment, Rule.OTHER, "Vise une personne.")
        debate.post_comment(author, comment.item, "Un avis sans histoire.")

    await in_thread(held_and_reported)()
    socket = await moderators_socket(client, consultation, moderator)
    snapshot = await socket.frame()
    assert snapshot["type"] == "moderation.snapshot" and snapshot["stream"] == "moderation"
    [entry] = snapshot["queue"]  # the quiet comment is not in the queue
    assert entry["comment"]["id"] == comment.pk
    # Held: withheld from the public, but moderators read it.
    assert entry["comment"]["moderation"]["state"] == "held"
    assert entry["comment"]["body"] == "Un texte à revoir."
    assert entry["reporters"] == 1 and entry["weight"] == 1.0
    assert entry["urgency"] >= 3  # its report's weight, plus two for being held
    assert entry["rules"] == [{"rule": "other", "rule_number": 7, "count": 1}]
    assert "Rita" not in repr(snapshot) and reporter.email not in repr(snapshot)
    assert snapshot["limit"] >= 1
    await socket.close()


async def test_a_citizens_report_reaches_a_connected_moderator(client, make_user):
    consultation, moderator, _colleague, _author, comment, reporter = await in_thread(setting_up)(
        make_user
    )
    socket = await moderators_socket(client, consultation, moderator)
    snapshot = await socket.frame()
    assert snapshot["queue"] == []

    def report_through_the_page():
        citizen = Client()
        login(citizen, reporter)
        url = reverse(
            "moderation_public:report",
            kwargs={
                "slug": consultation.slug,
                "item_id": comment.item_id,
                "comment_id": comment.pk,
            },
        )
        return citizen.post(url, {"rule": Rule.INSULT, "text": ""}).status_code

    assert await in_thread(report_through_the_page)() == 302
    frame = (await socket.frames_until(lambda f: f["type"] == "moderation.report"))[-1]
    assert frame["seq"] == snapshot["seq"] + 1
    assert frame["comment"]["id"] == comment.pk and frame["open_reports"] == 1
    assert frame["comment"]["body"] == "Un texte à revoir."
    assert frame["report"]["rule"] == "insult"
    assert "Rita" not in repr(frame)
    await socket.close()


async def test_a_colleagues_decision_reaches_a_connected_moderator(client, make_user):
    consultation, moderator, colleague, _author, comment, reporter = await in_thread(setting_up)(
        make_user
    )
    await in_thread(reports.report_comment)(reporter, comment, Rule.INSULT)
    socket = await moderators_socket(client, consultation, moderator)
    snapshot = await socket.frame()
    assert [e["comment"]["id"] for e in snapshot["queue"]] == [comment.pk]

    def hide_through_the_page():
        page = Client()
        login(page, colleague)
        url = reverse(
            "moderation:comment", kwargs={"slug": consultation.slug, "comment_id": comment.pk}
        )
        data = {"action": "hide", "back": "consultation", f"c{comment.pk}-rule": Rule.INSULT}
        return page.post(url, data).status_code

    assert await in_thread(hide_through_the_page)() == 302
    frame = (await socket.frames_until(lambda f: f["type"] == "moderation.decision"))[-1]
    decision = frame["decision"]
    assert decision["comment"] == comment.pk and decision["action"] == "hide"
    assert decision["role"] == "moderator" and decision["moderator"] == colleague.pk
    # A snapshot asked for now (as the page does after a gap) no longer lists it.
    await socket.send({"type": "resync"})
    fresh = (await socket.frames_until(lambda f: f["type"] == "moderation.snapshot"))[-1]
    assert fresh["queue"] == []
    await socket.close()


async def test_an_appeal_reaches_the_moderators(client, make_user):
    consultation, moderator, colleague, author, comment, _reporter = await in_thread(setting_up)(
        make_user
    )
    decision = await in_thread(decisions.warn)(
        colleague, author, consultation, Rule.INSULT, "", comment=comment
    )
    socket = await moderators_socket(client, consultation, moderator)
    await socket.frame()
    appeal = await in_thread(appeals.appeal)(author, decision, "Je conteste.")
    frame = (await socket.frames_until(lambda f: f["type"] == "moderation.appeal"))[-1]
    assert frame["appeal"]["id"] == appeal.pk and frame["appeal"]["decision"] == decision.pk
    await socket.close()


async def test_nobody_else_follows_the_stream(client, make_user, citizen):
    consultation, *_rest = await in_thread(setting_up)(make_user)
    elsewhere = await in_thread(make_user)(display_name="Eve")
    await in_thread(enable_totp)(elsewhere)
    await in_thread(add_member)(await in_thread(make_consultation)(), elsewhere, "moderator")
    for person in (elsewhere, citizen):
        cookie = await in_thread(session_cookie)(client, person)
        socket = Socket(f"/ws/consultations/{consultation.slug}/moderation/", cookies=cookie)
        assert await socket.open()
        assert await socket.close_code() == 4403
