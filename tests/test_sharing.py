"""Results are made to be shared: run folders 0755 and their files 0644, validation.json and
scorecard.png 0644, under the usual umask 022 (not the 0700 and 0600 of temporary files)."""

from __future__ import annotations

import json
import os
import stat

import pytest
import report_shapes

from sim.cli import validate as cli_validate


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_run_folder_is_readable_by_others(tmp_path, sim, umask_022):
    code, _, err = sim("run", "--users", 50, "--days", 5, "--quiet", "--out", tmp_path / "r")
    assert code == 0, err
    assert _mode(tmp_path / "r") == 0o755
    for f in (tmp_path / "r").iterdir():
        assert _mode(f) == 0o644, f"{f.name} is {oct(_mode(f))}"


def test_the_validation_record_and_scorecard_are_readable_by_others(tmp_path, umask_022):
    record = json.loads(report_shapes.scorecard(tmp_path / "card.json").read_text())
    cli_validate.save(tmp_path / "v", record)
    assert _mode(tmp_path / "v") == 0o755
    assert _mode(tmp_path / "v" / "validation.json") == 0o644
    assert _mode(tmp_path / "v" / "scorecard.png") == 0o644


def test_a_tighter_umask_is_respected(tmp_path, sim):
    old = os.umask(0o077)
    try:
        code, _, err = sim("run", "--users", 50, "--days", 5, "--quiet", "--out", tmp_path / "r")
    finally:
        os.umask(old)
    assert code == 0, err
    assert _mode(tmp_path / "r") == 0o700 and _mode(tmp_path / "r" / "summary.json") == 0o600
