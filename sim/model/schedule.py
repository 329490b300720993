"""The day's schedule, as data (ODD 3): each step names the function that runs it, the
mechanism switch it reads (``mechanisms.*``; None where there is none; ODD 7.0 says what an off
switch leaves running, such as socialising with ties frozen) and its ODD section. :meth:`sim.model.EconomyModel.step` runs the steps in this order, ``sim run
--profile`` times them by name and docs/tables.py writes the ODD's schedule table from it.

Every step is ``run(model, today)``: it reads the model's state and what earlier steps left in
``today`` (:class:`sim.model.economy.Today`), and writes only its own state and results.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sim.model import interventions, metrics, paths, policies
from sim.model.mechanisms import (
    adoption,
    attachment,
    business,
    dependence,
    experience,
    habit,
    learning,
    manipulation,
    social,
    time_budget,
    welfare,
    wellbeing,
)


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable
    switch: str | None
    odd: str
    does: str


SCHEDULE: tuple[Step, ...] = (
    Step(
        "paths",
        paths.step,
        None,
        "7.13",
        "parameters that follow a path over days take today's value",
    ),
    Step(
        "launch",
        adoption.launch,
        None,
        "7.11",
        "reset the day's adoption counters; providers launching today (day 0 for incumbents) "
        "get their initial users, leaving out users an intervention keeps away from them",
    ),
    Step(
        "interventions",
        interventions.start_day,
        None,
        "7.13",
        "recruit field-study samples; today's constraints from the interventions in force and "
        "the launch days; every lever's table with test arms and limits; friends' counts",
    ),
    Step(
        "choice",
        time_budget.step,
        "two_selves",
        "7.1, 7.2",
        "reflective values and impulsive pull; each budget split with and without the pull "
        "(compulsive minutes), self-set limits",
    ),
    Step(
        "manipulation",
        manipulation.step,
        "manipulation",
        "7.10",
        "perceived manipulation fades; some companion sessions end with a goodbye, which "
        "companions meet with tactics that add minutes within the day's caps",
    ),
    Step("habit", habit.step, "habit", "7.3", "habit stocks move toward today's use"),
    Step(
        "learning",
        learning.step,
        "learning",
        "7.4",
        "providers' knowledge (companions' emotional knowledge too) grows with use and fades "
        "without it",
    ),
    Step(
        "experience",
        experience.step,
        "experience",
        "7.16",
        "users learn how well the providers they used today suit them",
    ),
    Step(
        "attachment",
        attachment.step,
        "attachment",
        "7.5",
        "attachment to companions grows with days of feeling understood and decays",
    ),
    Step(
        "social",
        social.step,
        "social",
        "7.6",
        "socialising realised on ties; tie strength and loneliness (with the distress of "
        "unanswered dependence); days of companion use",
    ),
    Step(
        "dependence",
        dependence.step,
        "dependence",
        "7.15",
        "dependence on companions grows where they met social need people left unmet, and fades",
    ),
    Step(
        "business",
        business.step,
        None,
        "7.8",
        "revenue, cost and subscriptions paid per user and provider, ad impressions; "
        "subscriptions convert and cancel; free users a closed tier holds at the door pay or "
        "are turned away",
    ),
    Step(
        "welfare",
        welfare.step,
        None,
        "7.7",
        "what the day's realised minutes are worth on reflection, in $ (welfare, consumer "
        "surplus of feeds and of companions) and to wellbeing (consumption value)",
    ),
    Step("wellbeing", wellbeing.step, None, "7.7", "each user's wellbeing"),
    Step(
        "adoption",
        adoption.step,
        "adoption",
        "7.11, 7.12",
        "remembered value; every provider's quits, joins and switches from the same state",
    ),
    Step(
        "adaptation",
        policies.step,
        "adaptation",
        "7.9",
        "providers add today's objective and profit to their test windows; at a window's end "
        "they conclude their A/B tests and start the next ones",
    ),
    Step(
        "metrics",
        metrics.step,
        None,
        "7.14",
        "on day 0 the wellbeing reference; the day's series; the per-user panel on sampled days",
    ),
)
