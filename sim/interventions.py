"""Interventions: policy and experimental treatments for a share of users over a span of days
(MODEL.md mechanism 13; ODD 7.13).

An intervention is data: a kind, the users it targets (a random ``share`` drawn from its own
named stream, so arms are reproducible and independent of every other draw), the providers it
touches, and the days ``[start, end)`` it is in force. Each day :func:`todays_constraints`
turns the ones in force into masks and caps that the choice and business steps read.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from sim.params import ParamError

KINDS: dict[str, str] = {
    "deactivate": "treated users cannot use the targeted providers (their accounts, and any subscription, stay open)",
    "cap_minutes": "treated users' daily minutes per targeted provider are capped at `value`",
    "lockdown": "socialising's weight in treated users' time split is scaled by 1 - `value` (1 = no meeting at all); applies whatever `providers` says",
    "ban_manipulation": "targeted companions may not use manipulative farewells",
    "ad_load_cap": "targeted feeds may show at most the share `value` of ads",
    "ad_tax": "the share `value` of targeted feeds' ad revenue is taxed away",
    "nudge_mandate": "targeted providers must nudge toward human contact at least `value`",
}
VALUE_RANGE = {
    "cap_minutes": (0.0, 1440.0),
    "lockdown": (0.0, 1.0),
    "ad_load_cap": (0.0, 0.3),
    "ad_tax": (0.0, 1.0),
    "nudge_mandate": (0.0, 1.0),
}


@dataclass
class Intervention:
    kind: str
    start: int = 0
    end: int | None = None  # first day no longer in force; None: to the end of the run
    share: float = 1.0  # share of users treated, assigned at random
    providers: str = "all"  # all | feeds | companions | a provider's name
    value: float = 0.0
    name: str = ""  # label and name of the assignment stream; defaults to the kind

    def __post_init__(self):
        self.name = self.name or self.kind
        self.validate()

    def validate(self, where: str = "") -> None:
        at = f" in {where}" if where else ""
        if self.kind not in KINDS:
            raise ParamError(
                f"unknown intervention kind {self.kind!r}{at}: choose one of {', '.join(KINDS)}"
            )
        if not isinstance(self.start, int) or self.start < 0:
            raise ParamError(f"intervention {self.name}.start must be a whole day >= 0{at}")
        if self.end is not None and (not isinstance(self.end, int) or self.end <= self.start):
            raise ParamError(f"intervention {self.name}.end must be a whole day after start{at}")
        if not 0.0 <= self.share <= 1.0:
            raise ParamError(f"intervention {self.name}.share must be in [0, 1]{at}")
        if self.kind in VALUE_RANGE:
            lo, hi = VALUE_RANGE[self.kind]
            if not lo <= self.value <= hi:
                raise ParamError(f"intervention {self.name}.value must be in [{lo:g}, {hi:g}]{at}")

    def active(self, day: int) -> bool:
        return self.start <= day and (self.end is None or day < self.end)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def parse_interventions(items: Any, source: str) -> list[Intervention]:
    """Interventions from a config's ``[[interventions]]`` tables."""
    if not isinstance(items, list):
        raise ParamError(
            f"'interventions' in {source} must be an array of tables ([[interventions]])"
        )
    allowed = {f.name for f in fields(Intervention)}
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ParamError(f"interventions[{i}] in {source} must be a table")
        unknown = set(item) - allowed
        if unknown:
            raise ParamError(
                f"unknown key {sorted(unknown)[0]!r} in interventions[{i}] of {source}: "
                f"allowed keys are {', '.join(sorted(allowed))}"
            )
        if "kind" not in item:
            raise ParamError(
                f"interventions[{i}] in {source} needs a kind: one of {', '.join(KINDS)}"
            )
        try:
            out.append(Intervention(**item))
        except TypeError as e:
            raise ParamError(f"interventions[{i}] in {source}: {e}") from None
        except ParamError as e:
            raise ParamError(f"{e} (interventions[{i}] in {source})") from None
    return out


@dataclass
class Constraints:
    """What the interventions in force allow today (all-permissive when none are)."""

    availability: np.ndarray  # (N, P) 0-1 weight on each provider in the time allocation
    cap: np.ndarray  # (N, P) minutes
    social_scale: np.ndarray  # (N,) share of socialising still possible
    ad_tax: np.ndarray  # (N, P) share of ad revenue taxed away
    lever_limits: list[tuple[np.ndarray, np.ndarray, str, str, float]] = field(default_factory=list)

    def limit_lever(self, lever: str, values: np.ndarray) -> np.ndarray:
        """Apply bans, caps and mandates on a lever matrix of shape (N, P) or (P,)."""
        for users, cols, name, op, bound in self.lever_limits:
            if name != lever:
                continue
            values = np.array(np.broadcast_to(values, (users.shape[0], cols.shape[0])), dtype=float)
            region = users[:, None] & cols[None, :]
            limited = np.minimum(values, bound) if op == "max" else np.maximum(values, bound)
            values = np.where(region, limited, values)
        return values


def provider_columns(target: str, names: list[str], kinds: list[str]) -> np.ndarray:
    if target == "all":
        return np.ones(len(names), bool)
    if target in ("feeds", "companions"):
        return np.array([k + "s" == target for k in kinds])
    if target not in names:
        raise ParamError(
            f"intervention targets unknown provider {target!r}: choose all, feeds, companions or one of {', '.join(names)}"
        )
    return np.array([n == target for n in names])


def assign(intervention: Intervention, n_users: int, streams) -> np.ndarray:
    """Treated users: a seeded random share, drawn once from the intervention's own stream."""
    return streams(f"assign:{intervention.name}").random(n_users) < intervention.share


def todays_constraints(model) -> Constraints:
    n, P, day = model.users.n, len(model.providers), model.day
    availability = np.ones((n, P))
    for j, p in enumerate(model.providers):
        if day < p.launch_day:
            availability[:, j] = 0.0
    c = Constraints(
        availability=availability,
        cap=np.full((n, P), np.inf),
        social_scale=np.ones(n),
        ad_tax=np.zeros((n, P)),
    )
    for iv, users, cols in model.intervention_arms:
        if not iv.active(day):
            continue
        region = users[:, None] & cols[None, :]
        if iv.kind == "deactivate":
            c.availability[region] = 0.0
        elif iv.kind == "cap_minutes":
            c.cap[region] = np.minimum(c.cap[region], iv.value)
        elif iv.kind == "lockdown":
            c.social_scale[users] *= 1.0 - iv.value
        elif iv.kind == "ban_manipulation":
            c.lever_limits.append((users, cols, "manipulation", "max", 0.0))
        elif iv.kind == "ad_load_cap":
            c.lever_limits.append((users, cols, "ad_load", "max", iv.value))
        elif iv.kind == "nudge_mandate":
            c.lever_limits.append((users, cols, "nudge", "min", iv.value))
        elif iv.kind == "ad_tax":
            c.ad_tax[region] = np.maximum(c.ad_tax[region], iv.value)
    return c
