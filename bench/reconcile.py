"""Background work at 1,000,000 ballots: the live counters' reconciliation and provisional
results, on PostgreSQL + Redis (issue 16, "Background work that scales with the consultation").

One open live-results consultation of 30 items (top-5 ranking ballots, as
``bench/aggregate.py``'s ``top5_30`` set: Plackett-Luce rankings from the same seed, a fifth
of them cut to three items), one citizen per ballot. It is seeded once in a PostgreSQL
database of its own (``agora_bench_reconcile``, created here; ``--drop`` drops it at the end,
``--reseed`` seeds it again), with ``COPY`` for the ballot entries. Redis database 11 holds
the live counters and the live matrix.

Each measurement runs in its own child process (``django.setup`` then the one call), so its
peak memory (``VmHWM``) is that call's, and its wall time, CPU time and SQL statements are
printed with the rows it read back:

- ``build``: the first page view's rebuild of the counters and the matrix (every ballot);
- ``minute, nothing changed`` and ``minute, N ballots changed``: the periodic pass every
  minute (``repair.reconcile``), after ``--changes`` citizens replaced their ballot through
  ``voting.submit_ballot`` (a child of its own, the live hooks running as in production);
- ``full check``: the slower full pass (``repair.reconcile(..., full=True)``);
- ``provisional``: ``computing.compute_results(id, "provisional")``, as the worker runs it.

    flock /tmp/agora-bench.lock timeout 1800 .venv/bin/python bench/reconcile.py
    .venv/bin/python bench/reconcile.py --ballots 100000      # a smaller run

Results: a table on stdout and JSON (``--json``, default under /tmp/agora-bench/).
See docs/performance.md, "Background work at a million ballots".
"""

import argparse
import inspect
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from aggregate import SEED, plackett_luce, status_kib  # noqa: E402

ITEMS, TOP = 30, 5
SLUG = "bench-reconcile"
DOMAIN = "bench-reconcile.invalid"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ballots", type=int, default=1_000_000)
    parser.add_argument("--changes", type=int, default=1000, help="ballots replaced in a minute")
    parser.add_argument("--database", default="agora_bench_reconcile")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--reseed", action="store_true", help="seed the database again")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per child")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# ------------------------------------------------------------------- in the children


def _setup_django() -> None:
    import django

    django.setup()


def _consultation():
    from consultation.models import Consultation

    return Consultation.objects.get(slug=SLUG)


def child_seed(args: argparse.Namespace) -> dict:
    """Migrate; one consultation, ``--ballots`` citizens, one top-5 ballot each."""
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import User
    from consultation.models import Consultation
    from tests.factories import make_consultation

    call_command("migrate", interactive=False, verbosity=0)
    started = time.perf_counter()
    n = args.ballots
    with transaction.atomic():
        consultation = make_consultation(
            items=ITEMS,
            slug=SLUG,
            ranking_size=TOP,
            results_visibility=Consultation.ResultsVisibility.LIVE,
        )
        items = np.array(consultation.items.order_by("position", "id").values_list("pk", flat=True))
        now = timezone.now()
        # Citizens in one statement: every column the model has, constant but the address.
        columns, values = [], []
        for field in User._meta.concrete_fields:
            if field.primary_key or field.name == "email":
                continue
            default = field.get_default()
            if default is None and not field.null:
                default = "" if field.get_internal_type().endswith("CharField") else now
            columns.append(field.column)
            values.append(field.get_db_prep_save(default, connection))
        placeholders = ", ".join(["%s"] * len(values))
        table = User._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (email, {', '.join(columns)}) "  # noqa: S608 (our own names)
                f"SELECT 'citizen' || g || '@{DOMAIN}', {placeholders} "
                "FROM generate_series(1, %s) AS g",
                [*values, n],
            )
            cursor.execute(
                "INSERT INTO consultation_ballot "  # noqa: S608 (our own table's name)
                "(consultation_id, user_id, created_at, updated_at) "
                f"SELECT %s, id, %s, %s FROM {table} "
                "WHERE email LIKE %s ORDER BY id",
                [consultation.pk, now, now, f"%@{DOMAIN}"],
            )
            cursor.execute(
                "SELECT min(id) FROM consultation_ballot WHERE consultation_id = %s",
                [consultation.pk],
            )
            first = cursor.fetchone()[0]
            rng = np.random.default_rng(SEED)
            top5 = plackett_luce(rng, n, ITEMS, TOP).astype(np.int64)
            top5[rng.random(n) < 0.2, 3:] = -1  # a fifth of the citizens rank only three items
            with cursor.copy(
                "COPY consultation_ballotentry (ballot_id, item_id, rank) FROM STDIN"
            ) as copy:
                for start in range(0, n, 100_000):
                    block = top5[start : start + 100_000]
                    rows, ranks = np.nonzero(block >= 0)
                    lines = np.char.add(
                        np.char.add((rows + start + first).astype(str), "\t"),
                        np.char.add(
                            np.char.add(items[block[rows, ranks]].astype(str), "\t"),
                            (ranks + 1).astype(str),
                        ),
                    )
                    copy.write("\n".join(lines.tolist()) + "\n")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"seed_seconds": time.perf_counter() - started, "consultation": consultation.pk}


