"""Mass mail benchmark: N personal results e-mails through Agora, against a bare smtplib
loop sending the same messages, to the same local SMTP server.

Seeds a published consultation whose N participants each voted on two measures and graded
one (``tests/notices/stage.published_with``), in a throwaway PostgreSQL database (created
for the run on ``--postgres-url`` and dropped after it; ``--sqlite`` for the embedded
backend), then measures:

- *fan-out*: the notices written for the N participants, chunk by chunk as the worker does
  (``notices.fanout.run_chunk``: their settings read, the notices bulk-inserted once each,
  the e-mails queued);
- *agora*: the N e-mails sent by ``notices.delivery.deliver``, batch by batch
  (``NOTICE_EMAIL_BATCH``, one SMTP connection each): claim, build each personal message
  in its recipient's language (templates, the unsubscribe link, MIME), send, mark it sent
  — in ``--workers`` processes at once, as that many Celery workers would;
- *reference*: a bare ``smtplib`` loop replaying the very bytes the server received from
  Agora, one connection per batch as well, from one process;
- *pace*: ``--pace-people`` of those e-mails sent again with ``NOTICE_EMAILS_PER_SECOND``
  set to ``--pace``, by ``--pace-workers`` processes at once, sharing the pace through
  Redis as workers do: the rate the server saw, and the most it took in any one second.

The server is aiosmtpd (``tests/support/smtp_sink.py``) in a process of its own on
127.0.0.1. It counts the messages per recipient: the run fails unless each of the N got
exactly one, from Agora and again from the reference, and unless the paced run kept to
the pace. Everything is bounded: N (``--people``, default 20,000), and ``--max-seconds``
for each step.

Agora runs in the production shape's cache: Redis (``--redis-url``, default database 13,
as bench/fanout.py), which the pace is counted in and the unread counters' frames go
through; the broker stays in memory, with no worker (the bench sends the e-mails itself).

    .venv/bin/python bench/mass_mail.py                  # 20,000 e-mails, PostgreSQL
    .venv/bin/python bench/mass_mail.py --people 2000    # a quick look
    .venv/bin/python bench/mass_mail.py --people 100000
    .venv/bin/python bench/mass_mail.py --people 100000 --fanout-only

Results: a table on stdout and JSON (``--json``, default under /tmp/agora-bench/). See
docs/performance.md.
"""

