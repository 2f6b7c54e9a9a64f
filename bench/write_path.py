"""Write-path benchmark: Agora's vote API against a bare ASGI app and a stock Django view.

Production shape on 127.0.0.1: PostgreSQL (a database of its own, ``agora_bench_wp``,
created and migrated here, dropped at the end) and Redis (database 12, flushed at the
start). Each server is started once, under the project's uvicorn command:

- *agora-1*: ``uvicorn config.asgi:application``, production settings (``DEBUG=false``),
  one process; *agora-2*: the same with ``--workers 2``. The write limit stays on, set
  high enough never to refuse (``WRITE_RATE_LIMIT``): it is counted, not lifted.
- *stock*: bench/refs/stock_django/, ``startproject``'s settings and middleware, one sync
  view doing ``update_or_create`` on Agora's ``consultation_vote`` and one Redis INCR.
- *bare*: bench/refs/write_bare.py, a plain ASGI app: ``INSERT … ON CONFLICT DO UPDATE``
  on a small pool of async psycopg connections, then a Redis INCR.
- *ceiling*: bench/refs/http_ceiling.py, a raw asyncio server answering a fixed 200 at
  once: what the load client reaches against it is the most it can send here, and must be
  at least 1.5× what the bare reference answers (else the client, not the servers, sets
  the pace; the client's share of a core is printed with every trial as well).

The references read the voter from an in-memory map of the tokens and check nothing else.
Agora takes the same requests and does everything it does in production: the token, the
write limit, the item, the permission (open, eligible, not suspended), the upsert under
its constraint, the live counters after the commit.

Load: ``--connections`` keep-alive connections (32), closed loop, from one client process
(bench/http_load.py: wrk is not assumed). Random verified citizens (personal token, or a
session with its CSRF token) vote on random items among 30. Scenarios: ``vote`` (``PUT
/api/v1/items/{id}/vote``), ``grade``, ``ballot`` (a top-5 ranking), ``form`` (the page's
form: ``POST …/vote/`` with the session cookie and CSRF token, answered by a redirect).
The references answer ``vote`` only. Trials alternate between servers and scenarios, the
order rotating each round, so background load hits all of them alike.

Printed per server and scenario: requests/s, p50/p99 latency, SQL statements per request
(Agora: counted in-process with ``CaptureQueriesContext`` on the same code and settings;
the references count their own), PostgreSQL and Redis connections opened per request
(``pg_stat_database.sessions`` of the bench database; Redis ``total_connections_received``,
server-wide), peak server threads, server CPU per request, and the ratios the issue asks
for.

    .venv/bin/python bench/write_path.py            # 3 rounds of 8 s per trial
    .venv/bin/python bench/write_path.py --quick    # 1 round of 4 s (about 2 minutes)

Results: a table on stdout and JSON (``--json``, default under /tmp/agora-bench/).
See docs/performance.md, "Write path".
"""

import argparse
import contextlib
import json
import math
import multiprocessing
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from http_load import client_main
from servers import (
    HOST,
    ServerProcess,
    free_port,
    interleaved_rounds,
    uvicorn_command,
    warn_of_tracebacks,
)

