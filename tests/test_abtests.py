"""Providers' A/B tests (sim.model.abtests, ODD 7.9): by simulation of synthetic test windows, a
lever with no effect moves in at most ``false_move_rate`` of windows (familywise over the sides
and the levers tested together) and not far less; a real effect moves it most of the time, in
the right direction, and an effect equal to the logged MDE four times in five. Then the log and
the long-term holdout in a small model."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from scipy.stats import norm

import sim
from sim.model import EconomyModel, abtests, policies, sequential
from sim.model.abtests import ABTest, critical_z, detectable_effect, judge
from sim.model.policies import POLICIES

ALPHA = 0.05
USERS, SHARE, COHORT = 1000, 0.2, 0.7  # users per window, share per treatment arm, cohort share
VALUES, CURRENT = (0.0, 2.0), 1.0  # (lowered, raised) and the control's value


def arms(rng, n: int) -> np.ndarray:
    """Arm -1 below SHARE, +1 below twice it, else 0, as ``propose`` draws them."""
    draw = rng.random(n)
    return (draw < 2 * SHARE).astype(np.int8) - 2 * (draw < SHARE).astype(np.int8)


def windows(
    levers: int, count: int, effect: float = 0.0, seed: int = 0, noise=None, correction_se=0.0
):
    """``count`` synthetic windows with ``levers`` concurrent tests on independent arms and one
    per-user change in the objective; the raised side of every lever adds ``effect`` (0: no
    lever has any effect). With ``correction_se`` > 0 each test is judged with a long-run
    correction per unit of lever estimated with that se around a true value of 0 (a lever
    with no long-run effect either). Returns the values kept, (count, levers), NaN where none
    was."""
    rng = np.random.default_rng(seed)
    z_crit = critical_z(ALPHA, levers)
    kept = np.full((count, levers), np.nan)
    for w in range(count):
        change = rng.standard_normal(USERS) if noise is None else noise(rng, USERS)
        cohort = rng.random(USERS) < COHORT
        for k in range(levers):
            arm = arms(rng, USERS)
            correction = (correction_se * rng.standard_normal(), correction_se)
            _, value = judge(
                change + effect * (arm == 1), arm, cohort, VALUES, CURRENT, z_crit, correction
            )
            kept[w, k] = np.nan if value is None else value
    return kept


def se_of_effect(sd: float = 1.0) -> float:
    """The expected se of one side: sd * sqrt(1 / n_treated + 1 / n_control)."""
    n = USERS * COHORT
    return sd * np.sqrt(1 / (n * SHARE) + 1 / (n * (1 - 2 * SHARE)))


def test_the_threshold_is_bonferronis_one_sided_normal_quantile():
    for alpha, levers in ((0.05, 1), (0.05, 5), (0.001, 4), (0.5, 2)):
        assert critical_z(alpha, levers) == pytest.approx(norm.ppf(1 - alpha / (2 * levers)))
    assert critical_z(0.05, 1) == pytest.approx(1.95996, abs=1e-5)
    assert detectable_effect(1.0, 1.96) == pytest.approx(1.96 + norm.ppf(0.8))


@pytest.mark.parametrize(
    ("levers", "count", "floor"),
    [(1, 4000, 0.01), (5, 1500, 0.02)],
)
def test_a_lever_without_effect_moves_in_at_most_the_false_move_rate_of_windows(
    levers, count, floor
):
    """The share of windows that move some lever is at most ALPHA (within three binomial se)
    and not absurdly conservative (the two sides share the control, so somewhat below)."""
    moved = np.isfinite(windows(levers, count, seed=levers)).any(axis=1)
    share, se = moved.mean(), np.sqrt(ALPHA * (1 - ALPHA) / count)
    assert share <= ALPHA + 3 * se, f"{share:.4f} of windows moved a lever with no effect"
    assert share > floor, f"only {share:.4f} of windows moved: the threshold is too strict"


@pytest.mark.parametrize("levers", [1, 4])
def test_a_lever_without_effect_judged_with_a_noisy_long_run_correction_moves_no_more(levers):
    """A lever with no effect, short or long run, whose tests are judged with a long-run
    correction estimated with noise (as large as the test's own se per unit of lever) still
    moves in at most ALPHA of windows: the correction's se widens the test's."""
    count = 3000 // levers
    moved = np.isfinite(windows(levers, count, seed=40 + levers, correction_se=0.1)).any(axis=1)
    assert moved.mean() <= ALPHA + 3 * np.sqrt(ALPHA * (1 - ALPHA) / count), moved.mean()
    assert moved.mean() > 0.01


def test_skewed_changes_keep_the_false_move_rate():
    """Changes in a skewed objective (many users near zero, a long right tail) still move a
    lever without effect in at most ALPHA of windows: the skewness-corrected z is close to
    normal."""

    def skewed(rng, n):
        return rng.exponential(1.0, n) * (rng.random(n) < 0.3)

    moved = np.isfinite(windows(1, 3000, seed=11, noise=skewed)).any(axis=1)
    assert moved.mean() <= ALPHA + 3 * np.sqrt(ALPHA * (1 - ALPHA) / 3000)


@pytest.mark.parametrize("levers", [1, 5])
def test_a_real_effect_of_a_few_se_moves_the_lever_most_of_the_time_the_right_way(levers):
    kept = windows(levers, 300, effect=4 * se_of_effect(), seed=20 + levers)
    assert (kept == VALUES[1]).mean() > 0.85
    assert (kept == VALUES[0]).mean() < 0.01


@pytest.mark.parametrize("levers", [1, 5])
def test_an_effect_equal_to_the_mde_is_found_four_times_in_five(levers):
    mde = detectable_effect(se_of_effect(), critical_z(ALPHA, levers))
    found = (windows(levers, 1000 // levers, effect=mde, seed=30 + levers) == VALUES[1]).mean()
    assert abs(found - 0.8) < 4 * np.sqrt(0.8 * 0.2 / 1000), found


def test_judgements_come_as_the_evidence_doubles_then_every_fourth_test_within_the_rate():
    assert [k for k in range(1, 29) if abtests.judgement(k)] == [1, 2, 4, 8, 12, 16, 20, 24, 28]
    assert [abtests.judgement(k) for k in (8, 12, 28)] == [4, 5, 9]
    assert sum(abtests.spent(k) for k in range(1, 10**5)) == pytest.approx(1.0, abs=1e-4)


def test_a_lever_without_effect_moves_over_all_its_looks_at_most_the_false_move_rate():
    """A lever's tests pool their evidence until it moves (``accumulated``), and the evidence
    is judged each time it doubles up to 8 tests, then at every 4th, at the group-sequential
    boundary of a shrinking share of the false-move rate (``sequential.boundary``): over 16
    windows a lever with no effect moves at most ALPHA of the time, and more often than with
    the Bonferroni thresholds over the judgements, which take the correlated looks as
    unrelated. Judged at every window at the full rate, the same pooled evidence would move it
    far more often."""
    count, looks = 1500, 16
    rate = abtests.side_rate(ALPHA, 1)
    rng = np.random.default_rng(8)
    moved, bonferroni, peeked = (np.zeros(count, bool) for _ in range(3))
    for n in range(count):
        known = None
        for _ in range(looks):
            cohort = rng.random(USERS) < COHORT
            arm = arms(rng, USERS)
            sides = abtests.sides_of(rng.standard_normal(USERS), arm, cohort, VALUES, CURRENT)
            known = abtests.accumulated(known, CURRENT, VALUES, sides)
            j = abtests.judgement(known.looks)
            share = abtests.spent(known.looks)
            for z_crit, out in (
                (sequential.boundary(rate, j), moved),
                (critical_z(ALPHA * share, 1) if share else np.inf, bonferroni),
                (critical_z(ALPHA, 1), peeked),
            ):
                if abtests.choose(known.sides, VALUES, CURRENT, z_crit) is not None:
                    out[n] = True
    assert moved.mean() <= ALPHA + 3 * np.sqrt(ALPHA * (1 - ALPHA) / count), moved.mean()
    assert moved.mean() > bonferroni.mean() > 0.01, (moved.mean(), bonferroni.mean())
    assert peeked.mean() > 3 * ALPHA, peeked.mean()


def test_evidence_pooled_over_windows_finds_an_effect_too_small_for_one():
    """The raised side pays about 1.3 of its se in each window: a provider that pools a lever's
    tests until it moves finds it within 16 windows far more often than one that judges each
    window alone; the lever's evidence starts afresh once it moves."""
    windows_run, runs = 16, 40
    found = {True: 0, False: 0}
    for pools in (True, False):
        for seed in range(runs):
            p, _, model = fake(effect=0.0, seed=seed)
            rng = np.random.default_rng(100 + seed)
            n = p.window.shape[1]
            for _ in range(windows_run):
                arm = arms(rng, n)
                p.window[0] = 5.0 + rng.standard_normal(n) + 0.053 * (arm == 1)
                test = ABTest("ad_load", (0.055, 0.145), arm, np.ones(n, bool), 7, family=8)
                if not pools:
                    p.evidence.clear()
                if abtests.conclude(p, test, model):
                    assert "ad_load" not in p.evidence
                    found[pools] += p.levers["ad_load"] == 0.145
                    break
            else:
                assert not pools or p.evidence["ad_load"].looks == windows_run
    assert found[True] >= 0.8 * runs and found[True] > found[False] + 0.25 * runs, found


# -- conclude: the log, in the objective's units per user-day ----------------------------------
def fake(interval: int = 7, effect: float = 1.4, seed: int = 3, lowered: float = 0.0, rest=4):
    """A provider and model with one finished test window whose raised side adds ``effect``
    to every treated user's window sum (and the lowered side ``lowered``)."""
    rng = np.random.default_rng(seed)
    n = 4000
    arm = arms(rng, n)
    cohort = np.ones(n, bool)
    window = np.zeros((2, n))
    window[0] = 5.0 + rng.standard_normal(n) + effect * (arm == 1) + lowered * (arm == -1)
    p = SimpleNamespace(
        name="feed_a",
        window=window,
        levers={"ad_load": 0.1},
        tests_run=0,
        tests_kept=0,
        test_log=[],
        corrections={},
        evidence={},
        rests={},
        profit_committed=0.0,
        policy=POLICIES["attention"],
    )
    adaptation = SimpleNamespace(false_move_rate=ALPHA, interval=interval, rest=rest)
    params = SimpleNamespace(adaptation=adaptation)
    model = SimpleNamespace(params=params, day=2 * interval - 1)
    test = ABTest("ad_load", (0.055, 0.145), arm, cohort, start=interval, family=4)
    return p, test, model


def test_conclude_moves_the_lever_and_logs_the_test_per_user_day():
    p, test, model = fake()
    assert abtests.conclude(p, test, model)
    assert p.levers["ad_load"] == 0.145 and (p.tests_run, p.tests_kept) == (1, 1)
    (r,) = p.test_log
    assert (r.provider, r.lever, r.day, r.current, r.kept) == ("feed_a", "ad_load", 14, 0.1, 0.145)
    # a first look at the lever's evidence spends half the false-move rate of its 4 tests
    assert r.z_crit == pytest.approx(norm.ppf(1 - ALPHA / 2 / 8)) and r.looks == 1
    assert r.effect[1] == pytest.approx(1.4 / 7, rel=0.1) and abs(r.effect[0]) < 0.03
    # z is the effect in se, corrected for a skewness of the difference that is nil here but
    # for sampling
    assert r.z[1] == pytest.approx(r.effect[1] / r.se[1], rel=0.01)
    assert r.mde == pytest.approx((r.z_crit + norm.ppf(0.8)) * max(r.se))
    assert r.level == pytest.approx(5.0 / 7, rel=0.01)


def test_conclude_keeps_nothing_without_evidence_and_figures_sum_it_up():
    p, test, model = fake(effect=0.0)
    assert not abtests.conclude(p, test, model)
    assert p.levers["ad_load"] == 0.1 and p.test_log[0].kept is None
    q, test, _ = fake(seed=4)
    abtests.conclude(q, test, model)
    figures = abtests.figures_of_tests(p.test_log + q.test_log, ALPHA)
    assert figures["tests_run"] == 2 and figures["tests_moved_share"] == 0.5
    assert figures["tests_moved_by_chance_max"] == pytest.approx(ALPHA / 2 / 4)
    assert figures["test_mde_median"] == pytest.approx(
        np.median([p.test_log[0].mde, q.test_log[0].mde])
    )
    assert set(figures) == set(abtests.SUMMARY)


# -- settled sides rest ----------------------------------------------------------------------
def test_sides_judged_worse_rest_twice_as_long_each_time_they_settle_again():
    p, test, model = fake(effect=-1.4, lowered=-1.4)
    assert not abtests.conclude(p, test, model)
    (r,) = p.test_log
    assert r.settled == (True, True) and r.kept is None and max(r.z) < -r.z_crit
    assert p.rests["ad_load", 0] == abtests.Rest(0.1, 14 + 4 * 7, 4) == p.rests["ad_load", 1]
    assert "ad_load" not in p.evidence  # nothing left to pool
    assert abtests.resting_sides(p, "ad_load", 41) == (True, True)
    assert abtests.resting_sides(p, "ad_load", 42) == (False, False)
    p.levers["ad_load"] = 0.145  # at another value the rests do not apply
    assert abtests.resting_sides(p, "ad_load", 20) == (False, False)
    p.levers["ad_load"] = 0.1
    abtests.conclude(p, test, model)  # settled again at the same value
    assert p.rests["ad_load", 0].length == 8
    assert abtests.figures_of_tests(p.test_log, ALPHA)["tests_settled_share"] == 1.0
    for _ in range(3):  # and again: twice as long, up to LONGEST_REST times the first
        abtests.conclude(p, test, model)
    assert p.rests["ad_load", 1].length == abtests.LONGEST_REST * 4


def test_a_side_worse_rests_alone_and_the_other_keeps_its_evidence():
    p, test, model = fake(effect=-1.4, lowered=0.0)
    abtests.conclude(p, test, model)
    assert p.test_log[0].settled == (False, True) and set(p.rests) == {("ad_load", 1)}
    evidence = p.evidence["ad_load"]
    assert evidence.sides[1] is None and evidence.sides[0] is not None and evidence.looks == 1


@pytest.mark.parametrize("lowered", [0.0, 1.4])
def test_a_side_not_worse_keeps_being_tested(lowered):
    p, test, model = fake(effect=0.0, lowered=lowered)
    abtests.conclude(p, test, model)
    assert p.test_log[0].settled == (False, False) and not p.rests


def test_without_rests_a_settled_lever_is_tested_every_window():
    p, test, model = fake(effect=-1.4, lowered=-1.4, rest=0)
    abtests.conclude(p, test, model)
    assert p.test_log[0].settled == (False, False) and not p.rests
    assert p.evidence["ad_load"].looks == 1


def test_a_side_better_in_the_long_run_does_not_settle():
    worse = abtests.Side(-1.0, 0.1, -10.0)
    # lowering by 0.1 is worse now (z -10) but, with a correction of -20 per unit of lever,
    # better in the long run (-1 + 2 = +1): only the raised side settles
    assert abtests.settled((worse, worse), (0.0, 0.2), 0.1, 2.0, (-20.0, 0.1)) == (False, True)
    assert abtests.settled((worse, worse), (0.0, 0.2), 0.1, 2.0, (20.0, 0.1)) == (True, False)
    # a correction too small to turn either side: both settle
    assert abtests.settled((worse, worse), (0.0, 0.2), 0.1, 2.0, (0.5, 0.1)) == (True, True)


def test_between_judgements_nothing_settles():
    worse = abtests.Side(-1.0, 0.1, -10.0)
    assert abtests.settled((worse, worse), (0.0, 0.2), 0.1, 2.0) == (True, True)
    assert abtests.settled((worse, worse), (0.0, 0.2), 0.1, float("inf")) == (False, False)
    assert abtests.settled((None, worse), (0.1, 0.2), 0.1, 2.0) == (False, True)


# -- a small model: the log and the long-term holdout ------------------------------------------
def small(holdout: float, days: int = 36, **sets) -> EconomyModel:
    sets = {
        "adaptation.interval": 7,
        "adaptation.holdout_share": holdout,
        "run.summary_window": 20,
        "market.companion_launch_day": 5,
        **sets,
    }
    params, _ = sim.resolve("mixed", users=400, days=days, seed=2, sets=sets)
    return EconomyModel(params)


def test_a_resting_side_gets_no_arm_and_a_lever_resting_on_both_no_test_but_its_long_test():
    m = small(0.0, days=60)
    feed = next(p for p in m.providers if p.kind == "feed")
    while m.day < 6:  # the first window closes at the end of day 6
        m.step()
    assert "ad_load" in feed.tests
    current = feed.levers["ad_load"]
    feed.rests["ad_load", 1] = abtests.Rest(current, 14, 1)  # the raised side, one window
    m.step()  # day 7
    while not abtests.window_closes(feed, m):
        m.step()
    test = feed.tests["ad_load"]  # the window of days 7-13: the raised side rested
    assert (test.arm == 1).sum() == 0 and (test.arm == -1).sum() > 0
    feed.rests["ad_load", 0] = abtests.Rest(current, 10_000, 1)  # now both sides
    feed.rests["ad_load", 1] = abtests.Rest(current, 10_000, 1)
    for _ in range(7):
        m.step()
    assert "ad_load" not in feed.tests and "ad_load" in feed.long_tests
    assert "hooks" in feed.tests


def test_a_lever_that_moves_ends_its_rests_and_one_that_returns_does_not_find_them_again():
    p = SimpleNamespace(levers={"ad_load": 0.16, "hooks": 1.0}, rests={})
    p.rests = {
        ("ad_load", 0): abtests.Rest(0.1, 10_000, 8),
        ("hooks", 0): abtests.Rest(1.0, 10_000, 4),
    }
    abtests.end_rests_of_moved(p, {"ad_load": 0.1, "hooks": 1.0})  # ad load moved this window
    assert set(p.rests) == {("hooks", 0)}
    p.levers["ad_load"] = 0.1  # and comes back: tested, and a new settle starts at the first rest
    assert abtests.resting_sides(p, "ad_load", 0) == (False, False)
    assert abtests.rest_after(p.rests.get(("ad_load", 0)), 0.1, 0, 4, 56).length == 4


def test_a_lever_at_a_bound_rests_when_its_one_movable_side_does():
    p = SimpleNamespace(LEVERS={"hooks": (0.0, 1.0)}, levers={"hooks": 1.0}, rests={})
    assert not abtests.resting(p, "hooks", 0, 0.2)
    p.rests["hooks", 0] = abtests.Rest(1.0, 56, 4)
    assert abtests.resting(p, "hooks", 0, 0.2) and not abtests.resting(p, "hooks", 56, 0.2)
    p.levers["hooks"] = 0.5  # off the bound, one side resting is not enough
    p.rests["hooks", 0] = abtests.Rest(0.5, 56, 4)
    assert not abtests.resting(p, "hooks", 0, 0.2)


def test_the_holdout_stays_on_the_launch_levers_in_no_arm_and_its_effect_is_measured():
    """With reviews off the holdout stays on the launch levers all run and only measures."""
    m = small(0.2, **{"adaptation.holdout_review": 0})
    objective = {p.name: np.zeros(m.users.n) for p in m.providers}  # J summed over the window
    before = {p.name: np.zeros(m.users.n) for p in m.providers}
    start = m.params.run.days - m.params.run.summary_window
    while m.running:
        m.step()
        for p in m.providers:
            assert p.holdout is not None and 0.1 < p.holdout.mean() < 0.3
            assert 0.1 < p.reference.mean() < 0.3 and not (p.holdout & p.reference).any()
            # today's J per user: the window's growth, or what the window that closed today
            # (now in the baseline of the next tests) had grown to since yesterday
            d = m.day + 1
            closed = d > p.launch_day and (d - p.launch_day) % 7 == 0
            now = p.window[0]
            today = (p.baseline.before if closed else now) - before[p.name]
            if m.day >= start:
                objective[p.name] += today
            before[p.name] = now.copy()
            j = p.column
            for lever, launch in p.holdout_levers.items():
                values = np.broadcast_to(m.today.levers[lever], m.users.minutes.shape)[:, j]
                assert (values[p.holdout] == launch).all(), (p.name, lever)
            for t in p.tests.values():  # the holdout and the reference are in no test
                out = p.holdout | p.reference
                assert not (t.arm[out].any() or t.cohort[out].any())
    assert any(p.levers != p.holdout_levers for p in m.providers), "no lever ever moved"
    assert not any(p.reviews for p in m.providers)
    for p in m.providers:  # every lever tested in each window (L), long tests ending in some
        L = len(p.LEVERS)
        assert p.test_log and {r.family for r in p.test_log} <= {L, 2 * L}
    out = abtests.summary(m)
    for p in m.providers:
        days = m.params.run.days - max(start, p.launch_day)
        x = objective[p.name] / days
        effect = x[p.reference].mean() - x[p.holdout].mean()
        assert out[f"{p.name}.holdout_effect"] == pytest.approx(effect, rel=1e-9, abs=1e-12)
        assert out[f"{p.name}.holdout_effect_se"] > 0
        assert out[f"{p.name}.holdout_objective"] == pytest.approx(x[p.holdout].mean())
    assert 0 <= out["tests_moved_share"] <= 1 and out["tests_run"] > 0
    assert out["tests_run"] == out["feed_tests_run"] + out["companion_tests_run"]
    assert out["test_mde_median"] > 0


def test_a_tests_cohort_takes_in_the_users_who_join_while_it_runs_but_no_held_out_user():
    """ODD 7.9, intention to treat: the cohort is the provider's users at the start and every
    user it gains while the test runs, in their arm from the day they join."""
    m = small(0.2, days=60, **{"adaptation.holdout_review": 0})
    joiners = 0
    while m.running:
        m.step()
        for p in m.providers:
            users = m.users.adopted[:, p.column]
            for t in [*p.tests.values(), *p.long_tests.values()]:
                out = p.holdout | p.reference
                assert not t.cohort[out].any() and not t.eligible[out].any()
                assert (t.cohort >= (users & t.eligible)).all(), "a user today outside the cohort"
                joined = m.users.adopted_day[:, p.column] > t.start
                joiners += int((t.cohort & users & joined).sum())
    assert joiners > 0, "no one joined a provider while a test ran, so the test shows nothing"


def test_without_a_holdout_nothing_is_kept_for_it_nor_reported():
    m = small(0.0, days=15)
    m.run_model()
    assert all(p.holdout is None and p.objective_total is None for p in m.providers)
    out = abtests.summary(m)
    assert not any(key.endswith(tuple(abtests.SUMMARY_BY_PROVIDER)) for key in out)
    assert out["holdout_reviews"] == out["holdout_rollbacks"] == 0
    # feeds conclude their 4 tests at the end of day 13; companions (launched on day 5) none yet
    assert (out["tests_run"], out["feed_tests_run"], out["companion_tests_run"]) == (8, 8, 0)
    assert np.isnan(out["companion_tests_moved_share"]) and 0 <= out["tests_moved_share"] <= 1


def test_the_lever_tables_with_a_holdout_and_limits_are_the_providers_levers_limited(
    monkeypatch,
):
    """Each day, once the day's levers are built, their int8 codes give every user the value
    ``Provider.lever`` gives (test arm, the holdout's value), limited by the
    interventions in force: the cached tables are rebuilt whenever they should be."""
    import dataclasses

    from sim.model import economy
    from sim.model.interventions import Intervention

    def check(model, today):
        n, P = model.users.n, len(model.providers)
        for name in model.lever_names:
            columns = [np.broadcast_to(p.lever(name), (n,)) for p in model.providers]
            wanted = today.constraints.limit_lever(name, np.column_stack(columns))
            got = np.broadcast_to(today.levers[name], (n, P))
            assert np.array_equal(got, np.broadcast_to(wanted, (n, P))), (model.day, name)
        checked.append(model.day)

    def checked_after(step):
        def run(model, today):
            step.run(model, today)
            check(model, today)

        return dataclasses.replace(step, run=run)

    schedule = [checked_after(s) if s.name == "interventions" else s for s in economy.SCHEDULE]
    monkeypatch.setattr(economy, "SCHEDULE", tuple(schedule))
    checked = []
    ivs = [
        Intervention("ad_load_cap", start=3, share=0.5, providers="feeds", value=0.08),
        Intervention("set_lever", lever="hooks", value=0.9, share=0.3, providers="companions"),
    ]
    sets = {"adaptation.interval": 5, "adaptation.holdout_share": 0.2, "adaptation.step": 0.3}
    params, _ = sim.resolve("mixed", users=300, days=30, seed=4, sets=sets)
    m = EconomyModel(params, ivs)
    m.run_model()
    assert checked == list(range(30))
    assert any(r.kept is not None for p in m.providers for r in p.test_log), "nothing moved"
    assert all(p.reviews or p.levers == p.holdout_levers for p in m.providers)


# -- reviews against the long-term holdout -------------------------------------------------------
def _reviewed(m, p, holdout_better: float, rng, x=None) -> bool:
    """Review provider ``p`` after moving a lever, with each user's objective per day since
    the last review ``x``, by default drawn as noise, the holdout's raised by
    ``holdout_better``; whether it rolled back."""
    days = 4 * m.params.adaptation.interval
    lo, hi = p.LEVERS["hooks"]
    p.holdout_levers = dict(p.levers, hooks=lo)
    p.levers = dict(p.levers, hooks=hi)
    p.holdout_since = m.day + 1 - days
    x = rng.normal(1.0, 1.0, m.users.n) if x is None else x
    x = x + holdout_better * p.holdout
    p.since_review[:] = x * days
    reviews = len(p.reviews)
    abtests.review(p, m, m.day + 1)
    assert len(p.reviews) == reviews + 1
    return p.reviews[-1].rolled_back


def test_a_review_rolls_back_changes_that_made_the_objective_worse_and_keeps_the_rest():
    m = small(0.2, days=3)
    m.run_model()
    p = m.providers[0]
    rng = np.random.default_rng(5)
    old = p.holdout.copy()
    # evidence gathered at the levers' values: what the rollback moves starts afresh
    kept = abtests.Evidence(p.levers["ad_load"], (0.0, 0.2), 3, (None, None))
    p.evidence = {"hooks": kept._replace(current=p.LEVERS["hooks"][1]), "ad_load": kept}
    assert _reviewed(m, p, 1.0, rng)  # the holdout did far better: back to its levers
    assert p.levers["hooks"] == p.LEVERS["hooks"][0] == p.holdout_levers["hooks"]
    assert p.evidence == {"ad_load": kept}
    assert not (p.holdout == old).all() and p.holdout_since == m.day + 1  # drawn afresh
    assert not p.since_review.any()
    assert not _reviewed(m, p, -1.0, rng)  # the changes did better: kept
    assert p.levers["hooks"] == p.LEVERS["hooks"][1] == p.holdout_levers["hooks"]


def test_reviews_roll_back_changes_with_no_effect_at_most_at_the_false_move_rate():
    """Kept changes that made no difference are rolled back in about false_move_rate of
    reviews (one-sided), not more."""
    m = small(0.2, days=3)
    m.run_model()
    p = m.providers[0]
    rng = np.random.default_rng(11)
    trials = 1000
    rate = np.mean([_reviewed(m, p, 0.0, rng) for _ in range(trials)])
    alpha = m.params.adaptation.false_move_rate
    assert rate <= alpha + 3 * np.sqrt(alpha * (1 - alpha) / trials)
    assert rate >= alpha - 3 * np.sqrt(alpha * (1 - alpha) / trials)  # and the test can act


def test_a_review_takes_out_what_where_users_stood_as_the_holdout_was_drawn_predicts():
    """Users' objective since the last review is mostly where they stood as the holdout was
    drawn (standing, objective before, worth): the review compares what that does not
    predict, so its se is that of the rest (within 15%), a tenth of the raw comparison's, and
    it sees a harm of 3 of its se that the raw comparison could not."""
    m = small(0.2, days=3)
    m.run_model()
    p = m.providers[0]
    rng = np.random.default_rng(17)
    n = m.users.n
    standing = rng.integers(0, abtests.STANDINGS, n).astype(np.int8)
    before, worth = rng.normal(0.0, 3.0, n), rng.exponential(10.0, n)
    p.holdout_baseline = abtests.Baseline(before, standing, worth)
    held, reference = p.holdout.copy(), p.reference.copy()
    rest = 0.5 * np.sqrt(1 / held.sum() + 1 / reference.sum())  # se of what nothing predicts
    x = np.array([0.0, 5.0, 20.0, 80.0])[standing] + 0.7 * before + 0.1 * worth
    x = x + rng.normal(0.0, 0.5, n)
    raw = abtests.compare(x, reference, held)
    assert _reviewed(m, p, 3 * rest, rng, x)  # the holdout did better by 3 se: rolled back
    review = p.reviews[-1]
    assert review.se == pytest.approx(rest, rel=0.15)
    assert raw.se > 10 * review.se
    assert review.effect == pytest.approx(-3 * rest, abs=3 * rest)


def test_the_holdout_is_drawn_with_where_users_stand_and_its_effect_adjusted_for_it():
    """A review snapshots where users stand as it draws the fresh holdout (the window that
    closes, standing, worth), and the holdout effect reported compares what that does not
    predict: its se is that of the rest, a tenth of the raw comparison's."""
    m = small(0.2, days=3)
    m.run_model()
    p = m.providers[0]
    rng = np.random.default_rng(29)
    n = m.users.n
    p.window[0] = rng.normal(0.0, 1.0, n)
    closing = p.window[0].copy()
    _reviewed(m, p, 0.0, rng)
    assert np.array_equal(p.holdout_baseline.before, closing)
    assert np.array_equal(p.holdout_baseline.standing, policies.standing(p.state))
    standing = rng.integers(0, abtests.STANDINGS, n).astype(np.int8)
    before, worth = rng.normal(0.0, 3.0, n), rng.exponential(10.0, n)
    p.holdout_baseline = abtests.Baseline(before, standing, worth)
    x = np.array([0.0, 5.0, 20.0, 80.0])[standing] + 0.7 * before + 0.1 * worth
    x = x + rng.normal(0.0, 0.5, n)
    p.holdout_since = p.launch_day
    days = m.day + 1 - max(abtests.summary_start(m), p.launch_day)
    p.window[0] = 0.0
    p.objective_total = x * days  # the days of the summary window since the draw
    effect, se, level = abtests.holdout_effect(p, m)
    rest = 0.5 * np.sqrt(1 / p.holdout.sum() + 1 / p.reference.sum())
    assert se == pytest.approx(rest, rel=0.15)
    assert abtests.compare(x, p.reference, p.holdout).se > 10 * se
    assert abs(effect) < 4 * se
    assert level == pytest.approx(x[p.holdout].mean())


def test_what_the_tests_arms_cost_their_users_is_not_in_a_review():
    """Users in the tests' arms do worse (each arm is on a setting believed worse or no
    better), which goes on whatever a review decides: the review compares the holdout with its
    reference group, in no test either, so a cost of testing of 20 times the review's se, with
    no effect of the changes kept, neither rolls them back nor shows in the effect."""
    m = small(0.2, days=3)
    m.run_model()
    p = m.providers[0]
    rng = np.random.default_rng(23)
    n = m.users.n
    se = np.sqrt(1 / p.holdout.sum() + 1 / p.reference.sum())
    x = rng.normal(1.0, 1.0, n) - 20 * se * ~(p.holdout | p.reference)
    assert not _reviewed(m, p, 0.0, rng, x)
    assert abs(p.reviews[-1].z) < 3


def test_a_run_reviews_every_few_windows_and_reports_the_reviews():
    m = small(0.2, days=60, **{"adaptation.holdout_review": 2})
    m.run_model()
    feeds = [p for p in m.providers if p.kind == "feed"]
    # feeds launch on day 0: windows of 7 days, a review every 14 days: days 14, 28, 42, 56
    for p in feeds:
        assert p.holdout_since == 56
    out = abtests.summary(m)
    reviews = sum(len(p.reviews) for p in m.providers)
    assert out["holdout_reviews"] == reviews <= 4 * len(m.providers)
    assert out["holdout_rollbacks"] == sum(r.rolled_back for p in m.providers for r in p.reviews)


# -- long tests: slow effects enter decisions ------------------------------------------------------
def _slow_harm(long_tests: bool, seed: int = 7, known=None) -> list[float]:
    """A lever whose raised side pays within a short test (+0.5 per user over a window) and
    costs over a long one (-0.05 per user-day a step up, +0.05 a step down). Four short
    windows, then (with ``long_tests``) the long test that ran beside them concludes, then four
    more short windows. ``known``: a correction of the lever learned before, if any. Returns
    the lever after each step, and the provider."""
    rng = np.random.default_rng(seed)
    n, interval, share = 4000, 7, 0.1
    draw = rng.random(n)
    long_arm = (draw < 2 * share).astype(np.int8) - 2 * (draw < share).astype(np.int8)
    p = SimpleNamespace(
        name="feed_a",
        LEVERS={"hooks": (0.0, 1.0)},
        levers={"hooks": 0.4},
        window=np.zeros((2, n)),
        tests_run=0,
        tests_kept=0,
        test_log=[],
        corrections={} if known is None else {"hooks": known},
        evidence={},
        rests={},
        profit_committed=0.0,
        long_log=[],
        long_total=np.zeros(n),
        policy=POLICIES["attention"],
        holdout=np.zeros(n, bool),  # a holdout (empty here) on the levers of the last review
        holdout_levers={"hooks": 0.4},
    )
    adaptation = SimpleNamespace(
        false_move_rate=ALPHA, interval=interval, step=0.2, holdout_review=4, rest=4
    )
    model = SimpleNamespace(params=SimpleNamespace(adaptation=adaptation), day=0)
    path = [p.levers["hooks"]]

    def short_window(day: int) -> None:
        current = p.levers["hooks"]
        values = (max(0.0, current - 0.2), min(1.0, current + 0.2))
        arm = arms(rng, n)
        arm[long_arm != 0] = 0
        cohort = long_arm == 0
        p.window[0] = 5.0 + rng.standard_normal(n) + 0.5 * (arm == 1) - 0.5 * (arm == -1)
        model.day = day - 1
        abtests.conclude(p, ABTest("hooks", values, arm, cohort, day - interval), model)
        path.append(p.levers["hooks"])

    start = interval
    for w in range(2, 6):
        short_window(w * interval)
    if long_tests:
        day = 5 * interval
        before = np.full(n, 5.0 / interval)
        stood = abtests.Baseline(np.full(n, 5.0), np.ones(n, np.int8), np.zeros(n))
        test = abtests.LongTest("hooks", long_arm, np.ones(n, bool), stood, start)
        change = 0.1 * rng.standard_normal(n) - 0.05 * (long_arm == 1) + 0.05 * (long_arm == -1)
        p.long_total[:] = (before + change) * (day - start)
        abtests.conclude_long(p, test, model, day)
        path.append(p.levers["hooks"])
    for w in range(6, 10):
        short_window(w * interval)
    return path, p


def test_a_change_that_pays_now_and_costs_later_is_undone_with_long_tests_and_not_without():
    without, p = _slow_harm(long_tests=False)
    assert without[-1] == 1.0 and without == sorted(without)  # short tests only raise it
    assert p.holdout_levers == {"hooks": 0.4}  # what short tests keep waits for a review
    with_long, p = _slow_harm(long_tests=True)
    # the short tests raised it to 1.0; the long test takes it a step back down and teaches
    # the correction, after which the short tests, which still see the raise pay now, no
    # longer raise it (nor lower it: lowering costs now)
    assert with_long[4] == 1.0 and with_long[5] == pytest.approx(0.8)
    assert all(v == pytest.approx(0.8) for v in with_long[5:])
    # the holdout does not take up the long test's move: short tests moved the lever since
    # the last review (0.4 to 1.0), and the review is still to judge where it now stands
    assert p.holdout_levers == {"hooks": 0.4}


@pytest.mark.parametrize("review", [4, 0])
def test_the_holdout_takes_up_a_long_tests_move_of_a_lever_no_short_test_moved(review):
    """A long test's move, judged over as many days as a review's, is taken up by a holdout
    that reviews and holds the lever where the long test found it; a holdout that only
    measures (no reviews) stays on the launch levers."""
    p = SimpleNamespace(holdout=np.zeros(4, bool), holdout_levers={"hooks": 0.4, "ad_load": 0.1})
    model = SimpleNamespace(
        params=SimpleNamespace(adaptation=SimpleNamespace(holdout_review=review))
    )
    assert abtests.taken_up(p, "hooks", 0.4, model) == (review > 0)
    assert not abtests.taken_up(p, "hooks", 0.6, model)  # a short test moved it since
    assert not abtests.taken_up(SimpleNamespace(holdout=None), "hooks", 0.4, model)


def test_the_long_run_correction_is_the_long_slope_less_the_short_slope():
    _, p = _slow_harm(long_tests=True)
    (r,) = p.long_log
    assert (r.lever, r.current, r.kept) == ("hooks", 1.0, pytest.approx(0.8))
    assert np.isnan(r.effect[1])  # at the top of its range: no side above
    # long slope: +0.05 a step (0.2) down, -0.25 per unit; short slope +0.5 / 7 a step up
    assert r.correction == pytest.approx(-0.25 - 0.5 / 7 / 0.2, abs=0.03)
    assert p.corrections["hooks"] == (r.correction, r.correction_se) and r.correction_se > 0
    # a correction learned before is pooled with the new one by precision, not replaced
    _, q = _slow_harm(long_tests=True, known=(0.0, r.correction_se))
    (s,) = q.long_log
    c, se = q.corrections["hooks"]
    assert se == pytest.approx(s.correction_se / np.sqrt(2), rel=0.05)
    assert c == pytest.approx(s.correction / 2, rel=0.05)
    later = [t for t in p.test_log if t.day > 5 * 7]
    assert all(t.correction == r.correction for t in later)
    # judged z: the raised side's long-run z, below the threshold its short-run z passes
    judged = [t for t in later if np.isfinite(t.z_crit)]
    assert judged and all(t.z[1] < t.z_crit < t.effect[1] / t.se[1] for t in judged)


def test_a_correction_the_long_tests_cannot_tell_from_zero_vetoes_no_move():
    """The raised side pays 0.2 a user-day now. A long-run correction that would undo it (-10
    per unit of lever: -0.45 a user-day a step) vetoes the move once the long tests tell it
    from zero (|c| / se 2.0, just past the two-sided 1.96 at alpha 0.05), and is not used just
    short of that (1.9), well below the tests' Bonferroni threshold (2.5)."""
    for se, moved in ((10.0 / 2.0, False), (10.0 / 1.9, True)):
        p, test, model = fake()
        p.corrections["ad_load"] = (-10.0, se)
        assert abtests.conclude(p, test, model) is moved
        (r,) = p.test_log
        assert r.correction == (0.0 if moved else -10.0)
        assert r.z[1] == pytest.approx(r.effect[1] / r.se[1], rel=0.01) if moved else r.z[1] < 0


def test_each_long_test_adds_its_correction_to_the_earlier_ones_by_precision():
    p = SimpleNamespace(corrections={})
    abtests.learn_correction(p, "hooks", -0.4, 0.2)
    assert p.corrections["hooks"] == (-0.4, 0.2)
    abtests.learn_correction(p, "hooks", 0.2, 0.2)  # as precise: the mean, se / sqrt(2)
    c, se = p.corrections["hooks"]
    assert c == pytest.approx(-0.1) and se == pytest.approx(0.2 / np.sqrt(2))
    abtests.learn_correction(p, "hooks", 5.0, 100.0)  # all but no information
    assert p.corrections["hooks"][0] == pytest.approx(-0.1, abs=1e-4)


def test_a_run_with_long_tests_starts_them_after_the_first_window_and_reports_them():
    """Long tests (ODD 7.9) start when a provider's first window closes, last
    ``long_windows`` windows, and every provider concludes one per lever each time."""
    m = small(0.1, days=40, **{"adaptation.long_share": 0.05, "adaptation.long_windows": 2})
    m.run_model()
    feeds = [p for p in m.providers if p.kind == "feed"]
    for p in feeds:  # windows close on days 7, 14, ...: long tests run from 7 to 21, 21 to 35
        assert {r.day for r in p.long_log} == {21, 35}
        assert len(p.long_log) == 2 * len(p.LEVERS)
        (test,) = {t.start for t in p.long_tests.values()}
        assert test == 35
        # Bonferroni over every test a window concludes: the short tests alone in most
        # windows, short and long together where long tests end
        both = critical_z(ALPHA, 2 * len(p.LEVERS))
        assert all(r.z_crit == pytest.approx(both) for r in p.long_log)
        for r in p.test_log:
            family = 2 * len(p.LEVERS) if r.day in (21, 35) else len(p.LEVERS)
            assert r.family == family, r.day
            rate = abtests.side_rate(ALPHA, family)
            assert r.z_crit == pytest.approx(sequential.boundary(rate, abtests.judgement(r.looks)))
    out = abtests.summary(m)
    assert out["long_tests_run"] == sum(len(p.long_log) for p in m.providers)
    assert out["long_tests_moved"] == sum(
        r.kept is not None for p in m.providers for r in p.long_log
    )
    default = small(0.1, days=40)  # the default: long tests for every policy
    default.run_model()
    assert all(p.long_log for p in default.providers)
    assert {p.policy.name for p in default.providers} >= {"intimacy", "attention"}
    off = small(0.1, days=40, **{"adaptation.long_share": 0.0})
    off.run_model()
    assert all(not p.long_log and not p.long_tests for p in off.providers)


def test_a_free_tier_steps_by_ratios_closes_below_a_session_and_opens_at_one():
    """ODD 7.9: the free tier's tested values are its value divided and multiplied by (most /
    session) ** step, so a tier of a few minutes can be found; below a session it closes."""
    factor = (240.0 / 3.0) ** 0.2
    low, high = abtests.tier_steps(101.5, 240.0, 0.2, 3.0)
    assert low == pytest.approx(101.5 / factor) and high == 240.0
    assert abtests.tier_steps(0.0, 240.0, 0.2, 3.0) == (0.0, 3.0)
    assert abtests.tier_steps(3.0, 240.0, 0.2, 3.0) == (0.0, pytest.approx(3.0 * factor))
    # five steps down from the launch tier pass through tiers of a few minutes
    tier, seen = 101.5, []
    while tier > 0:
        tier = abtests.tier_steps(tier, 240.0, 0.2, 3.0)[0]
        seen.append(tier)
    assert any(3.0 <= t <= 10.0 for t in seen) and seen[-1] == 0.0
    # a companion's test of its free tier tries those values; other levers step linearly
    params, _ = sim.resolve("intimacy_economy", users=50, days=2, seed=1)
    m = EconomyModel(params)
    p = next(p for p in m.providers if p.kind == "companion")
    p.levers["free_minutes"], p.levers["price"] = 20.0, 10.0
    tier = abtests.tested_values(p, "free_minutes", 0.2)
    assert tier == pytest.approx((20.0 / factor, 20.0 * factor))
    assert abtests.tested_values(p, "price", 0.2) == pytest.approx((4.0, 16.0))
    # effects per unit of lever are per log minute of the tier: every ratio step is one unit
    # wide wherever the tier is, and the door (a session to closed) has no width
    tier, price = abtests.scale_of(p, "free_minutes"), abtests.scale_of(p, "price")
    assert tier(40.0) - tier(20.0) == pytest.approx(tier(200.0) - tier(100.0))
    assert tier(3.0) - tier(0.0) == 0.0
    assert price(16.0) - price(10.0) == pytest.approx(6.0)


def baseline_and_objective(rng, n: int, noise: float = 1.0):
    """Where ``n`` users stood (standing, worth, objective before) and an objective over the
    test that their start predicts, with ``noise`` it does not: the intimacy objective's kind,
    whose window moves back from the one before (slope -0.1) and with what a user's
    relationship was worth."""
    standing = rng.integers(0, abtests.STANDINGS, n).astype(np.int8)
    worth = rng.exponential(5.0, n) * (standing > 0)
    before = rng.normal(0.0, 3.0, n)
    objective = 2.0 * standing - 0.4 * worth - 0.1 * before + noise * rng.standard_normal(n)
    return abtests.Baseline(before, standing, worth), objective


def test_the_adjustment_takes_out_all_that_the_start_predicts():
    rng = np.random.default_rng(1)
    baseline, objective = baseline_and_objective(rng, 3000, noise=0.0)
    cohort = rng.random(3000) < 0.8
    residual = abtests.adjusted(objective, cohort, baseline)
    assert np.abs(residual).max() < 1e-9
    assert abtests.adjusted(objective, cohort, None) is objective  # no baseline: as measured


def test_adjusted_tests_keep_the_false_move_rate_and_find_effects_with_a_smaller_se():
    """Windows with no effect, judged on the adjusted objective, move a lever in at most ALPHA
    of them; with an effect, its estimate is unbiased and its se is what the start does not
    predict (noise sd 1), and is the spread the estimates have."""
    rng = np.random.default_rng(2)
    count, effect = 2000, 0.15
    z_crit = critical_z(ALPHA, 1)
    moved, estimates, se, raw = 0, [], [], []
    for _ in range(count):
        baseline, objective = baseline_and_objective(rng, USERS)
        cohort = rng.random(USERS) < COHORT
        arm = arms(rng, USERS)
        change = abtests.adjusted(objective, cohort, baseline)
        moved += judge(change, arm, cohort, VALUES, CURRENT, z_crit)[1] is not None
        treated = objective + effect * (arm == 1)
        sides = abtests.sides_of(
            abtests.adjusted(treated, cohort, baseline), arm, cohort, VALUES, CURRENT
        )
        estimates.append(sides[1].effect)
        se.append(sides[1].se)
        raw.append(abtests.sides_of(treated, arm, cohort, VALUES, CURRENT)[1].se)
    share, binomial = moved / count, np.sqrt(ALPHA * (1 - ALPHA) / count)
    assert 0.01 < share <= ALPHA + 3 * binomial, share
    assert abs(np.mean(estimates) - effect) < 4 * np.mean(se) / np.sqrt(count)
    assert np.std(estimates) == pytest.approx(np.mean(se), rel=0.06)
    assert np.mean(se) == pytest.approx(se_of_effect(), rel=0.05)
    assert np.mean(raw) > 2 * np.mean(se)  # unadjusted, what the start predicts is noise


def skewed_losses(rng, n: int) -> np.ndarray:
    """An objective with a skewed spread: most users near their mean, 3% with a large loss (as
    the rare users who leave book what their relationship was worth)."""
    return rng.standard_normal(n) - 6.0 * (rng.random(n) < 0.03)


@pytest.mark.parametrize("noise", [skewed_losses, lambda rng, n: -skewed_losses(rng, n)])
def test_small_arms_of_a_skewed_objective_keep_the_false_move_rate(noise):
    """Long tests' arms (5% each, 90% control) of a skewed objective, eight levers at once, no
    effect: some lever moves in at most ALPHA of windows. Judged by the small arm's own spread
    (Welch) and the normal quantile, the same windows move one in several times ALPHA."""
    rng = np.random.default_rng(7)
    count, n, share, levers = 1500, 3000, 0.05, 8
    z_crit = critical_z(ALPHA, levers)
    moved = welch = 0
    for _ in range(count):
        change = noise(rng, n)
        kept = welch_kept = False
        for _ in range(levers):
            draw = rng.random(n)
            arm = (draw < 2 * share).astype(np.int8) - 2 * (draw < share).astype(np.int8)
            kept |= judge(change, arm, np.ones(n, bool), VALUES, CURRENT, z_crit)[1] is not None
            c = change[arm == 0]
            for side in (-1, 1):
                t = change[arm == side]
                z = (t.mean() - c.mean()) / np.sqrt(t.var(ddof=1) / t.size + c.var(ddof=1) / c.size)
                welch_kept |= z > z_crit
        moved += kept
        welch += welch_kept
    binomial = np.sqrt(ALPHA * (1 - ALPHA) / count)
    assert 0.01 < moved / count <= ALPHA + 3 * binomial, moved / count
    if noise is skewed_losses:  # the small arm rarely holds a loss: Welch's spread is too small
        assert welch / count > 2 * ALPHA, welch / count


@pytest.mark.parametrize("gains", [False, True])
def test_a_bound_read_with_the_skewness_correction_holds_at_its_confidence(gains):
    """A side's effect read against a bound it exactly equals (a small arm of a skewed objective
    shifted by the bound) passes with confidence z in at most ALPHA of draws, and not far fewer.
    Without the correction, an objective skewed by rare large gains passes more often than
    ALPHA allows (as the wellbeing-aligned policy's break-even bound did, ODD 7.9)."""
    rng = np.random.default_rng(9)
    count, n, bound = 6000, 3000, -0.2
    z = norm.ppf(1 - ALPHA)
    held = normal = 0
    for _ in range(count):
        # 1% of users with a large gain (or loss): a heavier skew than a long test's losses
        change = rng.standard_normal(n) + (15.0 if gains else -15.0) * (rng.random(n) < 0.01)
        treated = rng.random(n) < 0.05
        side = abtests.compare(change + bound * treated, treated, ~treated)
        held += side.bound_holds(bound, z)
        normal += side.effect - z * side.se >= bound
    binomial = np.sqrt(ALPHA * (1 - ALPHA) / count)
    assert ALPHA - 4 * binomial < held / count <= ALPHA + 3 * binomial, held / count
    if gains:
        assert normal / count > ALPHA + 3 * binomial, normal / count
