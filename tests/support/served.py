"""A real uvicorn serving Agora with the options `make run` uses (the Makefile's
UVICORN_OPTIONS), for behaviour that depends on the server: the client's address,
bodies on the wire, websocket handshakes. Import the fixtures where they are used:
``from tests.support.served import serve, served_database  # noqa: F401``."""

import os
import re
import shlex
import socket
import subprocess
import sys
import time

import pytest
from django.conf import settings


def uvicorn_options() -> list[str]:
    makefile = (settings.BASE_DIR / "Makefile").read_text()
    return shlex.split(re.search(r"^UVICORN_OPTIONS := (.*)$", makefile, re.MULTILINE)[1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def served_database(tmp_path_factory):
    """A migrated SQLite file of its own, so the served site never touches the tests'."""
    database = tmp_path_factory.mktemp("served-config") / "agora.sqlite3"
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(DEBUG="true", DATABASE_URL=f"sqlite:///{database}")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"],
        cwd=settings.BASE_DIR,
        env=env,
        check=True,
        timeout=120,
    )
    return database


@pytest.fixture
def serve(served_database):
    """``serve(**environment)`` starts a server like `make run`'s and returns its address;
    ``environment`` is added to (or replaces) its settings."""
    started = []

    def start(**environment):
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        env.update(
            DEBUG="true",
            DATABASE_URL=f"sqlite:///{served_database}",
            CELERY_EMBEDDED_WORKER="false",  # no jobs needed here
        )
        env.update(environment)  # which may say otherwise, DEBUG and DATABASE_URL included
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "config.asgi:application",
             "--host", "127.0.0.1", "--port", str(port), *uvicorn_options()],
            cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        started.append(process)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return f"http://127.0.0.1:{port}"
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    pytest.fail("server did not start: " + process.stdout.read().decode())
                time.sleep(0.1)

    yield start
    for process in started:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
