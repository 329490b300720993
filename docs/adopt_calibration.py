"""Make a calibration's fitted values the shipped defaults.

    python docs/adopt_calibration.py results/calibration/calibration.json

Copies the record to docs/calibration.json and rewrites, in sim/model/params.py, the default of each
fitted parameter to its fitted value rounded to four significant digits (the first number of
its ``param(...)``), marking it ``# calibrated``. Regenerate the ODD's parameter and break-even
tables after (``python docs/tables.py params``, ``python docs/tables.py breakeven``); tests
check that defaults, record and tables agree.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

from sim.model.params import Params

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "sim" / "model" / "params.py"
RECORD = ROOT / "docs" / "calibration.json"


def rounded(value: float) -> float:
    return float(f"{value:.4g}")


def set_default(text: str, path: str, value: float) -> str:
    """``text`` of params.py with the default of ``section.name`` replaced by ``value``."""
    section, _, name = path.partition(".")
    start = text.index(f"class {type(getattr(Params(), section)).__name__}:")
    field = re.compile(rf"^    {name}: \w+ = param\((\s*#[^\n]*)?\s*", re.M).search(text, start)
    if field is None:
        raise SystemExit(f"no parameter {path} in {PARAMS}")
    number = re.compile(r"-?\d+(\.\d*)?(e-?\d+)?").match(text, field.end())
    following = re.compile(r"^    \w+: ", re.M).search(text, field.end())
    call = text[field.start() : following.start() if following else len(text)]
    mark = "" if "calibrated" in call else "  # calibrated"
    text = text[: number.start()] + repr(value) + text[number.end() :]
    if mark:
        line_end = text.index("\n", field.start())
        text = text[:line_end] + mark + text[line_end:]
    return text


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        sys.exit(__doc__)
    record = json.loads(Path(argv[0]).read_text())
    text = PARAMS.read_text()
    for f in record["free"]:
        text = set_default(text, f["path"], rounded(f["fitted"]))
    PARAMS.write_text(text)
    if Path(argv[0]).resolve() != RECORD:
        shutil.copyfile(argv[0], RECORD)
    print(f"defaults of {len(record['free'])} parameters set from {argv[0]}")


if __name__ == "__main__":
    main(sys.argv[1:])
