"""sim validate: study files, estimators, the scorecard and the command."""

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from sim.evidence import validation as v
from sim.model.params import ParamError

# every published finding the studies score, by study file
EXPECTED_FINDINGS = {
    "allcott2020_deactivation": 7,
    "allcott2022_digital_addiction": 6,
    "kleinberg2024_moreishness": 3,
    "defreitas2024_loneliness": 5,
    "defreitas2025_manipulation": 4,
    "market_scale": 6,
}


def test_every_published_finding_has_a_line():
    studies = {s.name: s for s in v.load_studies()}
    assert {name: len(s.findings) for name, s in studies.items()} == EXPECTED_FINDINGS
    for s in studies.values():
        assert s.citation and s.design
        for f in s.findings:
            assert f.band[0] < f.band[1]


def test_score_gives_mean_and_t_interval():
    study = v.load_studies(["market_scale"])[0]
    f = study.findings[0]
    row = v.score(study, f, [0.10, 0.12, 0.14])
    assert row["estimate"] == pytest.approx(0.12)
    half = 4.302652729911275 * 0.02 / np.sqrt(3)  # t(0.975, 2) * sd / sqrt(n)
    assert row["ci_low"] == pytest.approx(0.12 - half)
    assert row["status"] == "pass" and row["n_needed"] is None
    assert v.score(study, f, [0.5, 0.6])["status"] == "miss"
    assert v.score(study, f, [None, None])["status"] == "not modelled"


# -- the rule: an estimate inside the band is not enough (ODD 1.2) ----------------------------
STUDY = v.Study("s", "a test", "none", v.STUDIES_DIR, 10, 10, 4, 10, 2, 1, {}, [], [])
BAND = v.Finding("level", "series_mean", 1.0, (0.5, 1.5))  # half the band's width: 0.5
RISE = v.Finding("rise", "arm_effect", 0.0, (0.1, 1e9), kind="direction")
FALL = v.Finding("fall", "arm_effect", 0.0, (-1e9, -0.1), kind="direction")


def half_width(values):
    x = np.asarray(values)
    return v.stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size)


def test_a_direction_finding_whose_interval_crosses_zero_is_not_a_pass():
    values = [-0.2, 0.5, 0.6, 0.3]  # mean 0.3 is in the band; the interval reaches below zero
    row = v.score(STUDY, RISE, values)
    assert RISE.band[0] <= row["estimate"] and row["ci_low"] < 0 < row["ci_high"]
    assert row["status"] == "too uncertain"  # the old rule (mean inside the band) passed it
    assert row["n_needed"] > len(values)
    fall = v.score(STUDY, FALL, [-v_ for v_ in values])
    assert fall["status"] == "too uncertain" and fall["n_needed"] == row["n_needed"]


def test_a_direction_finding_passes_when_its_whole_interval_is_on_its_side_of_zero():
    row = v.score(STUDY, RISE, [0.28, 0.31, 0.30, 0.33])
    assert row["ci_low"] > 0 and row["status"] == "pass"
    assert v.score(STUDY, FALL, [-0.28, -0.31, -0.30, -0.33])["status"] == "pass"
    assert v.score(STUDY, FALL, [0.28, 0.31, 0.30, 0.33])["status"] == "miss"  # wrong sign
    assert v.score(STUDY, RISE, [0.04, 0.05, 0.06])["status"] == "miss"  # too small to count


def test_a_band_finding_with_an_interval_wider_than_the_band_is_not_a_pass():
    values = [0.4, 1.6, 1.2, 0.8]  # mean 1.0, the target itself
    row = v.score(STUDY, BAND, values)
    assert row["estimate"] == pytest.approx(1.0)
    assert row["ci_high"] - row["ci_low"] > BAND.band[1] - BAND.band[0]
    assert row["status"] == "too uncertain"  # the old rule passed it
    # the fewest replications with a narrow enough interval at the same spread
    n = row["n_needed"]
    sd = np.std(values, ddof=1)
    assert v.stats.t.ppf(0.975, n - 1) * sd / np.sqrt(n) < 0.5
    assert v.stats.t.ppf(0.975, n - 2) * sd / np.sqrt(n - 1) >= 0.5
    assert n <= len(values) * (half_width(values) / 0.5) ** 2  # t falls as n grows


