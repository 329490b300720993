"""The economy model: users, feed platforms, AI companions and the day's schedule (ODD 3)."""

from __future__ import annotations

import copy
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import mesa
import numpy as np
from mesa.agent import AgentSet

from sim.model import interventions as iv
from sim.model import metrics
from sim.model import paths as param_paths
from sim.model.mechanisms.adoption import Loyalty
from sim.model.network import FriendCounts, make_network
from sim.model.params import ParamError, Params
from sim.model.population import make_users
from sim.model.providers import KINDS, lever_ranges
from sim.model.rng import Streams
from sim.model.scenarios import resolve
from sim.model.schedule import SCHEDULE


@dataclass
class Today:
    """What one day's steps hand to each other (ODD 3); a new one every day."""

    constraints: Any = None  # interventions.Constraints in force today
    levers: Any = None  # levers.LeverTables: every provider's levers for every user
    friend_counts: np.ndarray | None = None  # (N, P) friends on each provider
    R: np.ndarray | None = None  # (N, P + 2) reflective utility of each option
    compulsive: np.ndarray | None = None  # (N, P) minutes beyond the reflective choice
    pull: np.ndarray | None = None  # (N, P) value per minute the impulsive pull adds
    planned_social: np.ndarray | None = None  # (N,) minutes planned for socialising
    session: np.ndarray | None = None  # (N,) minutes prescribed with a friend (ODD 7.13)
    unmet: np.ndarray | None = None  # (N,) need to be heard a usual day leaves unmet (7.2)
    session_minutes: np.ndarray | None = None  # (N,) minutes in those sessions, friends' too
    desired: np.ndarray | None = None  # (N, P) share of the day each provider would get uncapped
    chosen: np.ndarray | None = None  # (N, P) the share a month is valued against (7.8)
    rest: np.ndarray | None = None  # (N, P) how other pulls bend the rest of the day (7.8)
    turned_away: np.ndarray | None = None  # (N, P) bool: held at the door, did not pay (7.8)
    quits: np.ndarray | None = None  # (N, P) bool: spells ended today (ODD 7.11)
    acquisition: np.ndarray | None = None  # (N, P) $ paid for today's joins by marketing (7.11)
    acquisition_spent: float = 0.0  # $ paid for them, summed
    referred: np.ndarray | None = None  # (N, P) $ of today's joins friends brought (7.11)
    credited: np.ndarray | None = None  # (N, P) $ each user's recommending brought today (7.11)
    tactics: int = 0  # manipulative farewells
    sessions: int = 0  # companion sessions
    audited_tactics: int = 0  # manipulative farewells met by users no ban protects
    audited_sessions: int = 0  # companion sessions of users no ban protects
    farewells: int = 0  # companion sessions ended with an explicit goodbye
    audited_farewells: int = 0  # explicit goodbyes of users no ban protects
    tactic_minutes: float = 0.0  # minutes tactics added after goodbyes
    social_met: np.ndarray | None = None  # (N,) share of social need met by people
    companion_relief: np.ndarray | None = None  # (N,) share met by companions
    session_change: np.ndarray | None = None  # (N,) felt loneliness over a prescribed session
    tie_mean: np.ndarray | None = None  # (N,) mean strength of each user's ties
    heard: np.ndarray | None = None  # (N, P) how heard each companion made each user feel
    heard_day: Any = None  # social.HeardDay: the day's being heard, beyond the margin (7.7)
    revenue: np.ndarray | None = None  # (N, P) $
    cost: np.ndarray | None = None  # (N, P) $, acquisition included once adoption has run
    paid: np.ndarray | None = None  # (N, P) $ of subscriptions paid by each user
    surplus: np.ndarray | None = None  # (2, N) $ consumer surplus of feeds, of companions
    books: np.ndarray | None = None  # (4, P) $ summed: ad tax, ads, subscriptions, commerce
    objective_sums: dict | None = None  # the attention and intimacy objectives summed


