"""sim.report.analysis: statistics against answers computed by hand, loading every results shape."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import report_shapes

from sim.model.params import ParamError
from sim.report import analysis as an

T_975 = {2: 4.302652729749464, 3: 3.182446305284263, 9: 2.2621571628540993}  # Student t tables


def test_paired_difference_matches_a_hand_computation():
    # differences 1, 2, 0, 3: mean 1.5, sd sqrt(5/3), se sd/2, t(3 df) = 3.1824
    r = an.paired_difference([1, 2, 3, 4], [2, 4, 3, 7])
    sd = math.sqrt(5 / 3)
    half = T_975[3] * sd / 2
    assert r["n"] == 4
    assert r["difference"] == pytest.approx(1.5)
    assert r["sd"] == pytest.approx(sd)
    assert r["ci_low"] == pytest.approx(1.5 - half) and r["ci_high"] == pytest.approx(1.5 + half)
    assert r["ci_low"] < 0 < r["ci_high"] and not r["clear"]  # includes zero: no clear effect
    assert r["effect_size"] == pytest.approx(1.5 / sd)
    assert r["relative"] == pytest.approx(1.5 / 2.5)
    assert r["baseline_mean"] == pytest.approx(2.5) and r["treatment_mean"] == pytest.approx(4.0)
    assert r["t"] == pytest.approx(1.5 / (sd / 2))


def test_a_clear_effect_and_its_relative_interval():
    # differences 10, 11, 12 over a baseline of 20: mean 11, sd 1, t(2 df) = 4.3027
    r = an.paired_difference([20, 20, 20], [30, 31, 32])
    half = T_975[2] / math.sqrt(3)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((11 - half, 11 + half))
    assert r["clear"] and r["effect_size"] == pytest.approx(11.0)
    assert r["relative_ci_low"] == pytest.approx((11 - half) / 20)
    assert r["p_value"] < 0.01


def test_pairs_with_a_missing_value_are_dropped_and_small_samples_have_no_interval():
    r = an.paired_difference([1.0, np.nan, 3.0], [2.0, 5.0, np.nan])
    assert r["n"] == 1 and r["difference"] == 1.0
    assert math.isnan(r["ci_low"]) and not r["clear"]
    assert an.paired_difference([], [])["n"] == 0
    with pytest.raises(ValueError, match="pair"):
        an.paired_difference([1, 2], [1, 2, 3])


def test_identical_differences_give_a_point_interval():
    r = an.paired_difference([1, 2, 3], [1.5, 2.5, 3.5])
    assert r["ci_low"] == pytest.approx(0.5) and r["ci_high"] == pytest.approx(0.5) and r["clear"]
    zero = an.paired_difference([1, 2, 3], [1, 2, 3])
    assert zero["difference"] == 0 and not zero["clear"] and zero["effect_size"] == 0


def test_t_interval_matches_the_table():
    x = np.arange(10.0)
    mean, lo, hi = an.t_interval(x)
    half = T_975[9] * x.std(ddof=1) / math.sqrt(10)
    assert (mean, lo, hi) == pytest.approx((4.5, 4.5 - half, 4.5 + half))


def _runs() -> pd.DataFrame:
    """Two markets x two policies x four seeds, shuffled; B - A is known per seed."""
    rows = []
    noise = {1: 0.0, 2: 1.0, 3: -1.0, 4: 2.0}
    for market, shift in (("x", 0.0), ("y", 10.0)):
        for seed, e in noise.items():
            rows.append(
                {"scenario": market, "policy": "A", "seed": seed, "m": 100 + shift + 5 * seed}
            )
            rows.append(
                {
                    "scenario": market,
                    "policy": "B",
                    "seed": seed,
                    "m": 100 + shift + 5 * seed + 3 + e,
                }
            )
    return pd.DataFrame(rows).sample(frac=1.0, random_state=1).reset_index(drop=True)


def test_compare_pairs_by_seed_within_each_stratum():
    out = an.compare(_runs(), "policy", "A", ["m"], within=["scenario"])
    assert list(out["scenario"]) == list(dict.fromkeys(_runs()["scenario"]))
    expected = an.paired_difference([0, 0, 0, 0], [3.0, 4.0, 2.0, 5.0])  # 3 + noise
    for _, row in out.iterrows():
        assert row["level"] == "B" and row["baseline"] == "A" and row["n"] == 4
        assert row["difference"] == pytest.approx(3.5)
        assert row["ci_low"] == pytest.approx(expected["ci_low"])
        assert row["ci_high"] == pytest.approx(expected["ci_high"])


def test_compare_refuses_runs_that_do_not_pair_and_an_unknown_baseline():
    with pytest.raises(ParamError, match="add 'scenario' to within"):
        an.compare(_runs(), "policy", "A", ["m"])
    with pytest.raises(ParamError, match="levels are"):
        an.compare(_runs(), "policy", "C", ["m"], within=["scenario"])


def test_frontier_marks_points_no_other_point_beats_on_both():
    pts = pd.DataFrame({"r": [1, 2, 3, 2, 1], "w": [3, 2, 1, 1, 1]})
    assert an.frontier(pts, "r", "w").tolist() == [True, True, True, False, False]


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    root = tmp_path_factory.getbasetemp() / "report_shapes"
    return {k: an.load(report_shapes.results(k, root)) for k in report_shapes.SHAPES}


def test_every_shape_loads_with_its_factors(shapes):
    assert shapes["headline"].factors == ["scenario", "policy"]
    assert shapes["cases"].factors == ["case"]
    assert shapes["grid2d"].factors == ["learning.rate", "companion.manipulation"]
    assert shapes["sobol"].factors == ["policy"] and shapes["sobol"].sampled == [
        "choice.impulse_weight",
        "habit.formation",
    ]
    assert shapes["single"].timeseries is None and len(shapes["single"].runs) == 1
    for res in shapes.values():
        assert set(an.KEY_METRICS.values()) <= set(res.metrics)
        assert not res.runs.empty and res.failed.empty
    assert shapes["cases"].panel() is not None and shapes["headline"].panel() is None


def test_default_comparisons_and_the_headline_comparison(shapes):
    spec = an.default_comparison(shapes["headline"])
    assert spec == {"factor": "policy", "baseline": "attention", "within": ["scenario"]}
    out = an.compare(shapes["headline"].runs, **spec)
    assert len(out) == 3 * 2 * 4  # markets x other policies x key metrics
    assert an.default_comparison(shapes["cases"])["baseline"] == "no_rule"
    assert an.default_comparison(shapes["grid2d"])["factor"] == "label"
    assert (
        an.default_comparison(shapes["single"]) is None
        and an.default_comparison(shapes["morris"]) is None
    )


def test_bands_give_one_row_per_group_metric_and_day(shapes):
    res = shapes["headline"]
    b = an.bands(res, ["wellbeing_mean"], by=["policy"])
    assert len(b) == 3 * 24 and (b["n"] == 9).all()
    assert (b["ci_low"] <= b["mean"]).all() and (b["mean"] <= b["ci_high"]).all()
    with pytest.raises(ParamError, match="no time series"):
        an.bands(shapes["single"], ["wellbeing_mean"])


def test_sensitivity_indices_with_intervals(shapes):
    s = an.sensitivity(shapes["sobol"], "wellbeing_mean")
    assert set(s["group"]) == {"attention", "wellbeing"} and set(s["index"]) == {"S1", "ST"}
    assert (s["ci_low"] <= s["value"]).all() and (s["value"] <= s["ci_high"]).all()
    d = an.sensitivity(shapes["sobol"], "wellbeing_mean", contrast=("wellbeing", "attention"))
    assert set(d["group"]) == {"wellbeing - attention"}
    assert d["value"].isna().all()  # policies cannot differ before the first A/B test ends
    m = an.sensitivity(shapes["morris"], "wellbeing_mean")
    assert set(m["index"]) == {"mu_star", "sigma", "mu"} and set(m["group"]) == {
        "attention/intimacy"
    }
    assert set(an.sensitivity(shapes["morris"], "wellbeing_mean", group=None)["group"]) == {
        "all runs"
    }
    with pytest.raises(ParamError, match="not a Sobol or Morris design"):
        an.sensitivity(shapes["headline"], "wellbeing_mean")
    with pytest.raises(ParamError, match="missing"):
        an.sensitivity(shapes["morris"], "retention_90d")  # undefined in a 24-day run


def test_user_types_and_tidy_tables(shapes):
    users = an.user_types(shapes["cases"])
    assert users["user_type"].nunique() == 4 and {"case", "wellbeing", "loneliness"} <= set(
        users.columns
    )
    assert an.user_types(shapes["headline"]) is None
    long = an.tidy_runs(shapes["headline"], ["wellbeing_mean"])
    assert len(long) == 27 and set(long["metric"]) == {"wellbeing_mean"}


def test_load_refuses_what_is_not_results(tmp_path):
    with pytest.raises(ParamError, match="does not exist"):
        an.load(tmp_path / "nothing")
    with pytest.raises(ParamError, match="not a results folder"):
        an.load(tmp_path)


def _panel_results(tmp_path) -> an.Results:
    """Results of one run whose panel holds six users on days 720 and 780."""
    before = {
        "companion_a.tenure": [10, 100, 400, -1, 50, 500],
        "companion_a.subscribed": [True, True, True, False, False, True],
        "companion_a.adopted": [True, True, True, False, True, True],
        "companion_b.adopted": [False] * 6,
    }
    after = {
        "companion_a.tenure": [-1, 160, -1, -1, 110, 560],
        "companion_a.subscribed": [False, True, False, False, False, True],
        "companion_a.adopted": [False, True, False, False, True, True],
        "companion_b.adopted": [True, False, True, True, False, False],
    }
    frames = [
        pd.DataFrame({"day": day, "user": range(6), **cols, "companion_b.tenure": -1})
        for day, cols in ((720, before), (780, after))
    ]
    pd.concat(frames).assign(run_id="r0").to_parquet(tmp_path / "panel.parquet")
    runs = pd.DataFrame({"run_id": ["r0"], "seed": [1], "case": ["cut"]})
    return an.Results(tmp_path, {}, runs, runs.iloc[:0], None, ["case"])


def test_switching_by_tenure_counts_who_moved_to_the_rival_by_band(tmp_path):
    """Users of companion_a on day 720 who use companion_b and no longer companion_a on day
    780, by their tenure with companion_a on day 720 (0-89, 90-364, 365+ days)."""
    res = _panel_results(tmp_path)
    everyone = an.switching_by_tenure(
        res, "companion_a", "companion_b", 720, 780, subscribers=False
    )
    assert everyone["users"].tolist() == [2, 1, 2]  # users 0 and 4; 1; 2 and 5 (user 3: none)
    assert everyone["switched"].tolist() == [0.5, 0.0, 0.5]
    assert everyone["band"].astype(str).tolist() == ["0-89 days", "90-364 days", "365+ days"]
    assert (everyone["case"] == "cut").all() and (everyone["seed"] == 1).all()
    paying = an.switching_by_tenure(res, "companion_a", "companion_b", 720, 780)
    assert paying["users"].tolist() == [1, 1, 2] and paying["switched"].tolist() == [1.0, 0.0, 0.5]
    with pytest.raises(ParamError, match="no day 750"):
        an.switching_by_tenure(res, "companion_a", "companion_b", 720, 750)
    with pytest.raises(ParamError, match="no provider 'feed_a'"):
        an.switching_by_tenure(res, "feed_a", "companion_b", 720, 780)


def test_arm_gaps_are_treated_less_control_per_window_less_the_reference():
    """A run whose arms differ by 1 before treatment and by 4 during it has a gap of 4 in the
    window and a difference in differences of 3; the arms' sizes come from the reference's
    first day; a metric without arm series is refused."""
    days = np.arange(10)
    frames = []
    for run_id, shift in (("a", 0.0), ("b", 2.0)):
        treated = np.where(days >= 5, 4.0 + shift, 1.0) + 10.0
        frames.append(
            pd.DataFrame(
                {
                    "run_id": run_id,
                    "day": days,
                    "arm.x.treated.loneliness": treated,
                    "arm.x.control.loneliness": 10.0,
                    "arm.x.treated.users": np.where(days >= 2, 30.0, 60.0),
                    "arm.x.control.users": 33.0,
                }
            )
        )
    runs = pd.DataFrame({"run_id": ["a", "b"], "seed": [1, 2], "case": ["c", "c"]})
    res = an.Results(Path("."), {}, runs, runs.iloc[:0], pd.concat(frames), ["case"])
    plain = an.arm_gaps(res, "x", "loneliness", {"during": (5, 8)}).set_index("run_id")
    assert plain.loc["a", "gap"] == pytest.approx(4.0) and plain.loc["b", "gap"] == pytest.approx(
        6.0
    )
    did = an.arm_gaps(
        res, "x", "loneliness", {"during": (5, 8), "before": (2, 5)}, reference=(2, 5)
    )
    did = did.set_index(["run_id", "window"])
    assert did.loc[("a", "during"), "gap"] == pytest.approx(3.0)
    assert did.loc[("b", "during"), "gap"] == pytest.approx(5.0)
    assert did.loc[("a", "before"), "gap"] == pytest.approx(0.0)
    assert did.loc[("a", "during"), "treated_users"] == 30.0
    assert did.loc[("a", "during"), "control_users"] == 33.0
    assert (did["seed"].isin([1, 2])).all() and (did["case"] == "c").all()
    with pytest.raises(ParamError, match="arm.x.treated.wellbeing"):
        an.arm_gaps(res, "x", "wellbeing", {"during": (5, 8)})
