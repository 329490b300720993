"""Habit: a stock per user and provider that builds with use and decays without it (ODD 7.3).

    habit <- habit + formation * (min(1, minutes / reference_minutes) - habit)

so habit is an exponential moving average of saturated use with memory 1 / formation days: it
keeps use going after a break ends and fades slowly after quitting. Its impulsive pull is
:func:`sim.model.mechanisms.two_selves.impulsive_pull`.
"""

from __future__ import annotations

from sim.model import compiled
from sim.model.compiled import jit

SWITCH = "habit"
PARAMS = ("habit",)  # the parameter sections it reads
STATE = ("habit",)  # the user state it owns (others may read it)


@jit
def habit_after(habit, minutes, formation, reference_minutes):
    """Tomorrow's habit from today's minutes (module docstring)."""
    return habit + formation * (min(1.0, minutes / reference_minutes) - habit)


@jit
def form_habits(start, stop, users, k):
    """:func:`habit_after` for users ``start`` to ``stop`` and every provider."""
    for i in range(start, stop):
        for j in range(users.habit.shape[1]):
            users.habit[i, j] = habit_after(
                users.habit[i, j], users.minutes[i, j], k.formation, k.reference_minutes
            )


def step(model, today) -> None:
    """Habits move toward today's use."""
    if not model.params.mechanisms.habit:
        return
    u, k = model.users, compiled.constants(model.params.habit)
    compiled.each_block(compiled.blocks(u.n), lambda _, a, b: form_habits(a, b, u, k))
