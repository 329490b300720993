"""Welfare in dollars (ODD 7.7): the formulae of :mod:`sim.model.mechanisms.welfare` against
their closed forms, and what a model run makes of them.

At the split a reflective user with no impulsive pull would choose, shares proportional to
w_o exp(R_o / T), the day's value U(s) is the log-sum T ln(sum_o w_o exp(R_o / T)), so welfare
and each kind's consumer surplus have closed forms. The formula tests build such days by hand
and call the welfare loop itself (:func:`welfare.weigh`); tiny model runs check what only the
pipeline can show (realised socialising, payments, the pull switched off).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from test_properties import configs, corners

import sim
from sim.model import EconomyModel, compiled
from sim.model.interventions import Intervention
from sim.model.mechanisms import welfare
from sim.model.mechanisms.attachment import beyond_margin
from sim.model.mechanisms.social import HeardDay
from sim.model.params import ChoiceParams, ParamError

TOL = 1e-9
# the mixed market's providers: two feeds, then two companions
P = 4
IS_COMPANION = np.array([False, False, True, True])
FEEDS, COMPANIONS = ~IS_COMPANION, IS_COMPANION


# -- helpers ------------------------------------------------------------------------------------
def build(users: int = 200, days: int = 20, seed: int = 1, sets=None, interventions=()):
    params, _ = sim.resolve("mixed", users=users, days=days, seed=seed, sets=dict(sets or {}))
    return EconomyModel(params, list(interventions))


def users_of(n: int):
    """The user arrays of a tiny mixed market of ``n`` users, to fill in by hand."""
    m = build(users=n, days=1)
    assert np.array_equal(m.is_companion, IS_COMPANION)
    return m.users


def choice_constants(**values):
    return compiled.constants(dataclasses.replace(ChoiceParams(), **values))


def paying(k) -> float:
    """Utility per $/minute paid for use: money received for use given up, times the loss
    aversion over use given up (ODD 7.2)."""
    return k.money_value * k.loss_aversion


@dataclasses.dataclass
class Case:
    """A day of ``n`` users at the reflective logit optimum: values R (N, P + 2), weights of the
    providers (N, P) and of socialising (N,), budgets, minutes and the log-sum ln Z."""

    users: object
    k: object
    R: np.ndarray
    availability: np.ndarray
    social_scale: np.ndarray
    budget: np.ndarray
    minutes: np.ndarray  # (N, P + 2) providers, socialising, other offline life
    log_z: np.ndarray


def logit_case(n: int = 300, seed: int = 0, temperature: float = 0.7) -> Case:
    rng = np.random.default_rng(seed)
    breadth, money_value = 20.0, 19.0
    k = choice_constants(temperature=temperature, offline_breadth=breadth, money_value=money_value)
    R = rng.normal(0.5, 1.0, (n, P + 2))
    availability = rng.uniform(0.2, 1.0, (n, P))
    availability[rng.random((n, P)) < 0.3] = 0.0  # providers not adopted or out of reach
    social_scale = rng.uniform(0.0, 1.0, n)
    budget = rng.uniform(30.0, 960.0, n)
    weights = np.column_stack([availability, social_scale, np.full(n, breadth)])
    x = weights * np.exp(R / temperature)
    z = x.sum(axis=1)
    minutes = budget[:, None] * x / z[:, None]
    u = users_of(n)
    u.budget[:] = budget
    set_minutes(u, minutes)
    return Case(u, k, R, availability, social_scale, budget, minutes, np.log(z))


def set_minutes(u, minutes: np.ndarray) -> None:
    u.minutes[:] = minutes[:, :P]
    u.social_minutes[:] = minutes[:, P]
    u.offline_minutes[:] = minutes[:, P + 1]


def weigh(case: Case, paid=None, pull=None, value_minutes: float = 120.0) -> np.ndarray:
    """Run the welfare loop on the case's users; returns the consumer surplus (2, N)."""
    n = case.users.n
    zeros = np.zeros((n, P))
    day = welfare.Day(
        np.ascontiguousarray(case.R),
        zeros if pull is None else np.ascontiguousarray(pull),
        compiled.per_user(case.availability, n),
        compiled.per_user(case.social_scale, n, 1),
        zeros if paid is None else np.ascontiguousarray(paid),
        IS_COMPANION,
        value_minutes,
        HeardDay(np.zeros(n), np.ones(n), np.zeros(n)),  # no companion heard the user
        25.0,
    )
    surplus = np.zeros((2, n))
    welfare.weigh(0, n, case.users, case.k, day, surplus)
    return surplus


