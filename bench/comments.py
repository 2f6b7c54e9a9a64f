"""Debate benchmark: pages of an item's debate with 10,000 comments, against a bare SELECT.

Seeds one item with ``--comments`` comments (30 % of them top-level, the replies spread
over the threads with a few very busy ones and nested up to ~8 deep, "useful" marks on
them, accented French text) in a throwaway database, then measures what a reader asks
for: the first page of threads, a deep page (the 100th), each sort, one thread's "more
replies", the page of an old comment, searches, and the rendered item page over HTTP,
against the whole thread as the page loaded it before (``queries.comment_thread``).

Each figure is the median of ``--repeats`` runs (after one warm-up) in milliseconds, with
the number of SQL statements it sent, and its ratio to the reference measured in the same
run: a bare ``SELECT`` of 20 comments by primary key (a raw cursor, no ORM). Every backend
runs in its own child process: the embedded SQLite, then PostgreSQL when one answers on
``--postgres-url`` (a database created for the run and dropped after it).

    .venv/bin/python bench/comments.py                 # 10,000 comments, SQLite + PostgreSQL
    .venv/bin/python bench/comments.py --quick         # 2,000 comments, 5 repeats
    .venv/bin/python bench/comments.py --no-postgres

Results: a table on stdout (the backends side by side) and JSON (``--json``, default under
/tmp/agora-bench/). See docs/performance.md.
"""

import argparse
import itertools
import json
import os
import platform
import random
import secrets
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = 20261203
CHILD_TIMEOUT = 1800  # seconds for one backend: seeding, migrating and measuring

