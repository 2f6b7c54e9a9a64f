"""The product as `make run` serves it: one uvicorn process, HTTP + websockets + jobs."""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
import websockets
from django.conf import settings

# One xdist worker takes the whole module (make test-fast): its server is module-scoped,
# and starting one per worker would cost a migration and a uvicorn start each.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("served_product")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A real server on the embedded default, with its own SQLite file."""
    database = tmp_path_factory.mktemp("served") / "agora.sqlite3"
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL",)},
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{database}",
        "WORKER_HEARTBEAT_SECONDS": "1",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"],
        cwd=settings.BASE_DIR,
        env=env,
        check=True,
        timeout=120,
    )
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--lifespan",
            "on",
            "--no-access-log",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/health/", timeout=2)
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail("server did not start: " + server.stdout.read().decode())
            time.sleep(0.2)
    yield base
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def test_pages_are_served_in_french(served):
    with urllib.request.urlopen(served + "/", timeout=5) as response:
        assert response.status == 200
        assert b'<html lang="fr"' in response.read()


def test_beat_and_worker_run_inside_the_server(served):
    """No broker server: beat fires the heartbeat job and the embedded worker runs it."""
    deadline = time.monotonic() + 20
    first = None
    while time.monotonic() < deadline:
        first = get_json(served + "/health/")["worker_heartbeat"]
        if first:
            break
        time.sleep(0.3)
    assert first, "no heartbeat: the periodic job never ran"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if get_json(served + "/health/")["worker_heartbeat"] != first:
            return  # it fires again: periodic, not a one-off
        time.sleep(0.3)
    pytest.fail("the heartbeat did not fire a second time")


def test_websockets_are_served_with_origin_checks(served):
    async def exchange():
        url = served.replace("http", "ws") + "/ws/ping/"
        async with websockets.connect(url, origin=served, open_timeout=5) as ws:
            await ws.send(json.dumps({"type": "ping"}))
            reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
        with pytest.raises(websockets.exceptions.InvalidStatus):
            async with websockets.connect(url, origin="https://evil.example.com", open_timeout=5):
                pass
        return reply

    assert asyncio.run(exchange()) == {"type": "pong"}
