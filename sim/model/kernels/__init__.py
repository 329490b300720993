"""Compiled kernels for the day's hot loops (Numba), with the numpy code as the reference path.

Each mechanism module keeps its numpy implementation, which is the specification; where Numba is
installed the model runs fused per-user loops from this package instead. The kernels do the same
floating-point operations in the same order as the numpy code, so both paths give the same
results bit for bit (tests/test_kernels.py runs them side by side). Two rules keep it so:

- transcendental functions (exp, expm1) are left to numpy on whole buffers: numpy's SIMD exp
  and the C library's, which compiled code calls, differ in the last bit for some inputs;
- random draws go through the same ``numpy.random.Generator``, in the same order: each block's
  draws are made before its kernels run (uniforms by numpy, normals by :func:`normals`, Numba's
  copy of numpy's algorithm), so every stream is read as before.

What the compiled path keeps differently, to save memory (the values are the same):
``model.today.levers`` is a :class:`LeverTables` (int8 codes into a palette per lever; indexing
it builds the numpy path's array); ``today.cap`` and ``today.friends_share`` are not kept;
ad tax, ad revenue, subscription and commerce revenue are kept only as sums in
``today.totals`` (as arrays too when the number of providers does not divide 8); state arrays
such as ``users.offline_minutes`` and ``users.wellbeing`` are updated in place.

Blocks of users run on a team of threads (:func:`each_block`, ``SIM_THREADS``; one per CPU by
default) with each block's random draws made in block order, so the number of threads does not
change results either.

``SIM_NUMBA=0`` in the environment selects the numpy path at import; :func:`use` switches
between the paths at run time (for tests). Compiled kernels are cached on disk (``cache=True``),
so only the first run on a machine pays for compiling them.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import itertools
import os
import queue
import threading

import numpy as np

try:
    if os.environ.get("SIM_NUMBA", "1").strip().lower() in ("0", "false", "off", "no"):
        raise ImportError("disabled by SIM_NUMBA")
    import numba
except ImportError:  # pragma: no cover - exercised where Numba is absent
    numba = None

AVAILABLE = numba is not None
ENABLED = AVAILABLE


def jit(fn):
    """Compile ``fn`` with Numba when it is available (cached on disk); else leave it as is."""
    if numba is None:
        return fn
    # error_model="numpy": x / 0 gives inf or nan, as in numpy, instead of raising
    return numba.njit(cache=True, nogil=True, error_model="numpy")(fn)


def exp(buffer: np.ndarray) -> None:
    """``buffer = exp(buffer)`` in place, with numpy's exp (see the module docstring). The
    arguments are logistic ones; exp of a large one is inf, which makes the logistic exactly 0
    or 1 as it should, so overflow is not reported."""
    with np.errstate(over="ignore"):
        np.exp(buffer, out=buffer)


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


# users a kernel handles between two numpy calls, so its buffers stay in cache; at least 128,
# the most numpy adds in one run (blocks are then subtrees of its pairwise summation)
BLOCK = 8192


def blocks(n: int, size: int | None = None) -> tuple[tuple[int, int], ...]:
    """Ranges ``(start, stop)`` of at most ``size`` (:data:`BLOCK`) values covering
    ``range(n)`` in order: the subtrees of numpy's pairwise summation of ``n`` values (halves
    split at multiples of 8), so per-block sums add up to numpy's sum in :func:`tree_sum`."""
    return _blocks(n, size or BLOCK)


@functools.lru_cache(maxsize=16)
def _blocks(n: int, size: int) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []

    def split(start: int, count: int) -> None:
        if count <= size:
            out.append((start, start + count))
            return
        half = count // 2
        half -= half % 8
        split(start, half)
        split(start + half, count - half)

    split(0, n)
    return tuple(out)


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
    use; 1 on the numpy path and when called from any thread but the main one.

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
    if not ENABLED or threading.current_thread() is not threading.main_thread():
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


@jit
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


def tree_sum(partial, n: int, size: int | None = None):
    """numpy's sum of ``n`` values from the sums ``partial`` of its :func:`blocks`, in order."""
    it, size = iter(partial), size or BLOCK

    def node(count: int):
        if count <= size:
            return next(it)
        half = count // 2
        half -= half % 8
        return node(half) + node(count - half)

    return node(n)


