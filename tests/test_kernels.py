"""The compiled kernels (sim.model.kernels) against the numpy path, which is their specification.

Both paths must give the same results bit for bit: every daily series, the final state of
every user and tie, and providers' levers.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import fields

import numpy as np
import pytest

from sim.model import EconomyModel, kernels
from sim.model.interventions import Intervention
from sim.model.scenarios import resolve

needs_numba = pytest.mark.skipif(not kernels.AVAILABLE, reason="Numba is not installed")

INTERVENTIONS = [
    Intervention("deactivate", start=5, end=20, share=0.5, providers="feeds", name="off"),
    Intervention("bonus", start=8, end=25, share=0.3, providers="feed_a", value=3.0),
    Intervention("commitment", start=6, share=0.4, providers="feeds", value=0.5),
    Intervention("cap_minutes", start=3, share=0.5, providers="companions", value=15.0),
    Intervention("lockdown", start=20, end=30, value=0.5),
    Intervention("ban_manipulation", share=0.3, providers="companions"),
    Intervention("manipulation_cap", start=4, share=0.5, providers="companions", value=0.1),
    Intervention("ad_load_cap", start=10, share=0.5, providers="feeds", value=0.05),
    Intervention("ad_tax", start=10, providers="feeds", value=0.2),
    Intervention("nudge_mandate", start=12, share=0.5, value=0.3),
    Intervention("set_lever", lever="hooks", value=1.0, share=0.5, providers="feeds"),
]
CASES = {
    "mixed": ("mixed", {}, []),
    "interventions": ("mixed", {}, INTERVENTIONS),
    "attention": ("attention_economy", {}, []),
    "intimacy, wellbeing policy": (
        "intimacy_economy",
        {"market.companion_policy": "wellbeing"},
        [],
    ),
    "three each, late launch": (
        "mixed",
        {"market.feeds": 3, "market.companions": 3, "market.companion_launch_day": 10},
        [Intervention("launch", start=15, groups=2, group=1, providers="companions")],
    ),
    "mechanisms off": (
        "mixed",
        {
            "mechanisms.two_selves": False,
            "mechanisms.network_effects": False,
            "mechanisms.heterogeneity": False,
            "mechanisms.habit": False,
            "mechanisms.social": False,
        },
        [],
    ),
    "more off": (
        "mixed",
        {
            "mechanisms.learning": False,
            "mechanisms.attachment": False,
            "mechanisms.manipulation": False,
            "mechanisms.adoption": False,
            "adaptation.concurrent": False,
        },
        [],
    ),
}


def outcome(compiled: bool, scenario: str, sets: dict, ivs: list) -> dict[str, np.ndarray]:
    params, _ = resolve(scenario, sets=sets, users=400, days=45, seed=5)
    with kernels.use(compiled):
        m = EconomyModel(params, ivs)
        m.run_model()
    out = {f"series.{k}": v for k, v in m.recorder.data.items()}
    out |= {f"users.{f.name}": np.asarray(getattr(m.users, f.name)) for f in fields(m.users)}
    out["ties"] = m.network.strength
    for p in m.providers:
        out[f"{p.name}.objective"] = p.objective_now
        out[f"{p.name}.levers"] = np.array(list(p.levers.values()))
    return out


@needs_numba
@pytest.mark.parametrize("case", list(CASES))
def test_compiled_and_numpy_paths_agree_bit_for_bit(case):
    numpy_path, compiled = outcome(False, *CASES[case]), outcome(True, *CASES[case])
    assert numpy_path.keys() == compiled.keys()
    differ = [
        k
        for k in numpy_path
        if not np.array_equal(numpy_path[k], compiled[k], equal_nan=numpy_path[k].dtype.kind == "f")
    ]
    assert not differ, f"{case}: {differ[:10]}"


@needs_numba
def test_pairwise_sum_is_numpys():
    from sim.model.kernels.metrics import pairwise

    rng = np.random.default_rng(0)
    for n in [*range(1, 140), 1000, 8193, 100_003]:
        x = rng.normal(size=(n, 3)) * 1e3 + 0.1
        flat = x.reshape(-1)
        assert pairwise(flat, 0, flat.size, 1) == x.sum()
        for j in range(3):
            assert pairwise(flat, j, n, 3) == x[:, j].sum()


@needs_numba
def test_normals_are_numpys():
    """The compiled taste shocks are the numbers numpy's own method draws from the stream."""
    ours, theirs = np.random.default_rng(11), np.random.default_rng(11)
    x = np.empty(10_001)
    kernels.normals(ours, x)
    assert np.array_equal(x, theirs.standard_normal(x.size))
    kernels.normals(ours, x[:7])  # the stream goes on where it was
    assert np.array_equal(x[:7], theirs.standard_normal(7))


