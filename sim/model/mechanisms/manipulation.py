"""Manipulative retention: emotional tactics when a user says goodbye to a companion (ODD 7.10).

At each companion session's end a tactic is used with probability ``manipulation`` (a lever).
A tactic works on the impulsive self: it adds ``extra_minutes * (1 - self_control)`` minutes
(none with the two-selves mechanism off), taken from other offline life, never beyond the day's
cap on that provider (free tier, interventions), and counted as compulsive. It raises perceived
manipulation, which fades at ``perception_decay``:

    perceived <- perceived * (1 - perception_decay) + perception * tactic * (1 - perceived)

Perceived manipulation lowers reflective value (ODD 7.2), erodes attachment (7.5), raises
quitting (7.11) and dampens word of mouth (7.11).
"""

from __future__ import annotations

import numpy as np

from sim.model import compiled, levers
from sim.model.compiled import jit
from sim.model.mechanisms.business import daily_cap, free_tier

SWITCH = "manipulation"
PARAMS = ("manipulation",)  # the parameter sections it reads
STATE = ("perceived_manipulation",)  # the user state it owns (others may read it)


@jit
def perceived_after(perceived, tactic, k):
    """Tomorrow's perceived manipulation: today's, faded, plus what a tactic adds."""
    faded = perceived * (1.0 - k.perception_decay)
    return faded + (k.perception if tactic else 0.0) * (1.0 - faded)


@jit
def farewells(
    start, stop, users, k, companions, draws, tactic_rate, two_selves, cap, free_minutes, compulsive
):
    """Farewells of users ``start`` to ``stop`` with the companions ``companions`` (columns),
    from their uniforms ``draws`` (K, block); returns (tactics, sessions). Every provider's
    perceived manipulation fades, also where no session ended."""
    tactics = sessions = 0
    for i in range(start, stop):
        for j in range(users.perceived_manipulation.shape[1]):
            users.perceived_manipulation[i, j] *= 1.0 - k.perception_decay
        for c in range(companions.shape[0]):
            j = companions[c]
            m = users.minutes[i, j]
            if m <= 0.0:
                continue
            sessions += 1
            tactic = draws[c, i - start] < levers.lever(tactic_rate, i, j)
            if not tactic:
                continue
            tactics += 1
            pull = k.extra_minutes * (1.0 - users.self_control[i]) if two_selves else 0.0
            free = free_tier(True, users.subscribed[i, j], free_minutes)
            room = daily_cap(cap, i, j, free) - m
            extra = min(pull, users.offline_minutes[i], room)
            users.minutes[i, j] = m + extra
            users.offline_minutes[i] -= extra
            users.compulsive_minutes[i] += extra
            compulsive[i, j] += extra
            pm = users.perceived_manipulation[i, j]  # already faded today
            users.perceived_manipulation[i, j] = pm + k.perception * (1.0 - pm)
    return tactics, sessions


def step(model, today) -> None:
    """Companions meet farewells with tactics; perceived manipulation fades."""
    u, mp = model.users, model.params.manipulation
    on = model.params.mechanisms.manipulation
    companions = [p for p in model.providers if p.kind == "companion"] if on else []
    columns = np.array([p.column for p in companions], np.int64)
    streams = [model.streams(f"farewell:{p.name}", model.day) for p in companions]
    draws = compiled.block_buffer(model, "manipulation.draws", u.n, (max(len(streams), 1),))
    k = compiled.constants(mp)
    cap = compiled.per_user(today.constraints.cap, u.n)
    rate = today.levers.tables["manipulation"]
    two_selves = model.params.mechanisms.two_selves
    free = model.params.companion.free_minutes

    def say_goodbye(_, a, b):
        x = draws(a, b)
        return farewells(a, b, u, k, columns, x, rate, two_selves, cap, free, today.compulsive)

    counts = compiled.each_block(
        compiled.blocks(u.n), say_goodbye, compiled.uniforms(streams, draws) if streams else None
    )
    today.tactics = sum(c[0] for c in counts)
    today.sessions = sum(c[1] for c in counts)
    if not on:  # sessions are still counted, for the farewell share
        comp = model.is_companion
        today.sessions = int((u.minutes[:, comp] > 0).sum())
