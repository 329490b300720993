"""Welfare: what the day's choices are worth to the user on reflection, in dollars (ODD 7.7).

The day's split of the budget (ODD 7.1) is the one a reflective user who likes variety would
choose: shares s_o proportional to w_o exp(V_o / T) maximise

    U(s) = sum_o s_o (R_o - T ln(s_o / w_o))

per minute, with R_o the reflective value per minute of option o (ODD 7.2: content enjoyed,
being heard, friends there, less ads and manipulation felt), w_o its availability (the
``offline_breadth`` activities for other offline life) and T the temperature; -T ln(s_o / w_o)
is the falling value of one more minute of the same thing. Welfare evaluates U at the minutes
actually spent (after the impulsive pull, caps, farewell tactics and the socialising friends
took up), against a day spent wholly on other offline life, and subtracts what the user paid:

    welfare = (B (U(s) - R_off - T ln offline_breadth) + beyond) / paying_value - subscriptions paid

in $ per day, what the user would pay for the day's options (``paying_value`` converts utility
per minute into $ per minute paid, :func:`sim.model.mechanisms.two_selves.paying_value`). Each
minute counts once. Minutes are valued at R, the user's lasting tastes, with being heard at the
margin of a usual day (ODD 7.2); ``beyond`` (:func:`sim.model.mechanisms.attachment.
beyond_margin`, from the social step's :class:`~sim.model.mechanisms.social.HeardDay`) turns
that into the day's being heard at its whole worth. Without feeds, companions would take up
their share too and hear the user for longer, so the feeds' surplus works ``beyond`` out at the
companions' understood minutes scaled by 1 / (1 - S_feeds). The day's split was
chosen with the day's taste shocks too (ODD 7.1), so a day's welfare can sit below the optimum
of U even without the impulsive pull (a limitation, ODD 9). Use the reflective self would not have chosen lowers U below its
reflective optimum, so compulsive use costs welfare.

Consumer surplus of a kind of provider (feeds, companions) is welfare less the welfare of the
same day without them, the other options taking up their share S_k in proportion (as the
logit split does):

    U_without = U_rest / (1 - S_k) + T ln(1 - S_k)

where U_rest is U's sum over the other options; the surplus is B (U - U_without) /
paying_value less what was paid to that kind.

What users would *accept* to give the day's options up, the valuation a deactivation study
elicits (ODD 7.7), is the same sum at the values they chose by, the impulsive pull included
(ODD 7.2, ``pull`` = impulse weight x pull per minute), with the use given up weighed as a loss
(``money_value``, the value of money received for use given up, ODD 7.2):

    valuation = (B (U(s) - R_off - T ln offline_breadth) + beyond + sum_j minutes_j pull_j)
                / money_value - subscriptions paid

With no loss aversion and no self-control problems the two agree; otherwise valuation exceeds
welfare by the loss aversion and by what the impulsive self adds.

A cap on one option (a companion's free tier) costs the user, in the same utility, the
divergence of the share it allows a = cap / B from the share they would choose S (at the
logit's optimum every option's V_o - T ln(s_o / w_o) is the log-sum, so capping one option and
giving the rest to the others in proportion loses exactly)

    cap_cost = B T (a ln(a / S) + (1 - a) ln((1 - a) / (1 - S)))    for a < S, else 0

which at a = 0 is the option's whole surplus, -B T ln(1 - S). Divided by paying_value it is the
most a user would pay a day to lift the cap: what a subscription is worth to a free user
(divided by money_value, to a subscriber deciding to cancel; ODD 7.8).

The consumption value of the wellbeing composite (ODD 7.7) is worked out from the same minutes,
realised socialising only:

    consumption = 1 - exp(-sum_o minutes_o max(R_o, 0) / value_minutes)

over providers and socialising. Welfare and wellbeing can move apart: a service can be worth a
lot to its users on reflection while it leaves them lonelier.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from sim.model import compiled
from sim.model.compiled import at, jit
from sim.model.mechanisms.attachment import beyond_margin
from sim.model.mechanisms.two_selves import paying_value

SWITCH = None  # welfare is always measured
PARAMS = ("choice", "social")  # the parameter sections it reads
STATE = ("welfare", "valuation", "consumption_value")  # the user state it owns (others may read it)
KINDS = ("feed", "companion")  # consumer surplus is reported per kind, in this order


@jit
def option_value(minutes, value, weight, budget, temperature):
    """One option's part of B U(s): its minutes at their reflective value, less the variety
    lost by spending a share s = minutes / B of the day on it (0 for an option not taken)."""
    if minutes <= 0.0:
        return 0.0
    return minutes * (value - temperature * math.log(minutes / budget / max(weight, 1e-300)))


@jit
def without(rest, share, budget, temperature):
    """B U of the day without options holding ``share`` of it, the others scaled up in
    proportion; ``rest`` is the others' part of B U(s), all of B U when they hold no share."""
    if share <= 0.0:
        return rest
    left = max(1.0 - share, 1e-12)
    return rest / left + budget * temperature * math.log(left)


