"""Figures, one consistent style, every one titled and labelled with units."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files, never a window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

COLOURS = {"pass": "#2a9d55", "miss": "#c8372d", "not modelled": "#9a9a9a"}


def scorecard_figure(rows: list[dict], title: str = "Model against published evidence"):
    """One line per finding: its band (grey) and the simulated value with its 95% CI.

    Findings have different units, so each line is drawn on its own scale: the band spans
    -1 to 1 (a one-sided band, a sign test, spans 0 to 1 from its bound), and values beyond
    +-3 are drawn at the edge with an arrow.
    """
    fig, ax = plt.subplots(figsize=(10, 0.42 * len(rows) + 1.4))
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
            f"{r['estimate']:.3g}" if r["estimate"] is not None else "",
            va="center",
            fontsize=8,
        )
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(
        [f"{r['finding'][:58]}  ({r['study'].split('_')[0]})" for r in reversed(rows)], fontsize=8
    )
    ax.set_xlim(-3.2, 3.9)
    ax.axvline(0, color="#bbbbbb", lw=0.8, zorder=0)
    ax.set_xlabel(
        "simulated value relative to the published band (band = grey; each row on its own scale)"
    )
    ax.set_title(title, fontsize=11, loc="left", pad=22)
    for status, colour in COLOURS.items():
        ax.plot([], [], "o", color=colour, label=status)
    ax.legend(loc="lower left", fontsize=8, frameon=False, ncols=3, bbox_to_anchor=(0.0, 1.0))
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig
