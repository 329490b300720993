"""Properties over random valid parameters (hypothesis): the time budget is kept, states stay in
their bounds and nothing becomes NaN or infinite, whatever the parameters, switches, policies,
markets and interventions.

Strategies are built from the parameter tree's own metadata ('lo'/'hi'/'options', booleans), so
new leaves are covered without editing this file.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import sim
from sim.model import EconomyModel, abtests, metrics
from sim.model.interventions import KINDS, VALUE_RANGE, Intervention
from sim.model.mechanisms import business
from sim.model.metrics import summarise
from sim.model.params import POLICIES, MechanismSwitches, Params
from sim.model.providers import lever_ranges
from sim.model.scenarios import SCENARIOS

USERS = (100, 200)
DAYS = 15
TOL = 1e-9

PROPERTY_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)


def _leaves() -> dict[str, dataclasses.Field]:
    """Every leaf outside run, market and mechanisms (those are drawn apart)."""
    out = {}
    for section in dataclasses.fields(Params):
        if section.name in ("run", "market", "mechanisms"):
            continue
        for f in dataclasses.fields(section.default_factory()):
            out[f"{section.name}.{f.name}"] = f
    return out


# Wellbeing weights are drawn together: each side (positive, negative) must sum to at most 1.
WEIGHT_GROUPS = (
    ("wellbeing.w_loneliness", "wellbeing.w_ties", "wellbeing.w_consumption"),
    ("wellbeing.w_regret", "wellbeing.w_ads", "wellbeing.w_crowd_out"),
)
WEIGHTS = {path for group in WEIGHT_GROUPS for path in group}
LEAVES = {k: v for k, v in _leaves().items() if k not in WEIGHTS}
SWITCHES = [f.name for f in dataclasses.fields(MechanismSwitches)]


def leaf_values(f: dataclasses.Field) -> st.SearchStrategy:
    m = f.metadata
    if isinstance(f.default, bool):
        return st.booleans()
    if "options" in m:
        return st.sampled_from(m["options"])
    if isinstance(f.default, int) and not isinstance(f.default, bool):
        return st.integers(int(m["lo"]), int(m["hi"]))
    return st.floats(float(m["lo"]), float(m["hi"]), allow_nan=False, allow_infinity=False)


# what a prescription may be spent on in each market (a provider option needs its kind there)
OPTIONS_IN = {
    "mixed": ["companion", "feed", "friend", "offline"],
    "attention_economy": ["feed", "friend", "offline"],
    "intimacy_economy": ["companion", "friend", "offline"],
}


@st.composite
def interventions(draw, i: int, scenario: str = "mixed") -> Intervention:
    kind = draw(st.sampled_from(sorted(KINDS)))
    option = draw(st.sampled_from(OPTIONS_IN[scenario])) if kind == "prescribe" else ""
    targets = ["all", f"{option}s"] if option in ("companion", "feed") else None
    start = draw(st.integers(0, DAYS - 1))
    end = draw(st.none() | st.integers(start + 1, DAYS + 5))
    lever = draw(st.sampled_from(sorted(lever_ranges()))) if kind == "set_lever" else ""
    lo, hi = lever_ranges()[lever] if lever else VALUE_RANGE.get(kind, (0.0, 0.0))
    groups = draw(st.integers(1, 4))
    return Intervention(
        kind=kind,
        start=start,
        end=end,
        name=f"iv{i}",
        share=draw(st.floats(0.0, 1.0)),
        providers=draw(st.sampled_from(targets or ["all", "feeds", "companions"])),
        option=option,
        value=draw(st.floats(lo, hi)),
        lever=lever,
        groups=groups,
        group=draw(st.integers(0, groups - 1)),
        cluster_size=draw(st.integers(1, 12)),
    )


@st.composite
def configs(draw):
    """(scenario, overrides, interventions, users, seed) of one random valid run."""
    scenario = draw(st.sampled_from(sorted(SCENARIOS)))
    sets: dict = {}
    for path in draw(
        st.lists(st.sampled_from(sorted(LEAVES)), min_size=10, max_size=len(LEAVES), unique=True)
    ):
        sets[path] = draw(leaf_values(LEAVES[path]))
    for group in WEIGHT_GROUPS:
        if draw(st.booleans()):
            raw = [draw(st.floats(0.0, 1.0)) for _ in group]
            scale = max(1.0, sum(raw))
            sets.update({path: min(1.0, w / scale) for path, w in zip(group, raw, strict=True)})
    for name in SWITCHES:
        sets[f"mechanisms.{name}"] = draw(st.booleans())
    sets["market.feed_policy"] = draw(st.sampled_from(POLICIES))
    sets["market.companion_policy"] = draw(st.sampled_from(POLICIES))
    if scenario == "mixed" and draw(st.booleans()):
        sets["market.feeds"] = draw(st.integers(1, 3))
        sets["market.companions"] = draw(st.integers(1, 3))
    sets["market.companion_launch_day"] = draw(st.integers(0, DAYS))
    ivs = [draw(interventions(i, scenario)) for i in range(draw(st.integers(0, 3)))]
    users = draw(st.integers(*USERS))
    seed = draw(st.integers(0, 2**32))
    return scenario, sets, ivs, users, seed


# Corners of the parameter space that random draws reach only now and then; every property runs
# them as explicit examples (besides its random ones), so a regression there is never missed.
CORNERS = [
    # low temperature and a strong pull toward providers most users have not adopted
    (
        "mixed",
        {
            "choice.temperature": 0.05,
            "choice.impulse_weight": 10.0,
            "choice.hook_pull": 5.0,
            "population.self_control_mean": 0.05,
            "companion.hooks": 1.0,
            "companion.initial_adoption": 0.05,
        },
        [],
        150,
        1,
    ),
    # other offline life so unattractive that its share of the day rounds to zero
    ("mixed", {"choice.temperature": 0.05, "choice.offline_value": -5.0}, [], 150, 2),
    # all the wellbeing weight on the positive side, nothing on the negative
    (
        "mixed",
        {
            "wellbeing.w_loneliness": 0.5,
            "wellbeing.w_ties": 0.25,
            "wellbeing.w_consumption": 0.25,
            "wellbeing.w_regret": 0.0,
            "wellbeing.w_ads": 0.0,
            "wellbeing.w_crowd_out": 0.0,
            "network.initial_strength": 1.0,
        },
        [],
        150,
        3,
    ),
    # all of it on the negative side, with its components easily saturated
    (
        "mixed",
        {
            "wellbeing.w_regret": 0.4,
            "wellbeing.w_ads": 0.3,
            "wellbeing.w_crowd_out": 0.3,
            "wellbeing.offline_need": 960.0,
            "wellbeing.ads_scale": 1.0,
            "wellbeing.regret_minutes": 1.0,
            "wellbeing.w_loneliness": 0.0,
            "wellbeing.w_ties": 0.0,
            "wellbeing.w_consumption": 0.0,
        },
        [],
        150,
        4,
    ),
    # hard caps, manipulation at every session's end and a small free tier
    (
        "mixed",
        {
            "companion.manipulation": 1.0,
            "manipulation.goodbye_share": 1.0,
            "manipulation.extra_minutes": 240.0,
            "companion.free_minutes": 5.0,
            "companion.initial_adoption": 0.5,
        },
        [Intervention("cap_minutes", share=0.5, providers="all", value=5.0)],
        150,
        5,
    ),
    # prescriptions beyond small budgets, on providers kept away or not launched, beyond caps,
    # and sessions with friends under a full lockdown
    (
        "mixed",
        {
            "population.budget_mean": 60.0,
            "companion.manipulation": 1.0,
            "manipulation.goodbye_share": 1.0,
            "manipulation.extra_minutes": 240.0,
            "market.companion_launch_day": 10,
        },
        [
            Intervention("prescribe", option="friend", value=1000.0, share=0.5, name="p1"),
            Intervention("prescribe", option="companion", value=100.0, share=0.7, name="p2"),
            Intervention("prescribe", option="feed", value=50.0, share=0.3, name="p3"),
            Intervention("prescribe", option="offline", value=20.0, share=0.3, name="p4"),
            Intervention("cap_minutes", share=0.5, value=5.0, name="cap"),
            Intervention("lockdown", share=0.5, value=1.0, name="locked"),
            Intervention("deactivate", share=0.5, providers="feeds", name="off"),
        ],
        150,
        6,
    ),
]


def corners(test):
    for cfg in reversed(CORNERS):
        test = example(cfg)(test)
    return test


def simulate(cfg, check=None) -> EconomyModel:
    """Run the configuration, calling ``check(model, paying)`` after every day, where
    ``paying`` is who subscribed to each provider when the day's minutes were chosen."""
    scenario, sets, ivs, users, seed = cfg
    params, _ = sim.resolve(scenario, users=users, days=DAYS, seed=seed, sets=sets)
    model = EconomyModel(params, ivs)
    while model.running:
        paying = model.users.subscribed.copy()
        model.step()
        if check is not None:
            check(model, paying)
    assert model.steps == DAYS
    return model


