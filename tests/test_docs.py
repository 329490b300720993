"""docs/ODD.md and README.md: their generated tables match the code and the stored results."""

import importlib.util
import json
from pathlib import Path

from sim.evidence.validation import MECHANISMS

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("tables", ROOT / "docs" / "tables.py")
tables = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tables)


def test_the_parameter_table_of_the_odd_is_the_parameter_tree():
    text = (ROOT / "docs" / "ODD.md").read_text()
    assert tables.replace_between(text, "PARAMETER TABLE", tables.params_table()) == text


def test_the_schedule_table_of_the_odd_is_the_models_schedule():
    text = (ROOT / "docs" / "ODD.md").read_text()
    assert tables.replace_between(text, "SCHEDULE TABLE", tables.schedule_table()) == text
    from sim.model.schedule import SCHEDULE

    assert all(f"`{s.name}`" in text for s in SCHEDULE)


def test_the_breakeven_table_of_the_odd_is_the_parameter_tree():
    """ODD 7.8's break-even table is what docs/tables.py computes from the defaults."""
    text = (ROOT / "docs" / "ODD.md").read_text()
    assert tables.replace_between(text, "BREAKEVEN TABLE", tables.breakeven_table()) == text


def test_the_ablation_table_marks_what_changes_when_a_mechanism_is_off(tmp_path):
    def write(name, statuses):
        rows = [
            {"study": f"study{i}_x", "finding": f"finding {i}", "status": s}
            for i, s in enumerate(statuses)
        ]
        (tmp_path / name).mkdir()
        (tmp_path / name / "validation.json").write_text(json.dumps({"scorecard": rows}))

    write("all_on", ["pass", "miss", "not modelled"])
    for m in MECHANISMS:
        write(
            m,
            ["miss", "miss", "not modelled"] if m == "habit" else ["pass", "miss", "not modelled"],
        )
    table = tables.ablation_table(tmp_path)
    habit = 1 + list(MECHANISMS).index("habit") + 1  # cell index after the finding and "all on"
    first = table.splitlines()[2].strip("|").split("|")
    assert first[0].strip() == "finding 0 (study0)" and first[1].strip() == "pass"
    assert first[habit].strip() == "**miss**"
    assert {c.strip() for i, c in enumerate(first[2:], 2) if i != habit} == {"·"}
    assert "passed: all on 1; two selves off 1, habit off 0" in table


def test_the_calibration_table_of_the_odd_is_the_record():
    text = (ROOT / "docs" / "ODD.md").read_text()
    record = json.loads((ROOT / "docs" / "calibration.json").read_text())
    assert (
        tables.replace_between(text, "CALIBRATION TABLE", tables.calibration_table(record)) == text
    )


def test_the_readme_performance_tables_are_the_stored_benchmark(tmp_path):
    """README's benchmark tables are benchmarks/bench.py's table of results/bench.json."""
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import bench
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    readme = tmp_path / "README.md"
    readme.write_text((ROOT / "README.md").read_text())
    bench.write_readme(
        json.loads((ROOT / "benchmarks" / "results" / "bench.json").read_text()), readme
    )
    assert readme.read_text() == (ROOT / "README.md").read_text()
