"""The user population: traits and state as arrays indexed by user (ODD 2, 4).

There is no Python object per user. Per-user arrays have shape ``(N,)``; per user and provider
``(N, P)``, with one column per provider in the order of ``model.providers``. :class:`Users` is a
named tuple of those arrays, so the compiled loops of the mechanisms take it as one argument and
read each array by name; every step updates the arrays in place.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.model.params import Params
from sim.model.rng import Streams


def beta_trait(rng: np.random.Generator, mean: float, concentration: float, n: int) -> np.ndarray:
    """A 0-1 trait drawn from Beta(mean * c, (1 - mean) * c)."""
    return rng.beta(mean * concentration, (1.0 - mean) * concentration, n)


# traits, drawn once (ODD 2.1); every other array of Users is owned by one mechanism (ODD 2.2)
TRAITS = (
    "loneliness_baseline",
    "self_control",
    "ai_openness",
    "budget",
    "offline_value",
    "fit",
)


FIT_SHAPE = 2.0  # fit ~ Beta(FIT_SHAPE, FIT_SHAPE)
# its mean: what users expect of a provider's fit before using it (ODD 7.16)
FIT_PRIOR = FIT_SHAPE / (2.0 * FIT_SHAPE)


class Users(NamedTuple):
    # traits (ODD 2.1), fixed for the run
    loneliness_baseline: np.ndarray
    self_control: np.ndarray
    ai_openness: np.ndarray
    budget: np.ndarray  # discretionary minutes/day
    offline_value: np.ndarray  # utility of the outside option
    fit: np.ndarray  # (N, P) how well each provider's content suits the user before learning
    # state (ODD 2.2)
    loneliness: np.ndarray
    habit: np.ndarray  # (N, P)
    knowledge: np.ndarray  # (N, P) what each provider knows about the user's tastes
    emotional_knowledge: np.ndarray  # (N, P) what companions know of the user's moods
    attachment: np.ndarray  # (N, P), zero for feeds
    dependence: np.ndarray  # (N, P), zero for feeds
    perceived_manipulation: np.ndarray  # (N, P)
    remembered_value: np.ndarray  # (N, P) reflective value per minute, as remembered
    familiarity: np.ndarray  # (N, P) how much of each provider's fit the user has learned by use
    companion_exposure: np.ndarray  # (N,) days with companion use (novelty wears off)
    understood_usual: np.ndarray  # (N,) understood companion minutes of a usual day
    adopted: np.ndarray  # (N, P) bool
    adopted_day: np.ndarray  # (N, P) int32, start of the current spell
    quit_day: np.ndarray  # (N, P) int32, last day the user quit, -1 if never
    subscribed: np.ndarray  # (N, P) bool
    minutes: np.ndarray  # (N, P) today's minutes per provider
    social_minutes: np.ndarray  # (N,) today's realised human socialising
    offline_minutes: np.ndarray  # (N,)
    compulsive_minutes: np.ndarray  # (N,) today's minutes the reflective self would not spend
    consumption_value: np.ndarray  # (N,) 0-1
    ad_impressions: np.ndarray  # (N,)
    wellbeing: np.ndarray  # (N,)
    welfare: np.ndarray  # (N,) $ today, on reflection
    valuation: np.ndarray  # (N,) $ today, as the user chooses (the impulsive pull included)

    @property
    def n(self) -> int:
        return self.budget.shape[0]

    def nbytes(self) -> int:
        return sum(a.nbytes for a in self)


def make_users(params: Params, kinds: list[str], streams: Streams) -> Users:
    """Draw traits (ODD 5, initialisation). With heterogeneity off every user gets the means."""
    pp, n, P = params.population, params.run.users, len(kinds)
    c = pp.trait_concentration
    rng = streams("traits")
    if params.mechanisms.heterogeneity:
        loneliness = beta_trait(rng, pp.loneliness_mean, c, n)
        self_control = beta_trait(rng, pp.self_control_mean, c, n)
        openness = beta_trait(rng, pp.ai_openness_mean, c, n)
        budget = np.clip(pp.budget_mean + pp.budget_sd * rng.standard_normal(n), 30.0, 960.0)
        offline = params.choice.offline_value + pp.offline_value_sd * rng.standard_normal(n)
        fit = rng.beta(FIT_SHAPE, FIT_SHAPE, (n, P))
    else:
        loneliness = np.full(n, pp.loneliness_mean)
        self_control = np.full(n, pp.self_control_mean)
        openness = np.full(n, pp.ai_openness_mean)
        budget = np.full(n, pp.budget_mean)
        offline = np.full(n, params.choice.offline_value)
        fit = np.full((n, P), FIT_PRIOR)
    zeros = lambda: np.zeros((n, P))  # noqa: E731
    return Users(
        loneliness_baseline=loneliness,
        self_control=self_control,
        ai_openness=openness,
        budget=budget,
        offline_value=offline,
        fit=fit,
        loneliness=loneliness.copy(),
        habit=zeros(),
        knowledge=zeros(),
        emotional_knowledge=zeros(),
        attachment=zeros(),
        dependence=zeros(),
        perceived_manipulation=zeros(),
        remembered_value=zeros(),
        familiarity=zeros() if params.mechanisms.experience else np.ones((n, P)),
        companion_exposure=np.zeros(n),
        understood_usual=np.zeros(n),
        adopted=np.zeros((n, P), bool),
        adopted_day=np.zeros((n, P), np.int32),
        quit_day=np.full((n, P), -1, np.int32),
        subscribed=np.zeros((n, P), bool),
        minutes=zeros(),
        social_minutes=np.zeros(n),
        offline_minutes=budget.copy(),
        compulsive_minutes=np.zeros(n),
        consumption_value=np.zeros(n),
        ad_impressions=np.zeros(n),
        wellbeing=np.zeros(n),
        welfare=np.zeros(n),
        valuation=np.zeros(n),
    )
