"""Adoption, churn and switching (MODEL.md mechanisms 11, 12; ODD 7.11).

Users remember each provider's reflective value per minute of use, net of regret for the part
of its use that was compulsive:

    remembered <- remembered + value_memory * (R - regret_value * compulsive_share - remembered)

and quit when it falls below their outside option, with hazard

    quit = quit_rate * sigmoid((offline_value - remembered - switching_cost) / quit_scale)
    switching_cost = switching_knowledge * knowledge + switching_attachment * attachment

so engagement can rise while value falls and then collapse. A quitter moves to a same-kind rival
with probability ``switch_propensity`` (a switch). Non-users adopt with probability

    (marketing + word_of_mouth * endorsing_friends_share) * appeal

where friends who feel manipulated do not endorse, appeal is 1 for feeds and
2 * ai_openness * (0.5 + loneliness) for companions (lonely, open users self-select into
companions), and former users come back only in proportion to sigmoid of their remembered
surplus.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model import interventions as iv
from sim.model import kernels
from sim.model.kernels import adoption as adoption_kernels


@dataclass
class Loyalty:
    """Spell bookkeeping for retention, churn, tenure and switching metrics (ODD 7.11)."""

    starts_by_day: np.ndarray  # spells started on each day
    early_ends_by_day: np.ndarray  # of those, spells ended within 90 days
    ended_tenure_sum: float = 0.0
    ended_count: int = 0
    switches: int = 0
    quits_today: int = 0
    adoptions_today: int = 0
    switches_today: int = 0

    @classmethod
    def empty(cls, days: int) -> Loyalty:
        return cls(np.zeros(days + 1, np.int64), np.zeros(days + 1, np.int64))


def appeal(model, column: int) -> np.ndarray | float:
    u = model.users
    if model.providers[column].kind == "companion":
        return 2.0 * u.ai_openness * (0.5 + u.loneliness)
    return 1.0


def remember_value(model) -> None:
    u, today, c = model.users, model.today, model.params.choice
    m = model.params.adoption.value_memory
    tmp = np.empty(u.n)
    for j in range(len(model.providers)):  # column by column: R is held option-major
        used = u.minutes[:, j] > 0
        # value = R - regret_value * compulsive share of today's minutes
        np.maximum(u.minutes[:, j], 1e-9, out=tmp)
        np.divide(today.compulsive[:, j], tmp, out=tmp)
        np.multiply(tmp, used, out=tmp)
        tmp *= c.regret_value
        np.subtract(today.R[:, j], tmp, out=tmp)
        # remembered += value_memory * (value - remembered) where used
        tmp -= u.remembered_value[:, j]
        tmp *= m
        tmp *= used
        u.remembered_value[:, j] += tmp


def start_spells(model, j: int, who: np.ndarray) -> int:
    """Users ``who`` ((N,) bool) start using provider ``j`` today; returns how many."""
    u, day = model.users, model.day
    who = np.flatnonzero(who)  # few users a day: index them rather than mask every user
    u.adopted[who, j] = True
    u.adopted_day[who, j] = day
    # newcomers expect it to be worth a little more than their outside option
    u.remembered_value[who, j] = u.offline_value[who] + model.params.adoption.quit_scale
    model.loyalty.starts_by_day[day] += who.size
    model.loyalty.adoptions_today += who.size
    return who.size


def end_spells(model, j: int, who: np.ndarray) -> None:
    """Users ``who`` ((N,) bool) quit provider ``j`` today."""
    u, day, loyalty = model.users, model.day, model.loyalty
    who = np.flatnonzero(who)
    tenure = day - u.adopted_day[who, j]
    loyalty.ended_tenure_sum += float(tenure.sum())
    loyalty.ended_count += who.size
    np.add.at(loyalty.early_ends_by_day, u.adopted_day[who, j][tenure < 90], 1)
    u.adopted[who, j] = False
    u.subscribed[who, j] = False
    u.quit_day[who, j] = day
    loyalty.quits_today += who.size


def launch(model) -> None:
    """Initial users of providers launching today (day 0 for incumbents), before the day's choice."""
    u, fp = model.users, model.params.feed
    loyalty = model.loyalty
    loyalty.quits_today = loyalty.adoptions_today = loyalty.switches_today = 0
    for p in model.providers:
        if p.launch_day != model.day:
            continue
        j = p.column
        share = fp.initial_adoption if p.kind == "feed" else model.params.companion.initial_adoption
        weight = appeal(model, j)
        prob = np.clip(share * weight / np.mean(weight), 0.0, 1.0)  # launch share as given
        who = model.streams(f"initial:{p.name}").random(u.n) < prob
        who &= ~iv.kept_away(model, j)  # staggered launches and deactivations come later
        start_spells(model, j, who)
        if p.kind == "feed" and model.day == 0:
            u.habit[who, j] = fp.initial_habit if model.params.mechanisms.habit else 0.0
            u.knowledge[who, j] = fp.initial_habit if model.params.mechanisms.learning else 0.0


