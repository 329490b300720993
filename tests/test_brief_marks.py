"""Significance marks in every briefing format, checked against a design whose answer is known:
a placebo case (a cap of 1,440 minutes a day, which binds nobody, so every run is identical to
its baseline seed) must read as no clear effect, and a real cap of 5 minutes a day as a clear
effect, in the HTML, in the PDF's text (pdftotext) and in the Markdown."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime

import pytest
from report_shapes import swept
from test_brief import poppler  # noqa: F401 - the fixture that installs pdftotext

from sim.report import analysis as an
from sim.report import brief

NOW = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
PLACEBO = """name = "placebo_tiny"
description = "A placebo identical to the baseline, and a real cap on minutes"
users = 80
days = 20
replications = 3
base_seed = 1
[[cases]]
label = "baseline"
[[cases]]
label = "placebo"
interventions = [{ kind = "cap_minutes", providers = "all", value = 1440, start = 0 }]
[[cases]]
label = "cap"
interventions = [{ kind = "cap_minutes", providers = "all", value = 5, start = 0 }]
[record]
every = 5
"""


@pytest.fixture(scope="module")
def placebo(tmp_path_factory):
    root = tmp_path_factory.mktemp("placebo")
    (root / "placebo.toml").write_text(PLACEBO)
    return swept(root / "placebo.toml", root / "out")


def test_the_placebo_is_a_known_null_and_the_cap_a_known_effect(placebo):
    runs = an.load(placebo).runs
    comp = an.compare(runs, "case", "baseline").dropna(subset=["difference"])
    placebo_rows = comp[comp["level"] == "placebo"]
    assert (placebo_rows["difference"] == 0).all() and not placebo_rows["clear"].any()
    cap = comp[(comp["level"] == "cap") & (comp["metric"] == "minutes_per_user_day")].iloc[0]
    assert cap["clear"] and cap["ci_high"] < 0


def _cells(html: str, option: str) -> list[tuple[str, str]]:
    row = re.search(
        rf'<tr class="option">\s*<td class="option">{option}</td>(.*?)</tr>', html, re.S
    )
    assert row, f"no row for {option} in the options table"
    return re.findall(r'<td class="(\w+)">(.*?)</td>', row.group(1), re.S)


def test_html_marks_the_placebo_as_no_clear_effect_and_the_cap_as_clear(placebo, tmp_path):
    html = brief.write(placebo, tmp_path / "b.html", now=NOW).read_text()
    placebo_cells = [c for c in _cells(html, "placebo") if "n/a" not in c[1]]
    assert len(placebo_cells) == 3  # minutes, wellbeing, revenue (retention needs 90 days)
    for kind, text in placebo_cells:
        assert kind == "unclear" and "no clear effect" in text
    cap = _cells(html, "cap")
    assert cap[0][0] == "clear" and "no clear effect" not in cap[0][1]
    assert sum(kind == "clear" for kind, _ in cap) == 3
    start = html.index('<section class="findings">')
    section = html[start : html.index("</section>", start)]
    findings = re.findall(r"<li( class=\"unclear\")?>(.*?)</li>", section)
    assert findings
    for unclear, text in findings:  # a finding is grey exactly when it says no clear effect
        assert bool(unclear) == ("no clear effect" in text)


def test_markdown_marks_the_placebo_as_no_clear_effect(placebo, tmp_path):
    md = brief.write(placebo, tmp_path / "b.md", now=NOW).read_text()
    placebo_row = next(line for line in md.splitlines() if line.startswith("| placebo |"))
    cap_row = next(line for line in md.splitlines() if line.startswith("| cap |"))
    assert placebo_row.count("*(no clear effect)*") == 3
    assert "no clear effect" not in cap_row


def test_pdf_text_marks_the_placebo_as_no_clear_effect(placebo, tmp_path, poppler):  # noqa: F811
    pdf = brief.write(placebo, tmp_path / "b.pdf", now=NOW)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    table = text[text.index("Policy options compared") :]
    lines = table.splitlines()
    at = {
        name: next(i for i, line in enumerate(lines) if line.strip().startswith(name))
        for name in ("baseline (baseline)", "placebo", "cap")
    }
    assert at["baseline (baseline)"] < at["placebo"] < at["cap"]
    placebo_block = "\n".join(lines[at["placebo"] : at["cap"]])
    cap_block = "\n".join(lines[at["cap"] : at["cap"] + 2])
    assert placebo_block.count("no clear effect") == 3
    assert "no clear effect" not in cap_block
