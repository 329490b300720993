"""Page one of a briefing: the essay's questions answered from the runs, and its claims tested.

The questions (:data:`QUESTIONS`): does the intimacy economy bring deeper loyalty than the
attention economy; at what cost to human connection, in the short run and the long run; who
earns and who pays; which regulations change that, and at what cost. Each answer is a list of
sentences, one per metric, each from a paired contrast (:mod:`sim.report.contrasts`) with its
95% interval; a difference whose interval includes zero is "not settled by the runs".

The claims (:data:`CLAIMS`) are data: the claim, the testable contrast in words, the metric,
the contrast and the expected sign. :func:`claims_table` gives each one verdict by the one rule
of :func:`sim.report.contrasts.verdict`: reproduced, contradicted, not settled by the runs, or
not covered by this design when the design lacks the runs the contrast needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sim.report import analysis as an
from sim.report import contrasts as cx
from sim.report.findings import _bare, _decimals, amount

NO_REGULATION = {"case": "no_regulation"}
FACTOR_WORDS = {"policy": "provider objective", "scenario": "market", "case": "regulation"}


@dataclass(frozen=True)
class Claim:
    """One of the essay's claims as a testable contrast: ``metric`` under ``contrast`` among
    the runs ``where`` names is expected to differ with ``sign`` (+1 higher, -1 lower)."""

    claim: str
    test: str
    metric: str
    contrast: cx.Contrast
    sign: int
    where: dict[str, Any] = field(default_factory=dict)


CLAIMS: tuple[Claim, ...] = (
    Claim(
        "Intimacy brings deeper loyalty than attention",
        "monthly churn of user-provider spells is lower in the intimacy economy than in the attention economy",
        "monthly_churn",
        cx.market(),
        -1,
        NO_REGULATION,
    ),
    Claim(
        "Intimacy brings deeper loyalty than attention",
        "90-day retention of spells is higher in the companions-only market than in the feeds-only market",
        "retention_90d",
        cx.market(),
        +1,
        NO_REGULATION,
    ),
    Claim(
        "Intimacy-maximising companions cultivate deeper attachment",
        "attachment to companions is higher under the intimacy-maximising than the attention-maximising policy",
        "mean_attachment",
        cx.arm("policy", "intimacy", "attention"),
        +1,
        NO_REGULATION,
    ),
    Claim(
        "Companions replace human connection",
        "human ties are weaker in the intimacy economy than in the attention economy",
        "tie_strength_mean",
        cx.market(),
        -1,
        NO_REGULATION,
    ),
    Claim(
        "Companions replace human connection",
        "time socialising is lower in the intimacy economy than in the attention economy",
        "social_minutes_per_user_day",
        cx.market(),
        -1,
        NO_REGULATION,
    ),
    Claim(
        "Companions ease loneliness in the short run",
        "loneliness is lower in the companions' first months than in the feeds-only era",
        "loneliness_mean",
        cx.market("short"),
        -1,
        NO_REGULATION,
    ),
    Claim(
        "... and deepen it in the long run",
        "loneliness is higher in the intimacy economy at the end than in the attention economy",
        "loneliness_mean",
        cx.market(),
        +1,
        NO_REGULATION,
    ),
    Claim(
        "Revenue moves from ads to subscriptions and commerce",
        "ad revenue is lower in the intimacy economy than in the attention economy",
        "ad_revenue_per_user_day",
        cx.market(),
        -1,
        NO_REGULATION,
    ),
    Claim(
        "Revenue moves from ads to subscriptions and commerce",
        "subscription revenue is higher in the intimacy economy than in the attention economy",
        "subscription_revenue_per_user_day",
        cx.market(),
        +1,
        NO_REGULATION,
    ),
    Claim(
        "Revenue moves from ads to subscriptions and commerce",
        "commerce revenue is higher in the intimacy economy than in the attention economy",
        "commerce_revenue_per_user_day",
        cx.market(),
        +1,
        NO_REGULATION,
    ),
    Claim(
        "Engagement-maximising companions use manipulative farewells",
        "more goodbyes to companions are met with a manipulative tactic under the intimacy-maximising than the wellbeing-aligned policy",
        "manipulative_farewell_share",
        cx.arm("policy", "intimacy", "wellbeing"),
        +1,
        NO_REGULATION,
    ),
    Claim(
        "Engagement-maximising companions use manipulative farewells",
        "more goodbyes to companions are met with a manipulative tactic under the attention-maximising than the wellbeing-aligned policy",
        "manipulative_farewell_share",
        cx.arm("policy", "attention", "wellbeing"),
        +1,
        NO_REGULATION,
    ),
    Claim(
        "Wellbeing-aligned providers leave users better off",
        "welfare is higher under the wellbeing-aligned than the attention-maximising policy",
        "welfare_per_user_day",
        cx.arm("policy", "wellbeing", "attention"),
        +1,
        NO_REGULATION,
    ),
    Claim(
        "Wellbeing-aligned providers leave users better off",
        "welfare is higher under the wellbeing-aligned than the intimacy-maximising policy",
        "welfare_per_user_day",
        cx.arm("policy", "wellbeing", "intimacy"),
        +1,
        NO_REGULATION,
    ),
    Claim(
        "Wellbeing-aligned providers leave users better off",
        "mean wellbeing is higher under the wellbeing-aligned than the attention-maximising policy",
        "wellbeing_mean",
        cx.arm("policy", "wellbeing", "attention"),
        +1,
        NO_REGULATION,
    ),
    Claim(
        "... while breaking even",
        "provider profit under the wellbeing-aligned policy is above zero",
        "provider_profit_per_user_day",
        cx.level(),
        +1,
        {**NO_REGULATION, "policy": "wellbeing"},
    ),
    Claim(
        "A ban on manipulative farewells changes outcomes",
        "fewer goodbyes to companions are met with a manipulative tactic with the ban than without regulation",
        "manipulative_farewell_share",
        cx.arm("case", "ban_manipulation", "no_regulation"),
        -1,
    ),
    Claim(
        "... at a cost",
        "provider profit is lower with the ban than without regulation",
        "provider_profit_per_user_day",
        cx.arm("case", "ban_manipulation", "no_regulation"),
        -1,
    ),
    Claim(
        "An ad-load cap changes outcomes",
        "mean wellbeing is higher with the ad-load cap than without regulation",
        "wellbeing_mean",
        cx.arm("case", "ad_load_cap", "no_regulation"),
        +1,
    ),
    Claim(
        "... at a cost",
        "ad revenue is lower with the ad-load cap than without regulation",
        "ad_revenue_per_user_day",
        cx.arm("case", "ad_load_cap", "no_regulation"),
        -1,
    ),
)

# page one's questions: (key, question, [(metric, contrast)]), every row among unregulated runs
QUESTIONS: tuple[tuple[str, str, list[tuple[str, cx.Contrast]]], ...] = (
    (
        "loyalty",
        "Does the intimacy economy bring deeper loyalty than the attention economy?",
        [
            ("monthly_churn", cx.market()),
            ("retention_90d", cx.market()),
            ("mean_tenure_days", cx.market()),
            ("mean_attachment", cx.market()),
            ("active_share", cx.market()),
            ("minutes_per_user_day", cx.market()),
        ],
    ),
    (
        "connection",
        "At what cost to human connection, in the short run and the long run?",
        [
            ("loneliness_mean", cx.market("short")),
            ("loneliness_mean", cx.market()),
            ("tie_strength_mean", cx.market("short")),
            ("tie_strength_mean", cx.market()),
            ("social_minutes_per_user_day", cx.market()),
            ("dependent_share", cx.market()),
        ],
    ),
    (
        "money",
        "Who earns and who pays?",
        [
            ("ad_revenue_per_user_day", cx.market()),
            ("subscription_revenue_per_user_day", cx.market()),
            ("commerce_revenue_per_user_day", cx.market()),
            ("provider_profit_per_user_day", cx.market()),
            ("welfare_per_user_day", cx.market()),
            ("feed_consumer_surplus_per_user_day", cx.market()),
            ("companion_consumer_surplus_per_user_day", cx.market()),
            ("wellbeing_mean", cx.market()),
        ],
    ),
)
# what each regulation is judged on: its target, then who earns and who pays
REGULATION_METRICS = (
    "manipulative_farewell_share",
    "ad_revenue_per_user_day",
    "provider_profit_per_user_day",
    "welfare_per_user_day",
    "wellbeing_mean",
    "loneliness_mean",
    "tie_strength_mean",
)


# -- numbers in words ---------------------------------------------------------------------------
def _digits(metric: str, p: dict[str, Any]) -> int:
    half = (p["ci_high"] - p["ci_low"]) / 2 if math.isfinite(p["ci_low"]) else math.nan
    return _decimals(metric, half, p["difference"], p["ci_low"], p["ci_high"])


def show(metric: str, value: float, d: int) -> str:
    """A level as read: ``12.3%``, ``$0.12``, ``41.0 min``, ``0.512``."""
    if not math.isfinite(value):
        return "n/a"
    u = an.unit(metric)
    if an.is_share(metric):
        return f"{value * 100:.{d}f}%"
    if u.startswith("$"):
        return f"{'-' if value < 0 else ''}${abs(value):.{d}f}"
    if u.startswith("min"):
        return f"{value:.{d}f} min"
    return f"{value:.{d}f}{' days' if u == 'days' else ''}"


def change(metric: str, p: dict[str, Any]) -> str:
    """A paired difference with its interval: ``-1.2 percentage points (95% CI -2.0 to -0.4)``."""
    d = _digits(metric, p)
    if p["n"] < 2 or not math.isfinite(p["ci_low"]):
        return f"{amount(metric, p['difference'], d, signed=True)} (one seed: no interval)"
    ci = f"95% CI {_bare(metric, p['ci_low'], d)} to {_bare(metric, p['ci_high'], d)}"
    text = amount(metric, p["difference"], d, signed=True)
    return f"{text[:-1]}; {ci})" if text.endswith(")") else f"{text} ({ci})"


def cell(metric: str, p: dict[str, Any]) -> dict[str, Any]:
    """A table cell: the difference, its interval and whether it is clear."""
    d = _digits(metric, p)
    value = _bare(metric, p["difference"], d)
    ci = (
        f"{_bare(metric, p['ci_low'], d)} to {_bare(metric, p['ci_high'], d)}"
        if p["n"] > 1 and math.isfinite(p["ci_low"])
        else ""
    )
    sign = "+" if p["difference"] > 0 else ""
    return {"value": f"{sign}{value}", "ci": ci, "clear": bool(p["clear"])}


def answer_sentence(metric: str, est: cx.Estimate) -> str:
    """One row of an answer: both levels, the paired change and its interval, in words."""
    p = est.pooled
    d = _digits(metric, p)
    lead = f"{an.label(metric)[0].upper()}{an.label(metric)[1:]}"
    levels = (
        f"{show(metric, p['treatment_mean'], d)} in {est.treated} against "
        f"{show(metric, p['baseline_mean'], d)} in {est.baseline}"
    )
    if not p["clear"]:
        return f"{lead}: {levels}, a change of {change(metric, p)}, which includes zero: not settled by the runs."
    return f"{lead}: {levels}, a change of {change(metric, p)}."


# -- page one -----------------------------------------------------------------------------------
def page_one(results: an.Results) -> dict[str, Any] | None:
    """The answers to the essay's questions that the design can give, with how they were
    measured; None when it sets no market against another (its regulations, if any, are then
    in the claims table and the table of policy options)."""
    questions, pooled_over, seeds = [], set(), set()
    strata_levels: list[tuple] = []
    detail_rows = []
    for key, question, rows in QUESTIONS:
        answers, gaps = [], {}
        for metric, contrast in rows:
            est = cx.estimate(results, metric, contrast, NO_REGULATION)
            if not est.covered:
                gaps.setdefault(an.label(metric), est.missing)
                continue
            pooled_over.update(est.by)
            seeds.add(est.pooled["n"])
            answers.append(
                {"text": answer_sentence(metric, est), "clear": bool(est.pooled["clear"])}
            )
            detail_rows.append((metric, contrast, est))
            strata_levels += [k for k in est.strata if k not in strata_levels]
        questions.append(
            {
                "key": key,
                "question": question,
                "answers": answers,
                # what the design cannot give, said rather than left out (e.g. retention, which
                # needs whole spells, in a transition whose eras come from the daily series)
                "gaps": "; ".join(f"{m}: {why}" for m, why in gaps.items()) if answers else "",
                "missing": ""
                if answers
                else "This design cannot answer it: it needs a launch "
                "of companions inside the runs (a transition) or feeds-only and companions-only "
                "markets.",
            }
        )
    if not detail_rows:  # no market against market: the essay's question is not asked here
        return None
    regulation = regulations(results)
    return {
        "questions": questions,
        "regulation": regulation,
        "how": how_measured(results, sorted(pooled_over), sorted(seeds)),
        "detail": detail_table(detail_rows, strata_levels, sorted(pooled_over)),
    }


def how_measured(results: an.Results, pooled_over: list[str], seeds: list[int]) -> str:
    """How page one's contrasts were made, in words, from the design's own windows."""
    windows = cx.eras(results)
    regulated = (
        " Only runs without regulation enter the answers; each regulation is compared with no "
        "regulation at the end of the runs."
        if "case" in results.factors
        else ""
    )
    n = f"{', '.join(map(str, seeds))} paired seed{'s' * (seeds != [1])}" if seeds else "the seeds"
    over = (
        f"; where the design varies the {' and '.join(FACTOR_WORDS.get(c, c) for c in pooled_over)}, "
        f"each seed's differences are averaged over its levels (each weighs the same) before the interval is taken, "
        f"and a table after the claims gives them level by level"
        if pooled_over
        else ""
    )
    if windows:
        b, s, lg = windows["before"], windows["short"], windows["long"]
        what = (
            f"The attention economy is each run's feeds-only era, measured over days {b[0]:,}-{b[1] - 1:,} "
            f"(the last {b[1] - b[0]} days before the companions enter); the intimacy economy is the same run "
            f"in the short run, days {s[0]:,}-{s[1] - 1:,} (the companions' first {s[1] - s[0]} days), and in the "
            f"long run, days {lg[0]:,}-{lg[1] - 1:,} (the last {lg[1] - lg[0]} days, the window of the runs' summaries). "
            "Each window's value is the mean of the run's recorded days in it (monthly churn: the window's quits "
            "over its spells). The change is taken within each run, so it is paired by seed; it includes "
            "everything that changes over those years (the companions' improvement, the feeds' own adaptation), "
            "not the companions' entry alone."
        )
    else:
        what = (
            "The attention economy is the feeds-only market and the intimacy economy the companions-only "
            "market, each run's summary over its last days, the same seed in both."
        )
    return (
        f"{what}{regulated} Intervals are 95% Student-t intervals over {n}{over}. "
        "A change whose interval includes zero is not settled by the runs."
    )


def regulations(results: an.Results) -> list[dict[str, Any]]:
    """One sentence per regulation in the design: what it changes against no regulation."""
    if "case" not in results.factors:
        return []
    cases = list(dict.fromkeys(results.runs["case"]))
    base = "no_regulation" if "no_regulation" in cases else cases[0]
    out = []
    for case in cases:
        if case == base:
            continue
        clear, unclear = [], []
        for metric in REGULATION_METRICS:
            est = cx.estimate(results, metric, cx.arm("case", case, base))
            if not est.covered:
                continue
            p = est.pooled
            if p["clear"]:
                clear.append(f"{an.label(metric)} {change(metric, p)}")
            else:
                unclear.append(f"{an.label(metric)} {change(metric, p)}")
        text = f"With {an.level_name('case', case)}, against {an.level_name('case', base)}: "
        text += "; ".join(clear) if clear else "no clear change"
        if unclear:
            text += f". Not settled by the runs: {'; '.join(unclear)}"
        out.append({"case": an.level_name("case", case), "text": text + "."})
    return out


def detail_table(rows, strata: list[tuple], by: list[str]) -> dict[str, Any] | None:
    """The answers' changes level by level of the averaged factors (e.g. provider objective)."""
    if not by or not strata:
        return None
    heads = [" · ".join(an.level_name(c, v) for c, v in zip(by, k, strict=True)) for k in strata]
    body = []
    for metric, contrast, est in rows:
        when = {"short": "short run", "long": "long run"}[contrast.window]
        cells = [cell(metric, est.strata[k]) if k in est.strata else None for k in strata]
        body.append(
            {
                "metric": f"{an.label(metric)} ({an.difference_unit(metric)}), {when}",
                "cells": cells,
                "pooled": cell(metric, est.pooled),
            }
        )
    return {"heads": heads, "rows": body, "words": " and ".join(FACTOR_WORDS.get(f, f) for f in by)}


