"""``sim run`` and ``sim compare`` print metrics by name with their units, shares in percent,
and say in words what the wellbeing score is."""

from __future__ import annotations

import json
import re

import pytest


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return tmp_path_factory.mktemp("readable")


def _row(out: str, name: str) -> str:
    return next(line for line in out.splitlines() if name in line)


def test_sim_run_prints_names_units_and_percent(sim, runs):
    code, out, err = sim("run", "--users", 80, "--days", 95, "--seed", 2, "--out", runs / "a")
    assert code == 0, err
    summary = json.loads((runs / "a" / "summary.json").read_text())
    assert "wellbeing_sd_units" not in out and "retention_90d" not in out  # no raw keys
    row = _row(out, "90-day retention")
    assert "% of spells" in row
    shown = float(re.findall(r"-?\d+\.?\d*", row.split("% of spells")[1])[0])
    assert shown == pytest.approx(
        summary["retention_90d"] * 100, rel=1e-3
    )  # percent, as in briefings
    assert "min per user-day" in _row(out, "time on feeds and companions")
    assert "$ per user-day" in _row(out, "provider revenue")
    assert "SDs of day-0" in _row(out, "change in wellbeing since day 0")
    assert "model units" not in out
    words = " ".join(out.split())
    assert "score from 0 (worst) to 2 (best), 1 neutral" in words


def test_sim_compare_prints_names_units_and_keys_with_all(sim, runs):
    for name, policy in (("b", "attention"), ("c", "wellbeing")):
        args = ("run", "--users", 60, "--days", 10, "--policy", policy, "-q", "--out", runs / name)
        assert sim(*args)[0] == 0
    code, out, _ = sim("compare", runs / "b", runs / "c")
    assert code == 0
    assert "score 0-2" in _row(out, "mean wellbeing") and "% of users" in out
    assert "minutes_per_user_day" not in out
    everything = sim("compare", "--all", runs / "b", runs / "c")[1]
    assert "min" in _row(everything, "  minutes_per_user_day ")  # keys, with units
    assert "%" in _row(everything, "retention_90d")
