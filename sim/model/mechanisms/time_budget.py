"""Time budget: each day a user splits discretionary minutes among options (ODD 7.1).

    share[i, o] = a[i, o] exp(D[i, o] / T) / sum_o' a[i, o'] exp(D[i, o'] / T)
    minutes[i, o] = budget[i] * share[i, o]

a is availability (zero for providers not adopted, deactivated or not launched; the social
option scaled down by lockdowns), D the decision values of the two selves (ODD 7.2). Provider
minutes below ``min_session`` are skipped and minutes above a cap (free tier, intervention) are
given to other offline life, so the parts always sum to the budget exactly.

The day's choice splits each budget twice, with the impulsive pull and without it: what the
first gives a provider beyond the second is compulsive use (self-set limits stop a share of it,
ODD 7.13). What the day's minutes are worth is worked out once socialising is realised
(:mod:`sim.model.mechanisms.welfare`).

Minutes a ``prescribe`` intervention assigns (ODD 7.13) are spent before the free choices: they
come out of the budget (all of it, shared in proportion, if they add up to more), the split
shares out the rest, and they are added to their options' minutes, also on a provider the user
has not adopted. They are never compulsive, and they count against the providers' caps.
Minutes prescribed with a friend are realised by socialising (ODD 7.6).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from sim.model import compiled, levers
from sim.model.compiled import at, jit
from sim.model.mechanisms import two_selves as ts
from sim.model.mechanisms.attachment import unmet_need
from sim.model.mechanisms.business import daily_cap, free_tier
from sim.model.mechanisms.experience import expected_fit
from sim.model.mechanisms.learning import recalled
from sim.model.population import FIT_PRIOR

SWITCH = None  # the budget always holds
PARAMS = ("choice", "companion", "social")  # the parameter sections it reads
STATE = (
    "minutes",
    "offline_minutes",
    "compulsive_minutes",
)  # the user state it owns (others may read it)


class Day(NamedTuple):
    """What the day's choice reads besides the users' state and the choice parameters."""

    ad_load: tuple  # lever tables (sim.model.levers)
    hooks: tuple
    nudge: tuple
    availability: np.ndarray  # constraints, one row per user or one for everyone
    social_scale: np.ndarray
    bonus: np.ndarray
    cap: np.ndarray
    commitment: np.ndarray
    any_commitment: bool
    prescribed: np.ndarray  # (N or 1, P + 2) minutes prescribed per option (ODD 7.13)
    friend_counts: np.ndarray  # (N, P) friends on each provider
    degree: np.ndarray  # (N,) friends
    is_companion: np.ndarray  # (P,)
    network_effects: bool
    two_selves: bool
    aversion: float  # manipulation.aversion
    empathy: tuple  # lever table (sim.model.levers)
    free_memory: tuple
    free_minutes: tuple  # the free tier lever's table
    need_minutes: float  # social.companion_need_minutes: understood minutes meeting the need
    sophisticated: bool  # choice.sophisticated_buyer: the share chosen on reflection as well


class Choice(NamedTuple):
    """What the day's choice hands on to later steps."""

    R: np.ndarray  # (N, P + 2) reflective utility of each option
    compulsive: np.ndarray  # (N, P) minutes beyond the reflective choice
    pull: np.ndarray  # (N, P) value per minute the impulsive pull adds to each provider
    planned: np.ndarray  # (N,) minutes planned for socialising
    desired: np.ndarray  # (N, P) share of the budget each provider would get without caps
    chosen: np.ndarray  # (N, P) the same on reflection, for sophisticated buyers (ODD 7.8)
    rest: np.ndarray  # (N, P) rest_divergence for sophisticated buyers, else 0
    session: np.ndarray  # (N,) prescribed minutes with a friend, held for socialising (ODD 7.6)
    unmet: np.ndarray  # (N,) share of the need to be heard a usual day leaves unmet (ODD 7.2)


@jit
def priced_values(values, pull, weight, purchase_pull, out):
    """The decision values the use a subscription is priced at is read from (ODD 7.8): today's
    ``values`` with the pull ``weight * pull`` of each provider cut to its share
    ``purchase_pull``."""
    for o in range(values.shape[0]):
        out[o] = values[o]
    for j in range(pull.shape[0]):
        out[j] -= (1.0 - purchase_pull) * weight * pull[j]


