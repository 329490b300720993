"""Adoption, churn and switching (ODD 7.11, 7.12).

Users remember each provider's reflective value per minute of use, net of regret for the part
of its use that was compulsive:

    remembered <- remembered + value_memory * (R - regret_value * compulsive_share - remembered)

(a companion minute at its average worth that day, the day's being heard beyond the margin
shared over the day's companion minutes: staying is all or nothing),

and quit when it, with what leaving would cost, falls below their outside option, with hazard

    quit = quit_rate * sigmoid((offline_value - remembered - switching_cost - hold) / quit_scale)
    switching_cost = switching_dependence * dependence
    hold = habit_hold * impulse_weight * (1 - self_control) * habit_pull * habit

so engagement can rise while value falls and then collapse. What the provider knows of the user
and the attachment built are in the remembered value already (they make a minute there worth
more, ODD 7.2) and in no rival's: that gap is what they cost to leave, so they are not counted
a second time as a cost of leaving. Dependence is: a need leaving would leave unanswered. The
habit's hold is its impulsive pull as felt when deciding whether to stay: a habitual user feels
leaving as losing it. A break lets the habit fade, and with it the hold, so some users who
stayed by habit leave and do not come back.

For a companion, on a day the user talked to it, the outside option is the better of other
offline life and the best rival companion's offer: what the user expects a minute there to be
worth (what they remember of it if they used it before; else its reflective value R to them
today, without a relationship, less the regret they know from today's compulsive share) and,
for a subscriber, what its paid tier would save them per minute of use,

    offer = expected + money_value * (price - rival_price) / 30 / max(minutes, min_session),

money kept weighed against use given up, as in a subscriber's decision to cancel (ODD 7.2,
7.8: ``two_selves.subscription_money_value`` of a subscriber).

A quitter whose alternative was an offer moves to that rival and starts out remembering what
they expected. What the provider knows, the attachment built, dependence and the habit's hold
do not travel, so the longer the relationship the larger the offer it takes to end it. Feeds
are used side by side, so a feed's rival draws users by word of mouth, not by ending a spell.
Any other quitter moves to a same-kind rival picked at random with probability
``switch_propensity`` (a switch), if they do not use it already and may use it.

Non-users adopt with probability

    (marketing + word_of_mouth * endorsing_friends_share) * appeal

where friends who feel manipulated do not endorse, appeal is 1 for feeds and
2 * ai_openness * (0.5 + loneliness) for companions (lonely, open users self-select into
companions), and former users come back only in proportion to sigmoid of their remembered
surplus, the habit's hold included. Marketing is paid by the user it brings in (a cost per
install, ``acquisition_cost``): each join costs the provider its cost per user times the share
of the join marketing brought, ``marketing / (marketing + word_of_mouth * endorsing_share)``;
word of mouth is free. Each join is credited to the friends who recommended it with what they
brought forward: the newcomer's worth sooner, and the cost of acquiring them by marketing later
(:func:`attribute_joins`), which the intimacy objective values (ODD 7.9).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from sim.model import compiled, levers
from sim.model import interventions as iv
from sim.model.compiled import at, jit
from sim.model.mechanisms.attachment import beyond_margin, understanding_today
from sim.model.mechanisms.business import sigmoid
from sim.model.mechanisms.two_selves import subscription_money_value

SWITCH = "adoption"
PARAMS = ("adoption", "choice", "social")  # the parameter sections it reads
STATE = (
    "remembered_value",
    "adopted",
    "adopted_day",
    "quit_day",
)  # the user state it owns (others may read it)
FEED, COMPANION = 0, 1  # provider kinds as compiled code reads them


class Market(NamedTuple):
    """What :func:`decide` knows of the providers today, one entry per provider column."""

    kinds: np.ndarray  # FEED or COMPANION
    marketing: np.ndarray  # daily adoption probability from marketing
    acquisition_cost: np.ndarray  # $ paid for each user marketing brings in
    newcomer: np.ndarray  # $ a newcomer's relationship is worth to the provider, V0 (ODD 7.9)
    launched: np.ndarray  # bool: launched by today
    availability: np.ndarray  # constraints: one row per user or one for everyone
    rivals: np.ndarray  # (P, R) same-kind rivals, the first n_rivals of each row
    n_rivals: np.ndarray
    manipulation_word_of_mouth: float  # how much feeling manipulated stops endorsing
    hold_weight: float  # habit_hold * impulse_weight * habit_pull: the hold of a full habit
    price: tuple  # the price lever's table (sim.model.levers)
    cap: np.ndarray  # interventions' caps on minutes, one row per user or one for everyone
    money_value: float  # a subscriber's utility of a dollar a minute kept for use given up
    min_session: float  # choice.min_session: the fewest minutes worth a session
    regret_value: float  # choice.regret_value: value lost when all of a day's use is compulsive
    network_effects: bool  # mechanisms.network_effects
    empathy: tuple  # lever tables (sim.model.levers)
    free_memory: tuple
    heard: tuple  # the day's being heard, a sim.model.mechanisms.social.HeardDay
    need: float  # social.companion_need_minutes
    turned_away: np.ndarray  # free users held at the door who did not pay (one row: nobody)


class Decisions(NamedTuple):
    """Today's quits, joins and switches (moves into a provider), each (N, P) bool; the rival
    whose offer each user weighed (-1: none), (N, P) int8, and what they expected a minute
    there to be worth, (N, P) float32."""

    quits: np.ndarray
    joins: np.ndarray
    moved: np.ndarray
    offers: np.ndarray
    expected: np.ndarray


@dataclass
class Loyalty:
    """Spell bookkeeping for retention, churn, tenure and switching metrics (ODD 7.11). Starts,
    early ends and the day's quits are kept by provider kind: row ``kind_row(False)`` for
    feeds, ``kind_row(True)`` for companions."""

    starts_by_day: np.ndarray  # (2, days + 1) spells started on each day, by kind
    early_ends_by_day: np.ndarray  # (2, days + 1) of those, spells ended within 90 days
    quits_today: np.ndarray  # (2,) spells ended today, by kind
    ended_tenure_sum: float = 0.0
    ended_count: int = 0
    switches: int = 0
    adoptions_today: int = 0
    switches_today: int = 0

    @classmethod
    def empty(cls, days: int) -> Loyalty:
        return cls(
            np.zeros((2, days + 1), np.int64),
            np.zeros((2, days + 1), np.int64),
            np.zeros(2, np.int64),
        )


def kind_row(is_companion) -> int:
    """Row of :class:`Loyalty`'s tallies for a provider: 0 a feed, 1 a companion."""
    return int(bool(is_companion))


