"""Issue 16's kill campaign: SIGKILL of ``sim sweep`` (1 and 2 workers) and of ``sim run`` at a
random moment, then ``--resume`` or a rerun, gives the tables of an uninterrupted run, leaves
no process behind and no stray file. Linux only (reads /proc); each trial is bounded in time
and kills whatever it started."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim import cli

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENT = """
name = "killed"
description = "runs long enough to be killed in the middle"
users = 1500
days = 30
replications = 3
scenario = "attention_economy"
[grid]
policy = ["attention", "wellbeing"]
"""
TIMING = ["seconds", "started", "worker"]


def children(pid: int) -> set[int]:
    """Every living descendant of ``pid`` (from /proc)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def sim_process(*args) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "sim", *map(str, args)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def kill_at(proc: subprocess.Popen, ready, rng: random.Random, limit: float = 120.0) -> set[int]:
    """SIGKILL ``proc`` (only it) at a random moment once ``ready()``; return its descendants
    as they were just before."""
    t0 = time.monotonic()
    while not ready() and proc.poll() is None and time.monotonic() - t0 < limit:
        time.sleep(0.05)
    time.sleep(rng.uniform(0.0, 0.8))
    kids = children(proc.pid)
    proc.kill()
    proc.wait(timeout=30)
    return kids


def assert_all_exit(pids: set[int], within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.2)
    left = [p for p in pids if alive(p)]
    for p in left:  # never leave anything behind, even when failing
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert not left, f"processes left running after their parent was killed: {left}"


def call(*args) -> int:
    with pytest.raises(SystemExit) as e:
        cli.main([str(a) for a in args])
    return e.value.code


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("kill")
    path = tmp / "killed.toml"
    path.write_text(EXPERIMENT)
    assert call("sweep", path, "--out", tmp / "ref", "-q", "--workers", 1) == 0
    return path, tmp / "ref"


def tables(folder: Path) -> dict[str, pd.DataFrame]:
    runs = pd.read_parquet(folder / "runs.parquet").drop(columns=TIMING)
    return {"runs": runs, "timeseries": pd.read_parquet(folder / "timeseries.parquet")}


@pytest.mark.parametrize("workers, seed", [(1, 1), (2, 2), (2, 3)])
def test_a_killed_sweep_resumes_to_the_same_tables(reference, tmp_path, workers, seed):
    path, ref = reference
    rng = random.Random(seed)
    out = tmp_path / "out"
    proc = sim_process("sweep", path, "--out", out, "--workers", workers, "-q")
    try:
        wanted = rng.randint(1, 4)  # killed after some runs have been saved, in mid-flight
        kids = kill_at(proc, lambda: len(list(out.glob("parts/*.run.json"))) >= wanted, rng)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert_all_exit(kids)
    assert call("sweep", path, "--out", out, "-q", "--workers", 1, "--resume") == 0
    got, want = tables(out), tables(ref)
    for name in want:
        pd.testing.assert_frame_equal(got[name], want[name])
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in ref.iterdir())


def test_a_killed_run_is_rerun_cleanly(tmp_path):
    rng = random.Random(7)
    args = ["run", "--scenario", "attention_economy", "--users", 3000, "--days", 40, "-q"]
    assert call(*args, "--out", tmp_path / "ref") == 0
    out = tmp_path / "runs" / "r"
    out.parent.mkdir()
    for _ in range(2):  # killed while running, then (most likely) while saving
        proc = sim_process(*args, "--out", out)
        try:
            time.sleep(rng.uniform(1.0, 8.0))
            proc.kill()
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)
    assert call(*args, "--out", out) == 0
    assert sorted(p.name for p in out.parent.iterdir()) == ["r"]  # no hidden .r.* folders
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "timeseries.parquet"),
        pd.read_parquet(tmp_path / "ref" / "timeseries.parquet"),
    )


POOL_SCRIPT = """
import os, sys, time
from sim.sweeps.runner import process_pool
pool = process_pool(2)  # as sim validate and sim calibrate make it
pids = {pool.submit(os.getpid).result() for _ in range(8)}
for _ in range(2):
    pool.submit(time.sleep, 120)
print(" ".join(map(str, pids)), flush=True)
time.sleep(120)
"""


def test_pool_workers_exit_when_their_parent_is_killed():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", POOL_SCRIPT],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        line = proc.stdout.readline()
        kids = children(proc.pid)
        assert {int(p) for p in line.split()} <= kids
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert_all_exit(kids, within=15.0)
