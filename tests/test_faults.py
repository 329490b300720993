"""Issue 16: valid input that crashed, sizes checked before allocation, damaged results
detected on --resume, and outputs checked before work. Small runs (50 users, 5 days)."""

import json
import os
import shutil
import stat
import textwrap

import pandas as pd
import pytest

import sim as simpkg
from sim.model.interventions import Intervention
from sim.model.params import ParamError
from sim.sweeps import checks, single, store
from sim.sweeps.experiments import expand, load

SMALL = 'users = 50\ndays = 5\nreplications = 2\nscenario = "attention_economy"\n'
CASES = """
[[cases]]
label = "low"
set = { "companion.empathy" = 0.4 }
[[cases]]
label = "mid"
set = { "companion.empathy" = 0.6 }
[[cases]]
label = "high"
set = { "companion.empathy" = 0.8 }
"""


def experiment(tmp_path, body="", name="small"):
    path = tmp_path / f"{name}.toml"
    path.write_text(f'name = "{name}"\ndescription = "a test"\n{SMALL}{textwrap.dedent(body)}')
    return path


def files(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


@pytest.fixture(scope="module")
def case_sweep(tmp_path_factory):
    """A finished sweep whose cases set a parameter (three values), as the README shows."""
    from sim import cli

    tmp = tmp_path_factory.mktemp("cases")
    path = experiment(tmp, CASES)
    with pytest.raises(SystemExit) as e:
        cli.main(["sweep", str(path), "--out", str(tmp / "out"), "-q", "--workers", "1"])
    assert e.value.code == 0
    return tmp / "out"


# -- 1. crashes on valid input ------------------------------------------------------------------
def test_brief_of_cases_that_set_a_parameter(sim, case_sweep, tmp_path):
    code, out, err = sim("brief", case_sweep, "--out", tmp_path / "b.md")
    assert (code, err) == (0, "")
    assert "## Key findings" in (tmp_path / "b.md").read_text()


def test_plot_of_cases_that_set_three_values(sim, case_sweep, tmp_path):
    code, out, err = sim("plot", case_sweep, "--out", tmp_path / "f", "--format", "svg")
    assert (code, err) == (0, "")
    assert (tmp_path / "f" / "comparison.svg").is_file()


def test_deactivating_everyone_of_a_providers_users():
    iv = Intervention("deactivate", providers="feed_a", share=1.0, sample="users", start=2, end=4)
    result = simpkg.run("attention_economy", users=50, days=5, seed=1, interventions=[iv])
    treated = result.timeseries["arm.deactivate.treated.minutes"]
    assert treated.isna().all()  # everyone recruited is treated: no control arm to compare


# -- 3. sizes -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        "replications = 1000000000",
        '[sample]\nmethod = "sobol"\nn = 1099511627776\n[sample.ranges]\n"choice.heard_value" = [1.0, 5.0]',
        '[sample]\nmethod = "latin"\nn = 100000000000\n[sample.ranges]\n"choice.heard_value" = [1.0, 5.0]',
        '[[interventions]]\nkind = "deactivate"\ncluster_size = 1000000000000',
        '[[interventions]]\nkind = "deactivate"\ngroups = 1000000000000',
        '[grid]\n"companion.empathy" = [0.1, 0.2, 0.3, 0.4, 0.5]\n"choice.heard_value" = '
        "[1.0, 2.0, 3.0, 4.0, 5.0]",
    ],
)
def test_designs_too_big_are_refused_before_they_are_made(sim, tmp_path, body):
    text = f'name = "big"\ndescription = "d"\nusers = 50\ndays = 5\n{body}\n'
    if "grid" in body:
        text = text.replace("days = 5", "days = 5\nreplications = 50000")
    (tmp_path / "big.toml").write_text(text)
    code, out, err = sim("sweep", tmp_path / "big.toml", "--dry-run")
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("error: ")


def test_replications_option_is_bounded(sim, tmp_path):
    code, _, err = sim("sweep", experiment(tmp_path), "--dry-run", "--replications", 10**9)
    assert code == 2 and "--replications" in err


