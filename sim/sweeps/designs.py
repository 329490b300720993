"""Designs of an experiment file: checked values, factorial grids and sampled designs.

A ``[grid]`` is a full factorial over value lists. A ``[sample]`` draws points in a box of
parameter ranges: ``sobol`` (Saltelli's scheme for Sobol indices, SALib), ``morris``
(elementary-effect trajectories, SALib) or ``latin`` (a Latin hypercube, scipy.stats.qmc), all
seeded, so the same file always gives the same points. Whole-number parameters are rounded.
The helpers here check one value at a time and name the key that holds a bad one.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.model.params import POLICIES, ParamError, Params
from sim.model.scenarios import SCENARIOS

SAMPLERS = {
    "sobol": "Saltelli sampling for Sobol indices: n (a power of 2) x (k + 2) points, "
    "or n x (2k + 2) with second_order",
    "morris": "n Morris trajectories of k + 1 points on a grid of 'levels' levels",
    "latin": "n points of a Latin hypercube",
}
MAX_RUNS = 1_000_000  # runs a sweep may hold (each run's spec and row are kept in memory)
SAMPLE_KEYS = ("method", "n", "seed", "ranges", "second_order", "levels")
SET_BY_EXPERIMENT = {
    "run.seed": "seeds come from 'replications', 'seeds' and 'base_seed'",
    "run.users": "set the top-level 'users' instead",
    "run.days": "set the top-level 'days' instead",
}
_KIND = {
    str: "text",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    dict: "a table",
    list: "an array",
}


@dataclass
class Sample:
    """A sampled design over parameter ranges."""

    method: str
    n: int
    seed: int = 0
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    second_order: bool = False
    levels: int = 4

    def problem(self) -> dict[str, Any]:
        """The SALib problem, for ``SALib.analyze.sobol.analyze(problem, Y)`` and the like."""
        names = list(self.ranges)
        return {
            "num_vars": len(names),
            "names": names,
            "bounds": [list(self.ranges[k]) for k in names],
        }


# -- checking one value -------------------------------------------------------------------------
def get(table: dict, key: str, kind: type, default: Any = ..., where: str = "") -> Any:
    """``table[key]`` checked to be of ``kind`` (an int passes as a float), or ``default``."""
    if key not in table:
        if default is ...:
            raise ParamError(f"{where}'{key}' is missing")
        return default
    value = table[key]
    if isinstance(value, bool) and kind is not bool:
        ok = False
    elif kind is float:
        ok = isinstance(value, int | float)
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise ParamError(f"{where}'{key}' must be {_KIND[kind]}, got {value!r}")
    return value


def no_unknown(table: dict, allowed, where: str = "") -> None:
    for key in table:
        if key not in allowed:
            raise ParamError(f"unknown key {where}'{key}': allowed keys are {', '.join(allowed)}")


def choice(value: Any, where: str, options) -> str:
    if value not in options:
        raise ParamError(f"{where} must be one of {', '.join(options)}, got {value!r}")
    return value


def check_value(path: str, value: Any, where: str, scale: bool = False) -> Any:
    """Validate one parameter value; return it as the model holds it (1 -> 1.0 for a real).

    ``run.users`` and ``run.days`` may be varied (``scale``) but not set outside a grid.
    """
    if path in SET_BY_EXPERIMENT and not (scale and path != "run.seed"):
        raise ParamError(f"{where} '{path}' cannot be set here: {SET_BY_EXPERIMENT[path]}")
    params = Params()
    try:
        params.set(path, value)
    except ParamError as e:
        raise ParamError(f"{where} '{path}': {e}") from None
    section, _, name = path.partition(".")
    return getattr(getattr(params, section), name)


def flatten(table: dict, prefix: str = "") -> dict[str, Any]:
    """``{"companion": {"empathy": 0.8}}`` (TOML dotted keys) -> ``{"companion.empathy": 0.8}``."""
    out = {}
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, path + "."))
        else:
            out[path] = value
    return out


def overrides(table: dict, where: str) -> dict[str, Any]:
    """A table of parameter overrides (nested or dotted paths), each value checked."""
    return {p: check_value(p, v, where) for p, v in flatten(table).items()}


# -- grid ---------------------------------------------------------------------------------------
def parse_grid(table: dict) -> dict[str, list[Any]]:
    """``[grid]``: parameter paths (and ``scenario``, ``policy``) to non-empty value lists."""
    grid = {}
    for path, values in flatten(table).items():
        where = f"[grid] '{path}'"
        if not isinstance(values, list):
            raise ParamError(f"{where} must be an array of values, got {values!r}")
        if not values:
            raise ParamError(f"{where} is an empty array: give at least one value")
        if path == "scenario":
            values = [choice(v, where, SCENARIOS) for v in values]
        elif path == "policy":
            values = [choice(v, where, POLICIES) for v in values]
        elif path in ("run.users", "run.days"):  # population size or length as a factor
            values = [check_value(path, v, "[grid]", scale=True) for v in values]
        else:
            values = [check_value(path, v, "[grid]") for v in values]
        if len({json.dumps(v) for v in values}) < len(values):
            raise ParamError(f"{where} lists a value twice: {values}")
        grid[path] = values
    return grid


# -- sampled designs ----------------------------------------------------------------------------
def parse_sample(table: dict) -> Sample:
    """``[sample]`` with ``[sample.ranges]``, every range inside its parameter's bounds."""
    no_unknown(table, SAMPLE_KEYS, "[sample] ")
    where = "[sample] "
    method = choice(get(table, "method", str, where=where), "[sample] 'method'", SAMPLERS)
    n = get(table, "n", int, where=where)
    s = Sample(method=method, n=n, seed=get(table, "seed", int, 0, where))
    if s.seed < 0:
        raise ParamError(f"[sample] 'seed' must be a whole number >= 0, got {s.seed}")
    if method == "sobol":
        if n < 2 or n & (n - 1):
            raise ParamError(f"[sample] 'n' must be a power of 2 (>= 2) for sobol, got {n}")
        s.second_order = get(table, "second_order", bool, False, where)
    elif "second_order" in table:
        raise ParamError(f"[sample] 'second_order' applies to sobol only, not {method}")
    if method == "morris":
        s.levels = get(table, "levels", int, 4, where)
        if s.levels < 2 or s.levels % 2:
            raise ParamError(f"[sample] 'levels' must be an even number >= 2, got {s.levels}")
    elif "levels" in table:
        raise ParamError(f"[sample] 'levels' applies to morris only, not {method}")
    if n < (2 if method == "morris" else 1):
        raise ParamError(f"[sample] 'n' must be at least {2 if method == 'morris' else 1}, got {n}")
    ranges = flatten(get(table, "ranges", dict, where=where))
    if not ranges:
        raise ParamError("[sample.ranges] is empty: give at least one 'path' = [low, high]")
    for path, bounds in ranges.items():
        s.ranges[path] = _range(path, bounds)
    if sample_size(s) > MAX_RUNS:
        raise ParamError(
            f"[sample] 'n' = {n:,} gives {sample_size(s):,} points, more than the "
            f"{MAX_RUNS:,} runs a sweep may hold"
        )
    return s


