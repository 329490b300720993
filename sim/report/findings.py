"""Findings in words: numbers from paired comparisons written as sentences, and the table of
policy options (:mod:`sim.report.brief` lays them out).

A difference whose 95% interval includes zero is always worded as no clear effect, never as an
effect. Shares are given in percentage points, money in dollars per user per day, time in
minutes per user per day; decimals follow the width of the interval.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from sim.model.params import ParamError
from sim.report import analysis as an

MAX_FINDINGS = 5


# -- numbers in words ---------------------------------------------------------------------------
def _decimals(metric: str, half: float, value: float, *others: float) -> int:
    """Decimals that resolve the interval's half-width; more if a shown number would read as
    a signed zero (``-0.0``)."""
    scale = 100.0 if an.is_share(metric) else 1.0
    step = (
        half * scale
        if np.isfinite(half) and half > 0
        else abs(value * scale) / 10
        if np.isfinite(value)
        else 1.0
    )
    step = step or 1.0
    d = int(np.clip(np.ceil(-np.log10(step)), 0, 4))
    d = max(d, 2) if an.unit(metric).startswith("$") else d
    shown = [x * scale for x in (value, *others) if np.isfinite(x) and x != 0]
    if any(round(x, d) == 0 for x in shown):
        d += 1  # one more decimal, so a bound just below zero is not shown as a bare zero
    return min(d, 4)


def amount(metric: str, value: float, decimals: int, signed: bool = False) -> str:
    """A value of ``metric`` in words: ``0.158 points on the 0-2 wellbeing score``, ``$0.29 per user per day``,
    ``7.1 percentage points``, ``4.7 minutes per user per day``."""
    sign = "+" if signed and value > 0 else ""
    unit = an.unit(metric)
    if an.is_share(metric):
        return f"{sign}{value * 100:.{decimals}f} percentage points"
    if unit.startswith("$"):
        return f"{'-' if value < 0 else sign}${abs(value):.{decimals}f} per user per day"
    if unit.startswith("min"):
        return f"{sign}{value:.{decimals}f} minutes per user per day"
    words = {an.WELLBEING_UNIT: "points on the 0-2 wellbeing score", "0-1": "points (0-1 scale)"}
    return f"{sign}{value:.{decimals}f} {words.get(unit, unit)}"


def _bare(metric: str, value: float, decimals: int) -> str:
    if not np.isfinite(value):
        return "n/a"
    return f"{value * 100 if an.is_share(metric) else value:.{decimals}f}"


def _where(row: pd.Series, within: list[str]) -> str:
    parts = []
    for c in within:
        v = row[c]
        if c == "scenario":
            parts.append(f"in the {an.level_name(c, v)}")
        elif c == "policy":
            parts.append(f"with {an.level_name(c, v)} providers")
        elif c == "case":
            parts.append(f"with {an.level_name(c, v)}")
        else:
            parts.append(f"at {an.level_name(c, v)}")
    return " ".join(parts)


def arm(factor: str, level: Any) -> str:
    """How a level reads after a verb: ``under the wellbeing-aligned policy``."""
    name = an.level_name(factor, level)
    if factor == "policy":
        return f"under the {name} {'policy' if '(' not in name else ''}".rstrip()
    if factor == "scenario":
        return f"in the {name}"
    if factor in ("case", "label"):
        return f"with {name}" if factor == "case" else f"at {name}"
    return f"at {name}"


def subject(factor: str, level: Any) -> str:
    """A level as the subject of a sentence: ``the wellbeing-aligned policy``, ``lockdown``."""
    name = an.level_name(factor, level)
    if factor == "policy":
        return f"the {name}" if "(" in name else f"the {name} policy"
    return f"the {name}" if factor == "scenario" else name


def sentence(row: pd.Series, within: list[str]) -> str:
    """One comparison as a sentence; an interval that includes zero reads as no clear effect."""
    m, factor = row["metric"], row["factor"]
    half = (row["ci_high"] - row["ci_low"]) / 2
    d = _decimals(m, half, row["difference"], row["ci_low"], row["ci_high"])
    where = _where(row, within)
    lead = f"{where[0].upper()}{where[1:]}, " if where else ""
    seeds = f"{int(row['n'])} paired seed{'s' * (row['n'] != 1)}"
    level, base = arm(factor, row["level"]), arm(factor, row["baseline"])
    if not row["clear"]:
        ci = (
            f"95% CI {_bare(m, row['ci_low'], d)} to {_bare(m, row['ci_high'], d)}, which includes zero"
            if np.isfinite(row["ci_low"])
            else "no interval: a single seed"
        )
        text = (
            f"{subject(factor, row['level'])} has no clear effect on {an.label(m)} relative to "
            f"{subject(factor, row['baseline'])}: the difference is "
            f"{amount(m, row['difference'], d, signed=True)} ({ci}; {seeds})"
        )
        return f"{lead}{text}." if lead else f"{text[0].upper()}{text[1:]}."
    direction = "higher" if row["difference"] > 0 else "lower"
    rel = ""
    if np.isfinite(row["relative"]) and abs(row["baseline_mean"]) > 1e-12:
        pct = abs(row["relative"]) * 100
        rel = f" ({pct:.0f}%)" if pct >= 10 else f" ({pct:.1f}%)" if pct >= 1 else f" ({pct:.2g}%)"
    lo, hi = sorted([abs(row["ci_low"]), abs(row["ci_high"])])
    text = (
        f"{an.label(m)} is {amount(m, abs(row['difference']), d)}{rel} {direction} {level} than {base} "
        f"(95% CI {_bare(m, lo, d)} to {_bare(m, hi, d)} {direction}; {seeds})"
    )
    return f"{lead}{text}." if lead else f"{text[0].upper()}{text[1:]}."


def key_findings(
    comparison: pd.DataFrame, within: list[str], limit: int = MAX_FINDINGS
) -> list[dict[str, Any]]:
    """Three to five findings, ranked by what matters to a reader: the size of the difference in
    the metric's own units (minutes, dollars, percentage points, points of the wellbeing score),
    compared only within a metric family, never across units and never by standardised size
    alone.

    Clear effects come first: the largest of each family in the families' order (engagement,
    loyalty, wellbeing, revenue), then the second largest of each, and so on; differences whose
    interval includes zero fill the list up to three, largest first.
    """
    if comparison.empty or "n" not in comparison:  # no pairs to compare
        return []
    comparison = comparison[
        (comparison["n"] > 0) & np.isfinite(comparison["difference"].astype(float))
    ]  # a metric undefined in every run (retention in a short run)
    if comparison.empty:
        return []
    family = {m: f for f, ms in an.FAMILIES.items() for m in ms}
    order = {f: i for i, f in enumerate(an.FAMILIES)}
    c = comparison.assign(
        size=(comparison["difference"].abs() * comparison["metric"].map(an.scale)).astype(float),
        family=comparison["metric"].map(lambda m: family.get(m, "other")),
    )
    c["family_order"] = c["family"].map(lambda f: order.get(f, len(order)))
    c = c.sort_values(["family_order", "size"], ascending=[True, False], kind="stable")
    clear = c[c["clear"].astype(bool)].copy()
    clear["round"] = clear.groupby("family").cumcount()
    picked = clear.sort_values(["round", "family_order"], kind="stable").head(limit)
    if len(picked) < 3:
        rest = c[~c["clear"].astype(bool)].sort_values("size", ascending=False, kind="stable")
        picked = pd.concat([picked, rest.head(3 - len(picked))])
    return [
        {
            "text": sentence(r, within),
            "clear": bool(r["clear"]),
            "metric": r["metric"],
            "effect_size": float(r["effect_size"]),
        }
        for _, r in picked.iterrows()
    ]


def level_findings(results: an.Results) -> list[dict[str, Any]]:
    """Findings for a design with nothing to compare: each family's key metric with its CI."""
    out = []
    for metric in an.KEY_METRICS.values():
        if metric not in results.runs:
            continue
        mean, lo, hi = an.t_interval(results.runs[metric])
        if not np.isfinite(mean):
            continue
        d = _decimals(metric, (hi - lo) / 2 if np.isfinite(lo) else math.nan, mean)
        share = an.is_share(metric)
        value = f"{mean * 100:.{d}f}%" if share else amount(metric, mean, d)
        ci = (
            f" (95% CI {_bare(metric, lo, d)} to {_bare(metric, hi, d)}{'%' if share else ''}; {results.runs[metric].notna().sum()} runs)"
            if np.isfinite(lo)
            else f" ({len(results.runs)} run, no interval)"
        )
        out.append(
            {
                "text": f"Averaged over the runs, {an.label(metric)} is {value}{ci}.",
                "clear": True,
                "metric": metric,
                "effect_size": math.nan,
            }
        )
    return out


