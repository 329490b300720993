"""Interventions for field experiments: assignment, the trial interventions, and arm metrics."""

import numpy as np
import pytest

import sim
from sim import Intervention, ParamError
from sim.model import EconomyModel, metrics
from sim.model.interventions import assign
from sim.model.rng import Streams

SMALL = dict(users=600, days=30, seed=4)
FEEDS_ONLY = {"market.companions": 0, "market.feeds": 1, "mechanisms.adaptation": False}


def arm_effect(result, name: str, metric: str, days: slice) -> float:
    ts = result.timeseries
    treated = ts[f"arm.{name}.treated.{metric}"].iloc[days].mean()
    control = ts[f"arm.{name}.control.{metric}"].iloc[days].mean()
    return treated - control


# -- assignment ----------------------------------------------------------------------------
def test_groups_sharing_an_assignment_partition_the_users():
    streams = Streams(9)
    arms = [
        assign(
            Intervention("launch", start=10 * g, groups=3, group=g, assignment="rollout"),
            999,
            streams,
        )
        for g in range(3)
    ]
    total = np.sum(arms, axis=0)
    assert (total == 1).all()  # every user in exactly one group
    assert all(250 < a.sum() < 420 for a in arms)


def test_share_within_a_group_and_independent_streams():
    streams = Streams(9)
    half_of_first = assign(
        Intervention("bonus", value=1, groups=2, group=0, share=0.5, assignment="a"), 4000, streams
    )
    first = assign(Intervention("bonus", value=1, groups=2, group=0, assignment="a"), 4000, streams)
    assert (half_of_first <= first).all()
    assert 0.4 < half_of_first.sum() / first.sum() < 0.6
    other = assign(Intervention("bonus", value=1, share=0.5, assignment="b"), 4000, streams)
    assert 0.4 < (other & first).sum() / first.sum() < 0.6  # a different stream is independent


def test_cluster_assignment_treats_blocks_of_neighbours_together():
    treated = assign(Intervention("deactivate", share=0.5, cluster_size=10), 1000, Streams(2))
    blocks = treated.reshape(100, 10)
    assert (blocks.all(axis=1) | ~blocks.any(axis=1)).all()
    assert 0 < blocks.all(axis=1).sum() < 100


@pytest.mark.parametrize(
    "bad",
    [
        dict(kind="set_lever", lever="volume", value=0.1),
        dict(kind="set_lever", lever="ad_load", value=0.9),
        dict(kind="bonus", value=-1.0),
        dict(kind="commitment", value=1.5),
        dict(kind="launch", groups=2, group=2),
        dict(kind="deactivate", cluster_size=0),
        dict(kind="deactivate", sample="friends"),
        dict(kind="deactivate", start=10, recruit=11),
    ],
)
def test_bad_trial_interventions_are_refused_with_the_field_named(bad):
    with pytest.raises(
        ParamError, match=r"intervention \w+\.(lever|value|group|cluster_size|sample|recruit)"
    ):
        Intervention(**bad)


# -- the trial interventions ----------------------------------------------------------------
def test_a_bonus_for_cutting_use_cuts_treated_users_use():
    iv = [Intervention("bonus", start=10, end=25, share=0.5, providers="feeds", value=3.0)]
    r = sim.run(**SMALL, set=FEEDS_ONLY, interventions=iv)
    assert arm_effect(r, "bonus", "feed_minutes", slice(0, 10)) == pytest.approx(0.0, abs=6.0)
    assert arm_effect(r, "bonus", "feed_minutes", slice(12, 25)) < -10.0


def test_commitment_limits_stop_compulsive_use_and_nothing_else():
    iv = [Intervention("commitment", start=5, share=0.5, providers="feeds", value=1.0)]
    model = EconomyModel(sim.resolve("mixed", sets=FEEDS_ONLY, **SMALL)[0], iv)
    treated = model.intervention_arms[0][1]
    for _ in range(12):
        model.step()
    assert model.users.compulsive_minutes[treated].max() == pytest.approx(0.0, abs=1e-9)
    assert model.users.compulsive_minutes[~treated].mean() > 1.0
    r = sim.run(**SMALL, set=FEEDS_ONLY, interventions=iv)
    assert arm_effect(r, "commitment", "feed_minutes", slice(8, 30)) < 0.0


