"""The interactive dashboard of ``sim dashboard``: watch one model run in the browser and poke it.

Built on Solara in the manner of Mesa's SolaraViz: a sidebar holds the controls (Reset, Play /
Pause, Step) and the model's parameters, the main page shows today's numbers and charts that
update as the model steps. The market, the providers' objectives and a few key parameters are
set-up values, applied when Reset builds a new model; the providers' levers act at once on the
running model (the providers' own A/B tests go on moving them unless adaptation is switched off).

Only :func:`read` and :func:`set_lever` touch the model; everything else works on what
:func:`read` returns, so if the model's names move only those two change.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import solara

import sim
from sim.model.params import POLICIES
from sim.model.scenarios import DEFAULT_SCENARIO, SCENARIOS, resolve
from sim.report.labels import label, unit

# -- what is shown -------------------------------------------------------------------------------
# panel title: (unit, {daily metric: its name in the legend}); unrecorded metrics are left out
PANELS: dict[str, tuple[str, dict[str, str]]] = {
    "Engagement": (
        "min per user-day",
        {
            "minutes_per_user_day": "all providers",
            "feed_minutes_per_user_day": "feeds",
            "companion_minutes_per_user_day": "companions",
            "social_minutes_per_user_day": "socialising",
        },
    ),
    "Loyalty": (
        "share of users (paying: of companion users); attachment 0-1",
        {
            "feed_user_share": "on a feed",
            "companion_user_share": "on a companion",
            "subscriber_share": "paying",
            "mean_attachment": "attachment",
        },
    ),
    "Wellbeing": ("SD of day-0 wellbeing", {"wellbeing_sd_units": "mean wellbeing"}),
    "Welfare": (
        "$ per user-day, on reflection",
        {
            "welfare_per_user_day": "welfare",
            "feed_consumer_surplus_per_user_day": "surplus from feeds",
            "companion_consumer_surplus_per_user_day": "surplus from companions",
        },
    ),
    "Human connection": (
        "0-1",
        {
            "loneliness_mean": "loneliness",
            "tie_strength_mean": "tie strength",
            "dependent_share": "dependent share",
        },
    ),
    "Revenue": (
        "$ per user-day",
        {
            "ad_revenue_per_user_day": "ads",
            "subscription_revenue_per_user_day": "subscriptions",
            "commerce_revenue_per_user_day": "commerce",
            "provider_profit_per_user_day": "profit",
        },
    ),
}
# today's numbers in the table above the charts, by family
TODAY: dict[str, list[str]] = {
    "engagement": ["minutes_per_user_day", "companion_minutes_per_user_day", "active_share"],
    "loyalty": ["mean_attachment", "companion_user_share", "quits"],
    "wellbeing": [
        "wellbeing_sd_units",
        "welfare_per_user_day",
        "loneliness_mean",
        "dependent_share",
    ],
    "revenue": [
        "revenue_per_user_day",
        "ad_revenue_per_user_day",
        "subscription_revenue_per_user_day",
        "provider_profit_per_user_day",
    ],
}
WELFARE_WORD = "welfare"  # daily metrics with this in their name join the wellbeing panel
# key parameters offered as set-up sliders, under their section's heading:
# path -> (short label, low, high, step)
KEY_PARAMS: dict[str, tuple[str, float, float, float]] = {
    "companion.empathy": ("empathy", 0.0, 1.0, 0.05),
    "companion.free_minutes": ("free min/day", 0.0, 240.0, 0.5),
    "companion.serving_cost": ("cost $/min", 0.0, 0.003, 0.00001),
    "social.companion_relief": ("need met", 0.0, 1.0, 0.05),
    "feed.cpm": ("ad $/1000", 0.0, 40.0, 1.0),
}
ADAPTATION = "mechanisms.adaptation"
USER_CHOICES = [1_000, 2_000, 5_000, 10_000, 20_000, 50_000]
DAY_CHOICES = [90, 180, 365, 730, 1825, 3650]
DEFAULT_DAYS = 730


# -- the adapter: the only code that reads or changes the model --------------------------------
@dataclass
class ProviderView:
    """One provider as the dashboard shows it."""

    name: str
    kind: str
    levers: dict[str, float]
    ranges: dict[str, tuple[float, float]]


@dataclass
class View:
    """What the dashboard reads from the model after a day."""

    days_done: int
    running: bool
    metrics: dict[str, float]
    providers: list[ProviderView]
    attachment: np.ndarray  # (N,) each user's strongest attachment to a companion
    loneliness: np.ndarray  # (N,)


def read(model: Any) -> View:
    """Read the model through its public surface (the one place to update if names move)."""
    providers = [
        ProviderView(p.name, p.kind, dict(p.levers), dict(p.LEVERS)) for p in model.providers
    ]
    companions = [j for j, p in enumerate(providers) if p.kind == "companion"]
    attachment = model.users.attachment
    strongest = attachment[:, companions].max(axis=1) if companions else np.zeros(0)
    latest = dict(model.latest)
    return View(
        days_done=model.day + 1 if latest else 0,
        running=bool(model.running),
        metrics=latest,
        providers=providers,
        attachment=strongest,
        loneliness=np.asarray(model.users.loneliness),
    )


def set_lever(model: Any, provider: str, lever: str, value: float) -> None:
    """Set one provider's lever on the running model, from the next day on."""
    for p in model.providers:
        if p.name == provider:
            lo, hi = p.LEVERS[lever]
            p.levers[lever] = float(min(max(value, lo), hi))
            return
    raise KeyError(f"no provider {provider!r}")