@jit
def appeal(kind, ai_openness, loneliness):
    """How strongly a provider of ``kind`` draws a user: lonely, open users self-select into
    companions (ODD 7.12)."""
    return 2.0 * ai_openness * (0.5 + loneliness) if kind == COMPANION else 1.0


@jit(refcount=True)
def appeals(kind, ai_openness, loneliness):
    """:func:`appeal` of a provider of ``kind`` to every user."""
    out = np.empty(ai_openness.shape[0])
    for i in range(out.shape[0]):
        out[i] = appeal(kind, ai_openness[i], loneliness[i])
    return out


@jit
def switching_cost(dependence, k):
    """What leaving would cost a user beyond the value they remember: the dependence that
    leaving would leave unanswered (ODD 7.15). What the provider knows of them and the
    attachment built are in the remembered value (module docstring)."""
    return k.switching_dependence * dependence


@jit
def habit_hold(habit, self_control, hold_weight):
    """The habit's impulsive pull as felt when deciding whether to stay: what leaving would
    take from the impulsive self (``hold_weight`` is the hold of a full habit at zero
    self-control)."""
    return hold_weight * (1.0 - self_control) * habit


@jit
def quit_hazard(remembered, offline_value, dependence, hold, k):
    """Daily probability that a user quits: high when the remembered value, with what leaving
    would cost and the habit's hold, falls below the outside option."""
    stay = remembered + switching_cost(dependence, k) + hold
    return k.quit_rate * sigmoid(-(stay - offline_value) / k.quit_scale)


