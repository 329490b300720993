"""What is measured: daily model-level series, run-level summaries and the per-user panel
(ODD 7.14).

Money and minutes "per user-day" divide by the whole population, users or not, so markets of
different reach compare on the same base. Summary metrics average the daily series over the
last ``run.summary_window`` days unless their description says otherwise.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import NamedTuple

import mesa
import numpy as np
import pandas as pd

from sim.model import abtests, compiled
from sim.model.compiled import jit
from sim.model.mechanisms.adoption import kind_row
from sim.model.params import ParamError

# name: meaning; the daily series (timeseries.parquet), in order
DAILY = {
    "minutes_per_user_day": "minutes on feeds and companions per user and day",
    "feed_minutes_per_user_day": "minutes on feed platforms per user and day",
    "companion_minutes_per_user_day": "minutes with AI companions per user and day",
    "social_minutes_per_user_day": "minutes of realised human socialising per user and day",
    "offline_minutes_per_user_day": "minutes of other offline life per user and day",
    "active_share": "share of users who used any provider today",
    "feed_active_share": "share of users who used a feed today",
    "companion_active_share": "share of users who used a companion today",
    "companion_minutes_per_active_user": "companion minutes per user who used one today",
    # today's split (ODD 7.2); not the self-control share of use of ODD 1.2, which compares runs
    "compulsive_minute_share": "share of today's provider minutes the reflective self would not have spent",
    "loneliness_mean": "mean loneliness (0-1)",
    "tie_strength_mean": "mean strength of human ties (0-1)",
    "wellbeing_mean": "mean wellbeing, model units (0-2, 1 neutral)",
    "wellbeing_sd_units": "mean wellbeing in SD units of measured wellbeing in the day-0 population",
    "wellbeing_p10": "10th percentile of wellbeing, model units",
    "wellbeing_gini": "Gini coefficient of wellbeing",
    "welfare_per_user_day": "what the day's choices are worth to users on reflection over a day of other offline life only, $ per user and day",
    "feed_consumer_surplus_per_user_day": "users' welfare with feeds less without them, $ per user and day",
    "companion_consumer_surplus_per_user_day": "users' welfare with companions less without them, $ per user and day",
    "mean_attachment": "mean attachment to the most-attached companion, among companion users",
    "subscriber_attachment": "the same among companion users who pay for a companion",
    "free_user_attachment": "the same among companion users who pay for none",
    "dependent_share": "share of users whose dependence on some companion is at least dependence.threshold",
    "feed_user_share": "share of users on at least one feed",
    "companion_user_share": "share of users on at least one companion",
    "subscriber_share": "share of companion users who pay for at least one companion",
    "manipulative_farewell_share": "share of explicit goodbyes to companions met with a manipulative tactic",
    "audited_farewell_share": "the same among users no ban protects: what an audit of the apps sees",
    "minutes_per_tactic": "minutes a manipulative tactic kept the user after the goodbye, mean per tactic",
    "adoptions": "spells started today",
    "quits": "spells ended today",
    "feed_quits": "spells with feeds ended today",
    "companion_quits": "spells with companions ended today",
    "switches": "quitters who moved to a rival today",
    "ad_revenue_per_user_day": "ad revenue net of ad tax, $ per user and day",
    "ad_revenue_per_feed_user_day": "ad revenue, $ per user who used a feed today",
    "subscription_revenue_per_user_day": "subscription revenue, $ per user and day",
    "commerce_revenue_per_user_day": "commerce revenue, $ per user and day",
    "revenue_per_user_day": "all provider revenue, $ per user and day",
    "provider_cost_per_user_day": "serving, personalisation, review and acquisition costs, $ per user and day",
    "acquisition_cost_per_user_day": "paid for the users marketing brought in today, $ per user and day",
    "provider_profit_per_user_day": "revenue minus cost, $ per user and day",
    "ad_tax_per_user_day": "ad tax collected, $ per user and day",
    "attention_objective_per_user_day": "the attention policy's J summed over providers, per user and day",
    "intimacy_objective_per_user_day": "the intimacy policy's J summed over providers, per user and day",
}
PROVIDER_DAILY = {
    "minutes": "minutes per user and day on this provider",
    "market_share": "share of all provider minutes",
    "users": "share of the population using it",
    "revenue": "$ per user and day",
    "profit": "$ per user and day",
}
# per intervention with both arms: daily means over its treated and its control users, as
# columns arm.{name}.treated.{metric} and arm.{name}.control.{metric} (ODD 7.13)
ARM = {
    "users": "users in the arm",
    "minutes": "minutes on all providers",
    "feed_minutes": "minutes on feeds",
    "targeted_minutes": "minutes on the providers the intervention targets",
    "companion_minutes": "minutes with companions",
    "social_minutes": "realised socialising minutes",
    "offline_minutes": "other offline minutes",
    "compulsive_minutes": "minutes the reflective self would not have spent",
    "compulsive_any": "share with any compulsive minutes",
    "active": "share who used a targeted provider",
    "adopted": "share who use a targeted provider (have not quit)",
    "quits": "share who quit a targeted provider today, whether or not they moved to a rival",
    "perceived_manipulation": "perceived manipulation, mean over the targeted providers",
    "wellbeing": "wellbeing, model units",
    "welfare": "welfare, $ per day",
    "valuation": "valuation (what users would say the day was worth, the pull included), $ per day",
    "wellbeing_sd": "standard deviation of measured wellbeing within the arm (with wellbeing.measurement_sd)",
    "loneliness": "loneliness",
    "met_by_people": "share of the day's social need people met (S, ODD 7.6)",
    "companion_relief": "share of the day's social need companions met (K, ODD 7.6)",
    "dependence": "dependence on the targeted providers (the largest), ODD 7.15",
    "session_loneliness_change": "change of felt loneliness over the day's prescribed session: -loneliness at the day's start x share of social need the session meets",
    "tie_strength": "mean tie strength",
}


@dataclass(frozen=True)
class UserSum:
    """A request for each user's sum of the per-user array ``users.{state}`` over the days
    ``start <= day < end`` (ODD 7.14, per-user sums), taken at the end of each day:

        S_i = sum_{d = start}^{end - 1} state_i(d)

    A model keeps one (N,) float total per request and none when nothing is requested."""

    state: str
    start: int
    end: int

    def __str__(self) -> str:
        return f"{self.state}[{self.start}:{self.end}]"


def user_sums(requests, users, days: int) -> dict[UserSum, np.ndarray]:
    """A zero total for each request, after checking that it names an (N,) state of ``users``
    and a window of whole days inside the run's ``days``."""
    per_user = [
        f for f, a in zip(users._fields, users, strict=True) if a.ndim == 1 and a.dtype.kind == "f"
    ]
    totals = {}
    for s in requests:
        if s.state not in per_user:
            raise ParamError(
                f"per-user sum of {s.state!r}: choose a per-user state, one of {', '.join(per_user)}"
            )
        if not (0 <= s.start < s.end <= days):
            raise ParamError(f"per-user sum {s}: days must satisfy 0 <= start < end <= {days}")
        totals[s] = np.zeros(users.n)
    return totals