@jit
def rest_divergence(forecast, chosen, j):
    """KL divergence of how the options other than ``j`` share the rest of the day as
    forecast (logit weights ``forecast``) from how they share it as chosen on reflection
    (weights ``chosen``): what a sophisticated buyer loses on the rest of the day, per unit of
    it, where other options are pulled too (ODD 7.8)."""
    forecast_rest = forecast.sum() - forecast[j]
    chosen_rest = chosen.sum() - chosen[j]
    if forecast_rest <= 0.0 or chosen_rest <= 0.0:
        return 0.0
    kl = 0.0
    for o in range(forecast.shape[0]):
        if o != j and forecast[o] > 0.0:
            q = forecast[o] / forecast_rest
            kl += q * math.log(q / (chosen[o] / chosen_rest))
    return kl


@jit
def logit_weights(values, available, temperature, out):
    """``available * exp(values / T)`` of each option into ``out``, scaled so the largest
    option that can be taken has weight 1; returns their sum (the shares are out / sum)."""
    scale = -np.inf
    for o in range(values.shape[0]):
        if available[o] > 0.0:  # only options that can be taken set the scale
            out[o] = values[o] / temperature
            scale = max(scale, out[o])
    total = 0.0
    for o in range(values.shape[0]):
        w = 0.0  # an option that cannot be taken
        if available[o] > 0.0:
            gap = min(out[o] - scale, 0.0)
            w = available[o] * (1.0 if gap == 0.0 else math.exp(gap))  # the largest: exp 0
        out[o] = w
        total += w
    return total


@jit
def allot(weights, total, budget, min_session, caps):
    """Turn logit ``weights`` (summing to ``total``) into minutes of ``budget`` in place:
    provider options (the first ``caps.shape[0]``) lose sessions under ``min_session`` and
    what is above their cap; the last option, other offline life, gets the rest."""
    n_options, P = weights.shape[0], caps.shape[0]
    rest = 0.0
    for o in range(n_options - 1):
        x = budget * weights[o] / total
        if o < P:
            x = min(x if x >= min_session else 0.0, caps[o])
        weights[o] = x
        rest += x
    weights[n_options - 1] = max(budget - rest, 0.0)


@jit
def split(values, available, budget, temperature, min_session, caps, out):
    """Split ``budget`` over options in proportion to ``available * exp(values / T)``, less
    short sessions and what is above the providers' caps (:func:`allot`). Fills ``out``."""
    total = logit_weights(values, available, temperature, out)
    allot(out, total, budget, min_session, caps)


@jit
def prescription(row, budget, out):
    """The minutes of each option prescribed today (ODD 7.13) into ``out``, all of them or, if
    they add up to more than the ``budget``, that budget shared in proportion; returns what is
    left for the free choice."""
    held = 0.0
    for o in range(row.shape[0]):
        held += row[o]
    kept = min(1.0, budget / held) if held > 0.0 else 1.0
    for o in range(row.shape[0]):
        out[o] = row[o] * kept
    return max(budget - held * kept, 0.0)


# a user's working rows in the day's choice, one value per option (the first P: per provider)
WORK = (
    "pull",
    "caps",
    "avail",
    "given",
    "values",
    "impulsive",
    "reflective",
    "priced",
    "on_reflection",
)


