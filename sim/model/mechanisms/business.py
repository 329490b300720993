"""Business models: each provider books revenue, cost and profit every day
(MODEL.md mechanism 8; ODD 7.8).

Feeds:       ads = minutes * items_per_minute * ad_load;  ad revenue = ads * cpm / 1000 * (1 - tax)
Companions:  subscription revenue = subscribed * price / 30 per day;
             commerce = commerce_rate * minutes * attachment
Both:        cost = serving_cost * minutes;  profit = revenue - cost

Freemium: free users get ``free_minutes`` a day. Each day a free user who used a companion converts
with probability conversion * sigmoid((wtp_eff - price) / price_scale), and a subscriber cancels
with probability cancellation * sigmoid((price - wtp_eff) / price_scale), where
wtp_eff = willingness_to_pay * (1 + wtp_attachment * attachment).
"""

from __future__ import annotations

import numpy as np

from sim.model import kernels
from sim.model.kernels import metrics as metrics_kernels
from sim.model.kernels import stocks
from sim.model.mechanisms.adoption import sigmoid
from sim.model.population import across


def book(model) -> None:
    """Today's revenue and cost per user and provider, kept in ``model.today``."""
    u, fp, cp, today = model.users, model.params.feed, model.params.companion, model.today
    comp = model.is_companion
    if kernels.enabled():
        return _book_compiled(model)
    gross_ads = u.minutes * fp.items_per_minute * np.asarray(today.levers["ad_load"])
    u.ad_impressions = across(np.add, gross_ads)
    ad_value = gross_ads * (fp.cpm / 1000.0)
    today.ad_tax_paid = ad_value * today.constraints.ad_tax
    today.ad_revenue = ad_value - today.ad_tax_paid
    price = np.broadcast_to(today.levers["price"], u.minutes.shape)
    today.subscription_revenue = u.subscribed * price / 30.0
    today.commerce_revenue = cp.commerce_rate * u.minutes * u.attachment * comp
    today.cost = u.minutes * np.where(comp, cp.serving_cost, fp.serving_cost)
    today.revenue = today.ad_revenue + today.subscription_revenue + today.commerce_revenue


PARTS = ("ad_tax_paid", "ad_revenue", "subscription_revenue", "commerce_revenue")


def _book_compiled(model) -> None:
    """:func:`book` with :mod:`sim.model.kernels.stocks`, bit for bit. Ad tax, ad revenue,
    subscription and commerce revenue are only summed (into ``today.totals``, as numpy sums
    the (N, P) arrays): when the number of providers divides 8, blocks of users are subtrees
    of that sum and the arrays are never built; otherwise they are."""
    u, fp, cp, today = model.users, model.params.feed, model.params.companion, model.today
    n, P = u.minutes.shape
    today.cost, today.revenue = model.work("business.cost", (n, P)), np.empty((n, P))
    if u.ad_impressions.shape != (n,):  # pragma: no cover - set up by make_users
        u.ad_impressions = np.zeros(n)
    aligned = 8 % P == 0
    size = P * kernels.BLOCK
    spans = kernels.blocks(n * P, size) if aligned else ((0, n * P),)
    parts = (
        kernels.block_buffer(model, "business.parts", n, (4,), (P,))
        if aligned
        else lambda a, b: model.work("business.parts", (4, n, P))
    )
    ad_load = today.levers.tables["ad_load"]
    ad_tax = kernels.per_user(today.constraints.ad_tax, n)
    price = today.levers.tables["price"]
    partial = np.empty((4, len(spans)))

    def book(k, a, b):
        start, stop = a // P, b // P
        out = parts(start, stop)
        stocks.book(
            start,
            stop,
            u.minutes,
            u.subscribed,
            u.attachment,
            model.is_companion,
            fp.items_per_minute,
            ad_load,
            fp.cpm,
            ad_tax,
            price,
            cp.commerce_rate,
            fp.serving_cost,
            cp.serving_cost,
            u.ad_impressions,
            today.cost,
            today.revenue,
            out,
        )
        for q in range(4):
            partial[q, k] = metrics_kernels.pairwise(out[q].reshape(-1), 0, b - a, 1)
        return out

    out = kernels.each_block(spans, book)[-1]
    today.totals = {
        name: float(kernels.tree_sum(partial[q], n * P, size) if aligned else partial[q, 0])
        for q, name in enumerate(PARTS)
    }
    for q, name in enumerate(PARTS):
        setattr(today, name, out[q] if not aligned else None)


def price_gap(model, j: int, price: np.ndarray) -> np.ndarray:
    """(wtp_eff - price) / price_scale for companion column ``j``, every user."""
    u, cp = model.users, model.params.companion
    wtp = u.willingness_to_pay * (1.0 + cp.wtp_attachment * u.attachment[:, j])
    return (wtp - price) / cp.price_scale


def cancel_hazard(model, j: int) -> np.ndarray:
    """Daily cancellation hazard of companion ``j``'s subscribers (zero for everyone else)."""
    price = np.broadcast_to(model.today.levers["price"], model.users.minutes.shape)[:, j]
    rate = model.params.companion.cancellation * sigmoid(-price_gap(model, j, price))
    return np.where(model.users.subscribed[:, j], rate, 0.0)


def subscriptions(model) -> None:
    """Free-to-paid conversion and cancellation for each companion."""
    u, cp, today = model.users, model.params.companion, model.today
    if kernels.enabled():
        price = today.levers.tables["price"]
        companions = [p for p in model.providers if p.kind == "companion"]
        columns = np.array([p.column for p in companions], np.int64)
        streams = [model.streams(f"subscribe:{p.name}", model.day) for p in companions]
        K = max(len(companions), 1)
        args = kernels.block_buffer(model, "business.args", u.n, (2, K))
        draws = kernels.block_buffer(model, "business.draws", u.n, (K,))

        def subscribe(_, start, stop):
            e = args(start, stop)
            stocks.price_gaps(
                start,
                stop,
                columns,
                u.willingness_to_pay,
                cp.wtp_attachment,
                u.attachment,
                price,
                cp.price_scale,
                e,
            )
            kernels.exp(e)
            stocks.subscribe(
                start,
                stop,
                columns,
                draws(start, stop),
                e,
                u.adopted,
                u.subscribed,
                u.minutes,
                cp.conversion,
                cp.cancellation,
            )

        if companions:
            kernels.each_block(kernels.blocks(u.n), subscribe, kernels.uniforms(streams, draws))
        return
    price = np.broadcast_to(today.levers["price"], u.minutes.shape)
    for p in model.providers:
        if p.kind != "companion":
            continue
        j = p.column
        gap = price_gap(model, j, price[:, j])
        draw = model.streams(f"subscribe:{p.name}", model.day).random(u.n)
        converts = (
            u.adopted[:, j]
            & ~u.subscribed[:, j]
            & (u.minutes[:, j] > 0)
            & (draw < cp.conversion * sigmoid(gap))
        )
        cancels = u.subscribed[:, j] & (draw < cp.cancellation * sigmoid(-gap))
        u.subscribed[:, j] = (u.subscribed[:, j] | converts) & ~cancels


def free_tier_cap(model) -> np.ndarray:
    """(N, P) daily minutes allowed by the business model: free tier for non-subscribers."""
    u, comp = model.users, model.is_companion
    cap = np.full(u.minutes.shape, np.inf)
    cap[:, comp] = np.where(u.subscribed[:, comp], np.inf, model.params.companion.free_minutes)
    return cap
