"""Compiled time budget and two selves (:mod:`sim.model.mechanisms.two_selves`,
:mod:`sim.model.mechanisms.time_budget`, ``EconomyModel.choose``): the same operations, per user.

Two passes around one numpy ``exp``: :func:`scaled_values` computes reflective utilities,
adds the taste shocks (drawn by numpy just before) and writes the shifted decision values of
both splits; after their
exponentials :func:`minutes` splits each user's budget and derives compulsive minutes.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.model.kernels import at, jit


class ChoiceConstants(NamedTuple):
    content_value: float
    ad_annoyance: float
    aversion: float
    money_value: float
    empathy: float
    heard_value: float
    attachment_value: float
    fomo_value: float
    habit_pull: float
    hook_pull: float
    moreish_pull: float
    attachment_pull: float
    social_value: float
    nudge_value: float
    taste_noise: float
    offline_nest: float  # temperature * ln(offline_breadth)
    impulse_weight: float
    temperature: float
    min_session: float


def constants(params, empathy: float) -> ChoiceConstants:
    c = params.choice
    return ChoiceConstants(
        c.content_value,
        c.ad_annoyance,
        params.manipulation.aversion,
        c.money_value,
        empathy,
        c.heard_value,
        c.attachment_value,
        c.fomo_value,
        c.habit_pull,
        c.hook_pull,
        c.moreish_pull,
        c.attachment_pull,
        c.social_value,
        c.nudge_value,
        c.taste_noise,
        float(c.temperature * np.log(c.offline_breadth)),
        c.impulse_weight,
        c.temperature,
        c.min_session,
    )


@jit
def scaled_values(
    start,
    stop,
    k,
    fit,
    knowledge,
    perceived,
    emotional,
    attachment,
    habit,
    adopted,
    subscribed,
    loneliness,
    self_control,
    offline_value,
    ad_load,
    hooks,
    nudge,
    bonus,
    any_bonus,
    friend_counts,
    degree,
    fomo,
    availability,
    social_scale,
    cap_iv,
    free_minutes,
    comp,
    two_selves,
    shock,
    R,
    z,
    cap,
):
    """For users ``start`` to ``stop``, fill R (N, P + 2), cap (block, P) and z (block, 2, P + 2):
    decision values over temperature less their maximum over available options, clipped at
    0 (impulsive split in z[:, 0], reflective in z[:, 1]), ready for ``exp``. ``shock``
    (block, P + 2) holds the users' standard normal taste draws."""
    P = fit.shape[1]
    O = P + 2  # noqa: E741
    pull = np.empty(P)
    avail = np.empty(O)
    ad_codes, ad_palette = ad_load
    hook_codes, hook_palette = hooks
    nudge_codes, nudge_palette = nudge
    per_user_ad, per_user_hooks = ad_codes.shape[0] > 1, hook_codes.shape[0] > 1
    per_user_nudge = nudge_codes.shape[0] > 1
    for i in range(start, stop):
        b = i - start
        nudged = 0.0
        ia = i if per_user_ad else 0
        ih = i if per_user_hooks else 0
        inu = i if per_user_nudge else 0
        ic = at(cap_iv, i)
        ab = at(availability, i)
        for j in range(P):
            f = fit[i, j]
            r = (1.0 - f) * knowledge[i, j]
            r += f
            r *= k.content_value
            r -= k.ad_annoyance * ad_palette[ad_codes[ia, j], j]
            r -= k.aversion * perceived[i, j]
            if any_bonus:
                r -= (k.money_value * bonus[at(bonus, i), j]) / 60.0
            if comp[j]:
                heard = 0.5 * emotional[i, j] + 0.5
                heard *= k.empathy
                heard *= k.heard_value * loneliness[i]
                r += heard
                r += k.attachment_value * attachment[i, j]
            elif fomo:
                r += k.fomo_value * (friend_counts[i, j] / degree[i])
            R[i, j] = r
            p = k.habit_pull * habit[i, j]
            p += k.hook_pull * hook_palette[hook_codes[ih, j], j]
            p += k.moreish_pull * knowledge[i, j]
            p += k.attachment_pull * attachment[i, j]
            pull[j] = p
            x = nudge_palette[nudge_codes[inu, j], j] * (1.0 if adopted[i, j] else 0.0)
            if x > nudged:
                nudged = x
            free = free_minutes if comp[j] and not subscribed[i, j] else np.inf
            cap[b, j] = min(cap_iv[ic, j], free)
        social = (0.5 + loneliness[i]) * k.social_value
        social += k.nudge_value * nudged
        R[i, P] = social
        R[i, P + 1] = offline_value[i]
        for j in range(P):
            avail[j] = availability[ab, j] * (1.0 if adopted[i, j] else 0.0)
        avail[P] = social_scale[at(social_scale, i)]
        avail[P + 1] = 1.0
        weight = k.impulse_weight * (1.0 - self_control[i])
        for s in range(2 if two_selves else 1):
            impulsive = s == 0 and two_selves
            scale = -np.inf
            for o in range(O):
                d = R[i, o] + shock[b, o] * k.taste_noise
                if o == P + 1:
                    d += k.offline_nest
                if impulsive and o < P:
                    d += weight * pull[o]
                d /= k.temperature
                z[b, s, o] = d
                barred = d + (0.0 if avail[o] > 0.0 else -np.inf)
                scale = barred if o == 0 else max(scale, barred)
            for o in range(O):
                z[b, s, o] = min(z[b, s, o] - scale, 0.0)


