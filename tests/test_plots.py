"""sim.report.plots and ``sim plot``: every figure for every results shape, titled and labelled."""

from __future__ import annotations

import pandas as pd
import pytest
import report_shapes
from matplotlib.figure import Figure

from sim.cli import main
from sim.report import analysis as an
from sim.report import brief, plots

EXPECTED = {
    "headline": {
        "comparison",
        "tradeoff",
        "timeseries_engagement",
        "timeseries_loyalty",
        "timeseries_wellbeing",
        "timeseries_revenue",
    },
    "cases": {"comparison", "tradeoff", "timeseries_wellbeing", "distributions", "scorecard"},
    "grid2d": {"comparison", "tradeoff", "heatmap"},
    "grid1d": {"comparison", "tradeoff", "response"},
    "sobol": {
        "comparison",
        "tradeoff",
        "sensitivity_wellbeing_mean",
        "sensitivity_revenue_per_user_day",
    },
    "morris": {"tradeoff", "sensitivity_wellbeing_mean"},
    "single": set(),
}


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.getbasetemp() / "report_shapes"


def _title(fig: Figure) -> str:
    titles = [ax.get_title(loc) for ax in fig.axes for loc in ("left", "center", "right")]
    return " ".join([fig.get_suptitle(), *titles]).strip()


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")) if t.get_text()]


@pytest.mark.parametrize("kind", list(report_shapes.SHAPES))
def test_every_figure_of_every_shape_is_titled_and_labelled(kind, root):
    folder = report_shapes.results(kind, root)
    if kind == "cases":
        report_shapes.scorecard(folder / "validation.json")
    res = an.load(folder)
    spec = an.default_comparison(res)
    comparison = (
        an.compare(res.runs, spec["factor"], spec["baseline"], within=spec["within"])
        if spec
        else None
    )
    card = an.scorecard(an.find_scorecard(folder)) if an.find_scorecard(folder) else None
    figs = brief.figures(res, spec, comparison, card, brief=False)
    names = {f["name"] for f in figs}
    assert EXPECTED[kind] <= names
    for f in figs:
        fig = f["figure"]
        texts = " ".join(_texts(fig))
        assert _title(fig), f"{kind}/{f['name']} has no title"
        labels = [
            lab
            for ax in fig.axes
            if ax.get_visible()
            for lab in (ax.get_xlabel(), ax.get_ylabel())
            if lab
        ]
        assert labels, f"{kind}/{f['name']} has no axis labels"
        assert any("(" in lab for lab in labels), (
            f"{kind}/{f['name']}: no units on the axes"
        )  # units in brackets
        assert texts and f["caption"]
        svg = plots.svg(fig)
        assert svg.lstrip().startswith("<?xml") and "<text" in svg  # vector, labels kept as text


def test_units_on_the_axes_of_the_main_figures(root):
    res = an.load(report_shapes.results("headline", root))
    comp = an.compare(res.runs, "policy", "attention", within=["scenario"])
    fig = plots.comparison_figure(comp)
    xlabels = [ax.get_xlabel() for ax in fig.axes if ax.get_visible()]
    assert "difference (min per user-day)" in xlabels and "difference ($ per user-day)" in xlabels
    fig = plots.tradeoff_figure(res.runs, ["scenario", "policy"])
    assert fig.axes[0].get_xlabel() == "provider revenue ($ per user-day)"
    assert fig.axes[0].get_ylabel() == "mean wellbeing (score 0-2, 1 = neutral)"
    b = an.bands(res, ["wellbeing_mean"], by=["policy", "scenario"])
    fig = plots.timeseries_figure(b, colour_by=["policy"], facet_by="scenario")
    assert (
        "score 0-2, 1 = neutral" in fig.axes[0].get_ylabel()
        and fig.axes[0].get_xlabel() == "day of the run"
    )
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 3


def test_empty_comparison_and_scorecard_keep_working(root):
    assert _title(plots.comparison_figure(pd.DataFrame()))
    rows = an.scorecard(report_shapes.scorecard(root / "card.json"))
    fig = plots.scorecard_figure(rows.astype(object).where(rows.notna(), None).to_dict("records"))
    assert _title(fig) == "Model against published evidence"


def test_sim_plot_writes_the_figures_and_rejects_bad_input(root, tmp_path, capsys):
    folder = report_shapes.results("grid2d", root)
    with pytest.raises(SystemExit) as e:
        main(["plot", str(folder), "--out", str(tmp_path / "figs"), "--format", "svg,png"])
    assert e.value.code == 0
    written = {p.name for p in (tmp_path / "figs").iterdir()}
    assert {"heatmap.svg", "heatmap.png", "comparison.svg", "tradeoff.png"} <= written
    assert not [n for n in written if n.startswith(".")]  # no temporary files left behind
    for args, needle in (
        (["plot", str(folder), "--format", "gif"], "--format"),
        (["plot", str(tmp_path / "none")], "does not exist"),
        (["plot", str(tmp_path)], "not a results folder"),
        (["plot", str(folder), "--validation", str(tmp_path / "v.json")], "--validation"),
    ):
        with pytest.raises(SystemExit) as e:
            main(args)
        err = capsys.readouterr().err
        assert e.value.code == 2 and needle in err and err.count("\n") == 1


def test_a_run_folder_from_sim_run_is_a_results_shape_too(tmp_path):
    import sim

    sim.run(users=60, days=20, seed=2, panel=True).save(tmp_path / "run")
    res = an.load(tmp_path / "run")
    assert len(res.runs) == 1 and res.timeseries is not None and res.panel() is not None
    figs = brief.figures(res, an.default_comparison(res), None, None, brief=False)
    assert {"timeseries_wellbeing", "distributions"} <= {f["name"] for f in figs}
    md = brief.write(tmp_path / "run", tmp_path / "b.md").read_text()
    assert "Averaged over the runs, mean wellbeing is" in md and "1 run, no interval" in md
