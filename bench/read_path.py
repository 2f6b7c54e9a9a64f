"""Read-path benchmark: Agora's pages against a stock Django "hello" view (issue 16).

Production shape on 127.0.0.1: PostgreSQL (a database of its own, ``agora_bench_rp``,
created and migrated here, dropped at the end), Redis (database 10, flushed at the start),
static files collected, production settings (``DEBUG=false``), one process of
``uvicorn config.asgi:application``. Beside it, the reference: bench/refs/stock_hello.py,
a stock Django project of one sync view answering "hello", with no middleware, under
Django's ASGI handler and the same uvicorn command.

Seeded: an open consultation of 30 items with votes, grades, rankings and comments from
8 citizens through the domain (so its live counters are true) and a moderation decision;
a published consultation of the same shape; ``--citizens`` signed-in sessions.

Addresses: the home page, the consultation, a measure, the published results, the method
cards (/methodes/), the moderation log, the API's items list and /health/, anonymously;
then the consultation and the measure signed in (a random citizen's session each request).

Load: 32 keep-alive connections (``--connections``), closed loop, one client process
(bench/http_load.py). Trials alternate between the reference and every address, the order
rotating each round, so background load hits all of them alike.

Printed per address: requests/s, p50 and p99 latency, SQL statements per request (counted
in-process with ``CaptureQueriesContext`` on the same code and settings: a visit after a
first one, as under load), the ratio to the reference and the verdict: anonymous pages
>= 0.3x (aim 0.5x) and p99 <= 200 ms, signed-in pages >= 0.1x.

    .venv/bin/python bench/read_path.py            # 3 rounds of 6 s per trial (~5 min)
    .venv/bin/python bench/read_path.py --quick    # 1 round of 3 s (~1 min)
    .venv/bin/python bench/read_path.py --quick --agora /tmp/before   # an earlier checkout

Run it under ``flock /tmp/agora-bench.lock``. Results: a table on stdout and JSON
(``--json``, default under /tmp/agora-bench/). See docs/performance.md, "Read path".
"""

import argparse
import contextlib
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from servers import interleaved_rounds, warn_of_tracebacks
from write_path import (
    LoadClient,
    Side,
    create_database,
    drop_database,
    machine,
    percentile,
)

