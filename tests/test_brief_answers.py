"""Page one and the table of claims, read as a reader reads them: a small transition (feeds alone,
then companions from day 40, two provider objectives, no regulation against a placebo rule that
binds nobody, 3 paired seeds) is swept and briefed, and the briefing's answers and verdicts are
checked against numbers recomputed here from the stored daily series, against a placebo that
must read as not settled, and against claims whose runs the design lacks."""

from __future__ import annotations

import html as htmllib
import math
import re
from datetime import UTC, datetime

import pandas as pd
import pytest
from report_shapes import results as shape
from report_shapes import swept

from sim.report import analysis as an
from sim.report import answers, brief
from sim.report import contrasts as cx

NOW = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
TRANSITION = """name = "transition_tiny"
description = "Feeds alone, then companions from day 40"
users = 60
days = 120
replications = 3
base_seed = 1
scenario = "mixed"
[base]
"market.companion_launch_day" = 40
"run.summary_window" = 16
[paths]
"learning.emotional_rate" = [[40, 0.0075], [100, 0.03]]
[grid]
policy = ["attention", "wellbeing"]
[[cases]]
label = "no_regulation"
[[cases]]
label = "placebo"
interventions = [{ kind = "cap_minutes", providers = "all", value = 1440, start = 40 }]
[record]
every = 4
"""
VERDICTS = {cx.REPRODUCED, cx.CONTRADICTED, cx.UNSETTLED, cx.UNCOVERED}


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    """Where report_shapes makes its folders, shared with the other briefing tests (it makes
    each shape once per session, under the first root it is given)."""
    return tmp_path_factory.getbasetemp() / "report_shapes"


@pytest.fixture(scope="module")
def transition(tmp_path_factory):
    root = tmp_path_factory.mktemp("transition")
    (root / "t.toml").write_text(TRANSITION)
    return swept(root / "t.toml", root / "out")


@pytest.fixture(scope="module")
def page(transition, tmp_path_factory):
    out = tmp_path_factory.mktemp("brief") / "b.html"
    return htmllib.unescape(brief.write(transition, out, now=NOW).read_text())


def _section(html: str, name: str) -> str:
    start = html.index(f'<section class="{name}">')
    return html[start : html.index("</section>", start)]


def test_the_eras_are_the_feeds_only_days_then_the_first_and_last_days_with_companions(transition):
    res = an.load(transition)
    # the design's summary window of 16 days, shorter than half of either era (20 and 40 days)
    assert cx.eras(res) == {"before": (24, 40), "short": (40, 56), "long": (104, 120)}


def test_the_eras_never_overlap_when_the_summary_window_is_longer_than_an_era(transition):
    res = an.load(transition)
    res.definition["base"]["run.summary_window"] = 180  # as if left at the default
    # w = min(180, 40 // 2, (120 - 40) // 2) = 20
    assert cx.eras(res) == {"before": (20, 40), "short": (40, 60), "long": (100, 120)}


def test_page_one_answers_each_question_with_intervals_recomputed_from_the_daily_series(
    transition, page
):
    section = _section(page, "answers")
    for _, question, _ in answers.QUESTIONS:
        assert question in section
    assert "Which regulations change that, and at what cost?" in section
    assert "days 24-39" in section and "days 104-119" in section  # the windows, stated
    items = re.findall(r'<li( class="unclear")?>(.*?)</li>', section, re.S)
    assert len(items) >= 10
    for unclear, text in items:
        assert "95% CI" in text
        assert bool(unclear) == ("not settled by the runs" in text)
    # the long-run change in ties, recomputed by hand: each run's window means, differenced within
    # the run, averaged over the two objectives within each seed, then a t interval over seeds
    res = an.load(transition)
    ts = res.timeseries.merge(res.runs[["run_id", "seed", "policy", "case"]], on="run_id")
    ts = ts[ts["case"] == "no_regulation"]

    def window(a, b):
        rows = ts[(ts["day"] >= a) & (ts["day"] < b)]
        return rows.groupby(["seed", "policy"])["tie_strength_mean"].mean()

    per_seed = (window(104, 120) - window(24, 40)).groupby("seed").mean()
    mean, lo, hi = an.t_interval(per_seed)
    ties = next(t for _, t in items if t.startswith("Strength of human ties") and "last 16" in t)
    shown = [float(x) for x in re.findall(r"[-+]?\d+\.\d+", ties.split("a change of")[1])]
    assert shown[0] == pytest.approx(mean, abs=0.006)
    assert shown[1:3] == [pytest.approx(lo, abs=0.006), pytest.approx(hi, abs=0.006)]


def test_the_placebo_regulation_changes_nothing_and_says_so(page):
    section = _section(page, "answers")
    placebo = next(t for t in re.findall(r"<li>(With placebo.*?)</li>", section, re.S))
    assert "no clear change" in placebo and "Not settled by the runs" in placebo


def test_the_claims_table_has_one_computed_verdict_per_claim(transition, page):
    rows = re.findall(
        r'<tr class="verdict-\w+"><td>(.*?)</td><td>(.*?)</td><td class="verdict">(.*?)</td>',
        _section(page, "claims"),
    )
    assert len(rows) == len(answers.CLAIMS)
    expected = answers.claims_table(an.load(transition))
    assert [r[2] for r in rows] == [c["verdict"] for c in expected]
    assert {r[2] for r in rows} <= VERDICTS
    by_test = {r[1]: r[2] for r in rows}
    # the design has no intimacy-maximizing objective and no regulation but a placebo
    assert by_test[answers.CLAIMS[2].test] == cx.UNCOVERED  # intimacy against attention
    assert all(
        by_test[c.test] == cx.UNCOVERED for c in answers.CLAIMS if c.contrast.factor == "case"
    )
    # a companions-only against feeds-only market is absent, and retention needs spells
    assert by_test[answers.CLAIMS[1].test] == cx.UNCOVERED
    assert sum(v != cx.UNCOVERED for v in by_test.values()) >= 8


