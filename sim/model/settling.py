"""Whether a run's summary metrics have settled: the drift of each daily series across its
summary window, and the first day from which a window of a given length would be settled
(ODD 7.14, "Drift across the summary window").

A summary metric is the mean of a daily series over the last ``W = run.summary_window`` days.
If the series still rises or falls inside that window, the summary depends on ``run.days``
and on ``W``. :func:`drift` tests each series for a change between the two halves of the
window against the noise of the series; :func:`settling_days` scans a (long) run for the
first window end from which the test passes. Both read only the daily frame
(``timeseries.parquet``).

The test (``K`` = :data:`BATCHES` batches, ``b = floor(W / K)`` days each, the last ``K b``
days of the window; the oldest ``W - K b`` days are left out):

    y_k   = mean of the series over batch k,                              k = 1..K
    d     = mean(y_{K/2+1..K}) - mean(y_{1..K/2})        second half - first half (drift)
    s^2   = sum_k (y_k - a - beta t_k)^2 / (K - 2)       scatter of the batch means about
                                                          their least-squares line, t_k = k
    se(d) = max(s sqrt(4 / K), eps),  eps = 1e-9 max_t |x_t| + 1e-12
    z     = d / se(d);   settled  <=>  |z| <= t_{1 - alpha/2, K - 2}  or  |d| <= tol |y_first|

Batches of ``W / 6`` days (15 at the default 90) make the batch means nearly independent
even when the daily values are strongly autocorrelated, so the t distribution with ``K - 2``
degrees of freedom holds roughly; the scatter is taken about a straight line rather than
about each half's mean so that a steady trend is not counted as noise. Simulated on 20,000
trend-free AR(1) series of 90 days (as in tests/test_settled.py), the share flagged is 4% for
independent days, 5% at lag-1 autocorrelation 0.5, 6% at 0.8, 11% at 0.9 and 19% at 0.95:
autocorrelation longer than a batch makes the test too eager, never too lenient. A series
that does not change, or changes only by rounding (``eps``), is settled; so a metric that is
zero throughout (commerce revenue with commerce off) is never flagged.

The test asks whether the drift is larger than noise, not whether it matters: with many users
the noise is small and a slow drift of 1-2% is flagged. The tolerance ``tol`` (0 by default,
so in summary.json) also counts as settled any drift smaller than that share of the first
half's mean, for choosing a horizon that is settled "to within 2%" (``--tolerance 0.02`` of
``sim settle``).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy import stats

BATCHES = 6  # K: batches of the window, half in each half
ALPHA = 0.05  # two-sided level of the test of each metric
MIN_WINDOW = BATCHES  # days: at least one day a batch
LATER_LIMIT = 0.2  # settling_days: most window ends flagged after a settled stretch
DRIFT_COLUMNS = ("first_half", "second_half", "drift", "relative_drift", "se", "z", "settled")


def critical_z(alpha: float = ALPHA) -> float:
    """``t_{1 - alpha/2, K - 2}``: the largest ``|z|`` of a settled metric (2.78 at 5%)."""
    return float(stats.t.ppf(1.0 - alpha / 2.0, BATCHES - 2))


def drift_statistics(windows: np.ndarray) -> dict[str, np.ndarray]:
    """The test of the module docstring on each row of ``windows`` (``(..., W)`` daily values,
    oldest first, ``W >= 6``): half means, drift ``d``, ``se(d)`` and ``z``, each of shape
    ``windows.shape[:-1]``."""
    x = np.asarray(windows, dtype=float)
    b = x.shape[-1] // BATCHES
    batch = x[..., x.shape[-1] - BATCHES * b :].reshape(*x.shape[:-1], BATCHES, b).mean(axis=-1)
    half = BATCHES // 2
    first, second = batch[..., :half].mean(axis=-1), batch[..., half:].mean(axis=-1)
    d = second - first
    scatter = _scatter_about_line(batch)
    eps = 1e-9 * np.abs(x).max(axis=-1) + 1e-12
    se = np.maximum(np.sqrt(scatter * 4.0 / BATCHES), eps)
    return {"first_half": first, "second_half": second, "drift": d, "se": se, "z": d / se}


def _scatter_about_line(y: np.ndarray) -> np.ndarray:
    """``s^2``: residual variance of a least-squares line through the last axis of ``y``
    against ``t = 1..K``, with ``K - 2`` degrees of freedom."""
    k = y.shape[-1]
    t = np.arange(k) - (k - 1) / 2.0
    centred = y - y.mean(axis=-1, keepdims=True)
    slope = (centred * t).sum(axis=-1) / (t * t).sum()
    residual = centred - slope[..., None] * t
    return (residual**2).sum(axis=-1) / (k - 2)


def is_settled(
    statistics: dict[str, np.ndarray], alpha: float = ALPHA, tolerance: float = 0.0
) -> np.ndarray:
    """``|z| <= critical_z(alpha)`` or ``|d| <= tolerance |first_half|``, elementwise, from
    :func:`drift_statistics` (False where ``z`` is NaN)."""
    d, first = statistics["drift"], statistics["first_half"]
    small = np.abs(d) <= tolerance * np.abs(first)
    return (np.abs(statistics["z"]) <= critical_z(alpha)) | small


def drift(
    frame: pd.DataFrame,
    window: int,
    metrics: Iterable[str],
    *,
    alpha: float = ALPHA,
    tolerance: float = 0.0,
) -> pd.DataFrame:
    """Drift of each of ``metrics`` across the last ``min(window, len(frame))`` rows of the
    daily ``frame``: one row per metric with :data:`DRIFT_COLUMNS`.

    ``drift`` is in the metric's units, ``relative_drift`` is ``drift / |first_half|`` (0 for
    no change, NaN when the first half is 0 and the second is not), ``settled`` is
    :func:`is_settled`. With fewer than :data:`MIN_WINDOW` days nothing can be said:
    every statistic is NaN and ``settled`` is None.
    """
    metrics = list(metrics)
    w = min(int(window), len(frame))
    if w < MIN_WINDOW:
        table = pd.DataFrame(np.nan, index=metrics, columns=list(DRIFT_COLUMNS), dtype=object)
        table["settled"] = None
        return table
    values = frame[metrics].iloc[len(frame) - w :].to_numpy(dtype=float).T  # (metrics, w)
    s = drift_statistics(values)
    table = pd.DataFrame(s, index=metrics)
    table["relative_drift"] = relative(s["drift"], s["first_half"])
    ok = is_settled(s, alpha, tolerance)
    settled = [bool(o) if np.isfinite(z) else None for o, z in zip(ok, s["z"], strict=True)]
    table["settled"] = pd.Series(settled, index=table.index, dtype=object)  # True, False, None
    return table[list(DRIFT_COLUMNS)]


def relative(d: np.ndarray, level: np.ndarray) -> np.ndarray:
    """``d / |level|``: 0 where ``d`` is 0, NaN where only the level is."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(np.abs(level) > 0, d / np.abs(level), np.nan)
    return np.where(d == 0, 0.0, out)


