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
# # Sensitivity and validation
#
# Two questions about trusting the model: **which assumptions do its outcomes hinge on?**
# (Sobol indices from a sampled design) and **how does it compare with published evidence?**
# (the validation scorecard of `sim validate`).
#
# Both are run here at a toy size so the notebook finishes in under a minute; the numbers are
# therefore rough. For real answers run `sim sweep experiments/sensitivity.toml --out DIR` and
# `sim validate`, and set `SENSITIVITY` and `SCORECARD` below to their outputs.

# %%
import tempfile
from pathlib import Path

import pandas as pd

from sim import analysis as an
from sim import plots
from sim.evidence import validation as v
from sim.sweeps.runner import InProcessExecutor
from sim.sweeps.sweep import sweep

SENSITIVITY = None  # e.g. "results/sensitivity"
SCORECARD = None  # e.g. "results/validation/validation.json"

# %% [markdown]
# ## Sobol sensitivity
# Saltelli sampling over three parameters (n = 8 base samples: 8 x (3 + 2) = 40 points), each
# point under two policies with the same seed, so the indices of the policy *difference* can
# be computed too.

# %%
if SENSITIVITY is None:
    work = Path(tempfile.mkdtemp())
    (work / "sobol.toml").write_text(
        'name = "sobol_small"\ndescription = "A small Sobol design"\n'
        'users = 200\ndays = 45\nreplications = 1\nbase_seed = 1\nscenario = "mixed"\n'
        '[grid]\npolicy = ["attention", "wellbeing"]\n'
        '[sample]\nmethod = "sobol"\nn = 8\nseed = 1\n'
        '[sample.ranges]\n"choice.impulse_weight" = [0.2, 1.5]\n"habit.formation" = [0.02, 0.10]\n'
        '"adaptation.interval" = [7, 21]\n'
        "[record]\nevery = 15\n"
    )
    sweep(work / "sobol.toml", work / "sobol", workers=1, quiet=True)
    SENSITIVITY = work / "sobol"
res = an.load(SENSITIVITY)
print(f"{len(res.runs)} runs over {res.sampled}")

# %%
indices = an.sensitivity(res, "wellbeing_mean", group="policy")
indices.pivot_table(
    index=["group", "parameter"], columns="index", values=["value", "ci_low", "ci_high"]
).round(3)

# %%
plots.sensitivity_figure(indices)

# %% [markdown]
# First-order indices (S1) give the share of the outcome's variance a parameter explains on
# its own; total indices (ST) include its interactions. Wide intervals mean too few samples.
# The same for the *difference* the policy makes:

# %%
contrast = an.sensitivity(
    res, "wellbeing_mean", group="policy", contrast=("wellbeing", "attention")
)
contrast.round(3)

# %% [markdown]
# ## Validation scorecard
# Each study is re-run as an in-silico version of its design and each finding scored against
# its published band. Here only De Freitas et al. (2024, AI companions and loneliness) is run,
# quickly; `sim validate` runs them all.

# %%
if SCORECARD is None:
    rows = v.run_studies(
        v.load_studies(["defreitas2024_loneliness"]), quick=True, executor=InProcessExecutor()
    )
    card = pd.DataFrame(rows)
else:
    card = an.scorecard(SCORECARD)
card[
    [
        "study",
        "finding",
        "target",
        "band_low",
        "band_high",
        "estimate",
        "ci_low",
        "ci_high",
        "status",
    ]
]

# %%
plots.scorecard_figure(card.astype(object).where(card.notna(), None).to_dict("records"))

# %%
print(f"{(card['status'] == 'pass').sum()} of {len(card)} findings within their published bands")
