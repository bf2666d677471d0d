# motcua — two commands for a newcomer: `make run` and `make test`.
# Needs only Python 3.11+ and make; everything else comes from the locked requirements.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000
# The browser tests drive Debian's Chromium (Playwright cannot download its own browser here).
CHROMIUM ?= /usr/bin/chromium
# The public address (QR codes on Mẫu 01, links printed on start) follows the port.
export MOTCUA_BASE_URL ?= http://127.0.0.1:$(PORT)
export PYTHONDONTWRITEBYTECODE := 1

.DEFAULT_GOAL := help
.PHONY: help run serve test lint format migrate demo lock bench-clock clean chromium bench

help:
	@echo "make run    - install, migrate, load the demo province and serve on http://127.0.0.1:$(PORT)"
	@echo "make serve  - production-style serving (gunicorn + task consumer), settings from the environment"
	@echo "make test   - lint, migration check and the whole test suite (SQLite; PostgreSQL too when CI=true)"
	@echo "make bench  - mixed load on make serve + PostgreSQL: 2,000 users and a ramp (BENCH_DOSSIERS=100000)"
	@echo "make bench-clock - due-date benchmark (core.worktime)"
	@echo "make lock   - re-pin requirements/*.txt from requirements/*.in"

# The virtual environment is rebuilt whenever a lock file changes.
$(VENV)/.installed: requirements/base.txt requirements/dev.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes \
		-r requirements/base.txt -r requirements/dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

venv: $(VENV)/.installed

migrate: $(VENV)/.installed
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo

# Production-style: gunicorn (2 sync workers per core) + the Huey consumer; settings from the
# environment (docs/deployment.md). No demo data is loaded.
serve: $(VENV)/.installed
	PORT=$(PORT) scripts/serve.sh

run: demo
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: $(VENV)/.installed chromium
	MOTCUA_CHROMIUM=$(CHROMIUM) $(PY) scripts/run_tests.py

# Chromium for the browser tests: installed with apt-get when missing and we are root; otherwise
# one line, and the browser tests skip (under CI=true they fail instead).
chromium:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Chromium for the browser tests (apt-get install -y chromium)..."; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
			|| echo "Chromium could not be installed: the browser tests will skip (fail under CI=true)."; \
	else \
		echo "No Chromium at $(CHROMIUM) and no way to install it here (needs root and apt-get): the browser tests will skip (fail under CI=true)."; \
	fi

bench-clock: $(VENV)/.installed
	$(PY) benchmarks/bench_worktime.py

# API load benchmark on PostgreSQL behind gunicorn (scratch database motcua_bench, dropped and
# recreated): make bench-api BENCH_ARGS="--part lookup --seconds 30"
bench-api: $(VENV)/.installed
	$(PY) benchmarks/bench_api.py $(BENCH_ARGS)

# Mixed load on production serving (scripts/serve.sh, PostgreSQL at 127.0.0.1:5432, scratch
# database motcua_bench_mixed with BENCH_DOSSIERS dossiers from benchmarks/synth.py): the
# 2,000-user scenario and a ramp to the breaking point, report in var/bench/mixed-*.md.
#   make bench BENCH_DOSSIERS=1000000 BENCH_ARGS="--reuse --scenario ramp"
BENCH_DOSSIERS ?= 100000
bench: $(VENV)/.installed
	$(PY) benchmarks/bench_mixed.py --dossiers $(BENCH_DOSSIERS) $(BENCH_ARGS)

lock:
	$(PY) -m pip install --quiet pip-tools
	$(VENV)/bin/pip-compile --quiet --generate-hashes --strip-extras --no-header --allow-unsafe \
		-o requirements/base.txt requirements/base.in
	$(VENV)/bin/pip-compile --quiet --generate-hashes --strip-extras --no-header --allow-unsafe \
		-o requirements/dev.txt requirements/dev.in

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache .hypothesis
