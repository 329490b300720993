"""Manipulative retention: emotional tactics when a user says goodbye to a companion
(MODEL.md mechanism 10; ODD 7.10).

At each companion session's end a tactic is used with probability ``manipulation`` (a lever).
A tactic works on the impulsive self: it adds ``extra_minutes * (1 - self_control)`` minutes
(none with the two-selves mechanism off), taken from other offline life, never beyond the day's
cap on that provider (free tier, interventions), and counted as compulsive. It raises perceived
manipulation, which fades at ``perception_decay``:

    perceived <- perceived * (1 - perception_decay) + perception * tactic * (1 - perceived)

Perceived manipulation lowers reflective value (mechanism 2), erodes attachment (5), raises
quitting (11) and dampens word of mouth (11).
"""

from __future__ import annotations

import numpy as np

from sim.model import kernels
from sim.model.kernels import stocks


def farewells(model) -> None:
    u, mp, today = model.users, model.params.manipulation, model.today
    pm = u.perceived_manipulation
    today.tactics = 0
    on = model.params.mechanisms.manipulation
    if kernels.enabled() and on and model.is_companion.any():
        # the kernel also fades perceived manipulation and counts sessions, user by user
        companions = [p for p in model.providers if p.kind == "companion"]
        columns = np.array([p.column for p in companions], np.int64)
        streams = [model.streams(f"farewell:{p.name}", model.day) for p in companions]
        draws = kernels.block_buffer(model, "manipulation.draws", u.n, (len(streams),))
        cap_iv = kernels.per_user(today.constraints.cap, u.n)

        def say_goodbye(_, start, stop):
            return stocks.farewells(
                start,
                stop,
                columns,
                draws(start, stop),
                u.minutes,
                today.levers.tables["manipulation"],
                u.self_control,
                model.params.mechanisms.two_selves,
                mp.extra_minutes,
                u.offline_minutes,
                cap_iv,
                u.subscribed,
                model.params.companion.free_minutes,
                u.compulsive_minutes,
                today.compulsive,
                pm,
                1.0 - mp.perception_decay,
                mp.perception,
            )

        counts = kernels.each_block(
            kernels.blocks(u.n), say_goodbye, kernels.uniforms(streams, draws)
        )
        today.tactics = sum(c[0] for c in counts)
        today.sessions = sum(c[1] for c in counts)
        return
    pm *= 1.0 - mp.perception_decay
    today.sessions = int((u.minutes[:, model.is_companion] > 0).sum())
    if not on or kernels.enabled():  # the compiled path has no companions to work on here
        return
    tactic_rate = np.broadcast_to(today.levers["manipulation"], u.minutes.shape)
    for p in model.providers:
        if p.kind != "companion":
            continue
        j = p.column
        in_session = u.minutes[:, j] > 0
        tactic = in_session & (
            model.streams(f"farewell:{p.name}", model.day).random(u.n) < tactic_rate[:, j]
        )
        pull = (
            mp.extra_minutes * (1.0 - u.self_control) if model.params.mechanisms.two_selves else 0.0
        )
        extra = np.where(tactic, pull, 0.0)
        extra = np.minimum(extra, np.minimum(u.offline_minutes, today.cap[:, j] - u.minutes[:, j]))
        u.minutes[:, j] += extra
        u.offline_minutes -= extra
        u.compulsive_minutes += extra
        today.compulsive[:, j] += extra
        pm[:, j] += mp.perception * tactic * (1.0 - pm[:, j])
        today.tactics += int(tactic.sum())
