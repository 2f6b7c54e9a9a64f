"""Counting benchmark: consultation.counting against pref_voting and plain numpy references.

Every measurement runs in its own child process that loads the same ballots from an .npy
file, so peak memory (``ru_maxrss`` of that child) is comparable. Ratios come from the same
run. Goals (issue 5), printed with their ratio and whether they hold:

1. Schulze on 1M ballots x 30 items from raw ballots >= 100x faster than pref_voting, on the
   same ballots (full rankings: pref_voting's ``Profile`` needs them, and with full rankings
   its margin strength and our winning-votes strength give the same Schulze result);
2. ... with <= 0.25x its peak memory;
3. Schulze on 1M x 100 (top-5 ballots) from raw ballots in <= 3 s;
4. Schulze from an already-built 100-item pairwise matrix in <= 5 ms;
5. majority judgment on 1M ballots x 30 grades >= 2x faster than ``numpy.median``;
6. Borda and 7. instant-runoff on 1M x 30 (top-5) within 1.2x of bench/refs/numpy_reference.

pref_voting runs in a child with a timeout. By default it runs at n/10 (n/5 with --quick) and
its time and extra memory are extrapolated linearly to n (its profile is built ballot by
ballot in Python, so time is linear in n); ``--pv-ballots 1000000`` measures it at 1M. The
output says which it did.

    .venv/bin/python bench/aggregate.py            # 1M ballots (about 3 minutes)
    .venv/bin/python bench/aggregate.py --pv-ballots 1000000   # pref_voting measured at 1M
    .venv/bin/python bench/aggregate.py --quick    # 100k ballots, pref_voting at 20k (< 1 min)

Needs the ``bench`` extra (pref_voting): ``make bench`` installs it. Results: a table on
stdout and JSON (``--json``, default under /tmp/agora-bench/). See docs/performance.md.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

SEED = 20261201
# What each goal compares, how it is printed, and whether its ratio must be at least
# (">=") or at most ("<=") the target.
GOALS = {
    "schulze_vs_pref_voting": ("Schulze 30 items vs pref_voting, speed-up{note}", ">=", 100.0, "x"),
    "schulze_memory": ("Schulze 30 items, peak memory / pref_voting's{note}", "<=", 0.25, "x"),
    "schulze_1m_x_100_seconds": (
        "Schulze 100 items (top-5) from raw ballots, seconds",
        "<=",
        3.0,
        " s",
    ),
    "schulze_matrix_ms": (
        "Schulze from a 100-item matrix, CPU ms (median of 200)",
        "<=",
        5.0,
        " ms",
    ),
    "mj_vs_median": ("majority judgment 30 items, numpy.median time / ours", ">=", 2.0, "x"),
    "borda_vs_reference": ("Borda 30 items (top-5), ours / numpy reference", "<=", 1.2, "x"),
    "irv_vs_reference": ("instant-runoff 30 items (top-5), ours / numpy reference", "<=", 1.2, "x"),
}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="100k ballots, pref_voting at 20k")
    parser.add_argument("--ballots", type=int, help="ballots (default 1M, 100k with --quick)")
    parser.add_argument("--pv-timeout", type=float, default=400.0, help="seconds for pref_voting")
    parser.add_argument("--pv-ballots", type=int, help="run pref_voting at this n (extrapolate)")
    parser.add_argument("--skip-pref-voting", action="store_true")
    parser.add_argument(
        "--pv-truncated",
        type=int,
        default=5000,
        help="ballots for pref_voting's truncated-ballot path (timed only)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="best of N for our timings")
    parser.add_argument("--json", type=Path, help="where to write the results as JSON")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# ------------------------------------------------------------------------ the ballots


def plackett_luce(rng, n: int, m: int, k: int) -> np.ndarray:
    """Top-k rankings from a Plackett-Luce model (Gumbel-max trick), in chunks."""
    utility = np.linspace(1.0, 0.0, m)
    out = np.empty((n, k), dtype=np.int8 if m <= 127 else np.int16)
    for start in range(0, n, 100_000):
        size = min(100_000, n - start)
        noisy = rng.gumbel(size=(size, m)) + utility
        top = np.argpartition(-noisy, k - 1, axis=1)[:, :k] if k < m else np.arange(m)[None]
        top = np.broadcast_to(top, (size, k))
        order = np.argsort(-np.take_along_axis(noisy, top, axis=1), axis=1)
        out[start : start + size] = np.take_along_axis(top, order, axis=1)
    return out


def write_data(directory: Path, n: int) -> dict[str, Path]:
    rng = np.random.default_rng(SEED)
    files = {}
    top5 = plackett_luce(rng, n, 30, 5)
    top5[rng.random(n) < 0.2, 3:] = -1  # a fifth of the citizens rank only three items
    datasets = {
        "full30": plackett_luce(rng, n, 30, 30),
        "top5_30": top5,
        "top5_100": plackett_luce(rng, n, 100, 5),
        "grades30": rng.choice(7, size=(n, 30), p=[0.1, 0.1, 0.15, 0.2, 0.2, 0.15, 0.1]).astype(
            np.int8
        ),
    }
    for name, array in datasets.items():
        files[name] = directory / f"{name}.npy"
        np.save(files[name], array)
    return files


# ------------------------------------------------------------------- child processes


def status_kib(field: str) -> int:
    """VmRSS (now) or VmHWM (peak) of this process. Not ru_maxrss: Linux keeps that across
    exec, so a child would report its parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def best_of(repeats: int, function):
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - start)
    return min(times), value


