"""The live streams, in-process: snapshot, tallies, debate, visibility, moderation, abuse.

Run on both passes: on the embedded default frames go through the process hub; on the
production shape they go through Redis pub/sub (the hub of this test process subscribes).
"""

import pytest

from consultation.models import Membership
from consultation.organising import lifecycle
from consultation.participation import debate, voting
from tests.factories import add_member, make_consultation
from tests.support.accounts import enable_totp
from tests.support.sockets import Socket, in_thread, session_cookie

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def open_stream(consultation, cookies=None, suffix=""):
    socket = Socket(f"/ws/consultations/{consultation.slug}/{suffix}", cookies=cookies)
    assert await socket.open()
    return socket


async def test_a_snapshot_comes_first_then_numbered_tallies(citizen, make_user, settings):
    settings.OPEN_DATA_MIN_GROUP = 2
    consultation = await in_thread(make_consultation)()
    item = await in_thread(lambda: consultation.items.first())()
    socket = await open_stream(consultation)
    snapshot = await socket.frame()
    assert snapshot["type"] == "snapshot" and snapshot["stream"] == "public"
    assert snapshot["consultation"]["results_visible"] is True
    entry = snapshot["consultation"]["items"][str(item.pk)]
    assert entry["responses"] == {"votes": 0, "grades": 0}
    assert entry["votes"] is None  # fewer than 2 votes: not broken down
    await in_thread(voting.cast_vote)(citizen, item, "for")
    frames = await socket.frames_until(lambda f: f["type"] == "tally")
    tally = frames[-1]
    assert tally["seq"] == snapshot["seq"] + 1
    assert tally["items"][str(item.pk)]["responses"]["votes"] == 1
    assert tally["items"][str(item.pk)]["votes"] is None
    assert tally["participation"]["participants"] == 1
    await in_thread(voting.cast_vote)(await in_thread(make_user)(), item, "against")
    tally = (await socket.frames_until(lambda f: f["type"] == "tally"))[-1]
    assert tally["items"][str(item.pk)]["votes"] == {"for": 1, "against": 1, "abstain": 0}
    await socket.close()


async def test_a_lone_vote_is_never_broken_down_on_the_socket(citizen, make_user, settings):
    """Live results, then closed: the snapshot and every tally frame give the item's
    total, never how a group smaller than OPEN_DATA_MIN_GROUP split."""
    settings.OPEN_DATA_MIN_GROUP = 3
    consultation = await in_thread(make_consultation)(items=2)
    lone, crowded = await in_thread(lambda: list(consultation.items.order_by("position")))()
    voters = await in_thread(lambda: [make_user() for _ in range(3)])()
    socket = await open_stream(consultation)
    await socket.frame()

    def vote():
        voting.cast_vote(citizen, lone, "against")
        voting.grade_item(citizen, lone, 2)
        for voter in voters:
            voting.cast_vote(voter, crowded, "for")

    await in_thread(vote)()
    tally = (
        await socket.frames_until(
            lambda f: f["type"] == "tally" and f["participation"]["votes"] == 4
        )
    )[-1]
    assert tally["items"][str(lone.pk)]["votes"] is None
    assert tally["items"][str(lone.pk)]["grades"] is None
    assert tally["items"][str(lone.pk)]["responses"] == {"votes": 1, "grades": 1}
    assert tally["items"][str(crowded.pk)]["votes"] == {"for": 3, "against": 0, "abstain": 0}
    await in_thread(lifecycle.transition)(consultation.pk, "closed", reason="fin")
    frames = await socket.frames_until(lambda f: f["type"] == "tally")
    assert any(f["type"] == "consultation.status" and f["results_visible"] for f in frames)
    assert frames[-1]["items"][str(lone.pk)]["votes"] is None
    await socket.close()
    socket = await open_stream(consultation)  # a visitor arriving after the close
    snapshot = (await socket.frame())["consultation"]
    assert snapshot["status"] == "closed" and snapshot["results_visible"] is True
    assert snapshot["items"][str(lone.pk)]["votes"] is None
    assert snapshot["items"][str(lone.pk)]["grades"] is None
    assert snapshot["items"][str(crowded.pk)]["votes"]["for"] == 3
    await socket.close()