# -- set-up and one run --------------------------------------------------------------------------
@dataclass(frozen=True)
class Setup:
    """Everything a new run is built from; applied when Reset is pressed."""

    scenario: str = DEFAULT_SCENARIO
    feed_policy: str = "attention"
    companion_policy: str = "intimacy"
    users: int = 10_000
    days: int = DEFAULT_DAYS
    seed: int = 0
    adaptation: bool = True
    values: dict[str, float] = field(default_factory=dict)  # KEY_PARAMS set away from default


def defaults(setup: Setup) -> dict[str, float]:
    """The default value of each key parameter in the set-up's market."""
    flat = resolve(setup.scenario)[0].flat()
    return {path: float(flat[path]) for path in KEY_PARAMS}


def build(setup: Setup) -> Any:
    """A new model from a set-up (checked: bad values raise :class:`sim.ParamError`)."""
    params, _ = resolve(setup.scenario, users=setup.users, days=setup.days, seed=setup.seed)
    params.set("market.feed_policy", setup.feed_policy)
    params.set("market.companion_policy", setup.companion_policy)
    params.set(ADAPTATION, setup.adaptation)
    for path, value in setup.values.items():
        params.set(path, value)
    return sim.EconomyModel(params)


class Run:
    """One model with its history of daily metrics; safe to step from a background thread."""

    def __init__(self, setup: Setup):
        self.setup = setup
        self.model = build(setup)
        self.lock = threading.Lock()
        self.view = read(self.model)
        self.history: dict[str, list[float]] = {}
        self.step_ms = 0.0

    def advance(self, days: int = 1) -> View:
        """Step up to ``days`` days (fewer at the end of the run) and read the model."""
        with self.lock:
            for _ in range(days):
                if not self.model.running:
                    break
                t0 = time.perf_counter()
                self.model.step()
                self.step_ms = 1000 * (time.perf_counter() - t0)
                for name, value in self.model.latest.items():
                    self.history.setdefault(name, []).append(value)
            self.view = read(self.model)
        return self.view

    def set_lever(self, provider: str, lever: str, value: float) -> None:
        """Move a lever between days."""
        with self.lock:
            set_lever(self.model, provider, lever, value)
            self.view = read(self.model)


# -- charts (ECharts options, drawn in the browser) ---------------------------------------------
MAX_POINTS = 400  # a series longer than this is thinned to keep each update small
CHART_STYLE = {"style": "height: 300px;"}


def panels(metrics: dict[str, Any]) -> dict[str, tuple[str, dict[str, str]]]:
    """:data:`PANELS` with only recorded metrics, welfare metrics added to wellbeing."""
    out = {}
    for title, (axis, names) in PANELS.items():
        if title.startswith("Wellbeing"):
            names = names | {m: label(m) for m in metrics if WELFARE_WORD in m}
        out[title] = (axis, {m: text for m, text in names.items() if m in metrics})
    return out


