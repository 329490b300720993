"""Compiled daily measurements (:mod:`sim.model.metrics`): numpy's own summation order, a sort and
one pass over users for the counts, so every daily series is the numpy code's bit for bit.

numpy sums a contiguous or strided float array by pairwise summation (blocks of up to 128
values added in eight lanes, halves split at multiples of eight): :func:`pairwise` does the
same, so a sum here equals ``a.sum()`` there without building the temporary it summed.
"""

from __future__ import annotations

import numpy as np

from sim.model.kernels import jit, lever


@jit
def pairwise(a, start, n, stride):
    """Sum of ``a[start : start + n * stride : stride]`` (a flat array) in numpy's order."""
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[start + i * stride]
        return res
    if n <= 128:
        r0 = a[start]
        r1 = a[start + stride]
        r2 = a[start + 2 * stride]
        r3 = a[start + 3 * stride]
        r4 = a[start + 4 * stride]
        r5 = a[start + 5 * stride]
        r6 = a[start + 6 * stride]
        r7 = a[start + 7 * stride]
        i = 8
        m = n - n % 8
        while i < m:
            b = start + i * stride
            r0 += a[b]
            r1 += a[b + stride]
            r2 += a[b + 2 * stride]
            r3 += a[b + 3 * stride]
            r4 += a[b + 4 * stride]
            r5 += a[b + 5 * stride]
            r6 += a[b + 6 * stride]
            r7 += a[b + 7 * stride]
            i += 8
        res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        while i < n:
            res += a[start + i * stride]
            i += 1
        return res
    n2 = n // 2
    n2 -= n2 % 8
    return pairwise(a, start, n2, stride) + pairwise(a, start + n2 * stride, n - n2, stride)


@jit
def sort(x, out, keys, spare):
    """``out`` = ``x`` sorted ascending (LSD radix sort on the IEEE bits, 11 bits a pass;
    passes in which every value has the same digit are skipped). ``keys`` and ``spare`` are
    (N,) uint64 work buffers."""
    n = x.shape[0]
    bits = x.view(np.uint64)
    sign = np.uint64(1) << np.uint64(63)
    for i in range(n):
        b = bits[i]
        keys[i] = ~b if b & sign else b | sign
    passes = 6
    hist = np.zeros((passes, 2048), np.int64)
    mask = np.uint64(2047)
    for i in range(n):
        k = keys[i]
        for d in range(passes):
            hist[d, (k >> np.uint64(11 * d)) & mask] += 1
    src, dst = keys, spare
    for d in range(passes):
        h = hist[d]
        if h.max() == n:
            continue
        total = 0
        for b in range(2048):
            c = h[b]
            h[b] = total
            total += c
        shift = np.uint64(11 * d)
        for i in range(n):
            k = src[i]
            b = (k >> shift) & mask
            dst[h[b]] = k
            h[b] += 1
        src, dst = dst, src
    o = out.view(np.uint64)
    for i in range(n):
        k = src[i]
        o[i] = k ^ sign if k & sign else ~k


@jit
def users(
    start,
    stop,
    minutes,
    adopted,
    subscribed,
    attachment,
    comp,
    average_companion,
    tie_mean,
    dependence_minutes,
    dependence_ties,
    feed_min,
    comp_min,
    active_comp,
    max_attachment,
    counts,
):
    """One pass over users ``start`` to ``stop``: feed and companion minutes (filled),
    companion minutes of users who used one and largest attachment of companion users
    (compacted from ``start``), and into ``counts`` (7 + P,) the counts behind the daily
    shares, then each provider's users."""
    P = minutes.shape[1]
    active = feed_active = comp_active = dependent = feed_users = comp_users = subscribers = 0
    k_active = k_users = start
    for i in range(start, stop):
        f = c = 0.0
        nf = nc = 0
        any_minutes = feed_user = comp_user = sub = False
        amax = 0.0
        for j in range(P):
            m = minutes[i, j]
            any_minutes |= m > 0.0
            counts[7 + j] += adopted[i, j]
            if comp[j]:
                c = m if nc == 0 else c + m
                amax = attachment[i, j] if nc == 0 else max(amax, attachment[i, j])
                nc += 1
                comp_user |= adopted[i, j]
                sub |= subscribed[i, j]
            else:
                f = m if nf == 0 else f + m
                nf += 1
                feed_user |= adopted[i, j]
        feed_min[i] = f
        comp_min[i] = c
        active += any_minutes
        feed_active += f > 0.0
        if c > 0.0:
            comp_active += 1
            active_comp[k_active] = c
            k_active += 1
        feed_users += feed_user
        if comp_user:
            comp_users += 1
            subscribers += sub
            max_attachment[k_users] = amax
            k_users += 1
        dependent += average_companion[i] >= dependence_minutes and tie_mean[i] < dependence_ties
    counts[0] += active
    counts[1] += feed_active
    counts[2] += comp_active
    counts[3] += dependent
    counts[4] += feed_users
    counts[5] += comp_users
    counts[6] += subscribers


@jit
def objective_arguments(
    start,
    stop,
    j,
    remembered,
    knowledge,
    attachment,
    offline_value,
    willingness_to_pay,
    price,
    switching_knowledge,
    switching_attachment,
    quit_scale,
    wtp_attachment,
    price_scale,
    args,
):
    """Arguments of exp in provider ``j``'s quit and cancellation hazards (adoption.quit_hazard,
    business.cancel_hazard) of users ``start`` to ``stop``, into ``args`` (2, block)."""
    for i in range(start, stop):
        b = i - start
        cost = switching_knowledge * knowledge[i, j] + switching_attachment * attachment[i, j]
        surplus = (remembered[i, j] + cost) - offline_value[i]
        args[0, b] = -(-surplus / quit_scale)
        wtp = willingness_to_pay[i] * (1.0 + wtp_attachment * attachment[i, j])
        args[1, b] = (wtp - lever(price, i, j)) / price_scale


@jit
def objectives(
    start,
    stop,
    j,
    e,
    revenue,
    cost,
    minutes,
    adopted,
    subscribed,
    attachment,
    quit_rate,
    cancellation,
    minute_value,
    lifetime_cap,
    attachment_value,
    retention_value,
    out,
    own,
    wellbeing,
    objective_now,
    profit_now,
):
    """Provider ``j``'s attention and intimacy objectives (policies.objective) and profit per
    user into ``out`` (3, block) for users ``start`` to ``stop``; ``e`` holds exp of
    :func:`objective_arguments`. With ``own``
    0 (attention), 1 (intimacy) or 2 (wellbeing) also adds the provider's own objective and
    profit to its window's sums (policies.record)."""
    for i in range(start, stop):
        b = i - start
        rev = revenue[i, j]
        out[0, b] = rev + minute_value * minutes[i, j]
        hazard = quit_rate * (1.0 / (e[0, b] + 1.0))
        hazard += cancellation * (1.0 / (e[1, b] + 1.0)) if subscribed[i, j] else 0.0
        lifetime = min(lifetime_cap, 1.0 / max(hazard, 1e-9))
        value = (rev * lifetime) / 30.0 + attachment_value * attachment[i, j]
        value += retention_value
        out[1, b] = (1.0 if adopted[i, j] else 0.0) * value
        out[2, b] = rev - cost[i, j]
        if own >= 0:
            objective_now[i] += out[own, b] if own < 2 else wellbeing[i]
            profit_now[i] += out[2, b]
