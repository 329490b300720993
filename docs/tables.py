"""Regenerate the generated tables of docs/ODD.md from the code and from stored results.

    python docs/tables.py schedule           # section 3: the day's steps (sim.model.schedule)
    python docs/tables.py params             # section 8: every parameter (sim.model.params.describe)
    python docs/tables.py breakeven          # section 7.8: each business model's break-even at the
                                             # default parameters (sim.model.params,
                                             # sim.model.mechanisms.business.serving_cost)
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
from sim.evidence.validation import MECHANISMS, STUDIES_DIR, load_study
from sim.model.compiled import constants
from sim.model.mechanisms.business import responsiveness_cost, serving_cost
from sim.model.mechanisms.learning import memory_used
from sim.model.params import Params, describe
from sim.model.schedule import SCHEDULE

ODD = Path(__file__).with_name("ODD.md")
SHORT = {"network_effects": "network eff.", "two_selves": "two selves"}
STATUS = {"pass": "pass", "too uncertain": "unsure", "miss": "miss", "not modelled": "n/m"}


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


def reference_use(study: str, metric: str) -> tuple[float, str]:
    """Daily minutes of a finding the model is validated against (section 1.2): the size of
    the finding with that ``metric`` in ``experiments/validation/{study}.toml``, and where it
    is (the study file and the finding's text)."""
    s = load_study(STUDIES_DIR / f"{study}.toml")
    f = next(f for f in s.findings if f.metric == metric)
    return abs(f.target), f'`{study}`: "{f.finding}"'


def breakeven_table() -> str:
    """Each business model's break-even at the default parameters and initial levers (7.8):
    every number from :class:`sim.model.params.Params` and
    :func:`sim.model.mechanisms.business.serving_cost` (and ``responsiveness_cost`` for companions);
    the daily uses are validation findings."""
    prm = Params()
    feed, comp = prm.feed, prm.companion
    kf, kc = constants(feed), constants(comp)
    feed_use, feed_why = reference_use("allcott2020_deactivation", "feed_minutes")
    comp_use, comp_why = reference_use("market_scale", "companion_minutes_per_active_user")

    ads_per_load = feed.items_per_minute * feed.cpm / 1000.0  # $/min per unit of ad load
    feed_revenue = ads_per_load * feed.ad_load
    feed_per_minute = serving_cost(1.0, feed.personalisation, kf) - feed.review_cost
    feed_day = serving_cost(feed_use, feed.personalisation, kf)
    full_day = serving_cost(feed_use, 1.0, kf)

    def comp_cost(minutes: float, paying: bool) -> float:
        depth = comp.personalisation * memory_used(paying, comp.free_memory)
        return serving_cost(minutes, depth, kc) + responsiveness_cost(minutes, comp.empathy, kc)

    comp_per_minute = comp_cost(1.0, True) - comp.review_cost
    free_day = comp_cost(comp.free_minutes, False)
    used_day = comp_cost(comp_use, True)
    free_used_day = comp_cost(comp_use, False)
    subscription = comp.price / 30.0
    margin = subscription - used_day  # a subscriber's day at the reference use, no commerce
    commerce = comp.commerce_rate * comp_use  # at full attachment

    def share(loss: float, gain: float) -> str:
        if gain <= 0:
            return "none (a subscriber loses money)"
        if loss <= 0:
            return "0% (commerce alone covers a free user's cost)"
        paying = loss / (loss + gain)
        return f"{paying:.1%}" if paying < 0.1 else f"{paying:.0%}"

    def money(x: float) -> str:
        return f"${x:.3g}"

    p = "personalisation"
    rows = [
        "| business model | quantity | value | from |",
        "|---|---|---:|---|",
        f"| feed | ad revenue per minute at the initial ad load ({feed.ad_load:g}) | "
        f"{money(feed_revenue)} | `feed.items_per_minute` x `feed.ad_load` x `feed.cpm` / 1000 |",
        f"| feed | serving cost per minute at the initial {p} ({feed.personalisation:g}) | "
        f"{money(feed_per_minute)} | `feed.serving_cost` x (1 + `feed.personalisation_cost` x "
        f"{feed.personalisation:g}) |",
        f"| feed | review cost per user-day | {money(feed.review_cost)} | `feed.review_cost` |",
        f"| feed | cost of a user's day of {feed_use:g} min | {money(feed_day)} | `serving_cost`; "
        f"the minutes: {feed_why} |",
        f"| feed | ad revenue of that day at the initial ad load | "
        f"{money(feed_revenue * feed_use)} | |",
        f"| feed | break-even ad load at the initial {p}, {feed_use:g} min/day | "
        f"{feed_day / feed_use / ads_per_load:.3g} | cost / (minutes x `items_per_minute` x "
        "`cpm` / 1000) |",
        f"| feed | break-even ad load at full {p}, {feed_use:g} min/day | "
        f"{full_day / feed_use / ads_per_load:.3g} | |",
        f"| companion | serving cost per minute of a subscriber at the initial {p} "
        f"({comp.personalisation:g}) and empathy ({comp.empathy:g}) | {money(comp_per_minute)} | "
        f"`companion.serving_cost` x (1 + `companion.personalisation_cost` x "
        f"{comp.personalisation:g} + `companion.empathy_cost` x {comp.empathy:g}); a free "
        f"user's memory costs `companion.free_memory` ({comp.free_memory:g}) as much |",
        f"| companion | review cost per user-day | {money(comp.review_cost)} | "
        "`companion.review_cost` |",
        f"| companion | cost of a free user's day at the whole free tier ({comp.free_minutes:g} min) "
        f"| {money(free_day)} | `serving_cost` + `responsiveness_cost` |",
        f"| companion | cost of a subscriber's day of {comp_use:g} min (a free user's: "
        f"{money(free_used_day)}) | {money(used_day)} | `serving_cost`; the minutes: {comp_why} |",
        f"| companion | subscription revenue per subscriber-day at the initial price "
        f"(${comp.price:g}/month) | {money(subscription)} | `companion.price` / 30 |",
        f"| companion | commerce revenue of a day of {comp_use:g} min at full attachment | "
        f"{money(commerce)} | `companion.commerce_rate` x minutes x attachment |",
        f"| companion | a subscriber's daily margin at {comp_use:g} min, no commerce | "
        f"{money(margin)} | subscription - cost |",
        f"| companion | paying share of users that breaks even: free users at the whole free "
        f"tier, subscribers at {comp_use:g} min, no commerce | {share(free_day, margin)} | "
        "free cost / (free cost + subscriber margin) |",
        f"| companion | the same, free users also at {comp_use:g} min | "
        f"{share(free_used_day, margin)} | |",
        f"| companion | the same, everyone at {comp_use:g} min and full attachment (commerce "
        f"from every user) | {share(free_used_day - commerce, margin + commerce)} | |",
        f"| both | acquiring a user by marketing | {money(feed.acquisition_cost)}, "
        f"{money(comp.acquisition_cost)} | `feed.acquisition_cost`, "
        "`companion.acquisition_cost`: paid once a join, not a day |",
        f"| feed | days of a {feed_use:g}-minute user's margin at the initial ad load that pay "
        f"for it | {feed.acquisition_cost / (feed_revenue * feed_use - feed_day):.3g} | "
        "acquisition / (ad revenue - cost) |",
        f"| companion | days of a subscriber's margin at {comp_use:g} min that pay for it | "
        f"{comp.acquisition_cost / margin:.3g} | acquisition / subscriber margin |",
        f"| companion | days of a free user at the whole free tier that cost as much | "
        f"{comp.acquisition_cost / free_day:.3g} | acquisition / free cost |",
    ]
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
    elif argv[:1] == ["breakeven"]:
        text = replace_between(text, "BREAKEVEN TABLE", breakeven_table())
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
