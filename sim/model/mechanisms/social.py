"""Loneliness and human ties (ODD 7.6).

Socialising needs time from both sides of a tie. User i offers its planned social minutes s_i
to its ties in proportion to their strength; a tie carries the smaller of the two offers:

    t_ij = min(s_i w_ij / sum_k w_ik, s_j w_ji / sum_k w_jk)

Ties strengthen with time together and decay without it:

    w <- w + (1 - w)(1 - exp(-tie_growth * t / 60)) - tie_decay * w

Loneliness moves toward a target set by how much social need was met today, by people
(S, weighted by tie strength) and by companions (K, with diminishing returns in minutes and a
novelty that wears off with days of use):

    S = 1 - exp(-sum_j w_ij t_ij / need_minutes)
    K = relief * novelty * (1 - exp(-sum_c heard_ic m_ic / companion_need_minutes))
    target = clip(baseline * (1 + sensitivity * (reference - (1 - (1 - S)(1 - K)))), 0, 1)
    loneliness <- loneliness + adjustment * (target - loneliness)

Time a companion takes from socialising lets ties decay, so heavy use can leave people lonelier.
Planned social minutes that no friend reciprocates go to other offline life.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from sim.model import compiled
from sim.model.compiled import jit
from sim.model.mechanisms.attachment import warmth

SWITCH = "social"
PARAMS = ("social",)  # the parameter sections it reads
STATE = (
    "loneliness",
    "social_minutes",
    "companion_exposure",
    "companion_minutes_avg",
)  # the user state it owns (others may read it)

# weight of today in the moving average of companion minutes (about a week)
COMPANION_AVERAGE_WEIGHT = 0.25


@jit
def offer_share(strength, total_strength, degree):
    """Share of a user's planned social minutes offered to one tie: its strength over the
    user's total, equal shares for a user whose ties all have strength 0."""
    if total_strength <= 0.0 and degree > 0:
        return 1.0 / degree
    return strength / max(total_strength, 1e-12)


@jit
def tie_after(strength, together, k):
    """Tomorrow's strength of a tie after ``together`` minutes today."""
    grown = strength + (1.0 - strength) * -math.expm1(-k.tie_growth * together / 60.0)
    return min(max(grown - k.tie_decay * strength, 0.0), 1.0)


@jit
def heard(empathy, emotional_knowledge, attachment):
    """How much a minute with a companion makes the user feel heard."""
    return warmth(empathy, emotional_knowledge) * (0.5 + 0.5 * attachment)


@jit
def companion_relief(heard_minutes, days_of_use, k):
    """K: share of today's social need met by companions, with diminishing returns in minutes
    and a novelty that wears off with days of use."""
    novelty = k.novelty_floor + (1.0 - k.novelty_floor) * math.exp(-days_of_use / k.novelty_days)
    return k.companion_relief * novelty * -math.expm1(-heard_minutes / k.companion_need_minutes)


@jit
def loneliness_after(loneliness, baseline, met_by_people, relief, k):
    """Loneliness moves toward the target set by the share of social need met today."""
    met = 1.0 - (1.0 - met_by_people) * (1.0 - relief)
    target = min(max(baseline * (1.0 + k.sensitivity * (k.reference_fulfilment - met)), 0.0), 1.0)
    return loneliness + k.adjustment * (target - loneliness)


@jit
def totals(start, stop, indptr, strength, total):
    """Each user's total tie strength (what a friend needs to work out the user's offer)."""
    for i in range(start, stop):
        s = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            s += strength[e]
        total[i] = s


class Day(NamedTuple):
    """What socialising reads besides the users' state and its parameters."""

    planned: np.ndarray  # (N,) minutes each user plans for socialising (the day's choice)
    total: np.ndarray  # (N,) each user's total tie strength
    social_on: bool  # mechanisms.social
    empathy: float  # companion.empathy
    is_companion: np.ndarray  # (P,)


@jit
def socialise(start, stop, users, k, ties, day, out):
    """Socialising, ties and loneliness of users ``start`` to ``stop`` (module docstring). A
    tie's strength is the same from both ends and both ends work out the same minutes
    together, so each end updates its own copy. ``out`` (3, N) gets need met by people,
    companion relief and mean tie strength."""
    indptr, target, degree, strength = ties
    planned, total, social_on, empathy, is_companion = day
    for i in range(start, stop):
        together_sum = contact = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            w, f = strength[e], target[e]
            offer = planned[i] * offer_share(w, total[i], degree[i])
            other = planned[f] * offer_share(w, total[f], degree[f])
            together = min(offer, other)
            together_sum += together
            contact += w * together
            if social_on:
                strength[e] = tie_after(w, together, k)
        realised = min(together_sum, planned[i])
        users.offline_minutes[i] += planned[i] - realised
        users.social_minutes[i] = realised
        heard_minutes = companion_minutes = 0.0
        for j in range(users.minutes.shape[1]):
            if is_companion[j]:
                m = users.minutes[i, j]
                a = users.attachment[i, j]
                heard_minutes += heard(empathy, users.emotional_knowledge[i, j], a) * m
                companion_minutes += m
        relief = companion_relief(heard_minutes, users.companion_exposure[i], k)
        if companion_minutes > 0.0:
            users.companion_exposure[i] += 1.0
        average = users.companion_minutes_avg[i]
        users.companion_minutes_avg[i] = average + COMPANION_AVERAGE_WEIGHT * (
            companion_minutes - average
        )
        met_by_people = -math.expm1(-contact / k.need_minutes)
        out[0, i] = met_by_people
        out[1, i] = relief
        s = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            s += strength[e]
        out[2, i] = s / max(degree[i], 1)
        if social_on:
            users.loneliness[i] = loneliness_after(
                users.loneliness[i], users.loneliness_baseline[i], met_by_people, relief, k
            )


def step(model, today) -> None:
    """Realise today's socialising; update ties and loneliness. Also keeps each user's mean tie
    strength for the rest of the day (``today.tie_mean``)."""
    u, net = model.users, model.network
    k = compiled.constants(model.params.social)
    ties = net.ties()
    spans = compiled.blocks(u.n)
    total = model.work("social.total", u.n)
    compiled.each_block(spans, lambda _, a, b: totals(a, b, net.indptr, net.strength, total))
    out = model.work("social.out", (3, u.n))
    prm = model.params
    day = Day(
        today.planned_social,
        total,
        prm.mechanisms.social,
        prm.companion.empathy,
        model.is_companion,
    )
    compiled.each_block(spans, lambda _, a, b: socialise(a, b, u, k, ties, day, out))
    today.social_met, today.companion_relief, today.tie_mean = out
