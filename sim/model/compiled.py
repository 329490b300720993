"""Compiled loops over users: Numba, blocks of users and the team of threads that runs them.

Each mechanism module (:mod:`sim.model.mechanisms`) writes its equations once, as small
scalar formula functions compiled with :func:`jit`, and loops over users with them; there is no
second implementation. ``NUMBA_DISABLE_JIT=1`` in the environment runs the same functions as
plain Python, for debugging (slowly).

Blocks of users run on a team of threads (:func:`each_block`, ``SIM_THREADS``; one per CPU by
default). Random draws are made block by block in user order before each block's loop
(:func:`uniforms`, :func:`normals`), and sums over users add up each block's partial sum in
block order, so the number of threads never changes a result.

Compiled functions are cached on disk (``cache=True``), so only the first run on a machine pays
for compiling them.
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import functools
import itertools
import os
import queue
import threading

import numba
import numpy as np


def jit(fn=None, *, refcount: bool = False):
    """Compile ``fn`` with Numba, cached on disk, releasing the GIL (so blocks of users run side
    by side on the team's threads); x / 0 gives inf or nan as in numpy instead of raising.

    Functions compile without Numba's reference counting unless ``refcount`` (``@jit(refcount
    =True)``), which a function that creates arrays or takes a Python object (a numpy
    Generator) needs. Formula functions take the users' table, a tuple of some forty arrays:
    with reference counting every call counts a reference to each array in and out, about
    half a microsecond a call, which made a user's daily adoption decision twenty times slower
    than its arithmetic. Without it the arrays are borrowed from the caller, which holds them
    for the call. So a loop over users creates no arrays: it takes its working arrays and the
    sums it adds to from its caller, or a short function with reference counting creates them
    and calls the loop."""
    if fn is None:
        return functools.partial(jit, refcount=refcount)
    return numba.njit(cache=True, nogil=True, error_model="numpy", _nrt=refcount)(fn)


def per_user(x, n: int, ndim: int = 2):
    """``x`` as a C-contiguous, writable float64 array with a first axis of ``n`` (a value per
    user) or 1 (one value for everyone: read it at row :func:`at`). Kernels see one array
    type whatever ``x`` was (a lever per provider, a broadcast default, a per-user matrix), so
    each is compiled once."""
    a = np.asarray(x, dtype=float)
    if a.ndim < ndim:
        a = a.reshape((1,) * (ndim - a.ndim) + a.shape)
    if a.shape[0] != 1 and a.strides[0] == 0:
        a = a[:1]
    if a.shape[0] not in (1, n):
        raise ValueError(f"expected {n} or 1 rows, got {a.shape[0]}")
    if not (a.flags.c_contiguous and a.flags.writeable):
        a = np.array(a, order="C")
    return a


@jit
def at(a, i):
    """Row of user ``i`` in an array from :func:`per_user`."""
    return i if a.shape[0] > 1 else 0


# users a loop handles between two Python calls, so its buffers stay in cache
BLOCK = 8192


def blocks(n: int, size: int | None = None) -> tuple[tuple[int, int], ...]:
    """Ranges ``(start, stop)`` of ``size`` users (:data:`BLOCK` by default; the last may be
    shorter) covering ``range(n)`` in order. They depend on ``n`` and the size only, never on
    the number of threads, so partial sums added in block order give the same total on any
    team."""
    return _blocks(n, size or BLOCK)


@functools.lru_cache(maxsize=16)
def _blocks(n: int, size: int) -> tuple[tuple[int, int], ...]:
    return tuple((a, min(a + size, n)) for a in range(0, n, size))


def block_buffer(model, name: str, n: int, lead: tuple = (), tail: tuple = ()):
    """A work buffer for the largest of :func:`blocks` of ``n`` users, one per thread of the
    team; ``take(start, stop)`` views the calling thread's as a C-contiguous array of shape
    ``lead + (stop - start,) + tail``."""
    size = max(b - a for a, b in blocks(n))
    k = int(np.prod(lead + tail, dtype=np.int64))

    def take(start: int, stop: int) -> np.ndarray:
        flat = model.work(f"{name}#{slot()}", k * size)
        return flat[: k * (stop - start)].reshape(*lead, stop - start, *tail)

    return take


# -- threads ---------------------------------------------------------------------------------
# Blocks of users are independent within a step, so a team of threads runs them side by side:
# the kernels release the GIL (nogil), and so do numpy's ufuncs and bulk random draws. Random
# streams are still read block after block in user order (a thread claims the next block and
# makes its draws under one lock), so results do not depend on the number of threads.

_local = threading.local()


THREADS: int | None = None  # read from SIM_THREADS on first use


def cpus() -> int:
    """CPUs this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def sharing(workers: int) -> dict:
    """Options for a ``ProcessPoolExecutor`` of ``workers`` processes that share this machine's
    CPUs: each process runs models on its share of them (at least one thread)."""
    return {"initializer": set_threads, "initargs": (max(1, cpus() // max(1, workers)),)}


def set_threads(n: int | None) -> None:
    """Threads the model's steps use in this process; None reads ``SIM_THREADS`` again.
    A sweep's worker processes use one each."""
    global THREADS, _team
    THREADS = None if n is None else max(1, int(n))
    if _team is not None:
        _team.stop()
    _team = None


def threads() -> int:
    """Threads a model run uses here: ``SIM_THREADS``, by default the CPUs this process may
    use; 1 when called from any thread but the main one.

    Raises:
        ParamError: ``SIM_THREADS`` is not a whole number of at least 1.
    """
    global THREADS
    if THREADS is None:
        raw = os.environ.get("SIM_THREADS", "").strip()
        if not raw:
            THREADS = cpus()
        elif raw.isdigit() and int(raw) >= 1:
            THREADS = int(raw)
        else:
            from sim.model.params import ParamError

            raise ParamError(
                f"environment variable SIM_THREADS must be a whole number of at least 1, got {raw!r}"
            )
    if threading.current_thread() is not threading.main_thread():
        return 1
    return THREADS


def slot() -> int:
    """The calling thread's place in the team (0 for the main thread): whose work buffers."""
    return getattr(_local, "slot", 0)


class _Team:
    """``size - 1`` helper threads that, with the calling thread, run one job at a time."""

    def __init__(self, size: int):
        self.size, self.pid = size, os.getpid()
        self.jobs = [queue.SimpleQueue() for _ in range(size)]
        self.done: queue.SimpleQueue = queue.SimpleQueue()
        for s in range(1, size):
            threading.Thread(target=self._serve, args=(s,), daemon=True).start()

    def _serve(self, s: int) -> None:
        _local.slot = s
        while True:
            job = self.jobs[s].get()
            if job is None:
                return
            try:
                job()
                self.done.put(None)
            except BaseException as e:  # noqa: B036 - handed to the caller
                self.done.put(e)

    def stop(self) -> None:
        for s in range(1, self.size):
            self.jobs[s].put(None)

    def run(self, job) -> None:
        for s in range(1, self.size):
            self.jobs[s].put(job)
        error = None
        try:
            job()
        except BaseException as e:  # noqa: B036 - raised once the helpers are done
            error = e
        for _ in range(1, self.size):
            error = error or self.done.get()
        if error is not None:
            raise error


_team: _Team | None = None


def each_block(spans, body, draw=None) -> list:
    """``body(k, start, stop)`` for every span ``k`` of users (from :func:`blocks`), on the
    team's threads; returns the results in span order. ``draw(k, start, stop)``, when given,
    runs first for each span, in span order whatever thread runs it: random streams are read
    user after user as in one thread."""
    global _team
    results = [None] * len(spans)
    size = threads()
    if size <= 1 or len(spans) <= 1:
        for k, (start, stop) in enumerate(spans):
            if draw is not None:
                draw(k, start, stop)
            results[k] = body(k, start, stop)
        return results
    if _team is None or _team.pid != os.getpid():  # a forked child has none of the threads
        _team = _Team(size)
    turn = threading.Lock()  # claiming a span and drawing for it happen under it, in order
    claim = itertools.count()
    failed = False

    def job() -> None:
        nonlocal failed
        try:
            while not failed:
                with turn:
                    k = next(claim)
                    if k >= len(spans):
                        return
                    start, stop = spans[k]
                    if draw is not None:
                        draw(k, start, stop)
                results[k] = body(k, start, stop)
        except BaseException:
            failed = True
            raise

    _team.run(job)
    return results


@jit(refcount=True)
def normals(rng, out):
    """Fill the flat array ``out`` with ``rng``'s standard normals, the numbers
    ``rng.standard_normal(out=out)`` gives: Numba's copy of numpy's ziggurat, three times as
    fast here as numpy's own method."""
    for i in range(out.size):
        out[i] = rng.standard_normal()


def uniforms(streams, take):
    """A ``draw`` for :func:`each_block`: each stream's uniforms for a block's users, user
    after user, into row k of ``take(start, stop)`` for the k-th stream."""

    def draw(_, start: int, stop: int) -> None:
        rows = take(start, stop)
        for k, rng in enumerate(streams):
            rng.random(out=rows[k])

    return draw


_helper: tuple[int, concurrent.futures.ThreadPoolExecutor] | None = None


def alongside(fn):
    """Start ``fn()`` on a helper thread, when runs have more than one thread, while the caller
    goes on (``fn`` should release the GIL: a kernel); returns a function that waits for it and
    gives its result."""
    global _helper
    if threads() <= 1:
        result = fn()
        return lambda: result
    if _helper is None or _helper[0] != os.getpid():
        # a slot of its own, so that block buffers it might take are not the team's
        own_slot = functools.partial(setattr, _local, "slot", "alongside")
        _helper = (os.getpid(), concurrent.futures.ThreadPoolExecutor(1, initializer=own_slot))
    return _helper[1].submit(fn).result


def warm_up() -> float:
    """Compile every kernel (or load it from the disk cache) by running a small model through
    the paths the kernels take; returns the seconds it took. Benchmarks call it first, so that
    compiling is reported apart from running."""
    import time

    from sim.model import EconomyModel
    from sim.model.interventions import Intervention

    t0 = time.perf_counter()
    ivs = [Intervention("commitment", share=0.5, providers="feeds", value=0.5)]
    EconomyModel(users=300, days=16, seed=0, interventions=ivs).run_model()
    return time.perf_counter() - t0


@functools.cache
def _constants_type(cls: type):
    """A named tuple type with the fields of the parameter section ``cls``, kept as an
    attribute of this module under the section's name: Numba's disk cache finds compiled code
    by its argument types, and finds this type again in a new process by that name."""
    bundle = collections.namedtuple(cls.__name__, [f.name for f in dataclasses.fields(cls)])
    bundle.__module__ = __name__
    globals()[cls.__name__] = bundle
    return bundle


def constants(section):
    """A parameter section (a dataclass of numbers) as a named tuple, the form a compiled loop
    takes it in: one argument whose fields it reads by name (``k.formation``)."""
    _register_sections()
    fields = dataclasses.fields(section)  # of numbers: no copies to make, as astuple would
    return _constants_type(type(section))(*(getattr(section, f.name) for f in fields))


@functools.cache
def _register_sections() -> None:
    """Every section's named tuple type, registered at once: a formula compiled for several
    sections (a feed's and a companion's costs) keeps them together in its disk cache, which
    a new process can load only when all of them are known by name."""
    from sim.model.params import Params

    for f in dataclasses.fields(Params):
        _constants_type(type(getattr(Params(), f.name)))