@jit
def users_quit_hazard(users, i, j, k, market, alternative):
    """:func:`quit_hazard` of user ``i`` for provider ``j`` from today's state, against the
    ``alternative`` value of a minute (the outside option or a rival's offer)."""
    return quit_hazard(
        users.remembered_value[i, j],
        alternative,
        users.dependence[i, j],
        habit_hold(users.habit[i, j], users.self_control[i], market.hold_weight),
        k,
    )


@jit
def rival_saving(paid, rival_price, minutes, money_value, min_session):
    """What a rival's paid tier would save a subscriber who pays ``paid`` a month, per minute
    of their use, in reflective value (ODD 7.11); negative for a dearer rival."""
    return money_value * (paid - rival_price) / 30.0 / max(minutes, min_session)


@jit
def may_join(users, i, r, market):
    """Whether user ``i`` may start using provider ``r`` today: launched, available to them,
    not a user already and not turned away at its door today (ODD 7.8)."""
    available = market.availability[at(market.availability, i), r] > 0.0
    return market.launched[r] and available and not (users.adopted[i, r] or away(market, i, r))


@jit
def away(market, i, j):
    """Whether provider ``j``'s closed free tier turned user ``i`` away today (ODD 7.8)."""
    return market.turned_away[at(market.turned_away, i), j]


@jit
def expected_value(users, i, j, r, R, regret, market):
    """What user ``i`` of companion ``j`` expects a minute with rival ``r`` to be worth: what
    they remember of it if they used it before, else its reflective value to them today without
    a relationship (``R[i, r]``, ODD 7.2) less the ``regret`` they know from the kind and plus
    being heard by it beyond the margin in ``j``'s place (:func:`heard_in_place`), as the
    companion they remember is (module docstring)."""
    if users.quit_day[i, r] >= 0:
        return users.remembered_value[i, r]
    return R[i, r] - regret + heard_in_place(users, i, j, r, market)


@jit
def heard_in_place(users, i, j, r, market):
    """Being heard beyond the margin, per minute of user ``i``'s companion use today, had rival
    ``r`` heard them for their minutes with ``j`` (ODD 7.11): the day's understood minutes with
    ``r``'s understanding of them in place of ``j``'s, worth what :func:`remember` adds to a
    companion minute for the day as it was, so that the rival and the companion left are both
    judged at their average worth, not one at its average and the other at the margin."""
    companion_minutes = 0.0
    for c in range(users.minutes.shape[1]):
        if market.kinds[c] == COMPANION:
            companion_minutes += users.minutes[i, c]
    heard = market.heard
    change = understanding_today(users, i, r, market.empathy, market.free_memory)
    change -= understanding_today(users, i, j, market.empathy, market.free_memory)
    understood = max(heard.understood[i] + users.minutes[i, j] * change, 0.0)
    worth = beyond_margin(heard.weight[i], understood, heard.unmet[i], market.need)
    return worth / companion_minutes


@jit
def best_offer(users, i, j, market, R, compulsive):
    """(rival, offer, expected) for a user ``i`` of companion ``j`` on a day they used it: the
    rival ``r`` whose offer is worth most to them a minute, its :func:`expected_value` plus,
    for a subscriber, what its paid tier would save (:func:`rival_saving`), and the expected
    value alone; (-1, -inf, 0) when no rival may draw them (none they may join and use today,
    or ``j`` is a feed, or they did not use ``j`` today)."""
    best, offer, expected = -1, -np.inf, 0.0
    minutes = users.minutes[i, j]
    if market.kinds[j] != COMPANION or minutes <= 0.0:
        return best, offer, expected
    regret = market.regret_value * compulsive[i, j] / minutes
    paid = levers.lever(market.price, i, j) if users.subscribed[i, j] else 0.0
    for n in range(market.n_rivals[j]):
        r = market.rivals[j, n]
        usable = market.cap[at(market.cap, i), r] >= market.min_session
        if not (usable and may_join(users, i, r, market)):
            continue
        e = expected_value(users, i, j, r, R, regret, market)
        v = e
        if users.subscribed[i, j]:
            rival_price = levers.lever(market.price, i, r)
            v += rival_saving(paid, rival_price, minutes, market.money_value, market.min_session)
        if v > offer:
            best, offer, expected = r, v, e
    return best, offer, expected


