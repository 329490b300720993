"""The model as a Mesa model: agents, stepping, batch runs, the network and market presets."""

from __future__ import annotations

import mesa
import numpy as np
import pytest

import sim
from sim.model import EconomyModel, metrics
from sim.model.params import ParamError, Params
from sim.model.providers import Companion, FeedPlatform

REPORTERS = ("minutes_per_user_day", "wellbeing_mean", "revenue_per_user_day", "mean_attachment")


def test_model_is_a_mesa_model_and_providers_are_its_agents():
    m = EconomyModel(users=200, days=5, seed=1)
    assert isinstance(m, mesa.Model)
    assert m.providers, "the default market has providers"
    for p in m.providers:
        assert isinstance(p, mesa.Agent)
        assert p in m.agents
        assert p.model is m
    assert len(m.agents) == len(m.providers)
    assert len({p.unique_id for p in m.providers}) == len(m.providers)
    assert [p.column for p in m.providers] == list(range(len(m.providers)))


def test_step_advances_steps_and_day_and_stops_after_the_last_day():
    days = 4
    m = EconomyModel(users=200, days=days, seed=1)
    assert m.steps == 0 and m.running
    for k in range(1, days + 1):
        m.step()
        assert m.steps == k
        assert m.day == k - 1
        assert m.running == (k < days)
    frame = metrics.frame(m)
    assert frame["day"].tolist() == list(range(days))
    assert not frame.isna().any().any()
    collected = m.datacollector.get_model_vars_dataframe()  # Mesa's collector is the one
    assert len(collected) == days
    assert list(frame.columns[1:]) == list(collected.columns)
    assert set(REPORTERS) <= set(collected.columns)
    assert isinstance(m.providers, mesa.agent.AgentSet)


def test_run_model_steps_through_every_day_and_reports_progress():
    seen = []
    m = EconomyModel(users=200, days=6, seed=2)
    m.run_model(seen.append)
    assert seen == list(range(6)) and m.steps == 6 and not m.running


def _batch(seeds):
    return mesa.batch_run(
        EconomyModel,
        parameters={"users": 200, "days": 10, "seed": seeds},
        iterations=1,
        max_steps=10,
        number_processes=1,
        display_progress=False,
    )


def _by_seed(rows):
    out = {}
    for row in rows:
        # the model collects once a day and not before day 0, so the last row is day index 9
        assert row["Step"] == 9 and row["days"] == 10
        out[row["seed"]] = tuple(row[k] for k in REPORTERS)
    return out


def test_model_runs_under_mesa_batch_run():
    rows = _batch([1, 2])
    assert len(rows) == 2
    first = _by_seed(rows)
    assert set(first) == {1, 2}
    for values in first.values():
        assert all(np.isfinite(v) for v in values)
    assert first[1] != first[2], "different seeds should give different results"
    again = _by_seed(_batch([2, 1]))
    assert again == first, "the same seed should repeat exactly"


def test_batch_run_matches_a_direct_run():
    rows = _batch([3])
    m = EconomyModel(users=200, days=10, seed=3)
    m.run_model()
    assert _by_seed(rows)[3] == tuple(m.latest[k] for k in REPORTERS)


@pytest.mark.parametrize(
    "users, degree, seed", [(200, 10, 1), (300, 4, 2), (10, 200, 3), (57, 7, 4)]
)
def test_network_reverse_index_pairs_each_tie_with_its_opposite(users, degree, seed):
    params, _ = sim.resolve(
        "mixed",
        users=users,
        days=15,
        seed=seed,
        sets={"network.mean_degree": degree, "network.rewiring": 0.3},
    )
    m = EconomyModel(params)
    net = m.network
    E = net.source.size
    assert E > 0 and E % 2 == 0
    assert np.array_equal(net.source[net.reverse], net.target)
    assert np.array_equal(net.target[net.reverse], net.source)
    assert np.array_equal(net.reverse[net.reverse], np.arange(E))
    assert (net.reverse != np.arange(E)).all()
    assert (net.source != net.target).all(), "no tie to oneself"
    pairs = set(zip(net.source.tolist(), net.target.tolist(), strict=True))
    assert len(pairs) == E, "no duplicate ties"
    assert (np.diff(net.source) >= 0).all(), "edges sorted by source"
    assert np.array_equal(net.degree, np.bincount(net.source, minlength=users))
    assert np.array_equal(net.strength, net.strength[net.reverse])
    for _ in range(15):
        m.step()
    assert np.array_equal(net.strength, net.strength[net.reverse]), "strength must stay symmetric"


def test_network_adjacency_is_symmetric_and_matches_the_edges():
    import scipy.sparse as sp

    m = EconomyModel(users=200, days=2, seed=5)
    net = m.network
    ones = np.ones(net.target.size)
    a = sp.csr_matrix((ones, net.target, net.indptr), shape=(200, 200))
    assert (a != a.T).nnz == 0
    assert np.array_equal(np.asarray(a.sum(axis=1)).ravel(), m.network.degree)


@pytest.mark.parametrize(
    "scenario, kinds",
    [
        ("mixed", {"feed", "companion"}),
        ("attention_economy", {"feed"}),
        ("intimacy_economy", {"companion"}),
    ],
)
def test_market_presets_have_the_expected_provider_kinds(scenario, kinds):
    m = EconomyModel(scenario=scenario, users=100, days=3, seed=1)
    assert {p.kind for p in m.providers} == kinds
    for p in m.providers:
        assert isinstance(p, FeedPlatform if p.kind == "feed" else Companion)
    assert np.array_equal(m.is_companion, [p.kind == "companion" for p in m.providers])
    assert len({p.name for p in m.providers}) == len(m.providers)
    market = m.params.market
    assert sum(p.kind == "feed" for p in m.providers) == market.feeds
    assert sum(p.kind == "companion" for p in m.providers) == market.companions
    m.step()
    assert m.users.minutes.shape == (100, len(m.providers))