def child_main(args: argparse.Namespace) -> None:
    ballots = np.load(args.data)
    base = status_kib("VmRSS")
    report = CHILD_TASKS[args.child](ballots, args.repeats)
    report |= {"base_rss_kib": base, "peak_rss_kib": status_kib("VmHWM")}
    print(json.dumps(report))


def task_ours_schulze(ballots, repeats):
    from consultation.counting import RankingProfile, schulze

    m = 100 if ballots.max() >= 30 else 30
    candidates = tuple(range(m))

    def run():
        return schulze(RankingProfile(candidates, ballots))

    seconds, result = best_of(repeats, run)
    return {"seconds": seconds, "winners": list(result.winners), "order": list(result.order)}


def task_pref_voting_schulze(ballots, repeats):
    from pref_voting.margin_based_methods import beat_path
    from pref_voting.profiles import Profile

    start = time.perf_counter()
    profile = Profile(ballots.astype(int))
    built = time.perf_counter()
    winners = beat_path(profile)
    done = time.perf_counter()
    return {
        "seconds": done - start,
        "profile_seconds": built - start,
        "schulze_seconds": done - built,
        "winners": [int(w) for w in winners],
    }


def task_pref_voting_truncated(ballots, repeats):
    """pref_voting's path for truncated ballots: ProfileWithTies with extended strict
    preference (ranked above unranked, as ours). Timed only: it uses margins, which on
    truncated ballots may differ from our winning votes."""
    from pref_voting.margin_based_methods import beat_path
    from pref_voting.profiles_with_ties import ProfileWithTies

    m = 30
    start = time.perf_counter()
    rankings = [{int(c): r + 1 for r, c in enumerate(row) if c >= 0} for row in ballots]
    profile = ProfileWithTies(rankings, candidates=list(range(m)))
    profile.use_extended_strict_preference()
    winners = beat_path(profile)
    return {"seconds": time.perf_counter() - start, "winners": [int(w) for w in winners]}


def task_matrix(ballots, repeats):
    from consultation.counting import RankingProfile, pairwise_update, schulze

    m = 100
    profile = RankingProfile(tuple(range(m)), ballots)
    matrix = profile.pairwise().copy()
    runs = 200
    times, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = schulze(matrix, profile.candidates, profile.n_ballots)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    updates = 10_000
    rng = np.random.default_rng(SEED)
    replacements = [list(rng.permutation(m)[:5]) for _ in range(updates)]
    start = time.perf_counter()
    for row, new in enumerate(replacements):
        pairwise_update(matrix, [int(i) for i in ballots[row] if i >= 0], new)
    update_seconds = (time.perf_counter() - start) / updates
    return {
        "seconds": float(np.median(times)),
        "cpu_seconds": float(np.median(cpu)),
        "best_seconds": min(times),
        "update_seconds": update_seconds,
        "winners": list(result.winners),
    }


def task_mj(grades, repeats):
    from consultation.counting import GradeProfile, majority_judgment

    candidates = tuple(range(grades.shape[1]))
    ours, ref = [], []
    for _ in range(repeats):  # alternate, so background load hits both alike
        start = time.perf_counter()
        result = majority_judgment(GradeProfile.from_array(candidates, 7, grades))
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        medians = np.median(grades, axis=0)
        ref.append(time.perf_counter() - start)
    lower = [result.scores[c]["median"] for c in candidates]
    # numpy's median of an even count is the mean of the two middle grades; ours is the lower.
    agree = bool(
        np.all(np.floor(medians) <= np.array(lower)) and np.all(np.array(lower) <= medians)
    )
    return {"seconds": min(ours), "reference_seconds": min(ref), "medians_agree": agree}


