"""How providers adapt their levers: A/B tests on their own users (ODD 7.9).

Every ``interval`` days each provider ends its running tests and starts new ones. A test gives
one lever a ``step`` of its range lower to a random ``test_share`` of users and a step higher to
another ``test_share`` (an A/B/n test). With ``concurrent`` on, every lever is tested at once,
each with its own independent random arms (overlapping experiments, as large platforms run
them); off, one lever chosen at random is. At the end of a window the provider compares, for
each test and each side a (lowered, raised), its objective J (:mod:`sim.model.policies`) over
the test window between the side's arm and control, among users who were its users when the
test began or joined while it ran (intention to treat), each user's J less what where they
stood when the test began predicts (:func:`adjusted`: a regression adjustment on the user's
J over the window before, their standing, never a user, free, paying or former, and what their
relationship was worth, none of which an arm can have moved; CUPED, Deng et al. 2013):

    J_i = a_g(i) + b_1 J_i(window before) + b_2 worth_i + e_i     (least squares, arms pooled)
    effect_a = mean e_a - mean e_control
    se_a     = sqrt(s^2 (1 / n_a + 1 / n_control)),   z_a = effect_a / se_a corrected for skewness

with s^2 the spread of e about each group's mean, pooled (:func:`compare`: as randomisation has
it under no effect). Newcomers are set against newcomers, so how many join an arm is not in its
effect (joining reads no offer; a rival's user deciding to switch does, ODD 7.9).

A window alone may be too small to see an effect that is there, and a lever that does not move
is tested again at the same values: its tests' evidence adds up, each side's effect pooled by
precision over the k tests since the lever last moved (:func:`accumulated`), z_a = pooled
effect / pooled se. The evidence is judged each time it has doubled up to k = 8 (k = 1, 2, 4, 8)
and at every 4th test after (k = 12, 16, ...: :func:`judgement`), the j-th time keeping the side
with the largest z_a when

    z_a > z_crit = c_j(false_move_rate / (2 m))

with m the number of tests concluding in the window (long tests included, below) and c_j(a) the
group-sequential boundary at which a side crosses at its j-th judgement, having crossed at none
before, with probability a / (j (j + 1)) under no effect (:func:`sim.model.sequential.boundary`:
the pooled z's of successive looks are correlated, so c_j is below the Bonferroni
Phi^-1(1 - a / (j (j + 1))); c_1 equals it): a Bonferroni correction over the two sides and the
m tests, and spending over the judgements of a lever's evidence, so that a window in which no
lever has any effect moves some lever with probability at most ``false_move_rate`` (the
familywise rate) and a lever with no effect moves over all its judgements with probability at
most ``false_move_rate / m``, for tests of equal information and a fixed m (ODD 7.9 gives what
unequal information and a changing m do to it).
A test costs the users in its arms: each arm is on a setting the provider believes worse or
no better, and a side tested every window keeps a ``test_share`` of its users there for good.
When a judgement finds a side worse than control (z_a < -z_crit both as measured and, with a
long-run correction in force, as a long-run estimate), that side is *settled* (:func:`settled`):
its pooled evidence is set aside and it rests, its arm left out of the lever's tests (its users
in control), for ``adaptation.rest`` windows, twice as long each time it is settled again at
the same value without the lever having moved, up to ``LONGEST_REST`` times that
(:func:`rest_after`), as a team stops re-running an experiment whose answer it knows and
re-checks it now and then. A lever whose every side that can move rests is not tested at all
(:func:`resting`). Its long tests go on, and a lever they or a review move starts afresh (its
rests end). With ``rest`` 0 every side is tested every window.
Each concluded test is logged (:class:`ConcludedTest`, ``provider.test_log``) with its minimum
detectable effect at 80% power,

    MDE = (z_crit + Phi^-1(0.8)) * max_a pooled se_a      (NaN where the evidence is not judged),

the true effect a side needs for the evidence to keep it four times in five. Effects, se and MDE
are logged in the objective's own units per user-day (the window sums J over ``interval`` days).
A policy may add to each user's change what the arm's relationship is worth beyond what the
window counts (:meth:`sim.model.policies.Policy.terminal`: an intimacy provider's tests of the
subscription's terms), with the error of estimating it (:class:`Credit`); that decides the test,
and the log keeps the effects as the window measured them.

Effects that take longer than ``interval`` days to show (habit, attachment, churn) are
invisible to a test: providers with short tests learn what pays now and can pay for it later.
A long-term holdout (Hohnhold, O'Brien & Tang 2015) sees them and lets them decide: a random
share ``adaptation.holdout_share`` of users (stream ``holdout:{provider}``, keyed by the day it
is drawn) stays on the levers of the provider's last review (its launch levers at first), in no
test's arms or cohort, and takes up what long tests (below) move where no short test has moved
the lever since the review (:func:`taken_up`): those moves were judged over the long run already.
As many users again, the *reference* group (:func:`hold_out`), are in no test either but on the
provider's levers as they move: against them, not against everyone else, the holdout shows what
the changes kept did, without what the tests' arms cost their users (each arm is on a setting
the provider believes worse or no better; that cost goes on whatever the review decides).
Every ``adaptation.holdout_review`` windows the provider reviews the changes it kept since: with
x_i user i's objective per day since the review before and e_i its residual on where the user
stood as the holdout was drawn (:func:`adjusted`, everyone in the cohort: their objective over
the window before, standing and worth, as a test's; none at launch),

    effect = mean(e | reference) - mean(e | holdout),   z, se by :func:`compare`

and when z < -Phi^-1(1 - false_move_rate) (the kept changes together made its objective worse,
one-sided at the same familywise rate as the tests) it rolls every lever back to the holdout's
values. Either way it then draws a fresh holdout and reference on the levers it now has. With
``holdout_review`` 0 the holdout stays on the launch levers all run and only measures.
:func:`summary` reports the reviews, the rollbacks, and the mean objective per user-day of
the reference minus the holdout's over the summary window since they were drawn (intention
to treat, users of the provider or not), with its se.

A holdout sees only the moves the short tests made; where the long run is best may lie where
short tests never go (fewer ads lose revenue within any eight weeks). *Long tests* look both
ways (Hohnhold et al. measured the long-run effect of ad load changes in long experiments and
corrected their short tests with it): with a long share above 0 (``adaptation.long_share``,
0.05 by default, for every policy; 0 leaves short tests alone, myopic providers) a provider also
runs, for ``adaptation.long_windows`` windows at a time, a test of every lever on its own
independent arms of that many users each (stream ``longtest:{provider}:{lever}``), a step
below and a step above the lever's current value (following it as short tests move it); those
users are in no short test of that lever. At its end, with the cohort its users at the start and
since (:func:`enrol`, as a short test's),

    x_i = sum of J_i over the long test / its days,   adjusted for where users stood as it began

(:func:`adjusted`, as a short test's) is compared between each side and control as the short tests
are (:func:`compare`, whose skewness correction matters most for a long test's small arms;
Bonferroni over the sides and levers); the provider moves the lever a step to the best side that
passes, and learns the lever's *long-run correction*: the long test's slope (effect per unit of
lever) less the short tests' slope of the same lever over the same days (the unselected effects of
every short test of it concluded meanwhile, precision-weighted), with its se, pooled by precision
with the corrections of the lever's earlier long tests. Once the pooled correction is told from
zero (two-sided, at ``false_move_rate``), a later short test of the lever keeps a side only when it
passes both as measured and as a long-run estimate, effect + correction * (tested - current)
(offsets on the lever's scale, :func:`scale_of`: a free tier's in log minutes)
with the se widened by the correction's se times the change: short tests keep what pays now
unless the long run says otherwise, and a correction the long tests cannot yet see vetoes
nothing. A test a policy credits beyond its window (an intimacy provider's tests of the
subscription's terms) is judged without the correction: the credit values those days already,
and the correction, learned from effects as measured, would count them again. Only long tests
move a lever against the short run (one step per long test). In a window in which long tests
also conclude (every ``long_windows``-th), m counts every test that concludes, short and long,
so that no window moves some lever with no effect with probability above ``false_move_rate``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import NamedTuple

import numpy as np

from sim.model.sequential import boundary, judgement, spent

POWER = 0.8  # the power at which the minimum detectable effect is given
TIER = "free_minutes"  # the lever tested by ratios (:func:`tier_steps`, :func:`scale_of`)
_NORMAL = NormalDist()


class Baseline(NamedTuple):
    """Where each user stood as a test began, which no arm of it can have moved (:func:`adjusted`):
    their objective summed over the window before, their ``standing`` with the provider (0
    never a user, 1 free, 2 paying, 3 former: :func:`sim.model.policies.standing`) and what
    their relationship was worth to it (:attr:`sim.model.policies.Provider.worth`)."""

    before: np.ndarray  # (N,)
    standing: np.ndarray  # (N,) int8
    worth: np.ndarray  # (N,)


STANDINGS = 4  # never a user, free, paying, former


def adjusted(objective: np.ndarray, cohort: np.ndarray, baseline: Baseline | None) -> np.ndarray:
    """Each cohort user's ``objective`` less what where they stood at the test's start predicts
    (0 outside the cohort; the objective itself without a ``baseline``): the residual e_i of

        J_i = a_g(i) + b_1 before_i + b_2 worth_i + e_i

    fitted by least squares on the cohort with every arm in it (a level a_g for each standing
    g, the same slopes for all). The covariates were fixed before any arm's setting applied, so
    the arms' mean residuals differ by the tested effect (to within O(1/n), the slopes being
    fitted with the treated users in), and their spread is what the start does not predict
    (Deng, Xu, Kohavi & Walker 2013: CUPED; Lin 2013). Newcomers, who enter the cohort by
    joining, are set against newcomers: what an arm does to them once in is in its effect, how
    many it draws in is not. The difference in differences, J_i - before_i, is the case a = 0,
    b_1 = 1, b_2 = 0; for an objective that counts changes in what relationships are worth it
    adds the window before's changes as noise (ODD 7.9)."""
    if baseline is None:
        return objective
    who = np.flatnonzero(cohort)
    group = baseline.standing[who]
    size = np.maximum(np.bincount(group, minlength=STANDINGS), 1)

    def within(x: np.ndarray) -> np.ndarray:  # less its standing's mean
        return x - (np.bincount(group, x, STANDINGS) / size)[group]

    y = within(objective[who])
    x = np.column_stack((within(baseline.before[who]), within(baseline.worth[who])))
    slopes = np.linalg.lstsq(x, y, rcond=None)[0]
    residual = np.zeros_like(objective)
    residual[who] = y - x @ slopes
    return residual