def test_commitment_needs_the_impulsive_self():
    iv = [Intervention("commitment", start=0, share=0.5, providers="feeds", value=1.0)]
    sets = {**FEEDS_ONLY, "mechanisms.two_selves": False}
    with_limit = sim.run(**SMALL, set=sets, interventions=iv)
    assert arm_effect(with_limit, "commitment", "compulsive_minutes", slice(0, 30)) == 0.0


def test_a_staggered_launch_reaches_each_group_on_its_day():
    ivs = [
        Intervention(
            "launch",
            start=day,
            providers="companions",
            groups=2,
            group=g,
            name=f"wave{g}",
            assignment="waves",
        )
        for g, day in enumerate((0, 15))
    ]
    sets = {"market.companion_launch_day": 0, "companion.initial_adoption": 0.5}
    model = EconomyModel(sim.resolve("mixed", sets=sets, **SMALL)[0], ivs)
    late = model.intervention_arms[1][1]
    comp = model.is_companion
    for _ in range(15):
        model.step()
        assert model.users.minutes[late][:, comp].sum() == 0.0
        assert not model.users.adopted[late][:, comp].any()
    assert model.users.minutes[~late][:, comp].sum() > 0.0
    for _ in range(15):
        model.step()
    assert model.users.adopted[late][:, comp].any()


def test_a_design_variant_sets_the_lever_for_treated_users_only():
    iv = [Intervention("set_lever", lever="hooks", value=1.0, share=0.5, providers="feeds")]
    model = EconomyModel(sim.resolve("mixed", sets=FEEDS_ONLY, **SMALL)[0], iv)
    model.step()
    treated = model.intervention_arms[0][1]
    hooks = np.broadcast_to(model.today.levers["hooks"], model.users.minutes.shape)
    assert (hooks[treated] == 1.0).all()
    assert (hooks[~treated] == sim.Params().feed.hooks).all()


# -- arm metrics ----------------------------------------------------------------------------
def test_deactivation_arm_metrics_show_zero_use_for_the_treated_during_it():
    iv = [Intervention("deactivate", start=10, end=20, share=0.5, providers="feeds", name="off")]
    r = sim.run(**SMALL, set=FEEDS_ONLY, interventions=iv)
    ts = r.timeseries
    assert (ts["arm.off.treated.feed_minutes"].iloc[10:20] == 0.0).all()
    assert (ts["arm.off.control.feed_minutes"].iloc[10:20] > 0.0).all()
    assert (ts["arm.off.treated.feed_minutes"].iloc[:10] > 0.0).all()
    assert arm_effect(r, "off", "offline_minutes", slice(10, 20)) > 0.0


def test_an_intervention_for_everyone_has_no_arm_columns():
    r = sim.run(**SMALL, interventions=[Intervention("lockdown", value=0.5, name="all_in")])
    assert not [c for c in r.timeseries.columns if c.startswith("arm.all_in.")]


def test_a_study_of_a_providers_users_leaves_everyone_else_out_of_both_arms():
    iv = Intervention(
        "deactivate",
        start=10,
        end=20,
        share=0.5,
        providers="feed_a",
        name="off",
        sample="users",
        recruit=5,
    )
    model = EconomyModel(
        scenario="attention_economy", users=400, days=20, seed=3, interventions=[iv]
    )
    assigned = model.intervention_arms[0][1].copy()
    for _ in range(5):
        model.step()
    users_on_day_5 = model.users.adopted[:, 0].copy()
    model.step()  # day 5 recruits
    sample = model.study_samples["off"]
    assert (sample == users_on_day_5).all() and 0 < sample.sum() < sample.size
    treated = model.intervention_arms[0][1]
    assert (treated == assigned & sample).all()  # only recruited users are treated
    model.run_model()
    ts = metrics.frame(model)
    # the arms' means are over recruited users only: treated and untreated
    feeds = ~model.is_companion
    control = sample & ~treated
    manual = model.users.minutes[control][:, feeds].sum(axis=1).mean()
    assert ts["arm.off.control.feed_minutes"].iloc[-1] == pytest.approx(manual)
    during = slice(10, 20)
    assert (
        ts["arm.off.treated.feed_minutes"].iloc[during]
        < ts["arm.off.control.feed_minutes"].iloc[during]
    ).all()
