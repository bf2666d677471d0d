"""Background work of online submission (discovered by ``huey.contrib.djhuey``)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import services


@db_periodic_task(crontab(minute="23"))
def sweep_drafts_and_uploads() -> dict[str, int]:
    """Hourly: expire old drafts, delete expired uploads and their partial files."""
    return services.sweep()
