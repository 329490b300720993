"""Figures, one consistent style, every one titled and labelled with units.

Each function takes the DataFrames of :mod:`sim.report.analysis` (or a run table) and returns a
:class:`~sim.report.plot_style.ReportFigure` (a ``matplotlib.figure.Figure``) built outside
pyplot, so a notebook shows it once, as PNG, and a script leaks nothing. Shares are drawn in
percent (differences in percentage points), bands are clipped to the range of their quantity,
and every axis names its unit. :func:`save` writes a figure as SVG (vector, text kept as text), PNG or PDF.
Colours follow the level they stand for, the same in every figure: policies keep their colour,
other levels take the palette in order.
"""

from __future__ import annotations

import os
import sys
import textwrap

import matplotlib

if "MPLBACKEND" not in os.environ and "ipykernel" not in sys.modules:
    matplotlib.use("Agg")  # files, never a window (a notebook keeps its inline backend)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from sim.report import analysis as an  # noqa: E402
from sim.report.plot_style import (  # noqa: E402, F401 - style, colours, save and svg are part of sim.report.plots
    NO_EFFECT,
    PALETTE,
    STYLE,
    ReportFigure,
    axis_label,
    clip,
    colours,
    drawn,
    empty_figure,
    grid,
    level_text,
    row_names,
    save,
    style,
    svg,
)

# the statuses of sim/evidence/validation.py (ODD 1.2)
COLOURS = {
    "pass": "#2a9d55",
    "too uncertain": "#e08a00",
    "miss": "#c8372d",
    "not modelled": "#9a9a9a",
}


# -- time series --------------------------------------------------------------------------------
def timeseries_figure(
    bands: pd.DataFrame,
    colour_by: list[str] | None = None,
    facet_by: str | None = None,
    title: str = "Daily series by scenario",
    row_height: float = 1.8,
) -> Figure:
    """Lines of the mean across replications with their 95% confidence band, one panel per
    metric (rows) and ``facet_by`` level (columns), one colour per ``colour_by`` combination.

    Panels of metrics in the same unit share their y-axis, so markets can be compared at a
    glance; bands are clipped to the range of the quantity (no negative minutes); shares are
    drawn in percent. A metric that is zero or undefined throughout is left out, and a panel
    where it is so in one facet only (feeds in a companions-only market) says so in words.

    Args:
        bands: :func:`sim.report.analysis.bands` output.
        colour_by: design columns told apart by colour (default: every factor but ``facet_by``).
        facet_by: a design column drawn in separate columns of panels.
        title: the figure's title.
        row_height: inches per row of panels.
    """
    known = {"metric", "day", "n", "mean", "sd", "p10", "p90", "ci_low", "ci_high"}
    factors = [c for c in bands.columns if c not in known]
    colour_by = [c for c in factors if c != facet_by] if colour_by is None else colour_by
    metrics = [
        m for m in dict.fromkeys(bands["metric"]) if drawn(bands.loc[bands["metric"] == m, "mean"])
    ]
    if not metrics:
        return empty_figure(title, "every series is zero or undefined throughout")
    facets = list(dict.fromkeys(bands[facet_by])) if facet_by else [None]
    frame = bands.assign(_line=row_names(bands, colour_by))
    palette = colours(frame[colour_by[0]] if len(colour_by) == 1 else frame["_line"])
    by_unit: dict[str, tuple[list, float, float]] = {}
    with style():
        fig, axes = grid(len(metrics) * len(facets), len(facets), 7.2, row_height, sharex=True)
        for i, metric in enumerate(metrics):
            k = an.scale(metric)
            for j, facet in enumerate(facets):
                ax = axes[i * len(facets) + j]
                sub = frame[
                    (frame["metric"] == metric) & ((frame[facet_by] == facet) if facet_by else True)
                ]
                if i == 0 or not facet_by:
                    ax.set_title(
                        level_text(facet_by, facet) if facet_by else an.label(metric), fontsize=8.5
                    )
                if j == 0:
                    ax.set_ylabel(
                        f"{textwrap.fill(an.label(metric), 18)}\n({an.unit(metric)})", fontsize=7
                    )
                if i == len(metrics) - 1:
                    ax.set_xlabel("day of the run")
                if not drawn(sub["mean"]):
                    where = f"in the {level_text(facet_by, facet)}" if facet_by else ""
                    ax.text(
                        0.5,
                        0.5,
                        textwrap.fill(
                            f"{an.label(metric)}: zero or undefined throughout {where}", 34
                        ),
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="#666666",
                        transform=ax.transAxes,
                    )
                    ax.set_yticks([])
                    ax.grid(False)
                    ax.spines[["left"]].set_visible(False)
                    continue
                shown = [sub["mean"] * k]
                for name, g in sub.groupby("_line", sort=False):
                    key = g[colour_by[0]].iloc[0] if len(colour_by) == 1 else name
                    ax.plot(g["day"], g["mean"] * k, color=palette[key], label=name)
                    if g["ci_low"].notna().any():
                        lo, hi = clip(g["ci_low"] * k, metric), clip(g["ci_high"] * k, metric)
                        ax.fill_between(g["day"], lo, hi, color=palette[key], alpha=0.2, lw=0)
                        shown += [lo, hi]
                values = np.concatenate([np.asarray(v, dtype=float) for v in shown])
                low, high = by_unit.get(an.unit(metric), ([], np.inf, -np.inf))[1:]
                by_unit[an.unit(metric)] = (
                    [*by_unit.get(an.unit(metric), ([],))[0], ax],
                    min(low, np.nanmin(values)),
                    max(high, np.nanmax(values)),
                )
        for shared, low, high in by_unit.values():  # one scale per unit: panels compare at a glance
            pad = 0.05 * (high - low) if high > low else max(abs(high), 1.0) * 0.05
            for ax in shared:
                ax.set_ylim(low - pad, high + pad)
        legend = {}
        for ax in axes:
            for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
                legend.setdefault(lab, h)
        fig.legend(
            list(legend.values()),
            list(legend),
            loc="outside lower center",
            ncols=max(1, min(4, len(legend))),
        )
        fig.suptitle(
            f"{title}\nmean of replications, shaded: 95% confidence interval",
            x=0.01,
            ha="left",
            fontsize=10.5,
        )
    return fig