def test_memory_estimate_matches_the_benchmark():
    # benchmarks/results/bench.json: 1.40 GB peak at 1,000,000 users, 0.52 GB at 100,000, and
    # socialising's 24 bytes a tie added since (0.24 GB at a million users)
    assert 1.2e9 < checks.estimate_bytes(1_000_000) < 2.0e9
    assert 0.4e9 < checks.estimate_bytes(100_000) < 0.7e9


def test_a_run_that_does_not_fit_is_refused(sim, tmp_path, monkeypatch):
    monkeypatch.setattr(checks, "available_bytes", lambda: 4 * 2**30)
    code, _, err = sim("run", "--users", 10_000_000, "--out", tmp_path / "r")
    assert code == 2 and "memory" in err and "10,000,000 users" in err
    assert not (tmp_path / "r").exists()


def test_a_sweep_that_does_not_fit_is_refused_and_dry_run_shows_it(sim, tmp_path, monkeypatch):
    monkeypatch.setattr(checks, "available_bytes", lambda: 2**30)
    path = experiment(tmp_path)
    args = ("sweep", path, "--set", "run.users=2000000", "--workers", 2)
    code, out, _ = sim(*args, "--dry-run")
    assert code == 0 and "estimated memory" in out and "does NOT fit" in out
    code, _, err = sim(*args, "--out", tmp_path / "out")
    assert code == 2 and "memory" in err and not (tmp_path / "out").exists()


# -- 4. damaged parts ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def with_parts(tmp_path_factory):
    """A finished sweep whose parts are kept (as after a kill once every run had finished)."""
    from sim import cli

    tmp = tmp_path_factory.mktemp("parts")
    path = experiment(tmp)
    keep = store.Store.remove_parts
    store.Store.remove_parts = lambda self: None
    try:
        with pytest.raises(SystemExit):
            cli.main(["sweep", str(path), "--out", str(tmp / "ref"), "-q", "--workers", "1"])
    finally:
        store.Store.remove_parts = keep
    return path, tmp / "ref"


