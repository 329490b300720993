"""Learning about the user: each provider's knowledge grows with exposure, with diminishing
returns (ODD 7.4).

    knowledge <- knowledge + (1 - knowledge) (1 - exp(-rate * personalisation * hours))
    emotional <- emotional + (1 - emotional) (1 - exp(-emotional_rate * personalisation * empathy * hours))

and both fade by the share ``forgetting`` a day without use. Knowledge raises match quality
``fit + (1 - fit) knowledge`` (more enjoyment and more "moreish" pull, ODD 7.2); companions'
emotional knowledge makes users feel heard (ODD 7.5, 7.6). ``personalisation`` is a lever: how
deep the provider's memory of the user goes. A companion keeps all it learns, but its replies
to a free user draw on only the share ``free_memory`` (a lever) of it: the paid tier sells the
rest (ODD 7.8), so what makes a user feel understood is

    recalled emotional knowledge = emotional * (1 if subscribed else free_memory)
"""

from __future__ import annotations

import math

from sim.model import compiled, levers
from sim.model.compiled import jit

SWITCH = "learning"
PARAMS = ("learning",)  # the parameter sections it reads
STATE = ("knowledge", "emotional_knowledge")  # the user state it owns (others may read it)


@jit
def learned(known, rate, hours):
    """What is known after ``hours`` of use at learning ``rate`` per hour: diminishing returns."""
    if known == 1.0:  # all of it already
        return known
    return known + (1.0 - known) * -math.expm1(-rate * hours)


@jit
def memory_used(subscribed, free_memory):
    """Share of what a companion keeps of a user that its replies use: all of it for a
    subscriber, ``free_memory`` (a lever) on the free tier."""
    return 1.0 if subscribed else free_memory


@jit
def recalled(emotional_knowledge, subscribed, free_memory):
    """What of the companion's emotional knowledge of the user its replies draw on today."""
    return emotional_knowledge * memory_used(subscribed, free_memory)


@jit
def learn(start, stop, users, k, personalisation, empathy, is_companion):
    """Knowledge and emotional knowledge of users ``start`` to ``stop`` (module docstring);
    ``personalisation`` and ``empathy`` are lever tables (:mod:`sim.model.levers`)."""
    keep = 1.0 - k.forgetting
    for i in range(start, stop):
        for j in range(users.knowledge.shape[1]):
            m = users.minutes[i, j]
            if m == 0.0:
                users.knowledge[i, j] *= keep
                users.emotional_knowledge[i, j] *= keep
                continue
            depth = levers.lever(personalisation, i, j)
            hours = m / 60.0
            users.knowledge[i, j] = learned(users.knowledge[i, j], k.rate * depth, hours)
            if is_companion[j]:
                rate = k.emotional_rate * depth * levers.lever(empathy, i, j)
                users.emotional_knowledge[i, j] = learned(
                    users.emotional_knowledge[i, j], rate, hours
                )


def step(model, today) -> None:
    """Providers learn from today's use; what is not used fades."""
    if not model.params.mechanisms.learning:
        return
    u, k = model.users, compiled.constants(model.params.learning)
    depth, empathy = today.levers.tables["personalisation"], today.levers.tables["empathy"]
    comp = model.is_companion
    compiled.each_block(
        compiled.blocks(u.n), lambda _, a, b: learn(a, b, u, k, depth, empathy, comp)
    )
