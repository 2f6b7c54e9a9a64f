"""What one signed-in page costs in process: milliseconds and SQL statements (issue 16).

The production shape without the server: production settings (``DEBUG=false``),
PostgreSQL (a database of its own, ``agora_bench_pp``, created, migrated and seeded as
bench/read_path.py seeds it, dropped at the end unless ``--keep``), Redis (database 6,
flushed at the start). Each page is asked ``--repeat`` times through Django's test client
(the whole middleware chain and the view) with a verified citizen's session; printed:
the median and the quartiles of wall time and of CPU time per page, and the SQL statements
of one visit. ``--profile`` adds cProfile's top functions per page.

    flock /tmp/agora-bench.lock .venv/bin/python bench/page_profile.py
    flock /tmp/agora-bench.lock .venv/bin/python bench/page_profile.py --profile 25
    .venv/bin/python bench/page_profile.py --reuse   # the database a --keep run left

Anonymous pages are served by the page cache (bench/read_path.py measures them); this
harness is about the pages rendered for each person.
"""

import argparse
import contextlib
import cProfile
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=60, help="requests per page")
    parser.add_argument("--profile", type=int, default=0, help="print the N top functions")
    parser.add_argument("--citizens", type=int, default=20)
    parser.add_argument(
        "--postgres-url",
        default="postgres://postgres@127.0.0.1:5432/postgres",
        help="the server's maintenance database: the harness creates its own beside it",
    )
    parser.add_argument("--database", default="agora_bench_pp")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="use the database a --keep left")
    parser.add_argument("--sqlite", action="store_true", help="the embedded default instead")
    return parser.parse_args(argv)


def environment(args: argparse.Namespace, workdir: Path) -> dict:
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "HTTPS": "false",
        # Fixed, so that the sessions of a --keep run still hold in a --reuse run.
        "SECRET_KEY": "bench-only-page-profile-not-a-secret-0123456789abcdef",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "LOG_LEVEL": "WARNING",
        "STATIC_ROOT": str(workdir / "static"),
        "PYTHONPATH": str(ROOT),
    }
    if args.sqlite:
        env["DATABASE_URL"] = f"sqlite:///{workdir / 'db.sqlite3'}"
    else:
        env["DATABASE_URL"] = f"{args.postgres_url.rsplit('/', 1)[0]}/{args.database}"
        env["REDIS_URL"] = args.redis_url
    return env


def seed(args: argparse.Namespace, env: dict, seeded_file: Path) -> None:
    """bench/read_path.py's seeding, in a child process with the same settings."""
    if not args.sqlite:
        import redis
        from write_path import create_database

        redis.Redis.from_url(args.redis_url).flushdb()
        create_database(args)
    command = [sys.executable, str(ROOT / "bench" / "read_path.py"), "--child", "seed"]
    command += ["--out", str(seeded_file), "--citizens", str(args.citizens)]
    subprocess.run(command, env={**os.environ, **env}, cwd=ROOT, check=True, timeout=600)


def measure(args: argparse.Namespace, seeded: dict) -> None:
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    pages = {name: page for name, page in seeded["pages"].items() if page["signed_in"]}
    session = seeded["citizens"][0]["session"]
    print(f"{'page':26} {'wall p50':>9} {'p25':>7} {'p75':>7} {'cpu p50':>8} {'SQL':>5}")
    for name, page in pages.items():
        client = Client(headers={"host": "127.0.0.1"})
        client.cookies["sessionid"] = session
        for _ in range(3):  # past the first requests: templates loaded, caches filled
            response = client.get(page["path"])
            assert response.status_code == 200, (name, response.status_code)
        with CaptureQueriesContext(connection) as queries:
            client.get(page["path"])
        statements = len(queries.captured_queries)  # before the next request resets the log
        walls, cpus = [], []
        for _ in range(args.repeat):
            wall, cpu = time.perf_counter(), time.process_time()
            client.get(page["path"])
            cpus.append(1000 * (time.process_time() - cpu))
            walls.append(1000 * (time.perf_counter() - wall))
        quartiles = statistics.quantiles(walls, n=4)
        print(
            f"{name:26} {statistics.median(walls):9.2f} {quartiles[0]:7.2f} {quartiles[2]:7.2f}"
            f" {statistics.median(cpus):8.2f} {statements:5}"
        )
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(20):
                client.get(page["path"])
            profiler.disable()
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
            stats.print_stats(args.profile)
            print(out.getvalue())
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.profile)
            print(out.getvalue())
    print(f"load average {[round(x, 2) for x in os.getloadavg()]}")


def main(argv=None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.gettempdir()) / f"agora-page-profile-{args.database}"
    workdir.mkdir(exist_ok=True)
    env = environment(args, workdir)
    os.environ.update(env)
    seeded_file = workdir / "seeded.json"
    try:
        if not (args.reuse and seeded_file.exists()):
            seed(args, env, seeded_file)
        measure(args, json.loads(seeded_file.read_text()))
    finally:
        if not args.keep and not args.sqlite:
            from write_path import drop_database

            with contextlib.suppress(Exception):
                from django.db import connections

                connections.close_all()
            with contextlib.suppress(Exception):
                drop_database(args)
            seeded_file.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
