"""The menu's unread counter, live: the personal stream ``ws/me/`` opens with the count and
hears every change of it (a new notice, notices marked read), for the signed-in person
only; and the pages load what follows it.

Run on both passes: on the embedded default the personal frames go through the process
hub; on the production shape through Redis (the control channel).
"""

import re

import pytest
from django.test import Client

from consultation.models import Notice
from consultation.notices import sending
from realtime import topics
from tests.factories import make_consultation
from tests.support.html import problems
from tests.support.sockets import Socket, in_thread, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def tell(user, consultation):
    """A notice for ``user`` that their preferences keep on the site (no e-mail)."""
    return sending.notify(
        user,
        Notice.Kind.OPENED,
        consultation=consultation,
        data={},
        url=consultation.get_absolute_url(),
    )


def newest(frames):
    """The frame a page keeps of those it received: the largest ``order`` (the last one
    received when the frames carry none, as on the embedded in-process layer)."""
    if all("order" in frame for frame in frames):
        return max(frames, key=lambda frame: frame["order"])
    return frames[-1]


async def open_personal(cookies=None, origin=b"http://127.0.0.1:8000"):
    socket = Socket("/ws/me/", cookies=cookies, origin=origin)
    assert await socket.open()
    return socket


def shape(frame):
    """The frame without its ``order`` (a number shared by every account's frames)."""
    assert isinstance(frame.get("order"), int), frame
    return {key: value for key, value in frame.items() if key != "order"}


def unread_is(n):
    return lambda frame: frame["type"] == "notices.unread" and frame["unread"] == n


@pytest.mark.asyncio
async def test_the_personal_stream_opens_with_the_unread_count(client, citizen):
    def stage():
        consultation = make_consultation()
        tell(citizen, consultation)
        tell(citizen, consultation)
        read = tell(citizen, consultation)
        sending.mark_read(citizen, [read.pk])

    await in_thread(stage)()
    socket = await open_personal(await in_thread(session_cookie)(client, citizen))
    assert shape(await socket.frame()) == {
        "type": "notices.unread",
        "stream": "personal",
        "unread": 2,
    }
    # As the other streams: a resync gives a fresh one, a ping a pong.
    await socket.send({"type": "resync"})
    assert (await socket.frame())["unread"] == 2
    await socket.send({"type": "ping"})
    assert await socket.frame() == {"type": "pong", "stream": "personal"}
    await socket.close()


@pytest.mark.asyncio
async def test_a_new_notice_and_marking_read_send_the_new_count(client, citizen, make_user):
    consultation = await in_thread(make_consultation)()
    socket = await open_personal(await in_thread(session_cookie)(client, citizen))
    assert (await socket.frame())["unread"] == 0

    await in_thread(tell)(citizen, consultation)
    frames = await socket.frames_until(unread_is(1))
    assert shape(frames[-1]) == {"type": "notices.unread", "stream": "personal", "unread": 1}
    notice = await in_thread(tell)(citizen, consultation)
    await socket.frames_until(unread_is(2))

    # Someone else's notice changes nothing here: whatever reaches this socket meanwhile
    # still says 2 (a late copy of the count, e.g. the snapshot once the stream's
    # subscription is confirmed on a busy machine), and the page ends on its own new count,
    # carried by the frame it keeps: the one with the largest order (notices.js).
    await in_thread(tell)(await in_thread(make_user)(), consultation)
    await in_thread(sending.mark_read)(citizen, [notice.pk])
    frames = await socket.frames_until(unread_is(1))
    assert [frame["unread"] for frame in frames[:-1]] == [2] * (len(frames) - 1)
    assert newest(frames)["unread"] == 1
    await in_thread(sending.mark_read)(citizen)
    frames = await socket.frames_until(unread_is(0))
    assert newest(frames)["unread"] == 0
    await socket.close()


@pytest.mark.asyncio
async def test_each_frame_is_ordered_after_the_ones_read_before_it(client, citizen):
    """Frames of changes close together may cross on their way (each is read after its
    own commit, perhaps in another process): each carries an ``order`` taken before its
    count is read, so the one with the larger order holds the newer count, and the page
    keeps that one (tests/js/notices.test.mjs)."""
    consultation = await in_thread(make_consultation)()
    socket = await open_personal(await in_thread(session_cookie)(client, citizen))
    orders = [(await socket.frame())["order"]]
    notice = await in_thread(tell)(citizen, consultation)
    orders.append((await socket.frames_until(unread_is(1)))[-1]["order"])
    await in_thread(sending.mark_read)(citizen, [notice.pk])
    orders.append((await socket.frames_until(unread_is(0)))[-1]["order"])
    assert orders == sorted(set(orders))
    # A frame read earlier (the 1 below) but delivered later carries a smaller order.
    earlier = await in_thread(sending.unread_frames)([citizen.pk])
    await in_thread(tell)(citizen, consultation)
    later = await in_thread(sending.unread_frames)([citizen.pk])
    assert earlier[citizen.pk]["unread"] == 0 and later[citizen.pk]["unread"] == 1
    assert orders[-1] < earlier[citizen.pk]["order"] < later[citizen.pk]["order"]
    await socket.close()


