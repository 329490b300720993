"""In-silico versions of published studies, scored against their findings (``sim validate``).

Each study is a TOML file in ``experiments/validation/``: a ``[study]`` table (name, citation,
design, days, users, replications and their ``quick_`` versions), a ``[params]`` table of
parameter overrides as in ``--config``, optional ``[[interventions]]`` (the study's arms) and
``[[findings]]``. A finding names an estimator, what it reads, its kind (below) and the
published target with a band. Replication k of a study runs with seed ``seed + k``;
counterfactual runs (the same study with some parameters changed, such as the impulsive pull
switched off) reuse the replication's seed, so they differ from the factual run only through
the change (common random numbers). A counterfactual may also change a field of one of the
study's interventions, as ``"interventions.{name}.{field}"``: turning an experiment into a
``placebo`` keeps its sample and arms (the same assignment stream and, up to the start, the
same history) and treats no one, so each treated user is paired with their own untreated run
(``paired_median``).

A finding's ``scale`` (default 1) multiplies every replication's value before it is scored,
to put the estimate in the finding's units (100 for loneliness, a share in the model, on a
0-100 scale). Between-arms estimators (``arms_difference``, ``arms_did``) compare the treated
users of two interventions of the study (``arm`` and ``other_arm``), such as the arms of a
laboratory study randomised into groups of one assignment (ODD 7.13).

An estimate is the mean over replications with a 95% confidence interval from Student's t
(half-width ``t(0.975, n-1) * sd / sqrt(n)``). A finding is of one of two kinds (ODD 1.2, 10):

- a **band** finding (``kind = "band"``, the default: a published value with a band around it)
  **passes** when the estimate lies inside its band *and* the interval is no wider than the
  band: its half-width is at most half the band's width. The band is the resolution the
  finding claims, so an estimate less precise than that cannot be said to reproduce it;
- a **direction** finding (``kind = "direction"``, a published sign: its band is open on one
  side, with the finite edge the smallest effect that counts) **passes** when the estimate lies
  inside its band *and* the whole interval lies on the band's side of zero, so the sign is
  established, not only suggested.

A finding whose estimate lies outside its band is a ``miss``. One whose estimate lies inside
but whose interval is too wide is ``too uncertain``, not a pass; its ``n_needed`` is the fewest
replications whose interval, at the spread seen across replications, would be narrow enough
(about ``n * (half / allowed)^2`` once ``n`` is large enough for ``t`` to be near 1.96; with
two replications ``t`` is 12.7, so fewer are needed than that formula says). A finding whose
quantity the model cannot produce is reported as ``not modelled``. Only a ``pass`` counts as
reproduced; the other three count against the model.
"""

from __future__ import annotations

import copy
import math
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from sim.model import compiled
from sim.model.metrics import UserSum
from sim.model.params import ParamError, parse_assignment, read_toml
from sim.model.scenarios import resolve
from sim.sweeps.designs import flatten, overrides

STUDIES_DIR = Path(__file__).resolve().parents[2] / "experiments" / "validation"
MECHANISMS = (
    "two_selves",
    "habit",
    "learning",
    "experience",
    "attachment",
    "dependence",
    "social",
    "manipulation",
    "adoption",
    "network_effects",
    "adaptation",
    "heterogeneity",
)


@dataclass
class Finding:
    finding: str
    estimator: str
    target: float
    band: tuple[float, float]
    units: str = ""
    arm: str = ""
    other_arm: str = ""
    metric: str = ""
    days: tuple[int, int] = (0, 0)
    reference_days: tuple[int, int] = (0, 0)
    counterfactual: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    kind: str = "band"  # or "direction": a sign, with a band open on one side
    scale: float = 1.0  # the estimate in the finding's units: 100 for loneliness on 0-100


# a band edge at or beyond this size is open: the files write 1e9 for "no bound"
OPEN = 1e8
KINDS = ("band", "direction")
STATUSES = ("pass", "too uncertain", "miss", "not modelled")


def one_sided(band: tuple[float, float]) -> bool:
    """Whether a band is open on one side (``[x, 1e9]`` or ``[-1e9, x]``)."""
    return band[1] >= OPEN or band[0] <= -OPEN