# -- paired comparisons -------------------------------------------------------------------------
def comparison_figure(comparison: pd.DataFrame, title: str | None = None) -> Figure:
    """Dot and whisker: each level's paired difference from the baseline with its 95% CI, one
    panel per metric (the key metric of each family by default). Hollow grey dots: the
    interval includes 0 (no clear effect).

    Args:
        comparison: :func:`sim.report.analysis.compare` output.
        title: the figure's title.
    """
    if comparison.empty:
        return empty_figure(
            title or "Paired differences", "nothing to compare: the design has one level"
        )
    base = comparison["baseline"].iloc[0]
    factor = comparison["factor"].iloc[0]
    known = {"factor", "baseline", "level", "metric"}
    within = [
        c for c in comparison.columns[: list(comparison.columns).index("factor")] if c not in known
    ]
    metrics = [
        m
        for m in dict.fromkeys(comparison["metric"])
        if np.isfinite(comparison.loc[comparison["metric"] == m, "difference"].astype(float)).any()
    ]  # a metric undefined in every run (retention in a run shorter than 90 days) is left out
    if not metrics:
        return empty_figure(
            title or "Paired differences", "no metric is defined in both arms of any pair"
        )
    rows = comparison.drop_duplicates([*within, "level"])[[*within, "level"]]
    names = row_names(rows.rename(columns={"level": factor}), [*within, factor]).tolist()
    palette = colours(comparison["level"])
    family = {m: f for f, ms in an.FAMILIES.items() for m in ms}
    with style():
        fig, axes = grid(len(metrics), 2, 7.2, max(0.17 * len(names) + 0.95, 1.6), sharey=True)
        for ax, metric in zip(axes, metrics, strict=True):
            sub = comparison[comparison["metric"] == metric]
            k = an.scale(metric)
            for y, (_, r) in enumerate(rows.iterrows()):
                hit = sub[
                    (sub["level"] == r["level"])
                    & np.logical_and.reduce([sub[c] == r[c] for c in within] or [True])
                ]
                if hit.empty:
                    continue
                h = hit.iloc[0]
                clear, colour = bool(h["clear"]), palette[h["level"]]
                yy = len(names) - 1 - y
                ax.plot(
                    [h["ci_low"] * k, h["ci_high"] * k],
                    [yy, yy],
                    color=colour if clear else NO_EFFECT,
                    lw=1.8,
                )
                ax.plot(
                    [h["difference"] * k],
                    [yy],
                    "o",
                    ms=5.5,
                    mfc=colour if clear else "white",
                    mec=colour if clear else NO_EFFECT,
                    mew=1.4,
                )
            ax.axvline(0, color="#444444", lw=0.8)
            ax.set_title(
                f"{family.get(metric, 'other').capitalize()}\n{an.label(metric)}", fontsize=8.5
            )
            ax.set_xlabel(f"difference ({an.difference_unit(metric)})")
            ax.set_yticks(range(len(names)))
            ax.set_yticklabels(list(reversed(names)))
            ax.grid(axis="y", visible=False)
        heading = title or f"Paired differences from {level_text(factor, base)}"
        fig.suptitle(
            f"{heading}\nmean over paired seeds with 95% CI; hollow grey: no clear effect (CI includes 0)",
            x=0.01,
            ha="left",
            fontsize=10.5,
        )
    return fig


