"""Provider policies and how providers adapt their levers (MODEL.md mechanism 9; ODD 7.9).

A policy is an objective, measured per user and day for provider p:

    attention:  J = revenue + minute_value * minutes
    intimacy:   J = still_a_user * (revenue * lifetime / 30 + attachment_value * attachment
                                    + retention_value)
                lifetime = min(lifetime_cap, 1 / (quit hazard + cancellation hazard))

The intimacy objective values today's revenue over the user's expected remaining lifetime in
months (lifetime subscription value), from the provider's churn model: the model's own quit and
cancellation hazards (ODD 7.11, 7.8), which a real provider would estimate from engagement.
    wellbeing:  J = wellbeing, subject to breaking even (profit >= 0)

Providers adapt as product teams do. Every ``interval`` days each provider ends its running
tests and starts new ones. A test gives one lever a ``step`` of its range lower to a random
``test_share`` of users and a step higher to another ``test_share`` (an A/B/n test). With
``concurrent`` on, every lever is tested at once, each with its own independent random arms
(overlapping experiments, as large platforms run them); off, one lever chosen at random is.
At the end of a window the provider compares, for each test, the change in J over the test window against the previous window
(difference in differences) between each arm and control, among users who were its users when
the test began (intention to treat), and keeps the better arm's value when

    z = (mean dJ_arm - mean dJ_control) / se > min_z

For the wellbeing policy an arm must still break even; a provider losing money in the control
arm ranks arms by profit instead, since breaking even comes first.
Effects that take longer than ``interval`` days to show (habit, attachment, churn) are
invisible to a test: providers with short tests learn what pays now and can pay for it later.
"""

from __future__ import annotations

import numpy as np

from sim.model.mechanisms.adoption import quit_hazard
from sim.model.mechanisms.business import cancel_hazard
from sim.model.providers import ABTest, Provider


def daily_objective(p: Provider, model) -> np.ndarray:
    """J for every user today; only the users of the provider when a test began are compared."""
    return objective(p.policy, model, p.column)


def objective(policy: str, model, j: int) -> np.ndarray:
    """Policy ``policy``'s J of provider column ``j`` for every user today."""
    u, today, ap = model.users, model.today, model.params.adaptation
    if policy == "attention":
        return today.revenue[:, j] + ap.minute_value * u.minutes[:, j]
    if policy == "intimacy":
        # the provider's churn model: expected remaining lifetime from today's hazards
        hazard = quit_hazard(model, j) + cancel_hazard(model, j)
        lifetime = np.minimum(ap.lifetime_cap, 1.0 / np.maximum(hazard, 1e-9))
        return u.adopted[:, j] * (
            today.revenue[:, j] * lifetime / 30.0
            + ap.attachment_value * u.attachment[:, j]
            + ap.retention_value
        )
    return u.wellbeing.copy()


def record(model) -> None:
    """Add today's objective and profit to every provider's window accumulators."""
    today = model.today
    profit = today.revenue - today.cost
    for p in model.providers:
        if model.day < p.launch_day:
            continue
        p.objective_now += daily_objective(p, model)
        p.profit_now += profit[:, p.column]


def adapt(p: Provider, model) -> None:
    """At the end of each window conclude the running test and start the next one."""
    ap = model.params.adaptation
    day = model.day + 1  # the window closes at the end of today
    if day <= p.launch_day or (day - p.launch_day) % ap.interval:
        return
    for test in p.tests.values():
        conclude(p, test, model)
    p.tests = {}
    p.objective_before, p.objective_now = p.objective_now, np.zeros_like(p.objective_now)
    p.profit_now = np.zeros_like(p.profit_now)
    if model.params.mechanisms.adaptation and day < model.params.run.days:
        levers = list(p.LEVERS)
        if not ap.concurrent:
            levers = [levers[model.streams(f"adapt:{p.name}", day).integers(len(levers))]]
        p.tests = {lever: propose(p, lever, model, day) for lever in levers}


def propose(p: Provider, lever: str, model, day: int) -> ABTest:
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


def conclude(p: Provider, t: ABTest, model) -> bool:
    """Keep the better tested value when the evidence says it raises the objective."""
    ap = model.params.adaptation
    p.tests_run += 1
    control = t.cohort & (t.arm == 0)
    change = p.objective_now - p.objective_before
    best, best_z = None, ap.min_z
    for side, value in ((-1, t.values[0]), (1, t.values[1])):
        treated = t.cohort & (t.arm == side)
        if treated.sum() < 2 or control.sum() < 2 or value == p.levers[t.lever]:
            continue
        z = z_score(change, treated, control)
        if p.policy == "wellbeing":
            profit_t, profit_c = p.profit_now[treated].mean(), p.profit_now[control].mean()
            if profit_c < 0:  # losing money: breaking even comes first
                z = z_score(p.profit_now, treated, control)
            elif profit_t < 0:
                continue
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
