"""Learning about the user: each provider's knowledge grows with exposure, with diminishing
returns (MODEL.md mechanism 4; ODD 7.4).

    knowledge <- knowledge + (1 - knowledge) (1 - exp(-rate * personalisation * hours))
    emotional <- emotional + (1 - emotional) (1 - exp(-emotional_rate * personalisation * empathy * hours))

and both fade by ``forgetting`` per day without use. Knowledge raises match quality
``fit + (1 - fit) knowledge`` (more enjoyment and more "moreish" pull, mechanism 2);
companions' emotional knowledge makes users feel heard (mechanisms 5, 6).
"""

from __future__ import annotations

import numpy as np

from sim.model import kernels
from sim.model.kernels import stocks


def update(model) -> None:
    if kernels.enabled():
        return _update_compiled(model)
    u, lp, today = model.users, model.params.learning, model.today
    if not model.params.mechanisms.learning:
        return
    hours = u.minutes / 60.0
    depth = np.asarray(today.levers["personalisation"])
    u.knowledge += (1.0 - u.knowledge) * -np.expm1(-lp.rate * depth * hours)
    comp = model.is_companion
    if comp.any():
        rate = (
            lp.emotional_rate
            * np.broadcast_to(depth, u.minutes.shape)[:, comp]
            * model.companion_empathy
        )
        ek = u.emotional_knowledge[:, comp]
        ek += (1.0 - ek) * -np.expm1(-rate * hours[:, comp])
        u.emotional_knowledge[:, comp] = ek
    # knowledge fades where unused: a multiplier of 1 elsewhere (faster than masked updates)
    forget = np.where(u.minutes == 0.0, 1.0 - lp.forgetting, 1.0)
    u.knowledge *= forget
    u.emotional_knowledge *= forget


def _update_compiled(model) -> None:
    """:func:`update` with :mod:`sim.model.kernels.stocks`, bit for bit."""
    u, lp, on = model.users, model.params.learning, model.params.mechanisms
    if not on.learning:
        return
    args = kernels.block_buffer(model, "stocks.args", u.n, (2,), (u.minutes.shape[1],))
    depth = model.today.levers.tables["personalisation"]

    def learn(_, start, stop):
        e = args(start, stop)
        stocks.habit_and_learning_arguments(
            start,
            stop,
            u.minutes,
            u.habit,
            False,
            0.0,
            1.0,
            True,
            lp.rate,
            lp.emotional_rate,
            depth,
            model.companion_empathy,
            model.is_companion,
            e,
        )
        np.expm1(e, out=e)
        stocks.learn_and_attachment_arguments(
            start,
            stop,
            u.minutes,
            e,
            u.knowledge,
            u.emotional_knowledge,
            True,
            lp.forgetting,
            False,
            model.is_companion,
            0.0,
            0.0,
            0.0,
            0.0,
            u.perceived_manipulation,
            e,
        )

    kernels.each_block(kernels.blocks(u.n), learn)
