"""Policy briefings from stored results (``sim brief DIR --out FILE``).

:func:`context` turns a results folder (and the validation scorecard, when present) into the
briefing's content: page one's answers to the essay's questions and its table of claims with
a computed verdict each (:mod:`sim.report.answers`); key findings written as sentences whose numbers come from paired
comparisons, ranked by size in each metric's own units within its family; the table of policy options; the figures; methods,
caveats and provenance. :func:`write` renders it as HTML (figures embedded as SVG), PDF
(WeasyPrint, from that HTML) or Markdown (figures as SVG files beside it), by the file's
extension. Every number is computed from the results; a difference whose 95% interval
includes zero is always worded as no clear effect.
"""

from __future__ import annotations

import base64
import math
import os
import re
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader

from sim.model.params import ParamError, Params
from sim.report import analysis as an
from sim.report import answers as essay
from sim.report import plots, runinfo
from sim.report.findings import (
    MAX_FINDINGS,
    key_findings,
    level_findings,
    options_table,
    sensitivity_findings,
)
from sim.sweeps import provenance
from sim.sweeps.single import umask

FORMATS = (".html", ".htm", ".pdf", ".md")


# -- figures ------------------------------------------------------------------------------------
TIMESERIES = {
    "engagement": [
        "minutes_per_user_day",
        "feed_minutes_per_user_day",
        "companion_minutes_per_user_day",
    ],
    "loyalty": ["feed_user_share", "companion_user_share", "mean_attachment"],
    "wellbeing": ["wellbeing_mean", "loneliness_mean", "tie_strength_mean"],
    "revenue": [
        "revenue_per_user_day",
        "ad_revenue_per_user_day",
        "subscription_revenue_per_user_day",
    ],
}
BRIEF_TIMESERIES = ["minutes_per_user_day", "wellbeing_mean", "revenue_per_user_day"]


