"""Compiled habit, learning, attachment, manipulation and business (:mod:`sim.model.mechanisms`):
per user and provider, the numpy code's operations in its order, exponentials left to numpy.
"""

from __future__ import annotations

import numpy as np

from sim.model.kernels import at, jit, lever


@jit
def habit_and_learning_arguments(
    start,
    stop,
    minutes,
    habit,
    habit_on,
    formation,
    reference_minutes,
    learning_on,
    rate,
    emotional_rate,
    depth,
    empathy,
    comp,
    args,
):
    """Habit (habit.update), then in ``args`` (2, block, P) the arguments of expm1 in learning, for users ``start`` to ``stop``."""
    P = minutes.shape[1]
    for i in range(start, stop):
        b = i - start
        for j in range(P):
            m = minutes[i, j]
            if habit_on:
                use = min(1.0, m / reference_minutes)
                habit[i, j] += formation * (use - habit[i, j])
            if learning_on:
                hours = m / 60.0
                d = lever(depth, i, j)
                args[0, b, j] = (-rate * d) * hours
                if comp[j]:
                    args[1, b, j] = -((emotional_rate * d) * empathy) * hours
                else:
                    args[1, b, j] = 0.0


@jit
def learn_and_attachment_arguments(
    start,
    stop,
    minutes,
    e,
    knowledge,
    emotional,
    learning_on,
    forgetting,
    attachment_on,
    comp,
    empathy,
    rate,
    decay,
    erosion,
    perceived,
    args,
):
    """Learning (learning.update) from ``e`` = expm1 of the arguments above, then in ``args``
    (2, N, P) the arguments of expm1 and exp in attachment."""
    P = minutes.shape[1]
    keep = 1.0 - forgetting
    for i in range(start, stop):
        b = i - start
        for j in range(P):
            m = minutes[i, j]
            if learning_on:
                k = knowledge[i, j]
                k += (1.0 - k) * -e[0, b, j]
                ek = emotional[i, j]
                if comp[j]:
                    ek += (1.0 - ek) * -e[1, b, j]
                forget = keep if m == 0.0 else 1.0
                knowledge[i, j] = k * forget
                emotional[i, j] = ek * forget
            if attachment_on:
                if comp[j]:
                    warmth = empathy * (0.5 + 0.5 * emotional[i, j])
                    args[0, b, j] = (-rate * warmth) * (m / 60.0)
                    args[1, b, j] = -(decay + erosion * perceived[i, j])
                else:
                    args[0, b, j] = args[1, b, j] = 0.0


@jit
def attach(start, stop, e, attachment, comp):
    """Attachment (attachment.update) from expm1 and exp of the arguments above."""
    P = attachment.shape[1]
    for i in range(start, stop):
        b = i - start
        for j in range(P):
            if comp[j]:
                a = attachment[i, j]
                a += (1.0 - a) * -e[0, b, j]
                attachment[i, j] = a * e[1, b, j]


@jit
def farewells(
    start,
    stop,
    columns,
    draws,
    minutes,
    tactic_rate,
    self_control,
    two_selves,
    extra_minutes,
    offline,
    cap_iv,
    subscribed,
    free_minutes,
    compulsive_minutes,
    compulsive,
    perceived,
    keep,
    perception,
):
    """Farewell tactics of the companions ``columns`` (manipulation.farewells) for users
    ``start`` to ``stop``, from their uniforms ``draws`` (K, block); returns how many tactics
    and how many sessions there were. First every provider's perceived manipulation fades
    (times ``keep``). The day's cap is the choice's: the intervention's, and the free tier
    for non-subscribers."""
    tactics = sessions = 0
    P = minutes.shape[1]
    for i in range(start, stop):
        b = i - start
        for j in range(P):
            perceived[i, j] *= keep
        for k in range(columns.shape[0]):
            j = columns[k]
            m = minutes[i, j]
            sessions += m > 0.0
            tactic = m > 0.0 and draws[k, b] < lever(tactic_rate, i, j)
            pull = extra_minutes * (1.0 - self_control[i]) if two_selves else 0.0
            extra = pull if tactic else 0.0
            free = free_minutes if not subscribed[i, j] else np.inf
            cap = min(cap_iv[at(cap_iv, i), j], free)
            extra = min(extra, min(offline[i], cap - m))
            minutes[i, j] = m + extra
            offline[i] -= extra
            compulsive_minutes[i] += extra
            compulsive[i, j] += extra
            pm = perceived[i, j]
            perceived[i, j] = pm + (perception * (1.0 if tactic else 0.0)) * (1.0 - pm)
            tactics += tactic
    return tactics, sessions


