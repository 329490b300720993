"""Analysis of stored results: tidy tables, paired comparisons, bands and sensitivity indices.

Everything here reads a results folder written by ``sim sweep`` (or a run folder written by
``sim run``) and returns pandas DataFrames a notebook can show. Runs of different design points
with the same seed are paired (common random numbers, ODD 5), so a policy comparison
is the mean of per-seed differences with a Student-t interval on n - 1 degrees of freedom.

    >>> res = load("results/headline")
    >>> compare(res.runs, "policy", "attention", within=["scenario"])      # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.model import settling
from sim.model.metrics import DAILY, LOYALTY, SUMMARY_FROM_DAILY
from sim.model.params import ParamError
from sim.report.labels import (  # noqa: F401 - the names notebooks use as an.label, an.FAMILIES ...
    CATEGORICAL,
    FAMILIES,
    KEY_METRICS,
    LABELS,
    POLICY_NAMES,
    SCENARIO_NAMES,
    WELLBEING_UNIT,
    WELLBEING_WORDS,
    bounds,
    difference_unit,
    is_share,
    label,
    labelled,
    level_name,
    param_label,
    scale,
    unit,
)
from sim.report.sensitivity import sensitivity  # noqa: F401


# -- loading ------------------------------------------------------------------------------------
@dataclass
class Results:
    """A results folder in memory.

    Attributes:
        path: the folder.
        manifest: ``manifest.json`` (for a run folder, a manifest made from ``summary.json``).
        runs: one row per succeeded run: identifiers, design columns, seed, summary metrics.
        failed: rows of runs that failed (empty when none did).
        timeseries: run x day, with ``run_id``; None when the sweep recorded none.
        factors: design columns that vary between runs (scenario, policy, case, grid parameters).
        sampled: parameters of a sampled design (``[sample]``), empty otherwise.
        metrics: summary metric columns of ``runs``.
    """

    path: Path
    manifest: dict[str, Any]
    runs: pd.DataFrame
    failed: pd.DataFrame
    timeseries: pd.DataFrame | None
    factors: list[str]
    sampled: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.manifest.get("experiment", {}).get("name", self.path.name))

    @property
    def definition(self) -> dict[str, Any]:
        return self.manifest.get("experiment", {}).get("definition", {})

    def panel(self) -> pd.DataFrame | None:
        """The per-user panel (read on demand: it can be large), or None if not recorded."""
        path = self.path / "panel.parquet"
        if not path.is_file():
            return None
        panel = pd.read_parquet(path)
        if "run_id" not in panel:  # a run folder's panel holds one run
            panel.insert(0, "run_id", self.runs["run_id"].iloc[0])
        return panel


def load(path: str | Path) -> Results:
    """Read a results folder (``sim sweep``) or a run folder (``sim run``).

    Raises:
        ParamError: the folder does not exist or holds neither kind of results.
    """
    path = Path(path)
    if not path.is_dir():
        raise ParamError(f"results folder {path} does not exist")
    if (path / "summary.json").is_file() and not (path / "runs.parquet").is_file():
        return _load_run_folder(path)
    if not (path / "runs.parquet").is_file():
        hint = (
            " (the sweep has not finished: consolidate it with --resume)"
            if (path / "parts").is_dir()
            else ""
        )
        raise ParamError(f"{path} is not a results folder: it has no runs.parquet{hint}")
    manifest = (
        json.loads((path / "manifest.json").read_text())
        if (path / "manifest.json").is_file()
        else {}
    )
    runs = pd.read_parquet(path / "runs.parquet")
    ok = runs["status"] == "ok" if "status" in runs else pd.Series(True, index=runs.index)
    ts_path = path / "timeseries.parquet"
    timeseries = pd.read_parquet(ts_path) if ts_path.is_file() else None
    if timeseries is not None:
        timeseries = timeseries[timeseries["run_id"].isin(runs.loc[ok, "run_id"])]
    return _results(
        path,
        manifest,
        runs[ok].reset_index(drop=True),
        runs[~ok].reset_index(drop=True),
        timeseries,
    )


def _load_run_folder(path: Path) -> Results:
    summary = json.loads((path / "summary.json").read_text())
    row = {
        "run_id": path.name,
        "label": path.name,
        "point": 0,
        "replication": 0,
        "status": "ok",
        **{k: v for k, v in summary.items() if k not in ("drift", "unsettled")},
        **settling.row_fields(summary),  # as a sweep's runs.parquet has them
    }
    runs = pd.DataFrame([row])
    ts = (
        pd.read_parquet(path / "timeseries.parquet")
        if (path / "timeseries.parquet").is_file()
        else None
    )
    if ts is not None:
        ts.insert(0, "run_id", path.name)
    from sim.report.runinfo import run_folder_parameters

    used = run_folder_parameters(path, summary)
    n_iv, n_changed = len(used["interventions"]), len(used["changed"])
    manifest = {
        "experiment": {
            "name": path.name,
            "description": f"A single run of the {SCENARIO_NAMES.get(summary.get('scenario'), summary.get('scenario'))}, "
            f"provider objectives: {POLICY_NAMES.get(str(summary.get('policy')), summary.get('policy'))}; "
            f"{summary.get('users', 0):,} users over {summary.get('days', 0):,} days, with "
            f"{n_iv} intervention{'s' * (n_iv != 1)} and {n_changed} parameter{'s' * (n_changed != 1)} "
            "changed from the defaults.",
        },
        "run_parameters": used,
        "version": summary.get("version"),
        "git_sha": summary.get("git_sha"),
        "git_dirty": summary.get("git_dirty"),
        "seeds": [summary.get("seed")],
        "runs_total": 1,
    }
    return _results(path, manifest, runs, runs.iloc[:0], ts)


def _results(path, manifest, runs, failed, timeseries) -> Results:
    definition = manifest.get("experiment", {}).get("definition") or {}
    grid = [k for k in (definition.get("grid") or {}) if k not in ("scenario", "policy")]
    grid += [p for c in definition.get("cases") or [] for p in c.get("set", {})]
    grid = list(dict.fromkeys(grid))  # a path several cases set is one factor
    sampled = list((definition.get("sample") or {}).get("ranges") or {})
    candidates = [*CATEGORICAL, *grid]
    factors = [c for c in candidates if c in runs and runs[c].nunique(dropna=False) > 1]
    metrics = [m for m in [*SUMMARY_FROM_DAILY, *LOYALTY] if m in runs]
    return Results(path, manifest, runs, failed, timeseries, factors, sampled, metrics)


def tidy_runs(results: Results, metrics: list[str] | None = None) -> pd.DataFrame:
    """Run summaries in long form: identifiers and design columns, then ``metric``, ``value``."""
    metrics = metrics or results.metrics
    ids = [
        c
        for c in [
            "run_id",
            "label",
            "point",
            "replication",
            "seed",
            *results.factors,
            *results.sampled,
            "sample",
        ]
        if c in results.runs
    ]
    return results.runs.melt(
        id_vars=list(dict.fromkeys(ids)), value_vars=metrics, var_name="metric", value_name="value"
    )


def tidy_timeseries(results: Results, metrics: list[str] | None = None) -> pd.DataFrame:
    """Daily series in long form, with each run's design columns: ``day``, ``metric``, ``value``."""
    if results.timeseries is None:
        raise ParamError(
            f"{results.path} holds no time series (the experiment's [record] timeseries = false)"
        )
    metrics = metrics or [m for m in DAILY if m in results.timeseries]
    ids = [c for c in ["run_id", "seed", *results.factors, "sample"] if c in results.runs]
    frame = results.timeseries[["run_id", "day", *metrics]].merge(results.runs[ids], on="run_id")
    return frame.melt(
        id_vars=[*ids, "day"], value_vars=metrics, var_name="metric", value_name="value"
    )