def figures(
    results: an.Results,
    spec: dict[str, Any] | None,
    comparison: pd.DataFrame | None,
    card: pd.DataFrame | None,
    brief: bool = True,
) -> list[dict[str, Any]]:
    """The figures that fit the results' shape, each ``{"name", "figure", "caption"}``.

    Brief: the fewest that support the findings; otherwise (``sim plot``) every kind that
    applies, with a time-series figure per metric family and a sensitivity figure per key
    metric.
    """
    out = []
    runs, factors = results.runs, results.factors
    categorical = [f for f in factors if f in an.CATEGORICAL]
    grid = [f for f in factors if f not in an.CATEGORICAL]
    colour = (
        [spec["factor"]] if spec and spec["factor"] in categorical else categorical[:1] or grid[:1]
    )
    n_seeds = runs["seed"].nunique()
    if comparison is not None and not comparison.empty:
        what = an.level_name(spec["factor"], spec["baseline"])
        out.append(
            {
                "name": "comparison",
                "figure": plots.comparison_figure(
                    comparison, f"What each option changes, against {what}"
                ),
                "caption": f"Paired differences from {what} in the key metric of each family: mean over {n_seeds} paired seeds "
                "(dots) with 95% confidence intervals (whiskers). Hollow grey: the interval includes zero, no clear effect.",
            }
        )
    by = [*categorical, *grid] if "sample" not in runs else [*categorical, "sample"]
    key_metrics = [m for m in an.KEY_METRICS.values() if m in runs and runs[m].notna().any()]
    if by and runs.groupby(by).ngroups > 1:
        # a frontier joins only alternatives open to one decision maker: the options compared
        # within one market (or other stratum), never points of different markets
        within = [c for c in (spec["within"] if spec else []) if c in by]
        pts = an.summarise(runs, by, ["revenue_per_user_day", "wellbeing_mean"]).pivot_table(
            index=by, columns="metric", values="mean"
        )
        sets = pts.groupby(level=within, sort=False) if within else [((), pts)]
        front = pd.concat(
            [
                g[an.frontier(g, "revenue_per_user_day", "wellbeing_mean").to_numpy()]
                for _, g in sets
            ]
        )
        names = "; ".join(
            " · ".join(
                an.level_name(c, v)
                for c, v in zip(by, i if isinstance(i, tuple) else (i,), strict=True)
            )
            for i in front.index[:6]
        )
        where = (
            f"Within each {' and '.join(plots._factor_word(c) for c in within)} (the options open to one decision maker), the dashed line joins"
            if within
            else "The dashed frontier joins"
        )
        out.append(
            {
                "name": "tradeoff",
                "figure": plots.tradeoff_figure(
                    runs, by, title="Wellbeing against revenue across the design", within=within
                ),
                "caption": f"Each design point's mean wellbeing against provider revenue. {where} the {len(front)} "
                f"point{'s' * (len(front) != 1)} that no other option there beats on both ({names}{'; ...' if len(front) > 6 else ''}). "
                f"{an.WELLBEING_WORDS}",
            }
        )
    if results.timeseries is not None:
        facet = next((c for c in categorical if c not in colour), None)
        lines = [*colour, *([facet] if facet else [])]
        per_line = int(runs.groupby(lines).size().min()) if lines else len(runs)
        sets = {"": BRIEF_TIMESERIES} if brief else {f"_{k}": v for k, v in TIMESERIES.items()}
        for suffix, metrics in sets.items():
            metrics = [m for m in metrics if m in results.timeseries]
            b = an.bands(results, metrics, by=lines)
            title = f"Day by day{f' ({suffix[1:]})' if suffix else ''}"
            out.append(
                {
                    "name": f"timeseries{suffix}",
                    "figure": plots.timeseries_figure(
                        b,
                        colour_by=colour,
                        facet_by=facet,
                        title=title,
                        row_height=1.3 if brief else 1.8,
                    ),
                    "caption": f"Daily means across the {per_line} runs behind each line, with 95% confidence bands "
                    "(clipped to the range of the quantity); panels in the same unit share their scale."
                    + (f" {an.WELLBEING_WORDS}" if "wellbeing_mean" in metrics and brief else ""),
                }
            )
    if len(grid) == 1 and "sample" not in runs and runs[grid[0]].nunique() >= 3:
        by = colour[0] if colour and colour[0] in categorical else None
        out.append(
            {
                "name": "response",
                "figure": plots.response_figure(runs, grid[0], key_metrics, colour_by=by),
                "caption": f"Means over {n_seeds} replications at each value of {grid[0]}, with 95% confidence bands.",
            }
        )
    if len(grid) >= 2 and "sample" not in runs:
        pooled = f", pooled over {' and '.join(categorical)}" if categorical else ""
        out.append(
            {
                "name": "heatmap",
                "figure": plots.heatmap_figure(runs, grid[0], grid[1], key_metrics),
                "caption": f"Means over replications on the grid of {grid[0]} and {grid[1]}{pooled}.",
            }
        )
    if (results.definition.get("sample") or {}).get("method") in ("sobol", "morris"):
        group = "policy" if "policy" in factors else None
        for metric in (
            ["wellbeing_mean", "revenue_per_user_day"] if brief else list(an.KEY_METRICS.values())
        ):
            try:
                si = an.sensitivity(results, metric, group=group)
            except ParamError:
                continue  # e.g. retention undefined in runs shorter than 90 days
            out.append(
                {
                    "name": f"sensitivity_{metric}",
                    "figure": plots.sensitivity_figure(si),
                    "caption": f"Sensitivity of {an.label(metric)} to the sampled parameters, with 95% bootstrap intervals.",
                }
            )
    users = None if brief else an.user_types(results)
    if users is not None:
        out.append(
            {
                "name": "distributions",
                "figure": plots.distribution_figure(
                    users, colour[0] if colour and colour[0] in categorical else None
                ),
                "caption": "Wellbeing and loneliness of the panel's users on its last day, by user type.",
            }
        )
    if card is not None:
        records = card.astype(object).where(card.notna(), None).to_dict("records")
        with plots.style():
            fig = plots.scorecard_figure(records, title=_card_title(card))
        wrapped = sum(t.get_text().count("\n") for t in fig.axes[0].get_yticklabels())
        fig.set_size_inches(9, 0.155 * len(card) + 0.12 * wrapped + 1.35)  # room for long labels
        out.append(
            {
                "name": "scorecard",
                "figure": fig,
                "caption": "Each published finding's band (grey, on its own scale) and the model's estimate with its 95% CI.",
            }
        )
    return out


