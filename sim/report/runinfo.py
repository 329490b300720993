"""What was actually run: parameters changed from the defaults, interventions, and the contrast
between each intervention's treated and control arms, read from stored results only.

A run folder (``sim run``) keeps its fully resolved parameters and interventions in
``params.json``; they are compared with the defaults of the run's market preset and policy
(:func:`sim.model.scenarios.resolve`), so a briefing says what was changed however it was set
(``--config``, ``--set``, ``--users`` ...), and the parameters that follow a path over days.
A results folder (``sim sweep``) keeps its experiment definition in ``manifest.json`` (``base``
overrides, ``--set``, top-level ``[[interventions]]``, ``[paths]``). Arms come from the daily ``arm.{name}.{treated|control}.{metric}``
series of the time series.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from sim.model.params import POLICIES, ParamError
from sim.model.scenarios import DEFAULT_SCENARIO, SCENARIOS, resolve

# arm metrics shown in briefings: (series suffix, words, unit)
ARM_METRICS = [
    ("minutes", "time on feeds and companions", "min per user-day"),
    ("social_minutes", "time socialising", "min per user-day"),
    ("wellbeing", "wellbeing", "score 0-2, 1 = neutral"),
    ("loneliness", "loneliness", "0-1"),
]


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def run_folder_parameters(folder: Path, summary: dict[str, Any]) -> dict[str, Any]:
    """A run folder's parameters against the defaults of its preset and policy.

    Returns:
        ``changed``: ``[{"path", "value", "default"}]`` for every parameter whose resolved value
        differs from the default; ``interventions``: the run's interventions as stored;
        ``paths``: the ``[paths]`` table of parameters that follow a path over days;
        ``baseline``: what the defaults are (``mixed market, attention/intimacy policy``).
    """
    path = folder / "params.json"
    if not path.is_file():
        return {"changed": [], "interventions": [], "known": False}
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ParamError(f"{path} cannot be read: {e}") from None
    interventions = stored.pop("interventions", []) or []
    paths = stored.pop("paths", {}) or {}
    scenario = summary.get("scenario") if summary.get("scenario") in SCENARIOS else None
    policy = summary.get("policy") if summary.get("policy") in POLICIES else None
    defaults = resolve(scenario or DEFAULT_SCENARIO, policy)[0].flat()
    used = {
        f"{s}.{k}": v for s, sec in stored.items() if isinstance(sec, dict) for k, v in sec.items()
    }
    changed = [
        {"path": p, "value": v, "default": _plain(defaults[p])}
        for p, v in used.items()
        if p in defaults and _plain(v) != _plain(defaults[p])
    ]
    return {
        "changed": changed,
        "interventions": interventions,
        "paths": paths,
        "known": True,
        "scenario": scenario or DEFAULT_SCENARIO,
        "policy": policy,
    }


def _value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, bool):
        return str(v).lower()
    return str(v)


def parameters_sentence(manifest: dict[str, Any]) -> str:
    """Which parameters the runs used, in one sentence, from what the folder records."""
    exp = manifest.get("experiment", {})
    run = manifest.get("run_parameters")
    if run is not None:
        if not run.get("known"):
            return "The run folder holds no params.json, so the parameters used cannot be listed."
        from sim.report.labels import SCENARIO_NAMES

        where = f"the {SCENARIO_NAMES.get(run['scenario'], run['scenario'])} preset" + (
            f" with the {run['policy']} policy" if run.get("policy") else ""
        )
        following = paths_sentence(run.get("paths"), "")
        if not run["changed"]:
            return f"Every parameter is the model's default for {where} (docs/ODD.md).{following}"
        listed = "; ".join(
            f"{c['path']} = {_value(c['value'])} (default {_value(c['default'])})"
            for c in run["changed"]
        )
        n = len(run["changed"])
        return (
            f"Parameters are the model's defaults for {where}, except {n} changed: {listed}."
            f"{following}"
        )
    d = exp.get("definition") or {}
    parts = [f"{p} = {_value(v)} in every run" for p, v in (d.get("base") or {}).items()]
    parts += [f"{s} (--set)" for s in exp.get("set") or []]
    text = "Parameters are the model's defaults (docs/ODD.md)"
    following = paths_sentence(d.get("paths"))
    for case in d.get("cases") or []:
        if case.get("paths"):
            following += paths_sentence(case["paths"], f"in case {case.get('label')}")
    return (
        f"{text}, except: {'; '.join(parts)}.{following}"
        if parts
        else f"{text}, apart from what the design varies.{following}"
    )


def paths_sentence(table: dict[str, Any] | None, where: str = "in every run") -> str:
    """The parameters that follow a path over days (ODD 7.13), as a sentence with a leading
    space, or nothing."""
    if not table:
        return ""
    from sim.model.paths import parse

    try:
        listed = "; ".join(p.describe() for p in parse(dict(table)))
    except ParamError:  # a path this version no longer accepts: say it as stored
        listed = "; ".join(f"{k} {v}" for k, v in table.items())
    return f" Following a path over days{' ' * bool(where)}{where}: {listed}."


def describe_intervention(iv: dict[str, Any]) -> str:
    """One intervention in words: kind, targets, share of users, days in force."""
    try:
        from sim.model.interventions import KINDS
    except ImportError:  # pragma: no cover - the model's layout may move
        KINDS = {}
    kind = iv.get("kind", "?")
    what = (
        KINDS.get(kind, kind)
        .replace("`value`", _value(iv.get("value", "")))
        .replace("`lever`", str(iv.get("lever", "")))
        .replace("`option`", str(iv.get("option", "")))
    )
    what = what.replace("`start`", f"day {iv.get('start')}")
    share = iv.get("share", 1.0)
    groups = iv.get("groups", 1) or 1
    end = iv.get("end")
    days = (
        f"days {iv.get('start', 0)} to {end - 1}"
        if end is not None
        else f"from day {iv.get('start', 0)}"
    )
    arms = (
        f"{share:.0%} of group {iv.get('group', 0) + 1} of {groups} treated, the rest the control arm"
        if groups > 1 and share
        else f"{share:.0%} of users treated, the rest the control arm"
        if share is not None and 0 < share < 1
        else "every user treated (no control arm)"
    )
    name = iv.get("name") or kind
    targets = f"; targets {iv['providers']}" if iv.get("providers") else ""
    return f"{name}: {what}{targets}; {arms}; {days}"


def arm_contrasts(
    runs: pd.DataFrame, timeseries: pd.DataFrame | None, interventions: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Treated minus control, each arm metric averaged over the days the intervention was in
    force, per run; the mean over runs with its t interval (none from a single run)."""
    from sim.report.analysis import t_interval

    if timeseries is None:
        return []
    out = []
    for iv in interventions:
        name = iv.get("name") or iv.get("kind")
        start, end = iv.get("start", 0), iv.get("end")
        in_force = (timeseries["day"] >= start) & (
            (timeseries["day"] < end) if end is not None else True
        )
        for suffix, words, unit in ARM_METRICS:
            t, c = f"arm.{name}.treated.{suffix}", f"arm.{name}.control.{suffix}"
            if t not in timeseries or c not in timeseries:
                continue
            window = timeseries[in_force][["run_id", t, c]].dropna()
            if window.empty:
                continue
            per_run = window.groupby("run_id")[[t, c]].mean()
            diff = (per_run[t] - per_run[c]).to_numpy(float)
            mean, lo, hi = t_interval(diff)
            out.append(
                {
                    "intervention": name,
                    "metric": words,
                    "unit": unit,
                    "treated": float(per_run[t].mean()),
                    "control": float(per_run[c].mean()),
                    "difference": mean,
                    "ci_low": lo,
                    "ci_high": hi,
                    "runs": len(per_run),
                }
            )
    return out