@jit
def divergence(budget, share, chosen, temperature):
    """B U lost when an option the user would give a share ``chosen`` of the day gets the
    share ``share`` instead, the rest scaled in proportion (module docstring): ``B T (a ln(a /
    S) + (1 - a) ln((1 - a) / (1 - S)))`` with a = ``share``, S = ``chosen``, for a share below
    or above the chosen one; 0 at the chosen share."""
    if share == chosen:
        return 0.0
    kept = budget * temperature * (1.0 - share) * math.log((1.0 - share) / (1.0 - chosen))
    if share <= 0.0:
        return kept
    return budget * temperature * share * math.log(share / chosen) + kept


@jit
def cap_cost(budget, allowed, desired, temperature):
    """B U lost when an option the user would give a share ``desired`` of the day is held to
    a share ``allowed`` (module docstring); 0 when the cap does not bind."""
    if allowed >= desired:
        return 0.0
    return divergence(budget, allowed, desired, temperature)


class Day(NamedTuple):
    """What welfare reads besides the users' state and the choice parameters."""

    R: np.ndarray  # (N, P + 2) reflective value per minute of each option (the day's choice)
    pull: np.ndarray  # (N, P) value per minute the impulsive pull adds to each provider
    availability: np.ndarray  # constraints, one row per user or one for everyone
    social_scale: np.ndarray
    paid: np.ndarray  # (N, P) $ of subscriptions paid today (the business step)
    is_companion: np.ndarray  # (P,)
    value_minutes: float  # wellbeing.value_minutes
    heard: tuple  # social.HeardDay: understood minutes, unmet need, weight, (N,) each
    need_minutes: float  # social.companion_need_minutes


@jit
def weigh(start, stop, users, k, day, surplus):
    """Welfare, valuation and consumption value of users ``start`` to ``stop``; ``surplus`` (2, N) gets
    the consumer surplus of feeds and of companions (module docstring)."""
    R, P = day.R, users.minutes.shape[1]
    T, breadth, paying = k.temperature, k.offline_breadth, paying_value(k)
    nest = T * math.log(breadth)  # other offline life's nest (ODD 7.2)
    for i in range(start, stop):
        B = users.budget[i]
        total = valued = pulled = 0.0
        feeds = companions = feed_share = companion_share = feed_paid = companion_paid = 0.0
        for j in range(P):
            m = users.minutes[i, j]
            v = option_value(m, R[i, j], day.availability[at(day.availability, i), j], B, T)
            if day.is_companion[j]:
                companions += v
                companion_share += m / B
                companion_paid += day.paid[i, j]
            else:
                feeds += v
                feed_share += m / B
                feed_paid += day.paid[i, j]
            total += v
            valued += m * max(R[i, j], 0.0)
            pulled += m * day.pull[i, j]
        heard = day.heard
        understood, unmet, weight = heard.understood[i], heard.unmet[i], heard.weight[i]
        beyond = beyond_margin(weight, understood, unmet, day.need_minutes)
        social = users.social_minutes[i]
        total += option_value(social, R[i, P], day.social_scale[at(day.social_scale, i)], B, T)
        total += option_value(users.offline_minutes[i], R[i, P + 1], breadth, B, T)
        valued += social * max(R[i, P], 0.0)
        offline_day = B * (R[i, P + 1] + nest)
        whole = total + beyond  # the day's being heard at its whole worth
        paid = feed_paid + companion_paid
        users.welfare[i] = (whole - offline_day) / paying - paid
        users.valuation[i] = (whole - offline_day + pulled) / k.money_value - paid
        # without feeds companions take up their share too, and hear the user for longer
        scaled = understood / max(1.0 - feed_share, 1e-12)
        feed_rest = without(total - feeds, feed_share, B, T)
        feed_rest += beyond_margin(weight, scaled, unmet, day.need_minutes)
        surplus[0, i] = (whole - feed_rest) / paying - feed_paid
        companion_rest = without(total - companions, companion_share, B, T)
        surplus[1, i] = (whole - companion_rest) / paying - companion_paid
        users.consumption_value[i] = -math.expm1(-valued / day.value_minutes)


def weights(constraints, session_minutes, n: int, P: int) -> tuple[np.ndarray, np.ndarray]:
    """The weights w of the providers (N or 1, P) and of socialising (N or 1,): their
    availability, and in full (1) for an option a user spent prescribed minutes on, the
    friend's side of a session included (ODD 7.13): the study gives it, whatever else limits
    the choice."""
    availability, social = constraints.availability, constraints.social_scale
    if constraints.any_prescribed:
        given = compiled.per_user(constraints.prescribed, n)
        availability = np.maximum(availability, given[:, :P] > 0.0)
        if session_minutes is not None:
            social = np.maximum(social, session_minutes > 0.0)
    return compiled.per_user(availability, n), compiled.per_user(social, n, 1)


def step(model, today) -> None:
    """Each user's welfare, valuation and consumption value today; consumer surplus by kind in
    ``today.surplus``."""
    u, prm = model.users, model.params
    availability, social = weights(
        today.constraints, today.session_minutes, u.n, len(model.providers)
    )
    day = Day(
        today.R,
        today.pull,
        availability,
        social,
        today.paid,
        model.is_companion,
        prm.wellbeing.value_minutes,
        today.heard_day,
        prm.social.companion_need_minutes,
    )
    today.surplus = model.work("welfare.surplus", (2, u.n))
    k = compiled.constants(prm.choice)
    compiled.each_block(compiled.blocks(u.n), lambda _, a, b: weigh(a, b, u, k, day, today.surplus))