@jit
def choose(start, stop, users, k, day, shocks, work, out):
    """The day's choice of users ``start`` to ``stop``: reflective values into ``out.R``,
    minutes of both selves' splits, compulsive minutes (``out.compulsive``), the impulsive
    pull's weight in each provider's value (``out.pull``), planned social minutes
    (``out.planned``), the share of the day each provider would have got with no cap or
    minimum session (``out.desired``: what a subscription is worth, ODD 7.8) and the share of
    the need to be heard that the user's usual day leaves unmet, at which every companion is
    valued (``out.unmet``, :func:`unmet_need`, worked out once a user; ODD 7.2). ``shocks``
    (block, P + 2) holds the users' standard normal taste draws. Prescribed minutes
    (:func:`prescription`) are spent first and the free choices split the rest of the budget;
    they count against the providers' caps, and a session with a friend is held in
    ``out.session`` for socialising. ``work`` (``len(WORK)``, P + 2) holds a user's working
    rows, named in :data:`WORK`: the caller's, so that the loop creates no arrays and
    compiles without reference counting (:func:`sim.model.compiled.jit`)."""
    P = users.minutes.shape[1]
    n_options = P + 2
    pull, caps, avail, given = work[0, :P], work[1, :P], work[2], work[3]
    values, impulsive, reflective = work[4], work[5], work[6]
    priced, on_reflection = work[7], work[8]
    R = out.R
    breadth = k.temperature * math.log(k.offline_breadth)  # other offline life's nest (ODD 7.2)
    for i in range(start, stop):
        b = i - start
        nudged = 0.0
        budget = prescription(day.prescribed[at(day.prescribed, i)], users.budget[i], given)
        unmet = out.unmet[i] = unmet_need(users.understood_usual[i], day.need_minutes)
        for j in range(P):
            fit = expected_fit(users.fit[i, j], users.familiarity[i, j], FIT_PRIOR)
            match = ts.match_quality(fit, users.knowledge[i, j])
            bonus = day.bonus[at(day.bonus, i), j]
            r = ts.reflective_value(
                match,
                levers.lever(day.ad_load, i, j),
                users.perceived_manipulation[i, j],
                bonus,
                k,
                day.aversion,
            )
            if day.is_companion[j]:
                r += ts.companion_value(
                    levers.lever(day.empathy, i, j),
                    recalled(
                        users.emotional_knowledge[i, j],
                        users.subscribed[i, j],
                        levers.lever(day.free_memory, i, j),
                    ),
                    users.attachment[i, j],
                    users.loneliness[i],
                    unmet,
                    k,
                )
            elif day.network_effects:
                r += ts.feed_value(day.friend_counts[i, j] / max(day.degree[i], 1), k)
            R[i, j] = r
            pull[j] = ts.impulsive_pull(
                users.habit[i, j],
                levers.lever(day.hooks, i, j),
                users.knowledge[i, j],
                users.attachment[i, j],
                users.dependence[i, j],
                k,
            )
            if users.adopted[i, j]:
                nudged = max(nudged, levers.lever(day.nudge, i, j))
            free = free_tier(
                day.is_companion[j], users.subscribed[i, j], levers.lever(day.free_minutes, i, j)
            )
            caps[j] = max(daily_cap(day.cap, i, j, free) - given[j], 0.0)
            avail[j] = day.availability[at(day.availability, i), j] if users.adopted[i, j] else 0.0
        R[i, P] = ts.social_value(users.loneliness[i], nudged, k)
        R[i, P + 1] = users.offline_value[i]
        avail[P] = day.social_scale[at(day.social_scale, i)]
        avail[P + 1] = 1.0
        for o in range(n_options):
            values[o] = R[i, o] + k.taste_noise * shocks[b, o]
        values[P + 1] += breadth
        weight = ts.impulse_weight(users.self_control[i], k) if day.two_selves else 0.0
        if day.two_selves:
            split(values, avail, budget, k.temperature, k.min_session, caps, reflective)
            for j in range(P):
                values[j] += weight * pull[j]
        total = logit_weights(values, avail, k.temperature, impulsive)
        wanted, wanted_total = impulsive, total  # the split a subscription is priced at
        if weight > 0.0 and k.purchase_pull < 1.0:  # a purchase weighs part of the pull
            priced_values(values, pull, weight, k.purchase_pull, priced)
            wanted, wanted_total = priced, logit_weights(priced, avail, k.temperature, priced)
        free_share = budget / users.budget[i]  # the share of the budget the free choices split
        for j in range(P):  # the share of the day each provider would have got with no cap
            out.desired[i, j] = wanted[j] / wanted_total * free_share
        if day.sophisticated:  # and on reflection, what a sophisticated buyer values it at
            chosen, chosen_total = wanted, wanted_total
            pulled = weight > 0.0 and k.purchase_pull > 0.0  # else the forecast is as chosen
            if pulled:
                priced_values(values, pull, weight, 0.0, on_reflection)
                chosen = on_reflection
                chosen_total = logit_weights(on_reflection, avail, k.temperature, on_reflection)
            for j in range(P):
                out.chosen[i, j] = chosen[j] / chosen_total * free_share
                bent = pulled and day.is_companion[j]  # only a companion's month is bought
                out.rest[i, j] = rest_divergence(wanted, chosen, j) if bent else 0.0
        allot(impulsive, total, budget, k.min_session, caps)
        compulsive_total = 0.0
        for j in range(P):
            c = max(impulsive[j] - reflective[j], 0.0) if day.two_selves else 0.0
            if day.two_selves and day.any_commitment:  # self-set limits stop part of it
                cut = day.commitment[at(day.commitment, i), j] * c
                impulsive[j] -= cut
                impulsive[n_options - 1] += cut
                c -= cut
            out.compulsive[i, j] = c
            out.pull[i, j] = weight * pull[j]
            compulsive_total += c
            users.minutes[i, j] = impulsive[j] + given[j]
        users.compulsive_minutes[i] = compulsive_total
        out.planned[i] = impulsive[P]
        out.session[i] = given[P]
        users.offline_minutes[i] = impulsive[P + 1] + given[P + 1]