@jit
def book(
    start,
    stop,
    minutes,
    subscribed,
    attachment,
    comp,
    items_per_minute,
    ad_load,
    cpm,
    ad_tax,
    price,
    commerce_rate,
    feed_serving_cost,
    companion_serving_cost,
    impressions,
    cost,
    revenue,
    parts,
):
    """Revenue and cost per user and provider (business.book) of users ``start`` to ``stop``;
    ``parts`` (4, block, P) gets ad tax, ad revenue, subscription and commerce revenue."""
    P = minutes.shape[1]
    per_ad = cpm / 1000.0
    for i in range(start, stop):
        b = i - start
        total = 0.0
        for j in range(P):
            m = minutes[i, j]
            ads = (m * items_per_minute) * lever(ad_load, i, j)
            total = ads if j == 0 else total + ads
            value = ads * per_ad
            tax = value * ad_tax[at(ad_tax, i), j]
            ad = value - tax
            sub = ((1.0 if subscribed[i, j] else 0.0) * lever(price, i, j)) / 30.0
            c = comp[j]
            commerce = ((commerce_rate * m) * attachment[i, j]) * (1.0 if c else 0.0)
            parts[0, b, j] = tax
            parts[1, b, j] = ad
            parts[2, b, j] = sub
            parts[3, b, j] = commerce
            cost[i, j] = m * (companion_serving_cost if c else feed_serving_cost)
            revenue[i, j] = (ad + sub) + commerce
        impressions[i] = total


@jit
def price_gaps(
    start,
    stop,
    columns,
    willingness_to_pay,
    wtp_attachment,
    attachment,
    price,
    price_scale,
    args,
):
    """-gap and gap of the companions ``columns`` (business.price_gap) for users ``start`` to
    ``stop`` into ``args`` (2, K, block), for exp."""
    for i in range(start, stop):
        b = i - start
        for k in range(columns.shape[0]):
            j = columns[k]
            wtp = willingness_to_pay[i] * (1.0 + wtp_attachment * attachment[i, j])
            gap = (wtp - lever(price, i, j)) / price_scale
            args[0, k, b] = -gap
            args[1, k, b] = gap


@jit
def subscribe(
    start, stop, columns, draws, e, adopted, subscribed, minutes, conversion, cancellation
):
    """Conversions and cancellations of the companions ``columns`` (business.subscriptions)
    for users ``start`` to ``stop``, from their uniforms ``draws`` (K, block)."""
    for i in range(start, stop):
        b = i - start
        for k in range(columns.shape[0]):
            j = columns[k]
            draw = draws[k, b]
            s = subscribed[i, j]
            converts = adopted[i, j] and not s and minutes[i, j] > 0.0
            converts = converts and draw < conversion * (1.0 / (e[0, k, b] + 1.0))
            cancels = s and draw < cancellation * (1.0 / (e[1, k, b] + 1.0))
            subscribed[i, j] = (s or converts) and not cancels


@jit
def wellbeing(
    loneliness,
    ties,
    consumption,
    compulsive,
    impressions,
    offline,
    w_loneliness,
    w_ties,
    w_consumption,
    w_regret,
    w_ads,
    w_crowd_out,
    regret_minutes,
    ads_scale,
    offline_need,
    out,
):
    """Wellbeing of every user (wellbeing.update)."""
    for i in range(out.shape[0]):
        regret = min(1.0, compulsive[i] / regret_minutes)
        ads = min(1.0, impressions[i] / ads_scale)
        crowd_out = max(0.0, 1.0 - offline[i] / offline_need) if offline_need > 0 else 0.0
        w = 1.0 + w_loneliness * (1.0 - loneliness[i])
        w += w_ties * ties[i]
        w += w_consumption * consumption[i]
        w -= w_regret * regret
        w -= w_ads * ads
        w -= w_crowd_out * crowd_out
        out[i] = w
