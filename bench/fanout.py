"""Fan-out benchmark: Agora's websocket stream against a bare websockets + Redis server.

For each N, each server is started fresh on 127.0.0.1, N clients connect (a connect
storm spread over a few client processes) and wait for their snapshot, then tally
frames are published one at a time, ``--spacing`` apart, and every client's receive
time is recorded. Agora's frames go through its real publishing function
(``consultation.live.events.publish_tally``); the reference gets a plain Redis PUBLISH of
a frame of the same shape. Printed per N, for both servers and as a ratio:

- connect time: from "connect" until all N clients hold their snapshot (a reconnect
  storm: a process redeployed sends its sockets to the others at once), and the
  server's CPU per connect;
- memory per idle connection: server RSS with N idle sockets minus RSS before, / N;
- last-client latency: time from just before publishing until the LAST of the N
  clients has the frame, median and p90 over the measured sends;
- deliveries/s: N / median last-client latency;
- lost frames: deliveries expected (clients × sends) minus deliveries received;
- connect failures and Redis connection-pool errors in the server's log.

    .venv/bin/python bench/fanout.py            # N = 100, 1,000, 5,000; 20 sends each
    .venv/bin/python bench/fanout.py --quick    # N = 100, 500; 10 sends (CI-sized, < 60 s)
    .venv/bin/python bench/fanout.py --sizes 5000 --signed-in 5000   # a storm of sessions

Results: a table on stdout and JSON (``--json``, default under /tmp/agora-bench/).
Needs Redis (``--redis-url``, default database 13). See docs/performance.md.
"""

import argparse
import contextlib
import json
import math
import multiprocessing
import os
import resource
import signal
import statistics
import sys
import tempfile
import time
from multiprocessing.connection import wait
from pathlib import Path

from clients import worker_main
from servers import HOST, AsgiFloorSide, ProjectSide, ReferenceSide, free_port

TARGET_N = 5000
TARGET_LATENCY_RATIO = 1.5
TARGET_MEMORY_RATIO = 2.0
TARGET_CONNECT_RATIO = 2.0  # a reconnect storm (issue 13)
CONSULTATION_ITEMS = 5


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Fan-out benchmark: Agora vs a bare websockets + Redis broadcaster."
    )
    parser.add_argument("--quick", action="store_true", help="CI-sized: N=100,500, 10 sends")
    parser.add_argument("--sizes", default="100,1000,5000", help="comma-separated client counts")
    parser.add_argument("--sends", type=int, default=20, help="measured sends per N")
    parser.add_argument(
        "--storms",
        type=int,
        default=3,
        help="connect storms per server, taking turns; the median is reported",
    )
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured sends first")
    parser.add_argument("--spacing", type=float, default=0.3, help="seconds between sends")
    parser.add_argument("--wait", type=float, default=5.0, help="max seconds for one send")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--only", choices=("project", "reference"))
    parser.add_argument(
        "--asgi-floor",
        action="store_true",
        help="also measure bench/refs/asgi_floor.py (uvicorn without Django/Channels)",
    )
    parser.add_argument("--workers", type=int, default=0, help="client processes (0: auto)")
    parser.add_argument("--ws", default="websockets-sansio", help="uvicorn --ws implementation")
    parser.add_argument(
        "--client",
        choices=("light", "websockets"),
        default="light",
        help="client implementation (see bench/clients.py)",
    )
    parser.add_argument(
        "--no-deflate",
        dest="deflate",
        action="store_false",
        help="clients do not offer permessage-deflate (browsers do)",
    )
    parser.add_argument(
        "--signed-in",
        type=int,
        default=0,
        metavar="K",
        help="K of the N clients carry a session of an account of their own (0: all anonymous)",
    )
    parser.add_argument("--connect-timeout", type=float, default=60.0)
    parser.add_argument("--json", type=Path, help="where to write the results as JSON")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.sends, args.warmup, args.storms = "100,500", 10, 1, 2
    args.sizes = [int(n) for n in args.sizes.split(",")]
    return args


def raise_open_files_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def auto_workers(n: int) -> int:
    # Two client processes measured best on two cores (the server needs the other one).
    return 1 if n <= 1000 else 2


