"""The contrasts behind a briefing's page one and its table of claims, each paired by seed.

A contrast says which two sets of numbers are compared for a metric:

- :func:`market`: the intimacy economy against the attention economy. In a transition design
  (companions launch inside the run, the daily series stored) it is the same run in two
  windows of its daily series, a window after the companions' entry against the last days of
  the feeds-only era (:func:`eras`); in a design of market presets it is the companions-only
  market against the feeds-only market, the same seed in both.
- :func:`arm`: one level of a design factor against another (a policy, a regulation), from the
  runs' summaries (the last ``run.summary_window`` days).
- :func:`level`: a metric's own level against zero (does a provider break even?).

:func:`estimate` applies a contrast to a results folder: it keeps the runs that ``where``
names, takes the difference within each seed and each remaining stratum (e.g. each provider
objective), averages the strata within each seed (every stratum weighs the same) and gives the
mean difference over seeds with its Student-t interval (:func:`sim.report.analysis.paired_difference`).
A contrast the design cannot make returns the reason instead: the briefing then says "not
covered by this design" rather than guess.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.model.params import Params
from sim.report import analysis as an

# derived from the daily series where the run's summary comes from spells (sim.model.metrics.LOYALTY)
DERIVED = ("monthly_churn",)


@dataclass(frozen=True)
class Contrast:
    """What is compared: ``kind`` is ``market``, ``arm`` or ``level``; ``window`` (``short`` or
    ``long``) picks the era of a market contrast in a transition design."""

    kind: str
    factor: str | None = None
    level: Any = None
    baseline: Any = None
    window: str = "long"


def market(window: str = "long") -> Contrast:
    """The intimacy economy against the attention economy (``short``: its first months)."""
    return Contrast("market", window=window)


def arm(factor: str, level: Any, baseline: Any) -> Contrast:
    """``factor = level`` against ``factor = baseline``, the same seed in both."""
    return Contrast("arm", factor, level, baseline)


def level() -> Contrast:
    """A metric's level against zero."""
    return Contrast("level")


@dataclass
class Estimate:
    """A contrast applied to the runs: ``pooled`` (the paired statistics over seeds, strata
    averaged within each seed) and ``strata`` (the same per stratum, keyed by its levels), or
    ``missing``, the reason the design cannot make it."""

    pooled: dict[str, Any] | None = None
    strata: dict[tuple, dict[str, Any]] = field(default_factory=dict)
    by: list[str] = field(default_factory=list)
    treated: str = ""
    baseline: str = ""
    source: str = ""
    missing: str = ""

    @property
    def covered(self) -> bool:
        return self.pooled is not None


# -- the eras of a transition -------------------------------------------------------------------
def design_value(results: an.Results, key: str) -> Any:
    """A parameter every run of the design shares, as its ``[base]`` or ``--set`` gives it
    (``--set`` wins), or None when the design leaves it at its default."""
    exp = results.manifest.get("experiment", {})
    value = (results.definition.get("base") or {}).get(key)
    for item in exp.get("set") or []:
        k, _, v = str(item).partition("=")
        if k.strip() == key:
            value = v
    return value


def launch_day(results: an.Results) -> int | None:
    """The companions' launch day the design sets (``[base]`` or ``--set``), or None."""
    value = design_value(results, "market.companion_launch_day")
    return None if value is None else int(float(value))


