"""Delivery of the outbox: work written in the same transaction as a dossier's change.

Other apps (notifications, the national-portal sync, monitoring rollups) register a handler for
a topic prefix (``notify``, ``sync``); ``deliver_pending`` hands each pending message to its
handler and marks it delivered, or records the error and retries later with a growing delay.
Messages whose topic has no handler yet stay pending: they are delivered once one exists.

Delivery runs in Huey (``tasks.py``: right after each commit and every minute as a sweep) or
from the command line: ``manage.py deliver_outbox``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from .models import OutboxMessage

log = logging.getLogger(__name__)

Handler = Callable[[OutboxMessage], None]
HANDLERS: dict[str, Handler] = {}
MAX_ATTEMPTS = 12


def register_handler(prefix: str, handler: Handler) -> None:
    """Deliver messages whose topic is ``prefix`` or starts with ``prefix.`` to ``handler``."""
    HANDLERS[prefix] = handler


def unregister_handler(prefix: str) -> None:
    HANDLERS.pop(prefix, None)


def handler_for(topic: str) -> Handler | None:
    for prefix, handler in HANDLERS.items():
        if topic == prefix or topic.startswith(prefix + "."):
            return handler
    return None


def backoff(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min, … capped at 6 hours."""
    return dt.timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 6 * 3600))


def _pending(now: dt.datetime):
    topics = Q(pk__in=[])
    for prefix in HANDLERS:
        topics |= Q(topic=prefix) | Q(topic__startswith=prefix + ".")
    return (
        OutboxMessage.objects.filter(topics, delivered_at__isnull=True, available_at__lte=now)
        .filter(attempts__lt=MAX_ATTEMPTS)
        .order_by("available_at", "id")
    )


def deliver_pending(limit: int = 200, *, dossier_id: int | None = None) -> tuple[int, int]:
    """Deliver up to ``limit`` due messages; return (delivered, failed).

    Each message is claimed and delivered in its own transaction; on PostgreSQL concurrent
    workers skip the rows another worker holds (``SKIP LOCKED``).
    """
    delivered = failed = 0
    if not HANDLERS:
        return 0, 0
    skip_locked = connection.features.has_select_for_update_skip_locked
    for _ in range(limit):
        now = timezone.now()
        with transaction.atomic():
            rows = _pending(now)
            if dossier_id is not None:
                rows = rows.filter(dossier_id=dossier_id)
            message = rows.select_for_update(skip_locked=skip_locked).first()
            if message is None:
                break
            handler = handler_for(message.topic)
            message.attempts += 1
            try:
                with transaction.atomic():
                    handler(message)
            except Exception as exc:  # a handler's failure must not stop the others
                log.warning("outbox %s #%s failed: %s", message.topic, message.pk, exc)
                message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                message.available_at = now + backoff(message.attempts)
                failed += 1
            else:
                message.delivered_at = now
                message.last_error = ""
                delivered += 1
            message.save(update_fields=["attempts", "last_error", "available_at", "delivered_at"])
    return delivered, failed
