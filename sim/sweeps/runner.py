"""Executing runs: one worker function, any ``concurrent.futures.Executor``.

:func:`execute` runs one :class:`~sim.sweeps.experiments.RunSpec` wherever it is sent (this process, a
local worker process, a Dask worker) and returns only that run's small results: its summary
row and its time series thinned to every k days (and the panel when recorded). A run that
raises comes back as ``status = "failed"`` with the error, so the sweep goes on.
:func:`run_all` keeps a bounded number of runs in flight on an executor and hands each result
to a callback as it arrives, so the parent holds no more than the runs in flight.
"""

from __future__ import annotations

import gc
import os
import signal
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sim.model import settling
from sim.model.interventions import Intervention
from sim.sweeps import provenance
from sim.sweeps import single as api
from sim.sweeps.experiments import RunSpec
from sim.sweeps.store import RunOutput, to_arrow

# summary keys that describe the run rather than measure it; the row takes them from the spec
NOT_METRICS = {
    "scenario",
    "policy",
    "seed",
    "users",
    "days",
    "version",
    "git_sha",
    "git_dirty",
    "seconds",
    "config_hash",
    "drift",  # nested; the row has settling.row_fields instead
    "unsettled",
}
TASKS_PER_CHILD = 500  # a fresh worker process now and then, against leaks we do not know of


def execute(spec: RunSpec) -> RunOutput:
    """Run one spec and return its row and tables; never raises for a failing run."""
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    tables: dict[str, bytes] = {}
    try:
        result = api.run(
            spec.scenario,
            spec.policy,
            seed=spec.seed,
            set=spec.overrides,
            interventions=[Intervention(**x) for x in spec.interventions],
            paths=spec.paths,
            panel=spec.record.panel,
        )
        summary = result.summary
        metrics = {k: v for k, v in summary.items() if k not in NOT_METRICS}
        metrics.update(settling.row_fields(summary))
        status, error, config_hash = "ok", None, summary["config_hash"]
        if spec.record.timeseries:
            timeseries = _thin(result.timeseries, spec.record.every, spec.days)
            timeseries.insert(0, "run_id", spec.run_id)
            tables["timeseries"] = to_arrow(timeseries)
        if result.panel is not None:
            result.panel.insert(0, "run_id", spec.run_id)
            tables["panel"] = to_arrow(result.panel)
        del result
    except Exception as e:  # a failing run is recorded and the sweep goes on
        metrics, status, config_hash = {}, "failed", None
        error = _describe(e)
    seconds = time.perf_counter() - t0
    # models hold reference cycles; a young generation is enough after a short run
    gc.collect() if seconds > 1.0 else gc.collect(1)
    row = {
        **spec.identifiers(),
        "status": status,
        "error": error,
        "seconds": round(seconds, 3),
        "started": started.isoformat(timespec="seconds"),
        "worker": f"{socket.gethostname()}:{os.getpid()}",
        "version": provenance.version(),
        "config_hash": config_hash,
        **metrics,
    }
    return RunOutput(spec.run_id, row, tables)


def _thin(frame, every: int, days: int):
    if every <= 1:
        return frame.reset_index(drop=True)
    keep = (frame["day"] % every == 0) | (frame["day"] == days - 1)
    return frame[keep].reset_index(drop=True)


def _describe(e: BaseException) -> str:
    """``Type: message (at file:line in function)`` from the innermost frame of the project."""
    frames = [f for f in traceback.extract_tb(e.__traceback__) if "/sim/" in f.filename]
    where = ""
    if frames:
        f = frames[-1]
        where = f" (at {f.filename.rsplit('/sim/', 1)[-1]}:{f.lineno} in {f.name})"
    return f"{type(e).__name__}: {e}{where}"


# -- executors ----------------------------------------------------------------------------------
class InProcessExecutor(Executor):
    """Runs each task at submission, in this process (``--workers 1``: no start-up cost)."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as e:  # noqa: B036 - handed to the caller through the future
            future.set_exception(e)
            if isinstance(e, KeyboardInterrupt):
                raise
        return future


def local_executor(workers: int) -> Executor:
    """This process for one worker, else ``workers`` spawned processes."""
    if workers <= 1:
        return InProcessExecutor()
    return process_pool(workers, spawn=True, max_tasks_per_child=TASKS_PER_CHILD)


def process_pool(workers: int, spawn: bool = False, **options) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes that share this machine's CPUs (each runs models on its
    share of them) and exit when this process dies (:func:`die_with_parent`). Sweeps, the
    validation studies and calibration all use it."""
    import multiprocessing

    from sim.model import compiled

    threads = compiled.sharing(workers)["initargs"][0]
    context = multiprocessing.get_context("spawn") if spawn else None
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(threads, os.getpid()),
        **options,
    )