def test_a_market_with_no_providers_is_refused():
    empty = {"market.feeds": 0, "market.companions": 0}
    params = Params()
    for path, value in {**empty, "run.users": 100, "run.days": 3}.items():
        params.set(path, value)
    with pytest.raises(ParamError, match="market"):
        EconomyModel(params)
    with pytest.raises(ParamError, match="market"):
        sim.run("mixed", users=100, days=3, set=empty)
    with pytest.raises(ParamError, match="market"):
        sim.run("attention_economy", users=100, days=3, set={"market.feeds": 0})


def test_a_model_built_from_params_refuses_what_resolve_refuses():
    """Cross-field rules (wellbeing weights on each side sum to at most 1) must hold however the
    parameters reach the model, not only through ``resolve``."""
    too_heavy = {"wellbeing": {"w_loneliness": 1.0, "w_ties": 1.0, "w_consumption": 1.0}}
    with pytest.raises(ParamError, match="wellbeing"):
        sim.resolve("mixed", users=100, days=3, config=too_heavy)
    params = Params()
    params.update({"run": {"users": 100, "days": 3}, **too_heavy})
    with pytest.raises(ParamError, match="wellbeing"):
        EconomyModel(params)


def test_loyalty_is_kept_by_provider_kind():
    """ODD 7.14: retention and churn over all spells and over the spells of each kind; a kind
    the market does not have has none (NaN, null in the summary), and the other kind's figures are the totals."""
    r = sim.run("mixed", users=300, days=150, seed=6)
    ts, s = r.timeseries, r.summary
    assert (ts["feed_quits"] + ts["companion_quits"] == ts["quits"]).all()
    assert ts["feed_quits"].sum() > 0 and ts["companion_quits"].sum() > 0
    window = ts.iloc[-r.params.run.summary_window :]
    users = window[["companion_a.users", "companion_b.users"]]  # shares of all users
    spells = users.sum(axis=1).sum() * r.params.run.users
    rate = window["companion_quits"].sum() / spells
    assert s["companion_monthly_churn"] == pytest.approx(1.0 - (1.0 - rate) ** 30)
    assert s["feed_monthly_churn"] != pytest.approx(s["companion_monthly_churn"])
    low, high = sorted((s["feed_retention_90d"], s["companion_retention_90d"]))
    assert low < s["retention_90d"] < high  # the whole is a mix of its kinds
    feeds = sim.run("attention_economy", users=200, days=100, seed=6).summary
    assert feeds["companion_monthly_churn"] is None and feeds["companion_retention_90d"] is None
    assert feeds["feed_monthly_churn"] == feeds["monthly_churn"]
    assert feeds["feed_retention_90d"] == feeds["retention_90d"]


def test_summary_of_a_run_past_ninety_days_is_complete_and_in_range():
    r = sim.run("mixed", users=200, days=100, seed=6)
    s = r.summary
    assert 0.0 <= s["retention_90d"] <= 1.0
    assert 0.0 <= s["monthly_churn"] <= 1.0
    assert 0.0 <= s["mean_tenure_days"] <= 100.0
    assert s["switching_rate"] >= 0.0
    for k, v in s.items():
        if isinstance(v, float):
            assert np.isfinite(v), k
    assert len(r.timeseries) == 100 and not r.timeseries.isna().any().any()


def test_params_and_scenario_together_are_refused():
    params, _ = sim.resolve("mixed", users=100, days=3)
    with pytest.raises(ParamError):
        EconomyModel(params, scenario="mixed")


def test_model_does_not_change_the_params_it_was_given():
    params, _ = sim.resolve("mixed", users=100, days=3, seed=1)
    before = params.to_dict()
    m = EconomyModel(params, users=150, days=4, seed=9, policy="wellbeing")
    m.run_model()
    assert params.to_dict() == before
    assert m.params.run.users == 150 and m.params.run.seed == 9
    assert {p.policy.name for p in m.providers} == {"wellbeing"}


def test_per_user_sums_add_each_users_state_over_their_window_only():
    """A requested per-user sum is the manual sum over its days of the user array (ODD 7.14)."""
    wanted = [metrics.UserSum("valuation", 3, 9), metrics.UserSum("welfare", 0, 12)]
    m = EconomyModel(users=150, days=12, seed=6, user_sums=wanted)
    by_hand = {s: np.zeros(150) for s in wanted}
    for day in range(12):
        m.step()
        for s in wanted:
            if s.start <= day < s.end:
                by_hand[s] += getattr(m.users, s.state)
    for s in wanted:
        assert np.allclose(m.user_sums[s], by_hand[s])
        assert np.abs(by_hand[s]).sum() > 0
    assert not np.allclose(m.user_sums[wanted[0]], m.user_sums[wanted[1]])
    assert EconomyModel(users=50, days=2, seed=1).user_sums == {}  # nothing kept unasked


@pytest.mark.parametrize(
    "request_, message",
    [
        (("minutes", 0, 2), "per-user state"),  # (N, P), not per user
        (("adopted_day", 0, 2), "per-user state"),
        (("welfare", 2, 2), "start < end"),
        (("welfare", 0, 6), "end <= 5"),
    ],
)
def test_a_per_user_sum_of_no_state_or_outside_the_run_is_refused(request_, message):
    with pytest.raises(ParamError, match=message):
        EconomyModel(users=50, days=5, seed=1, user_sums=[metrics.UserSum(*request_)])