def add_user_sums(model) -> None:
    """Add today's values to every requested per-user sum whose window holds today."""
    for s, total in model.user_sums.items():
        if s.start <= model.day < s.end:
            total += getattr(model.users, s.state)


# run-level metrics computed from spells rather than averaged from DAILY
LOYALTY = {
    "retention_90d": "share of spells started by day D-90 still running 90 days later (whole run; "
    "newcomers a closed free tier turned away at once never started one)",
    "monthly_churn": "1 - (1 - daily quit rate)^30, daily quit rate = quits / user-provider spells (window)",
    "feed_retention_90d": "retention_90d of spells with feeds",
    "companion_retention_90d": "retention_90d of spells with companions",
    "feed_monthly_churn": "monthly_churn of spells with feeds (NaN without feeds)",
    "companion_monthly_churn": "monthly_churn of spells with companions (NaN without companions)",
    "mean_tenure_days": "mean length of spells, ended ones and those still running at the end (whole run)",
    "switching_rate": "moves to a same-kind rival per user per 30 days (whole run)",
}
SUMMARY_FROM_DAILY = [
    "minutes_per_user_day",
    "feed_minutes_per_user_day",
    "companion_minutes_per_user_day",
    "active_share",
    "mean_attachment",
    "subscriber_attachment",
    "free_user_attachment",
    "wellbeing_mean",
    "wellbeing_sd_units",
    "wellbeing_p10",
    "wellbeing_gini",
    "welfare_per_user_day",
    "feed_consumer_surplus_per_user_day",
    "companion_consumer_surplus_per_user_day",
    "loneliness_mean",
    "social_minutes_per_user_day",
    "tie_strength_mean",
    "dependent_share",
    "revenue_per_user_day",
    "ad_revenue_per_user_day",
    "subscription_revenue_per_user_day",
    "commerce_revenue_per_user_day",
    "provider_cost_per_user_day",
    "acquisition_cost_per_user_day",
    "provider_profit_per_user_day",
    "compulsive_minute_share",
    "companion_minutes_per_active_user",
    "ad_revenue_per_feed_user_day",
    "subscriber_share",
    "manipulative_farewell_share",
    "feed_user_share",
    "companion_user_share",
    "attention_objective_per_user_day",
    "intimacy_objective_per_user_day",
]


