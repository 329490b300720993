"""Parameter paths: a numeric parameter that changes over the days of a run (ODD 7.13).

A path is a list of points ``(day, value)``. Between two points the value is interpolated
linearly; before the first point it is the first value, after the last point the last value.
With ``form = "step"`` the value jumps at each point instead: it is the value of the last point
on or before the day. A whole-number parameter takes the interpolated value rounded to the
nearest whole number. In a config or experiment file::

    [paths]
    "companion.serving_cost" = [[0, 0.002], [1095, 0.0005]]               # linear
    "companion.review_cost" = { points = [[0, 0.001], [730, 0.003]], form = "step" }

Each day, before any other step (the schedule's ``paths`` step), every path's value for the
day is set on the model's parameter tree with :meth:`sim.model.params.Params.set`, so the
day's steps read it as they read any parameter. Nothing derived from a parameter may be kept
from one day to the next unless it is rebuilt when the parameter changes: the compiled loops
take each section as a fresh named tuple every day (:func:`sim.model.compiled.constants`), and
the lever tables and constraints kept in ``model.memo`` depend on no parameter that can follow
a path.

Only parameters that the day's steps read every day can follow a path. Those read once, when
the model is built or a provider launches, are refused with the reason (:func:`fixed_reason`):
the run, market, population and network sections, the outside option ``choice.offline_value``,
the providers' initial levers (which providers then move by their A/B tests; a ``set_lever``
intervention sets what users see) and their launch shares and starting habit. Values are
checked against each parameter's range, and the parameters' joint rules
(:meth:`~sim.model.params.Params.validate`) at every point, before the run starts.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import Any

from sim.model.params import ParamError, Params

FORMS = ("linear", "step")
EXAMPLE = '[[0, 0.002], [1095, 0.0005]] or { points = [[0, 0.6], [730, 0.9]], form = "step" }'

# sections read only when the model is built, with the reason
FIXED_SECTIONS = {
    "run": "the run's size, length, seed and records are fixed when the model is built",
    "market": "the market (its providers, their objectives and launch days) is built once",
    "population": "users' traits are drawn once, when the population is made (ODD 5)",
    "network": "human ties are made once, at the start (ODD 5)",
}


def _fixed_leaves() -> dict[str, str]:
    """Leaves of the other sections that are read only at the start or at a launch."""
    from sim.model.providers import KINDS  # the initial levers are the providers' levers

    out = {
        "choice.offline_value": "each user's outside option is drawn from it once, when the "
        "population is made (ODD 5)",
        "feed.initial_habit": "it is read once, on day 0, for the users already on a feed",
    }
    for kind, cls in KINDS.items():
        for lever in cls.LEVERS:
            out[f"{kind}.{lever}"] = (
                "it is an initial lever: providers start from it and move it by their A/B "
                "tests (a set_lever or limiting intervention sets what users see)"
            )
        out[f"{kind}.initial_adoption"] = "it is read once, on the provider's launch day"
    return out


def fixed_reason(parameter: str) -> str | None:
    """Why ``parameter`` cannot follow a path, or None when it can."""
    section = parameter.partition(".")[0]
    if section in FIXED_SECTIONS:
        return FIXED_SECTIONS[section]
    reason = _fixed_leaves().get(parameter)
    if reason is not None:
        return reason
    if not _is_number(_field(parameter)):
        return "only numeric parameters can follow a path"
    return None


@dataclass(frozen=True)
class ParamPath:
    """The parameter ``parameter`` follows ``points`` ``((day, value), ...)`` over the run."""

    parameter: str
    points: tuple[tuple[int, float], ...]
    form: str = "linear"

    def value(self, day: int) -> float:
        """The path's value on ``day`` (module docstring); whole numbers for whole-number
        parameters."""
        pts = self.points
        if day <= pts[0][0]:
            x = pts[0][1]
        elif day >= pts[-1][0]:
            x = pts[-1][1]
        else:
            k = next(i for i in range(1, len(pts)) if day < pts[i][0])
            (d0, v0), (d1, v1) = pts[k - 1], pts[k]
            x = v0 if self.form == "step" else v0 + (v1 - v0) * (day - d0) / (d1 - d0)
        return round(x) if _is_whole(_field(self.parameter)) else x

    def to_dict(self) -> dict[str, Any]:
        """As written in a ``[paths]`` table (the table form, which says the form)."""
        return {"points": [list(p) for p in self.points], "form": self.form}

    def describe(self) -> str:
        """In words: ``companion.serving_cost 0.002 on day 0 to 0.0005 on day 1095 (linear)``."""
        pts = " to ".join(f"{v:g} on day {d}" for d, v in self.points)
        return f"{self.parameter} {pts} ({'steps' if self.form == 'step' else 'linear'})"


def parse(table: Any, where: str = "") -> list[ParamPath]:
    """Paths from a ``[paths]`` table ``{parameter: points or {points, form}}`` (or a list of
    :class:`ParamPath`, checked the same way), every point checked; :func:`check` and
    :func:`check_days` check them against a run. ``where`` ends each error (`` in FILE``)."""
    if isinstance(table, list | tuple) and all(isinstance(p, ParamPath) for p in table):
        return [_parse_one(p.parameter, p.to_dict(), where) for p in table]
    if not isinstance(table, dict):
        raise ParamError(f"[paths]{where} must be a table of parameter = points, e.g. {EXAMPLE}")
    return [_parse_one(str(name), spec, where) for name, spec in table.items()]


def _parse_one(name: str, spec: Any, where: str) -> ParamPath:
    head = f"[paths] '{name}'"
    _field(name, where)
    reason = fixed_reason(name)
    if reason is not None:
        raise ParamError(f"{head}{where}: {name} cannot follow a path: {reason}")
    form = "linear"
    if isinstance(spec, dict):
        unknown = sorted(set(spec) - {"points", "form"})
        if unknown or "points" not in spec:
            raise ParamError(
                f"{head}{where}: a table needs points and may give form, got "
                f"{', '.join(sorted(spec)) or 'nothing'}: {EXAMPLE}"
            )
        form = spec.get("form", "linear")
        if form not in FORMS:
            raise ParamError(f"{head}{where}: form must be one of {', '.join(FORMS)}, got {form!r}")
        spec = spec["points"]
    if not isinstance(spec, list | tuple) or not spec:
        raise ParamError(f"{head}{where} must be an array of [day, value] points: {EXAMPLE}")
    points: list[tuple[int, float]] = []
    scratch = Params()
    section, _, leaf = name.partition(".")
    for k, point in enumerate(spec, 1):
        if not isinstance(point, list | tuple) or len(point) != 2:
            raise ParamError(f"{head}{where}: point {k} must be [day, value], got {point!r}")
        day, value = point
        if isinstance(day, bool) or not isinstance(day, int) or day < 0:
            raise ParamError(
                f"{head}{where}: point {k} must start with a whole day >= 0, got {day!r}"
            )
        if points and day <= points[-1][0]:
            raise ParamError(
                f"{head}{where}: days must increase from point to point, got day {day} after "
                f"day {points[-1][0]}"
            )
        try:
            scratch.set(name, value)
        except ParamError as e:
            raise ParamError(f"{head}{where}: point {k} (day {day}): {e}") from None
        points.append((day, getattr(getattr(scratch, section), leaf)))
    return ParamPath(name, tuple(points), form)


def check(paths: list[ParamPath], params: Params, where: str = "") -> None:
    """Refuse a parameter followed twice, or a day on which the paths' values break the
    parameters' joint rules (:meth:`~sim.model.params.Params.validate`). Points after the run's
    last day are allowed here (a shorter run sees the start of the same path); files are held
    to their run's length by :func:`check_days`."""
    seen: set[str] = set()
    for p in paths:
        if p.parameter in seen:
            raise ParamError(f"[paths] '{p.parameter}'{where} is given twice: give one path")
        seen.add(p.parameter)
    turns = sorted({d for p in paths for d, _ in p.points})
    for day in turns:  # the joint rules are linear in the values: the turning days suffice
        scratch = copy.deepcopy(params)
        for p in paths:
            scratch.set(p.parameter, p.value(day))
        try:
            scratch.validate()
        except ParamError as e:
            raise ParamError(f"[paths]{where} on day {day}: {e}") from None