# -- trade-off ----------------------------------------------------------------------------------
def tradeoff_figure(
    runs: pd.DataFrame,
    by: list[str],
    x: str = "revenue_per_user_day",
    y: str = "wellbeing_mean",
    title: str = "Wellbeing against revenue",
    within: list[str] | None = None,
) -> Figure:
    """Each design point's mean ``y`` against mean ``x`` (95% CIs as whiskers), with the frontier
    where neither can rise without the other falling drawn as a dashed line.

    A frontier is drawn only among alternatives open to one decision maker: with ``within``
    (e.g. ``["scenario"]``) one frontier per market, joining the options of that market, never
    points of different markets.

    Args:
        runs: one row per run.
        by: the design columns that make a point (e.g. ``["scenario", "policy"]``).
        x: the revenue metric (horizontal).
        y: the wellbeing metric (vertical).
        title: the figure's title.
        within: columns whose levels are separate choice sets, each with its own frontier.
    """
    by = by or ["_all"]
    within = [c for c in (within or []) if c in by]
    s = an.summarise(runs.assign(_all="all runs"), by, [x, y])
    pts = s.set_index([*by, "metric"])[["mean", "ci_low", "ci_high"]].unstack("metric")
    pts.columns = [f"{a}:{b}" for a, b in pts.columns]
    pts = pts.reset_index()
    groups = pts.groupby(within, sort=False) if within else [((), pts)]
    pts["frontier"] = pd.concat(
        [an.frontier(g, f"mean:{x}", f"mean:{y}") for _, g in groups]
    ).reindex(pts.index)
    colour_col = (
        "policy"
        if "policy" in by
        else next((c for c in by if c not in within and pts[c].nunique() <= len(PALETTE)), None)
    )
    marker_col = next(
        (c for c in [*within, *by] if c != colour_col and pts[c].nunique() <= 6), None
    )
    palette = colours(pts[colour_col]) if colour_col else {}
    markers = (
        dict(zip(dict.fromkeys(pts[marker_col]), "osD^vP*X", strict=False)) if marker_col else {}
    )
    for metric in (x, y):  # intervals clipped to the quantity's range
        pts[f"ci_low:{metric}"] = clip(pts[f"ci_low:{metric}"], metric)
        pts[f"ci_high:{metric}"] = clip(pts[f"ci_high:{metric}"], metric)
    with style():
        fig = ReportFigure(figsize=(7.0, 3.6), layout="constrained")
        ax = fig.subplots()
        sets = list(pts.groupby(within, sort=False)) if within else [((), pts)]
        dashes = ["--", ":", "-.", (0, (6, 2, 1, 2, 1, 2))]
        for n, (key, g) in enumerate(sets):
            front = g[g["frontier"]].sort_values(f"mean:{x}")
            key = key if isinstance(key, tuple) else (key,)
            name = " · ".join(level_text(c, v) for c, v in zip(within, key, strict=True))
            if not within:
                label = "frontier (no point is better on both)"
            elif len(sets) <= len(dashes):
                label = f"frontier in the {name}" if within == ["scenario"] else f"frontier, {name}"
            else:
                label = (
                    f"frontier within each {' and '.join(_factor_word(c) for c in within)}"
                    if n == 0
                    else None
                )
            ax.plot(
                front[f"mean:{x}"],
                front[f"mean:{y}"],
                color="#333333",
                lw=1,
                ls=dashes[n % len(dashes)] if len(sets) <= len(dashes) else "--",
                zorder=1,
                label=label,
            )
        pts["_colour"] = pts[colour_col].map(palette) if colour_col else PALETTE[0]
        pts["_marker"] = pts[marker_col].map(markers) if marker_col else "o"
        small = len(pts) > 60  # a sampled design: many points, smaller markers
        for (c, m, on), g in pts.groupby(["_colour", "_marker", "frontier"], sort=False):
            err = {
                a: np.nan_to_num(
                    np.vstack(
                        [g[f"mean:{a}"] - g[f"ci_low:{a}"], g[f"ci_high:{a}"] - g[f"mean:{a}"]]
                    )
                )
                for a in (x, y)
            }
            ax.errorbar(
                g[f"mean:{x}"],
                g[f"mean:{y}"],
                xerr=err[x],
                yerr=err[y],
                fmt=m,
                color=c,
                ms=4 if small else 7,
                mfc=c if on else "white",
                mew=1.2 if small else 1.5,
                elinewidth=0.9,
                capsize=0,
                zorder=2,
                ls="none",
            )
        for level, c in palette.items():
            ax.plot([], [], "o", color=c, label=level_text(colour_col, level))
        for level, m in markers.items():
            ax.plot([], [], m, color="#666666", mfc="white", label=level_text(marker_col, level))
        ax.set_xlabel(axis_label(x))
        ax.set_ylabel(textwrap.fill(axis_label(y), 40))
        fig.legend(loc="outside lower center", ncols=3, fontsize=7.5)
        ax.set_title(
            f"{title}\nmeans over replications with 95% CI; filled: on the frontier", fontsize=10
        )
    return fig


