"""Runner overhead: many small runs through ``sim sweep`` with 1 and 2 workers.

    .venv/bin/python benchmarks/bench_sweep.py [--runs 200] [--users 500] [--days 30]

For each worker count it times the whole command (start-up, runs, consolidation), in a fresh
process, and compares it with the runs' own seconds (the ``seconds`` column of runs.parquet).
Overhead = wall x workers - sum of run seconds, per run; CPU is that of the whole process tree
(a fairer figure when other work shares the machine). Not a test: numbers depend on the
machine and on what else it is doing.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pandas as pd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.toml"
        path.write_text(
            textwrap.dedent(f"""
            name = "bench"
            description = "{args.runs} small runs"
            users = {args.users}
            days = {args.days}
            replications = {args.runs // 2}
            [grid]
            policy = ["attention", "wellbeing"]
            """)
        )
        print(f"{args.runs} runs of {args.users} users x {args.days} days, mixed market")
        for workers in args.workers:
            out = Path(tmp) / f"w{workers}"
            t0, cpu0 = time.perf_counter(), _children_cpu()
            cmd = [
                sys.executable,
                "-m",
                "sim",
                "sweep",
                str(path),
                "--out",
                str(out),
                "--workers",
                str(workers),
                "--quiet",
            ]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            wall, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
            runs = pd.read_parquet(out / "runs.parquet")
            busy = runs["seconds"].sum()
            overhead = (wall * workers - busy) / len(runs)
            print(
                f"  {workers} worker{'s' * (workers > 1)}: {wall:6.1f} s wall, "
                f"{60 * len(runs) / wall:5.0f} runs/min, runs themselves {busy:5.1f} s, "
                f"overhead {1000 * overhead:4.0f} ms per run (start-up included), "
                f"CPU {cpu:5.1f} s in all"
            )


def _children_cpu() -> float:
    """User + system seconds of finished child processes (and their children)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