def line_chart(title: str, axis: str, lines: dict[str, list[float]]) -> dict[str, Any]:
    """An ECharts line chart of daily values (day 1 first), thinned to :data:`MAX_POINTS`."""
    n = max((len(v) for v in lines.values()), default=0)
    every = max(1, -(-n // MAX_POINTS))
    days = list(range(1, n + 1))[::every]
    series = [
        {
            "type": "line",
            "name": name,
            "showSymbol": n < 30,
            "data": [[d, round(float(v), 6)] for d, v in zip(days, values[::every], strict=True)],
        }
        for name, values in lines.items()
    ]
    return {
        "animation": False,
        "title": {"text": title, "subtext": axis, "textStyle": {"fontSize": 13}},
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0, "type": "scroll", "textStyle": {"fontSize": 10}},
        "grid": {"left": 55, "right": 45, "top": 55, "bottom": 60},
        "xAxis": {"type": "value", "name": "day", "min": 1, "minInterval": 1},
        "yAxis": {"type": "value", "scale": True},
        "series": series,
    }


def series_charts(run: Run) -> list[dict[str, Any]]:
    """One line chart per family of :data:`PANELS`, and the providers' levers."""
    charts = [
        line_chart(title, axis, {text: run.history.get(m, []) for m, text in names.items()})
        for title, (axis, names) in panels(run.history or run.view.metrics).items()
    ]
    levers = {}
    for p in run.view.providers:
        for lever, (lo, hi) in p.ranges.items():
            values = run.history.get(f"{p.name}.{lever}", [])
            levers[f"{p.name} {lever}"] = [(v - lo) / (hi - lo) for v in values]
    charts.append(line_chart("Provider levers", "share of each lever's range", levers))
    return charts


def histogram(title: str, xlabel: str, values: np.ndarray) -> dict[str, Any]:
    """An ECharts bar chart of how ``values`` (0-1) spread across users, in 20 bins."""
    counts, edges = np.histogram(values, bins=20, range=(0.0, 1.0))
    centres = [f"{(a + b) / 2:.3f}" for a, b in zip(edges[:-1], edges[1:], strict=True)]
    return {
        "animation": False,
        "title": {"text": title, "subtext": "users", "textStyle": {"fontSize": 13}},
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 55, "right": 15, "top": 55, "bottom": 45},
        "xAxis": {
            "type": "category",
            "name": xlabel,
            "nameLocation": "center",
            "nameGap": 28,
            "data": centres,
        },
        "yAxis": {"type": "value"},
        "series": [
            {
                "type": "bar",
                "name": "users",
                "barCategoryGap": "5%",
                "data": [int(c) for c in counts],
            }
        ],
    }


def histograms(view: View) -> list[dict[str, Any]]:
    """How attachment to companions and loneliness are spread across users today."""
    attached = view.attachment[view.attachment > 0.0]
    if view.attachment.size:
        share = attached.size / view.attachment.size
        title = f"Attachment to companions ({share:.0%} of users have any)"
    else:
        title = "Attachment to companions (none in this market)"
    return [
        histogram(title, "strongest attachment to a companion (0-1)", attached),
        histogram(
            f"Loneliness (mean {view.loneliness.mean():.2f})", "loneliness (0-1)", view.loneliness
        ),
    ]


def today_rows(metrics: dict[str, float], users: int) -> list[tuple[str, str, str, str]]:
    """(family, metric, label, value with unit) for the table of today's numbers."""
    rows = []
    for family, names in TODAY.items():
        if family == "wellbeing":
            names = names + [m for m in metrics if WELFARE_WORD in m]
        for name in names:
            if name not in metrics:
                continue
            value = metrics[name]
            if name == "quits":
                rows.append((family, name, "spells ended", f"{1000 * value / users:.2f} per 1,000"))
            else:
                rows.append((family, name, label(name), f"{value:.4g} {unit(name)}"))
    return rows


