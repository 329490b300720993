"""How providers adapt their levers: A/B tests on their own users (ODD 7.9).

Every ``interval`` days each provider ends its running tests and starts new ones. A test gives
one lever a ``step`` of its range lower to a random ``test_share`` of users and a step higher to
another ``test_share`` (an A/B/n test). With ``concurrent`` on, every lever is tested at once,
each with its own independent random arms (overlapping experiments, as large platforms run
them); off, one lever chosen at random is. At the end of a window the provider compares, for
each test and each side a (lowered, raised), the change in its objective J
(:mod:`sim.model.policies`) over the test window against the previous window (difference in
differences) between the side's arm and control, among users who were its users when the test
began (intention to treat):

    effect_a = mean dJ_a - mean dJ_control
    se_a     = sqrt(var dJ_a / n_a + var dJ_control / n_control)        (Welch)
    z_a      = effect_a / se_a

and keeps the side with the largest z_a when

    z_a > z_crit = Phi^-1(1 - false_move_rate / (2 m))

with m the number of levers tested in the window: a Bonferroni correction over the two sides and
the m levers, so that a window in which no lever has any effect moves some lever with
probability at most ``false_move_rate`` (the familywise rate). Each concluded test is logged
(:class:`ConcludedTest`, ``provider.test_log``) with its minimum detectable effect at 80% power,

    MDE = (z_crit + Phi^-1(0.8)) * max_a se_a,

the true effect a side needs for the test to keep it four times in five. Effects, se and MDE
are logged in the objective's own units per user-day (the window sums J over ``interval`` days).

Effects that take longer than ``interval`` days to show (habit, attachment, churn) are
invisible to a test: providers with short tests learn what pays now and can pay for it later.
A long-term holdout (Hohnhold, O'Brien & Tang 2015) sees them and lets them decide: a random
share ``adaptation.holdout_share`` of users (stream ``holdout:{provider}``, keyed by the day it
is drawn) stays on the levers of the provider's last review (its launch levers at first), in no
test's arms or cohort. Every ``adaptation.holdout_review`` windows the provider reviews the
changes it kept since: with x_i user i's objective per day since the review before,

    effect = mean(x | not holdout) - mean(x | holdout),   z = effect / se (Welch)

and when z < -Phi^-1(1 - false_move_rate) (the kept changes together made its objective worse,
one-sided at the same familywise rate as the tests) it rolls every lever back to the holdout's
values. Either way it then holds out a fresh random share on the levers it now has. With
``holdout_review`` 0 the holdout stays on the launch levers all run and only measures.
:func:`summary` reports the reviews, the rollbacks, and the mean objective per user-day of
everyone else minus the holdout's over the summary window since the holdout was drawn
(intention to treat, users of the provider or not), with its se.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

POWER = 0.8  # the power at which the minimum detectable effect is given
_NORMAL = NormalDist()


@dataclass
class ABTest:
    """One running A/B/n test of ``lever``: arm -1 gets ``values[0]``, arm +1 ``values[1]``,
    arm 0 (control) keeps the current value; ``family`` levers are tested in its window."""

    lever: str
    values: tuple[float, float]  # (lowered, raised)
    arm: np.ndarray  # (N,) int8 in {-1, 0, 1}
    cohort: np.ndarray  # (N,) bool, users of the provider when the test started
    start: int
    family: int = 1  # levers tested in the same window (m of the correction)


@dataclass(frozen=True)
class Side:
    """One side of a test against control: effect = mean(treated) - mean(control), its Welch
    se and z = effect / se, in the units of the compared values."""

    effect: float
    se: float
    z: float


@dataclass(frozen=True)
class Review:
    """A review of the changes kept since the last one against the long-term holdout: the
    effect of those changes on the objective per user-day, its se and z, and whether the
    provider rolled its levers back to the holdout's."""

    provider: str
    day: int
    effect: float
    se: float
    z: float
    rolled_back: bool


