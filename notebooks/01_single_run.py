# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Exploring a single run
#
# One simulation of the mixed market (feeds and AI companions competing for the same users'
# time), looked at three ways: its run-level summary, its daily series, and the per-user panel
# (wellbeing and loneliness by type of user). It is small (300 users, 60 days) so it runs in
# seconds; change `USERS`, `DAYS` and `POLICY` to explore. To look at a run you saved with
# `sim run --panel --out DIR`, set `FOLDER` to that folder.

# %%
import tempfile
from pathlib import Path

import pandas as pd

import sim
from sim import analysis as an
from sim import plots

USERS, DAYS, SEED = 300, 60, 1
POLICY = "attention"  # attention | intimacy | wellbeing
FOLDER = None  # or the folder of a saved run, e.g. "results/my_run"

# %%
if FOLDER is None:
    result = sim.run(scenario="mixed", policy=POLICY, users=USERS, days=DAYS, seed=SEED, panel=True)
    FOLDER = Path(tempfile.mkdtemp()) / "run"
    result.save(FOLDER)
run = an.load(FOLDER)
run.runs[["scenario", "policy", "seed", "users", "days"]]

# %% [markdown]
# ## The run's summary, by metric family
# Summary metrics average the last `run.summary_window` days (90 by default, the whole run
# when it is shorter); loyalty metrics come from users' spells with each provider. Shares are
# in percent. Wellbeing is the model's daily score from 0 (worst) to 2 (best), 1 neutral.

# %%
summary = pd.DataFrame(
    [
        {
            "family": family,
            "metric": m,
            "meaning": an.label(m),
            "unit": an.unit(m),
            "value": pd.to_numeric(run.runs[m]).iloc[0] * an.scale(m),  # shares in percent
        }
        for family, metrics in an.FAMILIES.items()
        for m in metrics
    ]
)
summary

# %% [markdown]
# ## Day by day
# With one run there is no spread across replications, so the bands collapse onto the line;
# with several seeds (next notebook) they show the 95% confidence interval.

# %%
bands = an.bands(run, ["minutes_per_user_day", "wellbeing_mean", "revenue_per_user_day"], by=[])
plots.timeseries_figure(
    bands, colour_by=[], title=f"A single run, {an.level_name('policy', POLICY)} providers"
)

# %%
run.timeseries[
    ["day", "feed_minutes_per_user_day", "companion_minutes_per_user_day", "loneliness_mean"]
].tail()

# %% [markdown]
# ## Who is doing well?
# The panel samples users every `run.panel_every` days. Users are typed by their baseline
# loneliness and self-control (above or below the median of each).

# %%
users = an.user_types(run)
users.groupby("user_type")[["wellbeing", "loneliness"]].describe().round(3)

# %%
plots.distribution_figure(users)
