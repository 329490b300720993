"""Provider policies: the objective each provider pursues, in $ per user-day (ODD 7.9).

For provider p and user i, each day:

    attention:  J = profit + minute_value * minutes
    intimacy:   J = profit + V(s_today) - V(s_yesterday) + brought
    wellbeing:  J = welfare + shadow_price * profit

*Attention* values revenue net of cost and the time it captures now. *Intimacy* values the
relationship: the profit it made today and the change in its expected discounted lifetime
profit, every day of a test window valued at the estimate V made as the window opened, so
that a window's J sums to the profit made plus the value of the moves its users made (a
leaver's value falls to that of a former user; a change in the estimate is not counted as value
created). The
provider predicts that value from its own observations as a Markov chain of customer states
(Pfeifer & Carraway 2000): a user's state s is whether they pay, their band of attachment
(``ATTACHMENT_BANDS`` equal bands), of what the provider knows of them (``KNOWLEDGE_BANDS``: a
companion's emotional knowledge, a feed's knowledge of tastes, the relationship's capital), of
habit (``HABIT_BANDS``) and of trust, the user's perceived manipulation by the provider cut at
``TRUST_EDGES`` (the leading indicators it steers by; a feed's users have habits and are known
but have no attachment, and feeds use no tactics). A user who leaves (quits, switches to a
rival or is turned away at a closed tier's door) becomes a former user, who may come back, as
many do: leaving is a move to the first of the former users' states, by band of time away
since they left (``FORMER``, ``AWAY_EDGES``; the chance of coming back falls with it), and
coming back a move from one (the always-a-share chain with Pfeifer & Carraway's recency
states; a lost-for-good one, in which leaving is final, charged every departure all of its
value). A user is valued bilinearly between the
centres of their bands of attachment and knowledge (:func:`value_at`), so that moves within a
band count. A provider sees
its users' perceived manipulation in practice through their complaints, ratings, reports and
cancellation reasons; here it reads it directly, so that the later cost of tactics (attachment
eroded, quits, ODD 7.10) can be priced when a tactic moves a user to a band of less trust (in
the runs it is not: the users who perceive the most manipulation are the most engaged, and the
chain, conditioning on the state alone, values them as highly; ODD 9).
From the user-days (a former user's days away among them), moves between states and profit it
has seen, each fading with ``churn_memory`` days, it estimates the daily margin m(s) and the
chance P(s, s') of moving from s to s' (what is left is the chance of leaving for good), a
user's state's shrunk toward staying put, leaving at the users' overall rate and earning their
overall margin by ``churn_prior`` user-days (the overall rate and margin are themselves shrunk
by as many user-days toward none and 0, and those user-days leave for good at rate r, so that
a provider that has seen little predicts little), a former user's toward staying away; a former
user earns nothing and recommends no one. It values

    V = (I - P / (1 + r))^-1 m,   r = discount_rate / 365

so that a state is worth what it earns and what it leads to: a free user who tends to come to
pay is worth the subscriptions to come. A user's profit includes what marketing cost to bring
them in on the day they joined (ODD 7.8): a former user's state earns nothing, but its margin is
the acquisition paid on the days former users come back, so that V(former) is what they bring
back less what bringing them back costs. A relationship is also worth the newcomers the user's
recommending brings in (customer referral value, Kumar, Petersen & Leone 2010): what friends
brought forward of each join, a newcomer's worth V0(newcomer) sooner and the acquisition saved
(``brought``, in $, :func:`sim.model.mechanisms.adoption.attribute_joins`), is credited to them
and taken from the newcomer's own first day, and the chain adds what users in each state bring
in a day (at a newcomer's own worth V0 when they came: one generation, not what they bring in
turn) to the state's margin, ``V = (I - P / (1 + r))^-1 (m + b)`` (``adaptation.referrals``;
ODD 7.9).
The subscription's terms (price, free tier, free memory) hold for all the days to come, so the
users in the arms of a test of one are credited with what their relationship would be worth on
the arm's terms (:meth:`Intimacy.terminal`).
*Wellbeing-aligned* values the whole-day welfare of its users in $ (ODD 7.7), subject to
breaking even over its whole book: the shadow price of that constraint rises while the book
loses money and falls while it makes money,

    shadow_price <- shadow_price * exp(-break_even_rate * clip(profit / revenue, -1, 1))

at the end of each test window, so a provider that covers its costs serves welfare alone, and
one that does not weighs each dollar of profit against users' welfare until it does. How
providers test lever changes against these objectives is :mod:`sim.model.abtests`. Users who
leave count in every objective as they are (intention to treat): a profit-seeking provider loses
their profit; a wellbeing-aligned one sees their welfare without it.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from sim.model import compiled
from sim.model.abtests import Credit, enrol, window_closes
from sim.model.compiled import jit

ATTENTION, INTIMACY, WELLBEING = 0, 1, 2  # policies as compiled code reads them
ATTACHMENT_BANDS = 5  # equal bands of attachment in [0, 1]
# equal bands of what the provider knows of the user in [0, 1] (a companion's emotional
# knowledge, a feed's knowledge of tastes, ODD 7.4): the relationship's capital, which deeper
# memory builds and which makes users feel understood and pay for the full memory (ODD 7.8)
KNOWLEDGE_BANDS = 3
# equal bands of habit in [0, 1]: a user's habit mostly sits near 0 (lapsed) or 1 (daily use),
# so a few bands tell them apart
HABIT_BANDS = 3
# the edges of the bands of trust, in perceived manipulation (0 to 1). Under daily sessions at
# tactic rate r a session it settles at p r / (d + p r) (``manipulation.perception`` p = 0.1,
# ``perception_decay`` d = 0.02, ODD 7.10): 0.33 at r = 0.1, 0.5 at 0.2, 0.67 at 0.4, so it spans
# about 0 to 0.8 and equal bands would leave the top ones empty. The edges were set when every
# session ended with a goodbye (r = q, the lever); with ``manipulation.goodbye_share`` g = 0.17,
# r = g q: 0.15 at the launch lever 0.2, 0.25 at 0.4, 0.46 at 1. Each band is
# 0.2 of reflective utility at ``manipulation.aversion`` 1, two ``adoption.quit_scale`` s of the
# quit hazard (ODD 7.11); below 0.1 is a user who has met no tactic for months.
TRUST_EDGES = (0.1, 0.3, 0.5)
TRUST_BANDS = len(TRUST_EDGES) + 1
# a state's index: paying, then the band of attachment, of knowledge, of habit and of trust,
# each a digit of its own width
PER_KNOWLEDGE = HABIT_BANDS * TRUST_BANDS
PER_ATTACHMENT = KNOWLEDGE_BANDS * PER_KNOWLEDGE
FREE_STATES = ATTACHMENT_BANDS * PER_ATTACHMENT  # the states of a user who does not pay
# a former user: one who has left (quit, switched away or been turned away at a closed tier's
# door) and may come back, as most do (Pfeifer & Carraway 2000's always-a-share customers): the
# state after every user's, free or paying, by band of attachment, knowledge, habit and trust
# A former user's state is their band of time away (Pfeifer & Carraway's recency states): the
# chance of coming back falls with it. Bands end at these days away: within a month, one to
# three months, three months to a year, longer.
AWAY_EDGES = (30, 90, 365)
FORMER = 2 * FREE_STATES  # the first former user's state: away for less than a month
STATES = FORMER + len(AWAY_EDGES) + 1
assert STATES <= 32767, "each user's state is held as an int16 (sim.model.providers)"
# columns of what a provider has seen by state: user-days, profit and what users' recommending
# it brought in ($), then moves
MOVES = 3
NEWCOMER = 0  # the state a newcomer starts in: free, in the first band of everything
SHADOW_PRICE_FLOOR = 1e-6  # the shadow price never reaches exactly zero, so it can rise again


@jit
def attention_value(profit, minutes, k):
    """The attention policy's J: profit and the value of the time captured today."""
    return profit + k.minute_value * minutes


