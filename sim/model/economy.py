"""The economy model: users, feed platforms, AI companions and the day's schedule (ODD 3)."""

from __future__ import annotations

import copy
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import mesa
import numpy as np

from sim.model import interventions as iv
from sim.model import kernels, metrics, policies
from sim.model.kernels import choice as choice_kernels
from sim.model.mechanisms import (
    adoption,
    attachment,
    business,
    habit,
    learning,
    manipulation,
    social,
    time_budget,
    two_selves,
    wellbeing,
)
from sim.model.metrics import Recorder, panel_rows
from sim.model.network import FriendCounts, make_network
from sim.model.params import ParamError, Params
from sim.model.population import make_users
from sim.model.providers import Companion, FeedPlatform, Provider
from sim.model.rng import Streams
from sim.model.scenarios import resolve


@dataclass
class Today:
    """What one day's steps hand to each other; rebuilt every day."""

    constraints: iv.Constraints
    levers: dict[str, np.ndarray] = field(default_factory=dict)
    friends_share: np.ndarray | None = None
    R: np.ndarray | None = None  # reflective utilities (N, P + 2)
    compulsive: np.ndarray | None = None  # (N, P) minutes beyond the reflective choice
    cap: np.ndarray | None = None  # (N, P) minutes allowed per provider today
    companion_relief: np.ndarray | None = None  # K, share of social need met by companions
    social_met: np.ndarray | None = None  # S, share of social need met by people
    revenue: np.ndarray | None = None
    ad_revenue: np.ndarray | None = None
    ad_tax_paid: np.ndarray | None = None
    subscription_revenue: np.ndarray | None = None
    commerce_revenue: np.ndarray | None = None
    cost: np.ndarray | None = None
    totals: dict[str, float] = field(default_factory=dict)  # sums of (N, P) arrays not kept
    tactics: int = 0
    sessions: int = 0


