"""The ``sim sweep`` and ``sim experiments`` commands (registered on the app in :mod:`sim.cli`).

Bad input raises :class:`~sim.model.params.ParamError`, which ``sim.cli.main`` turns into one line
on stderr and exit code 2, before anything is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.padding import Padding

from sim.model.params import ParamError
from sim.sweeps import sweep as sweeping
from sim.sweeps.experiments import expand, load

stdout = Console(highlight=False)  # resolve sys.stdout / sys.stderr when printing
stderr = Console(stderr=True, highlight=False)


def sweep_command(
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE",
            help="experiment file (TOML), or the name of a shipped one (see 'sim experiments')",
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="DIR",
            help="results folder; must be new or empty unless --resume",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            help="worker processes (default: every core); 1 runs in this process; "
            "with --scheduler local, the LocalCluster's workers",
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            metavar="ADDRESS",
            help="run on a Dask cluster: a running scheduler's address (tcp://host:8786), "
            "or 'local' to start a LocalCluster",
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="finish the sweep in DIR: run only the runs missing or failed there",
        ),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="list the runs and an estimate of their cost and memory; run nothing",
        ),
    ] = False,
    sets: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="PATH=VALUE",
            help="override a parameter in every run (repeatable), e.g. run.users=500",
        ),
    ] = None,
    replications: Annotated[
        int | None,
        typer.Option(metavar="N", help="run N replications (seeds) instead of the file's"),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="no progress bar; print only the folder")
    ] = False,
) -> None:
    """Run an experiment's runs and store their results in DIR.

    DIR gets manifest.json, runs.parquet, timeseries.parquet and (when recorded)
    panel.parquet. Runs are seeded and paired: replication k uses the same seed in every design
    point. Each run is saved as it finishes, so a stopped sweep loses only the runs in flight;
    --resume finishes it, running again any part that does not verify. Everything is checked
    before the first run starts, the memory the runs need included: bad input exits with code
    2 and writes nothing. Exit code 1 when some runs failed or the results could not be written.
    """
    code = sweeping.sweep(
        file,
        out,
        workers=workers,
        scheduler=scheduler,
        resume=resume,
        dry_run=dry_run,
        sets=sets,
        replications=replications,
        quiet=quiet,
        stdout=stdout,
        stderr=stderr,
    )
    raise typer.Exit(code)


def experiments_command(
    folder: Annotated[
        Path | None,
        typer.Option(
            "--dir", metavar="DIR", help="folder of experiment files (default: experiments/)"
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(metavar="N", help="workers assumed for the time estimate (default: cores)"),
    ] = None,
) -> None:
    """List the experiment files with their descriptions, run counts and estimated cost."""
    folder = folder or sweeping.experiments_folder()
    files = sorted(folder.glob("*.toml")) if folder.is_dir() else []
    if not files:
        raise ParamError(f"--dir {folder} holds no experiment files (*.toml)")
    n_workers = workers or sweeping.default_workers()
    bad = 0
    for path in files:
        try:
            exp = load(path)
            specs = expand(exp)
        except ParamError as e:
            bad += 1
            stdout.print(f"[bold]{escape(path.stem)}[/]  [red]invalid:[/] {escape(str(e))}")
            continue
        points = len({s.point for s in specs})
        size = "; ".join(sorted({f"{s.users:,} users x {s.days:,} days" for s in specs}))
        stdout.print(
            f"[bold]{escape(exp.name)}[/]  {len(specs):,} runs ({points} points x "
            f"{len(exp.seeds)} seed{'s' * (len(exp.seeds) > 1)}), {size}, {sweeping.describe_cost(specs, n_workers)}"
        )
        stdout.print(Padding(escape(exp.description), (0, 0, 1, 4)))
    stdout.print(
        f"Files in {folder}. Run one with 'sim sweep NAME --out DIR'; "
        "try it small first with --dry-run, --replications 1 or --set run.users=500."
    )
    if bad:
        raise typer.Exit(1)
