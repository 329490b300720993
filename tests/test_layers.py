"""The package's layers: each imports only from the layers below it (README "Where everything
lives"): model, then sweeps, evidence, report, and the cli on top."""

import ast
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parents[1] / "sim"
LAYERS = ["model", "sweeps", "evidence", "report", "cli"]


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sim"):
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("sim"))
    return names


@pytest.mark.parametrize("layer", LAYERS)
def test_a_layer_imports_only_from_layers_below_it(layer):
    above = LAYERS[LAYERS.index(layer) + 1 :]
    for path in sorted((SIM / layer).rglob("*.py")):
        for name in imported(path):
            parts = name.split(".")
            assert not (len(parts) > 1 and parts[1] in above), (
                f"{path.relative_to(SIM.parent)} imports {name} from a layer above {layer}"
            )