@jit
def remembered_after(remembered, reflective_value, minutes, compulsive, regret_value, k):
    """Remembered value moves toward today's reflective value of the provider, net of the
    regret for the compulsive part of its use; unchanged on a day without use."""
    if minutes <= 0.0:
        return remembered
    value = reflective_value - regret_value * compulsive / minutes
    return remembered + k.value_memory * (value - remembered)


@jit
def remember(start, stop, users, k, R, compulsive, regret_value, heard, need, is_companion):
    """Remembered value of users ``start`` to ``stop`` (with the mechanism off, use still
    updates what users remember). A companion minute is remembered at its average worth, the
    day's being heard beyond the margin (``heard``, a :class:`sim.model.mechanisms.social.
    HeardDay`) shared over the day's companion minutes: staying is all or nothing, not one
    minute more (ODD 7.11)."""
    P = users.minutes.shape[1]
    for i in range(start, stop):
        companion_minutes = 0.0
        for j in range(P):
            if is_companion[j]:
                companion_minutes += users.minutes[i, j]
        beyond = 0.0
        if companion_minutes > 0.0:
            worth = beyond_margin(heard.weight[i], heard.understood[i], heard.unmet[i], need)
            beyond = worth / companion_minutes
        for j in range(P):
            users.remembered_value[i, j] = remembered_after(
                users.remembered_value[i, j],
                R[i, j] + beyond if is_companion[j] else R[i, j],
                users.minutes[i, j],
                compulsive[i, j],
                regret_value,
                k,
            )


@jit
def endorsement(users, f, j, manipulation_word_of_mouth):
    """How strongly user ``f`` recommends provider ``j`` to friends: in proportion to how well
    they know it from use (ODD 7.16) and to how little they feel manipulated by it; 0 for a
    non-user."""
    if not users.adopted[f, j]:
        return 0.0
    trust = 1.0 - manipulation_word_of_mouth * users.perceived_manipulation[f, j]
    return users.familiarity[f, j] * trust


@jit
def endorsing_share(i, j, ties, users, manipulation_word_of_mouth):
    """Share of user ``i``'s friends who use provider ``j`` and recommend it
    (:func:`endorsement`)."""
    indptr, target, degree = ties.indptr, ties.target, ties.degree
    s = 0.0
    for e in range(indptr[i], indptr[i + 1]):
        s += endorsement(users, target[e], j, manipulation_word_of_mouth)
    return s / max(degree[i], 1)


@jit
def comeback(users, i, j, k, market):
    """How readily user ``i`` joins provider ``j``, of what marketing and friends would bring: 1
    for a first join; a former user comes back only if they remember it well, in proportion to
    sigmoid of their remembered surplus, the habit's hold included."""
    if users.quit_day[i, j] < 0:
        return 1.0
    hold = habit_hold(users.habit[i, j], users.self_control[i], market.hold_weight)
    surplus = users.remembered_value[i, j] + hold - users.offline_value[i]
    return sigmoid(surplus / k.quit_scale)


@jit
def marketing_share(marketing, wom):
    """The share of a join that marketing brought: its share of the chance of joining,
    ``marketing / (marketing + wom)``, ``wom`` word of mouth's (ODD 7.11)."""
    return marketing / (marketing + wom)