class Clients:
    """N clients spread over a few worker processes, driven over pipes."""

    def __init__(self, url, origin, n: int, workers: int, args: argparse.Namespace, cookies=()):
        context = multiprocessing.get_context("spawn")  # no inherited Django or Redis state
        self.pipes = []
        self.processes = []
        shares = [n // workers + (i < n % workers) for i in range(workers)]
        cookies = list(cookies)
        for index, share in enumerate(shares):
            parent_end, child_end = context.Pipe()
            # 1,000 handshakes in flight in all: a storm, inside uvicorn's backlog of 2,048.
            concurrency = max(1, 1000 // workers)
            process = context.Process(
                target=worker_main,
                args=(
                    child_end,
                    url,
                    origin,
                    share,
                    concurrency,
                    args.connect_timeout,
                    args.client,
                    args.deflate,
                    cookies[index::workers],  # signed-in clients spread over the workers
                ),
                daemon=True,
            )
            process.start()
            child_end.close()
            self.pipes.append(parent_end)
            self.processes.append(process)
        self.completions: dict[int, int] = {}
        self.gather("ready", timeout=30)

    def gather(self, kind: str, timeout: float) -> list[tuple]:
        """One ``kind`` message from every worker (``complete`` ones are tallied aside)."""
        answers: dict[int, tuple] = {}
        deadline = time.monotonic() + timeout
        while len(answers) < len(self.pipes):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{len(answers)}/{len(self.pipes)} workers answered {kind!r}")
            for pipe in wait([p for i, p in enumerate(self.pipes) if i not in answers], remaining):
                message = self.receive(pipe)
                if message[0] == "complete":
                    self.completions[message[1]] = self.completions.get(message[1], 0) + 1
                elif message[0] == kind:
                    answers[self.pipes.index(pipe)] = message
        return [answers[i] for i in range(len(self.pipes))]

    def receive(self, pipe) -> tuple:
        try:
            return pipe.recv()
        except EOFError:
            process = self.processes[self.pipes.index(pipe)]
            process.join(timeout=1)
            raise RuntimeError(f"a client process died (exit code {process.exitcode})") from None

    def connect(self, timeout: float) -> tuple[int, dict]:
        for pipe in self.pipes:
            pipe.send(("connect",))
        opened, failures = 0, {}
        for _, count, errors in self.gather("connected", timeout):
            opened += count
            for name, k in errors.items():
                failures[name] = failures.get(name, 0) + k
        return opened, failures

    def drop(self, timeout: float) -> int:
        """Every client closes its socket (for another storm)."""
        for pipe in self.pipes:
            pipe.send(("drop",))
        return sum(count for _, count in self.gather("dropped", timeout))

    def wait_complete(self, seq: int, timeout: float) -> bool:
        """Until every worker says all its clients have ``seq``, or ``timeout``."""
        deadline = time.monotonic() + timeout
        while self.completions.get(seq, 0) < len(self.pipes):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            for pipe in wait(self.pipes, remaining):
                message = self.receive(pipe)
                if message[0] == "complete":
                    self.completions[message[1]] = self.completions.get(message[1], 0) + 1
        return True

    def report(self) -> tuple[dict[int, tuple[int, float]], dict]:
        for pipe in self.pipes:
            pipe.send(("report",))
        merged: dict[int, tuple[int, float]] = {}
        counters: dict = {}
        for _, received, stats in self.gather("report", timeout=30):
            for seq, (count, latest) in received.items():
                before = merged.get(seq, (0, 0.0))
                merged[seq] = (before[0] + count, max(before[1], latest))
            for name, value in stats.items():
                counters[name] = (
                    max(counters.get(name, 0), value)
                    if name == "frame_bytes"
                    else (counters.get(name, 0) + value)
                )
        return merged, counters

    def stop(self) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(OSError):  # that worker is already gone
                pipe.send(("stop",))
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join(timeout=5)


def warm_up_one_client(url: str, origin: str) -> None:
    """One connection before the baseline: imports, pools and subscriptions are made."""
    from websockets.sync.client import connect

    with connect(url, origin=origin, open_timeout=30) as websocket:
        websocket.recv(timeout=30)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


class Trial:
    """One server and its N clients, from start to stop; sends are driven from outside."""

    def __init__(self, side, n: int, args: argparse.Namespace, cookies=()):
        self.side = side
        self.cookies = cookies
        self.n = n
        self.args = args
        self.port = free_port()
        self.server = side.server(self.port)
        self.clients: Clients | None = None
        self.sent: dict[int, float] = {}  # seq -> time.time() just before publishing
        self.measured: list[int] = []
        self.send_cpu = 0.0
        self.publish_calls: list[float] = []  # seconds inside side.publish()
        self.result: dict = {"n": n}

    def open(self) -> None:
        """Start the server, then a connect storm of N clients; read memory once idle."""
        url, origin = self.side.url(self.port), f"http://{HOST}:{self.port}"
        self.server.start()
        warm_up_one_client(url, origin)
        time.sleep(0.5)
        rss_before = self.server.rss_bytes()
        workers = self.args.workers or auto_workers(self.n)
        self.clients = Clients(url, origin, self.n, workers, self.args, self.cookies)
        cpu_before = self.server.cpu_seconds()
        started = time.perf_counter()
        opened, failures = self.clients.connect(timeout=self.args.connect_timeout + 30)
        connect_seconds = time.perf_counter() - started
        connect_cpu = self.server.cpu_seconds() - cpu_before
        self.storms = [(connect_seconds, 1000 * connect_cpu / max(opened, 1))]
        time.sleep(1.0)  # let the storm settle before reading memory
        rss_idle = self.server.rss_bytes()
        self.result.update(
            workers=workers,
            signed_in=min(len(self.cookies), self.n),
            opened=opened,
            connect_failures=failures,
            failures_total=sum(failures.values()),
            connect_s=connect_seconds,
            connect_cpu_ms_per_conn=1000 * connect_cpu / max(opened, 1),
            rss_before_mib=rss_before / 2**20,
            rss_idle_mib=rss_idle / 2**20,
            memory_per_conn_kib=(rss_idle - rss_before) / 1024 / max(opened, 1),
        )

    def storm_again(self) -> None:
        """Close every socket, let the server see them go, then the same storm again."""
        self.clients.drop(timeout=60)
        time.sleep(2.0)  # the server's disconnect work must not count in this storm
        cpu_before = self.server.cpu_seconds()
        started = time.perf_counter()
        opened, failures = self.clients.connect(timeout=self.args.connect_timeout + 30)
        seconds = time.perf_counter() - started
        cpu = self.server.cpu_seconds() - cpu_before
        self.storms.append((seconds, 1000 * cpu / max(opened, 1)))
        self.result["failures_total"] += sum(failures.values())
        for name, count in failures.items():
            self.result["connect_failures"][name] = (
                self.result["connect_failures"].get(name, 0) + count
            )

    def send(self, measured: bool) -> None:
        """Publish one frame and wait (bounded) until every client has it."""
        cpu_before = self.server.cpu_seconds()
        published_at = time.time()
        seq = self.side.publish()
        self.sent[seq] = published_at
        if measured:
            self.measured.append(seq)
            self.publish_calls.append(time.time() - published_at)
        self.clients.wait_complete(seq, self.args.wait)
        self.send_cpu += self.server.cpu_seconds() - cpu_before

    def collect(self) -> dict:
        received, counters = self.clients.report()
        opened = self.result["opened"]
        latencies = [received[s][1] - self.sent[s] for s in self.measured if s in received]
        delivered = sum(received.get(seq, (0, 0.0))[0] for seq in self.sent)
        median = statistics.median(latencies) if latencies else math.nan
        self.result.update(
            sends=len(self.measured),
            latency_median_ms=1000 * median,
            latency_p90_ms=1000 * percentile(latencies, 0.9) if latencies else math.nan,
            latencies_ms=[round(1000 * x, 2) for x in latencies],
            deliveries_per_s=opened / median if latencies else math.nan,
            publish_call_ms=1000 * statistics.median(self.publish_calls or [math.nan]),
            expected_deliveries=opened * len(self.sent),
            lost_frames=opened * len(self.sent) - delivered,
            send_cpu_us_per_delivery=1e6 * self.send_cpu / max(delivered, 1),
            frame_bytes=counters.get("frame_bytes", 0),
            gaps=counters.get("gaps", 0),
            stale=counters.get("stale", 0),
            dropped=counters.get("dropped", 0),
            pool_errors=self.server.pool_errors(),  # read before shutdown adds its own lines
            tracebacks=self.server.tracebacks(),
        )
        return self.result

    def stop(self) -> None:
        if self.clients is not None:
            self.clients.stop()
        self.server.stop()


def measure(sides: list, n: int, args: argparse.Namespace, cookies=()) -> dict[str, dict]:
    """All servers up with N clients each, then sends alternating between them.

    Alternating (and rotating who goes first) exposes every server to the same
    background load, so the ratios hold even on a machine that is not idle.
    """
    trials = [Trial(side, n, args, cookies) for side in sides]
    try:
        for trial in trials:
            trial.open()
        for round_ in range(args.warmup + args.sends):
            shift = round_ % len(trials)
            for trial in trials[shift:] + trials[:shift]:
                started = time.monotonic()
                trial.send(measured=round_ >= args.warmup)
                time.sleep(max(started + args.spacing - time.monotonic(), 0.05))
        results = {trial.side.name: trial.collect() for trial in trials}
        # More storms, the servers taking turns (and who goes first rotating), so that a
        # moment of background load weighs on each alike: the median is the figure.
        for round_ in range(args.storms - 1):
            shift = round_ % len(trials)
            for trial in trials[shift:] + trials[:shift]:
                trial.storm_again()
        for trial in trials:
            seconds = [s for s, _ in trial.storms]
            cpu = [c for _, c in trial.storms]
            trial.result.update(
                storms=len(trial.storms),
                storm_connect_s=[round(x, 3) for x in seconds],
                storm_cpu_ms_per_conn=[round(x, 3) for x in cpu],
                connect_s=statistics.median(seconds),
                connect_cpu_ms_per_conn=statistics.median(cpu),
            )
        return results
    finally:
        for trial in trials:
            trial.stop()


ROWS = [
    # label, key, format, ratio shown
    ("connect time, median of storms (s)", "connect_s", "{:.2f}", True),
    ("server CPU per connect, median (ms)", "connect_cpu_ms_per_conn", "{:.2f}", True),
    ("memory / idle connection (KiB)", "memory_per_conn_kib", "{:.1f}", True),
    ("last-client latency median (ms)", "latency_median_ms", "{:.1f}", True),
    ("last-client latency p90 (ms)", "latency_p90_ms", "{:.1f}", True),
    ("  of which the publish call (ms)", "publish_call_ms", "{:.1f}", True),
    ("deliveries/s", "deliveries_per_s", "{:,.0f}", True),
    ("server CPU per delivery (µs)", "send_cpu_us_per_delivery", "{:.1f}", True),
    ("lost frames", "lost_frames", "{}", False),
    ("connect failures", "failures_total", "{}", False),
    ("pool errors in server log", "pool_errors", "{}", False),
    ("tracebacks in server log", "tracebacks", "{}", False),
    ("tally frame (bytes)", "frame_bytes", "{}", False),
]


def ratio(project: dict, reference: dict, key: str) -> float:
    try:
        return project[key] / reference[key]
    except (KeyError, ZeroDivisionError, TypeError):
        return math.nan


def verdicts(project: dict, reference: dict | None) -> dict[str, bool]:
    """The issue's targets; latency and memory need the reference of the same run."""
    result = {
        "zero lost frames": project["lost_frames"] == 0,
        "zero connect failures / pool errors": (
            project["failures_total"] == 0 and project["pool_errors"] == 0
        ),
    }
    if reference is not None:
        result[f"latency <= {TARGET_LATENCY_RATIO}x reference"] = (
            ratio(project, reference, "latency_median_ms") <= TARGET_LATENCY_RATIO
        )
        result[f"memory/conn <= {TARGET_MEMORY_RATIO}x reference"] = (
            ratio(project, reference, "memory_per_conn_kib") <= TARGET_MEMORY_RATIO
        )
        result[f"connect time <= {TARGET_CONNECT_RATIO}x reference"] = (
            ratio(project, reference, "connect_s") <= TARGET_CONNECT_RATIO
        )
    return result


def print_table(n: int, results: dict[str, dict]) -> None:
    project, reference = results.get("project"), results.get("reference")
    floor = results.get("asgi-floor")
    columns = [("project", project), ("reference", reference)]
    if floor:
        columns.append(("asgi-floor", floor))
    some = next(r for _, r in columns if r)
    signed_in = f", {some['signed_in']:,} signed in" if some.get("signed_in") else ""
    print(
        f"\nN = {n:,}  ({some['sends']} measured sends, {some['workers']} client processes"
        f"{signed_in})"
    )
    print(f"{'':34}" + "".join(f"{name:>12}" for name, _ in columns) + f"{'ratio':>9}")
    for label, key, fmt, with_ratio in ROWS:
        cells = "".join(f"{fmt.format(r[key]) if r else '-':>12}" for _, r in columns)
        shown = ""
        if with_ratio and project and reference:
            shown = f"{ratio(project, reference, key):.2f}x"
        print(f"{label:34}{cells}{shown:>9}")
    if project and reference and len(project["latencies_ms"]) == len(reference["latencies_ms"]):
        # Round k of one server went right before or after round k of the other.
        pairs = zip(project["latencies_ms"], reference["latencies_ms"], strict=True)
        paired = [a / b for a, b in pairs]
        if paired:
            print(
                f"  latency ratio send by send: median {statistics.median(paired):.2f}x,"
                f" range {min(paired):.2f}x-{max(paired):.2f}x"
            )
    if project and reference and project.get("storms", 0) > 1:
        storms = zip(project["storm_connect_s"], reference["storm_connect_s"], strict=False)
        shown = ", ".join(f"{a / b:.2f}x" for a, b in storms)
        print(f"  connect time storm by storm: {shown} (the first before the sends)")
    if project:
        scope = "target" if n >= TARGET_N else "target (set for N=5,000; shown for reference)"
        for name, held in verdicts(project, reference).items():
            print(f"  {'ok  ' if held else 'MISS'} {name}  [{scope}]")


def machine(redis_url: str) -> dict:
    """What the numbers depend on, recorded next to them."""
    import platform
    from importlib.metadata import version

    import redis

    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), "")
    packages = ("uvicorn", "websockets", "channels", "Django", "redis", "uvloop")
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "redis_server": redis.Redis.from_url(redis_url).info("server")["redis_version"],
        # Other work on the machine shares the two cores; sends alternate between the
        # servers so ratios hold, but absolute numbers move with this.
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        **{name: version(name) for name in packages},
    }


