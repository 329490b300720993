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
    K = relief * novelty * (1 - exp(-sum_c understanding_ic m_ic / companion_need_minutes))
    met = 1 - (1 - S)(1 - K)
    target = clip(baseline * (1 + sensitivity * (reference - met)), 0, 1)
    loneliness <- loneliness + adjustment * (target - loneliness)

A companion relieves loneliness as far as it makes the user feel understood (its empathy and
what it knows of the user and uses, ODD 7.5): a first session with an empathic companion
already does.
Time a companion takes from socialising lets ties decay, so heavy use can leave people lonelier.
Planned social minutes that no friend reciprocates go to other offline life.

How lonely a user feels is their loneliness less what contact meets of their need:
``loneliness * (1 - met)`` after it against ``loneliness`` before it. Laboratory studies measure
it just before and just after a prescribed session (ODD 7.13, 7.14), so a session changes it by
``-loneliness * met_session``, with ``met_session`` the share of need the session's own minutes
meet (people and companions combined as above, with that day's novelty; a friend who comes to
a session meets the user, but the session measured is the user's own).

A session prescribed with a friend (ODD 7.13) is spent with the friend of the user's strongest
tie, who comes: the tie carries the session's minutes on top of the reciprocated ones, and the
friend's minutes come from their other offline life (shortened in proportion where a friend's
sessions would take more of it than they have; what the friend cannot give, or all of it for a
user without ties, goes to the user's other offline life).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from sim.model import compiled
from sim.model.compiled import at, jit
from sim.model.mechanisms.attachment import heard, understanding_today
from sim.model.mechanisms.dependence import distress, withdrawal

SWITCH = "social"
PARAMS = ("social", "dependence", "choice")  # the parameter sections it reads
STATE = (
    "loneliness",
    "social_minutes",
    "companion_exposure",
    "understood_usual",
)  # the user state it owns


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
def novelty(days_of_use, k):
    """How new companions still are to a user after ``days_of_use`` days of use: 1 at first,
    wearing off toward ``novelty_floor``."""
    return k.novelty_floor + (1.0 - k.novelty_floor) * math.exp(-days_of_use / k.novelty_days)


@jit
def companion_relief(understood_minutes, newness, k):
    """K: share of today's social need met by companions, as far as they make the user feel
    heard (diminishing returns in minutes) and with their ``newness`` (:func:`novelty`), which
    wears off with days of use."""
    return k.companion_relief * newness * heard(understood_minutes, k.companion_need_minutes)


@jit
def met_by(contact, k):
    """S: share of social need met by ``contact`` (minutes weighted by tie strength)."""
    return -math.expm1(-contact / k.need_minutes)


@jit
def fulfilment(met_by_people, relief):
    """Share of today's social need met, by people and by companions."""
    return 1.0 - (1.0 - met_by_people) * (1.0 - relief)


@jit
def felt_change(loneliness, met):
    """How contact that meets the share ``met`` of social need changes the loneliness a user
    feels: from ``loneliness`` before it to ``loneliness * (1 - met)`` after it."""
    return -loneliness * met


@jit
def loneliness_after(loneliness, baseline, met_by_people, relief, added, k):
    """Loneliness moves toward the target set by the share of social need met today, raised
    by ``added``, the distress of a dependence left unanswered (ODD 7.15)."""
    met = fulfilment(met_by_people, relief)
    target = baseline * (1.0 + k.sensitivity * (k.reference_fulfilment - met)) + added
    target = min(max(target, 0.0), 1.0)
    return loneliness + k.adjustment * (target - loneliness)


@jit
def totals(start, stop, indptr, strength, total):
    """Each user's total tie strength (what a friend needs to work out the user's offer)."""
    for i in range(start, stop):
        s = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            s += strength[e]
        total[i] = s


@jit
def reciprocate(start, stop, ties, reverse, day, k):
    """The ties of users ``start`` to ``stop`` to later users, each worked out once for both of
    its ends (their copies of its strength are equal, and both ends would work out the same):
    into ``day.together`` the minutes both offers hold (t_ij, module docstring), into
    ``day.after`` tomorrow's strength, after those and the day's prescribed session on the tie.
    Each tie's pair of entries is written by its earlier end only, so blocks of users may run
    side by side."""
    indptr, target, degree, strength = ties
    planned, sessions, total = day.planned, day.sessions, day.total
    with_sessions = sessions.shape[0] > 0
    for i in range(start, stop):
        for e in range(indptr[i], indptr[i + 1]):
            f = target[e]
            if f < i:  # worked out by its earlier end
                continue
            w = strength[e]
            offer = planned[i] * offer_share(w, total[i], degree[i])
            other = planned[f] * offer_share(w, total[f], degree[f])
            together = min(offer, other)
            after = w
            if day.social_on:
                after = tie_after(w, together + sessions[e] if with_sessions else together, k)
            r = reverse[e]
            day.together[e] = day.together[r] = together
            day.after[e] = day.after[r] = after


@jit(refcount=True)
def arrange_sessions(minutes, indptr, target, strength, reverse, offline, sessions, shift, own):
    """Sessions prescribed with friends (module docstring): each user with ``minutes`` > 0
    meets the friend of their strongest tie (the first of equals). ``sessions`` (E,) gets each
    tie's session minutes on both of its sides; ``shift`` (N,) what each user's other offline
    life gains (what a session could not hold) or gives (a friend's time); ``own`` (N,) the
    contact of each user's own session (tie strength x minutes held), not of those they come
    to."""
    n = minutes.shape[0]
    hosted = np.zeros(n)
    chosen = np.full(n, -1, np.int64)
    for i in range(n):
        if minutes[i] <= 0.0:
            continue
        best, w = -1, -1.0
        for e in range(indptr[i], indptr[i + 1]):
            if strength[e] > w:
                best, w = e, strength[e]
        chosen[i] = best
        if best >= 0:
            hosted[target[best]] += minutes[i]
        else:
            shift[i] += minutes[i]
    for i in range(n):
        e = chosen[i]
        if e < 0:
            continue
        f = target[e]
        held = minutes[i] * min(1.0, offline[f] / hosted[f])
        sessions[e] += held
        sessions[reverse[e]] += held
        own[i] = strength[e] * held
        shift[i] += minutes[i] - held
        shift[f] -= held


class HeardDay(NamedTuple):
    """The day's being heard, for what it is worth beyond the margin (ODD 7.2, 7.7): each
    user's understood companion minutes, the unmet need of their usual day the choice valued
    them at, and the value of a fully understood minute to them."""

    understood: np.ndarray  # (N,)
    unmet: np.ndarray  # (N,)
    weight: np.ndarray  # (N,) choice.heard_value * loneliness


class Day(NamedTuple):
    """What socialising reads besides the users' state and its parameters."""

    planned: np.ndarray  # (N,) minutes each user plans for socialising (the day's choice)
    sessions: np.ndarray  # (E,) prescribed session minutes on each tie, or (0,) for none
    total: np.ndarray  # (N,) each user's total tie strength
    social_on: bool  # mechanisms.social
    empathy: tuple  # lever table (sim.model.levers)
    free_memory: tuple  # lever table
    prescribed: np.ndarray  # (N or 1, P + 2) minutes prescribed per option (ODD 7.13)
    own: np.ndarray  # (N,) contact of each user's own session with a friend, or (0,) for none
    distress: float  # dependence.distress, 0 with mechanisms.dependence off (ODD 7.15)
    is_companion: np.ndarray  # (P,)
    heard: np.ndarray  # (N, P) written: how heard each companion made each user feel (ODD 7.5)
    heard_value: float  # choice.heard_value
    understood: np.ndarray  # (N,) written: today's understood companion minutes (ODD 7.6)
    heard_weight: np.ndarray  # (N,) written: heard_value * loneliness, as the choice valued it
    together: np.ndarray  # (E,) written: minutes both ends' offers hold on each tie
    after: np.ndarray  # (E,) written: each tie's strength tomorrow


@jit
def socialise(start, stop, users, k, ties, day, out):
    """Socialising, ties and loneliness of users ``start`` to ``stop`` (module docstring), with
    each tie's minutes together and strength tomorrow from :func:`reciprocate`: a tie's
    strength is the same from both ends, and each end updates its own copy. ``out`` (4, N)
    gets need met by people, companion relief, mean tie strength and the change of felt
    loneliness over the day's prescribed session; ``day.heard`` (N, P) how heard each companion
    made each user feel."""
    indptr, degree, strength = ties.indptr, ties.degree, ties.strength
    planned, sessions, _, social_on, empathy, memory, prescribed, own, weight = day[:9]
    is_companion = day.is_companion
    heard_by = day.heard
    with_sessions = sessions.shape[0] > 0
    for i in range(start, stop):
        together_sum = session_sum = contact = strength_sum = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            w, together = strength[e], day.together[e]
            together_sum += together
            if with_sessions:
                together += sessions[e]
                session_sum += sessions[e]
            contact += w * together
            strength[e] = day.after[e]
            strength_sum += strength[e]  # tomorrow's, for the mean tie strength
        realised = min(together_sum, planned[i])
        users.offline_minutes[i] += planned[i] - realised
        users.social_minutes[i] = realised + session_sum
        understood = session_understood = unanswered = 0.0
        used = False
        for j in range(users.minutes.shape[1]):
            if is_companion[j]:
                m = users.minutes[i, j]
                h = 0.0  # not heard without use
                if m > 0.0:
                    u = understanding_today(users, i, j, empathy, memory)
                    understood += u * m
                    session_understood += u * min(prescribed[at(prescribed, i), j], m)
                    h = heard(u * m, k.companion_need_minutes)
                    used = True
                heard_by[i, j] = h
                unanswered = max(unanswered, withdrawal(users.dependence[i, j], h))
        usual = users.understood_usual[i]
        day.understood[i] = understood
        day.heard_weight[i] = day.heard_value * users.loneliness[i]  # the morning's loneliness
        users.understood_usual[i] = usual + k.usual_memory * (understood - usual)
        newness = novelty(users.companion_exposure[i], k)  # the day's, for both reliefs
        relief = companion_relief(understood, newness, k)
        session_relief = companion_relief(session_understood, newness, k)
        if used:
            users.companion_exposure[i] += 1.0
        met_by_people = met_by(contact, k)
        out[0, i] = met_by_people
        out[1, i] = relief
        out[2, i] = strength_sum / max(degree[i], 1)
        own_contact = own[i] if with_sessions else 0.0  # not the sessions they come to
        session_met = fulfilment(met_by(own_contact, k), session_relief)
        out[3, i] = felt_change(users.loneliness[i], session_met)
        if social_on:
            users.loneliness[i] = loneliness_after(
                users.loneliness[i],
                users.loneliness_baseline[i],
                met_by_people,
                relief,
                distress(unanswered, met_by_people, weight),
                k,
            )


def sessions(model, today) -> tuple[np.ndarray, np.ndarray]:
    """(E,) minutes of today's sessions prescribed with friends on each tie, with the friends'
    time taken from their other offline life, and (N,) the contact of each user's own session
    (:func:`arrange_sessions`); both (0,) when there are none. Each user's minutes in sessions
    go to ``today.session_minutes`` (None: none)."""
    u, net = model.users, model.network
    today.session_minutes = None
    if not today.constraints.any_prescribed or not today.session.any():
        return np.zeros(0), np.zeros(0)
    on_ties = np.zeros(net.target.shape[0])
    shift, own = np.zeros(u.n), np.zeros(u.n)
    arrange_sessions(
        today.session,
        net.indptr,
        net.target,
        net.strength,
        net.reverse,
        u.offline_minutes,
        on_ties,
        shift,
        own,
    )
    np.maximum(
        u.offline_minutes + shift, 0.0, out=u.offline_minutes
    )  # a friend's time, to rounding
    today.session_minutes = np.bincount(net.source, weights=on_ties, minlength=u.n)
    return on_ties, own


def step(model, today) -> None:
    """Realise today's socialising, sessions prescribed with friends included; update ties and
    loneliness. Also keeps each user's mean tie strength and the change of felt loneliness over
    the day's prescribed session, and how heard each companion made each user feel (companion
    columns only), for the rest of the day (``today.tie_mean``, ``today.session_change``,
    ``today.heard``)."""
    u, net = model.users, model.network
    k = compiled.constants(model.params.social)
    ties = net.ties()
    spans = compiled.blocks(u.n)
    total = model.work("social.total", u.n)
    compiled.each_block(spans, lambda _, a, b: totals(a, b, net.indptr, net.strength, total))
    out = model.work("social.out", (4, u.n))
    prm = model.params
    on_ties, own = sessions(model, today)
    day = Day(
        today.planned_social,
        on_ties,
        total,
        prm.mechanisms.social,
        today.levers.tables["empathy"],
        today.levers.tables["free_memory"],
        compiled.per_user(today.constraints.prescribed, u.n),
        own,
        prm.dependence.distress if prm.mechanisms.dependence else 0.0,
        model.is_companion,
        model.work("social.heard", u.minutes.shape),
        prm.choice.heard_value,
        model.work("social.understood", u.n),
        model.work("social.heard_weight", u.n),
        model.work("social.together", net.target.shape[0]),
        model.work("social.after", net.target.shape[0]),
    )
    reverse = net.reverse
    compiled.each_block(spans, lambda _, a, b: reciprocate(a, b, ties, reverse, day, k))
    compiled.each_block(spans, lambda _, a, b: socialise(a, b, u, k, ties, day, out))
    today.social_met, today.companion_relief, today.tie_mean, today.session_change = out
    today.heard = day.heard
    today.heard_day = HeardDay(day.understood, today.unmet, day.heard_weight)