@jit
def attribute_joins(joins, users, k, market, ties, rate, cost, acquisition, referred, credited):
    """What brought in today's joiners (ODD 7.11), in $ to the provider. For each user ``i`` who
    joined provider ``j`` today, marketing brought the share ``a = marketing / (marketing + w)``
    of their chance of joining (:func:`marketing_share`; ``w = word_of_mouth *
    endorsing_share``, 0 without network effects), paid at ``j``'s cost per user acquired:
    ``acquisition[i, j] = acquisition_cost * a``, added to the day's ``cost[i, j]`` (ODD 7.8).
    Friends' word of mouth brought the rest,
    ``1 - a``, free. Without it ``i`` would have joined later by marketing alone, at ``l =
    marketing * appeal * comeback`` a day (:func:`comeback`; as long as they stay open to it),
    and been paid for then: at a daily discount rate ``rate``, what friends brought is the
    newcomer's worth ``V0`` sooner and the acquisition saved,

        referred[i, j] = (1 - a) * (r / (l + r) * V0 + l / (l + r) * acquisition_cost)

    (customer referral value: Kumar, Petersen & Leone 2010 count the customers who would not
    have come and the acquisition cost saved on those who would), and each endorsing friend
    ``f`` is credited with it in ``credited[f, j]`` in proportion to their
    :func:`endorsement`. Read from the morning's state, as :func:`decide` read it; serial, in
    user order: a joiner's friends may be anywhere in the population. Returns the $ paid for
    the day's joins."""
    acquisition[:] = 0.0
    referred[:] = 0.0
    credited[:] = 0.0
    indptr, target, degree = ties.indptr, ties.target, ties.degree
    spent = 0.0
    for i in range(joins.shape[0]):  # few join on a day: the loop is over users' flags
        for j in range(joins.shape[1]):
            if not joins[i, j]:
                continue
            share = 0.0
            if market.network_effects:
                share = endorsing_share(i, j, ties, users, market.manipulation_word_of_mouth)
            marketing, install = market.marketing[j], market.acquisition_cost[j]
            a = marketing_share(marketing, k.word_of_mouth * share)
            acquisition[i, j] = install * a
            cost[i, j] += acquisition[i, j]
            spent += acquisition[i, j]
            if share <= 0.0:
                continue
            later = marketing * appeal(market.kinds[j], users.ai_openness[i], users.loneliness[i])
            later *= comeback(users, i, j, k, market)
            worth = rate * market.newcomer[j] + later * install  # sooner, and the install saved
            referred[i, j] = (1.0 - a) * worth / (later + rate)
            scale = referred[i, j] / (share * max(degree[i], 1))  # per unit of endorsement
            for e in range(indptr[i], indptr[i + 1]):
                f = target[e]
                credited[f, j] += scale * endorsement(
                    users, f, j, market.manipulation_word_of_mouth
                )
    return spent


@jit
def decide(start, stop, users, k, market, ties, R, compulsive, draws, out):
    """Quits, joins and switches of users ``start`` to ``stop`` from the same morning state,
    into ``out`` (:class:`Decisions`); ``draws`` (2P, block) holds one uniform per provider
    for quitting or joining and one for switching. Free users a closed tier turned away today
    (``market.turned_away``, ODD 7.8) quit."""
    kinds, marketing, deciding, availability = (
        market.kinds,
        market.marketing,
        market.launched,
        market.availability,
    )
    quits, joins, moved, offers, expected = out
    P = users.minutes.shape[1]
    for i in range(start, stop):
        b = i - start
        for j in range(P):
            quits[i, j] = joins[i, j] = moved[i, j] = False
            offers[i, j] = -1
        for j in range(P):
            if not deciding[j]:
                continue
            draw = draws[j, b]
            if users.adopted[i, j]:
                alternative = users.offline_value[i]
                rival, offer, worth = best_offer(users, i, j, market, R, compulsive)
                if offer > alternative:  # a rival's offer beats the outside option
                    offers[i, j], expected[i, j], alternative = rival, worth, offer
                quits[i, j] = away(market, i, j) or (
                    draw < k.quit_rate  # else no quit at any value: the hazard is at most that
                    and draw < users_quit_hazard(users, i, j, k, market, alternative)
                )
                continue
            if availability[at(availability, i), j] <= 0.0:
                continue
            weight = appeal(kinds[j], users.ai_openness[i], users.loneliness[i])
            if draw >= (marketing[j] + k.word_of_mouth) * weight:
                continue  # no join whatever friends do: their share is at most 1
            share = 0.0
            if market.network_effects:
                share = endorsing_share(i, j, ties, users, market.manipulation_word_of_mouth)
            prob = (marketing[j] + k.word_of_mouth * share) * weight
            prob *= comeback(users, i, j, k, market)
            joins[i, j] = draw < prob
        for j in range(P):
            n_rivals = market.n_rivals[j]
            if not quits[i, j] or n_rivals == 0:
                continue
            r = int(offers[i, j])  # the offer that drew them, else a rival at random
            if r < 0:
                draw = draws[P + j, b]
                if draw >= k.switch_propensity:
                    continue
                r = market.rivals[j, int(draw / k.switch_propensity * n_rivals)]
            uses = (users.adopted[i, r] and not quits[i, r]) or joins[i, r] or moved[i, r]
            open_to = deciding[r] and availability[at(availability, i), r] > 0.0
            if not uses and open_to and not away(market, i, r):
                moved[i, r] = True