def user_arrays(model: EconomyModel) -> dict[str, np.ndarray]:
    u = model.users
    return {name: np.asarray(a, dtype=float) for name, a in u._asdict().items()}


# -- properties --------------------------------------------------------------------------------
@PROPERTY_SETTINGS
@given(configs())
@corners
def test_time_budget_is_kept_and_no_part_is_negative(cfg):
    def check(m, _):
        u = m.users
        total = u.minutes.sum(axis=1) + u.social_minutes + u.offline_minutes
        assert np.all(np.abs(total - u.budget) <= TOL), f"day {m.day}: budget broken"
        assert np.all(u.minutes >= 0) and np.all(u.social_minutes >= 0), f"day {m.day}"
        assert np.all(u.offline_minutes >= 0), f"day {m.day}: offline {u.offline_minutes.min()}"

    simulate(cfg, check)


@PROPERTY_SETTINGS
@given(configs())
@corners
def test_caps_are_never_exceeded(cfg):
    def check(m, paying):
        cap = m.today.constraints.cap
        free_tier = m.today.levers["free_minutes"]  # the lever, per provider or per user
        free = np.where(m.is_companion & ~paying, free_tier, np.inf)
        # a prescription may go beyond a cap (chosen minutes fill only what it leaves of one)
        # and is spent on a provider kept away or not launched
        given = np.broadcast_to(m.today.constraints.prescribed[:, : len(m.providers)], cap.shape)
        limit = np.maximum(np.minimum(cap, free), given)
        over = m.users.minutes - limit
        assert np.all(over <= TOL), f"day {m.day}: minutes exceed a cap by {over.max():.3g}"
        away = (m.today.constraints.availability == 0) & (given == 0)
        assert np.all(m.users.minutes[away] == 0)

    simulate(cfg, check)


