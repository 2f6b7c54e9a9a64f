"""The two servers bench/fanout.py compares, and how to publish a frame to each.

``ProjectSide``: Agora's ASGI application under uvicorn, on a throwaway SQLite
database and the given Redis, fed through the project's real publishing function
(``consultation.live.events.publish_tally``) called in this process.

``ReferenceSide``: bench/refs/bare_server.py, fed by a plain Redis PUBLISH of a
pre-serialised tally frame of the same shape.
"""

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
# Log lines that mean a Redis connection pool ran dry or Redis refused a connection.
POOL_ERRORS = re.compile(r"Too many connections|MaxConnectionsError|ConnectionError")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class ServerProcess:
    """A server subprocess whose stdout and stderr go to one log file."""

    def __init__(
        self, name: str, command: list[str], env: dict, log_path: Path, ready: str, cwd=ROOT
    ):
        self.name = name
        self.cwd = cwd
        self.command = command
        self.env = env
        self.log_path = log_path
        self.ready = ready
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> None:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.command, env=self.env, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start:\n{self.log()[-3000:]}")
            if self.ready in self.log():
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f} s:\n{self.log()[-3000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def pool_errors(self) -> int:
        return len(POOL_ERRORS.findall(self.log()))

    def tracebacks(self) -> int:
        return self.log().count("Traceback (most recent call last)")

    def rss_bytes(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        kib = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE).group(1)
        return int(kib) * 1024

    def cpu_seconds(self) -> float:
        stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


class ReferenceSide:
    """bench/refs/bare_server.py, fed by a plain PUBLISH of a pre-serialised frame."""

    name = "reference"

    def __init__(self, workdir: Path, redis_url: str, items: int):
        import redis

        self.workdir = workdir
        self.redis_url = redis_url
        self.channel = f"agora:bench:{self.name}:{secrets.token_hex(4)}"
        self.redis = redis.Redis.from_url(redis_url)
        self.seq = 0
        self.items = items

    def prepare(self) -> None:
        self.redis.ping()

    def server(self, port: int) -> ServerProcess:
        command = [
            sys.executable,
            str(ROOT / "bench" / "refs" / "bare_server.py"),
            "--port",
            str(port),
            "--channel",
            self.channel,
            "--redis-url",
            self.redis_url,
        ]
        log = self.workdir / f"{self.name}-{port}.log"
        return ServerProcess(self.name, command, dict(os.environ), log, ready="READY")

    def url(self, port: int) -> str:
        return f"ws://{HOST}:{port}/"

    def publish(self) -> int:
        self.seq += 1
        self.redis.publish(self.channel, tally_text(self.seq, self.items))
        return self.seq

    def cleanup(self) -> None:
        self.redis.close()


class AsgiFloorSide(ReferenceSide):
    """bench/refs/asgi_floor.py under Agora's uvicorn command: the cost of uvicorn's ASGI."""

    name = "asgi-floor"

    def __init__(self, workdir: Path, redis_url: str, items: int, ws: str):
        super().__init__(workdir, redis_url, items)
        self.ws = ws

    def server(self, port: int) -> ServerProcess:
        command = uvicorn_command("asgi_floor:app", port, self.ws, "--app-dir", "bench/refs")
        env = {**os.environ, "BENCH_CHANNEL": self.channel, "REDIS_URL": self.redis_url}
        log = self.workdir / f"{self.name}-{port}.log"
        return ServerProcess(self.name, command, env, log, ready="Uvicorn running on")


def uvicorn_command(app: str, port: int, ws: str, *extra: str) -> list[str]:
    """Agora's serving command (see `make run`), on the given port and websocket library."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        *extra,
        "--host",
        HOST,
        "--port",
        str(port),
        "--lifespan",
        "on",
        "--no-access-log",
        "--ws",
        ws,
        "--ws-max-size",
        "65536",
    ]


def tally_text(seq: int, items: int) -> str:
    """A tally frame shaped like the project's (docs/realtime.md), serialised once."""
    frame = {
        "seq": seq,
        "type": "tally",
        "stream": "public",
        "participation": {"participants": 0, "votes": 0, "grades": 0, "ballots": 0, "comments": 0},
        "items": {
            str(1000 + i): {
                "comments": 0,
                "votes": {"for": 0, "against": 0, "abstain": 0},
                "grades": [0] * 7,
                "ranks": [0] * 3,
            }
            for i in range(items)
        },
    }
    return json.dumps(frame, separators=(", ", ": "))


class ProjectSide:
    name = "project"

    def __init__(self, workdir: Path, redis_url: str, items: int, ws: str):
        self.workdir = workdir
        self.redis_url = redis_url
        self.items = items
        self.ws = ws
        # Pub/sub channels ignore the Redis database number: a consultation id far above
        # anything the test suite creates keeps its frames out of our sockets.
        self.consultation_id = 900_000_000 + secrets.randbelow(99_999_999)
        self.slug = f"bench-{self.consultation_id}"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            # Production shape: DEBUG off (no query log), plain http on loopback.
            "DEBUG": "false",
            "HTTPS": "false",
            "SECRET_KEY": "bench-only-" + secrets.token_urlsafe(32),
            "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
            "REDIS_URL": redis_url,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
        }

    def prepare(self) -> None:
        """Migrate the throwaway database and create one open consultation, here."""
        os.environ.update(self.env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.management import call_command

        from tests.factories import make_consultation

        call_command("migrate", interactive=False, verbosity=0)
        make_consultation(items=self.items, id=self.consultation_id, slug=self.slug)

    def server(self, port: int) -> ServerProcess:
        command = uvicorn_command("config.asgi:application", port, self.ws)
        log = self.workdir / f"project-{port}.log"
        return ServerProcess(self.name, command, self.env, log, ready="Uvicorn running on")

    def url(self, port: int) -> str:
        return f"ws://{HOST}:{port}/ws/consultations/{self.slug}/"

    def publish(self) -> int:
        from consultation.live.events import publish_tally

        seq = publish_tally(self.consultation_id)
        if seq is None:
            raise RuntimeError("publish_tally returned None (Redis unreachable? see the log)")
        return seq

    def cleanup(self) -> None:
        """Drop the throwaway database and the Redis keys this run created; keep the logs."""
        for path in self.workdir.glob("bench.sqlite3*"):
            path.unlink()
        if "django" not in sys.modules:
            return  # prepare() never ran
        from realtime.redis import redis_client

        client = redis_client()
        patterns = (
            f"agora:rt:seq:*:{self.consultation_id}",
            f"agora:live:{self.consultation_id}:*",
        )
        for pattern in patterns:
            keys = list(client.scan_iter(match=pattern, count=100))
            if keys:
                client.delete(*keys)


# --- interleaved trials (bench/write_path.py, bench/read_path.py) ------------------------


def interleaved_rounds(plan: list, rounds: int, trial, key, label) -> dict:
    """Run ``trial(side, scenario)`` for every pair of ``plan`` once per round, the order
    rotating each round so that background load weighs on every pair alike. Results are
    collected under ``key(side, scenario)``; each trial prints a line named
    ``label(side, scenario)``."""
    collected: dict = {key(side, scenario): [] for side, scenario in plan}
    for round_ in range(rounds):
        shift = round_ % len(plan)
        for side, scenario in plan[shift:] + plan[:shift]:
            result = trial(side, scenario)
            collected[key(side, scenario)].append(result)
            print(
                f"  round {round_ + 1} {label(side, scenario)}"
                f" {result['ok'] / result['seconds']:7.0f}/s  answers {result['statuses']}",
                flush=True,
            )
    return collected


def warn_of_tracebacks(sides: list) -> None:
    for side in sides:
        tracebacks = side.server.tracebacks()
        if tracebacks:
            print(f"warning: {tracebacks} traceback(s) in {side.server.log_path}")