def task_borda_irv(ballots, repeats):
    from refs.numpy_reference import borda_reference, irv_reference

    from consultation.counting import RankingProfile, borda, instant_runoff

    m = 30
    profile = RankingProfile(tuple(range(m)), ballots)
    times = {"borda": [], "borda_ref": [], "irv": [], "irv_ref": []}
    for _ in range(repeats):
        for name, function in (
            ("borda", lambda: borda(profile)),
            ("borda_ref", lambda: borda_reference(ballots, m)),
            ("irv", lambda: instant_runoff(profile)),
            ("irv_ref", lambda: irv_reference(ballots, m)),
        ):
            start = time.perf_counter()
            value = function()
            times[name].append(time.perf_counter() - start)
            if name == "borda":
                ours_points = [value.scores[c]["points"] for c in profile.candidates]
            elif name == "borda_ref":
                same_borda = ours_points == value.tolist()
            elif name == "irv":
                ours_order = list(value.order)
            else:
                same_irv = ours_order == value
    best = {name: min(values) for name, values in times.items()}
    return best | {"same_borda": same_borda, "same_irv": same_irv}


CHILD_TASKS = {
    "ours_schulze": task_ours_schulze,
    "pref_voting_schulze": task_pref_voting_schulze,
    "pref_voting_truncated": task_pref_voting_truncated,
    "matrix": task_matrix,
    "mj": task_mj,
    "borda_irv": task_borda_irv,
}


