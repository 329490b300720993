"""The ``sim`` command line: outputs of a run, the other commands, and bad input."""

import json
import re
import subprocess
import sys

import pandas as pd
import pytest

from sim import cli
from sim.model.metrics import LOYALTY, SUMMARY_FROM_DAILY
from sim.model.params import describe
from sim.model.scenarios import SCENARIOS

SMALL = ["--users", "200", "--days", "30"]
RUN_FILES = ["params.json", "summary.json", "timeseries.parquet"]


def subprocess_sim(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "sim", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """One small run made end to end through ``python -m sim run``."""
    out = tmp_path_factory.mktemp("runs") / "attention"
    done = subprocess_sim("run", *SMALL, "--seed", "3", "--out", out)
    assert done.returncode == 0, done.stderr
    assert "saved to" in done.stdout and "mean wellbeing" in done.stdout
    return out


def assert_one_error_line(code, err):
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and len(lines[0]) > len("error: ")
    assert "Traceback" not in err and "Usage" not in err and "╭" not in err


# -- sim run ------------------------------------------------------------------------------------
def test_run_writes_exactly_the_run_files(run_dir):
    assert sorted(p.name for p in run_dir.iterdir()) == RUN_FILES
    assert sorted(p.name for p in run_dir.parent.iterdir()) == [run_dir.name]  # no temp folder


def test_summary_has_every_metric_and_the_run_identifiers(run_dir):
    summary = json.loads((run_dir / "summary.json").read_text())
    for key in [*SUMMARY_FROM_DAILY, *LOYALTY, "seed", "policy", "scenario", "version"]:
        assert key in summary, key
    assert summary["seed"] == 3 and summary["scenario"] == "mixed"
    assert summary["users"] == 200 and summary["days"] == 30


def test_timeseries_has_one_row_per_day(run_dir):
    frame = pd.read_parquet(run_dir / "timeseries.parquet")
    assert len(frame) == 30
    assert list(frame["day"]) == list(range(30))


def test_params_json_holds_the_resolved_tree(run_dir):
    params = json.loads((run_dir / "params.json").read_text())
    assert params["run"]["users"] == 200 and params["market"]["feeds"] == 2


def test_panel_flag_writes_panel(sim, tmp_path):
    code, out, _ = sim("run", *SMALL, "--panel", "--quiet", "--out", tmp_path / "r")
    assert code == 0
    assert out.strip() == str(tmp_path / "r")
    files = sorted(p.name for p in (tmp_path / "r").iterdir())
    assert files == sorted([*RUN_FILES, "panel.parquet"])
    panel = pd.read_parquet(tmp_path / "r" / "panel.parquet")
    assert {"day", "user", "wellbeing"} <= set(panel.columns)


def test_run_options_reach_the_parameters(sim, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("[companion]\nempathy = 0.5\n")
    code, _, err = sim(
        "run",
        *SMALL,
        "--scenario",
        "attention_economy",
        "--policy",
        "wellbeing",
        "--config",
        config,
        "--set",
        "feed.ad_load=0.2",
        "-q",
        "--out",
        tmp_path / "r",
    )
    assert code == 0, err
    params = json.loads((tmp_path / "r" / "params.json").read_text())
    assert params["market"]["companions"] == 0 and params["market"]["feed_policy"] == "wellbeing"
    assert params["companion"]["empathy"] == 0.5 and params["feed"]["ad_load"] == 0.2


def test_rerun_replaces_an_earlier_run(sim, tmp_path):
    assert sim("run", *SMALL, "--panel", "-q", "--out", tmp_path / "r")[0] == 0
    assert sim("run", *SMALL, "-q", "--out", tmp_path / "r")[0] == 0
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == RUN_FILES
    assert [p.name for p in tmp_path.iterdir()] == ["r"]


def test_profile_lists_the_schedule(sim, tmp_path):
    code, out, _ = sim("run", *SMALL, "--profile", "--out", tmp_path / "r")
    assert code == 0
    for name in ("choice", "social", "adoption", "metrics", "total"):
        assert name in out


def test_progress_bar_does_not_disturb_the_run(sim, tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "PROGRESS_MIN_USER_DAYS", 0)
    code, out, _ = sim("run", *SMALL, "--out", tmp_path / "r")
    assert code == 0 and "saved to" in out


def test_interrupt_exits_130_and_writes_nothing(sim, tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli.api, "run", interrupted)
    code, _, err = sim("run", *SMALL, "--out", tmp_path / "r")
    assert code == 130
    assert err.strip().splitlines() == ["error: interrupted; nothing was saved"]
    assert list(tmp_path.iterdir()) == []


# -- bad input ----------------------------------------------------------------------------------
def _file(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    return tmp_path / name


BAD_RUNS = {
    "negative users": (lambda d: ["--users", "-5"], "--users must be in [10, 10000000]"),
    "zero days": (lambda d: ["--days", "0"], "--days must be in [1, 3650]"),
    "negative seed": (lambda d: ["--seed", "-1"], "--seed"),
    "set without =": (lambda d: ["--set", "nodots"], "PATH=VALUE"),
    "unknown section": (lambda d: ["--set", "foo.bar=1"], "foo.bar"),
    "unknown name": (lambda d: ["--set", "companion.nosuch=1"], "companion.nosuch"),
    "out of range": (lambda d: ["--set", "companion.empathy=7"], "companion.empathy"),
    "unknown scenario": (lambda d: ["--scenario", "nope"], "nope"),
    "unknown policy": (lambda d: ["--policy", "nope"], "nope"),
    "missing config": (lambda d: ["--config", d / "missing.toml"], "does not exist"),
    "config is a folder": (lambda d: ["--config", d], "is a folder, not a file"),
    "invalid toml": (lambda d: ["--config", _file(d, "bad.toml", "x = = 1")], "not valid TOML"),
    "unknown config key": (
        lambda d: ["--config", _file(d, "k.toml", "[companion]\nnosuch = 1\n")],
        "companion.nosuch",
    ),
    "bad intervention": (
        lambda d: ["--config", _file(d, "i.toml", '[[interventions]]\nkind = "nope"\n')],
        "nope",
    ),
    "no providers": (
        lambda d: ["--set", "market.feeds=0", "--set", "market.companions=0"],
        "no providers",
    ),
    "non-integer users": (lambda d: ["--users", "abc"], "--users"),
    "unknown option": (lambda d: ["--bogus"], "--bogus"),
}


@pytest.mark.parametrize("case", BAD_RUNS, ids=list(BAD_RUNS))
def test_bad_run_input_exits_2_with_one_line(sim, tmp_path, case):
    make_args, expected = BAD_RUNS[case]
    args = make_args(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    code, out, err = sim("run", "--users", "200", "--days", "5", *args, "--out", tmp_path / "out")
    assert_one_error_line(code, err)
    assert expected in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no out folder, no temp folder


@pytest.mark.parametrize(
    "args, expected",
    [
        (lambda d: ["run", *SMALL], "missing option '--out'"),
        (lambda d: ["run", *SMALL, "--out", _file(d, "taken", "")], "is a file"),
        (lambda d: ["run", *SMALL, "--out", _file(d, "taken", "") / "sub"], "is a file"),
        (lambda d: ["run", *SMALL, "--out", _file(d, "notes.txt", "").parent], "other files"),
        (lambda d: ["nosuchcommand"], "nosuchcommand"),
        (lambda d: ["params", "--bogus"], "--bogus"),
    ],
)
def test_bad_output_and_usage_exit_2_with_one_line(sim, tmp_path, args, expected):
    args = args(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    code, _, err = sim(*args)
    assert_one_error_line(code, err)
    assert expected in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize("args", [["run", "--users", "-5"], ["run", "--users", "abc"]])
def test_bad_input_end_to_end(tmp_path, args):
    done = subprocess_sim(*args, "--out", "out", cwd=tmp_path)
    assert_one_error_line(done.returncode, done.stderr)
    assert done.stdout == "" and list(tmp_path.iterdir()) == []


# -- the other commands -------------------------------------------------------------------------
def test_module_help():
    done = subprocess_sim("--help")
    assert done.returncode == 0, done.stderr
    for command in ("run", "params", "scenarios", "compare"):
        assert command in done.stdout


def test_bare_sim_shows_help(sim):
    code, out, _ = sim()
    assert code == 0 and "compare" in out


def test_params_markdown_has_one_row_per_parameter(sim):
    code, out, _ = sim("params", "--markdown")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0] == "| parameter | default | unit | allowed | meaning |"
    assert set(lines[1].replace(" ", "")) == {"|", "-"}
    assert len(lines) == 2 + len(describe())
    for line in lines:
        assert len(re.split(r"(?<!\\)\|", line)) == 7, line  # 5 cells, escaped pipes inside
    assert "| `market.feed_policy` | attention |  | attention \\| intimacy \\| wellbeing |" in out


def test_params_table(sim):
    code, out, _ = sim("params")
    assert code == 0 and "run.users" in out


def test_scenarios_lists_every_preset(sim):
    code, out, _ = sim("scenarios")
    assert code == 0
    for name in SCENARIOS:
        assert name in out


def test_compare_puts_runs_side_by_side(sim, run_dir, tmp_path):
    assert (
        sim("run", *SMALL, "--seed", "3", "--policy", "wellbeing", "-q", "--out", tmp_path / "w")[0]
        == 0
    )
    code, out, err = sim("compare", run_dir, tmp_path / "w")
    assert code == 0, err
    assert "wellbeing" in out and "seed 3" in out
    for name in ("time on feeds and companions", "90-day retention", "provider revenue"):
        assert name in out
    assert "switching" not in out
    everything = sim("compare", "--all", run_dir, tmp_path / "w")[1]
    for name in [*SUMMARY_FROM_DAILY, *LOYALTY]:
        assert name in everything


def test_compare_falls_back_to_folder_names(sim, tmp_path):
    for name in ("first", "second"):
        assert sim("run", *SMALL, "-q", "--out", tmp_path / name)[0] == 0
    code, out, _ = sim("compare", tmp_path / "first", tmp_path / "second")
    assert code == 0 and "first" in out and "second" in out


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda d: d / "missing", "does not exist"),
        (lambda d: d, "no summary.json"),
        (lambda d: _file(d, "summary.json", "{not json").parent, "cannot be read"),
        (lambda d: _file(d, "summary.json", "[1, 2]").parent, "not a run summary"),
    ],
)
def test_compare_bad_folder_exits_2(sim, run_dir, tmp_path, make, expected):
    code, _, err = sim("compare", run_dir, make(tmp_path))
    assert_one_error_line(code, err)
    assert expected in err


def test_compare_needs_a_folder(sim):
    assert_one_error_line(*sim("compare")[::2])


def test_bad_sim_threads_exits_2_with_one_line(sim, tmp_path, monkeypatch):
    from sim.model import compiled

    monkeypatch.setenv("SIM_THREADS", "two")
    compiled.set_threads(None)
    try:
        code, _, err = sim("run", *SMALL, "--out", tmp_path / "out")
    finally:
        monkeypatch.delenv("SIM_THREADS")
        compiled.set_threads(None)
    assert_one_error_line(code, err)
    assert "SIM_THREADS" in err and not (tmp_path / "out").exists()
