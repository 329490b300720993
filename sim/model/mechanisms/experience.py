"""Trying a provider: how well a provider suits a user is an experience good, learned by using
it (ODD 7.16).

    familiarity <- familiarity + (1 - familiarity) (1 - exp(-trial_rate * hours))
    expected fit = FIT_PRIOR + familiarity * (fit - FIT_PRIOR)

A user who has not used a provider knows only what such providers are like on average
(:data:`sim.model.population.FIT_PRIOR`, the mean of the fits users draw); each hour of use
shows them more of how well its content suits them (Nelson 1970). Choices, what a
subscription is worth (ODD 7.8) and what a rival is expected to be worth (ODD 7.11) all rest on
the expected fit, so a free tier can work as a trial: a companion whose free tier gives no
minutes sells its paid tier to users who know it only by its kind. What users have learned of a
provider is not forgotten, and a friend recommends a provider in proportion to how well they
know it (word of mouth, ODD 7.11), so users who never used it do not. Being heard (ODD 7.5) is
not part of what is learned: ODD 7.16 says what the mechanism leaves out.
"""

from __future__ import annotations

from sim.model import compiled
from sim.model.compiled import jit
from sim.model.mechanisms.learning import learned

SWITCH = "experience"
PARAMS = ("learning",)  # the parameter sections it reads
STATE = ("familiarity",)  # the user state it owns (others may read it)


@jit
def expected_fit(fit, familiarity, prior):
    """How well the user expects a provider to suit them: the ``prior`` of its kind, moved
    toward its true ``fit`` by what use has shown them (module docstring)."""
    return prior + familiarity * (fit - prior)


@jit
def get_to_know(start, stop, users, trial_rate):
    """Familiarity of users ``start`` to ``stop`` with every provider after today's use."""
    for i in range(start, stop):
        for j in range(users.familiarity.shape[1]):
            hours = users.minutes[i, j] / 60.0
            if hours > 0.0:
                users.familiarity[i, j] = learned(users.familiarity[i, j], trial_rate, hours)


def step(model, today) -> None:
    """Users learn how well the providers they used today suit them."""
    if not model.params.mechanisms.experience:
        return
    u, rate = model.users, model.params.learning.trial_rate
    compiled.each_block(compiled.blocks(u.n), lambda _, a, b: get_to_know(a, b, u, rate))
