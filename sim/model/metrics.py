"""What is measured: daily model-level series, run-level summaries and the per-user panel
(MODEL.md "What is measured"; ODD 7.14).

Money and minutes "per user-day" divide by the whole population, users or not, so markets of
different reach compare on the same base. Summary metrics average the daily series over the
last ``run.summary_window`` days unless their description says otherwise.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from sim.model import kernels
from sim.model.kernels import metrics as metrics_kernels
from sim.model.mechanisms.social import tie_strength
from sim.model.policies import objective
from sim.model.population import across

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
    "impulsive_share": "share of provider minutes the reflective self would not have spent",
    "loneliness_mean": "mean loneliness (0-1)",
    "tie_strength_mean": "mean strength of human ties (0-1)",
    "wellbeing_mean": "mean wellbeing, model units (0-2, 1 neutral)",
    "wellbeing_sd_units": "mean wellbeing in SD units of measured wellbeing in the day-0 population",
    "wellbeing_p10": "10th percentile of wellbeing, model units",
    "wellbeing_gini": "Gini coefficient of wellbeing",
    "mean_attachment": "mean attachment to the most-attached companion, among companion users",
    "dependent_share": "share of users with heavy companion use (moving average, about a week) and weak ties",
    "feed_user_share": "share of users on at least one feed",
    "companion_user_share": "share of users on at least one companion",
    "subscriber_share": "share of companion users who pay for at least one companion",
    "manipulative_farewell_share": "share of companion sessions ended with a manipulative tactic",
    "adoptions": "spells started today",
    "quits": "spells ended today",
    "switches": "quitters who moved to a rival today",
    "ad_revenue_per_user_day": "ad revenue net of ad tax, $ per user and day",
    "ad_revenue_per_feed_user_day": "ad revenue, $ per user who used a feed today",
    "subscription_revenue_per_user_day": "subscription revenue, $ per user and day",
    "commerce_revenue_per_user_day": "commerce revenue, $ per user and day",
    "revenue_per_user_day": "all provider revenue, $ per user and day",
    "provider_cost_per_user_day": "serving cost, $ per user and day",
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
    "minutes": "minutes on all providers",
    "feed_minutes": "minutes on feeds",
    "companion_minutes": "minutes with companions",
    "social_minutes": "realised socialising minutes",
    "offline_minutes": "other offline minutes",
    "compulsive_minutes": "minutes the reflective self would not have spent",
    "compulsive_any": "share with any compulsive minutes",
    "active": "share who used a targeted provider",
    "adopted": "share who use a targeted provider (have not quit)",
    "perceived_manipulation": "perceived manipulation, mean over the targeted providers",
    "wellbeing": "wellbeing, model units",
    "wellbeing_sd": "standard deviation of measured wellbeing within the arm (with wellbeing.measurement_sd)",
    "loneliness": "loneliness",
    "tie_strength": "mean tie strength",
}
# run-level metrics computed from spells rather than averaged from DAILY
LOYALTY = {
    "retention_90d": "share of spells started by day D-90 still running 90 days later (whole run)",
    "monthly_churn": "1 - (1 - daily quit rate)^30, daily quit rate = quits / user-provider spells (window)",
    "mean_tenure_days": "mean length of spells, ended ones and those still running at the end (whole run)",
    "switching_rate": "moves to a same-kind rival per user per 30 days (whole run)",
}
SUMMARY_FROM_DAILY = [
    "minutes_per_user_day",
    "feed_minutes_per_user_day",
    "companion_minutes_per_user_day",
    "active_share",
    "mean_attachment",
    "wellbeing_mean",
    "wellbeing_sd_units",
    "wellbeing_p10",
    "wellbeing_gini",
    "loneliness_mean",
    "social_minutes_per_user_day",
    "tie_strength_mean",
    "dependent_share",
    "revenue_per_user_day",
    "ad_revenue_per_user_day",
    "subscription_revenue_per_user_day",
    "commerce_revenue_per_user_day",
    "provider_cost_per_user_day",
    "provider_profit_per_user_day",
    "impulsive_share",
    "companion_minutes_per_active_user",
    "ad_revenue_per_feed_user_day",
    "subscriber_share",
    "manipulative_farewell_share",
    "feed_user_share",
    "companion_user_share",
    "attention_objective_per_user_day",
    "intimacy_objective_per_user_day",
]


def gini(x: np.ndarray, is_sorted: bool = False) -> float:
    """Gini coefficient of non-negative values (0 equal, 1 one holds all).

    The rank-weighted sum is numpy's pairwise sum rather than a BLAS dot product: its result
    does not depend on the machine's BLAS or its threads, and no BLAS threads are woken."""
    if not is_sorted:
        x = np.sort(x)
    n, total = x.size, x.sum()
    if n == 0 or total <= 0:
        return 0.0
    return float(np.multiply(_rank_weights(n), x).sum() / (n * total))


