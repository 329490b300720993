"""Business models: each provider books revenue, cost and profit every day (ODD 7.8).

Feeds:       ads = minutes * items_per_minute * ad_load;  ad revenue = ads * cpm / 1000 * (1 - tax)
Companions:  subscription revenue = subscribed * price / 30 per day;
             commerce = commerce_rate * minutes * attachment
Both:        cost = serving_cost * (1 + personalisation_cost * personalisation * used) * minutes
                    + review_cost * [used today];   profit = revenue - cost
Companions:  cost += serving_cost * empathy_cost * empathy * minutes

Serving a minute costs more the more of the user a provider keeps and uses (compute for deeper
personalisation and, for companions, a longer memory read with every reply) and, for
companions, the more emotionally responsive its replies (a larger model, tuned and checked for
it); moderation and human review cost a fixed amount per user served that day. What
subscribers pay is kept per user (``today.paid``) for their welfare (ODD 7.7).

Freemium: a companion's paid tier sells two things. Free users get ``free_minutes`` a day and
replies that draw on the share ``free_memory`` of what the companion knows of them (both levers):
``used`` = free_memory on the free tier, 1 for subscribers, scales the memory read with every
reply (its cost above) and the emotional knowledge that makes a user feel understood (ODD 7.5).
Subscribers have no daily limit and a companion that uses all it knows of them. What the
subscription is worth to a user is what the paid tier is worth to them over the free one, in
the utility of their choices and welfare (ODD 7.7), in dollars as below. With S the share of
the day they would give the companion at the free tier's values with no limit (the day's split before caps,
with the share ``choice.purchase_pull`` of the impulsive pull, 0 by default: a month is planned
on the use the user would choose on reflection, as a naive planner does, ODD 7.8; a tactic's
pull in full; the taste shock included: each day's reconsideration sees one day's draw of what
a month of the paid tier is worth, 30 times the expected daily worth), S' the same share at the
paid tier's values, a = free_minutes / budget, and g what the full memory adds to a minute's
reflective value (being heard, ODD 7.2: heard_value * loneliness * unmet * empathy * 0.5 *
EK * (1 - free_memory), with unmet the share of the need to be heard a usual day leaves
unmet), the logit's log-sum gives

    worth = 30 * (B T ln(1 + S (exp(g / T) - 1)) + cap_cost(B, a, S, T)) / value_of_money

in $ a month, less what a limit that stays costs at S' when an intervention caps the companion
too (the subscription lifts only the free tier). A sophisticated buyer
(``choice.sophisticated_buyer``) values the forecast use S (with the share purchase_pull of the
pull) on reflection, against the share S_R they would choose: the memory term at S_R, and in
place of cap_cost the signed difference of divergences D(min(S, a) || S_R) - D(min(S', l) ||
S_R'), l the share an intervention's cap allows (1 without one;
:func:`sim.model.mechanisms.welfare.divergence`), plus B T (min(S', l) - min(S, a)) K, K how
far other options' pulls bend the rest of the day (``rest``), so pulled minutes past S_R count
against the paid tier and a limit near S_R is worth keeping (ODD 7.8). value_of_money is what a
dollar is worth in the decision (ODD 7.2, money): a free user deciding to pay weighs dollars
paid for use they do not have yet (paying_value); a subscriber deciding to cancel gives up use
they have, a loss, and weighs the price they would keep as money received for use given up
(money_value), so at the same use a subscriber's worth is loss_aversion times a free user's:
the inertia of subscribers. The first term is being understood more, worth more to the lonely
and to a user the companion knows well; the second is lifting the limit, 0 for a user it does
not hold back. For a subscriber the day's split is at the paid tier's
values, so S is worked back from S' (:func:`share_at`). Each day a free user of the companion
converts with probability conversion * sigmoid((worth - price) / price_scale), and a subscriber
cancels with probability cancellation * sigmoid((price - worth) / price_scale). A free user whose
free tier gives less than a session (a closed tier) has nothing to use without paying: they are
held at the door and decide at once, subscribing with probability sigmoid((worth - price) /
price_scale); the others leave that day (``today.turned_away``, read by adoption), so no one
stays a user of a companion they neither use nor pay for.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from sim.model import compiled, levers
from sim.model.compiled import at, jit
from sim.model.mechanisms.attachment import unmet_need
from sim.model.mechanisms.learning import memory_used
from sim.model.mechanisms.two_selves import companion_value, subscription_money_value
from sim.model.mechanisms.welfare import divergence

SWITCH = None  # every provider books its day
PARAMS = ("feed", "companion", "choice", "social")  # the parameter sections it reads
STATE = ("subscribed", "ad_impressions")  # the user state it owns (others may read it)


@jit
def sigmoid(x):
    """1 / (1 + exp(-x)), exactly 0 or 1 far out."""
    if x < -700.0:
        return 0.0
    return 1.0 / (1.0 + math.exp(-x))


@jit
def free_tier(is_companion, subscribed, free_minutes):
    """Daily minutes the business model allows: a companion's free users get the free tier."""
    return free_minutes if is_companion and not subscribed else np.inf