def offline_day(case: Case) -> np.ndarray:
    """B (R_off + T ln breadth): U of a day of other offline life only, times B."""
    k = case.k
    return case.budget * (case.R[:, P + 1] + k.temperature * math.log(k.offline_breadth))


# -- the formulae -------------------------------------------------------------------------------
@pytest.mark.parametrize("temperature", [0.2, 0.7, 2.0])
def test_welfare_at_the_reflective_optimum_is_the_log_sum(temperature):
    c = logit_case(temperature=temperature)
    weigh(c)
    k = c.k
    expected = (c.budget * k.temperature * c.log_z - offline_day(c)) / paying(k)
    np.testing.assert_allclose(c.users.welfare, expected, rtol=1e-9, atol=1e-9)
    # with no pull and nothing paid, what users would accept to give the day up is the loss
    # aversion times what they would pay for it
    assert k.loss_aversion > 1.0
    np.testing.assert_allclose(c.users.valuation, k.loss_aversion * expected, rtol=1e-9, atol=1e-9)
    # the log-sum is at least the value of the day spent offline, so welfare is not negative
    assert (c.users.welfare >= -TOL).all()


def test_consumer_surplus_at_the_optimum_is_minus_log_of_the_share_left():
    c = logit_case(seed=1)
    paid = np.zeros((c.users.n, P))
    paid[::3, 0] = 0.2  # a paid feed, for the test's sake
    paid[::2, 3] = 10.0 / 30.0  # a companion's subscribers
    surplus = weigh(c, paid=paid)
    k = c.k
    for row, kind in ((0, FEEDS), (1, COMPANIONS)):
        share = c.minutes[:, :P][:, kind].sum(axis=1) / c.budget
        expected = -c.budget * k.temperature * np.log1p(-share) / paying(k) - paid[:, kind].sum(
            axis=1
        )
        np.testing.assert_allclose(surplus[row], expected, rtol=1e-7, atol=1e-9)
    # a kind the user has no access to gives no surplus
    none = ~(c.availability[:, COMPANIONS] > 0).any(axis=1)
    assert none.any()
    np.testing.assert_allclose(surplus[1, none], -paid[none][:, COMPANIONS].sum(axis=1), atol=1e-9)


def test_moving_minutes_away_from_the_reflective_optimum_lowers_welfare():
    c = logit_case(seed=2)
    weigh(c)
    best = c.users.welfare.copy()
    rng = np.random.default_rng(2)
    n = c.users.n
    weights = np.column_stack([c.availability, c.social_scale, np.ones(n)])
    for trial in range(5):
        moved = c.minutes.copy()
        for i in range(n):
            options = np.flatnonzero(weights[i] > 0)
            src, dst = rng.choice(options, 2, replace=False)
            delta = rng.uniform(0.05, 1.0) * moved[i, src]
            moved[i, src] -= delta
            moved[i, dst] += delta
        set_minutes(c.users, moved)
        weigh(c)
        lost = best - c.users.welfare
        assert (lost > 0).all(), f"trial {trial}: welfare rose for {(lost <= 0).sum()} users"
    np.testing.assert_allclose(moved.sum(axis=1), c.budget, rtol=1e-12)