class Credit(NamedTuple):
    """What a policy adds to a test (:meth:`sim.model.policies.Policy.terminal`): each user's
    ``extra`` value; per side (lowered, raised) the ``variance`` of the arm's mean extra that
    comes from estimating it, common to the side's users and so not in the spread between them;
    and per side each user's ``influence`` on that estimate (its linearised share, in arm and
    control alike), through which the estimate's error moves with what the test measured."""

    extra: np.ndarray  # (N,)
    variance: tuple[float, float]
    influence: np.ndarray  # (2, N)

    def scaled(self, factor: float) -> Credit:
        """The credit in units ``factor`` times its own (a long test's: per day of it)."""
        return Credit(
            self.extra * factor,
            (self.variance[0] * factor**2, self.variance[1] * factor**2),
            self.influence * factor,
        )


@dataclass
class ABTest:
    """One running A/B/n test of ``lever``: arm -1 gets ``values[0]``, arm +1 ``values[1]``,
    arm 0 (control) keeps the current value; ``family`` tests conclude in its window."""

    lever: str
    values: tuple[float, float]  # (lowered, raised)
    arm: np.ndarray  # (N,) int8 in {-1, 0, 1}
    cohort: np.ndarray  # (N,) bool, users of the provider at the start or since (:func:`enrol`)
    start: int
    family: int = 1  # tests concluding in the same window, short and long (m of the correction)
    # (N, TALLIES) per user of the cohort while the test runs: free and paying days, conversions
    # and cancellations (:func:`sim.model.policies.tally_tiers`); None until a policy keeps them
    tallies: np.ndarray | None = None
    eligible: np.ndarray | None = None  # (N,) bool, who may enter the cohort; None: everyone
    baseline: Baseline | None = None  # where users stood as it began (None: not adjusted)


