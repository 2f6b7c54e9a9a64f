"""Frames read with the site's one JSON reader (config.json_input): a lone surrogate or deep
nesting is an error frame, and the socket survives.

Frames are capped at 4 KiB, which keeps nesting below the depth where ``json.loads`` fails,
and servers close a socket that sends invalid UTF-8; a raw lone surrogate can still reach a
consumer from inside the process (as here), where measuring the frame used to raise.
"""

import pytest

from tests.factories import make_consultation
from tests.support.sockets import Socket, in_thread

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    "payload",
    [
        '{"type": "\\ud800"}',  # an escaped lone surrogate
        '{"type": "ping", "\\udfff": 1}',
        "[" * 2000 + "]" * 2000,  # as deep as 4 KiB allows
        '{"type": "ping", "x": ' + "[" * 1000 + "]" * 1000 + "}",
        '{"type": "ping\ud800"}',  # a raw one
    ],
    ids=["escaped surrogate", "surrogate key", "nested", "nested value", "raw surrogate"],
)
async def test_a_surrogate_or_deep_nesting_gets_an_error_frame_and_the_socket_survives(payload):
    consultation = await in_thread(make_consultation)()
    socket = Socket(f"/ws/consultations/{consultation.slug}/")
    assert await socket.open()
    await socket.frame()  # the snapshot
    await socket.send(payload)
    error = await socket.frame()
    assert (error["type"], error["code"]) == ("error", "bad_frame")
    await socket.send({"type": "ping"})
    assert (await socket.frame())["type"] == "pong"
    await socket.close()