def test_valuation_counts_the_pull_on_the_minutes_spent_and_welfare_does_not():
    c = logit_case(seed=3)
    rng = np.random.default_rng(3)
    n = c.users.n
    # a day away from the optimum, as the impulsive self makes it
    moved = c.minutes.copy()
    extra = rng.uniform(0.0, 0.5, (n, P)) * moved[:, P + 1 : P + 2] / P
    extra[c.availability == 0] = 0.0
    moved[:, :P] += extra
    moved[:, P + 1] -= extra.sum(axis=1)
    set_minutes(c.users, moved)
    weigh(c)
    reflective, unpulled = c.users.welfare.copy(), c.users.valuation.copy()
    pull = rng.uniform(0.0, 3.0, (n, P))
    weigh(c, pull=pull)
    np.testing.assert_allclose(c.users.welfare, reflective, rtol=0, atol=0)
    expected = (moved[:, :P] * pull).sum(axis=1) / c.k.money_value
    np.testing.assert_allclose(c.users.valuation - unpulled, expected, rtol=1e-9, atol=1e-12)
    assert (expected > 0).any()


def test_subscriptions_paid_lower_welfare_and_surplus_dollar_for_dollar():
    c = logit_case(seed=4)
    free = weigh(c)
    welfare_free, valuation_free = c.users.welfare.copy(), c.users.valuation.copy()
    rng = np.random.default_rng(4)
    paid = np.where(rng.random((c.users.n, P)) < 0.4, rng.uniform(0.0, 1.0, (c.users.n, P)), 0.0)
    paying = weigh(c, paid=paid)
    np.testing.assert_allclose(welfare_free - c.users.welfare, paid.sum(axis=1), atol=1e-12)
    np.testing.assert_allclose(valuation_free - c.users.valuation, paid.sum(axis=1), atol=1e-12)
    np.testing.assert_allclose(free[0] - paying[0], paid[:, FEEDS].sum(axis=1), atol=1e-12)
    np.testing.assert_allclose(free[1] - paying[1], paid[:, COMPANIONS].sum(axis=1), atol=1e-12)


def test_a_day_of_other_offline_life_only_is_worth_nothing():
    c = logit_case(seed=5)
    n = c.users.n
    only_offline = np.zeros((n, P + 2))
    only_offline[:, P + 1] = c.budget
    set_minutes(c.users, only_offline)
    surplus = weigh(c, pull=np.full((n, P), 2.0))
    scale = c.budget * (np.abs(c.R[:, P + 1]) + 1.0) * 1e-12
    assert (np.abs(c.users.welfare) <= scale).all(), np.abs(c.users.welfare).max()
    assert (np.abs(c.users.valuation) <= scale).all()
    assert (np.abs(surplus) <= scale).all()
    assert (c.users.consumption_value == 0).all()


def test_consumption_value_counts_providers_and_socialising_at_positive_values_only():
    c = logit_case(seed=6)
    weigh(c, value_minutes=90.0)
    enjoyed = np.maximum(c.R[:, : P + 1], 0.0) * c.minutes[:, : P + 1]
    expected = -np.expm1(-enjoyed.sum(axis=1) / 90.0)
    np.testing.assert_allclose(c.users.consumption_value, expected, rtol=1e-12, atol=1e-15)


# -- in a model run -----------------------------------------------------------------------------
def kind_paid(model) -> np.ndarray:
    """(2, N) $ paid today to feeds and to companions."""
    paid = model.today.paid
    return np.stack(
        [paid[:, ~model.is_companion].sum(axis=1), paid[:, model.is_companion].sum(axis=1)]
    )


NO_PULL = {"mechanisms.two_selves": False, "choice.taste_noise": 0.0}