@dataclass
class LongTest:
    """One running long test of ``lever``: arm -1 a step below the current value, +1 a step
    above (following the current value), for ``long_windows`` windows from ``start``;
    ``baseline`` is where each user stood as it began (:func:`adjusted`)."""

    lever: str
    arm: np.ndarray  # (N,) int8 in {-1, 0, 1}
    cohort: np.ndarray  # (N,) bool, as ABTest's
    baseline: Baseline | None
    start: int
    family: int = 1
    tallies: np.ndarray | None = None  # as ABTest's
    eligible: np.ndarray | None = None  # as ABTest's


@dataclass(frozen=True)
class LongResult:
    """A concluded long test: per side (lowered, raised) the offset from the current value,
    the effect per user-day, its se and z; the long-run correction it taught (per user-day
    per unit of lever) with its se; the value the lever moved to (None: unchanged)."""

    provider: str
    day: int
    lever: str
    current: float
    offsets: tuple[float, float]
    effect: tuple[float, float]
    se: tuple[float, float]
    z: tuple[float, float]
    z_crit: float
    correction: float
    correction_se: float
    kept: float | None


@dataclass(frozen=True)
class Side:
    """One side of a test against control: effect = mean(treated) - mean(control), its se and
    its z, the effect in se corrected for the ``skew`` of its distribution (:func:`compare`),
    in the units of the compared values."""

    effect: float
    se: float
    z: float
    skew: float = 0.0

    def bound_holds(self, bound: float, z: float) -> bool:
        """Whether the effect exceeds ``bound`` with confidence: (effect - bound) / se,
        corrected for the skew as z is (:func:`unskewed`), at least ``z``."""
        if self.se <= 0:
            return self.effect >= bound
        return unskewed((self.effect - bound) / self.se, self.skew) >= z


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
    family: int  # m: tests concluding in the window, short and long
    z_crit: float
    mde: float  # the larger side's MDE at 80% power
    level: float
    kept: float | None
    correction: float = 0.0  # the lever's long-run correction it was judged with, per unit
    looks: int = 1  # tests of the lever at this value whose evidence it was judged on
    settled: tuple[bool, bool] = (False, False)  # sides judged worse, which then rest


def side_rate(false_move_rate: float, levers: int) -> float:
    """The rate at which one side of one of ``levers`` tests may move a lever with no effect,
    Bonferroni over the 2 sides of each: alpha / (2 m)."""
    return false_move_rate / (2 * max(levers, 1))


def critical_z(false_move_rate: float, levers: int) -> float:
    """One-sided threshold of each side judged once, Bonferroni over the 2 sides of ``levers``
    tests: z_crit = Phi^-1(1 - alpha / (2 m))."""
    return _NORMAL.inv_cdf(1.0 - side_rate(false_move_rate, levers))


def detectable_effect(se: float, z_crit: float, power: float = POWER) -> float:
    """The minimum detectable effect: MDE = (z_crit + Phi^-1(power)) * se, the true effect
    that passes z_crit with probability ``power``."""
    return (z_crit + _NORMAL.inv_cdf(power)) * se


def compare(
    values: np.ndarray,
    treated: np.ndarray,
    control: np.ndarray,
    variance: float = 0.0,
    influence: np.ndarray | None = None,
) -> Side | None:
    """The treated and control means of ``values`` compared as randomisation has them under no
    effect (None when a group has fewer than 2 users): both groups' users are then alike, so
    the difference of means has variance and third cumulant

        se^2 = s^2 (1 / n_t + 1 / n_c),     k_3 = m_3 (1 / n_t^2 - 1 / n_c^2)

    with s^2 and m_3 the variance and third central moment of the values about their own group's
    mean, pooled over both groups, and z is the effect in se, corrected for the skewness
    g = k_3 / se^3 of its distribution (:func:`unskewed`). The spread of a small arm alone
    understates the spread of a skewed objective more often than not (a long test's 5% arm
    rarely holds one of the rare large losses that users leaving book): its own variance (Welch)
    made such a test keep a side without effect two to five times as often as its threshold
    allows. When the values carry
    an estimate common to the side's users (a :class:`Credit`) whose error each user's
    ``influence`` linearises, the moments are those of values + influence, which hold the
    estimate's covariance with the groups' means and its error from users' differences, with the
    estimate's model ``variance`` in place of the influence's own where it is the larger (few
    events):

        se^2 = s^2(values + influence) (1 / n_t + 1 / n_c) + max(0, variance - own),
        own  = s^2(influence) (1 / n_t + 1 / n_c)."""
    t, c = values[treated], values[control]
    if t.size < 2 or c.size < 2:
        return None
    effect = float(t.mean() - c.mean())
    sizes = 1 / t.size + 1 / c.size
    if influence is not None:
        it, ic = influence[treated], influence[control]
        variance = max(0.0, variance - pooled_moments(it, ic)[0] * sizes)
        t, c = t + it, c + ic
    s2, m3 = pooled_moments(t, c)
    se = float(np.sqrt(s2 * sizes + variance))
    if se <= 0:
        return Side(effect, se, 0.0)
    skew = m3 * (1 / t.size**2 - 1 / c.size**2) / se**3
    return Side(effect, se, unskewed(effect / se, skew), skew)


def pooled_moments(t: np.ndarray, c: np.ndarray) -> tuple[float, float]:
    """The variance and third central moment of two groups' values about their own group's
    mean, pooled (the variance with n_t + n_c - 2 degrees of freedom)."""
    squares = cubes = 0.0
    for x in (t, c):
        deviation = x - x.mean()
        square = deviation * deviation
        squares += float(square.sum())
        cubes += float(square @ deviation)
    n = t.size + c.size
    return squares / (n - 2), cubes / n