class EconomyModel(mesa.Model):
    """Users splitting their days among feeds, companions, friends and the rest of life.

    Args:
        params: the full parameter tree; defaults to the ``mixed`` market.
        interventions: treatments in force for some users over some days (ODD 7.13).
        paths: parameters that follow a path over days (ODD 7.13): a ``[paths]`` table
            ``{"companion.serving_cost": [[0, 0.002], [1095, 0.0005]]}`` or a list of
            :class:`sim.model.paths.ParamPath`.
        user_sums: :class:`sim.model.metrics.UserSum` requests: each user's sum of a per-user
            state over a window of days, kept in ``model.user_sums`` (ODD 7.14).
        scenario, policy, users, days: shortcuts applied on top of ``params`` (as ``sim run``).
        seed: root seed of all random streams; overrides ``params.run.seed`` when given.
    """

    def __init__(
        self,
        params: Params | None = None,
        interventions=(),
        *,
        paths=(),
        scenario: str | None = None,
        policy: str | None = None,
        users: int | None = None,
        days: int | None = None,
        seed: int | None = None,
        user_sums=(),
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
        params.validate()
        self.paths = param_paths.parse(paths or {})
        param_paths.check(self.paths, params)
        self.params = params  # a copy of its own: the paths step sets today's values on it
        self.streams = Streams(params.run.seed)
        self.day = 0
        self.step_seconds: dict[str, float] = defaultdict(float)
        self._work: dict[str, np.ndarray] = {}
        self.memo: dict[str, Any] = {}  # what is rebuilt only when its inputs change
        market = params.market
        kinds = ["feed"] * market.feeds + ["companion"] * market.companions
        self.users = make_users(params, kinds, self.streams)
        self.network = make_network(params, self.streams)
        self.providers = AgentSet([], random=self.random)
        for j, kind in enumerate(kinds):
            k = j if kind == "feed" else j - market.feeds
            policy_name = market.feed_policy if kind == "feed" else market.companion_policy
            launch = 0 if kind == "feed" else market.companion_launch_day
            self.providers.add(KINDS[kind](self, f"{kind}_{chr(97 + k)}", j, policy_name, launch))
        self.is_companion = np.array([k == "companion" for k in kinds])
        self.lever_names = sorted(lever_ranges())  # levers of every kind (0 where absent)
        names = [p.name for p in self.providers]
        self.interventions = list(interventions)
        self.intervention_arms = [
            (
                x,
                iv.assign(x, self.users.n, self.streams),
                iv.target_columns(x, names, kinds),
            )
            for x in self.interventions
        ]
        self.study_samples: dict[str, np.ndarray] = {}  # by intervention: who is in it
        iv.screen(self)
        self.user_sums = metrics.user_sums(user_sums, self.users, params.run.days)
        self.friend_counts = FriendCounts(self.network, self.users.adopted)
        self.loyalty = Loyalty.empty(params.run.days)
        self.datacollector = metrics.collector(self)
        self.latest: dict[str, float] = {}  # today's measurements (ODD 7.14)
        self.wellbeing_reference = (0.0, 0.0)
        n_panel = min(params.run.panel_users, self.users.n)
        self.panel_sample = np.sort(
            self.streams("panel").choice(self.users.n, n_panel, replace=False)
        )
        self.panel: list = []
        self.record_panel = False
        self.today = Today()

    def step(self) -> None:
        """One day: the steps of :data:`sim.model.schedule.SCHEDULE`, in order, each timed."""
        self.day = self.steps - 1
        today = self.today = Today()
        for s in SCHEDULE:
            t0 = time.perf_counter()
            s.run(self, today)
            self.step_seconds[s.name] += time.perf_counter() - t0
        if self.day + 1 >= self.params.run.days:
            self.running = False

    def run_model(self, progress=None) -> None:
        """Step through every day; ``progress(day)`` is called after each."""
        while self.running:
            self.step()
            if progress is not None:
                progress(self.day)

    def work(self, name: str, shape, dtype=float) -> np.ndarray:
        """A named work buffer, allocated once and reused every day (contents undefined)."""
        buf = self._work.get(name)
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = self._work[name] = np.empty(shape, dtype)
        return buf

    def memory_bytes(self) -> int:
        return self.users.nbytes() + self.network.nbytes()

    def describe_state(self) -> dict[str, Any]:
        return {p.name: dict(p.levers) for p in self.providers}

    def close(self) -> None:
        """Let go of the population, network and work buffers once results are taken. Mesa 3.3
        keeps every model it has seen alive for the life of the process (its agents' id counters
        are keyed by model), so a process that runs many models closes each one."""
        self.remove_all_agents()
        self.providers = AgentSet([], random=self.random)
        self.users = self.network = self.today = self.friend_counts = None
        self.datacollector = self.latest = self.loyalty = None
        self.intervention_arms, self.study_samples, self.panel = [], {}, []
        self.user_sums = {}
        self.panel_sample = None
        self._work.clear()
        self.memo.clear()
