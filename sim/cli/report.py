"""The ``sim plot`` and ``sim brief`` commands (registered on the app in :mod:`sim.cli`).

Both read a results folder (``sim sweep``) or a run folder (``sim run``) and, when found or
given, the validation scorecard (``validation.json`` from ``sim validate``). Bad input raises
:class:`~sim.model.params.ParamError` (one line, exit code 2) before anything is written.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from sim.model.params import ParamError
from sim.sweeps.checks import check_writable_dir
from sim.sweeps.single import umask

stdout = Console(highlight=False)
FIGURE_FORMATS = ("svg", "png", "pdf")
BRIEF_FORMATS = (".html", ".htm", ".pdf", ".md")  # sim.report.brief.FORMATS, without importing it
# sim.report.analysis, sim.report.brief and sim.report.plots (pandas, matplotlib, jinja2) are imported inside the
# commands, so other commands start without them

Folder = Annotated[
    Path, typer.Argument(metavar="DIR", help="results folder (sim sweep) or run folder (sim run)")
]
Validation = Annotated[
    Path | None,
    typer.Option(
        "--validation",
        metavar="FILE",
        help="validation.json from 'sim validate' (default: DIR/validation.json or DIR/validation/validation.json)",
    ),
]


Factor = Annotated[
    str | None,
    typer.Option(
        "--factor",
        metavar="NAME",
        help="the design factor whose levels are compared (scenario, policy, case, a varied "
        "parameter, or label); the others are held fixed. Default: cases, else policy, else "
        "scenario, else the grid points",
    ),
]
Baseline = Annotated[
    str | None,
    typer.Option(
        "--baseline",
        metavar="LEVEL",
        help="the level of --factor the others are compared with (e.g. attention_economy); "
        "default: attention for policy, else the first level",
    ),
]


def _load(folder: Path):
    """Read the results, turning any file that is foreign, malformed or truncated into one line."""
    import pyarrow as pa

    from sim.report import analysis as an

    try:
        results = an.load(folder)
    except ParamError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError, pa.ArrowException) as e:
        raise ParamError(
            f"{folder}: its results cannot be read ({type(e).__name__}: {_short(e)}); "
            "is it a folder written by 'sim sweep' or 'sim run', and whole?"
        ) from None
    runs = results.runs
    need = {"run_id", "seed"} | (set() if runs.empty else {"wellbeing_mean"})
    missing = sorted(need - set(runs.columns))
    if missing:
        raise ParamError(
            f"{folder}: its runs table is not one 'sim sweep' or 'sim run' wrote "
            f"(no column {missing[0]!r})"
        )
    ts = results.timeseries
    if ts is not None and not {"run_id", "day"} <= set(ts.columns):
        raise ParamError(f"{folder}: timeseries.parquet has no run_id and day columns")
    if not isinstance(results.manifest, dict):
        raise ParamError(f"{folder}: manifest.json is not a sweep's manifest (a JSON object)")
    return results


def _short(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text[:200] + ("..." if len(text) > 200 else "")


def _scorecard(folder: Path, validation: Path | None):
    from sim.report import analysis as an

    if validation is not None and not validation.is_file():
        raise ParamError(
            f"--validation {validation} does not exist: give the validation.json written by 'sim validate'"
        )
    path = validation or an.find_scorecard(folder)
    return (an.scorecard(path), path) if path else (None, None)


def plot_command(
    folder: Folder,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", metavar="DIR", help="where the figures go (default: DIR/figures)"
        ),
    ] = None,
    formats: Annotated[
        str,
        typer.Option(
            "--format",
            metavar="LIST",
            help=f"comma-separated figure formats: {', '.join(FIGURE_FORMATS)}",
        ),
    ] = "svg,png",
    validation: Validation = None,
    factor: Factor = None,
    baseline: Baseline = None,
) -> None:
    """Write every figure that fits a results folder: paired comparisons, time series with
    confidence bands, the wellbeing-revenue trade-off, heatmaps, sensitivity indices, user-type
    distributions and the validation scorecard."""
    kinds = [f.strip().lower() for f in formats.split(",") if f.strip()]
    bad = [k for k in kinds if k not in FIGURE_FORMATS]
    if bad or not kinds:
        raise ParamError(
            f"--format must list figure formats from {', '.join(FIGURE_FORMATS)}, got {formats!r}"
        )
    from sim.report import analysis as an
    from sim.report import brief as briefing
    from sim.report import plots

    results = _load(folder)
    if results.runs.empty:
        raise ParamError(f"{folder}: no run succeeded, so there is nothing to plot")
    out = out or results.path / "figures"
    check_writable_dir(out)
    card, _ = _scorecard(results.path, validation)
    spec = an.comparison_spec(results, factor, baseline)
    comparison = (
        an.compare(results.runs, spec["factor"], spec["baseline"], within=spec["within"])
        if spec
        else None
    )
    figs = briefing.figures(results, spec, comparison, card, brief=False)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for f in figs:
        for kind in kinds:
            path = out / f"{f['name']}.{kind}"
            fd, tmp = tempfile.mkstemp(dir=out, prefix=f".{path.name}.", suffix=f".{kind}")
            os.close(fd)
            try:
                plots.save(f["figure"], tmp)
                os.chmod(tmp, 0o666 & ~umask())
                os.replace(tmp, path)
            finally:
                Path(tmp).unlink(missing_ok=True)
            written.append(path.name)
        briefing.release(f["figure"])
    stdout.print(
        f"{len(figs)} figures ({', '.join(f['name'] for f in figs)}) as {', '.join(kinds)} in {out}",
        markup=False,
    )


def brief_command(
    folder: Folder,
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", metavar="FILE", help="the briefing: .html, .pdf or .md (by extension)"
        ),
    ],
    validation: Validation = None,
    title: Annotated[
        str | None,
        typer.Option("--title", help="the briefing's title (default: from the experiment)"),
    ] = None,
    factor: Factor = None,
    baseline: Baseline = None,
) -> None:
    """Write a policy briefing. Page one answers the essay's questions from the runs, each with
    a paired-by-seed 95% interval: does the intimacy economy bring deeper loyalty than the
    attention economy, at what cost to human connection in the short and the long run, who
    earns and who pays, and which regulation changes that at what cost (in a transition design
    such as 'transition', the same run's feeds-only days against its companions' first and last
    days, the windows read from the design; else the companions-only against the feeds-only
    market). Then the essay's claims with one computed verdict each: reproduced, contradicted,
    not settled by the runs (the interval includes zero) or not covered by this design. Then key
    findings, figures, the table of policy options, methods, the validation scorecard, caveats
    and provenance. --factor and --baseline choose the contrast of the findings and options,
    e.g. --factor scenario --baseline attention_economy compares each market with the
    feeds-only one under each policy."""
    if out.suffix.lower() not in BRIEF_FORMATS:
        raise ParamError(
            f"--out {out}: the extension must be one of {', '.join(BRIEF_FORMATS)} (HTML, PDF or Markdown)"
        )
    if validation is not None and not validation.is_file():
        raise ParamError(
            f"--validation {validation} does not exist: give the validation.json written by 'sim validate'"
        )
    if out.is_dir():
        raise ParamError(f"--out {out} is a folder: give a file name ending in .html, .pdf or .md")
    check_writable_dir(out.parent, name=out)
    if out.exists() and not os.access(out, os.W_OK):
        raise ParamError(f"--out {out} is not writable")
    _load(folder)  # every input is read and checked before anything is written
    if validation is not None:
        _scorecard(folder, validation)
    from sim.report import brief as briefing

    path = briefing.write(
        folder, out, validation=validation, title=title, factor=factor, baseline=baseline
    )
    stdout.print(f"briefing written to {path}", markup=False)