def unskewed(z: float, skew: float) -> float:
    """A standardised difference ``z`` whose distribution has skewness ``g = skew``, mapped to
    the standard normal quantile of the same tail: the Cornish-Fisher expansion to the first
    order in the skewness, z - c (z^2 - 1) with c = g / 6, made monotone by a cubic term that
    completes a square (as Hall 1992 does for the t statistic):

        z' = z + c - c z^2 + (c^2 / 3) z^3,        dz'/dz = (1 - c z)^2 >= 0."""
    c = skew / 6.0
    return z + c - c * z * z + c * c * z**3 / 3.0


def corrected(side: Side, correction: tuple[float, float], offset: float) -> Side:
    """A short test's side as a long-run estimate: the lever's long-run correction ``(c,
    se_c)`` (per unit of lever, in the side's units) times the tested ``offset`` added to the
    effect, its se widened by ``se_c * offset``."""
    c, c_se = correction
    if c == 0.0 and c_se == 0.0:
        return side
    effect = side.effect + c * offset
    se = float(np.hypot(side.se, c_se * offset))
    return Side(effect, se, effect / se if se > 0 else 0.0)


def judged_z(side: Side, correction: tuple[float, float], offset: float) -> float:
    """The z a side is judged by: the smaller of its short-run z and its long-run z
    (:func:`corrected`); without a correction, its z."""
    return min(side.z, corrected(side, correction, offset).z)


def judge(
    change,
    arm,
    cohort,
    values,
    current,
    z_crit,
    correction=(0.0, 0.0),
    allowed=(True, True),
    credit: Credit | None = None,
    scale=None,
) -> tuple[tuple, float | None]:
    """Both sides of one test (as judged) and the value to keep: the side with the largest
    judged z above ``z_crit``, or None. A side's judged z is the smaller of its z as measured
    and its z once the lever's long-run ``correction`` is applied (:func:`corrected`): it must
    pay within the test and, as far as the lever's long test showed, in the long run. A side is
    not compared (None) when its value is the current one or a group has fewer than 2 users of
    the cohort; a side the policy does not allow (``allowed``, e.g. one that would put a
    wellbeing-aligned provider's book into loss) is compared but never kept. A policy's
    ``credit`` is added to each user's change and its estimation error to each side's se."""
    sides = sides_of(change, arm, cohort, values, current, credit)
    return sides, choose(sides, values, current, z_crit, correction, allowed, scale)


def choose(sides, values, current, z_crit, correction=(0.0, 0.0), allowed=(True, True), scale=None):
    """The value of the side with the largest judged z (:func:`judged_z`) above ``z_crit``
    among those compared and ``allowed``, or None; offsets from ``current`` are taken on the
    lever's ``scale`` (:func:`scale_of`; None: the value itself)."""
    scale = scale or _itself
    best, best_z = None, z_crit
    for side, value, ok in zip(sides, values, allowed, strict=True):
        if side is None or not ok:
            continue
        z = judged_z(side, correction, scale(value) - scale(current))
        if z > best_z:
            best, best_z = value, z
    return best


def sides_of(change, arm, cohort, values, current, credit: Credit | None = None) -> tuple:
    """Both sides of a test against control (:func:`compare`), with a policy's ``credit``
    added to the change (its estimation error to the se) if any: None for a side whose value is
    the current one or whose group has fewer than 2 users of the cohort."""
    control = cohort & (arm == 0)
    if credit is not None:
        change = change + credit.extra
    sides = []
    for row, (a, value) in enumerate(((-1, values[0]), (1, values[1]))):
        if value == current:
            sides.append(None)
            continue
        error = (0.0, None) if credit is None else (credit.variance[row], credit.influence[row])
        sides.append(compare(change, cohort & (arm == a), control, *error))
    return tuple(sides)


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


def long_due(p, model, day: int) -> bool:
    """Whether long tests end and start at the window that closes at the end of today: the
    first window after launch, then every ``long_windows`` windows."""
    ap = model.params.adaptation
    closed = (day - p.launch_day) // ap.interval  # windows closed, today's included
    return ap.long_share > 0 and (closed - 1) % ap.long_windows == 0


def close_window(p, model, day: int) -> None:
    """Conclude the running long tests (when due) and short tests against the window, reset
    it, and start new tests."""
    ap = model.params.adaptation
    moved, before = set(), dict(p.levers)
    p.profit_committed = 0.0
    long_ends = bool(p.long_tests) and long_due(p, model, day)
    ending = [*p.tests.values(), *(p.long_tests.values() if long_ends else ())]
    for t in ending:  # Bonferroni over every test the window concludes
        t.family = len(ending)
    if p.long_tests:
        p.long_total += p.window[0]
        if long_ends:
            moved = {t.lever for t in p.long_tests.values() if conclude_long(p, t, model, day)}
            p.long_tests = {}
            for lever in moved:  # its short tests' evidence was of its old value
                p.evidence.pop(lever, None)
    for test in p.tests.values():
        if test.lever not in moved:  # a lever a long test just moved: the long run decides
            conclude(p, test, model)
    p.tests = {}
    if p.objective_total is not None and day > summary_start(model):
        p.objective_total += p.window[0]
    if p.since_review is not None:
        p.since_review += p.window[0]
        reviews = model.params.adaptation.holdout_review
        if reviews and (day - p.holdout_since) >= reviews * ap.interval:
            review(p, model, day)
    end_rests_of_moved(p, before)
    p.baseline = p.standing_now()  # where users stand as the next tests begin
    p.window.fill(0.0)
    if model.params.mechanisms.adaptation and day < model.params.run.days:
        if long_due(p, model, day) and not p.long_tests:
            p.long_tests = {lever: propose_long(p, lever, model, day) for lever in p.LEVERS}
            p.long_total.fill(0.0)
        levers = [lever for lever in p.LEVERS if not resting(p, lever, day, ap.step)]
        if levers and not ap.concurrent:
            levers = [levers[model.streams(f"adapt:{p.name}", day).integers(len(levers))]]
        p.tests = {lever: propose(p, lever, model, day) for lever in levers}


def kept_out(p, arm: np.ndarray) -> np.ndarray:
    """Put the provider's holdout and its reference group in no arm of a test's ``arm`` (in
    place); returns who may be in its cohort: everyone else."""
    if p.holdout is None:
        return np.ones(arm.shape, bool)
    out = p.holdout | p.reference
    arm[out] = 0
    return ~out


