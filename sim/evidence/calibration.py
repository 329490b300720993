"""Calibration: fit the free parameters to the published findings (``sim calibrate``).

The loss is the mean squared distance of each simulated finding from its target, measured in
half-widths of its band, over the findings that have a point target (sign tests, inputs and
quantities the model cannot produce are left out):

    loss = mean_f ((estimate_f - target_f) / ((high_f - low_f) / 2))^2

so a finding at the edge of its band contributes 1. Every evaluation runs the validation
studies with the same seeds, so the loss is a deterministic function of the parameters (common
random numbers) and a derivative-free optimiser (scipy's bounded Powell method) can be used.
Each free parameter is searched inside its own bounds, narrower than its range in the parameter
tree; fewer parameters are fitted than there are targets.
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
    Free("wellbeing.measurement_sd", 0.0, 1.0, "wellbeing effects in SD units (deactivation)", 0.0),
    Free("choice.content_value", 0.5, 2.0, "minutes on feeds (time freed by deactivation)", 1.0),
    Free("choice.impulse_weight", 0.2, 1.5, "share of use due to self-control problems", 0.6),
    Free("choice.money_value", 2.0, 60.0, "response to a bonus for cutting use", 10.0),
    Free("choice.ad_annoyance", 0.5, 6.0, "ad load and ad revenue per user", 1.0),
    Free("social.companion_relief", 0.3, 1.0, "loneliness relief of a companion session", 0.6),
    Free("social.companion_need_minutes", 3.0, 60.0, "loneliness relief over a week", 30.0),
    Free("habit.formation", 0.01, 0.2, "use after a break ends", 0.05),
    Free("companion.cancellation", 0.01, 0.2, "subscription price", 0.03),
    Free("companion.free_minutes", 10.0, 180.0, "companion minutes per engaged user", 20.0),
)


def targets(rows: list[dict]) -> list[dict]:
    """Scorecard rows that carry a point target (band findings, not signs; a simulated value)."""
    return [
        r
        for r in rows
        if r["estimate"] is not None and r["kind"] == "band" and "input" not in r["note"]
    ]


def loss(rows: list[dict]) -> float:
    used = targets(rows)
    return float(
        np.mean(
            [
                ((r["estimate"] - r["target"]) / ((r["band_high"] - r["band_low"]) / 2)) ** 2
                for r in used
            ]
        )
    )


def calibrate(
    executor: Executor,
    free=FREE,
    max_evaluations: int = 60,
    quick: bool = True,
    progress=None,
    studies: list[str] | None = None,
    log: Path | None = None,
) -> dict:
    """Fit ``free`` by bounded Powell from the current defaults; return the record.

    With ``log``, every evaluation is appended to that JSON-lines file as it finishes, so an
    interrupted calibration keeps what it learned.
    """
    studies = v.load_studies(studies)
    defaults = Params().flat()
    x0 = np.array([defaults[f.path] for f in free], dtype=float)
    lows, highs = np.array([f.low for f in free]), np.array([f.high for f in free])
    history: list[dict] = []

    def evaluate(x: np.ndarray) -> float:
        values = {f.path: float(val) for f, val in zip(free, x, strict=True)}
        rows = v.run_studies(studies, quick=quick, executor=executor, overrides=values)
        value = loss(rows)
        history.append(
            {"values": values, "loss": value, "passed": sum(r["status"] == "pass" for r in rows)}
        )
        if log is not None:
            with open(log, "a") as fh:
                fh.write(json.dumps(history[-1]) + "\n")
        if progress:
            progress(len(history), value)
        return value if math.isfinite(value) else 1e9

    start = evaluate(x0)
    result = minimize(
        evaluate,
        np.clip(x0, lows, highs),
        method="Powell",
        bounds=list(zip(lows, highs, strict=True)),
        options={"maxfev": max_evaluations, "xtol": 1e-2, "ftol": 1e-3},
    )
    best = min(history, key=lambda h: h["loss"])
    return {
        "loss_definition": "mean over point targets of ((estimate - target) / half band width)^2",
        "optimiser": "scipy.optimize.minimize, method Powell, bounded",
        "quick": quick,
        "evaluations": len(history),
        "targets": len(
            targets(
                v.run_studies(studies, quick=quick, executor=executor, overrides=best["values"])
            )
        ),
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
