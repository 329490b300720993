"""Names and units of metrics and design levels, as figures and briefings print them.

The four metric families of ODD 7.14, a short label and a unit for each
metric (falling back to the meanings in :mod:`sim.model.metrics`), and plain words for policies,
market presets, case labels and parameter values. Re-exported by :mod:`sim.report.analysis`.
"""

from __future__ import annotations

from typing import Any

from sim.model.metrics import DAILY, LOYALTY

# the four metric families of ODD 7.14; the first metric of each is its key
FAMILIES: dict[str, list[str]] = {
    "engagement": [
        "minutes_per_user_day",
        "feed_minutes_per_user_day",
        "companion_minutes_per_user_day",
    ],
    "loyalty": ["retention_90d", "monthly_churn", "mean_attachment"],
    "wellbeing": ["wellbeing_mean", "welfare_per_user_day", "loneliness_mean", "tie_strength_mean"],
    "revenue": [
        "revenue_per_user_day",
        "ad_revenue_per_user_day",
        "subscription_revenue_per_user_day",
    ],
}
KEY_METRICS = {family: names[0] for family, names in FAMILIES.items()}
CATEGORICAL = ("scenario", "policy", "case")
# the wellbeing scale in words a lay reader follows (docs/ODD.md 7.7)
WELLBEING_UNIT = "score 0-2, 1 = neutral"
WELLBEING_WORDS = (
    "Wellbeing is the model's daily score of how a person's life is going, from 0 (worst) to 2 "
    "(best), 1 being neutral: it rises when people are less lonely, have stronger friendships and "
    "get value from what they use, and falls with use they regret, with ads and with time taken "
    "from the rest of offline life. It is a model quantity, not a survey answer."
)
# short label and unit of the metrics figures, tables and sentences name most often; shares are
# shown in percent ("% of ...") and their differences in percentage points
LABELS: dict[str, tuple[str, str]] = {
    "minutes_per_user_day": ("time on feeds and companions", "min per user-day"),
    "feed_minutes_per_user_day": ("time on feeds", "min per user-day"),
    "companion_minutes_per_user_day": ("time with companions", "min per user-day"),
    "social_minutes_per_user_day": ("time socialising", "min per user-day"),
    "companion_minutes_per_active_user": ("companion time of their users", "min per user-day"),
    "active_share": ("users of any service today", "% of users"),
    "compulsive_minute_share": ("minutes driven by impulse", "% of minutes"),
    "feed_user_share": ("users on at least one feed", "% of users"),
    "companion_user_share": ("users on at least one companion", "% of users"),
    "subscriber_share": ("companion subscribers", "% of users"),
    "dependent_share": ("dependent users", "% of users"),  # from the dependence state (ODD 7.15)
    "manipulative_farewell_share": ("manipulative farewells", "% of goodbyes to companions"),
    "audited_farewell_share": (
        "manipulative farewells an audit sees",
        "% of goodbyes to companions",
    ),
    "minutes_per_tactic": ("minutes a tactic keeps the user", "min per tactic"),
    "retention_90d": ("90-day retention", "% of spells"),
    "monthly_churn": ("monthly churn", "% of spells"),
    "feed_retention_90d": ("90-day retention with feeds", "% of spells"),
    "companion_retention_90d": ("90-day retention with companions", "% of spells"),
    "feed_monthly_churn": ("monthly churn of feeds", "% of spells"),
    "companion_monthly_churn": ("monthly churn of companions", "% of spells"),
    "mean_attachment": ("attachment to companions", "0-1"),
    "mean_tenure_days": ("mean tenure", "days"),
    "switching_rate": ("switching", "moves per user per 30 days"),
    "wellbeing_mean": ("mean wellbeing", WELLBEING_UNIT),
    "wellbeing_sd_units": ("change in wellbeing since day 0", "SDs of day-0 wellbeing"),
    "wellbeing_p10": ("wellbeing of the worst-off tenth", WELLBEING_UNIT),
    "wellbeing_gini": ("inequality of wellbeing (Gini)", "0-1"),
    "welfare_per_user_day": (
        "welfare (worth of the day's choices on reflection)",
        "$ per user-day",
    ),
    "feed_consumer_surplus_per_user_day": ("consumer surplus from feeds", "$ per user-day"),
    "companion_consumer_surplus_per_user_day": (
        "consumer surplus from companions",
        "$ per user-day",
    ),
    "loneliness_mean": ("loneliness", "0-1"),
    "tie_strength_mean": ("strength of human ties", "0-1"),
    "revenue_per_user_day": ("provider revenue", "$ per user-day"),
    "ad_revenue_per_user_day": ("ad revenue", "$ per user-day"),
    "subscription_revenue_per_user_day": ("subscription revenue", "$ per user-day"),
    "commerce_revenue_per_user_day": ("commerce revenue", "$ per user-day"),
    "provider_cost_per_user_day": ("provider costs", "$ per user-day"),
    "provider_profit_per_user_day": ("provider profit", "$ per user-day"),
    "ad_revenue_per_feed_user_day": ("ad revenue per feed user", "$ per user-day"),
}
# quantities that may go below zero (everything else is a count, time, share, score or money
# earned, bounded below by 0)
SIGNED = (
    "provider_profit_per_user_day",
    "wellbeing_sd_units",
    "welfare_per_user_day",
    "feed_consumer_surplus_per_user_day",
    "companion_consumer_surplus_per_user_day",
    "attention_objective_per_user_day",
    "intimacy_objective_per_user_day",
)
POLICY_NAMES = {
    "attention": "attention-maximizing",
    "intimacy": "intimacy-maximizing",
    "wellbeing": "wellbeing-aligned",
    "attention/intimacy": "default objectives (feeds attention, companions intimacy)",
}
SCENARIO_NAMES = {
    "mixed": "mixed market",
    "attention_economy": "feeds-only market",
    "intimacy_economy": "companions-only market",
}
# the regulations the shipped experiments name; any other case reads as its label without underscores
CASE_NAMES = {
    "no_regulation": "no regulation",
    "ban_manipulation": "a ban on manipulative farewells",
    "ad_load_cap": "a cap on ad load",
}


