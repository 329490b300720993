"""sim calibrate: the loss, a tiny end-to-end fit, and the shipped defaults being the fit."""

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from sim.evidence import calibration as cal
from sim.evidence import validation as v
from sim.model.params import Params


def row(estimate, target, low, high, note=""):
    return {
        "estimate": estimate,
        "target": target,
        "band_low": low,
        "band_high": high,
        "kind": "direction" if v.one_sided((low, high)) else "band",
        "note": note,
    }


def test_loss_counts_point_targets_in_units_of_their_band():
    rows = [
        row(1.0, 0.0, -1.0, 1.0),  # at the band's edge: 1
        row(0.0, 0.0, -2.0, 2.0),  # on target: 0
        row(5.0, 0.0, 1.0, 1e9),  # a sign test: left out
        row(None, 1.0, 0.0, 2.0),  # not modelled: left out
        row(9.0, 10.0, 4.0, 20.0, note="an input set from data"),  # an input: left out
    ]
    assert len(cal.targets(rows)) == 2
    assert cal.loss(rows) == pytest.approx((2 * (2**0.5 - 1) + 0) / 2)


def test_either_edge_of_a_lopsided_band_is_at_distance_one():
    assert cal.distance(row(50.0, 100.0, 50.0, 200.0)) == pytest.approx(-1.0)
    assert cal.distance(row(200.0, 100.0, 50.0, 200.0)) == pytest.approx(1.0)
    assert cal.distance(row(40.0, 100.0, 50.0, 200.0)) < -1.0  # outside, below


def test_loss_is_squared_near_the_target_and_linear_far_from_it():
    near, far = row(0.01, 0.0, -1.0, 1.0), row(100.0, 0.0, -1.0, 1.0)
    assert cal.loss([near]) == pytest.approx(0.01**2, rel=1e-3)
    assert cal.loss([far]) == pytest.approx(2 * 100 - 2, rel=1e-3)


def test_fewer_free_parameters_than_targets_and_bounds_inside_ranges():
    from sim.model.params import Params, describe

    ranges = {r["path"]: r["allowed"] for r in describe()}
    defaults = Params().flat()
    point_targets = [
        f
        for s in v.load_studies()
        for f in s.findings
        if f.estimator not in ("not_modelled", "parameter")
        and abs(f.band[0]) < 1e8
        and abs(f.band[1]) < 1e8
    ]
    assert len(cal.FREE) < len(point_targets)
    for f in cal.FREE:
        assert f.path in ranges and f.low < f.high
        assert f.low <= defaults[f.path] <= f.high, f.path


def test_a_two_evaluation_fit_returns_a_complete_record():
    with ThreadPoolExecutor(2) as pool:
        record = cal.calibrate(
            pool, free=cal.FREE[:2], max_evaluations=2, studies=["defreitas2024_loneliness"]
        )
    assert record["evaluations"] >= 2
    assert record["replications"] == {"defreitas2024_loneliness": cal.REPLICATIONS}
    assert record["loss_fitted"] <= record["loss_at_prior"]
    assert [f["path"] for f in record["free"]] == [f.path for f in cal.FREE[:2]]
    assert all(f["low"] <= f["fitted"] <= f["high"] for f in record["free"])


def test_the_shipped_defaults_are_the_fitted_set_on_record():
    record = json.loads((Path(__file__).resolve().parents[1] / "docs/calibration.json").read_text())
    defaults = Params().flat()
    assert sorted(f["path"] for f in record["free"]) == sorted(f.path for f in cal.FREE)
    for f in record["free"]:
        assert defaults[f["path"]] == pytest.approx(f["fitted"], rel=1e-3), f["path"]
        assert f["low"] <= f["fitted"] <= f["high"]
    assert record["loss_fitted"] <= record["loss_at_prior"]


def test_the_first_simplex_stays_inside_the_bounds():
    start = [0.0, 0.3, 0.5, 0.9, 1.0]
    simplex = cal.first_simplex(np.array(start))
    assert simplex.shape == (6, 5)
    assert (simplex >= 0).all() and (simplex <= 1).all()
    assert (simplex[0] == start).all()
    assert all(abs(simplex[i + 1] - simplex[0]).max() == pytest.approx(cal.STEP) for i in range(5))