@needs_numba
def test_switching_in_the_adoption_pass_is_the_numpy_paths():
    """Switches made in the compiled adoption pass (one rival per provider) are the numpy
    path's, on days with many of them."""
    sets = {"adoption.quit_rate": 0.05, "adoption.switch_propensity": 0.8}
    numpy_path, compiled = (outcome(c, "mixed", sets, []) for c in (False, True))
    assert compiled["series.switches"].sum() > 100
    for k in ("series.switches", "series.adoptions", "users.adopted", "users.adopted_day"):
        assert np.array_equal(numpy_path[k], compiled[k]), k


@needs_numba
def test_radix_sort_is_numpys():
    from sim.model.kernels.metrics import sort

    rng = np.random.default_rng(1)
    for x in (
        rng.normal(1.0, 0.3, 5000),
        rng.normal(0.0, 1e6, 777),
        np.repeat(rng.random(50), 40),
        np.full(300, 1.25),
        np.array([3.0]),
    ):
        out = np.empty_like(x)
        sort(x, out, np.empty(x.size, np.uint64), np.empty(x.size, np.uint64))
        assert np.array_equal(out, np.sort(x))


def test_per_user_gives_one_array_type():
    n = 7
    for x, rows in (
        (0.5, 1),
        ([1.0, 2.0], 1),
        (np.broadcast_to([1.0, 2.0], (n, 2)), 1),
        (np.ones((n, 2)), n),
    ):
        a = kernels.per_user(x, n)
        assert a.ndim == 2 and a.shape[0] == rows
        assert a.flags.c_contiguous and a.flags.writeable and a.dtype == np.float64
    assert kernels.per_user(np.broadcast_to(1.0, (n,)), n, 1).shape == (1,)


def test_sim_numba_0_selects_the_numpy_path():
    code = "import sim.model.kernels as k; print(k.AVAILABLE, k.enabled())"
    env = {**os.environ, "SIM_NUMBA": "0"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.split() == ["False", "False"]


@pytest.fixture
def threads():
    """Set the team's threads for a test; back to SIM_THREADS after it."""
    yield kernels.set_threads
    kernels.set_threads(None)


@needs_numba
@pytest.mark.parametrize("team", [1, 3])
def test_blocks_and_threads_change_nothing(monkeypatch, threads, team):
    """Kernels that work block by block give the same results whatever the block size and
    however many threads share the blocks."""
    case = CASES["interventions"]
    threads(1)
    whole = outcome(True, *case)
    monkeypatch.setattr(kernels, "BLOCK", 128)  # the least: numpy sums 128 values in one go
    assert len(kernels.blocks(400)) == 4
    threads(team)
    blocked = outcome(True, *case)
    differ = [k for k in whole if not np.array_equal(whole[k], blocked[k], equal_nan=True)]
    assert not differ, differ[:10]


@needs_numba
def test_each_block_draws_in_order_and_reports_errors(threads):
    threads(2)
    spans = kernels.blocks(1000, 128)
    order, seen = [], []

    def body(k, start, stop):
        seen.append(kernels.slot())
        return stop - start

    assert sum(kernels.each_block(spans, body, lambda k, a, b: order.append(k))) == 1000
    assert order == list(range(len(spans))) and set(seen) <= {0, 1}

    def broken(k, start, stop):
        if k == 3:
            raise RuntimeError("block 3")

    with pytest.raises(RuntimeError, match="block 3"):
        kernels.each_block(spans, broken, lambda k, a, b: None)
    assert kernels.each_block(spans, body) == [b - a for a, b in spans]  # the team still works


def test_sim_threads_must_be_a_whole_number(monkeypatch, threads):
    from sim.model.params import ParamError

    monkeypatch.setenv("SIM_THREADS", "two")
    threads(None)
    with pytest.raises(ParamError, match="SIM_THREADS must be a whole number"):
        kernels.threads()
    monkeypatch.setenv("SIM_THREADS", "2")
    threads(None)
    assert kernels.threads() == (2 if kernels.enabled() else 1)


def test_block_sums_are_numpys(monkeypatch):
    monkeypatch.setattr(kernels, "BLOCK", 200)
    rng = np.random.default_rng(2)
    for n in (1, 199, 200, 201, 1000, 4099):
        x = rng.normal(size=n)
        parts = [x[a:b].sum() for a, b in kernels.blocks(n)]
        assert [b - a for a, b in kernels.blocks(n)] and sum(
            b - a for a, b in kernels.blocks(n)
        ) == n
        assert kernels.tree_sum(parts, n) == x.sum()


def test_tie_strength_stays_the_same_at_both_ends():
    """The compiled socialising reads a friend's side of a tie from this end's strength."""
    m = EconomyModel(users=500, days=30, seed=3)
    m.run_model()
    net = m.network
    assert np.array_equal(net.strength, net.strength[net.reverse])


def test_worker_processes_share_the_cpus():
    one = kernels.sharing(1)
    assert one["initializer"] is kernels.set_threads and one["initargs"] == (kernels.cpus(),)
    assert kernels.sharing(2 * kernels.cpus())["initargs"] == (1,)  # never fewer than one
