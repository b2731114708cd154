# Self-documenting: `make help` lists the targets with their one-line descriptions.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.8
STAMP := $(VENV)/.synced-stamp

.DEFAULT_GOAL := help
.PHONY: help install run spark-stop test lint format

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml uv.lock
	@test -x $(UV) || { python3 -m venv $(VENV) && $(VENV)/bin/pip install --quiet uv==$(UV_VERSION); }
	$(UV) sync --frozen --quiet --compile-bytecode
	@touch $@

install: $(STAMP) ## create .venv and install the locked dependencies (uv.lock)

run: install ## run the main job locally on generated sample data and print the metrics
	$(PY) run.py churn-training

spark-stop: install ## stop the Spark server `make run` keeps warm between runs
	$(PY) -m local.kept_spark stop

test: install ## run lint and the whole test suite
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest

lint: install ## ruff lint + format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install ## apply ruff formatting and safe fixes
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
