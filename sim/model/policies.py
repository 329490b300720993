"""Provider policies: the objective each provider pursues (ODD 7.9).

A policy is an objective, measured per user and day for provider p:

    attention:  J = revenue + minute_value * minutes
    intimacy:   J = still_a_user * (revenue * lifetime / 30 + attachment_value * attachment
                                    + retention_value)
                lifetime = min(lifetime_cap, 1 / (quit hazard + cancellation hazard))

The intimacy objective values today's revenue over the user's expected remaining lifetime in
months (lifetime subscription value), from the provider's churn model: the model's own quit and
cancellation hazards (ODD 7.11, 7.8), which a real provider would estimate from engagement.
    wellbeing:  J = wellbeing, subject to breaking even (profit >= 0)

For the wellbeing policy an arm must still break even; a provider losing money in the control
arm ranks arms by profit instead, since breaking even comes first. How providers test and keep
lever changes is :mod:`sim.model.abtests`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.model import compiled, levers
from sim.model.abtests import z_score
from sim.model.compiled import jit
from sim.model.mechanisms.adoption import users_quit_hazard
from sim.model.mechanisms.business import cancel_hazard, price_gap


@jit
def attention_value(revenue, minutes, k):
    """The attention policy's J: revenue and the value of the time captured today."""
    return revenue + k.minute_value * minutes


@jit
def expected_lifetime(hazard, k):
    """Expected remaining days of a relationship at a daily hazard, at most ``lifetime_cap``."""
    return min(k.lifetime_cap, 1.0 / max(hazard, 1e-9))


@jit
def intimacy_value(revenue, lifetime, attachment, k):
    """The intimacy policy's J of a user of the provider: today's revenue over the expected
    remaining lifetime in months, the attachment built and the user kept."""
    return revenue * lifetime / 30.0 + k.attachment_value * attachment + k.retention_value


ATTENTION, INTIMACY, WELLBEING = 0, 1, 2  # policies as compiled code reads them


class Day(NamedTuple):
    """The day's accounts that the objectives read, and the churn model's parameters."""

    revenue: np.ndarray  # (N, P) $
    cost: np.ndarray  # (N, P) $
    price: tuple  # the price lever's table (sim.model.levers)
    adoption: tuple  # the adoption parameters (the quit hazard)
    companion: tuple  # the companion parameters (the cancellation hazard)


class Provider(NamedTuple):
    """One provider as the objectives' loop sees it."""

    column: int
    policy: int  # the code of its own policy; -1 before its launch (nothing is added)
    window: np.ndarray  # (2, N) objective and profit summed over its test window


@jit
def objectives(start, stop, users, k, day, provider):
    """The provider's objective under every policy for users ``start`` to ``stop``; adds its
    own policy's and its profit to its test window; returns the block's sums of the attention
    and intimacy objectives."""
    j, own, window = provider
    revenue, cost, price, adoption, companion = day
    sums = np.zeros(2)
    for i in range(start, stop):
        rev, minutes = revenue[i, j], users.minutes[i, j]
        attention = attention_value(rev, minutes, k)
        intimacy = 0.0
        if users.adopted[i, j]:
            hazard = users_quit_hazard(users, i, j, adoption)
            if users.subscribed[i, j]:
                gap = price_gap(
                    users.willingness_to_pay[i],
                    users.attachment[i, j],
                    levers.lever(price, i, j),
                    companion,
                )
                hazard += cancel_hazard(gap, companion)
            lifetime = expected_lifetime(hazard, k)
            intimacy = intimacy_value(rev, lifetime, users.attachment[i, j], k)
        sums[0] += attention
        sums[1] += intimacy
        if own == ATTENTION:
            window[0, i] += attention
        elif own == INTIMACY:
            window[0, i] += intimacy
        elif own == WELLBEING:
            window[0, i] += users.wellbeing[i]
        if own >= 0:
            window[1, i] += rev - cost[i, j]
    return sums


class Policy:
    """An objective a provider pursues and how it judges its A/B tests."""

    name = ""
    code = -1

    def evidence(self, provider, z: float, treated, control) -> float | None:
        """The z that counts for keeping an arm (None: the arm is ruled out)."""
        return z


class Attention(Policy):
    """J = revenue + minute_value * minutes: revenue and time captured now."""

    name, code = "attention", ATTENTION


class Intimacy(Policy):
    """J = still a user * (revenue * expected lifetime / 30 + attachment_value * attachment +
    retention_value): the relationship's lifetime value."""

    name, code = "intimacy", INTIMACY


class Wellbeing(Policy):
    """J = the user's wellbeing, subject to breaking even: an arm that loses money is ruled
    out; a provider losing money in the control arm ranks arms by profit instead."""

    name, code = "wellbeing", WELLBEING

    def evidence(self, provider, z, treated, control):
        profit = provider.window[1]
        if profit[control].mean() < 0:  # losing money: breaking even comes first
            return z_score(profit, treated, control)
        if profit[treated].mean() < 0:
            return None
        return z


POLICIES: dict[str, Policy] = {p.name: p for p in (Attention(), Intimacy(), Wellbeing())}


def record(model, today) -> dict[str, float]:
    """Every launched provider adds today's objective and profit to its test window; returns
    the attention and intimacy objectives summed over providers and users, as every provider
    would see them (a daily measurement)."""
    u, prm = model.users, model.params
    k = compiled.constants(prm.adaptation)
    day = Day(
        today.revenue,
        today.cost,
        today.levers.tables["price"],
        compiled.constants(prm.adoption),
        compiled.constants(prm.companion),
    )
    spans = compiled.blocks(u.n)
    total = np.zeros(2)
    for p in model.providers:
        own = p.policy.code if model.day >= p.launch_day else -1
        provider = Provider(p.column, own, p.window)

        def add(_, a, b, provider=provider):
            return objectives(a, b, u, k, day, provider)

        for sums in compiled.each_block(spans, add):
            total += sums
    return {"attention": float(total[0]), "intimacy": float(total[1])}


def step(model, today) -> None:
    """Providers add today to their test windows, and the day's objectives summed over
    providers and users are left in ``today.objective_sums``; at the end of a window each
    provider concludes its tests and starts the next ones (each provider agent's ``step``)."""
    today.objective_sums = record(model, today)
    model.providers.do("step")
