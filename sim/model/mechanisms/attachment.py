"""Attachment to companions (MODEL.md mechanism 5; ODD 7.5).

    attachment <- attachment + (1 - attachment)(1 - exp(-rate * empathy * (0.5 + 0.5 emotional) * hours))
    attachment <- attachment * exp(-(decay + erosion * perceived_manipulation))

Time builds attachment, faster with empathy and with what the companion knows of the user's
moods; it decays every day and is eroded by perceived manipulation. Attachment makes users feel
heard (mechanism 6), adds reflective value and impulsive pull (mechanism 2), raises switching
costs (mechanism 11) and willingness to pay (mechanism 8).
"""

from __future__ import annotations

import numpy as np

from sim.model import kernels
from sim.model.kernels import stocks


def update(model) -> None:
    u, ap = model.users, model.params.attachment
    comp = model.is_companion
    if not model.params.mechanisms.attachment or not comp.any():
        return
    if kernels.enabled():
        args = kernels.block_buffer(model, "stocks.args", u.n, (2,), (u.minutes.shape[1],))

        def attach(_, start, stop):
            e = args(start, stop)
            stocks.learn_and_attachment_arguments(
                start,
                stop,
                u.minutes,
                e,
                u.knowledge,
                u.emotional_knowledge,
                False,
                0.0,
                True,
                comp,
                model.companion_empathy,
                ap.rate,
                ap.decay,
                ap.manipulation_erosion,
                u.perceived_manipulation,
                e,
            )
            np.expm1(e[0], out=e[0])
            np.exp(e[1], out=e[1])
            stocks.attach(start, stop, e, u.attachment, comp)

        kernels.each_block(kernels.blocks(u.n), attach)
        return
    a = u.attachment[:, comp]
    hours = u.minutes[:, comp] / 60.0
    warmth = model.companion_empathy * (0.5 + 0.5 * u.emotional_knowledge[:, comp])
    a += (1.0 - a) * -np.expm1(-ap.rate * warmth * hours)
    a *= np.exp(-(ap.decay + ap.manipulation_erosion * u.perceived_manipulation[:, comp]))
    u.attachment[:, comp] = a