@PROPERTY_SETTINGS
@given(configs())
@corners
def test_states_stay_in_bounds(cfg):
    def check(m, _):
        u = m.users
        for name in (
            "loneliness",
            "habit",
            "knowledge",
            "emotional_knowledge",
            "attachment",
            "perceived_manipulation",
            "consumption_value",
        ):
            a = getattr(u, name)
            assert np.all((a >= 0) & (a <= 1)), f"day {m.day}: {name} outside [0, 1]"
        w = m.network.strength
        assert np.all((w >= 0) & (w <= 1)), f"day {m.day}: tie strength outside [0, 1]"
        assert np.array_equal(w, w[m.network.reverse]), "tie strength no longer symmetric"
        assert np.all(u.attachment[:, ~m.is_companion] == 0)

    simulate(cfg, check)


@PROPERTY_SETTINGS
@given(configs())
@corners
def test_wellbeing_stays_in_model_units_range(cfg):
    def check(m, _):
        w = m.users.wellbeing
        assert np.all((w >= 0) & (w <= 2)), (
            f"day {m.day}: wellbeing in [{w.min():.3f}, {w.max():.3f}]"
        )

    simulate(cfg, check)


@PROPERTY_SETTINGS
@given(configs())
@corners
def test_no_nan_or_infinity_in_states_series_or_summary(cfg):
    def check(m, _):
        for name, a in user_arrays(m).items():
            assert np.isfinite(a).all(), f"day {m.day}: users.{name} has NaN or inf"
        assert np.isfinite(m.network.strength).all()
        for k, v in m.latest.items():
            assert math.isfinite(v), f"day {m.day}: series {k} = {v}"

    model = simulate(cfg)  # run first so a failure names the first bad day below
    frame = metrics.frame(model)
    bad = [c for c in frame.columns if not np.isfinite(frame[c].to_numpy(dtype=float)).all()]
    if bad:  # re-run with daily checks to report where it started
        simulate(cfg, check)
    assert not bad, f"NaN or inf in the daily series: {bad}"
    summary = summarise(model, frame)
    for k, v in summary.items():
        if k.endswith("retention_90d") and DAYS < 90:
            assert math.isnan(v), f"{k} is undefined before 90 days"
            continue
        kind = k.partition("_")[0]  # feed_ and companion_ churn: only where the kind had users
        if k in metrics.LOYALTY and kind in ("feed", "companion") and math.isnan(v):
            users = [f"{p.name}.users" for p in model.providers if p.kind == kind]
            window = frame.iloc[-model.params.run.summary_window :]
            assert not users or window[users].to_numpy().sum() == 0, f"{k} is NaN"
            continue
        if "holdout" in k and math.isnan(v):  # fewer than two users on a side of the holdout,
            # or a provider that had not launched by the run's end
            p = next(p for p in model.providers if k.startswith(p.name + "."))
            few = min(p.holdout.sum(), p.reference.sum()) < 2 or not model.users.adopted.any()
            # or a holdout drawn afresh at a review on the run's last day: no day measured yet
            start = max(abtests.summary_start(model), p.launch_day, p.holdout_since)
            assert few or p.launch_day >= DAYS or model.day + 1 - start <= 0
            continue
        prefix = k.partition("test")[0]  # "", "feed_" or "companion_"
        count = k.endswith(tuple(abtests.REVIEWS))  # counts over the run: always defined
        if (
            "test" in k
            and not count
            and k != f"{prefix}tests_run"
            and summary[f"{prefix}tests_run"] == 0
        ):
            assert math.isnan(v), f"{k} is undefined without a concluded test"
            continue
        assert math.isfinite(v), f"summary {k} = {v}"


def test_strategies_cover_the_parameter_tree():
    """Every leaf with a range is drawn, so a new parameter cannot escape the properties."""
    described = {row["path"] for row in sim.model.params.describe()}
    drawn = set(LEAVES) | WEIGHTS | {f"mechanisms.{s}" for s in SWITCHES}
    skipped = {p for p in described if p.split(".")[0] in ("run", "market")}
    assert described - skipped == drawn
    assert "choice.temperature" in drawn and "wellbeing.w_regret" in drawn


def test_business_free_tier_matches_the_cap_used_in_properties():
    """The properties recompute the free tier; make sure that matches the model's own rule."""
    params, _ = sim.resolve(
        "mixed", users=100, days=3, seed=1, sets={"companion.free_minutes": 7.0}
    )
    m = EconomyModel(params)
    m.step()
    paying = m.users.subscribed.copy()
    expected = np.where(m.is_companion & ~paying, 7.0, np.inf)
    tiers = [
        [business.free_tier(c, s, 7.0) for c, s in zip(m.is_companion, row, strict=True)]
        for row in paying
    ]
    np.testing.assert_array_equal(np.array(tiers), expected)