def gini(sorted_values: np.ndarray) -> float:
    """Gini coefficient of non-negative values sorted ascending (0 equal, 1 one holds all)."""
    n, total = sorted_values.size, sorted_values.sum()
    if n == 0 or total <= 0:
        return 0.0
    return float(np.multiply(_rank_weights(n), sorted_values).sum() / (n * total))


@functools.lru_cache(maxsize=4)
def _rank_weights(n: int) -> np.ndarray:
    """2 i - n - 1 for ranks i = 1..n (the same every day of a run)."""
    w = 2.0 * np.arange(1, n + 1) - n - 1
    w.flags.writeable = False
    return w


@jit(refcount=True)
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


def sort_wellbeing(model):
    """Start sorting today's wellbeing on a helper thread (see :func:`compiled.alongside`);
    returns a function that waits for the sorted values."""
    n, work = model.users.n, model.work
    w_sorted = work("metrics.sorted", n)
    keys, spare = work("metrics.keys", n, np.uint64), work("metrics.spare", n, np.uint64)
    w = model.users.wellbeing
    done = compiled.alongside(lambda: sort(w, w_sorted, keys, spare))

    def wait() -> np.ndarray:
        done()
        return w_sorted

    return wait


# what :func:`tally` sums over users, in order, then per provider: minutes, users, revenue, cost
TALLY = (
    "feed_minutes",
    "companion_minutes",
    "social_minutes",
    "offline_minutes",
    "compulsive_minutes",
    "loneliness",
    "wellbeing",
    "tie_strength",  # summed over ties
    "active",
    "feed_active",
    "companion_active",
    "dependent",
    "feed_users",
    "companion_users",
    "subscribers",
    "attachment",  # largest attachment of each companion user
    "welfare",
    "feed_surplus",
    "companion_surplus",
    "subscriber_attachment",  # largest attachment of each subscriber
)
PER_PROVIDER = ("minutes", "users", "revenue", "cost")


@jit
def dependent(dependence, k):
    """A user's dependence on some companion is at least ``dependence.threshold`` (ODD 7.15)."""
    return dependence >= k.threshold