# -- statistics ---------------------------------------------------------------------------------
def t_interval(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean of ``values`` and its Student-t interval (n - 1 degrees of freedom); NaN when n < 2."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if x.size < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + confidence / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return mean, mean - half, mean + half


def paired_difference(baseline, treatment, confidence: float = 0.95) -> dict[str, float | bool]:
    """Treatment minus baseline, paired element by element (the same seed in both).

    Args:
        baseline: one value per seed under the baseline.
        treatment: the values of the same seeds, in the same order, under the treatment.
        confidence: the interval's coverage.

    Returns:
        ``n`` (pairs with both values finite), the two means, ``difference`` (mean of the
        per-seed differences), ``sd`` (their standard deviation, ddof 1), ``se``, ``ci_low``,
        ``ci_high`` (Student t, n - 1 df), ``t``, ``p_value`` (two-sided), ``effect_size``
        (difference / sd, Cohen's d_z), ``relative`` (difference / baseline mean) with its
        interval, and ``clear`` (the interval excludes 0).
    """
    b, t = np.asarray(baseline, dtype=float), np.asarray(treatment, dtype=float)
    if b.shape != t.shape:
        raise ValueError(f"baseline has {b.size} values and treatment {t.size}: they must pair")
    keep = np.isfinite(b) & np.isfinite(t)
    b, t = b[keep], t[keep]
    d = t - b
    n = int(d.size)
    mean, lo, hi = t_interval(d, confidence)
    sd = float(d.std(ddof=1)) if n > 1 else math.nan
    se = sd / math.sqrt(n) if n > 1 else math.nan
    if n > 1 and sd > 0:
        tstat = mean / se
        p = float(2 * stats.t.sf(abs(tstat), n - 1))
        size = mean / sd
    elif n > 1:  # identical differences: no spread, the interval is a point
        tstat = math.copysign(math.inf, mean) if mean else 0.0
        p = 0.0 if mean else 1.0
        size = math.copysign(math.inf, mean) if mean else 0.0
    else:
        tstat = p = size = math.nan
    base_mean = float(b.mean()) if n else math.nan
    rel = lambda x: x / base_mean if base_mean else math.nan  # noqa: E731
    clear = bool(n > 1 and (lo > 0 or hi < 0))
    return {
        "n": n,
        "baseline_mean": base_mean,
        "treatment_mean": float(t.mean()) if n else math.nan,
        "difference": mean,
        "sd": sd,
        "se": se,
        "ci_low": lo,
        "ci_high": hi,
        "t": tstat,
        "p_value": p,
        "effect_size": size,
        "relative": rel(mean),
        "relative_ci_low": rel(lo),
        "relative_ci_high": rel(hi),
        "clear": clear,
    }


def compare(
    runs: pd.DataFrame,
    factor: str,
    baseline: Any,
    metrics: list[str] | None = None,
    *,
    within: list[str] | None = None,
    pair_on: list[str] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Every level of ``factor`` against ``baseline``, as paired differences across seeds.

    Args:
        runs: one row per run (``Results.runs``).
        factor: the column whose levels are compared (``policy``, ``case``, ``scenario`` ...).
        baseline: the level the others are compared with.
        metrics: summary metrics; the key metric of each family by default.
        within: columns to compare within (one set of rows per combination, e.g. ``scenario``).
        pair_on: columns that pair a treatment run with its baseline run: ``seed``, and
            ``sample`` in a sampled design (differences are then averaged over the sample).
        confidence: the intervals' coverage.

    Returns:
        One row per (within..., level, metric): the columns of :func:`paired_difference`,
        plus ``factor``, ``baseline`` and ``level``.

    Raises:
        ParamError: no run has the baseline level, or runs do not pair one to one.
    """
    within = list(within or [])
    metrics = metrics or [m for m in KEY_METRICS.values() if m in runs]
    pair_on = list(pair_on or ["seed", *(["sample"] if "sample" in runs else [])])
    keys = [*within, *pair_on]
    if factor not in runs:
        raise ParamError(f"no column {factor!r} to compare: columns are {', '.join(runs.columns)}")
    levels = list(dict.fromkeys(runs[factor]))
    if baseline not in levels:
        raise ParamError(
            f"no runs with {factor} = {baseline!r}: levels are {', '.join(map(str, levels))}"
        )
    for level in levels:
        sub = runs[runs[factor] == level]
        if sub.duplicated(keys).any():
            other = [
                c
                for c in [*CATEGORICAL, "label"]
                if c in runs
                and c not in (factor, *keys)
                and sub.groupby(keys)[c].nunique().gt(1).any()
            ]
            hint = f"; add {other[0]!r} to within" if other else ""
            raise ParamError(
                f"runs with {factor} = {level!r} do not pair one to one on {', '.join(keys)}{hint}"
            )
    base = runs[runs[factor] == baseline]
    rows = []
    for level in levels:
        if level == baseline:
            continue
        merged = runs[runs[factor] == level].merge(base, on=keys, suffixes=("", "@base"))
        groups = merged.groupby(within, sort=False, dropna=False) if within else [((), merged)]
        for values, g in groups:
            values = values if isinstance(values, tuple) else (values,)
            for m in metrics:
                stats_ = paired_difference(g[f"{m}@base"], g[m], confidence)
                rows.append(
                    {
                        **dict(zip(within, values, strict=True)),
                        "factor": factor,
                        "baseline": baseline,
                        "level": level,
                        "metric": m,
                        **stats_,
                    }
                )
    return pd.DataFrame(rows)


def default_comparison(results: Results) -> dict[str, Any] | None:
    """The natural comparison of a design, or None when it has nothing to compare.

    Cases against the first case; else policies against ``attention`` (the essay's status quo);
    else markets against the first; else every grid point against the first. Other categorical
    factors become ``within``.
    """
    runs, factors = results.runs, results.factors
    grid = [f for f in factors if f not in CATEGORICAL]
    for factor in ("case", "policy", "scenario"):
        if factor in factors:
            levels = list(dict.fromkeys(runs[factor]))
            base = "attention" if factor == "policy" and "attention" in levels else levels[0]
            # a factor fixed by each level (a parameter the cases set) is part of the level
            within = [f for f in factors if f != factor and not _nested(runs, f, factor)]
            return {"factor": factor, "baseline": base, "within": within}
    if grid:
        return {
            "factor": "label",
            "baseline": runs.sort_values("point")["label"].iloc[0],
            "within": [],
        }
    return None


def comparison_spec(
    results: Results, factor: str | None = None, baseline: str | None = None
) -> dict[str, Any] | None:
    """The comparison a briefing makes: ``factor``'s levels against ``baseline``, within every
    other factor of the design; the natural one (:func:`default_comparison`) for what is not
    given. ``sim brief --factor scenario --baseline attention_economy`` compares markets, each
    policy against itself.

    Raises:
        ParamError: the design does not vary ``factor``, or has no level ``baseline``.
    """
    if factor is None and baseline is None:
        return default_comparison(results)
    runs = results.runs
    if factor is None:
        spec = default_comparison(results)
        if spec is None:
            raise ParamError(
                f"--baseline {baseline}: {results.path} has nothing to compare (one design point)"
            )
        factor = spec["factor"]
    allowed = [*results.factors, *(["label"] if runs["label"].nunique() > 1 else [])]
    if factor not in allowed:
        raise ParamError(
            f"--factor {factor}: the design of {results.path} varies "
            f"{', '.join(allowed) if allowed else 'nothing'}"
        )
    levels = list(dict.fromkeys(runs[factor]))
    if baseline is None:
        base = "attention" if factor == "policy" and "attention" in levels else levels[0]
    else:
        matches = [lv for lv in levels if str(lv) == baseline or _same_number(lv, baseline)]
        if not matches:
            raise ParamError(f"--baseline {baseline}: {factor} takes {', '.join(map(str, levels))}")
        base = matches[0]
    within = [] if factor == "label" else [f for f in results.factors if f != factor]
    return {"factor": factor, "baseline": base, "within": within}


def _same_number(level: Any, text: str) -> bool:
    try:
        return isinstance(level, int | float) and float(text) == float(level)
    except ValueError:
        return False


def _nested(runs: pd.DataFrame, inner: str, outer: str) -> bool:
    """Whether ``inner`` takes one value in each level of ``outer``."""
    return bool(runs.groupby(outer, dropna=False)[inner].nunique(dropna=False).le(1).all())


def summarise(
    runs: pd.DataFrame, by: list[str], metrics: list[str], confidence: float = 0.95
) -> pd.DataFrame:
    """Mean of each metric over replications, per group, with its t interval (long form)."""
    rows = []
    groups = runs.groupby(by, sort=False, dropna=False) if by else [((), runs)]
    for values, g in groups:
        values = values if isinstance(values, tuple) else (values,)
        for m in metrics:
            mean, lo, hi = t_interval(g[m], confidence)
            rows.append(
                {
                    **dict(zip(by, values, strict=True)),
                    "metric": m,
                    "n": int(g[m].notna().sum()),
                    "mean": mean,
                    "sd": float(g[m].std(ddof=1)) if len(g) > 1 else math.nan,
                    "ci_low": lo,
                    "ci_high": hi,
                }
            )
    return pd.DataFrame(rows)


def bands(
    results: Results, metrics: list[str], by: list[str] | None = None, confidence: float = 0.95
) -> pd.DataFrame:
    """Daily series summarised across replications: per group and day, the mean with its t
    interval (``ci_low``, ``ci_high``) and the 10th and 90th percentiles of the runs."""
    by = results.factors if by is None else by
    long = tidy_timeseries(results, metrics)
    g = long.groupby([*by, "metric", "day"], sort=False, dropna=False)["value"]
    out = g.agg(n="count", mean="mean", sd="std").reset_index()
    out["p10"] = g.quantile(0.1).to_numpy()
    out["p90"] = g.quantile(0.9).to_numpy()
    mult = stats.t.ppf(0.5 + confidence / 2, np.maximum(out["n"] - 1, 1))
    half = np.where(out["n"] > 1, mult * out["sd"] / np.sqrt(out["n"]), np.nan)
    out["ci_low"], out["ci_high"] = out["mean"] - half, out["mean"] + half
    return out


def frontier(points: pd.DataFrame, x: str, y: str) -> pd.Series:
    """Whether each point is on the frontier where neither ``x`` nor ``y`` can rise without the
    other falling (Pareto, both maximised)."""
    xs, ys = points[x].to_numpy(float), points[y].to_numpy(float)
    on = [
        not np.any((xs >= xi) & (ys >= yi) & ((xs > xi) | (ys > yi)))
        for xi, yi in zip(xs, ys, strict=True)
    ]
    return pd.Series(on, index=points.index, name="frontier")


# -- panel and validation -----------------------------------------------------------------------
def user_types(results: Results, day: int | None = None) -> pd.DataFrame | None:
    """Per-user wellbeing and loneliness on one panel day (the last by default), each user typed
    by baseline loneliness and self-control (above or below the panel's median of each trait).
    None when the sweep recorded no panel."""
    panel = results.panel()
    if panel is None:
        return None
    day = int(panel["day"].max()) if day is None else day
    p = panel[panel["day"] == day]
    lonely = np.where(
        p["loneliness_baseline"] >= p["loneliness_baseline"].median(), "lonely", "not lonely"
    )
    control = np.where(
        p["self_control"] >= p["self_control"].median(), "high self-control", "low self-control"
    )
    ids = [c for c in ["run_id", "seed", *results.factors] if c in results.runs]
    out = p[["run_id", "user", "wellbeing", "loneliness"]].assign(
        user_type=pd.Series(lonely, index=p.index) + ", " + control, day=day
    )
    return out.merge(results.runs[ids], on="run_id")


def arm_gaps(
    results: Results,
    arm: str,
    metric: str,
    windows: dict[str, tuple[int, int]],
    reference: tuple[int, int] | None = None,
) -> pd.DataFrame:
    """An intervention's effect per run: the gap between its treated and its control arm in
    ``metric`` (``arm.{arm}.treated.{metric}`` less ``arm.{arm}.control.{metric}``, ODD 7.14),
    the mean over the days ``[a, b)`` of each window; with ``reference`` (days ``[a, b)``,
    before treatment), less the gap over it: a difference in differences, which takes out
    what the randomised arms differed by before treatment. Returns one row per run and window
    with ``gap``, the arms' sizes on the reference's (else the window's) first day
    (``treated_users``, ``control_users``, from the ``users`` arm metric, NaN without it) and
    the runs' seed and factors. Pair two design points by seed with :func:`paired_difference`.

    Raises:
        ParamError: the results hold no series for the arm and metric.
    """
    ts = results.timeseries
    columns = [f"arm.{arm}.{side}.{metric}" for side in ("treated", "control")]
    if ts is None or not set(columns) <= set(ts.columns):
        raise ParamError(f"{results.path} holds no daily series {columns[0]} and {columns[1]}")
    ts = ts.assign(gap=ts[columns[0]] - ts[columns[1]])

    def mean_gap(a: int, b: int) -> pd.Series:
        return ts[(ts["day"] >= a) & (ts["day"] < b)].groupby("run_id")["gap"].mean()

    def size(side: str, day: int) -> pd.Series:
        column = f"arm.{arm}.{side}.users"
        if column not in ts:
            return pd.Series(np.nan, index=ts["run_id"].unique())
        return ts[ts["day"] == day].set_index("run_id")[column]

    base = mean_gap(*reference) if reference else 0.0
    rows = []
    for name, (a, b) in windows.items():
        first = reference[0] if reference else a
        rows.append(
            pd.DataFrame(
                {
                    "window": name,
                    "gap": mean_gap(a, b) - base,
                    "treated_users": size("treated", first),
                    "control_users": size("control", first),
                }
            ).rename_axis("run_id")
        )
    ids = [c for c in ["run_id", "seed", *results.factors] if c in results.runs]
    return pd.concat(rows).reset_index().merge(results.runs[ids], on="run_id")


TENURE_BANDS = (0, 90, 365)  # days: a new, a settled and a long relationship


def switching_by_tenure(
    results: Results,
    source: str,
    rival: str,
    start: int,
    end: int,
    bands: tuple[int, ...] = TENURE_BANDS,
    subscribers: bool = True,
) -> pd.DataFrame:
    """Who moved from ``source`` to ``rival`` between two panel days, by the tenure of their
    relationship with ``source`` on day ``start`` (ODD 7.11: what a companion knows of a user
    and the attachment built do not travel to a rival, so the longer the relationship, the more
    leaving gives up).

    Among users of ``source`` on day ``start`` (its subscribers only, with ``subscribers``),
    the share who on day ``end`` use ``rival`` and no longer ``source``, per run and tenure
    band (``bands`` are the bands' lower edges in days). Returns one row per run and band with
    ``band`` (e.g. "90-364 days"), ``users`` (at risk) and ``switched`` (share), and the runs'
    seed and factors.

    Raises:
        ParamError: the results hold no panel, or not on both days, or not for both providers.
    """
    panel = results.panel()
    if panel is None:
        raise ParamError(f"{results.path} has no per-user panel: record one ([record] panel)")
    for day in (start, end):
        if not (panel["day"] == day).any():
            days = ", ".join(str(d) for d in sorted(panel["day"].unique()))
            raise ParamError(f"the panel has no day {day}: it holds days {days}")
    for name in (source, rival):
        if f"{name}.tenure" not in panel:
            raise ParamError(f"the panel has no provider {name!r} with tenure recorded")
    keys = ["run_id", "user"]
    before = panel.loc[panel["day"] == start, [*keys, f"{source}.tenure", f"{source}.subscribed"]]
    after = panel.loc[panel["day"] == end, [*keys, f"{source}.adopted", f"{rival}.adopted"]]
    at_risk = before[before[f"{source}.tenure"] >= 0]
    if subscribers:
        at_risk = at_risk[at_risk[f"{source}.subscribed"].astype(bool)]
    m = at_risk.merge(after, on=keys)
    m["moved"] = m[f"{rival}.adopted"].astype(bool) & ~m[f"{source}.adopted"].astype(bool)
    edges = [*bands, np.inf]
    names = [
        f"{a}+ days" if math.isinf(b) else f"{a}-{b - 1} days"
        for a, b in zip(edges[:-1], edges[1:], strict=True)
    ]
    m["band"] = pd.cut(m[f"{source}.tenure"], edges, right=False, labels=names)
    out = (
        m.groupby(["run_id", "band"], observed=False)["moved"]
        .agg(users="size", switched="mean")
        .reset_index()
    )
    ids = [c for c in ["run_id", "seed", *results.factors] if c in results.runs]
    return out.merge(results.runs[ids], on="run_id")


def find_scorecard(results_dir: str | Path) -> Path | None:
    """``validation.json`` in a results folder, in its ``validation/`` subfolder, or None."""
    for candidate in (
        Path(results_dir) / "validation.json",
        Path(results_dir) / "validation" / "validation.json",
    ):
        if candidate.is_file():
            return candidate
    return None


def scorecard(path: str | Path) -> pd.DataFrame:
    """The validation scorecard (``sim validate``'s validation.json) as a DataFrame; the record's
    other fields (quick, ablate, passed, too_uncertain, findings, created, git_sha) are in
    ``.attrs``."""
    path = Path(path)
    try:
        record = json.loads(path.read_text())
        rows = record["scorecard"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ParamError(
            f"{path} is not a validation record (sim validate's validation.json): {e}"
        ) from None
    frame = pd.DataFrame(rows)
    frame.attrs.update(
        {
            k: record.get(k)
            for k in (
                "quick",
                "ablate",
                "passed",
                "too_uncertain",
                "findings",
                "created",
                "git_sha",
                "version",
            )
        }
    )
    return frame
