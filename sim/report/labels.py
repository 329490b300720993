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
    "wellbeing": ["wellbeing_mean", "loneliness_mean", "tie_strength_mean"],
    "revenue": [
        "revenue_per_user_day",
        "ad_revenue_per_user_day",
        "subscription_revenue_per_user_day",
    ],
}
KEY_METRICS = {family: names[0] for family, names in FAMILIES.items()}
CATEGORICAL = ("scenario", "policy", "case")
# short label and unit of the metrics figures and sentences name most often
LABELS: dict[str, tuple[str, str]] = {
    "minutes_per_user_day": ("time on feeds and companions", "min per user-day"),
    "feed_minutes_per_user_day": ("time on feeds", "min per user-day"),
    "companion_minutes_per_user_day": ("time with companions", "min per user-day"),
    "social_minutes_per_user_day": ("time socialising", "min per user-day"),
    "retention_90d": ("90-day retention", "share of spells"),
    "monthly_churn": ("monthly churn", "share of spells"),
    "mean_attachment": ("attachment to companions", "0-1"),
    "mean_tenure_days": ("mean tenure", "days"),
    "switching_rate": ("switching", "moves per user per 30 days"),
    "wellbeing_mean": ("mean wellbeing", "model units, 0-2"),
    "wellbeing_sd_units": ("mean wellbeing", "SD of day-0 wellbeing"),
    "wellbeing_p10": ("wellbeing of the worst-off tenth", "model units, 0-2"),
    "loneliness_mean": ("loneliness", "0-1"),
    "tie_strength_mean": ("strength of human ties", "0-1"),
    "revenue_per_user_day": ("provider revenue", "$ per user-day"),
    "ad_revenue_per_user_day": ("ad revenue", "$ per user-day"),
    "subscription_revenue_per_user_day": ("subscription revenue", "$ per user-day"),
    "provider_profit_per_user_day": ("provider profit", "$ per user-day"),
}
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


def label(metric: str) -> str:
    """A metric's short name for axes and sentences."""
    if metric in LABELS:
        return LABELS[metric][0]
    text = DAILY.get(metric) or LOYALTY.get(metric) or metric.replace("_", " ")
    return text.split(",")[0].split(" (")[0]


def unit(metric: str) -> str:
    """A metric's unit, as shown on axes."""
    if metric in LABELS:
        return LABELS[metric][1]
    if "minutes" in metric:
        return "min per user-day"
    if metric.endswith("_per_user_day") or "revenue" in metric:
        return "$ per user-day"
    if metric.endswith(("_share", "_gini")) or metric.startswith("share"):
        return "0-1"
    return "model units"


def is_share(metric: str) -> bool:
    """Whether a metric is a share, shown in percentage points in sentences."""
    return unit(metric) in ("share of spells", "0-1") and metric not in (
        "mean_attachment",
        "loneliness_mean",
        "tie_strength_mean",
        "wellbeing_gini",
    )


def level_name(factor: str, value: Any) -> str:
    """Plain words for a design level: policy and market names, labels without underscores."""
    if factor == "policy":
        return POLICY_NAMES.get(str(value), str(value))
    if factor == "scenario":
        return SCENARIO_NAMES.get(str(value), str(value))
    if factor in ("case", "label"):
        return str(value).replace("_", " ")
    return f"{factor} = {value:g}" if isinstance(value, float) else f"{factor} = {value}"


def param_label(path: str) -> str:
    """A parameter path with its unit, for axes: ``learning.rate (1/hour)``."""
    from sim.model.params import describe

    units = {r["path"]: r["unit"] for r in describe()}
    return f"{path} ({units.get(path) or 'no unit'})"
