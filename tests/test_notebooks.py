"""The analysis notebooks run top to bottom (nbmake), and each .ipynb matches its jupytext
py:percent source."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jupytext
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
SOURCES = sorted(NOTEBOOKS.glob("*.py"))


def test_there_are_three_paired_notebooks():
    assert [p.stem for p in SOURCES] == [
        "01_single_run",
        "02_compare_policies",
        "03_sensitivity_validation",
    ]
    for source in SOURCES:
        assert source.with_suffix(".ipynb").is_file(), f"{source.name} has no paired .ipynb"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_ipynb_and_py_hold_the_same_cells(source):
    py = jupytext.read(source)
    nb = jupytext.read(source.with_suffix(".ipynb"))
    assert [(c.cell_type, c.source.strip()) for c in py.cells] == [
        (c.cell_type, c.source.strip()) for c in nb.cells
    ], f"{source.name} and its .ipynb differ: run 'jupytext --sync {source}'"


def test_notebooks_run_top_to_bottom_with_nbmake(tmp_path):
    notebooks = [str(p.with_suffix(".ipynb")) for p in SOURCES]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbmake",
            "--nbmake-timeout=300",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            *notebooks,
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert f"{len(notebooks)} passed" in done.stdout