@functools.lru_cache(maxsize=4)
def _rank_weights(n: int) -> np.ndarray:
    """2 i - n - 1 for ranks i = 1..n (the same every day of a run)."""
    w = 2.0 * np.arange(1, n + 1) - n - 1
    w.flags.writeable = False
    return w


def _mean_where(values: np.ndarray, mask: np.ndarray) -> float:
    k = mask.sum()
    return float(values[mask].mean()) if k else 0.0


class Recorder:
    """Preallocated daily series, filled one row per day."""

    def __init__(self, model):
        days = model.params.run.days
        self.columns = (
            list(DAILY)
            + [f"{p.name}.{k}" for p in model.providers for k in (*PROVIDER_DAILY, *p.LEVERS)]
            + [
                f"arm.{x.name}.{arm}.{k}"
                for x, users, _ in model.intervention_arms
                if 0 < users.sum() < users.size
                for arm in ("treated", "control")
                for k in ARM
            ]
        )
        self.data = {c: np.full(days, np.nan) for c in self.columns}
        self.latest: dict[str, float] = {}

    def record(self, model) -> dict[str, float]:
        row = daily_row(model)
        for k, v in row.items():
            self.data[k][model.day] = v
        self.latest = row
        return row

    def frame(self, days: int) -> pd.DataFrame:
        df = pd.DataFrame({k: v[:days] for k, v in self.data.items()})
        df.insert(0, "day", np.arange(days))
        return df


def daily_row(model) -> dict[str, float]:
    if kernels.enabled():
        row, provider, provider_total = _daily_row_compiled(model)
        _add_arms_and_providers(model, row, provider, provider_total)
        return row
    u, today, n = model.users, model.today, model.users.n
    comp = model.is_companion
    feed_min = across(np.add, u.minutes, ~comp)
    comp_min = across(np.add, u.minutes, comp)
    provider_total = float(u.minutes.sum())
    comp_users = across(np.logical_or, u.adopted, comp)
    w = u.wellbeing
    w_sorted = np.sort(w)
    ref_mean, ref_sd = model.wellbeing_reference
    ref_sd = measured_sd(model, ref_sd)
    row = {
        "minutes_per_user_day": provider_total / n,
        "feed_minutes_per_user_day": float(feed_min.mean()),
        "companion_minutes_per_user_day": float(comp_min.mean()),
        "social_minutes_per_user_day": float(u.social_minutes.mean()),
        "offline_minutes_per_user_day": float(u.offline_minutes.mean()),
        "active_share": float(across(np.logical_or, u.minutes > 0).mean()),
        "feed_active_share": float((feed_min > 0).mean()),
        "companion_active_share": float((comp_min > 0).mean()),
        "companion_minutes_per_active_user": _mean_where(comp_min, comp_min > 0),
        "impulsive_share": float(u.compulsive_minutes.sum() / provider_total)
        if provider_total
        else 0.0,
        "loneliness_mean": float(u.loneliness.mean()),
        "tie_strength_mean": float(model.network.strength.mean()),
        "wellbeing_mean": float(w.mean()),
        "wellbeing_sd_units": float((w.mean() - ref_mean) / ref_sd) if ref_sd > 0 else 0.0,
        "wellbeing_p10": float(np.percentile(w_sorted, 10)),  # the same on sorted values
        "wellbeing_gini": gini(w_sorted, is_sorted=True),
        "mean_attachment": _mean_where(across(np.maximum, u.attachment, comp), comp_users)
        if comp.any()
        else 0.0,
        "dependent_share": float(dependent(model).mean()),
        "feed_user_share": float(across(np.logical_or, u.adopted, ~comp).mean()),
        "companion_user_share": float(comp_users.mean()),
        "subscriber_share": _mean_where(across(np.logical_or, u.subscribed, comp), comp_users)
        if comp.any()
        else 0.0,
        "manipulative_farewell_share": today.tactics / today.sessions if today.sessions else 0.0,
        "adoptions": model.loyalty.adoptions_today,
        "quits": model.loyalty.quits_today,
        "switches": model.loyalty.switches_today,
        "ad_revenue_per_user_day": float(today.ad_revenue.sum() / n),
        "ad_revenue_per_feed_user_day": float(
            today.ad_revenue.sum() / max((feed_min > 0).sum(), 1)
        ),
        "subscription_revenue_per_user_day": float(today.subscription_revenue.sum() / n),
        "commerce_revenue_per_user_day": float(today.commerce_revenue.sum() / n),
        "revenue_per_user_day": float(today.revenue.sum() / n),
        "provider_cost_per_user_day": float(today.cost.sum() / n),
        "provider_profit_per_user_day": float((today.revenue.sum() - today.cost.sum()) / n),
        "ad_tax_per_user_day": float(today.ad_tax_paid.sum() / n),
        **{
            f"{policy}_objective_per_user_day": float(
                sum(objective(policy, model, p.column).sum() for p in model.providers) / n
            )
            for policy in ("attention", "intimacy")
        },
    }
    provider = {
        p.column: (
            float(u.minutes[:, p.column].sum()),
            float(u.adopted[:, p.column].mean()),
            float(today.revenue[:, p.column].sum() / n),
            float((today.revenue[:, p.column] - today.cost[:, p.column]).sum() / n),
        )
        for p in model.providers
    }
    _add_arms_and_providers(model, row, provider, provider_total)
    return row


