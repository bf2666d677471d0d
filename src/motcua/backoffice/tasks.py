"""Background work of the back office (discovered by ``huey.contrib.djhuey``)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import periodic_task

from . import staging


@periodic_task(crontab(minute="17"))
def sweep_intake_staging() -> int:
    """Hourly: delete scans staged at the counter by forms that were never submitted."""
    return staging.sweep()