def propose(p, lever: str, model, day: int):
    """Test ``lever`` a step lower and a step higher than now, on independent random arms;
    the holdout and its reference group are in no arm and not in the cohort."""
    ap = model.params.adaptation
    draw = model.streams(f"abtest:{p.name}:{lever}", day).random(model.users.n)
    # arm -1 (lowered) below test_share, +1 (raised) below twice it, else 0
    lowered, tested = draw < ap.test_share, draw < 2 * ap.test_share
    arm = tested.astype(np.int8) - 2 * lowered.astype(np.int8)
    for side, rests in zip((-1, 1), resting_sides(p, lever, day), strict=True):
        if rests:  # a settled side's arm stays on the current value, in control
            arm[arm == side] = 0
    eligible = kept_out(p, arm)
    long = p.long_tests.get(lever)
    if long is not None:  # users in the lever's long test are in none of its short tests
        arm[long.arm != 0] = 0
        eligible &= long.arm == 0
    return ABTest(
        lever=lever,
        values=tested_values(p, lever, ap.step),
        arm=arm,
        cohort=model.users.adopted[:, p.column] & eligible,
        start=day,
        eligible=eligible,
        baseline=p.baseline,
    )


def enrol(p, newcomers: np.ndarray) -> None:
    """Provider ``p``'s users who started using it today (``newcomers``, indices) enter the
    cohort of each of its tests running, short and long, where eligible: a test counts everyone
    who used the provider while it ran (its users at the start are in it from the start), so
    what an arm does to its newcomers after they join (a closed tier's door) is in its effect;
    who joins is not (joining reads no offer, ODD 7.11)."""
    for test in (*p.tests.values(), *p.long_tests.values()):
        if test is not None:
            joined = newcomers if test.eligible is None else newcomers[test.eligible[newcomers]]
            test.cohort[joined] = True


def conclude(p, t, model) -> bool:
    """Add the test to what the lever's tests have shown since it last moved
    (:func:`accumulated`) and keep the better tested value when the accumulated evidence
    passes the threshold of its judgement (:func:`sim.model.sequential.boundary`); log the
    test."""
    ap = model.params.adaptation
    p.tests_run += 1
    change = adjusted(p.window[0], t.cohort, t.baseline)
    current = p.levers[t.lever]
    profit = profit_test(p, t.arm, t.cohort, ap.interval)
    allowed = p.policy.admissible(p, profit, confidence_z(ap.false_move_rate))
    measured = sides_of(change, t.arm, t.cohort, t.values, current)
    credit = p.policy.terminal(p, model, t)  # a terms test's arms valued on their own terms
    judged = (
        measured if credit is None else sides_of(change, t.arm, t.cohort, t.values, current, credit)
    )
    # a credit values the days after the window already: the long-run correction, learned
    # from effects as measured, would count them again
    c, c_se = (
        (0.0, 0.0) if credit is not None else correction_in_force(p, t.lever, ap.false_move_rate)
    )
    correction = (c * ap.interval, c_se * ap.interval)  # per user-day, to the window's units
    evidence = accumulated(p.evidence.get(t.lever), current, t.values, judged)
    z_crit = boundary(side_rate(ap.false_move_rate, t.family), judgement(evidence.looks))
    kept = choose(
        evidence.sides, t.values, current, z_crit, correction, allowed, scale_of(p, t.lever)
    )
    rests = (False, False)
    if kept is None and ap.rest > 0:
        rests = settled(evidence.sides, t.values, current, z_crit, correction, scale_of(p, t.lever))
    # the log and the long-run corrections keep the effects as the window measured them
    p.test_log.append(log_entry(p, t, model, measured, evidence, z_crit, kept, correction, rests))
    if kept is None:
        day = model.day + 1
        for side, rests_now in enumerate(rests):
            if rests_now:
                known = p.rests.get((t.lever, side))
                p.rests[t.lever, side] = rest_after(known, current, day, ap.rest, ap.interval)
        sides = tuple(None if r else e for r, e in zip(rests, evidence.sides, strict=True))
        if any(sides):
            p.evidence[t.lever] = evidence._replace(sides=sides)
        else:  # nothing left to pool: the lever starts afresh when it is tested again
            p.evidence.pop(t.lever, None)
        return False
    commit(p, profit, t.values, kept)
    p.levers[t.lever] = kept
    p.evidence.pop(t.lever, None)
    p.tests_kept += 1
    return True


class Rest(NamedTuple):
    """A settled side's rest: the lever's ``value`` it was settled at, the ``day`` it is
    tested again, and the rest's ``length`` in windows."""

    value: float
    day: int
    length: int


def settled(sides, values, current, z_crit, correction=(0.0, 0.0), scale=None) -> tuple:
    """Which sides (lowered, raised) evidence settles at ``current``: those compared and worse
    than control both as measured and, with a correction in force, as a long-run estimate
    (:func:`corrected`), the larger of the two z below ``-z_crit`` (none between judgements,
    where ``z_crit`` is infinite)."""
    scale = scale or _itself
    return tuple(
        side is not None
        and math.isfinite(z_crit)
        and max(side.z, corrected(side, correction, scale(value) - scale(current)).z) < -z_crit
        for side, value in zip(sides, values, strict=True)
    )


LONGEST_REST = 4  # a rest is at most this many times ``adaptation.rest`` windows


def rest_after(known: Rest | None, current: float, day: int, windows: int, interval: int) -> Rest:
    """The rest of a side settled at the lever's value ``current`` on ``day``: ``windows``
    windows, or twice the side's last rest's length (at most ``LONGEST_REST`` times
    ``windows``) when that settled it at the same value and the lever has not moved since."""
    length = windows
    if known is not None and known.value == current:
        length = min(2 * known.length, LONGEST_REST * windows)
    return Rest(current, day + length * interval, length)


def end_rests_of_moved(p, before: dict[str, float]) -> None:
    """End the rests of both sides of every lever of ``p`` whose value differs from
    ``before``: a lever that moved (by a test, a long test or a review) starts afresh."""
    for lever, value in before.items():
        if p.levers[lever] != value:
            for side in (0, 1):
                p.rests.pop((lever, side), None)


