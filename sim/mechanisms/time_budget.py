"""Time budget: each day a user splits discretionary minutes among options
(MODEL.md mechanism 1; ODD 7.1).

    share[i, o] = a[i, o] exp(D[i, o] / T) / sum_o' a[i, o'] exp(D[i, o'] / T)
    minutes[i, o] = budget[i] * share[i, o]

a is availability (zero for providers not adopted, deactivated or not launched; the social
option scaled down by lockdowns). Provider minutes below ``min_session`` are skipped and
minutes above a cap (free tier, intervention) are given to other offline life, so the parts
always sum to the budget exactly.
"""

from __future__ import annotations

import numpy as np


def allocate(
    values: np.ndarray,
    availability: np.ndarray,
    budget: np.ndarray,
    temperature: float,
    min_session: float,
    cap: np.ndarray,
) -> np.ndarray:
    """Minutes per option, shape like ``values``; the last column is other offline life."""
    # options a user cannot take must not set the scale (other offline life always can be taken)
    z = np.where(availability > 0, values / temperature, -np.inf)
    z -= z.max(axis=1, keepdims=True)
    w = availability * np.exp(z)
    minutes = budget[:, None] * w / w.sum(axis=1, keepdims=True)
    P = cap.shape[1]
    providers = minutes[:, :P]
    providers[providers < min_session] = 0.0
    np.minimum(providers, cap, out=providers)
    # the remainder, clipped at zero against rounding when offline life has almost no share
    minutes[:, -1] = np.maximum(budget - minutes[:, :-1].sum(axis=1), 0.0)
    return minutes
