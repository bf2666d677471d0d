"""gunicorn glue: a gthread worker that tells the load shedder how long a request waited, and
the server hooks that keep the Prometheus multiprocess files tidy.

``scripts/serve.sh`` runs::

    gunicorn -c python:motcua.ops.gunicorn -k motcua.ops.gunicorn.ThreadWorker ...

* ``ThreadWorker`` — gunicorn's gthread worker; it notes when a connection became ready (a new
  connection accepted, or a kept-alive one readable again) and, in the thread that takes it up,
  how long it waited in between, for ``motcua.ops.shedding`` (``MOTCUA_MAX_QUEUE_MS``).
* ``child_exit`` (runs in the gunicorn master when a worker exits — recycled after
  ``--max-requests``, killed after a time-out, or stopped) — drops the dead worker's in-flight
  gauge and folds its counters and histograms into one archive file per kind, so the files (and
  the time ``/metrics`` takes) do not grow with every recycled worker while the totals never go
  down.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time

from gunicorn.workers.gthread import ThreadWorker as _GThreadWorker

LOCK_NAME = ".lock"  # the same file motcua.ops.metrics.reading_lock takes


class ThreadWorker(_GThreadWorker):
    def enqueue_req(self, conn):
        conn.motcua_ready_at = time.monotonic()
        super().enqueue_req(conn)

    def handle(self, conn):
        from motcua.ops import shedding

        ready = getattr(conn, "motcua_ready_at", None)
        shedding.set_queue_wait(None if ready is None else time.monotonic() - ready)
        try:
            return super().handle(conn)
        finally:
            shedding.set_queue_wait(None)


@contextlib.contextmanager
def _exclusive(directory: str):
    with open(os.path.join(directory, LOCK_NAME), "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def compact_dead_process(directory: str, pid: int) -> None:
    """Fold ``pid``'s counter and histogram files into ``<kind>_archive.db`` and delete them;
    delete its live gauge files. The values are added key by key (histogram buckets are stored
    per bucket, not cumulated), under the lock the scrape reads with.

    Every key is carried over, zeros included: the scrape lists only the buckets some file
    holds, so a series whose only values are archived would otherwise lose its empty buckets
    and, when no observation exceeded the largest bound, its ``le="+Inf"`` bucket."""
    from prometheus_client import multiprocess
    from prometheus_client.mmap_dict import MmapedDict

    with _exclusive(directory):
        multiprocess.mark_process_dead(pid, directory)
        for kind in ("counter", "histogram"):
            dead = os.path.join(directory, f"{kind}_{pid}.db")
            if not os.path.exists(dead):
                continue
            values = MmapedDict.read_all_values_from_file(dead)
            archive = MmapedDict(os.path.join(directory, f"{kind}_archive.db"))
            try:
                for key, value, timestamp, _pos in values:
                    current, _ts = archive.read_value(key)
                    archive.write_value(key, current + value, timestamp)
            finally:
                archive.close()
            os.remove(dead)


def child_exit(server, worker) -> None:
    """gunicorn server hook (master process)."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory or not os.path.isdir(directory):
        return
    try:
        compact_dead_process(directory, worker.pid)
    except Exception:  # never take the master down for the sake of metrics
        server.log.exception("metrics: could not fold the files of worker %s", worker.pid)