@jit
def minutes(
    start,
    stop,
    z,
    availability,
    adopted,
    social_scale,
    budget,
    cap,
    commitment,
    any_commitment,
    two_selves,
    min_session,
    R,
    value_minutes,
    minutes_out,
    compulsive,
    planned,
    offline,
    compulsive_minutes,
    enjoyed,
):
    """Split the budgets of users ``start`` to ``stop`` from exp'd ``z``; ``enjoyed`` gets the
    argument of the consumption value's expm1. Each split is time_budget.split's: shares of
    the budget in proportion to exp'd values of available options, sessions under the
    minimum dropped, caps applied, and what is left to the rest of offline life."""
    P = minutes_out.shape[1]
    O = P + 2  # noqa: E741
    avail = np.empty(O)
    imp = np.empty(O)
    ref = np.empty(O)
    S = 2 if two_selves else 1
    for i in range(start, stop):
        b = i - start
        ai = at(availability, i)
        for j in range(P):
            avail[j] = availability[ai, j] * (1.0 if adopted[i, j] else 0.0)
        avail[P] = social_scale[at(social_scale, i)]
        avail[P + 1] = 1.0
        bud = budget[i]
        for s in range(S):  # impulsive split, then reflective
            out = imp if s == 0 else ref
            total = 0.0
            for o in range(O):
                x = z[b, s, o] * avail[o]
                out[o] = x
                total = x if o == 0 else total + x
            rest = 0.0
            for o in range(O):
                x = (out[o] * bud) / total
                if o < P:
                    m = x * (1.0 if x >= min_session else 0.0)
                    x = min(m, cap[b, o])
                if o < O - 1:
                    rest = x if o == 0 else rest + x
                out[o] = x
            out[O - 1] = max(bud - rest, 0.0)
        if two_selves:
            cut_total = 0.0
            for j in range(P):
                c = imp[j] - ref[j]
                c = c if c > 0.0 else 0.0
                if any_commitment:
                    cut = commitment[at(commitment, i), j] * c
                    imp[j] -= cut
                    cut_total = cut if j == 0 else cut_total + cut
                    c -= cut
                compulsive[i, j] = c
            if any_commitment:
                imp[O - 1] += cut_total
        else:
            for j in range(P):
                compulsive[i, j] = 0.0
        total = compulsive[i, 0]
        for j in range(1, P):
            total += compulsive[i, j]
        compulsive_minutes[i] = total
        for j in range(P):
            minutes_out[i, j] = imp[j]
        planned[i] = imp[P]
        offline[i] = imp[P + 1]
        value = 0.0
        for o in range(P + 1):
            value += imp[o] * max(R[i, o], 0.0)
        enjoyed[i] = -value / value_minutes
