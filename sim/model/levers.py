"""Today's levers of every provider, as the compiled loops read them (ODD 7.9, 7.13).

A lever's value for a user is the provider's current value, or an A/B test arm's, limited by
the interventions in force (caps, bans, mandates, design variants); users in a provider's
long-term holdout keep the values of its last review, and users in a long test's arms a step
below or above the current value (:mod:`sim.model.abtests`). Each lever is held as int8
codes per user (or one row for everyone) into a small palette of values per provider: a lever
under test takes three values per provider (four with a holdout) and each limit at most doubles
them, so a million users' lever takes 4 MB instead of 32. Tables are rebuilt only when a provider's value, its
running test or the constraints change.
"""

from __future__ import annotations

import numpy as np

from sim.model.abtests import tested_values
from sim.model.compiled import at, jit


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
    takes 4 MB instead of 32. Indexing gives the lever as an array, (P,) or
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
    columns = [provider_column(p, name, n) for p in providers]
    K = max(len(v) for v, _ in columns)
    palette = np.zeros((K, P))
    per_user = any(c is not None for _, c in columns)
    codes = np.zeros((n if per_user else 1, P), np.int8)
    for j, (values, column) in enumerate(columns):
        palette[: len(values), j] = values
        if column is not None:
            codes[:, j] = column
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


def provider_column(p, name: str, n: int) -> tuple[list[float], np.ndarray | None]:
    """Provider ``p``'s palette of lever ``name`` and its users' codes into it (None: code 0
    for everyone): [current]; under a test [lowered, current, raised] with code arm + 1; with a
    long-term holdout the holdout's value last, the holdout's code (unless the lever is
    untested and still at the holdout's value)."""
    values = [p.levers.get(name, 0.0)]
    codes = None
    t = p.tests.get(name)
    if t is not None:  # arm -1, 0, +1: lowered, current, raised
        values = [t.values[0], values[0], t.values[1]]
        codes = t.arm + 1
    long = p.long_tests.get(name)
    if long is not None:  # a long test's arms: a step below and above the current value
        codes = np.zeros(n, np.int8) if codes is None else codes.copy()
        low, high = tested_values(p, name, p.model.params.adaptation.step)
        codes[long.arm < 0] = len(values)
        codes[long.arm > 0] = len(values) + 1
        values = [*values, low, high]
    if p.holdout is not None and name in p.holdout_levers:
        held = p.holdout_levers[name]
        if codes is not None or held != values[0]:
            codes = np.zeros(n, np.int8) if codes is None else codes
            codes[p.holdout] = len(values)
            values.append(held)
    return values, codes


def todays_levers(model, constraints, version: int, cache: dict) -> LeverTables:
    """Every lever's table today; ``cache`` keeps each table with what it was built from."""
    n, P = model.users.n, len(model.providers)
    tables = {}
    # every lever of every kind, also in a market without that kind: the loops read them all
    for name in model.lever_names:
        key = (version, tuple(_lever_key(p, name) for p in model.providers))
        cached = cache.get(name)
        if cached is None or cached[0] != key:
            table = lever_table(model.providers, name, n, constraints.lever_limits)
            if table is None:  # too many distinct values: codes into the matrix itself
                values = [p.lever(name) for p in model.providers]
                m = np.column_stack([np.broadcast_to(v, (n,)) for v in values])
                m = np.broadcast_to(constraints.limit_lever(name, m), (n, P))
                rows = np.repeat(np.arange(n, dtype=np.int64)[:, None], P, axis=1)
                table = (rows, np.ascontiguousarray(m))
            cache[name] = cached = (key, table)
        tables[name] = cached[1]
    return LeverTables(tables, n)


def _lever_key(p, name: str) -> tuple:
    """All that ``p.lever(name)`` depends on: its value, the test running on it and the
    long-term holdout (redrawn at each review)."""
    t = p.tests.get(name)
    holdout = None if p.holdout is None else (id(p.holdout), p.holdout_levers.get(name))
    long = p.long_tests.get(name)
    return (
        p.levers.get(name, 0.0),
        None if t is None else (t.start, t.values, id(t.arm)),
        holdout,
        None if long is None else (long.start, id(long.arm)),
    )