def resting_sides(p, lever: str, day: int) -> tuple[bool, bool]:
    """Which sides (lowered, raised) of ``lever`` of provider ``p`` rest on ``day``: settled at
    its present value and within their rest."""
    current = p.levers[lever]
    return tuple(
        (rest := p.rests.get((lever, side))) is not None
        and rest.value == current
        and day < rest.day
        for side in (0, 1)
    )


def resting(p, lever: str, day: int, step_share: float) -> bool:
    """Whether ``lever`` rests entirely on ``day``: some side rests and every side that could
    move it (not at a bound, :func:`tested_values`) does."""
    sides = resting_sides(p, lever, day)
    movable = [v != p.levers[lever] for v in tested_values(p, lever, step_share)]
    return any(sides) and all(r or not m for r, m in zip(sides, movable, strict=True))


class Evidence(NamedTuple):
    """What the short tests of one lever have shown since it last moved: the lever's value
    and the tested values they share, how many tests (looks), and each side's effect pooled
    over them (:func:`pooled`, as a :class:`Side`; None where no test compared it)."""

    current: float
    values: tuple[float, float]
    looks: int
    sides: tuple


def accumulated(known: Evidence | None, current: float, values, sides) -> Evidence:
    """``known`` evidence with one more test's ``sides`` added, each side pooled by precision
    with the earlier tests' (:func:`pooled`); a fresh start when there is none or it was
    gathered at another value of the lever."""
    if known is None or known.current != current or known.values != tuple(values):
        return Evidence(current, tuple(values), 1, tuple(sides))
    both = []
    for a, b in zip(known.sides, sides, strict=True):
        if a is None or b is None:
            both.append(a if b is None else b)
            continue
        effect, se = pooled((a.effect, a.se), (b.effect, b.se))
        both.append(Side(effect, se, effect / se if se > 0 else 0.0))
    return Evidence(current, known.values, known.looks + 1, tuple(both))


class ProfitTest(NamedTuple):
    """A test's readout on profit per user-day of its cohort: the control arm's mean and each
    side's (lowered, raised) :class:`Side` against it (None where a group is too small)."""

    control: float
    sides: tuple


def profit_test(p, arm, cohort, days: int) -> ProfitTest:
    """The test's :class:`ProfitTest` over the window that closes, which a policy may read to
    decide which sides it can keep (:meth:`sim.model.policies.Policy.admissible`)."""
    control = cohort & (arm == 0)
    per_day = p.window[1] / days
    sides = tuple(compare(per_day, cohort & (arm == a), control) for a in (-1, 1))
    level = float(per_day[control].mean()) if control.any() else 0.0
    return ProfitTest(level, sides)


def confidence_z(false_move_rate: float) -> float:
    """One-sided z at which a constrained policy reads a side's profit: Phi^-1(1 - alpha)."""
    return _NORMAL.inv_cdf(1.0 - false_move_rate)


def commit(p, profit: ProfitTest, values, kept) -> None:
    """Add the kept side's effect on profit to what the window's kept changes cost."""
    side = profit.sides[0 if kept == values[0] else 1]
    if side is not None:
        p.profit_committed += side.effect


def log_entry(
    p, t, model, sides, evidence, z_crit, kept, correction=(0.0, 0.0), rests=(False, False)
):
    """The test's log entry: its effects and se as measured, in the objective's units per
    user-day (window sums divided by ``interval``); z as judged, on the lever's accumulated
    ``evidence`` (with the policy's credit and the lever's long-run correction,
    :func:`corrected`), and the MDE of that evidence."""
    days, current = model.params.adaptation.interval, evidence.current
    scale = scale_of(p, t.lever)
    nan = float("nan")
    effect = tuple(nan if s is None else s.effect / days for s in sides)
    se = tuple(nan if s is None else s.se / days for s in sides)
    z = tuple(
        nan if s is None else judged_z(s, correction, scale(v) - scale(current))
        for s, v in zip(evidence.sides, t.values, strict=True)
    )
    compared = [s.se / days for s in evidence.sides if s is not None and z_crit < math.inf]
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
        correction=correction[0] / days,
        looks=evidence.looks,
        settled=rests,
    )


# -- long tests ------------------------------------------------------------------------------------
def tested_values(p, lever: str, step_share: float) -> tuple[float, float]:
    """The values a test of ``lever`` tries (a long test's arms today): a step below and a
    step above its current value, within its range, a step being ``step_share`` of the range;
    a free tier steps by ratios (:func:`tier_steps`)."""
    lo, hi = p.LEVERS[lever]
    current = p.levers[lever]
    if lever == TIER:
        return tier_steps(current, hi, step_share, session(p))
    step = step_share * (hi - lo)
    return max(lo, current - step), min(hi, current + step)


def session(p) -> float:
    """The fewest minutes worth a session (``choice.min_session``, at least a minute): the
    smallest free tier that is open."""
    return max(p.model.params.choice.min_session, 1.0)


def _itself(value: float) -> float:
    return value


def scale_of(p, lever: str):
    """The scale a lever's tests step along, as a function of its value, on which effects per
    unit of lever (the long-run correction) are taken: the value itself, or for the free tier,
    stepped by ratios (:func:`tier_steps`), the log of its minutes with a closed tier counted as
    one session, so that slopes compare across tiers and the step between a session and a
    closed tier (the door, ODD 7.8, a change of regime) has none."""
    if lever != TIER:
        return _itself
    floor = session(p)
    return lambda value: math.log(max(value, floor))


def tier_steps(current: float, most: float, step_share: float, session: float):
    """A free tier's lowered and raised values: divided and multiplied by (most / session) **
    step_share, a step of ``step_share`` of its range on a log scale from one ``session`` to
    the ``most`` minutes (ODD 7.9). A tier lowered below a session closes (0: nothing to use
    without paying, ODD 7.8); a closed tier is raised to one session. What a tier of minutes a
    day is worth to users goes by ratios: 5 minutes more is much to a tier of 5, little to one
    of 100."""
    factor = (most / session) ** step_share
    lowered = current / factor
    return (lowered if lowered >= session else 0.0), min(most, max(current * factor, session))


