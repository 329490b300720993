"""The analysis notebooks run top to bottom in a Jupyter kernel, each figure cell shows its
figure once as an image, and each .ipynb matches its jupytext py:percent source."""

from __future__ import annotations

import re
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


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """Every notebook run top to bottom in a Jupyter kernel (nbclient), outputs kept."""
    import nbformat
    from nbclient import NotebookClient

    out = {}
    for source in SOURCES:
        nb = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
        work = tmp_path_factory.mktemp(source.stem)
        NotebookClient(
            nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(work)}}
        ).execute()
        out[source.stem] = nb
    return out


def _figure_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and re.search(r"_figure\(", c.source)]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_each_figure_cell_shows_its_figure_once_as_an_image(source, executed):
    nb = executed[source.stem]
    cells = _figure_cells(nb)
    assert cells, f"{source.name} draws no figure"
    for cell in cells:
        images = [o for o in cell.outputs if "image/png" in o.get("data", {})]
        assert len(images) == 1, (
            f"{source.name}: the cell {cell.source.splitlines()[-1]!r} shows {len(images)} images"
        )
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            data = o.get("data", {})
            text = data.get("text/plain", "") if isinstance(data, dict) else ""
            assert not (str(text).startswith("<Figure size") and "image/png" not in data), (
                f"{source.name}: a figure printed as text instead of shown: {text}"
            )
