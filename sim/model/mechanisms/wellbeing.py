"""Wellbeing: a composite of loneliness, human connection, the value of what was consumed, the
regret of compulsive use, ad annoyance and offline life crowded out (ODD 7.7). In model units
it lies in [0, 2], 1 being neutral:

    W = 1 + w_L (1 - loneliness) + w_T ties + w_C consumption
          - w_R min(1, compulsive / regret_minutes) - w_A min(1, ads / ads_scale)
          - w_X max(0, 1 - offline / offline_need)

with consumption = 1 - exp(-sum_o minutes_o max(R_o, 0) / value_minutes) over providers and
realised socialising (worked out with welfare, :mod:`sim.model.mechanisms.welfare`). It is also reported in SD units, as
surveys report it: (W - mean W0) / sd, where W0 is the population's wellbeing on day 0, before
providers have adapted, and sd = sqrt(sd(W0)^2 + measurement_sd^2) adds the day-to-day mood and
response noise that a survey measure carries and W, a day's experienced wellbeing, does not.
"""

from __future__ import annotations

from sim.model import compiled
from sim.model.compiled import jit

SWITCH = None  # wellbeing is always measured
PARAMS = ("wellbeing",)  # the parameter sections it reads
STATE = ("wellbeing",)  # the user state it owns (others may read it)


@jit
def wellbeing(loneliness, ties, consumption, compulsive, impressions, offline, k):
    """W of one user today (module docstring)."""
    regret = min(1.0, compulsive / k.regret_minutes)
    ads = min(1.0, impressions / k.ads_scale)
    crowd_out = max(0.0, 1.0 - offline / k.offline_need) if k.offline_need > 0 else 0.0
    return (
        1.0
        + k.w_loneliness * (1.0 - loneliness)
        + k.w_ties * ties
        + k.w_consumption * consumption
        - k.w_regret * regret
        - k.w_ads * ads
        - k.w_crowd_out * crowd_out
    )


@jit
def feel(start, stop, users, k, ties):
    """Wellbeing of users ``start`` to ``stop``; ``ties`` is each user's mean tie strength."""
    for i in range(start, stop):
        users.wellbeing[i] = wellbeing(
            users.loneliness[i],
            ties[i],
            users.consumption_value[i],
            users.compulsive_minutes[i],
            users.ad_impressions[i],
            users.offline_minutes[i],
            k,
        )


def step(model, today) -> None:
    """Each user's wellbeing today."""
    u, k = model.users, compiled.constants(model.params.wellbeing)
    ties = today.tie_mean
    compiled.each_block(compiled.blocks(u.n), lambda _, a, b: feel(a, b, u, k, ties))
