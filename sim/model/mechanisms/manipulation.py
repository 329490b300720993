"""Manipulative retention: emotional tactics when a user says goodbye to a companion (ODD 7.10).

A companion session ends with an explicit goodbye with probability ``goodbye_share``: most
conversations with a companion just stop (De Freitas et al. 2025 found 11-23% ending with a
farewell), and a tactic has nothing to answer. A goodbye is met with a tactic with probability
``manipulation`` (a lever: the share of farewells met with a tactic, which is what an audit of
the apps measures), so a session meets one with probability ``goodbye_share * manipulation``;
one uniform draw per session decides both, so a tactic always follows a goodbye.
A tactic works on the impulsive self: it adds ``extra_minutes * (1 - self_control)`` minutes
(none with the two-selves mechanism off), taken from other offline life, never beyond the day's
cap on that provider (free tier, interventions), and counted as compulsive. It raises perceived
manipulation, which fades at ``perception_decay``. The tactic's pull also counts in what the
user wants of the companion today, the share of the day it would get with no cap, which prices
its subscription (ODD 7.8), whether or not the cap lets the minutes through: at the free tier's
limit a tactic can sell the paid tier instead of minutes, where the pull lifts what the user
wants above the tier. It counts in full whatever share of the day's pull a planned purchase
weighs (``choice.purchase_pull``): a user begged to stay decides in the moment, pulled.

Perceived manipulation moves as

    faded = perceived * (1 - perception_decay)
    perceived <- faded + perception * tactic * (1 - faded)

Perceived manipulation lowers reflective value (ODD 7.2), erodes attachment (7.5), raises
quitting (7.11) and dampens word of mouth (7.11). Sessions, goodbyes and tactics are also
counted apart for the users no ban protects from a provider, which is what an audit of the apps
sees.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.model import compiled, levers
from sim.model.compiled import at, jit
from sim.model.mechanisms.business import daily_cap, free_tier

SWITCH = "manipulation"
PARAMS = ("manipulation", "choice")  # the parameter sections it reads
STATE = ("perceived_manipulation",)  # the user state it owns (others may read it)


@jit
def perceived_after(perceived, tactic, k):
    """Tomorrow's perceived manipulation: today's, faded, plus what a tactic adds to it."""
    faded = perceived * (1.0 - k.perception_decay)
    return faded + (k.perception if tactic else 0.0) * (1.0 - faded)


class Day(NamedTuple):
    """What farewells read besides the users' state and the manipulation parameters."""

    rows: np.ndarray  # (P,) provider j's row of the day's uniforms; -1: no farewells to meet
    tactic_rate: tuple  # the manipulation lever's table (sim.model.levers)
    two_selves: bool  # mechanisms.two_selves: tactics work on the impulsive self
    cap: np.ndarray  # interventions' caps, one row per user or one for everyone
    free_minutes: tuple  # the free tier lever's table
    compulsive: np.ndarray  # (N, P) today's compulsive minutes, which tactics add to
    protected: np.ndarray  # (N or 1, P) bool: a ban keeps the provider's tactics from the user
    desired: np.ndarray  # (N, P) share of the day each provider would get uncapped, raised
    chosen: np.ndarray  # (N, P) the share a month is valued against, set to it (ODD 7.8)
    rest: np.ndarray  # (N, P) how other options' pulls bend the rest of the day, set to 0


@jit
def wanted_after(desired, minutes, budget):
    """The share of the day a user wants of a companion once a tactic pulls ``minutes`` more
    toward it (kept below the whole day)."""
    return min(desired + minutes / budget, 1.0 - 1e-6)


