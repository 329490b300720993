# Set-up and everyday commands. Each target creates .venv on a fresh machine if it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
DEMO_USERS ?= 5000
DEMO_DAYS ?= 365

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## demo: run the three provider policies side by side in the mixed market and compare them
demo: $(STAMP)
	@for policy in attention intimacy wellbeing; do \
		$(BIN)/sim run --policy $$policy --users $(DEMO_USERS) --days $(DEMO_DAYS) --seed 1 \
			--out results/demo/$$policy || exit 1; \
	done
	$(BIN)/sim compare results/demo/attention results/demo/intimacy results/demo/wellbeing

## test: install with the dev extras and run every test
test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check sim tests benchmarks

clean:
	rm -rf $(VENV) results/demo .pytest_cache
