"""Whether summaries are settled (ODD 7.14): the drift test on synthetic series, its false-alarm
rate on autocorrelated noise, the burn-in scan, and the drift table and warning of ``sim run``."""

import json

import numpy as np
import pandas as pd
import pytest

from sim.model import settling
from sim.model.metrics import SUMMARY_FROM_DAILY
from sim.model.params import RunParams

W = 90


def frame(**series) -> pd.DataFrame:
    """A daily frame with a ``day`` column and the given series."""
    n = len(next(iter(series.values())))
    return pd.DataFrame(
        {"day": np.arange(n), **{k: np.asarray(v, float) for k, v in series.items()}}
    )


def ar1(rng, phi: float, n: int, reps: int = 1) -> np.ndarray:
    """``reps`` stationary AR(1) series of ``n`` days, lag-1 autocorrelation ``phi``, sd 1."""
    x = np.zeros((reps, n + 200))
    e = rng.standard_normal(x.shape) * np.sqrt(1.0 - phi**2)
    for t in range(1, x.shape[1]):
        x[:, t] = phi * x[:, t - 1] + e[:, t]
    return x[:, 200:]


def flagged_share(x: np.ndarray) -> float:
    """Share of the rows of ``x`` (windows of W days) whose drift test flags them."""
    return float((~settling.is_settled(settling.drift_statistics(x))).mean())


# -- the test on synthetic series ---------------------------------------------------------------
def test_a_flat_noisy_series_is_settled_and_a_trend_is_not():
    rng = np.random.default_rng(1)
    days = np.arange(365)
    flat = 100 + rng.normal(0, 2, days.size)
    trend = 100 + 0.05 * days + rng.normal(0, 2, days.size)  # +2.25 between the halves
    table = settling.drift(frame(flat=flat, trend=trend), W, ["flat", "trend"])
    assert table.loc["flat", "settled"] is True
    assert table.loc["trend", "settled"] is False
    assert settling.unsettled(table) == ["trend"]
    t = table.loc["trend"]
    assert t["drift"] == pytest.approx(0.05 * 45, abs=1.0)  # second half - first half, in units
    assert t["drift"] == pytest.approx(t["second_half"] - t["first_half"])
    assert t["relative_drift"] == pytest.approx(t["drift"] / t["first_half"])
    assert t["z"] > settling.critical_z()


def test_the_drift_is_the_difference_of_the_two_halves_of_the_window():
    x = np.r_[np.zeros(100), np.full(45, 1.0), np.full(45, 3.0)]  # only the last 90 days count
    t = settling.drift(frame(x=x), W, ["x"]).loc["x"]
    assert (t["first_half"], t["second_half"], t["drift"]) == (1.0, 3.0, 2.0)
    assert t["relative_drift"] == 2.0 and t["settled"] is False  # no noise: any step is real


def test_a_series_that_is_zero_or_constant_is_settled():
    """A metric that is off (commerce revenue without commerce) or constant, or that changes
    only by rounding, is never flagged."""
    n = 200
    tiny = 1e-17 * np.random.default_rng(0).standard_normal(n)
    rounding = 0.3 + np.r_[np.zeros(n - 45), np.full(45, 5e-17)]
    table = settling.drift(
        frame(off=np.zeros(n), constant=np.full(n, 7.5), tiny=tiny, rounding=rounding),
        W,
        ["off", "constant", "tiny", "rounding"],
    )
    assert table["settled"].tolist() == [True] * 4
    assert table.loc["off", "relative_drift"] == 0.0
    assert table.loc["off", "z"] == 0.0


def test_a_window_too_short_to_test_says_nothing():
    table = settling.drift(frame(x=[1.0, 2.0, 3.0, 4.0, 5.0]), W, ["x"])
    assert table.loc["x", "settled"] is None and settling.unsettled(table) == []
    assert settling.as_json(table)["x"] == dict.fromkeys(settling.DRIFT_COLUMNS)


def test_the_tolerance_settles_small_but_real_drifts():
    x = 100 + 0.01 * np.arange(200)  # 0.45 between the halves: 0.45% of the level, no noise
    assert not settling.drift(frame(x=x), W, ["x"]).loc["x", "settled"]
    assert settling.drift(frame(x=x), W, ["x"], tolerance=0.01).loc["x", "settled"]


# -- false alarms and power, by simulation --------------------------------------------------------
def test_false_alarms_on_independent_days_are_near_the_nominal_five_percent():
    x = np.random.default_rng(2).standard_normal((4000, W))
    assert 0.02 <= flagged_share(x) <= 0.07


@pytest.mark.parametrize("phi, most, naive", [(0.5, 0.08, 0.2), (0.8, 0.10, 0.4)])
def test_strongly_autocorrelated_noise_without_a_trend_is_rarely_flagged(phi, most, naive):
    """AR(1) noise with lag-1 autocorrelation 0.8 (correlation time about 9 days): a test that
    took the daily values as independent would flag about half of these windows."""
    x = ar1(np.random.default_rng(3), phi, W, reps=2000)
    assert flagged_share(x) <= most
    as_if_independent = np.abs(x[:, 45:].mean(1) - x[:, :45].mean(1)) / np.sqrt(2 / 45) > 1.96
    assert as_if_independent.mean() > naive  # the noise is autocorrelated: batching matters


def test_a_trend_of_one_noise_sd_over_the_window_is_mostly_flagged():
    rng = np.random.default_rng(4)
    x = ar1(rng, 0.5, W, reps=2000) + np.linspace(-1.0, 1.0, W)  # halves about 1 sd apart
    assert flagged_share(x) >= 0.5


