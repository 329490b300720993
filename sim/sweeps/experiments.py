"""Experiment files: one question, the runs that answer it, how they vary, what they record.

An experiment file (TOML, in ``experiments/``) is read by :func:`load` into an
:class:`Experiment`, every key checked, and expanded by :func:`expand` into an ordered list of
:class:`RunSpec`. Every run's parameters are resolved (``sim.model.scenarios.resolve_run``) during
expansion, so a bad value anywhere in a design stops the sweep before any run starts, with the
file and the key named. The keys, all but ``name`` and ``description`` optional::

    name, description       text
    days, users             run.days and run.users of every run
    replications | seeds    replication k uses seed base_seed + k, or seeds[k], in every
    base_seed               design point (paired: common random numbers across points)
    scenario, policy        market preset and provider objective of every run
    [base]                  parameter overrides, paths as in --set
    [[interventions]]       treatments in every run (as in a --config file)
    [paths]                 parameters that follow a path over days in every run (ODD 7.13)
    [grid]                  full factorial: path (or scenario, policy) = [values]
    [[cases]]               hand-picked points: label, scenario, policy, set, interventions,
                            paths
    [sample]                method = sobol | morris | latin, n, seed, [sample.ranges] path = [lo, hi]
    [record]                every (days between time-series rows), timeseries, panel

Grid, cases and sample are crossed with each other when more than one is given.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sim.model import paths as param_paths
from sim.model.interventions import (
    Intervention,
    check_names,
    parse_interventions,
    target_columns,
)
from sim.model.params import POLICIES, ParamError, Params, parse_assignment, read_toml
from sim.model.scenarios import SCENARIOS, policy_label, resolve_run
from sim.sweeps.checks import check_input_file, check_sets, estimate_bytes
from sim.sweeps.designs import (
    MAX_RUNS,
    SET_BY_EXPERIMENT,
    Sample,
    check_value,
    choice,
    get,
    no_unknown,
    overrides,
    parse_grid,
    parse_sample,
    sample_points,
    sample_size,
)

TOP_KEYS = (
    "name description days users replications seeds base_seed scenario policy base "
    "interventions paths grid cases sample record"
).split()
CASE_KEYS = ("label", "scenario", "policy", "set", "interventions", "paths")
RECORD_KEYS = ("every", "timeseries", "panel")
POLICY_PATHS = ("market.feed_policy", "market.companion_policy")


@dataclass(frozen=True)
class Record:
    """What each run stores: time-series rows every ``every`` days, and the per-user panel."""

    every: int = 1
    timeseries: bool = True
    panel: bool = False


@dataclass
class Case:
    """A hand-picked design point (a sub-experiment)."""

    label: str
    scenario: str | None = None
    policy: str | None = None
    set: dict[str, Any] = field(default_factory=dict)
    interventions: list[dict[str, Any]] = field(default_factory=list)
    paths: dict[str, Any] = field(default_factory=dict)


@dataclass
class Experiment:
    name: str
    description: str
    path: str
    days: int
    users: int
    seeds: list[int]
    scenario: str = "mixed"
    policy: str | None = None
    base: dict[str, Any] = field(default_factory=dict)
    interventions: list[dict[str, Any]] = field(default_factory=list)
    paths: dict[str, Any] = field(default_factory=dict)  # a [paths] table (sim.model.paths)
    grid: dict[str, list[Any]] = field(default_factory=dict)
    cases: list[Case] = field(default_factory=list)
    sample: Sample | None = None
    record: Record = field(default_factory=Record)
    warnings: list[str] = field(default_factory=list)

    def definition(self) -> dict[str, Any]:
        """Everything that decides the runs and their records (not the description)."""
        keep = [k for k in TOP_KEYS if k not in ("description", "replications", "base_seed")]
        out = {k: getattr(self, k) for k in keep}
        out.update(
            cases=[asdict(c) for c in self.cases],
            sample=asdict(self.sample) if self.sample else None,
            record=asdict(self.record),
        )
        if not self.paths:  # a design without paths keeps the hash it had before they existed
            del out["paths"]
        for case in out["cases"]:
            if not case["paths"]:
                del case["paths"]
        return out

    @property
    def hash(self) -> str:
        return _digest(self.definition(), 16)

    def varied(self) -> list[str]:
        """Parameter paths the design varies, in column order."""
        paths = [k for k in self.grid if k not in ("scenario", "policy")]
        for c in self.cases:
            paths += [p for p in c.set if p not in paths]
        return paths + list(self.sample.ranges if self.sample else ())

    def followed(self) -> dict[str, str]:
        """Parameters that follow a path, each with where the path is given."""
        out = {p: "[paths]" for p in self.paths}
        for c in self.cases:
            out.update({p: f"[[cases]] '{c.label}' paths" for p in c.paths})
        return out

    def varied_through(self) -> dict[str, str]:
        """Parameters the design varies through ``policy`` or ``scenario`` (grid or cases),
        each with the factor that sets it: an override of one would undo the factor."""
        out = {}
        if "policy" in self.grid or any(c.policy for c in self.cases):
            out.update({p: "policy" for p in POLICY_PATHS})
        if "scenario" in self.grid or any(c.scenario for c in self.cases):
            for _, preset in SCENARIOS.values():
                for section, values in preset.items():
                    out.update({f"{section}.{k}": "scenario" for k in values})
        return out


@dataclass
class RunSpec:
    """One run: everything a worker needs, and the identifiers stored with its results."""

    run_id: str
    label: str
    point: int
    replication: int
    seed: int
    scenario: str
    policy: str | None
    policy_label: str
    users: int
    days: int
    providers: int
    overrides: dict[str, Any]
    interventions: list[dict[str, Any]]
    columns: dict[str, Any]  # the design's coordinates: case, sample index, varied parameters
    record: Record
    memory: int = 0  # estimated peak bytes of the run (sim.sweeps.checks.estimate_bytes)
    paths: dict[str, Any] = field(default_factory=dict)  # a [paths] table (sim.model.paths)

    def identifiers(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "label": self.label,
            "point": self.point,
            "replication": self.replication,
            "seed": self.seed,
            "scenario": self.scenario,
            "policy": self.policy_label,
            **self.columns,
            "users": self.users,
            "days": self.days,
        }


# -- reading ------------------------------------------------------------------------------------
def load(
    path: str | Path, sets: list[str] | None = None, replications: int | None = None
) -> Experiment:
    """Read and check an experiment file, then apply ``--set`` and ``--replications``."""
    path = Path(path)
    f = str(path)
    check_input_file(path, "experiment file")
    tree = read_toml(path, "experiment file")
    try:
        exp = _parse(tree, f)
        _apply_overrides(exp, sets or [], replications)
        check_size(exp)
    except ParamError as e:
        raise ParamError(f"{f}: {e}") from None
    return exp


def _parse(tree: dict[str, Any], f: str) -> Experiment:
    no_unknown(tree, TOP_KEYS, "")
    for key in ("name", "description"):
        if key not in tree:
            raise ParamError(f"'{key}' is missing: give the experiment a {key} (text)")
    name = get(tree, "name", str)
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ParamError(f"'name' must be letters, digits, '_', '-' or '.', got {name!r}")
    exp = Experiment(
        name=name,
        description=" ".join(get(tree, "description", str).split()),
        path=f,
        days=_run_value("days", tree.get("days", Params().run.days)),
        users=_run_value("users", tree.get("users", Params().run.users)),
        seeds=_seeds(tree),
        scenario=choice(tree.get("scenario", "mixed"), "'scenario'", SCENARIOS),
        policy=choice(tree["policy"], "'policy'", POLICIES) if "policy" in tree else None,
    )
    exp.base = overrides(get(tree, "base", dict, {}), "[base]")
    exp.interventions = _interventions(tree.get("interventions", []), "the experiment")
    exp.paths = _paths(get(tree, "paths", dict, {}), exp.days, "")
    exp.grid = parse_grid(get(tree, "grid", dict, {}))
    exp.cases = _cases(get(tree, "cases", list, []), exp.days)
    if "sample" in tree:
        exp.sample = parse_sample(get(tree, "sample", dict))
    exp.record = _record(get(tree, "record", dict, {}))
    _check_disjoint(exp)
    return exp


def _apply_overrides(exp: Experiment, sets: list[str], replications: int | None) -> None:
    check_sets(sets)
    varied = set(exp.varied())
    through = exp.varied_through()
    for text in sets:
        path, value = parse_assignment(text)
        if path in varied:
            raise ParamError(f"--set {path}: the experiment varies {path}; edit its design instead")
        if path in through:
            raise ParamError(
                f"--set {path}: the experiment varies {through[path]}, which sets {path}; "
                "edit its design instead"
            )
        if path in exp.followed():
            raise ParamError(
                f"--set {path}: the experiment gives {path} a path; edit its [paths] instead"
            )
        if path == "run.seed":
            raise ParamError(f"--set run.seed: {SET_BY_EXPERIMENT[path]}, or --replications")
        if path in ("run.users", "run.days"):
            setattr(exp, path[4:], _run_value(path[4:], value, "--set "))
        else:
            exp.base[path] = check_value(path, value, "--set")
    for table in [exp.paths, *(c.paths for c in exp.cases)]:  # a run shortened by --set
        exp.warnings += param_paths.cut_short(param_paths.parse(table), exp.days)
    if replications is not None:
        if (
            isinstance(replications, bool)
            or not isinstance(replications, int)
            or not 1 <= replications <= MAX_RUNS
        ):
            raise ParamError(
                f"--replications must be a whole number from 1 to {MAX_RUNS:,}, got {replications!r}"
            )
        if exp.seeds != list(range(exp.seeds[0], exp.seeds[0] + len(exp.seeds))):
            if replications > len(exp.seeds):  # an explicit list: use its first seeds
                raise ParamError(
                    f"--replications {replications}: the file lists only {len(exp.seeds)} seeds"
                )
            exp.seeds = exp.seeds[:replications]
        else:
            exp.seeds = list(range(exp.seeds[0], exp.seeds[0] + replications))


# -- checks -------------------------------------------------------------------------------------
def size(exp: Experiment) -> int:
    """How many runs the experiment makes, counted without making them."""
    points = max(1, len(exp.cases)) * math.prod(len(v) for v in exp.grid.values())
    return points * (sample_size(exp.sample) if exp.sample else 1) * len(exp.seeds)


def check_size(exp: Experiment) -> None:
    """Refuse a design of more than :data:`MAX_RUNS` runs before any of it is made."""
    n = size(exp)
    if n > MAX_RUNS:
        raise ParamError(
            f"the design makes {n:,} runs, more than the {MAX_RUNS:,} a sweep may hold: "
            "use fewer replications, grid values or samples"
        )


def _run_value(name: str, value: Any, where: str = "") -> int:
    try:
        Params().set(f"run.{name}", value)
    except ParamError as e:
        label = f"{where}run.{name}" if where else f"'{name}'"
        raise ParamError(str(e).replace(f"run.{name}", label, 1)) from None
    return int(value)


def _seeds(tree: dict) -> list[int]:
    if "seeds" in tree:
        if "replications" in tree or "base_seed" in tree:
            raise ParamError("give either 'seeds' or 'replications' (with 'base_seed'), not both")
        seeds = get(tree, "seeds", list)
        if not seeds:
            raise ParamError("'seeds' is an empty array: give at least one seed")
        for s in seeds:
            if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s < 2**63:
                raise ParamError(f"'seeds' must hold whole numbers >= 0, got {s!r}")
        if len(set(seeds)) < len(seeds):
            raise ParamError("'seeds' lists a seed twice: replications would be identical")
        return list(seeds)
    n = get(tree, "replications", int, 1)
    base = get(tree, "base_seed", int, 0)
    if not 1 <= n <= MAX_RUNS:
        raise ParamError(f"'replications' must be from 1 to {MAX_RUNS:,}, got {n}")
    if not 0 <= base < 2**63 - n:
        raise ParamError(f"'base_seed' must be a whole number >= 0, got {base}")
    return list(range(base, base + n))


def _interventions(items: Any, where: str) -> list[dict[str, Any]]:
    return [x.to_dict() for x in parse_interventions(items, where)]


def _paths(table: dict, days: int, where: str) -> dict[str, Any]:
    """A ``[paths]`` table checked (ODD 7.13), its points within the file's ``days``; kept in
    the table form that states each path's form."""
    paths = param_paths.parse(table, where)
    param_paths.check_days(paths, days, where)
    param_paths.check(paths, Params(), where)
    return param_paths.table(paths)