ROOT = Path(__file__).resolve().parent.parent
ITEMS = 30
RANKING_SIZE = 5
GRADE_SCALE = 7
SLUG = "bench-write-path"
SCENARIOS = ("vote", "ballot", "grade", "form")
EXPECTED = {"vote": "200", "ballot": "200", "grade": "200", "form": "302"}
TARGET_STOCK_RATIO = 1.0
AIM_STOCK_RATIO = 2.0
TARGET_SCALING = 1.7
TARGET_P99_MS = 100.0
# The load client must send at least this many times what the bare reference answers.
CLIENT_HEADROOM = 1.5
CHILD_TIMEOUT = 600


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 round of 4 s, 600 citizens")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=8.0, help="measured seconds/trial")
    parser.add_argument("--warmup", type=float, default=1.5, help="unmeasured seconds first")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--citizens", type=int, default=2000)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument(
        "--servers", default="ceiling,stock,bare,agora-1,agora-2", help="comma-separated subset"
    )
    parser.add_argument(
        "--postgres-url",
        default="postgres://postgres@127.0.0.1:5432/postgres",
        help="the server's maintenance database: the bench creates its own beside it",
    )
    parser.add_argument("--database", default="agora_bench_wp")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--before",
        type=Path,
        help="a checkout of an earlier commit: its Agora (one process) runs beside, as 'before'",
    )
    parser.add_argument("--json", type=Path, help="where to write the results as JSON")
    parser.add_argument("--child", choices=("seed", "probe"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.duration, args.warmup, args.citizens = 1, 4.0, 1.0, 600
    args.scenarios = args.scenarios.split(",")
    args.servers = args.servers.split(",")
    return args


def database_url(args: argparse.Namespace) -> str:
    base = args.postgres_url.rsplit("/", 1)[0]
    return f"{base}/{args.database}"


# ------------------------------------------------------------------- in the children


def _setup_django(root: Path = ROOT) -> None:
    sys.path.insert(0, str(root))
    import django

    django.setup()


def child_seed(args: argparse.Namespace) -> None:
    """Migrate, then one open consultation of 30 items and ``--citizens`` verified
    citizens, each with a personal token and a signed-in session; written to ``--out``."""
    _setup_django()
    from allauth.account.models import EmailAddress
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    from accounts.models import User
    from accounts.tokens import create_token
    from tests.factories import make_consultation

    call_command("migrate", interactive=False, verbosity=0)
    # Error pages (a refused form re-renders its page) need the hashed static names.
    call_command("collectstatic", interactive=False, verbosity=0)
    consultation = make_consultation(
        items=ITEMS, slug=SLUG, ranking_size=RANKING_SIZE, grade_scale=GRADE_SCALE
    )
    items = list(consultation.items.order_by("position").values_list("pk", flat=True))
    password = make_password(None)
    expires = timezone.now() + timezone.timedelta(days=1)
    citizens = []
    with transaction.atomic():
        users = User.objects.bulk_create(
            User(
                email=f"citoyen{n}@bench.invalid",
                display_name=f"Citoyen {n}",
                password=password,
                identity_verified_at=timezone.now(),
            )
            for n in range(args.citizens)
        )
        EmailAddress.objects.bulk_create(
            EmailAddress(user=user, email=user.email, verified=True, primary=True) for user in users
        )
        sessions = []
        for user in users:
            _token, secret = create_token(user, "bench")
            data = {
                SESSION_KEY: str(user.pk),
                BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                HASH_SESSION_KEY: user.get_session_auth_hash(),
            }
            key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
            sessions.append(
                Session(
                    session_key=key, session_data=SessionStore().encode(data), expire_date=expires
                )
            )
            csrf = get_random_string(32)
            citizens.append({"id": user.pk, "token": secret, "session": key, "csrf": csrf})
        Session.objects.bulk_create(sessions)
    seeded = {
        "slug": SLUG,
        "items": items,
        "ranking_size": RANKING_SIZE,
        "grade_scale": GRADE_SCALE,
        "citizens": citizens,
    }
    args.out.write_text(json.dumps(seeded))


def child_probe(args: argparse.Namespace) -> None:
    """SQL statements per request of each scenario, counted on Agora's own code and
    settings (Django's test client, ``CaptureQueriesContext``), in the steady state of the
    load: the median over 9 citizens of their second request (the first, unmeasured, marks
    the token used, which happens once a minute, and makes their first rows)."""
    _setup_django(args.root)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from http_load import Scenarios

    seeded = json.loads(args.out.read_text())
    scenarios = Scenarios(seeded)
    counts: dict[str, dict] = {}
    client = Client()
    for n, scenario in enumerate(args.scenarios):
        found = []
        for citizen in seeded["citizens"][10 * n : 10 * n + 9]:
            for _second in (False, True):
                method, path, headers, content_type, body = _as_client_request(
                    scenarios.build(scenario, 0, citizen)
                )
                with CaptureQueriesContext(connection) as queries:
                    response = client.generic(
                        method, path, body, content_type=content_type, headers=headers
                    )
                if str(response.status_code) != EXPECTED[scenario]:
                    raise RuntimeError(
                        f"probe {scenario}: {response.status_code} {response.content[:300]!r}"
                    )
            found.append(len(queries.captured_queries))
            if os.environ.get("BENCH_SHOW_SQL"):
                shown = (q["sql"][:150] for q in queries.captured_queries)
                print(scenario, *shown, sep="\n  ")
        counts[scenario] = {"median": statistics.median(found), "all": found}
    args.out.write_text(json.dumps(counts))


def _as_client_request(raw: bytes) -> tuple[str, str, dict, str, bytes]:
    """The load client's request bytes as the test client's arguments."""
    head, body = raw.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    method, path, _version = lines[0].split(" ")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    for name in ("Host", "Content-Length"):
        headers.pop(name)
    content_type = headers.pop("Content-Type")
    return method, path, headers, content_type, body


# ------------------------------------------------------------------- in the parent


class Side:
    """One server under test: its command, its environment, what it answers."""

    def __init__(
        self,
        name,
        app,
        env,
        workdir,
        scenarios,
        processes=1,
        app_dir=None,
        lifespan="on",
        cwd=ROOT,
        command=None,
        ready=None,
    ):
        self.name = name
        self.scenarios = scenarios
        self.processes = processes
        self.port = free_port()
        if command is None:
            extra = ["--app-dir", app_dir] if app_dir else []
            if processes > 1:
                extra += ["--workers", str(processes)]
            command = uvicorn_command(app, self.port, "websockets-sansio", *extra)
            command.append("--no-proxy-headers")
            # Django's own ASGI handler refuses the lifespan protocol: "auto" lets it.
            command[command.index("--lifespan") + 1] = lifespan
            ready = "Application startup complete" if lifespan == "on" else "Uvicorn running on"
        else:
            command = [*command, "--port", str(self.port)]
        self.ready = ready
        self.server = ServerProcess(
            name, command, env, workdir / f"{name}.log", ready=self.ready, cwd=cwd
        )
        self.counts_own_statements = name in ("stock", "bare")

    def start(self) -> None:
        self.server.start()
        deadline = time.monotonic() + 60
        while self.server.log().count(self.ready) < self.processes:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name}: workers not ready:\n{self.server.log()[-2000:]}")
            time.sleep(0.1)

    def own_statements(self) -> int | None:
        """The statements the reference counted (a sum over its processes' answers is not
        possible: the references run one process)."""
        if not self.counts_own_statements:
            return None
        with urllib.request.urlopen(f"http://{HOST}:{self.port}/_stats", timeout=10) as answer:
            return json.loads(answer.read())["statements"]

    def pids(self) -> list[int]:
        root = self.server.process.pid
        found, frontier = [root], [root]
        parents = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        while frontier:
            children = parents.get(frontier.pop(), [])
            found += children
            frontier += children
        return found

    def cpu_seconds(self) -> float:
        total = 0.0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def threads(self) -> int:
        total = 0
        for pid in self.pids():
            with contextlib.suppress(OSError, StopIteration):
                status = Path(f"/proc/{pid}/status").read_text().splitlines()
                total += int(
                    next(line for line in status if line.startswith("Threads:")).split()[1]
                )
        return total


class Counters:
    """Connections opened: PostgreSQL sessions of the bench database, Redis connections
    (server-wide: other clients of the same Redis count too)."""

    def __init__(self, args: argparse.Namespace):
        import psycopg
        import redis

        self.pg = psycopg.connect(args.postgres_url, autocommit=True)
        self.redis = redis.Redis.from_url(args.redis_url)
        self.database = args.database

    def read(self) -> tuple[int, int]:
        # Shared-memory statistics lag by up to a second: wait for them to settle.
        time.sleep(1.2)
        self.pg.execute("SELECT pg_stat_clear_snapshot()")
        sessions = self.pg.execute(
            "SELECT sessions FROM pg_stat_database WHERE datname = %s", (self.database,)
        ).fetchone()[0]
        return int(sessions), int(self.redis.info("stats")["total_connections_received"])

    def close(self) -> None:
        self.pg.close()
        self.redis.close()


class LoadClient:
    def __init__(self, seeded: dict):
        context = multiprocessing.get_context("spawn")
        self.pipe, child_end = context.Pipe()
        self.process = context.Process(target=client_main, args=(child_end, seeded), daemon=True)
        self.process.start()
        child_end.close()
        self.expect("ready", 60)

    def expect(self, kind: str, timeout: float) -> tuple:
        if not self.pipe.poll(timeout):
            raise TimeoutError(f"the load client did not answer {kind!r} in {timeout:.0f} s")
        message = self.pipe.recv()
        if message[0] != kind:
            raise RuntimeError(f"the load client answered {message[0]!r}, not {kind!r}")
        return message

    def run(self, scenario, port, connections, warmup, duration) -> tuple[dict, list, float]:
        self.pipe.send(("run", scenario, port, connections, warmup, duration))
        _done, statuses, latencies, measured = self.expect("done", warmup + duration + 120)
        return statuses, latencies, measured

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.pipe.send(("stop",))
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()


def percentile(values: list[float], p: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


def run_child(kind: str, args: argparse.Namespace, env: dict, out: Path, root=ROOT) -> None:
    """This script as a child in ``root``'s checkout (the probe of --before runs there)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--out", str(out)]
    command += ["--citizens", str(args.citizens), "--scenarios", ",".join(args.scenarios)]
    command += ["--root", str(root)]
    subprocess.run(command, env=env, cwd=root, check=True, timeout=CHILD_TIMEOUT)


def create_database(args: argparse.Namespace) -> None:
    import psycopg

    with psycopg.connect(args.postgres_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{args.database}"')


def drop_database(args: argparse.Namespace) -> None:
    import psycopg

    with psycopg.connect(args.postgres_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')


def agora_env(args: argparse.Namespace, secret_key: str, static_root: Path) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "HTTPS": "false",
        "SECRET_KEY": secret_key,
        "DATABASE_URL": database_url(args),
        "REDIS_URL": args.redis_url,
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        # Counted on every write, as in production, but never refusing here.
        "WRITE_RATE_LIMIT": "1000000/m",
        "LOG_LEVEL": "WARNING",
        "STATIC_ROOT": str(static_root),
    }
    env.pop("CELERY_BROKER_URL", None)
    return env


def sides_for(args, workdir: Path, env: dict, tokens_file: Path) -> list[Side]:
    reference_env = {
        **os.environ,
        "BENCH_DATABASE_URL": database_url(args),
        "REDIS_URL": args.redis_url,
        "BENCH_TOKENS": str(tokens_file),
        "DJANGO_SETTINGS_MODULE": "stock_django.settings",
    }
    agora = [s for s in args.scenarios]
    votes = [s for s in args.scenarios if s == "vote"]
    known = {
        "stock": lambda: Side(
            "stock",
            "stock_django.asgi:application",
            reference_env,
            workdir,
            votes,
            app_dir="bench/refs",
            lifespan="auto",
        ),
        "bare": lambda: Side(
            "bare", "write_bare:app", reference_env, workdir, votes, app_dir="bench/refs"
        ),
        "ceiling": lambda: Side(
            "ceiling",
            None,
            os.environ,
            workdir,
            votes,
            command=[sys.executable, str(ROOT / "bench" / "refs" / "http_ceiling.py")],
            ready="ceiling server listening",
        ),
        "agora-1": lambda: Side("agora-1", "config.asgi:application", env, workdir, agora),
        "agora-2": lambda: Side(
            "agora-2", "config.asgi:application", env, workdir, agora, processes=2
        ),
    }
    sides = [known[name]() for name in args.servers]
    if args.before:
        before = Side("before", "config.asgi:application", env, workdir, agora, cwd=args.before)
        sides.append(before)
    return sides


def trial(side: Side, scenario: str, client: LoadClient, counters: Counters, args) -> dict:
    statements_before = side.own_statements()
    sessions_before, redis_before = counters.read()
    cpu_before = side.cpu_seconds()
    client_cpu_before = client.cpu_seconds()
    wall_before = time.monotonic()
    statuses, latencies, measured = client.run(
        scenario, side.port, args.connections, args.warmup, args.duration
    )
    cpu = side.cpu_seconds() - cpu_before
    client_cpu = client.cpu_seconds() - client_cpu_before
    wall = time.monotonic() - wall_before
    threads = side.threads()
    sessions_after, redis_after = counters.read()
    statements_after = side.own_statements()
    answered = sum(statuses.values())
    result = {
        "statuses": statuses,
        "latencies": latencies,
        "seconds": measured,
        "ok": statuses.get(EXPECTED[scenario], 0),
        "answered": answered,
        # The warm-up's requests are in the counters too: divide by every request sent.
        "requests_all": answered * (args.warmup + measured) / measured,
        "pg_sessions": sessions_after - sessions_before,
        "redis_connections": redis_after - redis_before,
        "threads": threads,
        "cpu_s": cpu,
        # The load client's share of one core: near 100 % means it is what sets the pace.
        "client_cpu_share": client_cpu / wall,
    }
    if statements_before is not None:
        result["statements"] = statements_after - statements_before
    return result


def summarise(trials: list[dict]) -> dict:
    ok = sum(t["ok"] for t in trials)
    answered = sum(t["answered"] for t in trials)
    seconds = sum(t["seconds"] for t in trials)
    requests_all = sum(t["requests_all"] for t in trials)
    latencies = [x for t in trials for x in t["latencies"]]

    def per_request(total: float) -> float:
        return total / requests_all if requests_all else math.nan

    errors: dict[str, int] = {}
    for t in trials:
        for status, n in t["statuses"].items():
            errors[status] = errors.get(status, 0) + n
    summary = {
        "per_s": ok / seconds,
        "per_s_rounds": [round(t["ok"] / t["seconds"], 1) for t in trials],
        "p50_ms": 1000 * percentile(latencies, 0.5),
        "p99_ms": 1000 * percentile(latencies, 0.99),
        "answers": errors,
        "failed": answered - ok,
        "pg_connections_per_request": per_request(sum(t["pg_sessions"] for t in trials)),
        "redis_connections_per_request": per_request(sum(t["redis_connections"] for t in trials)),
        "threads": max(t["threads"] for t in trials),
        "cpu_ms_per_request": per_request(1000 * sum(t["cpu_s"] for t in trials)),
        "client_cpu_percent": 100 * max(t["client_cpu_share"] for t in trials),
    }
    if all("statements" in t for t in trials):
        summary["statements_per_request"] = per_request(sum(t["statements"] for t in trials))
    return summary


def print_tables(results: dict, probe: dict, args) -> None:
    print(f"\n{args.connections} connections, {args.rounds} round(s) of {args.duration:g} s")
    header = (
        f"{'server':9} {'scenario':8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'SQL/req':>8}"
        f" {'PG conn/req':>12} {'Redis conn/req':>15} {'threads':>8} {'CPU ms/req':>11}"
        f" {'client CPU':>10} {'failed':>7}"
    )
    print(header)
    for (name, scenario), r in results.items():
        statements = r.get("statements_per_request")
        if statements is None and name.startswith("agora"):
            statements = probe.get(scenario, {}).get("median")
        elif statements is None and name == "before":
            statements = probe.get("before", {}).get(scenario, {}).get("median")
        shown = "-" if statements is None else f"{statements:.1f}"
        print(
            f"{name:9} {scenario:8} {r['per_s']:8.0f} {r['p50_ms']:8.1f} {r['p99_ms']:8.1f}"
            f" {shown:>8} {r['pg_connections_per_request']:12.3f}"
            f" {r['redis_connections_per_request']:15.3f} {r['threads']:8d}"
            f" {r['cpu_ms_per_request']:11.2f} {r['client_cpu_percent']:9.0f}%"
            f" {r['failed']:7d}"
        )
    stock = results.get(("stock", "vote"))
    bare = results.get(("bare", "vote"))
    print("\nratios (requests/s)")
    for scenario in args.scenarios:
        one = results.get(("agora-1", scenario))
        two = results.get(("agora-2", scenario))
        parts = [f"{scenario:8}"]
        if one and stock:
            parts.append(f"agora-1 / stock vote {one['per_s'] / stock['per_s']:.2f}x")
        if one and bare:
            parts.append(f"agora-1 / bare vote {one['per_s'] / bare['per_s']:.2f}x")
        if two and stock:
            parts.append(f"agora-2 / stock vote {two['per_s'] / stock['per_s']:.2f}x")
        if one and two:
            parts.append(f"agora-2 / agora-1 {two['per_s'] / one['per_s']:.2f}x")
        before = results.get(("before", scenario))
        if before and stock:
            parts.append(f"before / stock vote {before['per_s'] / stock['per_s']:.2f}x")
        if one and before:
            parts.append(f"agora-1 / before {one['per_s'] / before['per_s']:.2f}x")
        print("  " + ",  ".join(parts))
    if stock and bare:
        print(f"  stock / bare {stock['per_s'] / bare['per_s']:.2f}x")
    ceiling = results.get(("ceiling", "vote"))
    print("\ntargets (issue 13)")
    if ceiling and bare:
        held = ceiling["per_s"] >= CLIENT_HEADROOM * bare["per_s"]
        print(
            f"  {'ok  ' if held else 'MISS'} the load client outruns the bare reference"
            f" ({ceiling['per_s']:.0f}/s against an instant server, >= {CLIENT_HEADROOM:g}x"
            f" bare's {bare['per_s']:.0f}/s)"
        )
    for scenario in args.scenarios:
        one = results.get(("agora-1", scenario))
        two = results.get(("agora-2", scenario))
        checks = []
        if one and stock:
            ratio = one["per_s"] / stock["per_s"]
            checks.append(
                (
                    f">= {TARGET_STOCK_RATIO:g}x stock (aim {AIM_STOCK_RATIO:g}x)",
                    ratio >= TARGET_STOCK_RATIO,
                )
            )
        if one and two:
            checks.append(
                (
                    f"2 processes >= {TARGET_SCALING}x one",
                    two["per_s"] >= TARGET_SCALING * one["per_s"],
                )
            )
        if one:
            checks.append(
                (f"p99 <= {TARGET_P99_MS:g} ms (1 process)", one["p99_ms"] <= TARGET_P99_MS)
            )
        if two:
            checks.append(
                (f"p99 <= {TARGET_P99_MS:g} ms (2 processes)", two["p99_ms"] <= TARGET_P99_MS)
            )
        for label, held in checks:
            print(f"  {'ok  ' if held else 'MISS'} {scenario:8} {label}")


def machine() -> dict:
    import platform
    from importlib.metadata import version

    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), "")
    packages = ("uvicorn", "Django", "psycopg", "redis", "uvloop", "asgiref", "django-ninja")
    found = {}
    for name in packages:
        with contextlib.suppress(Exception):
            found[name] = version(name)
    with contextlib.suppress(Exception):
        found["psycopg-pool"] = version("psycopg-pool")
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        **found,
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child == "seed":
        child_seed(args)
        return 0
    if args.child == "probe":
        child_probe(args)
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks
    workdir = Path(tempfile.mkdtemp(prefix="agora-bench-wp-"))
    environment = machine()
    print(", ".join(f"{key} {value}" for key, value in environment.items()))
    env = agora_env(args, "bench-only-" + secrets.token_urlsafe(32), workdir / "static")
    started = time.monotonic()
    sides: list[Side] = []
    client = counters = None
    results: dict = {}
    probe: dict = {}
    try:
        import redis

        redis.Redis.from_url(args.redis_url).flushdb()
        create_database(args)
        seeded_file = workdir / "seeded.json"
        run_child("seed", args, env, seeded_file)
        seeded = json.loads(seeded_file.read_text())
        tokens_file = workdir / "tokens.json"
        tokens_file.write_text(json.dumps({c["token"]: c["id"] for c in seeded["citizens"]}))
        print(
            f"seeded {len(seeded['citizens'])} citizens, {len(seeded['items'])} items"
            f" in {time.monotonic() - started:.0f} s"
        )
        probe_file = workdir / "probe.json"
        probe_file.write_text(seeded_file.read_text())
        if any(name.startswith("agora") for name in args.servers):
            run_child("probe", args, env, probe_file)
            probe = json.loads(probe_file.read_text())
            if args.before:
                before_file = workdir / "probe-before.json"
                before_file.write_text(seeded_file.read_text())
                run_child("probe", args, env, before_file, root=args.before)
                probe["before"] = json.loads(before_file.read_text())
            for name, found in (("agora", probe), ("before", probe.get("before", {}))):
                medians = {k: v["median"] for k, v in found.items() if k != "before"}
                if medians:
                    print(f"SQL statements per request ({name}, in-process): {medians}")
        sides = sides_for(args, workdir, env, tokens_file)
        for side in sides:
            side.start()
        client = LoadClient(seeded)
        counters = Counters(args)
        plan = [(side, scenario) for side in sides for scenario in side.scenarios]
        # Unmeasured: every process past its first requests (imports, caches, threads).
        for side, scenario in plan:
            client.run(scenario, side.port, args.connections, 0.0, args.warmup)
        collected = interleaved_rounds(
            plan,
            args.rounds,
            lambda side, scenario: trial(side, scenario, client, counters, args),
            key=lambda side, scenario: (side.name, scenario),
            label=lambda side, scenario: f"{side.name:8} {scenario:7}",
        )
        results = {key: summarise(trials) for key, trials in collected.items()}
        warn_of_tracebacks(sides)
        print_tables(results, probe, args)
    finally:
        if client is not None:
            client.stop()
        for side in sides:
            side.server.stop()
        if counters is not None:
            counters.close()
        if not args.keep:
            with contextlib.suppress(Exception):
                drop_database(args)
    elapsed = time.monotonic() - started
    print(f"\nin {elapsed:.0f} s; server logs in {workdir}")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    output = args.json or Path(tempfile.gettempdir()) / "agora-bench" / f"write-path-{stamp}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    environment["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    document = {
        "machine": environment,
        "args": {k: str(v) for k, v in vars(args).items() if k not in ("json", "out", "child")},
        "statements_in_process": probe,
        "results": [{"server": s, "scenario": c, **r} for (s, c), r in results.items()],
    }
    output.write_text(json.dumps(document, indent=2))
    print(f"results: {output}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # servers and the client were stopped on the way out
        sys.exit("interrupted")