@dataclass(frozen=True)
class ConcludedTest:
    """A concluded test, as a reader of the run needs it. ``effect``, ``se`` and ``mde`` are in
    the objective's units per user-day, per side (lowered, raised; NaN for a side not compared);
    ``level`` is the control arm's mean objective per user-day; ``kept`` the value the lever
    moved to (None: unchanged)."""

    provider: str
    day: int  # d: the test's window closed at the end of day d - 1
    lever: str
    current: float  # the lever's value during the test (control)
    values: tuple[float, float]  # (lowered, raised)
    effect: tuple[float, float]
    se: tuple[float, float]
    z: tuple[float, float]
    family: int  # m: levers tested in the window
    z_crit: float
    mde: float  # the larger side's MDE at 80% power
    level: float
    kept: float | None


def critical_z(false_move_rate: float, levers: int) -> float:
    """One-sided threshold of each side, Bonferroni over the 2 sides of ``levers`` tests:
    z_crit = Phi^-1(1 - alpha / (2 m))."""
    return _NORMAL.inv_cdf(1.0 - false_move_rate / (2 * max(levers, 1)))


def detectable_effect(se: float, z_crit: float, power: float = POWER) -> float:
    """The minimum detectable effect: MDE = (z_crit + Phi^-1(power)) * se, the true effect
    that passes z_crit with probability ``power``."""
    return (z_crit + _NORMAL.inv_cdf(power)) * se


def compare(values: np.ndarray, treated: np.ndarray, control: np.ndarray) -> Side | None:
    """Welch comparison of the treated and control means of ``values`` (None when a group has
    fewer than 2 users): se = sqrt(var_t / n_t + var_c / n_c), z = effect / se (0 if se = 0)."""
    a, b = values[treated], values[control]
    if a.size < 2 or b.size < 2:
        return None
    effect = float(a.mean() - b.mean())
    se = float(np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size))
    return Side(effect, se, effect / se if se > 0 else 0.0)


def judge(change, arm, cohort, values, current, z_crit) -> tuple[tuple, float | None]:
    """Both sides of one test and the value to keep: the side with the largest z above
    ``z_crit``, or None. A side is not compared (None) when its value is the current one or a
    group has fewer than 2 users of the cohort."""
    control = cohort & (arm == 0)
    sides = tuple(
        None if value == current else compare(change, cohort & (arm == a), control)
        for a, value in ((-1, values[0]), (1, values[1]))
    )
    best, best_z = None, z_crit
    for side, value in zip(sides, values, strict=True):
        if side is not None and side.z > best_z:
            best, best_z = value, side.z
    return sides, best


def window_closes(p, model) -> bool:
    """Whether provider ``p``'s test window closes at the end of today."""
    day = model.day + 1
    return day > p.launch_day and (day - p.launch_day) % model.params.adaptation.interval == 0


def adapt(p, model) -> None:
    """Every day: at the end of each window conclude the running tests and start the next
    ones; keep the holdout's objective over the summary window."""
    day = model.day + 1  # the window closes at the end of today
    if window_closes(p, model):
        close_window(p, model, day)
    if p.objective_total is not None and day == summary_start(model):
        np.negative(p.window[0], out=p.objective_total)  # not the window's days before it


def close_window(p, model, day: int) -> None:
    """Conclude the running tests against the window, reset it, and start new tests."""
    ap = model.params.adaptation
    for test in p.tests.values():
        conclude(p, test, model)
    p.tests = {}
    if p.objective_total is not None and day > summary_start(model):
        p.objective_total += p.window[0]
    if p.since_review is not None:
        p.since_review += p.window[0]
        reviews = model.params.adaptation.holdout_review
        if reviews and (day - p.holdout_since) >= reviews * ap.interval:
            review(p, model, day)
    np.copyto(p.objective_before, p.window[0])
    p.window.fill(0.0)
    if model.params.mechanisms.adaptation and day < model.params.run.days:
        levers = list(p.LEVERS)
        if not ap.concurrent:
            levers = [levers[model.streams(f"adapt:{p.name}", day).integers(len(levers))]]
        p.tests = {lever: propose(p, lever, model, day, len(levers)) for lever in levers}


