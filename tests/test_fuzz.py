"""Issue 16's fuzz matrix: bad input to every command ends with exit code 2, one line on stderr
(``error: ...``), no traceback and nothing written; hypothesis adds generated ``--set`` values
and experiment files. Each case runs ``sim`` in this process (no model run: bad input stops
before any work)."""

from __future__ import annotations

import io
import os
import signal
import textwrap
import traceback
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

HANG_SECONDS = 60  # bad input is refused at once; a case still running is a hang
GOOD = 'name = "ok"\ndescription = "d"\nusers = 50\ndays = 5\nscenario = "attention_economy"\n'
# experiment files: name -> body after the GOOD header (each is bad)
BAD_EXPERIMENTS = {
    "replications_huge": "replications = 1000000000",
    "replications_zero": "replications = 0",
    "replications_text": 'replications = "3"',
    "seeds_empty": "seeds = []",
    "seeds_negative": "seeds = [-1]",
    "seeds_twice": "seeds = [1, 1]",
    "users_zero": "",  # replaced below
    "unknown_key": "colour = 1",
    "grid_empty": '[grid]\n"companion.empathy" = []',
    "grid_not_list": '[grid]\n"companion.empathy" = 0.5',
    "grid_twice": '[grid]\n"companion.empathy" = [0.5, 0.5]',
    "grid_unknown": '[grid]\n"companion.nope" = [1.0]',
    "grid_out_of_range": '[grid]\n"companion.empathy" = [5.0]',
    "grid_policy_bad": '[grid]\npolicy = ["greed"]',
    "sobol_huge": '[sample]\nmethod = "sobol"\nn = 1099511627776\n[sample.ranges]\n"choice.heard_value" = [1.0, 5.0]',
    "sobol_not_power": '[sample]\nmethod = "sobol"\nn = 3\n[sample.ranges]\n"choice.heard_value" = [1.0, 5.0]',
    "latin_huge": '[sample]\nmethod = "latin"\nn = 100000000000\n[sample.ranges]\n"choice.heard_value" = [1.0, 5.0]',
    "latin_float": '[sample]\nmethod = "latin"\nn = 1e11\n[sample.ranges]\n"choice.heard_value" = [1.0, 5.0]',
    "range_reversed": '[sample]\nmethod = "latin"\nn = 4\n[sample.ranges]\n"choice.heard_value" = [5.0, 1.0]',
    "range_bool": '[sample]\nmethod = "latin"\nn = 4\n[sample.ranges]\n"mechanisms.habit" = [0, 1]',
    "cluster_huge": '[[interventions]]\nkind = "deactivate"\ncluster_size = 1000000000000',
    "cluster_float": '[[interventions]]\nkind = "deactivate"\ncluster_size = 1e12',
    "iv_start_bool": '[[interventions]]\nkind = "deactivate"\nstart = true',
    "iv_share_bool": '[[interventions]]\nkind = "deactivate"\nshare = true',
    "iv_value_text": '[[interventions]]\nkind = "cap_minutes"\nvalue = "ten"',
    "iv_name_int": '[[interventions]]\nkind = "deactivate"\nname = 5',
    "iv_name_list": '[[interventions]]\nkind = "deactivate"\nname = ["a"]',
    "iv_same_name": '[[interventions]]\nkind = "deactivate"\n[[interventions]]\nkind = "deactivate"',
    "iv_kind_list": '[[interventions]]\nkind = ["deactivate"]',
    "iv_unknown_provider": '[[interventions]]\nkind = "deactivate"\nproviders = "companion_a"',
    "iv_not_table": "interventions = [1]",
    "iv_end_before_start": '[[interventions]]\nkind = "deactivate"\nstart = 3\nend = 2',
    "iv_groups_huge": '[[interventions]]\nkind = "deactivate"\ngroups = 100000000000',
    "case_label_newline": '[[cases]]\nlabel = "a\\nb"',
    "case_label_twice": '[[cases]]\nlabel = "a"\n[[cases]]\nlabel = "a"',
    "case_unknown_key": '[[cases]]\nlabel = "a"\ncolour = 1',
    "base_policy_with_grid": '[base]\n"market.feed_policy" = "attention"\n[grid]\npolicy = ["attention", "wellbeing"]',
    "record_every_zero": "[record]\nevery = 0",
    "not_toml": "= = =",
}


def experiment_file(tmp: Path, key: str) -> Path:
    body = BAD_EXPERIMENTS[key]
    text = GOOD + body + "\n"
    if key == "users_zero":
        text = text.replace("users = 50", "users = 0")
    path = tmp / f"{key}.toml"
    path.write_text(text)
    return path