def today_html(view: View, users: int) -> str:
    """The table of today's numbers; each value cell names its metric in ``data-metric``."""
    cells = "".join(
        f"<tr><td>{family}</td><td>{text}</td>"
        f'<td data-metric="{name}" style="text-align:right">{value}</td></tr>'
        for family, name, text, value in today_rows(view.metrics, users)
    )
    return f'<table class="sim-today" style="font-size:0.9em">{cells}</table>'


# -- the page ------------------------------------------------------------------------------------
initial = Setup()  # what a fresh page starts from; ``sim dashboard`` options replace it
setup_state = solara.reactive(initial)
run_state: solara.Reactive[Run | None] = solara.reactive(None)
tick = solara.reactive(0)  # bumped after every change of the run, to redraw
playing = solara.reactive(False)
days_per_step = solara.reactive(1)
error = solara.reactive("")


def configure(**options: Any) -> None:
    """Set the set-up a fresh page starts from (``sim dashboard --scenario ...``)."""
    global initial
    initial = dataclasses.replace(initial, **options)


def objectives(view: View, setup: Setup) -> str:
    """The objectives of the kinds of provider in the market, e.g. ``feeds attention``."""
    kinds = {p.kind for p in view.providers}
    parts = [f"feeds {setup.feed_policy}"] if "feed" in kinds else []
    return ", ".join(
        parts + ([f"companions {setup.companion_policy}"] if "companion" in kinds else [])
    )


def start() -> None:
    """A new page: the set-up ``sim dashboard`` was started with, and its first run."""
    if run_state.value is None:
        setup_state.set(initial)
        reset()


def reset() -> None:
    """Build a new run from the set-up and show day 0."""
    playing.set(False)
    try:
        run_state.set(Run(setup_state.value))
        error.set("")
    except ValueError as e:  # ParamError
        error.set(str(e))
    tick.set(tick.value + 1)


def step() -> None:
    """Advance the run by the chosen number of days and redraw."""
    run = run_state.value
    if run is not None:
        run.advance(days_per_step.value)
        tick.set(tick.value + 1)


def play_loop() -> None:
    """While playing: step and redraw, until paused or the run ends."""
    while playing.value:
        run = run_state.value
        if run is None or not run.view.running:
            playing.set(False)
            break
        step()
        time.sleep(0.02)  # let the page catch up


@solara.component
def Controls():
    """Reset, Play / Pause and Step, as in Mesa's SolaraViz."""
    run = run_state.value
    running = run is not None and run.view.running
    with solara.Card("Controls"):
        with solara.Row():
            solara.Button("Reset", color="primary", on_click=reset)
            solara.Button(
                "Pause" if playing.value else "Play",
                color="primary",
                on_click=lambda: playing.set(not playing.value),
                disabled=not running,
            )
            solara.Button(
                "Step", color="primary", on_click=step, disabled=playing.value or not running
            )
        solara.SliderInt(f"days per step {days_per_step.value}", value=days_per_step, min=1, max=30)


@solara.component
def SetupInputs():
    """The market, objectives and key parameters; applied on Reset."""
    s = setup_state.value
    base = solara.use_memo(lambda: defaults(s), [s.scenario])

    def change(**kw):
        setup_state.set(dataclasses.replace(setup_state.value, **kw))

    def change_value(path: str, value: float):
        now = setup_state.value.values.get(path, base[path])
        if not rounded_away(value, now, KEY_PARAMS[path][3]):
            change(values={**setup_state.value.values, path: value})

    with solara.Card("Market (applied on Reset)"):
        solara.Select(
            "market",
            value=s.scenario,
            values=list(SCENARIOS),
            on_value=lambda v: change(scenario=v),
        )
        solara.Select(
            "feed objective",
            value=s.feed_policy,
            values=list(POLICIES),
            on_value=lambda v: change(feed_policy=v),
        )
        solara.Select(
            "companion objective",
            value=s.companion_policy,
            values=list(POLICIES),
            on_value=lambda v: change(companion_policy=v),
        )
        solara.Select(
            "users",
            value=s.users,
            values=_choices(USER_CHOICES, s.users),
            on_value=lambda v: change(users=v),
        )
        solara.Select(
            "days",
            value=s.days,
            values=_choices(DAY_CHOICES, s.days),
            on_value=lambda v: change(days=v),
        )
        solara.InputInt("seed", value=s.seed, on_value=lambda v: change(seed=max(0, int(v))))
        solara.Checkbox(
            label="providers adapt their levers (A/B tests)",
            value=s.adaptation,
            on_value=lambda v: change(adaptation=v),
        )
        section = ""
        for path, (text, lo, hi, stepsize) in KEY_PARAMS.items():
            if path.split(".")[0] != section:
                section = path.split(".")[0]
                solara.Text(section, style={"font-weight": "bold"})
            value = s.values.get(path, base[path])
            solara.SliderFloat(
                f"{text} {value:g}",
                value=value,
                min=lo,
                max=hi,
                step=stepsize,
                on_value=lambda v, path=path: change_value(path, v),
            )


