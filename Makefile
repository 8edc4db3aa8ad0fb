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

.PHONY: help install demo run migrate seed test browser vendor-axe node-tools html-check lighthouse lint check messages worker beat clean-venv bench

help:
	@echo "make demo     create .venv, install, migrate, load demo content and serve on 127.0.0.1:\$$PORT (8000)"
	@echo "make test     run the test suite (pytest); browser tests need Chromium: make browser"
	@echo "make browser  install Debian's Chromium for the browser tests (apt-get, as root or with sudo)"
	@echo "make html-check  Nu HTML Checker on every public template (npm vnu-jar, Debian's Java)"
	@echo "make lighthouse  Lighthouse 12 on home, article, statistics and directory (npm, Debian's Chromium)"
	@echo "make lint     ruff and the import contracts (import-linter)"
	@echo "make check    Django system checks and missing migrations"
	@echo "make messages update the interface translations (locale/*/LC_MESSAGES) and compile them"
	@echo "make bench    benchmarks (PostgreSQL and Redis needed; about 20 minutes): var/bench/results.md"
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
	@command -v $${CHROMIUM_PATH:-/usr/bin/chromium} >/dev/null || \
		echo "Chromium not found: the browser tests (tests/e2e) will be skipped. Install it with: make browser" >&2
	@set +e; $(BIN)/pytest $(PYTEST_ARGS); status=$$?; \
		if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing." >&2; exit 1; fi; exit $$status

# Browser tests drive Debian's Chromium (never a downloaded browser build). Needs root or sudo.
browser:
	@if command -v chromium >/dev/null; then echo "Chromium is installed: $$(command -v chromium)"; else \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -q && $$SUDO apt-get install -y --no-install-recommends chromium; fi

# axe-core for the accessibility tests is vendored in tests/e2e/vendor/; refresh it after changing its version
# in package.json (npm ci installs exactly what package-lock.json pins into the git-ignored node_modules/).
vendor-axe:
	npm ci --no-audit --no-fund
	cp node_modules/axe-core/axe.min.js node_modules/axe-core/LICENSE tests/e2e/vendor/

# The Nu HTML Checker (vnu-jar) and Lighthouse come from npm at the versions package-lock.json pins (never a
# downloaded browser or Java: vnu-jar's optional Java download is not run); Java 17 from Debian.
node-tools:
	@command -v java >/dev/null || { echo "Installing Java (Debian package default-jre-headless)..."; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -q && $$SUDO apt-get install -y -q --no-install-recommends default-jre-headless; }
	@[ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --ignore-scripts

# Every public template (page types, directory states, search, forms, error pages) through the Nu HTML Checker.
html-check: install node-tools
	REQUIRE_SERVICES=1 $(BIN)/pytest tests/e2e/test_html_validity.py -p no:cacheprovider -q

# Mobile Lighthouse on the demo served by gunicorn + whitenoise with production settings (about 3 minutes);
# reports in var/lighthouse/. Goals: accessibility, best practices, SEO 100; performance >= 95.
lighthouse: install node-tools
	$(BIN)/python tools/lighthouse.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

check: install
	$(MANAGE) check
	$(MANAGE) makemigrations --check --dry-run

# Interface translations: collect the marked strings into locale/<lang>/LC_MESSAGES/django.po for every
# non-default language of PORTAL_LANGUAGES (GNU gettext needed), then compile the .mo files the site reads.
MESSAGE_LANGUAGES ?= fr de es nl it pl
messages: install
	$(MANAGE) makemessages $(addprefix -l ,$(MESSAGE_LANGUAGES)) --no-obsolete \
		--ignore=node_modules --ignore=var --ignore=tests --ignore=bench --ignore=docs
	$(MANAGE) compilemessages $(addprefix -l ,$(MESSAGE_LANGUAGES)) --ignore=.venv --ignore=node_modules --ignore=var

worker: install
	@test -n "$$CELERY_BROKER_URL" || { echo "Set CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0)." >&2; exit 1; }
	$(BIN)/celery -A portal worker --loglevel=INFO

beat: install
	@test -n "$$CELERY_BROKER_URL" || { echo "Set CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0)." >&2; exit 1; }
	@mkdir -p var
	$(BIN)/celery -A portal beat --loglevel=INFO --schedule var/celerybeat-schedule

# Benchmarks (not part of `make test`): page serving, the same pages at demo and at scale size, subscribe bursts,
# a 5-minute soak, newsletter delivery.
# They use PostgreSQL and Redis on 127.0.0.1 (BENCH_REDIS_URL, default redis://127.0.0.1:6379/10, is flushed).
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/10
# seed_scale's size for bench/scale.py (1.0: 10,000 pages, 100,000 subscribers...; smaller for a quicker run).
BENCH_SCALE ?= 1.0
bench: install
	@command -v ab >/dev/null || { echo "Installing ApacheBench (Debian package apache2-utils)..."; \
		if [ "$$(id -u)" = 0 ]; then apt-get install -y -q apache2-utils; else sudo apt-get install -y -q apache2-utils; fi; }
	@mkdir -p var/bench
	BENCH_REDIS_URL=$(BENCH_REDIS_URL) $(BIN)/python bench/pages.py
	BENCH_REDIS_URL=$(BENCH_REDIS_URL) $(BIN)/python bench/scale.py --scale $(BENCH_SCALE)
	BENCH_REDIS_URL=$(BENCH_REDIS_URL) $(BIN)/python bench/subscribe.py --reuse
	BENCH_REDIS_URL=$(BENCH_REDIS_URL) $(BIN)/python bench/soak.py --reuse
	set -o pipefail; BENCH_BROKER_URL=$(BENCH_REDIS_URL) $(BIN)/python bench/send.py | tee var/bench/send.txt
	@if [ -f bench/mailchimp_sync.py ]; then \
		set -o pipefail; BENCH_REDIS_URL=$(BENCH_REDIS_URL) $(BIN)/python bench/mailchimp_sync.py | tee var/bench/mailchimp_sync.txt; fi
	$(BIN)/python bench/report.py

clean-venv:
	rm -rf $(VENV)
