"""Paired speed comparison of two checkouts of the project (for example a commit and the one
before it): the same run, 100,000 users by default, alternating between the two, each in a
fresh process with its compiled loops loaded first, so that drift of a shared machine falls on
both alike.

    git worktree add /tmp/before HEAD~1
    python benchmarks/ab.py /tmp/before . --days 120 --threads 1 --repeat 3

Prints user-days per second and per CPU-second of stepping for each run, and the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, sys, time
sys.path.insert(0, {root!r})
import sim
try:
    from sim.model import compiled as loops
except ImportError:  # checkouts from before sim/model/compiled.py
    from sim import kernels as loops
loops.warm_up()
m = sim.EconomyModel(users={users}, days={days}, seed=1)
t0, c0 = time.perf_counter(), time.process_time()
m.run_model()
print(json.dumps({{"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0}}))
"""


def run(root: Path, users: int, days: int, threads: int) -> dict[str, float]:
    env = {**os.environ, "SIM_THREADS": str(threads), "OMP_NUM_THREADS": "1"}
    env["PYTHONPATH"] = str(root)
    code = CHILD.format(root=str(root), users=users, days=days)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=root
    )
    if done.returncode:
        raise SystemExit(done.stderr[-2000:])
    r = json.loads(done.stdout.strip().splitlines()[-1])
    return {"per_s": users * days / r["wall"], "per_cpu_s": users * days / r["cpu"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("--users", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=120)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    results: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for _ in range(args.repeat):
        for name in ("before", "after"):
            r = run(getattr(args, name).resolve(), args.users, args.days, args.threads)
            results[name].append(r)
            print(f"{name}: {r['per_s']:,.0f} user-days/s, {r['per_cpu_s']:,.0f} per CPU-s")
    for name, rs in results.items():
        per_s = statistics.median(r["per_s"] for r in rs)
        per_cpu = statistics.median(r["per_cpu_s"] for r in rs)
        print(f"{name} median: {per_s:,.0f} user-days/s, {per_cpu:,.0f} per CPU-s")


if __name__ == "__main__":
    main()
