"""Regenerate the generated tables of docs/ODD.md from the code and from stored results.

    python docs/tables.py schedule           # section 3: the day's steps (sim.model.schedule)
    python docs/tables.py params             # section 8: every parameter (sim.model.params.describe)
    python docs/tables.py calibration        # section 10: the fit behind the shipped defaults
                                             # (docs/calibration.json)
    python docs/tables.py ablation DIR       # section 10: DIR/all_on/validation.json and
                                             # DIR/<mechanism>/validation.json, as written by
                                             # `make ablation` (sim validate --ablate M --out DIR/M)

Each table sits between a BEGIN and an END marker in docs/ODD.md; only that text is replaced.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from sim.evidence.calibration import FREE
from sim.evidence.validation import MECHANISMS
from sim.model.params import describe
from sim.model.schedule import SCHEDULE

ODD = Path(__file__).with_name("ODD.md")
SHORT = {"network_effects": "network eff.", "two_selves": "two selves"}
STATUS = {"pass": "pass", "miss": "miss", "not modelled": "n/m"}


def replace_between(text: str, name: str, table: str) -> str:
    begin = next(line for line in text.splitlines() if line.startswith(f"<!-- BEGIN {name}"))
    end = f"<!-- END {name} -->"
    i, k = text.index(begin) + len(begin) + 1, text.index(end)
    return text[:i] + "\n" + table + "\n" + text[k:]


def params_table() -> str:
    def cell(value) -> str:
        text = str(value).lower() if isinstance(value, bool) else str(value)
        return text.replace("|", "\\|").replace("\n", " ")

    rows = ["| parameter | default | unit | allowed | meaning |", "| --- | --- | --- | --- | --- |"]
    for r in describe():
        cells = [f"`{r['path']}`", r["default"], r["unit"], r["allowed"], r["meaning"]]
        rows.append("| " + " | ".join(cell(c) for c in cells) + " |")
    return "\n".join(rows) + "\n"


def schedule_table() -> str:
    """The day's steps in order, from :data:`sim.model.schedule.SCHEDULE`."""
    rows = [
        "| # | step | what it does | implemented in | switch | ODD |",
        "|---|---|---|---|---|---|",
    ]
    for k, s in enumerate(SCHEDULE, 1):
        module = s.run.__module__
        path = module.replace(".", "/") + ".py"
        where = f"[{path}](../{path}) `{s.run.__name__}`"
        switch = f"`mechanisms.{s.switch}`" if s.switch else "always"
        rows.append(f"| {k} | `{s.name}` | {s.does} | {where} | {switch} | {s.odd} |")
    return "\n".join(rows) + "\n"


def calibration_table(record: dict) -> str:
    """The fit on record, with each parameter's literature value (``sim.evidence.calibration.FREE``)."""
    literature = {f.path: f.literature for f in FREE}
    rows = [
        "| parameter | literature value | start of this fit | bounds | fitted (shipped) | moved from the literature | findings it mainly moves |",
        "|---|---:|---:|---|---:|---:|---|",
    ]
    for f in record["free"]:
        lit = literature[f["path"]]
        rows.append(
            f"| `{f['path']}` | {lit:.4g} | {f['prior']:.4g} | [{f['low']:g}, {f['high']:g}] | "
            f"{f['fitted']:.4g} | {f['fitted'] - lit:+.3g} | {f['why']} |"
        )
    return "\n".join(rows) + "\n"


def ablation_table(folder: Path) -> str:
    def card(name: str) -> list[dict]:
        return json.loads((folder / name / "validation.json").read_text())["scorecard"]

    def passed(rows: list[dict]) -> int:
        return sum(r["status"] == "pass" for r in rows)

    base = card("all_on")
    off = {m: card(m) for m in MECHANISMS}
    for m, rows in off.items():
        if [r["finding"] for r in rows] != [r["finding"] for r in base]:
            raise SystemExit(f"{folder / m} scores other findings than {folder / 'all_on'}")
    names = {m: SHORT.get(m, m.replace("_", " ")) for m in MECHANISMS}
    header = ["finding (study)", "all on", *names.values()]
    rows = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for i, r in enumerate(base):
        cells = [f"{r['finding']} ({r['study'].split('_')[0]})", STATUS[r["status"]]]
        for m in MECHANISMS:
            status = off[m][i]["status"]
            cells.append("·" if status == r["status"] else f"**{STATUS[status]}**")
        rows.append("| " + " | ".join(cells) + " |")
    counts = ", ".join(f"{names[m]} off {passed(off[m])}" for m in MECHANISMS)
    return "\n".join(rows) + f"\n\npassed: all on {passed(base)}; {counts}\n"


def main(argv: list[str]) -> None:
    text = ODD.read_text()
    if argv[:1] == ["schedule"]:
        text = replace_between(text, "SCHEDULE TABLE", schedule_table())
    elif argv[:1] == ["params"]:
        text = replace_between(text, "PARAMETER TABLE", params_table())
    elif argv[:1] == ["calibration"]:
        record = json.loads(ODD.with_name("calibration.json").read_text())
        text = replace_between(text, "CALIBRATION TABLE", calibration_table(record))
    elif argv[:1] == ["ablation"] and len(argv) == 2:
        text = replace_between(text, "ABLATION TABLE", ablation_table(Path(argv[1])))
    else:
        sys.exit(__doc__)
    ODD.write_text(text)


if __name__ == "__main__":
    main(sys.argv[1:])
