"""Parameter paths (ODD 7.13): a parameter that follows a path over days gives the run of setting
its values day by day, is identical before its first change (common random numbers), is
refused with one line when it cannot be followed, and is part of the run's provenance; the
transition experiment loads and runs small."""

import copy
import dataclasses
import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.model import EconomyModel, metrics
from sim.model.params import ParamError, Params
from sim.model.paths import ParamPath, fixed_reason, parse
from sim.sweeps import provenance
from sim.sweeps.experiments import expand, load
from sim.sweeps.runner import execute

SHIPPED = Path(__file__).resolve().parent.parent / "experiments"
SMALL = dict(users=300, days=24, seed=3)


def run(paths=(), params=None, set_on=None):
    """The daily series of a small mixed market; ``set_on(model)`` runs before each day."""
    params = params or sim.resolve("mixed", **SMALL)[0]
    model = EconomyModel(params, paths=paths)
    while model.running:
        if set_on is not None:
            set_on(model)
        model.step()
    return metrics.frame(model)


def differs(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    return not a.equals(b)


# -- the values a run reads -------------------------------------------------------------------
@pytest.mark.parametrize(
    "parameter, value",
    [
        ("companion.serving_cost", 0.0005),
        ("social.companion_relief", 0.4),
        ("learning.emotional_rate", 0.05),
    ],
)
def test_a_path_gives_the_run_of_setting_its_value_from_its_day_on(parameter, value):
    day = 12
    default = Params().flat()[parameter]
    step = {parameter: {"points": [[0, default], [day, value]], "form": "step"}}
    with_path = run(step)

    def set_from_day(model):
        if model.steps == day:  # before day `day`'s steps
            model.params.set(parameter, value)

    by_hand = run(set_on=set_from_day)
    without = run()
    pd.testing.assert_frame_equal(with_path, by_hand, check_exact=True)
    # common random numbers: identical before the change, different after it
    pd.testing.assert_frame_equal(with_path.iloc[:day], without.iloc[:day], check_exact=True)
    assert differs(with_path.iloc[day:], without.iloc[day:])


def test_a_linear_path_sets_each_days_interpolated_value():
    path = ParamPath("social.companion_relief", ((4, 0.8), (20, 0.4)))
    assert [path.value(d) for d in (0, 4, 12, 20, 23)] == pytest.approx([0.8, 0.8, 0.6, 0.4, 0.4])
    assert ParamPath("social.companion_relief", ((4, 0.8), (20, 0.4)), "step").value(19) == 0.8
    assert ParamPath("adaptation.interval", ((0, 14), (10, 7))).value(5) == 10  # whole numbers
    seen = []

    def by_day(model):
        model.params.set("social.companion_relief", path.value(model.steps))
        seen.append(model.params.social.companion_relief)

    pd.testing.assert_frame_equal(run([path]), run(set_on=by_day), check_exact=True)
    assert seen[12] == pytest.approx(0.6)


def _moved(default, meta):
    """A value in the leaf's range near its default but different from it."""
    lo, hi = meta["lo"], meta["hi"]
    x = default * 0.9 if default > lo else default + 0.1 * (hi - lo)
    if isinstance(default, int):
        x = round(x) if round(x) != default else default + (1 if default == lo else -1)
    return x


def test_no_parameter_a_path_may_move_is_read_before_the_first_day():
    """A path on day 0 gives the run of the same values set from the start for every
    parameter that may follow a path: none is read only when the model is built."""
    moved = {}
    for section in dataclasses.fields(Params):
        for f in dataclasses.fields(section.default_factory()):
            name = f"{section.name}.{f.name}"
            if fixed_reason(name) is None:
                moved[name] = _moved(f.default, f.metadata)
    assert "companion.serving_cost" in moved and "adaptation.interval" in moved
    start = sim.resolve("mixed", **SMALL)[0]
    from_start = copy.deepcopy(start)
    for name, value in moved.items():
        from_start.set(name, value)
    paths = {name: [[0, value]] for name, value in moved.items()}
    pd.testing.assert_frame_equal(run(paths, start), run(params=from_start), check_exact=True)


# -- refused paths ---------------------------------------------------------------------------------
BAD = {
    "unknown parameter": (
        '"companion.warmth" = [[0, 0.5]]',
        ["unknown parameter", "companion.warmth"],
    ),
    "initial lever": ('"feed.ad_load" = [[0, 0.1], [10, 0.2]]', ["feed.ad_load", "initial lever"]),
    "population trait": ('"population.loneliness_mean" = [[0, 0.3]]', ["population", "drawn once"]),
    "run length": ('"run.days" = [[0, 20]]', ["run.days", "fixed when the model is built"]),
    "switch": ('"mechanisms.habit" = [[0, false]]', ["mechanisms.habit", "numeric"]),
    "out of range": (
        '"social.companion_relief" = [[0, 0.5], [10, 1.5]]',
        ["social.companion_relief", "point 2 (day 10)", "[0, 1]", "1.5"],
    ),
    "days not increasing": (
        '"social.companion_relief" = [[10, 0.5], [5, 0.6]]',
        ["social.companion_relief", "days must increase", "day 5 after day 10"],
    ),
    "beyond the run": (
        '"social.companion_relief" = [[0, 0.5], [40, 0.6]]',
        ["social.companion_relief", "day 40 is beyond the run", "days 0 to 29"],
    ),
    "not points": ('"social.companion_relief" = 0.5', ["social.companion_relief", "[day, value]"]),
    "unknown form": (
        '"social.companion_relief" = { points = [[0, 0.5]], form = "cubic" }',
        ["form must be one of linear, step"],
    ),
    "also set": (
        '"social.companion_relief" = [[0, 0.5]]\n[social]\ncompanion_relief = 0.6',
        ["social.companion_relief follows a path and is also set"],
    ),
    "joint rule": (
        '"wellbeing.w_ties" = [[0, 0.3], [20, 0.9]]',
        ["on day 20", "wellbeing weights"],
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_paths_give_one_line_exit_2_and_write_nothing(tmp_path, sim, case):
    text, needles = BAD[case]
    config = tmp_path / "config.toml"
    config.write_text(f"[run]\nusers = 100\ndays = 30\n\n[paths]\n{text}\n")
    out = tmp_path / "out"
    code, _, err = sim("run", "--config", config, "--out", out, "--quiet")
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert str(config) in lines[0] and not out.exists()


def test_a_path_from_python_is_checked_as_one_from_a_file():
    with pytest.raises(ParamError, match="initial lever"):
        EconomyModel(users=100, days=5, paths={"companion.price": [[0, 12.0]]})
    with pytest.raises(ParamError, match="given twice"):
        EconomyModel(
            users=100, days=5, paths=[ParamPath("social.companion_relief", ((0, 0.5),))] * 2
        )
    with pytest.raises(ParamError, match="only by sim run and sim sweep"):
        sim.resolve(config={"paths": {"social.companion_relief": [[0, 0.5]]}})
    # in Python a run may be shorter than its paths: it follows their first days
    assert parse({"social.companion_relief": [[0, 0.5], [900, 0.9]]})[0].value(
        450
    ) == pytest.approx(0.7)
    EconomyModel(users=100, days=5, paths={"social.companion_relief": [[0, 0.5], [900, 0.9]]})


# -- provenance ------------------------------------------------------------------------------------
def test_paths_are_part_of_the_runs_config_hash_params_json_and_report(tmp_path, sim):
    config = tmp_path / "config.toml"
    config.write_text(
        textwrap.dedent("""
        [run]
        users = 100
        days = 12

        [paths]
        "companion.serving_cost" = [[0, 0.002], [10, 0.0005]]
        """)
    )
    code, out, err = sim("run", "--config", config, "--out", tmp_path / "a")
    assert code == 0, err
    assert "follows a path: companion.serving_cost 0.002 on day 0 to 0.0005 on day 10" in out
    stored = json.loads((tmp_path / "a" / "params.json").read_text())
    assert stored["paths"] == {
        "companion.serving_cost": {"points": [[0, 0.002], [10, 0.0005]], "form": "linear"}
    }
    # the parameters as given, the path beside them
    assert stored["companion"]["serving_cost"] == Params().companion.serving_cost
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    plain = sim_run_hash(users=100, days=12)
    assert summary["config_hash"] != plain
    assert provenance.config_hash(Params().to_dict(), [], {}) == provenance.config_hash(
        Params().to_dict(), []
    )  # a run without paths keeps its hash
    code, _, err = sim("brief", tmp_path / "a", "--out", tmp_path / "brief.md")
    assert code == 0, err
    brief = (tmp_path / "brief.md").read_text().replace("\\_", "_")  # Markdown escapes
    assert "path over days: companion.serving_cost 0.002 on day 0 to 0.0005 on day 10" in brief
    # a shorter run follows the start of the path, and says so
    code, _, err = sim("run", "--config", config, "--days", "5", "--out", tmp_path / "b")
    assert code == 0 and "follows the path's first 5 days" in err


def sim_run_hash(**kw):
    return sim.run("mixed", **kw).summary["config_hash"]


# -- experiments -----------------------------------------------------------------------------------
EXPERIMENT = """
name = "x"
description = "d"
users = 100
days = 30
[paths]
"social.companion_relief" = [[0, 0.5], [20, 0.9]]
"""


@pytest.mark.parametrize(
    "extra, sets, needle",
    [
        ('[base]\n"social.companion_relief" = 0.7\n', [], "[base] 'social.companion_relief'"),
        (
            '[grid]\n"social.companion_relief" = [0.6, 0.7]\n',
            [],
            "[grid] 'social.companion_relief'",
        ),
        (
            '[[cases]]\nlabel = "a"\npaths = { "social.companion_relief" = [[0, 0.1]] }\n',
            [],
            "gives social.companion_relief a path already",
        ),
        ("", ["social.companion_relief=0.7"], "--set social.companion_relief"),
        ('[[cases]]\nlabel = "a"\npaths = { "feed.hooks" = [[0, 0.1]] }\n', [], "feed.hooks"),
    ],
)
def test_experiment_paths_that_clash_are_refused(tmp_path, extra, sets, needle):
    path = tmp_path / "x.toml"
    path.write_text(EXPERIMENT + extra)
    with pytest.raises(ParamError, match="x.toml") as e:
        load(path, sets)
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_experiment_paths_reach_every_run_and_its_id(tmp_path):
    path = tmp_path / "x.toml"
    path.write_text(
        EXPERIMENT + '[[cases]]\nlabel = "a"\n[[cases]]\nlabel = "b"\n'
        'paths = { "learning.emotional_rate" = [[0, 0.01], [29, 0.03]] }\n'
    )
    exp = load(path)
    a, b = expand(exp)
    assert set(a.paths) == {"social.companion_relief"}
    assert set(b.paths) == {"social.companion_relief", "learning.emotional_rate"}
    assert exp.definition()["paths"] == a.paths
    plain = tmp_path / "y.toml"
    plain.write_text(EXPERIMENT.split("[paths]")[0])
    assert "paths" not in load(plain).definition()  # definitions without paths keep their hash


def test_the_transition_experiment_loads_and_runs_small():
    exp = load(SHIPPED / "transition.toml")
    specs = expand(exp)
    assert exp.days >= 1825 and exp.record.every == 7 and not exp.warnings
    assert {s.policy for s in specs} == {"attention", "intimacy", "wellbeing"}
    assert {s.columns["case"] for s in specs} >= {"no_regulation", "ban_manipulation"}
    assert all(s.paths == specs[0].paths for s in specs)
    assert set(specs[0].paths) == {"learning.emotional_rate", "companion.serving_cost"}
    for r in set(s.replication for s in specs):  # paired: one seed per replication
        assert len({s.seed for s in specs if s.replication == r}) == 1

    small = load(
        SHIPPED / "transition.toml",
        ["run.users=150", "run.days=60", "market.companion_launch_day=10"],
        replications=1,
    )
    assert small.warnings  # the runs stop before the paths end, and are told so
    outputs = [execute(s) for s in expand(small)[:3]]
    assert [o.row["status"] for o in outputs] == ["ok"] * 3, [o.row["error"] for o in outputs]
    assert all(np.isfinite(o.row["wellbeing_mean"]) for o in outputs)