@jit
def farewells(start, stop, users, k, day, draws):
    """Farewells of users ``start`` to ``stop`` from their uniforms ``draws`` (K, block);
    returns (tactics, sessions, both among users no ban protects, explicit goodbyes, those
    among users no ban protects, and the minutes tactics added). A session ends with a goodbye
    when its draw ``u < goodbye_share`` and meets a tactic when ``u < goodbye_share * lever``.
    Every provider's perceived manipulation moves (:func:`perceived_after`), also where no
    session ended."""
    (
        rows,
        tactic_rate,
        two_selves,
        cap,
        free_minutes,
        compulsive,
        protected,
        desired,
        chosen,
        rest,
    ) = day
    tactics = sessions = audited_tactics = audited_sessions = 0
    goodbyes = audited_goodbyes = 0
    added = 0.0
    for i in range(start, stop):
        for j in range(rows.shape[0]):
            m = users.minutes[i, j]
            tactic = False
            audited = not protected[at(protected, i), j]
            if rows[j] >= 0 and m > 0.0:
                sessions += 1
                audited_sessions += audited
                u = draws[rows[j], i - start]
                if u < k.goodbye_share:  # the session ends with an explicit goodbye
                    goodbyes += 1
                    audited_goodbyes += audited
                    tactic = u < k.goodbye_share * levers.lever(tactic_rate, i, j)
            if tactic:
                tactics += 1
                audited_tactics += audited
                pull = k.extra_minutes * (1.0 - users.self_control[i]) if two_selves else 0.0
                wanted = min(pull, users.offline_minutes[i])
                desired[i, j] = wanted_after(desired[i, j], wanted, users.budget[i])
                chosen[i, j] = desired[i, j]  # a month bought on a plea is valued in the moment
                rest[i, j] = 0.0
                free = free_tier(True, users.subscribed[i, j], levers.lever(free_minutes, i, j))
                room = daily_cap(cap, i, j, free) - m  # < 0 after a prescription beyond a cap
                extra = max(min(wanted, room), 0.0)
                users.minutes[i, j] = m + extra
                users.offline_minutes[i] -= extra
                users.compulsive_minutes[i] += extra
                compulsive[i, j] += extra
                added += extra
            users.perceived_manipulation[i, j] = perceived_after(
                users.perceived_manipulation[i, j], tactic, k
            )
    return tactics, sessions, audited_tactics, audited_sessions, goodbyes, audited_goodbyes, added


def protected_users(constraints, n: int, P: int) -> np.ndarray:
    """Whether a ban on manipulative farewells (a cap of 0 on the lever) protects a user from a
    provider: (1, P) when no ban is in force, else (N, P), bool."""
    bans = [
        (users, cols)
        for users, cols, name, op, bound in constraints.lever_limits
        if name == "manipulation" and op == "max" and bound <= 0.0
    ]
    if not bans:
        return np.zeros((1, P), bool)
    protected = np.zeros((n, P), bool)
    for users, cols in bans:
        protected[np.ix_(users, cols)] = True
    return protected


def step(model, today) -> None:
    """Companions meet farewells with tactics; perceived manipulation fades."""
    u, mp = model.users, model.params.manipulation
    on = model.params.mechanisms.manipulation
    companions = [p for p in model.providers if p.kind == "companion"]
    rows = np.full(len(model.providers), -1, np.int64)
    for r, p in enumerate(companions):
        rows[p.column] = r
    streams = [model.streams(f"farewell:{p.name}", model.day) for p in companions]
    draws = compiled.block_buffer(model, "manipulation.draws", u.n, (max(len(streams), 1),))
    k = compiled.constants(mp)
    rate = today.levers.tables["manipulation"]
    if not on:  # no tactic is ever used; sessions and goodbyes are still counted
        rate = (np.zeros((1, len(rows)), np.int8), np.zeros((1, len(rows))))
    day = Day(
        rows,
        rate,
        model.params.mechanisms.two_selves,
        compiled.per_user(today.constraints.cap, u.n),
        today.levers.tables["free_minutes"],
        today.compulsive,
        protected_users(today.constraints, u.n, len(rows)),
        today.desired,
        today.chosen,
        today.rest,
    )

    def say_goodbye(_, a, b):
        return farewells(a, b, u, k, day, draws(a, b))

    counts = compiled.each_block(
        compiled.blocks(u.n), say_goodbye, compiled.uniforms(streams, draws) if streams else None
    )
    (
        today.tactics,
        today.sessions,
        today.audited_tactics,
        today.audited_sessions,
        today.farewells,
        today.audited_farewells,
        today.tactic_minutes,
    ) = (sum(c[k] for c in counts) for k in range(7))