def rounded_away(value: float, now: float, step: float) -> bool:
    """Whether a slider's new value is only ``now`` rounded to the slider's step.

    The browser's slider snaps a value that is off its grid (a lever a provider's A/B test
    moved, a calibrated default) and reports the snapped value; that is no move by the user.
    """
    return abs(value - now) < step / 2


def lever_step(lo: float, hi: float) -> float:
    """A round slider step of about a hundredth of the lever's range (0.001 for 0-0.3)."""
    return 10 ** np.floor(np.log10(hi - lo)) / 100


def _choices(options: list[int], value: int) -> list[int]:
    return sorted({*options, value})


@solara.component
def LeverInputs(run: Run):
    """One slider per provider lever; a move acts on the running model from the next day."""

    tick.value  # noqa: B018 - redraw with the levers the providers set themselves

    def move(provider: str, lever: str, value: float, now: float, step: float):
        if not rounded_away(value, now, step):
            run.set_lever(provider, lever, value)
            tick.set(tick.value + 1)

    with solara.Card("Provider levers (act now)"):
        for p in run.view.providers:
            solara.Text(f"{p.name} ({p.kind})", style={"font-weight": "bold"})
            for lever, (lo, hi) in p.ranges.items():
                now, step = p.levers[lever], lever_step(lo, hi)
                solara.SliderFloat(
                    f"{lever} {now:.3g}",
                    value=now,
                    min=lo,
                    max=hi,
                    step=step,
                    on_value=lambda v, n=p.name, lv=lever, x=now, st=step: move(n, lv, v, x, st),
                )


@solara.component
def Page():
    """The dashboard: controls and inputs in the sidebar, numbers and charts in the main area."""
    solara.use_effect(start, [])
    solara.lab.use_task(play_loop, dependencies=[playing.value], prefer_threaded=True)
    run = run_state.value
    tick.value  # noqa: B018 - redraw when the run changes
    solara.Title("Attention and intimacy economies")
    with solara.Sidebar():
        Controls()
        SetupInputs()
        if run is not None:
            LeverInputs(run)
    if error.value:
        solara.Error(error.value)
    if run is None:
        solara.Text("building the model ...")
        return
    view, s = run.view, run.setup
    solara.Text(
        f"Day {view.days_done} of {s.days} · {s.scenario} market · {objectives(view, s)} · "
        f"{s.users:,} users · seed {s.seed} · "
        f"last step {run.step_ms:.0f} ms" + ("" if view.running else " · run finished"),
        style={"font-weight": "bold"},
    )
    solara.HTML(tag="div", unsafe_innerHTML=today_html(view, s.users))
    with solara.ColumnsResponsive(12, medium=6, large=4):
        for option in series_charts(run) + histograms(view):
            solara.FigureEcharts(option=option, attributes=CHART_STYLE)


# -- the server ----------------------------------------------------------------------------------
def serve(host: str, port: int) -> None:
    """Serve the page with Solara's server until interrupted.

    Solara's browser files come from the solara-assets package, so the page needs no internet.
    """
    import os

    import uvicorn

    os.environ["SOLARA_APP"] = __name__
    os.environ["SERVER_NAME"], os.environ["SERVER_PORT"] = host, str(port)
    from solara.server import settings

    settings.main.mode = "production"
    settings.telemetry.mixpanel_enable = False  # no calls home
    settings.kernel.cull_timeout = "5m"  # a closed tab's run is freed after five minutes
    uvicorn.run("solara.server.starlette:app", host=host, port=port, log_level="warning")