@jit
def band(x, bands):
    """The equal band of [0, 1] that ``x`` lies in."""
    return min(int(x * bands), bands - 1)


@jit
def relationship_state(subscribed, attachment, knowledge, habit, perceived):
    """The state of a user's relationship with a provider as the provider's predictions know
    it (ODD 7.9): whether they pay, and their bands of attachment, of what the provider knows
    of them, of habit and of trust (perceived manipulation, ``perceived``, cut at
    ``TRUST_EDGES``)."""
    t = 0  # the band of trust: how many edges of perceived manipulation it has passed
    for edge in TRUST_EDGES:
        if perceived >= edge:
            t += 1
    return (
        (FREE_STATES if subscribed else 0)
        + band(attachment, ATTACHMENT_BANDS) * PER_ATTACHMENT
        + band(knowledge, KNOWLEDGE_BANDS) * PER_KNOWLEDGE
        + band(habit, HABIT_BANDS) * TRUST_BANDS
        + t
    )


@jit
def between_bands(x, bands):
    """Where ``x`` lies between the centres of ``bands`` equal bands of [0, 1]: the band below
    and the weight of the band above (0 below the first centre, 1 above the last)."""
    position = x * bands - 0.5
    below = min(max(int(math.floor(position)), 0), bands - 2)
    return below, min(max(position - below, 0.0), 1.0)


