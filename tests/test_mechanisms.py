"""Each mechanism of the model (ODD 7): direction and bounds, on the real model.

The tests set the parameters they rely on explicitly and assert directions, bounds and
invariants that hold for any valid parameter values, never magnitudes of the defaults.
"""

from __future__ import annotations

import copy
import dataclasses
import pkgutil

import numpy as np
import pytest

import sim
from sim.model import EconomyModel, compiled, mechanisms, population
from sim.model.interventions import Intervention
from sim.model.mechanisms import (
    adoption,
    attachment,
    business,
    dependence,
    experience,
    habit,
    learning,
    manipulation,
    social,
    time_budget,
    two_selves,
)
from sim.model.mechanisms.time_budget import split
from sim.model.metrics import daily_row
from sim.model.params import DependenceParams, MechanismSwitches

TOL = 1e-9


# -- helpers ------------------------------------------------------------------------------------
def build(
    scenario: str = "mixed",
    *,
    users: int = 300,
    days: int = 30,
    seed: int = 1,
    sets: dict | None = None,
    interventions=(),
) -> EconomyModel:
    params, _ = sim.resolve(scenario, users=users, days=days, seed=seed, sets=dict(sets or {}))
    return EconomyModel(params, list(interventions))


def advance(model: EconomyModel, days: int) -> None:
    for _ in range(days):
        model.step()


def snapshot(model: EconomyModel) -> dict[str, np.ndarray]:
    """Copies of every user array and of the tie strengths, to try a mechanism and undo it."""
    u = model.users
    snap = {name: np.copy(a) for name, a in zip(u._fields, u, strict=True)}
    snap["__strength"] = model.network.strength.copy()
    return snap


def restore(model: EconomyModel, snap: dict[str, np.ndarray]) -> None:
    u = model.users
    for name, a in zip(u._fields, u, strict=True):
        a[...] = snap[name]
    model.network.strength[...] = snap["__strength"]