# -- choosing burn-in and horizon -----------------------------------------------------------------
def test_settling_days_finds_where_a_transient_ends():
    rng = np.random.default_rng(5)
    n = 730
    days = np.arange(n)
    transient = 50 * np.exp(-days / 60) + ar1(rng, 0.5, n)[0]  # settled after about 400 days
    late = np.where(days < 500, 0.0, (days - 500) * 0.1) + ar1(rng, 0.5, n)[0]  # rises from 500
    flat = ar1(rng, 0.5, n)[0]
    table = settling.settling_days(
        frame(transient=transient, late=late, flat=flat), W, ["transient", "late", "flat"]
    )
    first = table["settled_from"]
    assert 250 <= first["transient"] <= 600
    assert table.loc["transient", "burn_in"] == first["transient"] - W + 1
    assert first["flat"] <= 200
    assert first["late"] is None or np.isnan(first["late"])  # not settled within the run
    assert table.loc["late", "last_unsettled"] == n - 1
    assert (table["ends"] == n - W + 1).all()


def test_settling_days_sees_a_drift_that_comes_back():
    """A metric settled early that moves again later is settled only after its second move."""
    rng = np.random.default_rng(6)
    days = np.arange(900)
    x = np.where(days < 400, 0.0, np.minimum(days - 400, 200) * 0.05) + ar1(rng, 0.5, 900)[0]
    t = settling.settling_days(frame(x=x), W, ["x"]).loc["x"]
    assert 600 <= t["settled_from"] <= 800
    assert np.isnan(t["later_unsettled"]) or t["later_unsettled"] <= settling.LATER_LIMIT
    early = settling.settling_days(frame(x=x[:400]), W, ["x"]).loc["x"]
    assert early["settled_from"] < 300  # the first 400 days alone look settled


# -- sim run: summary.json and the warning --------------------------------------------------------
def test_sim_run_writes_the_drift_table_and_warns_when_unsettled(sim, tmp_path):
    """A 40-day run starts from launch: its summary (the last 40 days) is not settled."""
    out = tmp_path / "r"
    code, stdout, err = sim("run", "--users", "300", "--days", "40", "-q", "--out", out)
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["drift"]) == set(SUMMARY_FROM_DAILY)
    for row in summary["drift"].values():
        assert list(row) == list(settling.DRIFT_COLUMNS)
    assert summary["unsettled"] == [m for m, r in summary["drift"].items() if r["settled"] is False]
    assert "companion_minutes_per_user_day" in summary["unsettled"]
    ts = pd.read_parquet(out / "timeseries.parquet")
    tolerance = RunParams().drift_tolerance  # the run's default, as sim run used it
    again = settling.drift(ts, 40, SUMMARY_FROM_DAILY, tolerance=tolerance)
    assert settling.as_json(again) == summary["drift"]  # from the daily series alone
    warning = [line for line in err.splitlines() if line.startswith("warning: summary not settled")]
    assert len(warning) == 1
    assert "companion_minutes_per_user_day" in warning[0]
    assert "--days" in warning[0] and "run.summary_window" in warning[0]
    assert stdout.strip() == str(out)
    from sim.report import analysis

    row = analysis.load(out).runs.iloc[0]  # a run folder read as a sweep's row
    assert row["unsettled_metrics"] == len(summary["unsettled"])
    assert "drift" not in row.index


def test_no_warning_when_the_headline_metrics_are_settled():
    from sim.cli import unsettled_warning

    drift = {"companion_minutes_per_user_day": {"relative_drift": 0.1, "drift": 5.0}}
    settled = {"drift": drift, "unsettled": [], "days": 365}
    assert unsettled_warning(settled, 90, "r") is None
    only_other = {"drift": {**drift, "wellbeing_p10": {}}, "unsettled": ["wellbeing_p10"]}
    assert unsettled_warning(only_other, 90, "r") is None  # not a headline metric
    text = unsettled_warning({**settled, "unsettled": ["companion_minutes_per_user_day"]}, 90, "r")
    assert "companion_minutes_per_user_day +10%" in text and "last 90 days" in text


def test_runs_parquet_rows_count_the_unsettled_metrics():
    summary = {"wellbeing_mean": 1.0, "unsettled": ["a", "b"], "drift": {}}
    assert settling.row_fields(summary) == {"unsettled_metrics": 2, "unsettled_names": "a,b"}
    assert settling.row_fields({"wellbeing_mean": 1.0}) == {}  # a summary from before drift


def test_sim_settle_reports_each_metric(sim, tmp_path):
    rng = np.random.default_rng(7)
    n = 400
    days = np.arange(n)
    ts = frame(**{m: 1.0 + 0.01 * ar1(rng, 0.5, n)[0] for m in SUMMARY_FROM_DAILY})
    ts["companion_minutes_per_user_day"] = 80 * (1 - np.exp(-days / 40)) + ar1(rng, 0.5, n)[0]
    (tmp_path / "r").mkdir()
    ts.to_parquet(tmp_path / "r" / "timeseries.parquet")
    code, out, err = sim("settle", tmp_path / "r", "--window", "60")
    assert code == 0, err
    assert "time with companions" in out and "mean wellbeing" in out
    assert "--days" in out and "run.summary_window=60" in out
    code, _, err = sim("settle", tmp_path / "r", "--window", "500")
    assert code == 2 and err.startswith("error: --window")
    code, _, err = sim("settle", tmp_path)
    assert code == 2 and "no timeseries.parquet" in err