@jit
def value_at(value, state, attachment, knowledge):
    """``value`` (by state) of a user in ``state`` with ``attachment`` and ``knowledge``:
    bilinear between the centres of their bands, the rest of the state as it is, so that the
    leading indicator and the relationship's capital count as they move, not only when they
    cross a band's edge; a former user's, ``value`` of their band of time away."""
    if state >= FORMER:
        return value[state]
    rest = state % FREE_STATES
    a, k = rest // PER_ATTACHMENT, rest % PER_ATTACHMENT // PER_KNOWLEDGE
    first = state - a * PER_ATTACHMENT - k * PER_KNOWLEDGE  # the first bands of both
    a, wa = between_bands(attachment, ATTACHMENT_BANDS)
    k, wk = between_bands(knowledge, KNOWLEDGE_BANDS)
    low = first + a * PER_ATTACHMENT + k * PER_KNOWLEDGE
    high = low + PER_ATTACHMENT
    return (1.0 - wa) * ((1.0 - wk) * value[low] + wk * value[low + PER_KNOWLEDGE]) + wa * (
        (1.0 - wk) * value[high] + wk * value[high + PER_KNOWLEDGE]
    )


@jit
def former_state(days_away):
    """The state of a former user away for ``days_away`` days: their band of time away."""
    band = 0
    for edge in AWAY_EDGES:
        if days_away >= edge:
            band += 1
    return FORMER + band


@jit
def values_at(value, who, state, attachment, knowledge, out):
    """:func:`value_at` of the users ``who`` (indices) into ``out``; 0 for a non-user (state
    -1)."""
    for i in who:
        if state[i] >= 0:
            out[i] = value_at(value, state[i], attachment[i], knowledge[i])
        else:
            out[i] = 0.0


@jit
def wellbeing_value(welfare, profit, shadow_price):
    """The wellbeing-aligned policy's J: the user's welfare and profit at its shadow price."""
    return welfare + shadow_price * profit


class Day(NamedTuple):
    """The day's accounts that the objectives read."""

    revenue: np.ndarray  # (N, P) $
    cost: np.ndarray  # (N, P) $
    referred: np.ndarray  # (N, P) $ of each of today's joins that friends brought (7.11)
    credited: np.ndarray  # (N, P) $ each user's recommending brought today (7.11)
    today: int  # the day


class Provider(NamedTuple):
    """One provider as the objectives' loop sees it."""

    column: int
    policy: int  # the code of its own policy; -1 before its launch (nothing is added)
    companion: bool  # whether it knows its users' moods (emotional knowledge) or their tastes
    value: np.ndarray  # (STATES,) V by state, as it predicts it
    # (N,) int16 each user's state yesterday, a former user's band of time away (from FORMER),
    # -1 for people who never were its users; updated
    state: np.ndarray
    left: np.ndarray  # (N,) int32 the day each former user last left; updated
    attached: np.ndarray  # (N,) each user's attachment yesterday; updated
    known: np.ndarray  # (N,) what it knew of each user yesterday; updated
    shadow_price: float  # of its break-even constraint (wellbeing-aligned)
    window: np.ndarray  # (2, N) objective and profit summed over its test window
    # (N,) each user's worth yesterday, ``value_at`` their state, attachment and knowledge;
    # updated
    worth: np.ndarray
    revalued: bool  # V was estimated afresh today: yesterday's worth is taken at the new V


@jit
def known_of(users, i, j, companion):
    """What provider ``j`` knows of user ``i`` as its relationship's capital: a companion's
    emotional knowledge, a feed's knowledge of tastes (ODD 7.4)."""
    return users.emotional_knowledge[i, j] if companion else users.knowledge[i, j]