def first_day_overvaluation(model) -> np.ndarray:
    """(2, N) $ by which the day-0 choice overvalues what each kind of provider gives each user,
    relative to welfare (ODD 7.2, 7.5-7.7, 9): what bounds the shortfall of a kind's gross surplus
    below zero on the first day, without the impulsive pull and taste noise.

    The choice values a minute with companion j at R_j, which holds ``u_j W unmet`` (7.2), with
    u_j its understanding (7.5), W = ``heard_value`` x the morning's loneliness and unmet =
    exp(-``understood_usual`` / need) the share of the need to be heard a usual day leaves unmet,
    need = ``social.companion_need_minutes``. Users start with no usual day, so on day 0 unmet is
    1: the choice, and welfare's U(s) at R with it, count the day's x = sum_j u_j m_j understood
    minutes at the first minute's value, W x. Welfare counts being heard at its whole worth,
    W need (1 - exp(-x / need)) (7.7: U(s) at R plus ``beyond_margin``, W (need heard(x) - x
    unmet)), so the choice overvalues the companions by

        W (x - need (1 - exp(-x / need))) / (money_value loss_aversion)  $,

    -``beyond_margin`` / ``paying_value``: 0 for a user with no understood companion minutes,
    positive for any other. The companions' gross surplus is their surplus at R (what the split
    was chosen by, not negative without the pull and the taste shocks) less it. The feeds'
    surplus takes ``beyond_margin`` at x / (1 - S_feeds), the longer hearing of a day without
    feeds, from it at x; x - need heard(x) rises with x, so on day 0 that adds to the feeds'
    surplus and their overvaluation is 0."""
    assert model.day == 0
    k, need = model.params.choice, model.params.social.companion_need_minutes
    understood, unmet, weight = (np.asarray(a) for a in model.today.heard_day)
    assert (unmet == 1.0).all()  # no usual day yet
    counted = understood + need * np.expm1(-understood / need)  # x - need (1 - exp(-x / need))
    return np.stack([np.zeros(understood.shape), weight * counted / paying(k)])


def check_surplus_against_paid(model) -> tuple[np.ndarray, np.ndarray]:
    """Assert that each user's gross surplus from each kind (surplus plus what was paid to it)
    falls below zero by at most what the choice overvalued that kind (on day 0,
    :func:`first_day_overvaluation`; from day 1 on, 0: the ordinary check, once users have a
    usual day). Returns the (2, N) shortfalls and their bounds."""
    gross = model.today.surplus + kind_paid(model)
    shortfall = np.maximum(-gross, 0.0)
    bound = np.zeros(gross.shape)
    if model.day == 0:
        bound = first_day_overvaluation(model)
        heard = np.asarray(model.today.heard_day.understood) > 0.0
        assert (bound[:, ~heard] == 0.0).all()  # the ordinary check for users not heard
    over = shortfall > bound + 1e-9 * bound + TOL
    assert not over.any(), (
        f"day {model.day}: {over.sum()} shortfalls above their bound, the largest "
        f"{shortfall[over].max():.3g} $ (bound {bound[over][np.argmax(shortfall[over])]:.3g} $)"
    )
    return shortfall, bound


def test_the_first_day_shortfall_is_at_most_what_the_choice_overvalued():
    """On day 0 a user's companions can be worth less than nothing to them on reflection: the
    choice counted every understood minute at the first minute's value (ODD 9, no usual day
    yet). By :func:`first_day_overvaluation` the shortfall is that overvaluation less the
    companions' surplus at R, so it is at most the overvaluation. A louder value of being
    heard (``heard_value`` 5) and a lower temperature (0.3) let the first minutes' value
    dominate the choice, so that many users fall short and the bound is nearly reached."""
    m = build(
        users=300,
        days=1,
        sets=NO_PULL
        | {
            "companion.initial_adoption": 0.3,
            "choice.heard_value": 5.0,
            "choice.temperature": 0.3,
        },
    )
    m.step()
    shortfall, bound = check_surplus_against_paid(m)
    assert (bound[1] > 0).sum() > 50
    short = shortfall[1] > 1e-6
    assert short.sum() > 10
    # the bound is not loose: some user falls short by more than half of it
    assert (shortfall[1, short] / bound[1, short]).max() > 0.5


