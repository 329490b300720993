"""Speed and memory at population scale, and the same rules in plain Mesa for comparison.

    python benchmarks/bench.py                  # readable table; 10,000 and 100,000 users
    python benchmarks/bench.py --json           # the same as JSON on stdout
    python benchmarks/bench.py --million        # also 1,000,000 users for 365 days (minutes)
    python benchmarks/bench.py --quick          # small sizes, to check the script works
    python benchmarks/bench.py --repeat 1       # one run per row instead of the best of 3
    python benchmarks/bench.py --readme         # README's tables and the plot from results/bench.json

Measured on the default market (two feeds, two companions, mean degree 10, every mechanism
on), each size in a fresh process so peak memory is that size's own:
- throughput: simulated user-days per second of stepping (set-up and compiling reported
  apart: each child first compiles the Numba kernels, or loads them from the disk cache),
  with the default team of threads (one per CPU; ``SIM_THREADS``) and, up to 100,000 users,
  with one thread. Up to 100,000 users each row is the fastest of ``--repeat`` runs (3), with
  the spread between its slowest and fastest: shared machines drift;
- the machine's own speed at the start and end: a fixed reference workload (numpy sorting
  4 million numbers on one core), so that drift during the run shows;
- peak memory per user: the process's peak resident memory over users (imports included);
- time per step of the day, as ``sim run --profile`` shows it;
- sweep throughput: runs per minute of a small experiment with ``sim sweep`` on 1 and 2 workers;
- one BLAS thread per process (OMP_NUM_THREADS=1; the day makes no BLAS call);
- the idiomatic Mesa version of the same rules (benchmarks/mesa_reference.py), one agent per
  user, timed in the same run at 10,000 users against the project with adaptation off on both
  sides, and the ratio.

Results go to benchmarks/results/bench.json and the scaling plot to benchmarks/results/scaling.png.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
t0 = time.perf_counter()
from sim.model import compiled
from sim.model import EconomyModel
from sim.model.scenarios import resolve
compile_s = compiled.warm_up()
params, _ = resolve("mixed", sets={sets!r}, users={users}, days={days}, seed={seed})
t1 = time.perf_counter()
model = EconomyModel(params)
t2 = time.perf_counter()
c2 = time.process_time()
model.run_model()
t3 = time.perf_counter()
c3 = time.process_time()
print(json.dumps({{
    "users": {users}, "days": {days}, "setup_s": t2 - t1, "run_s": t3 - t2, "run_cpu_s": c3 - c2,
    "compile_s": compile_s,
    "threads": compiled.threads(),
    "load_average": __import__("os").getloadavg()[0],
    "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    "state_bytes": model.memory_bytes(),
    "step_seconds": dict(model.step_seconds),
    "wellbeing_mean": float(model.latest["wellbeing_mean"]),
}}))
"""

REFERENCE_CHILD = r"""
import json, time
import numpy as np
x = np.random.default_rng(0).random(4_000_000)
times = []
for _ in range(5):
    t0 = time.perf_counter()
    np.sort(x)
    times.append(time.perf_counter() - t0)
print(json.dumps({"seconds": min(times)}))
"""

MESA_CHILD = r"""
import json, resource, sys
sys.path.insert(0, {root!r}); sys.path.insert(0, {here!r})
import os, time
import mesa_reference
model = mesa_reference.MesaEconomy(users={users}, days={days}, seed={seed})
t0, c0 = time.perf_counter(), time.process_time()
while model.running:
    model.step()
seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
frame = model.datacollector.get_model_vars_dataframe()
print(json.dumps({{"users": {users}, "days": {days}, "run_s": seconds, "run_cpu_s": cpu,
    "load_average": os.getloadavg()[0],
    "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    "wellbeing_mean": float(frame["wellbeing_mean"].iloc[-1])}}))
"""


def child(code: str, threads: int | None = None) -> dict:
    # one BLAS thread: the day makes no BLAS call, and idle BLAS threads that spin would
    # take a core from the model's own threads
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    if threads is not None:
        env["SIM_THREADS"] = str(threads)
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=ROOT, env=env
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def project(
    users: int,
    days: int,
    sets: dict | None = None,
    seed: int = 1,
    threads: int | None = None,
    repeat: int = 1,
) -> dict:
    """The fastest of ``repeat`` runs, each in a fresh process; ``run_s_all`` has them all."""
    code = CHILD.format(root=str(ROOT), users=users, days=days, seed=seed, sets=sets or {})
    runs = [child(code, threads) for _ in range(repeat)]
    r = min(runs, key=lambda x: x["run_s"])
    r["run_s_all"] = [x["run_s"] for x in runs]
    r["user_days_per_s"] = users * days / r["run_s"]
    r["user_days_per_cpu_s"] = users * days / r["run_cpu_s"]
    r["bytes_per_user"] = r["peak_rss_bytes"] / users
    return r