def test_a_band_finding_inside_its_band_with_a_narrow_interval_passes():
    values = [0.9, 1.0, 1.1, 1.05]
    assert half_width(values) <= 0.5
    row = v.score(STUDY, BAND, values)
    assert row["status"] == "pass" and row["n_needed"] is None
    assert row["kind"] == "band"
    near_edge = v.score(STUDY, BAND, [1.40, 1.45, 1.50, 1.55])  # the rule is the width
    assert near_edge["ci_high"] > BAND.band[1] and near_edge["status"] == "pass"
    assert v.score(STUDY, BAND, [1.6, 1.7, 1.65, 1.62])["status"] == "miss"


def test_one_replication_is_too_uncertain_to_pass():
    row = v.score(STUDY, BAND, [1.0])
    assert row["status"] == "too uncertain" and row["n_needed"] is None
    assert v.score(STUDY, BAND, [1.0, 1.0])["status"] == "pass"  # no spread: an input


def test_sign_findings_in_the_study_files_are_direction_findings():
    for s in v.load_studies():
        for f in s.findings:
            assert (f.kind == "direction") == v.one_sided(f.band), (s.name, f.finding)


@pytest.mark.parametrize(
    "text, message",
    [
        ("[study]\nname='x'\nspeed=1\n", "unknown key 'speed'"),
        ("[studyy]\n", "unknown table"),
        ("[[findings]]\nfinding='x'\nestimator='guess'\ntarget=1\nband=[0,2]\n", "estimator"),
        ("[[interventions]]\nkind='teleport'\n", "unknown intervention kind"),
        ("[params.choice]\ntemperature=-1\n", "choice.temperature"),
        ("[[findings]]\nfinding='x'\nestimator='arm_effect'\ntarget=0\nband=[1,1e9]\n", "kind"),
        (
            "[[findings]]\nfinding='x'\nestimator='arm_effect'\nkind='direction'\n"
            "target=0\nband=[-1,1]\n",
            "direction finding",
        ),
        (
            "[[findings]]\nfinding='x'\nestimator='arm_effect'\nkind='sign'\ntarget=0\nband=[-1,1]\n",
            "kind must be",
        ),
        (
            "[[interventions]]\nkind='placebo'\nname='a'\nshare=0.5\n"
            "[[findings]]\nfinding='x'\nestimator='arms_did'\narm='a'\ntarget=0\nband=[-1,1]\n",
            "needs other_arm = the name of one of the study's interventions",
        ),
        (
            "[[findings]]\nfinding='x'\nestimator='arm_effect'\nscale=0\ntarget=0\nband=[-1,1]\n",
            "scale",
        ),
    ],
)
def test_bad_study_files_are_refused_with_what_is_wrong(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ParamError, match=message):
        v.load_study(path)


def test_unknown_study_and_mechanism_are_refused():
    with pytest.raises(ParamError, match="unknown study"):
        v.load_studies(["nope"])
    with pytest.raises(ParamError, match="--ablate"):
        v.run_studies([], ablate="gravity")


def test_validate_quick_runs_every_study_and_writes_the_scorecard(tmp_path):
    out = tmp_path / "val"
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "validate", "--quick", "--quiet", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    record = json.loads((out / "validation.json").read_text())
    assert record["findings"] == sum(EXPECTED_FINDINGS.values())
    statuses = {r["status"] for r in record["scorecard"]}
    assert statuses <= set(v.STATUSES)
    assert record["passed"] == sum(r["status"] == "pass" for r in record["scorecard"])
    assert record["too_uncertain"] == sum(
        r["status"] == "too uncertain" for r in record["scorecard"]
    )
    for r in record["scorecard"]:
        if r["status"] != "not modelled":
            assert r["ci_low"] <= r["estimate"] <= r["ci_high"]
            inside = r["band_low"] <= r["estimate"] <= r["band_high"]
            assert (r["status"] == "miss") == (not inside)
    assert (out / "scorecard.png").stat().st_size > 10_000
    assert record["git_sha"] is None or len(record["git_sha"]) == 40


@pytest.mark.parametrize(
    "args",
    [
        ["--ablate", "gravity"],
        ["--study", "nope"],
        ["--set", "companion.empathy=2"],
        ["--set", "companion.nope=1"],
        ["--set", "run.days=3"],
        ["--set", "novalue"],
        ["--config", "missing.toml"],
        ["--config", "INTERVENTIONS"],
    ],
)
def test_validate_bad_input_exits_2_with_one_line(tmp_path, args):
    if "INTERVENTIONS" in args:
        config = tmp_path / "c.toml"
        config.write_text('[[interventions]]\nkind = "lockdown"\n')
        args = ["--config", str(config)]
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "validate", "--quick", "--out", str(tmp_path / "v"), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("error:")
    assert not (tmp_path / "v").exists()


