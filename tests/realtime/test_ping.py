"""The websocket doorway: served, origin-checked, and robust to bad frames."""

import pytest
from channels.testing.websocket import WebsocketCommunicator

from config.asgi import application

# Channels closes stale database connections before each handler, so allow the database.
pytestmark = pytest.mark.django_db


async def connect(origin=b"http://127.0.0.1:8000"):
    communicator = WebsocketCommunicator(
        application, "/ws/ping/", headers=[(b"origin", origin), (b"host", b"127.0.0.1:8000")]
    )
    connected, _ = await communicator.connect()
    return communicator, connected


@pytest.mark.asyncio
async def test_ping_is_answered():
    communicator, connected = await connect()
    assert connected
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from() == {"type": "pong"}
    await communicator.disconnect()


@pytest.mark.asyncio
async def test_foreign_origin_is_refused():
    _, connected = await connect(origin=b"https://evil.example.com")
    assert not connected


@pytest.mark.asyncio
@pytest.mark.parametrize("frame", ["not json", '{"type": "nope"}', "[1, 2]", "x" * 5000])
async def test_bad_frames_get_an_error_frame_and_the_socket_survives(frame):
    communicator, _ = await connect()
    await communicator.send_to(text_data=frame)
    reply = await communicator.receive_json_from()
    assert reply["type"] == "error" and reply["reason"]
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from() == {"type": "pong"}
    await communicator.disconnect()
