"""Habit: a stock per user and provider that builds with use and decays without it
(MODEL.md mechanism 3; ODD 7.3).

    habit <- (1 - f) habit + f min(1, minutes / reference_minutes)

so habit is an exponential moving average of saturated use with memory 1/f days: it keeps use
going after a break ends and fades slowly after quitting.
"""

from __future__ import annotations

import numpy as np

from sim.model import kernels
from sim.model.kernels import stocks

NO_LEVER = (np.zeros((1, 1), np.int8), np.zeros((1, 1)))


def update(model) -> None:
    u, h = model.users, model.params.habit
    if not model.params.mechanisms.habit:
        return
    if kernels.enabled():
        kernels.each_block(
            kernels.blocks(u.n),
            lambda _, start, stop: stocks.habit_and_learning_arguments(
                start,
                stop,
                u.minutes,
                u.habit,
                True,
                h.formation,
                h.reference_minutes,
                False,
                0.0,
                0.0,
                NO_LEVER,
                0.0,
                model.is_companion,
                u.minutes[None],
            ),
        )
        return
    use = np.minimum(1.0, u.minutes / h.reference_minutes)
    u.habit += h.formation * (use - u.habit)
