# motcua — two commands for a newcomer: `make run` and `make test`.
# Needs only Python 3.11+ and make; everything else comes from the locked requirements.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000
# The public address (QR codes on Mẫu 01, links printed on start) follows the port.
export MOTCUA_BASE_URL ?= http://127.0.0.1:$(PORT)
export PYTHONDONTWRITEBYTECODE := 1

.DEFAULT_GOAL := help
.PHONY: help run serve test lint format migrate demo lock bench-clock clean

help:
	@echo "make run    - install, migrate, load the demo province and serve on http://127.0.0.1:$(PORT)"
	@echo "make serve  - production-style serving (gunicorn + task consumer), settings from the environment"
	@echo "make test   - lint, migration check and the whole test suite (SQLite; PostgreSQL too when CI=true)"
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

test: $(VENV)/.installed
	$(PY) scripts/run_tests.py

bench-clock: $(VENV)/.installed
	$(PY) benchmarks/bench_worktime.py

# API load benchmark on PostgreSQL behind gunicorn (scratch database motcua_bench, dropped and
# recreated): make bench-api BENCH_ARGS="--part lookup --seconds 30"
bench-api: $(VENV)/.installed
	$(PY) benchmarks/bench_api.py $(BENCH_ARGS)

lock:
	$(PY) -m pip install --quiet pip-tools
	$(VENV)/bin/pip-compile --quiet --generate-hashes --strip-extras --no-header --allow-unsafe \
		-o requirements/base.txt requirements/base.in
	$(VENV)/bin/pip-compile --quiet --generate-hashes --strip-extras --no-header --allow-unsafe \
		-o requirements/dev.txt requirements/dev.in

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache .hypothesis