@pytest.mark.parametrize(
    "damage",
    ["truncated_row", "empty_list_row", "truncated_table", "deleted_table", "altered_table"],
)
def test_damaged_parts_are_run_again(sim, with_parts, tmp_path, damage):
    path, ref = with_parts
    out = tmp_path / "out"
    shutil.copytree(ref, out)
    row = sorted((out / "parts").glob("*.run.json"))[1]
    table = out / "parts" / row.name.replace(".run.json", ".timeseries.arrow")
    if damage == "truncated_row":
        row.write_bytes(row.read_bytes()[:30])
    elif damage == "empty_list_row":
        row.write_text("[]")
    elif damage == "truncated_table":
        table.write_bytes(table.read_bytes()[:200])
    elif damage == "deleted_table":
        table.unlink()
    else:
        data = bytearray(table.read_bytes())
        data[len(data) // 2] ^= 0xFF
        table.write_bytes(bytes(data))
    code, _, err = sim("sweep", path, "--out", out, "--resume", "--workers", 1)
    assert code == 0 and "damaged" in err
    for name in ("runs.parquet", "timeseries.parquet"):
        got, want = pd.read_parquet(out / name), pd.read_parquet(ref / name)
        drop = [c for c in ("seconds", "started", "worker") if c in got]
        pd.testing.assert_frame_equal(got.drop(columns=drop), want.drop(columns=drop))
    assert not (out / "parts").exists()


def test_a_corrupted_runs_table_is_not_trusted(sim, case_sweep, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(case_sweep, out)
    shutil.rmtree(out / "figures", ignore_errors=True)
    (out / "runs.parquet").write_bytes(b"PAR1 not a table")
    code, _, err = sim("brief", out, "--out", tmp_path / "b.html")
    assert code == 2 and "runs.parquet" in err and not (tmp_path / "b.html").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    source = manifest["experiment"]["file"]
    code, _, err = sim("sweep", source, "--out", out, "--resume", "--workers", 1)
    assert code == 0, err
    assert len(pd.read_parquet(out / "runs.parquet")) == 6


def test_a_full_disk_leaves_a_resumable_folder(sim, tmp_path, monkeypatch):
    path = experiment(tmp_path)
    writes = []
    real = os.fsync

    def full_after_four(fd):  # the fifth file written finds the disk full
        writes.append(fd)
        if len(writes) > 4:
            raise OSError(28, "No space left on device")
        real(fd)

    monkeypatch.setattr(store.os, "fsync", full_after_four)
    out = tmp_path / "out"
    code, _, err = sim("sweep", path, "--out", out, "--workers", 1)
    assert code == 1 and err.strip().count("\n") == 0 and "No space left" in err
    assert "--resume" in err and "Traceback" not in err
    assert not [p for p in files(out) if ".tmp-" in p]
    monkeypatch.setattr(store.os, "fsync", real)
    code, _, err = sim("sweep", path, "--out", out, "--workers", 1, "--resume")
    assert code == 0 and len(pd.read_parquet(out / "runs.parquet")) == 2


# -- 5, 6. what a design varies; interventions --------------------------------------------------
@pytest.mark.parametrize("path", ["market.feed_policy", "market.companion_policy"])
def test_set_cannot_undo_the_policy_factor(sim, path):
    code, _, err = sim("sweep", "headline", "--dry-run", "--set", f"{path}=attention")
    assert code == 2 and "varies policy" in err


def test_base_cannot_undo_the_scenario_factor(tmp_path):
    path = experiment(tmp_path, '[base]\n"market.feeds" = 1\n[grid]\nscenario = ["mixed"]\n')
    with pytest.raises(ParamError, match="varies scenario"):
        load(path)


@pytest.mark.parametrize(
    "fields",
    [
        "start = true",
        "share = true",
        'value = "ten"',
        "name = 5",
        'name = ["a"]',
        "end = 3.5",
        "providers = 1",
        "recruit = false",
    ],
)
def test_intervention_fields_are_type_checked(tmp_path, fields):
    path = experiment(tmp_path, f'[[interventions]]\nkind = "cap_minutes"\n{fields}\n')
    with pytest.raises(ParamError, match="intervention"):
        load(path)


def test_two_interventions_of_one_name_are_refused(tmp_path):
    body = '[[interventions]]\nkind = "deactivate"\n[[interventions]]\nkind = "deactivate"\n'
    with pytest.raises(ParamError, match="named 'deactivate'"):
        load(experiment(tmp_path, body))
    body = (
        '[[interventions]]\nkind = "deactivate"\n[[cases]]\nlabel = "a"\n'
        'interventions = [{ kind = "deactivate", providers = "feed_a" }]\n'
    )
    with pytest.raises(ParamError, match="named 'deactivate'"):
        expand(load(experiment(tmp_path, body)))


def test_run_warns_of_an_intervention_never_in_force(sim, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('[[interventions]]\nkind = "deactivate"\nstart = 50\n')
    code, _, err = sim(
        "run", "--users", 50, "--days", 5, "--config", config, "--out", tmp_path / "r"
    )
    assert code == 0 and "warning: intervention deactivate starts on day 50" in err


# -- 7, 8. inputs and outputs -------------------------------------------------------------------
@pytest.mark.parametrize(
    "damage",
    ["runs_garbage", "runs_foreign", "timeseries_truncated", "manifest_garbage", "manifest_list"],
)
@pytest.mark.parametrize("command", ["plot", "brief"])
def test_unreadable_results_are_one_line(sim, case_sweep, tmp_path, damage, command):
    folder = tmp_path / "res"
    shutil.copytree(case_sweep, folder)
    if damage == "runs_garbage":
        (folder / "runs.parquet").write_text("xx")
    elif damage == "runs_foreign":
        pd.DataFrame({"a": [1]}).to_parquet(folder / "runs.parquet")
    elif damage == "timeseries_truncated":
        ts = folder / "timeseries.parquet"
        ts.write_bytes(ts.read_bytes()[:300])
    elif damage == "manifest_garbage":
        (folder / "manifest.json").write_text("{")
    else:
        (folder / "manifest.json").write_text("[]")
    before = files(tmp_path)
    out = tmp_path / "new" / ("b.md" if command == "brief" else "figs")
    code, _, err = sim(command, folder, "--out", out)
    assert code == 2 and err.count("\n") == 1 and err.startswith("error: ")
    assert files(tmp_path) == before  # brief and plot made no folder either


@pytest.mark.parametrize(
    "args",
    [
        ("validate", "--quick", "--study", "x", "--out", "{file}/v"),
        ("calibrate", "--max-evaluations", 2, "--out", "{file}/c"),
        ("plot", "{res}", "--out", "{file}/f"),
        ("brief", "{res}", "--out", "{file}/b.html"),
        ("run", "--users", 50, "--days", 5, "--out", "{file}/r"),
        ("sweep", "headline", "--out", "{file}/s"),
    ],
)
def test_output_under_a_file_is_refused_before_work(sim, case_sweep, tmp_path, args):
    (tmp_path / "file").write_text("")
    args = [str(a).format(file=tmp_path / "file", res=case_sweep) for a in args]
    code, _, err = sim(*args)
    assert code == 2 and "is a file" in err


@pytest.mark.parametrize("out", ["", "."])
@pytest.mark.parametrize("command", ["run", "sweep"])
def test_out_must_name_a_folder(sim, tmp_path, monkeypatch, command, out):
    monkeypatch.chdir(tmp_path)
    args = ["run", "--users", 50, "--days", 5] if command == "run" else ["sweep", "headline"]
    code, _, err = sim(*args, "--out", out)
    assert code == 2 and "--out must name" in err and list(tmp_path.iterdir()) == []


def test_a_fifo_as_config_is_refused(sim, tmp_path):
    os.mkfifo(tmp_path / "fifo")
    code, _, err = sim("run", "--config", tmp_path / "fifo", "--out", tmp_path / "r")
    assert code == 2 and "not a regular file" in err


@pytest.mark.parametrize(
    "name, value", [("SIM_THREADS", "²"), ("SIM_THREADS", "100000"), ("SIM_THREADS", "0")]
)
def test_bad_environment_is_one_line(sim, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    code, _, err = sim("params")
    assert code == 2 and name in err and err.count("\n") == 1


def test_extra_toml_after_a_set_value_is_refused(sim, tmp_path):
    code, _, err = sim("run", "--set", "companion.empathy=0.5\nchoice.x = 1", "--out", tmp_path)
    assert code == 2 and "--set" in err


def test_a_case_label_is_one_line(tmp_path):
    path = experiment(tmp_path, '[[cases]]\nlabel = "a\\nb"\n')
    with pytest.raises(ParamError, match="one line"):
        load(path)


def test_a_killed_save_leaves_nothing_behind_and_folders_follow_the_umask(tmp_path):
    result = simpkg.run("attention_economy", users=50, days=5, seed=1)
    out = tmp_path / "run"
    result.save(out)
    (tmp_path / ".run.tmp-999999999-abc").mkdir()  # a save killed before its rename
    os.rename(out, tmp_path / ".run.old-999999998")  # ... and one killed between renames
    result.save(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    mask = single.umask()
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~mask


def test_markdown_figure_links_survive_a_space(sim, case_sweep, tmp_path):
    out = tmp_path / "my brief.md"
    code, _, err = sim("brief", case_sweep, "--out", out)
    assert code == 0, err
    link = out.read_text().split("![Figure 1](", 1)[1].split(")", 1)[0]
    assert link == "my%20brief_figures/comparison.svg"


def test_resuming_a_finished_sweep_clears_what_a_kill_after_its_end_left(sim, tmp_path):
    """A sweep killed after it marked itself complete leaves its lock file (and may leave a
    temporary); resuming it has nothing to run, and still leaves the folder clean."""
    path, out = experiment(tmp_path), tmp_path / "out"
    assert sim("sweep", path, "--out", out, "-q")[0] == 0
    clean = files(out)
    (out / ".lock").write_text("")
    (out / ".runs.parquet.tmp-1").write_text("")
    code, stdout, _ = sim("sweep", path, "--out", out, "--resume")
    assert code == 0 and "nothing to do" in stdout
    assert files(out) == clean
