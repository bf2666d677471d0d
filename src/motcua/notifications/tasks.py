"""Huey tasks of the notifications app (discovered by ``huey.contrib.djhuey``)."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from . import services


@db_task()
def resend(notification_id: int) -> str:
    """An officer's resend from the admin; returns the row's status afterwards."""
    row = services.resend(notification_id)
    return row.status if row is not None else ""
