#!/usr/bin/env bash
# Production-style serving on one machine: migrate, collect static files, then gunicorn and the
# Huey task consumer side by side. Either one exiting stops the other, so systemd (deploy/) or
# the shell sees the failure.
#
# gunicorn runs gthread workers (motcua.ops.gunicorn.ThreadWorker): WEB_CONCURRENCY processes
# (default 2 per core), each with WEB_THREADS threads (default twice MOTCUA_MAX_IN_FLIGHT) of
# which at most MOTCUA_MAX_IN_FLIGHT (default 4) serve at a time; the spare threads answer the
# excess at once with 503 + Retry-After instead of letting it queue into time-outs
# (docs/deployment.md, "Overload"). Prometheus metrics of all the processes are summed through
# PROMETHEUS_MULTIPROC_DIR, emptied here at every start, and served at /metrics.
#
# Settings come from the environment (docs/configuration.md): DATABASE_URL, REDIS_URL,
# SECRET_KEY, ALLOWED_HOSTS, ... Without them it runs embedded (SQLite, local queue).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
BIN=$(dirname "$PY")
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
CORES=$(nproc 2>/dev/null || echo 2)
WORKERS=${WEB_CONCURRENCY:-$((CORES * 2))}
export MOTCUA_MAX_IN_FLIGHT=${MOTCUA_MAX_IN_FLIGHT:-4}
if [ "$MOTCUA_MAX_IN_FLIGHT" -gt 0 ]; then
    THREADS=${WEB_THREADS:-$((MOTCUA_MAX_IN_FLIGHT * 2))}
    if [ "$THREADS" -le "$MOTCUA_MAX_IN_FLIGHT" ]; then
        echo "serve.sh: WEB_THREADS ($THREADS) should exceed MOTCUA_MAX_IN_FLIGHT" \
             "($MOTCUA_MAX_IN_FLIGHT): without spare threads the excess waits instead of" \
             "being refused at once" >&2
    fi
else
    THREADS=${WEB_THREADS:-4}
fi
BACKLOG=${WEB_BACKLOG:-128}
HUEY_WORKERS=${HUEY_WORKERS:-2}

# (One-off commands keep no metrics files: only the web workers and their master do.)
env -u PROMETHEUS_MULTIPROC_DIR "$PY" manage.py migrate --noinput
env -u PROMETHEUS_MULTIPROC_DIR "$PY" manage.py collectstatic --noinput --verbosity 0

# Metrics files: in memory (/dev/shm) unless told otherwise; the previous run's are stale.
if [ -z "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
    if [ -d /dev/shm ]; then
        PROMETHEUS_MULTIPROC_DIR=/dev/shm/motcua-metrics-$PORT
    else
        PROMETHEUS_MULTIPROC_DIR=$PWD/var/metrics-$PORT
    fi
fi
export PROMETHEUS_MULTIPROC_DIR
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
find "$PROMETHEUS_MULTIPROC_DIR" -maxdepth 1 -type f -name '*.db' -delete

env -u PROMETHEUS_MULTIPROC_DIR "$PY" manage.py run_huey --workers "$HUEY_WORKERS" \
    --worker-type thread &
huey=$!
"$BIN/gunicorn" motcua.wsgi:application -c python:motcua.ops.gunicorn \
    --bind "$HOST:$PORT" --workers "$WORKERS" \
    --worker-class motcua.ops.gunicorn.ThreadWorker --threads "$THREADS" \
    --backlog "$BACKLOG" --keep-alive 5 --timeout 60 --graceful-timeout 20 \
    --max-requests 5000 --max-requests-jitter 500 --worker-tmp-dir /dev/shm \
    --access-logfile - &
web=$!
trap 'kill -TERM $web $huey 2>/dev/null; wait' INT TERM
wait -n $web $huey
status=$?
kill -TERM $web $huey 2>/dev/null || true
wait || true
exit $status