def label(metric: str) -> str:
    """A metric's short name for axes and sentences."""
    if metric in LABELS:
        return LABELS[metric][0]
    text = DAILY.get(metric) or LOYALTY.get(metric) or metric.replace("_", " ")
    return text.split(",")[0].split(" (")[0]


def unit(metric: str) -> str:
    """A metric's unit as shown (a share's in percent: its values are multiplied by
    :func:`scale`)."""
    if metric in LABELS:
        return LABELS[metric][1]
    if "minutes" in metric:
        return "min per user-day"
    if metric.endswith("_per_user_day") or "revenue" in metric:
        return "$ per user-day"
    if metric.endswith("_share") or metric.startswith("share"):
        return "% of users"
    if metric.endswith("_gini"):
        return "0-1"
    return "model units"


def is_share(metric: str) -> bool:
    """Whether a metric is a share: shown in percent, its differences in percentage points."""
    return unit(metric).startswith("% of")


def scale(metric: str) -> float:
    """The factor from stored values to shown ones: 100 for a share (percent), else 1."""
    return 100.0 if is_share(metric) else 1.0


def bounds(metric: str) -> tuple[float | None, float | None]:
    """The range a metric's values can take, as shown (after :func:`scale`): bands and
    intervals drawn in figures are clipped to it, so no band shows negative minutes."""
    u = unit(metric)
    if metric in SIGNED:
        return None, None
    if is_share(metric):
        return 0.0, 100.0
    if u == "0-1":
        return 0.0, 1.0
    if u == WELLBEING_UNIT:
        return 0.0, 2.0
    if u == "min per user-day":
        return 0.0, 1440.0
    return 0.0, None


def difference_unit(metric: str) -> str:
    """The unit of a difference in ``metric``: percentage points for a share."""
    return "percentage points" if is_share(metric) else unit(metric)


def labelled(metric: str) -> str:
    """``label (unit)``, for tables and axes."""
    return f"{label(metric)} ({unit(metric)})"


def level_name(factor: str, value: Any) -> str:
    """Plain words for a design level: policy and market names, labels without underscores."""
    if factor == "policy":
        return POLICY_NAMES.get(str(value), str(value))
    if factor == "scenario":
        return SCENARIO_NAMES.get(str(value), str(value))
    if factor in ("case", "label"):
        return CASE_NAMES.get(str(value), str(value).replace("_", " "))
    return f"{factor} = {value:g}" if isinstance(value, float) else f"{factor} = {value}"


def param_label(path: str) -> str:
    """A parameter path with its unit, for axes: ``learning.rate (1/hour)``."""
    from sim.model.params import describe

    units = {r["path"]: r["unit"] for r in describe()}
    return f"{path} ({units.get(path) or 'no unit'})"
