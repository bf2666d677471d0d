"""Huey tasks of monitoring (discovered by ``huey.contrib.djhuey``).

The rollups themselves follow the outbox (``dossiers.tasks.sweep_outbox`` every minute); here
are the end-of-day snapshot and the violation sweep.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import rollups, violations

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="7"))
def take_daily_snapshots() -> list[str]:
    """Every hour: the in-progress snapshot of the days just ended (once their events are in)."""
    return [day.isoformat() for day in rollups.take_missing_snapshots()]


@db_periodic_task(crontab(minute="17"))
def sweep_violations() -> dict[str, int]:
    """Every hour: what became overdue (steps, dossiers, apologies), and a re-check of the last
    two hours' events (the outbox handler checks each event as it applies it)."""
    now = timezone.now()
    found = violations.sweep(now - dt.timedelta(hours=2), now, now=now)
    if any(found.values()):
        log.info("violations found by the sweep: %s", found)
    return found