def _card_title(card: pd.DataFrame) -> str:
    kind = "quick run: small populations" if card.attrs.get("quick") else "full run"
    uncertain = card.attrs.get("too_uncertain")
    more = f"\n{uncertain} more in band but too uncertain" if uncertain else ""
    return f"The model against published evidence\n{kind}: {card.attrs.get('passed')} of {card.attrs.get('findings')} findings pass{more}"


# -- the briefing -------------------------------------------------------------------------------
def context(
    results_dir: str | Path,
    validation: str | Path | None = None,
    title: str | None = None,
    now: datetime | None = None,
    factor: str | None = None,
    baseline: str | None = None,
) -> dict[str, Any]:
    """Everything a briefing shows, computed from the results folder (and the scorecard).

    Args:
        results_dir: a results folder (``sim sweep``) or run folder (``sim run``).
        validation: ``validation.json`` from ``sim validate``; found in the folder when None.
        title: the briefing's title; made from the experiment when None.
        now: the briefing's date (for reproducible output in tests).
        factor, baseline: the contrast to make (:func:`sim.report.analysis.comparison_spec`);
            the design's natural one when None.
    """
    results = an.load(results_dir)
    if results.runs.empty:
        raise ParamError(f"{results.path}: no run succeeded, so there is nothing to brief")
    now = now or datetime.now(UTC)
    spec = an.comparison_spec(results, factor, baseline)
    comparison = (
        an.compare(results.runs, spec["factor"], spec["baseline"], within=spec["within"])
        if spec
        else None
    )
    card_path = Path(validation) if validation else an.find_scorecard(results.path)
    card = an.scorecard(card_path) if card_path else None
    found = key_findings(comparison, spec["within"]) if comparison is not None else []
    ranked = bool(found)
    if results.sampled:  # a sensitivity design: what the outcomes hinge on comes first
        found = sensitivity_findings(results) + found[:2]
    used = runinfo.interventions_of(results.manifest)
    days = int(results.runs["days"].max()) if "days" in results.runs else None
    interventions = [
        {"text": runinfo.describe_intervention(iv), "window": runinfo.window_text(iv, days)}
        for iv in used
    ]
    arms = runinfo.arm_contrasts(results.runs, results.timeseries, used)
    windows = {iv.get("name") or iv.get("kind"): runinfo.window_text(iv, days) for iv in used}
    for a in arms:
        a["text"] = runinfo.arm_sentence(a, windows[a["intervention"]])
    if not ranked and arms:  # nothing to compare across the design: the arms are the finding
        found += [
            {"text": a["text"], "clear": False, "metric": a["metric"], "effect_size": math.nan}
            for a in arms
            if a["metric"] in ("time on feeds and companions", "wellbeing")
        ]
    if len(found) < 3:
        found += level_findings(results)
    figs = figures(results, spec, comparison, card)
    single = "run_parameters" in results.manifest
    claims = [] if single else essay.claims_table(results)
    m = results.manifest
    exp = m.get("experiment", {})
    return {
        "title": title
        or f"{exp.get('name', results.name).replace('_', ' ').capitalize()}: what the simulations show",
        "date": now.strftime("%d %B %Y"),
        "experiment": exp,
        "description": exp.get("description", ""),
        "answers": None if single else essay.page_one(results),
        "claims": claims,
        "claims_covered": sum(c["verdict"] != essay.cx.UNCOVERED for c in claims),
        "findings": found[:MAX_FINDINGS],
        "ranked": ranked,
        "figures": figs,
        "table": options_table(results, comparison, spec)
        if comparison is not None and not comparison.empty
        else None,
        "methods": methods(results, spec),
        "parameters": runinfo.parameters_sentence(results.manifest),
        "interventions": interventions,
        "arms": arms,
        "single_run": single,
        "validation": validation_summary(card, card_path) if card is not None else None,
        "caveats": caveats(results, comparison, card),
        "provenance": provenance_rows(results, card_path, card, now),
    }


