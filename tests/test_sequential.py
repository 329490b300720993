"""The group-sequential boundaries a lever's accumulated evidence is judged at
(sim.model.sequential, ODD 7.9): by simulation of the pooled z of tests of equal information,
a side crosses at each judgement with the probability spent on it and over all of them at most
at the side's rate; the first threshold is the one-look normal quantile and later ones are
below the Bonferroni thresholds, which take the correlated looks as unrelated."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from sim.model import sequential

RATE = 0.2  # large, so that each judgement's share is measurable by simulation
JUDGEMENTS = 10


def crossings(rate: float, paths: int, seed: int = 0) -> np.ndarray:
    """The share of ``paths`` of null pooled z's that first cross at each judgement."""
    rng = np.random.default_rng(seed)
    score, look = np.zeros(paths), 0
    alive = np.ones(paths, bool)
    shares = []
    for j in range(1, JUDGEMENTS + 1):
        now = sequential.look_of(j)
        score += rng.standard_normal(paths) * math.sqrt(now - look)
        look = now
        crossed = alive & (score / math.sqrt(now) >= sequential.boundary(rate, j))
        shares.append(crossed.mean())
        alive &= ~crossed
    return np.array(shares)


def test_each_judgement_spends_its_share_of_the_rate_and_no_more():
    paths = 400_000
    shares = crossings(RATE, paths)
    spent = np.array([RATE / (j * (j + 1)) for j in range(1, JUDGEMENTS + 1)])
    se = np.sqrt(spent * (1 - spent) / paths)
    assert np.all(np.abs(shares - spent) < 4 * se), (shares, spent)
    assert shares.sum() <= RATE


def test_the_first_threshold_is_one_looks_and_later_ones_are_below_bonferronis():
    for rate in (0.003125, 0.025):
        assert sequential.boundary(rate, 1) == pytest.approx(norm.isf(rate / 2), rel=1e-9)
        c = [sequential.boundary(rate, j) for j in range(1, 20)]
        bonferroni = [norm.isf(rate / (j * (j + 1))) for j in range(1, 20)]
        assert all(a < b for a, b in zip(c[1:], c[2:], strict=False)), "thresholds rise"
        gap = [b - a for a, b in zip(c, bonferroni, strict=True)]
        assert all(g > 0 for g in gap[1:]) and gap[-1] > gap[4] > gap[1]
    assert sequential.boundary(0.01, 0) == math.inf  # between judgements nothing is judged


def test_judgements_and_their_looks_are_inverse():
    looks = [k for k in range(1, 200) if sequential.judgement(k)]
    assert looks == [sequential.look_of(j) for j in range(1, len(looks) + 1)]
    assert looks[:6] == [1, 2, 4, 8, 12, 16]