def sample_size(s: Sample) -> int:
    """How many points the sampler draws, counted without drawing them."""
    k = len(s.ranges)
    if s.method == "sobol":
        return s.n * (2 * k + 2 if s.second_order else k + 2)
    if s.method == "morris":
        return s.n * (k + 1)
    return s.n


def _range(path: str, bounds: Any) -> tuple[float, float]:
    where = f"[sample.ranges] '{path}'"
    ok = isinstance(bounds, list) and len(bounds) == 2
    if not ok or any(isinstance(b, bool) or not isinstance(b, int | float) for b in bounds):
        raise ParamError(f"{where} must be [low, high], two numbers, got {bounds!r}")
    lo, hi = bounds
    if lo >= hi:
        raise ParamError(f"{where}: low {lo:g} must be below high {hi:g}")
    kind = _leaf_type(path, where)
    if kind not in (int, float):
        raise ParamError(
            f"{where}: only numeric parameters can be sampled, {path} is {kind.__name__}"
        )
    for b in (lo, hi):
        check_value(
            path, kind(b) if kind is int and float(b).is_integer() else b, "[sample.ranges]"
        )
    return float(lo), float(hi)


def _leaf_type(path: str, where: str) -> type:
    section, _, name = path.partition(".")
    fields = {
        f.name: f
        for s in dataclasses.fields(Params)
        if s.name == section
        for f in dataclasses.fields(s.default_factory())
    }
    if name not in fields:
        check_value(path, 0, "[sample.ranges]")  # raises the unknown-parameter message
        raise ParamError(f"{where}: unknown parameter")
    return type(fields[name].default)


def sample_points(s: Sample) -> list[tuple[int, dict[str, Any]]]:
    """``(index, {path: value})`` for every sampled point, in the sampler's order."""
    problem = s.problem()
    if s.method == "sobol":
        from SALib.sample import sobol

        x = sobol.sample(problem, s.n, calc_second_order=s.second_order, seed=s.seed)
    elif s.method == "morris":
        from SALib.sample import morris

        x = morris.sample(problem, s.n, num_levels=s.levels, seed=s.seed)
    else:
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(len(s.ranges), rng=np.random.default_rng(s.seed)).random(s.n)
        x = qmc.scale(unit, *np.array(problem["bounds"]).T)
    kinds = [_leaf_type(p, "") for p in s.ranges]
    return [
        (
            i,
            {
                p: int(round(v)) if k is int else float(v)
                for p, v, k in zip(s.ranges, row, kinds, strict=True)
            },
        )
        for i, row in enumerate(x)
    ]