class Day(NamedTuple):
    """What the day's tally reads besides the users' state."""

    is_companion: np.ndarray  # (P,)
    tie_mean: np.ndarray  # (N,) mean strength of each user's ties (the social step)
    degree: np.ndarray  # (N,) ties of each user
    revenue: np.ndarray  # (N, P) $ (the business step)
    cost: np.ndarray  # (N, P) $
    surplus: np.ndarray  # (2, N) $ consumer surplus of feeds, of companions (the welfare step)


@jit
def tally(start, stop, users, day, k, s):
    """Sums and counts over users ``start`` to ``stop`` behind the daily series, added to
    ``s``, the caller's zeros (the loop creates no arrays, so it compiles without reference
    counting, :func:`sim.model.compiled.jit`): the :data:`TALLY` entries, then
    :data:`PER_PROVIDER` for each provider."""
    is_companion, tie_mean, degree, revenue, cost, surplus = day
    P = users.minutes.shape[1]
    T = 20
    for i in range(start, stop):
        feed = comp = 0.0
        feed_user = comp_user = subscriber = False
        largest = most = 0.0
        for j in range(P):
            m = users.minutes[i, j]
            adopted = users.adopted[i, j]
            if is_companion[j]:
                comp += m
                largest = max(largest, users.attachment[i, j])
                most = max(most, users.dependence[i, j])
                comp_user |= adopted
                subscriber |= users.subscribed[i, j]
            else:
                feed += m
                feed_user |= adopted
            s[T + 4 * j] += m
            s[T + 4 * j + 1] += adopted
            s[T + 4 * j + 2] += revenue[i, j]
            s[T + 4 * j + 3] += cost[i, j]
        s[0] += feed
        s[1] += comp
        s[2] += users.social_minutes[i]
        s[3] += users.offline_minutes[i]
        s[4] += users.compulsive_minutes[i]
        s[5] += users.loneliness[i]
        s[6] += users.wellbeing[i]
        s[7] += tie_mean[i] * degree[i]
        s[8] += feed + comp > 0.0
        s[9] += feed > 0.0
        s[10] += comp > 0.0
        s[11] += dependent(most, k)
        s[12] += feed_user
        s[13] += comp_user
        s[14] += comp_user and subscriber
        s[15] += largest if comp_user else 0.0
        s[16] += users.welfare[i]
        s[17] += surplus[0, i]
        s[18] += surplus[1, i]
        s[19] += largest if comp_user and subscriber else 0.0


def columns(model) -> list[str]:
    """Every daily series of a model: :data:`DAILY`, each provider's, and the arm means of each
    intervention that has or may come to have (by recruiting a sample) both arms."""
    return (
        list(DAILY)
        + [f"{p.name}.{k}" for p in model.providers for k in (*PROVIDER_DAILY, *p.LEVERS)]
        + [
            f"arm.{x.name}.{arm}.{k}"
            for x, users, _ in model.intervention_arms
            if 0 < users.sum() < users.size or x.sample == "users"  # recruitment may split it
            for arm in ("treated", "control")
            for k in ARM
        ]
    )


def collector(model) -> mesa.DataCollector:
    """Mesa's collector of the model-level series, one row a day, each read from the day's
    measurements (``model.latest``); a series that has no value today (an arm before its
    recruitment) is NaN."""
    return mesa.DataCollector(
        model_reporters={c: functools.partial(_latest, column=c) for c in columns(model)}
    )


def _latest(model, column: str) -> float:
    return model.latest.get(column, float("nan"))


def frame(model) -> pd.DataFrame:
    """The daily series collected so far, with the day as the first column."""
    df = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    df.insert(0, "day", np.arange(len(df)))
    return df