def methods(results: an.Results, spec: dict[str, Any] | None) -> dict[str, Any]:
    """The design in numbers: runs, points, seeds, users, days, summary window."""
    runs, d = results.runs, results.definition
    base = d.get("base") or {}
    window = int(base.get("run.summary_window", Params().run.summary_window))
    days = sorted(runs["days"].unique()) if "days" in runs else []
    users = sorted(runs["users"].unique()) if "users" in runs else []
    return {
        "runs": len(runs),
        "failed": len(results.failed),
        "points": runs["point"].nunique(),
        "seeds": sorted(int(s) for s in runs["seed"].unique()),
        "users": ", ".join(f"{u:,}" for u in users),
        "days": ", ".join(f"{x:,}" for x in days),
        "window": min(window, min(days)) if days else window,
        "factors": [
            an.level_name(f, "").split(" =")[0] if f not in an.CATEGORICAL else f
            for f in results.factors
        ],
        "sampled": results.sampled,
        "sample": d.get("sample"),
        "comparison": spec
        and {
            "factor": spec["factor"],
            "baseline": an.level_name(spec["factor"], spec["baseline"]),
            "within": spec["within"],
        },
    }


def validation_summary(card: pd.DataFrame, path: Path) -> dict[str, Any]:
    """Counts of findings that pass per study, and by name those too uncertain to pass (in band,
    interval too wide) and the misses (docs/ODD.md 1.2)."""

    def named(g: pd.DataFrame, statuses: set[str]) -> list[str]:
        return [f for f, s in zip(g["finding"], g["status"], strict=True) if s in statuses]

    by_study = [
        {
            "study": study,
            "citation": short_citation(g["citation"].iloc[0]) or study,
            "passed": int((g["status"] == "pass").sum()),
            "findings": len(g),
            "uncertain": named(g, {"too uncertain"}),
            "misses": named(g, {"miss", "not modelled"}),
        }
        for study, g in card.groupby("study", sort=False)
    ]
    return {
        "passed": int((card["status"] == "pass").sum()),
        "findings": len(card),
        "uncertain": int((card["status"] == "too uncertain").sum()),
        "not_modelled": int((card["status"] == "not modelled").sum()),
        "studies": by_study,
        "quick": bool(card.attrs.get("quick")),
        "created": card.attrs.get("created"),
        "path": str(path),
    }


def short_citation(citation: str) -> str:
    """``Allcott, Braghieri, Eichmeyer & Gentzkow (2020), The Welfare ...`` -> ``Allcott et al. (2020)``."""
    match = re.match(r"\s*([^,(&]+?)(\s*[,&][^(]*)?\s*\((\d{4})\)", citation or "")
    if not match:
        return (citation or "").split(",")[0]
    return f"{match.group(1).strip()}{' et al.' if match.group(2) else ''} ({match.group(3)})"