def propose_long(p, lever: str, model, day: int) -> LongTest:
    """A long test of ``lever`` from ``day`` on independent arms of ``long_share`` users each;
    the holdout and its reference group are in no arm and not in the cohort."""
    share = model.params.adaptation.long_share
    draw = model.streams(f"longtest:{p.name}:{lever}", day).random(model.users.n)
    lowered, tested = draw < share, draw < 2 * share
    arm = tested.astype(np.int8) - 2 * lowered.astype(np.int8)
    eligible = kept_out(p, arm)
    cohort = model.users.adopted[:, p.column] & eligible
    return LongTest(lever, arm, cohort, p.baseline, day, eligible=eligible)


def slope(sides, offsets) -> tuple[float, float] | None:
    """Effect per unit of lever and its se from the compared sides (None where not compared)
    at their offsets from the current value; None when no side was compared."""
    pairs = [(s, d) for s, d in zip(sides, offsets, strict=True) if s is not None and d != 0]
    if not pairs:
        return None
    if len(pairs) == 1:
        ((s, d),) = pairs
        return s.effect / d, s.se / abs(d)
    (a, da), (b, db) = pairs
    width = db - da
    return (b.effect - a.effect) / width, float(np.hypot(a.se, b.se)) / abs(width)


def short_slope(p, lever: str, start: int, day: int) -> tuple[float, float] | None:
    """The short tests' effect per unit of ``lever`` per user-day, precision-weighted over its
    tests concluded from ``start`` to ``day`` (all of them, kept or not: no selection), with
    its se; None when there were none."""
    weights, slopes, scale = [], [], scale_of(p, lever)
    for r in p.test_log:
        if r.lever != lever or not start < r.day <= day:
            continue
        sides = [None if e != e else Side(e, s, 0.0) for e, s in zip(r.effect, r.se, strict=True)]
        found = slope(sides, [scale(v) - scale(r.current) for v in r.values])
        if found is not None and found[1] > 0:
            slopes.append(found[0])
            weights.append(found[1] ** -2)
    if not weights:
        return None
    w = np.asarray(weights)
    return float(np.dot(w, slopes) / w.sum()), float(w.sum() ** -0.5)