def _factor_word(column: str) -> str:
    return {"scenario": "market", "policy": "policy", "case": "case"}.get(column, column)


# -- one varied number ---------------------------------------------------------------------------
def response_figure(
    runs: pd.DataFrame,
    x: str,
    metrics: list[str],
    colour_by: str | None = None,
    title: str | None = None,
) -> Figure:
    """Each metric against one varied parameter: mean over replications with its 95% CI, a line
    per level of ``colour_by`` (e.g. the policy), one panel per metric.

    Args:
        runs: one row per run, with the numeric column ``x``.
        x: the varied parameter (horizontal axis; its grid values are the ticks).
        metrics: summary metrics, one panel each.
        colour_by: a categorical design column, one line per level; None draws one line.
        title: the figure's title.
    """
    by = [colour_by, x] if colour_by else [x]
    s = an.summarise(runs, by, metrics)
    palette = colours(s[colour_by]) if colour_by else {None: PALETTE[0]}
    with style():
        fig, axes = grid(len(metrics), 2, 7.2, 2.5)
        for ax, metric in zip(axes, metrics, strict=True):
            m = s[s["metric"] == metric]
            k = an.scale(metric)
            for level, c in palette.items():
                line = (m[m[colour_by] == level] if colour_by else m).sort_values(x)
                ax.fill_between(
                    line[x],
                    clip(line["ci_low"] * k, metric),
                    clip(line["ci_high"] * k, metric),
                    color=c,
                    alpha=0.18,
                    lw=0,
                )
                ax.plot(
                    line[x],
                    line["mean"] * k,
                    "o-",
                    color=c,
                    ms=3.5,
                    lw=1.3,
                    label=level_text(colour_by, level) if colour_by else None,
                )
            ax.set_xticks(sorted(runs[x].unique()))
            ax.set_xlabel(an.param_label(x))
            ax.set_ylabel(an.unit(metric), fontsize=7.5)
            ax.set_title(an.label(metric), fontsize=8.5)
        if colour_by:
            fig.legend(
                *axes[0].get_legend_handles_labels(),
                loc="outside lower center",
                ncols=len(palette),
                fontsize=7.5,
            )
        fig.suptitle(
            title or f"Outcomes against {x}\nmean over replications with 95% CI",
            x=0.01,
            ha="left",
            fontsize=10.5,
        )
    return fig


