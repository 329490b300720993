"""``sim sweep``: an experiment file's runs, executed and stored in a results folder.

Order of work: read and expand the experiment (every run's parameters checked), check the
output folder (new and empty, or with ``--resume`` one made by the same definition), reach the
executor, then run what is missing and store each run as it finishes. Bad input raises
:class:`~sim.model.params.ParamError` before anything is written.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from sim.model.params import ParamError
from sim.sweeps import checks, runner
from sim.sweeps.experiments import Experiment, RunSpec, estimate_seconds, expand, load
from sim.sweeps.manifest import Ledger
from sim.sweeps.store import RunOutput, Store

SHIPPED = Path(__file__).resolve().parents[2] / "experiments"


class Interrupted(Exception):
    """Ctrl-C during a sweep; the message says what was kept and how to go on."""


class WriteFailed(Exception):
    """The results folder could not be written (exit code 1); the message says how to go on."""


def find_file(file: str | Path) -> Path:
    """``FILE`` as given, else a shipped experiment's name (``headline``)."""
    path = Path(file)
    if path.exists() or path.suffix:
        return path
    for folder in (Path("experiments"), SHIPPED):
        if (folder / f"{file}.toml").is_file():
            return folder / f"{file}.toml"
    return path


def experiments_folder() -> Path:
    here = Path("experiments")
    return here if here.is_dir() and any(here.glob("*.toml")) else SHIPPED


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def describe_cost(specs: list[RunSpec], workers: int) -> str:
    cpu = sum(estimate_seconds(s) for s in specs)
    wall = cpu / max(1, min(workers, len(specs)))
    return (
        f"about {_duration(cpu)} of CPU, {_duration(wall)} on {workers} worker{'s' * (workers > 1)}"
    )


def describe_memory(specs: list[RunSpec], workers: int) -> str:
    """The largest run's estimated memory, times the runs held at once, against what fits."""
    if not specs:
        return "none"
    each = max(s.memory for s in specs)
    at_once = max(1, min(workers, len(specs)))
    have = checks.available_bytes()
    text = f"{checks.gigabytes(each)} a run"
    if at_once > 1:
        text += f", {checks.gigabytes(each * at_once)} for {at_once} at once"
    if have is not None:
        fits = "fits" if each * at_once <= have else "does NOT fit"
        text += f"; {fits} this machine's {checks.gigabytes(have)}"
    return text


def _check_memory(todo: list[RunSpec], workers: int) -> None:
    """Refuse a sweep whose runs held at once (one per worker) do not fit in memory."""
    big = max(todo, key=lambda s: s.memory)
    at_once = max(1, min(workers, len(todo)))
    have = checks.available_bytes()
    if have is not None and big.memory * at_once > have:
        many = f" for {at_once} runs at once" if at_once > 1 else ""
        hint = "use fewer --workers or fewer users" if at_once > 1 else "use fewer users"
        raise ParamError(
            f"the sweep would need about {checks.gigabytes(big.memory * at_once)} of memory"
            f"{many} (its largest run has {big.users:,} users), and this machine allows "
            f"{checks.gigabytes(have)}: {hint} (--set run.users=N)"
        )


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def plan(exp: Experiment, specs: list[RunSpec], workers: int) -> list[str]:
    """The lines ``--dry-run`` prints: the experiment, its size and cost, then every run."""
    points = len({s.point for s in specs})
    seeds = exp.seeds
    if len(seeds) == 1:
        seed_text = f"seed {seeds[0]}"
    elif seeds == list(range(seeds[0], seeds[-1] + 1)):
        seed_text = f"seeds {seeds[0]}-{seeds[-1]}"
    else:
        seed_text = f"seeds {', '.join(map(str, seeds))}"
    sizes = sorted({(s.users, s.days) for s in specs})
    size = "; ".join(f"{u:,} users x {d:,} days" for u, d in sizes)
    rec = exp.record
    records = (
        f"time series every {rec.every} day{'s' * (rec.every > 1)}"
        if rec.timeseries
        else "no time series"
    )
    lines = [
        f"{exp.name} ({exp.path}): {exp.description}",
        f"{len(specs):,} runs = {points:,} design points x {len(seeds)} "
        f"replication{'s' * (len(seeds) > 1)} ({seed_text}); {size}",
        f"records: {records}; {'per-user panel' if rec.panel else 'no panel'}",
        f"estimated cost: {describe_cost(specs, workers)} (a rough guide)",
        f"estimated memory: {describe_memory(specs, workers)}",
        "",
        f"{'run_id':<12}  {'rep':>4}  {'seed':>6}  label",
    ]
    lines += [f"{s.run_id:<12}  {s.replication:>4}  {s.seed:>6}  {s.label}" for s in specs]
    return lines


