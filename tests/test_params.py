"""The parameter tree: defaults, validation, parsing and how a run's parameters are resolved."""

import dataclasses

import pytest

from sim.model.params import ParamError, Params, describe, parse_assignment, read_toml
from sim.model.scenarios import SCENARIOS, policy_label, resolve


def leaves():
    """(path, field) for every parameter."""
    for section in dataclasses.fields(Params):
        for f in dataclasses.fields(section.default_factory()):
            yield f"{section.name}.{f.name}", f


@pytest.mark.parametrize("path, f", list(leaves()), ids=[p for p, _ in leaves()])
def test_every_default_is_allowed(path, f):
    meta = f.metadata
    assert meta["doc"], f"{path} has no meaning"
    if "options" in meta:
        assert f.default in meta["options"]
    elif "lo" in meta:
        assert meta["lo"] <= f.default <= meta["hi"]
        assert type(f.default) in (int, float) and not isinstance(f.default, bool)
    else:
        assert isinstance(f.default, bool)
    params = Params()
    params.set(path, f.default)  # the default passes its own validation
    assert params.flat()[path] == f.default


def test_describe_has_one_row_per_parameter():
    rows = describe()
    assert [r["path"] for r in rows] == list(Params().flat())
    assert all(set(r) == {"path", "default", "unit", "allowed", "meaning"} for r in rows)


@pytest.mark.parametrize(
    "path, value",
    [
        ("nosuch.x", 1),  # unknown section
        ("companion", 1),  # no name
        ("companion.nosuch", 1),  # unknown name
        ("companion.empathy", "high"),  # wrong type
        ("companion.empathy", 1.5),  # above range
        ("companion.empathy", -0.1),  # below range
        ("companion.empathy", float("nan")),
        ("run.users", True),  # bool for a number
        ("run.users", 100.5),  # non-integer for an int
        ("market.feed_policy", "kindness"),  # not an option
        ("mechanisms.habit", 1),  # number for a switch
    ],
)
def test_set_rejects_with_the_path_named(path, value):
    params = Params()
    with pytest.raises(ParamError) as e:
        params.set(path, value)
    message = str(e.value)
    assert path in message and "\n" not in message
    assert params == Params()  # nothing changed


def test_set_coerces_values():
    params = Params()
    params.set("run.users", 500.0)
    params.set("companion.empathy", 1)
    params.set("mechanisms.habit", "off")
    assert params.run.users == 500 and isinstance(params.run.users, int)
    assert params.companion.empathy == 1.0 and isinstance(params.companion.empathy, float)
    assert params.mechanisms.habit is False


@pytest.mark.parametrize(
    "text, expected",
    [
        ("run.users=500", ("run.users", 500)),
        ("companion.empathy=0.5", ("companion.empathy", 0.5)),
        ("companion.empathy=1e-1", ("companion.empathy", 0.1)),
        (" feed.ad_load = 0.2 ", ("feed.ad_load", 0.2)),
        ("mechanisms.habit=false", ("mechanisms.habit", False)),
        ("market.feed_policy=wellbeing", ("market.feed_policy", "wellbeing")),
        ('market.feed_policy="intimacy"', ("market.feed_policy", "intimacy")),
    ],
)
def test_parse_assignment(text, expected):
    path, value = parse_assignment(text)
    assert (path, value) == expected and type(value) is type(expected[1])


@pytest.mark.parametrize("text", ["nodots", "=1", "run.users=", ""])
def test_parse_assignment_rejects_malformed(text):
    with pytest.raises(ParamError, match="PATH=VALUE"):
        parse_assignment(text)


def test_update_from_nested_dict():
    params = Params()
    params.update({"companion": {"empathy": 0.3, "price": 20}, "run": {"days": 10}})
    assert params.companion.empathy == 0.3 and params.companion.price == 20.0
    assert params.run.days == 10


@pytest.mark.parametrize(
    "tree, expected",
    [
        ({"companion": 0.5}, "'companion' in my.toml must be a table"),
        ({"companion": {"empathy": 2}}, "companion.empathy must be in [0, 1]"),
        ({"companion": {"nosuch": 2}}, "unknown parameter 'companion.nosuch'"),
    ],
)
def test_update_names_the_source(tree, expected):
    with pytest.raises(ParamError) as e:
        Params().update(tree, "my.toml")
    assert expected in str(e.value) and "my.toml" in str(e.value)


def test_resolve_priorities(tmp_path):
    """scenario < policy < config < --set < run keywords."""
    config = tmp_path / "c.toml"
    config.write_text(
        '[market]\ncompanions = 1\nfeed_policy = "intimacy"\n'
        "[run]\nusers = 300\ndays = 20\n[feed]\nad_load = 0.15\n"
    )
    params, _ = resolve("attention_economy", "wellbeing")
    assert params.market.companions == 0  # scenario over default
    assert params.market.feed_policy == params.market.companion_policy == "wellbeing"
    params, _ = resolve("attention_economy", "wellbeing", config)
    assert params.market.companions == 1  # config over scenario
    assert params.market.feed_policy == "intimacy"  # config over policy
    assert params.market.companion_policy == "wellbeing"
    params, _ = resolve(
        "attention_economy",
        "wellbeing",
        config,
        ["feed.ad_load=0.25", "run.users=400", "run.days=40"],
        users=500,
    )
    assert params.feed.ad_load == 0.25 and params.run.days == 40  # --set over config
    assert params.run.users == 500  # run keyword over --set
    params, _ = resolve(sets={"run.seed": 9}, seed=None)
    assert params.run.seed == 9  # a None keyword changes nothing


def test_resolve_accepts_a_mapping_and_reads_interventions():
    tree = {
        "companion": {"empathy": 0.2},
        "interventions": [{"kind": "ad_tax", "value": 0.1, "providers": "feeds"}],
    }
    params, interventions = resolve(config=tree)
    assert params.companion.empathy == 0.2
    assert [x.kind for x in interventions] == ["ad_tax"]
    assert "interventions" in tree  # the caller's mapping is left alone


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"scenario": "nope"}, "unknown scenario 'nope'"),
        ({"policy": "nope"}, "unknown policy 'nope'"),
        ({"sets": ["companion.empathy=9"]}, "companion.empathy"),
        ({"users": 5}, "run.users"),
    ],
)
def test_resolve_rejects(kwargs, expected):
    with pytest.raises(ParamError, match=expected):
        resolve(**kwargs)


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_scenario_resolves(name):
    params, interventions = resolve(name)
    assert interventions == []
    for section, values in SCENARIOS[name][1].items():
        for key, value in values.items():
            assert getattr(getattr(params, section), key) == value
    assert params.market.feeds + params.market.companions > 0
    assert policy_label(params) in ("attention", "intimacy", "attention/intimacy")


def test_read_toml_errors(tmp_path):
    (tmp_path / "bad.toml").write_text("x = = 1")
    for path, expected in [
        (tmp_path / "missing.toml", "does not exist"),
        (tmp_path, "is a folder, not a file"),
        (tmp_path / "bad.toml", "not valid TOML"),
    ]:
        with pytest.raises(ParamError, match=expected):
            read_toml(path)