def run_child(task: str, data: Path, repeats: int, timeout: float | None = None) -> dict:
    command = [sys.executable, __file__, "--child", task, "--data", str(data)]
    command += ["--repeats", str(repeats)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"timeout": timeout}
    if done.returncode != 0:
        raise SystemExit(f"child {task} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def subset(path: Path, n: int, directory: Path) -> Path:
    target = directory / f"{path.stem}-{n}.npy"
    np.save(target, np.load(path)[:n])
    return target


# ---------------------------------------------------------------------- the parent


def pref_voting_run(args, files, n, directory) -> dict:
    """pref_voting at n (timeout), else at the smaller n, extrapolated linearly."""
    if args.skip_pref_voting:
        return {"skipped": True}
    # At 1M pref_voting needs minutes (its profile is built ballot by ballot in Python), so by
    # default it runs at n/10 (n/5 with --quick) and is extrapolated; --pv-ballots N to choose.
    size = args.pv_ballots or (n // 5 if args.quick else n // 10)
    data = files["full30"] if size == n else subset(files["full30"], size, directory)
    report = run_child("pref_voting_schulze", data, 1, args.pv_timeout)
    if "timeout" in report:
        print(f"  pref_voting timed out after {args.pv_timeout:.0f} s at n={size:,}")
        return report
    scale = n / size
    report |= {"measured_at": size, "extrapolated": size != n}
    report["at_n_seconds"] = report["seconds"] * scale
    extra = report["peak_rss_kib"] - report["base_rss_kib"]
    report["at_n_peak_rss_kib"] = report["base_rss_kib"] + extra * scale
    return report


def measure(args) -> dict:
    n = args.ballots or (100_000 if args.quick else 1_000_000)
    with tempfile.TemporaryDirectory(prefix="agora-bench-") as tmp:
        directory = Path(tmp)
        start = time.perf_counter()
        files = write_data(directory, n)
        print(f"ballots generated ({n:,} each set) in {time.perf_counter() - start:.1f} s")
        results = {"n": n}
        steps = [
            ("schulze_full30", "ours_schulze", files["full30"]),
            ("schulze_top5_30", "ours_schulze", files["top5_30"]),
            ("schulze_top5_100", "ours_schulze", files["top5_100"]),
            ("matrix100", "matrix", files["top5_100"]),
            ("mj", "mj", files["grades30"]),
            ("borda_irv", "borda_irv", files["top5_30"]),
        ]
        for key, task, data in steps:
            results[key] = run_child(task, data, args.repeats)
            print(f"  {key}: done")
        results["pref_voting"] = pref_voting_run(args, files, n, directory)
        if not (args.quick or args.skip_pref_voting):
            size = args.pv_truncated
            data = subset(files["top5_30"], size, directory)
            report = run_child("pref_voting_truncated", data, 1, args.pv_timeout)
            results["pref_voting_truncated"] = report | {"measured_at": size}
    return results


def goals(results: dict) -> list[tuple[str, str, float | None, bool | None]]:
    pv, full, bi = results["pref_voting"], results["schulze_full30"], results["borda_irv"]
    measured = "at_n_seconds" in pv
    values = {
        "schulze_vs_pref_voting": pv["at_n_seconds"] / full["seconds"] if measured else None,
        "schulze_memory": full["peak_rss_kib"] / pv["at_n_peak_rss_kib"] if measured else None,
        "schulze_1m_x_100_seconds": results["schulze_top5_100"]["seconds"],
        # CPU time: on a shared 2-core machine the wall-clock median also counts the time
        # spent waiting for a core (both are printed above).
        "schulze_matrix_ms": results["matrix100"]["cpu_seconds"] * 1000,
        "mj_vs_median": results["mj"]["reference_seconds"] / results["mj"]["seconds"],
        "borda_vs_reference": bi["borda"] / bi["borda_ref"],
        "irv_vs_reference": bi["irv"] / bi["irv_ref"],
    }
    note = " (pref_voting extrapolated)" if measured and pv["extrapolated"] else ""
    rows = []
    for key, (label, sign, target, unit) in GOALS.items():
        value = values[key]
        holds = None if value is None else (value >= target if sign == ">=" else value <= target)
        rows.append((label.format(note=note), f"{sign} {target:g}{unit}", value, holds))
    return rows


def machine() -> dict:
    versions = {"python": platform.python_version(), "numpy": np.__version__}
    try:
        from importlib.metadata import version

        versions["pref_voting"] = version("pref_voting")
    except Exception:
        versions["pref_voting"] = None
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "loadavg": os.getloadavg(),
        **versions,
    }


def print_report(results: dict) -> None:
    n = results["n"]
    mib = 1 / 1024
    print(f"\nn = {n:,} ballots; times are best of the repeats, each in its own process")
    full, pv = results["schulze_full30"], results["pref_voting"]
    print(
        f"  Schulze full rankings x 30: {full['seconds']:.3f} s, "
        f"peak {full['peak_rss_kib'] * mib:.0f} MiB"
    )
    if "at_n_seconds" in pv:
        how = f"extrapolated from n={pv['measured_at']:,}" if pv["extrapolated"] else "measured"
        print(
            f"  pref_voting same ballots: {pv['at_n_seconds']:.1f} s, "
            f"peak {pv['at_n_peak_rss_kib'] * mib:.0f} MiB ({how}; at n={pv['measured_at']:,}:"
            f" {pv['seconds']:.2f} s = profile {pv['profile_seconds']:.2f} + Schulze "
            f"{pv['schulze_seconds']:.2f}, peak {pv['peak_rss_kib'] * mib:.0f} MiB); "
            f"same winners: {pv['winners'] == full['winners']}"
        )
    else:
        print(f"  pref_voting: {pv}")
    truncated = results.get("pref_voting_truncated")
    if truncated and "seconds" in truncated:
        per_ballot = truncated["seconds"] / truncated["measured_at"]
        ours = results["schulze_top5_30"]["seconds"]
        print(
            f"  pref_voting ProfileWithTies, top-5 x 30 at n={truncated['measured_at']:,}: "
            f"{truncated['seconds']:.1f} s, i.e. ~{per_ballot * n:,.0f} s at n={n:,} "
            f"(extrapolated), {per_ballot * n / ours:,.0f}x our top-5 Schulze"
        )
    for key, label in (("schulze_top5_30", "top-5 x 30"), ("schulze_top5_100", "top-5 x 100")):
        r = results[key]
        print(f"  Schulze {label}: {r['seconds']:.3f} s, peak {r['peak_rss_kib'] * mib:.0f} MiB")
    m = results["matrix100"]
    print(
        f"  Schulze from matrix (100): median {m['seconds'] * 1e3:.2f} ms wall, "
        f"{m['cpu_seconds'] * 1e3:.2f} ms CPU, best {m['best_seconds'] * 1e3:.2f} ms; "
        f"pairwise_update {m['update_seconds'] * 1e6:.1f} µs per replaced ballot"
    )
    mj = results["mj"]
    print(
        f"  majority judgment: {mj['seconds']:.3f} s vs numpy.median "
        f"{mj['reference_seconds']:.3f} s (medians consistent: {mj['medians_agree']})"
    )
    b = results["borda_irv"]
    print(
        f"  Borda: {b['borda']:.3f} s vs reference {b['borda_ref']:.3f} s (same: "
        f"{b['same_borda']}); IRV: {b['irv']:.3f} s vs reference {b['irv_ref']:.3f} s "
        f"(same order: {b['same_irv']})"
    )
    print("\n| goal | target | ratio | holds? |\n|---|---|---|---|")
    for label, target, value, holds in goals(results):
        shown = "n/a" if value is None else f"{value:.3g}"
        verdict = "n/a" if holds is None else ("yes" if holds else "NO")
        print(f"| {label} | {target} | {shown} | {verdict} |")


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child:
        child_main(args)
        return 0
    started = time.strftime("%Y%m%d-%H%M%S")
    results = measure(args) | {"machine": machine(), "quick": args.quick}
    print_report(results)
    results["goals"] = [
        {"goal": g, "target": t, "value": v, "holds": h} for g, t, v, h in goals(results)
    ]
    path = args.json or Path(tempfile.gettempdir()) / "agora-bench" / f"aggregate-{started}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nresults: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
