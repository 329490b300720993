"""Attachment to companions (ODD 7.5).

    attachment <- attachment + (1 - attachment)(1 - exp(-rate * warmth * hours))
    attachment <- attachment * exp(-(decay + erosion * perceived_manipulation))
    warmth = empathy * (0.5 + 0.5 * emotional_knowledge)

Time builds attachment, faster with empathy and with what the companion knows of the user's
moods; it decays every day and is eroded by perceived manipulation. Attachment makes users feel
heard (ODD 7.6), adds reflective value and impulsive pull (ODD 7.2), raises switching costs
(ODD 7.11) and, through the minutes users want, the worth of a subscription (ODD 7.8).
"""

from __future__ import annotations

import math

from sim.model import compiled
from sim.model.compiled import jit
from sim.model.mechanisms.learning import learned

SWITCH = "attachment"
PARAMS = ("attachment",)  # the parameter sections it reads
STATE = ("attachment",)  # the user state it owns (others may read it)


@jit
def warmth(empathy, emotional_knowledge):
    """How warm an hour with the companion feels: its empathy, more so when it knows the
    user's moods."""
    return empathy * (0.5 + 0.5 * emotional_knowledge)


@jit
def attachment_after(attachment, hours, warmth, perceived_manipulation, k):
    """Tomorrow's attachment (module docstring)."""
    grown = learned(attachment, k.rate * warmth, hours)
    return grown * math.exp(-(k.decay + k.manipulation_erosion * perceived_manipulation))


@jit
def attach(start, stop, users, k, empathy, is_companion):
    """:func:`attachment_after` for users ``start`` to ``stop`` and every companion."""
    for i in range(start, stop):
        for j in range(users.attachment.shape[1]):
            if is_companion[j]:
                users.attachment[i, j] = attachment_after(
                    users.attachment[i, j],
                    users.minutes[i, j] / 60.0,
                    warmth(empathy, users.emotional_knowledge[i, j]),
                    users.perceived_manipulation[i, j],
                    k,
                )


def step(model, today) -> None:
    """Attachment grows with warm time together and decays."""
    comp = model.is_companion
    if not model.params.mechanisms.attachment or not comp.any():
        return
    u, k, empathy = (
        model.users,
        compiled.constants(model.params.attachment),
        model.params.companion.empathy,
    )
    compiled.each_block(compiled.blocks(u.n), lambda _, a, b: attach(a, b, u, k, empathy, comp))