def _cases(items: list, days: int) -> list[Case]:
    cases = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ParamError(f"[[cases]] number {i + 1} must be a table")
        label = get(item, "label", str, where=f"[[cases]] number {i + 1}: ")
        if not label.strip() or not label.isprintable():
            raise ParamError(
                f"[[cases]] number {i + 1}: 'label' must be one line of printable text, got {label!r}"
            )
        where = f"[[cases]] '{label}'"
        no_unknown(item, CASE_KEYS, f"{where} ")
        case = Case(label=label)
        if "scenario" in item:
            case.scenario = choice(item["scenario"], f"{where} 'scenario'", SCENARIOS)
        if "policy" in item:
            case.policy = choice(item["policy"], f"{where} 'policy'", POLICIES)
        case.set = overrides(get(item, "set", dict, {}, f"{where} "), f"{where} set")
        case.interventions = _interventions(item.get("interventions", []), where)
        case.paths = _paths(get(item, "paths", dict, {}, f"{where} "), days, f" of {where}")
        cases.append(case)
    labels = [c.label for c in cases]
    for label in labels:
        if labels.count(label) > 1:
            raise ParamError(f"[[cases]] label '{label}' is used twice: labels must differ")
    return cases


def _record(table: dict) -> Record:
    no_unknown(table, RECORD_KEYS, "[record] ")
    every = get(table, "every", int, 1, "[record] ")
    if every < 1:
        raise ParamError(f"[record] 'every' must be at least 1 day, got {every}")
    return Record(
        every=every,
        timeseries=get(table, "timeseries", bool, True, "[record] "),
        panel=get(table, "panel", bool, False, "[record] "),
    )


