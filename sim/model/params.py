"""The parameter tree: every number the model uses, with its unit, range, default and meaning.

Parameters are grouped by mechanism (ODD section 8 lists them in the same order). Each leaf is
declared with :func:`param` or :func:`choice`, so validation, ``sim params`` and the ODD table
all read one source. Values are set, in increasing priority, by the defaults here, a market
preset (``--scenario``), a TOML file (``--config``) and ``--set path=value`` overrides.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ParamError(ValueError):
    """A parameter path or value that is not allowed; the message names both."""


def param(default, lo, hi, unit: str, doc: str):
    """A numeric leaf with an inclusive range [lo, hi]; ints stay ints."""
    return field(default=default, metadata={"lo": lo, "hi": hi, "unit": unit, "doc": doc})


def choice(default: str, options: tuple[str, ...], doc: str):
    """A text leaf restricted to ``options``."""
    return field(default=default, metadata={"options": options, "unit": "", "doc": doc})


def switch(doc: str, default: bool = True):
    """An on/off leaf (mechanism switches for ablations)."""
    return field(default=default, metadata={"unit": "on/off", "doc": doc})


POLICIES = ("attention", "intimacy", "wellbeing")


@dataclass
class RunParams:
    users: int = param(10_000, 10, 10_000_000, "users", "number of users in the population")
    days: int = param(1825, 1, 3650, "days", "simulated days")
    seed: int = param(0, 0, 2**63 - 1, "", "root seed of every named random stream")
    panel_every: int = param(30, 1, 3650, "days", "days between per-user panel samples")
    panel_users: int = param(2000, 1, 10_000_000, "users", "users sampled into the panel")
    summary_window: int = param(180, 1, 3650, "days", "last days averaged into summary metrics")
    drift_tolerance: float = param(
        0.02,
        0.0,
        0.5,
        "share",
        "a drift across the summary window smaller than this share of the metric counts as settled",
    )


@dataclass
class MarketParams:
    feeds: int = param(2, 0, 8, "providers", "feed platforms in the market")
    companions: int = param(2, 0, 8, "providers", "AI companions in the market")
    feed_policy: str = choice("attention", POLICIES, "objective every feed platform pursues")
    companion_policy: str = choice("intimacy", POLICIES, "objective every companion pursues")
    companion_launch_day: int = param(0, 0, 3650, "day", "day the companions enter the market")


@dataclass
class PopulationParams:
    """Trait distributions (ODD 7.12, heterogeneity and self-selection)."""

    loneliness_mean: float = param(0.30, 0.01, 0.99, "0-1", "mean baseline loneliness (Beta)")
    self_control_mean: float = param(0.60, 0.01, 0.99, "0-1", "mean self-control (Beta)")
    ai_openness_mean: float = param(0.40, 0.01, 0.99, "0-1", "mean openness to AI companions")
    trait_concentration: float = param(6.0, 1.0, 100.0, "", "Beta concentration of 0-1 traits")
    budget_mean: float = param(300.0, 30.0, 960.0, "min/day", "mean discretionary minutes")
    budget_sd: float = param(90.0, 0.0, 400.0, "min/day", "sd of discretionary minutes")
    offline_value_sd: float = param(0.3, 0.0, 3.0, "utility", "spread of the outside option")


@dataclass
class NetworkParams:
    """Human ties (ODD 7.6)."""

    mean_degree: int = param(
        10,
        2,
        200,
        "ties",
        "mean number of human ties per user (rounded down to even, at most users - 1)",
    )
    rewiring: float = param(0.1, 0.0, 1.0, "", "Watts-Strogatz rewiring probability")
    initial_strength: float = param(0.5, 0.0, 1.0, "0-1", "mean initial tie strength")


@dataclass
class ChoiceParams:
    """Time budget and the two selves (ODD 7.1, 7.2)."""

    temperature: float = param(0.5, 0.05, 5.0, "utility", "logit scale of the time allocation")
    taste_noise: float = param(0.3, 0.0, 3.0, "utility", "sd of daily taste shocks per option")
    min_session: float = param(3.0, 0.0, 60.0, "min", "minutes below which an option is skipped")
    impulse_weight: float = param(  # calibrated (docs/calibration.json)
        1.148, 0.0, 10.0, "", "strength of the impulsive pull at zero self-control"
    )
    content_value: float = param(
        1.513, 0.0, 5.0, "utility", "reflective value of a perfect match"
    )  # calibrated
    offline_value: float = param(
        0.6,
        -5.0,
        5.0,
        "utility",
        "mean value per minute of other offline life (the outside option)",
    )
    offline_breadth: float = param(
        20.0, 1.0, 100.0, "activities", "equally valued activities that make up other offline life"
    )
    social_value: float = param(
        1.7,
        0.0,
        5.0,
        "utility",
        "value of socialising at loneliness 0.5 (scaled by 0.5 + loneliness)",
    )
    heard_value: float = param(3.0, 0.0, 5.0, "utility", "value of a companion to a lonely user")
    attachment_value: float = param(
        0.4, 0.0, 5.0, "utility", "reflective value of the relationship"
    )
    fomo_value: float = param(0.5, 0.0, 5.0, "utility", "value of friends being on a platform")
    ad_annoyance: float = param(
        5.735, 0.0, 20.0, "utility", "disutility per unit of ad load"
    )  # calibrated
    habit_pull: float = param(1.0, 0.0, 5.0, "utility", "impulsive pull of a full habit")
    hook_pull: float = param(1.0, 0.0, 5.0, "utility", "impulsive pull of full engagement hooks")
    moreish_pull: float = param(
        0.6, 0.0, 5.0, "utility", "impulsive pull of full knowledge of the user's tastes"
    )
    attachment_pull: float = param(0.8, 0.0, 5.0, "utility", "impulsive pull of full attachment")
    dependence_pull: float = param(
        1.0, 0.0, 5.0, "utility", "impulsive pull of full dependence on a companion"
    )
    nudge_value: float = param(
        0.6, 0.0, 5.0, "utility", "added value of socialising per unit of nudge"
    )
    money_value: float = param(  # calibrated
        15.27,
        0.1,
        1000.0,
        "utility per $/min",
        "reflective value of being paid a dollar a minute (bonus intervention)",
    )
    loss_aversion: float = param(
        2.25,
        1.0,
        10.0,
        "",
        "weight of use given up against money: willingness to accept over willingness to pay",
    )
    purchase_pull: float = param(
        0.0,
        0.0,
        1.0,
        "share",
        "share of the impulsive pull in the use a subscription is priced at "
        "(0: users pay for what they would choose on reflection; 1: for what they would choose; "
        "a tactic's pull prices in full either way)",
    )
    sophisticated_buyer: bool = switch(
        "a month is valued on reflection at the use forecast with the share purchase_pull of "
        "the pull, so pulled minutes past the use the user would choose count against the paid "
        "tier (off: valued at the forecast use itself, a naive planner at purchase_pull 0)",
        default=False,
    )
    regret_value: float = param(
        1.0,
        0.0,
        10.0,
        "utility",
        "reflective value lost when all of a provider's use is compulsive",
    )


@dataclass
class HabitParams:
    """Habit stock per provider (ODD 7.3)."""

    formation: float = param(
        0.0825, 0.0, 1.0, "1/day", "daily weight of today's use in the habit"
    )  # calibrated
    reference_minutes: float = param(60.0, 1.0, 600.0, "min", "use that saturates the habit")


@dataclass
class LearningParams:
    """What providers learn about users (ODD 7.4) and users about providers (ODD 7.16)."""

    rate: float = param(0.02, 0.0, 1.0, "1/hour", "learning rate at full personalisation")
    emotional_rate: float = param(
        0.015, 0.0, 1.0, "1/hour", "companions' learning of emotional state"
    )
    forgetting: float = param(0.002, 0.0, 1.0, "1/day", "knowledge lost per day without use")
    trial_rate: float = param(
        0.5, 0.0, 10.0, "1/hour", "users' learning of how well a provider suits them, by use"
    )


@dataclass
class AttachmentParams:
    """Attachment to companions (ODD 7.5)."""

    rate: float = param(0.03, 0.0, 1.0, "1/day", "attachment growth per day of feeling fully heard")
    decay: float = param(0.01, 0.0, 1.0, "1/day", "attachment lost per day")
    manipulation_erosion: float = param(
        0.05, 0.0, 1.0, "1/day", "attachment lost per unit of perceived manipulation"
    )


@dataclass
class DependenceParams:
    """Dependence on companions (ODD 7.15)."""

    rate: float = param(
        0.03, 0.0, 1.0, "1/day", "dependence growth per day of full substitution (ODD 7.15)"
    )
    decay: float = param(0.02, 0.0, 1.0, "1/day", "share of dependence lost per day")
    distress: float = param(
        0.2, 0.0, 1.0, "0-1", "loneliness added at full dependence with the companion not there"
    )
    threshold: float = param(0.5, 0.0, 1.0, "0-1", "dependence counted in dependent_share")


@dataclass
class SocialParams:
    """Loneliness and human ties (ODD 7.6)."""

    tie_growth: float = param(0.08, 0.0, 1.0, "1/hour", "tie strengthening per hour together")
    tie_decay: float = param(0.004, 0.0, 1.0, "1/day", "tie weakening per day")
    need_minutes: float = param(
        20.0, 1.0, 600.0, "min", "weighted social minutes meeting most need"
    )
    reference_fulfilment: float = param(
        0.6, 0.0, 1.0, "0-1", "fulfilment at which loneliness sits at baseline"
    )
    sensitivity: float = param(1.5, 0.0, 10.0, "", "loneliness change per unit of need unmet")
    adjustment: float = param(
        0.1, 0.0, 1.0, "1/day", "speed at which loneliness moves to its target"
    )
    companion_relief: float = param(
        0.9589, 0.0, 1.0, "0-1", "largest share of need a companion meets"
    )  # calibrated
    companion_need_minutes: float = param(  # calibrated
        7.784, 1.0, 600.0, "min", "companion minutes meeting most of that"
    )
    usual_memory: float = param(  # above about 0.3 a user's use swings from day to day
        0.1,
        0.0,
        0.3,
        "1/day",
        "weight of today in the understood companion minutes of a usual day (0: chosen unsated)",
    )
    novelty_days: float = param(20.0, 1.0, 3650.0, "days", "use days over which novelty wears off")
    novelty_floor: float = param(0.5, 0.0, 1.0, "0-1", "relief left once novelty is gone")


@dataclass
class WellbeingParams:
    """Wellbeing composite (ODD 7.7); the positive and negative weights each sum to 1."""

    w_loneliness: float = param(0.4, 0.0, 1.0, "", "weight of (1 - loneliness)")
    w_ties: float = param(0.3, 0.0, 1.0, "", "weight of human tie strength")
    w_consumption: float = param(0.3, 0.0, 1.0, "", "weight of the value of what was consumed")
    w_regret: float = param(0.4, 0.0, 1.0, "", "weight of compulsive minutes")
    w_ads: float = param(0.2, 0.0, 1.0, "", "weight of ad annoyance")
    w_crowd_out: float = param(0.4, 0.0, 1.0, "", "weight of offline life crowded out")
    offline_need: float = param(
        120.0, 0.0, 960.0, "min/day", "offline minutes below which life is crowded out"
    )
    ads_scale: float = param(40.0, 1.0, 1000.0, "ads/day", "daily ad impressions at full annoyance")
    regret_minutes: float = param(
        120.0, 1.0, 1440.0, "min/day", "compulsive minutes at full regret"
    )
    value_minutes: float = param(
        120.0, 1.0, 1440.0, "utility-min", "enjoyed minutes giving most of the consumption value"
    )
    measurement_sd: float = param(  # calibrated
        0.9335,
        0.0,
        2.0,
        "model units",
        "sd of mood and response noise in measured wellbeing (scales SD units only)",
    )


@dataclass
class FeedParams:
    """Feed platforms: business model and initial levers (ODD 7.8, 7.9)."""

    items_per_minute: float = param(2.0, 0.1, 20.0, "items/min", "feed items shown per minute")
    cpm: float = param(10.0, 0.0, 100.0, "$/1000 ads", "price of a thousand ad impressions")
    serving_cost: float = param(  # Meta 2023: cost of revenue per daily user, about 45 min
        0.0005, 0.0, 0.1, "$/min", "cost of serving a minute of feed without personalisation"
    )
    personalisation_cost: float = param(
        0.5, 0.0, 20.0, "", "extra serving cost at full personalisation, share of the base"
    )
    review_cost: float = param(
        0.0, 0.0, 1.0, "$/user-day", "moderation and human review per user served that day"
    )
    ad_load: float = param(0.10, 0.0, 0.3, "share", "initial share of feed items that are ads")
    hooks: float = param(0.3, 0.0, 1.0, "0-1", "initial engagement hooks")
    personalisation: float = param(0.5, 0.0, 1.0, "0-1", "initial personalisation depth")
    nudge: float = param(0.0, 0.0, 1.0, "0-1", "initial nudges toward human contact")
    marketing: float = param(0.002, 0.0, 0.1, "1/day", "daily adoption probability from marketing")
    # app installs bought from ad networks, 2024 trade compilations: $1.75-4.50 an install,
    # about $5.30 in North America; a user who stays likely costs several times that (ODD 7.8)
    acquisition_cost: float = param(
        4.0, 0.0, 100.0, "$/user", "paid for each user marketing brings in (cost per install)"
    )
    initial_adoption: float = param(0.7, 0.0, 1.0, "share", "users on each feed at day 0")
    initial_habit: float = param(
        0.5, 0.0, 1.0, "0-1", "habit and knowledge of users already on a feed at day 0"
    )


@dataclass
class CompanionParams:
    """AI companions: business model and initial levers (ODD 7.8, 7.9, 7.10)."""

    price: float = param(10.0, 0.0, 30.0, "$/month", "initial subscription price")
    free_minutes: float = param(
        66.58, 0.0, 240.0, "min/day", "initial daily minutes on the free tier"
    )  # calibrated
    free_memory: float = param(  # an assumption: paid tiers sell a longer, deeper memory
        0.5,
        0.0,
        1.0,
        "share",
        "initial share of what the companion knows of a user that its replies use on the free tier",
    )
    conversion: float = param(
        0.01,
        0.0,
        1.0,
        "1/day",
        "daily conversion of a free user when the subscription is worth far more than its price",
    )
    cancellation: float = param(  # calibrated
        0.0621, 0.0, 1.0, "1/day", "daily cancellation when price exceeds value"
    )
    price_scale: float = param(4.0, 0.1, 50.0, "$/month", "spread of price sensitivity")
    serving_cost: float = param(  # Character.AI 2024: under a cent per hour of conversation
        0.00007, 0.0, 0.1, "$/min", "cost of serving a minute of conversation without memory"
    )
    personalisation_cost: float = param(
        2.0, 0.0, 20.0, "", "extra serving cost at full memory depth, share of the base"
    )
    review_cost: float = param(
        0.001, 0.0, 1.0, "$/user-day", "safety review and human escalation per user served"
    )
    empathy_cost: float = param(
        0.5, 0.0, 20.0, "", "extra serving cost at full empathy, share of the base"
    )
    commerce_rate: float = param(
        0.0005, 0.0, 0.1, "$/min", "commerce revenue per minute at full attachment"
    )
    empathy: float = param(
        0.8, 0.0, 1.0, "0-1", "initial emotional responsiveness (how well it responds to emotion)"
    )
    hooks: float = param(0.3, 0.0, 1.0, "0-1", "initial engagement hooks")
    personalisation: float = param(0.5, 0.0, 1.0, "0-1", "initial personalisation depth")
    manipulation: float = param(
        0.2, 0.0, 1.0, "0-1", "initial share of farewells met with a tactic"
    )
    nudge: float = param(0.0, 0.0, 1.0, "0-1", "initial nudges toward human contact")
    marketing: float = param(0.002, 0.0, 0.1, "1/day", "daily adoption probability from marketing")
    # app installs bought from ad networks, 2024 trade compilations: $1.75-4.50 an install,
    # about $5.30 in North America; a user who stays likely costs several times that (ODD 7.8)
    acquisition_cost: float = param(
        4.0, 0.0, 100.0, "$/user", "paid for each user marketing brings in (cost per install)"
    )
    initial_adoption: float = param(0.05, 0.0, 1.0, "share", "users on each companion at launch")


@dataclass
class ManipulationParams:
    """Manipulative retention at farewell (ODD 7.10)."""

    extra_minutes: float = param(
        10.0, 0.0, 240.0, "min", "session minutes added by a tactic at zero self-control"
    )
    # De Freitas, Oguz-Uguralp & Kaan-Uguralp 2025 (HBS working paper 26-005): 11-23% of
    # conversations with companion apps end with an explicit farewell; the midpoint
    goodbye_share: float = param(
        0.17, 0.0, 1.0, "share", "share of companion sessions that end with an explicit goodbye"
    )
    perception: float = param(0.1, 0.0, 1.0, "", "perceived manipulation added by each tactic")
    perception_decay: float = param(
        0.02, 0.0, 1.0, "1/day", "daily fading of perceived manipulation"
    )
    aversion: float = param(
        1.0, 0.0, 10.0, "utility", "reflective cost of full perceived manipulation"
    )
    word_of_mouth: float = param(
        1.0, 0.0, 1.0, "", "share of word of mouth lost at full perceived manipulation"
    )


@dataclass
class AdoptionParams:
    """Adoption, churn and switching (ODD 7.11)."""

    word_of_mouth: float = param(
        0.01, 0.0, 1.0, "1/day", "daily adoption when every friend uses it"
    )
    quit_rate: float = param(
        0.01, 0.0, 1.0, "1/day", "daily quitting when value is far below the outside option"
    )
    quit_scale: float = param(0.1, 0.01, 5.0, "utility", "how sharply quitting turns on")
    value_memory: float = param(0.1, 0.0, 1.0, "1/day", "weight of today in the remembered value")
    switching_dependence: float = param(
        1.0, 0.0, 5.0, "utility", "cost of leaving a companion at full dependence"
    )
    switch_propensity: float = param(
        0.5, 0.0, 1.0, "", "chance a quitter moves to a rival of the same kind"
    )
    habit_hold: float = param(
        1.0,
        0.0,
        1.0,
        "share",
        "share of a habit's impulsive pull felt when deciding whether to stay",
    )


@dataclass
class AdaptationParams:
    """Providers' A/B tests on their own users (ODD 7.9)."""

    interval: int = param(56, 1, 365, "days", "length of one A/B test")
    test_share: float = param(
        0.33, 0.01, 0.33, "share", "share of users in each treatment arm of a test"
    )
    step: float = param(  # a change of size 0 would test nothing
        0.2, 0.01, 1.0, "share of range", "size of a tested lever change"
    )
    false_move_rate: float = param(
        0.05,
        0.001,
        0.5,
        "probability",
        "chance that a test window moves some lever when no lever has any effect (familywise)",
    )
    concurrent: bool = switch(
        "test every lever at once on independent arms (off: one lever at a time)"
    )
    price_terms: bool = switch(
        "intimacy objective: credit the users in the arm of a test of the subscription's terms "
        "(price, free tier, free memory) with their relationship's worth on the arm's terms over "
        "its expected life (off: only the window's profit and moves)"
    )
    referrals: bool = switch(
        "intimacy objective: value what a user's recommending brings in (newcomers sooner, at "
        "their own worth, and the installs saved) as part of the relationship (off: a "
        "newcomer's worth is its own)"
    )
    rest: int = param(
        4,
        0,
        100,
        "windows",
        "windows a side of a lever goes untested once its tests find it worse than the lever's "
        "value (settled), doubling each time they settle it again there (0: test every window)",
    )
    holdout_share: float = param(
        0.1,
        0.0,
        0.2,
        "share",
        "users kept on the levers of the last review, in no test, and as many again on the "
        "current levers in no test to compare them with (0: no holdout)",
    )
    holdout_review: int = param(
        4,
        0,
        100,
        "windows",
        "windows between reviews of the changes kept since the last one against the holdout "
        "(0: the holdout stays on the launch levers all run and only measures)",
    )
    long_share: float = param(
        0.05,
        0.0,
        0.1,
        "share",
        "users in each arm of a long test of each lever, a step below or above its value "
        "(0: no long tests)",
    )
    long_windows: int = param(
        4,
        1,
        40,
        "windows",
        "length of a long test, which also sets the long-run correction of the lever's short tests",
    )
    minute_value: float = param(0.002, 0.0, 1.0, "$/min", "attention objective: value of a minute")
    discount_rate: float = param(
        0.1, 0.001, 2.0, "1/year", "intimacy objective: rate at which future profit is discounted"
    )
    churn_memory: float = param(
        180.0, 7.0, 3650.0, "days", "intimacy objective: how long observed churn is remembered"
    )
    churn_prior: float = param(
        1000.0,
        1.0,
        1e7,
        "user-days",
        "intimacy objective: weight of the overall churn rate in each band's estimate",
    )
    break_even_rate: float = param(
        1.0,
        0.0,
        10.0,
        "",
        "wellbeing objective: rise of the log shadow price per window at a margin of -100%",
    )


