"""Market presets and how a run's parameters are resolved from defaults, files and overrides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.model.interventions import Intervention, parse_interventions
from sim.model.params import POLICIES, ParamError, Params, parse_assignment, read_toml

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
    keywords (``users``, ``days``, ``seed`` ...) when not None.
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
    if config is not None:
        tree = dict(config) if isinstance(config, dict) else read_toml(config)
        source = "config" if isinstance(config, dict) else str(config)
        interventions = parse_interventions(tree.pop("interventions", []), source)
        params.update(tree, source)
    items = sets.items() if isinstance(sets, dict) else (parse_assignment(s) for s in sets or [])
    for path, value in items:
        params.set(path, value)
    for name, value in run.items():
        if value is not None:
            params.set(f"run.{name}", value)
    params.validate()
    return params, interventions


def policy_label(params: Params) -> str:
    """One word when every provider shares an objective, else ``feed/companion`` objectives."""
    m = params.market
    if m.feeds == 0:
        return m.companion_policy
    if m.companions == 0 or m.feed_policy == m.companion_policy:
        return m.feed_policy
    return f"{m.feed_policy}/{m.companion_policy}"