@pytest.mark.asyncio
async def test_every_open_page_of_the_account_hears_it(client, citizen):
    consultation = await in_thread(make_consultation)()
    cookies = await in_thread(session_cookie)(client, citizen)
    tabs = [await open_personal(cookies) for _ in range(2)]
    for tab in tabs:
        assert (await tab.frame())["unread"] == 0
    await in_thread(tell)(citizen, consultation)
    for tab in tabs:
        await tab.frames_until(unread_is(1))
        await tab.close()


@pytest.mark.asyncio
async def test_a_notice_written_while_the_snapshot_is_read_is_not_lost(
    client, citizen, monkeypatch
):
    """The snapshot reads the count, then a notice commits before the snapshot is sent:
    its frame must not be dropped, nor be overtaken by the older count."""
    consultation = await in_thread(make_consultation)()
    cookies = await in_thread(session_cookie)(client, citizen)
    real = topics.provider("personal")
    calls = []

    def slow_snapshot(name):
        frame = real.snapshot(name)  # read: 0 unread
        if not calls:
            tell(citizen, consultation)  # committed (and told) before the 0 is sent
        calls.append(frame["unread"])
        return frame

    monkeypatch.setitem(topics._providers, "personal", topics.Provider(real.resolve, slow_snapshot))
    socket = await open_personal(cookies)
    await socket.send({"type": "ping"})
    frames = await socket.frames_until(lambda frame: frame["type"] == "pong")
    counts = [frame["unread"] for frame in frames if frame["type"] == "notices.unread"]
    assert counts[0] in (0, 1)
    if counts[-1] != 1:  # Redis may bring the notice's frame after the pong: then it is last
        await socket.frames_until(unread_is(1))
    await socket.close()


@pytest.mark.asyncio
async def test_visitors_are_refused_the_personal_stream():
    socket = await open_personal()
    assert await socket.close_code() == 4403


@pytest.mark.asyncio
async def test_a_foreign_origin_is_refused_the_personal_stream(client, citizen):
    cookies = await in_thread(session_cookie)(client, citizen)
    socket = Socket("/ws/me/", cookies=cookies, origin=b"https://evil.example.com")
    assert not await socket.open()


@pytest.mark.asyncio
async def test_a_suspended_account_loses_its_personal_stream(client, citizen):
    from accounts import lifecycle

    socket = await open_personal(await in_thread(session_cookie)(client, citizen))
    await socket.frame()
    await in_thread(lifecycle.suspend_account)(citizen, reason="abus")
    assert await socket.close_code() == 4408


SCRIPT = re.compile(r'<script src="/static/js/notices\.[0-9a-f]+\.js" defer></script>')


def test_signed_in_pages_follow_the_counter_and_visitors_pages_do_not(citizen, settings):
    browser = Client()
    page = browser.get("/consultations/").content.decode()
    assert "js/notices" not in page and "data-notices-url" not in page
    browser.force_login(citizen)
    page = browser.get("/consultations/").content.decode()
    assert SCRIPT.search(page)
    link = re.search(r"<a [^>]*data-notices-url=\"/ws/me/\"[^>]*>.*?</a>", page, re.S).group(0)
    assert 'data-notices-unread="0"' in link and "data-notices-count" in link
    # Every text the script may show comes translated with the page.
    assert 'data-msg-unread-other="non lues"' in link
    assert 'data-msg-new-other="Nouvelle notification : 2 non lues."' in link
    assert re.search(r"<span [^>]*data-notices-announce aria-live=\"polite\"", page)
    assert problems(page.encode()) == []
    # Served from here, and it asks nothing of anyone else.
    script = browser.get(SCRIPT.search(page).group(0).split('"')[1])
    assert script.status_code == 200
    assert script["Content-Type"].startswith("text/javascript")
    body = (settings.BASE_DIR / "static/js/notices.js").read_bytes()
    assert b"/ws/me/" not in body  # the address comes from the page
    assert not re.search(rb"\b(import|require|fetch)\s*\(|https?://|XMLHttpRequest", body)
