"""Attachment to companions grows from being understood (ODD 7.5).

    understanding = empathy * (0.5 + 0.5 * emotional_knowledge)
    heard         = 1 - exp(-understanding * minutes / companion_need_minutes)
    attachment   <- attachment + (1 - attachment)(1 - exp(-rate * heard))
    attachment   <- attachment * exp(-(decay + erosion * perceived_manipulation))

A minute with a companion makes a user feel understood as far as the companion responds to
emotion (its ``empathy``, a lever) and knows the user's moods and their shared history
(emotional knowledge, ODD 7.4, which each companion keeps of its own users and which is lost on
switching; on the free tier its replies use only the share ``free_memory`` of it, ODD 7.8). How
heard a user feels in a day saturates in minutes, as loneliness relief does
(``social.companion_need_minutes``, ODD 7.6): attachment grows with days of feeling understood,
not with hours of use, so minutes a companion captures with hooks add little to it. Attachment
decays every day and is eroded by perceived manipulation. It adds reflective value and
impulsive pull (ODD 7.2), which no rival offers a user who leaves (ODD 7.11), and, through the
minutes users want, the worth of a subscription (ODD 7.8).
"""

from __future__ import annotations

import math

from sim.model import compiled, levers
from sim.model.compiled import jit
from sim.model.mechanisms.learning import learned, recalled

SWITCH = "attachment"
PARAMS = ("attachment", "social")  # the parameter sections it reads
STATE = ("attachment",)  # the user state it owns (others may read it)


@jit
def understanding(empathy, emotional_knowledge):
    """How understood a minute with the companion makes the user feel: its empathy, more so
    when it knows the user's moods and shared history."""
    return empathy * (0.5 + 0.5 * emotional_knowledge)


@jit
def understanding_today(users, i, j, empathy, free_memory):
    """:func:`understanding` of companion ``j`` for user ``i`` today: its empathy and what its
    replies draw on of what it knows of the user (all of it for a subscriber, ``free_memory``
    of it on the free tier, ODD 7.4, 7.8); ``empathy`` and ``free_memory`` are lever tables."""
    known = recalled(
        users.emotional_knowledge[i, j], users.subscribed[i, j], levers.lever(free_memory, i, j)
    )
    return understanding(levers.lever(empathy, i, j), known)


@jit
def heard(understood_minutes, need_minutes):
    """Share of the need to be heard that ``understood_minutes`` (minutes weighted by
    :func:`understanding`) meet: diminishing returns in minutes."""
    return -math.expm1(-understood_minutes / need_minutes)


@jit
def unmet_need(understood_usual, need_minutes):
    """Share of the need to be heard that a usual day leaves unmet, ``1 - heard`` at the
    understood minutes of a usual day: what one more understood minute adds, relative to the
    first (the derivative of :func:`heard` times ``need_minutes``; ODD 7.2)."""
    if understood_usual == 0.0:  # a usual day without being understood: all of it (exp 0)
        return 1.0
    return math.exp(-understood_usual / need_minutes)


@jit
def beyond_margin(weight, understood_minutes, unmet, need_minutes):
    """What a day's being heard is worth beyond its value at the margin, in utility-minutes:
    ``need_minutes * heard`` (the day's whole worth, in understood minutes at full value) less
    ``understood_minutes * unmet`` (what the day's choice counted, every minute at the margin),
    times ``weight``, the value of a fully understood minute to the user, ``choice.heard_value
    * loneliness`` (ODD 7.6, 7.7); 0 on a day without being heard."""
    if understood_minutes <= 0.0:
        return 0.0
    whole = need_minutes * heard(understood_minutes, need_minutes)
    return weight * (whole - understood_minutes * unmet)


@jit
def attachment_after(attachment, heard_today, perceived_manipulation, k):
    """Tomorrow's attachment (module docstring)."""
    grown = learned(attachment, k.rate, heard_today) if heard_today > 0.0 else attachment
    if grown == 0.0:  # no attachment to decay
        return grown
    return grown * math.exp(-(k.decay + k.manipulation_erosion * perceived_manipulation))


@jit
def attach(start, stop, users, k, need_minutes, empathy, free_memory, is_companion):
    """:func:`attachment_after` for users ``start`` to ``stop`` and every companion."""
    for i in range(start, stop):
        for j in range(users.attachment.shape[1]):
            if is_companion[j]:
                m, heard_today = users.minutes[i, j], 0.0  # not heard without use
                if m > 0.0:
                    understood = understanding_today(users, i, j, empathy, free_memory)
                    heard_today = heard(understood * m, need_minutes)
                users.attachment[i, j] = attachment_after(
                    users.attachment[i, j], heard_today, users.perceived_manipulation[i, j], k
                )


def step(model, today) -> None:
    """Attachment grows with days of feeling understood and decays."""
    comp = model.is_companion
    if not model.params.mechanisms.attachment or not comp.any():
        return
    u, k = model.users, compiled.constants(model.params.attachment)
    need, tables = model.params.social.companion_need_minutes, today.levers.tables
    empathy, memory = tables["empathy"], tables["free_memory"]
    compiled.each_block(
        compiled.blocks(u.n), lambda _, a, b: attach(a, b, u, k, need, empathy, memory, comp)
    )
