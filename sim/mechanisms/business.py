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

from sim import kernels
from sim.kernels import stocks
from sim.mechanisms.adoption import sigmoid
from sim.population import across


def book(model) -> None:
    """Today's revenue and cost per user and provider, kept in ``model.today``."""
    u, fp, cp, today = model.users, model.params.feed, model.params.companion, model.today
    comp = model.is_companion
    if kernels.enabled():
        n, shape = u.n, u.minutes.shape
        for k in ("ad_tax_paid", "ad_revenue", "subscription_revenue", "commerce_revenue"):
            setattr(today, k, model.work(f"business.{k}", shape))
        today.cost, today.revenue = model.work("business.cost", shape), np.empty(shape)
        if u.ad_impressions.shape != (n,):  # pragma: no cover - set up by make_users
            u.ad_impressions = np.zeros(n)
        stocks.book(
            u.minutes, u.subscribed, u.attachment, comp, fp.items_per_minute,
            kernels.per_user(today.levers["ad_load"], n), fp.cpm,
            kernels.per_user(today.constraints.ad_tax, n),
            kernels.per_user(today.levers["price"], n), cp.commerce_rate, fp.serving_cost,
            cp.serving_cost, u.ad_impressions, today.ad_tax_paid, today.ad_revenue,
            today.subscription_revenue, today.commerce_revenue, today.cost, today.revenue,
        )  # fmt: skip
        return
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
        price = kernels.per_user(today.levers["price"], u.n)
        args = model.work("business.args", (2, u.n))
        for p in model.providers:
            if p.kind == "companion":
                j = p.column
                stocks.price_gaps(
                    j, u.willingness_to_pay, cp.wtp_attachment, u.attachment, price,
                    cp.price_scale, args,
                )  # fmt: skip
                np.exp(args, out=args)
                stocks.subscribe(
                    j, model.streams(f"subscribe:{p.name}", model.day), args, u.adopted,
                    u.subscribed, u.minutes, cp.conversion, cp.cancellation,
                )  # fmt: skip
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