def step(model, today) -> None:
    """Split each user's budget; the reflective-only split gives compulsive minutes."""
    u, prm = model.users, model.params
    n, P = u.n, len(model.providers)
    cons, lev = today.constraints, today.levers.tables
    two = prm.mechanisms.two_selves
    day = Day(
        ad_load=lev["ad_load"],
        hooks=lev["hooks"],
        nudge=lev["nudge"],
        availability=compiled.per_user(cons.availability, n),
        social_scale=compiled.per_user(cons.social_scale, n, 1),
        bonus=compiled.per_user(cons.bonus, n),
        cap=compiled.per_user(cons.cap, n),
        commitment=compiled.per_user(cons.commitment, n),
        any_commitment=cons.any_commitment,
        prescribed=compiled.per_user(cons.prescribed, n),
        friend_counts=today.friend_counts,
        degree=model.network.degree,
        is_companion=model.is_companion,
        network_effects=prm.mechanisms.network_effects,
        two_selves=two,
        aversion=prm.manipulation.aversion,
        empathy=lev["empathy"],
        free_memory=lev["free_memory"],
        free_minutes=lev["free_minutes"],
        need_minutes=prm.social.companion_need_minutes,
        sophisticated=prm.choice.sophisticated_buyer,
    )
    out = Choice(
        R=model.work("choice.R", (n, P + 2)),
        compulsive=model.work("choice.compulsive", (n, P)),
        pull=model.work("choice.pull", (n, P)),
        planned=model.work("choice.planned", n),
        desired=model.work("choice.desired", (n, P)),
        chosen=model.work("choice.chosen", (n, P)),
        rest=model.work("choice.rest", (n, P)),
        session=model.work("choice.session", n),
        unmet=model.work("choice.unmet", n),
    )
    today.R, today.compulsive, today.pull = out.R, out.compulsive, out.pull
    today.desired = out.desired
    today.chosen = out.chosen if prm.choice.sophisticated_buyer else out.desired
    if not prm.choice.sophisticated_buyer:
        out.rest.fill(0.0)
    today.rest = out.rest
    today.planned_social = out.planned
    today.session = out.session
    today.unmet = out.unmet
    k = compiled.constants(prm.choice)
    taste = model.streams("taste", model.day)
    shocks = compiled.block_buffer(model, "choice.shocks", n, (), (P + 2,))

    def draw(_, a, b):  # taste shocks user-major, one per user and option
        compiled.normals(taste, shocks(a, b).reshape(-1))

    work = (len(WORK), P + 2)
    compiled.each_block(
        compiled.blocks(n),
        lambda _, a, b: choose(a, b, u, k, day, shocks(a, b), np.empty(work), out),
        draw,
    )