def check_kind(f: dict, where: str) -> None:
    """A direction finding's band is open on one side and excludes zero; a band finding's is
    closed on both."""
    kind, (low, high) = f.get("kind", "band"), f["band"]
    if kind not in KINDS:
        raise ParamError(f"{where}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if kind == "band" and one_sided((low, high)):
        raise ParamError(f'{where}: a band open on one side is a sign; write kind = "direction"')
    if kind == "direction" and not ((low >= 0 and high >= OPEN) or (high <= 0 and low <= -OPEN)):
        raise ParamError(
            f"{where}: a direction finding's band is [x, 1e9] with x >= 0 or [-1e9, x] with x <= 0"
        )


@dataclass
class Study:
    name: str
    citation: str
    design: str
    path: Path
    days: int
    users: int
    replications: int
    quick_users: int
    quick_replications: int
    seed: int
    params: dict[str, Any]
    interventions: list[dict[str, Any]]
    findings: list[Finding]

    def config(self, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """The study as a ``sim.run`` config mapping, with dotted ``overrides`` applied."""
        tree = copy.deepcopy(self.params)
        interventions = copy.deepcopy(self.interventions)
        for path, value in (overrides or {}).items():
            section, _, name = path.partition(".")
            if section == "interventions":
                change_intervention(interventions, name, value, self.path)
            else:
                tree.setdefault(section, {})[name] = value
        return {**tree, "interventions": interventions}

    def user_sums(self) -> list[UserSum]:
        """The per-user sums its paired findings read, for every run of the study (ODD 7.14)."""
        wanted = {UserSum(f.metric, *f.days) for f in self.findings if f.estimator in PAIRED}
        return sorted(wanted, key=str)


def change_intervention(interventions: list[dict], path: str, value: Any, where: Path) -> None:
    """Set ``field`` of the intervention named ``name`` (``path`` = ``name.field``; names may
    hold dots, fields do not)."""
    name, _, key = path.rpartition(".")
    for item in interventions:
        if item.get("name", item.get("kind")) == name:
            item[key] = value
            return
    raise ParamError(f"counterfactual interventions.{path} in {where}: no intervention {name!r}")


STUDY_KEYS = {
    "name",
    "citation",
    "design",
    "days",
    "users",
    "replications",
    "quick_users",
    "quick_replications",
    "seed",
}
FINDING_KEYS = {f for f in Finding.__dataclass_fields__}


def load_study(path: Path) -> Study:
    """Read and check one study file; every problem is one :class:`ParamError` line."""
    tree = read_toml(path, "study file")
    unknown = set(tree) - {"study", "params", "interventions", "findings"}
    if unknown:
        raise ParamError(
            f"unknown table {sorted(unknown)[0]!r} in {path}: allowed are study, params, interventions, findings"
        )
    head = tree.get("study", {})
    if set(head) - STUDY_KEYS:
        raise ParamError(f"unknown key {sorted(set(head) - STUDY_KEYS)[0]!r} in [study] of {path}")
    findings = []
    for i, item in enumerate(tree.get("findings", [])):
        if set(item) - FINDING_KEYS:
            raise ParamError(
                f"unknown key {sorted(set(item) - FINDING_KEYS)[0]!r} in findings[{i}] of {path}"
            )
        if item.get("estimator") not in ESTIMATORS:
            raise ParamError(
                f"findings[{i}].estimator in {path} must be one of {', '.join(ESTIMATORS)}"
            )
        if item["estimator"] in NEEDS_COUNTERFACTUAL and not item.get("counterfactual"):
            raise ParamError(
                f"findings[{i}] in {path}: estimator {item['estimator']} needs a counterfactual"
            )
        days = item.get("days", (0, 0))
        if item["estimator"] in PAIRED and not (item.get("arm") and 0 <= days[0] < days[1]):
            raise ParamError(
                f"findings[{i}] in {path}: a paired estimate needs an arm and days = [start, end]"
            )
        if item["estimator"] in BETWEEN_ARMS:
            names = {x.get("name", x.get("kind")) for x in tree.get("interventions", [])}
            for key in ("arm", "other_arm"):
                if item.get(key) not in names:
                    raise ParamError(
                        f"findings[{i}] in {path}: estimator {item['estimator']} needs {key} = "
                        f"the name of one of the study's interventions, got {item.get(key)!r}"
                    )
        scale = item.get("scale", 1.0)
        if not isinstance(scale, int | float) or isinstance(scale, bool) or not scale:
            raise ParamError(f"findings[{i}].scale in {path} must be a number other than 0")
        check_kind(item, f"findings[{i}] in {path}")
        item = {
            **item,
            "band": tuple(item["band"]),
            "days": tuple(item.get("days", (0, 0))),
            "reference_days": tuple(item.get("reference_days", (0, 0))),
        }
        findings.append(Finding(**item))
    study = Study(
        name=head.get("name", Path(path).stem),
        citation=head.get("citation", ""),
        design=head.get("design", ""),
        path=Path(path),
        days=head.get("days", 365),
        users=head.get("users", 10_000),
        replications=head.get("replications", 8),
        quick_users=head.get("quick_users", 1000),
        quick_replications=head.get("quick_replications", 2),
        seed=head.get("seed", 1),
        params=tree.get("params", {}),
        interventions=tree.get("interventions", []),
        findings=findings,
    )
    for f in [None, *(f for f in findings if f.counterfactual)]:  # fails fast
        resolve(
            config=study.config(f and f.counterfactual), days=study.days, users=study.quick_users
        )
    return study


def load_studies(names: list[str] | None = None, directory: Path = STUDIES_DIR) -> list[Study]:
    studies = [load_study(p) for p in sorted(directory.glob("*.toml"))]
    if names:
        known = {s.name for s in studies}
        for n in names:
            if n not in known:
                raise ParamError(f"unknown study {n!r}: choose from {', '.join(sorted(known))}")
        studies = [s for s in studies if s.name in names]
    return studies


def read_overrides(config: Path | None = None, sets: list[str] | None = None) -> dict[str, Any]:
    """Parameter overrides for every study, from a parameter file and ``PATH=VALUE`` texts
    (``--set`` wins), each value checked against the parameter tree (name, type, range).

    A study's design is its own: ``run.*`` and interventions cannot be overridden.
    """
    tree = read_toml(config, "--config") if config is not None else {}
    if "interventions" in tree:
        raise ParamError(
            f"--config {config}: interventions are part of each study's design; "
            "give parameter tables only"
        )
    assigned = dict(parse_assignment(text) for text in sets or [])
    for path in [*flatten(tree), *assigned]:
        if path.startswith("run."):
            raise ParamError(
                f"{path}: run length, size and seeds are part of each study's "
                "design and cannot be overridden"
            )
    return {**overrides(tree, f"--config {config}"), **overrides(assigned, "--set")}


# -- running -------------------------------------------------------------------------------
def _run_one(
    config: dict, users: int, days: int, seed: int, sums: list[UserSum] = ()
) -> dict[str, Any]:
    """One replication (in a worker): the time series and summary; with ``sums``, those
    per-user sums and every intervention's treated users."""
    from sim.sweeps.single import run

    result = run(config=config, users=users, days=days, seed=seed, user_sums=list(sums))
    return {
        "timeseries": result.timeseries,
        "summary": result.summary,
        "params": result.params.flat(),
        "user_sums": result.user_sums,
        "treated": result.treated,
    }


def run_studies(
    studies: list[Study],
    quick: bool = False,
    ablate: str | None = None,
    executor: Executor | None = None,
    progress=None,
    overrides: dict[str, Any] | None = None,
    replications: int | None = None,
) -> list[dict[str, Any]]:
    """Run every replication (and counterfactual) of every study; return the scorecard rows.

    ``overrides`` (dotted paths, as from :func:`read_overrides`) apply to every study's
    parameters; an ablation and a finding's counterfactual apply on top of them.
    ``replications``, if given, is the fewest replications any study runs (more where the
    study's own number, full or quick, is larger).
    """
    if ablate is not None and ablate not in MECHANISMS:
        raise ParamError(f"--ablate must be one of {', '.join(MECHANISMS)}, got {ablate!r}")
    own = executor is None
    if executor is None:
        from sim.sweeps.runner import process_pool

        executor = process_pool(compiled.cpus())
    extra = {**(overrides or {}), **({f"mechanisms.{ablate}": False} if ablate else {})}
    jobs = {}
    try:
        for s in studies:
            users = s.quick_users if quick else s.users
            reps = replications_of(s, quick, replications)
            variants = {"": {}} | {
                _key(f.counterfactual): f.counterfactual for f in s.findings if f.counterfactual
            }
            for k in range(reps):
                for key, change in variants.items():
                    jobs[(s.name, k, key)] = executor.submit(
                        _run_one,
                        s.config({**extra, **change}),
                        users,
                        s.days,
                        s.seed + k,
                        s.user_sums(),
                    )
        results = {}
        for key, fut in jobs.items():
            results[key] = fut.result()
            if progress:
                progress()
    finally:
        if own:
            executor.shutdown()
    rows = []
    for s in studies:
        reps = replications_of(s, quick, replications)
        for f in s.findings:
            values = [
                ESTIMATORS[f.estimator](
                    f, results[(s.name, k, "")], results.get((s.name, k, _key(f.counterfactual)))
                )
                for k in range(reps)
            ]
            values = [None if v is None else v * f.scale for v in values]
            rows.append(score(s, f, values))
    return rows


def replications_of(study: Study, quick: bool, replications: int | None) -> int:
    own = study.quick_replications if quick else study.replications
    return own if replications is None else max(own, replications)


def _key(change: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(change.items()))


def score(study: Study, f: Finding, values: list[float | None]) -> dict[str, Any]:
    """One scorecard row: the estimate over replications, its 95% interval and the status
    (``pass``, ``too uncertain``, ``miss`` or ``not modelled``, module docstring; ODD 1.2)."""
    row = {
        "study": study.name,
        "citation": study.citation,
        "finding": f.finding,
        "kind": f.kind,
        "target": f.target,
        "band_low": f.band[0],
        "band_high": f.band[1],
        "units": f.units,
        "note": f.note,
    }
    if any(v is None for v in values):
        return {
            **row,
            "estimate": None,
            "ci_low": None,
            "ci_high": None,
            "n": len(values),
            "status": "not modelled",
            "n_needed": None,
        }
    x = np.asarray(values, dtype=float)
    mean = float(x.mean())
    half = (
        float(stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
        if x.size > 1
        else float("nan")
    )
    allowed = allowed_half_width(f, mean)
    if not f.band[0] <= mean <= f.band[1]:
        status = "miss"
    elif half <= allowed and (f.kind == "band" or half < allowed):  # NaN (one run): uncertain
        status = "pass"
    else:
        status = "too uncertain"
    return {
        **row,
        "estimate": mean,
        "ci_low": mean - half,
        "ci_high": mean + half,
        "n": int(x.size),
        "status": status,
        "n_needed": replications_needed(x, allowed) if status == "too uncertain" else None,
    }


def allowed_half_width(f: Finding, estimate: float) -> float:
    """The widest 95% half-width a finding may have to pass: half its band's width for a band
    finding; for a direction finding the distance of the estimate from zero (the interval must
    not reach zero, so a direction finding needs a half-width strictly below it)."""
    if f.kind == "direction":
        return abs(estimate)
    return (f.band[1] - f.band[0]) / 2


def replications_needed(x: np.ndarray, allowed: float) -> int | None:
    """The fewest replications whose Student-t 95% half-width, at the spread of ``x``, would be
    below ``allowed``; None when that cannot be said (one replication, or nothing allowed)."""
    if x.size < 2 or not allowed > 0:
        return None
    sd = float(x.std(ddof=1))
    m = max(x.size + 1, math.ceil((stats.norm.ppf(0.975) * sd / allowed) ** 2))
    while m < 10**9 and stats.t.ppf(0.975, m - 1) * sd / math.sqrt(m) >= allowed:
        m += 1  # t > 1.96: a few more than the normal approximation says
    return m


# -- estimators: each turns one replication into one number (None: not modelled) ------------
def _window(ts, column: str, days: tuple[int, int]) -> float:
    return float(ts[column].iloc[days[0] : days[1]].mean())


def arm_effect(f: Finding, r: dict, _=None) -> float:
    """Treated minus control mean of ``metric`` over ``days``, in model units."""
    ts = r["timeseries"]
    return _window(ts, f"arm.{f.arm}.treated.{f.metric}", f.days) - _window(
        ts, f"arm.{f.arm}.control.{f.metric}", f.days
    )


def arm_level(f: Finding, r: dict, _=None) -> float:
    """Treated mean of ``metric`` over ``days``."""
    return _window(r["timeseries"], f"arm.{f.arm}.treated.{f.metric}", f.days)


def arm_effect_sd(f: Finding, r: dict, _=None) -> float:
    """arm_effect divided by the control arm's standard deviation of ``metric``."""
    sd = _window(r["timeseries"], f"arm.{f.arm}.control.{f.metric}_sd", f.days)
    return arm_effect(f, r) / sd


def arm_relative(f: Finding, r: dict, _=None) -> float:
    """arm_effect as a share of the control mean."""
    return arm_effect(f, r) / _window(r["timeseries"], f"arm.{f.arm}.control.{f.metric}", f.days)


def arm_did_relative(f: Finding, r: dict, _=None) -> float:
    """Change of ``metric`` in the treated arm relative to control, against ``reference_days``."""
    ts = r["timeseries"]
    t = _window(ts, f"arm.{f.arm}.treated.{f.metric}", f.days) / _window(
        ts, f"arm.{f.arm}.treated.{f.metric}", f.reference_days
    )
    c = _window(ts, f"arm.{f.arm}.control.{f.metric}", f.days) / _window(
        ts, f"arm.{f.arm}.control.{f.metric}", f.reference_days
    )
    return t / c - 1.0


def arms_difference(f: Finding, r: dict, _=None) -> float:
    """Treated mean of ``arm`` minus treated mean of ``other_arm`` (design variants)."""
    ts = r["timeseries"]
    return _window(ts, f"arm.{f.arm}.treated.{f.metric}", f.days) - _window(
        ts, f"arm.{f.other_arm}.treated.{f.metric}", f.days
    )


def arms_did(f: Finding, r: dict, _=None) -> float:
    """Difference in differences between randomised arms: the change of the treated mean of
    ``metric`` in ``arm`` from ``reference_days`` to ``days``, less the same change in
    ``other_arm``. With two windows of one day each it is

        (m_arm(days) - m_arm(ref)) - (m_other(days) - m_other(ref))

    the before-and-after design of laboratory studies, against a control arm."""
    ts = r["timeseries"]

    def change(arm: str) -> float:
        column = f"arm.{arm}.treated.{f.metric}"
        return _window(ts, column, f.days) - _window(ts, column, f.reference_days)

    return change(f.arm) - change(f.other_arm)


def series_mean(f: Finding, r: dict, _=None) -> float:
    """Mean of a model-level daily series over ``days``."""
    return _window(r["timeseries"], f.metric, f.days)


def lever_mean(f: Finding, r: dict, _=None) -> float:
    """Mean over providers and ``days`` of the lever ``metric`` (e.g. ad_load)."""
    ts = r["timeseries"]
    cols = [c for c in ts.columns if c.endswith(f".{f.metric}") and not c.startswith("arm.")]
    return float(ts[cols].iloc[f.days[0] : f.days[1]].to_numpy().mean())


def counterfactual_share(f: Finding, r: dict, cf: dict) -> float:
    """Share of ``metric`` over ``days`` that vanishes in the counterfactual run. With the
    impulsive pull switched off this is the self-control share of use, the model's one
    definition of it (ODD 1.2); the daily ``compulsive_minute_share`` is another quantity."""
    factual = _window(r["timeseries"], f.metric, f.days)
    return 1.0 - _window(cf["timeseries"], f.metric, f.days) / factual


def paired_median(f: Finding, r: dict, cf: dict) -> float | None:
    """Median over the treated users of ``arm`` of each user's paired difference, counterfactual
    run minus factual run, in the sum of the per-user state ``metric`` over ``days`` (ODD 7.7,
    willingness to accept):

        WTA_i = sum_{d in days} (metric_i(d | counterfactual) - metric_i(d | factual))

    With the factual run deactivating and the counterfactual its placebo, and ``metric =
    valuation``, WTA_i is what user i would accept to give the provider up for those days.
    The pairing holds only if both runs treat the same users, which is checked."""
    treated = r["treated"][f.arm]
    if not np.array_equal(treated, cf["treated"][f.arm]):
        raise ValueError(
            f"{f.finding}: the factual and counterfactual runs treat different users in arm "
            f"{f.arm!r}; a paired estimate needs the same sample and assignment"
        )
    if not treated.any():
        return None
    key = UserSum(f.metric, *f.days)
    return float(np.median(cf["user_sums"][key][treated] - r["user_sums"][key][treated]))


def parameter(f: Finding, r: dict, _=None) -> float:
    """A parameter's value (for figures the model takes as input rather than produces)."""
    return float(r["params"][f.metric])


def not_modelled(f: Finding, r: dict, _=None) -> None:
    return None


ESTIMATORS = {
    "arm_effect": arm_effect,
    "arm_level": arm_level,
    "arm_effect_sd": arm_effect_sd,
    "arm_relative": arm_relative,
    "arm_did_relative": arm_did_relative,
    "arms_difference": arms_difference,
    "arms_did": arms_did,
    "series_mean": series_mean,
    "lever_mean": lever_mean,
    "counterfactual_share": counterfactual_share,
    "paired_median": paired_median,
    "parameter": parameter,
    "not_modelled": not_modelled,
}


PAIRED = {"paired_median"}  # estimators that read per-user sums (Study.user_sums)
BETWEEN_ARMS = {"arms_difference", "arms_did"}  # estimators that compare two interventions' arms
NEEDS_COUNTERFACTUAL = {"counterfactual_share", *PAIRED}