@jit
def daily_cap(cap, i, j, free):
    """Minutes user ``i`` may spend on provider ``j`` today: an intervention's cap (``cap`` from
    :func:`compiled.per_user`) and the business model's ``free`` tier."""
    return min(cap[at(cap, i), j], free)


@jit
def share_at(share, change, temperature):
    """An option's logit share of the day once its value per minute changes by ``change``."""
    raised = share * math.exp(change / temperature)
    return raised / (1.0 - share + raised)


@jit
def memory_value(empathy, emotional_knowledge, attachment, loneliness, unmet, free_memory, choice):
    """What the paid tier's full memory adds to a minute with the companion, in reflective
    value (ODD 7.2): being heard by a companion that uses all it knows of the user, at the
    margin of a usual day (``unmet``, :func:`sim.model.mechanisms.attachment.unmet_need`)."""
    full = companion_value(empathy, emotional_knowledge, attachment, loneliness, unmet, choice)
    free = emotional_knowledge * memory_used(False, free_memory)
    return full - companion_value(empathy, free, attachment, loneliness, unmet, choice)


@jit
def subscription_worth(budget, free_minutes, cap, desired, chosen, rest, gain, subscribed, choice):
    """$ a month the paid tier is worth to a user (what a free user would pay for it, what a
    subscriber would accept to give it up, module docstring): its memory, worth ``gain`` more
    a minute, and lifting the free tier's limit up to ``cap``, the limit that stays (an
    intervention's, or none). ``desired`` is the share of the day the companion would get at
    the values of the user's own tier, the use the month is forecast at; ``chosen`` the share
    the month's use is valued against: the same share for a buyer who values the forecast use
    itself, the share the user would choose on reflection for a sophisticated buyer (ODD 7.8),
    for whom forecast minutes past it are a loss, so a limit that holds them back is worth
    keeping; ``rest``, for that buyer, how far other options' pulls bend how they share the
    rest of the day (:func:`sim.model.mechanisms.time_budget.rest_divergence`; 0 for any other
    buyer), a loss on the rest that the paid tier shrinks by what it takes of it. ``choice``
    are the choice parameters (temperature, the values of money)."""
    T = choice.temperature
    forecast = share_at(desired, -gain, T) if subscribed else desired  # on the free tier
    forecast_paid = share_at(forecast, gain, T)
    valued = share_at(chosen, -gain, T) if subscribed else chosen
    valued_paid = share_at(valued, gain, T)
    held = min(free_minutes, cap) / budget
    lifted = min(cap / budget, 1.0)
    understood = budget * T * math.log1p(valued * math.expm1(gain / T))
    used, used_paid = min(forecast, held), min(forecast_paid, lifted)
    lost = divergence(budget, used, valued, T) - divergence(budget, used_paid, valued_paid, T)
    lost += budget * T * (used_paid - used) * rest  # the rest of the day: 1 - used of it
    return 30.0 * (understood + lost) / subscription_money_value(subscribed, choice)


@jit
def price_gap(worth, price, k):
    """(worth - price) / price_scale: how far the price lies below what the paid tier is worth
    to the user (:func:`subscription_worth`)."""
    return (worth - price) / k.price_scale


@jit
def serving_cost(minutes, personalisation, k):
    """Cost of a user's day with a provider of a kind with parameters ``k`` (module docstring)."""
    if minutes <= 0.0:
        return 0.0
    per_minute = k.serving_cost * (1.0 + k.personalisation_cost * personalisation)
    return per_minute * minutes + k.review_cost