def test_consumer_surplus_is_not_negative_without_the_impulsive_pull():
    """Without the pull (and without taste shocks, which welfare does not count) users choose
    the reflective split, within caps and the friends' time: what each kind gives them is worth
    at least what they paid for it, from day 1 on. On day 0 the choice values being heard with
    no usual day yet, and a user's gross surplus can fall below zero by at most what it
    overvalued (:func:`check_surplus_against_paid`); at this seed one user does."""
    m = build(users=300, days=30, sets=NO_PULL | {"companion.initial_adoption": 0.3})
    positive = 0
    for _ in range(30):
        m.step()
        shortfall, bound = check_surplus_against_paid(m)
        if m.day == 0:
            assert (bound[1] > 0).any()
            assert (shortfall > 1e-6).any()  # a shortfall the bound covers
        # without the pull what users would accept is the loss aversion times what they would pay
        paid = kind_paid(m).sum(axis=0)
        accepted = m.params.choice.loss_aversion * (m.users.welfare + paid) - paid
        np.testing.assert_allclose(m.users.valuation, accepted, rtol=1e-12, atol=1e-12)
        positive += int((m.today.surplus + kind_paid(m) > 1e-6).sum())
    assert positive > 0


@pytest.mark.xfail(
    strict=True,
    reason="a known limitation (docs/ODD.md 7.7, 9): welfare values minutes at R, without the "
    "day's taste shocks the split was chosen at, so with two_selves off and default taste_noise "
    "a user's surplus from a kind can be below zero on a day",
)
def test_consumer_surplus_is_not_negative_without_the_pull_at_default_taste_noise():
    m = build(users=300, days=20, sets={"mechanisms.two_selves": False})
    assert m.params.choice.taste_noise > 0
    for _ in range(20):
        m.step()
        gross = m.today.surplus + kind_paid(m)
        assert gross.min() >= -TOL, f"day {m.day}: surplus {gross.min():.3g} below what was paid"


def test_welfare_without_the_pull_is_at_most_the_log_sum_and_equal_at_the_unconstrained_split():
    """At the minutes' values per minute (being heard at its margin, ODD 7.2): welfare less
    what being heard is worth beyond the margin (7.7) is bounded by the log-sum."""
    m = build(
        users=300,
        days=15,
        sets=NO_PULL | {"choice.min_session": 0.0, "companion.free_minutes": 240.0},
    )
    k, u = m.params.choice, m.users
    T = k.temperature
    equal = 0
    for _ in range(15):
        m.step()
        cons = m.today.constraints
        # with no minimum session every provider the user could choose gets some minutes
        a = np.broadcast_to(cons.availability, u.minutes.shape) * (u.minutes > 0)
        social = np.broadcast_to(cons.social_scale, (u.n,))
        R = m.today.R
        weights = np.column_stack([a, social, np.full(u.n, k.offline_breadth)])
        z = (weights * np.exp(R / T)).sum(axis=1)
        off = u.budget * (R[:, P + 1] + T * math.log(k.offline_breadth))
        paid = m.today.paid.sum(axis=1)
        bound = (u.budget * T * np.log(z) - off) / paying(k) - paid
        heard = m.today.heard_day
        need = m.params.social.companion_need_minutes
        beyond = [beyond_margin(w, x, un, need) for x, un, w in zip(*heard, strict=True)]
        bound += np.array(beyond) / paying(k)
        assert (u.welfare <= bound + 1e-9 * np.abs(bound) + TOL).all(), f"day {m.day}"
        logit = u.budget[:, None] * weights * np.exp(R / T) / z[:, None]
        spent = np.column_stack([u.minutes, u.social_minutes, u.offline_minutes])
        free = np.isclose(spent, logit, rtol=1e-12, atol=1e-9).all(axis=1)
        np.testing.assert_allclose(u.welfare[free], bound[free], rtol=1e-9, atol=1e-9)
        equal += int(free.sum())
    assert equal > 0, "no user's day was the unconstrained split, so equality is untested"


def test_valuation_in_a_run_weighs_use_given_up_as_a_loss_and_counts_the_pull():
    m = build(users=200, days=15, sets={"companion.initial_adoption": 0.3})
    for _ in range(15):
        m.step()
        u = m.users
        k = m.params.choice
        pulled = (u.minutes * m.today.pull).sum(axis=1) / k.money_value
        paid = m.today.paid.sum(axis=1)
        accepted = k.loss_aversion * (u.welfare + paid) + pulled - paid
        np.testing.assert_allclose(u.valuation, accepted, rtol=1e-9, atol=1e-9)
    assert (pulled > 0).any()