def eras(results: an.Results) -> dict[str, tuple[int, int]] | None:
    """The windows of a transition design, each ``[start, end)`` in days, or None when the
    design is not one (no daily series, or no launch of companions inside the run).

    ``before``: the last ``w`` days of the feeds-only era; ``short``: the companions' first
    ``w`` days; ``long``: the run's last ``w`` days (the window of the runs' summaries), with
    ``w`` the summary window, at most half of either era so the windows never overlap.
    """
    ts, runs = results.timeseries, results.runs
    launch = launch_day(results)
    if ts is None or launch is None or "days" not in runs:
        return None
    days = int(runs["days"].min())
    if not 0 < launch < days or set(runs["scenario"]) <= {"attention_economy"}:
        return None
    window = design_value(results, "run.summary_window")
    window = int(float(window)) if window is not None else Params().run.summary_window
    w = min(window, launch // 2, (days - launch) // 2)
    if w < 1:
        return None
    return {"before": (launch - w, launch), "short": (launch, launch + w), "long": (days - w, days)}


def era_values(results: an.Results, metric: str, window: tuple[int, int]) -> pd.Series | None:
    """Each run's mean of ``metric`` over the recorded days of ``window`` (indexed by run_id);
    monthly churn from the window's quits over its spells, as the run summary computes it.
    None when the daily series lacks the metric."""
    ts = results.timeseries
    rows = ts[(ts["day"] >= window[0]) & (ts["day"] < window[1])]
    if metric == "monthly_churn":
        spells = [c for c in ts.columns if c.endswith(".users")]
        if "quits" not in ts or not spells:
            return None
        users = results.runs.set_index("run_id")["users"]
        g = rows.assign(exposure=rows[spells].sum(axis=1)).groupby("run_id")
        rate = g["quits"].sum() / (g["exposure"].sum() * users.reindex(g.size().index))
        return 1.0 - (1.0 - rate) ** 30
    if metric not in ts:
        return None
    return rows.groupby("run_id")[metric].mean()


# -- estimates ----------------------------------------------------------------------------------
def _where(runs: pd.DataFrame, results: an.Results, where: dict[str, Any]) -> tuple[Any, str]:
    for col, value in where.items():
        if col not in runs:
            continue  # e.g. no cases: nothing is regulated
        if value not in set(runs[col]):
            if col == "case" and col not in results.factors:
                continue  # the design's only case stands for no regulation
            return None, f"no runs of {an.level_name(col, value)}"
        runs = runs[runs[col] == value]
    return runs, ""


def _pairs(results: an.Results, metric: str, contrast: Contrast, runs: pd.DataFrame):
    """Rows of (seed, strata..., treated, baseline), the strata and the arms' names, or a reason."""
    factors = [f for f in results.factors if f in runs and runs[f].nunique() > 1]
    if contrast.kind == "market":
        windows = eras(results)
        if windows is not None:
            before = era_values(results, metric, windows["before"])
            after = era_values(results, metric, windows[contrast.window])
            if before is None or after is None:
                return None, "it is not in the daily series, so it cannot be split into eras"
            frame = runs[["seed", *factors]].assign(
                treated=runs["run_id"].map(after).to_numpy(float),
                baseline=runs["run_id"].map(before).to_numpy(float),
            )
            # the windows' days are stated once, in the briefing's note on how it is measured
            w, b = windows[contrast.window], windows["before"]
            names = {"short": "the companions' first", "long": "the last"}
            return (
                frame,
                factors,
                f"{names[contrast.window]} {w[1] - w[0]} days",
                f"the {b[1] - b[0]} days before the companions (feeds only)",
                "the daily series of each run",
            ), ""
        if contrast.window != "long":
            return None, "the companions' first months need a transition design"
        if not {"intimacy_economy", "attention_economy"} <= set(runs.get("scenario", [])):
            return (
                None,
                "no companion launch inside the runs and no feeds-only against companions-only markets",
            )
        contrast = arm("scenario", "intimacy_economy", "attention_economy")
    if metric not in runs or runs[metric].isna().all():
        return None, f"the runs' summaries have no {an.label(metric)}"
    if contrast.kind == "level":
        frame = runs[["seed", *factors]].assign(treated=runs[metric], baseline=0.0)
        return (frame, factors, "level", "zero", "the runs' summaries"), ""
    f = contrast.factor
    levels = set(runs[f]) if f in runs else set()
    if f not in results.factors or not {contrast.level, contrast.baseline} <= levels:
        need = " and ".join(an.level_name(f, v) for v in (contrast.level, contrast.baseline))
        return None, f"no runs of {need}"
    strata = [c for c in factors if c != f]
    keys = ["seed", *strata]
    t = runs[runs[f] == contrast.level][[*keys, metric]]
    b = runs[runs[f] == contrast.baseline][[*keys, metric]]
    frame = t.merge(b, on=keys, suffixes=("", "@base")).rename(
        columns={metric: "treated", f"{metric}@base": "baseline"}
    )
    the = "the " if f == "scenario" else ""  # "in the companions-only market"
    return (
        frame,
        strata,
        the + an.level_name(f, contrast.level),
        the + an.level_name(f, contrast.baseline),
        "the runs' summaries",
    ), ""


def estimate(
    results: an.Results, metric: str, contrast: Contrast, where: dict[str, Any] | None = None
) -> Estimate:
    """``contrast`` applied to ``metric`` in the runs ``where`` names (factor -> level)."""
    runs, why = _where(results.runs, results, where or {})
    if runs is None:
        return Estimate(missing=why)
    if runs.empty:
        return Estimate(missing="no runs")
    made, why = _pairs(results, metric, contrast, runs)
    if made is None:
        return Estimate(missing=why)
    frame, strata, treated, baseline, source = made
    frame = frame[np.isfinite(frame["treated"]) & np.isfinite(frame["baseline"])]
    if frame.empty:
        return Estimate(missing=f"{an.label(metric)} is undefined in these runs")
    if strata:  # keep the seeds every stratum has, so each seed's average weighs them alike
        complete = frame.groupby("seed")["treated"].size() == frame.groupby(strata).ngroups
        frame = frame[frame["seed"].map(complete)]
    per_seed = frame.groupby("seed")[["treated", "baseline"]].mean()
    pooled = an.paired_difference(per_seed["baseline"], per_seed["treated"])
    by_stratum = {}
    if strata:
        for key, g in frame.groupby(strata, sort=False):
            key = key if isinstance(key, tuple) else (key,)
            by_stratum[key] = an.paired_difference(g["baseline"], g["treated"])
    return Estimate(pooled, by_stratum, strata, treated, baseline, source)


# -- verdicts -----------------------------------------------------------------------------------
REPRODUCED, CONTRADICTED, UNSETTLED, UNCOVERED = (
    "reproduced",
    "contradicted",
    "not settled by the runs",
    "not covered by this design",
)


def verdict(est: Estimate, sign: int) -> str:
    """The one rule for every claim: reproduced when the 95% interval of the paired difference
    lies wholly on the expected side of zero, contradicted when it lies wholly on the other,
    not settled when it includes zero (or there is no interval), not covered when the design
    cannot make the contrast."""
    if not est.covered:
        return UNCOVERED
    p = est.pooled
    if p["n"] < 2 or not p["clear"] or not math.isfinite(p["difference"]):
        return UNSETTLED
    return REPRODUCED if p["difference"] * sign > 0 else CONTRADICTED
