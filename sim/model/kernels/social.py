"""Compiled loneliness and human ties (:mod:`sim.model.mechanisms.social`): the same operations per
user over its ties (the network's edges, sorted by source, read as CSR rows).

:func:`meet` realises the day's socialising and writes the arguments of the day's
exponentials; after numpy has taken them, :func:`update` moves ties and loneliness.
"""

from __future__ import annotations

from sim.model.kernels import jit


@jit
def _share(w_e, total, degree):
    """Weight of one tie in its user's offer: strength over the user's total, equal shares
    for a user whose ties all have strength 0."""
    if total <= 0.0 and degree > 0:
        return 1.0 / max(degree, 1)
    return w_e / max(total, 1e-12)


@jit
def own_offers(start, stop, indptr, w, planned, degree, own):
    """Planned minutes, total tie strength and degree of users ``start`` to ``stop`` into
    ``own`` (N, 3): all a friend needs to work out the user's offer to their tie."""
    for i in range(start, stop):
        total = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            total += w[e]
        own[i, 0] = planned[i]
        own[i, 1] = total
        own[i, 2] = degree[i]


@jit
def meet(
    start,
    stop,
    indptr,
    target,
    w,
    own,
    minutes,
    emotional,
    attachment,
    comp,
    empathy,
    exposure,
    tie_growth,
    need_minutes,
    companion_need_minutes,
    novelty_days,
    grow_arg,
    offline,
    social_minutes,
    args,
    companion_minutes,
):
    """Socialising of users ``start`` to ``stop``: fills the arguments of the block's
    exponentials (``grow_arg`` for its ties, ``args`` (3, block) for people's and companions'
    relief and novelty), updates offline minutes, realised social minutes and days of
    companion use. A tie's strength is the same seen from both ends, so the friend's offer
    needs only the friend's row of :func:`own_offers` (one read from a small array)."""
    P = minutes.shape[1]
    first_edge = indptr[start]
    for i in range(start, stop):
        b = i - start
        planned, total, degree = own[i, 0], own[i, 1], own[i, 2]
        together_sum = 0.0
        contact = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            we = w[e]
            f = target[e]
            offer = planned * _share(we, total, degree)
            other = own[f, 0] * _share(we, own[f, 1], own[f, 2])
            together = min(offer, other)
            together_sum += together
            contact += we * together
            grow_arg[e - first_edge] = (-tie_growth * together) / 60.0
        realised = min(together_sum, planned)
        offline[i] += planned - realised
        social_minutes[i] = realised
        args[0, b] = -contact / need_minutes
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
        args[1, b] = -heard_minutes / companion_need_minutes
        args[2, b] = -exposure[i] / novelty_days
        if used > 0.0:
            exposure[i] += 1.0
        companion_minutes[i] = used


@jit
def update(
    start,
    stop,
    indptr,
    w,
    grow,
    social_on,
    tie_decay,
    e,
    companion_relief,
    novelty_floor,
    baseline,
    loneliness,
    sensitivity,
    reference,
    adjustment,
    social_met,
    relief,
    tie_mean,
    degree,
):
    """Ties and loneliness of users ``start`` to ``stop`` from the exponentials (``grow``:
    expm1 of the ties' growth arguments; ``e``: expm1, expm1 and exp of :func:`meet`'s
    ``args``); fills today's social_met, companion relief and mean tie strength."""
    first_edge = indptr[start]
    for i in range(start, stop):
        b = i - start
        met_people = -e[0, b]
        novelty = novelty_floor + (1.0 - novelty_floor) * e[2, b]
        k = (companion_relief * novelty) * -e[1, b]
        social_met[i] = met_people
        relief[i] = k
        s = 0.0
        for x in range(indptr[i], indptr[i + 1]):
            if social_on:
                g = -grow[x - first_edge] * (1.0 - w[x])
                g -= tie_decay * w[x]
                v = w[x] + g
                w[x] = min(max(v, 0.0), 1.0)
            s += w[x]
        tie_mean[i] = s / max(degree[i], 1)
        if social_on:
            met = 1.0 - (1.0 - met_people) * (1.0 - k)
            target = baseline[i] * (1.0 + sensitivity * (reference - met))
            target = min(max(target, 0.0), 1.0)
            loneliness[i] += adjustment * (target - loneliness[i])