def _cases():
    """(id, args, env) of bad input; {tmp}, {exp}, {file}, {fifo}, {res} are filled in."""
    run = ["run", "--users", "50", "--days", "5"]
    cases = [
        ("run-users-zero", ["run", "--users", "0", "--out", "{tmp}/r"], {}),
        ("run-users-huge", ["run", "--users", "100000000", "--out", "{tmp}/r"], {}),
        ("run-days-text", ["run", "--days", "x", "--out", "{tmp}/r"], {}),
        ("run-seed-negative", ["run", "--seed", "-1", "--out", "{tmp}/r"], {}),
        ("run-scenario", [*run, "--scenario", "nope", "--out", "{tmp}/r"], {}),
        ("run-policy", [*run, "--policy", "greed", "--out", "{tmp}/r"], {}),
        ("run-set-no-equals", [*run, "--set", "companion.empathy", "--out", "{tmp}/r"], {}),
        ("run-set-unknown", [*run, "--set", "companion.nope=1", "--out", "{tmp}/r"], {}),
        ("run-set-range", [*run, "--set", "companion.empathy=9", "--out", "{tmp}/r"], {}),
        ("run-set-type", [*run, "--set", "companion.empathy=[1]", "--out", "{tmp}/r"], {}),
        ("run-set-extra", [*run, "--set", "companion.empathy=0.5\nx=1", "--out", "{tmp}/r"], {}),
        ("run-set-section", [*run, "--set", "companion=1", "--out", "{tmp}/r"], {}),
        ("run-config-missing", [*run, "--config", "{tmp}/none.toml", "--out", "{tmp}/r"], {}),
        ("run-config-folder", [*run, "--config", "{tmp}", "--out", "{tmp}/r"], {}),
        ("run-config-fifo", [*run, "--config", "{fifo}", "--out", "{tmp}/r"], {}),
        ("run-config-bad", [*run, "--config", "{exp:not_toml}", "--out", "{tmp}/r"], {}),
        ("run-config-iv", [*run, "--config", "{cfg}", "--out", "{tmp}/r"], {}),
        ("run-out-empty", [*run, "--out", ""], {}),
        ("run-out-dot", [*run, "--out", "."], {}),
        ("run-out-file", [*run, "--out", "{file}"], {}),
        ("run-out-under-file", [*run, "--out", "{file}/r"], {}),
        ("run-out-foreign", [*run, "--out", "{res}"], {}),
        ("run-threads-super", [*run, "--out", "{tmp}/r"], {"SIM_THREADS": "²"}),
        ("run-threads-huge", [*run, "--out", "{tmp}/r"], {"SIM_THREADS": "100000"}),
        ("run-threads-zero", [*run, "--out", "{tmp}/r"], {"SIM_THREADS": "0"}),
        ("run-unknown-option", [*run, "--colour", "red", "--out", "{tmp}/r"], {}),
        ("sweep-missing", ["sweep", "{tmp}/none.toml", "--out", "{tmp}/s"], {}),
        ("sweep-name-unknown", ["sweep", "no_such_experiment", "--out", "{tmp}/s"], {}),
        ("sweep-fifo", ["sweep", "{fifo}", "--out", "{tmp}/s"], {}),
        ("sweep-workers-zero", ["sweep", "headline", "--workers", "0", "--out", "{tmp}/s"], {}),
        ("sweep-reps-huge", ["sweep", "headline", "--replications", "1000000000", "--dry-run"], {}),
        ("sweep-reps-zero", ["sweep", "headline", "--replications", "0", "--dry-run"], {}),
        (
            "sweep-set-policy",
            ["sweep", "headline", "--set", "market.feed_policy=attention", "--dry-run"],
            {},
        ),
        ("sweep-set-feeds", ["sweep", "headline", "--set", "market.feeds=1", "--dry-run"], {}),
        ("sweep-set-seed", ["sweep", "headline", "--set", "run.seed=3", "--dry-run"], {}),
        ("sweep-set-extra", ["sweep", "headline", "--set", "run.users=60\nx=1", "--dry-run"], {}),
        ("sweep-out-empty", ["sweep", "headline", "--out", ""], {}),
        ("sweep-out-file", ["sweep", "headline", "--out", "{file}"], {}),
        ("sweep-out-under-file", ["sweep", "headline", "--out", "{file}/s"], {}),
        ("sweep-out-nonempty", ["sweep", "headline", "--out", "{res}"], {}),
        ("sweep-resume-none", ["sweep", "headline", "--out", "{tmp}/s", "--resume"], {}),
        ("sweep-resume-other", ["sweep", "headline", "--out", "{res}", "--resume"], {}),
        ("sweep-no-out", ["sweep", "headline"], {}),
        ("experiments-dir-missing", ["experiments", "--dir", "{tmp}/none"], {}),
        ("plot-missing", ["plot", "{tmp}/none"], {}),
        ("plot-format", ["plot", "{res}", "--format", "gif", "--out", "{tmp}/f"], {}),
        ("plot-out-file", ["plot", "{res}", "--out", "{file}"], {}),
        (
            "plot-validation-missing",
            ["plot", "{res}", "--validation", "{tmp}/v.json", "--out", "{tmp}/f"],
            {},
        ),
        (
            "plot-validation-bad",
            ["plot", "{res}", "--validation", "{file}", "--out", "{tmp}/f"],
            {},
        ),
        ("plot-not-results", ["plot", "{tmp}/empty"], {}),
        ("brief-ext", ["brief", "{res}", "--out", "{tmp}/b.docx"], {}),
        ("brief-out-folder", ["brief", "{res}", "--out", "{tmp}/empty.md"], {}),
        ("brief-out-under-file", ["brief", "{res}", "--out", "{file}/b.md"], {}),
        ("brief-missing", ["brief", "{tmp}/none", "--out", "{tmp}/new/b.md"], {}),
        (
            "brief-validation-bad",
            ["brief", "{res}", "--validation", "{file}", "--out", "{tmp}/new/b.md"],
            {},
        ),
        ("compare-missing", ["compare", "{tmp}/none"], {}),
        ("compare-not-run", ["compare", "{tmp}/empty"], {}),
        ("validate-ablate", ["validate", "--quick", "--ablate", "nope", "--out", "{tmp}/v"], {}),
        ("validate-study", ["validate", "--quick", "--study", "nope", "--out", "{tmp}/v"], {}),
        ("validate-out-file", ["validate", "--quick", "--out", "{file}"], {}),
        ("validate-out-under-file", ["validate", "--quick", "--out", "{file}/v"], {}),
        (
            "validate-config-fifo",
            ["validate", "--quick", "--config", "{fifo}", "--out", "{tmp}/v"],
            {},
        ),
        (
            "validate-set",
            ["validate", "--quick", "--set", "companion.nope=1", "--out", "{tmp}/v"],
            {},
        ),
        ("validate-workers", ["validate", "--quick", "--workers", "0", "--out", "{tmp}/v"], {}),
        ("calibrate-out-under-file", ["calibrate", "--out", "{file}/c"], {}),
        ("calibrate-evaluations", ["calibrate", "--max-evaluations", "1", "--out", "{tmp}/c"], {}),
        ("unknown-command", ["frobnicate"], {}),
    ]
    for key in BAD_EXPERIMENTS:
        cases.append((f"sweep-file-{key}", ["sweep", f"{{exp:{key}}}", "--out", "{tmp}/s"], {}))
    return cases