@jit
def objective(i, users, k, day, provider, sums):
    """Provider ``provider``'s objective for user ``i`` under every policy; adds its own
    policy's and its profit to its test window, and to ``sums`` (the provider's row of
    :func:`objectives`) the attention and intimacy objectives, revenue and cost, then, for a
    user by yesterday's state, a user-day, its profit and what their recommending brought in."""
    j, own, companion, value, state, left, attached, known = provider[:8]
    shadow_price, window, worth, revalued = provider[8:]
    S = STATES
    revenue, cost = day.revenue[i, j], day.cost[i, j]
    profit = revenue - cost
    before = state[i]
    now, attachment = -1, users.attachment[i, j]
    knowledge = known_of(users, i, j, companion)
    if users.adopted[i, j]:
        now = relationship_state(
            users.subscribed[i, j],
            attachment,
            knowledge,
            users.habit[i, j],
            users.perceived_manipulation[i, j],
        )
    elif before >= 0:  # left today, or still away
        if before < FORMER:
            left[i] = day.today
        now = former_state(day.today - left[i])
    valued = value_at(value, now, attachment, knowledge) if now >= 0 else 0.0
    change = valued
    brought = 0.0  # what the user's recommending brought in today, $
    if k.referrals:
        brought = day.credited[i, j]
        # a user who joined or came back today: what friends brought forward of them is the
        # friends' (``referred`` is 0 on any other day)
        change -= day.referred[i, j]
    if before >= 0:  # yesterday's worth, at today's V
        change -= value_at(value, before, attached[i], known[i]) if revalued else worth[i]
    state[i], attached[i], known[i], worth[i] = now, attachment, knowledge, valued
    attention = attention_value(profit, users.minutes[i, j], k)
    intimacy = profit + change + brought
    wellbeing = wellbeing_value(users.welfare[i], profit, shadow_price)
    sums[0] += attention
    sums[1] += intimacy
    sums[2] += revenue
    sums[3] += cost
    if before >= 0:  # a user or a former user this morning
        sums[4 + before] += 1.0
        sums[4 + S + before] += profit
        sums[4 + 2 * S + before] += brought
    if own == ATTENTION:
        window[0, i] += attention
    elif own == INTIMACY:
        window[0, i] += intimacy
    elif own == WELLBEING:
        window[0, i] += wellbeing
    if own >= 0:
        window[1, i] += profit


@jit(refcount=True)
def objectives(start, stop, users, k, day, providers):
    """Every provider's :func:`objective` for users ``start`` to ``stop``, in one call.
    Returns the block's sums, a row per provider: the attention and intimacy objectives,
    revenue and cost, then, for its users by yesterday's state, the user-days, profit and what
    their recommending brought in (S columns each), which its predictions learn from with the moves
    from yesterday's states to today's (:func:`tally_moves`). (The wellbeing-aligned
    objective is not summed: the metrics report its measure, welfare.)"""
    sums = np.zeros((len(providers), 4 + MOVES * STATES))
    add_objectives(start, stop, users, k, day, providers, sums)
    return sums


@jit
def add_objectives(start, stop, users, k, day, providers, sums):
    """The loop of :func:`objectives`, adding into its ``sums``: compiled without reference
    counting (:func:`sim.model.compiled.jit`), which would count a reference to each of the
    users' arrays at every user."""
    for q in range(len(providers)):  # provider by provider, while the block is in cache
        provider, row = providers[q], sums[q]
        for i in range(start, stop):
            objective(i, users, k, day, provider, row)


@jit
def tally_moves(before, now, moves):
    """Add each user's move from yesterday's state ``before`` to today's ``now`` (leaving is a
    move to ``FORMER``; column S, leaving for good, which the provider cannot tell apart from
    being away, stays empty) to ``moves`` (S, S + 1), for users and former users of
    yesterday."""
    S = moves.shape[0]
    for i in range(before.shape[0]):
        if before[i] >= 0:
            moves[before[i], now[i] if now[i] >= 0 else S] += 1.0


# the columns of a terms test's per-user tallies (:func:`tally_tiers`): days at risk in each
# tier, then the events whose rates the test measures, each with the column of its days at risk
FREE_DAYS, PAYING_DAYS = 0, 1
RATES = ("converting", "cancelling")
EVENTS = (2, 3)  # the tallies' columns of each rate's events
AT_RISK = (FREE_DAYS, PAYING_DAYS)  # and of its days at risk
TALLIES = 2 + len(RATES)
# the subscription's terms: what users weigh against its worth every day in converting and
# cancelling (ODD 7.8), tested with each arm valued on its own terms (:meth:`Intimacy.terminal`)
TERMS = ("price", "free_minutes", "free_memory")


@jit
def is_user(state):
    """Whether ``state`` is a user's (free or paying), not a former user's or no one's."""
    return 0 <= state < FORMER


@jit
def tally_tiers(users, before, now, cohort, out):
    """Add to ``out`` (N, ``TALLIES``), per user of the cohort among ``users``, yesterday's
    users (:func:`users_yesterday`): a free or a paying day at risk, and a conversion (free
    yesterday, paying today) or a cancellation (paying yesterday, free today). A user who left
    today (quit, switched away, or was turned away at a closed tier's door) was at risk of
    converting or cancelling and did neither."""
    for i in users:
        if not cohort[i]:
            continue
        paying = before[i] >= FREE_STATES
        out[i, PAYING_DAYS if paying else FREE_DAYS] += 1.0
        if not is_user(now[i]):
            continue
        if paying and now[i] < FREE_STATES:
            out[i, EVENTS[1]] += 1.0
        elif not paying and now[i] >= FREE_STATES:
            out[i, EVENTS[0]] += 1.0