def test_a_placebo_claim_is_not_settled_and_a_known_effect_is_reproduced_or_contradicted(
    transition,
):
    res = an.load(transition)
    claims = (
        answers.Claim(
            "placebo", "no rule", "wellbeing_mean", cx.arm("case", "placebo", "no_regulation"), +1
        ),
        answers.Claim(
            "companions arrive",
            "time with them rises",
            "companion_minutes_per_user_day",
            cx.market(),
            +1,
            answers.NO_REGULATION,
        ),
        answers.Claim(
            "companions vanish",
            "time with them falls",
            "companion_minutes_per_user_day",
            cx.market(),
            -1,
            answers.NO_REGULATION,
        ),
        answers.Claim(
            "absent arm",
            "a ban",
            "wellbeing_mean",
            cx.arm("case", "ban_manipulation", "no_regulation"),
            +1,
        ),
    )
    table = answers.claims_table(res, claims)
    assert [c["verdict"] for c in table] == [
        cx.UNSETTLED,
        cx.REPRODUCED,
        cx.CONTRADICTED,
        cx.UNCOVERED,
    ]
    assert table[0]["estimate"].startswith("0 points") and "(95% CI 0 to 0)" in table[0]["estimate"]
    assert table[3]["estimate"].startswith("no runs of")


def test_the_verdict_rule():
    def est(diff, lo, hi, n=5):
        return cx.Estimate(
            {"n": n, "difference": diff, "ci_low": lo, "ci_high": hi, "clear": lo > 0 or hi < 0}
        )

    assert cx.verdict(est(1.0, 0.5, 1.5), +1) == cx.REPRODUCED
    assert cx.verdict(est(1.0, 0.5, 1.5), -1) == cx.CONTRADICTED
    assert cx.verdict(est(-1.0, -1.5, -0.5), -1) == cx.REPRODUCED
    assert cx.verdict(est(0.2, -0.1, 0.5), +1) == cx.UNSETTLED
    assert cx.verdict(est(1.0, math.nan, math.nan, n=1), +1) == cx.UNSETTLED
    assert cx.verdict(cx.Estimate(missing="no runs"), +1) == cx.UNCOVERED


def test_markdown_carries_page_one_and_the_claims(transition, tmp_path):
    md = brief.write(transition, tmp_path / "b.md", now=NOW).read_text()
    assert (
        md.index("## The answer, from the runs")
        < md.index("## The essay")
        < md.index("## Key findings")
    )
    claims = md[md.index("## The essay") : md.index("## Key findings")]
    rows = [line for line in claims.splitlines() if line.startswith("| ") and "| **" in line]
    assert len(rows) == len(answers.CLAIMS)


def test_markets_against_markets_when_the_design_has_no_transition(shapes):
    res = an.load(shape("headline", shapes))
    assert cx.eras(res) is None
    est = cx.estimate(res, "monthly_churn", cx.market())
    assert est.covered and est.treated == "the companions-only market" and est.by == ["policy"]
    by_hand = res.runs.pivot_table(index="seed", columns="scenario", values="monthly_churn")
    diff = (by_hand["intimacy_economy"] - by_hand["attention_economy"]).mean()
    assert est.pooled["difference"] == pytest.approx(diff)
    assert not cx.estimate(res, "loneliness_mean", cx.market("short")).covered
    page = answers.page_one(res)
    assert "feeds-only market" in page["how"]


def test_a_design_with_no_arm_the_claims_need_says_not_covered(shapes):
    path = shape("grid2d", shapes)
    ctx = brief.context(path, now=NOW)
    assert ctx["claims_covered"] == 0 and ctx["answers"] is None
    assert {c["verdict"] for c in ctx["claims"]} == {cx.UNCOVERED}
    html = brief.render_html(ctx)
    assert "not covered by this design" in _section(html, "claims")
    assert pd.notna(ctx["claims"][0]["estimate"])


def test_page_one_says_which_answers_the_design_cannot_give(page):
    section = _section(page, "answers")
    loyalty = section[
        section.index(answers.QUESTIONS[0][1]) : section.index(answers.QUESTIONS[1][1])
    ]
    # retention and tenure come from whole spells: a transition's eras cannot split them
    gaps = re.search(r'<p class="note gaps">Not covered by this design: (.*?)</p>', loyalty, re.S)
    assert gaps and "90-day retention" in gaps.group(1) and "mean tenure" in gaps.group(1)
    attachment = re.search(r"<li[^>]*>(Attachment to companions: .*?)</li>", loyalty, re.S)
    assert attachment and "feeds only" in attachment.group(1) and "95% CI" in attachment.group(1)


def test_a_claim_about_a_policy_the_design_lacks_is_not_covered_even_with_one_policy_fixed(
    shapes,
):
    # grid2d runs the intimacy-maximizing objective only: the wellbeing policy's break-even claim
    # must not be judged on another policy's profit
    res = an.load(shape("grid2d", shapes))
    assert set(res.runs["policy"]) == {"intimacy"}
    claim = next(c for c in answers.CLAIMS if c.contrast.kind == "level")
    est = cx.estimate(res, claim.metric, claim.contrast, claim.where)
    assert cx.verdict(est, claim.sign) == cx.UNCOVERED and "wellbeing" in est.missing


def test_sim_brief_help_describes_page_one_and_the_verdicts(sim):
    code, out, _ = sim("brief", "--help")
    text = " ".join(out.split())
    assert code == 0
    for words in (
        "Page one",
        "95% interval",
        "not settled by the runs",
        "not covered by this design",
    ):
        assert words in text
