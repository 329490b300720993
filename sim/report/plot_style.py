"""The figures' one style: fonts, colours by level, panel grids, and writing SVG, PNG or PDF.

Used by :mod:`sim.report.plots`, which re-exports :func:`style`, :func:`colours`, :func:`save` and
:func:`svg`. Figures are ReportFigure objects built outside pyplot: a script leaks nothing, and
a notebook shows each figure once, as PNG, when a cell returns it.
"""

from __future__ import annotations

import io
from contextlib import contextmanager
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.report import analysis as an

LEVEL_COLOURS = {
    "attention": "#c8372d",
    "intimacy": "#7b4fb0",
    "wellbeing": "#2a9d55",
    "attention/intimacy": "#d9822b",
}
PALETTE = ["#1f5c99", "#d9822b", "#3a9ea5", "#b5466e", "#7a8b2e", "#6b5b95", "#8c6d31", "#4d4d4d"]
NO_EFFECT = "#9a9a9a"
STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 8.5,
    "axes.titlesize": 9.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 8.5,
    "axes.labelcolor": "#333333",
    "axes.edgecolor": "#888888",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e8e8e8",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "xtick.color": "#555555",
    "ytick.color": "#555555",
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "legend.frameon": False,
    "legend.fontsize": 7.5,
    "figure.titlesize": 11,
    "figure.titleweight": "bold",
    "lines.linewidth": 1.6,
    "svg.fonttype": "none",
    "figure.dpi": 100,
}


class ReportFigure(Figure):
    """A matplotlib Figure that Jupyter shows as PNG when a cell returns it.

    Figures made outside pyplot are not known to the inline backend, which would print
    ``<Figure size ...>`` instead; not being known to pyplot, they are not shown a second time
    when the cell ends either.
    """

    def _repr_png_(self) -> bytes:
        buf = io.BytesIO()
        with style():
            self.savefig(buf, format="png", dpi=100, bbox_inches="tight")
        return buf.getvalue()


@contextmanager
def style():
    """The project's figure style, for figures made inside the block."""
    with matplotlib.rc_context(STYLE):
        yield


def colours(levels) -> dict:
    """A colour per level: a policy's own, else the palette in order of first appearance."""
    out, k = {}, 0
    for level in dict.fromkeys(levels):
        if str(level) in LEVEL_COLOURS:
            out[level] = LEVEL_COLOURS[str(level)]
        else:
            out[level] = PALETTE[k % len(PALETTE)]
            k += 1
    return out


def save(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` to ``path``; the format follows the extension (svg, png, pdf)."""
    path = Path(path)
    with style():
        fig.savefig(path, format=path.suffix.lstrip(".").lower(), dpi=150, bbox_inches="tight")
    return path


def svg(fig: Figure) -> str:
    """``fig`` as SVG text (vector; labels stay text)."""
    buf = io.StringIO()
    with style():
        fig.savefig(buf, format="svg", bbox_inches="tight")
    return buf.getvalue()


def axis_label(metric: str, prefix: str = "") -> str:
    return f"{prefix}{an.label(metric)} ({an.unit(metric)})"


def clip(values, metric: str):
    """``values`` (already scaled for display) clipped to the range ``metric`` can take."""
    lo, hi = an.bounds(metric)
    return np.clip(
        np.asarray(values, dtype=float), -np.inf if lo is None else lo, np.inf if hi is None else hi
    )


def drawn(values) -> bool:
    """Whether a panel has something to show: a finite value other than zero."""
    v = np.asarray(values, dtype=float)
    return bool(np.any(np.isfinite(v) & (v != 0)))


def level_text(factor: str, value) -> str:
    """A design level in words, with ``$`` escaped so user text never turns into mathtext."""
    return an.level_name(factor, value).replace("$", r"\$")


def row_names(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """One readable name per row from the design ``columns``."""
    if not columns:
        return pd.Series("all runs", index=frame.index)
    parts = [frame[c].map(lambda v, c=c: level_text(c, v)) for c in columns]
    out = parts[0]
    for p in parts[1:]:
        out = out + " · " + p
    return out


def grid(n: int, ncols: int, width: float, height: float, **kw):
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig = ReportFigure(figsize=(width, height * nrows), layout="constrained")
    # room at the edges for a tick label the locator adds once the layout has resized the axes
    fig.get_layout_engine().set(w_pad=0.08)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False, **kw)).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def empty_figure(title: str, message: str) -> Figure:
    with style():
        fig = ReportFigure(figsize=(7, 1.6), layout="constrained")
        ax = fig.subplots()
        ax.axis("off")
        ax.set_title(title)
        ax.text(
            0.5, 0.4, message, ha="center", va="center", color="#666666", transform=ax.transAxes
        )
    return fig
