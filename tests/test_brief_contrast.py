"""``sim brief --factor F --baseline B`` makes any contrast of the design: market against
market within each policy, or another policy as the baseline; bad choices are one-line errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import report_shapes

from sim.report import analysis as an
from sim.report import brief

NOW = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def headline(tmp_path_factory):
    return report_shapes.results("headline", tmp_path_factory.getbasetemp() / "report_shapes")


def test_markets_against_the_feeds_only_market_within_each_policy(headline, tmp_path, sim):
    out = tmp_path / "b.md"
    code, _, err = sim(
        "brief", headline, "--factor", "scenario", "--baseline", "attention_economy", "--out", out
    )
    assert code == 0, err
    md = out.read_text()
    assert "from **feeds-only market**" in md
    assert "| feeds-only market (baseline) |" in md and "| companions-only market |" in md
    assert "**With attention-maximizing providers**" in md  # each policy held fixed in turn
    ctx = brief.context(headline, now=NOW, factor="scenario", baseline="attention_economy")
    res = an.load(headline)
    comp = an.compare(res.runs, "scenario", "attention_economy", within=["policy"])
    clear = comp[comp["clear"]]
    assert ctx["findings"] and all(
        "than in the feeds-only market" in f["text"] for f in ctx["findings"] if f["clear"]
    )
    assert len([f for f in ctx["findings"] if f["clear"]]) == min(5, len(clear))


def test_another_baseline_of_the_default_factor(headline):
    ctx = brief.context(headline, now=NOW, baseline="wellbeing")
    assert ctx["table"]["baseline"] == "wellbeing-aligned"
    assert all("wellbeing-aligned" in f["text"] for f in ctx["findings"])


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--factor", "companion.empathy"], "--factor companion.empathy: the design of"),
        (["--factor", "scenario", "--baseline", "moon"], "--baseline moon: scenario takes mixed"),
    ],
)
def test_a_contrast_the_design_cannot_make_is_one_line(headline, tmp_path, sim, args, needle):
    code, _, err = sim("brief", headline, "--out", tmp_path / "b.html", *args)
    assert code == 2 and needle in err and err.count("\n") == 1
    assert not (tmp_path / "b.html").exists()
    code, _, err = sim("plot", headline, "--out", tmp_path / "figs", *args)
    assert code == 2 and needle in err


def test_sim_plot_draws_the_chosen_contrast(headline, tmp_path, sim):
    code, _, err = sim(
        "plot",
        headline,
        "--factor",
        "scenario",
        "--baseline",
        "attention_economy",
        "--format",
        "svg",
        "--out",
        tmp_path / "figs",
    )
    assert code == 0, err
    svg = (tmp_path / "figs" / "comparison.svg").read_text()
    assert "What each option changes, against feeds-only market" in svg