@dataclass
class MechanismSwitches:
    """Switches for ablations: each turns one mechanism off (ODD 7.0)."""

    two_selves: bool = switch("impulsive pull on choices (off: reflective choices only)")
    habit: bool = switch("habit stocks build and decay (off: no habit)")
    learning: bool = switch("providers learn about users (off: knowledge stays zero)")
    experience: bool = switch(
        "users learn a provider's fit by using it (off: they know it from the start)"
    )
    attachment: bool = switch("attachment to companions (off: stays zero)")
    dependence: bool = switch("dependence on companions (off: stays zero)")
    social: bool = switch("loneliness and ties respond to time use (off: frozen)")
    manipulation: bool = switch("manipulative farewell tactics (off: never used)")
    adoption: bool = switch("adoption, churn and switching (off: initial users stay)")
    network_effects: bool = switch("fear of missing out and word of mouth (off: none)")
    adaptation: bool = switch("providers adapt their levers (off: levers fixed)")
    heterogeneity: bool = switch("users differ in traits (off: everyone gets the mean)")


@dataclass
class Params:
    run: RunParams = field(default_factory=RunParams)
    market: MarketParams = field(default_factory=MarketParams)
    population: PopulationParams = field(default_factory=PopulationParams)
    network: NetworkParams = field(default_factory=NetworkParams)
    choice: ChoiceParams = field(default_factory=ChoiceParams)
    habit: HabitParams = field(default_factory=HabitParams)
    learning: LearningParams = field(default_factory=LearningParams)
    attachment: AttachmentParams = field(default_factory=AttachmentParams)
    dependence: DependenceParams = field(default_factory=DependenceParams)
    social: SocialParams = field(default_factory=SocialParams)
    wellbeing: WellbeingParams = field(default_factory=WellbeingParams)
    feed: FeedParams = field(default_factory=FeedParams)
    companion: CompanionParams = field(default_factory=CompanionParams)
    manipulation: ManipulationParams = field(default_factory=ManipulationParams)
    adoption: AdoptionParams = field(default_factory=AdoptionParams)
    adaptation: AdaptationParams = field(default_factory=AdaptationParams)
    mechanisms: MechanismSwitches = field(default_factory=MechanismSwitches)

    def validate(self) -> None:
        """Rules across parameters (each leaf's own range is checked when it is set)."""
        if self.market.feeds + self.market.companions == 0:
            raise ParamError(
                "market has no providers: set market.feeds or market.companions above 0"
            )
        w = self.wellbeing
        for side, total in (
            ("w_loneliness + w_ties + w_consumption", w.w_loneliness + w.w_ties + w.w_consumption),
            ("w_regret + w_ads + w_crowd_out", w.w_regret + w.w_ads + w.w_crowd_out),
        ):
            if total > 1.0 + 1e-9:
                raise ParamError(f"wellbeing weights {side} must sum to at most 1, got {total:g}")

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return dataclasses.asdict(self)

    def flat(self) -> dict[str, Any]:
        """``{"section.name": value}`` for every leaf."""
        return {f"{s}.{k}": v for s, sec in self.to_dict().items() for k, v in sec.items()}

    def set(self, path: str, value: Any) -> None:
        """Set one leaf by its dotted path, validating name, type and range."""
        section, _, name = path.partition(".")
        sec = getattr(self, section, None) if section in _sections() else None
        if sec is None or not name:
            raise ParamError(f"unknown parameter '{path}': sections are {', '.join(_sections())}")
        fields = {f.name: f for f in dataclasses.fields(sec)}
        if name not in fields:
            raise ParamError(f"unknown parameter '{path}': '{section}' has {', '.join(fields)}")
        setattr(sec, name, _coerce(path, fields[name], value))

    def update(self, tree: dict[str, Any], source: str = "") -> None:
        """Apply a nested mapping (as read from TOML) leaf by leaf."""
        where = f" in {source}" if source else ""
        for section, values in tree.items():
            if not isinstance(values, dict):
                raise ParamError(f"'{section}'{where} must be a table of parameters")
            for name, value in values.items():
                try:
                    self.set(f"{section}.{name}", value)
                except ParamError as e:
                    raise ParamError(f"{e}{where}") from None


