"""Market presets and how a run's parameters are resolved from defaults, files and overrides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.model import paths as param_paths
from sim.model.interventions import Intervention, parse_interventions
from sim.model.params import POLICIES, ParamError, Params, parse_assignment, read_toml
from sim.model.paths import ParamPath

SCENARIOS: dict[str, tuple[str, dict[str, dict[str, Any]]]] = {
    "mixed": (
        "feed platforms and AI companions compete for the same users' time",
        {"market": {"feeds": 2, "companions": 2}},
    ),
    "attention_economy": (
        "ad-funded feed platforms only",
        {"market": {"feeds": 2, "companions": 0}},
    ),
    "intimacy_economy": (
        "subscription AI companions only",
        {"market": {"feeds": 0, "companions": 2}},
    ),
}
DEFAULT_SCENARIO = "mixed"


def resolve(
    scenario: str = DEFAULT_SCENARIO,
    policy: str | None = None,
    config: str | Path | dict | None = None,
    sets: list[str] | dict[str, Any] | None = None,
    **run: Any,
) -> tuple[Params, list[Intervention]]:
    """Build the parameters of one run.

    Priority, lowest first: defaults, the market preset ``scenario``, ``policy`` (every
    provider's objective), the ``config`` file or mapping, ``sets`` overrides, then the ``run``
    keywords (``users``, ``days``, ``seed`` ...) when not None. A config with ``[paths]`` is
    refused: :func:`resolve_run` also returns the paths.
    """
    params, interventions, paths = resolve_run(scenario, policy, config, sets, **run)
    if paths:
        source = "config" if isinstance(config, dict) else config
        raise ParamError(
            f"[paths] in {source}: parameter paths are followed only by sim run and sim sweep"
        )
    return params, interventions


def resolve_run(
    scenario: str = DEFAULT_SCENARIO,
    policy: str | None = None,
    config: str | Path | dict | None = None,
    sets: list[str] | dict[str, Any] | None = None,
    *,
    paths: dict[str, Any] | list[ParamPath] | None = None,
    **run: Any,
) -> tuple[Params, list[Intervention], list[ParamPath]]:
    """:func:`resolve`, and the parameter paths (ODD 7.13): the config's ``[paths]`` table,
    then ``paths`` (a table as in a file, or :class:`~sim.model.paths.ParamPath` s).

    A parameter that follows a path may not also be set by the config's tables or ``sets``
    (the path would overrule them). The points of the config's paths must lie within the run
    as the config (or the preset) makes it or ``sets`` and ``run`` lengthen it; a run they
    shorten follows the start of the paths (:func:`sim.model.paths.cut_short` words the warning).
    """
    if scenario not in SCENARIOS:
        raise ParamError(f"unknown scenario {scenario!r}: choose one of {', '.join(SCENARIOS)}")
    params = Params()
    params.update(SCENARIOS[scenario][1], f"scenario {scenario}")
    if policy is not None:
        if policy not in POLICIES:
            raise ParamError(f"unknown policy {policy!r}: choose one of {', '.join(POLICIES)}")
        params.market.feed_policy = params.market.companion_policy = policy
    interventions: list[Intervention] = []
    paths_given, paths = paths, []
    where, setting = "", set()
    if config is not None:
        tree = dict(config) if isinstance(config, dict) else read_toml(config)
        source = "config" if isinstance(config, dict) else str(config)
        where = f" in {source}"
        interventions = parse_interventions(tree.pop("interventions", []), source)
        paths = param_paths.parse(tree.pop("paths", {}), where)
        params.update(tree, source)
        setting = {f"{s}.{k}" for s, t in tree.items() if isinstance(t, dict) for k in t}
    configured_days = params.run.days
    items = sets.items() if isinstance(sets, dict) else (parse_assignment(s) for s in sets or [])
    for path, value in items:
        params.set(path, value)
        setting.add(path)
    for name, value in run.items():
        if value is not None:
            params.set(f"run.{name}", value)
    params.validate()
    # the config's points lie within the run as it makes it, or as the options lengthen it
    param_paths.check_days(paths, max(configured_days, params.run.days), where)
    paths += param_paths.parse(paths_given or {})
    for p in paths:
        if p.parameter in setting:
            raise ParamError(
                f"[paths] '{p.parameter}'{where}: {p.parameter} follows a path and is also set "
                "to one value: give one or the other"
            )
    param_paths.check(paths, params, where)
    return params, interventions, paths


def policy_label(params: Params) -> str:
    """One word when every provider shares an objective, else ``feed/companion`` objectives."""
    m = params.market
    if m.feeds == 0:
        return m.companion_policy
    if m.companions == 0 or m.feed_policy == m.companion_policy:
        return m.feed_policy
    return f"{m.feed_policy}/{m.companion_policy}"