def test_consumption_value_counts_realised_not_planned_social_minutes():
    """Users whose friends are all locked down plan to socialise but meet no one: their
    planned minutes go to other offline life and add nothing to the consumption value."""
    lockdown = Intervention("lockdown", share=0.95, value=1.0)
    m = build(
        users=300,
        days=3,
        sets={"network.mean_degree": 2, "network.rewiring": 0.0},
        interventions=[lockdown],
    )
    for _ in range(3):
        m.step()
    u, R = m.users, m.today.R
    planned = m.today.planned_social
    alone = (planned > 1.0) & (u.social_minutes == 0) & (R[:, P] > 0)
    assert alone.sum() >= 3, "the lockdown left no one planning to socialise alone"
    providers = (u.minutes * np.maximum(R[:, :P], 0.0)).sum(axis=1)
    vm = m.params.wellbeing.value_minutes
    realised = -np.expm1(-(providers + u.social_minutes * np.maximum(R[:, P], 0.0)) / vm)
    as_planned = -np.expm1(-(providers + planned * np.maximum(R[:, P], 0.0)) / vm)
    np.testing.assert_allclose(u.consumption_value, realised, rtol=1e-12, atol=1e-15)
    assert (as_planned[alone] > u.consumption_value[alone] + 1e-6).all()
    # and the wellbeing composite reads that realised consumption value
    w = m.params.wellbeing
    ties = m.today.tie_mean
    composite = (
        1.0
        + w.w_loneliness * (1.0 - u.loneliness)
        + w.w_ties * ties
        + w.w_consumption * realised
        - w.w_regret * np.minimum(1.0, u.compulsive_minutes / w.regret_minutes)
        - w.w_ads * np.minimum(1.0, u.ad_impressions / w.ads_scale)
        - w.w_crowd_out * np.maximum(0.0, 1.0 - u.offline_minutes / w.offline_need)
    )
    np.testing.assert_allclose(u.wellbeing, composite, rtol=1e-12, atol=1e-12)


# -- properties ---------------------------------------------------------------------------------
DAYS = 12


@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(configs().filter(lambda cfg: cfg[1].get("choice.money_value", 1.0) > 0.0))
@corners
def test_welfare_valuation_and_surplus_are_finite_every_day(cfg):
    """Over random valid parameters and the corners of tests/test_properties.py (money_value = 0
    apart: see the test below)."""
    scenario, sets, ivs, users, seed = cfg
    params, _ = sim.resolve(scenario, users=users, days=DAYS, seed=seed, sets=sets)
    m = EconomyModel(params, ivs)
    while m.running:
        m.step()
        u = m.users
        for name, a in (
            ("welfare", u.welfare),
            ("valuation", u.valuation),
            ("surplus", m.today.surplus),
        ):
            assert np.isfinite(a).all(), f"day {m.day}: {name} has NaN or inf"
        # the impulsive pull only adds to what users would accept to give the day up, which
        # before the pull is the loss aversion times what they would pay for it
        paid = m.today.paid.sum(axis=1)
        accepted = m.params.choice.loss_aversion * (u.welfare + paid) - paid
        assert (u.valuation >= accepted - 1e-9 * (1.0 + np.abs(accepted))).all()
        for key in (
            "welfare_per_user_day",
            "feed_consumer_surplus_per_user_day",
            "companion_consumer_surplus_per_user_day",
        ):
            assert math.isfinite(m.latest[key]), f"day {m.day}: {key} = {m.latest[key]}"


def test_welfare_is_finite_at_the_lowest_valid_money_value():
    """Welfare divides by the money value of time, so 0 is refused and the lowest allowed
    value gives finite welfare."""
    with pytest.raises(ParamError, match="choice.money_value"):
        build(users=100, days=2, sets={"choice.money_value": 0.0})
    m = build(users=100, days=2, sets={"choice.money_value": 0.1})
    m.step()
    assert np.isfinite(m.users.welfare).all()
    assert np.isfinite(m.today.surplus).all()