def daily_row(model, today) -> dict[str, float]:
    """Today's value of every daily series (:data:`DAILY`, per provider, per arm)."""
    u, n, net = model.users, model.users.n, model.network
    P = len(model.providers)
    sorted_wellbeing = sort_wellbeing(model)
    k = compiled.constants(model.params.dependence)
    day = Day(
        model.is_companion, today.tie_mean, net.degree, today.revenue, today.cost, today.surplus
    )

    def count(_, a, b):
        s = np.zeros(len(TALLY) + len(PER_PROVIDER) * P)
        tally(a, b, u, day, k, s)
        return s

    total = sum(compiled.each_block(compiled.blocks(n), count))
    s = {name: float(x) for name, x in zip(TALLY, total[: len(TALLY)], strict=True)}
    per_provider = total[len(TALLY) :].reshape(P, len(PER_PROVIDER))
    provider_minutes = float(per_provider[:, 0].sum())
    revenue, cost = float(per_provider[:, 2].sum()), float(per_provider[:, 3].sum())
    tax, ads, subscriptions, commerce = (float(x) for x in today.books.sum(axis=1))
    ref_mean, ref_sd = model.wellbeing_reference
    ref_sd = measured_sd(model, ref_sd)
    w_mean = s["wellbeing"] / n
    comp_users = s["companion_users"]
    paying = s["subscribers"]  # companion users who pay for a companion
    free_users = comp_users - paying
    w_sorted = sorted_wellbeing()
    row = {
        "minutes_per_user_day": provider_minutes / n,
        "feed_minutes_per_user_day": s["feed_minutes"] / n,
        "companion_minutes_per_user_day": s["companion_minutes"] / n,
        "social_minutes_per_user_day": s["social_minutes"] / n,
        "offline_minutes_per_user_day": s["offline_minutes"] / n,
        "active_share": s["active"] / n,
        "feed_active_share": s["feed_active"] / n,
        "companion_active_share": s["companion_active"] / n,
        "companion_minutes_per_active_user": s["companion_minutes"] / s["companion_active"]
        if s["companion_active"]
        else 0.0,
        "compulsive_minute_share": s["compulsive_minutes"] / provider_minutes
        if provider_minutes
        else 0.0,
        "loneliness_mean": s["loneliness"] / n,
        "tie_strength_mean": s["tie_strength"] / max(net.target.size, 1),
        "wellbeing_mean": w_mean,
        "wellbeing_sd_units": (w_mean - ref_mean) / ref_sd if ref_sd > 0 else 0.0,
        "wellbeing_p10": float(np.percentile(w_sorted, 10)),  # the same on sorted values
        "wellbeing_gini": gini(w_sorted),
        "welfare_per_user_day": s["welfare"] / n,
        "feed_consumer_surplus_per_user_day": s["feed_surplus"] / n,
        "companion_consumer_surplus_per_user_day": s["companion_surplus"] / n,
        "mean_attachment": s["attachment"] / comp_users if comp_users else 0.0,
        "subscriber_attachment": s["subscriber_attachment"] / paying if paying else 0.0,
        "free_user_attachment": (s["attachment"] - s["subscriber_attachment"]) / free_users
        if free_users
        else 0.0,
        "dependent_share": s["dependent"] / n,
        "feed_user_share": s["feed_users"] / n,
        "companion_user_share": comp_users / n,
        "subscriber_share": s["subscribers"] / comp_users if comp_users else 0.0,
        "manipulative_farewell_share": today.tactics / today.farewells if today.farewells else 0.0,
        "audited_farewell_share": (
            today.audited_tactics / today.audited_farewells if today.audited_farewells else 0.0
        ),
        "minutes_per_tactic": today.tactic_minutes / today.tactics if today.tactics else 0.0,
        "adoptions": model.loyalty.adoptions_today,
        "quits": int(model.loyalty.quits_today.sum()),
        "feed_quits": int(model.loyalty.quits_today[kind_row(False)]),
        "companion_quits": int(model.loyalty.quits_today[kind_row(True)]),
        "switches": model.loyalty.switches_today,
        "ad_revenue_per_user_day": ads / n,
        "ad_revenue_per_feed_user_day": ads / max(s["feed_active"], 1),
        "subscription_revenue_per_user_day": subscriptions / n,
        "commerce_revenue_per_user_day": commerce / n,
        "revenue_per_user_day": revenue / n,
        "provider_cost_per_user_day": cost / n,
        "acquisition_cost_per_user_day": today.acquisition_spent / n,
        "provider_profit_per_user_day": (revenue - cost) / n,
        "ad_tax_per_user_day": tax / n,
        "attention_objective_per_user_day": today.objective_sums["attention"] / n,
        "intimacy_objective_per_user_day": today.objective_sums["intimacy"] / n,
    }
    for x, users, cols in model.intervention_arms:
        sample = model.study_samples.get(x.name)
        control = ~users if sample is None else sample & ~users
        if users.any() and control.any():  # else the arms' series are NaN today
            for arm, who in (("treated", users), ("control", control)):
                for key, v in arm_means(model, today, who, cols).items():
                    row[f"arm.{x.name}.{arm}.{key}"] = v
    for p in model.providers:
        minutes, users_count, rev, c = per_provider[p.column]
        row[f"{p.name}.minutes"] = minutes / n
        row[f"{p.name}.market_share"] = minutes / provider_minutes if provider_minutes else 0.0
        row[f"{p.name}.users"] = users_count / n
        row[f"{p.name}.revenue"] = rev / n
        row[f"{p.name}.profit"] = (rev - c) / n
        for lever, value in p.levers.items():
            row[f"{p.name}.{lever}"] = value
    return row


