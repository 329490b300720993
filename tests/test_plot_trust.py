"""Figures a reader can trust: one scale per unit within a figure, bands inside the range of
their quantity, frontiers only among the options of one market, no panel that is an empty line
at zero, no label cut off at the figure's edge, shares in percent, wellbeing explained."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import report_shapes
from matplotlib._pylab_helpers import Gcf
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection

from sim.report import analysis as an
from sim.report import brief, plots


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.getbasetemp() / "report_shapes"


@pytest.fixture(scope="module")
def headline(root):
    return an.load(report_shapes.results("headline", root))


def _drawn_axes(fig):
    return [ax for ax in fig.axes if ax.get_visible() and ax.lines]


def _band(metric: str, mean: float, half: float, days: int = 5) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "policy": "attention",
            "metric": metric,
            "day": range(days),
            "n": 3,
            "mean": mean,
            "sd": 1.0,
            "p10": mean,
            "p90": mean,
            "ci_low": mean - half,
            "ci_high": mean + half,
        }
    )


def test_bands_are_clipped_at_the_bounds_of_the_quantity():
    bands = pd.concat(
        [
            _band("feed_minutes_per_user_day", 20.0, 60.0),  # the t band reaches -40 minutes
            _band("retention_90d", 0.9, 0.3),  # and 120% retention
            _band("provider_profit_per_user_day", 0.01, 0.05),  # profit may be negative
        ]
    )
    fig = plots.timeseries_figure(bands, colour_by=["policy"])
    lows, highs = {}, {}
    for ax in fig.axes:
        ys = np.concatenate(
            [
                c.get_paths()[0].vertices[:, 1]
                for c in ax.collections
                if isinstance(c, PolyCollection)
            ]
        )
        lows[ax.get_ylabel()], highs[ax.get_ylabel()] = ys.min(), ys.max()
    minutes = next(k for k in lows if "time on feeds" in k)
    retention = next(k for k in lows if "retention" in k)
    profit = next(k for k in lows if "profit" in k)
    assert lows[minutes] == 0.0 and highs[minutes] == pytest.approx(80.0)
    assert "% of spells" in retention and highs[retention] == 100.0  # a share, in percent
    assert lows[retention] == pytest.approx(60.0)
    assert lows[profit] < 0  # not a bounded quantity: its band is drawn as computed


def test_panels_in_the_same_unit_share_one_scale(headline):
    family = ["minutes_per_user_day", "feed_minutes_per_user_day", "companion_minutes_per_user_day"]
    b = an.bands(headline, family, by=["policy", "scenario"])
    fig = plots.timeseries_figure(b, colour_by=["policy"], facet_by="scenario")
    limits = {ax.get_ylim() for ax in _drawn_axes(fig)}
    assert len(_drawn_axes(fig)) == 7 and len(limits) == 1  # 9 panels, 2 markets lack a kind
    b = an.bands(headline, ["wellbeing_mean", "loneliness_mean"], by=["policy", "scenario"])
    fig = plots.timeseries_figure(b, colour_by=["policy"], facet_by="scenario")
    axes = _drawn_axes(fig)
    assert (
        len({ax.get_ylim() for ax in axes[:3]}) == 1
        and len({ax.get_ylim() for ax in axes[3:]}) == 1
    )
    assert axes[0].get_ylim() != axes[3].get_ylim()  # a score 0-2 and a 0-1 scale


def test_no_panel_is_an_empty_line_at_zero(headline):
    b = an.bands(headline, ["companion_minutes_per_user_day"], by=["policy", "scenario"])
    fig = plots.timeseries_figure(b, colour_by=["policy"], facet_by="scenario")
    for ax in fig.axes:
        values = np.concatenate([line.get_ydata() for line in ax.lines] or [np.array([])])
        assert values.size == 0 or np.any(values != 0), "a panel draws only zeros"
    feeds_only = next(ax for ax in fig.axes if ax.get_title("left") == "feeds-only market")
    assert not feeds_only.lines and any(
        "zero or undefined throughout" in " ".join(t.get_text().split()) for t in feeds_only.texts
    )
    zero = pd.concat(
        [_band("minutes_per_user_day", 30.0, 5.0), _band("ad_tax_per_user_day", 0.0, 0.0)]
    )
    fig = plots.timeseries_figure(zero, colour_by=["policy"])
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 1  # the all-zero metric is dropped
    comp = an.compare(headline.runs, "policy", "attention", within=["scenario"])
    comp.loc[comp["metric"] == "retention_90d", ["difference", "ci_low", "ci_high"]] = np.nan
    fig = plots.comparison_figure(comp)
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 3  # retention undefined: no panel


def test_a_frontier_joins_only_the_options_of_one_market(headline):
    runs = headline.runs
    fig = plots.tradeoff_figure(runs, ["scenario", "policy"], within=["scenario"])
    means = runs.groupby(["scenario", "policy"])[["revenue_per_user_day", "wellbeing_mean"]].mean()
    where = {(round(r, 9), round(w, 9)): scenario for (scenario, _), (r, w) in means.iterrows()}
    frontiers = [line for line in fig.axes[0].lines if str(line.get_label()).startswith("frontier")]
    assert len(frontiers) == 3
    for line in frontiers:
        markets = {
            where[(round(x, 9), round(y, 9))]
            for x, y in zip(line.get_xdata(), line.get_ydata(), strict=True)
        }
        assert len(markets) == 1, f"{line.get_label()} joins points of {markets}"
    spec = an.default_comparison(headline)
    figs = brief.figures(headline, spec, None, None)
    caption = next(f["caption"] for f in figs if f["name"] == "tradeoff")
    assert "Within each market" in caption and "0 (worst) to 2 (best)" in caption


def _outside(fig) -> list[str]:
    """What reaches beyond the figure's canvas, drawn at its own size (the bounding box of every
    drawn artist, as ``bbox_inches="tight"`` finds it, must lie within the canvas)."""
    canvas = FigureCanvasAgg(fig)
    with plots.style():
        canvas.draw()
    renderer = canvas.get_renderer()
    tight, box = fig.get_tightbbox(renderer), fig.bbox_inches
    if (
        tight.x0 >= box.x0 - 0.01
        and tight.y0 >= box.y0 - 0.01
        and tight.x1 <= box.x1 + 0.01
        and tight.y1 <= box.y1 + 0.01
    ):
        return []
    out = []  # name the texts that are cut, for the message
    for ax in [a for a in fig.axes if a.get_visible()]:
        for t in [ax.title, ax._left_title, ax.xaxis.label, ax.yaxis.label, *ax.texts]:
            e = t.get_window_extent(renderer)
            if t.get_text() and (e.x0 < -1 or e.y0 < -1 or e.x1 > fig.bbox.x1 + 1):
                out.append(t.get_text())
    return out or [f"bounding box {tight} beyond {box}"]


def test_the_edge_check_finds_a_cut_label():
    fig = plots.empty_figure("A title", "a message")
    fig.axes[0].text(1.4, 0.5, "beyond the right edge", transform=fig.axes[0].transAxes)
    assert _outside(fig)


@pytest.mark.parametrize("kind", ["headline", "cases"])
def test_no_label_is_cut_at_the_edge_of_a_figure(kind, root):
    folder = report_shapes.results(kind, root)
    card = an.scorecard(report_shapes.scorecard(root / f"{kind}_card.json"))
    res = an.load(folder)
    spec = an.default_comparison(res)
    comp = an.compare(res.runs, spec["factor"], spec["baseline"], within=spec["within"])
    for small in (True, False):
        for f in brief.figures(res, spec, comp, card, brief=small):
            cut = _outside(f["figure"])
            assert not cut, f"{kind}/{f['name']}: cut at the edge: {cut}"
            brief.release(f["figure"])


def test_scorecard_labels_are_whole(root):
    rows = an.scorecard(report_shapes.scorecard(root / "whole_card.json"))
    records = rows.astype(object).where(rows.notna(), None).to_dict("records")
    records[0]["finding"] = (
        "A finding whose description runs well past fifty-eight characters before it ends"
    )
    fig = plots.scorecard_figure(records)
    labels = " ".join(t.get_text().replace("\n", " ") for t in fig.axes[0].get_yticklabels())
    assert "before it ends (allcott2020)" in labels
    assert not _outside(fig)
    values = [t.get_text() for t in fig.axes[0].texts]
    assert "0.1 SD" in values and "-20 min/day" in values  # each estimate with its unit


def test_shares_are_percent_in_every_figure_and_table(headline):
    comp = an.compare(headline.runs, "policy", "attention", ["active_share"], within=["scenario"])
    fig = plots.comparison_figure(comp)
    assert [ax.get_xlabel() for ax in fig.axes] == ["difference (percentage points)"]
    diffs = comp["difference"].abs().max() * 100
    drawn = max(abs(x) for ax in fig.axes for line in ax.lines for x in line.get_xdata())
    assert drawn == pytest.approx(diffs, rel=1e-6) or drawn > diffs  # whiskers reach further
    comp = an.compare(headline.runs, "policy", "attention", within=["scenario"])
    table = brief.options_table(headline, comp, an.default_comparison(headline))
    assert {h["unit"] for h in table["heads"] if h["family"] == "Loyalty"} == {"percentage points"}
    assert an.unit("retention_90d") == "% of spells" and an.scale("retention_90d") == 100


def test_report_figures_show_in_a_notebook_without_pyplot():
    fig = plots.comparison_figure(pd.DataFrame())
    png = fig._repr_png_()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    managed = [m.canvas.figure for m in Gcf.get_all_fig_managers()]
    assert all(f is not fig for f in managed)  # not kept by pyplot, so never shown twice
