# Two commands for a newcomer: `make demo` (site with demo content) and `make test`.
# Everything runs from .venv/bin, so no virtualenv activation is needed.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-from-pyproject
PORT ?= 8000
MANAGE := $(BIN)/python manage.py
# Links printed by seed_demo and used in admin emails point at the port the demo really runs on.
DEMO_ENV := SITE_URL=$${SITE_URL:-http://127.0.0.1:$(PORT)}

.PHONY: help install demo run migrate seed test lint check worker beat clean-venv

help:
	@echo "make demo     create .venv, install, migrate, load demo content and serve on 127.0.0.1:\$$PORT (8000)"
	@echo "make test     run the test suite (pytest)"
	@echo "make lint     ruff"
	@echo "make check    Django system checks and missing migrations"
	@echo "make worker   a Celery worker (needs CELERY_BROKER_URL)"
	@echo "make beat     the Celery beat scheduler (needs CELERY_BROKER_URL)"

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is required (python3.11 or python3 on PATH)." >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is required; $(PYTHON) is $$($(PYTHON) --version)." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Reinstall only when pyproject.toml changed since the last install.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	$(MANAGE) migrate --noinput

seed: migrate
	$(DEMO_ENV) $(MANAGE) seed_demo

demo: seed
	$(DEMO_ENV) $(MANAGE) runserver 127.0.0.1:$(PORT)

run: install
	$(DEMO_ENV) $(MANAGE) runserver 127.0.0.1:$(PORT)

# pytest exits 5 when it collected no tests: that is a failure, not a pass.
test: install
	@set +e; $(BIN)/pytest $(PYTEST_ARGS); status=$$?; \
		if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing." >&2; exit 1; fi; exit $$status

lint: install
	$(BIN)/ruff check .

check: install
	$(MANAGE) check
	$(MANAGE) makemigrations --check --dry-run

worker: install
	@test -n "$$CELERY_BROKER_URL" || { echo "Set CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0)." >&2; exit 1; }
	$(BIN)/celery -A portal worker --loglevel=INFO

beat: install
	@test -n "$$CELERY_BROKER_URL" || { echo "Set CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0)." >&2; exit 1; }
	@mkdir -p var
	$(BIN)/celery -A portal beat --loglevel=INFO --schedule var/celerybeat-schedule

clean-venv:
	rm -rf $(VENV)