def sweep(
    file: str | Path,
    out: Path | None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    dry_run: bool = False,
    sets: list[str] | None = None,
    replications: int | None = None,
    quiet: bool = False,
    stdout: Console | None = None,
    stderr: Console | None = None,
) -> int:
    """Run an experiment into ``out``; return the exit code (0 all ran, 1 some failed)."""
    stdout = stdout or Console(highlight=False)
    stderr = stderr or Console(stderr=True, highlight=False)
    path = find_file(file)
    if workers is not None and workers < 1:
        raise ParamError(f"--workers must be at least 1, got {workers}")
    if out is not None and out.name in ("", ".", ".."):
        raise ParamError(
            f"--out must name a results folder (e.g. results/{Path(path).stem}), got {str(out)!r}"
        )
    exp = load(path, sets, replications)
    specs = expand(exp)
    n_workers = workers or default_workers()
    if not quiet:
        for w in exp.warnings:
            stderr.print(f"warning: {w}", markup=False)
    old, done, damaged = None, {}, []
    if out is not None and resume:
        old = Store.check_resumable(out, exp.hash, exp.name)
        found = Store(out)
        done, damaged = found.finished(), found.damaged
        if damaged and not quiet:
            stderr.print(
                f"warning: {len(damaged)} damaged part{'s' * (len(damaged) > 1)} in {out} "
                f"(first: {damaged[0]}) will be run again",
                markup=False,
                soft_wrap=True,
            )
    elif out is not None and not dry_run:
        Store.check_new(out)
    todo = [s for s in specs if done.get(s.run_id, {}).get("status") != "ok"]
    if dry_run:
        for line in plan(exp, todo, n_workers):
            stdout.print(line, markup=False, highlight=False, soft_wrap=True)
        if resume:
            stdout.print(f"({len(specs) - len(todo)} of {len(specs)} runs already finished)")
        return 0
    if out is None:
        raise ParamError("--out DIR is needed to run a sweep (or use --dry-run)")
    if todo and scheduler is None:  # a Dask cluster's workers have their own memory
        _check_memory(todo, n_workers)
    if old is not None and not todo and old.get("status") == "complete" and not damaged:
        store = Store(out)
        store.open()  # a sweep killed after it finished may have left its lock and temporaries
        store.close()
        if not any(store.parts.iterdir()):  # open() makes the parts folder; none is left here
            store.parts.rmdir()
        stdout.print(f"nothing to do: all {len(specs)} runs in {out} have finished", markup=False)
        return 0
    executor, slots, close, label = _executor(scheduler, max(1, min(n_workers, len(todo))))
    store = Store(out)
    try:
        store.open()
        store.finished()  # again, under the lock: drop what is damaged so it runs afresh
        store.drop_damaged()
        ledger = Ledger.start(exp, specs, label, sets, replications, old)
        for row in done.values():
            ledger.record(row)
        store.write_manifest(ledger.current())
        t0 = time.perf_counter()
        try:
            ran = _run_with_progress(exp.name, todo, executor, slots, store, ledger, quiet, stderr)
        except KeyboardInterrupt:
            runner.stop(executor)
            _finish(store, specs, ledger, t0, "interrupted")
            again = ledger.resume_command(path).format(out=out)
            raise Interrupted(
                f"interrupted: {ledger.counts['ok']} of {len(specs)} runs are saved in {out}; "
                f"finish them with '{again}'"
            ) from None
        files = _finish(store, specs, ledger, t0, None)
    except OSError as e:  # a full disk, a folder made read-only: keep what is saved, say so
        runner.stop(executor)
        again = " ".join(
            [f"sim sweep {path} --out {out}"]
            + [f"--set {x}" for x in sets or []]
            + ([f"--replications {replications}"] if replications else [])
            + ["--resume"]
        )
        raise WriteFailed(
            f"could not write into {out}: {e.strerror or e}"
            f"{f' ({e.filename})' if getattr(e, 'filename', None) else ''}; the runs saved "
            f"so far are kept: make room and finish with '{again}'"
        ) from None
    finally:
        close()
        store.close()
    return _report(ledger, specs, ran, time.perf_counter() - t0, out, files, quiet, stdout, stderr)


