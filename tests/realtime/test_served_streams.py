"""The live streams as served: real uvicorn processes, a real websocket client, real Redis.

Votes go through the served JSON API (a personal token per voter), so on the
embedded default they reach the server's own hub; with Redis they may land on
one process and be pushed by another. The outage test runs its own redis-server
on a free port and stops it mid-test, so the machine's Redis is never touched.
"""

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
import websockets
from django.conf import settings

from accounts.tokens import create_token
from tests.factories import make_consultation

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


class Server:
    def __init__(self, redis_url: str | None, options=()):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL",)}
        env.update(DEBUG="true", DATABASE_URL=database_url(), WRITE_RATE_LIMIT="10000/m")
        # These tests follow each vote through the frames: every breakdown shows (the
        # small-group rule is tested in test_streams.py and tests/results/).
        env.update(OPEN_DATA_MIN_GROUP="1")
        if redis_url:
            env["REDIS_URL"] = redis_url
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
             "--port", str(self.port), "--lifespan", "on", "--no-access-log", *options],
            cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(self.base + "/health/", timeout=2)
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    pytest.fail("server did not start: " + self.process.stdout.read().decode())
                time.sleep(0.2)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def vote(self, token: str, item_id: int, choice: str) -> int:
        request = urllib.request.Request(
            f"{self.base}/api/v1/items/{item_id}/vote",
            data=json.dumps({"choice": choice}).encode(),
            method="PUT",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status

    def get(self, path: str) -> int:
        with urllib.request.urlopen(self.base + path, timeout=10) as response:
            return response.status


@pytest.fixture
def servers():
    started = []

    def start(redis_url=settings.REDIS_URL or None, options=()):
        server = Server(redis_url, options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def voters(make_user):
    def make(n):
        return [create_token(make_user(), "test")[1] for _ in range(n)]

    return make


class Client:
    """A websocket client in its own thread-free asyncio run, reading frames as they come."""

    def __init__(self, server, slug, origin=None):
        self.url = server.base.replace("http", "ws") + f"/ws/consultations/{slug}/"
        self.origin = origin or server.base

    async def __aenter__(self):
        self.ws = await websockets.connect(self.url, origin=self.origin, open_timeout=10)
        return self

    async def __aexit__(self, *exc):
        await self.ws.close()

    async def frame(self, timeout=10):
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))

    async def until(self, predicate, timeout=10):
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            try:
                frame = await self.frame(timeout=deadline - time.monotonic())
            except TimeoutError:
                break
            seen.append(frame)
            if predicate(frame):
                return frame
        raise AssertionError(f"no matching frame within {timeout}s; saw {seen[-5:]}")


def run(coroutine):
    return asyncio.run(coroutine)


def votes_of(frame, item_id):
    return frame["items"][str(item_id)]["votes"]


def test_a_real_client_gets_a_snapshot_then_the_tally_of_a_vote(servers, voters):
    server = servers()
    consultation = make_consultation()
    item = consultation.items.first()
    [token] = voters(1)

    async def scenario():
        async with Client(server, consultation.slug) as client:
            snapshot = await client.frame()
            assert snapshot["type"] == "snapshot"
            await asyncio.to_thread(server.vote, token, item.pk, "for")
            tally = await client.until(lambda f: f["type"] == "tally")
            assert tally["seq"] == snapshot["seq"] + 1
            assert votes_of(tally, item.pk)["for"] == 1
            await client.ws.send(json.dumps({"type": "resync"}))
            again = await client.until(lambda f: f["type"] == "snapshot")
            assert votes_of(again["consultation"], item.pk)["for"] == 1
            assert again["seq"] >= tally["seq"]

    run(scenario())


def test_a_foreign_origin_is_refused_by_the_served_product(servers):
    server = servers()
    consultation = make_consultation()

    async def scenario():
        with pytest.raises(websockets.exceptions.InvalidStatus) as refusal:
            async with Client(server, consultation.slug, origin="https://evil.example.com"):
                pass
        assert refusal.value.response.status_code == 403

    run(scenario())


def test_hidden_results_do_not_leak_from_the_served_product(servers, voters):
    server = servers()
    consultation = make_consultation(results_visibility="after_close")
    item = consultation.items.first()
    [token] = voters(1)

    async def scenario():
        async with Client(server, consultation.slug) as client:
            await client.frame()
            await asyncio.to_thread(server.vote, token, item.pk, "against")
            tally = await client.until(lambda f: f["type"] == "tally")
            assert "votes" not in tally["items"][str(item.pk)]
            assert tally["participation"]["votes"] == 1

    run(scenario())


@pytest.mark.skipif(not settings.REDIS_URL, reason="two processes share an audience only via Redis")
def test_a_vote_on_one_process_reaches_a_client_of_another(servers, voters):
    first, second = servers(), servers()
    consultation = make_consultation()
    item = consultation.items.first()
    tokens = voters(3)

    async def scenario():
        async with Client(second, consultation.slug) as client:
            await client.frame()
            for token in tokens:
                await asyncio.to_thread(first.vote, token, item.pk, "abstain")
            tally = await client.until(
                lambda f: f["type"] == "tally" and votes_of(f, item.pk)["abstain"] == 3
            )
            assert tally["participation"]["participants"] == 3

    run(scenario())


