"""Calibration: fit the free parameters to the published findings (``sim calibrate``).

The loss is a robust (soft L1) distance of each simulated finding from its target, measured in
units of the band's side it lies on, averaged over the findings that have a point target (sign
tests, inputs and quantities the model cannot produce are left out):

    z_f  = (estimate_f - target_f) / (high_f - target_f)   above the target
         = (estimate_f - target_f) / (target_f - low_f)    below it
    loss = mean_f 2 (sqrt(1 + z_f^2) - 1)

so that a finding at either edge of its band has ``|z| = 1`` however lopsided the band (the fit
on record measured both sides in half-widths of the band, so an estimate just outside a
lopsided band could score as inside). The loss is z^2 near the target and grows like 2|z| far
from it, so a finding the free parameters cannot bring near its band pulls on the fit little
harder than one twice as far out as its band's edge, instead of deciding it alone (ODD 10).
Every evaluation runs, with the same seeds, the quick versions of the studies that have point
targets, each with at least
``REPLICATIONS`` replications, so the loss is a deterministic function of the parameters
(common random numbers) and a derivative-free optimiser can be used: scipy's Nelder-Mead
method, bounded, which never gives up the best point it has seen. (Its bounded Powell method,
used for the fit on record, does not evaluate the current point in a line search, so on this
loss, rugged from the small runs' noise and providers' discrete decisions, a line search can end
at a point worse than where it began.) Each free parameter is searched inside its own bounds,
narrower than its range in the parameter tree, on a scale where its bounds are 0 and 1; the
first simplex steps ``STEP`` of the bounds from the start in each parameter. Fewer parameters
are fitted than there are targets.
"""

from __future__ import annotations

import json
import math
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from sim.evidence import validation as v
from sim.model.params import Params


@dataclass(frozen=True)
class Free:
    path: str
    low: float
    high: float
    why: str  # the findings it mainly moves
    literature: float  # the value set by hand from the literature, before any fit


FREE = (
    Free("social.companion_relief", 0.3, 1.0, "loneliness relief of a companion session", 0.6),
    Free("social.companion_need_minutes", 3.0, 60.0, "loneliness relief over a week", 30.0),
    Free("choice.impulse_weight", 0.2, 1.5, "share of use due to self-control problems", 0.6),
    Free("choice.ad_annoyance", 0.5, 6.0, "ad load and ad revenue per user", 1.0),
    Free("choice.money_value", 2.0, 60.0, "response to a bonus for cutting use", 10.0),
    Free("choice.content_value", 0.5, 2.0, "minutes on feeds (time freed by deactivation)", 1.0),
    Free("habit.formation", 0.01, 0.2, "use after a break ends", 0.05),
    Free("companion.cancellation", 0.01, 0.2, "subscription price", 0.03),
    Free("companion.free_minutes", 10.0, 180.0, "companion minutes per engaged user", 20.0),
    Free("wellbeing.measurement_sd", 0.0, 1.0, "wellbeing effects in SD units (deactivation)", 0.0),
)

REPLICATIONS = 3  # at least, per study and evaluation
# the tolerance in each parameter, as a share of its bounds: between values closer than this the
# quick studies' loss moves by about 0.01 either way, the small runs' noise
XTOL = 0.05
STEP = 0.15  # the first simplex's step in each parameter, as a share of its bounds


def first_simplex(start: np.ndarray) -> np.ndarray:
    """The starting point and one vertex ``STEP`` from it along each parameter, on the scale of
    the bounds (toward the middle, so that every vertex is inside them)."""
    steps = np.where(start > 0.5, -STEP, STEP)
    return np.vstack([start, start + np.diag(steps)])


def targets(rows: list[dict]) -> list[dict]:
    """Scorecard rows that carry a point target (band findings, not signs; a simulated value)."""
    return [
        r
        for r in rows
        if r["estimate"] is not None and r["kind"] == "band" and "input" not in r["note"]
    ]