def _add_arms_and_providers(model, row: dict, provider: dict, provider_total: float) -> None:
    """Arm means of each intervention and, from ``provider[column]`` = (minutes summed,
    users share, revenue and profit per user-day), each provider's columns."""
    for x, users, cols in model.intervention_arms:
        if 0 < users.sum() < users.size:
            sample = model.study_samples.get(x.name)
            control = ~users if sample is None else sample & ~users
            for arm, who in (("treated", users), ("control", control)):
                for k, v in arm_means(model, who, cols).items():
                    row[f"arm.{x.name}.{arm}.{k}"] = v
    for p in model.providers:
        minutes, users, revenue, profit = provider[p.column]
        row[f"{p.name}.minutes"] = minutes / model.users.n
        row[f"{p.name}.market_share"] = minutes / provider_total if provider_total else 0.0
        row[f"{p.name}.users"] = users
        row[f"{p.name}.revenue"] = revenue
        row[f"{p.name}.profit"] = profit
        for lever, value in p.levers.items():
            row[f"{p.name}.{lever}"] = value


def arm_means(model, who: np.ndarray, cols: np.ndarray) -> dict[str, float]:
    """ARM metrics over the users ``who``; ``active`` counts use of the targeted providers."""
    u, comp = model.users, model.is_companion
    w = u.wellbeing[who]
    return {
        "minutes": float(u.minutes[who].sum(axis=1).mean()),
        "feed_minutes": float(u.minutes[who][:, ~comp].sum(axis=1).mean()),
        "companion_minutes": float(u.minutes[who][:, comp].sum(axis=1).mean()),
        "social_minutes": float(u.social_minutes[who].mean()),
        "offline_minutes": float(u.offline_minutes[who].mean()),
        "compulsive_minutes": float(u.compulsive_minutes[who].mean()),
        "compulsive_any": float((u.compulsive_minutes[who] > 0).mean()),
        "active": float((u.minutes[who][:, cols] > 0).any(axis=1).mean()),
        "adopted": float(u.adopted[who][:, cols].any(axis=1).mean()),
        "perceived_manipulation": float(u.perceived_manipulation[who][:, cols].mean())
        if cols.any()
        else 0.0,
        "wellbeing": float(w.mean()),
        "wellbeing_sd": measured_sd(model, float(w.std())),
        "loneliness": float(u.loneliness[who].mean()),
        "tie_strength": float(tie_strength(model)[who].mean()),
    }


