"""Two selves: what the reflective self values and what the impulsive self is pulled toward
(MODEL.md mechanism 2; ODD 7.2).

For user i and option o (each provider, human socialising, other offline life):

    D[i, o] = R[i, o] + impulse_weight * (1 - self_control[i]) * pull[i, o] + eps[i, o]

R is reflective utility (enjoyment of well-matched content, being heard, the relationship,
friends being there, minus ad annoyance, perceived manipulation and, under a bonus for cutting
use, the payment forgone: ``money_value * bonus / 60`` per minute); pull is the impulsive pull
(habit, hooks, "moreish" learned content, attachment). eps is a daily taste shock from the
stream ``taste``. Other offline life stands for ``offline_breadth`` activities of equal value,
so its decision value gains ``temperature * ln(offline_breadth)`` (as a nest in a nested logit)
while its value per minute, the outside option of mechanism 11, stays ``offline_value``.
With the mechanism off, or in the reflective counterfactual, the pull is dropped.
"""

from __future__ import annotations

import numpy as np


def utilities(model) -> tuple[np.ndarray, np.ndarray]:
    """Reflective utility R and impulsive pull, shape (N, P + 2): providers, social, offline."""
    u, prm, today = model.users, model.params, model.today
    c = prm.choice
    n, P = u.n, len(model.providers)
    comp = model.is_companion
    R = np.zeros((n, P + 2))
    pull = np.zeros((n, P + 2))
    match = u.fit + (1.0 - u.fit) * u.knowledge
    Rp = R[:, :P]
    Rp += c.content_value * match
    Rp -= c.ad_annoyance * today.levers["ad_load"]
    Rp -= prm.manipulation.aversion * u.perceived_manipulation
    Rp -= c.money_value * today.constraints.bonus / 60.0  # a paid cut makes each minute cost
    if prm.mechanisms.network_effects:
        Rp[:, ~comp] += c.fomo_value * today.friends_share[:, ~comp]
    if comp.any():
        heard = model.companion_empathy * (0.5 + 0.5 * u.emotional_knowledge[:, comp])
        Rp[:, comp] += c.heard_value * u.loneliness[:, None] * heard
        Rp[:, comp] += c.attachment_value * u.attachment[:, comp]
    nudged = (np.asarray(today.levers["nudge"]) * u.adopted).max(axis=1) if P else 0.0
    R[:, P] = c.social_value * (0.5 + u.loneliness) + c.nudge_value * nudged
    R[:, P + 1] = u.offline_value
    Ip = pull[:, :P]  # a view: filling it fills the provider columns
    Ip += c.habit_pull * u.habit
    Ip += c.hook_pull * today.levers["hooks"]
    Ip += c.moreish_pull * u.knowledge
    Ip += c.attachment_pull * u.attachment
    return R, pull


def decision_values(
    model, R: np.ndarray, pull: np.ndarray, shock: np.ndarray, impulsive: bool
) -> np.ndarray:
    """D = R + w (1 - self_control) pull + taste shock; ``impulsive=False`` drops the pull."""
    c = model.params.choice
    D = R + shock
    # other offline life is a nest of many activities: its weight in the split grows with breadth
    D[:, -1] += c.temperature * np.log(c.offline_breadth)
    if impulsive and model.params.mechanisms.two_selves:
        D += c.impulse_weight * (1.0 - model.users.self_control)[:, None] * pull
    return D
