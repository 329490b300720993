"""Sensitivity indices of a sampled design (``[sample]`` method sobol or morris) with SALib;
re-exported by :mod:`sim.report.analysis` as :func:`sensitivity`."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.model.params import ParamError

if TYPE_CHECKING:
    from sim.report.analysis import Results


def sensitivity(
    results: Results,
    metric: str,
    group: str | None = "policy",
    contrast: tuple[Any, Any] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Sensitivity indices of a sampled design (``[sample]`` method sobol or morris), SALib.

    Args:
        results: a results folder of a sampled experiment.
        metric: the summary metric analysed (averaged over replications at each sample point).
        group: a column whose levels are analysed separately (``policy``); None (or a column
            that is absent) pools all runs, labelled ``all runs``.
        contrast: ``(level, baseline)`` of ``group``: analyse the per-point difference instead.
        confidence: coverage of the bootstrap intervals.

    Returns:
        Long form: ``group``, ``metric``, ``parameter``, ``index`` (S1 and ST for Sobol; mu_star,
        sigma and mu for Morris), ``value``, ``ci_low``, ``ci_high`` (NaN where SALib gives none).
    """
    spec = results.definition.get("sample")
    if not spec or spec.get("method") not in ("sobol", "morris") or "sample" not in results.runs:
        raise ParamError(
            f"{results.path} is not a Sobol or Morris design: its experiment has no [sample] method = sobol or morris"
        )
    names = list(spec["ranges"])
    problem = {
        "num_vars": len(names),
        "names": names,
        "bounds": [list(spec["ranges"][k]) for k in names],
    }
    x = _design_matrix(spec, problem)
    runs = results.runs
    if group is not None and group not in runs:
        group = None
    levels = list(dict.fromkeys(runs[group])) if group else ["all runs"]

    def outcome(level) -> np.ndarray:
        sub = runs if group is None else runs[runs[group] == level]
        y = sub.groupby("sample")[metric].mean().reindex(range(len(x)))
        if y.isna().any():
            raise ParamError(
                f"{metric} is missing at {int(y.isna().sum())} of {len(x)} sample points"
                f"{f' for {group} = {level}' if group else ''} (failed runs or an undefined metric)"
            )
        return y.to_numpy(float)

    if contrast is not None:
        targets = [(f"{contrast[0]} - {contrast[1]}", outcome(contrast[0]) - outcome(contrast[1]))]
    else:
        targets = [(level, outcome(level)) for level in levels]
    rows = []
    for level, y in targets:
        if not np.ptp(y) > 0:  # the outcome does not vary: every index is undefined
            rows += [
                {
                    "group": level,
                    "metric": metric,
                    "parameter": p,
                    "index": k,
                    "value": math.nan,
                    "ci_low": math.nan,
                    "ci_high": math.nan,
                }
                for p in names
                for k in (("S1", "ST") if spec["method"] == "sobol" else ("mu_star", "sigma", "mu"))
            ]
            continue
        if spec["method"] == "sobol":
            from SALib.analyze import sobol

            si = sobol.analyze(
                problem,
                y,
                calc_second_order=bool(spec.get("second_order")),
                conf_level=confidence,
                seed=0,
            )
            pairs = [("S1", "S1_conf"), ("ST", "ST_conf")]
        else:
            from SALib.analyze import morris

            si = morris.analyze(
                problem, x, y, conf_level=confidence, num_levels=int(spec.get("levels", 4)), seed=0
            )
            pairs = [("mu_star", "mu_star_conf"), ("sigma", None), ("mu", None)]
        for i, name in enumerate(names):
            for index, conf in pairs:
                value = float(si[index][i])
                half = float(si[conf][i]) if conf else math.nan
                rows.append(
                    {
                        "group": level,
                        "metric": metric,
                        "parameter": name,
                        "index": index,
                        "value": value,
                        "ci_low": value - half,
                        "ci_high": value + half,
                    }
                )
    return pd.DataFrame(rows)


def _design_matrix(spec: dict[str, Any], problem: dict[str, Any]) -> np.ndarray:
    """The sampler's points, unrounded, in the order the runs' ``sample`` column numbers them."""
    if spec["method"] == "sobol":
        from SALib.sample import sobol

        return sobol.sample(
            problem,
            spec["n"],
            calc_second_order=bool(spec.get("second_order")),
            seed=spec.get("seed", 0),
        )
    from SALib.sample import morris

    return morris.sample(
        problem, spec["n"], num_levels=int(spec.get("levels", 4)), seed=spec.get("seed", 0)
    )