import argparse
import json
import math
import multiprocessing
import os
import platform
import secrets
import smtplib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BATCH = 100


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=20_000, help="e-mails (default 20,000)")
    parser.add_argument("--workers", type=int, default=1, help="sending processes (default 1)")
    parser.add_argument("--max-seconds", type=float, default=1800, help="time allowed to each step")
    parser.add_argument("--fanout-only", action="store_true", help="write the notices only")
    parser.add_argument(
        "--postgres-url",
        default="postgres://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server to create the run's database on (its maintenance database)",
    )
    parser.add_argument("--sqlite", action="store_true", help="the embedded SQLite instead")
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/13",
        help="Redis for the cache (the shared pace) and the frames; '' for none",
    )
    parser.add_argument(
        "--pace", type=float, default=200, help="NOTICE_EMAILS_PER_SECOND to check (0: skip)"
    )
    parser.add_argument("--pace-people", type=int, default=2000, help="e-mails sent paced")
    parser.add_argument("--pace-workers", type=int, default=2, help="processes sending paced")
    parser.add_argument("--json", type=Path, help="where to write the results as JSON")
    parser.add_argument("--child", choices=("agora", "pace", "sink"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not 1 <= args.people <= 200_000 or not 1 <= args.workers <= 16:
        parser.error("--people is 1 to 200,000 and --workers 1 to 16")
    if args.pace < 0 or not 1 <= args.pace_people <= 200_000 or not 1 <= args.pace_workers <= 16:
        parser.error("--pace is 0 or more, --pace-people 1 to 200,000, --pace-workers 1 to 16")
    if args.pace and not args.redis_url and args.pace_workers > 1:
        parser.error("a pace shared by several processes needs Redis (--redis-url)")
    return args


# ----------------------------------------------------------- the SMTP server (a process)


def sink_main(args: argparse.Namespace) -> None:
    """The server, driven by lines on stdin: ``count``, ``dump <path>``, ``reset``, ``quit``;
    each answered with one JSON line on stdout."""
    sys.path.insert(0, str(ROOT))
    import pickle
    from collections import Counter

    from tests.support.smtp_sink import Sink

    with Sink(port=args.port, keep=True) as sink:
        print(json.dumps({"ready": sink.port}), flush=True)
        for line in sys.stdin:
            command, _, rest = line.strip().partition(" ")
            with sink.lock:
                accepted = list(sink.accepted)
            if command == "count":
                per = Counter(r for m in accepted for r in m.recipients)
                answer = {
                    "messages": len(accepted),
                    "recipients": len(per),
                    "most_to_one": max(per.values(), default=0),
                    "connections": len({m.session for m in accepted}),
                    "seconds": (accepted[-1].at - accepted[0].at) if accepted else 0.0,
                }
            elif command == "pace":
                answer = pace_seen(accepted)
            elif command == "dump":
                rows = [(m.sender, list(m.recipients), m.content) for m in accepted]
                Path(rest).write_bytes(pickle.dumps(rows))
                answer = {"dumped": len(rows)}
            elif command == "reset":
                with sink.lock:
                    sink.accepted.clear()
                answer = {"reset": True}
            else:
                break
            print(json.dumps(answer), flush=True)


def pace_seen(accepted: list) -> dict:
    """The rate the server saw: overall, and the most messages within any one second."""
    times = sorted(m.at for m in accepted)
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    spread = times[-1] - times[0] if len(times) > 1 else 0.0
    return {
        "messages": len(times),
        "seconds": spread,
        "rate": (len(times) - 1) / spread if spread else 0.0,
        "most_in_a_second": most,
        "connections": len({m.session for m in accepted}),
    }


class SinkProcess:
    def __init__(self):
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--child", "sink"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        self.port = json.loads(self.process.stdout.readline())["ready"]

    def ask(self, command: str) -> dict:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.write("quit\n")
            self.process.stdin.flush()
            self.process.wait(timeout=30)


# ------------------------------------------------------------ Agora's side (a process)


def _send_share(batches: list[list[int]]) -> int:
    """One sending process: its batches, one after the other, as one worker would."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()  # a process of its own (spawned): its own settings, its own connection
    from django.db import connections

    from consultation.notices import delivery

    sent = 0
    for batch in batches:
        sent += delivery.deliver(batch)["sent"]
    connections.close_all()
    return sent


def agora_main(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from consultation.models import Notice
    from consultation.notices import audience, fanout
    from tests.notices.stage import published_with

    facts: dict = {"backend": connection.vendor}
    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    migrated = time.perf_counter()
    consultation, publication, _emails = published_with(args.people, domain="bench.invalid")
    seeded = time.perf_counter()
    facts.update(migrate_seconds=migrated - started, seed_seconds=seeded - migrated)

    chunks = 0
    for spec in fanout.specs_for(audience.RESULTS, consultation, publication):
        for after, upto in fanout.ranges(fanout.audience_of(spec)):
            fanout.run_chunk(spec, after, upto)  # its e-mails are sent below, timed apart
            chunks += 1
    written = time.perf_counter()
    key = audience.key_for(audience.PERSONAL_RESULTS, consultation.pk, publication.version)
    ids = list(Notice.objects.filter(key=key).order_by("pk").values_list("pk", flat=True))
    facts.update(fanout_seconds=written - seeded, notices=len(ids), chunks=chunks)
    print(
        f"  fan-out: {len(ids):,} notices in {facts['fanout_seconds']:.1f} s "
        f"({len(ids) / facts['fanout_seconds']:,.0f}/s)",
        flush=True,
    )
    if not args.fanout_only:
        batches = [ids[i : i + BATCH] for i in range(0, len(ids), BATCH)]
        shares = [batches[w :: args.workers] for w in range(args.workers)]
        connection.close()
        begun = time.perf_counter()
        if args.workers == 1:
            sent = _send_share(shares[0])
        else:
            with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
                sent = sum(pool.map(_send_share, shares))
        facts.update(send_seconds=time.perf_counter() - begun, sent=sent)
        facts["left"] = Notice.objects.filter(key=key).exclude(email="sent").count()
    args.out.write_text(json.dumps(facts), encoding="utf-8")


def pace_main(args: argparse.Namespace) -> None:
    """Send ``--pace-people`` of the e-mails again, at the pace set in the environment,
    from ``--pace-workers`` processes at once."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from consultation.models import Notice

    mine = Notice.objects.filter(kind=Notice.Kind.PERSONAL_RESULTS).order_by("pk")
    ids = list(mine.values_list("pk", flat=True)[: args.pace_people])
    Notice.objects.filter(pk__in=ids).update(email=Notice.Email.PENDING, email_claimed_at=None)
    batches = [ids[i : i + BATCH] for i in range(0, len(ids), BATCH)]
    shares = [batches[w :: args.pace_workers] for w in range(args.pace_workers)]
    connection.close()
    begun = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(args.pace_workers) as pool:
        sent = sum(pool.map(_send_share, shares))
    facts = {
        "rate_set": settings.NOTICE_EMAILS_PER_SECOND,
        "send_seconds": time.perf_counter() - begun,
        "sent": sent,
        "workers": args.pace_workers,
    }
    args.out.write_text(json.dumps(facts), encoding="utf-8")


def run_child(child: str, args, database_url: str, port: int, workdir: Path) -> dict:
    out = workdir / f"{child}.json"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",  # no query log
        "HTTPS": "false",
        "SECRET_KEY": "bench-only-" + secrets.token_urlsafe(32),
        "DATABASE_URL": database_url,
        "REDIS_URL": args.redis_url,
        # No worker: the bench sends the e-mails itself; what is queued stays in memory.
        "CELERY_BROKER_URL": "memory://localhost/",
        "CELERY_RESULT_BACKEND": "cache+memory://",
        "CELERY_EMBEDDED_WORKER": "false",
        "EMAIL_URL": f"smtp://127.0.0.1:{port}",
        "NOTICE_EMAIL_BATCH": str(BATCH),
        "NOTICE_EMAILS_PER_SECOND": str(args.pace) if child == "pace" else "0",
        "OPEN_DATA_MIN_GROUP": "10",
        "MEDIA_ROOT": str(workdir / "media"),
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, __file__, "--child", child, "--out", str(out)]
    command += ["--people", str(args.people), "--workers", str(args.workers)]
    command += ["--pace-people", str(args.pace_people), "--pace-workers", str(args.pace_workers)]
    command += ["--redis-url", args.redis_url]
    if args.fanout_only:
        command.append("--fanout-only")
    subprocess.run(command, env=env, check=True, timeout=args.max_seconds * 3, cwd=ROOT)
    return json.loads(out.read_text(encoding="utf-8"))


# ----------------------------------------------------------------- the reference loop


def reference(port: int, dump: Path, max_seconds: float) -> dict:
    """Replay the bytes the server received, one connection per batch, nothing else."""
    import pickle

    rows = pickle.loads(dump.read_bytes())  # noqa: S301 (our own file, written just now)
    begun = time.perf_counter()
    for start in range(0, len(rows), BATCH):
        with smtplib.SMTP("127.0.0.1", port, timeout=20) as smtp:
            for sender, recipients, content in rows[start : start + BATCH]:
                smtp.sendmail(sender, recipients, content)
        if time.perf_counter() - begun > max_seconds:
            raise SystemExit(f"reference: over {max_seconds} s, stopped")
    return {"send_seconds": time.perf_counter() - begun, "sent": len(rows)}


# -------------------------------------------------------------------------- the parent


def postgres_database(url: str):
    import psycopg

    name = f"agora_bench_mail_{os.getpid()}"
    with psycopg.connect(url, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
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


def check(count: dict, people: int, who: str) -> None:
    if count["messages"] != people or count["recipients"] != people or count["most_to_one"] != 1:
        raise SystemExit(f"{who}: {count} for {people} people: some missing or twice")


def check_pace(paced: dict, people: int, rate: float) -> list[str]:
    """Whether the operator's rate held, as the server saw it: overall, and in every
    second. The server stamps a message when it accepts it, a little after the slot it was
    sent in (the tenth of a second ``delivery.Pace`` gives it): on a busy machine that
    delay varies, so two messages of neighbouring slots can land together. Allowed: the
    rate plus 5 % overall, and two slots' worth more than the rate in any one second."""
    seen = paced["server"]
    slot = max(1, math.ceil(rate / 10))
    problems = []
    if seen["messages"] != people or paced["sent"] != people:
        problems.append(f"pace: {seen['messages']} messages for {people}")
    if seen["rate"] > rate * 1.05 or seen["most_in_a_second"] > rate + 2 * slot:
        problems.append(f"pace: {seen} for a pace of {rate} a second")
    paced["held"] = not problems
    return problems


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child == "sink":
        sink_main(args)
        return 0
    if args.child == "agora":
        agora_main(args)
        return 0
    if args.child == "pace":
        pace_main(args)
        return 0
    stamp = time.strftime("%Y%m%d-%H%M%S")
    load_before = os.getloadavg()
    sink = SinkProcess()
    created = None
    problems: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="agora-bench-mail-") as workdir:
            work = Path(workdir)
            if args.sqlite:
                url = f"sqlite:///{work / 'bench.sqlite3'}"
            else:
                created = postgres_database(args.postgres_url)
                url = created[1]
            backend = "sqlite" if args.sqlite else "postgres"
            print(f"{args.people:,} personal results e-mails ({backend})")
            agora = run_child("agora", args, url, sink.port, work)
            results: dict = {"people": args.people, "workers": args.workers, "agora": agora}
            if not args.fanout_only:
                agora["server"] = sink.ask("count")
                check(agora["server"], args.people, "agora")
                dump = work / "messages.pickle"
                sink.ask(f"dump {dump}")
                sink.ask("reset")
                ref = reference(sink.port, dump, args.max_seconds)
                ref["server"] = sink.ask("count")
                check(ref["server"], args.people, "reference")
                results["reference"] = ref
                if args.pace:
                    sink.ask("reset")
                    paced = run_child("pace", args, url, sink.port, work)
                    paced["server"] = sink.ask("pace")
                    problems += check_pace(paced, min(args.pace_people, args.people), args.pace)
                    results["pace"] = paced
    finally:
        sink.close()
        if created is not None:
            drop_postgres(args.postgres_url, created[0])
    results["machine"] = {**machine(), "loadavg_before": load_before}
    report(results)
    path = args.json or Path(tempfile.gettempdir()) / "agora-bench" / f"mass-mail-{stamp}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nresults: {path}")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