def arm_means(model, today, who: np.ndarray, cols: np.ndarray) -> dict[str, float]:
    """ARM metrics over the users ``who``; ``active`` counts use of the targeted providers."""
    u, comp = model.users, model.is_companion
    w = u.wellbeing[who]
    return {
        "users": float(who.sum()),
        "minutes": float(u.minutes[who].sum(axis=1).mean()),
        "feed_minutes": float(u.minutes[who][:, ~comp].sum(axis=1).mean()),
        "targeted_minutes": float(u.minutes[who][:, cols].sum(axis=1).mean()),
        "companion_minutes": float(u.minutes[who][:, comp].sum(axis=1).mean()),
        "social_minutes": float(u.social_minutes[who].mean()),
        "offline_minutes": float(u.offline_minutes[who].mean()),
        "compulsive_minutes": float(u.compulsive_minutes[who].mean()),
        "compulsive_any": float((u.compulsive_minutes[who] > 0).mean()),
        "active": float((u.minutes[who][:, cols] > 0).any(axis=1).mean()),
        "adopted": float(u.adopted[who][:, cols].any(axis=1).mean()),
        "quits": float(today.quits[who][:, cols].any(axis=1).mean())
        if today.quits is not None
        else 0.0,
        "perceived_manipulation": float(u.perceived_manipulation[who][:, cols].mean())
        if cols.any()
        else 0.0,
        "wellbeing": float(w.mean()),
        "welfare": float(u.welfare[who].mean()),
        "valuation": float(u.valuation[who].mean()),
        "wellbeing_sd": measured_sd(model, float(w.std())),
        "loneliness": float(u.loneliness[who].mean()),
        "met_by_people": float(today.social_met[who].mean()),
        "companion_relief": float(today.companion_relief[who].mean()),
        "dependence": float(u.dependence[who][:, cols].max(axis=1).mean()) if cols.any() else 0.0,
        "session_loneliness_change": float(today.session_change[who].mean()),
        "tie_strength": float(today.tie_mean[who].mean()),
    }


def measured_sd(model, sd: float) -> float:
    """SD of wellbeing as a survey would measure it: the model's spread plus day-to-day mood and
    response noise of ``wellbeing.measurement_sd``, independent of everything else (ODD 7.7)."""
    return float(np.hypot(sd, model.params.wellbeing.measurement_sd))