@jit
def responsiveness_cost(minutes, empathy, k):
    """What a companion's empathy adds to the cost of a user's day (module docstring)."""
    return k.serving_cost * k.empathy_cost * empathy * minutes


@jit
def conversion_hazard(gap, k):
    """Daily probability that a free user of the companion subscribes."""
    return k.conversion * sigmoid(gap)


@jit
def at_the_door(free_minutes, cap, min_session):
    """Whether a free user is held at the door: the free tier gives less than a session while
    the paid tier would give one (an intervention's cap does not hold them back as well)."""
    return free_minutes < min_session <= cap


@jit
def door_decision(gap):
    """Probability that a free user held at the door subscribes at once: the one decision of
    :func:`conversion_hazard`, without its daily rate; the others leave (ODD 7.8)."""
    return sigmoid(gap)


@jit
def cancel_hazard(gap, k):
    """Daily probability that a subscriber cancels."""
    return k.cancellation * sigmoid(-gap)


class Day(NamedTuple):
    """What booking reads and writes besides the users' state and the business parameters."""

    is_companion: np.ndarray  # (P,)
    ad_load: tuple  # lever tables (sim.model.levers)
    price: tuple
    personalisation: tuple
    empathy: tuple
    free_memory: tuple
    ad_tax: np.ndarray  # interventions' ad tax, one row per user or one for everyone
    revenue: np.ndarray  # (N, P) $, written
    cost: np.ndarray  # (N, P) $, written
    paid: np.ndarray  # (N, P) $ of subscriptions paid, written


@jit
def book(start, stop, users, feed, companion, day, sums):
    """Revenue, cost and subscriptions paid of users ``start`` to ``stop`` into
    ``day.revenue``, ``day.cost`` and ``day.paid``, and each user's ad impressions; adds the
    block's sums of ad tax, ad revenue net of tax, subscription revenue and commerce revenue to
    ``sums`` (4, P), the caller's zeros (the loop creates no arrays, so it compiles without
    reference counting, :func:`sim.model.compiled.jit`)."""
    is_companion, ad_load, price, personalisation, empathy, free_memory = day[:6]
    ad_tax, revenue, cost, paid = day[6:]
    P = users.minutes.shape[1]
    per_ad = feed.cpm / 1000.0
    for i in range(start, stop):
        impressions = 0.0
        for j in range(P):
            m = users.minutes[i, j]
            ads = m * feed.items_per_minute * levers.lever(ad_load, i, j)
            impressions += ads
            value = ads * per_ad
            tax = value * ad_tax[at(ad_tax, i), j]
            subscription = levers.lever(price, i, j) / 30.0 if users.subscribed[i, j] else 0.0
            commerce = 0.0
            depth = levers.lever(personalisation, i, j)
            if is_companion[j]:
                commerce = companion.commerce_rate * m * users.attachment[i, j]
                depth *= memory_used(users.subscribed[i, j], levers.lever(free_memory, i, j))
                cost[i, j] = serving_cost(m, depth, companion) + responsiveness_cost(
                    m, levers.lever(empathy, i, j), companion
                )
            else:
                cost[i, j] = serving_cost(m, depth, feed)
            revenue[i, j] = value - tax + subscription + commerce
            paid[i, j] = subscription
            sums[0, j] += tax
            sums[1, j] += value - tax
            sums[2, j] += subscription
            sums[3, j] += commerce
        users.ad_impressions[i] = impressions


class Offer(NamedTuple):
    """What the subscription decisions read besides the users' state and the parameters."""

    companions: np.ndarray  # (K,) columns of the companions
    price: tuple  # lever tables (sim.model.levers)
    free_minutes: tuple
    free_memory: tuple
    empathy: tuple
    cap: np.ndarray  # interventions' caps, one row per user or one for everyone
    desired: np.ndarray  # (N, P) share of the day each provider would have got uncapped
    chosen: np.ndarray  # (N, P) the share it is valued against (ODD 7.8)
    rest: np.ndarray  # (N, P) how other options' pulls bend the rest of the day, or 0
    need_minutes: float  # social.companion_need_minutes
    turned_away: np.ndarray  # (N, P) bool, out: free users held at the door who did not pay