# -- two-dimensional sweeps ---------------------------------------------------------------------
def heatmap_figure(
    runs: pd.DataFrame, x: str, y: str, metrics: list[str], title: str | None = None
) -> Figure:
    """Mean of each metric over replications on the grid of two varied parameters, one panel
    per metric, each cell annotated with its value.

    Args:
        runs: one row per run, with columns ``x`` and ``y`` (the two grid parameters).
        x, y: the grid's parameter columns (horizontal, vertical).
        metrics: summary metrics, one panel each.
        title: the figure's title.
    """
    with style():
        fig, axes = grid(len(metrics), 2, 7.2, 3.0)
        for ax, metric in zip(axes, metrics, strict=True):
            table = runs.pivot_table(index=y, columns=x, values=metric, aggfunc="mean").sort_index(
                ascending=False
            ) * an.scale(metric)
            image = ax.imshow(table.to_numpy(float), cmap="viridis", aspect="auto")
            ax.set_xticks(range(table.shape[1]), [f"{v:g}" for v in table.columns])
            ax.set_yticks(range(table.shape[0]), [f"{v:g}" for v in table.index])
            ax.grid(False)
            lo, hi = np.nanmin(table.to_numpy(float)), np.nanmax(table.to_numpy(float))
            digits = int(np.clip(np.ceil(-np.log10((hi - lo) / 20)), 0, 6)) if hi > lo else 3
            for (i, j), v in np.ndenumerate(table.to_numpy(float)):
                dark = hi > lo and (v - lo) / (hi - lo) < 0.55
                ax.text(
                    j,
                    i,
                    f"{v:.{digits}f}",
                    ha="center",
                    va="center",
                    fontsize=6.5,
                    color="white" if dark else "#222222",
                )
            ax.set_xlabel(an.param_label(x))
            ax.set_ylabel(an.param_label(y))
            ax.set_title(an.label(metric), fontsize=8.5)
            fig.colorbar(image, ax=ax, shrink=0.85).set_label(an.unit(metric), fontsize=7.5)
        fig.suptitle(
            title or f"Outcomes over the grid of {x} and {y}\nmean over replications",
            x=0.01,
            ha="left",
            fontsize=10.5,
        )
    return fig