def measured_sd(model, sd: float) -> float:
    """SD of wellbeing as a survey would measure it: the model's spread plus day-to-day mood and
    response noise of ``wellbeing.measurement_sd``, independent of everything else (ODD 7.7)."""
    return float(np.hypot(sd, model.params.wellbeing.measurement_sd))


def dependent(model) -> np.ndarray:
    """Heavy companion use (moving average, about a week) together with weak human ties (N,) bool."""
    sp = model.params.social
    return (model.users.companion_minutes_avg >= sp.dependence_minutes) & (
        tie_strength(model) < sp.dependence_ties
    )


def summarise(model, frame: pd.DataFrame) -> dict[str, float]:
    """Run-level metrics: window means of the daily series plus loyalty from spells."""
    days = len(frame)
    window = frame.iloc[max(0, days - model.params.run.summary_window) :]
    out = {k: float(window[k].mean()) for k in SUMMARY_FROM_DAILY}
    loyalty, u = model.loyalty, model.users
    last_start = days - 90
    if last_start >= 0:
        starts = loyalty.starts_by_day[: last_start + 1].sum()
        early = loyalty.early_ends_by_day[: last_start + 1].sum()
        out["retention_90d"] = float(1.0 - early / starts) if starts else float("nan")
    else:
        out["retention_90d"] = float("nan")
    exposure = float(window[[f"{p.name}.users" for p in model.providers]].sum(axis=1).sum()) * u.n
    rate = float(window["quits"].sum()) / exposure if exposure else 0.0
    out["monthly_churn"] = 1.0 - (1.0 - rate) ** 30
    running = model.day + 1 - u.adopted_day[u.adopted]
    spells = loyalty.ended_count + running.size
    out["mean_tenure_days"] = (
        (loyalty.ended_tenure_sum + float(running.sum())) / spells if spells else 0.0
    )
    out["switching_rate"] = loyalty.switches / u.n / days * 30.0
    return out