async def test_hidden_results_never_travel_over_the_socket(citizen):
    consultation = await in_thread(make_consultation)(results_visibility="after_close")
    item = await in_thread(lambda: consultation.items.first())()
    socket = await open_stream(consultation)
    snapshot = await socket.frame()
    assert snapshot["consultation"]["results_visible"] is False
    assert set(snapshot["consultation"]["items"][str(item.pk)]) == {"comments"}
    await in_thread(voting.cast_vote)(citizen, item, "against")
    tally = (await socket.frames_until(lambda f: f["type"] == "tally"))[-1]
    assert "against" not in str(tally["items"])
    assert tally["participation"]["votes"] == 1
    # Closing does not reveal them: nothing is public until the organisers publish.
    await in_thread(lifecycle.transition)(consultation.pk, "closed", reason="fin")
    frames = await socket.frames_until(lambda f: f["type"] == "tally")
    status = next(f for f in frames if f["type"] == "consultation.status")
    assert (status["status"], status["results_visible"]) == ("closed", False)
    assert set(frames[-1]["items"][str(item.pk)]) == {"comments"}
    await socket.close()
    socket = await open_stream(consultation)
    snapshot = (await socket.frame())["consultation"]
    assert snapshot["results_visible"] is False
    assert set(snapshot["items"][str(item.pk)]) == {"comments"}
    await socket.close()


async def test_publishing_reveals_hidden_results_within_the_small_group_rule(
    citizen, make_user, settings, tmp_path
):
    from consultation.results import computing

    settings.OPEN_DATA_MIN_GROUP = 2
    settings.MEDIA_ROOT = tmp_path
    consultation = await in_thread(make_consultation)(items=2, results_visibility="after_close")
    lone, pair = await in_thread(lambda: list(consultation.items.order_by("position")))()
    other = await in_thread(make_user)()

    def vote_and_close():
        voting.cast_vote(citizen, lone, "against")
        voting.cast_vote(citizen, pair, "for")
        voting.cast_vote(other, pair, "against")
        lifecycle.transition(consultation.pk, "closed", reason="fin")
        computing.compute_results(consultation.pk, "final")

    await in_thread(vote_and_close)()
    socket = await open_stream(consultation)
    assert (await socket.frame())["consultation"]["results_visible"] is False
    # What publishing.publish does to the status, without copying files a production-pass
    # worker may have counted into its own MEDIA_ROOT.
    await in_thread(lifecycle.transition)(consultation.pk, "published")
    # A tally of the votes above may still be on its way: read up to the first tally that
    # follows the status frame.
    types: list[str] = []

    def tally_after_status(frame):
        types.append(frame["type"])
        return frame["type"] == "tally" and "consultation.status" in types

    frames = await socket.frames_until(tally_after_status)
    status = next(f for f in frames if f["type"] == "consultation.status")
    assert (status["status"], status["results_visible"]) == ("published", True)
    assert frames[-1]["items"][str(pair.pk)]["votes"] == {"for": 1, "against": 1, "abstain": 0}
    assert frames[-1]["items"][str(lone.pk)]["votes"] is None
    assert frames[-1]["items"][str(lone.pk)]["responses"]["votes"] == 1
    await socket.close()


async def test_a_burst_of_votes_is_coalesced_and_the_final_counts_are_exact(make_user):
    consultation = await in_thread(make_consultation)(items=2)
    item = await in_thread(lambda: consultation.items.first())()
    voters = await in_thread(lambda: [make_user() for _ in range(120)])()
    socket = await open_stream(consultation)
    await socket.frame()

    def burst():
        import time

        started = time.monotonic()
        for n, voter in enumerate(voters):
            voting.cast_vote(voter, item, "for" if n % 3 else "against")
        return time.monotonic() - started

    duration = await in_thread(burst)()
    frames = await socket.frames_until(
        lambda f: f["type"] == "tally" and f["participation"]["votes"] == 120, timeout=15
    )
    tallies = [f for f in frames if f["type"] == "tally"]
    # At most one frame per 250 ms window (+1 for the window still open at the end).
    assert len(tallies) <= duration / 0.25 + 2, (len(tallies), duration)
    assert len(tallies) < 120 / 4
    assert tallies[-1]["items"][str(item.pk)]["votes"] == {"for": 80, "against": 40, "abstain": 0}
    assert [f["seq"] for f in frames] == sorted(f["seq"] for f in frames)
    await socket.close()