def distance(row: dict) -> float:
    """A finding's distance from its target in units of the band's own side (``z`` above):
    ``target - low`` below the target, ``high - target`` above it, so that either edge of a
    band lopsided about its target is at 1."""
    gap = row["estimate"] - row["target"]
    side = row["band_high"] - row["target"] if gap > 0 else row["target"] - row["band_low"]
    if side <= 0:  # a target on its band's edge: that side measured in half-widths
        side = (row["band_high"] - row["band_low"]) / 2
    return gap / side


def loss(rows: list[dict]) -> float:
    """The mean soft L1 distance of the point targets (module docstring)."""
    return float(np.mean([2.0 * (math.sqrt(1.0 + distance(r) ** 2) - 1.0) for r in targets(rows)]))


def has_targets(study: v.Study) -> bool:
    """Whether a study has a finding :func:`targets` would keep (others need not run)."""
    return any(
        f.kind == "band" and f.estimator != "not_modelled" and "input" not in f.note
        for f in study.findings
    )


def calibrate(
    executor: Executor,
    free=FREE,
    max_evaluations: int = 60,
    quick: bool = True,
    progress=None,
    studies: list[str] | None = None,
    log: Path | None = None,
    replications: int = REPLICATIONS,
) -> dict:
    """Fit ``free`` by bounded Nelder-Mead from the current defaults; return the record.

    Each evaluation runs every study with point targets (of ``studies``, if given) with
    ``replications`` replications or the study's own number, whichever is larger. With ``log``,
    every evaluation is appended to that JSON-lines file as it finishes, so an interrupted
    calibration keeps what it learned.
    """
    studies = [s for s in v.load_studies(studies) if has_targets(s)]
    defaults = Params().flat()
    lows, highs = np.array([f.low for f in free]), np.array([f.high for f in free])
    x0 = np.array([defaults[f.path] for f in free], dtype=float)
    history: list[dict] = []

    def evaluate(unit: np.ndarray) -> float:
        x = lows + np.clip(unit, 0.0, 1.0) * (highs - lows)
        values = {f.path: float(val) for f, val in zip(free, x, strict=True)}
        for seen in history:  # the optimiser asks for its starting point again
            if seen["values"] == values:
                return seen["loss"] if math.isfinite(seen["loss"]) else 1e9
        rows = v.run_studies(
            studies, quick=quick, executor=executor, overrides=values, replications=replications
        )
        value = loss(rows)
        history.append(
            {
                "values": values,
                "loss": value,
                "passed": sum(r["status"] == "pass" for r in rows),
                "targets": len(targets(rows)),
                "estimates": {f"{r['study']}: {r['finding']}": r["estimate"] for r in rows},
            }
        )
        if log is not None:
            with open(log, "a") as fh:
                fh.write(json.dumps(history[-1]) + "\n")
        if progress:
            progress(len(history), value)
        return value if math.isfinite(value) else 1e9

    unit0 = (np.clip(x0, lows, highs) - lows) / (highs - lows)
    start = evaluate(unit0)
    result = minimize(
        evaluate,
        unit0,
        method="Nelder-Mead",
        bounds=[(0.0, 1.0)] * len(free),
        options={
            "maxfev": max_evaluations,
            "xatol": XTOL,
            "fatol": 1e-3,
            "initial_simplex": first_simplex(unit0),
        },
    )
    best = min(history, key=lambda h: h["loss"])
    return {
        "loss_definition": "mean over point targets of 2 (sqrt(1 + z^2) - 1), "
        "z = (estimate - target) / (high - target) above the target, / (target - low) below",
        "optimiser": "scipy.optimize.minimize, method Nelder-Mead, bounded, on parameters "
        "scaled to their bounds",
        "quick": quick,
        "replications": {s.name: v.replications_of(s, quick, replications) for s in studies},
        "evaluations": len(history),
        "targets": best["targets"],
        "free": [
            {
                "path": f.path,
                "prior": float(x0[i]),
                "low": f.low,
                "high": f.high,
                "fitted": best["values"][f.path],
                "moved_by": best["values"][f.path] - float(x0[i]),
                "literature": f.literature,
                "why": f.why,
            }
            for i, f in enumerate(free)
        ],
        "loss_at_prior": start,
        "loss_fitted": best["loss"],
        "converged": bool(result.success),
        "history": history,
    }
