"""The report that checks each policy against its own objective (sim/report/objectives.py)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from sim.report.objectives import OWN, end_levers, landscape_rank, own_objectives


def runs(shift: dict[str, dict[str, float]], seeds: int = 6) -> pd.DataFrame:
    """Runs of three policies in one market; every metric is seed noise plus ``shift``."""
    rng = np.random.default_rng(0)
    metrics = sorted({m for measure, beside in OWN.values() for m in (measure, *beside)})
    rows = []
    for seed in range(seeds):
        base = {m: 1.0 + 0.5 * rng.standard_normal() for m in metrics}
        for policy in OWN:
            noise = {m: 0.01 * rng.standard_normal() for m in metrics}
            rows.append(
                {
                    "run_id": f"{policy}-{seed}",
                    "status": "ok",
                    "scenario": "mixed",
                    "policy": policy,
                    "seed": seed,
                    **{m: base[m] + noise[m] + shift.get(policy, {}).get(m, 0.0) for m in metrics},
                }
            )
    return pd.DataFrame(rows)


def test_a_policy_clearly_ahead_on_its_own_objective_is_marked_ahead():
    table = own_objectives(SimpleNamespace(runs=runs({"wellbeing": {"welfare_per_user_day": 0.5}})))
    mine = table[(table.policy == "wellbeing") & table.objective]
    assert len(mine) == 2 and mine.ahead.all()
    assert (mine.difference > 0.4).all() and (mine.ci_low > 0).all()


def test_identical_policies_are_not_ahead_of_each_other():
    table = own_objectives(SimpleNamespace(runs=runs({})))
    assert not table.ahead.any()
    assert set(table.policy) == set(OWN)
    assert set(table.rival) == set(OWN)


def test_lower_churn_counts_as_ahead():
    shift = {"intimacy": {"companion_monthly_churn": -0.3}}
    table = own_objectives(SimpleNamespace(runs=runs(shift)))
    churn = table[(table.policy == "intimacy") & (table.metric == "companion_monthly_churn")]
    assert churn.ahead.all() and (churn.difference < 0).all()


def test_end_levers_average_a_kinds_providers_on_the_last_day():
    r = runs({})
    ts = pd.DataFrame(
        [
            {"run_id": run_id, "day": day, "feed_a.ad_load": a, "feed_b.ad_load": a + 0.1}
            for run_id, a in zip(r.run_id, np.linspace(0.0, 0.2, len(r)), strict=True)
            for day in (0, 9)
        ]
    )
    ts.loc[ts.day == 0, ["feed_a.ad_load", "feed_b.ad_load"]] = 9.0  # not the last day
    table = end_levers(SimpleNamespace(runs=r, timeseries=ts))
    assert set(table.lever) == {"ad_load"} and set(table.kind) == {"feed"}
    row = table[table.policy == "attention"].iloc[0]
    expected = (r[r.policy == "attention"].index.to_numpy() * 0.2 / (len(r) - 1) + 0.05).mean()
    assert np.isclose(row["mean"], expected) and row["seeds"] == 6


def landscape(values: dict[float, dict[str, float]]) -> SimpleNamespace:
    """A fixed-lever landscape over ``feed.ad_load``, two seeds per point, each point's
    measures as given (seed noise +-0.001)."""
    rows = [
        {"scenario": "mixed", "feed.ad_load": x, "seed": seed, **{m: v + d for m, v in ms.items()}}
        for x, ms in values.items()
        for seed, d in ((1, -0.001), (2, 0.001))
    ]
    return SimpleNamespace(name="grid", runs=pd.DataFrame(rows), factors=["feed.ad_load"])


def test_landscape_rank_places_each_policy_among_the_grid_points():
    measure = OWN["attention"][0]
    grid = landscape(
        {
            x / 10: {
                measure: x,
                "welfare_per_user_day": 10 - x,
                "provider_profit_per_user_day": x - 3,
            }
            for x in range(10)
        }
    )
    # every measure is about 1 plus the shift: attention between the points at 6 and 7
    adaptive = runs({"attention": {measure: 5.5}, "wellbeing": {"welfare_per_user_day": 6.5}})
    assert 6 < adaptive[adaptive.policy == "attention"][measure].mean() < 7
    table = landscape_rank(grid, SimpleNamespace(runs=adaptive)).set_index("policy")
    attention = table.loc["attention"]
    assert attention["rank"] == 4 and attention["points"] == 10  # the points at 7, 8, 9 above
    assert attention["share_below"] == 0.7 and attention["best_at"] == "feed.ad_load 0.9"
    assert not attention["top_decile"]  # the 90th percentile is 8.1
    wellbeing = table.loc["wellbeing"]
    # points that lose money (x < 3) are out of reach: the best that breaks even is 7.0
    assert wellbeing["points"] == 7 and wellbeing["best"] == 7.0
    assert wellbeing["rank"] == 1 and wellbeing["top_decile"]


def test_a_metric_a_market_does_not_have_gets_no_row():
    r = runs({})
    r.loc[r.scenario == "mixed", "companion_monthly_churn"] = np.nan
    table = own_objectives(SimpleNamespace(runs=r))
    assert "companion_monthly_churn" not in set(table.metric)
    assert {"monthly_churn", "companion_retention_90d"} <= set(table.metric)
