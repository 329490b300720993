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
# # Comparing policies from a sweep
#
# The three provider objectives (attention-maximizing, intimacy-maximizing, wellbeing-aligned)
# side by side in the mixed market. Replication *k* of every policy runs with the same seed, so
# each policy is compared with the attention-maximizing baseline **seed by seed** (common
# random numbers): the mean of the per-seed differences, with a 95% Student-t interval.
#
# The sweep below is tiny (300 users, 60 days, 3 seeds) so the notebook runs in seconds. To
# analyse a real sweep, set `RESULTS` to its folder, e.g. the one `make demo` writes
# (`results/demo`) or `sim sweep experiments/headline.toml --out results/headline`.

# %%
import tempfile
from pathlib import Path

from sim import analysis as an
from sim.report import findings, plots
from sim.sweeps.sweep import sweep

RESULTS = None  # e.g. "results/demo"

# %%
if RESULTS is None:
    work = Path(tempfile.mkdtemp())
    (work / "policies.toml").write_text(
        'name = "policies_small"\n'
        'description = "The three provider policies in the mixed market, a small version"\n'
        "users = 300\ndays = 60\nreplications = 3\nbase_seed = 1\n"
        '[grid]\npolicy = ["attention", "intimacy", "wellbeing"]\n'
    )
    sweep(work / "policies.toml", work / "results", workers=1, quiet=True)
    RESULTS = work / "results"
res = an.load(RESULTS)
print(f"{len(res.runs)} runs; design factors: {res.factors}")
res.runs[["run_id", "label", "seed", *res.factors, "wellbeing_mean", "revenue_per_user_day"]].head()

# %% [markdown]
# ## Levels: each policy's mean over replications

# %%
levels = an.summarise(res.runs, res.factors, list(an.KEY_METRICS.values()))
levels.pivot_table(index=res.factors, columns="metric", values="mean").round(3)

# %% [markdown]
# ## Paired differences from the baseline
# `clear` is True when the 95% interval excludes zero; otherwise the model shows no clear
# effect. `effect_size` is the mean difference over the standard deviation of the per-seed
# differences; `relative` is the difference as a share of the baseline's mean.

# %%
spec = an.default_comparison(res)
comparison = an.compare(res.runs, spec["factor"], spec["baseline"], within=spec["within"])
comparison[
    [
        *spec["within"],
        "level",
        "metric",
        "n",
        "difference",
        "ci_low",
        "ci_high",
        "effect_size",
        "relative",
        "clear",
    ]
].round(4)

# %%
plots.comparison_figure(comparison)

# %% [markdown]
# ## In words
# The sentences a briefing would print, ranked by standardised size.

# %%
for f in findings.key_findings(comparison, spec["within"]):
    print("-", f["text"])

# %% [markdown]
# ## The trade-off and the dynamics

# %%
plots.tradeoff_figure(res.runs, res.factors)

# %%
bands = an.bands(res, ["wellbeing_mean", "revenue_per_user_day"], by=res.factors)
plots.timeseries_figure(bands, colour_by=res.factors, title="Wellbeing and revenue day by day")

# %% [markdown]
# ## A briefing
# `sim brief DIR --out brief.pdf` writes the same analysis as a briefing; from Python:

# %%
from sim.report import brief  # noqa: E402

html = brief.write(RESULTS, Path(tempfile.mkdtemp()) / "brief.html")
print(html, html.stat().st_size, "bytes")