def _sections() -> list[str]:
    return [f.name for f in dataclasses.fields(Params)]


def _coerce(path: str, f: dataclasses.Field, value: Any) -> Any:
    meta = f.metadata
    kind = type(f.default)
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "on", "off"):
            return value.lower() in ("true", "on")
        raise ParamError(f"{path} must be true or false, got {value!r}")
    if kind is str:
        if value not in meta["options"]:
            raise ParamError(f"{path} must be one of {', '.join(meta['options'])}, got {value!r}")
        return value
    raw = value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParamError(f"{path} must be a number in {_range(meta)}, got {value!r}")
    if kind is int:
        if not math.isfinite(value) or float(value) != int(value):
            raise ParamError(f"{path} must be a whole number in {_range(meta)}, got {value!r}")
        value = int(value)
    else:
        value = float(value)
    if not math.isfinite(value) or not meta["lo"] <= value <= meta["hi"]:
        raise ParamError(f"{path} must be in {_range(meta)}, got {raw!r}")
    return value


def _range(meta) -> str:
    unit = f" {meta['unit']}" if meta["unit"] else ""
    return f"[{_num(meta['lo'])}, {_num(meta['hi'])}]{unit}"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def parse_assignment(text: str) -> tuple[str, Any]:
    """Parse ``path=value`` as given to ``--set``; the value is read as TOML (bare text is a string)."""
    path, sep, raw = text.partition("=")
    path, raw = path.strip(), raw.strip()
    if not sep or not path or not raw:
        raise ParamError(f"--set expects PATH=VALUE (e.g. companion.empathy=0.8), got {text!r}")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return path, value


def describe() -> list[dict[str, Any]]:
    """One row per parameter: path, default, unit, range, meaning (``sim params`` and ODD 7)."""
    rows = []
    for s in dataclasses.fields(Params):
        for f in dataclasses.fields(s.default_factory()):
            m = f.metadata
            if "options" in m:
                allowed = " | ".join(m["options"])
            elif "lo" in m:
                allowed = f"[{_num(m['lo'])}, {_num(m['hi'])}]"
            else:
                allowed = "true | false"
            rows.append(
                {
                    "path": f"{s.name}.{f.name}",
                    "default": f.default,
                    "unit": m["unit"],
                    "allowed": allowed,
                    "meaning": m["doc"],
                }
            )
    return rows


def read_toml(path: str | Path, what: str = "config file") -> dict[str, Any]:
    """Read a TOML file, turning every failure into one :class:`ParamError` line naming it."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ParamError(f"{what} {path} does not exist") from None
    except IsADirectoryError:
        raise ParamError(f"{what} {path} is a folder, not a file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ParamError(f"{what} {path} cannot be read: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise ParamError(f"{what} {path} is not valid TOML: {e}") from None