# -- the claims ---------------------------------------------------------------------------------
def by_stratum(est: cx.Estimate, sign: int, overall: str) -> str:
    """The verdict level by level of the averaged factors, grouped: ``the same under each
    provider objective``, or ``reproduced under A and B; not settled by the runs under C``."""
    verdicts: dict[str, list[str]] = {}
    for key, p in est.strata.items():
        name = " · ".join(an.level_name(f, v) for f, v in zip(est.by, key, strict=True))
        verdicts.setdefault(cx.verdict(cx.Estimate(p), sign), []).append(name)
    words = " and ".join(FACTOR_WORDS.get(f, f) for f in est.by)
    if list(verdicts) == [overall]:
        return f"the same under each {words}"
    return "; ".join(f"{v} under {' and '.join(names)}" for v, names in verdicts.items())


def claims_table(results: an.Results, claims: tuple[Claim, ...] = CLAIMS) -> list[dict[str, Any]]:
    """One row per claim: the claim, its test, the computed verdict, the estimate with its
    interval and, where strata were averaged, the verdict in each."""
    out = []
    for c in claims:
        est = cx.estimate(results, c.metric, c.contrast, c.where)
        row = {
            "claim": c.claim,
            "test": c.test,
            "metric": an.label(c.metric),
            "expected": "higher" if c.sign > 0 else "lower",
            "verdict": cx.verdict(est, c.sign),
            "estimate": "",
            "by": "",
        }
        if est.covered:
            row["estimate"] = change(c.metric, est.pooled)
            if est.strata:
                row["by"] = by_stratum(est, c.sign, row["verdict"])
        else:
            row["estimate"] = est.missing
        out.append(row)
    return out
