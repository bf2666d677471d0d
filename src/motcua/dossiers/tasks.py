"""Huey tasks of the dossiers app (discovered by ``huey.contrib.djhuey``)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import outbox


@db_task(retries=3, retry_delay=10)
def deliver_outbox(dossier_id: int | None = None) -> tuple[int, int]:
    return outbox.deliver_pending(dossier_id=dossier_id)


@db_periodic_task(crontab(minute="*"))
def sweep_outbox() -> tuple[int, int]:
    """Catch up on anything a crashed worker or a lost enqueue left behind."""
    return outbox.deliver_pending(limit=1000)