def _check_disjoint(exp: Experiment) -> None:
    owners: dict[str, str] = {}
    sources = [("[grid]", exp.grid), ("[sample]", exp.sample.ranges if exp.sample else {})]
    sources.append(("[[cases]]", {p: 1 for c in exp.cases for p in c.set}))
    for name, keys in sources:
        for key in keys:
            if key in owners:
                raise ParamError(f"'{key}' is varied by both {owners[key]} and {name}: choose one")
            owners[key] = name
    for key in ("scenario", "policy"):
        if key in exp.grid and any(getattr(c, key) for c in exp.cases):
            raise ParamError(f"'{key}' is varied by both [grid] and [[cases]]: choose one")
    for c in exp.cases:
        for key in c.paths:
            if key in exp.paths:
                raise ParamError(
                    f"[[cases]] '{c.label}' paths '{key}': [paths] gives {key} a path already"
                )
    followed = exp.followed()
    sources = [("[base]", exp.base), ("[grid]", exp.grid)]
    sources += [(f"[[cases]] '{c.label}' set", c.set) for c in exp.cases]
    sources.append(("[sample.ranges]", exp.sample.ranges if exp.sample else {}))
    for name, keys in sources:
        for key in keys:
            if key in followed:
                raise ParamError(
                    f"{name} '{key}': {key} follows a path ({followed[key]}); give it a path "
                    "or a value, not both"
                )
    through = exp.varied_through()
    sources = [("[base]", exp.base), ("[grid]", exp.grid)]
    sources += [(f"[[cases]] '{c.label}' set", c.set) for c in exp.cases]
    sources.append(("[sample.ranges]", exp.sample.ranges if exp.sample else {}))
    for name, keys in sources:
        for key in keys:
            if key in through:
                raise ParamError(
                    f"{name} '{key}': the design varies {through[key]}, which sets {key}; "
                    f"vary {through[key]} or {key}, not both"
                )


