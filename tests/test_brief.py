"""sim.report.brief and ``sim brief``: findings worded from the numbers, escaping, and the PDF rendered
to pages that hold the figures (pdftoppm from poppler-utils, installed here when missing)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
import report_shapes
from PIL import Image

from sim.cli import main
from sim.report import analysis as an
from sim.report import brief, findings

NOW = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def poppler():
    """pdftoppm and pdftotext; installed with apt-get (CI runs as root on a fresh machine)."""
    if shutil.which("pdftoppm") is None:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "--no-install-recommends", "poppler-utils"]
        try:
            if subprocess.run(install, capture_output=True, env=env).returncode != 0:
                subprocess.run(["apt-get", "update"], capture_output=True, env=env)
                subprocess.run(install, capture_output=True, env=env)
        except OSError:
            pass
    if shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None:
        pytest.fail(
            "pdftoppm and pdftotext (Debian package poppler-utils) are needed to check the PDF "
            "briefing and could not be installed: run 'apt-get install -y poppler-utils' as root"
        )


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.getbasetemp() / "report_shapes"


def _row(**kw) -> pd.Series:
    base = {
        "scenario": "mixed",
        "factor": "policy",
        "baseline": "attention",
        "level": "wellbeing",
        "metric": "wellbeing_mean",
        "n": 10,
        "baseline_mean": 1.3,
        "treatment_mean": 1.51,
        "difference": 0.21,
        "sd": 0.03,
        "ci_low": 0.19,
        "ci_high": 0.23,
        "effect_size": 7.0,
        "relative": 0.21 / 1.3,
        "clear": True,
    }
    return pd.Series({**base, **kw})


def test_a_clear_difference_reads_as_an_effect_with_its_interval():
    text = findings.sentence(_row(), ["scenario"])
    assert text == (
        "In the mixed market, mean wellbeing is 0.21 points on the 0-2 wellbeing score (16%) higher under the wellbeing-aligned "
        "policy than under the attention-maximizing policy (95% CI 0.19 to 0.23 higher; 10 paired seeds)."
    )
    lower = findings.sentence(
        _row(
            metric="revenue_per_user_day",
            difference=-0.31,
            ci_low=-0.33,
            ci_high=-0.29,
            baseline_mean=0.4,
            relative=-0.78,
        ),
        ["scenario"],
    )
    assert "$0.31 per user per day (78%) lower" in lower and "(95% CI 0.29 to 0.33 lower" in lower
    share = findings.sentence(
        _row(
            metric="retention_90d",
            difference=0.071,
            ci_low=0.039,
            ci_high=0.103,
            baseline_mean=0.71,
        ),
        [],
    )
    assert (
        share.startswith("90-day retention is 7 percentage points")
        and "95% CI 4 to 10 higher" in share
    )


def test_an_interval_that_crosses_zero_is_never_reported_as_an_effect():
    row = _row(
        level="intimacy",
        difference=-3.4,
        ci_low=-19.0,
        ci_high=12.2,
        metric="minutes_per_user_day",
        clear=False,
        effect_size=-0.5,
    )
    text = findings.sentence(row, ["scenario"])
    assert text.startswith(
        "In the mixed market, the intimacy-maximizing policy has no clear effect on time on "
        "feeds and companions relative to the attention-maximizing policy: the difference is"
    )
    assert "includes zero" in text and " higher " not in text and " lower " not in text
    assert "-3 minutes per user per day (95% CI -19 to 12" in text


def test_findings_are_ranked_by_size_in_their_own_units_within_each_family():
    rows = [
        # a small difference with a huge standardised size (a tiny spread) ...
        _row(
            metric="wellbeing_mean", difference=0.02, ci_low=0.019, ci_high=0.021, effect_size=40.0
        ),
        # ... ranks below a larger difference in the same units with a smaller one
        _row(
            metric="wellbeing_mean",
            scenario="feeds",
            difference=0.3,
            ci_low=0.25,
            ci_high=0.35,
            effect_size=2.0,
        ),
        _row(
            metric="revenue_per_user_day",
            effect_size=-9.0,
            difference=-0.3,
            ci_low=-0.33,
            ci_high=-0.27,
            baseline_mean=0.4,
        ),
        _row(
            metric="minutes_per_user_day",
            effect_size=0.4,
            clear=False,
            difference=2.0,
            ci_low=-1.0,
            ci_high=5.0,
            baseline_mean=70,
        ),
        _row(
            metric="minutes_per_user_day",
            scenario="feeds",
            effect_size=3.0,
            difference=-12.0,
            ci_low=-15.0,
            ci_high=-9.0,
            baseline_mean=70,
        ),
    ]
    out = findings.key_findings(pd.DataFrame(rows), ["scenario"])
    # the largest clear difference of each family in the families' order, then the next largest
    assert [(f["metric"], f["clear"]) for f in out] == [
        ("minutes_per_user_day", True),
        ("wellbeing_mean", True),
        ("revenue_per_user_day", True),
        ("wellbeing_mean", True),
    ]
    assert "0.30 points" in out[1]["text"] and "In the feeds" in out[1]["text"]
    few = findings.key_findings(pd.DataFrame(rows[3:4] + rows[2:3]), ["scenario"])
    assert [f["clear"] for f in few] == [True, False]  # unclear ones only fill up to three


@pytest.fixture(scope="module")
def headline(root):
    folder = report_shapes.results("headline", root)
    return folder, report_shapes.scorecard(root / "headline_validation.json")


def test_the_briefing_numbers_come_from_the_results(headline, tmp_path):
    folder, card = headline
    out = brief.write(folder, tmp_path / "b.html", validation=card, now=NOW)
    html = out.read_text()
    res = an.load(folder)
    comp = an.compare(res.runs, "policy", "attention", within=["scenario"])
    expected = findings.key_findings(comp, ["scenario"])
    assert 3 <= len(expected) <= 5
    for f in expected:
        assert f["text"].replace("'", "&#39;") in html
    section = html[html.index('<section class="findings">') :]
    for sentence in re.findall(r"<li(?: class=\"unclear\")?>(.*?)</li>", section)[: len(expected)]:
        assert ("no clear effect" in sentence) == ("includes zero" in sentence)
    assert (
        "02 January 2026" in html and "Provenance" in html and res.manifest["git_sha"][:12] in html
    )
    assert (
        html.count("data:image/svg+xml;base64,") >= 4
    )  # comparison, trade-off, time series, scorecard
    assert "<strong>1</strong>" in html  # the scorecard's passes, not its findings in band
    assert "for 1 more the estimate falls inside the band but the interval is too wide" in html
    assert "<th>Too uncertain</th>" in html and "Tactics raise perceived manipulation" in html


def test_user_text_is_escaped_in_html_and_markdown(root, tmp_path):
    folder = report_shapes.results("cases", root)
    html = brief.write(
        folder, tmp_path / "b.html", title="<i>Rules</i> & more", now=NOW
    ).read_text()
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>ad" not in html and "&lt;b&gt;ad tax&lt;/b&gt;" in html
    assert "<i>Rules</i>" not in html and "&lt;i&gt;Rules&lt;/i&gt; &amp; more" in html
    md = brief.write(folder, tmp_path / "b.md", now=NOW).read_text()
    assert "<script>" not in md and "&lt;b&gt;ad tax&lt;/b&gt;" in md and r"\*stars\*" in md
    figures = sorted(p.name for p in (tmp_path / "b_figures").iterdir())
    assert "comparison.svg" in figures and all(f"b_figures/{n}" in md for n in figures)


def test_the_pdf_renders_to_pages_that_hold_the_figures(headline, tmp_path, poppler):
    folder, card = headline
    pdf = brief.write(folder, tmp_path / "brief.pdf", validation=card, now=NOW)
    assert pdf.read_bytes()[:5] == b"%PDF-"
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    # two to four pages of findings, figures and tables, and about three more of page one's
    # answers, the claims table and the answers under each provider objective
    assert 4 <= len(pages) <= 8
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for title in (
        "What each option changes",
        "Wellbeing against revenue",
        "Day by day",
        "The model against published evidence",
    ):
        assert title in text  # each figure's own title, drawn as vector text from its SVG
    # the figures' colours: the wellbeing-aligned policy and a pass (green), a miss (red) and a
    # finding too uncertain (amber)
    colours = np.array([[0x2A, 0x9D, 0x55], [0xC8, 0x37, 0x2D], [0xE0, 0x8A, 0x00]])

    def figure_pixels(page) -> int:
        rgb = np.asarray(Image.open(page).convert("RGB"), int)
        near = np.abs(rgb[:, :, None, :] - colours[None, None]).sum(axis=3) < 60
        return int(near.any(axis=2).sum())

    coloured = [figure_pixels(p) for p in pages]
    assert sum(c > 50 for c in coloured) >= 2, f"figure colours per page: {coloured}"


def test_sim_brief_command_and_bad_input(headline, tmp_path, capsys):
    folder, card = headline
    with pytest.raises(SystemExit) as e:
        main(
            ["brief", str(folder), "--out", str(tmp_path / "x" / "b.md"), "--validation", str(card)]
        )
    assert e.value.code == 0 and (tmp_path / "x" / "b.md").is_file()
    for args, needle in (
        (["brief", str(folder), "--out", str(tmp_path / "b.txt")], "extension"),
        (["brief", str(tmp_path / "none"), "--out", str(tmp_path / "b.html")], "does not exist"),
        (
            [
                "brief",
                str(folder),
                "--out",
                str(tmp_path / "b.html"),
                "--validation",
                str(tmp_path / "v.json"),
            ],
            "--validation",
        ),
    ):
        with pytest.raises(SystemExit) as e:
            main(args)
        err = capsys.readouterr().err
        assert e.value.code == 2 and needle in err and err.count("\n") == 1
    assert not (tmp_path / "b.txt").exists() and not (tmp_path / "b.html").exists()