class EconomyModel(mesa.Model):
    """Users splitting their days among feeds, companions, friends and the rest of life.

    Args:
        params: the full parameter tree; defaults to the ``mixed`` market.
        interventions: treatments in force for some users over some days (ODD 7.13).
        scenario, policy, users, days: shortcuts applied on top of ``params`` (as ``sim run``).
        seed: root seed of all random streams; overrides ``params.run.seed`` when given.
    """

    def __init__(
        self,
        params: Params | None = None,
        interventions=(),
        *,
        scenario: str | None = None,
        policy: str | None = None,
        users: int | None = None,
        days: int | None = None,
        seed: int | None = None,
    ):
        if params is None:
            params, _ = resolve(scenario or "mixed", policy, users=users, days=days, seed=seed)
        else:
            if scenario is not None:
                raise ParamError("give either params or scenario, not both")
            params = copy.deepcopy(params)
            if policy is not None:
                params.set("market.feed_policy", policy)
                params.set("market.companion_policy", policy)
            for name, value in (("users", users), ("days", days), ("seed", seed)):
                if value is not None:
                    params.set(f"run.{name}", value)
        super().__init__(seed=params.run.seed)
        self.params = params
        self.streams = Streams(params.run.seed)
        self.day = 0
        self.step_seconds: dict[str, float] = defaultdict(float)
        self._work: dict[str, np.ndarray] = {}
        self._neighbours = None
        params.validate()
        kinds = ["feed"] * params.market.feeds + ["companion"] * params.market.companions
        self.users = make_users(params, kinds, self.streams)
        self.network = make_network(params, self.streams)
        self.degree_at_least_1 = np.maximum(self.network.degree, 1)
        self.providers: list[Provider] = []
        for j, kind in enumerate(kinds):
            k = j if kind == "feed" else j - params.market.feeds
            if kind == "feed":
                self.providers.append(
                    FeedPlatform(
                        self, f"feed_{chr(97 + k)}", j, params.market.feed_policy, vars(params.feed)
                    )
                )
            else:
                self.providers.append(
                    Companion(
                        self,
                        f"companion_{chr(97 + k)}",
                        j,
                        params.market.companion_policy,
                        vars(params.companion),
                        launch_day=params.market.companion_launch_day,
                    )
                )
        self.is_companion = np.array([k == "companion" for k in kinds])
        self.companion_empathy = params.companion.empathy
        self.lever_names = sorted({name for p in self.providers for name in p.LEVERS})
        names = [p.name for p in self.providers]
        self.interventions = list(interventions)
        self.intervention_arms = [
            (
                x,
                iv.assign(x, self.users.n, self.streams),
                iv.provider_columns(x.providers, names, kinds),
            )
            for x in self.interventions
        ]
        self.study_samples: dict[str, np.ndarray] = {}  # by intervention: who is in it
        self.friend_counts = FriendCounts(self.network, self.users.adopted)
        self._constraints_key: tuple | None = None
        self._constraints: iv.Constraints | None = None
        self._constraints_version = 0
        self._lever_cache: dict[str, tuple] = {}
        self.loyalty = adoption.Loyalty.empty(params.run.days)
        self.recorder = Recorder(self)
        self.objectives_today = None  # (step, objectives summed per provider), compiled path
        self.wellbeing_sorting = None  # (step, waits for wellbeing sorted), compiled path
        self.wellbeing_reference = (0.0, 0.0)
        n_panel = min(params.run.panel_users, self.users.n)
        self.panel_sample = np.sort(
            self.streams("panel").choice(self.users.n, n_panel, replace=False)
        )
        self.panel: list = []
        self.record_panel = False
        self.datacollector = mesa.DataCollector(
            model_reporters={
                k: (lambda m, k=k: m.recorder.latest[k])
                for k in (
                    "minutes_per_user_day",
                    "wellbeing_mean",
                    "revenue_per_user_day",
                    "mean_attachment",
                )
            }
        )

    # -- the day's schedule ----------------------------------------------------------------
    def step(self) -> None:
        """One day. Each line is one mechanism of MODEL.md, in the order they happen."""
        self.day = self.steps - 1
        self._timed("launch", adoption.launch)  # 11 providers launching today
        self._timed("interventions", self.start_day)  # 13 who is treated today
        self._timed("choice", self.choose)  # 1, 2 time budget, two selves
        self._timed("manipulation", manipulation.farewells)  # 10 tactics at goodbye
        self._timed("habit", habit.update)  # 3
        self._timed("learning", learning.update)  # 4
        self._timed("attachment", attachment.update)  # 5
        self._timed("social", self.socialise)  # 6 ties and loneliness
        self._timed("business", self.do_business)  # 8 revenue, cost, subscriptions
        self._timed("wellbeing", self.feel)  # 7
        self._timed("adoption", adoption.update)  # 11, 12 churn, switching, adoption
        self._timed("adaptation", self.adapt)  # 9 providers' A/B tests
        self._timed("metrics", self.measure)
        if self.day + 1 >= self.params.run.days:
            self.running = False

    def _timed(self, name: str, fn) -> None:
        t0 = time.perf_counter()
        fn(self)
        self.step_seconds[name] += time.perf_counter() - t0

    # -- steps that need more than one module ------------------------------------------------
    def start_day(self, _=None) -> None:
        iv.recruit(self)  # field experiments that enrol a provider's users do it today
        self.today = Today(constraints=self.constraints())
        self.today.levers = self.lever_matrices()
        self.counts = self.friend_counts(self.users.adopted)
        if not kernels.enabled():  # the compiled choice divides as it goes
            self.today.friends_share = self.counts / self.degree_at_least_1[:, None]

    def constraints(self) -> iv.Constraints:
        """Today's constraints, rebuilt only on days when what they depend on changes."""
        key = iv.constraints_key(self)
        if key != self._constraints_key:
            self._constraints = iv.todays_constraints(self)
            self._constraints_key = key
            self._constraints_version += 1
        return self._constraints

    def lever_matrices(self) -> dict[str, np.ndarray]:
        """Each lever as (P,) or, where it varies by user (tests, interventions), (N, P).

        A lever's matrix is rebuilt only when a provider's value, its running test or the
        constraints change (every test window, not every day); the arrays are read-only.
        The compiled path keeps each lever as codes into a palette (:class:`kernels.LeverTables`).
        """
        if kernels.enabled():
            return self._lever_tables()
        out = {}
        for name in self.lever_names:
            key = (self._constraints_version, tuple(_lever_key(p, name) for p in self.providers))
            cached = self._lever_cache.get(name)
            if cached is not None and cached[0] == key:
                out[name] = cached[1]
                continue
            values = [p.lever(name) for p in self.providers]
            if any(isinstance(v, np.ndarray) for v in values):
                m = np.column_stack([np.broadcast_to(v, (self.users.n,)) for v in values])
            else:
                m = np.array(values, dtype=float)
            out[name] = self.today.constraints.limit_lever(name, m)
            self._lever_cache[name] = (key, out[name])
        for name in ("ad_load", "price", "manipulation"):
            out.setdefault(name, np.zeros(len(self.providers)))
        return out

    def _lever_tables(self) -> kernels.LeverTables:
        n, P = self.users.n, len(self.providers)
        tables = {}
        for name in self.lever_names:
            key = (self._constraints_version, tuple(_lever_key(p, name) for p in self.providers))
            cached = self._lever_cache.get(name)
            if cached is None or cached[0] != key:
                limits = self.today.constraints.lever_limits
                table = kernels.lever_table(self.providers, name, n, limits)
                if table is None:  # too many distinct values: codes into the matrix itself
                    values = [p.lever(name) for p in self.providers]
                    m = np.column_stack([np.broadcast_to(v, (n,)) for v in values])
                    m = np.broadcast_to(self.today.constraints.limit_lever(name, m), (n, P))
                    rows = np.repeat(np.arange(n, dtype=np.int64)[:, None], P, axis=1)
                    table = (rows, np.ascontiguousarray(m))
                self._lever_cache[name] = cached = (key, table)
            tables[name] = cached[1]
        for name in ("ad_load", "price", "manipulation"):
            tables.setdefault(name, (np.zeros((1, P), np.int8), np.zeros((1, P))))
        return kernels.LeverTables(tables, n)

    def choose(self, _=None) -> None:
        """Split each user's budget; the reflective-only split gives compulsive minutes.

        Works on option-major (P + 2, N) arrays (see :func:`two_selves.utilities`).
        """
        if kernels.enabled():
            return self._choose_compiled()
        u, c, today = self.users, self.params.choice, self.today
        n, P = u.n, len(self.providers)
        R, pull = two_selves.utilities(self)
        available = self.work("choice.available", (P + 2, n))
        np.multiply(today.constraints.availability.T, u.adopted.T, out=available[:P])
        available[P] = today.constraints.social_scale
        available[P + 1] = 1.0
        barred = time_budget.unavailable(available, out=self.work("choice.barred", (P + 2, n)))
        cap = self.work("choice.cap", (P, n))
        np.minimum(today.constraints.cap.T, business.free_tier_cap(self).T, out=cap)
        today.cap = cap.T
        # the taste shock is drawn user-major, (N, P + 2), as the stream has always been read
        shock = self.streams("taste", self.day).standard_normal(
            out=self.work("choice.shock", (n, P + 2))
        )
        shock *= c.taste_noise
        # option-major copy of the shock, kept in the buffer the reflective split fills last
        shock_t = self.work("choice.reflective", (P + 2, n))
        np.copyto(shock_t, shock.T)

        def split(impulsive: bool, name: str) -> np.ndarray:
            # decision values, then minutes, in the same buffer
            out = self.work(name, (P + 2, n))
            D = two_selves.decision_values(self, R, pull, shock_t, impulsive, out=out)
            return time_budget.split(
                D, barred, available, u.budget, c.temperature, c.min_session, cap, out=out
            )

        minutes = split(True, "choice.minutes")
        compulsive = self.work("choice.compulsive", (P, n))
        if self.params.mechanisms.two_selves:
            reflective = split(False, "choice.reflective")
            np.subtract(minutes[:P], reflective[:P], out=compulsive)
            np.maximum(0.0, compulsive, out=compulsive)
            # self-set limits (commitment devices) stop part of the compulsive use
            if today.constraints.any_commitment:
                cut = today.constraints.commitment.T * compulsive
                minutes[:P] -= cut
                minutes[-1] += time_budget.over_options(np.add, cut)
                compulsive -= cut
        else:
            compulsive.fill(0.0)
        today.compulsive = np.ascontiguousarray(compulsive.T)
        np.copyto(u.minutes, minutes[:P].T)
        self.planned_social = minutes[P].copy()
        u.offline_minutes = minutes[P + 1].copy()
        u.compulsive_minutes = time_budget.over_options(np.add, compulsive)
        u.consumption_value = wellbeing.consumption_value(self, R, minutes)
        today.R = R.T

    def _choose_compiled(self) -> None:
        """:meth:`choose` with the kernels of :mod:`sim.model.kernels.choice`, bit for bit."""
        u, prm, today = self.users, self.params, self.today
        n, P = u.n, len(self.providers)
        cons, lev = today.constraints, today.levers
        two = prm.mechanisms.two_selves
        shape = (n, P)
        R = self.work("R", (n, P + 2))
        caps = kernels.block_buffer(self, "choice.cap", n, (), (P,))
        compulsive = self.work("choice.compulsive", shape)
        self.planned_social = self.work("choice.planned", n)
        for name in ("offline_minutes", "compulsive_minutes", "consumption_value"):
            if getattr(u, name).shape != (n,):  # pragma: no cover - set up by make_users
                setattr(u, name, np.zeros(n))
        lever = lev.tables
        availability = kernels.per_user(cons.availability, n)
        social_scale = kernels.per_user(cons.social_scale, n, 1)
        bonus, cap_iv = kernels.per_user(cons.bonus, n), kernels.per_user(cons.cap, n)
        commitment = kernels.per_user(cons.commitment, n)
        k = choice_kernels.constants(prm, self.companion_empathy)
        taste = self.streams("taste", self.day)
        shocks = kernels.block_buffer(self, "choice.shock", n, (), (P + 2,))
        values = kernels.block_buffer(self, "choice.z", n, (), (2 if two else 1, P + 2))

        def draw(_, start, stop):  # taste shocks user-major, as the stream has always been read
            kernels.normals(taste, shocks(start, stop).reshape(-1))

        def choose(_, start, stop):
            z, cap, shock = values(start, stop), caps(start, stop), shocks(start, stop)
            choice_kernels.scaled_values(
                start,
                stop,
                k,
                u.fit,
                u.knowledge,
                u.perceived_manipulation,
                u.emotional_knowledge,
                u.attachment,
                u.habit,
                u.adopted,
                u.subscribed,
                u.loneliness,
                u.self_control,
                u.offline_value,
                lever["ad_load"],
                lever["hooks"],
                lever["nudge"],
                bonus,
                cons.any_bonus,
                self.counts,
                self.degree_at_least_1,
                prm.mechanisms.network_effects,
                availability,
                social_scale,
                cap_iv,
                prm.companion.free_minutes,
                self.is_companion,
                two,
                shock,
                R,
                z,
                cap,
            )
            np.exp(z, out=z)
            choice_kernels.minutes(
                start,
                stop,
                z,
                availability,
                u.adopted,
                social_scale,
                u.budget,
                cap,
                commitment,
                two and cons.any_commitment,
                two,
                prm.choice.min_session,
                R,
                prm.wellbeing.value_minutes,
                u.minutes,
                compulsive,
                self.planned_social,
                u.offline_minutes,
                u.compulsive_minutes,
                u.consumption_value,
            )

        kernels.each_block(kernels.blocks(n), choose, draw)
        np.expm1(u.consumption_value, out=u.consumption_value)
        np.negative(u.consumption_value, out=u.consumption_value)
        # today's caps are not kept: the compiled farewells work them out again
        today.cap, today.compulsive, today.R = None, compulsive, R

    @property
    def neighbours(self):
        """The ties as a sparse adjacency matrix, built on first use (the day does not need it)."""
        if self._neighbours is None:
            self._neighbours = self.network.adjacency()
        return self._neighbours

    def work(self, name: str, shape, dtype=float) -> np.ndarray:
        """A named work buffer, allocated once and reused every day (contents undefined)."""
        buf = self._work.get(name)
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = self._work[name] = np.empty(shape, dtype)
        return buf

    def socialise(self, _=None) -> None:
        social.socialise(self, self.planned_social)
        if kernels.enabled():  # summed by the compiled socialising, in the same order
            comp_minutes = self.work("social.companion_minutes", self.users.n)
        else:
            comp_minutes = self.users.minutes[:, self.is_companion].sum(axis=1)
        self.users.companion_minutes_avg += 0.25 * (comp_minutes - self.users.companion_minutes_avg)

    def do_business(self, _=None) -> None:
        business.book(self)
        business.subscriptions(self)

    def feel(self, _=None) -> None:
        wellbeing.update(self)
        if kernels.enabled():  # today's measurements sort wellbeing beside the next steps
            self.wellbeing_sorting = (self.steps, metrics.sort_wellbeing(self))

    def adapt(self, _=None) -> None:
        if kernels.enabled():  # the objectives of the day's measurements come with them
            self.objectives_today = (self.steps, metrics.objectives(self, record=True))
        else:
            policies.record(self)
        for p in self.providers:
            p.step()

    def measure(self, _=None) -> None:
        if self.day == 0:
            w = self.users.wellbeing
            self.wellbeing_reference = (float(w.mean()), float(w.std()))
        self.recorder.record(self)
        self.datacollector.collect(self)
        last = self.day + 1 >= self.params.run.days
        if self.record_panel and (self.day % self.params.run.panel_every == 0 or last):
            self.panel.append(panel_rows(self, self.panel_sample))

    def run_model(self, progress=None) -> None:
        """Step through every day; ``progress(day)`` is called after each."""
        while self.running:
            self.step()
            if progress is not None:
                progress(self.day)

    def memory_bytes(self) -> int:
        return self.users.nbytes() + self.network.nbytes()

    def describe_state(self) -> dict[str, Any]:
        return {p.name: dict(p.levers) for p in self.providers}


def _lever_key(p: Provider, name: str) -> tuple:
    """All that ``p.lever(name)`` depends on: its value and the test running on it."""
    t = p.tests.get(name)
    return (p.levers.get(name, 0.0), None if t is None else (t.start, t.values, id(t.arm)))