# -- expansion ----------------------------------------------------------------------------------
@dataclass
class Point:
    label: str
    scenario: str
    policy: str | None
    overrides: dict[str, Any]
    interventions: list[dict[str, Any]]
    columns: dict[str, Any]
    paths: dict[str, Any] = field(default_factory=dict)


def points(exp: Experiment) -> list[Point]:
    """The design points in a fixed order: cases, then the grid (file order), then samples."""
    grid_keys = list(exp.grid)
    samples = sample_points(exp.sample) if exp.sample else [None]
    out = []
    for case, combo, sample in itertools.product(
        exp.cases or [None], itertools.product(*exp.grid.values()), samples
    ):
        chosen = dict(zip(grid_keys, combo, strict=True))
        parts = [f"{k}={v}" for k, v in chosen.items()]
        scenario = chosen.pop("scenario", None) or (case and case.scenario) or exp.scenario
        policy = chosen.pop("policy", None) or (case and case.policy) or exp.policy
        overrides = {"run.users": exp.users, "run.days": exp.days, **exp.base, **chosen}
        columns: dict[str, Any] = {}
        interventions = list(exp.interventions)
        paths = dict(exp.paths)
        if case is not None:
            parts.insert(0, case.label)
            columns["case"] = case.label
            overrides.update(case.set)
            interventions += case.interventions
            paths.update(case.paths)
        if sample is not None:
            parts.append(f"sample {sample[0]}")
            columns["sample"] = sample[0]
            overrides.update(sample[1])
        label = ", ".join(parts) or exp.name
        out.append(Point(label, scenario, policy, overrides, interventions, columns, paths))
    return out