def start_spells(model, j: int, who: np.ndarray) -> int:
    """Users ``who`` ((N,) bool) start using provider ``j`` today; returns how many."""
    u, day = model.users, model.day
    who = np.flatnonzero(who)  # few users a day: index them rather than mask every user
    u.adopted[who, j] = True
    u.adopted_day[who, j] = day
    # newcomers expect it to be worth a little more than their outside option
    u.remembered_value[who, j] = u.offline_value[who] + model.params.adoption.quit_scale
    model.loyalty.starts_by_day[kind_row(model.is_companion[j]), day] += who.size
    model.loyalty.adoptions_today += who.size
    return who.size


def end_spells(model, j: int, who: np.ndarray) -> None:
    """Users ``who`` ((N,) bool) quit provider ``j`` today."""
    u, day, loyalty = model.users, model.day, model.loyalty
    who = np.flatnonzero(who)
    tenure = day - u.adopted_day[who, j]
    loyalty.ended_tenure_sum += float(tenure.sum())
    loyalty.ended_count += who.size
    row = kind_row(model.is_companion[j])
    np.add.at(loyalty.early_ends_by_day[row], u.adopted_day[who, j][tenure < 90], 1)
    leave(u, j, who, day)
    loyalty.quits_today[row] += who.size


def turn_away(model, j: int, who: np.ndarray) -> None:
    """Users ``who`` ((N,) bool), at the door of ``j``'s closed free tier on their first day
    there (ODD 7.8), leave without having become users: their spell is withdrawn, not ended, so
    it counts in no retention, tenure or churn."""
    u = model.users
    who = np.flatnonzero(who)
    np.add.at(
        model.loyalty.starts_by_day[kind_row(model.is_companion[j])], u.adopted_day[who, j], -1
    )
    leave(u, j, who, model.day)


def leave(u, j: int, who: np.ndarray, day: int) -> None:
    """Users ``who`` (indices) stop using provider ``j`` on ``day``, and stop paying for it."""
    u.adopted[who, j] = False
    u.subscribed[who, j] = False
    u.quit_day[who, j] = day


def launch(model, today) -> None:
    """Initial users of providers launching today (day 0 for incumbents), before the day's
    choice; resets the day's adoption counters."""
    u = model.users
    loyalty = model.loyalty
    loyalty.quits_today[:] = 0
    loyalty.adoptions_today = loyalty.switches_today = 0
    for p in model.providers:
        if p.launch_day != model.day:
            continue
        j = p.column
        weight = appeals(p.KIND, u.ai_openness, u.loneliness)
        share = p.section(model.params).initial_adoption
        prob = np.clip(share * weight / np.mean(weight), 0.0, 1.0)  # launch share as given
        who = model.streams(f"initial:{p.name}").random(u.n) < prob
        who &= ~iv.kept_away(model, j)  # staggered launches and deactivations come later
        start_spells(model, j, who)
        if p.kind == "feed" and model.day == 0:
            fp, on = model.params.feed, model.params.mechanisms
            u.habit[who, j] = fp.initial_habit if on.habit else 0.0
            u.knowledge[who, j] = fp.initial_habit if on.learning else 0.0
            u.familiarity[who, j] = 1.0  # they have used the feed for years


def market_table(model, today) -> Market:
    """What :func:`decide` needs to know of the providers today."""
    providers = model.providers
    P = len(providers)
    rivals = np.zeros((P, max(P - 1, 1)), np.int64)
    n_rivals = np.zeros(P, np.int64)
    for p in providers:
        same = [q.column for q in providers if q.kind == p.kind and q is not p]
        rivals[p.column, : len(same)] = same
        n_rivals[p.column] = len(same)
    return Market(
        np.array([p.KIND for p in providers], np.int64),
        np.array([p.section(model.params).marketing for p in providers]),
        np.array([p.section(model.params).acquisition_cost for p in providers]),
        np.array([p.newcomer for p in providers]),
        np.array([model.day >= p.launch_day for p in providers]),
        compiled.per_user(today.constraints.availability, model.users.n),
        rivals,
        n_rivals,
        model.params.manipulation.word_of_mouth,
        hold_weight(model.params),
        today.levers.tables["price"],
        compiled.per_user(today.constraints.cap, model.users.n),
        subscription_money_value(True, compiled.constants(model.params.choice)),
        model.params.choice.min_session,
        model.params.choice.regret_value,
        model.params.mechanisms.network_effects,
        today.levers.tables["empathy"],
        today.levers.tables["free_memory"],
        today.heard_day,
        model.params.social.companion_need_minutes,
        np.zeros((1, P), bool) if today.turned_away is None else today.turned_away,
    )


