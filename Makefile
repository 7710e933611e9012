# OpticsERP developer entry points: `make demo` (scripted till day) and `make test` (everything CI runs).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
# Python dependencies of addons whose plain-Python parts the repo's tests import (connector_b's engine);
# the Odoo bench installs the same files (tests/setup/odoo_bench.py addon_requirements()).
ADDON_REQUIREMENTS := $(wildcard addons/*/requirements.txt)
PRETTIER_FILES := '**/*.{md,yaml,yml,json,xml,js}'
# `make test SUITES="lint unit+integration"` runs only the named suites (names: tests/setup/run-suites.py).
SUITES ?=

.PHONY: help venv deps demo test lint format test-fast test-poc test-load test-appliance test-odoo wheelhouse clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

$(STAMP): appliance/pyproject.toml appliance/emulator/pyproject.toml tests/appliance/requirements.txt \
          addons/lint-requirements.txt $(ADDON_REQUIREMENTS)
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip==24.3.1
	$(VPY) -m pip install -q -e 'appliance[test]' -e appliance/emulator -r tests/appliance/requirements.txt \
	  -r addons/lint-requirements.txt $(ADDON_REQUIREMENTS:%=-r %)
	touch $(STAMP)

$(NODE_STAMP): package.json
	npm install --no-audit --no-fund --silent
	touch $(NODE_STAMP)

venv: $(STAMP) ## Create .venv with the appliance package and the test tools

deps: ## Install the system packages the tests need (apt)
	bash tests/setup/install-deps.sh

demo: $(STAMP) ## Run the till stack on loopback through a scripted sales day
	@# The demo drives the stack with the test kit (tests/kit: launchers, stand-ins), hence the repo root.
	PYTHONPATH=$(CURDIR) $(VPY) appliance/demo/day.py

lint: $(STAMP) $(NODE_STAMP) ## ruff, import contracts, pylint-odoo, prettier --check, ansible-lint
	$(VENV)/bin/ruff check appliance tests addons monitoring
	$(VENV)/bin/ruff format --check appliance tests addons monitoring
	$(VENV)/bin/pylint --rcfile=addons/.pylintrc $$(ls -d addons/*/__manifest__.py | xargs -n1 dirname)
	@# Layering of the adapter, no test kit in the product, no cycles (contracts in appliance/pyproject.toml).
	$(VENV)/bin/lint-imports --no-cache appliance/pyproject.toml
	npx --no-install prettier --check $(PRETTIER_FILES)
	cd ansible && PATH=$(CURDIR)/$(VENV)/bin:$$PATH \
	  ANSIBLE_VAULT_PASSWORD_FILE=$(CURDIR)/tests/appliance/example-vault-password.txt \
	  ansible-lint --offline --strict -q

format: $(STAMP) $(NODE_STAMP) ## Format everything with the project's tools
	$(VENV)/bin/ruff format appliance tests addons monitoring
	$(VENV)/bin/ruff check --fix appliance tests addons monitoring
	npx --no-install prettier --write $(PRETTIER_FILES)

test: deps $(STAMP) $(NODE_STAMP) ## Install what the tests need and run every suite (what CI runs)
	@# Suites (lint, unit+integration, scenarios, appliance, odoo) are listed once, in the runner; it runs
	@# them all, prints one summary line per suite and fails on any failure or (CI=true) any skip.
	$(VPY) tests/setup/run-suites.py $(SUITES:%=--only %)

test-fast: $(STAMP) ## Unit and integration suites only (minutes, no scenarios)
	$(VPY) -m pytest tests/unit tests/integration

test-load: $(STAMP) ## Benchmarks with their printed figures
	$(VPY) -m pytest -s tests/load

test-appliance: $(STAMP) ## Booted till (nspawn + molecule: converge, idempotence, verify, drills) and the image
	$(VPY) -m pytest -s tests/appliance

test-odoo: $(STAMP) ## Odoo 17 bench: PostgreSQL, Odoo venv, Chromium, fresh DB, our addons with --test-enable
	@# Needs an Odoo 17.0 tree (ODOO_SRC, else /opt/odoo17; docs/odoo-bench.md); `make test` runs this
	@# target only when one is there, and otherwise says in one line that the Odoo suites were skipped.
	$(VPY) tests/setup/odoo_bench.py

wheelhouse: ## Build the till's wheelhouse (adapter + pinned dependencies) in build/wheelhouse
	appliance/build-wheelhouse.sh

test-poc: $(STAMP) ## Crash test and POC scenarios with their printed figures
	$(VPY) -m pytest -s tests/poc

clean: ## Remove the virtualenv, node_modules and caches
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache .hypothesis