# -- what a cap costs, and what a subscription is worth (ODD 7.7, 7.8) -------------------------
def _capped_day_value(R, w, budget, temperature, allowed):
    """B U(s) of a day whose first option is held to share ``allowed``, the rest taking up
    their logit shares in proportion (computed term by term, not from the closed form)."""
    shares = w * np.exp(R / temperature)
    shares /= shares.sum()
    kept = shares.copy()
    kept[0] = min(allowed, shares[0])
    kept[1:] *= (1.0 - kept[0]) / shares[1:].sum()
    return sum(
        welfare.option_value(budget * s, r, wo, budget, temperature)
        for s, r, wo in zip(kept, R, w, strict=True)
    ), shares[0]


@pytest.mark.parametrize("allowed", [0.0, 0.01, 0.05, 0.2])
def test_cap_cost_is_the_value_lost_by_holding_an_option_below_its_share(allowed):
    R, w = np.array([2.5, 1.0, 0.2, 0.0]), np.array([1.0, 1.0, 0.5, 30.0])
    budget, temperature = 600.0, 0.7
    free, desired = _capped_day_value(R, w, budget, temperature, 1.0)
    capped, _ = _capped_day_value(R, w, budget, temperature, allowed)
    lost = welfare.cap_cost(budget, allowed, desired, temperature)
    assert desired > 0.05
    assert lost == pytest.approx(free - capped, rel=1e-9, abs=1e-9)
    if allowed == 0.0:  # the option's whole surplus
        assert lost == pytest.approx(-budget * temperature * math.log(1.0 - desired))


def test_a_cap_that_does_not_bind_costs_nothing_and_a_tighter_one_costs_more():
    assert welfare.cap_cost(600.0, 0.2, 0.1, 1.0) == 0.0
    costs = [welfare.cap_cost(600.0, a, 0.1, 1.0) for a in (0.09, 0.05, 0.01, 0.0)]
    assert all(b > a > 0.0 for a, b in zip(costs[:-1], costs[1:], strict=True))


def test_without_feeds_companions_hear_the_user_longer_in_the_feed_surplus():
    """ODD 7.7: the day without feeds gives their share to the other options, companions
    included, so the day's being heard beyond the margin is worked out at the understood
    minutes scaled by 1 / (1 - feed share): the feed surplus moves by exactly the correction
    today less the one at the scaled minutes."""
    case = logit_case()
    n = case.users.n
    surplus = {}
    for understood in (0.0, 10.0):
        heard = HeardDay(np.full(n, understood), np.ones(n), np.full(n, 2.0))
        day = welfare.Day(
            np.ascontiguousarray(case.R),
            np.zeros((n, P)),
            compiled.per_user(case.availability, n),
            compiled.per_user(case.social_scale, n, 1),
            np.zeros((n, P)),
            IS_COMPANION,
            120.0,
            heard,
            25.0,
        )
        out = np.zeros((2, n))
        welfare.weigh(0, n, case.users, case.k, day, out)
        surplus[understood] = out.copy()
        beyond = np.array([beyond_margin(2.0, understood, 1.0, 25.0)] * n)
        feed_share = case.users.minutes[:, ~IS_COMPANION].sum(axis=1) / case.budget
        scaled = np.array([beyond_margin(2.0, understood / (1 - s), 1.0, 25.0) for s in feed_share])
        # the feed surplus moves by the correction today less the one at the scaled minutes
        shift = (beyond - scaled) / paying(case.k)
        np.testing.assert_allclose(out[0] - surplus[0.0][0], shift, rtol=1e-9, atol=1e-12)
    # at full unmet need (need * heard(x) - x) falls with x: the scaled correction is lower,
    # so the feed surplus is higher than with the correction held at today's minutes
    has_feeds = case.users.minutes[:, ~IS_COMPANION].sum(axis=1) > 0
    assert (surplus[10.0][0][has_feeds] > surplus[0.0][0][has_feeds]).all()