def test_overrides_reach_every_study_and_are_recorded_for_provenance(tmp_path):
    config = tmp_path / "fitted.toml"
    config.write_text("[social]\ncompanion_relief = 1.0\n")
    assert v.read_overrides(config, ["social.companion_need_minutes=5"]) == {
        "social.companion_relief": 1.0,
        "social.companion_need_minutes": 5,
    }
    studies = v.load_studies(["defreitas2024_loneliness"])
    with ThreadPoolExecutor(2) as pool:
        shipped = v.run_studies(studies, quick=True, executor=pool)
        stronger = v.run_studies(
            studies, quick=True, executor=pool, overrides=v.read_overrides(config)
        )
    session = {r["finding"]: r["estimate"] for r in shipped}
    relief = {r["finding"]: r["estimate"] for r in stronger}
    first = "A companion session lowers loneliness by about 20 points"
    assert relief[first] < session[first] < 0  # more relief per session, in points


# -- paired runs and willingness to accept ---------------------------------------------------
PAIRED_STUDY = """
[study]
name = "paired"
citation = "a test"
design = "deactivation of feed_a's users, paired with its placebo"
days = 18
quick_users = 300
quick_replications = 1

[[interventions]]
kind = "deactivate"
name = "off"
providers = "feed_a"
share = 0.5
sample = "users"
start = 8
end = 14

[[findings]]
finding = "willingness to accept"
estimator = "paired_median"
arm = "off"
metric = "valuation"
days = [8, 14]
counterfactual = { "interventions.off.kind" = "placebo" }
target = 10.0
band = [0.0, 100.0]
"""


def test_paired_runs_share_sample_and_arms_and_differ_only_from_the_start(tmp_path):
    path = tmp_path / "paired.toml"
    path.write_text(PAIRED_STUDY)
    study = v.load_study(path)
    f = study.findings[0]
    placebo = study.config(f.counterfactual)
    assert placebo["interventions"][0]["kind"] == "placebo"
    assert study.config()["interventions"][0]["kind"] == "deactivate"
    runs = [v._run_one(c, 300, study.days, 5, study.user_sums()) for c in (study.config(), placebo)]
    factual, counterfactual = runs
    treated = factual["treated"]["off"]
    assert np.array_equal(treated, counterfactual["treated"]["off"])
    assert 0 < treated.sum() < 300
    before = factual["timeseries"].iloc[:8].select_dtypes("number")
    assert before.equals(counterfactual["timeseries"][before.columns].iloc[:8])
    on_feed_a = "arm.off.treated.active"  # share of the treated who used feed_a today
    assert (factual["timeseries"][on_feed_a].iloc[8:14] == 0).all()
    assert (counterfactual["timeseries"][on_feed_a].iloc[8:14] > 0.5).all()
    assert v.paired_median(f, factual, counterfactual) > 0  # giving the feed up costs its users


def synthetic_run(treated, valuation_sum):
    key = v.UserSum("valuation", 8, 14)
    return {"treated": {"off": np.array(treated)}, "user_sums": {key: np.array(valuation_sum)}}


def test_paired_median_is_the_median_of_treated_users_differences():
    f = v.Finding(
        "wta", "paired_median", 10.0, (0.0, 100.0), arm="off", metric="valuation", days=(8, 14)
    )
    treated = [True, True, False, True, True]
    factual = synthetic_run(treated, [1.0, 2.0, 50.0, 3.0, 4.0])
    placebo = synthetic_run(treated, [11.0, 3.0, -50.0, 33.0, 5.0])
    assert v.paired_median(f, factual, placebo) == pytest.approx(5.5)  # of 10, 1, 30, 1
    with pytest.raises(ValueError, match="treat different users"):
        v.paired_median(f, factual, synthetic_run([True] * 5, [0.0] * 5))
    assert (
        v.paired_median(
            f, synthetic_run([False] * 5, [0.0] * 5), synthetic_run([False] * 5, [0.0] * 5)
        )
        is None
    )


@pytest.mark.parametrize(
    "change, message",
    [
        ('counterfactual = { "interventions.gone.kind" = "placebo" }', "no intervention 'gone'"),
        ('counterfactual = { "interventions.off.kind" = "nap" }', "unknown intervention kind"),
        ("", "needs a counterfactual"),
    ],
)
def test_bad_paired_findings_are_refused(tmp_path, change, message):
    path = tmp_path / "paired.toml"
    path.write_text(
        PAIRED_STUDY.replace('counterfactual = { "interventions.off.kind" = "placebo" }', change)
    )
    with pytest.raises(ParamError, match=message):
        v.load_study(path)


