"""Provider agents: feed platforms and AI companions (ODD 2.4).

Providers are the few agents that decide: each holds its levers (the product choices a team
can change) and its policy (the objective it pursues), and adapts the levers by A/B tests on its
own users (:mod:`sim.model.policies`). Users are not agents here; they are columns of arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np


@dataclass
class ABTest:
    """One running A/B/n test of ``lever``: arm -1 gets ``values[0]``, arm +1 ``values[1]``,
    arm 0 (control) keeps the current value."""

    lever: str
    values: tuple[float, float]  # (lowered, raised)
    arm: np.ndarray  # (N,) int8 in {-1, 0, 1}
    cohort: np.ndarray  # (N,) bool, users of the provider when the test started
    start: int


class Provider(mesa.Agent):
    kind = "provider"
    LEVERS: dict[str, tuple[float, float]] = {}

    def __init__(
        self,
        model,
        name: str,
        column: int,
        policy: str,
        levers: dict[str, float],
        launch_day: int = 0,
    ):
        super().__init__(model)
        self.name = name
        self.column = column
        self.policy = policy
        self.launch_day = launch_day
        self.levers = {k: float(levers[k]) for k in self.LEVERS}
        self.tests: dict[str, ABTest] = {}  # running tests by lever
        n = model.users.n
        self.objective_now = np.zeros(n)  # per-user objective summed over the current window
        self.objective_before = np.zeros(n)  # the same over the previous window
        self.profit_now = np.zeros(n)
        self.tests_run = 0
        self.tests_kept = 0

    def lever(self, name: str) -> float | np.ndarray:
        """The lever's value, per user while it is under test, else one number."""
        base = self.levers.get(name, 0.0)
        t = self.tests.get(name)
        if t is not None:
            return np.where(t.arm < 0, t.values[0], np.where(t.arm > 0, t.values[1], base))
        return base

    def step(self) -> None:
        from sim.model.policies import adapt

        adapt(self, self.model)


class FeedPlatform(Provider):
    """An ad-funded feed: ranks content, carries ads, uses engagement hooks."""

    kind = "feed"
    LEVERS = {
        "ad_load": (0.0, 0.3),
        "hooks": (0.0, 1.0),
        "personalisation": (0.0, 1.0),
        "nudge": (0.0, 1.0),
    }


class Companion(Provider):
    """An AI companion: converses, remembers, responds to emotion; sells subscriptions."""

    kind = "companion"
    LEVERS = {
        "price": (0.0, 30.0),
        "hooks": (0.0, 1.0),
        "personalisation": (0.0, 1.0),
        "manipulation": (0.0, 1.0),
        "nudge": (0.0, 1.0),
    }