def mesa(users: int, days: int, seed: int = 1, repeat: int = 1) -> dict:
    code = MESA_CHILD.format(root=str(ROOT), here=str(HERE), users=users, days=days, seed=seed)
    runs = [child(code) for _ in range(repeat)]
    r = min(runs, key=lambda x: x["run_s"])
    r["run_s_all"] = [x["run_s"] for x in runs]
    r["user_days_per_s"] = users * days / r["run_s"]
    r["user_days_per_cpu_s"] = users * days / r["run_cpu_s"]
    return r


SWEEP = """
name = "bench"
description = "benchmark: one policy grid, small runs"
users = {users}
days = {days}
replications = {reps}
base_seed = 1
[grid]
policy = ["attention", "intimacy", "wellbeing"]
[record]
every = 30
panel = false
"""


def sweep(workers: int, users: int, days: int, reps: int) -> dict:
    """Runs per minute of ``sim sweep`` on a small experiment (3 policies x reps seeds)."""
    with tempfile.TemporaryDirectory() as tmp:
        exp = Path(tmp) / "bench.toml"
        exp.write_text(SWEEP.format(users=users, days=days, reps=reps))
        cmd = [sys.executable, "-m", "sim", "sweep", str(exp), "--out", str(Path(tmp) / "out")]
        t0 = time.perf_counter()
        proc = subprocess.run(
            [*cmd, "--workers", str(workers), "--quiet"],
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
        )
        seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    runs = 3 * reps
    return {
        "workers": workers,
        "runs": runs,
        "users": users,
        "days": days,
        "seconds": seconds,
        "runs_per_minute": runs / seconds * 60.0,
        "method": "sim sweep",
    }


