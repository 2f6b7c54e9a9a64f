"""Load, with nothing lost: a sustained mixed write load with websocket viewers, then a
burst, and checks that every acknowledged write is in the database and every count agrees.

The shape (``--shape``):

- ``prod-local`` (the default when it can start here): ``scripts/prod_local.py``'s
  production shape, started for this run in a directory of its own: its own PostgreSQL
  and Redis, nginx in front of two uvicorn processes, a Celery worker and beat. Requests
  and sockets go through nginx, as a citizen's do.
- ``own``: two uvicorn processes (the Makefile's options), a Celery worker and beat started
  here, on the machine's PostgreSQL (a database of the bench's own, ``--database``, created
  and dropped) and Redis (``--redis-url``, database 11, flushed); requests and sockets are
  spread over the two processes by the client (no proxy).

Agora runs with production settings and every check on: the write limit stays at its
default (no citizen comes near it: each writes a few times a minute), permission,
eligibility, constraints, live counters after commit.

Load (three kinds of processes besides the servers, so that none waits for another):

- the write traffic (bench/load_traffic.py): open loop, ``--rate`` writes a second for
  ``--seconds`` (500/s for 300 s), then ``--burst-rate`` for ``--burst-seconds`` (1,500/s
  for 30 s); each write is a vote, a grade, a top-5 ballot or a comment (``--mix``) of a
  random verified citizen (``--citizens``) with a personal token, on a consultation of 30
  items. Every request must be answered within ``--timeout`` seconds of being due: 2xx, or
  429/503 with ``Retry-After``; a 5xx other than that, a 503 without ``Retry-After``, or no
  answer are failures.
- ``--viewers`` websocket viewers (2,000) of the consultation's public stream
  (bench/load_viewers.py), connected before the traffic starts, recording every frame.

Printed per phase: the rate asked and achieved, p50/p99 latency (from the moment each
request was due), answers by status, the generator's own lag, and the machine's load
average. Then the checks, each PASS or FAIL:

- every acknowledged write is in the database (lost = 0), a refused one is not;
- nothing is in the database that no client sent (phantoms = 0), no comment twice;
- one current row per person and item (votes, grades), per person (ballots), per rank and
  item of a ballot;
- the live counters, a recount from the database and the tally the viewers hold agree
  within 10 s of the end, and every viewer has every frame (no gap left unrepaired, none
  dropped).

    .venv/bin/python bench/load.py                 # the issue's run (about 7 minutes)
    .venv/bin/python bench/load.py --quick         # 100/s for 20 s, 300/s for 5 s, 200 viewers

Results: stdout and JSON (``--json``, default under /tmp/agora-bench/); the client-side
log of every write and the servers' logs stay in the run's directory (printed).
See docs/performance.md, "Load, with nothing lost".
"""

import argparse
import contextlib
import json
import math
import multiprocessing
import os
import re
import secrets
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

from load_traffic import generator_main
from load_viewers import viewers_main
from servers import HOST, ServerProcess, free_port, uvicorn_command

