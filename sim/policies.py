"""Provider policies and how providers adapt their levers (MODEL.md mechanism 9; ODD 7.9).

A policy is an objective, measured per user and day for provider p:

    attention:  J = revenue + minute_value * minutes
    intimacy:   J = revenue + attachment_value * attachment + retention_value * still_a_user
    wellbeing:  J = wellbeing, subject to breaking even (profit >= 0)

Providers adapt as product teams do. Every ``interval`` days each provider ends its running A/B
test and starts a new one: it picks one lever at random, moves it by ``step`` of its range for a
random ``test_share`` of users, and at the end compares the change in J over the test window
against the previous window (difference in differences) between treated and control users who
were its users when the test began (intention to treat). It keeps the change when

    z = (mean dJ_treated - mean dJ_control) / se > min_z

and, for the wellbeing policy, the treated arm still breaks even (or loses less than control).
Because tests are short, providers can learn what pays in two weeks and pay for it later.
"""

from __future__ import annotations

import numpy as np

from sim.providers import ABTest, Provider


def daily_objective(p: Provider, model) -> np.ndarray:
    """J for every user today (zero for users who do not use the provider)."""
    u, today, ap = model.users, model.today, model.params.adaptation
    j = p.column
    if p.policy == "attention":
        return today.revenue[:, j] + ap.minute_value * u.minutes[:, j]
    if p.policy == "intimacy":
        return (today.revenue[:, j] + ap.attachment_value * u.attachment[:, j]
                + ap.retention_value * u.adopted[:, j])
    return u.wellbeing.copy()


def record(model) -> None:
    """Add today's objective and profit to every provider's window accumulators."""
    today = model.today
    profit = today.revenue - today.cost
    for p in model.providers:
        p.objective_now += daily_objective(p, model)
        p.profit_now += profit[:, p.column]


def adapt(p: Provider, model) -> None:
    """At the end of each window conclude the running test and start the next one."""
    ap = model.params.adaptation
    day = model.day + 1  # the window closes at the end of today
    if day % ap.interval or day <= p.launch_day:
        return
    if p.test is not None:
        conclude(p, model)
    p.objective_before, p.objective_now = p.objective_now, np.zeros_like(p.objective_now)
    p.profit_now = np.zeros_like(p.profit_now)
    if model.params.mechanisms.adaptation and day < model.params.run.days:
        p.test = propose(p, model, day)


def propose(p: Provider, model, day: int) -> ABTest:
    rng = model.streams(f"adapt:{p.name}", day)
    names = list(p.LEVERS)
    lever = names[rng.integers(len(names))]
    lo, hi = p.LEVERS[lever]
    step = model.params.adaptation.step * (hi - lo) * (1 if rng.random() < 0.5 else -1)
    current = p.levers[lever]
    value = float(np.clip(current + step, lo, hi))
    if value == current:
        value = float(np.clip(current - step, lo, hi))
    treated = model.streams(f"abtest:{p.name}", day).random(model.users.n) < model.params.adaptation.test_share
    return ABTest(lever=lever, value=value, treated=treated,
                  cohort=model.users.adopted[:, p.column].copy(), start=day)


def conclude(p: Provider, model) -> bool:
    """Keep the tested lever value when the evidence says it raises the objective."""
    t, ap = p.test, model.params.adaptation
    p.test = None
    p.tests_run += 1
    treated, control = t.cohort & t.treated, t.cohort & ~t.treated
    if treated.sum() < 2 or control.sum() < 2:
        return False
    keep = z_score(p.objective_now - p.objective_before, treated, control) > ap.min_z
    if p.policy == "wellbeing":
        profit_t, profit_c = p.profit_now[treated].mean(), p.profit_now[control].mean()
        if profit_c < 0:  # losing money: breaking even comes first
            keep = z_score(p.profit_now, treated, control) > ap.min_z
        else:
            keep = keep and profit_t >= 0
    if keep:
        p.levers[t.lever] = t.value
        p.tests_kept += 1
    return bool(keep)


def z_score(values: np.ndarray, treated: np.ndarray, control: np.ndarray) -> float:
    """Welch z of the difference in means between two arms."""
    a, b = values[treated], values[control]
    se = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    return float((a.mean() - b.mean()) / se) if se > 0 else 0.0