def arm_sentence(row: dict[str, Any], window: str) -> str:
    """One arm contrast as a sentence; an interval that includes zero, or a single run, says so."""
    d = 2 if row["unit"].startswith(("score", "0-1")) else 1
    diff = row["difference"]
    base = (
        f"While {row['intervention']} was in force ({window}), {row['metric']} of treated users "
        f"averaged {row['treated']:.{d}f} against {row['control']:.{d}f} in the control arm "
        f"({row['unit']}): a difference of {diff:+.{d}f}"
    )
    if not math.isfinite(row["ci_low"]):
        return f"{base} (one run, so no interval; treat it as indicative)."
    clear = row["ci_low"] > 0 or row["ci_high"] < 0
    ci = f"95% CI {row['ci_low']:.{d}f} to {row['ci_high']:.{d}f}; {row['runs']} runs"
    return f"{base} ({ci}{'' if clear else ', which includes zero: no clear effect'})."


def window_text(iv: dict[str, Any], days: int | None = None) -> str:
    start, end = iv.get("start", 0), iv.get("end")
    if end is None and days is not None:
        end = days
    return f"days {start} to {end - 1}" if end is not None else f"from day {start}"


def interventions_of(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The interventions every run had: a run folder's, or a sweep's top-level ones."""
    run = manifest.get("run_parameters")
    if run is not None:
        return list(run.get("interventions") or [])
    d = (manifest.get("experiment") or {}).get("definition") or {}
    return [dict(iv) for iv in d.get("interventions") or []]