def pooled(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    """Two estimates ``(value, se)`` of one quantity combined with weights ``1 / se^2``; an
    estimate without a positive se replaces the other."""
    (x, sx), (y, sy) = a, b
    if not (sx > 0 and sy > 0):
        return b
    wx, wy = sx**-2, sy**-2
    return (wx * x + wy * y) / (wx + wy), (wx + wy) ** -0.5


def learn_correction(p, lever: str, c: float, c_se: float) -> None:
    """Add a long test's correction of ``lever`` to what the provider has learned of it:
    every long test's correction, pooled by precision (:func:`pooled`)."""
    known = p.corrections.get(lever)
    p.corrections[lever] = (c, c_se) if known is None else pooled(known, (c, c_se))


def correction_in_force(p, lever: str, false_move_rate: float) -> tuple[float, float]:
    """The long-run correction a short test of ``lever`` is judged with: the pooled one once
    the long tests tell it from zero (``|c| >= Phi^-1(1 - false_move_rate / 2) se_c``), else
    none, so that a correction the long tests cannot yet see vetoes no move."""
    c, c_se = p.corrections.get(lever, (0.0, 0.0))
    if abs(c) < critical_z(false_move_rate, 1) * c_se:
        return 0.0, 0.0
    return c, c_se


def conclude_long(p, t: LongTest, model, day: int) -> bool:
    """Judge a long test on each user's objective per day over its days, adjusted for where they
    stood as it began (:func:`adjusted`), learn the lever's long-run correction (long-run slope
    less the short tests' slope over the same days) and move the lever a step when a side passes
    the corrected threshold. Returns whether the lever moved. The holdout takes up the move too
    (:func:`taken_up`): it was judged over as many days as a review's, and a review that saw it
    only from the day it was made would judge it on its first weeks (module docstring)."""
    ap = model.params.adaptation
    change = adjusted(p.long_total / (day - t.start), t.cohort, t.baseline)
    current = p.levers[t.lever]
    values = tested_values(p, t.lever, ap.step)
    z_crit = critical_z(ap.false_move_rate, t.family)
    profit = profit_test(p, t.arm, t.cohort, ap.interval)
    allowed = p.policy.admissible(p, profit, confidence_z(ap.false_move_rate))
    measured = sides_of(change, t.arm, t.cohort, values, current)
    credit = p.policy.terminal(p, model, t, values)
    if credit is not None:  # as a short test's, spread over the long test's days
        credit = credit.scaled(1.0 / (day - t.start))
    scale = scale_of(p, t.lever)
    sides, kept = judge(
        change,
        t.arm,
        t.cohort,
        values,
        current,
        z_crit,
        allowed=allowed,
        credit=credit,
        scale=scale,
    )
    # the long-run correction compares effects as both kinds of test measured them
    offsets = (scale(values[0]) - scale(current), scale(values[1]) - scale(current))
    long_run, short_run = slope(measured, offsets), short_slope(p, t.lever, t.start, day)
    c, c_se = float("nan"), float("nan")
    if long_run is not None and short_run is not None:
        c, c_se = long_run[0] - short_run[0], float(np.hypot(long_run[1], short_run[1]))
        learn_correction(p, t.lever, c, c_se)
    nan = float("nan")
    p.long_log.append(
        LongResult(
            provider=p.name,
            day=day,
            lever=t.lever,
            current=current,
            offsets=offsets,
            effect=tuple(nan if s is None else s.effect for s in measured),
            se=tuple(nan if s is None else s.se for s in measured),
            z=tuple(nan if s is None else s.z for s in measured),
            z_crit=z_crit,
            correction=c,
            correction_se=c_se,
            kept=kept,
        )
    )
    if kept is None:
        return False
    commit(p, profit, values, kept)
    p.levers[t.lever] = kept
    if taken_up(p, t.lever, current, model):
        p.holdout_levers[t.lever] = kept
    return True


def taken_up(p, lever: str, current: float, model) -> bool:
    """Whether the holdout takes up a long test's move of ``lever`` from ``current``: when it
    reviews (``adaptation.holdout_review`` above 0; else it stays on the launch levers and only
    measures) and holds the lever at ``current`` (no short test has moved it since the last
    review, whose move the review is still to judge)."""
    return (
        p.holdout is not None
        and model.params.adaptation.holdout_review > 0
        and p.holdout_levers.get(lever) == current
    )


# -- the long-term holdout ------------------------------------------------------------------------
def hold_out(p, model, day: int) -> None:
    """Draw the provider's holdout and its reference group from ``day`` (its launch day, then
    each review's), each a share ``adaptation.holdout_share`` of users (one uniform per user,
    stream ``holdout:{provider}`` keyed by the day: the holdout below the share, the reference
    from it to twice it); both None when there is no holdout. Both groups are in no test: the holdout on the levers of the last review, the
    reference on the provider's levers as they move, so that the two differ by the changes
    kept since and not by what the tests' arms cost their users (module docstring)."""
    share = model.params.adaptation.holdout_share
    if share <= 0:
        p.holdout = p.reference = None
        return
    draw = model.streams(f"holdout:{p.name}", day).random(model.users.n)
    p.holdout, p.reference = draw < share, (draw >= share) & (draw < 2 * share)


def summary_start(model) -> int:
    """The first day of the run's summary window."""
    prm = model.params.run
    return max(0, prm.days - prm.summary_window)


def against_reference(p, x: np.ndarray) -> Side | None:
    """The reference group's mean of ``x`` against the holdout's, each user's ``x`` adjusted
    for where they stood as the two were drawn (:func:`adjusted`, everyone in the fit), as a
    test's sides are compared (:func:`compare`)."""
    return compare(adjusted(x, np.ones(x.shape, bool), p.holdout_baseline), p.reference, p.holdout)


def holdout_effect(p, model) -> tuple[float, float, float]:
    """The holdout's measured slow effect: mean objective per user-day over the summary
    window since the holdout was drawn, of the reference group minus that of the holdout, its
    se (:func:`compare`), and the holdout's mean (all NaN without a holdout or before the
    provider's launch):

        x_i = sum of J_i over the window's days since launch / those days
        effect = mean(e | reference) - mean(e | holdout)

    with e_i the residual of x_i on where users stood as the holdout was drawn
    (:func:`adjusted`, everyone in the cohort).
    """
    nan = (float("nan"),) * 3
    if p.objective_total is None:
        return nan
    days = model.day + 1 - max(summary_start(model), p.launch_day, p.holdout_since)
    if days <= 0:
        return nan
    x = (p.objective_total + p.window[0]) / days
    side = against_reference(p, x)
    if side is None:
        return nan
    return side.effect, side.se, float(x[p.holdout].mean())


def review(p, model, day: int) -> None:
    """Review the changes kept since the last review, the holdout against its reference
    (module docstring): roll back to the holdout's levers when they made the objective
    significantly worse, then draw a fresh holdout and reference on the levers the provider now
    has, noting where users stand."""
    days = day - p.holdout_since
    if p.levers != p.holdout_levers:
        side = against_reference(p, p.since_review / days)
        if side is not None:
            back = side.z < -confidence_z(model.params.adaptation.false_move_rate)
            if back:
                for lever, value in p.holdout_levers.items():
                    if p.levers[lever] != value:  # its evidence was of the value it leaves
                        p.evidence.pop(lever, None)
                p.levers = dict(p.holdout_levers)
            effect, se = side.effect, side.se
            p.reviews.append(Review(p.name, day, effect, se, side.z, back))
    p.holdout_levers = dict(p.levers)
    hold_out(p, model, day)
    p.holdout_since = day
    p.holdout_baseline = p.standing_now()
    p.since_review.fill(0.0)
    if p.objective_total is not None:
        p.objective_total.fill(0.0)  # the summary compares the current holdout only


# -- run-level figures -----------------------------------------------------------------------------
SUMMARY = {
    "tests_run": "A/B tests concluded (whole run)",
    "tests_moved_share": "share of concluded tests that moved their lever (whole run)",
    "tests_moved_by_chance_max": "the most tests_moved_share can be if no lever had any effect: "
    "mean over tests of false_move_rate * share of the look / m (0 where not judged)",
    "test_mde_median": "median minimum detectable effect at 80% power of the evidence judged, "
    "objective per user-day",
    "test_mde_relative_median": "median of MDE / |control arm's mean objective per user-day|",
    "test_abs_z_median": "median |z| of the compared sides",
    "tests_settled_share": "share of concluded tests that settled a side of their lever, which "
    "then rested (whole run)",
}
REVIEWS = {
    "holdout_reviews": "reviews of kept changes against the long-term holdout (whole run)",
    "holdout_rollbacks": "reviews that rolled the levers back to the holdout's (whole run)",
    "long_tests_run": "long tests concluded (whole run)",
    "long_tests_moved": "long tests that moved their lever (whole run)",
}
SUMMARY_BY_PROVIDER = {
    "holdout_effect": "objective per user-day of the long-term holdout's reference group (the "
    "provider's levers, in no test) minus the holdout's, adjusted for where users stood as they "
    "were drawn (summary window)",
    "holdout_effect_se": "se of holdout_effect (as a test's)",
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
        "tests_moved_by_chance_max": float(
            np.mean([false_move_rate * spent(r.looks) / r.family for r in log])
        ),
        "test_mde_median": float(np.nanmedian(mde)) if np.isfinite(mde).any() else nan,
        "test_mde_relative_median": float(np.median(finite)) if finite.size else nan,
        "test_abs_z_median": float(np.nanmedian(z)) if np.isfinite(z).any() else nan,
        "tests_settled_share": float(np.mean([any(r.settled) for r in log])),
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
        longs = [r for p in chosen for r in p.long_log]
        out[prefix + "long_tests_run"] = float(len(longs))
        out[prefix + "long_tests_moved"] = float(sum(r.kept is not None for r in longs))
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