def caveats(
    results: an.Results, comparison: pd.DataFrame | None, card: pd.DataFrame | None
) -> list[str]:
    """Caveats computed from the results, before the standing ones in the template."""
    out = []
    n = results.runs["seed"].nunique()
    if n < 5:
        out.append(
            f"Only {n} replication{'s' * (n != 1)} per design point: intervals are wide and can miss real effects."
        )
    if len(results.failed):
        out.append(
            f"{len(results.failed)} of {len(results.failed) + len(results.runs)} runs failed and are left out; comparisons use the seeds that ran under both arms."
        )
    if comparison is not None and not comparison.empty:
        shown = comparison[np.isfinite(comparison["ci_low"].astype(float))]
        unclear = int((~shown["clear"].astype(bool)).sum())
        if unclear:
            out.append(
                f"{unclear} of {len(shown)} comparisons in the table have intervals that include zero: the model shows no clear effect there, which is not evidence of no effect."
            )
    if results.manifest.get("git_dirty"):
        out.append(
            "The results were produced from a working tree with uncommitted changes (git dirty flag set)."
        )
    if card is None:
        out.append(
            "No validation scorecard was found beside the results: run 'sim validate' to see how the model compares with published evidence."
        )
    elif card.attrs.get("quick"):
        out.append(
            "The validation scorecard comes from a quick run (small populations, two replications); a full 'sim validate' run gives tighter estimates."
        )
    uncertain = 0 if card is None else int((card["status"] == "too uncertain").sum())
    if uncertain:
        out.append(
            f"{uncertain} finding{'s' * (uncertain != 1)} of the scorecard {'lie' if uncertain != 1 else 'lies'} inside {'their bands' if uncertain != 1 else 'its band'} with a 95% interval too wide to count as reproduced; 'sim validate' prints how many replications would settle each."
        )
    return out


def provenance_rows(
    results: an.Results, card_path: Path | None, card: pd.DataFrame | None, now: datetime
) -> list[tuple[str, str]]:
    m, exp = results.manifest, results.manifest.get("experiment", {})
    sha = m.get("git_sha") or "unknown"
    seeds = m.get("seeds") or sorted(results.runs["seed"].unique().tolist())
    seed_text = (
        f"{seeds[0]}-{seeds[-1]}"
        if seeds == list(range(seeds[0], seeds[0] + len(seeds))) and len(seeds) > 1
        else ", ".join(map(str, seeds))
    )
    overrides = " ".join(
        [
            *(f"--set {s}" for s in exp.get("set") or []),
            *([f"--replications {exp['replications']}"] if exp.get("replications") else []),
        ]
    )
    if "run_parameters" in m:  # a run folder of sim run: what it changed, from its params.json
        what = (
            f"a single run (sim run), scenario {results.runs['scenario'].iloc[0]}, policy {results.runs['policy'].iloc[0]}; "
            f"{runinfo.parameters_sentence(m)} Interventions: "
            f"{'; '.join(runinfo.describe_intervention(iv) for iv in runinfo.interventions_of(m)) or 'none'}"
        )
    else:
        what = (
            f"{exp.get('name', results.name)} ({exp.get('file', 'n/a')}, definition hash {exp.get('hash', 'n/a')}); "
            f"overrides: {overrides or 'none'}; {runinfo.parameters_sentence(m)}"
        )
    rows = [
        ("experiment", what),
        (
            "runs and seeds",
            f"{len(results.runs)} succeeded, {len(results.failed)} failed; seeds {seed_text}",
        ),
        (
            "model",
            f"version {m.get('version', 'unknown')}, git {sha[:12]}{' (uncommitted changes)' if m.get('git_dirty') else ''}; results in {results.path} (created {m.get('created', 'unknown')})",
        ),
    ]
    if card is not None:
        rows.append(
            (
                "validation",
                f"{card_path} ({'quick' if card.attrs.get('quick') else 'full'} run, created {card.attrs.get('created')}, git {str(card.attrs.get('git_sha'))[:12]})",
            )
        )
    git = provenance.git_state()
    rows.append(
        (
            "briefing",
            f"written {now.strftime('%Y-%m-%d %H:%M UTC')} by sim {provenance.version()}, git {str(git['git_sha'])[:12]}",
        )
    )
    pk = m.get("packages") or {}
    if pk:
        rows[2] = (
            "model",
            f"{rows[2][1]}; packages: {', '.join(f'{k} {v}' for k, v in pk.items())}",
        )
    return rows