async def test_debate_events_are_pushed(citizen):
    consultation = await in_thread(make_consultation)()
    item = await in_thread(lambda: consultation.items.first())()
    socket = await open_stream(consultation)
    await socket.frame()
    comment = await in_thread(debate.post_comment)(citizen, item, "Bonjour", "for")
    posted = (await socket.frames_until(lambda f: f["type"] == "comment.posted"))[-1]
    assert posted["comment"]["body"] == "Bonjour"
    assert posted["comment"]["author"] == "Camille"
    assert "email" not in str(posted)
    await in_thread(debate.edit_comment)(citizen, comment, "Bonsoir")
    edited = (await socket.frames_until(lambda f: f["type"] == "comment.edited"))[-1]
    assert edited["comment"]["body"] == "Bonsoir"
    await in_thread(debate.delete_comment)(citizen, comment)
    hidden = (await socket.frames_until(lambda f: f["type"] == "comment.hidden"))[-1]
    assert hidden["comment"] == {"id": comment.pk, "item": item.pk, "reason": "deleted_by_author"}
    await socket.close()


async def test_resync_sends_a_fresh_snapshot(citizen):
    consultation = await in_thread(make_consultation)()
    socket = await open_stream(consultation)
    first = await socket.frame()
    await socket.send({"type": "resync"})
    again = await socket.frame()
    assert again["type"] == "snapshot" and again["seq"] == first["seq"]
    await socket.send({"type": "ping"})
    assert (await socket.frame())["type"] == "pong"
    await socket.close()


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ("nonsense", "bad_frame"),
        ("[1]", "unknown_type"),
        ('{"type": "vote"}', "unknown_type"),
        ("x" * 5000, "too_large"),
    ],
)
async def test_bad_messages_get_an_error_frame_and_the_socket_survives(payload, code):
    consultation = await in_thread(make_consultation)()
    socket = await open_stream(consultation)
    await socket.frame()
    await socket.send(payload)
    error = await socket.frame()
    assert (error["type"], error["code"]) == ("error", code)
    await socket.send({"type": "ping"})
    assert (await socket.frame())["type"] == "pong"
    await socket.close()


async def test_a_flooding_socket_is_throttled_then_closed():
    consultation = await in_thread(make_consultation)()
    socket = await open_stream(consultation)
    await socket.frame()
    for _ in range(21):
        await socket.send({"type": "ping"})
    frames = await socket.frames_until(lambda f: f["type"] == "error")
    assert frames[-1]["code"] == "rate_limited"
    assert await socket.close_code() == 4429


async def refusal(path, cookies=None):
    socket = Socket(path, cookies=cookies)
    assert await socket.open()
    return await socket.close_code()


async def test_a_draft_is_refused_like_an_unknown_consultation(client, citizen, make_user):
    """As the pages answer 404 for both: another code would tell a draft exists there."""
    draft = await in_thread(make_consultation)(status="draft")
    cookies = await in_thread(session_cookie)(client, citizen)
    for who in (None, cookies):
        for stream in ("", "moderation/"):
            unknown = await refusal(f"/ws/consultations/nope/{stream}", who)
            hidden = await refusal(f"/ws/consultations/{draft.slug}/{stream}", who)
            assert unknown == hidden == 4404, (who, stream)
    # A consultation anyone may see answers "not allowed" on its moderation stream only.
    public = await in_thread(make_consultation)()
    assert await refusal(f"/ws/consultations/{public.slug}/moderation/", cookies) == 4403


