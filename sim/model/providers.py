"""Provider agents: feed platforms and AI companions (ODD 2.4).

Providers are the few agents that decide: each holds its levers (the product choices a team
can change, each with its range, declared once here) and its policy (the objective it pursues,
:data:`sim.model.policies.POLICIES`), and adapts the levers by A/B tests on its own users. Users
are not agents; they are rows of arrays (:mod:`sim.model.population`). Compiled loops read a
provider's kind as an integer code (``KIND``).
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.model.abtests import (
    ABTest,
    Baseline,
    ConcludedTest,
    Evidence,
    LongResult,
    LongTest,
    Rest,
    Review,
    adapt,
    hold_out,
    tested_values,
)
from sim.model.mechanisms.adoption import COMPANION, FEED
from sim.model.policies import MOVES, POLICIES, STATES, standing


class Provider(mesa.Agent):
    """A provider of kind ``kind``: its levers, policy, launch day and test window."""

    kind = "provider"
    KIND = -1
    LEVERS: dict[str, tuple[float, float]] = {}

    def __init__(self, model, name: str, column: int, policy: str, launch_day: int = 0):
        super().__init__(model)
        self.name = name
        self.column = column
        self.policy = POLICIES[policy]
        self.launch_day = launch_day
        section = self.section(model.params)
        self.levers = {k: float(getattr(section, k)) for k in self.LEVERS}
        self.tests: dict[str, ABTest] = {}  # running tests by lever
        n = model.users.n
        self.window = np.zeros((2, n))  # per user: objective and profit summed over the window
        # where each user stood as the running tests began (sim.model.abtests.adjusted)
        self.baseline = Baseline(np.zeros(n), np.zeros(n, np.int8), np.zeros(n))
        # what it has seen of its users and former users by state (sim.model.policies):
        # user-days, profit, what recommending brought in ($), moves to each state and to
        # leaving for good, fading
        self.seen = np.zeros((STATES, MOVES + STATES + 1))
        # each user's state yesterday: a former user's band of time away (from FORMER), -1 for
        # someone never a user; and the day each former user last left
        self.state = np.full(n, -1, np.int16)
        self.left = np.zeros(n, np.int32)
        # and their attachment and what it knew of them, which its values interpolate
        self.attached, self.known = np.zeros(n), np.zeros(n)
        self.worth = np.zeros(n)  # each user's worth yesterday, at that day's V
        self.value = None  # V by state, estimated as each test window opens
        self.newcomer = 0.0  # what a newcomer's own relationship is worth (V0), with V
        self.todays_chain = None  # (day, chain, V on it) for the tests concluding that day
        self.shadow_price = 1.0  # of breaking even, $ of welfare per $ of profit
        self.book = np.zeros(2)  # revenue and cost over the test window
        # the effect on profit per user-day of the changes kept so far at this window's close
        self.profit_committed = 0.0
        self.tests_run = 0
        self.tests_kept = 0
        self.test_log: list[ConcludedTest] = []  # every concluded test
        # by lever, what its short tests have shown since it last moved (sim.model.abtests)
        self.evidence: dict[str, Evidence] = {}
        self.rests: dict[tuple[str, int], Rest] = {}  # by lever and side, a settled side's
        # the long-term holdout (sim.model.abtests): users kept on the levers of the last
        # review (the launch levers at first), as many on the levers as they move (the
        # reference), both in no test, everyone's objective summed since it, and over the
        # summary window (None without a holdout)
        self.holdout_levers = dict(self.levers)
        hold_out(self, model, launch_day)  # self.holdout, self.reference
        self.holdout_since = launch_day  # the day the holdout was drawn
        self.holdout_baseline = self.baseline  # where users stood then (none at launch)
        self.since_review = None if self.holdout is None else np.zeros(n)
        self.objective_total = None if self.holdout is None else np.zeros(n)
        self.reviews: list[Review] = []
        # long tests (sim.model.abtests): running ones by lever, each user's objective summed
        # since they started, each lever's long-run correction of its short tests (per
        # user-day per unit of lever, and its se), and the concluded ones
        self.long_tests: dict[str, LongTest] = {}
        self.long_total = np.zeros(n)
        self.corrections: dict[str, tuple[float, float]] = {}
        self.long_log: list[LongResult] = []

    @classmethod
    def section(cls, params):
        """The parameter section of this kind of provider (initial levers, costs, reach)."""
        return getattr(params, cls.kind)

    def lever(self, name: str) -> float | np.ndarray:
        """The lever's value, per user while it is under test or held out, else one number."""
        value = self.levers.get(name, 0.0)
        t = self.tests.get(name)
        if t is not None:
            value = np.where(t.arm < 0, t.values[0], np.where(t.arm > 0, t.values[1], value))
        long = self.long_tests.get(name)
        if long is not None:
            low, high = tested_values(self, name, self.model.params.adaptation.step)
            value = np.where(long.arm < 0, low, np.where(long.arm > 0, high, value))
        if self.holdout is not None and name in self.holdout_levers:
            value = np.where(self.holdout, self.holdout_levers[name], value)
        return value

    def standing_now(self) -> Baseline:
        """Where each user stands as tests begin at a window's close: their objective over the
        window that closes, standing and worth (sim.model.abtests.adjusted)."""
        return Baseline(self.window[0].copy(), standing(self.state), self.worth.copy())

    def step(self) -> None:
        """At the end of a test window: conclude the tests and start the next ones."""
        adapt(self, self.model)


class FeedPlatform(Provider):
    """An ad-funded feed: ranks content, carries ads, uses engagement hooks."""

    kind, KIND = "feed", FEED
    LEVERS = {
        "ad_load": (0.0, 0.3),
        "hooks": (0.0, 1.0),
        "personalisation": (0.0, 1.0),
        "nudge": (0.0, 1.0),
    }


class Companion(Provider):
    """An AI companion: converses, remembers, responds to emotion; sells subscriptions."""

    kind, KIND = "companion", COMPANION
    LEVERS = {
        "price": (0.0, 30.0),
        "free_minutes": (0.0, 240.0),
        "free_memory": (0.0, 1.0),
        "hooks": (0.0, 1.0),
        "personalisation": (0.0, 1.0),
        "empathy": (0.0, 1.0),
        "manipulation": (0.0, 1.0),
        "nudge": (0.0, 1.0),
    }


KINDS: dict[str, type[Provider]] = {cls.kind: cls for cls in (FeedPlatform, Companion)}


def lever_ranges() -> dict[str, tuple[float, float]]:
    """Every lever any kind of provider has, with its range."""
    return {name: rng for cls in KINDS.values() for name, rng in cls.LEVERS.items()}