def standing(state: np.ndarray) -> np.ndarray:
    """Each person's standing with a provider by their state (:func:`relationship_state`,
    :func:`former_state`; -1 never a user): 0 never a user, 1 free, 2 paying, 3 former."""
    return np.searchsorted(np.array([0, FREE_STATES, FORMER]), state, side="right").astype(np.int8)


def users_yesterday(before) -> np.ndarray:
    """The users (indices) who were the provider's users yesterday (state ``before``)."""
    return np.flatnonzero((before >= 0) & (before < FORMER))


def arm_tiers(tallies, arm, cohort) -> np.ndarray:
    """(3, ``TALLIES``): the cohort's :func:`tally_tiers` summed by arm (-1, 0, +1)."""
    if tallies is None:
        return np.zeros((3, TALLIES))
    return np.array([tallies[cohort & (arm == a)].sum(axis=0, dtype=float) for a in (-1, 0, 1)])


class Chain(NamedTuple):
    """A provider's predictions by state (module docstring): the chance P of moving between
    states, the daily margin m (with what a state's recommending brings in), the daily
    discount rate r, and what a newcomer's own relationship is worth, V0(``NEWCOMER``)."""

    chance: np.ndarray  # (S, S)
    margin: np.ndarray  # (S,) $ per user-day
    rate: float
    newcomer: float  # $


def chain(p, k) -> Chain:
    """Provider ``p``'s predictions from what it has seen (module docstring): ``p.seen`` holds,
    by state, user-days, profit, what recommending brought in and moves to each state and to leaving
    for good (which no user is seen to do: leaving is a move to ``FORMER``)."""
    S, prior, r = STATES, k.churn_prior, k.discount_rate / 365.0
    exposure, margin, brought = p.seen[:, 0], p.seen[:, 1], p.seen[:, 2]
    moves = p.seen[:, MOVES:]
    # the users' pooled rates and margin (a former user's days away are not a user's)
    total = exposure[:FORMER].sum() + prior
    quit_all = (moves[:FORMER, S].sum() + prior * r) / total
    leave_all = moves[:FORMER, FORMER].sum() / total
    # the prior: a user stays put or leaves at the pooled rates; a former user stays away, in
    # their band of time away
    stay = np.zeros((S, S + 1))
    stay[:FORMER, :FORMER] = np.eye(FORMER) * (1.0 - quit_all - leave_all)
    stay[:FORMER, FORMER] = leave_all
    stay[:FORMER, S] = quit_all
    stay[FORMER:, FORMER:S] = np.eye(S - FORMER)
    chance = (moves + prior * stay) / (exposure + prior)[:, None]
    m = (margin + prior * margin[:FORMER].sum() / total) / (exposure + prior)
    # a former user earns nothing; what the provider pays to bring them back (on the day they
    # come back, the day's profit of their former state) is the margin of their state, shrunk
    # toward none
    m[FORMER:] = margin[FORMER:] / (exposure[FORMER:] + prior)
    newcomer = discounted_value(chance[:, :S], m, r)[NEWCOMER]  # their own relationship alone
    if brought.any():  # what a user's recommending brings in, $
        b = (brought + prior * brought[:FORMER].sum() / total) / (exposure + prior)
        b[FORMER:] = 0.0  # a former user recommends no one
        m = m + b
    return Chain(chance[:, :S], m, r, newcomer)


def discounted_value(chance, margin, rate) -> np.ndarray:
    """V = (I - P / (1 + r))^-1 m: what each state earns and what it leads to."""
    with one_blas_thread():
        return np.linalg.solve(np.eye(chance.shape[0]) - chance / (1.0 + rate), margin)


def predicted_value(p, k) -> np.ndarray:
    """V by state as provider ``p`` predicts it from what it has seen (:func:`chain`)."""
    c = chain(p, k)
    return discounted_value(c.chance, c.margin, c.rate)


def tier_rates(tiers) -> np.ndarray:
    """(3, 2): each arm's (lowered, control, raised) daily rate of each of ``RATES`` from its
    ``tiers`` (:func:`arm_tiers`), each with half an event added so that an arm with none is not
    taken to have none for ever."""
    return (tiers[:, EVENTS] + 0.5) / (tiers[:, AT_RISK] + 1.0)


def tier_ratios(tiers) -> np.ndarray:
    """(2, 2): each side's (lowered, raised) rate of each of ``RATES`` over control's
    (:func:`tier_rates`)."""
    rates = tier_rates(tiers)
    return rates[[0, 2]] / rates[1]


RATIO_STEP = 0.01  # the step in a rate ratio's log at which the credit's slope is taken