def sensitivity_findings(results: an.Results) -> list[dict[str, Any]]:
    """For a Sobol or Morris design: the parameter each key outcome depends on most (largest
    total-order index, or Morris mu*, averaged over policies), with its index per policy."""
    out = []
    group = "policy" if "policy" in results.factors else None
    for metric in ("wellbeing_mean", "revenue_per_user_day"):
        try:
            si = an.sensitivity(results, metric, group=group)
        except ParamError:
            continue
        kind = "ST" if "ST" in set(si["index"]) else "mu_star"
        rows = si[si["index"] == kind]
        if rows["value"].isna().all():
            continue  # the outcome did not vary over the sample
        top = rows.groupby("parameter")["value"].mean().idxmax()
        what = "total-order Sobol index" if kind == "ST" else "Morris mu*"
        parts = [
            f"{r['value']:.2g}{f' under {an.level_name(group, r.group)}' if group else ''} (95% CI {r['ci_low']:.2g} to {r['ci_high']:.2g})"
            for _, r in rows[rows["parameter"] == top].iterrows()
        ]
        out.append(
            {
                "text": f"Of the sampled parameters, {an.label(metric)} depends most on {top}: {what} {'; '.join(parts)}.",
                "clear": True,
                "metric": metric,
                "effect_size": math.nan,
            }
        )
    return out


