"""``sim sweep``: an experiment file's runs, executed and stored in a results folder.

Order of work: read and expand the experiment (every run's parameters checked), check the
output folder (new and empty, or with ``--resume`` one made by the same definition), reach the
executor, then run what is missing and store each run as it finishes. Bad input raises
:class:`~sim.params.ParamError` before anything is written.
"""

from __future__ import annotations

import os
import platform
import socket
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from sim import provenance, runner
from sim.experiments import Experiment, RunSpec, estimate_seconds, expand, load
from sim.params import ParamError
from sim.store import RunOutput, Store

MANIFEST_EVERY = 2.0  # seconds between manifest rewrites while runs finish
EXTRA_PACKAGES = ("dask", "distributed", "SALib", "typer")
SHIPPED = Path(__file__).resolve().parent.parent / "experiments"


class Interrupted(Exception):
    """Ctrl-C during a sweep; the message says what was kept and how to go on."""


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
    seed_text = f"seeds {seeds[0]}-{seeds[-1]}" if seeds == list(range(seeds[0], seeds[-1] + 1)) else f"seeds {seeds}"  # fmt: skip
    sizes = sorted({(s.users, s.days) for s in specs})
    size = "; ".join(f"{u:,} users x {d:,} days" for u, d in sizes)
    rec = exp.record
    records = f"time series every {rec.every} day{'s' * (rec.every > 1)}" if rec.timeseries else "no time series"  # fmt: skip
    lines = [
        f"{exp.name} ({exp.path}): {exp.description}",
        f"{len(specs):,} runs = {points:,} design points x {len(seeds)} replications ({seed_text}); {size}",
        f"records: {records}; {'per-user panel' if rec.panel else 'no panel'}",
        f"estimated cost: {describe_cost(specs, workers)} (a rough guide)",
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
    exp = load(path, sets, replications)
    specs = expand(exp)
    n_workers = workers or default_workers()
    if not quiet:
        for w in exp.warnings:
            stderr.print(f"warning: {w}", markup=False)
    done: dict[str, dict[str, Any]] = {}
    if out is not None and resume:
        manifest = Store.check_resumable(out, exp.hash, exp.name)
        done = Store(out).finished()
    elif out is not None and not dry_run:
        Store.check_new(out)
        manifest = None
    todo = [s for s in specs if done.get(s.run_id, {}).get("status") != "ok"]
    if resume and not todo and not dry_run and manifest.get("status") == "complete":
        stdout.print(f"nothing to do: all {len(specs)} runs in {out} have finished", markup=False)
        return 0
    if dry_run:
        for line in plan(exp, todo, n_workers):
            stdout.print(line, markup=False, highlight=False, soft_wrap=True)
        if resume:
            stdout.print(f"({len(specs) - len(todo)} of {len(specs)} runs already finished)")
        return 0
    if out is None:
        raise ParamError("--out DIR is needed to run a sweep (or use --dry-run)")
    executor, slots, close, label = _executor(scheduler, n_workers)
    store = Store(out)
    try:
        store.open()
        manifest = _manifest(exp, specs, manifest, label, sets, replications)
        return _run(exp, specs, todo, done, store, manifest, executor, slots, quiet, stdout, stderr, path)  # fmt: skip
    finally:
        close()
        store.close()


def _executor(scheduler: str | None, workers: int):
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


def _run(exp, specs, todo, done, store, manifest, executor, slots, quiet, stdout, stderr, path) -> int:  # fmt: skip
    states = {s.run_id: done.get(s.run_id) for s in specs}
    entries = {e["run_id"]: e for e in manifest["runs"]}
    for run_id, row in states.items():
        if row is not None:
            entries[run_id].update(_entry(row))
    store.write_manifest(_counted(manifest, entries))
    last_write = time.monotonic()
    t0 = time.perf_counter()
    failed = 0
    progress = Progress(
        TextColumn(exp.name),
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

    def on_result(spec: RunSpec, output: RunOutput) -> None:
        nonlocal failed, last_write
        store.write(output)
        entries[spec.run_id].update(_entry(output.row))
        failed += not output.ok
        progress.update(task, advance=1, failed=failed)
        if time.monotonic() - last_write > MANIFEST_EVERY:
            store.write_manifest(_counted(manifest, entries))
            last_write = time.monotonic()

    with progress:
        task = progress.add_task("runs", total=len(todo), failed=0)
        try:
            unstarted = runner.run_all(todo, executor, slots, on_result)
        except KeyboardInterrupt:
            runner.stop(executor)
            _finish(store, specs, manifest, entries, t0, "interrupted")
            n_ok = manifest["counts"]["ok"]
            again = " ".join(
                [f"sim sweep {path} --out {store.out}"]
                + [f"--set {s}" for s in manifest["experiment"]["set"]]
                + [f"--replications {r}" for r in [manifest["experiment"]["replications"]] if r]
            )
            raise Interrupted(
                f"interrupted: {n_ok} of {len(specs)} runs are saved in {store.out}; "
                f"finish them with '{again} --resume'"
            ) from None
    files = _finish(store, specs, manifest, entries, t0, None)
    counts, seconds = manifest["counts"], time.perf_counter() - t0
    ran = len(todo) - unstarted
    if not quiet:
        rate = f" ({60 * ran / seconds:.0f} runs/min)" if seconds > 0 and ran else ""
        stdout.print(
            f"{ran} runs in {seconds:.1f} s{rate}; {counts['ok']} of {len(specs)} succeeded; "
            f"saved to {store.out} ({', '.join(files)})",
            markup=False,
        )
    else:
        stdout.print(str(store.out), markup=False)
    bad = counts["failed"] + counts["pending"]
    if bad:
        first = next(e for e in entries.values() if e["status"] != "ok")
        why = first.get("error") or "not started"
        stderr.print(
            f"error: {counts['failed']} of {len(specs)} runs failed"
            + (f" and {counts['pending']} did not start" if counts["pending"] else "")
            + f" (first: {first['label']}, seed {first['seed']}: {why}); "
            f"see the 'error' column of runs.parquet; rerun them with --resume",
            markup=False,
            soft_wrap=True,
        )
        return 1
    return 0


def _finish(store, specs, manifest, entries, t0, status) -> list[str]:
    files = store.consolidate([s.run_id for s in specs])
    _counted(manifest, entries)
    complete = manifest["counts"]["ok"] == len(specs)
    manifest["status"] = status or ("complete" if complete else "incomplete")
    session = manifest["sessions"][-1]
    session["finished"] = _now()
    session["seconds"] = round(time.perf_counter() - t0, 1)
    manifest["files"] = files
    store.write_manifest(manifest)
    if complete:
        store.remove_parts()
    return files


def _entry(row: dict[str, Any]) -> dict[str, Any]:
    keys = ("status", "error", "seconds", "started", "worker")
    out = {k: row.get(k) for k in keys}
    seconds = out["seconds"]
    out["seconds"] = None if seconds is None or seconds != seconds else float(seconds)
    return out


def _counted(manifest: dict[str, Any], entries: dict[str, dict[str, Any]]) -> dict[str, Any]:
    statuses = [e["status"] for e in entries.values()]
    manifest["counts"] = {k: statuses.count(k) for k in ("ok", "failed", "pending")}
    manifest["runs"] = list(entries.values())
    manifest["updated"] = _now()
    return manifest


def _manifest(exp, specs, old, executor_label, sets, replications) -> dict[str, Any]:
    session = {
        "started": _now(),
        "executor": executor_label,
        "host": socket.gethostname(),
        "version": provenance.version(),
        **provenance.git_state(),
    }
    if old is not None:  # resuming: keep the record, add this session
        old["status"] = "running"
        old["sessions"].append(session)
        return old
    packages = provenance.packages()
    for name in EXTRA_PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = "absent"
    manifest = {
        "status": "running",
        "experiment": {
            "name": exp.name,
            "description": exp.description,
            "file": exp.path,
            "hash": exp.hash,
            "set": list(sets or []),
            "replications": replications,
            "definition": exp.definition(),
        },
        "version": provenance.version(),
        **provenance.git_state(),
        "seeds": exp.seeds,
        "runs_total": len(specs),
        "packages": packages,
        "host": {
            **provenance.host(),
            "hostname": socket.gethostname(),
            "cpus": os.cpu_count(),
            "system": platform.system(),
        },  # fmt: skip
        "created": _now(),
        "sessions": [session],
        "runs": [
            {
                "run_id": s.run_id,
                "label": s.label,
                "replication": s.replication,
                "seed": s.seed,
                "status": "pending",
                "error": None,
                "seconds": None,
                "started": None,
                "worker": None,
            }
            for s in specs
        ],  # fmt: skip
    }
    if exp.sample is not None:
        manifest["sample"] = {"method": exp.sample.method, "n": exp.sample.n,
                              "second_order": exp.sample.second_order,
                              "problem": exp.sample.problem()}  # fmt: skip
    return manifest


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