WORDS = (  # noqa: SIM905 (a sentence to read, not a list to scan)
    "le la les un une des du de à au aux et ou mais donc car pour contre avec sans sur "
    "sous dans entre vers chez projet mesure commune région état école collège lycée "
    "élève enseignant santé hôpital médecin transport train bus piste cyclable voiture "
    "énergie électricité chauffage logement loyer impôt budget dépense coût économie "
    "écologie forêt rivière eau déchets recyclage numérique données accès réseau fibre "
    "démocratie élu citoyen débat participation référendum égalité liberté sécurité "
    "propose pense trouve crois souhaite refuse soutiens demande rappelle précise "
    "très trop assez peu beaucoup plutôt vraiment évidemment déjà encore toujours jamais "
    "intéressant coûteux nécessaire urgent inutile équitable réaliste ambitieux"
).split()
COMMON, RARE = "vélo", "trottinette"  # sprinkled in 8 % and 0.5 % of the comments


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--comments", type=int, help="comments on the item (default 10,000)")
    parser.add_argument("--repeats", type=int, help="runs per measurement (default 15)")
    parser.add_argument("--quick", action="store_true", help="2,000 comments, 5 repeats")
    parser.add_argument(
        "--postgres-url",
        default="postgres://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server to create the run's database on (its maintenance database)",
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--json", type=Path, help="where to write the results as JSON")
    parser.add_argument("--child", choices=("sqlite", "postgres"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.comments = args.comments or (2000 if args.quick else 10_000)
    args.repeats = args.repeats or (5 if args.quick else 15)
    return args


# --------------------------------------------------------------------- in the child


def sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def seed(n_comments: int):
    """One item, ``n_comments`` comments, their authors and "useful" marks. Returns the
    item, a reader and facts the measurements need (the busiest thread, an old reply)."""
    from django.utils import timezone

    from accounts.models import User
    from consultation.models import Comment, CommentReaction
    from consultation.queries import fold
    from tests.factories import make_consultation

    rng = random.Random(SEED)
    item = make_consultation(items=1).items.get()
    users = User.objects.bulk_create(
        User(email=f"lecteur{n}@bench.invalid", display_name=f"Lecteur {n}", password="!")  # noqa: S106
        for n in range(400)
    )
    now = timezone.now()
    n_roots = max(1, n_comments * 3 // 10)
    stances = ("for", "neutral", "against")

    def body() -> str:
        parts = [sentence(rng, rng.randint(8, 30)) for _ in range(rng.randint(1, 4))]
        draw = rng.random()
        if draw < 0.08:
            parts.insert(rng.randrange(len(parts) + 1), rng.choice((COMMON, "Vélo", "VELO")))
        elif draw < 0.085:
            parts.append(RARE.capitalize() + " !")
        return " ".join(parts)

    start = now - timedelta(days=30)
    span = (now - start).total_seconds() - 3600
    root_times = sorted(start + timedelta(seconds=rng.random() * span) for _ in range(n_roots))

    def new_comment(**fields) -> Comment:
        author, stance = rng.choice(users), rng.choice(stances)  # drawn in this order
        text = body()
        # Its folded copy, as debate.post_comment writes it: what a search reads.
        return Comment(
            item=item, author=author, stance=stance, body=text, folded_body=fold(text), **fields
        )

    roots = Comment.objects.bulk_create(
        [new_comment(created_at=moment) for moment in root_times],
        batch_size=1000,
    )
    # Replies: a thread drawn with weights 1/rank (a few busy threads, a long tail), then
    # a parent in it (the root, or one of its replies: the nesting), a little later.
    weights = [1 / (rank + 1) for rank in range(n_roots)]
    rng.shuffle(weights)
    thread_weights = list(itertools.accumulate(weights))  # drawn from in O(log n)
    thread_of: dict[int, list[tuple[int, int]]] = {i: [(-1, 0)] for i in range(n_roots)}
    planned = []  # (index, parent index or -1 for the root, root index, depth, time)
    times: dict[int, object] = {}
    for index in range(n_comments - n_roots):
        root = rng.choices(range(n_roots), cum_weights=thread_weights)[0]
        parent, depth = rng.choice(thread_of[root][-20:])  # answering recent ones
        if depth >= 8:
            parent, depth = -1, 0
        after = root_times[root] if parent == -1 else times[parent]
        times[index] = after + timedelta(minutes=rng.randint(1, 600))
        planned.append((index, parent, root, depth + 1, times[index]))
        thread_of[root].append((index, depth + 1))
    pk_of: dict[int, int] = {}
    for depth in range(1, 10):  # parents are inserted before their replies
        level = [row for row in planned if row[3] == depth]
        made = Comment.objects.bulk_create(
            [
                new_comment(
                    parent_id=roots[root].pk if parent == -1 else pk_of[parent],
                    created_at=moment,
                )
                for _index, parent, root, _depth, moment in level
            ],
            batch_size=1000,
        )
        pk_of.update((row[0], comment.pk) for row, comment in zip(level, made, strict=True))
    every = list(Comment.objects.filter(item=item).values_list("pk", flat=True))
    popular = [1 / (rank + 1) ** 0.8 for rank in range(len(every))]
    rng.shuffle(popular)
    popular_sums = list(itertools.accumulate(popular))
    marks = set()
    for _ in range(n_comments * 2):
        marks.add((rng.choices(every, cum_weights=popular_sums)[0], rng.choice(users).pk))
    CommentReaction.objects.bulk_create(
        [CommentReaction(comment_id=c, user_id=u) for c, u in marks], batch_size=2000
    )
    busiest = max(range(n_roots), key=lambda i: len(thread_of[i]))
    old_reply = next(pk_of[row[0]] for row in planned if row[2] < n_roots // 10 and row[3] >= 3)
    return (
        item,
        users[0],
        {
            "roots": n_roots,
            "replies": len(planned),
            "marks": len(marks),
            "busiest_thread": roots[busiest].pk,
            "busiest_replies": len(thread_of[busiest]) - 1,
            "old_reply": old_reply,
            "deepest": max(row[3] for row in planned) if planned else 0,
        },
    )


def measure(function, repeats: int) -> dict:
    from django.db import connection

    statements = 0

    def count(execute, sql, params, many, context):
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    # Counted on the warm-up, by a wrapper of the connection: it outlives the reconnection
    # that each request over HTTP makes (the query log does not).
    with connection.execute_wrapper(count):
        function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return {"ms": statistics.median(times), "best_ms": min(times), "sql": statements}


def child_main(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from consultation import queries
    from consultation.participation import thread_pages

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    migrated = time.perf_counter()
    item, reader, facts = seed(args.comments)
    facts["seed_seconds"] = time.perf_counter() - migrated
    facts["migrate_seconds"] = migrated - started
    facts["backend"] = connection.vendor
    facts["server_version"] = (
        str(connection.pg_version) if connection.vendor == "postgresql" else sqlite3.sqlite_version
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    # Cursors for the deep pages: walk to the 100th page once, untimed.
    deep: dict[str, str | None] = {}
    depth = 1  # the page reached: the 100th, or the last of a smaller debate
    for sort in ("newest", "useful"):
        cursor, reached = None, 1
        for _page in range(99):
            following = thread_pages.page(item, sort=sort, cursor=cursor).next
            if following is None:
                break
            cursor, reached = following, reached + 1
        deep[sort], depth = cursor, reached
    nth = f"{depth}th" if depth > 1 else "1st"
    first = thread_pages.page(item)
    busiest = next(
        (t for t in thread_pages.page(item, focus=facts["busiest_thread"]).threads), None
    )
    ids = list(item.comments.order_by("?").values_list("pk", flat=True)[:20])  # the reference
    table = connection.ops.quote_name("consultation_comment")
    marks = ", ".join(["%s"] * len(ids))

    def reference():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT * FROM {table} WHERE id IN ({marks})", ids)  # noqa: S608
            assert len(cursor.fetchall()) == len(ids)

    client = Client()
    url = item.get_absolute_url()
    deep_url = f"{url}?cursor={deep['newest']}" if deep["newest"] else url

    def get(path):
        def run():
            response = client.get(path)
            assert response.status_code == 200, response.status_code

        return run

    plan = [
        ("reference", "bare SELECT of 20 comments by primary key", reference),
        (
            "before",
            "the whole thread (queries.comment_thread, what the page loaded before)",
            lambda: queries.comment_thread(item, viewer=reader),
        ),
        ("first", "first page, newest first", lambda: thread_pages.page(item, viewer=reader)),
        (
            "deep",
            f"{nth} page, newest first",
            lambda: thread_pages.page(item, cursor=deep["newest"], viewer=reader),
        ),
        (
            "oldest",
            "first page, oldest first",
            lambda: thread_pages.page(item, sort="oldest", viewer=reader),
        ),
        (
            "useful",
            "first page, most useful first",
            lambda: thread_pages.page(item, sort="useful", viewer=reader),
        ),
        (
            "useful_deep",
            f"{nth} page, most useful first",
            lambda: thread_pages.page(item, sort="useful", cursor=deep["useful"], viewer=reader),
        ),
        (
            "replies",
            "first page, most replied first",
            lambda: thread_pages.page(item, sort="replies", viewer=reader),
        ),
        (
            "more_replies",
            f"the busiest thread's next {thread_pages.REPLY_PAGE} replies",
            lambda: thread_pages.page(
                item, focus=facts["busiest_thread"], replies=busiest.more, viewer=reader
            ),
        ),
        (
            "focus",
            "the page of an old reply (?comment=)",
            lambda: thread_pages.page(item, focus=facts["old_reply"], viewer=reader),
        ),
        (
            "search_common",
            f"search “{COMMON}” (in ~8 % of comments), first page",
            lambda: thread_pages.page(item, query=COMMON, viewer=reader),
        ),
        (
            "search_rare",
            f"search “{RARE}” (in ~0.5 %), first page",
            lambda: thread_pages.page(item, query=RARE, viewer=reader),
        ),
        (
            "search_absent",
            "search for a word no comment has",
            lambda: thread_pages.page(item, query="xylophone", viewer=reader),
        ),
        ("http_first", "item page over HTTP, rendered, first page", get(url)),
        ("http_deep", f"item page over HTTP, rendered, {nth} page", get(deep_url)),
        (
            "http_search",
            f"item page over HTTP, rendered, search “{COMMON}”",
            get(f"{url}?q={COMMON}"),
        ),
    ]
    results = {}
    for key, label, function in plan:
        repeats = max(3, args.repeats // 3) if key == "before" else args.repeats
        results[key] = {"label": label, **measure(function, repeats)}
        print(f"  {connection.vendor}: {label}: {results[key]['ms']:.1f} ms", flush=True)
    facts["first_page_comments"] = len(first.pairs())
    args.out.write_text(json.dumps({"facts": facts, "results": results}), encoding="utf-8")


# -------------------------------------------------------------------- in the parent


def run_child(args, backend: str, database_url: str, workdir: Path) -> dict:
    out = workdir / f"{backend}.json"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",  # no query log: CaptureQueriesContext turns it on where it counts
        "HTTPS": "false",
        "SECRET_KEY": "bench-only-" + secrets.token_urlsafe(32),
        "DATABASE_URL": database_url,
        "ALLOWED_HOSTS": "testserver,127.0.0.1",
        "REDIS_URL": "",
        "STATIC_ROOT": str(workdir / "static"),  # pages render with the hashed names
    }
    command = [sys.executable, __file__, "--child", backend, "--out", str(out)]
    command += ["--comments", str(args.comments), "--repeats", str(args.repeats)]
    subprocess.run(command, env=env, check=True, timeout=CHILD_TIMEOUT, cwd=ROOT)
    return json.loads(out.read_text(encoding="utf-8"))


def postgres_database(url: str):
    """A fresh database on the server of ``url`` (created here, dropped by the caller), or
    None when no PostgreSQL answers."""
    try:
        import psycopg
    except ImportError:
        return None
    name = f"agora_bench_comments_{os.getpid()}"
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as error:
        print(f"PostgreSQL skipped: {error}".strip())
        return None
    return name, url.rsplit("/", 1)[0] + "/" + name


def drop_postgres(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def machine() -> dict:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "loadavg": os.getloadavg(),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
        ).stdout.strip(),
    }


def print_report(runs: dict) -> None:
    backends = list(runs)
    any_run = next(iter(runs.values()))
    facts = any_run["facts"]
    print(
        f"\n{facts['roots'] + facts['replies']:,} comments on one item: {facts['roots']:,} "
        f"threads, {facts['replies']:,} replies (the busiest thread has "
        f"{facts['busiest_replies']:,}, the deepest reply is {facts['deepest']} deep), "
        f"{facts['marks']:,} useful marks; median ms of the repeats, SQL statements, "
        "and the ratio to the bare SELECT of the same run\n"
    )
    header = "| measurement |" + "".join(f" {b} ms | SQL | × ref |" for b in backends)
    print(header)
    print("|---|" + "---:|---:|---:|" * len(backends))
    for key, row in any_run["results"].items():
        cells = []
        for backend in backends:
            result = runs[backend]["results"][key]
            reference = runs[backend]["results"]["reference"]["ms"]
            ratio = result["ms"] / reference if reference else float("nan")
            cells.append(f" {result['ms']:.1f} | {result['sql']} | {ratio:,.0f}x |")
        print(f"| {row['label']} |" + "".join(cells))


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child:
        child_main(args)
        return 0
    started = time.strftime("%Y%m%d-%H%M%S")
    runs = {}
    with tempfile.TemporaryDirectory(prefix="agora-bench-comments-") as workdir:
        work = Path(workdir)
        print(f"sqlite: seeding {args.comments:,} comments and measuring...", flush=True)
        runs["sqlite"] = run_child(args, "sqlite", f"sqlite:///{work / 'bench.sqlite3'}", work)
        created = None if args.no_postgres else postgres_database(args.postgres_url)
        if created is not None:
            name, url = created
            try:
                print(f"postgres: seeding {args.comments:,} comments and measuring...")
                runs["postgres"] = run_child(args, "postgres", url, work)
            finally:
                drop_postgres(args.postgres_url, name)
    print_report(runs)
    results = {"machine": machine(), "comments": args.comments, "runs": runs}
    path = args.json or Path(tempfile.gettempdir()) / "agora-bench" / f"comments-{started}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nresults: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