CASES = _cases()


def prepare(tmp: Path) -> dict[str, str]:
    """The files the cases point at; a fake results folder that holds an unrelated file."""
    (tmp / "file").write_text("not a folder\n")
    (tmp / "empty").mkdir()
    (tmp / "empty.md").mkdir()
    os.mkfifo(tmp / "fifo")
    res = tmp / "res"
    res.mkdir()
    (res / "manifest.json").write_text('{"experiment": {"name": "other", "hash": "x"}}')
    (res / "notes.txt").write_text("mine")
    (tmp / "cfg.toml").write_text('[[interventions]]\nkind = "deactivate"\nshare = true\n')
    for key in BAD_EXPERIMENTS:
        experiment_file(tmp, key)
    return {
        "tmp": str(tmp),
        "file": str(tmp / "file"),
        "fifo": str(tmp / "fifo"),
        "res": str(res),
        "cfg": str(tmp / "cfg.toml"),
    }


def fill(arg: str, where: dict[str, str]) -> str:
    if arg.startswith("{exp:"):
        return str(Path(where["tmp"]) / f"{arg[5:-1]}.toml")
    return arg.format(**where)


def snapshot(tmp: Path) -> dict[str, int]:
    return {str(p.relative_to(tmp)): p.stat().st_size for p in tmp.rglob("*") if not p.is_fifo()}