def update(model) -> None:
    """Quitting, switching and adoption for today (after use, before tomorrow's choice)."""
    decide = _decide_compiled if kernels.enabled() else _decide
    quits, joins, available, moved = decide(model)
    if quits is None:
        return
    for p in model.providers:
        end_spells(model, p.column, quits[:, p.column])
        start_spells(model, p.column, joins[:, p.column])
    if moved is not None:  # the compiled decisions have made the switches too
        for p in model.providers:
            switched = start_spells(model, p.column, moved[:, p.column])
            model.loyalty.switches += switched
            model.loyalty.switches_today += switched
        return
    for p in model.providers:
        switch(model, p, quits[:, p.column], available)


def _decide(model):
    """Today's quits and joins (N, P) and where providers are available, or None when the
    mechanism is off; every provider's from the same morning state."""
    u, ap, today = model.users, model.params.adoption, model.today
    remember_value(model)
    if not model.params.mechanisms.adoption:
        return None, None, None, None
    launched = np.array([model.day >= p.launch_day for p in model.providers])
    hazard = quit_hazard(model)
    endorse = np.zeros(u.minutes.shape)
    if model.params.mechanisms.network_effects:
        endorse = endorsing_share(model)
    # decide every provider's quits and joins first, from the same morning state, then apply
    quits, joins = np.zeros(u.adopted.shape, bool), np.zeros(u.adopted.shape, bool)
    available = launched & (today.constraints.availability > 0)
    for p in model.providers:
        j = p.column
        if not launched[j]:
            continue
        draw = model.streams(f"adoption:{p.name}", model.day).random(u.n)
        quits[:, j] = u.adopted[:, j] & (draw < hazard[:, j])
        marketing = (
            model.params.feed.marketing if p.kind == "feed" else model.params.companion.marketing
        )
        prob = (marketing + ap.word_of_mouth * endorse[:, j]) * appeal(model, j)
        former = u.quit_day[:, j] >= 0
        prob = np.where(
            former,
            prob * sigmoid((u.remembered_value[:, j] - u.offline_value) / ap.quit_scale),
            prob,
        )
        joins[:, j] = ~u.adopted[:, j] & (draw < prob) & available[:, j]
    return quits, joins, available, None


def _decide_compiled(model):
    """:func:`_decide` with :mod:`sim.model.kernels.adoption`, bit for bit, block by block of users."""
    u, ap, today, prm = model.users, model.params.adoption, model.today, model.params
    c, n = prm.choice, u.n
    shape = u.minutes.shape
    on = prm.mechanisms.adoption
    launched = np.array([model.day >= p.launch_day for p in model.providers])
    available = launched & (today.constraints.availability > 0)
    availability = kernels.per_user(today.constraints.availability, n)
    quits = model.work("adoption.quits", shape, bool)
    joins = model.work("adoption.joins", shape, bool)
    quits.fill(False)
    joins.fill(False)
    wom = prm.manipulation.word_of_mouth
    net = model.network
    counts = model.friend_counts(u.adopted)
    deciding = [p for p in model.providers if on and launched[p.column]]
    columns = np.array([p.column for p in deciding], np.int64)
    streams = [model.streams(f"adoption:{p.name}", model.day) for p in deciding]
    # friends' endorsements need the product where someone feels manipulated by the provider
    product = [
        prm.mechanisms.network_effects
        and wom != 0.0
        and bool(u.perceived_manipulation[:, p.column].any())
        for p in deciding
    ]
    rows = np.cumsum(product) - 1
    endorse_row = np.where(product, rows, -1).astype(np.int64)
    R = int(sum(product))
    endorser = model.work("adoption.endorser", (max(R, 1), n if R else 1))
    users = model.work("adoption.endorser_users", (max(R, 1), n if R else 1), np.uint8)
    for p, r in zip(deciding, endorse_row, strict=True):
        if r >= 0:
            adoption_kernels.endorsers(
                p.column, u.adopted, u.perceived_manipulation, wom, endorser[r], users[r]
            )
    marketing = np.array(
        [prm.feed.marketing if p.kind == "feed" else prm.companion.marketing for p in deciding]
    )
    companion = np.array([p.kind != "feed" for p in deciding], bool)
    # switching in the same pass where each provider has at most one rival
    rivals = [
        [q.column for q in model.providers if q.kind == p.kind and q is not p]
        for p in model.providers
    ]
    in_pass = all(len(r) <= 1 for r in rivals)
    rival = np.array([r[0] if r else -1 for r in rivals], np.int64)
    switch_row = np.full(shape[1], -1, np.int64)
    for p in deciding if in_pass else ():
        if rival[p.column] >= 0:
            switch_row[p.column] = len(streams)
            streams.append(model.streams(f"switch:{p.name}", model.day))
    moved = model.work("adoption.moved", shape, bool)
    args = kernels.block_buffer(model, "adoption.exp", n, (2,), (shape[1],))
    draws = kernels.block_buffer(model, "adoption.draws", n, (max(len(streams), 1),))

    def decide(_, start, stop):
        e = args(start, stop)
        adoption_kernels.remember(
            start,
            stop,
            u.minutes,
            today.compulsive,
            today.R,
            u.remembered_value,
            u.knowledge,
            u.attachment,
            u.offline_value,
            c.regret_value,
            ap.value_memory,
            ap.switching_knowledge,
            ap.switching_attachment,
            ap.quit_scale,
            e,
        )
        if not deciding:
            return
        kernels.exp(e)
        adoption_kernels.decide(
            start,
            stop,
            columns,
            draws(start, stop),
            e,
            u.adopted,
            u.quit_day,
            ap.quit_rate,
            marketing,
            ap.word_of_mouth,
            prm.mechanisms.network_effects,
            endorse_row,
            counts,
            net.indptr,
            net.target,
            net.degree,
            companion,
            u.ai_openness,
            u.loneliness,
            availability,
            quits,
            joins,
            endorser,
            users,
            switch_row,
            rival,
            ap.switch_propensity,
            launched,
            moved,
        )

    kernels.each_block(
        kernels.blocks(n), decide, kernels.uniforms(streams, draws) if deciding else None
    )
    if not on:
        return None, None, None, None
    return quits, joins, available, moved if in_pass and deciding else None