def hold_weight(params) -> float:
    """The hold of a full habit at zero self-control: the share ``adoption.habit_hold`` of the
    habit's impulsive pull (ODD 7.2), none without the two selves."""
    c = params.choice
    if not params.mechanisms.two_selves:
        return 0.0
    return params.adoption.habit_hold * c.impulse_weight * c.habit_pull


def step(model, today) -> None:
    """Remembered value, then quitting, switching and adoption for today (after use, before
    tomorrow's choice), every provider's decided from the same morning state."""
    u, prm = model.users, model.params
    k = compiled.constants(prm.adoption)
    spans = compiled.blocks(u.n)
    regret = prm.choice.regret_value
    need, heard, is_companion = (
        prm.social.companion_need_minutes,
        today.heard_day,
        model.is_companion,
    )
    compiled.each_block(
        spans,
        lambda _, a, b: remember(
            a, b, u, k, today.R, today.compulsive, regret, heard, need, is_companion
        ),
    )
    today.acquisition = model.work("adoption.acquisition", u.adopted.shape)
    today.referred = model.work("adoption.referred", u.adopted.shape)
    today.credited = model.work("adoption.credited", u.adopted.shape)
    if not prm.mechanisms.adoption:
        today.acquisition[:] = today.referred[:] = today.credited[:] = 0.0
        return
    P = len(model.providers)
    market = market_table(model, today)
    streams = [model.streams(f"adoption:{p.name}", model.day) for p in model.providers]
    streams += [model.streams(f"switch:{p.name}", model.day) for p in model.providers]
    draws = compiled.block_buffer(model, "adoption.draws", u.n, (2 * P,))
    ties = model.network.ties()
    out = Decisions(
        *(model.work(f"adoption.{k}", u.adopted.shape, bool) for k in Decisions._fields[:3]),
        model.work("adoption.offers", u.adopted.shape, np.int8),
        model.work("adoption.expected", u.adopted.shape, np.float32),
    )
    compiled.each_block(
        spans,
        lambda _, a, b: decide(
            a, b, u, k, market, ties, today.R, today.compulsive, draws(a, b), out
        ),
        compiled.uniforms(streams, draws),
    )
    quits, joins, moved, offers, expected = out
    today.quits = quits
    rate = prm.adaptation.discount_rate / 365.0  # the providers' daily discount rate
    # marketing is paid for the users it brings in, into the day's cost (ODD 7.8)
    paid_for = (today.cost, today.acquisition, today.referred, today.credited)
    today.acquisition_spent = attribute_joins(joins, u, k, market, ties, rate, *paid_for)
    away = today.turned_away  # quits too: free users a closed tier held at the door (ODD 7.8)
    for p in model.providers:
        j = p.column
        quit = quits[:, j]
        if away is not None and away[:, j].any():  # masks only on days a door turned one away
            first_door = away[:, j] & (u.adopted_day[:, j] >= model.day - 1)
            turn_away(model, j, first_door)  # on their first day: never became j's users
            quit = quit & ~first_door
        end_spells(model, j, quit)
        start_spells(model, j, joins[:, j])
    for p in model.providers:
        r = p.column
        switched = start_spells(model, r, moved[:, r])
        movers = np.flatnonzero(moved[:, r])
        drawn = offers[movers] == r  # (movers, P): the provider whose user the offer drew
        who, left = np.nonzero(drawn)
        u.remembered_value[movers[who], r] = expected[movers[who], left]  # what they expected
        model.loyalty.switches += switched
        model.loyalty.switches_today += switched
