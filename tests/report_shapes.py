"""Tiny results folders of every shape, for the analysis, plot and briefing tests.

Each is a real sweep (``sim sweep`` in this process, one worker) of a few hundred user-days, made
once per test session and shared by the test modules that import :func:`results`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from rich.console import Console

from sim.sweeps import sweep

TOP = "users = 60\ndays = 24\nbase_seed = 1\n"
RECORD = "[record]\nevery = {every}\npanel = {panel}\n"
SHAPES = {
    # the headline's shape: scenario x policy, paired seeds
    "headline": (
        'name = "headline_tiny"\ndescription = "Policies by market"\nreplications = 3\n'
        '[grid]\nscenario = ["mixed", "attention_economy", "intimacy_economy"]\n'
        'policy = ["attention", "intimacy", "wellbeing"]\n',
        1,
        "false",
    ),
    # cases with user-provided labels and a description that must be escaped in HTML
    "cases": (
        'name = "cases_tiny"\ndescription = "Rules <script>alert(1)</script> & \\"quotes\\" *stars* _under_"\n'
        'replications = 3\n[[cases]]\nlabel = "no_rule"\n[[cases]]\nlabel = "<b>ad_tax</b> $5"\n'
        'interventions = [{ kind = "ad_tax", providers = "feeds", value = 0.5, start = 5 }]\n'
        '[[cases]]\nlabel = "ban"\n'
        'interventions = [{ kind = "ban_manipulation", providers = "companions", start = 5 }]\n',
        1,
        "true",
    ),
    # a two-dimensional grid of parameters
    "grid2d": (
        'name = "grid_tiny"\ndescription = "Two parameters"\nreplications = 2\nscenario = "intimacy_economy"\n'
        '[grid]\n"learning.rate" = [0.01, 0.04]\n"companion.manipulation" = [0.0, 0.5]\n',
        6,
        "false",
    ),
    # one varied number crossed with the policy (as test_horizon)
    "grid1d": (
        'name = "grid1d_tiny"\ndescription = "One number by policy"\nreplications = 2\n'
        '[grid]\npolicy = ["attention", "wellbeing"]\n"adaptation.interval" = [3, 7, 14]\n',
        6,
        "false",
    ),
    # Sobol and Morris samples (Sobol crossed with policies)
    "sobol": (
        'name = "sobol_tiny"\ndescription = "Sobol"\nreplications = 1\n[grid]\npolicy = ["attention", "wellbeing"]\n'
        '[sample]\nmethod = "sobol"\nn = 4\nseed = 1\n[sample.ranges]\n"choice.impulse_weight" = [0.2, 1.5]\n'
        '"habit.formation" = [0.02, 0.1]\n',
        12,
        "false",
    ),
    "morris": (
        'name = "morris_tiny"\ndescription = "Morris"\nreplications = 1\n[sample]\nmethod = "morris"\nn = 3\nseed = 1\n'
        '[sample.ranges]\n"choice.impulse_weight" = [0.2, 1.5]\n"habit.formation" = [0.02, 0.1]\n',
        12,
        "false",
    ),
    # one design point, one seed, no time series
    "single": ('name = "single_tiny"\ndescription = "One run"\nreplications = 1\n', 1, "false"),
}
_made: dict[str, Path] = {}


def results(kind: str, root: Path) -> Path:
    """The results folder of ``kind`` (made on first use under ``root``)."""
    if kind in _made:
        return _made[kind]
    text, every, panel = SHAPES[kind]
    folder = root / kind
    shutil.rmtree(folder, ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)
    exp = root / f"{kind}.toml"
    exp.write_text(TOP + text + RECORD.format(every=every, panel=panel))
    if kind == "single":
        exp.write_text(exp.read_text().replace("[record]", "[record]\ntimeseries = false"))
    _made[kind] = swept(exp, folder)
    return folder


def swept(experiment: Path, out: Path) -> Path:
    """``out`` after a quiet one-worker sweep of ``experiment`` that must succeed."""
    quiet = Console(file=open("/dev/null", "w"))  # noqa: SIM115
    code = sweep.sweep(experiment, out, workers=1, quiet=True, stdout=quiet, stderr=quiet)
    assert code == 0, f"sweep of {experiment.name} failed"
    return out


def scorecard(path: Path) -> Path:
    """A small validation.json in the format ``sim validate`` writes (pass, too uncertain, miss,
    not modelled)."""
    rows = [
        {
            "study": "allcott2020_deactivation",
            "citation": "Allcott, Braghieri, Eichmeyer & Gentzkow (2020), The Welfare Effects",
            "finding": "Subjective wellbeing rises <during> deactivation",
            "target": 0.09,
            "band_low": 0.03,
            "band_high": 0.15,
            "units": "SD",
            "note": "",
            "estimate": 0.1,
            "ci_low": 0.05,
            "ci_high": 0.15,
            "n": 2,
            "status": "pass",
        },
        {
            "study": "allcott2020_deactivation",
            "citation": "Allcott, Braghieri, Eichmeyer & Gentzkow (2020), The Welfare Effects",
            "finding": "About 60 minutes a day freed",
            "target": -60,
            "band_low": -80,
            "band_high": -40,
            "units": "min/day",
            "note": "",
            "estimate": -20.0,
            "ci_low": -30.0,
            "ci_high": -10.0,
            "n": 2,
            "status": "miss",
        },
        {
            "study": "defreitas2025_manipulation",
            "citation": "De Freitas et al. (2025), Emotional Manipulation",
            "finding": "Tactics raise perceived manipulation",
            "kind": "direction",
            "target": 0.0,
            "band_low": -1e9,
            "band_high": -0.001,
            "units": "0-1",
            "note": "a sign",
            "estimate": -0.19,
            "ci_low": -0.46,
            "ci_high": 0.08,
            "n": 2,
            "status": "too uncertain",
            "n_needed": 9,
        },
        {
            "study": "defreitas2025_manipulation",
            "citation": "De Freitas et al. (2025), Emotional Manipulation",
            "finding": "Up to 14x more engagement after a goodbye",
            "target": 14,
            "band_low": 5,
            "band_high": 1e9,
            "units": "x",
            "note": "",
            "estimate": None,
            "ci_low": None,
            "ci_high": None,
            "n": 2,
            "status": "not modelled",
        },
    ]
    record = {
        "created": "2026-01-01T00:00:00+00:00",
        "quick": True,
        "ablate": None,
        "version": "0.1.0",
        "git_sha": "0" * 40,
        "git_dirty": False,
        "scorecard": rows,
        "passed": 1,
        "too_uncertain": 1,
        "findings": 4,
    }
    path.write_text(json.dumps(record))
    return path
