"""Experiment files: reading, checking, expansion into runs, paired seeds, the shipped files."""

import textwrap
from pathlib import Path

import pytest

from sim.model.params import ParamError
from sim.sweeps.experiments import expand, load

SHIPPED = Path(__file__).resolve().parent.parent / "experiments"
NAMES = sorted(p.stem for p in SHIPPED.glob("*.toml"))

SMALL = """
name = "small"
description = "a small test experiment"
users = 200
days = 20
replications = 3
base_seed = 5

[base]
companion.empathy = 0.7

[grid]
policy = ["attention", "wellbeing"]
"feed.cpm" = [5.0, 15]

[record]
every = 5
"""


def write(tmp_path, text, name="exp.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


# -- expansion ----------------------------------------------------------------------------------
def test_grid_expands_to_every_combination_times_every_replication(tmp_path):
    exp = load(write(tmp_path, SMALL))
    specs = expand(exp)
    assert len(specs) == 2 * 2 * 3
    assert exp.seeds == [5, 6, 7]
    combos = {(s.policy, s.columns["feed.cpm"]) for s in specs}
    assert combos == {(p, c) for p in ("attention", "wellbeing") for c in (5.0, 15.0)}
    assert all(s.overrides["companion.empathy"] == 0.7 for s in specs)
    assert all(s.users == 200 and s.days == 20 and s.record.every == 5 for s in specs)
    assert specs[0].label == "policy=attention, feed.cpm=5.0"


def test_replication_k_uses_the_same_seed_in_every_design_point(tmp_path):
    specs = expand(load(write(tmp_path, SMALL)))
    points = {s.point for s in specs}
    for k, seed in enumerate([5, 6, 7]):
        in_k = [s for s in specs if s.replication == k]
        assert {s.seed for s in in_k} == {seed}
        assert {s.point for s in in_k} == points  # every point, once, per replication
    # replication-major order: a partial sweep holds whole replications first
    assert [s.replication for s in specs] == sorted(s.replication for s in specs)


def test_expansion_is_deterministic_and_run_ids_are_unique(tmp_path):
    path = write(tmp_path, SMALL)
    a, b = expand(load(path)), expand(load(path))
    assert [s.run_id for s in a] == [s.run_id for s in b]
    assert len({s.run_id for s in a}) == len(a)
    assert load(path).hash == load(path).hash
    # the description does not change the definition; a value does
    assert (
        load(write(tmp_path, SMALL.replace("a small test", "another"), "b.toml")).hash
        == load(path).hash
    )
    assert load(write(tmp_path, SMALL.replace("0.7", "0.6"), "c.toml")).hash != load(path).hash


def test_set_and_replications_overrides(tmp_path):
    path = write(tmp_path, SMALL)
    exp = load(path, sets=["run.users=300", "run.days=10", "habit.formation=0.1"], replications=1)
    specs = expand(exp)
    assert len(specs) == 4 and exp.seeds == [5]
    assert all(s.users == 300 and s.days == 10 for s in specs)
    assert all(s.overrides["habit.formation"] == 0.1 for s in specs)
    assert exp.hash != load(path).hash


def test_cases_are_crossed_with_the_grid_and_carry_interventions(tmp_path):
    path = write(
        tmp_path,
        """
        name = "cases"
        description = "cases"
        days = 30
        users = 100
        [grid]
        policy = ["attention", "intimacy"]
        [[cases]]
        label = "control"
        [[cases]]
        label = "ban"
        set = { "companion.empathy" = 0.5 }
        interventions = [{ kind = "ban_manipulation", providers = "companions", start = 10 }]
        """,
    )
    specs = expand(load(path))
    assert [s.label for s in specs] == [
        "control, policy=attention",
        "control, policy=intimacy",
        "ban, policy=attention",
        "ban, policy=intimacy",
    ]
    assert specs[0].interventions == [] and specs[2].interventions[0]["kind"] == "ban_manipulation"
    # a parameter set by one case is a column of every run, at its resolved value
    assert [s.columns["companion.empathy"] for s in specs] == [0.8, 0.8, 0.5, 0.5]
    assert [s.columns["case"] for s in specs] == ["control", "control", "ban", "ban"]


@pytest.mark.parametrize(
    "method, extra, count",
    [("sobol", "", 8 * (2 + 2)), ("morris", "levels = 4", 3 * (2 + 1)), ("latin", "", 7)],
)
def test_sampled_designs_are_seeded_and_inside_their_ranges(tmp_path, method, extra, count):
    n = {"sobol": 8, "morris": 3, "latin": 7}[method]
    text = f"""
        name = "s"
        description = "sampled"
        days = 10
        users = 100
        [sample]
        method = "{method}"
        n = {n}
        seed = 3
        {extra}
        [sample.ranges]
        "companion.empathy" = [0.2, 0.9]
        "adaptation.interval" = [7, 28]
        """
    specs = expand(load(write(tmp_path, text)))
    again = expand(load(write(tmp_path, text, "again.toml")))
    assert len(specs) == count
    assert [s.overrides for s in specs] == [s.overrides for s in again]
    for s in specs:
        assert 0.2 <= s.overrides["companion.empathy"] <= 0.9
        assert isinstance(s.overrides["adaptation.interval"], int)
        assert 7 <= s.overrides["adaptation.interval"] <= 28
    assert [s.columns["sample"] for s in specs] == list(range(count))


# -- bad files: one line, exit code 2, the file and the key named, nothing written -------------
BAD = {
    "unknown key": (
        'name = "x"\ndescription = "d"\nreplicates = 3\n',
        ["'replicates'", "allowed keys"],
    ),
    "wrong type": (
        'name = "x"\ndescription = "d"\ndays = "ten"\n',
        ["'days'", "must be a number in [1, 3650]"],
    ),
    "empty grid": (
        'name = "x"\ndescription = "d"\n[grid]\n"feed.cpm" = []\n',
        ["[grid] 'feed.cpm'", "empty"],
    ),
    "low above high": (
        'name = "x"\ndescription = "d"\n[sample]\nmethod = "latin"\nn = 4\n[sample.ranges]\n"feed.cpm" = [9.0, 2.0]\n',
        ["'feed.cpm'", "low 9 must be below high 2"],
    ),
    "unknown intervention": (
        'name = "x"\ndescription = "d"\n[[cases]]\nlabel = "c"\ninterventions = [{ kind = "curfew" }]\n',
        ["'curfew'", "[[cases]] 'c'", "choose one of"],
    ),
    "value out of range in a grid": (
        'name = "x"\ndescription = "d"\n[grid]\n"companion.empathy" = [0.5, 1.5]\n',
        ["[grid] 'companion.empathy'", "[0, 1]"],
    ),
    "unknown parameter": (
        'name = "x"\ndescription = "d"\n[base]\n"feed.cmp" = 3\n',
        ["[base] 'feed.cmp'", "feed"],
    ),
    "unknown sampler": (
        'name = "x"\ndescription = "d"\n[sample]\nmethod = "fast"\nn = 4\n[sample.ranges]\n"feed.cpm" = [1, 2]\n',
        ["[sample] 'method'", "sobol"],
    ),
    "sobol n not a power of 2": (
        'name = "x"\ndescription = "d"\n[sample]\nmethod = "sobol"\nn = 12\n[sample.ranges]\n"feed.cpm" = [1, 2]\n',
        ["'n'", "power of 2"],
    ),
    "missing description": ('name = "x"\n', ["'description'"]),
    "not TOML": ('name = "x\n', ["not valid TOML"]),
    "seeds and replications": (
        'name = "x"\ndescription = "d"\nseeds = [1]\nreplications = 2\n',
        ["'seeds'", "'replications'"],
    ),
    "unknown provider": (
        'name = "x"\ndescription = "d"\nscenario = "attention_economy"\n'
        '[[interventions]]\nkind = "ban_manipulation"\nproviders = "companion_a"\n',
        ["'companion_a'", "feed_a"],
    ),
    "unknown record key": (
        'name = "x"\ndescription = "d"\n[record]\npanels = true\n',
        ["[record] 'panels'"],
    ),
    "scenario in grid and cases": (
        'name = "x"\ndescription = "d"\n[grid]\nscenario = ["mixed"]\n[[cases]]\nlabel = "a"\nscenario = "mixed"\n',
        ["'scenario'", "both"],
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_experiment_files_give_one_line_and_exit_2(tmp_path, sim, case):
    text, needles = BAD[case]
    path = write(tmp_path, text, "bad.toml")
    out = tmp_path / "out"
    code, stdout, err = sim("sweep", path, "--out", out)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert str(path) in lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert "Traceback" not in err and not out.exists()


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--set", "feed.cpm=3"], "varies feed.cpm"),
        (["--set", "run.seed=3"], "run.seed"),
        (["--set", "habit.formation=7"], "habit.formation"),
        (["--replications", "0"], "--replications"),
        (["--workers", "0"], "--workers"),
        (["--resume"], "--resume"),
    ],
)
def test_bad_overrides_give_one_line_and_exit_2(tmp_path, sim, args, needle):
    path = write(tmp_path, SMALL)
    code, _, err = sim("sweep", path, "--out", tmp_path / "out", *args)
    assert code == 2 and len(err.strip().splitlines()) == 1 and needle in err, err
    assert not (tmp_path / "out").exists()


def test_missing_file_and_missing_out(tmp_path, sim):
    code, _, err = sim("sweep", tmp_path / "nope.toml", "--out", tmp_path / "o")
    assert code == 2 and "does not exist" in err
    code, _, err = sim("sweep", write(tmp_path, SMALL))
    assert code == 2 and "--out" in err


def test_dry_run_lists_runs_and_cost_and_writes_nothing(tmp_path, sim):
    path = write(tmp_path, SMALL)
    code, out, _ = sim("sweep", path, "--dry-run", "--out", tmp_path / "o")
    assert code == 0
    assert "12 runs = 4 design points x 3 replications (seeds 5-7)" in out
    assert "estimated cost" in out
    assert len([ln for ln in out.splitlines() if "policy=" in ln]) == 12
    assert not (tmp_path / "o").exists()


# -- shipped experiments ------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_shipped_experiments_load_and_expand(name):
    exp = load(SHIPPED / f"{name}.toml")
    specs = expand(exp)
    assert exp.name == name and exp.description and specs
    assert not exp.warnings
    # paired: the seeds of replication k agree across points
    for k in range(len(exp.seeds)):
        assert {s.seed for s in specs if s.replication == k} == {exp.seeds[k]}


def test_shipped_regulation_and_lockdown_have_a_control(tmp_path):
    labels = {s.columns["case"] for s in expand(load(SHIPPED / "regulation.toml"))}
    assert labels == {
        "no_regulation",
        "ban_manipulation",
        "ad_load_cap",
        "ad_tax",
        "nudge_mandate",
        "usage_cap",
    }
    lockdown = expand(load(SHIPPED / "lockdown.toml"))
    assert {s.policy for s in lockdown} == {"attention", "intimacy", "wellbeing"}
    assert {s.columns["case"] for s in lockdown} == {"no_lockdown", "lockdown"}


def test_dependent_outage_switches_the_distress_off_from_its_default_on_the_outages_first_day():
    """The case without distress must equal the modelled case until the outage starts, so its
    path starts at the parameter's default and steps to 0 on the outage's first day."""
    import tomllib

    from sim.model.params import Params

    spec = tomllib.loads((SHIPPED / "dependent_outage.toml").read_text())
    case = next(c for c in spec["cases"] if c["label"] == "no_distress")
    path = case["paths"]["dependence.distress"]
    (first_day, before), (switch_day, after) = path["points"]
    outage = next(x for x in spec["interventions"] if x["name"] == "outage")
    assert path["form"] == "step" and first_day == 0
    assert before == Params().dependence.distress and after == 0.0
    assert switch_day == outage["start"] and outage["recruit"] < outage["start"]


def test_sim_experiments_lists_the_shipped_files(sim):
    code, out, _ = sim("experiments")
    assert code == 0
    for name in NAMES:
        assert name in out
    assert "90 runs" in out  # headline: 9 points x 10 seeds


def test_a_shipped_experiment_is_found_by_name(sim):
    code, out, _ = sim("sweep", "headline", "--dry-run", "--replications", "1")
    assert code == 0 and "9 runs = 9 design points x 1 replication (seed 1)" in out


def test_bad_value_via_experiment_errors_are_param_errors(tmp_path):
    with pytest.raises(ParamError, match="exp.toml"):
        load(write(tmp_path, SMALL.replace("0.7", "7")))
