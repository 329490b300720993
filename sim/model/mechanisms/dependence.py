"""Dependence on a companion: a state that grows when the companion meets social need that
people leave unmet, in people prone to loneliness, and has consequences (ODD 7.15).

    x           = loneliness_baseline * heard * (1 - S)
    dependence <- dependence + rate * x * (1 - dependence) - decay * (1 - x) * dependence

with ``heard`` how heard the companion made the user feel today (ODD 7.5), ``S`` the share of
their social need people met today (ODD 7.6) and the loneliness baseline the user's trait need
(ODD 2.1). Being heard by a companion on days when people meet the need builds attachment (7.5)
but no dependence; on days when they do not, the companion substitutes for them, the more so
the more the user needs company, and dependence builds. It settles at
``rate x / (rate x + decay (1 - x))``: above one half where ``x > decay / (rate + decay)``, and
it fades once people meet the need or the companion is not used.

What dependence does is read where it acts:

- a pull above reflective value, ``choice.dependence_pull * dependence`` in the impulsive pull
  (ODD 7.2), so dependent users use the companion more than they would choose on reflection;
- distress when the companion does not hear them (an outage, a ban, a lapsed subscription) and
  people do not make up for it: ``withdrawal = max_c dependence_c * (1 - heard_c)`` raises the
  loneliness target by ``dependence.distress * (1 - S) * withdrawal`` (ODD 7.6);
- staying despite a negative surplus: ``adoption.switching_dependence * dependence`` adds to
  what leaving would cost (ODD 7.11).
"""

from __future__ import annotations

from sim.model import compiled
from sim.model.compiled import jit

SWITCH = "dependence"
PARAMS = ("dependence",)  # the parameter sections it reads
STATE = ("dependence",)  # the user state it owns (others may read it)


@jit
def substitution(need, heard, met_by_people):
    """x: how far a companion stood in for people today, weighted by the user's need."""
    return need * heard * (1.0 - met_by_people)


@jit
def dependence_after(dependence, x, k):
    """Tomorrow's dependence on a companion after a day of substitution ``x`` (module
    docstring); it stays in [0, 1] for rates up to 1."""
    return dependence + k.rate * x * (1.0 - dependence) - k.decay * (1.0 - x) * dependence


@jit
def withdrawal(dependence, heard):
    """What one companion leaves unanswered of a user's dependence today."""
    return dependence * (1.0 - heard)


@jit
def distress(unanswered, met_by_people, weight):
    """Loneliness added by a dependence left unanswered, less where people meet the need."""
    return weight * (1.0 - met_by_people) * unanswered


@jit
def depend(start, stop, users, k, heard, met_by_people, is_companion):
    """:func:`dependence_after` for users ``start`` to ``stop`` and every companion, from how
    heard each companion made each user feel today (``heard``, worked out by socialising)."""
    for i in range(start, stop):
        for j in range(users.dependence.shape[1]):
            if is_companion[j]:
                x = substitution(users.loneliness_baseline[i], heard[i, j], met_by_people[i])
                users.dependence[i, j] = dependence_after(users.dependence[i, j], x, k)


def step(model, today) -> None:
    """Dependence grows where companions stood in for people today, and fades."""
    comp = model.is_companion
    if not model.params.mechanisms.dependence or not comp.any():
        return
    u, k = model.users, compiled.constants(model.params.dependence)
    heard, met = today.heard, today.social_met
    compiled.each_block(compiled.blocks(u.n), lambda _, a, b: depend(a, b, u, k, heard, met, comp))