def _start_worker(threads: int, parent: int) -> None:
    from sim.model import compiled

    compiled.set_threads(threads)
    die_with_parent(parent)


PR_SET_PDEATHSIG = 1
WATCH_SECONDS = 1.0


def die_with_parent(parent: int) -> None:
    """End this process when ``parent`` dies: the kernel sends SIGKILL on the parent's death
    (Linux ``prctl(PR_SET_PDEATHSIG)``), and a watchdog thread checks the parent's pid every
    second as a fallback (other systems; a parent that died before the signal was armed). A
    worker left behind would run on, holding memory and its caller's pipes."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux
        pass
    if os.getppid() != parent:  # died before the signal was armed
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(WATCH_SECONDS)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def dask_executor(address: str, workers: int) -> tuple[Executor, int, Callable[[], None], str]:
    """An executor on a Dask cluster: ``local`` starts a LocalCluster of ``workers`` processes,
    anything else is a running scheduler's address. Returns (executor, slots, close, label)."""
    import logging
    import warnings

    from distributed import Client, LocalCluster

    if address == "local":
        warnings.filterwarnings("ignore", "Port .* is already in use", UserWarning)
        with _sigint_ignored():  # Ctrl-C stops the sweep here, not each worker with a traceback
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
        client = Client(cluster)
        label = f"dask LocalCluster, {workers} worker processes"
    else:
        cluster = None
        client = Client(address, timeout="20s")
        label = f"dask scheduler {address}"
    slots = max(1, sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values()))

    def close() -> None:
        client.close()
        if cluster is not None:
            cluster.close()

    return client.get_executor(pure=False), slots, close, label


@contextmanager
def _sigint_ignored():
    """Processes started inside inherit an ignored SIGINT (in the main thread only)."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def stop(executor: Executor) -> None:
    """Cancel what has not started and return at once (Dask's executor takes no cancel flag)."""
    try:
        executor.shutdown(wait=False, cancel_futures=True)
    except TypeError:
        executor.shutdown(wait=False)


# -- the loop -----------------------------------------------------------------------------------
def run_all(
    specs: Iterable[RunSpec],
    executor: Executor,
    slots: int,
    on_result: Callable[[RunSpec, RunOutput], Any],
) -> int:
    """Run ``specs`` on ``executor`` with at most ``2 * slots`` in flight; call
    ``on_result(spec, output)`` in this process as each finishes. A run whose worker died is
    reported as failed. Returns how many specs were never started (the executor broke)."""
    todo = iter(specs)
    in_flight: dict[Future, RunSpec] = {}
    limit = max(1, 2 * slots) if not isinstance(executor, InProcessExecutor) else 1
    broken = False

    def fill() -> None:
        nonlocal broken
        while not broken and len(in_flight) < limit:
            spec = next(todo, None)
            if spec is None:
                return
            try:
                in_flight[executor.submit(execute, spec)] = spec
            except RuntimeError:  # BrokenProcessPool, or an executor shut down under us
                broken = True
                unstarted.append(spec)

    unstarted: list[RunSpec] = []
    fill()
    while in_flight:
        done, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
        for future in done:
            spec = in_flight.pop(future)
            try:
                output = future.result()
            except Exception as e:  # the worker itself died, or the cluster lost the task
                output = lost(spec, e)
            on_result(spec, output)
        fill()
    return len(unstarted) + sum(1 for _ in todo)


def lost(spec: RunSpec, e: BaseException) -> RunOutput:
    """The record of a run whose worker failed before it could report."""
    row = {**spec.identifiers(), "status": "failed", "error": f"worker failed: {_describe(e)}"}
    row.update(seconds=None, started=None, worker=None, version=None, config_hash=None)
    return RunOutput(spec.run_id, row)