def warm_up() -> float:
    """Compile every kernel (or load it from the disk cache) by running a small model through
    the paths the kernels take; returns the seconds it took. Benchmarks call it first, so that
    compiling is reported apart from running."""
    import time

    from sim.model import EconomyModel
    from sim.model.interventions import Intervention

    t0 = time.perf_counter()
    if ENABLED:
        ivs = [Intervention("commitment", share=0.5, providers="feeds", value=0.5)]
        EconomyModel(users=300, days=16, seed=0, interventions=ivs).run_model()
    return time.perf_counter() - t0


@jit
def lever(table, i, j):
    """Provider ``j``'s value of a lever for user ``i`` from a :class:`LeverTables` entry
    (codes, palette)."""
    codes, palette = table
    return palette[codes[at(codes, i), j], j]


class LeverTables(dict):
    """Today's levers for the compiled path: for each lever, int8 codes (1 or N, P) into a
    palette of values (K, P). A lever under an A/B test takes three values per provider and
    each limit an intervention sets on it at most doubles them, so a million users' lever
    takes 4 MB instead of 32. Indexing gives the lever as the numpy path has it, (P,) or
    (N, P), built on first use."""

    def __init__(self, tables: dict, n: int):
        super().__init__()
        self.tables, self.n = tables, n

    def __missing__(self, name: str) -> np.ndarray:
        codes, palette = self.tables[name]
        values = np.take_along_axis(palette, codes.astype(np.intp), axis=0)
        values = values[0] if codes.shape[0] == 1 else values
        dict.__setitem__(self, name, values)
        return values

    def __setitem__(self, name: str, values) -> None:
        """Setting a lever's values (P,) or (N, P) sets its table too: codes into the values."""
        a = np.asarray(values, dtype=float)
        dict.__setitem__(self, name, a)
        if a.ndim == 1:
            self.tables[name] = (np.zeros((1, a.shape[0]), np.int8), a[None, :].copy())
        else:
            rows = np.repeat(np.arange(a.shape[0], dtype=np.int64)[:, None], a.shape[1], axis=1)
            self.tables[name] = (rows, np.ascontiguousarray(a))


def lever_table(providers, name: str, n: int, limits) -> tuple[np.ndarray, np.ndarray] | None:
    """(codes, palette) of lever ``name`` as ``provider.lever`` and
    :meth:`sim.model.interventions.Constraints.limit_lever` give it, or None when the palette would
    need more than 127 values."""
    P = len(providers)
    columns = []
    for p in providers:
        base = p.levers.get(name, 0.0)
        t = p.tests.get(name)
        columns.append(([base], None) if t is None else ([t.values[0], base, t.values[1]], t.arm))
    K = max(len(v) for v, _ in columns)
    palette = np.zeros((K, P))
    per_user = any(arm is not None for _, arm in columns)
    codes = np.zeros((n if per_user else 1, P), np.int8)
    for j, (values, arm) in enumerate(columns):
        palette[: len(values), j] = values
        if arm is not None:  # arm -1, 0, +1: lowered, current, raised
            codes[:, j] = arm + 1
    for users, cols, lever_name, op, bound in limits:
        if lever_name != name:
            continue
        if palette.shape[0] * 2 > 127:
            return None
        if codes.shape[0] == 1:
            codes = np.repeat(codes, n, axis=0)
        if op == "max":
            limited = np.minimum(palette, bound)
        elif op == "min":
            limited = np.maximum(palette, bound)
        else:
            limited = np.full_like(palette, bound)
        shift = palette.shape[0]
        palette = np.vstack([palette, limited])
        for j in np.flatnonzero(cols):
            codes[users, j] += shift
    return codes, palette


def enabled() -> bool:
    """True when the model runs the compiled kernels."""
    return ENABLED


@contextlib.contextmanager
def use(flag: bool):
    """Run the body with the compiled kernels on (``True``, if available) or off."""
    global ENABLED
    before = ENABLED
    ENABLED = bool(flag) and AVAILABLE
    try:
        yield ENABLED
    finally:
        ENABLED = before
