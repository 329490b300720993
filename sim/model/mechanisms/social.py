"""Loneliness and human ties (MODEL.md mechanism 6; ODD 7.6).

Socialising needs time from both sides of a tie. User i offers its planned social minutes s_i
to its ties in proportion to their strength; a tie carries the smaller of the two offers:

    t_ij = min(s_i w_ij / sum_k w_ik, s_j w_ji / sum_k w_jk)

Ties strengthen with time together and decay without it:

    w <- w + (1 - w)(1 - exp(-tie_growth * t / 60)) - tie_decay * w

Loneliness moves toward a target set by how much social need was met today, by people
(S, weighted by tie strength) and by companions (K, with diminishing returns in minutes and a
novelty that wears off with days of use):

    S = 1 - exp(-sum_j w_ij t_ij / need_minutes)
    K = relief * novelty * (1 - exp(-sum_c heard_ic m_ic / companion_need_minutes))
    target = clip(baseline * (1 + sensitivity * (reference - (1 - (1 - S)(1 - K)))), 0, 1)
    loneliness <- loneliness + adjustment * (target - loneliness)

Time a companion takes from socialising lets ties decay, so heavy use can leave people lonelier.
Planned social minutes that no friend reciprocates go to other offline life.
"""

from __future__ import annotations

import numpy as np

from sim.model import kernels
from sim.model.kernels import social as social_kernels


def socialise(model, planned: np.ndarray) -> None:
    """Realise today's socialising and update ties and loneliness."""
    if kernels.enabled():
        return _socialise_compiled(model, planned)
    u, net, sp = model.users, model.network, model.params.social
    w = net.strength
    total = net.per_user_sum(w)
    # each side offers its planned minutes to its ties in proportion to their strength; a user
    # whose ties all have strength 0 offers equal shares (rare: fixed up on its ties alone)
    weights = np.take(np.maximum(total, 1e-12), net.source)
    np.divide(w, weights, out=weights)
    alone = np.flatnonzero((total <= 0) & (net.degree > 0))
    if alone.size:
        ties = np.flatnonzero(np.isin(net.source, alone))
        weights[ties] = 1.0 / np.maximum(net.degree[net.source[ties]], 1)
    offer = np.take(planned, net.source)
    offer *= weights
    together = np.minimum(offer, np.take(offer, net.reverse, out=weights), out=weights)
    del offer
    realised = np.minimum(net.per_user_sum(together), planned)  # never above the plan by rounding
    u.offline_minutes += planned - realised
    u.social_minutes = realised
    contact_w = np.multiply(w, together)
    contact = net.per_user_sum(contact_w)
    relief = model.today.companion_relief = companion_relief(model)
    social_met = model.today.social_met = -np.expm1(-contact / sp.need_minutes)
    if not model.params.mechanisms.social:
        return
    # w += (1 - w)(1 - exp(-tie_growth * together / 60)) - tie_decay * w, in place
    grow = np.multiply(-sp.tie_growth, together, out=together)
    grow /= 60.0
    np.expm1(grow, out=grow)
    np.negative(grow, out=grow)
    grow *= np.subtract(1.0, w, out=contact_w)
    grow -= np.multiply(sp.tie_decay, w, out=contact_w)
    w += grow
    np.clip(w, 0.0, 1.0, out=w)
    met = 1.0 - (1.0 - social_met) * (1.0 - relief)
    target = np.clip(
        u.loneliness_baseline * (1.0 + sp.sensitivity * (sp.reference_fulfilment - met)), 0.0, 1.0
    )
    u.loneliness += sp.adjustment * (target - u.loneliness)


def companion_relief(model) -> np.ndarray:
    """K: share of today's social need met by companions, before novelty wears off further."""
    u, sp = model.users, model.params.social
    comp = model.is_companion
    if not comp.any():
        return np.zeros(u.n)
    minutes = u.minutes[:, comp]
    heard = (
        model.companion_empathy
        * (0.5 + 0.5 * u.emotional_knowledge[:, comp])
        * (0.5 + 0.5 * u.attachment[:, comp])
    )
    novelty = sp.novelty_floor + (1.0 - sp.novelty_floor) * np.exp(
        -u.companion_exposure / sp.novelty_days
    )
    relief = (
        sp.companion_relief
        * novelty
        * -np.expm1(-(heard * minutes).sum(axis=1) / sp.companion_need_minutes)
    )
    u.companion_exposure += minutes.sum(axis=1) > 0
    return relief


def tie_strength(model) -> np.ndarray:
    """Mean strength of each user's ties (N,)."""
    cached = getattr(model, "tie_mean", None)
    if cached is not None and cached[0] == model.steps and kernels.enabled():
        return cached[1]  # filled by today's compiled socialising; ties change only there
    return model.network.per_user_mean(model.network.strength)


def _socialise_compiled(model, planned: np.ndarray) -> None:
    """:func:`socialise` with :mod:`sim.model.kernels.social`, bit for bit, block by block of users;
    also keeps each user's mean tie strength for the rest of the day and the companion
    minutes of the day."""
    u, net, sp, today = model.users, model.network, model.params.social, model.today
    n = u.n
    work, ptr = model.work, net.indptr
    if u.social_minutes.shape != (n,):  # pragma: no cover - set up by make_users
        u.social_minutes = np.zeros(n)
    own = work("social.own", (n, 3))
    spans = kernels.blocks(n)
    kernels.each_block(
        spans,
        lambda _, a, b: social_kernels.own_offers(
            a, b, ptr, net.strength, planned, net.degree, own
        ),
    )
    grow_size = max(int(ptr[b] - ptr[a]) for a, b in spans)
    args = kernels.block_buffer(model, "social.args", n, (3,))
    today.social_met, today.companion_relief = np.empty(n), np.empty(n)
    tie_mean = work("social.tie_mean", n)
    companion_minutes = work("social.companion_minutes", n)

    def socialise(_, start, stop):
        g = work(f"social.grow#{kernels.slot()}", grow_size)[: ptr[stop] - ptr[start]]
        e = args(start, stop)
        social_kernels.meet(
            start,
            stop,
            ptr,
            net.target,
            net.strength,
            own,
            u.minutes,
            u.emotional_knowledge,
            u.attachment,
            model.is_companion,
            model.companion_empathy,
            u.companion_exposure,
            sp.tie_growth,
            sp.need_minutes,
            sp.companion_need_minutes,
            sp.novelty_days,
            g,
            u.offline_minutes,
            u.social_minutes,
            e,
            companion_minutes,
        )
        np.expm1(g, out=g)
        np.expm1(e[:2], out=e[:2])
        np.exp(e[2], out=e[2])
        social_kernels.update(
            start,
            stop,
            ptr,
            net.strength,
            g,
            model.params.mechanisms.social,
            sp.tie_decay,
            e,
            sp.companion_relief,
            sp.novelty_floor,
            u.loneliness_baseline,
            u.loneliness,
            sp.sensitivity,
            sp.reference_fulfilment,
            sp.adjustment,
            today.social_met,
            today.companion_relief,
            tie_mean,
            net.degree,
        )

    kernels.each_block(spans, socialise)
    model.tie_mean = (model.steps, tie_mean)
