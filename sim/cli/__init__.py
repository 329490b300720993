"""The ``sim`` command line: run one simulation, list parameters and presets, compare runs,
run experiments (``sweep`` and ``experiments``, in :mod:`sim.cli.sweep`) and score the model
against published studies (``validate``, in :mod:`sim.cli.validate`).

Every command checks all of its input before doing any work. Bad input ends with exit code 2
and one line on stderr, ``error: <what is wrong and what is allowed>``, and nothing is written.
:func:`main` is the console entry point; it turns click's own usage errors into that same line
(``app`` is the bare typer application, for ``typer.testing.CliRunner`` and embedding).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from sim.cli import dashboard as cli_dashboard
from sim.cli import report as cli_report
from sim.cli import sweep as cli_sweep
from sim.cli import validate as cli_validate
from sim.model import compiled, settling
from sim.model.metrics import LOYALTY, SUMMARY_FROM_DAILY
from sim.model.params import POLICIES, ParamError, Params, RunParams, describe
from sim.model.paths import cut_short
from sim.model.scenarios import DEFAULT_SCENARIO, SCENARIOS, resolve_run
from sim.model.schedule import SCHEDULE
from sim.report import labels
from sim.sweeps import single as api
from sim.sweeps.checks import (
    check_environment,
    check_input_file,
    check_memory,
    check_sets,
    check_writable_dir,
)
from sim.sweeps.experiments import never_in_force
from sim.sweeps.sweep import Interrupted, WriteFailed

# metrics shown after `sim run` and by `sim compare`, grouped as in ODD 7.14
HEADLINE: dict[str, list[str]] = {
    "engagement": [
        "minutes_per_user_day",
        "feed_minutes_per_user_day",
        "companion_minutes_per_user_day",
        "active_share",
    ],
    "loyalty": ["retention_90d", "monthly_churn", "mean_attachment"],
    "wellbeing": ["wellbeing_mean", "wellbeing_sd_units", "loneliness_mean", "dependent_share"],
    "revenue": [
        "revenue_per_user_day",
        "ad_revenue_per_user_day",
        "subscription_revenue_per_user_day",
        "provider_profit_per_user_day",
    ],
}
# the rest of the summary, shown by `sim compare --all`; anything unlisted lands in "other"
MORE: dict[str, list[str]] = {
    "engagement": [
        "compulsive_minute_share",
        "companion_minutes_per_active_user",
        "feed_user_share",
        "companion_user_share",
    ],
    "loyalty": ["mean_tenure_days", "switching_rate", "subscriber_share"],
    "wellbeing": [
        "wellbeing_p10",
        "wellbeing_gini",
        "social_minutes_per_user_day",
        "tie_strength_mean",
    ],
    "revenue": [
        "commerce_revenue_per_user_day",
        "provider_cost_per_user_day",
        "ad_revenue_per_feed_user_day",
    ],
}
# printed under every metrics table: what the units mean, in words
CAPTION = (
    "Money and minutes per user per day, over all users; shares in percent. Wellbeing is a daily "
    "score from 0 (worst) to 2 (best), 1 neutral, made of loneliness, ties, the value of what was "
    "used, regret, ads and time taken from offline life (docs/ODD.md 7.7)."
)
PROGRESS_MIN_USER_DAYS = 2_000_000  # smaller runs finish too fast to need a progress bar
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

app = typer.Typer(
    name="sim",
    help="Agent-based model of the attention and intimacy economies.",
    epilog=(
        "Environment: SIM_THREADS=N runs each model on N threads, 1 to 256 (default: one per "
        "CPU; a sweep's worker processes share the CPUs), with the same results for any N. "
        "NUMBA_DISABLE_JIT=1 runs the model's compiled loops as plain Python, for debugging."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
stdout = Console(highlight=False)  # both resolve sys.stdout / sys.stderr when printing
stderr = Console(stderr=True, highlight=False)


def _run_help(name: str, text: str) -> str:
    meta = {f.name: f.metadata for f in dataclasses.fields(RunParams)}[name]
    default = getattr(RunParams, name)
    return f"{text}, {meta['lo']:,} to {meta['hi']:,} (run.{name}; default {default:,})"


@app.command()
def run(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            metavar="DIR",
            help="folder to write the run into; created if missing, an earlier run there is replaced",
        ),
    ],
    scenario: Annotated[
        str,
        typer.Option(
            metavar="NAME", help=f"market preset: {', '.join(SCENARIOS)} (see 'sim scenarios')"
        ),
    ] = DEFAULT_SCENARIO,
    policy: Annotated[
        str | None,
        typer.Option(
            metavar="POLICY",
            help=f"objective of every provider: {', '.join(POLICIES)}; "
            "default: feeds pursue attention, companions intimacy",
        ),
    ] = None,
    users: Annotated[int | None, typer.Option(help=_run_help("users", "number of users"))] = None,
    days: Annotated[int | None, typer.Option(help=_run_help("days", "simulated days"))] = None,
    seed: Annotated[int | None, typer.Option(help=_run_help("seed", "root random seed"))] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="TOML file of parameters, one table per section of 'sim params' "
            "(e.g. a companion table holding empathy = 0.6), interventions and parameter paths",
        ),
    ] = None,
    sets: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="PATH=VALUE",
            help="override one parameter, e.g. companion.empathy=0.6; repeatable; "
            "wins over --scenario, --policy and --config",
        ),
    ] = None,
    panel: Annotated[
        bool,
        typer.Option(
            "--panel",
            help="also write panel.parquet: the states of run.panel_users sampled users "
            "every run.panel_every days",
        ),
    ] = False,
    profile: Annotated[
        bool,
        typer.Option(
            "--profile", help="print seconds spent in each mechanism of the day's schedule"
        ),
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            help="no progress bar and no metrics table; print only the output folder "
            "(the warning about unsettled summaries still goes to stderr)",
        ),
    ] = False,
) -> None:
    """Run one simulation and save summary.json, params.json and timeseries.parquet in DIR.

    Parameters are resolved from the defaults, then --scenario, --policy, --config, --set and
    finally --users, --days and --seed. Everything is checked before the run starts, and
    whether its estimated memory fits this machine: bad input exits with code 2 and writes
    nothing. A warning on stderr names the headline metrics that still drift between the two
    halves of the summary window (summary.json: unsettled, drift; see 'sim settle').
    """
    with _bad_input():
        for name, value in (("users", users), ("days", days), ("seed", seed)):
            _check_run_option(name, value)
        if config is not None:
            check_input_file(config, "--config")
        check_sets(sets)
        params, ivs, paths = resolve_run(
            scenario, policy, config, sets, users=users, days=days, seed=seed
        )
        _check_out(out)
        check_memory(
            params.run.users, params.run.panel_users if panel else 0, params.network.mean_degree
        )
    if not quiet:
        for w in never_in_force([x.to_dict() for x in ivs], params.run.days):
            _echo_warning(w)
        for w in cut_short(paths, params.run.days):
            _echo_warning(w)
    show_bar = not quiet and params.run.users * params.run.days > PROGRESS_MIN_USER_DAYS
    with _bad_input(), _progress(params.run.days, show_bar) as tick:
        result = api.run(
            scenario,
            policy,
            users=users,
            days=days,
            seed=seed,
            config=config,
            set=sets,
            panel=panel,
            progress=tick,
        )
    try:
        result.save(out)
    except OSError as e:
        _fail(f"could not write {out}: {e.strerror or e}", code=1)
    if not quiet:
        s, window = result.summary, min(params.run.summary_window, params.run.days)
        table = _metrics_table([s], ["value"], title=_run_labels([s])[1])
        table.caption = (
            f"{s['users']:,} users x {s['days']:,} days; last {window} days averaged"
            + ("; 90-day retention needs 90+ days" if s.get("retention_90d") is None else "")
            + f". {CAPTION}"
        )
        stdout.print(table)
        for path in result.paths:
            stdout.print(f"follows a path: {path.describe()}", soft_wrap=True)
    if profile:
        stdout.print(_profile_table(result.step_seconds, params.run.days))
    warning = unsettled_warning(result.summary, params.run.summary_window, out)
    if warning:
        _echo_warning(warning)
    files = ", ".join(p.name for p in sorted(out.iterdir()))
    typer.echo(str(out) if quiet else f"saved to {out} ({files})")


@app.command("params")
def params_command(
    markdown: Annotated[
        bool,
        typer.Option("--markdown", help="print a Markdown table (the one in docs/ODD.md) instead"),
    ] = False,
) -> None:
    """List every parameter: path, default, unit, allowed values and meaning."""
    rows = [
        [
            f"`{r['path']}`" if markdown else r["path"],
            _fmt_default(r["default"]),
            r["unit"],
            r["allowed"],
            r["meaning"],
        ]
        for r in describe()
    ]
    header = ["parameter", "default", "unit", "allowed", "meaning"]
    if markdown:
        cell = lambda text: str(text).replace("|", "\\|").replace("\n", " ")  # noqa: E731
        lines = [header, ["---"] * len(header), *rows]
        typer.echo("\n".join("| " + " | ".join(cell(c) for c in line) + " |" for line in lines))
        return
    table = Table(
        *header,
        title="Parameters (set with --set PATH=VALUE or a --config file)",
        box=box.SIMPLE_HEAD,
    )
    table.columns[0].no_wrap = True
    for row in rows:
        table.add_row(*map(escape, row))
    stdout.print(table)


@app.command()
def scenarios() -> None:
    """List the market presets accepted by 'sim run --scenario'."""
    table = Table("scenario", "description", "sets", title="Market presets")
    for name, (description, overrides) in SCENARIOS.items():
        sets = ", ".join(f"{s}.{k}={v}" for s, kv in overrides.items() for k, v in kv.items())
        label = name + (" (default)" if name == DEFAULT_SCENARIO else "")
        table.add_row(label, escape(description), escape(sets))
    stdout.print(table)
    stdout.print(f"Provider objectives for --policy: {', '.join(POLICIES)}.")


@app.command()
def compare(
    runs: Annotated[
        list[Path], typer.Argument(metavar="DIR", help="run folders written by 'sim run'")
    ],
    all_metrics: Annotated[
        bool,
        typer.Option(
            "--all",
            help="show every summary metric by its key in summary.json, not only the headline ones",
        ),
    ] = False,
) -> None:
    """Show the summary metrics of several runs side by side, one column per run."""
    with _bad_input():
        summaries = [_read_summary(d) for d in runs]
    labels, shared = _run_labels(summaries)
    if "" in labels or len(set(labels)) < len(labels):  # alike in policy, scenario and seed
        labels = [d.name or str(d) for d in runs]
    table = _metrics_table(summaries, labels, title=shared, everything=all_metrics)
    table.caption = CAPTION
    stdout.print(table)


@app.command()
def settle(
    run_dir: Annotated[
        Path,
        typer.Argument(metavar="DIR", help="run folder written by 'sim run' (best a long run)"),
    ],
    window: Annotated[
        int | None,
        typer.Option(
            metavar="DAYS",
            help="summary window to test (default: the run's run.summary_window)",
        ),
    ] = None,
    hold: Annotated[
        int | None,
        typer.Option(
            metavar="DAYS",
            help="days after it on which a run's end must be settled too (default: a sixth of "
            "the window)",
        ),
    ] = None,
    tolerance: Annotated[
        float,
        typer.Option(
            metavar="SHARE",
            help="also count as settled a drift below this share of the metric (default: "
            "run.drift_tolerance)",
        ),
    ] = RunParams().drift_tolerance,
    all_metrics: Annotated[
        bool, typer.Option("--all", help="every summary metric, not only the headline ones")
    ] = False,
) -> None:
    """Find when a run's summary metrics settle: burn-in and horizon for a summary window.

    Tests the summary window ending on every day of the run for a drift between its two
    halves larger than noise (as summary.json's drift, docs/ODD.md 7.14) and shows, for each
    metric, the first day from which the window and the windows ending in the following
    --hold days are settled, and at most a fifth of the later days are flagged (as chance can):
    a run of that many days plus one (--days) has a settled summary, and the days before the
    window (the burn-in) are left out. Make a long run first, e.g.
    'sim run --days 1460 --users 3000 --out results/long', then 'sim settle results/long'.
    """
    with _bad_input():
        frame, run_window = _read_daily(run_dir)
        window = run_window if window is None else window
        if not settling.MIN_WINDOW <= window <= len(frame):
            raise ParamError(
                f"--window must be {settling.MIN_WINDOW} to the run's {len(frame)} days, got {window}"
            )
        if hold is not None and hold < 0:
            raise ParamError(f"--hold must be 0 or more days, got {hold}")
        if not 0.0 <= tolerance < 1.0:
            raise ParamError(f"--tolerance must be at least 0 and below 1, got {tolerance}")
    names = (
        list(SUMMARY_FROM_DAILY)
        if all_metrics
        else [m for g in HEADLINE.values() for m in g if m in SUMMARY_FROM_DAILY]
    )
    table = settling.settling_days(frame, window, names, hold=hold, tolerance=tolerance)
    stdout.print(_settle_table(table, window, len(frame), all_metrics))
    typer.echo(_settle_verdict(table, window, len(frame)))


def _read_daily(run_dir: Path):
    """A run folder's daily series and its summary window; bad input if they are missing or
    not one row a day."""
    import pandas as pd

    path = run_dir / "timeseries.parquet"
    if not path.is_file():
        raise ParamError(f"{run_dir} is not a run folder: it has no timeseries.parquet")
    try:
        frame = pd.read_parquet(path)
    except Exception as e:  # noqa: BLE001 - any unreadable file is bad input
        raise ParamError(f"{path} cannot be read: {e}") from None
    if "day" not in frame or list(frame["day"]) != list(range(len(frame))):
        raise ParamError(
            f"{path} does not hold one row a day from day 0 (a sweep's thinned series?)"
        )
    try:
        window = int(json.loads((run_dir / "params.json").read_text())["run"]["summary_window"])
    except (OSError, ValueError, KeyError, TypeError):
        window = RunParams.summary_window
    return frame, min(window, len(frame))


def _settle_table(table, window: int, days: int, everything: bool) -> Table:
    """:func:`settling.settling_days` as a terminal table, one metric a row."""
    name = (lambda m: m) if everything else labels.label  # noqa: E731
    out = Table(
        "summary key" if everything else "metric",
        "settled\nfrom day",
        "burn-in\ndays",
        "flagged\nlater",
        "last\nflagged",
        title=f"When a summary over the last {window} days settles ({days:,}-day run)",
        box=box.SIMPLE_HEAD,
        caption=(
            f"settled from day: the first day a run could end on (--days one more) with this "
            f"metric settled and from which it stays settled (the next --hold days all settled, "
            f"at most {settling.LATER_LIMIT:.0%} of later days flagged again, as chance can), "
            "never if not within the run; burn-in: the days before the window; flagged later: "
            "share of the later days flagged; last flagged: the last day a run ending there "
            "would be warned."
        ),
        caption_justify="left",
    )
    out.columns[0].no_wrap = True
    for c in out.columns[1:]:
        c.justify, c.no_wrap, c.min_width = "right", True, 6
    for metric, r in table.iterrows():
        first, later, last = r["settled_from"], r["later_unsettled"], r["last_unsettled"]
        settled = _present(first)
        out.add_row(
            escape(name(metric)),
            f"{int(first):,}" if settled else "never",
            f"{int(r['burn_in']):,}" if settled else "-",
            f"{later:.0%}" if _present(later) else "-",
            f"{int(last):,}" if _present(last) else "-",
        )
    return out


def _present(value: Any) -> bool:
    """Not None and not NaN."""
    return value is not None and value == value


def _settle_verdict(table, window: int, days: int) -> str:
    """One line: the shortest run with every metric of ``table`` settled, or which are not."""
    first = table["settled_from"]
    never = [m for m, e in first.items() if not _present(e)]
    if never:
        return (
            f"Not settled within this run's {days:,} days: {', '.join(never)}. Make a longer run, "
            f"or try a longer --window (or a --tolerance)."
        )
    end = int(max(first))
    near_end = end > days - 1 - window  # settled over less than a window's length of ends
    return (
        f"Every metric shown is settled with a {window}-day summary window from a run of "
        f"{end + 1:,} days on: --days {end + 1} --set run.summary_window={window} "
        f"(burn-in {end - window + 1:,} days)."
        + (
            " That is close to the end of this run: a longer run would confirm it."
            if near_end
            else ""
        )
    )


app.command("sweep")(cli_sweep.sweep_command)
app.command("experiments")(cli_sweep.experiments_command)
app.command("validate")(cli_validate.validate_command)
app.command("calibrate")(cli_validate.calibrate_command)
app.command("plot")(cli_report.plot_command)
app.command("brief")(cli_report.brief_command)
app.command("dashboard")(cli_dashboard.dashboard_command)


def main(argv: list[str] | None = None) -> NoReturn:
    """Console entry point: run ``app`` and exit with 0, 2 (bad input) or 130 (interrupted).

    Args:
        argv: the arguments after the program name; ``sys.argv[1:]`` when None.
    """
    code: Any = 0
    try:
        check_environment()  # a bad SIM_THREADS is bad input before any work starts
        compiled.threads()
        code = app(args=argv, prog_name="sim" if argv is not None else None, standalone_mode=False)
    except typer.TyperException as e:  # click's errors: usage, bad option value, no arguments
        ctx = getattr(e, "ctx", None)
        if type(e).__name__ == "NoArgsIsHelpError":  # bare `sim`: show the help
            typer.echo(e.format_message())
        else:
            where = f"; see '{ctx.command_path} --help'" if ctx is not None else ""
            _echo_error(e.format_message().rstrip(".") + where)
            code = EXIT_BAD_INPUT
    except ParamError as e:
        _echo_error(str(e))
        code = EXIT_BAD_INPUT
    except Interrupted as e:  # a sweep keeps its finished runs and says so
        _echo_error(str(e))
        sys.exit(EXIT_INTERRUPTED)
    except WriteFailed as e:
        _echo_error(str(e))
        code = 1
    except (typer.Abort, KeyboardInterrupt):
        code = EXIT_INTERRUPTED
    if code == EXIT_INTERRUPTED:  # typer turns Ctrl-C into exit code 130 without a word
        _echo_error("interrupted; nothing was saved")
    sys.exit(code if isinstance(code, int) else 0)


def unsettled_warning(summary: dict[str, Any], window: int, out: Path) -> str | None:
    """The warning line for a run whose headline metrics drift across the summary window (its
    ``unsettled``), with each one's relative drift; None when they are all settled."""
    drift = summary.get("drift", {})
    headline = [m for g in HEADLINE.values() for m in g if m in drift]
    bad = [m for m in headline if m in summary.get("unsettled", [])]
    if not bad:
        return None
    window = min(window, summary.get("days", window))

    def change(m: str) -> str:  # a signed metric's level can be near 0: its drift in its units
        rel = drift[m]["relative_drift"]
        if rel is None or m in labels.SIGNED:
            return f"{m} {drift[m]['drift']:+.3g}"
        return f"{m} {100 * rel:+.2g}%"

    others = len(summary["unsettled"]) - len(bad)
    return (
        f"summary not settled: from the first to the second half of the last {window} days "
        f"{', '.join(map(change, bad))} changed by more than noise"
        + (
            f" (and {others} other metric{'s' * (others != 1)}, see summary.json unsettled)"
            if others
            else ""
        )
        + f"; the summary depends on the run's length: run longer (--days) or average a later "
        f"or longer window (--set run.summary_window=DAYS); 'sim settle {out}' shows when each "
        "metric settles"
    )


# -- checks -------------------------------------------------------------------------------------
def _echo_warning(message: str) -> None:
    typer.echo(f"warning: {' '.join(str(message).split())}", err=True)


def _echo_error(message: str) -> None:
    text = " ".join(str(message).split())
    typer.echo(f"error: {text[:1].lower()}{text[1:]}", err=True)


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    _echo_error(message)
    raise typer.Exit(code)


@contextmanager
def _bad_input() -> Iterator[None]:
    """Turn a :class:`ParamError` into the one-line error and exit code 2."""
    try:
        yield
    except ParamError as e:
        _fail(str(e))


def _check_run_option(name: str, value: int | None) -> None:
    """Validate ``--users``-style shortcuts, naming the option rather than ``run.users``."""
    if value is None:
        return
    try:
        Params().set(f"run.{name}", value)
    except ParamError as e:
        raise ParamError(str(e).replace(f"run.{name}", f"--{name}", 1)) from None


def _check_out(out: Path) -> None:
    """Refuse an output folder that cannot be (re)written, before any work is done."""
    if out.name in ("", ".", ".."):
        raise ParamError(
            f"--out must name a run folder to create or replace (e.g. results/my_run), got {str(out)!r}"
        )
    api.check_output_dir(out)
    check_writable_dir(out.parent, name=out)


def _read_summary(folder: Path) -> dict[str, Any]:
    path = folder / "summary.json"
    if not folder.is_dir():
        raise ParamError(f"run folder {folder} does not exist")
    try:
        summary = json.loads(path.read_text())
    except FileNotFoundError:
        raise ParamError(f"{folder} is not a run folder: it has no summary.json") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ParamError(f"{path} cannot be read: {e}") from None
    if not isinstance(summary, dict):
        raise ParamError(f"{path} is not a run summary (expected a JSON object)")
    return summary


# -- output -------------------------------------------------------------------------------------
@contextmanager
def _progress(days: int, show: bool):
    """Yield a ``progress(day)`` callback drawing a bar on stderr, or None when not shown."""
    if not show:
        yield None
        return
    columns = (
        TextColumn("simulating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("days"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=stderr, transient=True) as bar:
        task = bar.add_task("simulating", total=days)
        yield lambda day: bar.update(task, completed=day + 1)


def _run_labels(summaries: list[dict[str, Any]]) -> tuple[list[str], str]:
    """Column labels from what differs between runs, and a title from what they share."""
    parts = [
        {
            "policy": str(s.get("policy", "?")),
            "scenario": str(s.get("scenario", "?")),
            "seed": f"seed {s.get('seed', '?')}",
        }
        for s in summaries
    ]
    differ = {k for k in parts[0] if len({p[k] for p in parts}) > 1}
    labels = ["\n".join(v for k, v in p.items() if k in differ) for p in parts]
    shared = {"policy": "{} policy", "scenario": "{} market", "seed": "{}"}
    return labels, ", ".join(shared[k].format(parts[0][k]) for k in shared if k not in differ)


def _metrics_table(
    summaries: list[dict[str, Any]],
    columns: list[str],
    *,
    title: str | None = None,
    everything: bool = False,
) -> Table:
    """Metrics as rows, grouped as in :data:`HEADLINE`, one value column per summary: each
    metric by its name in words and its unit (shares in percent), as the briefings give them;
    with ``everything`` (``--all``) every metric by its key in summary.json, with its unit."""
    groups = {g: names + MORE[g] if everything else names for g, names in HEADLINE.items()}
    if everything:
        shown = {m for names in groups.values() for m in names}
        groups["other"] = [m for m in [*SUMMARY_FROM_DAILY, *LOYALTY] if m not in shown]
    name = (lambda m: m) if everything else labels.label  # noqa: E731
    head = ["summary key" if everything else "metric", "unit"]
    table = Table(
        *head, *map(escape, columns), title=title and escape(title), caption_justify="left"
    )
    table.columns[0].no_wrap = True
    table.columns[0].min_width = 2 + max(len(name(m)) for names in groups.values() for m in names)
    table.columns[1].overflow, table.columns[1].max_width = "fold", 16
    for c in table.columns[len(head) :]:  # values are never cut
        c.justify, c.no_wrap, c.min_width = "right", True, 9
    for group, names in groups.items():
        table.add_row(f"[bold]{group}[/]")
        for i, m in enumerate(names):
            table.add_row(
                f"  {escape(name(m))}",
                escape(labels.unit(m)),
                *(_fmt(_shown(m, s.get(m))) for s in summaries),
                end_section=i == len(names) - 1,
            )
    return table


def _shown(metric: str, value: Any) -> Any:
    """A summary value as the table shows it: a share in percent."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value * labels.scale(metric)
    return value


def _profile_table(step_seconds: dict[str, float], days: int) -> Table:
    total = sum(step_seconds.values()) or 1.0
    table = Table(
        "step", "ODD", "seconds", "ms/day", "share", title="Time per step of the day's schedule"
    )
    for c in table.columns[2:]:
        c.justify = "right"
    for s in SCHEDULE:
        sec = step_seconds.get(s.name, 0.0)
        share = f"{sec / total:.1%}"
        table.add_row(s.name, s.odd, f"{sec:.3f}", f"{1000 * sec / days:.2f}", share)
    table.add_section()
    table.add_row("total", "", f"{total:.3f}", f"{1000 * total / days:.2f}", "100.0%")
    return table


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if value == 0 or 0.001 <= abs(value) < 1e6:
        return f"{value:.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return f"{value:.3e}"


def _fmt_default(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
