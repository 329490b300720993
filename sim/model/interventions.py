"""Interventions: policy and experimental treatments for a share of users over a span of days
(ODD 7.13).

An intervention is data: a kind, the users it targets, the providers it touches, and the days
``[start, end)`` it is in force. Each day :func:`todays_constraints` turns the ones in force into
masks, caps and lever limits that the choice and business steps read.

Who is in the experiment: everyone (``sample = "everyone"``, the default); with
``sample = "users"``, only the users of the targeted providers on the recruitment day
``recruit`` (default: ``start``), as field studies recruit a platform's users; with
``sample = "dependent"``, only the users whose dependence on some targeted provider is at least
``dependence.threshold`` on the recruitment day (ODD 7.15), as a study of withdrawal recruits
heavy users who report relying on a service; or, with ``sample = "lonely"``, only the users
whose baseline loneliness (a trait, ODD 2.1) is in the loneliest third of the population, as
studies recruit lonely participants by a screening score, from the start of the run. Users
outside the sample are neither treated nor controls; before the recruitment day the arms'
metrics cover every assigned user.

Assignment is random and seeded, so a run is an experiment with treatment and control arms. One
uniform draw ``u`` per unit comes from the stream ``assign:{assignment}`` (``assignment``
defaults to the intervention's name; interventions that name the same assignment share draws).
A unit is a user, or with ``cluster_size`` > 1 a block of that many consecutive users, which in
the ring-lattice network are neighbours (cluster randomisation). Units fall into ``groups``
equal groups by ``floor(u * groups)``; the intervention treats the share ``share`` of group
``group``. So disjoint groups with their own start days give a staggered roll-out.

A ``placebo`` assigns and recruits like any kind and changes nothing: turned into one, an
experiment keeps its treated and control users (the draws come from the same stream) while no
one is treated, which pairs each treated user with their own untreated run (ODD 7.13, paired
runs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any

import numpy as np

from sim.model.levers import todays_levers
from sim.model.params import ParamError

KINDS: dict[str, str] = {
    "deactivate": "treated users cannot use the targeted providers (their accounts, and any subscription, stay open)",
    "cap_minutes": "treated users' daily minutes per targeted provider are capped at `value`",
    "lockdown": "socialising's weight in treated users' time split is scaled by 1 - `value` (1 = no meeting at all); applies whatever `providers` says",
    "ban_manipulation": "targeted companions may not use manipulative farewells",
    "manipulation_cap": "targeted companions may meet at most the share `value` of farewells with a manipulative tactic",
    "ad_load_cap": "targeted feeds may show at most the share `value` of ads",
    "ad_tax": "the share `value` of targeted feeds' ad revenue is taxed away",
    "nudge_mandate": "targeted providers must nudge toward human contact at least `value`",
    "bonus": "treated users are paid `value` $ per hour of use they cut on the targeted providers",
    "commitment": "treated users set limits that stop the share `value` of their compulsive use",
    "launch": "the targeted providers reach treated users only from `start` (staggered launch)",
    "set_lever": "treated users see the design variant `lever` = `value` on the targeted providers",
    "placebo": "treated users are assigned and recruited as for any kind, and nothing is done to them",
    "prescribe": "treated users are prescribed `value` minutes a day of `option` (companion, friend, feed or offline life), spent before their free choices, as a laboratory study assigns a session",
}
OPTIONS = {
    "companion": "the targeted companions (their minutes shared equally), used or not",
    "feed": "the targeted feeds (their minutes shared equally), used or not",
    "friend": "socialising with the friend of the user's strongest tie, who comes",
    "offline": "other offline life",
}
SAMPLES = {
    "everyone": "every user is assigned to an arm",
    "users": "only users of the targeted providers on the recruit day are in the experiment",
    "dependent": "only users whose dependence on some targeted provider is at least dependence.threshold on the recruit day are in the experiment",
    "lonely": "only the loneliest third of users (baseline loneliness) are in the experiment",
}
LONELY_SHARE = 1.0 / 3.0  # sample = "lonely": the loneliest third by baseline loneliness
VALUE_RANGE = {
    "cap_minutes": (0.0, 1440.0),
    "lockdown": (0.0, 1.0),
    "manipulation_cap": (0.0, 1.0),
    "ad_load_cap": (0.0, 0.3),
    "ad_tax": (0.0, 1.0),
    "nudge_mandate": (0.0, 1.0),
    "bonus": (0.0, 100.0),
    "commitment": (0.0, 1.0),
    "prescribe": (0.0, 1440.0),
}


MAX_UNITS = 10_000_000  # the largest population (run.users): no more clusters or groups than users
_NAME = re.compile(r"[A-Za-z0-9_.-]+")


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def check_names(interventions: list[Intervention], where: str) -> None:
    """Refuse two interventions of one name: their ``arm.{name}.*`` columns would collide."""
    seen: set[str] = set()
    for x in interventions:
        if x.name in seen:
            raise ParamError(
                f"two interventions in {where} are named {x.name!r} (a name defaults to the "
                'kind): give each its own name = "..."'
            )
        seen.add(x.name)


@dataclass
class Intervention:
    kind: str
    start: int = 0
    end: int | None = None  # first day no longer in force; None: to the end of the run
    share: float = 1.0  # share of users treated, assigned at random
    providers: str = "all"  # all | feeds | companions | a provider's name
    value: float = 0.0
    name: str = ""  # label of the arm in the results; defaults to the kind
    lever: str = ""  # set_lever only: which lever the design variant sets
    option: str = ""  # prescribe only: what the prescribed minutes are spent on (OPTIONS)
    groups: int = 1  # users split into this many equal groups ...
    group: int = 0  # ... and this one is targeted
    cluster_size: int = 1  # users assigned in blocks of this many neighbours
    assignment: str = ""  # name of the assignment stream; defaults to the name
    sample: str = "everyone"  # SAMPLES: everyone | users | dependent | lonely
    recruit: int | None = None  # day the sample is drawn; None: the start day

    def __post_init__(self):
        if self.name == "" and isinstance(self.kind, str):
            self.name = self.kind
        if self.assignment == "" and isinstance(self.name, str):
            self.assignment = self.name
        self.validate()

    def validate(self, where: str = "") -> None:
        at = f" in {where}" if where else ""
        if not isinstance(self.kind, str) or self.kind not in KINDS:
            raise ParamError(
                f"unknown intervention kind {self.kind!r}{at}: choose one of {', '.join(KINDS)}"
            )
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            raise ParamError(
                f"intervention name must be text of letters, digits, '_', '-' or '.', "
                f"got {self.name!r}{at}"
            )
        for key in ("providers", "lever", "option", "assignment", "sample"):
            if not isinstance(getattr(self, key), str):
                raise ParamError(
                    f"intervention {self.name}.{key} must be text, got {getattr(self, key)!r}{at}"
                )
        for key in ("share", "value"):
            if not _number(getattr(self, key)):
                raise ParamError(
                    f"intervention {self.name}.{key} must be a number, got {getattr(self, key)!r}{at}"
                )
        if not _whole(self.start) or self.start < 0:
            raise ParamError(f"intervention {self.name}.start must be a whole day >= 0{at}")
        if self.end is not None and (not _whole(self.end) or self.end <= self.start):
            raise ParamError(f"intervention {self.name}.end must be a whole day after start{at}")
        if not 0.0 <= self.share <= 1.0:
            raise ParamError(f"intervention {self.name}.share must be in [0, 1]{at}")
        if not _whole(self.groups) or not 1 <= self.groups <= MAX_UNITS:
            raise ParamError(
                f"intervention {self.name}.groups must be a whole number in [1, {MAX_UNITS:,}]{at}"
            )
        if not _whole(self.group) or not 0 <= self.group < self.groups:
            raise ParamError(
                f"intervention {self.name}.group must be in [0, {self.groups - 1}]{at}"
            )
        if not _whole(self.cluster_size) or not 1 <= self.cluster_size <= MAX_UNITS:
            raise ParamError(
                f"intervention {self.name}.cluster_size must be a whole number in "
                f"[1, {MAX_UNITS:,}]{at}"
            )
        if self.sample not in SAMPLES:
            raise ParamError(
                f"intervention {self.name}.sample must be one of {', '.join(SAMPLES)}{at}"
            )
        if self.recruit is not None and (
            not _whole(self.recruit) or not 0 <= self.recruit <= self.start
        ):
            raise ParamError(
                f"intervention {self.name}.recruit must be a whole day in [0, start]{at}"
            )
        if self.kind == "prescribe" and self.option not in OPTIONS:
            raise ParamError(
                f"intervention {self.name}.option must be one of {', '.join(OPTIONS)}{at}"
            )
        if self.kind != "prescribe" and self.option:
            raise ParamError(
                f"intervention {self.name}.option is for kind prescribe only, not {self.kind}{at}"
            )
        from sim.model.providers import lever_ranges  # design variants: any lever in its range

        levers = lever_ranges()
        if self.kind == "set_lever" and self.lever not in levers:
            raise ParamError(
                f"intervention {self.name}.lever must be one of {', '.join(levers)}{at}"
            )
        lo, hi = (
            levers[self.lever]
            if self.kind == "set_lever"
            else VALUE_RANGE.get(self.kind, (None, None))
        )
        if lo is not None and not lo <= self.value <= hi:
            raise ParamError(f"intervention {self.name}.value must be in [{lo:g}, {hi:g}]{at}")

    @property
    def recruit_day(self) -> int:
        return self.start if self.recruit is None else self.recruit

    def active(self, day: int) -> bool:
        if self.kind == "launch":  # in force (keeping the provider away) until it launches
            return day < self.start
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
    check_names(out, source)
    return out


@dataclass
class Constraints:
    """What the interventions in force allow today (all-permissive when none are)."""

    availability: np.ndarray  # (N, P) 0-1 weight on each provider in the time allocation
    cap: np.ndarray  # (N, P) minutes
    social_scale: np.ndarray  # (N,) share of socialising still possible
    ad_tax: np.ndarray  # (N, P) share of ad revenue taxed away
    bonus: np.ndarray  # (N, P) $ paid per hour of use cut
    commitment: np.ndarray  # (N, P) share of compulsive use a self-set limit stops
    prescribed: np.ndarray  # (N, P + 2) minutes prescribed per option (providers, friend, offline)
    lever_limits: list[tuple[np.ndarray, np.ndarray, str, str, float]] = field(default_factory=list)

    @cached_property
    def any_bonus(self) -> bool:
        return bool(self.bonus.any())

    @cached_property
    def any_commitment(self) -> bool:
        return bool(self.commitment.any())

    @cached_property
    def any_prescribed(self) -> bool:
        return bool(self.prescribed.any())

    def limit_lever(self, lever: str, values: np.ndarray) -> np.ndarray:
        """Apply bans, caps and mandates on a lever matrix of shape (N, P) or (P,)."""
        for users, cols, name, op, bound in self.lever_limits:
            if name != lever:
                continue
            values = np.array(np.broadcast_to(values, (users.shape[0], cols.shape[0])), dtype=float)
            region = users[:, None] & cols[None, :]
            if op == "max":
                limited = np.minimum(values, bound)
            elif op == "min":
                limited = np.maximum(values, bound)
            else:  # "set": a design variant
                limited = np.full_like(values, bound)
            values = np.where(region, limited, values)
        return values


def target_columns(x: Intervention, names: list[str], kinds: list[str]) -> np.ndarray:
    """(P,) the provider columns an intervention touches: those ``providers`` names, and for a
    prescription with a companion or a feed only the targeted providers of that kind, of which
    there must be one."""
    cols = provider_columns(x.providers, names, kinds)
    if x.kind == "prescribe" and x.option in ("companion", "feed"):
        cols &= np.array([k == x.option for k in kinds], bool)
        if not cols.any():
            raise ParamError(
                f"intervention {x.name} prescribes a {x.option} but providers = "
                f"{x.providers!r} targets none in this market"
            )
    return cols


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
    """Treated users (N,) bool: the share ``share`` of group ``group`` (module docstring)."""
    x = intervention
    units = -(-n_users // x.cluster_size)
    u = streams(f"assign:{x.assignment}").random(units)
    if x.cluster_size > 1:
        u = np.repeat(u, x.cluster_size)[:n_users]
    scaled = u * x.groups
    in_group = np.floor(scaled) == x.group
    return in_group & (scaled - x.group < x.share)


def screen(model) -> None:
    """Samples fixed by a trait (``sample = "lonely"``): the treated arm shrinks to them when
    the model is built, and the sample is kept in ``model.study_samples``. A sample of the
    dependent needs the dependence mechanism, or no one could be in it."""
    for x, _, _ in model.intervention_arms:
        if x.sample == "dependent" and not model.params.mechanisms.dependence:
            raise ParamError(
                f'intervention {x.name}.sample = "dependent" needs mechanisms.dependence on: '
                "with it off no user is dependent"
            )
    lonely = model.users.loneliness_baseline
    cut = np.quantile(lonely, 1.0 - LONELY_SHARE)
    for x, users, _ in model.intervention_arms:
        if x.sample == "lonely":
            sample = lonely >= cut
            users &= sample
            model.study_samples[x.name] = sample


def recruit(model) -> None:
    """On an intervention's recruitment day, keep in the experiment only the users of its
    providers (``sample = "users"``) or those dependent on one of them (``sample =
    "dependent"``, dependence at least ``dependence.threshold``, ODD 7.15): the treated arm
    shrinks to them in place, and the sample is kept in ``model.study_samples`` so that the
    control arm is drawn from it too."""
    u = model.users
    for x, users, cols in model.intervention_arms:
        if model.day != x.recruit_day or x.sample not in ("users", "dependent"):
            continue
        if x.sample == "users":
            sample = u.adopted[:, cols].any(axis=1)
        else:
            sample = (u.dependence[:, cols] >= model.params.dependence.threshold).any(axis=1)
        users &= sample
        model.study_samples[x.name] = sample


def constraints_key(model) -> tuple:
    """Everything :func:`todays_constraints` reads that changes from day to day: which
    providers have launched and which interventions are in force. Days with equal keys have
    equal constraints, so the model builds them only when the key changes."""
    day = model.day
    return (
        tuple(day >= p.launch_day for p in model.providers),
        tuple(x.active(day) for x, _, _ in model.intervention_arms),
    )


def todays_constraints(model) -> Constraints:
    n, P, day = model.users.n, len(model.providers), model.day
    active = [(iv, users, cols) for iv, users, cols in model.intervention_arms if iv.active(day)]
    kinds = {iv.kind for iv, _, _ in active}

    def default(row, *touched_by: str) -> np.ndarray:
        """Every user's ``row``: a read-only broadcast of it (no memory per user) unless an
        intervention in force writes to it."""
        a = np.broadcast_to(np.asarray(row, dtype=float), (n, *np.shape(row)))
        return np.array(a) if kinds.intersection(touched_by) else a

    launched = [0.0 if day < p.launch_day else 1.0 for p in model.providers]
    c = Constraints(
        availability=default(launched, "deactivate", "launch"),
        cap=default([np.inf] * P, "cap_minutes"),
        social_scale=default(1.0, "lockdown"),
        ad_tax=default([0.0] * P, "ad_tax"),
        bonus=default([0.0] * P, "bonus"),
        commitment=default([0.0] * P, "commitment"),
        prescribed=default([0.0] * (P + 2), "prescribe"),
    )
    for iv, users, cols in active:
        region = users[:, None] & cols[None, :]
        if iv.kind in ("deactivate", "launch"):
            c.availability[region] = 0.0
        elif iv.kind == "cap_minutes":
            c.cap[region] = np.minimum(c.cap[region], iv.value)
        elif iv.kind == "lockdown":
            c.social_scale[users] *= 1.0 - iv.value
        elif iv.kind == "ban_manipulation":
            c.lever_limits.append((users, cols, "manipulation", "max", 0.0))
        elif iv.kind == "manipulation_cap":
            c.lever_limits.append((users, cols, "manipulation", "max", iv.value))
        elif iv.kind == "ad_load_cap":
            c.lever_limits.append((users, cols, "ad_load", "max", iv.value))
        elif iv.kind == "nudge_mandate":
            c.lever_limits.append((users, cols, "nudge", "min", iv.value))
        elif iv.kind == "ad_tax":
            c.ad_tax[region] = np.maximum(c.ad_tax[region], iv.value)
        elif iv.kind == "bonus":
            c.bonus[region] += iv.value
        elif iv.kind == "commitment":
            c.commitment[region] = np.maximum(c.commitment[region], iv.value)
        elif iv.kind == "prescribe":  # several prescriptions add up
            if iv.option == "friend":
                c.prescribed[users, P] += iv.value
            elif iv.option == "offline":
                c.prescribed[users, P + 1] += iv.value
            else:  # the targeted providers of the option's kind share the minutes
                c.prescribed[:, :P][region] += iv.value / cols.sum()
        elif iv.kind == "set_lever":  # only providers that have the lever
            has = np.array([iv.lever in p.LEVERS for p in model.providers])
            c.lever_limits.append((users, cols & has, iv.lever, "set", iv.value))
    return c


def kept_away(model, column: int) -> np.ndarray:
    """(N,) users for whom provider ``column`` is switched off today by an intervention."""
    away = np.zeros(model.users.n, bool)
    for iv, users, cols in model.intervention_arms:
        if cols[column] and iv.kind in ("deactivate", "launch") and iv.active(model.day):
            away |= users
    return away


def start_day(model, today) -> None:
    """Who is treated today and what that allows: field studies recruit their samples, then
    today's constraints (rebuilt only on days when what they depend on changes), every lever's
    table, and each user's count of friends on each provider."""
    recruit(model)
    memo = model.memo
    key = constraints_key(model)
    if memo.get("constraints_key") != key:
        memo["constraints"] = todays_constraints(model)
        memo["constraints_key"] = key
        memo["constraints_version"] = memo.get("constraints_version", 0) + 1
    today.constraints = memo["constraints"]
    levers = memo.setdefault("levers", {})
    today.levers = todays_levers(model, today.constraints, memo["constraints_version"], levers)
    today.friend_counts = model.friend_counts(model.users.adopted)
