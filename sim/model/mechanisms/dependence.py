"""Dependence on a companion: a state that grows when the companion meets social need that
people leave unmet, and has consequences (ODD 7.15).

    substitution = heard * (1 - S)
    dependence  <- dependence + (1 - dependence)(1 - exp(-rate * substitution))
    dependence  <- dependence * (1 - decay)

with ``heard`` how heard the companion made the user feel today (ODD 7.5) and ``S`` the share of
their social need people met today (ODD 7.6). Being heard by a companion on days when people
meet the need builds attachment (7.5) but little dependence; on days when they do not, it
substitutes for them, and dependence builds. It fades every day, faster than it builds once the
need is met by people or the companion is not used.

What dependence does is read where it acts:

- a pull above reflective value, ``choice.dependence_pull * dependence`` in the impulsive pull
  (ODD 7.2), so dependent users use the companion more than they would choose on reflection;
- distress when the companion does not hear them (an outage, a ban, a lapsed subscription):
  ``withdrawal = max_c dependence_c * (1 - heard_c)`` raises the loneliness target by
  ``dependence.distress * withdrawal`` (ODD 7.6);
- staying despite a negative surplus: ``adoption.switching_dependence * dependence`` adds to
  what leaving would cost (ODD 7.11).
"""

from __future__ import annotations

import math

from sim.model import compiled, levers
from sim.model.compiled import jit
from sim.model.mechanisms.attachment import heard_today

SWITCH = "dependence"
PARAMS = ("dependence",)  # the parameter sections it reads
STATE = ("dependence",)  # the user state it owns (others may read it)


@jit
def dependence_after(dependence, heard, met_by_people, k):
    """Tomorrow's dependence on a companion (module docstring)."""
    grown = dependence + (1.0 - dependence) * -math.expm1(-k.rate * heard * (1.0 - met_by_people))
    return grown * (1.0 - k.decay)


@jit
def withdrawal(dependence, heard):
    """Distress from one companion today: the dependence it leaves unanswered."""
    return dependence * (1.0 - heard)


@jit
def depend(start, stop, users, k, need_minutes, empathy, met_by_people, is_companion):
    """:func:`dependence_after` for users ``start`` to ``stop`` and every companion."""
    for i in range(start, stop):
        for j in range(users.dependence.shape[1]):
            if is_companion[j]:
                h = heard_today(
                    levers.lever(empathy, i, j),
                    users.emotional_knowledge[i, j],
                    users.minutes[i, j],
                    need_minutes,
                )
                users.dependence[i, j] = dependence_after(
                    users.dependence[i, j], h, met_by_people[i], k
                )


def step(model, today) -> None:
    """Dependence grows where companions stood in for people today, and fades."""
    comp = model.is_companion
    if not model.params.mechanisms.dependence or not comp.any():
        return
    u, k = model.users, compiled.constants(model.params.dependence)
    need, empathy = model.params.social.companion_need_minutes, today.levers.tables["empathy"]
    met = today.social_met
    compiled.each_block(
        compiled.blocks(u.n), lambda _, a, b: depend(a, b, u, k, need, empathy, met, comp)
    )