# -- sensitivity --------------------------------------------------------------------------------
def sensitivity_figure(indices: pd.DataFrame, title: str | None = None) -> Figure:
    """Bars of first-order (S1) and total (ST) Sobol indices, or Morris mu* and sigma, per
    parameter with their 95% bootstrap intervals; one panel per group (e.g. policy).

    Args:
        indices: :func:`sim.report.analysis.sensitivity` output.
        title: the figure's title.
    """
    kinds = [k for k in ("S1", "ST", "mu_star", "sigma") if k in set(indices["index"])]
    groups = list(dict.fromkeys(indices["group"]))
    metric = indices["metric"].iloc[0]
    params = list(dict.fromkeys(indices["parameter"]))
    names = {
        "S1": "first order (S1)",
        "ST": "total (ST)",
        "mu_star": "mean |effect| (mu*)",
        "sigma": "spread of effects (sigma)",
    }
    with style():
        fig, axes = grid(
            len(groups),
            min(3, len(groups)),
            7.2,
            0.28 * len(params) * len(kinds) + 1.3,
            sharey=True,
        )
        for ax, group in zip(axes, groups, strict=True):
            sub = indices[indices["group"] == group]
            h = 0.8 / len(kinds)
            for k, kind in enumerate(kinds):
                s = sub[sub["index"] == kind].set_index("parameter").reindex(params)
                ypos = np.arange(len(params))[::-1] + (len(kinds) - 1) / 2 * h - k * h
                err = np.abs(np.vstack([s["value"] - s["ci_low"], s["ci_high"] - s["value"]]))
                ax.barh(
                    ypos,
                    s["value"],
                    height=h,
                    color=PALETTE[k],
                    label=names[kind],
                    xerr=np.nan_to_num(err),
                    error_kw={"elinewidth": 0.8, "ecolor": "#333333"},
                )
            ax.set_yticks(np.arange(len(params))[::-1], params)
            ax.axvline(0, color="#444444", lw=0.8)
            ax.grid(axis="y", visible=False)
            ax.set_title(level_text("policy", group), fontsize=8.5)
            ax.set_xlabel(
                "Sobol index (share of variance)"
                if "S1" in kinds
                else f"change in {an.label(metric)} across a parameter's range ({an.unit(metric)})"
            )
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=len(kinds))
        fig.suptitle(
            title or f"Sensitivity of {an.label(metric)}\nwhiskers: 95% bootstrap intervals",
            x=0.01,
            ha="left",
            fontsize=10.5,
        )
    return fig


# -- distributions ------------------------------------------------------------------------------
def distribution_figure(
    users: pd.DataFrame, colour_by: str | None = None, title: str | None = None
) -> Figure:
    """Box plots of wellbeing and loneliness by user type (baseline loneliness x self-control),
    one box per ``colour_by`` level, pooled over replications.

    Args:
        users: :func:`sim.report.analysis.user_types` output.
        colour_by: a design column (default: the first factor present, else none).
        title: the figure's title.
    """
    types = sorted(users["user_type"].unique())
    levels = list(dict.fromkeys(users[colour_by])) if colour_by else [None]
    palette = colours(levels)
    width = 0.8 / len(levels)
    with style():
        fig, axes = grid(2, 1, 7.2, 2.7)
        for ax, metric, unit in zip(
            axes, ("wellbeing", "loneliness"), (an.WELLBEING_UNIT, "0-1"), strict=True
        ):
            for k, level in enumerate(levels):
                sub = users if level is None else users[users[colour_by] == level]
                data = [sub.loc[sub["user_type"] == t, metric].to_numpy() for t in types]
                pos = np.arange(len(types)) - 0.4 + width * (k + 0.5)
                box = ax.boxplot(
                    data,
                    positions=pos,
                    widths=width * 0.85,
                    patch_artist=True,
                    showfliers=False,
                    medianprops={"color": "#222222"},
                )
                for patch in box["boxes"]:
                    patch.set(facecolor=palette[level], alpha=0.75, edgecolor="#444444")
                ax.plot(
                    [],
                    [],
                    "s",
                    color=palette[level],
                    label=level_text(colour_by, level) if colour_by else "all runs",
                )
            ax.set_xticks(range(len(types)), [t.replace(", ", "\n") for t in types])
            ax.set_ylabel(f"{metric} ({unit})")
            ax.set_title(f"{metric.capitalize()} on day {int(users['day'].iloc[0])}", fontsize=8.5)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=min(4, len(labels)))
        fig.suptitle(
            title
            or "Wellbeing and loneliness by user type\nusers split at the medians of baseline loneliness and "
            "self-control;\nboxes: middle half of users, whiskers: 1.5 x IQR",
            x=0.01,
            ha="left",
            fontsize=10.5,
        )
    return fig