def quit_hazard(model, j: int | slice = slice(None)) -> np.ndarray:
    """Daily quit hazard of every user for provider column(s) ``j`` (module docstring)."""
    u, ap = model.users, model.params.adoption
    switching_cost = (
        ap.switching_knowledge * u.knowledge[:, j] + ap.switching_attachment * u.attachment[:, j]
    )
    offline = u.offline_value if isinstance(j, int) else u.offline_value[:, None]
    surplus = u.remembered_value[:, j] + switching_cost - offline
    return ap.quit_rate * sigmoid(-surplus / ap.quit_scale)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)), as ``scipy.special.expit`` but several times faster (numpy's
    vectorised exp); the two differ at most in the last bit."""
    out = np.negative(x)
    with np.errstate(over="ignore"):  # exp(large) = inf: the sigmoid is exactly 0, as it should be
        np.exp(out, out=out)
    out += 1.0
    return np.reciprocal(out, out=out)


def endorsing_share(model) -> np.ndarray:
    """(N, P) share of each user's friends who use each provider and do not feel manipulated:
    ``adjacency @ (adopted * (1 - word_of_mouth * perceived_manipulation)) / degree``.

    Where no user perceives manipulation by a provider (every feed) that is the friends' count
    of users, kept up to date by the model, so only the other columns need the product."""
    u = model.users
    wom = model.params.manipulation.word_of_mouth
    counts = model.friend_counts(u.adopted)
    pm = u.perceived_manipulation
    product = [j for j in range(pm.shape[1]) if wom != 0.0 and pm[:, j].any()]
    endorse = counts.astype(float)
    for j in product:
        endorsers = u.adopted[:, j] * (1.0 - wom * pm[:, j])
        endorse[:, j] = model.network.neighbour_sum(endorsers)
    endorse /= model.degree_at_least_1[:, None]
    return endorse


def switch(model, provider, quitters: np.ndarray, available: np.ndarray) -> None:
    """Quitters move to a random same-kind rival they do not use and may use (switch_propensity)."""
    u = model.users
    rivals = [q.column for q in model.providers if q.kind == provider.kind and q is not provider]
    if not rivals or not quitters.any():
        return
    rng = model.streams(f"switch:{provider.name}", model.day)
    moves = quitters & (rng.random(u.n) < model.params.adoption.switch_propensity)
    if len(rivals) == 1:  # the pick's draws would be the stream's last: no need to make them
        pick = np.full(u.n, rivals[0])
    else:
        pick = np.array(rivals)[rng.integers(len(rivals), size=u.n)]
    for r in rivals:
        who = moves & (pick == r) & ~u.adopted[:, r] & available[:, r]
        start_spells(model, r, who)
        model.loyalty.switches += int(who.sum())
        model.loyalty.switches_today += int(who.sum())