def test_the_deactivation_study_asks_for_willingness_to_accept_against_its_placebo():
    study = v.load_studies(["allcott2020_deactivation"])[0]
    wta = next(f for f in study.findings if f.estimator == "paired_median")
    assert (wta.metric, wta.days, wta.arm) == ("valuation", (120, 148), "deactivation")
    assert study.config(wta.counterfactual)["interventions"][0]["kind"] == "placebo"
    assert study.user_sums() == [v.UserSum("valuation", 120, 148)]


def test_the_scorecard_table_and_counts_say_too_uncertain_and_what_it_needs():
    from rich.console import Console

    from sim.cli import validate as cli

    rows = [
        v.score(STUDY, BAND, [0.9, 1.0, 1.1, 1.05]),
        v.score(STUDY, BAND, [0.4, 1.6, 1.2, 0.8]),
        v.score(STUDY, RISE, [-0.2, 0.5, 0.6, 0.3]),
    ]
    console = Console(width=200, record=True)
    console.print(cli.table(rows, None))
    text = console.export_text()
    need = rows[1]["n_needed"]
    assert f"too uncertain: {need} replications needed" in text
    assert "> 0.1, 95% CI above 0" in text
    record = {"passed": 1, "too_uncertain": 2, "findings": 3}
    assert cli._counts(record) == "1 of 3 findings pass (2 more in band but too uncertain)"


def test_arms_did_is_a_difference_in_differences_between_two_arms():
    import pandas as pd

    ts = pd.DataFrame(
        {
            "arm.lab.treated.loneliness": [0.5, 0.5, 0.3, 0.2],
            "arm.rest.treated.loneliness": [0.4, 0.4, 0.35, 0.3],
        }
    )
    f = v.Finding(
        "x",
        "arms_did",
        0.0,
        (-1.0, 1.0),
        arm="lab",
        other_arm="rest",
        metric="loneliness",
        days=(2, 4),
        reference_days=(0, 2),
    )
    # lab falls by 0.25 on average, rest by 0.075
    assert v.arms_did(f, {"timeseries": ts}) == pytest.approx(-0.175)


def test_the_loneliness_lab_study_runs_its_arms_through_prescribed_sessions():
    """De Freitas et al. 2024 as designed: five randomised arms of one assignment, each a
    prescription of 15 minutes a day, and every finding read between two of them."""
    study = v.load_studies(["defreitas2024_loneliness"])[0]
    arms = {x["name"]: x for x in study.interventions}
    assert set(arms) == {
        "companion_session",
        "friend_session",
        "feed_session",
        "control",
        "companion_week",
    }
    assert {x["kind"] for x in arms.values()} == {"prescribe"}
    assert sorted(x["group"] for x in arms.values()) == list(range(5))
    assert {(x["assignment"], x["groups"], x["value"]) for x in arms.values()} == {("lab", 5, 15.0)}
    options = {name: x["option"] for name, x in arms.items()}
    assert options == {
        "companion_session": "companion",
        "friend_session": "friend",
        "feed_session": "feed",
        "control": "offline",
        "companion_week": "companion",
    }
    for f in study.findings:
        assert f.estimator in v.BETWEEN_ARMS and f.other_arm == "control" and f.scale == 100.0
    # the arms split the users into disjoint groups of about a fifth each
    from sim.model import EconomyModel
    from sim.model.scenarios import resolve

    params, ivs = resolve(config=study.config(), users=1000, days=study.days)
    treated = np.array([users for _, users, _ in EconomyModel(params, ivs).intervention_arms])
    assert (treated.sum(axis=0) == 1).all() and (treated.sum(axis=1) > 150).all()


def test_the_lab_study_scores_arm_differences_from_a_run(tmp_path):
    """One small replication through the normal run path: every finding reads its arms."""
    study = v.load_studies(["defreitas2024_loneliness"])[0]
    small = v.Study(**{**study.__dict__, "quick_users": 500, "quick_replications": 2})
    with ThreadPoolExecutor(1) as pool:
        rows = v.run_studies([small], quick=True, executor=pool)
    by = {r["finding"]: r for r in rows}
    assert len(by) == 5
    for r in rows:
        assert r["status"] != "not modelled" and np.isfinite(r["estimate"])
    companion = by["A companion session lowers loneliness by about 20 points"]["estimate"]
    person = by["... about as much as talking to a person (-19 points)"]["estimate"]
    assert companion < 0.0 and person < 0.0  # both sessions relieve loneliness against control