# -- rendering ----------------------------------------------------------------------------------
class _Environment(Environment):
    """Jinja, with ``d.key`` reading a dict's item before its attribute: the briefing's rows are
    dicts, and ``c.clear`` must be the cell's flag, not the bound ``dict.clear`` method (which is
    always true)."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Mapping) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


def _env(autoescape: bool = True) -> Environment:
    return _Environment(
        loader=PackageLoader("sim.report", "templates"),
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(ctx: dict[str, Any]) -> str:
    """The briefing as one HTML page, figures inlined as SVG data URIs."""
    env = _env()
    css = env.loader.get_source(env, "brief.css")[0]
    figs = [
        {
            **f,
            "src": "data:image/svg+xml;base64,"
            + base64.b64encode(plots.svg(f["figure"]).encode()).decode(),
        }
        for f in ctx["figures"]
    ]
    return env.get_template("brief.html.j2").render(**{**ctx, "figures": figs}, css=css)


def render_markdown(ctx: dict[str, Any], figure_dir: Path, link_prefix: str) -> str:
    """The briefing as Markdown; figures are written to ``figure_dir`` as SVG files."""
    figure_dir.mkdir(parents=True, exist_ok=True)
    figs = []
    for f in ctx["figures"]:
        plots.save(f["figure"], figure_dir / f"{f['name']}.svg")
        figs.append({**f, "src": quote(f"{link_prefix}/{f['name']}.svg")})  # spaces in links
    env = _env(autoescape=False)
    env.filters["md"] = markdown_escape
    return env.get_template("brief.md.j2").render(**{**ctx, "figures": figs})


def markdown_escape(text: Any) -> str:
    """User text made inert in Markdown: HTML special characters as entities, and Markdown's
    own markup characters backslash-escaped."""
    out = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for ch in "\\`*_[]|#":
        out = out.replace(ch, "\\" + ch)
    return out


def write(
    results_dir: str | Path,
    out: str | Path,
    validation: str | Path | None = None,
    title: str | None = None,
    now: datetime | None = None,
    factor: str | None = None,
    baseline: str | None = None,
) -> Path:
    """Write the briefing to ``out``: .html, .pdf or .md by its extension (atomically);
    ``factor`` and ``baseline`` choose the contrast (see :func:`context`)."""
    out = Path(out)
    ext = out.suffix.lower()
    if ext not in FORMATS:
        raise ParamError(
            f"--out {out}: the extension must be one of {', '.join(FORMATS)} (HTML, PDF or Markdown)"
        )
    if out.exists() and out.is_dir():
        raise ParamError(
            f"--out {out} is a folder: give a file name ending in {', '.join(FORMATS)}"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    ctx = context(results_dir, validation, title, now, factor, baseline)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(fd)
    try:
        if ext == ".pdf":
            from weasyprint import HTML

            HTML(string=render_html(ctx), base_url=str(out.parent)).write_pdf(tmp)
        elif ext == ".md":
            folder = out.with_name(f"{out.stem}_figures")
            Path(tmp).write_text(render_markdown(ctx, folder, folder.name))
        else:
            Path(tmp).write_text(render_html(ctx))
        os.chmod(tmp, 0o666 & ~umask())  # mkstemp makes it private; a briefing is to be shared
        os.replace(tmp, out)
    finally:
        Path(tmp).unlink(missing_ok=True)
    for f in ctx["figures"]:
        release(f["figure"])
    return out


def release(fig) -> None:
    """Free a figure (one made with pyplot would otherwise be kept by it)."""
    import matplotlib.pyplot as plt

    plt.close(fig)
    fig.clear()