ROOT = Path(__file__).resolve().parent.parent
ITEMS = 30
SLUG = "bench-read-path"
PUBLISHED_SLUG = "bench-read-path-results"
TARGET_RATIO = 0.3
AIM_RATIO = 0.5
SIGNED_IN_RATIO = 0.1
TARGET_P99_MS = 200.0
CHILD_TIMEOUT = 600
ANONYMOUS_PAGES = ("home", "consultation", "measure", "results", "methods", "moderation log")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 round of 3 s (~1 minute)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=6.0, help="measured seconds/trial")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds first")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--citizens", type=int, default=200)
    parser.add_argument(
        "--postgres-url",
        default="postgres://postgres@127.0.0.1:5432/postgres",
        help="the server's maintenance database: the bench creates its own beside it",
    )
    parser.add_argument("--database", default="agora_bench_rp")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/10")
    parser.add_argument(
        "--agora", type=Path, default=ROOT, help="the checkout that serves Agora (default: this)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--json", type=Path, help="where to write the results as JSON")
    parser.add_argument("--child", choices=("seed", "probe"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.duration, args.warmup = 1, 3.0, 0.5
    return args


def database_url(args: argparse.Namespace) -> str:
    return f"{args.postgres_url.rsplit('/', 1)[0]}/{args.database}"


# ------------------------------------------------------------------- in the children


def _setup_django(root: Path) -> None:
    sys.path.insert(0, str(root))
    import django

    django.setup()


def child_seed(args: argparse.Namespace) -> None:
    """Migrate, collect static files, seed (see the module's docstring); the addresses
    and sessions go to ``--out``."""
    _setup_django(args.agora)
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
    from consultation.live import events
    from consultation.models import Membership, Rule
    from consultation.moderation import decisions
    from consultation.participation import debate
    from tests.factories import add_member, make_consultation, publish_now, take_part
    from tests.support.accounts import enable_totp

    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    password = make_password(None)
    with transaction.atomic():
        users = User.objects.bulk_create(
            User(
                email=f"citoyen{n}@bench.invalid",
                display_name=f"Citoyen {n}",
                password=password,
                identity_verified_at=timezone.now() - timezone.timedelta(days=30),
                date_joined=timezone.now() - timezone.timedelta(days=30),
            )
            for n in range(max(args.citizens, 20))
        )
        EmailAddress.objects.bulk_create(
            EmailAddress(user=user, email=user.email, verified=True, primary=True) for user in users
        )
    staff = User.objects.create_user(
        email="moderatrice@bench.invalid", password=None, display_name="Modératrice"
    )
    staff.is_organiser = staff.is_moderator = True
    staff.save()
    enable_totp(staff)  # acts through the domain as after its second factor

    rng = random.Random(16)
    consultation = make_consultation(items=ITEMS, slug=SLUG, organiser=staff)
    add_member(consultation, staff, Membership.Role.MODERATOR)
    published = make_consultation(items=ITEMS, slug=PUBLISHED_SLUG, organiser=staff)
    items = list(consultation.items.order_by("position", "id"))
    for n, user in enumerate(users[:8]):
        take_part(user, consultation, rng=rng)
        take_part(user, published, rng=rng)
        for item in items[:4]:
            debate.post_comment(user, item, f"Un avis de {user.display_name} (n° {n}).")
    spam = debate.post_comment(users[8], items[0], "Achetez mes montres.")
    decisions.hide(staff, spam, Rule.SPAM, "Publicité.")
    publish_now(published, staff)
    events.wait_for_pending_tallies()

    expires = timezone.now() + timezone.timedelta(days=1)
    citizens, sessions = [], []
    for user in users[: args.citizens]:
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
        sessions.append(
            Session(session_key=key, session_data=SessionStore().encode(data), expire_date=expires)
        )
        citizens.append({"id": user.pk, "session": key})
    Session.objects.bulk_create(sessions)
    item = f"/consultations/{SLUG}/mesures/{items[0].pk}/"
    pages = {
        "home": "/",
        "consultation": f"/consultations/{SLUG}/",
        "measure": item,
        "results": f"/consultations/{PUBLISHED_SLUG}/resultats/",
        "methods": "/methodes/",
        "moderation log": f"/consultations/{SLUG}/journal-de-moderation/",
        "API items": f"/api/v1/consultations/{SLUG}/items",
        "health": "/health/",
    }
    seeded = {
        "slug": SLUG,
        "items": [i.pk for i in items],
        "citizens": citizens,
        "pages": {
            **{name: {"path": path, "signed_in": False} for name, path in pages.items()},
            "signed in: consultation": {"path": pages["consultation"], "signed_in": True},
            "signed in: measure": {"path": item, "signed_in": True},
        },
    }
    args.out.write_text(json.dumps(seeded))


def child_probe(args: argparse.Namespace) -> None:
    """SQL statements per request of each address on Agora's own code and settings:
    the second of two visits (the first fills what visits share, the page cache
    included), and the first (what a render costs)."""
    _setup_django(args.agora)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    seeded = json.loads(args.out.read_text())
    counts = {}
    for name, page in seeded["pages"].items():
        client = Client(headers={"host": "127.0.0.1"})
        if page["signed_in"]:
            client.cookies["sessionid"] = seeded["citizens"][0]["session"]
        found = []
        for _visit in range(2):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(page["path"])
            if response.status_code != 200:
                raise RuntimeError(
                    f"probe {name}: {response.status_code} {response.content[:300]!r}"
                )
            found.append(len(queries.captured_queries))
        counts[name] = {"first": found[0], "steady": found[1]}
    # /health/'s server time: the whole request in-process (test client included), and
    # the checks alone as the view reports them (Server-Timing), medians of 50.
    client, whole, checks = Client(headers={"host": "127.0.0.1"}), [], []
    for _ in range(50):
        started = time.perf_counter()
        response = client.get("/health/")
        whole.append(1000 * (time.perf_counter() - started))
        if response.has_header("Server-Timing"):
            checks.append(float(response["Server-Timing"].split("dur=")[1]))
    counts["health"]["server_ms"] = statistics.median(whole)
    counts["health"]["checks_ms"] = statistics.median(checks) if checks else None
    args.out.write_text(json.dumps(counts))


# ------------------------------------------------------------------- in the parent


def run_child(kind: str, args: argparse.Namespace, env: dict, out: Path) -> None:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--out", str(out)]
    command += ["--citizens", str(args.citizens), "--agora", str(args.agora)]
    subprocess.run(command, env=env, cwd=args.agora, check=True, timeout=CHILD_TIMEOUT)


def agora_env(args: argparse.Namespace, static_root: Path) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "HTTPS": "false",
        "SECRET_KEY": "bench-only-" + secrets.token_urlsafe(32),
        "DATABASE_URL": database_url(args),
        "REDIS_URL": args.redis_url,
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "LOG_LEVEL": "WARNING",
        "STATIC_ROOT": str(static_root),
        "PYTHONPATH": str(args.agora),
    }
    env.pop("CELERY_BROKER_URL", None)
    return env


class PageLoadClient(LoadClient):
    """Counts the answers that arrive in the measured window, even those asked for before
    it: the slowest pages take longer than a quick trial's window."""

    def run(self, scenario, port, connections, warmup, duration) -> tuple[dict, list, float]:
        self.pipe.send(("run", scenario, port, connections, warmup, duration, True))
        _done, statuses, latencies, measured = self.expect("done", warmup + duration + 120)
        return statuses, latencies, measured


def trial(side: Side, scenario: str, client: LoadClient, args) -> dict:
    cpu_before = side.cpu_seconds()
    statuses, latencies, measured = client.run(
        scenario, side.port, args.connections, args.warmup, args.duration
    )
    return {
        "statuses": statuses,
        "latencies": latencies,
        "seconds": measured,
        "ok": statuses.get("200", 0),
        "answered": sum(statuses.values()),
        "cpu_s": side.cpu_seconds() - cpu_before,
    }


def summarise(trials: list[dict]) -> dict:
    ok = sum(t["ok"] for t in trials)
    seconds = sum(t["seconds"] for t in trials)
    latencies = [x for t in trials for x in t["latencies"]]
    answers: dict[str, int] = {}
    for t in trials:
        for status, n in t["statuses"].items():
            answers[status] = answers.get(status, 0) + n
    return {
        "per_s": ok / seconds,
        "per_s_rounds": [round(t["ok"] / t["seconds"], 1) for t in trials],
        "p50_ms": 1000 * percentile(latencies, 0.5),
        "p99_ms": 1000 * percentile(latencies, 0.99),
        "answers": answers,
        "failed": sum(t["answered"] for t in trials) - ok,
    }


def verdict(name: str, result: dict, reference: dict) -> str:
    ratio = result["per_s"] / reference["per_s"]
    if name.startswith("signed in"):
        return "ok" if ratio >= SIGNED_IN_RATIO else f"MISS (< {SIGNED_IN_RATIO:g}x)"
    if name not in ANONYMOUS_PAGES:
        return "-"
    held = []
    held.append("aim ok" if ratio >= AIM_RATIO else ("ok" if ratio >= TARGET_RATIO else "MISS"))
    held.append("p99 ok" if result["p99_ms"] <= TARGET_P99_MS else "p99 MISS")
    return ", ".join(held)


def print_table(results: dict, probe: dict, args) -> None:
    reference = results["reference"]
    print(f"\n{args.connections} connections, {args.rounds} round(s) of {args.duration:g} s")
    print(
        f"{'address':26} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'SQL/req':>8} {'(render)':>8}"
        f" {'ratio':>7}  verdict (>= {TARGET_RATIO:g}x, aim {AIM_RATIO:g}x, p99 <="
        f" {TARGET_P99_MS:g} ms; signed in >= {SIGNED_IN_RATIO:g}x)"
    )
    for name, r in results.items():
        counted = probe.get(name, {})
        steady = counted.get("steady", 0 if name == "reference" else "-")
        first = counted.get("first", 0 if name == "reference" else "-")
        ratio = r["per_s"] / reference["per_s"]
        shown = "-" if name == "reference" else verdict(name, r, reference)
        failed = f"  ({r['failed']} not 200: {r['answers']})" if r["failed"] else ""
        print(
            f"{name:26} {r['per_s']:8.0f} {r['p50_ms']:8.1f} {r['p99_ms']:8.1f} {steady!s:>8}"
            f" {first!s:>8} {ratio:6.2f}x  {shown}{failed}"
        )


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child == "seed":
        child_seed(args)
        return 0
    if args.child == "probe":
        child_probe(args)
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks
    args.agora = args.agora.resolve()
    workdir = Path(tempfile.mkdtemp(prefix="agora-bench-rp-"))
    environment = machine()
    print(", ".join(f"{key} {value}" for key, value in environment.items()))
    env = agora_env(args, workdir / "static")
    started = time.monotonic()
    sides: list[Side] = []
    client = None
    results: dict = {}
    probe: dict = {}
    try:
        import redis

        redis.Redis.from_url(args.redis_url).flushdb()
        create_database(args)
        seeded_file = workdir / "seeded.json"
        run_child("seed", args, env, seeded_file)
        seeded = json.loads(seeded_file.read_text())
        print(f"seeded in {time.monotonic() - started:.0f} s (Agora from {args.agora})")
        probe_file = workdir / "probe.json"
        probe_file.write_text(seeded_file.read_text())
        run_child("probe", args, env, probe_file)
        probe = json.loads(probe_file.read_text())
        reference_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "stock_hello"}
        reference = Side(
            "reference",
            "stock_hello:application",
            reference_env,
            workdir,
            ["hello"],
            app_dir=str(ROOT / "bench" / "refs"),
            lifespan="auto",
        )
        agora = Side("agora", "config.asgi:application", env, workdir, [], cwd=args.agora)
        sides = [reference, agora]
        for side in sides:
            side.start()
        # The reference's one address, as a page the client knows.
        seeded["pages"]["reference"] = {"path": "/", "signed_in": False}
        client = PageLoadClient(seeded)
        plan = [(reference, "reference")]
        plan += [(agora, name) for name in seeded["pages"] if name != "reference"]
        for side, scenario in plan:  # unmeasured: past the first requests
            client.run(scenario, side.port, args.connections, 0.0, args.warmup)
        collected = interleaved_rounds(
            plan,
            args.rounds,
            lambda side, scenario: trial(side, scenario, client, args),
            key=lambda _side, scenario: scenario,
            label=lambda _side, scenario: f"{scenario:26}",
        )
        results = {key: summarise(trials) for key, trials in collected.items()}
        warn_of_tracebacks(sides)
        print_table(results, probe, args)
        health = probe.get("health", {})
        if "server_ms" in health:
            checks = health["checks_ms"]
            print(
                f"\n/health/ server time, in-process (median of 50): {health['server_ms']:.2f} ms"
                f" the whole request, {'-' if checks is None else f'{checks:.2f}'} ms its checks"
                f" ({'ok' if health['server_ms'] <= 5 else 'MISS'}: <= 5 ms)"
            )
    finally:
        if client is not None:
            client.stop()
        for side in sides:
            side.server.stop()
        if not args.keep:
            with contextlib.suppress(Exception):
                drop_database(args)
    elapsed = time.monotonic() - started
    environment["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(f"\nin {elapsed:.0f} s; load average at the end {environment['load_average_at_end']};")
    print(f"server logs in {workdir}")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    output = args.json or Path(tempfile.gettempdir()) / "agora-bench" / f"read-path-{stamp}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "machine": environment,
        "args": {k: str(v) for k, v in vars(args).items() if k not in ("json", "out", "child")},
        "statements_in_process": probe,
        "results": [{"address": name, **r} for name, r in results.items()],
    }
    output.write_text(json.dumps(document, indent=2))
    print(f"results: {output}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # servers and the client were stopped on the way out
        sys.exit("interrupted")
