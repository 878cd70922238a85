# Fairshare — set-up, demo and tests. `make demo` and `make test` do everything
# on a fresh machine: virtualenv, Python packages, system packages, catalogs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
# The suite also runs on PostgreSQL when this server answers (or TEST_DATABASE_URL is set).
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := chromium fonts-noto-cjk poppler-utils

.PHONY: demo test test-sqlite test-postgres install system-deps translations i18n-extract i18n-update \
        i18n-init migrate worker bench clean help

help:
	@echo "make demo   - install, migrate, seed the demo group and start the portal on http://$(HOST):$(PORT)"
	@echo "make test   - install what the tests need and run the whole suite (SQLite, then PostgreSQL)"
	@echo "make bench  - run the benchmarks in bench/ (each prints one JSON object)"
	@echo "make i18n-extract / i18n-update / i18n-init LOCALE=xx - the message catalogs"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall when the pinned dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

# System packages: CJK fonts for PDFs, poppler-utils for PDF checks, Chromium for
# browser tests. Installed only when missing, so running this again costs nothing.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v pdftoppm >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	fc-list :lang=zh 2>/dev/null | grep -q . || missing="$$missing fonts-noto-cjk"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

translations: install
	$(BIN)/pybabel compile --statistics -d translations

i18n-extract: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 -o messages.pot --no-location --sort-output .

i18n-update: i18n-extract
	$(BIN)/pybabel update -i messages.pot -d translations --no-fuzzy-matching --ignore-obsolete

i18n-init: i18n-extract
	@test -n "$(LOCALE)" || (echo "usage: make i18n-init LOCALE=de" && exit 2)
	$(BIN)/pybabel init -i messages.pot -d translations -l $(LOCALE)

migrate: install
	$(BIN)/flask db upgrade

demo: install system-deps translations migrate
	@$(BIN)/flask seed-demo
	@echo
	@echo "Fairshare is starting on http://$(HOST):$(PORT) (Ctrl-C stops it and the job worker)."
	@echo
	@$(BIN)/flask demo-logins
	@echo
	@trap 'kill 0' EXIT INT TERM; \
	$(BIN)/flask jobs worker & \
	$(BIN)/gunicorn --workers 2 --threads 4 --bind $(HOST):$(PORT) --access-logfile - wsgi:app

worker: install
	$(BIN)/flask jobs worker

# The two runs are independent (their own databases, queues, ports and temporary
# folders), so they run side by side; each one's output is shown when it ends.
test: install system-deps translations
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

test-sqlite:
	@echo "== test suite on SQLite =="
	$(BIN)/python -m pytest -q

test-postgres:
	@url="$${TEST_DATABASE_URL:-$(PG_TEST_URL)}"; \
	if $(BIN)/python -c "import sys, psycopg2; psycopg2.connect(sys.argv[1], connect_timeout=3).close()" "$$url" 2>/dev/null; then \
	  echo "== test suite on PostgreSQL =="; \
	  TEST_DATABASE_URL="$$url" $(BIN)/python -m pytest -q; \
	else \
	  echo "PostgreSQL at $$url does not answer: PostgreSQL run skipped."; \
	fi

bench: install
	@for script in $(filter-out bench/_%,$(wildcard bench/*.py)); do echo "== $$script"; $(BIN)/python $$script; done

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info messages.pot
	find . -name '*.mo' -delete
