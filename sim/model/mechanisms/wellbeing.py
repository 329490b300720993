"""Wellbeing: a composite of loneliness, human connection, the value of what was consumed, the
regret of compulsive use, ad annoyance and offline life crowded out (MODEL.md mechanism 7;
ODD 7.7). In model units it lies in [0, 2], 1 being neutral:

    W = 1 + w_L (1 - loneliness) + w_T ties + w_C consumption
          - w_R min(1, compulsive / regret_minutes) - w_A min(1, ads / ads_scale)
          - w_X max(0, 1 - offline / offline_need)

with consumption = 1 - exp(-sum_o minutes_o max(R_o, 0) / value_minutes) over providers and
socialising. It is also reported in SD units, as surveys report it: (W - mean W0) / sd, where W0 is the
population's wellbeing on day 0, before providers have adapted, and sd = sqrt(sd(W0)^2 +
measurement_sd^2) adds the day-to-day mood and response noise that a survey measure carries
and W, a day's welfare, does not.
"""

from __future__ import annotations

import numpy as np

from sim.model import kernels
from sim.model.kernels import stocks
from sim.model.mechanisms.social import tie_strength


def update(model) -> None:
    u, wp = model.users, model.params.wellbeing
    if kernels.enabled():
        if u.wellbeing.shape != (u.n,):  # pragma: no cover - set up by make_users
            u.wellbeing = np.zeros(u.n)
        stocks.wellbeing(
            u.loneliness,
            tie_strength(model),
            u.consumption_value,
            u.compulsive_minutes,
            u.ad_impressions,
            u.offline_minutes,
            wp.w_loneliness,
            wp.w_ties,
            wp.w_consumption,
            wp.w_regret,
            wp.w_ads,
            wp.w_crowd_out,
            wp.regret_minutes,
            wp.ads_scale,
            wp.offline_need,
            u.wellbeing,
        )
        return
    regret = np.minimum(1.0, u.compulsive_minutes / wp.regret_minutes)
    ads = np.minimum(1.0, u.ad_impressions / wp.ads_scale)
    crowd_out = (
        np.maximum(0.0, 1.0 - u.offline_minutes / wp.offline_need) if wp.offline_need > 0 else 0.0
    )
    u.wellbeing = (
        1.0
        + wp.w_loneliness * (1.0 - u.loneliness)
        + wp.w_ties * tie_strength(model)
        + wp.w_consumption * u.consumption_value
        - wp.w_regret * regret
        - wp.w_ads * ads
        - wp.w_crowd_out * crowd_out
    )


def consumption_value(model, R: np.ndarray, minutes: np.ndarray) -> np.ndarray:
    """0-1 value of today's provider and social minutes (rows of the option-major (P + 2, N)
    ``R`` and ``minutes`` but the last)."""
    enjoyed = np.zeros(R.shape[1])
    tmp = np.empty(R.shape[1])
    for r, m in zip(R[:-1], minutes[:-1], strict=True):
        np.maximum(r, 0.0, out=tmp)
        enjoyed += np.multiply(m, tmp, out=tmp)
    return -np.expm1(-enjoyed / model.params.wellbeing.value_minutes)