def child_changes(args: argparse.Namespace) -> dict:
    """``--changes`` citizens replace their ballot through the domain, hooks included."""
    from allauth.account.models import EmailAddress

    from accounts.models import User
    from consultation.live import events
    from consultation.participation import voting

    consultation = _consultation()
    items = list(consultation.items.order_by("position", "id").values_list("pk", flat=True))
    rng = np.random.default_rng(SEED + 1)
    people = list(User.objects.filter(email__endswith=f"@{DOMAIN}").order_by("?")[: args.changes])
    EmailAddress.objects.bulk_create(
        [EmailAddress(user=p, email=p.email, verified=True, primary=True) for p in people],
        ignore_conflicts=True,
    )
    started = time.perf_counter()
    for person in people:
        voting.submit_ballot(person, consultation, [items[i] for i in rng.permutation(ITEMS)[:TOP]])
    events.wait_for_pending_tallies()
    return {"seconds": time.perf_counter() - started, "changed": args.changes}


def _measured(function) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    base = status_kib("VmRSS")
    with CaptureQueriesContext(connection) as queries:
        start, cpu = time.perf_counter(), time.process_time()
        value = function()
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "statements": len(queries),
        "base_rss_kib": base,
        "peak_rss_kib": status_kib("VmHWM"),
        "value": value,
    }


def child_build(args):
    from consultation.live import counters, stores

    consultation = _consultation()
    stores.reset_for_tests()  # forget the last run's counters: this one builds them
    return _measured(lambda: {"fields": len(counters.rebuild(consultation)[0])})


def child_migrate(args):
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    return {}


def child_minute(args):
    from datetime import UTC, datetime

    from consultation.live import repair, stores
    from consultation.models import Ballot

    consultation = _consultation()
    since = stores.store().checked_at(consultation.pk)
    changed = None
    if since is not None:
        after = datetime.fromtimestamp(since - repair.GRACE_SECONDS, tz=UTC)
        changed = Ballot.objects.filter(consultation=consultation, updated_at__gt=after).count()
    report = _measured(lambda: {"drift": len(repair.reconcile(consultation))})
    report["value"]["ballots_read"] = changed
    return report


def child_full(args):
    from consultation.live import repair

    consultation = _consultation()
    if "full" not in inspect.signature(repair.reconcile).parameters:  # before the split
        return _measured(lambda: {"drift": len(repair.reconcile(consultation))})
    return _measured(lambda: {"drift": len(repair.reconcile(consultation, full=True))})


def child_provisional(args):
    from consultation.results import computing

    consultation = _consultation()
    return _measured(
        lambda: {"changed": computing.compute_results(consultation.pk, "provisional").changed}
    )


CHILDREN = {
    "seed": child_seed,
    "changes": child_changes,
    "migrate": child_migrate,
    "build": child_build,
    "minute": child_minute,
    "full": child_full,
    "provisional": child_provisional,
}


def child_main(args: argparse.Namespace) -> None:
    _setup_django()
    report = CHILDREN[args.child](args)
    args.out.write_text(json.dumps(report, default=str), encoding="utf-8")