# -- validation ---------------------------------------------------------------------------------
def scorecard_figure(rows: list[dict], title: str = "Model against published evidence"):
    """One line per finding: its band (grey) and the simulated value with its 95% CI.

    Findings have different units, so each line is drawn on its own scale: the band spans
    -1 to 1 (a one-sided band, a sign test, spans 0 to 1 from its bound, with a tick at zero,
    which its interval must not reach), and values beyond +-3 are drawn at the edge with an
    arrow. The colour is the status: pass, too uncertain (in band, interval too wide), miss or
    not modelled.
    """
    labels = [textwrap.fill(f"{r['finding']} ({r['study'].split('_')[0]})", 80) for r in rows]
    wrapped = sum(label.count("\n") for label in labels)
    fig = ReportFigure(figsize=(10, 0.42 * len(rows) + 0.16 * wrapped + 1.4), layout="constrained")
    ax = fig.subplots()
    for i, r in enumerate(rows):
        y = len(rows) - 1 - i
        lo, hi = r["band_low"], r["band_high"]
        one_sided = hi >= 1e8 or lo <= -1e8
        if one_sided:
            bound = lo if hi >= 1e8 else hi
            spread = (
                (r["ci_high"] - r["ci_low"]) / 2
                if r["ci_low"] is not None and np.isfinite(r["ci_low"])
                else 0.0
            )
            scale = max(abs(bound), spread, 1e-9)
            band = (0.0, 3.2) if hi >= 1e8 else (-3.2, 0.0)
            to_x = lambda x, c=bound, s=scale: (x - c) / s  # noqa: E731
        else:
            centre, scale = (lo + hi) / 2, (hi - lo) / 2
            band = (-1.0, 1.0)
            to_x = lambda x, c=centre, s=scale: (x - c) / s  # noqa: E731
        ax.barh(y, band[1] - band[0], left=band[0], height=0.6, color="#e4e4e4", zorder=1)
        if one_sided and r["estimate"] is not None and -3 <= to_x(0.0) <= 3:
            ax.plot([to_x(0.0)] * 2, [y - 0.3, y + 0.3], color="#555555", lw=1, zorder=1.5)
        colour = COLOURS[r["status"]]
        if r["estimate"] is None:
            ax.text(0, y, "not modelled", ha="center", va="center", fontsize=8, color=colour)
        else:
            x = np.clip(to_x(r["estimate"]), -3, 3)
            if r["ci_low"] is not None and np.isfinite(r["ci_low"]):
                ax.plot(
                    np.clip([to_x(r["ci_low"]), to_x(r["ci_high"])], -3, 3),
                    [y, y],
                    color=colour,
                    lw=2,
                    zorder=2,
                )
            ax.plot(
                [x],
                [y],
                marker=">" if x >= 3 else "<" if x <= -3 else "o",
                color=colour,
                ms=7,
                zorder=3,
            )
        ax.text(
            3.35,
            y,
            f"{r['estimate']:.3g} {r.get('units') or ''}".strip()
            if r["estimate"] is not None
            else "",
            va="center",
            fontsize=8,
        )
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(list(reversed(labels)), fontsize=8, linespacing=1.0)
    ax.set_xlim(-3.2, 3.9)
    ax.axvline(0, color="#bbbbbb", lw=0.8, zorder=0)
    ax.set_xlabel(
        "simulated value relative to the published band\n(band = grey; each row on its own scale)"
    )
    ax.set_title(title, fontsize=11, loc="left", pad=22)
    for status, colour in COLOURS.items():
        ax.plot([], [], "o", color=colour, label=status)
    ax.legend(loc="lower left", fontsize=8, frameon=False, ncols=4, bbox_to_anchor=(0.0, 1.0))
    ax.spines[["top", "right"]].set_visible(False)
    return fig
