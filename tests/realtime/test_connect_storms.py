"""Reconnect storms: when a server process dies or is redeployed, its sockets all come
back to the other processes at once. A connect then costs at most one database hop, and
a storm of visitors to one published consultation asks once who may follow it.

Run on both passes (in-process sockets; with Redis the hub subscribes through it).
"""

import asyncio
import time

import pytest
from django.test import Client

from consultation.organising import lifecycle
from realtime.doorway import ANSWER_TTL_SECONDS
from tests.factories import make_consultation
from tests.support.sockets import Socket, in_thread, session_cookie
from tests.support.statements import every_statement_off_the_loop

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

STORM = 300


async def storm(path: str, cookies: list[str | None]) -> tuple[list[Socket], float]:
    """Every socket connects at once; each gets its first frame. Returns them and the time."""
    sockets = [Socket(path, cookies=cookie) for cookie in cookies]
    started = time.monotonic()
    assert all(await asyncio.gather(*(socket.open() for socket in sockets)))
    firsts = await asyncio.gather(*(socket.frame(timeout=30) for socket in sockets))
    assert {frame["type"] for frame in firsts} == {"snapshot"}
    return sockets, time.monotonic() - started


async def close_all(sockets: list[Socket]) -> None:
    await asyncio.gather(*(socket.close() for socket in sockets))


def asked_about(statements) -> list[str]:
    """The statements that looked a consultation up by its address: who may follow it."""
    return statements.matching('WHERE "consultation_consultation"."slug" =')


async def test_a_storm_of_visitors_asks_once_who_may_follow_a_published_consultation():
    consultation = await in_thread(make_consultation)()
    async with every_statement_off_the_loop() as statements:
        sockets, seconds = await storm(f"/ws/consultations/{consultation.slug}/", [None] * STORM)
    # One question in flight is shared; its answer serves the next connects for a
    # moment (on a machine slow enough to take longer, once more per moment).
    assert len(asked_about(statements)) <= 1 + int(seconds / ANSWER_TTL_SECONDS)
    # No session to read, no user: nothing else is read per socket either.
    assert len(statements.matching('"django_session"')) == 0
    assert len(statements.matching('"accounts_user"')) == 0
    await close_all(sockets)


async def test_a_storm_of_signed_in_visitors_reads_each_session_once_and_asks_once(
    make_user,
):
    consultation = await in_thread(make_consultation)()

    def sign_in(count):
        return [session_cookie(Client(), make_user()) for _ in range(count)]

    cookies = await in_thread(sign_in)(30)
    async with every_statement_off_the_loop() as statements:
        sockets, seconds = await storm(f"/ws/consultations/{consultation.slug}/", cookies * 5)
    # Each socket reads its session and its user once, in its one hop; who may follow
    # the stream is asked about once for them all (then once more per moment at most,
    # and once more if a frame crossed the first question: its answer is not kept).
    assert len(statements.matching('FROM "django_session"')) == len(sockets)
    assert len(statements.matching('FROM "accounts_user"')) == len(sockets)
    assert len(asked_about(statements)) <= 2 + int(seconds / ANSWER_TTL_SECONDS)
    await close_all(sockets)


async def test_signed_in_sockets_of_a_storm_are_still_closed_when_their_account_is_suspended(
    client, citizen, make_user
):
    """Sharing who may follow the stream never skips reading who the visitor is: the
    hub files each socket under its account, and suspending it closes them all."""
    from accounts import lifecycle as accounts_lifecycle

    consultation = await in_thread(make_consultation)()
    cookie = await in_thread(session_cookie)(client, citizen)
    others = await in_thread(lambda: [session_cookie(Client(), make_user())])()
    path = f"/ws/consultations/{consultation.slug}/"
    sockets, _ = await storm(path, [None] * 20 + [cookie] * 3 + others * 3)
    await in_thread(accounts_lifecycle.suspend_account)(citizen, reason="abus")
    assert [await socket.close_code() for socket in sockets[20:23]] == [4408] * 3
    await close_all(sockets[:20] + sockets[23:])


async def test_a_consultation_taken_back_to_draft_is_unknown_to_the_next_connect(client):
    """A shared answer lasts until the topic's next frame: the status change is one."""
    consultation = await in_thread(make_consultation)(status="scheduled")
    path = f"/ws/consultations/{consultation.slug}/"
    watcher = Socket(path)
    assert await watcher.open()
    await watcher.frame()
    await in_thread(lifecycle.transition)(consultation.pk, "draft", reason="à revoir")
    frames = await watcher.frames_until(lambda f: f["type"] == "consultation.status")
    assert frames[-1]["status"] == "draft"
    latecomer = Socket(path)
    assert await latecomer.open()
    assert await latecomer.close_code() == 4404  # as an unknown consultation
    await watcher.close()


async def test_visitors_join_a_stream_while_the_database_thread_is_busy(monkeypatch):
    """With the answer and the snapshot at hand, an anonymous connect needs nothing from
    the thread where the process reads its database: a slow read there (a big snapshot,
    a database that lags) never holds up a storm of visitors."""
    import threading

    from asgiref.sync import sync_to_async

    from realtime import doorway, hub

    monkeypatch.setattr(doorway, "ANSWER_TTL_SECONDS", 60.0)  # however slow the machine
    monkeypatch.setattr(hub, "SNAPSHOT_TTL_SECONDS", 60.0)
    consultation = await in_thread(make_consultation)()
    path = f"/ws/consultations/{consultation.slug}/"
    first, _ = await storm(path, [None])  # the answer and the snapshot are kept
    release = threading.Event()
    # The same thread as database_sync_to_async's (thread-sensitive): it is busy now.
    busy = asyncio.ensure_future(sync_to_async(release.wait)(20))
    try:
        sockets, _ = await storm(path, [None] * 50)
        assert not busy.done()  # they all got in while the thread was still busy
    finally:
        release.set()
        await busy
    await close_all(first + sockets)
