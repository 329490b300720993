"""The dashboard (``sim dashboard``): its options, its adapter to the model, and the page itself
served on a loopback port and driven in a real headless browser (Debian's chromium through
Playwright), as a person would use it."""

from __future__ import annotations

import dataclasses
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.report import dashboard

CHROMIUM = "/usr/bin/chromium"  # Debian's package; `make test` installs it when missing
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
USERS, DAYS = 2000, 60  # small enough for the page to step quickly on a busy machine
WAIT_MS = 60_000


# -- options --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "0"], "--port"),
        (["--port", "70000"], "--port"),
        (["--scenario", "utopia"], "--scenario must be one of mixed"),
        (["--policy", "profit"], "--policy must be one of attention"),
        (["--users", "5"], "--users must be in [10, 1000000]"),
        (["--days", "0"], "--days must be in"),
        (["--host", "no.such.host.invalid"], "--host"),
    ],
)
def test_bad_options_give_one_line_and_exit_2(capsys, args, message):
    with pytest.raises(SystemExit) as stop:
        main(["dashboard", *args])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert message in err


def test_a_port_in_use_is_refused_before_serving(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(SystemExit) as stop:
            main(["dashboard", "--port", str(taken.getsockname()[1])])
    assert stop.value.code == 2
    assert "cannot serve on 127.0.0.1:" in capsys.readouterr().err


# -- the adapter and one run ------------------------------------------------------------------
def test_a_run_reads_the_model_and_a_lever_acts_from_the_next_day():
    setup = dashboard.Setup(users=300, days=5, seed=3)
    run = dashboard.Run(setup)
    assert run.view.days_done == 0 and run.view.running
    assert [p.name for p in run.view.providers] == [
        "feed_a",
        "feed_b",
        "companion_a",
        "companion_b",
    ]
    view = run.advance(2)
    assert view.days_done == 2 and len(run.history["minutes_per_user_day"]) == 2
    assert view.attachment.shape == (300,) and view.loneliness.shape == (300,)
    assert view.metrics["minutes_per_user_day"] > 0
    run.set_lever("feed_a", "ad_load", 1.0)  # beyond the lever's range: held at its top
    assert run.view.providers[0].levers["ad_load"] == 0.3
    run.advance(1)
    assert run.history["feed_a.ad_load"][-1] == 0.3
    assert run.advance(10).days_done == 5 and not run.view.running  # stops at the run's end


def test_set_up_values_reach_the_model_and_feeds_only_markets_have_no_attachment():
    setup = dashboard.Setup(
        scenario="attention_economy",
        feed_policy="wellbeing",
        users=200,
        days=3,
        adaptation=False,
        values={"feed.cpm": 20.0},
    )
    run = dashboard.Run(setup)
    assert [p.kind for p in run.view.providers] == ["feed", "feed"]
    assert dashboard.objectives(run.view, setup) == "feeds wellbeing"
    assert run.view.attachment.size == 0
    charts = dashboard.series_charts(run) + dashboard.histograms(run.advance(1))
    assert charts[-2]["title"]["text"] == "Attachment to companions (none in this market)"
    doubled = dashboard.Run(dataclasses.replace(setup, values={"feed.cpm": 40.0})).advance(1)
    ratio = doubled.metrics["ad_revenue_per_user_day"] / run.view.metrics["ad_revenue_per_user_day"]
    assert ratio == pytest.approx(2.0)  # same seed, same choices, twice the ad price


def test_a_slider_snapping_to_its_grid_is_no_move():
    assert dashboard.rounded_away(0.1, 0.1000000001, 0.001)
    assert dashboard.rounded_away(100.0, 101.5, 5.0)
    assert not dashboard.rounded_away(0.3, 0.1, 0.001)
    assert dashboard.lever_step(0.0, 0.3) == pytest.approx(0.001)
    assert dashboard.lever_step(0.0, 30.0) == pytest.approx(0.1)


def test_long_series_are_thinned_for_the_page():
    chart = dashboard.line_chart("t", "u", {"x": list(np.arange(3650.0))})
    data = chart["series"][0]["data"]
    assert len(data) <= dashboard.MAX_POINTS and data[0] == [1, 0.0] and data[-1][0] <= 3650


# -- the page in a browser --------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``sim dashboard`` in a subprocess on a free loopback port; stopped afterwards."""
    port = _free_port()
    log = tmp_path_factory.mktemp("dashboard") / "server.log"
    env = {**os.environ, "PYTHONPATH": str(Path(dashboard.__file__).parents[2])}
    command = [sys.executable, "-m", "sim", "dashboard", "--port", str(port)]
    command += ["--users", str(USERS), "--days", str(DAYS)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"the dashboard stopped: {log.read_text()[-2000:]}"
            try:
                with urllib.request.urlopen(url, timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"no answer on {url}: {log.read_text()[-2000:]}"
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode is not None


@pytest.fixture(scope="module")
def browser_page(server, tmp_path_factory):
    """One headless chromium page on the dashboard, shared by the browser tests."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1500, "height": 1900},
        )
        try:
            tab = browser.new_page()
            tab.set_default_timeout(WAIT_MS)
            tab.goto(server, timeout=WAIT_MS)
            tab.get_by_text(f"Day 0 of {DAYS}").wait_for()
            yield tab
        finally:
            browser.close()


@pytest.fixture
def page(browser_page):
    """The dashboard's page with a new run at day 0."""
    _reset(browser_page)
    return browser_page


def _day(page) -> int:
    return int(
        re.search(r"Day (\d+) of", page.get_by_text(re.compile(r"Day \d+ of")).inner_text())[1]
    )


def _number(page, metric: str) -> float:
    return float(page.locator(f'[data-metric="{metric}"]').inner_text().split()[0])


def _step(page, day: int) -> None:
    page.get_by_role("button", name="Step").click()
    page.get_by_text(f"Day {day} of {DAYS}").wait_for()


DRAWN_CHARTS = """() => [...document.querySelectorAll('canvas')].filter(c => {
    if (!c.width || !c.height) return false;
    const pixels = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const colours = new Set();
    for (let i = 0; i < pixels.length; i += 4 * 97) colours.add(pixels.slice(i, i + 4).join());
    return colours.size > 3;
}).length"""


def test_the_page_loads_and_draws_its_charts(page):
    assert page.title() == "Attention and intimacy economies"
    assert page.get_by_text("mixed market · feeds attention, companions intimacy").is_visible()
    _step(page, 1)
    # six line charts and two histograms, each a canvas with something drawn on it
    page.wait_for_function(f"({DRAWN_CHARTS})() >= 8", timeout=WAIT_MS)
    for metric in ("minutes_per_user_day", "mean_attachment", "loneliness_mean"):
        assert _number(page, metric) > 0
    assert _number(page, "revenue_per_user_day") > 0


def _reset(page) -> None:
    page.get_by_role("button", name="Reset").click()
    page.get_by_text(f"Day 0 of {DAYS}").wait_for()


def test_moving_a_lever_changes_the_run(page):
    _step(page, 1)
    before = _number(page, "minutes_per_user_day")
    _reset(page)  # nothing moved: the same seed gives the same day (the page changed nothing)
    _step(page, 1)
    assert _number(page, "minutes_per_user_day") == before
    _reset(page)
    ad_load = page.locator(".v-input", has_text="ad_load").first  # feed_a's
    assert ad_load.inner_text().strip().startswith("ad_load 0.1")
    ad_load.get_by_role("slider").press("End")  # to the top of its range
    page.locator(".v-input", has_text="ad_load 0.3").first.wait_for()
    _step(page, 1)  # the same seed again: only the lever differs
    assert _number(page, "minutes_per_user_day") < 0.9 * before  # users flee three times the ads


def test_play_runs_days_until_paused(page):
    page.get_by_role("button", name="Play").click()
    page.get_by_text(re.compile(r"Day ([2-9]|\d\d+) of")).wait_for()
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").wait_for()
    # a day already being computed when Pause was pressed may still land (on a loaded machine
    # it can take a while): wait until the day holds still, then it must stay put
    paused_at, deadline = _day(page), time.monotonic() + 30.0
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = _day(page)
        if now == paused_at:
            break
        paused_at = now
    time.sleep(1.0)
    assert _day(page) == paused_at > 0
