"""Does each policy do what its name says? (ODD 7.9)

A provider policy is an objective. In a sweep over ``policy`` (the headline experiment), each
policy should give the highest value of its own objective, paired by seed, in every market
where it applies. The objectives' long-run measures:

- *attention*: ``attention_objective_per_user_day`` (profit and minutes captured), with feed and
  companion minutes and ad revenue beside it;
- *intimacy*: the relationship's lifetime value, measured in the long run as provider profit per
  user-day, with attachment and the 90-day retention and monthly churn of spells with
  companions (the relationships intimacy is about) and of all spells (the policy sets feeds'
  objective too) beside it;
- *wellbeing*: ``welfare_per_user_day``, with wellbeing and the share of users active beside it
  (a policy that drove users off would show here).

:func:`own_objectives` pairs each policy against every other on these measures;
:func:`end_levers` gives the levers each policy ends on, with intervals across seeds;
:func:`landscape_rank` where each policy's own measure ends on a landscape of fixed levers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.report.analysis import Results, compare, t_interval

# policy: (its objective's long-run measure, what is reported beside it); for "churn" lower
# is better
OWN: dict[str, tuple[str, tuple[str, ...]]] = {
    "attention": (
        "attention_objective_per_user_day",
        ("minutes_per_user_day", "ad_revenue_per_user_day"),
    ),
    "intimacy": (
        "provider_profit_per_user_day",
        (
            "mean_attachment",
            "companion_retention_90d",
            "companion_monthly_churn",
            "retention_90d",
            "monthly_churn",
        ),
    ),
    "wellbeing": ("welfare_per_user_day", ("wellbeing_sd_units", "active_share")),
}
LOWER_IS_BETTER = ("monthly_churn", "companion_monthly_churn")
LEVERS = (
    "ad_load",
    "hooks",
    "personalisation",
    "empathy",
    "nudge",
    "price",
    "free_minutes",
    "free_memory",
    "manipulation",
)


def own_objectives(results: Results) -> pd.DataFrame:
    """Each policy against every other policy on its own objective's measures, within each
    market, paired by seed: one row per (scenario, policy, rival, metric) with the paired
    difference (policy minus rival), its 95% interval and ``ahead`` (the interval lies on the
    better side of 0)."""
    runs = results.runs
    runs = runs[runs["status"] == "ok"] if "status" in runs else runs
    rows = []
    for policy, (measure, beside) in OWN.items():
        if policy not in set(runs["policy"]):
            continue
        metrics = [m for m in (measure, *beside) if m in runs]
        table = compare(runs, "policy", policy, metrics, within=["scenario"])
        for _, r in table.iterrows():
            if not np.isfinite(r["difference"]):
                continue  # a metric the market does not have (churn of companions among feeds)
            low, high = -r["ci_high"], -r["ci_low"]  # policy minus rival
            lower_is_better = r["metric"] in LOWER_IS_BETTER
            rows.append(
                {
                    "scenario": r["scenario"],
                    "policy": policy,
                    "rival": r["level"],
                    "metric": r["metric"],
                    "objective": r["metric"] == measure,
                    "policy_mean": r["baseline_mean"],
                    "rival_mean": r["treatment_mean"],
                    "difference": -r["difference"],
                    "ci_low": low,
                    "ci_high": high,
                    "ahead": bool(high < 0 if lower_is_better else low > 0),
                }
            )
    return pd.DataFrame(rows)


def end_levers(results: Results) -> pd.DataFrame:
    """The levers each policy ends on, in each market: the mean over a kind's providers on the
    last recorded day, then its mean across seeds with a 95% interval."""
    ts = results.timeseries
    last = ts[ts["day"] == ts.groupby("run_id")["day"].transform("max")]
    last = last.merge(results.runs[["run_id", "scenario", "policy", "seed"]], on="run_id")
    rows = []
    for column in last.columns:
        provider, _, lever = column.partition(".")
        if lever not in LEVERS or "_" not in provider:
            continue
        kind = provider.rsplit("_", 1)[0]
        part = last[["scenario", "policy", "seed", column]].dropna()
        rows.append(part.rename(columns={column: "value"}).assign(kind=kind, lever=lever))
    if not rows:
        return pd.DataFrame()
    values = pd.concat(rows)
    per_run = values.groupby(["scenario", "policy", "kind", "lever", "seed"])["value"].mean()
    out = []
    for (scenario, policy, kind, lever), v in per_run.groupby(level=[0, 1, 2, 3]):
        mean, low, high = t_interval(v.to_numpy())
        out.append(
            {
                "scenario": scenario,
                "policy": policy,
                "kind": kind,
                "lever": lever,
                "mean": mean,
                "ci_low": low,
                "ci_high": high,
                "seeds": len(v),
            }
        )
    return pd.DataFrame(out)


def landscape_rank(landscape: Results, adaptive: Results) -> pd.DataFrame:
    """Where adaptive providers end on a landscape of fixed levers (ODD 7.9): for each policy
    in ``adaptive`` (a sweep over ``policy``, such as the headline), in the landscape's market,
    its own objective's long-run measure (``OWN``) against the same measure at every grid point
    of ``landscape`` (a sweep with adaptation off over a grid of levers, same users and days).

    One row per policy: the realised measure (mean over seeds, 95% interval), the grid points
    ranked (for the wellbeing-aligned policy only those that break even, mean provider profit
    >= 0, as its objective is constrained to), how many lie above the realised mean
    (``rank`` = 1 + that number), the share of points below it, the landscape's 90th
    percentile and best point, and ``top_decile`` (the realised mean reaches the 90th
    percentile)."""
    grid = [f for f in landscape.factors if f not in ("seed", "replication")]
    if not grid:
        raise ValueError(f"{landscape.name}: no grid of levers to rank against")
    scenarios = set(landscape.runs["scenario"])
    if len(scenarios) != 1:
        raise ValueError(f"{landscape.name}: a landscape is one market, not {sorted(scenarios)}")
    scenario = scenarios.pop()
    points = landscape.runs.groupby(grid).mean(numeric_only=True).reset_index()
    runs = adaptive.runs[adaptive.runs["scenario"] == scenario]
    rows = []
    for policy, part in runs.groupby("policy"):
        measure = OWN[policy][0]
        ranked = points
        if policy == "wellbeing":
            ranked = points[points["provider_profit_per_user_day"] >= 0]
        if ranked.empty or measure not in part:
            continue
        values = ranked[measure].to_numpy()
        mean, low, high = t_interval(part[measure])
        best = ranked.loc[ranked[measure].idxmax()]
        decile = float(np.quantile(values, 0.9))
        rows.append(
            {
                "scenario": scenario,
                "policy": policy,
                "measure": measure,
                "realised": mean,
                "ci_low": low,
                "ci_high": high,
                "points": len(values),
                "rank": 1 + int((values > mean).sum()),
                "share_below": float((values < mean).mean()),
                "top_decile_from": decile,
                "best": float(best[measure]),
                "best_at": ", ".join(f"{g} {best[g]:g}" for g in grid),
                "top_decile": bool(mean >= decile),
            }
        )
    return pd.DataFrame(rows)
