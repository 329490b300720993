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
    """Minutes per option, shape like ``values`` (N, O); the last column is other offline life."""
    out = np.empty(values.shape[::-1])
    barred = unavailable(availability.T)
    split(values.T, barred, availability.T, budget, temperature, min_session, cap.T, out)
    return out.T


def unavailable(availability: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """0 where an option can be taken, -inf where it cannot (``availability`` 0)."""
    if out is None:
        out = np.empty(availability.shape)
    np.greater(availability, 0.0, out=out)  # 1.0 or 0.0
    with np.errstate(divide="ignore"):  # 1 - 1/0 = -inf, branch-free (masks are slow here)
        np.divide(1.0, out, out=out)
    return np.subtract(1.0, out, out=out)


def split(
    values: np.ndarray,
    barred: np.ndarray,
    availability: np.ndarray,
    budget: np.ndarray,
    temperature: float,
    min_session: float,
    cap: np.ndarray,
    out: np.ndarray,
) -> np.ndarray:
    """:func:`allocate` on option-major arrays: ``values`` and ``availability`` (O, N),
    ``barred`` (O, N) from :func:`unavailable`, ``cap`` (P, N); fills and returns ``out``.

    Sums over options run in option order, as ``sum(axis=1)`` does on user-major arrays, so
    both layouts give the same numbers bit for bit.
    """
    z = np.divide(values, temperature, out=out)
    # options a user cannot take must not set the scale (other offline life always can be taken)
    scale = over_options(np.maximum, np.add(z, barred, out=np.empty_like(z)))
    z -= scale
    # an option that cannot be taken gets weight 0 * exp(<= 0) = 0, as 0 * exp(-inf) would be;
    # clipping at 0 keeps exp finite without the slow path exp takes for infinities
    np.minimum(z, 0.0, out=z)
    np.exp(z, out=z)
    z *= availability
    total = over_options(np.add, z)
    z *= budget
    z /= total
    P = cap.shape[0]
    providers = z[:P]
    providers *= providers >= min_session
    np.minimum(providers, cap, out=providers)
    # the remainder, clipped at zero against rounding when offline life has almost no share
    rest = over_options(np.add, z[:-1])
    np.subtract(budget, rest, out=z[-1])
    np.maximum(z[-1], 0.0, out=z[-1])
    return z


def over_options(op, rows: np.ndarray) -> np.ndarray:
    """Reduce (O, N) over options in order: op(op(row 0, row 1), row 2) ..."""
    acc = rows[0].copy()
    for row in rows[1:]:
        op(acc, row, out=acc)
    return acc
