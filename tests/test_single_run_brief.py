"""A briefing of one ``sim run`` tells the truth about it: the parameters it changed (however
they were set), its interventions and their arms, and no validation section it does not have."""

from __future__ import annotations

import re

import pytest
import report_shapes

CONFIG = """[run]
users = 120
days = 30

[[interventions]]
kind = "deactivate"
providers = "feed_a"
share = 0.5
start = 8
end = 22
"""


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    from sim.cli import main

    root = tmp_path_factory.mktemp("single")
    (root / "x.toml").write_text(CONFIG)
    args = ["run", "--config", str(root / "x.toml"), "--set", "companion.empathy=0.9"]
    with pytest.raises(SystemExit) as e:
        main([*args, "--quiet", "--out", str(root / "run")])
    assert e.value.code == 0
    return root / "run"


@pytest.fixture(scope="module")
def briefs(run_folder, tmp_path_factory):
    from sim.cli import main

    out = {}
    for ext in ("md", "html"):
        path = tmp_path_factory.mktemp("b") / f"brief.{ext}"
        with pytest.raises(SystemExit) as e:
            main(["brief", str(run_folder), "--out", str(path)])
        assert e.value.code == 0
        out[ext] = path.read_text()
    return out


@pytest.mark.parametrize("ext", ["md", "html"])
def test_the_overrides_are_reported_not_called_defaults(briefs, ext):
    text = " ".join(re.sub(r"<[^>]+>", " ", briefs[ext]).replace("\\", "").split())
    assert "companion.empathy = 0.9 (default 0.8)" in text
    assert "run.users = 120" in text and "run.days = 30" in text
    assert "overrides: none" not in text
    assert "defaults unless" not in text and "Every parameter is the model's default" not in text


@pytest.mark.parametrize("ext", ["md", "html"])
def test_the_intervention_and_its_arms_are_reported(briefs, ext):
    text = " ".join(re.sub(r"<[^>]+>", " ", briefs[ext]).replace("\\", "").split())
    assert "deactivate: treated users cannot use the targeted providers" in text
    assert "targets feed_a; 50% of users treated, the rest the control arm; days 8 to 21" in text
    assert "Interventions and their arms" in text
    assert re.search(r"deactivate \|? ?time on feeds and companions \(min per user-day\)", text)
    assert "While deactivate was in force (days 8 to 21)" in text  # a key finding
    assert "one run" in text  # no interval is claimed from a single run


@pytest.mark.parametrize("ext", ["md", "html"])
def test_no_validation_section_is_promised_when_there_is_none(briefs, ext):
    text = briefs[ext]
    assert "scored against published evidence below" not in text
    assert "shown below" not in text
    assert "No validation scorecard accompanies these results" in text


def test_with_a_scorecard_the_briefing_points_to_it(run_folder, tmp_path):
    from sim.report import brief

    card = report_shapes.scorecard(tmp_path / "validation.json")
    md = brief.write(run_folder, tmp_path / "b.md", validation=card).read_text()
    assert "How the model compares with published evidence is shown below." in md
    assert "| Study | Passed | Too uncertain | Missed |" in md


def test_an_untouched_run_says_every_parameter_is_the_default(tmp_path):
    import sim
    from sim.report import brief

    sim.run(users=60, days=10, seed=1).save(tmp_path / "run")
    md = brief.write(tmp_path / "run", tmp_path / "b.md").read_text()
    assert "run.users = 60 (default 10000)" in md and "run.days = 10 (default 1825)" in md
    assert "## Interventions" not in md and "Interventions: none" in md