# -------------------------------------------------------------------------- the parent


def database_url(args, name: str) -> str:
    return args.postgres.rsplit("/", 1)[0] + "/" + name


def prepare_database(args) -> bool:
    """Create the bench database if need be; True if it must be seeded."""
    import psycopg

    with psycopg.connect(args.postgres, autocommit=True, connect_timeout=3) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [args.database]
        ).fetchone()
        if exists and args.reseed:
            conn.execute(f'DROP DATABASE "{args.database}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{args.database}"')
    return not exists


def drop_database(args) -> None:
    import psycopg

    with psycopg.connect(args.postgres, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')


def run_child(args, child: str, workdir: Path) -> dict:
    out = workdir / f"{child}.json"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "HTTPS": "false",
        "SECRET_KEY": "bench-only-" + secrets.token_urlsafe(32),
        "DATABASE_URL": database_url(args, args.database),
        "REDIS_URL": args.redis_url,
        # No worker: the bench calls the jobs itself; what would be queued stays in memory.
        "CELERY_BROKER_URL": "memory://localhost/",
        "CELERY_RESULT_BACKEND": "cache+memory://",
        "CELERY_EMBEDDED_WORKER": "false",
        "OPEN_DATA_MIN_GROUP": "10",
        "MEDIA_ROOT": str(workdir / "media"),
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, __file__, "--child", child, "--out", str(out)]
    command += ["--ballots", str(args.ballots), "--changes", str(args.changes)]
    subprocess.run(command, env=env, check=True, timeout=args.timeout, cwd=ROOT)
    return json.loads(out.read_text(encoding="utf-8"))


STEPS = (
    ("build", "build (first read: counters and matrix from every ballot)"),
    ("minute", "minute pass, nothing changed"),
    ("changes", None),
    ("minute", "minute pass, {changes:,} ballots changed"),
    ("full", "full check"),
    ("provisional", "provisional results (worker job)"),
)


def measure(args) -> dict:
    results: dict = {"ballots": args.ballots, "changes": args.changes, "steps": []}
    with tempfile.TemporaryDirectory(prefix="agora-bench-") as tmp:
        workdir = Path(tmp)
        if prepare_database(args):
            seeded = run_child(args, "seed", workdir)
            results["seed"] = seeded
            print(f"seeded {args.ballots:,} ballots in {seeded['seed_seconds']:.0f} s", flush=True)
        run_child(args, "migrate", workdir)  # a database seeded by an earlier version
        for child, label in STEPS:
            report = run_child(args, child, workdir)
            if label is None:
                print(f"  {args.changes:,} ballots replaced in {report['seconds']:.1f} s")
                continue
            report["label"] = label.format(changes=args.changes)
            results["steps"].append(report)
            print(f"  {report['label']}: {report['seconds']:.2f} s", flush=True)
    return results


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "loadavg": os.getloadavg(),
    }


def print_report(results: dict) -> None:
    print(f"\n{results['ballots']:,} ballots x {ITEMS} items (top-{TOP}), PostgreSQL + Redis")
    print("| step | wall s | CPU s | SQL statements | peak MiB (process) | result |")
    print("|---|---|---|---|---|---|")
    for step in results["steps"]:
        print(
            f"| {step['label']} | {step['seconds']:.2f} | {step['cpu_seconds']:.2f} | "
            f"{step['statements']} | {step['peak_rss_kib'] / 1024:.0f} "
            f"(+{(step['peak_rss_kib'] - step['base_rss_kib']) / 1024:.0f}) | {step['value']} |"
        )
    print(f"load average: before {results['load_before']}, after {results['machine']['loadavg']}")


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child:
        child_main(args)
        return 0
    started = time.strftime("%Y%m%d-%H%M%S")
    load_before = os.getloadavg()
    try:
        results = measure(args)
    finally:
        if args.drop:
            drop_database(args)
    results |= {"machine": machine(), "load_before": load_before}
    print_report(results)
    path = args.json or Path(tempfile.gettempdir()) / "agora-bench" / f"reconcile-{started}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"\nresults: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