async def test_a_drafts_organiser_and_moderator_still_get_its_streams(client, make_user):
    draft = await in_thread(make_consultation)(status="draft")
    organiser, moderator = await in_thread(lambda: [make_user(), make_user()])()
    await in_thread(add_member)(draft, organiser, Membership.Role.ORGANISER)
    await in_thread(add_member)(draft, moderator, Membership.Role.MODERATOR)
    await in_thread(enable_totp)(organiser)  # a role's powers need MFA
    await in_thread(enable_totp)(moderator)
    socket = await open_stream(draft, await in_thread(session_cookie)(client, organiser))
    snapshot = await socket.frame()
    assert snapshot["type"] == "snapshot" and snapshot["consultation"]["status"] == "draft"
    await socket.close()
    socket = await open_stream(
        draft, await in_thread(session_cookie)(client, moderator), "moderation/"
    )
    assert (await socket.frame())["type"] == "moderation.snapshot"
    await socket.close()


async def test_a_foreign_origin_is_refused():
    consultation = await in_thread(make_consultation)()
    socket = Socket(f"/ws/consultations/{consultation.slug}/", origin=b"https://evil.example.com")
    assert not await socket.open()


async def test_moderators_get_the_moderation_stream_and_citizens_do_not(client, citizen, make_user):
    consultation = await in_thread(make_consultation)()
    moderator = await in_thread(make_user)()
    await in_thread(add_member)(consultation, moderator, Membership.Role.MODERATOR)
    await in_thread(enable_totp)(moderator)  # a role's powers need MFA
    refused = await open_stream(
        consultation, await in_thread(session_cookie)(client, citizen), "moderation/"
    )
    assert await refused.close_code() == 4403
    socket = await open_stream(
        consultation, await in_thread(session_cookie)(client, moderator), "moderation/"
    )
    snapshot = await socket.frame()
    assert snapshot["type"] == "moderation.snapshot" and snapshot["queue"] == []
    item = await in_thread(lambda: consultation.items.first())()
    await in_thread(debate.post_comment)(citizen, item, "À relire", "against")
    frame = (await socket.frames_until(lambda f: f["type"] == "moderation.comment"))[-1]
    assert frame["stream"] == "moderation"
    assert frame["comment"]["body"] == "À relire" and frame["comment"]["event"] == "posted"
    await socket.close()


async def test_a_suspended_account_loses_its_open_sockets(client, citizen):
    from accounts import lifecycle as accounts_lifecycle

    consultation = await in_thread(make_consultation)()
    socket = await open_stream(consultation, await in_thread(session_cookie)(client, citizen))
    await socket.frame()
    await in_thread(accounts_lifecycle.suspend_account)(citizen, reason="abus")
    assert await socket.close_code() == 4408


async def test_a_session_from_before_a_password_change_is_anonymous_on_the_socket(
    client, make_user
):
    """The socket checks the session as Django does: the password changed since that
    login (say, on another device, after a theft), so the old cookie opens nothing."""
    consultation = await in_thread(make_consultation)()
    moderator = await in_thread(make_user)()
    await in_thread(add_member)(consultation, moderator, Membership.Role.MODERATOR)
    await in_thread(enable_totp)(moderator)  # a role's powers need MFA
    cookie = await in_thread(session_cookie)(client, moderator)
    allowed = await open_stream(consultation, cookie, "moderation/")
    assert (await allowed.frame())["type"] == "moderation.snapshot"
    await allowed.close()

    def change_password():
        moderator.set_password("another long passphrase")
        moderator.save()

    await in_thread(change_password)()
    refused = await open_stream(consultation, cookie, "moderation/")
    assert await refused.close_code() == 4403


async def test_a_password_only_session_gets_no_moderation_stream(client, make_user):
    """The socket's door asks what the page's asks: the session must have passed the
    second factor, not merely belong to an account that has one."""
    consultation = await in_thread(make_consultation)()
    moderator = await in_thread(make_user)()
    await in_thread(add_member)(consultation, moderator, Membership.Role.MODERATOR)
    await in_thread(enable_totp)(moderator)
    cookie = await in_thread(session_cookie)(client, moderator, second_factor=False)
    refused = await open_stream(consultation, cookie, "moderation/")
    assert await refused.close_code() in (4403, 4404)
    cookie = await in_thread(session_cookie)(client, moderator)
    allowed = await open_stream(consultation, cookie, "moderation/")
    assert (await allowed.frame())["type"] == "moderation.snapshot"
    await allowed.close()
