"""Compiled loneliness and human ties (:mod:`sim.mechanisms.social`): the same operations per
user over its ties (the network's edges, sorted by source, read as CSR rows).

:func:`meet` realises the day's socialising and writes the arguments of the day's
exponentials; after numpy has taken them, :func:`update` moves ties and loneliness.
"""

from __future__ import annotations

from sim.kernels import jit


@jit
def _share(w_e, total, degree):
    """Weight of one tie in its user's offer: strength over the user's total, equal shares
    for a user whose ties all have strength 0."""
    if total <= 0.0 and degree > 0:
        return 1.0 / max(degree, 1)
    return w_e / max(total, 1e-12)


@jit
def meet(
    indptr, target, reverse, degree, w, planned, minutes, emotional, attachment, comp,
    empathy, exposure, tie_growth, need_minutes, companion_need_minutes, novelty_days,
    offer, grow_arg, offline, social_minutes, contact_arg, relief_arg, novelty_arg,
    companion_minutes,
):  # fmt: skip
    """Socialising of every user; fills the arguments of the exponentials (edge and user
    buffers), updates offline minutes, realised social minutes and days of companion use.
    ``offer`` (E,) is a work buffer: what each side offers a tie, so the other side's offer
    is one read."""
    n = degree.shape[0]
    P = minutes.shape[1]
    for i in range(n):
        total = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            total += w[e]
        for e in range(indptr[i], indptr[i + 1]):
            offer[e] = planned[i] * _share(w[e], total, degree[i])
    for i in range(n):
        together_sum = 0.0
        contact = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            together = min(offer[e], offer[reverse[e]])
            together_sum += together
            contact += w[e] * together
            grow_arg[e] = (-tie_growth * together) / 60.0
        realised = min(together_sum, planned[i])
        offline[i] += planned[i] - realised
        social_minutes[i] = realised
        contact_arg[i] = -contact / need_minutes
        # companions: heard minutes, and days of use (novelty wears off)
        heard_minutes = 0.0
        used = 0.0
        first = True
        for j in range(P):
            if not comp[j]:
                continue
            heard = empathy * (0.5 + 0.5 * emotional[i, j])
            heard *= 0.5 + 0.5 * attachment[i, j]
            if first:
                heard_minutes = heard * minutes[i, j]
                used = minutes[i, j]
                first = False
            else:
                heard_minutes += heard * minutes[i, j]
                used += minutes[i, j]
        relief_arg[i] = -heard_minutes / companion_need_minutes
        novelty_arg[i] = -exposure[i] / novelty_days
        if used > 0.0:
            exposure[i] += 1.0
        companion_minutes[i] = used


@jit
def update(
    indptr, w, grow, social_on, tie_decay, contact_e, relief_e, novelty_e, companion_relief,
    novelty_floor, baseline, loneliness, sensitivity, reference, adjustment, social_met,
    relief, tie_mean, degree,
):  # fmt: skip
    """Ties and loneliness from the exponentials (``grow`` holds expm1 of the growth argument);
    fills today's social_met, companion relief and every user's mean tie strength."""
    n = loneliness.shape[0]
    for i in range(n):
        met_people = -contact_e[i]
        novelty = novelty_floor + (1.0 - novelty_floor) * novelty_e[i]
        k = (companion_relief * novelty) * -relief_e[i]
        social_met[i] = met_people
        relief[i] = k
        s = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            if social_on:
                g = -grow[e] * (1.0 - w[e])
                g -= tie_decay * w[e]
                x = w[e] + g
                w[e] = min(max(x, 0.0), 1.0)
            s += w[e]
        tie_mean[i] = s / max(degree[i], 1)
        if social_on:
            met = 1.0 - (1.0 - met_people) * (1.0 - k)
            target = baseline[i] * (1.0 + sensitivity * (reference - met))
            target = min(max(target, 0.0), 1.0)
            loneliness[i] += adjustment * (target - loneliness[i])
