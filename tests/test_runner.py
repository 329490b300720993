"""Sweeps end to end: the same rows with 1 worker, 2 workers and a Dask LocalCluster; resume after
SIGKILL; refusing to overwrite or to mix experiments; failing runs; memory across many runs."""

import gc
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import tracemalloc

import pandas as pd
import pytest

from sim import cli
from sim.sweeps import runner
from sim.sweeps.experiments import expand, load

TIMING = ["seconds", "started", "worker"]

EXPERIMENT = """
name = "tiny"
description = "two markets x two policies, three replications"
users = 200
days = 20
replications = 3
base_seed = 11

[grid]
scenario = ["mixed", "intimacy_economy"]
policy = ["attention", "wellbeing"]

[record]
every = 5
panel = true
"""

# long enough per run that a SIGKILL lands in the middle of the sweep
SLOW = """
name = "slow"
description = "forty runs to interrupt"
users = 100
days = 30
replications = 10
base_seed = 1

[grid]
policy = ["attention", "wellbeing"]
"feed.cpm" = [8.0, 12.0]
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("experiments")
    (folder / "tiny.toml").write_text(textwrap.dedent(EXPERIMENT))
    (folder / "slow.toml").write_text(textwrap.dedent(SLOW))
    return folder


def sweep(*args):
    """``sim sweep`` in this process; returns the exit code."""
    with pytest.raises(SystemExit) as exit_:
        cli.main(["sweep", *map(str, args)])
    return exit_.value.code


def rows(folder):
    return pd.read_parquet(folder / "runs.parquet").drop(columns=TIMING)


@pytest.fixture(scope="module")
def reference(files, tmp_path_factory):
    """The tiny experiment in this process (``--workers 1``)."""
    out = tmp_path_factory.mktemp("sweeps") / "one"
    assert sweep(files / "tiny.toml", "--out", out, "--workers", 1, "--quiet") == 0
    return out


def test_results_folder_holds_the_tables_and_a_manifest(reference):
    names = sorted(p.name for p in reference.iterdir())
    assert names == ["manifest.json", "panel.parquet", "runs.parquet", "timeseries.parquet"]
    runs = pd.read_parquet(reference / "runs.parquet")
    assert len(runs) == 12 and set(runs["status"]) == {"ok"}
    for column in [
        "run_id",
        "label",
        "scenario",
        "policy",
        "seed",
        "replication",
        "status",
        "seconds",
        "wellbeing_mean",
        "retention_90d",
        "ad_revenue_per_user_day",
        "unsettled_metrics",
        "unsettled_names",
    ]:
        assert column in runs.columns, column
    assert "drift" not in runs.columns and "unsettled" not in runs.columns  # nested: not flat
    assert runs["unsettled_metrics"].between(0, 28).all()
    ts = pd.read_parquet(reference / "timeseries.parquet")
    assert sorted(ts["day"].unique()) == [0, 5, 10, 15, 19]  # every 5 days and the last
    assert set(ts["run_id"]) == set(runs["run_id"])
    assert (
        ts.loc[
            ts["run_id"].isin(runs.query("scenario == 'intimacy_economy'")["run_id"]),
            "feed_a.minutes",
        ]
        .isna()
        .all()
    )
    panel = pd.read_parquet(reference / "panel.parquet")
    assert set(panel["run_id"]) == set(runs["run_id"]) and "user" in panel.columns
    manifest = json.loads((reference / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["counts"]["ok"] == 12
    assert manifest["experiment"]["name"] == "tiny" and manifest["seeds"] == [11, 12, 13]
    for key in ("git_sha", "git_dirty", "version", "packages", "host", "sessions"):
        assert key in manifest
    assert [r["run_id"] for r in manifest["runs"]] == list(runs["run_id"])


def test_paired_runs_share_their_seed(reference):
    runs = pd.read_parquet(reference / "runs.parquet")
    assert runs.groupby("replication")["seed"].nunique().eq(1).all()
    assert sorted(runs["seed"].unique()) == [11, 12, 13]


def test_same_rows_with_two_worker_processes(files, reference, tmp_path):
    out = tmp_path / "two"
    assert sweep(files / "tiny.toml", "--out", out, "--workers", 2, "--quiet") == 0
    pd.testing.assert_frame_equal(rows(out), rows(reference))
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "timeseries.parquet"),
        pd.read_parquet(reference / "timeseries.parquet"),
    )
    assert pd.read_parquet(out / "runs.parquet")["worker"].nunique() == 2


def test_same_rows_on_a_dask_local_cluster(files, reference, tmp_path):
    pytest.importorskip("distributed")
    out = tmp_path / "dask"
    code = sweep(
        files / "tiny.toml", "--out", out, "--scheduler", "local", "--workers", 2, "--quiet"
    )
    assert code == 0
    pd.testing.assert_frame_equal(rows(out), rows(reference))
    manifest = json.loads((out / "manifest.json").read_text())
    assert "LocalCluster" in manifest["sessions"][0]["executor"]


def test_sigkill_then_resume_equals_an_uninterrupted_sweep(files, tmp_path):
    out = tmp_path / "killed"
    cmd = [
        sys.executable,
        "-m",
        "sim",
        "sweep",
        str(files / "slow.toml"),
        "--out",
        str(out),
        "--workers",
        "2",
        "--quiet",
    ]
    proc = subprocess.Popen(
        cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list((out / "parts").glob("*.run.json"))) < 8:
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = len(list((out / "parts").glob("*.run.json")))
    assert 8 <= finished < 40, "the sweep should be killed half-way"
    assert not (out / "runs.parquet").exists()
    assert sweep(files / "slow.toml", "--out", out, "--resume", "--workers", 1, "--quiet") == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and len(manifest["sessions"]) == 2
    assert manifest["sessions"][1]["finished"]
    resumed = rows(out)
    assert len(resumed) == 40 and resumed["run_id"].is_unique
    whole = tmp_path / "whole"
    assert sweep(files / "slow.toml", "--out", whole, "--workers", 1, "--quiet") == 0
    pd.testing.assert_frame_equal(resumed, rows(whole))
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "timeseries.parquet"), pd.read_parquet(whole / "timeseries.parquet")
    )
    assert not (out / "parts").exists() and not list(out.glob(".*tmp*"))


def test_refuses_an_existing_folder_without_resume(files, reference, capsys):
    before = (reference / "runs.parquet").stat().st_mtime_ns
    assert sweep(files / "tiny.toml", "--out", reference) == 2
    assert "already exists" in capsys.readouterr().err
    assert (reference / "runs.parquet").stat().st_mtime_ns == before


def test_refuses_to_resume_a_different_experiment(files, reference, capsys):
    assert sweep(files / "tiny.toml", "--out", reference, "--resume", "--set", "run.users=250") == 2
    err = capsys.readouterr().err
    assert "different experiment definition" in err and len(err.strip().splitlines()) == 1
    assert sweep(files / "slow.toml", "--out", reference, "--resume") == 2


def test_resuming_a_finished_sweep_does_nothing(files, reference, capsys):
    assert sweep(files / "tiny.toml", "--out", reference, "--resume") == 0
    assert "nothing to do" in capsys.readouterr().out


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(
    files, reference, tmp_path, monkeypatch, capsys
):
    real = runner.api.run

    def flaky(*args, **kwargs):
        if kwargs["seed"] == 12 and args[1] == "wellbeing":
            raise ValueError("boom")
        return real(*args, **kwargs)

    monkeypatch.setattr(runner.api, "run", flaky)
    out = tmp_path / "failing"
    assert sweep(files / "tiny.toml", "--out", out, "--workers", 1, "--quiet") == 1
    err = capsys.readouterr().err
    assert "2 of 12 runs failed" in err and "ValueError: boom" in err
    runs = pd.read_parquet(out / "runs.parquet")
    failed = runs[runs["status"] == "failed"]
    assert len(failed) == 2 and failed["error"].str.startswith("ValueError: boom").all()
    assert failed["wellbeing_mean"].isna().all() and (runs["status"] == "ok").sum() == 10
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "incomplete" and manifest["counts"]["failed"] == 2
    # fixed: --resume reruns only the failed runs and then matches a clean sweep
    calls = []
    monkeypatch.setattr(runner.api, "run", lambda *a, **k: calls.append(a) or real(*a, **k))
    assert sweep(files / "tiny.toml", "--out", out, "--resume", "--workers", 1, "--quiet") == 0
    assert len(calls) == 2  # the 10 good runs were kept
    pd.testing.assert_frame_equal(rows(out), rows(reference))


def test_scenarios_differing_from_day_t_are_identical_before_it(tmp_path):
    path = tmp_path / "crn.toml"
    path.write_text(
        textwrap.dedent("""
        name = "crn"
        description = "a lockdown from day 10 against none"
        users = 200
        days = 20
        [[cases]]
        label = "none"
        [[cases]]
        label = "lockdown"
        interventions = [{ kind = "lockdown", value = 0.8, start = 10 }]
        """)
    )
    out = tmp_path / "out"
    assert sweep(path, "--out", out, "--workers", 1, "--quiet") == 0
    ts = pd.read_parquet(out / "timeseries.parquet")
    a, b = (
        g.drop(columns="run_id").reset_index(drop=True) for _, g in ts.groupby("run_id", sort=False)
    )
    shared = [c for c in a.columns if c in b.columns and not c.startswith("arm")]
    pd.testing.assert_frame_equal(a.loc[:9, shared], b.loc[:9, shared])
    assert not a.loc[10:, "social_minutes_per_user_day"].equals(
        b.loc[10:, "social_minutes_per_user_day"]
    )


def test_memory_stays_flat_across_many_runs_in_one_worker(files):
    specs = expand(
        load(files / "tiny.toml", sets=["run.users=100", "run.days=10"], replications=25)
    )

    def held() -> int:
        gc.collect()
        return tracemalloc.get_traced_memory()[0]

    tracemalloc.start()
    try:
        for spec in specs[:5]:  # warm-up: caches and compiled code settle
            assert runner.execute(spec).ok
        before = held()
        for spec in specs[5:]:  # as a worker would, in this one process
            assert runner.execute(spec).ok
        grown = held() - before
    finally:
        tracemalloc.stop()
    # Mesa 3.3 keeps every model it has seen; a closed model keeps a few kilobytes, not its users
    assert grown / (len(specs) - 5) < 20_000, f"{grown / (len(specs) - 5):.0f} bytes kept per run"
