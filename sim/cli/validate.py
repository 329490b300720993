"""The ``sim validate`` command (registered on the app in :mod:`sim.cli`).

Runs the in-silico studies of ``experiments/validation/`` and prints, saves and draws the
scorecard: study, finding, target and band, simulated value with its 95% confidence interval,
and the result: pass, too uncertain (with the replications a pass or miss would need), miss or
not modelled (sim/evidence/validation.py; docs/ODD.md 1.2). Bad input raises :class:`~sim.model.params.ParamError` (one line, exit code 2).
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from sim.evidence import validation as v
from sim.model.params import ParamError
from sim.sweeps import provenance, runner
from sim.sweeps.checks import check_input_file, check_sets, check_writable_dir
from sim.sweeps.single import umask

stdout = Console(highlight=False)
stderr = Console(stderr=True, highlight=False)
STATUS_STYLE = {
    "pass": "green",
    "too uncertain": "dark_orange",
    "miss": "red",
    "not modelled": "bright_black",
}


def validate_command(
    quick: Annotated[
        bool,
        typer.Option("--quick", help="small populations and 2 replications (for tests and CI)"),
    ] = False,
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", metavar="DIR", help="where validation.json and scorecard.png go"
        ),
    ] = Path("results/validation"),
    ablate: Annotated[
        str | None,
        typer.Option(
            "--ablate",
            metavar="MECHANISM",
            help=f"re-run with one mechanism off: {', '.join(v.MECHANISMS)}",
        ),
    ] = None,
    study: Annotated[
        list[str] | None,
        typer.Option("--study", metavar="NAME", help="run only these studies (repeatable)"),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            metavar="FILE",
            help="parameter file applied to every study, e.g. a calibrated.toml",
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="PATH=VALUE",
            help="override a parameter in every study (repeatable); wins over --config",
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="worker processes")
    ] = os.cpu_count() or 1,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar or table")] = False,
) -> None:
    """Run the in-silico versions of the published studies and score the model against them.

    By default the model is scored with its shipped parameters; --config and --set score
    another parameter set (each study keeps its own design: size, length, seeds, treatments).
    """
    if ablate is not None and ablate not in v.MECHANISMS:
        raise ParamError(f"--ablate must be one of {', '.join(v.MECHANISMS)}, got {ablate!r}")
    check_writable_dir(out)
    if config is not None:
        check_input_file(config, "--config")
    check_sets(set_)
    overrides = v.read_overrides(config, set_)
    studies = v.load_studies(study)
    total = sum(
        (s.quick_replications if quick else s.replications)
        * (1 + len({v._key(f.counterfactual) for f in s.findings if f.counterfactual}))
        for s in studies
    )
    with (
        runner.process_pool(workers) as pool,
        Progress(
            TextColumn("validating"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} runs"),
            TimeRemainingColumn(),
            console=stderr,
            disable=quiet,
            transient=True,
        ) as bar,
    ):
        task = bar.add_task("runs", total=total)
        rows = v.run_studies(
            studies,
            quick=quick,
            ablate=ablate,
            executor=pool,
            progress=lambda: bar.advance(task),
            overrides=overrides,
        )
    record = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "ablate": ablate,
        "overrides": overrides,
        "version": provenance.version(),
        **provenance.git_state(),
        "packages": provenance.packages(),
        "host": provenance.host(),
        "studies": [
            {
                "name": s.name,
                "citation": s.citation,
                "design": s.design,
                "file": str(s.path.name),
                "users": s.quick_users if quick else s.users,
                "replications": s.quick_replications if quick else s.replications,
                "seeds": [
                    s.seed + k for k in range(s.quick_replications if quick else s.replications)
                ],
            }
            for s in studies
        ],
        "scorecard": rows,
        "passed": sum(r["status"] == "pass" for r in rows),
        "too_uncertain": sum(r["status"] == "too uncertain" for r in rows),
        "findings": len(rows),
    }
    save(out, record)
    if not quiet:
        stdout.print(table(rows, ablate))
    stdout.print(f"{_counts(record)}; saved to {out}/validation.json and {out}/scorecard.png")


def save(out: Path, record: dict) -> None:
    """validation.json and scorecard.png, each written to a temporary file then renamed."""
    from sim.report.plots import scorecard_figure

    out.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out, suffix=".json.tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(record, fh, indent=2, allow_nan=False, default=lambda o: None)
    os.chmod(tmp, 0o666 & ~umask())  # mkstemp makes it private; a scorecard is to be shared
    os.replace(tmp, out / "validation.json")
    fig = scorecard_figure(record["scorecard"], title=_title(record))
    fd, tmp = tempfile.mkstemp(dir=out, suffix=".png.tmp")
    os.close(fd)
    fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")
    os.chmod(tmp, 0o666 & ~umask())
    os.replace(tmp, out / "scorecard.png")


def _counts(record: dict) -> str:
    """``N of M findings pass`` and, if any, how many more lie in their bands with intervals
    too wide to pass (docs/ODD.md 1.2)."""
    text = f"{record['passed']} of {record['findings']} findings pass"
    uncertain = record.get("too_uncertain") or 0
    return text + (f" ({uncertain} more in band but too uncertain)" if uncertain else "")


def _title(record: dict) -> str:
    kind = "quick" if record["quick"] else "full"
    ablated = f", {record['ablate']} switched off" if record["ablate"] else ""
    return f"Model against published evidence ({kind} run{ablated}): {_counts(record)}"


def table(rows: list[dict], ablate: str | None) -> Table:
    t = Table(
        title="Validation scorecard" + (f" ({ablate} off)" if ablate else ""), title_justify="left"
    )
    for col in ("study", "finding", "target [band]", "simulated [95% CI]", "result"):
        t.add_column(col, overflow="fold")
    for r in rows:
        est = (
            "-"
            if r["estimate"] is None
            else f"{r['estimate']:.3g} [{r['ci_low']:.3g}, {r['ci_high']:.3g}]"
        )
        t.add_row(
            r["study"],
            r["finding"],
            f"{_band(r)} {r['units']}",
            est,
            f"[{STATUS_STYLE[r['status']]}]{_result(r)}[/]",
        )
    return t


def _result(r: dict) -> str:
    """The status, and for one too uncertain to pass the replications it would need."""
    if r["status"] == "too uncertain":
        need = r.get("n_needed")
        return f"too uncertain: {need} replications needed" if need else "too uncertain"
    return r["status"]


def _band(r: dict) -> str:
    lo, hi = r["band_low"], r["band_high"]
    if hi >= v.OPEN:
        return f"> {lo:g}, 95% CI above 0"
    if lo <= -v.OPEN:
        return f"< {hi:g}, 95% CI below 0"
    return f"{r['target']:g} [{lo:g}, {hi:g}]"


def calibrate_command(
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", metavar="DIR", help="where calibration.json and calibrated.toml go"
        ),
    ] = Path("results/calibration"),
    max_evaluations: Annotated[
        int, typer.Option("--max-evaluations", min=2, help="loss evaluations the optimiser may use")
    ] = 60,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="score each evaluation on the full studies (slow) instead of the quick ones",
        ),
    ] = False,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="worker processes")
    ] = os.cpu_count() or 1,
) -> None:
    """Fit the free parameters to the published findings; write the fitted set and its record.

    The loss, the free parameters and their bounds are in sim/evidence/calibration.py and docs/ODD.md
    (Calibration). The fitted values go to DIR/calibrated.toml, usable as --config, and with
    their priors, the loss before and after, and every evaluation to DIR/calibration.json;
    DIR/evaluations.jsonl grows by one line per evaluation while it runs.
    """
    from sim.evidence import calibration

    check_writable_dir(out)
    out.mkdir(parents=True, exist_ok=True)
    with (
        runner.process_pool(workers) as pool,
        Progress(
            TextColumn("calibrating"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} evaluations, loss {task.fields[loss]}"),
            console=stderr,
            transient=True,
        ) as bar,
    ):
        task = bar.add_task("fit", total=max_evaluations + 1, loss="-")
        record = calibration.calibrate(
            pool,
            max_evaluations=max_evaluations,
            quick=not full,
            progress=lambda k, loss: bar.update(task, completed=k, loss=f"{loss:.3g}"),
            log=out / "evaluations.jsonl",
        )
    record.update(
        version=provenance.version(),
        **provenance.git_state(),
        packages=provenance.packages(),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    _atomic_text(
        out / "calibration.json",
        json.dumps(record, indent=2, allow_nan=False, default=lambda o: None),
    )
    lines = ["# Parameters fitted by `sim calibrate` (see calibration.json beside this file).", ""]
    sections: dict[str, list[str]] = {}
    for f in record["free"]:
        section, _, name = f["path"].partition(".")
        sections.setdefault(section, []).append(
            f"{name} = {f['fitted']:.6g}  # prior {f['prior']:.6g}"
        )
    for section, entries in sections.items():
        lines += [f"[{section}]", *entries, ""]
    _atomic_text(out / "calibrated.toml", "\n".join(lines))
    t = Table(
        title=f"Calibration: loss {record['loss_at_prior']:.3g} -> {record['loss_fitted']:.3g} "
        f"over {record['targets']} targets, {record['evaluations']} evaluations",
        title_justify="left",
    )
    for col in ("parameter", "prior", "fitted", "bounds", "moves"):
        t.add_column(col)
    for f in record["free"]:
        t.add_row(
            f["path"],
            f"{f['prior']:.4g}",
            f"{f['fitted']:.4g}",
            f"[{f['low']:g}, {f['high']:g}]",
            f["why"],
        )
    stdout.print(t)
    stdout.print(f"saved to {out}/calibration.json and {out}/calibrated.toml")


def _atomic_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(tmp, 0o666 & ~umask())
    os.replace(tmp, path)