ROOT = Path(__file__).resolve().parent.parent
ITEMS = 30
RANKING_SIZE = 5
GRADE_SCALE = 7
VIEWERS_PER_PROCESS = 1000
AGREE_WITHIN = 10.0  # seconds after the end for counters, recount and frames to agree
TAG = re.compile(r"\[load (\w+)#(\d+)\]")
REPAIRED = re.compile(r"live counters of \S+ repaired")  # consultation.live.events
TARGET_P99_MS = 250.0
DEFAULT_MIX = "vote=55,grade=25,ballot=15,comment=5"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--rate", type=float, default=500.0, help="sustained writes/s")
    parser.add_argument("--seconds", type=float, default=300.0, help="sustained phase length")
    parser.add_argument("--burst-rate", type=float, default=1500.0)
    parser.add_argument("--burst-seconds", type=float, default=30.0)
    parser.add_argument("--viewers", type=int, default=2000)
    parser.add_argument("--citizens", type=int, default=10000)
    parser.add_argument("--mix", default=DEFAULT_MIX, help="weights per kind of write")
    parser.add_argument("--timeout", type=float, default=10.0, help="answer within, seconds")
    parser.add_argument(
        "--retries",
        type=int,
        default=0,
        help="send a write again (same Idempotency-Key) after a 429/503 or no answer",
    )
    parser.add_argument("--max-connections", type=int, default=2000, help="HTTP, client side")
    parser.add_argument("--shape", choices=("auto", "prod-local", "own"), default="auto")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an Agora setting for every process of the shape (repeatable)",
    )
    parser.add_argument(
        "--postgres-url",
        default="postgres://postgres@127.0.0.1:5432/postgres",
        help="own shape: the server's maintenance database; the bench creates its own beside",
    )
    parser.add_argument("--database", default="agora_bench_load", help="own shape")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11", help="own shape")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--json", type=Path, help="where to write the results as JSON")
    args = parser.parse_args(argv)
    if args.quick:  # smaller defaults; what is given explicitly stays
        quick = {"rate": 100.0, "seconds": 20.0, "burst_rate": 300.0, "burst_seconds": 5.0}
        quick |= {"viewers": 200, "citizens": 2000}
        for name, value in quick.items():
            if getattr(args, name) == parser.get_default(name):
                setattr(args, name, value)
    args.mix = {
        kind: float(weight)
        for kind, weight in (part.split("=") for part in args.mix.split(",") if part)
    }
    args.env = dict(pair.split("=", 1) for pair in args.env)
    unknown = set(args.mix) - {"vote", "grade", "ballot", "comment"}
    if unknown:
        parser.error(f"--mix: unknown kinds {sorted(unknown)}")
    return args


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def cpu_seconds(pid: int) -> float:
    with contextlib.suppress(OSError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def percentile(values: list[float], p: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


# ------------------------------------------------------------------- the shapes


class OwnShape:
    """Two uvicorn processes, a Celery worker and beat, on the machine's PostgreSQL
    (a database of the bench's own) and Redis (a database of the bench's own)."""

    name = "own"

    def __init__(self, args: argparse.Namespace, workdir: Path):
        self.args = args
        self.workdir = workdir
        base = args.postgres_url.rsplit("/", 1)[0]
        self.database_url = f"{base}/{args.database}"
        self.redis_url = args.redis_url
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "false",
            "HTTPS": "false",
            "SECRET_KEY": "bench-only-" + secrets.token_urlsafe(32),
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "STATIC_ROOT": str(workdir / "static"),
            "EMAIL_URL": f"file://{workdir / 'mail'}",
            "CELERY_EMBEDDED_WORKER": "false",
            "LOG_LEVEL": "WARNING",
            **args.env,
        }
        for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
            self.env.pop(name, None)
        self.ports = [free_port(), free_port()]
        self.processes: list[ServerProcess] = []

    def agora_env(self) -> dict:
        return self.env

    def prepare(self) -> None:
        import psycopg
        import redis

        redis.Redis.from_url(self.redis_url).flushdb()
        with psycopg.connect(self.args.postgres_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.args.database}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{self.args.database}"')

    def start(self) -> None:
        python = sys.executable
        for n, port in enumerate(self.ports, start=1):
            command = uvicorn_command("config.asgi:application", port, "websockets-sansio")
            command.append("--no-proxy-headers")
            self.processes.append(
                ServerProcess(
                    f"web{n}", command, self.env, self.workdir / f"web{n}.log", "startup complete"
                )
            )
        celery = [python, "-m", "celery", "-A", "config"]
        self.processes.append(
            ServerProcess(
                "worker",
                [*celery, "worker", "--loglevel=INFO", "--concurrency=1", "--hostname=load@%h"],
                self.env,
                self.workdir / "worker.log",
                " ready.",
            )
        )
        self.processes.append(
            ServerProcess(
                "beat",
                [*celery, "beat", "--loglevel=INFO", f"--schedule={self.workdir / 'beat'}"],
                self.env,
                self.workdir / "beat.log",
                "beat: Starting",
            )
        )
        for process in self.processes:
            process.start()

    def http_targets(self) -> list[tuple[str, int]]:
        return [(HOST, port) for port in self.ports]

    def ws_urls(self, slug: str) -> list[tuple[str, str]]:
        return [
            (f"ws://{HOST}:{port}/ws/consultations/{slug}/", f"http://{HOST}:{port}")
            for port in self.ports
        ]

    def pids(self) -> dict[str, int]:
        return {p.name: p.process.pid for p in self.processes if p.process is not None}

    def logs(self) -> dict[str, Path]:
        return {p.name: p.log_path for p in self.processes}

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()

    def cleanup(self) -> None:
        if self.args.keep:
            return
        import psycopg

        with (
            contextlib.suppress(Exception),
            psycopg.connect(self.args.postgres_url, autocommit=True) as connection,
        ):
            connection.execute(f'DROP DATABASE IF EXISTS "{self.args.database}" WITH (FORCE)')


class ProdLocalShape:
    """scripts/prod_local.py's shape, started for this run in its own directory."""

    name = "prod-local"

    def __init__(self, args: argparse.Namespace, workdir: Path):
        sys.path.insert(0, str(ROOT))
        from scripts.prod_local import Shape

        self.args = args
        self.shape = Shape(home=workdir / "prod-local", logs=workdir / "logs", env=args.env)

    @staticmethod
    def unavailable() -> str | None:
        sys.path.insert(0, str(ROOT))
        try:
            from scripts.prod_local import Shape
        except ImportError as error:
            return f"scripts/prod_local.py cannot be imported ({error})"
        return Shape.unavailable()

    def agora_env(self) -> dict:
        return {**self.shape.agora_env(), "DJANGO_SETTINGS_MODULE": "config.settings"}

    def prepare(self) -> None:
        pass

    def start(self) -> None:
        self.shape.start()

    def http_targets(self) -> list[tuple[str, int]]:
        port = int(self.shape.url.rsplit(":", 1)[1])
        return [(HOST, port)]

    def ws_urls(self, slug: str) -> list[tuple[str, str]]:
        ws = self.shape.url.replace("http://", "ws://")
        return [(f"{ws}/ws/consultations/{slug}/", self.shape.url)]

    def pids(self) -> dict[str, int]:
        services = self.shape.state.get("services", {})
        return {name: s["pid"] for name, s in services.items() if s.get("pid")}

    def logs(self) -> dict[str, Path]:
        return {name: self.shape.log(name) for name in self.pids()}

    def stop(self) -> None:
        self.shape.stop()

    def cleanup(self) -> None:
        if not self.args.keep:
            shutil.rmtree(self.shape.home, ignore_errors=True)


def choose_shape(args: argparse.Namespace, workdir: Path):
    if args.shape == "own":
        return OwnShape(args, workdir)
    reason = ProdLocalShape.unavailable()
    if reason is None:
        return ProdLocalShape(args, workdir)
    if args.shape == "prod-local":
        sys.exit(f"the production shape cannot start here: {reason}")
    print(f"prod-local unavailable ({reason}): own shape")
    return OwnShape(args, workdir)


# ------------------------------------------------------------------- Django, in this process


def setup_django(env: dict) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def seed(args: argparse.Namespace, run_id: str, migrate: bool) -> dict:
    """One open consultation of 30 items, K = 5, and ``--citizens`` verified citizens, each
    with a personal token; joined long ago (new accounts' comment limits do not apply)."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import User
    from accounts.tokens import create_token
    from tests.factories import make_consultation

    if migrate:
        call_command("migrate", interactive=False, verbosity=0)
    # Far above anything else's ids: pub/sub channels ignore Redis database numbers.
    consultation_id = 800_000_000 + secrets.randbelow(99_999_999)
    consultation = make_consultation(
        items=ITEMS,
        id=consultation_id,
        slug=f"load-{run_id}",
        ranking_size=RANKING_SIZE,
        grade_scale=GRADE_SCALE,
    )
    items = list(consultation.items.order_by("position").values_list("pk", flat=True))
    password = make_password(None)
    joined = timezone.now() - timezone.timedelta(days=60)
    citizens = []
    with transaction.atomic():
        users = User.objects.bulk_create(
            User(
                email=f"charge{n}-{run_id}@bench.invalid",
                display_name=f"Citoyenne {n}",
                password=password,
                date_joined=joined,
                identity_verified_at=timezone.now(),
            )
            for n in range(args.citizens)
        )
        EmailAddress.objects.bulk_create(
            EmailAddress(user=user, email=user.email, verified=True, primary=True) for user in users
        )
        for user in users:
            _token, secret = create_token(user, "load bench")
            citizens.append([user.pk, secret])
    return {
        "consultation": consultation_id,
        "slug": consultation.slug,
        "items": items,
        "ranking_size": RANKING_SIZE,
        "grade_scale": GRADE_SCALE,
        "citizens": citizens,
    }


def build_counters(consultation_id: int) -> None:
    """Build the live counters before the first write, as a first page view does: a
    rebuild racing with writes loses their increments (see docs/performance.md, "Load,
    with nothing lost"), which is not what this run measures."""
    from consultation.live.counters import current_counts
    from consultation.models import Consultation

    current_counts(Consultation.objects.get(pk=consultation_id))


# ------------------------------------------------------------------- client processes


class ViewerProcesses:
    def __init__(self, urls: list[tuple[str, str]], total: int, timeout: float = 120.0):
        context = multiprocessing.get_context("spawn")
        self.pipes = []
        self.processes = []
        count = max(1, math.ceil(total / VIEWERS_PER_PROCESS))
        for n in range(count):
            share = total // count + (1 if n < total % count else 0)
            url, origin = urls[n % len(urls)]
            parent, child = context.Pipe()
            process = context.Process(
                target=viewers_main,
                args=(child, url, origin, share, 100, timeout),
                daemon=True,
            )
            process.start()
            child.close()
            self.pipes.append(parent)
            self.processes.append(process)
        for pipe in self.pipes:
            expect(pipe, "ready", 60)

    def connect(self, timeout: float) -> tuple[int, dict]:
        for pipe in self.pipes:
            pipe.send(("connect",))
        opened, failures = 0, Counter()
        for pipe in self.pipes:
            _kind, n, failed = expect(pipe, "connected", timeout)
            opened += n
            failures.update(failed)
        return opened, dict(failures)

    def report(self) -> list[dict]:
        for pipe in self.pipes:
            pipe.send(("report",))
        return [expect(pipe, "report", 60)[1] for pipe in self.pipes]

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(p.pid) for p in self.processes)

    def stop(self) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(OSError):
                pipe.send(("stop",))
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()


class TrafficProcess:
    def __init__(self):
        context = multiprocessing.get_context("spawn")
        self.pipe, child = context.Pipe()
        self.process = context.Process(target=generator_main, args=(child,), daemon=True)
        self.process.start()
        child.close()
        expect(self.pipe, "ready", 60)

    def run(self, plan: dict, on_phase) -> dict:
        if not self.process.is_alive():
            raise RuntimeError(f"the write traffic process ended (exit {self.process.exitcode})")
        # The plan (thousands of tokens) goes by file: a message larger than the pipe's
        # buffer would be read in pieces by the generator's event loop.
        plan_file = Path(plan["log"]).with_name("plan.json")
        plan_file.write_text(json.dumps(plan))
        self.pipe.send(("run", str(plan_file)))
        limit = sum(s for _n, _r, s in plan["phases"]) + len(plan["phases"]) * (
            plan["timeout"] * (plan["retries"] + 1) + 60
        )
        deadline = time.monotonic() + limit
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self.pipe.poll(remaining):
                raise TimeoutError("the write traffic did not finish in time")
            try:
                message = self.pipe.recv()
            except (EOFError, OSError) as error:
                self.process.join(timeout=5)
                raise RuntimeError(
                    f"the write traffic process ended (exit code {self.process.exitcode})"
                ) from error
            if message[0] == "phase":
                on_phase(message[1])
            elif message[0] == "done":
                return json.loads(Path(message[1]).read_text())

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.pipe.send(("stop",))
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()


def expect(pipe, kind: str, timeout: float) -> tuple:
    if not pipe.poll(timeout):
        raise TimeoutError(f"no {kind!r} from a client process in {timeout:.0f} s")
    message = pipe.recv()
    if message[0] != kind:
        raise RuntimeError(f"a client process answered {message[0]!r}, not {kind!r}")
    return message


# ------------------------------------------------------------------- the checks


class Checks:
    def __init__(self):
        self.results: list[dict] = []

    def add(self, name: str, passed: bool, detail: str = "") -> None:
        self.results.append({"check": name, "passed": passed, "detail": detail})
        print(f"  {'PASS' if passed else 'FAIL'}  {name}{'  — ' + detail if detail else ''}")

    @property
    def passed(self) -> bool:
        return all(r["passed"] for r in self.results)


def read_log(path: Path) -> list[dict]:
    with path.open() as log:
        return [json.loads(line) for line in log if line.strip()]


def database_rows(consultation_id: int) -> dict:
    """What the database holds for the consultation, keyed like the client's log."""
    from consultation.models import BallotEntry, Comment, Grade, Vote

    rows: dict = {"vote": {}, "grade": {}, "ballot": defaultdict(list), "comment": []}
    for user, item, choice in Vote.objects.filter(
        item__consultation_id=consultation_id
    ).values_list("user_id", "item_id", "choice"):
        rows["vote"][user, item] = choice
    for user, item, grade in Grade.objects.filter(
        item__consultation_id=consultation_id
    ).values_list("user_id", "item_id", "grade"):
        rows["grade"][user, item] = grade
    entries = (
        BallotEntry.objects.filter(ballot__consultation_id=consultation_id)
        .order_by("ballot_id", "rank")
        .values_list("ballot__user_id", "item_id")
    )
    for user, item in entries:
        rows["ballot"][user].append(item)
    rows["comment"] = list(
        Comment.objects.filter(item__consultation_id=consultation_id).values_list(
            "author_id", "item_id", "body"
        )
    )
    return rows


def check_writes(checks: Checks, log: list[dict], seeded: dict, run_id: str) -> dict:
    """Compare the client-side log with the database, write by write."""
    rows = database_rows(seeded["consultation"])
    found = {
        "vote": rows["vote"],
        "grade": rows["grade"],
        "ballot": {(user, seeded["slug"]): items for user, items in rows["ballot"].items()},
    }
    by_key: dict = defaultdict(list)
    comments: dict[int, dict] = {}
    for write in log:
        if write["kind"] == "comment":
            comments[write["i"]] = write
        else:
            by_key[write["kind"], write["user"], write["target"]].append(write)
    tally = Counter()
    examples: dict[str, list] = defaultdict(list)

    def note(what: str, example) -> None:
        tally[what] += 1
        if len(examples[what]) < 5:
            examples[what].append(example)

    sent_keys = set()
    for (kind, user, target), writes in by_key.items():
        sent_keys.add((kind, user, target))
        writes.sort(key=lambda w: w["i"])  # a citizen's writes were sent one after another
        in_db = found[kind].get((user, target))
        acked = [w for w in writes if w["outcome"] == "ack"]
        last = writes[-1]
        allowed = {json.dumps(acked[-1]["value"]) if acked else json.dumps(None)}
        unknown = [w for w in writes if w["outcome"] == "unknown"]
        allowed.update(json.dumps(w["value"]) for w in unknown)
        shown = json.dumps(in_db)
        sent_values = {json.dumps(w["value"]) for w in writes}
        if last["outcome"] == "ack" and shown != json.dumps(last["value"]):
            note("lost", {"kind": kind, "user": user, "target": target, "db": in_db, "acked": last})
        elif shown not in allowed:
            if shown in sent_values:
                note("refused_but_applied", {"kind": kind, "user": user, "db": in_db})
            else:
                note("phantom", {"kind": kind, "user": user, "target": target, "db": in_db})
        if unknown and shown == json.dumps(unknown[-1]["value"]):
            tally["unknown_applied"] += 1
        tally[f"acked_{kind}"] += len(acked)
    for kind in ("vote", "grade", "ballot"):
        for (user, target), value in found[kind].items():
            if (kind, user, target) not in sent_keys:
                note("phantom", {"kind": kind, "user": user, "target": target, "db": value})
    seen_tags: Counter[int] = Counter()
    for author, item, body in rows["comment"]:
        match = TAG.search(body)
        if match is None or match.group(1) != run_id:
            note("phantom", {"kind": "comment", "user": author, "body": body[:80]})
            continue
        i = int(match.group(2))
        write = comments.get(i)
        if write is None or write["user"] != author or write["target"] != item:
            note("phantom", {"kind": "comment", "user": author, "tag": i})
            continue
        seen_tags[i] += 1
    for i, write in comments.items():
        count = seen_tags.get(i, 0)
        if count > 1:
            note("duplicated", {"kind": "comment", "tag": i, "times": count})
        if write["outcome"] == "ack":
            tally["acked_comment"] += 1
            if count == 0:
                note("lost", {"kind": "comment", "tag": i, "acked": write})
        elif write["outcome"] == "refused" and count:
            note("refused_but_applied", {"kind": "comment", "tag": i})
        elif write["outcome"] == "unknown" and count:
            tally["unknown_applied"] += 1
    acked = sum(tally[f"acked_{k}"] for k in ("vote", "grade", "ballot", "comment"))
    unknown = sum(1 for w in log if w["outcome"] == "unknown")
    checks.add(
        "every acknowledged write is in the database",
        tally["lost"] == 0,
        f"{acked} acknowledged, lost {tally['lost']} {examples['lost'][:2] or ''}".rstrip(),
    )
    checks.add(
        "no refused write is in the database",
        tally["refused_but_applied"] == 0,
        f"{tally['refused_but_applied']} {examples['refused_but_applied'][:2] or ''}".rstrip(),
    )
    checks.add(
        "nothing in the database that no client sent, no comment twice",
        tally["phantom"] == 0 and tally["duplicated"] == 0,
        f"phantoms {tally['phantom']}, duplicated {tally['duplicated']}"
        f" {(examples['phantom'] + examples['duplicated'])[:2] or ''}".rstrip(),
    )
    return {
        "acknowledged": acked,
        "unknown_outcome": unknown,
        "unknown_applied": tally["unknown_applied"],
        "lost": tally["lost"],
        "refused_but_applied": tally["refused_but_applied"],
        "phantoms": tally["phantom"],
        "duplicated": tally["duplicated"],
        "examples": {k: v for k, v in examples.items() if v},
    }


def check_one_row(checks: Checks, consultation_id: int) -> None:
    from django.db.models import Count

    from consultation.models import Ballot, BallotEntry, Grade, Vote

    doubles = {
        "votes": Vote.objects.filter(item__consultation_id=consultation_id)
        .values("user_id", "item_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count(),
        "grades": Grade.objects.filter(item__consultation_id=consultation_id)
        .values("user_id", "item_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count(),
        "ballots": Ballot.objects.filter(consultation_id=consultation_id)
        .values("user_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count(),
        "ballot ranks": BallotEntry.objects.filter(ballot__consultation_id=consultation_id)
        .values("ballot_id", "rank")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count(),
        "ballot items": BallotEntry.objects.filter(ballot__consultation_id=consultation_id)
        .values("ballot_id", "item_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count(),
    }
    short = (
        Ballot.objects.filter(consultation_id=consultation_id)
        .annotate(n=Count("entries"))
        .exclude(n=RANKING_SIZE)
        .count()
    )
    checks.add(
        "one current row per person and item (votes, grades), per person (ballots)",
        not any(doubles.values()) and short == 0,
        ", ".join(f"{k} {v}" for k, v in doubles.items()) + f", ballots not of {RANKING_SIZE}:"
        f" {short}",
    )


def frame_fields(tally: dict) -> dict[str, int]:
    """A viewer's tally as counter fields (consultation.live.stores' names), for what it
    shows: breakdowns are null below the small-group threshold, the totals always there."""
    from consultation.live.stores import comments_field, grade_field, rank_field, vote_field

    fields = {"participants": tally["participation"]["participants"]}
    for name in ("votes", "grades", "ballots", "comments"):
        fields[name] = tally["participation"][name]
    for item, shown in tally["items"].items():
        item_id = int(item)
        fields[comments_field(item_id)] = shown["comments"]
        for choice, n in (shown.get("votes") or {}).items():
            fields[vote_field(item_id, choice)] = n
        for grade, n in enumerate(shown.get("grades") or []):
            fields[grade_field(item_id, grade)] = n
        for rank, n in enumerate(shown.get("ranks") or [], start=1):
            fields[rank_field(item_id, rank)] = n
        if shown.get("responses"):
            fields[f"responses:{item_id}:votes"] = shown["responses"]["votes"]
            fields[f"responses:{item_id}:grades"] = shown["responses"]["grades"]
    return fields


def truth_fields(counts: dict[str, int], participants: int, items: list[int]) -> dict[str, int]:
    from consultation.live.stores import BUILT, GRADE, VOTE

    fields = {k: v for k, v in counts.items() if k != BUILT}
    fields["participants"] = participants
    for item in items:
        fields[f"responses:{item}:votes"] = sum(
            v for k, v in counts.items() if k.startswith(f"{VOTE}:{item}:")
        )
        fields[f"responses:{item}:grades"] = sum(
            v for k, v in counts.items() if k.startswith(f"{GRADE}:{item}:")
        )
    return fields


def differences(expected: dict[str, int], found: dict[str, int], only_shown=False) -> dict:
    keys = found.keys() if only_shown else expected.keys() | found.keys()
    return {
        k: (found.get(k, 0), expected.get(k, 0))
        for k in sorted(keys)
        if found.get(k, 0) != expected.get(k, 0)
    }


def check_counts(checks: Checks, seeded: dict, viewers: ViewerProcesses, ended: float) -> dict:
    """Live counters, a recount and the viewers' tally agree within AGREE_WITHIN seconds of
    ``ended`` (the last answer); every viewer holds the stream's last frame."""
    from consultation.live.counters import recount
    from consultation.live.events import topic
    from consultation.live.stores import store
    from consultation.models import Consultation
    from realtime.broadcast import current_seq

    consultation = Consultation.objects.get(pk=seeded["consultation"])
    deadline = ended + AGREE_WITHIN
    while True:
        counts, people = recount(consultation)
        truth = truth_fields(counts, len(people), seeded["items"])
        live_found = store().read(consultation.pk)
        live = truth_fields(*live_found, seeded["items"]) if live_found else {}
        reports = viewers.report()
        seq = current_seq(topic(consultation.pk))
        newest = max(reports, key=lambda r: r["newest_seq"] or -1)
        shown = frame_fields(newest["newest"]) if newest["newest"] else {}
        behind = sum(n for r in reports for last, n in r["last_seqs"].items() if int(last) != seq)
        live_diff = differences(truth, live)
        frame_diff = differences(truth, shown, only_shown=True)
        agreed = not live_diff and not frame_diff and not behind and shown
        if agreed or time.time() > deadline:
            break
        time.sleep(0.5)
    after = time.time() - ended
    counters = Counter()
    for r in reports:
        counters.update(r["counters"])
    checks.add(
        "live counters = recount from the database",
        not live_diff,
        f"{len(live_diff)} fields differ {dict(list(live_diff.items())[:4]) or ''}".rstrip(),
    )
    checks.add(
        "the viewers' tally = recount",
        bool(shown) and not frame_diff,
        f"{len(frame_diff)} fields differ {dict(list(frame_diff.items())[:4]) or ''}".rstrip(),
    )
    checks.add(
        f"every viewer holds the stream's last frame (seq {seq}), {AGREE_WITHIN:g} s at most"
        " after the end",
        behind == 0 and counters["dropped"] == 0,
        f"{behind} behind, {counters['dropped']} dropped, {counters['gaps']} gaps repaired"
        f" by resync; checked {after:.1f} s after the end",
    )
    return {
        "seconds_after_end": round(after, 2),
        "live_differs": len(live_diff),
        "frames_differ": len(frame_diff),
        "viewers_behind": behind,
        "last_seq": seq,
        "viewer_counters": dict(counters),
        "truth": {k: truth[k] for k in ("participants", "votes", "grades", "ballots", "comments")},
    }


def repaired_in_logs(logs: dict[str, Path]) -> int:
    """Times the periodic reconciliation found the live counters wrong and repaired them."""
    total = 0
    for path in logs.values():
        with contextlib.suppress(OSError):
            total += len(REPAIRED.findall(path.read_text(errors="replace")))
    return total


def tracebacks_in_logs(logs: dict[str, Path]) -> dict[str, int]:
    found = {}
    for name, path in logs.items():
        with contextlib.suppress(OSError):
            n = path.read_text(errors="replace").count("Traceback (most recent call last)")
            if n:
                found[name] = n
    return found


# ------------------------------------------------------------------- printing


def phase_line(summary: dict) -> dict:
    statuses = summary["statuses"]
    answered = sum(n for s, n in statuses.items() if s.isdigit())
    shed = statuses.get("429", 0) + statuses.get("503", 0)
    failures = (
        sum(n for s, n in statuses.items() if not s.isdigit() or (s[0] == "5" and s != "503"))
        + summary["retry_after_missing"]
    )
    latencies = summary.get("latencies", [])
    line = {
        "phase": summary["name"],
        "asked_per_s": summary["rate"],
        "sent_per_s": round(summary["sent"] / summary["seconds"], 1),
        "ok_per_s": round(summary["ok"] / summary["seconds"], 1),
        "answered": answered,
        "shed": shed,
        "failures": failures,
        "p50_ms": round(1000 * percentile(latencies, 0.5), 1),
        "p99_ms": round(1000 * percentile(latencies, 0.99), 1),
        "max_ms": round(1000 * max(latencies, default=math.nan), 1),
        "send_lag_p99_ms": round(1000 * percentile(summary["send_lags"], 0.99), 1),
        "statuses": statuses,
        "skipped": summary["skipped"],
        "retries": summary["retries"],
        "retry_after_missing": summary["retry_after_missing"],
        "peak_in_flight": summary["peak_in_flight"],
        "peak_connections": summary["peak_connections"],
        "drained_after_s": round(summary["drained_after_s"], 1),
    }
    return line


def print_phase(line: dict, load: list[float]) -> None:
    print(
        f"  {line['phase']:9} asked {line['asked_per_s']:6.0f}/s  sent {line['sent_per_s']:6.0f}/s"
        f"  ok {line['ok_per_s']:6.0f}/s  p50 {line['p50_ms']:7.1f} ms  p99 {line['p99_ms']:7.1f}"
        f" ms  max {line['max_ms']:7.1f} ms  failures {line['failures']}  shed {line['shed']}"
    )
    print(
        f"            answers {line['statuses']}  generator lag p99 {line['send_lag_p99_ms']} ms"
        f"  in flight ≤ {line['peak_in_flight']}  connections ≤ {line['peak_connections']}"
        f"  skipped {line['skipped']}  load average {load}"
    )


# ------------------------------------------------------------------- main


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks
    workdir = Path(tempfile.mkdtemp(prefix="agora-bench-load-"))
    workdir.chmod(0o755)  # prod-local's PostgreSQL runs as its own account, inside it
    run_id = secrets.token_hex(4)
    started = time.monotonic()
    document: dict = {
        "machine": {"cpus": os.cpu_count(), "load_average_at_start": loadavg()},
        "args": {k: str(v) for k, v in vars(args).items() if k != "json"},
    }
    print(f"load average at start {loadavg()}; run {run_id}; files in {workdir}")
    shape = choose_shape(args, workdir)
    viewers = traffic = None
    checks = Checks()
    try:
        shape.prepare()
        shape.start()
        setup_django(shape.agora_env())
        seeded = seed(args, run_id, migrate=isinstance(shape, OwnShape))
        print(
            f"shape {shape.name}; seeded {len(seeded['citizens'])} citizens, {ITEMS} items"
            f" in {time.monotonic() - started:.0f} s"
        )
        build_counters(seeded["consultation"])
        viewers = ViewerProcesses(shape.ws_urls(seeded["slug"]), args.viewers)
        connect_started = time.monotonic()
        opened, failed = viewers.connect(timeout=180)
        print(
            f"viewers: {opened} of {args.viewers} connected in"
            f" {time.monotonic() - connect_started:.1f} s {failed or ''}"
        )
        document["viewers"] = {"asked": args.viewers, "connected": opened, "failures": failed}
        traffic = TrafficProcess()
        log_path = workdir / "writes.jsonl"
        plan = {
            "targets": shape.http_targets(),
            "citizens": seeded["citizens"],
            "items": seeded["items"],
            "slug": seeded["slug"],
            "ranking_size": RANKING_SIZE,
            "grade_scale": GRADE_SCALE,
            "run_id": run_id,
            "mix": args.mix,
            "phases": [
                ("sustained", args.rate, args.seconds),
                ("burst", args.burst_rate, args.burst_seconds),
            ],
            "max_connections": args.max_connections,
            "timeout": args.timeout,
            "retries": args.retries,
            "seed": int(run_id, 16),
            "log": str(log_path),
        }
        servers_cpu = {name: cpu_seconds(pid) for name, pid in shape.pids().items()}
        viewers_cpu = viewers.cpu_seconds()
        loads = []
        print(f"\nwrites, mix {args.mix}, open loop; latency from the moment each was due")
        result = traffic.run(plan, lambda summary: loads.append(loadavg()))
        ended = time.time()
        phases = [phase_line(summary) for summary in result["phases"]]
        for line, load in zip(phases, loads, strict=True):
            line["load_average"] = load
            print_phase(line, load)
        servers_cpu = {
            name: round(cpu_seconds(pid) - servers_cpu.get(name, 0.0), 1)
            for name, pid in shape.pids().items()
        }
        busy = sum(p["seconds"] for p in result["phases"])
        print(
            f"  CPU seconds over the run: generator {result['cpu_s']:.0f}, viewers"
            f" {viewers.cpu_seconds() - viewers_cpu:.0f}, servers {servers_cpu}"
            f" (on {os.cpu_count()} cores, {busy:.0f} s of load)"
        )
        document["phases"] = phases
        document["cpu_seconds"] = {
            "generator": round(result["cpu_s"], 1),
            "viewers": round(viewers.cpu_seconds() - viewers_cpu, 1),
            "servers": servers_cpu,
        }
        print("\nchecks")
        sustained = phases[0]
        checks.add(
            f"sustained phase: {args.rate:g} writes/s asked, sent on time",
            sustained["sent_per_s"] >= 0.98 * args.rate and sustained["skipped"] == 0,
            f"sent {sustained['sent_per_s']}/s, generator lag p99"
            f" {sustained['send_lag_p99_ms']} ms",
        )
        checks.add(
            f"sustained phase: p99 <= {TARGET_P99_MS:g} ms",
            sustained["p99_ms"] <= TARGET_P99_MS,
            f"p99 {sustained['p99_ms']} ms",
        )
        for line in phases:
            checks.add(
                f"{line['phase']}: every request answered (2xx, or 429/503 with Retry-After)",
                line["failures"] == 0,
                f"failures {line['failures']}, shed {line['shed']}, answers {line['statuses']}",
            )
        document["writes"] = check_writes(checks, read_log(log_path), seeded, run_id)
        check_one_row(checks, seeded["consultation"])
        document["counts"] = check_counts(checks, seeded, viewers, ended)
        repaired = repaired_in_logs(shape.logs())
        checks.add(
            "the periodic reconciliation had nothing to repair",
            repaired == 0,
            f"{repaired} repair(s) logged",
        )
        tracebacks = tracebacks_in_logs(shape.logs())
        checks.add("no traceback in the servers' logs", not tracebacks, f"{tracebacks or ''}")
    finally:
        for client in (viewers, traffic):
            if client is not None:
                client.stop()
        shape.stop()
        shape.cleanup()
    document["checks"] = checks.results
    document["machine"]["load_average_at_end"] = loadavg()
    print(
        f"\n{'PASS' if checks.passed else 'FAIL'}: {sum(r['passed'] for r in checks.results)}"
        f" of {len(checks.results)} checks; in {time.monotonic() - started:.0f} s, load average"
        f" at end {loadavg()}; client log and server logs in {workdir}"
    )
    stamp = time.strftime("%Y%m%d-%H%M%S")
    output = args.json or Path(tempfile.gettempdir()) / "agora-bench" / f"load-{stamp}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(document, indent=2, default=str))
    print(f"results: {output}")
    return 0 if checks.passed else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # servers and clients were stopped on the way out
        sys.exit("interrupted")