def unsettled(table: pd.DataFrame) -> list[str]:
    """Metrics of a :func:`drift` table whose drift is larger than noise, in table order."""
    return [m for m, ok in table["settled"].items() if ok is False]


def as_json(table: pd.DataFrame) -> dict[str, dict[str, float | bool | None]]:
    """A :func:`drift` table as summary.json holds it: ``{metric: {column: value}}``, NaN as
    None."""
    out = {}
    for metric, row in table.iterrows():
        entry = {}
        for col in DRIFT_COLUMNS:
            v = row[col]
            if col == "settled":
                entry[col] = None if v is None else bool(v)
            else:
                entry[col] = None if v is None or not np.isfinite(v) else float(v)
        out[metric] = entry
    return out


def row_fields(summary: dict) -> dict[str, int | str]:
    """A run's drift as flat columns of runs.parquet: ``unsettled_metrics``, how many summary
    metrics are unsettled, and ``unsettled_names``, their names joined by commas ("" for
    none); nothing for a summary written before summaries were tested."""
    if "unsettled" not in summary:
        return {}
    names = list(summary["unsettled"])
    return {"unsettled_metrics": len(names), "unsettled_names": ",".join(names)}


def settling_days(
    frame: pd.DataFrame,
    window: int,
    metrics: Iterable[str],
    *,
    hold: int | None = None,
    alpha: float = ALPHA,
    tolerance: float = 0.0,
) -> pd.DataFrame:
    """For a run's daily ``frame``, each metric's first day from which a summary over
    ``window`` days would be settled, and stay so.

    Every window end ``e`` (a run of ``e + 1`` days) is tested with :func:`drift_statistics`.
    ``settled_from`` is the first ``e`` such that

    - the windows ending on every day of ``e .. e + hold`` are settled (``hold`` defaults to
      a batch, ``window // 6`` days: a single settled end amid a drift does not count), and
    - at most :data:`LATER_LIMIT` (a fifth) of the window ends after ``e + hold`` are flagged
      again: more than the test's false alarms give by chance, so more means the metric
      drifts again later in the run;

    None if there is no such ``e`` (the metric has not settled within the run). Columns:

    - ``settled_from``: that ``e``; ``e + 1`` is the shortest ``run.days`` with a settled
      summary for this window;
    - ``burn_in``: ``e - window + 1``, the first day of that window (the days before it are
      left out of the summary);
    - ``later_unsettled``: share of the window ends after ``e + hold`` that are flagged (NaN
      when there are none);
    - ``last_unsettled``: the last window end that is flagged (None if none);
    - ``ends``: how many window ends were tested (``len(frame) - window + 1``).

    Neighbouring ends share most of their days, so a false alarm shows as a short stretch of
    flagged ends and the ends of a run are far from independent tests: a long run (several
    times the window after the metric settles) gives a firmer answer. On 730 days of
    trend-free AR(1) noise and a 90-day window, ``settled_from`` is the first possible end (day
    89) in most series; at lag-1 autocorrelation 0.8 it is day 103 or earlier in 90% of them
    and never after 150; at 0.9 after 150 in 5%.
    """
    metrics = list(metrics)
    hold = int(window // BATCHES if hold is None else hold)
    w = int(window)
    rows = {}
    for m in metrics:
        flagged = unsettled_ends(frame[m].to_numpy(dtype=float), w, alpha, tolerance)
        rows[m] = _first_settled(flagged, w, hold) | {"ends": int(flagged.size)}
    columns = ["settled_from", "burn_in", "later_unsettled", "last_unsettled", "ends"]
    return pd.DataFrame.from_dict(rows, orient="index", columns=columns)


def unsettled_ends(
    series: np.ndarray, window: int, alpha: float = ALPHA, tolerance: float = 0.0
) -> np.ndarray:
    """Whether the window of ``window`` days ending on each day ``window - 1 .. n - 1`` of
    ``series`` is flagged by the drift test (a NaN in a window flags it)."""
    if window < MIN_WINDOW or series.size < window:
        return np.zeros(0, dtype=bool)
    windows = np.lib.stride_tricks.sliding_window_view(series, window)
    return ~is_settled(drift_statistics(windows), alpha, tolerance)


def _first_settled(flagged: np.ndarray, window: int, hold: int) -> dict[str, float | None]:
    """:func:`settling_days`' columns from the flags of window ends ``window - 1 ..``."""
    n, span = flagged.size, hold + 1
    bad = np.flatnonzero(flagged)
    last = int(bad[-1]) + window - 1 if bad.size else None
    first, later = None, float("nan")
    if n >= span:
        # i starts span settled ends: no flag in flagged[i : i + span]
        stretch = np.convolve(flagged.astype(int), np.ones(span, int), mode="valid") == 0
        after = np.arange(n - span + 1) + span  # index of the first end after the stretch
        flags_after = np.append(np.cumsum(flagged[::-1])[::-1], 0)[after]
        with np.errstate(invalid="ignore", divide="ignore"):
            share = flags_after / (n - after)
        ok = np.flatnonzero(stretch & ~(share > LATER_LIMIT))  # NaN: nothing after, fine
        if ok.size:
            i = int(ok[0])
            first, later = i + window - 1, float(share[i])
    return {
        "settled_from": first,
        "burn_in": None if first is None else first - window + 1,
        "later_unsettled": later,
        "last_unsettled": last,
    }