def check_days(paths: list[ParamPath], days: int, where: str = "") -> None:
    """Refuse a point after the last day of a run of ``days`` days (a file's own length)."""
    for p in paths:
        last = p.points[-1][0]
        if last >= days:
            raise ParamError(
                f"[paths] '{p.parameter}'{where}: day {last} is beyond the run (days 0 to "
                f"{days - 1}): give points within the run or make it longer (run.days)"
            )


def cut_short(paths: list[ParamPath], days: int) -> list[str]:
    """Warnings for paths whose last point a run shortened to ``days`` days does not reach."""
    return [
        f"the run ends on day {days - 1}, before the last point of the path of {p.parameter} "
        f"(day {p.points[-1][0]}): the run follows the path's first {days} days"
        for p in paths
        if p.points[-1][0] >= days
    ]


def table(paths: list[ParamPath]) -> dict[str, dict[str, Any]]:
    """The paths as a ``[paths]`` table (what params.json, manifests and hashes record)."""
    return {p.parameter: p.to_dict() for p in paths}


def step(model, today) -> None:
    """Set today's value of every path on the model's parameters (before any other step)."""
    for p in model.paths:
        section, _, leaf = p.parameter.partition(".")
        value = p.value(model.day)
        if getattr(getattr(model.params, section), leaf) != value:
            model.params.set(p.parameter, value)


def _field(parameter: str, where: str = "") -> dataclasses.Field:
    """The leaf ``parameter`` of the parameter tree; an unknown one is refused as ``--set``
    refuses it."""
    section, _, leaf = parameter.partition(".")
    fields = {f.name: f for f in dataclasses.fields(Params)}
    if section in fields and leaf:
        found = {f.name: f for f in dataclasses.fields(fields[section].default_factory())}
        if leaf in found:
            return found[leaf]
    try:
        Params().set(parameter, None)  # gives the unknown-parameter message
    except ParamError as e:
        raise ParamError(f"[paths]: {e}{where}") from None
    raise AssertionError(parameter)  # pragma: no cover


def _is_number(f: dataclasses.Field) -> bool:
    return type(f.default) in (int, float)


def _is_whole(f: dataclasses.Field) -> bool:
    return type(f.default) is int