def machine() -> dict:
    info = {"host": platform.node(), "python": platform.python_version(), "cpus": os.cpu_count()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        mem = Path("/proc/meminfo").read_text().split()[1]
        info["memory_gb"] = round(int(mem) / 2**20, 1)
    except OSError:
        pass
    import numpy

    info["numpy"] = numpy.__version__
    try:
        import numba

        info["numba"] = numba.__version__
    except ImportError:
        info["numba"] = None
    info["load_average_at_start"] = os.getloadavg()[0]
    return info


def measure(args) -> dict:
    sizes = [1_000, 10_000] if args.quick else [10_000, 100_000]
    if args.million:
        sizes.append(1_000_000)
    days = 30 if args.quick else args.days
    from sim.sweeps import provenance

    out: dict = {
        "provenance": {"version": provenance.version(), **provenance.git_state()},
        "machine": machine(),
        "days": days,
        "repeat": args.repeat,
        "reference_s": {"start": reference()},
        "scaling": [],
    }

    def repeat(n: int) -> int:  # a million users is measured once (minutes a run)
        return args.repeat if n <= 100_000 else 1

    for n in sizes:
        log(f"project: {n:,} users x {days} days, {repeat(n)} run(s)")
        out["scaling"].append(project(n, days, repeat=repeat(n)))
    out["one_thread"] = []
    for n in sizes[:2]:
        log(f"project, one thread (SIM_THREADS=1): {n:,} users x {days} days")
        out["one_thread"].append(project(n, days, threads=1, repeat=repeat(n)))
    mesa_users = 1_000 if args.quick else 10_000
    mesa_days = 5 if args.quick else args.mesa_days
    log(f"mesa reference: {mesa_users:,} users x {mesa_days} days")
    ref = mesa(mesa_users, mesa_days, repeat=args.repeat)
    same = project(mesa_users, mesa_days, {"mechanisms.adaptation": False}, repeat=args.repeat)
    out["mesa"] = {
        "reference": ref,
        "project": same,
        "speedup": same["user_days_per_s"] / ref["user_days_per_s"],
        "speedup_cpu": same["user_days_per_cpu_s"] / ref["user_days_per_cpu_s"],
        "note": "same rules, adaptation off on both sides, same machine and run",
    }
    reps = 1 if args.quick else 2
    sweep_users, sweep_days = (500, 30) if args.quick else (5_000, 180)
    out["sweep"] = []
    for workers in (1, 2):
        log(
            f"sweep: {3 * reps} runs of {sweep_users:,} users x {sweep_days} days, {workers} worker(s)"
        )
        out["sweep"].append(sweep(workers, sweep_users, sweep_days, reps))
    out["reference_s"]["end"] = reference()
    return out


def reference() -> float:
    """Seconds of the fixed reference workload (:data:`REFERENCE_CHILD`) in a fresh process."""
    return child(REFERENCE_CHILD)["seconds"]


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def _label(s: dict) -> str:
    threads = s.get("threads", 1)
    return f"{threads} thread{'s' if threads > 1 else ''}"


def _runs(s: dict) -> str:
    """Cells 'runs | spread': how many runs the row is the fastest of, and how much slower
    the slowest was."""
    times = s.get("run_s_all", [s["run_s"]])
    spread = f"{max(times) / min(times) - 1:.0%}" if len(times) > 1 else ""
    return f"{len(times)} | {spread}"


def table(r: dict) -> str:
    lines = [
        f"Machine: {r['machine'].get('cpu', '?')}, {r['machine']['cpus']} cores, "
        f"{r['machine'].get('memory_gb', '?')} GB; Python {r['machine']['python']}, "
        f"numpy {r['machine']['numpy']}, Numba {r['machine'].get('numba')}",
        "",
    ]
    code = r.get("provenance", {})
    if code.get("git_sha"):
        dirty = " with uncommitted changes" if code.get("git_dirty") else ""
        lines[0] += f"; code at commit {code['git_sha'][:10]}{dirty}"
    probe = r.get("reference_s")
    if probe:
        lines[1:1] = [
            "",
            "Reference workload (numpy sorting 4 million numbers, one core): "
            f"{probe['start']:.3f} s at the start of the run, {probe['end']:.3f} s at the end.",
        ]
    lines.append(
        "| path | users | days | compile s | set-up s | run s | run CPU s | user-days/s "
        "| user-days per CPU-s | peak memory per user | runs | spread | load |"
    )
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    runs = r["scaling"] + r.get("one_thread", [])
    for s in runs:
        lines.append(
            f"| {_label(s)} | {s['users']:,} | {s['days']} | "
            f"{s.get('compile_s', 0.0):.1f} | {s['setup_s']:.1f} | {s['run_s']:.1f} | "
            f"{s['run_cpu_s']:.1f} | {s['user_days_per_s']:,.0f} | "
            f"{s['user_days_per_cpu_s']:,.0f} | {s['bytes_per_user'] / 1024:.2f} KB | "
            f"{_runs(s)} | {s['load_average']:.1f} |"
        )
    lines += ["", *targets(r)]
    m = r["mesa"]
    lines += [
        "",
        "| same rules, adaptation off | users | days | user-days/s | per CPU-s |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, x in (
        ("idiomatic Mesa (one agent per user)", m["reference"]),
        (f"this project ({_label(m['project'])})", m["project"]),
    ):
        lines.append(
            f"| {label} | {x['users']:,} | {x['days']} | {x['user_days_per_s']:,.0f} | "
            f"{x['user_days_per_cpu_s']:,.0f} |"
        )
    lines.append(f"| ratio | | | {m['speedup']:.0f}x | {m['speedup_cpu']:.0f}x |")
    lines += [
        "",
        "| sweep | runs | users x days | workers | runs per minute |",
        "|---|---:|---:|---:|---:|",
    ]
    for s in r["sweep"]:
        lines.append(
            f"| {s['method']} | {s['runs']} | {s['users']:,} x {s['days']} | "
            f"{s['workers']} | {s['runs_per_minute']:.1f} |"
        )
    largest = max(s["users"] for s in runs)  # --quick has no 100,000
    big = [s for s in runs if s["users"] >= min(100_000, largest)]
    steps = sorted(big[0]["step_seconds"], key=lambda k: -big[0]["step_seconds"][k])
    lines += [
        "",
        f"Seconds per step of the day over {r['days']} days (wall clock, as `sim run --profile` "
        "shows it):",
        "",
        "| step | " + " | ".join(f"{_label(s)}, {s['users']:,} users" for s in big) + " |",
        "|---|" + "---:|" * len(big),
    ]
    for k in [*steps, "all"]:
        cells = [
            sum(s["step_seconds"].values()) if k == "all" else s["step_seconds"].get(k, 0.0)
            for s in big
        ]
        lines.append(f"| {k} | " + " | ".join(f"{c:.1f}" for c in cells) + " |")
    return "\n".join(lines)


def targets(r: dict) -> list[str]:
    """The project's speed targets against the run ``r`` (rows for the sizes it measured)."""
    rows = ["| target | measured | met? |", "|---|---|---|"]

    def at(runs, users):
        return next((s for s in runs if s["users"] == users), None)

    def yes(ok: bool) -> str:
        return "yes" if ok else "**no**"

    team, one = at(r["scaling"], 100_000), at(r.get("one_thread", []), 100_000)
    if team:
        also = f"; {one['user_days_per_s'] / 1e6:.2f} million on one thread" if one else ""
        rows.append(
            "| 100,000 users at 5 million user-days per second or more | "
            f"{team['user_days_per_s'] / 1e6:.2f} million ({_label(team)}){also} | "
            f"{yes(team['user_days_per_s'] >= 5e6)} |"
        )
        per_cpu = team["users"] * team["days"] / team["run_cpu_s"]
        rows.append(
            "| 100,000 users at 2 million user-days per CPU-second or more | "
            f"{per_cpu / 1e6:.2f} million ({_label(team)}) | {yes(per_cpu >= 2e6)} |"
        )
    big = at(r["scaling"], 1_000_000)
    if big:
        year = big["run_s"] * 365 / big["days"]
        rows.append(
            f"| a year of 1,000,000 users in under 3 minutes | {year:.0f} s | {yes(year < 180)} |"
        )
        kb = big["bytes_per_user"] / 1024
        rows.append(
            f"| peak memory under 1.5 KB per user at 1,000,000 users | {kb:.2f} KB | "
            f"{yes(kb < 1.5)} |"
        )
    m = r["mesa"]
    rows.append(
        f"| 50 times the idiomatic Mesa version at {m['reference']['users']:,} users | "
        f"{m['speedup']:.0f} times ({m['speedup_cpu']:.0f} per CPU-second) | "
        f"{yes(m['speedup'] >= 50)} |"
    )
    return rows


def write_readme(r: dict, readme: Path = ROOT / "README.md") -> None:
    """Put :func:`table` of ``r`` between the README's bench markers."""
    text = readme.read_text()
    begin, end = "<!-- BEGIN bench", "<!-- END bench -->"
    i = text.index("\n", text.index(begin)) + 1
    k = text.index(end)
    readme.write_text(text[:i] + "\n" + table(r) + "\n\n" + text[k:])


def plot(r: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [s["users"] for s in r["scaling"]]
    fig, ax = plt.subplots(figsize=(5.5, 4))
    label = "compiled loops"
    team = r["scaling"][0].get("threads", 1)
    series = (
        (r["scaling"], "o-", {}, f"this project, {label}, {team} threads"),
        (r.get("one_thread", []), "o:", {"color": "C2"}, f"this project, {label}, 1 thread"),
    )
    for runs, style, look, name in series:
        if runs:
            ax.loglog(
                [s["users"] for s in runs], [s["run_s"] for s in runs], style, label=name, **look
            )
    m = r["mesa"]["reference"]
    ax.loglog(
        [m["users"]],
        [m["run_s"] * r["days"] / m["days"]],
        "s",
        color="C3",
        label=f"idiomatic Mesa, scaled to {r['days']} days",
    )
    days = r["days"]
    ax.loglog(
        xs,
        [n * days / 5e6 for n in xs],
        color="0.6",
        lw=1,
        ls="--",
        label="target: 5 million user-days per second",
    )
    ax.plot(
        [1e6], [180.0 * days / 365], "v", color="0.4", label="target: a year of a million in 3 min"
    )
    ax.set_xlabel("users")
    ax.set_ylabel("seconds of simulation")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right", fontsize=7)
    ax.set_title(f"Run time of {r['days']} days against population size")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description="speed and memory benchmarks")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ap.add_argument("--million", action="store_true", help="also 1,000,000 users (minutes)")
    ap.add_argument("--quick", action="store_true", help="small sizes, to check the script")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument(
        "--repeat", type=int, default=3, help="runs per row up to 100,000 users, fastest kept"
    )
    ap.add_argument("--mesa-days", type=int, default=10, help="days of the Mesa reference")
    ap.add_argument(
        "--out", type=Path, default=None, help="JSON file (default: results/bench.json)"
    )
    ap.add_argument(
        "--readme",
        action="store_true",
        help="measure nothing: README.md's tables and the plot from results/bench.json",
    )
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error(f"--repeat must be a whole number of at least 1, got {args.repeat}")
    if args.readme:
        stored = json.loads((RESULTS / "bench.json").read_text())
        write_readme(stored)
        plot(stored, RESULTS / "scaling.png")
        return
    r = measure(args)
    RESULTS.mkdir(exist_ok=True)
    out = args.out or RESULTS / ("quick.json" if args.quick else "bench.json")
    out.write_text(json.dumps(r, indent=2) + "\n")
    plot(r, out.with_name("scaling-quick.png" if args.quick else "scaling.png"))
    print(json.dumps(r, indent=2) if args.json else table(r))


if __name__ == "__main__":
    main()