def report(results: dict) -> None:
    agora, people = results["agora"], results["people"]
    print(
        f"\nseeded in {agora['seed_seconds']:.1f} s; fan-out: {agora['notices']:,} notices in "
        f"{agora['chunks']} chunks, {agora['fanout_seconds']:.1f} s "
        f"({agora['notices'] / agora['fanout_seconds']:,.0f} notices/s)"
    )
    machine = results["machine"]
    print(
        f"load average before {machine['loadavg_before'][0]:.2f}, "
        f"after {machine['loadavg'][0]:.2f} (1 min); commit {machine['commit']}"
    )
    if "reference" not in results:
        return
    ref = results["reference"]
    ours = people / agora["send_seconds"]
    theirs = people / ref["send_seconds"]
    print(f"\n| sending {people:,} e-mails | seconds | msgs/s | x reference |")
    print("|---|---:|---:|---:|")
    workers = results["workers"]
    print(
        f"| agora: deliver, {workers} process{'es' if workers > 1 else ''} "
        f"| {agora['send_seconds']:.1f} | {ours:,.0f} | {theirs / ours:.2f}x slower |"
    )
    print(
        f"| reference: bare smtplib, same bytes | {ref['send_seconds']:.1f} | {theirs:,.0f} | 1 |"
    )
    print(
        f"\neach of the {people:,} recipients got exactly one message from each; "
        f"{agora['server']['connections']} SMTP connections from Agora "
        f"(batches of {BATCH}); ratio agora/reference = {ours / theirs:.2f}"
    )
    if "pace" in results:
        paced, seen = results["pace"], results["pace"]["server"]
        print(
            f"\npace: NOTICE_EMAILS_PER_SECOND={paced['rate_set']:g}, {paced['workers']} "
            f"processes: {seen['messages']:,} e-mails in {seen['seconds']:.1f} s, "
            f"{seen['rate']:.1f}/s seen by the server, at most {seen['most_in_a_second']} "
            f"in any one second: {'held' if paced['held'] else 'NOT HELD'}"
        )


if __name__ == "__main__":
    sys.exit(main())
