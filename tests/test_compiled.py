"""The compiled loops' machinery (sim.model.compiled): blocks of users on a team of threads give
the same results for any number of threads, random draws are read in user order, errors reach
the caller, and the pure-Python run of the same code (NUMBA_DISABLE_JIT=1) agrees."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from sim.model import EconomyModel, compiled, metrics
from sim.model.interventions import Intervention
from sim.model.params import ParamError

IVS = [
    Intervention("commitment", start=2, share=0.5, providers="feeds", value=0.5),
    Intervention("cap_minutes", start=3, share=0.4, providers="companions", value=10.0),
]


@pytest.fixture
def threads():
    """Set the team's threads for a test; back to SIM_THREADS after it."""
    yield compiled.set_threads
    compiled.set_threads(None)


def outcome(users=400, days=20) -> dict[str, np.ndarray]:
    m = EconomyModel(users=users, days=days, seed=5, interventions=IVS)
    m.run_model()
    out = {f"users.{k}": np.asarray(a) for k, a in zip(m.users._fields, m.users, strict=True)}
    out["ties"] = m.network.strength.copy()
    frame = metrics.frame(m)
    out.update({f"series.{c}": frame[c].to_numpy() for c in frame.columns})
    out["levers"] = np.array([v for p in m.providers for v in p.levers.values()])
    return out


def differing(a: dict, b: dict, keys=None) -> list[str]:
    return [k for k in keys or a if not np.array_equal(a[k], b[k], equal_nan=True)]


def test_threads_change_nothing_and_block_size_only_the_rounding_of_sums(monkeypatch, threads):
    """With blocks of 64 users, 1, 2 and 3 threads give the same results bit for bit; the
    user state does not depend on the block size either, and the daily sums only in rounding."""
    threads(1)
    whole = outcome()
    monkeypatch.setattr(compiled, "BLOCK", 64)
    assert len(compiled.blocks(400)) == 7
    runs = []
    for team in (1, 2, 3):
        threads(team)
        runs.append(outcome())
    for other in runs[1:]:
        assert not differing(runs[0], other)
    state = [k for k in whole if not k.startswith("series.")]
    assert not differing(whole, runs[0], state)
    for k in whole:
        np.testing.assert_allclose(whole[k], runs[0][k], rtol=1e-12, atol=1e-12, err_msg=k)


def test_each_block_draws_in_order_and_reports_errors(threads):
    threads(2)
    spans = compiled.blocks(1000, 128)
    order, seen = [], []

    def body(k, start, stop):
        seen.append(compiled.slot())
        return stop - start

    assert sum(compiled.each_block(spans, body, lambda k, a, b: order.append(k))) == 1000
    assert order == list(range(len(spans))) and set(seen) <= {0, 1}

    def broken(k, start, stop):
        if k == 3:
            raise RuntimeError("block 3")

    with pytest.raises(RuntimeError, match="block 3"):
        compiled.each_block(spans, broken, lambda k, a, b: None)
    assert compiled.each_block(spans, body) == [b - a for a, b in spans]  # the team still works


def test_blocks_cover_the_users_in_order():
    for n, size in ((1, 8), (7, 8), (8, 8), (9, 8), (1000, 128)):
        spans = compiled.blocks(n, size)
        assert spans[0][0] == 0 and spans[-1][1] == n
        assert all(a == b for (_, a), (b, _) in zip(spans, spans[1:], strict=False))
        assert all(0 < stop - start <= size for start, stop in spans)


def test_normals_are_numpys():
    """The compiled taste shocks are the numbers numpy's own method draws from the stream."""
    ours, theirs = np.random.default_rng(11), np.random.default_rng(11)
    x = np.empty(10_001)
    compiled.normals(ours, x)
    assert np.array_equal(x, theirs.standard_normal(x.size))
    compiled.normals(ours, x[:7])  # the stream goes on where it was
    assert np.array_equal(x[:7], theirs.standard_normal(7))


def test_radix_sort_is_numpys():
    rng = np.random.default_rng(1)
    for x in (
        rng.normal(1.0, 0.3, 5000),
        rng.normal(0.0, 1e6, 777),
        np.repeat(rng.random(50), 40),
        np.full(300, 1.25),
        np.array([3.0]),
    ):
        out = np.empty_like(x)
        metrics.sort(x, out, np.empty(x.size, np.uint64), np.empty(x.size, np.uint64))
        assert np.array_equal(out, np.sort(x))


def test_per_user_gives_one_array_type():
    n = 7
    for x, rows in (
        (0.5, 1),
        ([1.0, 2.0], 1),
        (np.broadcast_to([1.0, 2.0], (n, 2)), 1),
        (np.ones((n, 2)), n),
    ):
        a = compiled.per_user(x, n)
        assert a.ndim == 2 and a.shape[0] == rows
        assert a.flags.c_contiguous and a.flags.writeable and a.dtype == np.float64
    assert compiled.per_user(np.broadcast_to(1.0, (n,)), n, 1).shape == (1,)


def test_sim_threads_must_be_a_whole_number(monkeypatch, threads):
    monkeypatch.setenv("SIM_THREADS", "two")
    threads(None)
    with pytest.raises(ParamError, match="SIM_THREADS must be a whole number"):
        compiled.threads()
    monkeypatch.setenv("SIM_THREADS", "2")
    threads(None)
    assert compiled.threads() == 2


def test_worker_processes_share_the_cpus():
    one = compiled.sharing(1)
    assert one["initializer"] is compiled.set_threads and one["initargs"] == (compiled.cpus(),)
    assert compiled.sharing(2 * compiled.cpus())["initargs"] == (1,)  # never fewer than one


def test_tie_strength_stays_the_same_at_both_ends():
    """Each end of a tie updates its own copy of the strength, to the same value."""
    m = EconomyModel(users=500, days=30, seed=3)
    m.run_model()
    net = m.network
    assert np.array_equal(net.strength, net.strength[net.reverse])


RUN = """
import json, sim
from sim.model import metrics
m = sim.EconomyModel(users=60, days=4, seed=2)
m.run_model()
print(json.dumps(metrics.frame(m).drop(columns="day").to_numpy().tolist()))
"""


def test_the_pure_python_run_of_the_same_code_agrees():
    """NUMBA_DISABLE_JIT=1 runs the formula functions and loops as plain Python: the debugging
    path is the same code, so it gives the same numbers."""

    def run(**env) -> np.ndarray:
        done = subprocess.run(
            [sys.executable, "-c", RUN],
            capture_output=True,
            text=True,
            env={**os.environ, "SIM_THREADS": "1", **env},
            check=True,
        )
        return np.array(json.loads(done.stdout.strip().splitlines()[-1]), dtype=float)

    compiled_run, python_run = run(), run(NUMBA_DISABLE_JIT="1")
    np.testing.assert_allclose(python_run, compiled_run, rtol=1e-9, atol=1e-12)