def tier_ratio_variance(tiers) -> np.ndarray:
    """(2, 2): the sampling variance of the log of each :func:`tier_ratios` entry, counting each
    rate's events as Poisson (each with the half event added there):
    var log(rate_a / rate_control) = 1 / (events_a + 0.5) + 1 / (events_control + 0.5)."""
    events = tiers[:, EVENTS] + 0.5  # (arm, rate)
    return np.array([1.0 / events[a] + 1.0 / events[1] for a in (0, 2)])


def rate_influence(tallies, arm, cohort, tiers) -> np.ndarray:
    """(N, 2): each cohort user's linearised share of the log of their arm's rates
    (:func:`tier_rates`), scaled so that the arm's mean of it is the log rate's deviation:
    psi_i = n (e_i - rate x_i) / (events + 0.5), with e_i and x_i the user's events and days at
    risk, n the arm's users (0 for users outside the cohort)."""
    out = np.zeros((arm.shape[0], len(RATES)))
    if tallies is None:
        return out
    rates = tier_rates(tiers)
    for row, a in enumerate((-1, 0, 1)):
        who = cohort & (arm == a)
        t = tallies[who]
        events = tiers[row, EVENTS] + 0.5
        out[who] = who.sum() * (t[:, EVENTS] - rates[row] * t[:, AT_RISK]) / events
    return out


def todays_chain(p, k, day: int | None = None) -> tuple[Chain, np.ndarray]:
    """Provider ``p``'s :func:`chain` and V on it (:func:`discounted_value`) as of ``day``: what
    it has seen changes once a day (:func:`record`), so the tests that conclude in a window
    (each terms test three times, :meth:`Intimacy.terminal`) share one estimate, kept on the
    provider until the next day (estimated afresh, and not kept, without a ``day``)."""
    if day is None:
        c = chain(p, k)
        return c, discounted_value(c.chance, c.margin, c.rate)
    memo = p.todays_chain
    if memo is None or memo[0] != day:
        c = chain(p, k)
        memo = p.todays_chain = (day, c, discounted_value(c.chance, c.margin, c.rate))
    return memo[1], memo[2]


def terms_value(p, k, lever, values, ratios, day=None) -> np.ndarray:
    """(len(values), S): how much more a relationship in each state would be worth to provider
    ``p`` with its term ``lever`` (one of ``TERMS``) at each of ``values`` than at its current
    value, on the chain as the test's arm showed it: free users convert and paying users cancel
    at the arm's rates, ``ratios`` (:func:`tier_ratios`) times the chain's, what they gain or
    lose taken from or given to staying put, and a price's paying days earn a thirtieth of its
    difference,

        V_x = (I - P_x / (1 + r))^-1 (m + [lever is price] [s pays] (price' - price) / 30),
        dV = V_x - V.

    Leaving, a former user's coming back and a free tier's other margin (commerce less the cost
    of serving its minutes, about $0.0001 a minute at the defaults) stay at the chain's rates
    and margin: the test counts leaving and the margin within its window, not after it (ODD
    7.9). A user of the arm who left during the test is credited the difference in their band
    of time away, what the arm's terms change of their return. The chain is ``day``'s
    (:func:`todays_chain`)."""
    c, base = todays_chain(p, k, day)
    states = np.arange(STATES)
    user = states < FORMER
    pays = (states >= FREE_STATES) & user
    # from free to paying and back, between users' states
    crossing = (pays[:, None] != pays[None, :]) & user[:, None] & user[None, :]
    cross = np.where(crossing, c.chance, 0.0).sum(axis=1)
    stay = np.diag(c.chance)
    out = np.empty((len(values), STATES))
    for row, (value, (convert, cancel)) in enumerate(zip(values, ratios, strict=True)):
        # staying put gives what crossing takes, and can give no more than it has
        crossed = np.minimum(cross * np.where(pays, cancel, convert), cross + stay)
        scale = np.divide(crossed, cross, out=np.ones(STATES), where=cross > 0)
        chance = np.where(crossing, c.chance * scale[:, None], c.chance)
        np.fill_diagonal(chance, stay + cross - crossed)
        margin = c.margin
        if lever == "price":
            margin = margin + pays * (value - p.levers["price"]) / 30.0
        out[row] = discounted_value(chance, margin, c.rate) - base
    return out


_blas = None


def one_blas_thread():
    """A context in which numpy's BLAS uses one thread. The solve above is small (``STATES``
    square) and runs for every provider as each test window opens: a multithreaded BLAS gains
    nothing on it, and its threads keep spinning after each call, so two runs side by side (a
    sweep's workers) each took several times as long as one alone."""
    global _blas
    if _blas is None:
        from threadpoolctl import ThreadpoolController

        _blas = ThreadpoolController()
    return _blas.limit(limits=1, user_api="blas")