def panel_rows(model, sample: np.ndarray) -> pd.DataFrame:
    """Per-user state of the sampled users today (panel.parquet)."""
    u = model.users
    cols = {
        "day": np.full(sample.size, model.day, np.int32),
        "user": sample.astype(np.int64),
        "loneliness": u.loneliness[sample],
        "wellbeing": u.wellbeing[sample],
        "tie_strength": tie_strength(model)[sample],
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
    return pd.DataFrame(cols)


POLICY_INDEX = {"attention": 0, "intimacy": 1, "wellbeing": 2}


def objectives(model, record: bool = False) -> dict[int, tuple[float, float, float]]:
    """Each provider's attention and intimacy objectives and profit today, summed over users
    as numpy sums them (compiled path). With ``record`` also adds each launched provider's own
    objective and profit to its window's sums, as :func:`sim.model.policies.record` does."""
    u, today, n, prm = model.users, model.today, model.users.n, model.params
    ap, cp, adp = prm.adaptation, prm.companion, prm.adoption
    ps = metrics_kernels.pairwise
    args = kernels.block_buffer(model, "metrics.objective_args", n, (2,))
    per_user = kernels.block_buffer(model, "metrics.objective", n, (3,))
    price = today.levers.tables["price"]
    spans = kernels.blocks(n)
    providers = [
        (p.column, POLICY_INDEX[p.policy] if record and model.day >= p.launch_day else -1, p)
        for p in model.providers
    ]
    partial = np.empty((len(providers), 3, len(spans)))

    def measure(k, start, stop):
        e, out = args(start, stop), per_user(start, stop)
        for j, own, p in providers:
            metrics_kernels.objective_arguments(
                start,
                stop,
                j,
                u.remembered_value,
                u.knowledge,
                u.attachment,
                u.offline_value,
                u.willingness_to_pay,
                price,
                adp.switching_knowledge,
                adp.switching_attachment,
                adp.quit_scale,
                cp.wtp_attachment,
                cp.price_scale,
                e,
            )
            kernels.exp(e)
            metrics_kernels.objectives(
                start,
                stop,
                j,
                e,
                today.revenue,
                today.cost,
                u.minutes,
                u.adopted,
                u.subscribed,
                u.attachment,
                adp.quit_rate,
                cp.cancellation,
                ap.minute_value,
                ap.lifetime_cap,
                ap.attachment_value,
                ap.retention_value,
                out,
                own,
                u.wellbeing,
                p.objective_now,
                p.profit_now,
            )
            for q in range(3):
                partial[j, q, k] = ps(out[q], 0, stop - start, 1)

    kernels.each_block(spans, measure)
    return {
        j: tuple(float(kernels.tree_sum(partial[j, q], n)) for q in range(3))
        for j, _, _ in providers
    }


def sort_wellbeing(model):
    """Start sorting today's wellbeing beside the model's next steps (compiled path; see
    :func:`kernels.alongside`); returns a function that waits for the sorted values."""
    n, work = model.users.n, model.work
    w_sorted = work("metrics.sorted", n)
    keys, spare = work("metrics.keys", n, np.uint64), work("metrics.spare", n, np.uint64)
    w = model.users.wellbeing
    done = kernels.alongside(lambda: metrics_kernels.sort(w, w_sorted, keys, spare))

    def wait() -> np.ndarray:
        done()
        return w_sorted

    return wait


def block_sums(arrays, n: int, size: int) -> list[float]:
    """numpy's sums of flat float arrays of ``n`` values each, their :func:`kernels.blocks`
    of ``size`` summed on the team and added up in numpy's order."""
    spans = kernels.blocks(n, size)
    partial = np.empty((len(arrays), len(spans)))

    def add(k, start, stop):
        for q, a in enumerate(arrays):
            partial[q, k] = metrics_kernels.pairwise(a, start, stop - start, 1)

    kernels.each_block(spans, add)
    return [float(kernels.tree_sum(row, n, size)) for row in partial]


def _compact(values: np.ndarray, spans, counts: np.ndarray) -> np.ndarray:
    """The first ``counts[k]`` values from the start of every span ``k``, one after another."""
    at = 0
    for (start, _), c in zip(spans, counts, strict=True):
        values[at : at + c] = values[start : start + c]
        at += c
    return values[:at]


def _daily_row_compiled(model) -> tuple[dict, dict, float]:
    """:func:`daily_row`'s series but arms and providers, with :mod:`sim.model.kernels.metrics`,
    bit for bit; also the per-provider figures and the sum of provider minutes. Objectives
    are :func:`sim.model.policies.objective`'s, computed in one pass per provider."""
    u, today, n, prm = model.users, model.today, model.users.n, model.params
    comp, work = model.is_companion, model.work
    ps = metrics_kernels.pairwise

    w = u.wellbeing
    stash = model.wellbeing_sorting
    sorted_ = stash[1] if stash is not None and stash[0] == model.steps else sort_wellbeing(model)
    feed_min, comp_min, active_comp, max_att = (
        work(f"metrics.{k}", n) for k in ("feed", "comp", "active_comp", "max_att")
    )
    # one pass over blocks of users on the team: counts, compacted companion figures (each
    # block's from its own start) and the blocks' sums, added up in numpy's order after
    P = u.minutes.shape[1]
    spans = kernels.blocks(n)
    per_user = (feed_min, comp_min, u.social_minutes, u.offline_minutes, u.compulsive_minutes)
    per_user += (u.loneliness, w)
    counts = np.zeros((len(spans), 7 + P), np.int64)
    partial = np.empty((len(per_user) + 2 * P, len(spans)))
    ties = tie_strength(model)
    minutes, revenue_flat = u.minutes.reshape(-1), today.revenue.reshape(-1)

    def measure(k, start, stop):
        metrics_kernels.users(
            start,
            stop,
            u.minutes,
            u.adopted,
            u.subscribed,
            u.attachment,
            comp,
            u.companion_minutes_avg,
            ties,
            prm.social.dependence_minutes,
            prm.social.dependence_ties,
            feed_min,
            comp_min,
            active_comp,
            max_att,
            counts[k],
        )
        for q, a in enumerate(per_user):
            partial[q, k] = ps(a, start, stop - start, 1)
        for j in range(P):  # a[:, j].sum() of minutes and revenue
            partial[len(per_user) + j, k] = ps(minutes, start * P + j, stop - start, P)
            partial[len(per_user) + P + j, k] = ps(revenue_flat, start * P + j, stop - start, P)

    kernels.each_block(spans, measure)
    feed_total, comp_total, social, offline, compulsive, loneliness, w_total, *by_provider = (
        kernels.tree_sum(row, n) for row in partial
    )
    active, feed_active, comp_active, dependent, feed_users, comp_users, subscribers, *users = (
        int(c) for c in counts.sum(axis=0)
    )
    active_comp = _compact(active_comp, spans, counts[:, 2])
    max_att = _compact(max_att, spans, counts[:, 5])
    provider_total, revenue, cost = block_sums(
        (minutes, revenue_flat, today.cost.reshape(-1)), n * P, kernels.BLOCK * P
    )
    strength = model.network.strength
    # any block size gives numpy's sum; ties outnumber users about tenfold, so larger blocks
    # keep the spans few
    (tie_strength_total,) = block_sums((strength,), strength.size, 16 * kernels.BLOCK)
    w_mean = w_total / n
    ref_mean, ref_sd = model.wellbeing_reference
    ref_sd = measured_sd(model, ref_sd)
    ad_revenue = today.totals["ad_revenue"]
    objective_sums = {"attention": 0, "intimacy": 0}
    provider = {}
    stash = model.objectives_today
    sums = stash[1] if stash is not None and stash[0] == model.steps else objectives(model)
    for p in model.providers:
        j = p.column
        attention, intimacy, profit = sums[j]
        objective_sums["attention"] += attention
        objective_sums["intimacy"] += intimacy
        provider[j] = (by_provider[j], users[j] / n, by_provider[P + j] / n, profit / n)
    w_sorted = sorted_()  # wellbeing sorted, for its tenth percentile and Gini
    row = {
        "minutes_per_user_day": provider_total / n,
        "feed_minutes_per_user_day": feed_total / n,
        "companion_minutes_per_user_day": comp_total / n,
        "social_minutes_per_user_day": social / n,
        "offline_minutes_per_user_day": offline / n,
        "active_share": active / n,
        "feed_active_share": feed_active / n,
        "companion_active_share": comp_active / n,
        "companion_minutes_per_active_user": ps(active_comp, 0, comp_active, 1) / comp_active
        if comp_active
        else 0.0,
        "impulsive_share": compulsive / provider_total if provider_total else 0.0,
        "loneliness_mean": loneliness / n,
        "tie_strength_mean": tie_strength_total / strength.size,
        "wellbeing_mean": w_mean,
        "wellbeing_sd_units": (w_mean - ref_mean) / ref_sd if ref_sd > 0 else 0.0,
        "wellbeing_p10": float(np.percentile(w_sorted, 10)),
        "wellbeing_gini": gini(w_sorted, is_sorted=True),
        "mean_attachment": ps(max_att, 0, comp_users, 1) / comp_users
        if comp.any() and comp_users
        else 0.0,
        "dependent_share": dependent / n,
        "feed_user_share": feed_users / n,
        "companion_user_share": comp_users / n,
        "subscriber_share": subscribers / comp_users if comp.any() and comp_users else 0.0,
        "manipulative_farewell_share": today.tactics / today.sessions if today.sessions else 0.0,
        "adoptions": model.loyalty.adoptions_today,
        "quits": model.loyalty.quits_today,
        "switches": model.loyalty.switches_today,
        "ad_revenue_per_user_day": ad_revenue / n,
        "ad_revenue_per_feed_user_day": ad_revenue / max(feed_active, 1),
        "subscription_revenue_per_user_day": today.totals["subscription_revenue"] / n,
        "commerce_revenue_per_user_day": today.totals["commerce_revenue"] / n,
        "revenue_per_user_day": revenue / n,
        "provider_cost_per_user_day": cost / n,
        "provider_profit_per_user_day": (revenue - cost) / n,
        "ad_tax_per_user_day": today.totals["ad_tax_paid"] / n,
        "attention_objective_per_user_day": objective_sums["attention"] / n,
        "intimacy_objective_per_user_day": objective_sums["intimacy"] / n,
    }
    return row, provider, provider_total