def signed_in_cookies(count: int) -> list[str]:
    """Session cookies of ``count`` accounts, each signed in as Django's login leaves it.

    Created in the project's throwaway database (``ProjectSide.prepare`` set Django up
    here). The other servers get the same cookies and ignore them: they know no one.
    """
    if "django" not in sys.modules:
        raise SystemExit("--signed-in needs the project's side (not --only reference)")
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    store = import_module(settings.SESSION_ENGINE).SessionStore
    tag = os.urandom(4).hex()
    with transaction.atomic():
        users = get_user_model().objects.bulk_create(
            get_user_model()(
                email=f"bench-{tag}-{i}@example.org",
                display_name=f"Bench {i}",
                password=make_password(None),  # no one logs in by password here
            )
            for i in range(count)
        )
        cookies = []
        for user in users:
            session = store()
            session[SESSION_KEY] = str(user.pk)
            session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.save()
            cookies.append(f"{settings.SESSION_COOKIE_NAME}={session.session_key}")
    return cookies


def main(argv=None) -> int:
    args = parse_args(argv)
    limit = raise_open_files_limit()
    if limit < 2 * max(args.sizes) + 200:
        print(f"warning: open-files hard limit {limit} is low for N={max(args.sizes)}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks
    workdir = Path(tempfile.mkdtemp(prefix="agora-bench-"))
    sides = []
    if args.only != "project":
        sides.append(ReferenceSide(workdir, args.redis_url, CONSULTATION_ITEMS))
    if args.asgi_floor:
        sides.append(AsgiFloorSide(workdir, args.redis_url, CONSULTATION_ITEMS, args.ws))
    if args.only != "reference":
        sides.append(ProjectSide(workdir, args.redis_url, CONSULTATION_ITEMS, args.ws))
    started = time.monotonic()
    all_results = []
    environment = machine(args.redis_url)
    print(", ".join(f"{key} {value}" for key, value in environment.items()))
    try:
        for side in sides:
            side.prepare()
        cookies = signed_in_cookies(args.signed_in) if args.signed_in else []
        for n in args.sizes:
            results = measure(sides, n, args, cookies)
            print_table(n, results)
            all_results.append(results)
    finally:
        for side in sides:
            side.cleanup()
    elapsed = time.monotonic() - started
    print(f"\n{len(args.sizes)} sizes in {elapsed:.0f} s; server logs in {workdir}")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    output = args.json or Path(tempfile.gettempdir()) / "agora-bench" / f"fanout-{stamp}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    settings = {k: v for k, v in vars(args).items() if k != "json"}
    environment["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    document = {"machine": environment, "args": settings, "results": all_results}
    output.write_text(json.dumps(document, indent=2))
    print(f"results: {output}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # servers and clients were stopped on the way out
        sys.exit("interrupted")