class Policy:
    """An objective a provider pursues (module docstring)."""

    name = ""
    code = -1

    def window_closed(self, provider, revenue: float, cost: float, k) -> None:
        """What the provider learns from its book over a test window that ends today."""

    def admissible(self, provider, profit, z: float) -> tuple[bool, ...]:
        """Which tested sides the provider may keep, given the test's :class:`ProfitTest`
        ``profit`` (control's profit per user-day and each side's effect on it): every side,
        unless the policy constrains its book."""
        return tuple(True for _ in profit.sides)

    def observe(self, provider, before, model) -> None:
        """What the provider notes of its running tests each day, from its users' states
        yesterday (``before``) and today (``provider.state``), for :meth:`terminal`."""

    def terminal(self, provider, model, test, values=None) -> Credit | None:
        """What each user's relationship would be worth at the end of ``test`` (a short or long
        test, its arms at ``values``, lowered and raised: the test's own by default) beyond
        what the objective already counts, with the variance of estimating it (:class:`Credit`):
        None, for a policy that does not value relationships."""
        return None


class Attention(Policy):
    """J = profit + minute_value * minutes: profit and time captured now."""

    name, code = "attention", ATTENTION


class Intimacy(Policy):
    """J = profit + V(s_today) - V(s_yesterday) + brought: profit, the change in the
    relationship's expected discounted lifetime profit, from a Markov chain of customer states,
    and what the user's recommending brought forward today."""

    name, code = "intimacy", INTIMACY

    def observe(self, provider, before, model):
        """While a test (short or long) of one of the subscription's ``TERMS`` runs, what it does
        to paying, arm by arm (:func:`tally_tiers`)."""
        if not model.params.adaptation.price_terms:
            return
        users = None
        for lever in TERMS:
            for test in (provider.tests.get(lever), provider.long_tests.get(lever)):
                if test is not None:
                    if test.tallies is None:
                        test.tallies = np.zeros((test.arm.shape[0], TALLIES), np.float32)
                    if users is None:
                        users = users_yesterday(before)
                    tally_tiers(users, before, provider.state, test.cohort, test.tallies)

    def terminal(self, provider, model, test, values=None):
        """A test of the subscription's terms (``TERMS``: price, free tier, free memory) values
        each arm on its own terms: a user in an arm ends the test in a state whose worth the
        objective counts at the current terms (V), though the terms would hold for all the days
        to come; each is credited the difference, on the chain with the arm's terms and its
        rates of converting and cancelling as the test measured them (:func:`terms_value`, at
        the state, attachment and knowledge the user has today), so that a price rise is
        weighed as the subscriptions it loses, within the test and after it, against the higher
        price paid by those who stay, and a smaller free tier as the subscriptions it sells
        (ODD 7.9). The rates are estimates from the events the test saw, and their error is the
        test's: with the slope of each arm's mean credit in the log of each rate ratio, the
        credit carries the variance the ratios give it (delta method, events as Poisson,
        :func:`tier_ratio_variance`) and each user's linearised share of the ratios
        (:func:`rate_influence`), through which its covariance with the measured change enters
        the test's se (:func:`abtests.compare`).
        Other levers act on users through their days, over months, and are judged on what the
        window shows."""
        if test.lever not in TERMS or not model.params.adaptation.price_terms:
            return None
        values = test.values if values is None else values
        k = compiled.constants(model.params.adaptation)
        tiers = arm_tiers(test.tallies, test.arm, test.cohort)
        ratios = tier_ratios(tiers)
        extra = self.credit(provider, k, test, values, ratios, model.day)
        sides = [test.cohort & (test.arm == side) for side in (-1, 1)]
        means = np.array([extra[who].mean() if who.any() else 0.0 for who in sides])
        slopes = np.zeros((2, len(RATES)))  # (side, rate): d mean credit / d log ratio
        for rate in range(len(RATES)):
            bumped = ratios.copy()
            bumped[:, rate] *= math.exp(RATIO_STEP)
            moved = self.credit(provider, k, test, values, bumped, model.day)
            slopes[:, rate] = [
                (moved[who].mean() - m) / RATIO_STEP if who.any() else 0.0
                for who, m in zip(sides, means, strict=True)
            ]
        variance = (np.square(slopes) * tier_ratio_variance(tiers)).sum(axis=1)
        psi = rate_influence(test.tallies, test.arm, test.cohort, tiers)
        control = test.cohort & (test.arm == 0)
        influence = np.zeros((2, test.arm.shape[0]))
        for row, who in enumerate(sides):  # a side's users and control's, each on its own rates
            both = who | control
            influence[row, both] = psi[both] @ slopes[row]
        return Credit(extra, (float(variance[0]), float(variance[1])), influence)

    @staticmethod
    def credit(provider, k, test, values, ratios, day) -> np.ndarray:
        """Each user's credit in a terms test's arm at ``values`` with the arms' ``ratios``
        (:func:`terms_value` at the user's state, attachment and knowledge; 0 in control)."""
        gains = terms_value(provider, k, test.lever, values, ratios, day)
        extra = np.zeros(test.arm.shape[0])
        for side, gain in zip((-1, 1), gains, strict=True):
            arm = np.flatnonzero(test.arm == side)
            values_at(gain, arm, provider.state, provider.attached, provider.known, extra)
        return extra


