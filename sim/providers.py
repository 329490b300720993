"""Provider agents: feed platforms and AI companions (ODD 2.4).

Providers are the few agents that decide: each holds its levers (the product choices a team
can change) and its policy (the objective it pursues), and adapts the levers by A/B tests on its
own users (:mod:`sim.policies`). Users are not agents here; they are columns of arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np


@dataclass
class ABTest:
    """One running experiment: ``lever`` moved to ``value`` for the ``treated`` users."""

    lever: str
    value: float
    treated: np.ndarray  # (N,) bool
    cohort: np.ndarray  # (N,) bool, users of the provider when the test started
    start: int


class Provider(mesa.Agent):
    kind = "provider"
    LEVERS: dict[str, tuple[float, float]] = {}

    def __init__(self, model, name: str, column: int, policy: str, levers: dict[str, float],
                 launch_day: int = 0):
        super().__init__(model)
        self.name = name
        self.column = column
        self.policy = policy
        self.launch_day = launch_day
        self.levers = {k: float(levers[k]) for k in self.LEVERS}
        self.test: ABTest | None = None
        n = model.users.n
        self.objective_now = np.zeros(n)  # per-user objective summed over the current window
        self.objective_before = np.zeros(n)  # the same over the previous window
        self.profit_now = np.zeros(n)
        self.tests_run = 0
        self.tests_kept = 0

    def lever(self, name: str) -> float | np.ndarray:
        """The lever's value, per user while it is under test, else one number."""
        base = self.levers.get(name, 0.0)
        if self.test is not None and self.test.lever == name:
            return np.where(self.test.treated, self.test.value, base)
        return base

    def step(self) -> None:
        from sim.policies import adapt

        adapt(self, self.model)


class FeedPlatform(Provider):
    """An ad-funded feed: ranks content, carries ads, uses engagement hooks."""

    kind = "feed"
    LEVERS = {"ad_load": (0.0, 0.5), "hooks": (0.0, 1.0), "personalisation": (0.0, 1.0),
              "nudge": (0.0, 1.0)}


class Companion(Provider):
    """An AI companion: converses, remembers, responds to emotion; sells subscriptions."""

    kind = "companion"
    LEVERS = {"price": (0.0, 50.0), "hooks": (0.0, 1.0), "personalisation": (0.0, 1.0),
              "manipulation": (0.0, 1.0), "nudge": (0.0, 1.0)}
