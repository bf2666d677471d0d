#!/usr/bin/env bash
# Production-style serving on one machine: migrate, collect static files, then gunicorn (sync
# workers, WEB_CONCURRENCY of them, default 2 per core) and the Huey task consumer side by side.
# Either one exiting stops the other, so systemd (deploy/) or the shell sees the failure.
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
HUEY_WORKERS=${HUEY_WORKERS:-2}

"$PY" manage.py migrate --noinput
"$PY" manage.py collectstatic --noinput --verbosity 0

"$PY" manage.py run_huey --workers "$HUEY_WORKERS" --worker-type thread &
huey=$!
"$BIN/gunicorn" motcua.wsgi:application \
    --bind "$HOST:$PORT" --workers "$WORKERS" --worker-class sync \
    --backlog 2048 --timeout 60 --graceful-timeout 20 --max-requests 5000 \
    --max-requests-jitter 500 --worker-tmp-dir /dev/shm --access-logfile - &
web=$!
trap 'kill -TERM $web $huey 2>/dev/null; wait' INT TERM
wait -n $web $huey
status=$?
kill -TERM $web $huey 2>/dev/null || true
wait || true
exit $status