def step(model, today) -> None:
    """Record the day's series (on day 0 first the wellbeing reference), add to the requested
    per-user sums and, on sampled days, take the per-user panel."""
    if model.day == 0:
        w = model.users.wellbeing
        model.wellbeing_reference = (float(w.mean()), float(w.std()))
    model.latest = daily_row(model, today)
    model.datacollector.collect(model)
    add_user_sums(model)
    last = model.day + 1 >= model.params.run.days
    if model.record_panel and (model.day % model.params.run.panel_every == 0 or last):
        model.panel.append(panel_rows(model, model.panel_sample))


def summarise(model, frame: pd.DataFrame) -> dict[str, float]:
    """Run-level metrics: window means of the daily series, loyalty from spells and the
    providers' experiments (:func:`sim.model.abtests.summary`)."""
    days = len(frame)
    window = frame.iloc[max(0, days - model.params.run.summary_window) :]
    out = {k: float(window[k].mean()) for k in SUMMARY_FROM_DAILY}
    loyalty, u = model.loyalty, model.users
    feeds, companions = kind_row(False), kind_row(True)
    kinds = {"": (feeds, companions), "feed_": (feeds,), "companion_": (companions,)}
    for prefix, rows in kinds.items():
        starts = loyalty.starts_by_day[list(rows), : max(days - 89, 0)].sum()
        early = loyalty.early_ends_by_day[list(rows), : max(days - 89, 0)].sum()
        out[f"{prefix}retention_90d"] = float(1.0 - early / starts) if starts else math.nan
        users = [
            f"{p.name}.users" for p in model.providers if kind_row(p.kind == "companion") in rows
        ]
        exposure = float(window[users].sum(axis=1).sum()) * u.n if users else 0.0
        quits = float(window[f"{prefix}quits"].sum())
        if exposure:
            out[f"{prefix}monthly_churn"] = 1.0 - (1.0 - quits / exposure) ** 30
        else:  # no spells of the kind: none to end (NaN by kind, 0 over all as before)
            out[f"{prefix}monthly_churn"] = math.nan if prefix else 0.0
    running = model.day + 1 - u.adopted_day[u.adopted]
    spells = loyalty.ended_count + running.size
    out["mean_tenure_days"] = (
        (loyalty.ended_tenure_sum + float(running.sum())) / spells if spells else 0.0
    )
    out["switching_rate"] = loyalty.switches / u.n / days * 30.0
    return out | abtests.summary(model)


def panel_rows(model, sample: np.ndarray) -> pd.DataFrame:
    """Per-user state of the sampled users today (panel.parquet)."""
    u = model.users
    cols = {
        "day": np.full(sample.size, model.day, np.int32),
        "user": sample.astype(np.int64),
        "loneliness": u.loneliness[sample],
        "wellbeing": u.wellbeing[sample],
        "tie_strength": model.today.tie_mean[sample],
        "social_minutes": u.social_minutes[sample],
        "offline_minutes": u.offline_minutes[sample],
        "compulsive_minutes": u.compulsive_minutes[sample],
        "self_control": u.self_control[sample],
        "loneliness_baseline": u.loneliness_baseline[sample],
        "companion_relief": model.today.companion_relief[sample],
    }
    for x, users, _ in model.intervention_arms:
        cols[f"treated.{x.name}"] = users[sample]
    for p in model.providers:
        j = p.column
        for state in ("minutes", "habit", "knowledge", "attachment", "adopted", "subscribed"):
            cols[f"{p.name}.{state}"] = getattr(u, state)[sample, j]
        adopted = u.adopted[sample, j]
        tenure = np.where(adopted, model.day - u.adopted_day[sample, j], -1)
        cols[f"{p.name}.tenure"] = tenure.astype(np.int32)  # days in the spell; -1: not a user
    return pd.DataFrame(cols)
