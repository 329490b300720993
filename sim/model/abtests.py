"""How providers adapt their levers: A/B tests on their own users (ODD 7.9).

Every ``interval`` days each provider ends its running tests and starts new ones. A test gives
one lever a ``step`` of its range lower to a random ``test_share`` of users and a step higher to
another ``test_share`` (an A/B/n test). With ``concurrent`` on, every lever is tested at once,
each with its own independent random arms (overlapping experiments, as large platforms run
them); off, one lever chosen at random is. At the end of a window the provider compares, for
each test, the change in its objective (:mod:`sim.model.policies`) over the test window against
the previous window (difference in differences) between each arm and control, among users who
were its users when the test began (intention to treat), and keeps the better arm's value when

    z = (mean dJ_arm - mean dJ_control) / se > min_z

Effects that take longer than ``interval`` days to show (habit, attachment, churn) are
invisible to a test: providers with short tests learn what pays now and can pay for it later.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class ABTest:
    """One running A/B/n test of ``lever``: arm -1 gets ``values[0]``, arm +1 ``values[1]``,
    arm 0 (control) keeps the current value."""

    lever: str
    values: tuple[float, float]  # (lowered, raised)
    arm: np.ndarray  # (N,) int8 in {-1, 0, 1}
    cohort: np.ndarray  # (N,) bool, users of the provider when the test started
    start: int


def window_closes(p, model) -> bool:
    """Whether provider ``p``'s test window closes at the end of today."""
    day = model.day + 1
    return day > p.launch_day and (day - p.launch_day) % model.params.adaptation.interval == 0


def adapt(p, model) -> None:
    """At the end of each window conclude the running test and start the next one."""
    ap = model.params.adaptation
    day = model.day + 1  # the window closes at the end of today
    if not window_closes(p, model):
        return
    for test in p.tests.values():
        conclude(p, test, model)
    p.tests = {}
    np.copyto(p.objective_before, p.window[0])
    p.window.fill(0.0)
    if model.params.mechanisms.adaptation and day < model.params.run.days:
        levers = list(p.LEVERS)
        if not ap.concurrent:
            levers = [levers[model.streams(f"adapt:{p.name}", day).integers(len(levers))]]
        p.tests = {lever: propose(p, lever, model, day) for lever in levers}


def propose(p, lever: str, model, day: int):
    """Test ``lever`` a step lower and a step higher than now, on independent random arms."""
    ap = model.params.adaptation
    lo, hi = p.LEVERS[lever]
    current, step = p.levers[lever], ap.step * (hi - lo)
    draw = model.streams(f"abtest:{p.name}:{lever}", day).random(model.users.n)
    # arm -1 (lowered) below test_share, +1 (raised) below twice it, else 0
    lowered, tested = draw < ap.test_share, draw < 2 * ap.test_share
    arm = tested.astype(np.int8) - 2 * lowered.astype(np.int8)
    return ABTest(
        lever=lever,
        values=(max(lo, current - step), min(hi, current + step)),
        arm=arm,
        cohort=model.users.adopted[:, p.column].copy(),
        start=day,
    )


def conclude(p, t, model) -> bool:
    """Keep the better tested value when the evidence says it raises the objective."""
    ap = model.params.adaptation
    p.tests_run += 1
    control = t.cohort & (t.arm == 0)
    change = p.window[0] - p.objective_before
    best, best_z = None, ap.min_z
    for side, value in ((-1, t.values[0]), (1, t.values[1])):
        treated = t.cohort & (t.arm == side)
        if treated.sum() < 2 or control.sum() < 2 or value == p.levers[t.lever]:
            continue
        z = z_score(change, treated, control)
        if z > best_z:
            best, best_z = value, z
    if best is None:
        return False
    p.levers[t.lever] = best
    p.tests_kept += 1
    return True


def z_score(values: np.ndarray, treated: np.ndarray, control: np.ndarray) -> float:
    """Welch z of the difference in means between two arms."""
    a, b = values[treated], values[control]
    se = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    return float((a.mean() - b.mean()) / se) if se > 0 else 0.0
