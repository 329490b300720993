# Set-up and everyday commands. Each target creates .venv on a fresh machine if it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
DEMO_REPLICATIONS ?= 5
LINTED := sim tests benchmarks docs notebooks
CHROMIUM := /usr/bin/chromium
PORT ?= 8765

.PHONY: demo test dashboard jupyter ablation transition lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## demo: the transition experiment (ad-funded feeds alone for a year, then AI companions enter and
## improve while their serving cost falls; five years under each provider objective, without
## regulation, with a ban on manipulative farewells and with a 5% ad-load cap; 2,000 users,
## 5 paired seeds), a quick validation scorecard, every figure, and the policy briefing as
## results/demo/brief.html and brief.pdf: page one answers the essay's questions (loyalty, human
## connection in the short and long run, who earns and who pays, regulation) with intervals from
## the runs, and tests its claims (the runs take 7.4 CPU-minutes, the scorecard, figures and
## briefings about two more minutes: about 6 minutes on 2 idle cores, 18 measured on 2 cores
## shared with three other sweeps; fewer replications with DEMO_REPLICATIONS=3)
demo: $(STAMP)
	rm -rf results/demo
	$(BIN)/sim sweep experiments/transition.toml --out results/demo --replications $(DEMO_REPLICATIONS)
	@$(BIN)/python -c "import pandas as pd; \
		runs = pd.read_parquet('results/demo/runs.parquet'); \
		cols = ['minutes_per_user_day', 'companion_minutes_per_user_day', 'wellbeing_mean', 'revenue_per_user_day']; \
		print('means over replications, last 180 days:'); \
		print(runs.groupby(['case', 'policy'])[cols].mean().round(3).to_string())"
	$(BIN)/sim validate --quick --quiet --out results/demo/validation
	$(BIN)/sim plot results/demo
	$(BIN)/sim brief results/demo --out results/demo/brief.html
	$(BIN)/sim brief results/demo --out results/demo/brief.pdf

## test: install with the dev extras (and, as root, Debian's chromium for the dashboard's
## browser test) and run every test
test: $(STAMP) $(CHROMIUM)
	$(BIN)/python -m pytest -q

# the dashboard's browser test drives Debian's chromium; installed here only when it is missing
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else echo "$(CHROMIUM) is missing: the dashboard's browser test needs it (apt-get install chromium as root)"; fi

## dashboard: serve the interactive dashboard on http://127.0.0.1:$(PORT) (Ctrl-C stops it)
dashboard: $(STAMP)
	$(BIN)/sim dashboard --port $(PORT)

## jupyter: install JupyterLab and the kernel into .venv (the notebooks extra) and register the
## environment as the Jupyter kernel "Python (attention-intimacy-sim)"; then
## .venv/bin/jupyter lab notebooks/
jupyter: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,notebooks]'
	$(BIN)/python -m ipykernel install --user --name attention-intimacy-sim \
		--display-name "Python (attention-intimacy-sim)"
	@echo "open the notebooks with: $(BIN)/jupyter lab notebooks/"

## ablation: the quick scorecard with each mechanism switched off in turn, into results/ablation,
## and the table of docs/ODD.md section 10 rewritten from it (a few minutes on 2 cores)
ablation: $(STAMP)
	$(BIN)/sim validate --quick --quiet --out results/ablation/all_on
	for m in $$($(BIN)/python -c "from sim.evidence.validation import MECHANISMS; print(*MECHANISMS)"); do \
		$(BIN)/sim validate --quick --quiet --ablate $$m --out results/ablation/$$m || exit 1; done
	$(BIN)/python docs/tables.py ablation results/ablation

## transition: the transition experiment (a year of ad-funded feeds alone, then companions that
## enter and improve for three years; five years under each policy, without regulation, with a
## ban on manipulative farewells and with an ad-load cap; 5 paired seeds) into
## results/transition, with its figures and briefing (7.4 CPU-minutes: 4 to 8 minutes on 2 cores)
transition: $(STAMP)
	rm -rf results/transition
	$(BIN)/sim sweep experiments/transition.toml --out results/transition
	$(BIN)/sim plot results/transition
	$(BIN)/sim brief results/transition --out results/transition/brief.html

## lint: ruff's checks and its formatter, as CI runs them (the formatter sets the layout)
lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)

clean:
	rm -rf $(VENV) results/demo .pytest_cache
