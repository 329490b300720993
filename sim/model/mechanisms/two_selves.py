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
    """Reflective utility R, shape (P + 2, N), and impulsive pull, shape (P, N).

    One row per option (each provider, socialising, other offline life), one column per user:
    option-major, so that sums and maxima over options are fast row operations. The arrays are
    the model's work buffers, overwritten the next day.
    """
    u, prm, today = model.users, model.params, model.today
    c = prm.choice
    n, P = u.n, len(model.providers)
    comp = model.is_companion
    R = model.work("R", (P + 2, n))
    pull = model.work("pull", (P, n))
    tmp = model.work("utilities.tmp", n)
    lev = today.levers
    bonus = today.constraints.bonus if today.constraints.any_bonus else None
    fomo = prm.mechanisms.network_effects
    for j in range(P):
        r = R[j]
        np.subtract(1.0, u.fit[:, j], out=r)  # match = fit + (1 - fit) knowledge
        r *= u.knowledge[:, j]
        r += u.fit[:, j]
        r *= c.content_value
        r -= _scaled(c.ad_annoyance, lev["ad_load"], j, tmp)
        r -= np.multiply(prm.manipulation.aversion, u.perceived_manipulation[:, j], out=tmp)
        if bonus is not None:  # a paid cut makes each minute cost
            np.multiply(c.money_value, bonus[:, j], out=tmp)
            r -= np.divide(tmp, 60.0, out=tmp)
        if comp[j]:
            np.multiply(0.5, u.emotional_knowledge[:, j], out=tmp)
            tmp += 0.5
            tmp *= model.companion_empathy  # heard
            tmp *= np.multiply(c.heard_value, u.loneliness, out=model.work("utilities.hl", n))
            r += tmp
            r += np.multiply(c.attachment_value, u.attachment[:, j], out=tmp)
        elif fomo:
            r += np.multiply(c.fomo_value, today.friends_share[:, j], out=tmp)
        p = pull[j]
        np.multiply(c.habit_pull, u.habit[:, j], out=p)
        p += _scaled(c.hook_pull, lev["hooks"], j, tmp)
        p += np.multiply(c.moreish_pull, u.knowledge[:, j], out=tmp)
        p += np.multiply(c.attachment_pull, u.attachment[:, j], out=tmp)
    nudged = model.work("utilities.nudged", n)
    nudged.fill(0.0)
    nudge = lev["nudge"]
    for j in range(P):
        np.maximum(nudged, np.multiply(_column(nudge, j), u.adopted[:, j], out=tmp), out=nudged)
    social = R[P]
    np.add(0.5, u.loneliness, out=social)
    social *= c.social_value
    social += np.multiply(c.nudge_value, nudged, out=tmp)
    R[P + 1] = u.offline_value
    return R, pull


def _column(lever, j: int):
    """Provider ``j``'s value of a lever held as (P,) or (N, P)."""
    return lever[:, j] if np.ndim(lever) == 2 else lever[j]


def _scaled(weight: float, lever, j: int, out: np.ndarray):
    col = _column(lever, j)
    if np.ndim(col):
        return np.multiply(weight, col, out=out)
    return weight * col


def decision_values(
    model, R: np.ndarray, pull: np.ndarray, shock: np.ndarray, impulsive: bool, out=None
) -> np.ndarray:
    """D = R + w (1 - self_control) pull + taste shock, option-major (P + 2, N) like ``R``;
    ``impulsive=False`` drops the pull."""
    c = model.params.choice
    D = np.add(R, shock, out=out)
    # other offline life is a nest of many activities: its weight in the split grows with breadth
    D[-1] += c.temperature * np.log(c.offline_breadth)
    if impulsive and model.params.mechanisms.two_selves:
        weight = c.impulse_weight * (1.0 - model.users.self_control)
        P = pull.shape[0]
        D[:P] += np.multiply(weight, pull, out=model.work("decision.pull", pull.shape))
    return D