def arm(model: EconomyModel, k: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Treated users (N,) and targeted provider columns (P,) of the k-th intervention."""
    _, users, cols = model.intervention_arms[k]
    return users, cols


def lever(model: EconomyModel, name: str) -> np.ndarray:
    """Today's lever as an (N, P) matrix."""
    return np.broadcast_to(
        np.asarray(model.today.levers[name], dtype=float), model.users.minutes.shape
    )


def assert_budget_kept(model: EconomyModel) -> None:
    u = model.users
    total = u.minutes.sum(axis=1) + u.social_minutes + u.offline_minutes
    np.testing.assert_allclose(total, u.budget, rtol=0, atol=TOL)
    assert (u.minutes >= 0).all(), u.minutes.min()
    assert (u.social_minutes >= 0).all(), u.social_minutes.min()
    assert (u.offline_minutes >= 0).all(), u.offline_minutes.min()


def assert_all_finite(model: EconomyModel) -> None:
    u = model.users
    for name, a in zip(u._fields, u, strict=True):
        assert np.isfinite(np.asarray(a, dtype=float)).all(), f"users.{name} has NaN or inf"
    assert np.isfinite(model.network.strength).all()
    for k, v in model.latest.items():
        assert np.isfinite(v), f"daily series {k} is {v}"


# -- 1 time budget -----------------------------------------------------------------------------
def allocate(values, availability, budget, temperature, min_session, cap) -> np.ndarray:
    """Minutes (N, O) from :func:`split` of each user's values (N, O), as the day's choice
    calls it for one user at a time."""
    out = np.empty_like(values)
    for i in range(values.shape[0]):
        split(values[i], availability[i], budget[i], temperature, min_session, cap[i], out[i])
    return out


def test_time_budget_parts_sum_to_budget_every_user_every_day():
    ivs = [
        Intervention("cap_minutes", start=3, share=0.5, providers="feeds", value=20.0),
        Intervention("lockdown", start=10, end=20, value=0.5),
        Intervention("deactivate", start=5, end=15, share=0.3, providers="companion_a"),
        Intervention(
            "cap_minutes",
            start=0,
            share=0.4,
            providers="companions",
            value=8.0,
            name="cap_companions",
        ),
    ]
    m = build(days=30, interventions=ivs)
    for _ in range(30):
        m.step()
        assert_budget_kept(m)


@pytest.mark.parametrize("scenario", ["attention_economy", "intimacy_economy"])
def test_time_budget_kept_in_single_kind_markets(scenario):
    m = build(scenario, days=20, sets={"choice.min_session": 0.0})
    for _ in range(20):
        m.step()
        assert_budget_kept(m)


def test_allocate_splits_whole_budget_and_respects_availability_caps_and_min_session():
    rng = np.random.default_rng(7)
    n, P, min_session = 2000, 4, 3.0
    values = rng.normal(0.0, 2.0, (n, P + 2))
    availability = (rng.random((n, P + 2)) < 0.7).astype(float)
    availability[:, P] *= rng.random(n)  # social option scaled as by a lockdown
    availability[:, -1] = 1.0  # other offline life is always there
    budget = rng.uniform(30.0, 960.0, n)
    cap = np.where(rng.random((n, P)) < 0.5, rng.uniform(0.0, 120.0, (n, P)), np.inf)
    minutes = allocate(values, availability, budget, 0.5, min_session, cap)
    np.testing.assert_allclose(minutes.sum(axis=1), budget, rtol=0, atol=TOL)
    assert (minutes >= 0).all()
    assert (minutes[:, :P] <= cap + TOL).all()
    assert (minutes[availability == 0] == 0).all()
    prov = minutes[:, :P]
    assert ((prov == 0) | (prov >= np.minimum(min_session, cap) - TOL)).all()


def test_allocate_gives_more_minutes_to_an_option_whose_value_rises():
    rng = np.random.default_rng(3)
    n, P = 500, 3
    values = rng.normal(0.0, 1.0, (n, P + 2))
    availability = np.ones_like(values)
    budget = rng.uniform(30.0, 960.0, n)
    cap = np.full((n, P), np.inf)
    before = allocate(values, availability, budget, 0.7, 0.0, cap)
    values[:, 0] += 0.5
    after = allocate(values, availability, budget, 0.7, 0.0, cap)
    assert (after[:, 0] > before[:, 0]).all()
    assert (after[:, 1:] <= before[:, 1:] + TOL).all()


def test_allocate_never_gives_negative_minutes_when_offline_life_has_almost_no_share():
    """Other offline life is the remainder of the budget; rounding must not push it below zero."""
    rng = np.random.default_rng(0)
    n, P = 1000, 2
    values = rng.normal(0.0, 1.0, (n, P + 2))
    values[:, -1] = -100.0
    budget = rng.uniform(30.0, 960.0, n)
    minutes = allocate(values, np.ones_like(values), budget, 0.5, 0.0, np.full((n, P), np.inf))
    np.testing.assert_allclose(minutes.sum(axis=1), budget, rtol=0, atol=TOL)
    assert (minutes >= 0).all(), f"{(minutes < 0).sum()} negative entries, min {minutes.min():.3g}"


def test_allocate_stays_finite_when_an_unavailable_option_has_an_extreme_value():
    """A provider a user cannot use must not matter, however strong its pull (low temperature)."""
    values = np.array([[200.0, 1.0, 0.5, 1.0], [0.0, 1.0, 0.5, 1.0]])
    availability = np.array([[0.0, 1.0, 1.0, 1.0], [0.0, 1.0, 1.0, 1.0]])
    budget = np.array([300.0, 300.0])
    minutes = allocate(values, availability, budget, 0.05, 3.0, np.full((2, 2), np.inf))
    assert np.isfinite(minutes).all(), minutes
    np.testing.assert_allclose(minutes[0], minutes[1], rtol=0, atol=TOL)


@pytest.mark.parametrize("target", ["feeds", "companions"])
def test_cap_minutes_intervention_is_never_exceeded(target):
    cap = 5.0
    x = Intervention("cap_minutes", start=2, share=0.5, providers=target, value=cap)
    m = build(
        days=25,
        interventions=[x],
        sets={
            "companion.manipulation": 0.5,
            "manipulation.extra_minutes": 30.0,
            "companion.free_minutes": 240.0,
            "choice.min_session": 1.0,
        },
    )
    treated, cols = arm(m)
    control_above = False
    for _ in range(25):
        m.step()
        mins = m.users.minutes[:, cols]
        if m.day >= 2:
            worst = mins[treated].max()
            assert worst <= cap + TOL, f"day {m.day}: a treated user spent {worst:.2f} > cap {cap}"
        control_above |= bool((mins[~treated] > cap).any())
    assert control_above, "the cap never binds, so the test shows nothing"


def test_free_tier_is_never_exceeded_by_non_subscribers():
    free = 10.0
    m = build(
        days=25,
        sets={
            "companion.free_minutes": free,
            "companion.manipulation": 0.5,
            "manipulation.extra_minutes": 30.0,
            "choice.min_session": 1.0,
        },
    )
    comp = m.is_companion
    binds = False
    for _ in range(25):
        paying = m.users.subscribed[:, comp].copy()  # status when today's minutes are chosen
        m.step()
        free_use = np.where(paying, 0.0, m.users.minutes[:, comp])
        assert free_use.max() <= free + TOL, (
            f"day {m.day}: a free user spent {free_use.max():.2f} min"
        )
        binds |= bool((free_use >= free - TOL).any())
    assert binds, "no free user ever reached the free tier, so the test shows nothing"


@pytest.mark.parametrize("free", [0.0, 2.0])
def test_a_closed_free_tier_holds_free_users_at_the_door_to_pay_or_leave(free):
    """ODD 7.8: with a free tier below a session there is nothing to use without paying; a
    free user decides at once, and no one stays a user of a companion they neither use nor pay
    for (joiners decide the day after they join, when the business step first sees them)."""
    m = build(
        "intimacy_economy",
        users=1500,
        days=40,
        sets={
            "companion.free_minutes": free,
            "choice.min_session": 3.0,
            "mechanisms.adaptation": False,
        },
    )
    comp = m.is_companion
    paid = left = 0
    m.step()  # launch: the initial users join during the day
    for _ in range(39):
        before = m.users.adopted[:, comp] & ~m.users.subscribed[:, comp]  # free users this morning
        m.step()
        u, away = m.users, m.today.turned_away[:, comp]
        assert not (away & ~before).any(), "only free users are held at the door"
        assert not (u.adopted[:, comp] & away).any(), "who did not pay left the same day"
        free_users = u.adopted[:, comp] & ~u.subscribed[:, comp]
        assert not (free_users & before).any(), "a free user stayed free past one door"
        paid += int((before & u.subscribed[:, comp]).sum())
        left += int(away.sum())
    assert paid > 0 and left > 0, (paid, left)
    # newcomers turned away at their first door never became users: no spell of theirs counts
    loyalty = m.loyalty
    assert loyalty.starts_by_day.sum() == loyalty.ended_count + m.users.adopted.sum()
    assert loyalty.ended_count < left, (loyalty.ended_count, left)


def test_users_pay_for_use_less_than_they_would_accept_to_give_it_up():
    """ODD 7.2, money: a subscription is bought at the value of money paid, loss aversion times
    the value of money received for use given up; the same users and companion, less loss
    averse, pay more often, and a bonus for cutting use is answered the same either way."""
    sets = {"companion.free_minutes": 20.0, "mechanisms.adaptation": False}
    paying = {}
    for aversion in (1.0, 2.25):
        at = {**sets, "choice.loss_aversion": aversion}
        m = build("intimacy_economy", users=1000, days=40, sets=at)
        advance(m, 40)
        comp = m.is_companion
        paying[aversion] = m.users.subscribed[:, comp].sum() / m.users.adopted[:, comp].sum()
    assert paying[2.25] < 0.8 * paying[1.0], paying
    bonus = Intervention("bonus", share=0.5, value=10.0, start=5, end=20)
    minutes = {}  # feeds only: nothing to pay for
    for aversion in (1.0, 2.25):
        sets = {"choice.loss_aversion": aversion, "mechanisms.adaptation": False}
        m = build("attention_economy", users=300, days=20, sets=sets, interventions=[bonus])
        advance(m, 12)
        minutes[aversion] = m.users.minutes.copy()
    np.testing.assert_array_equal(minutes[1.0], minutes[2.25])


def test_a_free_tier_of_a_session_or_more_turns_no_one_away():
    m = build(
        "intimacy_economy",
        users=500,
        days=20,
        sets={"companion.free_minutes": 3.0, "choice.min_session": 3.0},
    )
    comp = m.is_companion
    for _ in range(20):
        m.step()
        assert not m.today.turned_away[:, comp].any()
    assert (m.users.adopted[:, comp] & ~m.users.subscribed[:, comp]).any()


# -- 2 two selves ------------------------------------------------------------------------------
def test_two_selves_off_gives_no_compulsive_minutes():
    m = build(
        days=20,
        sets={
            "mechanisms.two_selves": False,
            "mechanisms.manipulation": False,
            "choice.impulse_weight": 3.0,
        },
    )
    for _ in range(20):
        m.step()
        assert (m.today.compulsive == 0).all()
        assert (m.users.compulsive_minutes == 0).all()
        assert m.latest["compulsive_minute_share"] == 0.0


def test_two_selves_off_gives_no_compulsive_minutes_even_with_manipulation_on():
    """Tactics work on the impulsive self: without it there is nothing compulsive to add."""
    m = build(
        days=15,
        sets={
            "mechanisms.two_selves": False,
            "companion.manipulation": 0.5,
            "companion.initial_adoption": 0.3,
        },
    )
    tactics = 0
    for _ in range(15):
        m.step()
        assert (m.today.compulsive == 0).all()
        assert (m.users.compulsive_minutes == 0).all()
        tactics += m.today.tactics
    assert tactics > 0, "no tactic was used, so the test shows nothing"


def test_two_selves_on_gives_compulsive_minutes_bounded_by_use():
    m = build(
        days=15,
        sets={
            "choice.impulse_weight": 3.0,
            "population.self_control_mean": 0.3,
            "mechanisms.manipulation": False,
        },
    )
    seen = 0.0
    for _ in range(15):
        m.step()
        comp = m.today.compulsive
        assert (comp >= 0).all()
        assert (comp <= m.users.minutes + TOL).all()
        seen += comp.sum()
    assert seen > 0


# -- 3 habit -----------------------------------------------------------------------------------
def state_after(model: EconomyModel, update, state: str, minutes, columns=...) -> np.ndarray:
    """``state`` after one ``update`` with ``minutes`` on ``columns``; the model is left as it was."""
    snap = snapshot(model)
    model.users.minutes[:, columns] = minutes
    update(model, model.today)
    out = getattr(model.users, state).copy()
    restore(model, snap)
    return out


def habit_after(model: EconomyModel, minutes) -> np.ndarray:
    return state_after(model, habit.step, "habit", minutes)


def test_habit_rises_with_use_and_decays_without():
    m = build(days=10, sets={"habit.formation": 0.1, "habit.reference_minutes": 60.0})
    advance(m, 10)
    h = m.users.habit.copy()
    idle, light, heavy = habit_after(m, 0.0), habit_after(m, 20.0), habit_after(m, 600.0)
    assert (idle <= h).all() and (idle[h > 0] < h[h > 0]).all()
    assert (heavy >= h).all() and (heavy[h < 1] > h[h < 1]).all()
    assert (idle <= light).all() and (light <= heavy).all() and light.mean() > idle.mean()


def test_habit_stays_in_unit_interval_at_extreme_use():
    m = build(days=5, sets={"habit.formation": 1.0, "habit.reference_minutes": 1.0})
    advance(m, 5)
    for minutes in (0.0, 1440.0):
        h = habit_after(m, minutes)
        assert (h >= 0).all() and (h <= 1).all()


def test_habit_fades_every_day_of_a_break():
    x = Intervention("deactivate", start=10, end=20, share=1.0, providers="feed_a")
    m = build(days=20, interventions=[x], sets={"habit.formation": 0.05})
    advance(m, 10)
    prev = m.users.habit[:, 0].copy()
    assert prev.max() > 0
    for _ in range(10):
        m.step()
        now = m.users.habit[:, 0]
        assert (now <= prev).all() and (now[prev > 0] < prev[prev > 0]).all()
        prev = now.copy()


# -- 4 learning --------------------------------------------------------------------------------
def knowledge_after(model: EconomyModel, minutes, start=None) -> tuple[np.ndarray, np.ndarray]:
    snap = snapshot(model)
    if start is not None:
        model.users.knowledge[...] = start
        model.users.emotional_knowledge[...] = start
    model.users.minutes[...] = minutes
    learning.step(model, model.today)
    out = model.users.knowledge.copy(), model.users.emotional_knowledge.copy()
    restore(model, snap)
    return out


LEARNING_SETS = {
    "mechanisms.adaptation": False,
    "feed.personalisation": 0.5,
    "companion.personalisation": 0.5,
    "companion.empathy": 0.8,
    "learning.rate": 0.05,
    "learning.emotional_rate": 0.05,
    "learning.forgetting": 0.01,
}


def test_knowledge_grows_with_use_and_fades_without():
    m = build(days=8, sets=LEARNING_SETS)
    advance(m, 8)
    k = m.users.knowledge.copy()
    used, _ = knowledge_after(m, 60.0)
    idle, _ = knowledge_after(m, 0.0)
    assert (used[k < 1] > k[k < 1]).all()
    assert (idle <= k).all() and (idle[k > 0] < k[k > 0]).all()


def test_knowledge_has_diminishing_returns():
    m = build(days=3, sets=LEARNING_SETS)
    advance(m, 3)
    gain1 = knowledge_after(m, 60.0, start=0.2)[0] - 0.2
    gain2 = knowledge_after(m, 120.0, start=0.2)[0] - 0.2
    assert (gain1 > 0).all()
    assert (gain2 < 2 * gain1).all(), "two hours should teach less than twice one hour"
    gain_late = knowledge_after(m, 60.0, start=0.8)[0] - 0.8
    assert (gain_late < gain1).all(), "the same hour should teach less when more is known"
    comp = m.is_companion
    egain1 = knowledge_after(m, 60.0, start=0.2)[1][:, comp] - 0.2
    egain2 = knowledge_after(m, 120.0, start=0.2)[1][:, comp] - 0.2
    assert (egain1 > 0).all() and (egain2 < 2 * egain1).all()


def test_knowledge_never_exceeds_one():
    m = build(
        days=3,
        sets={
            **LEARNING_SETS,
            "learning.rate": 1.0,
            "learning.emotional_rate": 1.0,
            "feed.personalisation": 1.0,
            "companion.personalisation": 1.0,
        },
    )
    advance(m, 3)
    for start in (None, 0.999999):
        k, e = knowledge_after(m, 1440.0, start=start)
        assert (k >= 0).all() and (k <= 1).all()
        assert (e >= 0).all() and (e <= 1).all()


# -- 4b trying a provider (ODD 7.16) -----------------------------------------------------------
def test_users_learn_a_providers_fit_by_using_it_with_diminishing_returns():
    m = build(days=3, sets={"learning.trial_rate": 0.5})
    advance(m, 3)
    u, snap = m.users, snapshot(m)

    def after(minutes, start):
        u.familiarity[...] = start
        u.minutes[...] = minutes
        experience.step(m, m.today)
        out = u.familiarity.copy()
        restore(m, snap)
        return out

    assert (after(0.0, 0.3) == 0.3).all(), "a day without use teaches nothing and forgets nothing"
    one, two = after(60.0, 0.0), after(120.0, 0.0)
    assert (one > 0).all() and (two > one).all() and (two < 2 * one).all()
    assert (after(60.0, 0.6) - 0.6 < one).all(), "the same hour teaches less when more is known"
    assert (after(1e6, 0.0) <= 1.0).all()


def test_an_untried_provider_is_valued_at_its_kinds_prior_fit():
    """ODD 7.16: reflective values rest on the expected fit, the prior of the kind for a
    provider the user has not used and the user's own fit once they know it."""
    m = build("intimacy_economy", users=400, days=2, sets={"mechanisms.adaptation": False})
    advance(m, 2)
    u, snap = m.users, snapshot(m)

    def values(familiarity):
        u.familiarity[...] = familiarity
        time_budget.step(m, m.today)  # the day's choice again, from the same state
        R = m.today.R[:, : len(m.providers)].copy()
        restore(m, snap)
        return R

    known, untried = values(1.0), values(0.0)
    fit = u.fit
    prior = population.FIT_PRIOR
    # the prior is the mean of the fits users draw (800 draws here: se about 0.008)
    assert prior == pytest.approx(fit.mean(), abs=0.03)
    # the same day and state: knowing the fit raises the value where the fit beats the prior
    above, below = fit > prior + 0.05, fit < prior - 0.05
    assert (known[above] > untried[above]).all() and (known[below] < untried[below]).all()
    assert (
        np.corrcoef(known.ravel(), fit.ravel())[0, 1]
        > np.corrcoef(untried.ravel(), fit.ravel())[0, 1]
    )


def test_friends_who_never_used_a_provider_do_not_recommend_it():
    m = build(users=300, days=5)
    advance(m, 5)
    u, ties = m.users, m.network.ties()
    j = next(p.column for p in m.providers if p.kind == "companion")
    u.adopted[:, j] = True
    u.perceived_manipulation[:, j] = 0.0
    u.familiarity[:, j] = 0.0
    none = [adoption.endorsing_share(i, j, ties, u, 1.0) for i in range(u.n)]
    u.familiarity[:, j] = 1.0
    every = [adoption.endorsing_share(i, j, ties, u, 1.0) for i in range(u.n)]
    assert max(none) == 0.0
    has_friends = ties.degree > 0
    np.testing.assert_allclose(np.asarray(every)[has_friends], 1.0)


# -- 5 attachment ------------------------------------------------------------------------------
def test_attachment_is_reported_by_tier_and_the_tiers_make_up_the_mean():
    """ODD 7.14: subscriber_attachment and free_user_attachment are the mean of each companion
    user's largest attachment among those who pay for a companion and those who pay for none."""
    m = build("intimacy_economy", users=600, days=40, sets={"companion.free_minutes": 7.3})
    advance(m, 40)
    row, u, comp = daily_row(m, m.today), m.users, m.is_companion
    users = u.adopted[:, comp].any(axis=1)
    paying = users & u.subscribed[:, comp].any(axis=1)
    largest = u.attachment[:, comp].max(axis=1)
    assert paying.sum() > 10 and (users & ~paying).sum() > 10
    assert row["subscriber_attachment"] == pytest.approx(largest[paying].mean())
    assert row["free_user_attachment"] == pytest.approx(largest[users & ~paying].mean())
    assert row["mean_attachment"] == pytest.approx(largest[users].mean())


def attachment_after(model: EconomyModel, companion_minutes) -> np.ndarray:
    return state_after(model, attachment.step, "attachment", companion_minutes, model.is_companion)


def test_more_companion_minutes_build_more_attachment():
    m = build(days=10, sets={"attachment.rate": 0.05, "companion.empathy": 0.8})
    advance(m, 10)
    comp = m.is_companion
    a0, a30, a120 = (attachment_after(m, x)[:, comp] for x in (0.0, 30.0, 120.0))
    assert (a0 <= a30).all() and (a30 <= a120).all()
    assert a0.mean() < a30.mean() < a120.mean()
    assert (a120 > a0).all()
    # feeds never build attachment
    assert (attachment_after(m, 120.0)[:, ~comp] == 0).all()


def test_attachment_grows_from_feeling_understood_not_from_hours():
    """ODD 7.5: a day's growth saturates in minutes (days of being heard, not hours of use),
    grows with the companion's empathy and with what it knows of the user's moods, and an
    unempathic companion builds none."""
    quiet = {"attachment.decay": 0.0, "attachment.manipulation_erosion": 0.0}
    m = build(days=10, sets={"attachment.rate": 0.05, **quiet})
    advance(m, 10)
    comp = m.is_companion
    start = m.users.attachment[:, comp].copy()
    gain = {x: attachment_after(m, x)[:, comp] - start for x in (20.0, 80.0, 320.0)}
    assert (gain[80.0] > gain[20.0]).all()
    # four times the minutes give less than three times the growth, and once the need to be
    # heard is met, little more
    assert (gain[80.0] < 3.0 * gain[20.0]).all()
    assert (gain[320.0] < 1.5 * gain[80.0]).all()

    def grown(empathy: float, knowledge: float) -> np.ndarray:
        snap = snapshot(m)
        m.today.levers["empathy"] = np.where(comp, empathy, 0.0)
        m.users.emotional_knowledge[:, comp] = knowledge
        out = attachment_after(m, 30.0)[:, comp] - start
        restore(m, snap)
        return out

    levers = dict(m.today.levers.tables)
    assert (grown(0.0, 1.0) == 0.0).all()
    assert (grown(0.4, 0.0) < grown(0.8, 0.0)).all()
    assert (grown(0.8, 0.0) < grown(0.8, 1.0)).all()
    m.today.levers.tables.update(levers)


def test_attachment_fades_without_use():
    m = build(days=15, sets={"attachment.rate": 0.1, "attachment.decay": 0.02})
    advance(m, 15)
    comp = m.is_companion
    a = m.users.attachment[:, comp]
    assert a.max() > 0
    idle = attachment_after(m, 0.0)[:, comp]
    assert (idle[a > 0] < a[a > 0]).all()


def test_attachment_stays_in_unit_interval():
    m = build(
        days=10,
        sets={
            "attachment.rate": 1.0,
            "attachment.decay": 0.0,
            "attachment.manipulation_erosion": 0.0,
            "companion.empathy": 1.0,
        },
    )
    advance(m, 10)
    for minutes in (0.0, 60.0, 1440.0):
        a = attachment_after(m, minutes)
        assert (a >= 0).all() and (a <= 1).all()
    assert (m.users.attachment >= 0).all() and (m.users.attachment <= 1).all()


# -- 6 loneliness and ties ---------------------------------------------------------------------
SOCIAL_SETS = {
    "social.tie_decay": 0.01,
    "social.tie_growth": 0.05,
    "social.sensitivity": 1.5,
    "social.adjustment": 0.1,
    "social.reference_fulfilment": 0.6,
}


def test_ties_decay_without_socialising():
    days = 30
    base = build(days=days, seed=4, sets=SOCIAL_SETS)
    lock = build(
        days=days,
        seed=4,
        sets=SOCIAL_SETS,
        interventions=[Intervention("lockdown", start=0, value=1.0)],
    )
    advance(base, days)
    prev = lock.network.strength.copy()
    for _ in range(days):
        lock.step()
        assert (lock.users.social_minutes == 0).all()
        now = lock.network.strength
        assert (now <= prev).all() and (now[prev > 0] < prev[prev > 0]).all()
        prev = now.copy()
    assert lock.network.strength.mean() < base.network.strength.mean()


def test_loneliness_rises_when_ties_go_unused():
    """Feeds only, so nothing but people meets social need: a lockdown can only raise loneliness."""
    days = 30
    base = build("attention_economy", days=days, seed=5, sets=SOCIAL_SETS)
    lock = build(
        "attention_economy",
        days=days,
        seed=5,
        sets=SOCIAL_SETS,
        interventions=[Intervention("lockdown", start=0, value=1.0)],
    )
    for _ in range(days):
        base.step()
        lock.step()
        assert (lock.users.loneliness >= base.users.loneliness - TOL).all()
    assert lock.users.loneliness.mean() > base.users.loneliness.mean()
    baseline = lock.users.loneliness_baseline
    assert (lock.users.loneliness[baseline > 0] > baseline[baseline > 0]).all()


def test_social_states_stay_symmetric_and_in_bounds():
    m = build(days=25, sets={**SOCIAL_SETS, "social.tie_growth": 1.0})
    for _ in range(25):
        m.step()
        w = m.network.strength
        assert (w >= 0).all() and (w <= 1).all()
        assert np.array_equal(w, w[m.network.reverse])
        assert (m.users.loneliness >= 0).all() and (m.users.loneliness <= 1).all()


def loneliness_after(
    model: EconomyModel, companion_minutes: float
) -> tuple[np.ndarray, np.ndarray]:
    snap = snapshot(model)
    model.users.minutes[:, model.is_companion] = companion_minutes
    social.step(model, model.today)
    out = model.users.loneliness.copy(), model.today.companion_relief.copy()
    restore(model, snap)
    return out


def test_companion_relief_lowers_loneliness():
    m = build(
        days=10, sets={**SOCIAL_SETS, "social.companion_relief": 0.6, "companion.empathy": 0.8}
    )
    advance(m, 10)
    lonely0, relief0 = loneliness_after(m, 0.0)
    lonely1, relief1 = loneliness_after(m, 45.0)
    assert (relief0 == 0).all() and (relief1 > 0).all()
    assert (lonely1 <= lonely0 + TOL).all()
    assert lonely1.mean() < lonely0.mean()


def test_companion_relief_has_diminishing_returns_and_a_ceiling():
    ceiling = 0.6
    m = build(days=10, sets={"social.companion_relief": ceiling, "companion.empathy": 1.0})
    advance(m, 10)
    r = {x: loneliness_after(m, x)[1] for x in (0.0, 30.0, 60.0, 1440.0)}
    assert ((r[30.0] - r[0.0]) > (r[60.0] - r[30.0])).all()
    assert (r[1440.0] <= ceiling + TOL).all() and (r[1440.0] >= 0).all()


def test_being_heard_is_valued_at_the_margin_of_a_usual_day():
    """ODD 7.2, 7.6, 7.7: a companion minute's value of being heard falls with the understood
    minutes of a usual day (the share of the need it leaves unmet), the usual day follows the
    day's understood minutes, and welfare counts the day's being heard at its whole worth:
    more than the margin's count for a user who heard less than usual, less for one who heard
    far more."""
    from sim.model.mechanisms.attachment import beyond_margin, heard, unmet_need

    need = 25.0
    assert unmet_need(0.0, need) == 1.0
    assert unmet_need(25.0, need) == pytest.approx(np.exp(-1.0))
    # the margin is the derivative of the day's whole worth, need * heard(x)
    x, h = 40.0, 1e-6
    slope = need * (heard(x + h, need) - heard(x - h, need)) / (2 * h)
    assert slope == pytest.approx(unmet_need(x, need), rel=1e-6)
    assert beyond_margin(1.0, x, unmet_need(x, need), need) > 0.0  # the first minutes worth more
    assert beyond_margin(1.0, 200.0, unmet_need(0.0, need), need) < 0.0  # minutes past the need

    m = build(days=20, sets={"companion.empathy": 1.0, "companion.initial_adoption": 1.0})
    advance(m, 10)
    comp, u, P = m.is_companion, m.users, len(m.providers)
    R = {}
    for usual in (0.0, 25.0, 100.0):
        snap = snapshot(m)
        u.understood_usual[:] = usual
        m.step()
        R[usual] = m.today.R[:, :P][:, comp].copy()
        restore(m, snap)
    lonely = u.loneliness > 0.05
    assert (R[0.0][lonely] > R[25.0][lonely]).all() and (R[25.0][lonely] > R[100.0][lonely]).all()
    # the usual day moves toward today's understood minutes at social.usual_memory a day
    snap = snapshot(m)
    u.understood_usual[:] = 0.0
    m.step()
    used = u.minutes[:, comp].sum(axis=1) > 0
    assert (u.understood_usual[used] > 0.0).all() and (u.understood_usual[~used] == 0.0).all()
    restore(m, snap)


def test_without_satiation_companions_take_more_of_the_day():
    """With social.usual_memory 0 every minute of being heard is valued as the first: users
    give companions more of the day than when a usual day's being heard satiates (ODD 7.2)."""
    minutes = {}
    for memory in (0.0, 0.1):
        m = build(days=90, sets={"social.usual_memory": memory, "companion.initial_adoption": 0.5})
        advance(m, 90)
        minutes[memory] = m.users.minutes[:, m.is_companion].sum(axis=1).mean()
    assert minutes[0.1] < 0.8 * minutes[0.0]


# -- 15 dependence -----------------------------------------------------------------------------
def test_dependence_grows_where_a_companion_stands_in_for_people_and_fades():
    """ODD 7.15: growth from being heard on days people meet little of the need, the more for
    users prone to loneliness; none when people meet all of it or the companion is not used,
    and then it fades; it settles at rate x / (rate x + decay (1 - x)), up to 1."""
    k = compiled.constants(DependenceParams(rate=0.05, decay=0.02))
    x = dependence.substitution
    assert x(0.6, 1.0, 0.0) > x(0.6, 1.0, 0.5) > x(0.3, 1.0, 0.5) > x(0.3, 0.5, 0.5) > 0.0
    assert x(0.6, 1.0, 1.0) == 0.0 and x(0.6, 0.0, 0.0) == 0.0 and x(0.0, 1.0, 0.0) == 0.0
    after = dependence.dependence_after
    assert after(0.0, 0.0, k) == 0.0 and after(0.6, 0.0, k) == pytest.approx(0.6 * 0.98)
    for sub in (0.1, 0.4, 1.0):
        d = 0.0
        for _ in range(5000):
            d = after(d, sub, k)
            assert 0.0 <= d <= 1.0
        assert d == pytest.approx(0.05 * sub / (0.05 * sub + 0.02 * (1.0 - sub)), rel=1e-6)
    # dependent (above one half) only where x exceeds decay / (rate + decay)
    cut = 0.02 / 0.07
    settle = [0.05 * v / (0.05 * v + 0.02 * (1.0 - v)) for v in (cut - 0.01, cut + 0.01)]
    assert settle[0] < 0.5 < settle[1]


def test_a_break_loosens_the_habits_hold():
    """ODD 7.11: the habit's pull, felt when deciding whether to stay, keeps users; four weeks
    without use let the habit fade, and with it the hold, so quitting is likelier after a
    break. With the share ``habit_hold`` at 0, or the two selves off, habit keeps no one."""
    params = sim.Params()
    a, h = compiled.constants(params.adoption), compiled.constants(params.habit)
    weight = adoption.hold_weight(params)
    assert weight == pytest.approx(params.choice.impulse_weight * params.choice.habit_pull)
    used = 0.9
    after_break = used
    for _ in range(28):
        after_break = habit.habit_after(after_break, 0.0, h.formation, h.reference_minutes)
    hazards = [
        adoption.quit_hazard(0.5, 0.6, 0.0, adoption.habit_hold(x, 0.4, weight), a)
        for x in (used, after_break, 0.0)
    ]
    assert hazards[0] < hazards[1] < hazards[2] <= a.quit_rate
    assert adoption.habit_hold(0.0, 0.4, weight) == 0.0
    assert adoption.habit_hold(used, 1.0, weight) == 0.0  # full self-control feels no pull
    off = dataclasses.replace(params, adoption=dataclasses.replace(params.adoption, habit_hold=0))
    assert adoption.hold_weight(off) == 0.0
    two_off = dataclasses.replace(
        params, mechanisms=dataclasses.replace(params.mechanisms, two_selves=False)
    )
    assert adoption.hold_weight(two_off) == 0.0


def test_a_rivals_offer_draws_users_to_it():
    """ODD 7.11: on a day they talked to their companion, a user weighs the best rival
    companion's offer, what they expect a minute there to be worth (remembered, or its
    reflective value today less the regret they know and plus being heard by it beyond the
    margin, as the companion left is judged) and, for a subscriber, what its paid tier
    would save, against staying; quitters whose best alternative was that offer move to it and
    start out remembering what they expected."""
    assert adoption.rival_saving(10.0, 10.0, 60.0, 19.0, 3.0) == 0.0
    assert adoption.rival_saving(10.0, 12.0, 60.0, 19.0, 3.0) == pytest.approx(-19.0 * 2 / 30 / 60)
    assert adoption.rival_saving(10.0, 4.0, 60.0, 19.0, 3.0) == pytest.approx(19.0 * 6 / 30 / 60)
    # spread over at least min_session minutes
    assert adoption.rival_saving(10.0, 4.0, 0.0, 19.0, 3.0) == pytest.approx(19.0 * 6 / 30 / 3)
    cut = Intervention(kind="set_lever", providers="companion_b", lever="price", value=0, start=0)
    m = build(
        "intimacy_economy",
        users=1500,
        days=120,
        sets={"mechanisms.adaptation": False},
        interventions=[cut],
    )
    advance(m, 120)
    u, today = m.users, m.today
    a, b = (p.column for p in m.providers)
    P = len(m.providers)
    market = adoption.market_table(m, today)
    u.remembered_value[:, a] = u.offline_value - 1.0  # every user of a would rather leave

    def decide():
        out = adoption.Decisions(
            *(np.zeros(u.adopted.shape, bool) for _ in range(3)),
            np.zeros(u.adopted.shape, np.int8),
            np.zeros(u.adopted.shape, np.float32),
        )
        draws = np.full((2 * P, u.n), 0.999)  # no one joins, quits b or switches at random
        draws[a] = 0.0  # below any hazard
        k = compiled.constants(m.params.adoption)
        ties = m.network.ties()
        adoption.decide(0, u.n, u, k, market, ties, today.R, today.compulsive, draws, out)
        return out

    quits, _, moved, offers, expected = decide()
    minutes = u.minutes[:, a]
    may = u.adopted[:, a] & ~u.adopted[:, b] & (minutes > 0)
    share = today.compulsive[:, a] / np.maximum(minutes, 1e-9)
    # an untried rival is judged at its average worth, as the companion left is: the day's
    # being heard beyond the margin with its understanding in place of a's
    c, heard = m.params.companion, today.heard_day
    need = m.params.social.companion_need_minutes
    used = np.where(u.subscribed[:, a], 1.0, c.free_memory)
    change = (
        c.empathy
        * 0.5
        * (u.emotional_knowledge[:, b] * c.free_memory - u.emotional_knowledge[:, a] * used)
    )
    understood = np.maximum(heard.understood + minutes * change, 0.0)
    whole = need * -np.expm1(-understood / need)
    companion_minutes = np.maximum(u.minutes[:, [a, b]].sum(axis=1), 1e-9)
    beyond = heard.weight * (whole - understood * heard.unmet) / companion_minutes
    assert (beyond[may] > 0.0).any()
    worth = np.where(
        u.quit_day[:, b] >= 0,
        u.remembered_value[:, b],
        today.R[:, b] - m.params.choice.regret_value * share + beyond,
    )
    price = m.params.companion.price
    saving = np.where(
        u.subscribed[:, a],
        m.params.choice.money_value * price / 30 / np.maximum(minutes, 3.0),
        0.0,
    )
    offered = may & (worth + saving > u.offline_value)
    assert offered.sum() > 10 and (may & ~offered).sum() > 10
    # some offers stand only because the rival is judged at its average worth
    untried = u.quit_day[:, b] < 0
    assert (offered & untried & (worth - beyond + saving <= u.offline_value)).any()
    assert quits[:, a][u.adopted[:, a]].all()
    assert (offers[:, a][offered] == b).all() and (offers[:, a][~offered] == -1).all()
    np.testing.assert_allclose(expected[:, a][offered], worth[offered], rtol=1e-6)
    assert (moved[:, b] == offered).all()
    # no offer on a day without use, however cheap the rival
    assert (offers[:, a][u.adopted[:, a] & (minutes <= 0)] == -1).all()
    # a rival that is worth less than the outside option draws only subscribers it saves enough
    today.R[:, b] = u.offline_value - 1.0 - beyond
    _, _, moved, offers, _ = decide()
    assert moved[:, b].sum() < offered.sum()
    # only a saving, or what former users remember of it, can draw them now
    assert not (moved[:, b] & ~u.subscribed[:, a] & (u.quit_day[:, b] < 0)).any()
    # in the day's step, movers start out remembering what they expected of the rival
    m2 = build("intimacy_economy", users=1500, days=200, sets={"mechanisms.adaptation": False})
    advance(m2, 100)
    a2, b2 = (p.column for p in m2.providers)
    drawn = 0
    for _ in range(60):
        m2.step()
        moved2, offers2 = m2._work["adoption.moved"], m2._work["adoption.offers"]
        movers = moved2[:, b2] & (offers2[:, a2] == b2)
        np.testing.assert_allclose(
            m2.users.remembered_value[movers, b2],
            m2._work["adoption.expected"][movers, a2],
            rtol=1e-6,
        )
        drawn += int(movers.sum())
    assert drawn > 0


def test_dependence_has_its_three_consequences():
    """ODD 7.15: a pull above reflective value, distress when the companion does not answer,
    and staying despite a negative surplus."""
    c = compiled.constants(sim.Params().choice)
    assert two_selves.impulsive_pull(0, 0, 0, 0, 0.5, c) == pytest.approx(0.5 * c.dependence_pull)
    a = compiled.constants(sim.Params().adoption)
    stay = [adoption.quit_hazard(0.0, 1.0, d, 0.0, a) for d in (0.0, 0.5, 1.0)]
    assert stay[0] > stay[1] > stay[2] > 0.0
    assert dependence.withdrawal(0.8, 0.0) == pytest.approx(0.8)
    assert dependence.withdrawal(0.8, 1.0) == 0.0 and dependence.withdrawal(0.0, 0.0) == 0.0
    # friends who meet the need leave no room for distress
    assert dependence.distress(0.8, 1.0, 0.2) == 0.0
    assert dependence.distress(0.8, 0.0, 0.2) == pytest.approx(0.16)
    # in the day: dependent users whose companion is silent today grow lonelier
    m = build(days=10, sets={"social.adjustment": 0.5})
    advance(m, 10)
    comp = m.is_companion
    calm, _ = loneliness_after(m, 0.0)
    snap = snapshot(m)
    m.users.dependence[:, comp] = 0.8
    distressed, _ = loneliness_after(m, 0.0)
    answered, _ = loneliness_after(m, 600.0)
    restore(m, snap)
    assert (distressed >= calm - TOL).all() and distressed.mean() > calm.mean()
    assert answered.mean() < distressed.mean()


def test_dependent_share_reads_the_dependence_state():
    m = build("intimacy_economy", days=5)
    advance(m, 4)
    comp = m.is_companion
    m.users.dependence[:, comp] = 0.0
    m.users.dependence[:30, np.flatnonzero(comp)[-1]] = 0.7  # one companion is enough
    m.users.dependence[30:60, comp] = 0.49
    assert daily_row(m, m.today)["dependent_share"] == pytest.approx(30 / m.users.n)
    with_off = build("intimacy_economy", days=40, sets={"mechanisms.dependence": False})
    advance(with_off, 40)
    assert (with_off.users.dependence == 0.0).all()


# -- 10 manipulation ---------------------------------------------------------------------------
def farewell_outcome(model: EconomyModel, rate: float):
    snap = snapshot(model)
    model.today.levers["manipulation"] = np.where(model.is_companion, rate, 0.0)
    manipulation.step(model, model.today)
    u = model.users
    out = (
        u.minutes.copy(),
        u.offline_minutes.copy(),
        u.perceived_manipulation.copy(),
        u.compulsive_minutes.copy(),
        model.today.tactics,
    )
    restore(model, snap)
    return out


def test_manipulative_tactics_add_minutes_and_perceived_manipulation():
    m = build(
        days=10,
        sets={
            "manipulation.extra_minutes": 20.0,
            "manipulation.perception": 0.2,
            "companion.initial_adoption": 0.3,
        },
    )
    advance(m, 10)
    comp = m.is_companion
    assert (m.users.minutes[:, comp] > 0).any(), "nobody in a companion session: nothing to test"
    mins0, off0, pm0, cm0, tactics0 = farewell_outcome(m, 0.0)
    mins1, off1, pm1, cm1, tactics1 = farewell_outcome(m, 1.0)
    assert tactics0 == 0 and tactics1 > 0
    assert (mins1 >= mins0).all() and mins1[:, comp].sum() > mins0[:, comp].sum()
    assert np.array_equal(mins1[:, ~comp], mins0[:, ~comp])
    assert (pm1 >= pm0).all() and pm1.sum() > pm0.sum()
    assert (pm1 >= 0).all() and (pm1 <= 1).all()
    assert (cm1 >= cm0).all()
    # extra minutes come out of other offline life: the budget still adds up
    np.testing.assert_allclose(mins1.sum(axis=1) + off1, mins0.sum(axis=1) + off0, rtol=0, atol=TOL)
    assert (off1 >= 0).all()


@pytest.mark.parametrize("purchase_pull", [0.0, 1.0])
def test_a_tactic_at_the_free_tier_limit_sells_the_paid_tier(purchase_pull):
    """ODD 7.10: a tactic's whole pull counts in what the user wants of the companion today (the
    uncapped share that prices the subscription, 7.8), whatever share of the day's pull a
    planned purchase weighs (``choice.purchase_pull``), and whether or not the cap lets its
    minutes through, so free users at the limit value lifting it more: none less, some more."""
    m = build(
        days=40,
        sets={
            "choice.purchase_pull": purchase_pull,
            "manipulation.extra_minutes": 20.0,
            "companion.free_minutes": 20.0,
            "manipulation.goodbye_share": 1.0,  # every session ends with a goodbye: at lever 1, a tactic
        },
    )
    advance(m, 40)
    u, today = m.users, m.today
    tier = m.params.companion.free_minutes
    comp = np.flatnonzero(m.is_companion)
    at_limit = (
        (u.minutes[:, comp] >= tier - TOL) & ~u.subscribed[:, comp] & (u.self_control < 1)[:, None]
    )
    assert at_limit.sum() > 10, "no free user at the limit: nothing to test"
    before = today.desired.copy()
    mins1 = farewell_outcome(m, 1.0)[0]
    after = today.desired.copy()
    today.desired[...] = before
    np.testing.assert_array_equal(mins1[:, comp][at_limit], u.minutes[:, comp][at_limit])
    assert (after[:, comp][at_limit] > before[:, comp][at_limit]).all()
    assert (after >= before).all() and (after < 1).all()
    pulled = m.params.manipulation.extra_minutes * (1.0 - u.self_control)  # a tactic's whole pull
    rows, cols = np.nonzero(at_limit & (pulled < u.offline_minutes)[:, None])
    assert rows.size > 10, "no user at the limit with the time for the whole pull"
    np.testing.assert_allclose(
        after[:, comp][rows, cols],
        np.minimum(before[:, comp][rows, cols] + pulled[rows] / u.budget[rows], 1 - 1e-6),
    )
    choice = compiled.constants(m.params.choice)
    rows, cols = np.nonzero(at_limit)

    def worth(desired):  # what lifting the limit is worth to each free user at it
        return np.array(
            [
                business.subscription_worth(
                    u.budget[i], tier, np.inf, d, d, 0.0, 0.0, False, choice
                )
                for i, d in zip(rows, desired[:, comp][rows, cols], strict=True)
            ]
        )

    worth0, worth1 = worth(before), worth(after)
    assert (worth1 >= worth0 - 1e-9).all()
    assert (worth1 > worth0 + 1e-9).sum() > 5, "no tactic raised the worth of lifting the limit"


def test_subscribers_decide_to_cancel_in_dollars_they_would_accept():
    """ODD 7.2, 7.8, in the day's loop: a subscriber deciding to cancel weighs the price kept at
    ``money_value``, so cancellations do not read ``loss_aversion``; a free user deciding to
    subscribe weighs it at ``paying_value``, so conversions do. One morning, half the companions'
    users subscribed, stepped once at each loss aversion with the same draws."""
    sets = {
        "companion.free_minutes": 20.0,
        "companion.price": 15.0,
        "companion.cancellation": 1.0,
        "companion.conversion": 1.0,
        "mechanisms.adaptation": False,
    }
    m = build("intimacy_economy", users=1000, days=12, sets=sets)
    advance(m, 8)
    comp, u = m.is_companion, m.users
    u.subscribed[:, comp] = u.adopted[:, comp] & (np.arange(u.n) % 2 == 0)[:, None]
    after = {}
    for aversion in (1.0, 2.25):
        day = copy.deepcopy(m)
        day.params.choice.loss_aversion = aversion
        paying = day.users.subscribed[:, comp].copy()
        day.step()
        after[aversion] = (paying, day.users.adopted[:, comp], day.users.subscribed[:, comp])
    paying, kept1, sub1 = after[1.0]
    _, kept2, sub2 = after[2.25]
    kept = kept1 & kept2
    np.testing.assert_array_equal(sub1 & paying & kept, sub2 & paying & kept)
    assert (paying & kept & ~sub1).any(), "no subscriber cancelled: nothing to test"
    free = ~paying & kept
    assert (sub1 & free).sum() > (sub2 & free).sum()


def test_a_purchase_weighs_its_share_of_the_impulsive_pull():
    """ODD 7.1, 7.8: the use a subscription is priced at (``desired``) counts the share
    ``choice.purchase_pull`` of the impulsive pull; the day's minutes do not depend on it. At 0
    a companion that pulls its users is priced at less use than at 1; with no pull (the two
    selves off) the share changes nothing."""

    def day_one(share, two_selves=True):
        m = build(
            users=400,
            days=2,
            sets={
                "choice.purchase_pull": share,
                "companion.initial_adoption": 0.5,
                "mechanisms.two_selves": two_selves,
            },
        )
        m.step()
        return m.users.minutes.copy(), m.today.desired.copy(), m.is_companion

    minutes1, desired1, comp = day_one(1.0)
    minutes0, desired0, _ = day_one(0.0)
    half = day_one(0.5)[1]
    np.testing.assert_array_equal(minutes0, minutes1)
    # the pull raises every provider against the day's offline options, so less of it prices
    # less of the day on providers (one provider can gain against a rival that pulls harder)
    used = desired1[:, comp].sum(axis=1) > 0
    assert used.sum() > 50, "no companion wanted: nothing to test"
    whole = [d[used].sum(axis=1) for d in (desired0, half, desired1)]
    assert (whole[0] < whole[1]).all() and (whole[1] < whole[2]).all()
    assert desired0[:, comp].sum() < half[:, comp].sum() < desired1[:, comp].sum()
    np.testing.assert_array_equal(day_one(0.0, False)[1], day_one(1.0, False)[1])


def test_tactics_that_take_all_offline_time_keep_every_part_of_the_day_non_negative():
    m = build(
        days=15,
        sets={
            "companion.manipulation": 1.0,
            "manipulation.goodbye_share": 1.0,
            "manipulation.extra_minutes": 240.0,
            "companion.initial_adoption": 0.5,
            "population.self_control_mean": 0.05,
        },
    )
    emptied = False
    for _ in range(15):
        m.step()
        assert_budget_kept(m)
        emptied |= bool((m.users.offline_minutes < 1.0).any())
    assert emptied, "tactics never used up anyone's offline time, so the test shows nothing"


def test_ban_manipulation_gives_zero_tactics_for_treated_users():
    x = Intervention("ban_manipulation", start=0, share=0.5, providers="companions")
    m = build(
        days=25,
        interventions=[x],
        sets={
            "companion.manipulation": 0.5,
            "manipulation.perception": 0.2,
            "companion.initial_adoption": 0.3,
        },
    )
    treated, cols = arm(m)
    comp = m.is_companion
    for _ in range(25):
        m.step()
        assert (lever(m, "manipulation")[treated][:, cols] == 0).all()
        assert (m.users.perceived_manipulation[treated] == 0).all()
        # the audit counts the goodbyes of users no ban protects: every tactic, fewer goodbyes
        assert m.today.audited_tactics == m.today.tactics
        assert m.today.audited_sessions < m.today.sessions
        assert m.today.audited_farewells < m.today.farewells
        share = m.today.tactics / m.today.audited_farewells
        assert daily_row(m, m.today)["audited_farewell_share"] == pytest.approx(share)
    assert (m.users.perceived_manipulation[~treated][:, comp] > 0).any()


def test_without_a_ban_the_audit_sees_every_farewell():
    m = build(days=10, sets={"companion.manipulation": 0.5, "companion.initial_adoption": 0.3})
    for _ in range(10):
        m.step()
        assert m.today.sessions > 0
        assert (m.today.audited_tactics, m.today.audited_sessions) == (
            m.today.tactics,
            m.today.sessions,
        )
        assert m.today.audited_farewells == m.today.farewells


def farewell_counts(goodbye_share: float, q: float, days: int = 8):
    """Companion sessions, goodbyes, tactics and the minutes tactics added, summed over
    ``days`` with every lever held still at its initial value (``companion.manipulation`` q),
    and the last day's metrics."""
    m = build(
        "intimacy_economy",
        users=1500,
        days=days,
        sets={
            "mechanisms.adaptation": False,
            "companion.manipulation": q,
            "companion.initial_adoption": 0.5,
            "manipulation.goodbye_share": goodbye_share,
        },
    )
    comp = m.is_companion
    total = np.zeros(4)
    for _ in range(days):
        m.step()
        assert (lever(m, "manipulation")[:, comp] == q).all(), "the lever moved"
        t = m.today
        assert t.tactics <= t.farewells <= t.sessions
        total += (t.sessions, t.farewells, t.tactics, t.tactic_minutes)
    assert total[0] > 2000, "too few companion sessions to measure shares"
    return total, m.latest


def within_binomial(hits: float, trials: float, p: float, z: float = 4.0) -> bool:
    """Whether ``hits`` of ``trials`` independent draws is within ``z`` standard errors of a
    binomial share ``p``."""
    return abs(hits / trials - p) <= z * np.sqrt(p * (1 - p) / trials) + 1e-12


def test_most_sessions_end_without_a_goodbye_and_the_lever_is_tactics_over_goodbyes():
    """ODD 7.10: a session ends with a goodbye at ``goodbye_share`` and a goodbye meets a tactic
    at the lever, so tactics / sessions is their product; the farewell shares are over goodbyes."""
    g, q = 0.17, 0.4
    (sessions, farewells, tactics, added), row = farewell_counts(g, q)
    assert within_binomial(farewells, sessions, g)
    assert within_binomial(tactics, farewells, q)
    assert within_binomial(tactics, sessions, g * q)
    assert not within_binomial(tactics, sessions, q), "tactics over sessions is not the lever"
    assert added > 0 and tactics > 0
    assert row["manipulative_farewell_share"] == pytest.approx(
        row["audited_farewell_share"]  # no ban: the audit sees every goodbye
    )
    assert 0 < row["minutes_per_tactic"] <= 10.0 + TOL  # at most extra_minutes a tactic


def test_with_every_session_ending_in_a_goodbye_the_lever_is_tactics_over_sessions():
    q = 0.3
    (sessions, farewells, tactics, _), row = farewell_counts(1.0, q)
    assert farewells == sessions
    assert within_binomial(tactics, sessions, q)


def test_without_goodbyes_no_tactic_is_ever_used():
    (sessions, farewells, tactics, added), row = farewell_counts(0.0, 1.0)
    assert sessions > 0 and farewells == tactics == 0 and added == 0.0
    assert row["manipulative_farewell_share"] == row["minutes_per_tactic"] == 0.0


def test_one_draw_decides_goodbye_and_tactic():
    """Common random numbers: with the same draws, the tactics met at goodbye share g and lever
    q are those met when every session ends with a goodbye at lever g q, and the minutes they
    add are counted in ``tactic_minutes`` and ``minutes_per_tactic``."""
    m = build(
        days=10,
        sets={"companion.initial_adoption": 0.3, "manipulation.extra_minutes": 20.0},
    )
    advance(m, 10)
    g, q = 0.25, 0.8
    m.params.manipulation.goodbye_share = g
    mins0 = farewell_outcome(m, 0.0)[0]
    nested = farewell_outcome(m, q)
    counts = m.today.tactics, m.today.farewells, m.today.sessions, m.today.tactic_minutes
    row = daily_row(m, m.today)
    m.params.manipulation.goodbye_share = 1.0
    flat = farewell_outcome(m, g * q)
    assert counts[0] > 0 and counts[0] == flat[4]
    for a, b in zip(nested[:4], flat[:4], strict=True):
        np.testing.assert_array_equal(a, b)
    assert counts[0] < counts[1] < counts[2]
    assert m.today.farewells == m.today.sessions == counts[2]
    assert counts[3] == pytest.approx((nested[0] - mins0).sum(), abs=1e-6)
    assert row["manipulative_farewell_share"] == pytest.approx(counts[0] / counts[1])
    assert row["minutes_per_tactic"] == pytest.approx(counts[3] / counts[0])


# -- 13 interventions that act on time and money ------------------------------------------------
def test_deactivate_blocks_a_provider_only_while_in_force():
    start, end, days = 5, 15, 30
    x = Intervention("deactivate", start=start, end=end, share=0.5, providers="feed_a")
    m = build(days=days, interventions=[x], sets={"feed.initial_adoption": 0.8})
    treated, cols = arm(m)
    j = int(np.flatnonzero(cols)[0])
    before = during_control = after = False
    for _ in range(days):
        m.step()
        used = m.users.minutes[:, j] > 0
        if m.day < start:
            before |= bool(used[treated].any())
        elif m.day < end:
            assert not used[treated].any(), f"day {m.day}: a deactivated user used feed_a"
            during_control |= bool(used[~treated].any())
        else:
            after |= bool(used[treated].any())
    assert before and during_control
    assert after, "no treated user came back to feed_a after the deactivation ended"


@pytest.mark.parametrize(
    "kind, providers, name, initial, cap",
    [
        ("ad_load_cap", "feeds", "ad_load", {"feed.ad_load": 0.3}, 0.05),
        ("manipulation_cap", "companions", "manipulation", {"companion.manipulation": 0.6}, 0.1),
    ],
)
def test_a_lever_cap_caps_what_treated_users_meet_and_no_one_else(
    kind, providers, name, initial, cap
):
    x = Intervention(kind, start=0, share=0.5, providers=providers, value=cap)
    m = build(days=20, interventions=[x], sets=initial)
    treated, cols = arm(m)
    items = m.params.feed.items_per_minute
    for _ in range(20):
        m.step()
        value = lever(m, name)
        assert (value[treated][:, cols] <= cap + TOL).all()
        assert (value[~treated][:, cols] > cap).any()
        if name == "ad_load":
            feed_minutes = m.users.minutes[:, cols].sum(axis=1)
            shown = m.users.ad_impressions[treated]
            assert (shown <= feed_minutes[treated] * items * cap + TOL).all()


def test_ad_tax_lowers_net_ad_revenue():
    sets = {"mechanisms.adaptation": False, "feed.ad_load": 0.2, "feed.cpm": 10.0}
    base = sim.run("attention_economy", users=300, days=15, seed=2, set=sets).timeseries
    taxed = sim.run(
        "attention_economy",
        users=300,
        days=15,
        seed=2,
        set=sets,
        interventions=[Intervention("ad_tax", value=0.4)],
    ).timeseries
    assert (base["ad_revenue_per_user_day"] > 0).all()
    assert (taxed["ad_revenue_per_user_day"] < base["ad_revenue_per_user_day"]).all()
    assert (taxed["ad_tax_per_user_day"] > 0).all() and (base["ad_tax_per_user_day"] == 0).all()
    # the tax takes revenue, not users' time: gross ad revenue is unchanged
    np.testing.assert_allclose(
        taxed["ad_revenue_per_user_day"] + taxed["ad_tax_per_user_day"],
        base["ad_revenue_per_user_day"],
        rtol=1e-12,
    )
    np.testing.assert_array_equal(taxed["minutes_per_user_day"], base["minutes_per_user_day"])


def test_nudge_mandate_sets_a_floor_on_nudges_for_treated_users():
    floor = 0.4
    x = Intervention("nudge_mandate", start=3, share=0.5, providers="all", value=floor)
    m = build(days=12, interventions=[x], sets={"feed.nudge": 0.0, "companion.nudge": 0.0})
    treated, cols = arm(m)
    for _ in range(12):
        m.step()
        nudge = lever(m, "nudge")
        if m.day >= 3:
            assert (nudge[treated][:, cols] >= floor - TOL).all()
        else:
            assert (nudge[treated][:, cols] < floor).all()
    assert (lever(m, "nudge")[~treated] < floor).any()


def test_companions_launching_later_take_no_time_before_their_launch():
    launch = 8
    m = build(
        days=20, sets={"market.companion_launch_day": launch, "companion.initial_adoption": 0.3}
    )
    comp = m.is_companion
    for _ in range(20):
        m.step()
        u = m.users
        if m.day < launch:
            assert (u.minutes[:, comp] == 0).all() and not u.adopted[:, comp].any()
            assert not u.subscribed[:, comp].any() and (u.attachment == 0).all()
        assert_budget_kept(m)
    assert (m.users.minutes[:, comp] > 0).any(), "nobody used the companions after their launch"


# -- ablations and heterogeneity ---------------------------------------------------------------
def _check_switch_off(name: str, m: EconomyModel, start: dict) -> None:
    u = m.users
    if name == "habit":
        assert (u.habit == 0).all()
    elif name == "learning":
        assert (u.knowledge == 0).all() and (u.emotional_knowledge == 0).all()
    elif name == "experience":
        assert (u.familiarity == 1).all(), "without the mechanism users know every fit"
    elif name == "attachment":
        assert (u.attachment == 0).all()
    elif name == "social":
        assert np.array_equal(u.loneliness, u.loneliness_baseline)
        assert np.array_equal(m.network.strength, start["strength"])
    elif name == "manipulation":
        assert (u.perceived_manipulation == 0).all() and m.today.tactics == 0
    elif name == "adoption":
        assert np.array_equal(u.adopted, start["adopted"])
    elif name == "adaptation":
        assert m.describe_state() == start["levers"]
    elif name == "two_selves":
        assert (m.today.compulsive == 0).all()


SWITCHES = [f.name for f in dataclasses.fields(MechanismSwitches)]


@pytest.mark.parametrize("name", SWITCHES)
def test_each_mechanism_can_be_switched_off(name):
    days = 20
    m = build(
        users=200,
        days=days,
        seed=3,
        sets={
            f"mechanisms.{name}": False,
            "adaptation.interval": 5,
            "market.companion_launch_day": 0,
        },
    )
    m.step()
    start = {
        "strength": m.network.strength.copy(),
        "adopted": m.users.adopted.copy(),
        "levers": m.describe_state(),
    }
    while m.running:
        m.step()
        assert_all_finite(m)
        assert_budget_kept(m)
        _check_switch_off(name, m, start)
    assert m.steps == days


def test_heterogeneity_off_gives_identical_traits():
    m = build(users=200, days=2, sets={"mechanisms.heterogeneity": False})
    u = m.users
    for trait in (
        "loneliness_baseline",
        "self_control",
        "ai_openness",
        "budget",
        "offline_value",
    ):
        values = getattr(u, trait)
        assert (values == values[0]).all(), trait
    assert (u.fit == u.fit.flat[0]).all()
    assert (m.network.strength == m.network.strength[0]).all()
    on = build(users=200, days=2)
    assert on.users.self_control.std() > 0 and on.users.budget.std() > 0


# -- the modules' declarations -------------------------------------------------------------------
MODULES = [m.name for m in pkgutil.iter_modules(mechanisms.__path__)]


def test_every_user_array_is_a_trait_or_owned_by_exactly_one_mechanism():
    import importlib

    from sim.model.params import Params
    from sim.model.population import TRAITS, Users

    owners: dict[str, list[str]] = {}
    switches = {f.name for f in dataclasses.fields(MechanismSwitches)}
    sections = {f.name for f in dataclasses.fields(Params)}
    for name in MODULES:
        module = importlib.import_module(f"sim.model.mechanisms.{name}")
        assert module.SWITCH is None or module.SWITCH in switches, name
        assert set(module.PARAMS) <= sections, name
        for state in module.STATE:
            owners.setdefault(state, []).append(name)
    assert {k: v for k, v in owners.items() if len(v) > 1} == {}
    assert set(owners) | set(TRAITS) == set(Users._fields)
    assert not set(owners) & set(TRAITS)


def test_a_free_user_is_understood_by_the_share_of_memory_the_free_tier_uses():
    """Same seed, same users, the companions knowing every user's moods well: with the free
    tier's memory at 0 instead of 1, a free user's reflective value of a companion falls by
    what knowing them adds (heard_value x loneliness x empathy x 0.5 x EK) and a subscriber's
    does not change; how heard they felt falls for free users only."""
    days = []
    for share in (1.0, 0.0):
        m = build("intimacy_economy", users=300, days=2, sets={"companion.free_memory": share})
        u = m.users
        comp = m.is_companion
        u.emotional_knowledge[:, comp] = 0.8
        u.adopted[:, comp] = True
        u.subscribed[:, comp] = np.arange(u.n)[:, None] % 2 == 0
        loneliness = u.loneliness.copy()
        m.step()
        days.append((m.today.R[:, : len(m.providers)].copy(), m.today.heard.copy(), loneliness))
    (full, heard_full, lonely), (none, heard_none, _) = days
    k = m.params.choice
    paying = np.arange(m.users.n) % 2 == 0
    for j in np.flatnonzero(m.is_companion):
        empathy = m.params.companion.empathy
        drop = k.heard_value * lonely * empathy * 0.5 * 0.8
        np.testing.assert_allclose(full[~paying, j] - none[~paying, j], drop[~paying], rtol=1e-9)
        np.testing.assert_array_equal(full[paying, j], none[paying, j])
        used = m.users.minutes[:, j] > 0
        assert (heard_none[~paying & used, j] < heard_full[~paying & used, j]).all()