def propose(p, lever: str, model, day: int, family: int = 1):
    """Test ``lever`` a step lower and a step higher than now, on independent random arms;
    holdout users are in no arm and not in the cohort."""
    ap = model.params.adaptation
    lo, hi = p.LEVERS[lever]
    current, step = p.levers[lever], ap.step * (hi - lo)
    draw = model.streams(f"abtest:{p.name}:{lever}", day).random(model.users.n)
    # arm -1 (lowered) below test_share, +1 (raised) below twice it, else 0
    lowered, tested = draw < ap.test_share, draw < 2 * ap.test_share
    arm = tested.astype(np.int8) - 2 * lowered.astype(np.int8)
    cohort = model.users.adopted[:, p.column].copy()
    if p.holdout is not None:
        arm[p.holdout] = 0
        cohort &= ~p.holdout
    return ABTest(
        lever=lever,
        values=(max(lo, current - step), min(hi, current + step)),
        arm=arm,
        cohort=cohort,
        start=day,
        family=family,
    )


def conclude(p, t, model) -> bool:
    """Keep the better tested value when its z passes the corrected threshold; log the test."""
    ap = model.params.adaptation
    p.tests_run += 1
    change = p.window[0] - p.objective_before
    current = p.levers[t.lever]
    z_crit = critical_z(ap.false_move_rate, t.family)
    sides, kept = judge(change, t.arm, t.cohort, t.values, current, z_crit)
    p.test_log.append(log_entry(p, t, model, sides, z_crit, current, kept))
    if kept is None:
        return False
    p.levers[t.lever] = kept
    p.tests_kept += 1
    return True


def log_entry(p, t, model, sides, z_crit, current, kept) -> ConcludedTest:
    """The test's log entry, its effects in the objective's units per user-day (window sums
    divided by ``interval``)."""
    days = model.params.adaptation.interval
    nan = float("nan")
    effect = tuple(nan if s is None else s.effect / days for s in sides)
    se = tuple(nan if s is None else s.se / days for s in sides)
    z = tuple(nan if s is None else s.z for s in sides)
    compared = [s for s in se if s == s]
    control = t.cohort & (t.arm == 0)
    level = float(p.window[0][control].mean()) / days if control.any() else nan
    return ConcludedTest(
        provider=p.name,
        day=model.day + 1,
        lever=t.lever,
        current=current,
        values=t.values,
        effect=effect,
        se=se,
        z=z,
        family=t.family,
        z_crit=z_crit,
        mde=detectable_effect(max(compared), z_crit) if compared else nan,
        level=level,
        kept=kept,
    )


# -- the long-term holdout ------------------------------------------------------------------------
def holdout_users(model, name: str, day: int) -> np.ndarray | None:
    """The users held out from the provider's tests from ``day`` (its launch day, then each
    review's): a share ``adaptation.holdout_share``, stream ``holdout:{provider}`` keyed by
    the day; None when there is no holdout."""
    share = model.params.adaptation.holdout_share
    if share <= 0:
        return None
    return model.streams(f"holdout:{name}", day).random(model.users.n) < share


def summary_start(model) -> int:
    """The first day of the run's summary window."""
    prm = model.params.run
    return max(0, prm.days - prm.summary_window)


def holdout_effect(p, model) -> tuple[float, float, float]:
    """The holdout's measured slow effect: mean objective per user-day over the summary
    window since the holdout was drawn, of users outside it minus that of the holdout, its
    Welch se, and the holdout's mean (all NaN without a holdout or before the provider's
    launch):

        x_i = sum of J_i over the window's days since launch / those days
        effect = mean(x | not holdout) - mean(x | holdout)
    """
    nan = (float("nan"),) * 3
    if p.objective_total is None:
        return nan
    days = model.day + 1 - max(summary_start(model), p.launch_day, p.holdout_since)
    if days <= 0:
        return nan
    x = (p.objective_total + p.window[0]) / days
    side = compare(x, ~p.holdout, p.holdout)
    if side is None:
        return nan
    return side.effect, side.se, float(x[p.holdout].mean())