class Wellbeing(Policy):
    """J = welfare + shadow_price * profit: users' welfare, subject to breaking even."""

    name, code = "wellbeing", WELLBEING

    def window_closed(self, provider, revenue, cost, k):
        """The shadow price of breaking even moves with the window's margin (module
        docstring); a book in loss also ends the rests of every settled side
        (:mod:`sim.model.abtests`), which were judged at a lower price of profit."""
        margin = (revenue - cost) / revenue if revenue > 0 else -1.0 if cost > 0 else 0.0
        margin = min(max(margin, -1.0), 1.0)
        price = provider.shadow_price * math.exp(-k.break_even_rate * margin)
        provider.shadow_price = max(price, SHADOW_PRICE_FLOOR)
        if margin < 0:
            provider.rests.clear()

    def admissible(self, provider, profit, z):
        """The break-even constraint in the decision: a side that lowers profit may be kept only
        if the test's control profit per user-day, plus what the changes already kept at this
        window's close cost (``provider.profit_committed``), plus the side's effect stays at or
        above zero with confidence ``z`` (the side breaks even: its effect exceeds minus that
        margin, :meth:`sim.model.abtests.Side.bound_holds`, skewness corrected as a test's z
        is); a side that raises profit always may."""
        margin = profit.control + provider.profit_committed
        return tuple(s is None or s.effect >= 0 or s.bound_holds(-margin, z) for s in profit.sides)


POLICIES: dict[str, Policy] = {p.name: p for p in (Attention(), Intimacy(), Wellbeing())}


def record(model, today) -> dict[str, float]:
    """Every launched provider adds today's objective and profit to its test window and what
    it saw of its users to its predictions; returns the attention and intimacy objectives
    summed over providers and users, as every provider would see them (a daily measurement).
    A provider estimates V afresh as each of its test windows opens (and before its launch,
    from nothing seen), so that a window's days are valued at one estimate."""
    u, k = model.users, compiled.constants(model.params.adaptation)
    day = Day(today.revenue, today.cost, today.referred, today.credited, model.day)
    fade = math.exp(-1.0 / k.churn_memory)
    spans = compiled.blocks(u.n)
    interval = model.params.adaptation.interval
    providers, launched, before = [], [], []
    for p in model.providers:
        launched.append(model.day >= p.launch_day)
        revalued = p.value is None or launched[-1] and (model.day - p.launch_day) % interval == 0
        if revalued:
            c = chain(p, k)
            p.value = discounted_value(c.chance, c.margin, c.rate)
            p.newcomer = c.newcomer
        before.append(p.state.copy())
        providers.append(
            Provider(
                p.column,
                p.policy.code if launched[-1] else -1,
                p.kind == "companion",
                p.value,
                p.state,
                p.left,
                p.attached,
                p.known,
                p.shadow_price,
                p.window,
                p.worth,
                revalued,
            )
        )
    providers = tuple(providers)  # as the objectives' loop sees them
    sums = sum(compiled.each_block(spans, lambda _, a, b: objectives(a, b, u, k, day, providers)))
    total = np.zeros(2)
    for p, row, was, launched_p in zip(model.providers, sums, before, launched, strict=True):
        total += row[:2]
        if not launched_p:
            continue
        p.book += row[2:4]
        S = STATES
        p.seen *= fade
        p.seen[:, :MOVES] += row[4:].reshape(MOVES, S).T
        tally_moves(was, p.state, p.seen[:, MOVES:])
        # today's newcomers (joined, returned or switched in) enter its tests' cohorts
        enrol(p, np.flatnonzero(u.adopted[:, p.column] & (u.adopted_day[:, p.column] == model.day)))
        p.policy.observe(p, was, model)
        if window_closes(p, model):
            p.policy.window_closed(p, *p.book, k)
            p.book[:] = 0.0
    return {"attention": total[0], "intimacy": total[1]}


def step(model, today) -> None:
    """Providers add today to their test windows and churn models, and the day's objectives
    summed over providers and users are left in ``today.objective_sums``; at the end of a
    window each provider concludes its tests and starts the next ones (each provider agent's
    ``step``)."""
    today.objective_sums = record(model, today)
    model.providers.do("step")