def expand(exp: Experiment) -> list[RunSpec]:
    """Every run, replication-major: replication k of every point uses the same seed.

    Each point is resolved first, so a bad value anywhere stops here with the point named.
    The varied parameters' columns hold each run's resolved value (a default where a case
    leaves one unset).
    """
    varied = exp.varied()
    checked = []
    for i, pt in enumerate(points(exp)):
        try:
            params, _, _ = resolve_run(pt.scenario, pt.policy, None, pt.overrides, paths=pt.paths)
            _check_targets(pt.interventions, params)
            check_names([Intervention(**x) for x in pt.interventions], "this design point")
        except ParamError as e:
            raise ParamError(f"{exp.path}: design point '{pt.label}': {e}") from None
        flat = params.flat()
        pt.columns.update({p: flat[p] for p in varied})
        checked.append((i, pt, params))
        exp.warnings += never_in_force(pt.interventions, params.run.days)
    exp.warnings = list(dict.fromkeys(exp.warnings))
    specs, seen = [], {}
    for replication, seed in enumerate(exp.seeds):
        for i, pt, params in checked:
            content = [pt.scenario, pt.policy, sorted(pt.overrides.items()), pt.interventions, seed]
            if "sample" in pt.columns:  # a sampler may repeat a point (rounded whole numbers)
                content.append(pt.columns["sample"])
            if pt.paths:  # only then: runs without paths keep the ids they had
                content.append({"paths": pt.paths})
            run_id = _digest(content, 12)
            if run_id in seen:
                raise ParamError(
                    f"{exp.path}: design points '{seen[run_id]}' and '{pt.label}' are the same "
                    "run: every point must differ"
                )
            seen[run_id] = pt.label
            specs.append(
                RunSpec(
                    run_id=run_id,
                    label=pt.label,
                    point=i,
                    replication=replication,
                    seed=seed,
                    scenario=pt.scenario,
                    policy=pt.policy,
                    policy_label=policy_label(params),
                    users=params.run.users,
                    days=params.run.days,
                    providers=params.market.feeds + params.market.companions,
                    overrides=dict(pt.overrides),
                    interventions=list(pt.interventions),
                    columns=dict(pt.columns),
                    record=exp.record,
                    memory=estimate_bytes(
                        params.run.users,
                        params.network.mean_degree,
                        params.run.panel_users if exp.record.panel else 0,
                    ),
                    paths=dict(pt.paths),
                )
            )
    return specs


def never_in_force(interventions: list[dict[str, Any]], days: int) -> list[str]:
    """Warnings for interventions that start after a run's last day."""
    return [
        f"intervention {x['name']} starts on day {x['start']}, after the last day "
        f"({days - 1}): it is never in force"
        for x in interventions
        if x["start"] >= days and x["kind"] != "launch"
    ]


def _check_targets(interventions: list[dict[str, Any]], params: Params) -> None:
    """Interventions must target providers that exist in this point's market."""
    m = params.market
    kinds = ["feed"] * m.feeds + ["companion"] * m.companions
    names = [f"feed_{chr(97 + k)}" for k in range(m.feeds)]
    names += [f"companion_{chr(97 + k)}" for k in range(m.companions)]
    for x in interventions:
        try:
            target_columns(Intervention(**x), names, kinds)
        except ParamError as e:
            raise ParamError(f"intervention {x['name']}: {e}") from None


def estimate_seconds(spec: RunSpec) -> float:
    """Rough single-core seconds of one run, from users, days and providers (2-core laptop)."""
    per_day = 0.6e-3 + 0.35e-3 * spec.providers + spec.users * (0.9e-6 + 0.25e-6 * spec.providers)
    return 0.05 + spec.days * per_day * (1.1 if spec.record.panel else 1.0)


def _digest(obj: Any, n: int) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:n]