def review(p, model, day: int) -> None:
    """Review the changes kept since the last review against the holdout (module docstring):
    roll back to the holdout's levers when they made the objective significantly worse, then
    hold out a fresh share of users on the levers the provider now has."""
    days = day - p.holdout_since
    if p.levers != p.holdout_levers:
        side = compare(p.since_review / days, ~p.holdout, p.holdout)
        if side is not None:
            z_crit = _NORMAL.inv_cdf(1.0 - model.params.adaptation.false_move_rate)
            back = side.z < -z_crit
            if back:
                p.levers = dict(p.holdout_levers)
            effect, se = side.effect, side.se
            p.reviews.append(Review(p.name, day, effect, se, side.z, back))
    p.holdout_levers = dict(p.levers)
    p.holdout = holdout_users(model, p.name, day)
    p.holdout_since = day
    p.since_review.fill(0.0)
    if p.objective_total is not None:
        p.objective_total.fill(0.0)  # the summary compares the current holdout only


# -- run-level figures -----------------------------------------------------------------------------
SUMMARY = {
    "tests_run": "A/B tests concluded (whole run)",
    "tests_moved_share": "share of concluded tests that moved their lever (whole run)",
    "tests_moved_by_chance_max": "the most tests_moved_share can be if no lever had any effect: "
    "mean over tests of false_move_rate / m",
    "test_mde_median": "median minimum detectable effect at 80% power, objective per user-day",
    "test_mde_relative_median": "median of MDE / |control arm's mean objective per user-day|",
    "test_abs_z_median": "median |z| of the compared sides",
}
REVIEWS = {
    "holdout_reviews": "reviews of kept changes against the long-term holdout (whole run)",
    "holdout_rollbacks": "reviews that rolled the levers back to the holdout's (whole run)",
}
SUMMARY_BY_PROVIDER = {
    "holdout_effect": "objective per user-day of users outside the long-term holdout minus the "
    "holdout's (summary window)",
    "holdout_effect_se": "Welch se of holdout_effect",
    "holdout_objective": "the holdout's mean objective per user-day (summary window)",
}
SETS = ("", "feed_", "companion_")  # all providers, then by kind


def figures_of_tests(log: list[ConcludedTest], false_move_rate: float) -> dict[str, float]:
    """The :data:`SUMMARY` figures of a list of concluded tests (NaN when there are none)."""
    nan = float("nan")
    if not log:
        return {"tests_run": 0.0} | {k: nan for k in SUMMARY if k != "tests_run"}
    mde = np.array([r.mde for r in log])
    level = np.abs([r.level for r in log])
    z = np.abs([v for r in log for v in r.z])
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = mde / level
    finite = relative[np.isfinite(relative)]
    return {
        "tests_run": float(len(log)),
        "tests_moved_share": float(np.mean([r.kept is not None for r in log])),
        "tests_moved_by_chance_max": float(np.mean([false_move_rate / r.family for r in log])),
        "test_mde_median": float(np.nanmedian(mde)) if np.isfinite(mde).any() else nan,
        "test_mde_relative_median": float(np.median(finite)) if finite.size else nan,
        "test_abs_z_median": float(np.nanmedian(z)) if np.isfinite(z).any() else nan,
    }


def summary(model) -> dict[str, float]:
    """Run-level figures of the providers' experiments: :data:`SUMMARY` and :data:`REVIEWS` over all providers
    (no prefix) and by kind (``feed_``, ``companion_``), and with a long-term holdout
    :data:`SUMMARY_BY_PROVIDER` for each provider (``{provider}.holdout_effect``, ...)."""
    alpha = model.params.adaptation.false_move_rate
    out: dict[str, float] = {}
    for prefix in SETS:
        kind = prefix.rstrip("_")
        chosen = [p for p in model.providers if not kind or p.kind == kind]
        log = [r for p in chosen for r in p.test_log]
        out |= {prefix + k: v for k, v in figures_of_tests(log, alpha).items()}
        reviews = [r for p in chosen for r in p.reviews]
        out[prefix + "holdout_reviews"] = float(len(reviews))
        out[prefix + "holdout_rollbacks"] = float(sum(r.rolled_back for r in reviews))
    for p in model.providers:
        if p.objective_total is None:  # no holdout
            continue
        effect, se, level = holdout_effect(p, model)
        out |= {
            f"{p.name}.holdout_effect": effect,
            f"{p.name}.holdout_effect_se": se,
            f"{p.name}.holdout_objective": level,
        }
    return out