@jit
def subscribe(start, stop, users, k, choice, offer, draws):
    """Conversions and cancellations of users ``start`` to ``stop`` with the companions
    ``offer.companions``, from their uniforms ``draws`` (K, block); free users held at the door
    (:func:`at_the_door`) pay at once or are ``offer.turned_away``."""
    for i in range(start, stop):
        for c in range(offer.companions.shape[0]):
            j = offer.companions[c]
            if not users.adopted[i, j]:  # quitting ends a subscription (ODD 7.11)
                continue
            subscribed = users.subscribed[i, j]
            free_minutes = levers.lever(offer.free_minutes, i, j)
            cap = offer.cap[at(offer.cap, i), j]
            door = not subscribed and at_the_door(free_minutes, cap, choice.min_session)
            draw = draws[c, i - start]
            if not door and draw >= (k.cancellation if subscribed else k.conversion):
                continue  # the tier stays at any worth: the sigmoid of a hazard is at most 1
            gain = memory_value(
                levers.lever(offer.empathy, i, j),
                users.emotional_knowledge[i, j],
                users.attachment[i, j],
                users.loneliness[i],
                unmet_need(users.understood_usual[i], offer.need_minutes),
                levers.lever(offer.free_memory, i, j),
                choice,
            )
            worth = subscription_worth(
                users.budget[i],
                free_minutes,
                cap,
                offer.desired[i, j],
                offer.chosen[i, j],
                offer.rest[i, j],
                gain,
                subscribed,
                choice,
            )
            gap = price_gap(worth, levers.lever(offer.price, i, j), k)
            if subscribed:
                users.subscribed[i, j] = not draw < cancel_hazard(gap, k)
            elif door:
                users.subscribed[i, j] = draw < door_decision(gap)
                offer.turned_away[i, j] = not users.subscribed[i, j]
            else:
                users.subscribed[i, j] = draw < conversion_hazard(gap, k)


# today's sums per provider, in ``today.books`` (4, P)
PARTS = ("ad_tax_paid", "ad_revenue", "subscription_revenue", "commerce_revenue")


def step(model, today) -> None:
    """Book today's revenue, cost and subscriptions paid per user and provider
    (``today.revenue``, ``today.cost``, ``today.paid``; revenue's parts summed per provider in
    ``today.books``), then subscriptions change."""
    u, prm = model.users, model.params
    feed, companion = compiled.constants(prm.feed), compiled.constants(prm.companion)
    today.revenue = model.work("business.revenue", u.minutes.shape)
    today.cost = model.work("business.cost", u.minutes.shape)
    today.paid = model.work("business.paid", u.minutes.shape)
    tables = today.levers.tables
    price = tables["price"]
    day = Day(
        model.is_companion,
        tables["ad_load"],
        price,
        tables["personalisation"],
        tables["empathy"],
        tables["free_memory"],
        compiled.per_user(today.constraints.ad_tax, u.n),
        today.revenue,
        today.cost,
        today.paid,
    )

    def book_block(_, a, b):
        sums = np.zeros((4, len(model.providers)))
        book(a, b, u, feed, companion, day, sums)
        return sums

    today.books = sum(compiled.each_block(compiled.blocks(u.n), book_block))
    companions = [p for p in model.providers if p.kind == "companion"]
    if not companions:
        return
    offer = Offer(
        np.array([p.column for p in companions], np.int64),
        price,
        tables["free_minutes"],
        tables["free_memory"],
        tables["empathy"],
        compiled.per_user(today.constraints.cap, u.n),
        today.desired,
        today.chosen,
        today.rest,
        prm.social.companion_need_minutes,
        np.zeros(u.minutes.shape, bool),
    )
    today.turned_away = offer.turned_away
    choice = compiled.constants(prm.choice)
    streams = [model.streams(f"subscribe:{p.name}", model.day) for p in companions]
    draws = compiled.block_buffer(model, "business.draws", u.n, (len(companions),))
    compiled.each_block(
        compiled.blocks(u.n),
        lambda _, a, b: subscribe(a, b, u, companion, choice, offer, draws(a, b)),
        compiled.uniforms(streams, draws),
    )