def call(args: list[str], env: dict[str, str]) -> tuple[object, str, str]:
    """Run ``sim`` in this process: (exit code or the exception that escaped, stdout, stderr)."""
    from sim import cli
    from sim.model import compiled

    out, err = io.StringIO(), io.StringIO()
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    compiled.THREADS = None  # SIM_THREADS is read again

    def hang(*_):
        raise TimeoutError(f"sim {' '.join(args)} still running after {HANG_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(HANG_SECONDS)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            cli.main(args)
        code: object = 0
    except SystemExit as e:
        code = e.code
    except BaseException as e:  # noqa: BLE001 - a traceback the user would see
        code = e
        err.write("Traceback\n" + "".join(traceback.format_exception(e)))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        compiled.THREADS = None
    return code, out.getvalue(), err.getvalue()


def classify(code, err: str, wrote: bool) -> str:
    """clean: exit 2, one line, nothing written; else traceback, accepted or written."""
    if not isinstance(code, int) or "Traceback" in err:
        return "traceback"
    if code != 2:
        return "accepted"
    if wrote:
        return "written"
    lines = err.strip().splitlines()
    return "clean" if len(lines) == 1 and lines[0].startswith("error: ") else "traceback"


@pytest.fixture(scope="module")
def where(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    return tmp, prepare(tmp)


@pytest.mark.parametrize("name, args, env", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_writes_nothing(where, monkeypatch, name, args, env):
    tmp, paths = where
    monkeypatch.chdir(tmp / "empty")
    before = snapshot(tmp)
    code, _, err = call([fill(a, paths) for a in args], env)
    verdict = classify(code, err, snapshot(tmp) != before)
    assert verdict == "clean", f"{name}: {verdict}, exit {code!r}: {err[-600:]}"


# -- generated input ----------------------------------------------------------------------------
PATHS = [
    "companion.empathy",
    "run.users",
    "market.feeds",
    "choice.heard_value",
    "mechanisms.habit",
    "market.feed_policy",
    "nope.x",
    "companion",
]
values = st.one_of(
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(
        [
            "true",
            "false",
            '"x"',
            "[1, 2]",
            "{a = 1}",
            "1979-05-27",
            "nan",
            "inf",
            "",
            "= =",
            "0.5\nx = 1",
            '"""',
            "'",
            "0x10",
        ]
    ),
    st.text(max_size=12),
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(path=st.sampled_from(PATHS), value=values)
def test_generated_set_values_are_refused_cleanly_or_accepted(where, path, value):
    tmp, paths = where
    exp = Path(paths["tmp"]) / "generated.toml"
    exp.write_text(GOOD)
    before = snapshot(tmp)
    code, out, err = call(["sweep", str(exp), "--dry-run", "--set", f"{path}={value}"], {})
    assert snapshot(tmp) == before
    if code == 0:
        assert "runs = " in out
    else:
        assert classify(code, err, False) == "clean", err[-600:]


toml_values = st.one_of(  # no valid design of 2,000 to 1,000,000 runs: its listing is long
    st.integers(-(10**13), 2000),
    st.integers(10**6 + 1, 10**13),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.text(max_size=8),
    st.lists(st.integers(-3, 3), max_size=3),
)


def toml_literal(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.encode("unicode_escape").decode().replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(map(str, v)) + "]"
    return repr(v)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    key=st.sampled_from(
        [
            "replications",
            "base_seed",
            "users",
            "days",
            "[sample] n",
            "[[interventions]] start",
            "[[interventions]] share",
            "[[interventions]] name",
            "[[interventions]] cluster_size",
            "[[interventions]] value",
            "[record] every",
            "[grid] companion.empathy",
            "[[cases]] label",
        ]
    ),
    value=toml_values,
)
def test_generated_experiment_files_are_refused_cleanly_or_accepted(where, key, value):
    tmp, _ = where
    section, _, name = key.rpartition(" ")
    lit = toml_literal(value)
    extra = {
        "": f"{name} = {lit}\n",
        "[sample]": f'[sample]\nmethod = "latin"\n{name} = {lit}\n[sample.ranges]\n"choice.heard_value" = [1.0, 5.0]\n',
        "[[interventions]]": f'[[interventions]]\nkind = "cap_minutes"\nvalue = 10\n{name} = {lit}\n'.replace(
            "value = 10\nvalue", "value"
        ),
        "[record]": f"[record]\n{name} = {lit}\n",
        "[grid]": f'[grid]\n"{name}" = {lit}\n',
        "[[cases]]": f"[[cases]]\n{name} = {lit}\n",
    }[section]
    text = GOOD.replace(f"{name} = 50\n", "").replace(f"{name} = 5\n", "") + textwrap.dedent(extra)
    path = Path(tmp) / "gen.toml"
    path.write_text(text)
    before = snapshot(tmp)
    code, out, err = call(["sweep", str(path), "--dry-run"], {})
    assert snapshot(tmp) == before
    if code != 0:
        assert classify(code, err, False) == "clean", err[-600:]