def _executor(scheduler: str | None, workers: int):
    """(executor, runs it can take at once, how to close it, a label for the manifest)."""
    if scheduler is None:
        executor = runner.local_executor(workers)
        label = "this process" if workers == 1 else f"{workers} local processes"
        return executor, workers, lambda: executor.shutdown(wait=True, cancel_futures=True), label
    try:
        return runner.dask_executor(scheduler, workers)
    except (OSError, TimeoutError, ValueError) as e:
        raise ParamError(
            f"--scheduler {scheduler}: could not reach a Dask scheduler ({e})"
        ) from None


def _run_with_progress(name, todo, executor, slots, store, ledger, quiet, stderr) -> int:
    """Run ``todo``, storing each run as it finishes, under a progress bar; return how many ran."""
    progress = Progress(
        TextColumn(name),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("runs, {task.fields[failed]} failed"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=stderr,
        transient=True,
        disable=quiet,
    )
    failed = 0

    def on_result(spec: RunSpec, output: RunOutput) -> None:
        nonlocal failed
        store.write(output)
        ledger.record(output.row)
        failed += not output.ok
        progress.update(task, advance=1, failed=failed)
        if ledger.due():
            store.write_manifest(ledger.current())

    with progress:
        task = progress.add_task(name, total=len(todo), failed=0)
        unstarted = runner.run_all(todo, executor, slots, on_result)
    return len(todo) - unstarted


def _finish(store: Store, specs: list[RunSpec], ledger: Ledger, t0: float, status) -> list[str]:
    """Gather the tables, close the session in the manifest, drop the parts when complete."""
    files = store.consolidate([s.run_id for s in specs])
    complete = ledger.counts["ok"] == len(specs)
    status = status or ("complete" if complete else "incomplete")
    store.write_manifest(ledger.close(status, time.perf_counter() - t0, files))
    if complete:
        store.remove_parts()
    return files


def _report(ledger, specs, ran, seconds, out, files, quiet, stdout, stderr) -> int:
    counts = ledger.counts
    if quiet:
        stdout.print(str(out), markup=False)
    else:
        rate = f" ({60 * ran / seconds:.0f} runs/min)" if seconds > 0 and ran else ""
        stdout.print(
            f"{ran} runs in {seconds:.1f} s{rate}; {counts['ok']} of {len(specs)} succeeded; "
            f"saved to {out} ({', '.join(files)})",
            markup=False,
        )
    first = ledger.first_problem()
    if first is None:
        return 0
    pending = f" and {counts['pending']} did not start" if counts["pending"] else ""
    stderr.print(
        f"error: {counts['failed']} of {len(specs)} runs failed{pending} (first: "
        f"{first['label']}, seed {first['seed']}: {first.get('error') or 'not started'}); "
        "see the 'error' column of runs.parquet; rerun them with --resume",
        markup=False,
        soft_wrap=True,
    )
    return 1