@pytest.mark.skipif(not settings.REDIS_URL, reason="the outage concerns the Redis deployment")
@pytest.mark.skipif(not shutil.which("redis-server"), reason="needs the redis-server binary")
def test_votes_survive_a_redis_outage_and_clients_resync_within_five_seconds(
    servers, voters, tmp_path
):
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--dir", str(tmp_path)]  # fmt: skip

    def start_redis():
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                return process
            except OSError:
                time.sleep(0.05)
        process.kill()
        pytest.fail("private redis-server did not start")

    redis_process = start_redis()
    try:
        server = servers(f"redis://127.0.0.1:{port}/0")
        consultation = make_consultation()
        item = consultation.items.first()
        tokens = voters(4)

        async def scenario():
            nonlocal redis_process
            async with Client(server, consultation.slug) as client:
                await client.frame()
                await asyncio.to_thread(server.vote, tokens[0], item.pk, "for")
                await client.until(lambda f: f["type"] == "tally")

                redis_process.terminate()
                redis_process.wait(timeout=10)
                # Votes are accepted and stored while Redis is away; pages still work.
                for token in tokens[1:]:
                    assert await asyncio.to_thread(server.vote, token, item.pk, "against") == 200
                assert await asyncio.to_thread(server.get, "/") == 200
                assert await asyncio.to_thread(server.get, consultation.get_absolute_url()) == 200

                redis_process = start_redis()
                back = time.monotonic()
                snapshot = await client.until(lambda f: f["type"] == "snapshot", timeout=5)
                assert time.monotonic() - back <= 5
                assert votes_of(snapshot["consultation"], item.pk) == {
                    "for": 1,
                    "against": 3,
                    "abstain": 0,
                }

        try:
            run(scenario())
        except AssertionError:
            server.stop()
            print(server.process.stdout.read().decode()[-4000:])
            raise
    finally:
        redis_process.terminate()
        redis_process.wait(timeout=10)


class StalledClient:
    """A websocket client that shakes hands, then stops reading (a frozen tab, a dead
    phone link): its socket buffers fill up and the server must stop writing to it."""

    def __init__(self, server, slug):
        from websockets.client import ClientProtocol
        from websockets.uri import parse_uri

        self.protocol = ClientProtocol(
            parse_uri(server.base.replace("http", "ws") + f"/ws/consultations/{slug}/"),
            origin=server.base,
            max_size=None,
        )
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect(("127.0.0.1", server.port))
        self.protocol.send_request(self.protocol.connect())
        self.sock.sendall(b"".join(self.protocol.data_to_send()))

    def read_frames(self, until, timeout=10.0):
        """Read (now) until ``until(frames)`` holds; return the JSON frames seen."""
        frames = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not until(frames):
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                data = self.sock.recv(1 << 16)
            except TimeoutError:
                continue
            if not data:
                break
            self.protocol.receive_data(data)
            frames += [json.loads(event.data) for event in self.protocol.events_received()
                       if getattr(event, "opcode", None) is not None and event.data]  # fmt: skip
            self.sock.sendall(b"".join(self.protocol.data_to_send()))  # pongs
        return frames

    def close(self):
        self.sock.close()


@pytest.mark.skipif(not settings.REDIS_URL, reason="frames from the test reach a server via Redis")
def test_a_client_that_stops_reading_does_not_hold_up_the_others(servers):
    """The hub never waits on one socket's flow control: before it checked, a stalled
    client blocked the fan-out to every other socket of the process until its
    keepalive gave up (about 40 s)."""
    from consultation.live import events
    from realtime import broadcast

    server = servers()
    consultation = make_consultation()
    stalled = StalledClient(server, consultation.slug)
    frames = 1000
    body = "x" * 8000  # 8 MB in all: more than the stalled socket's buffers can take

    async def scenario():
        async with Client(server, consultation.slug) as reader:
            first = (await reader.frame())["seq"]
            assert stalled.read_frames(lambda seen: seen)[0]["type"] == "snapshot"
            started = time.monotonic()
            for n in range(frames):
                frame = {"type": "comment.posted", "stream": "public", "comment": {"id": n}}
                await asyncio.to_thread(
                    broadcast.publish, events.topic(consultation.pk), {**frame, "body": body}
                )
            seqs = []
            while len(seqs) < frames:
                seqs.append((await reader.frame(timeout=10))["seq"])
            assert seqs == list(range(first + 1, first + frames + 1))  # nothing lost
            assert time.monotonic() - started < 10
            return seqs[-1]

    try:
        last = run(scenario())
        # The stalled client then reads again: it was skipped, not fed everything,
        # and it catches up with a fresh snapshot as soon as its buffer drains.
        caught_up = stalled.read_frames(
            lambda seen: any(f["type"] == "snapshot" for f in seen), timeout=15
        )
        snapshot = next(f for f in caught_up if f["type"] == "snapshot")
        assert snapshot["seq"] >= last
        assert len([f for f in caught_up if f["type"] == "comment.posted"]) < frames
    finally:
        stalled.close()


def test_a_client_that_answers_no_heartbeat_is_dropped(servers):
    """Protocol pings keep idle connections honest: a peer that never answers (a phone
    gone out of coverage) is closed with 1011. The product uses
    uvicorn's 20 s + 20 s; the test shortens them to stay quick."""
    server = servers(options=["--ws-ping-interval", "0.5", "--ws-ping-timeout", "0.5"])
    consultation = make_consultation()
    silent = StalledClient(server, consultation.slug)
    try:
        assert silent.read_frames(lambda seen: seen)[0]["type"] == "snapshot"
        # From now on the pings go unanswered (the bytes are read, never handled) until
        # the server gives up and closes the connection, in about a second.
        silent.sock.settimeout(10)
        received = b""
        while chunk := silent.sock.recv(1 << 16):
            received += chunk
        silent.protocol.receive_data(received)
        closes = [e for e in silent.protocol.events_received() if e.opcode.name == "CLOSE"]
        assert closes and closes[-1].data[:2] == (1011).to_bytes(2, "big")  # keepalive timeout
    finally:
        silent.close()