# -- the policy-options table -------------------------------------------------------------------
def options_table(
    results: an.Results, comparison: pd.DataFrame, spec: dict[str, Any]
) -> dict[str, Any]:
    """Rows of (within..., level) with each family's key metric: the baseline's level with its
    CI, then every option's paired difference with its CI."""
    metrics = [m for m in an.KEY_METRICS.values() if m in comparison["metric"].unique()]
    within, factor, base = spec["within"], spec["factor"], spec["baseline"]
    rows = []
    strata = comparison.drop_duplicates(within)[within] if within else pd.DataFrame([{}])
    runs = results.runs
    for _, s in strata.iterrows():
        mask = (
            np.logical_and.reduce([runs[c] == s[c] for c in within])
            if within
            else np.full(len(runs), True)
        )
        where = _where(s, within)
        base_runs = runs[mask & (runs[factor] == base)]
        cells = []
        for m in metrics:
            mean, lo, hi = an.t_interval(base_runs[m])
            d = _decimals(m, (hi - lo) / 2 if np.isfinite(lo) else math.nan, mean)
            cells.append(
                {
                    "value": _level(m, mean, d),
                    "ci": f"{_level(m, lo, d)} to {_level(m, hi, d)}" if np.isfinite(lo) else "",
                    "clear": None,
                }
            )
        rows.append(
            {
                "where": where,
                "option": f"{an.level_name(factor, base)} (baseline)",
                "cells": cells,
                "baseline": True,
            }
        )
        sub = comparison
        for c in within:
            sub = sub[sub[c] == s[c]]
        for level in dict.fromkeys(sub["level"]):
            cells = []
            for m in metrics:
                r = sub[(sub["level"] == level) & (sub["metric"] == m)].iloc[0]
                d = _decimals(
                    m, (r["ci_high"] - r["ci_low"]) / 2, r["difference"], r["ci_low"], r["ci_high"]
                )
                ci = (
                    f"{_bare(m, r['ci_low'], d)} to {_bare(m, r['ci_high'], d)}"
                    if np.isfinite(r["ci_low"])
                    else ""
                )
                cells.append(
                    {
                        "value": f"{'+' if r['difference'] > 0 else ''}{_bare(m, r['difference'], d)}",
                        "ci": ci,
                        "clear": bool(r["clear"]) if r["n"] > 0 else None,
                    }
                )
            rows.append(
                {
                    "where": where,
                    "option": an.level_name(factor, level),
                    "cells": cells,
                    "baseline": False,
                }
            )
    heads = [
        {
            "family": f.capitalize(),
            "label": an.label(m),
            "unit": an.difference_unit(m),
        }
        for f, m in an.KEY_METRICS.items()
        if m in metrics
    ]
    return {"heads": heads, "rows": rows, "factor": factor, "baseline": an.level_name(factor, base)}


def _level(metric: str, value: float, d: int) -> str:
    if not np.isfinite(value):
        return "n/a"
    return f"{value * 100:.{d}f}%" if an.is_share(metric) else f"{value:.{d}f}"
