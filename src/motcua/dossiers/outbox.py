"""Delivery of the outbox: work written in the same transaction as a dossier's change.

Other apps (notifications, the national-portal sync, monitoring rollups) register a handler for
a topic prefix (``notify``, ``sync``); ``deliver_pending`` hands each pending message to its
handler and marks it delivered, or records the error and retries later with a growing delay.
Messages whose topic has no handler yet stay pending: they are delivered once one exists.

Delivery runs in Huey (``tasks.py``: right after each commit and every minute as a sweep) or
from the command line: ``manage.py deliver_outbox``.

A handler is called in one of two ways, chosen when it is registered:

* ``atomic=True`` (the default, for work that only writes to this database — rollups, …): the
  message is claimed, handled and marked delivered in one transaction, so the work happens
  exactly once with the mark.
* ``atomic=False`` (for work with effects outside the database — an e-mail, an SMS, a call to
  the national portal — which no rollback can undo): the claim is committed first (one more
  attempt, ``available_at`` pushed forward by the backoff, so other workers leave the message
  alone and a worker that dies mid-way leaves it to be retried), then the handler runs outside
  any transaction and can commit its own "about to send" records before it sends; the message
  is marked delivered, or its error recorded, afterwards. Such a handler must be idempotent:
  it is called again after a crash (see ``motcua.notifications``).
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
# Prefixes whose handler runs outside the claim's transaction (``atomic=False``).
OUTSIDE_TRANSACTION: set[str] = set()
MAX_ATTEMPTS = 12


def register_handler(prefix: str, handler: Handler, *, atomic: bool = True) -> None:
    """Deliver messages whose topic is ``prefix`` or starts with ``prefix.`` to ``handler``.

    ``atomic=False`` for a handler with effects outside the database (module docstring).
    """
    HANDLERS[prefix] = handler
    if atomic:
        OUTSIDE_TRANSACTION.discard(prefix)
    else:
        OUTSIDE_TRANSACTION.add(prefix)


def unregister_handler(prefix: str) -> None:
    HANDLERS.pop(prefix, None)
    OUTSIDE_TRANSACTION.discard(prefix)


def _match(topic: str) -> tuple[str, Handler] | None:
    for prefix, handler in HANDLERS.items():
        if topic == prefix or topic.startswith(prefix + "."):
            return prefix, handler
    return None


def handler_for(topic: str) -> Handler | None:
    found = _match(topic)
    return found[1] if found else None


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

    Each message is claimed and delivered in its own transaction (or, for ``atomic=False``
    handlers, claimed in one and marked in another); on PostgreSQL concurrent workers skip the
    rows another worker holds (``SKIP LOCKED``).
    """
    delivered = failed = 0
    if not HANDLERS:
        return 0, 0
    skip_locked = connection.features.has_select_for_update_skip_locked
    for _ in range(limit):
        now = timezone.now()
        claimed = None
        with transaction.atomic():
            rows = _pending(now)
            if dossier_id is not None:
                rows = rows.filter(dossier_id=dossier_id)
            message = rows.select_for_update(skip_locked=skip_locked).first()
            if message is None:
                break
            prefix, handler = _match(message.topic)  # type: ignore[misc]
            message.attempts += 1
            if prefix in OUTSIDE_TRANSACTION:
                # Claim: if this worker dies in the handler, the message is due again after
                # the backoff, like a failure; meanwhile other workers skip it.
                message.available_at = now + backoff(message.attempts)
                message.save(update_fields=["attempts", "available_at"])
                claimed = message
            else:
                ok = _deliver_atomically(message, handler, now)
        if claimed is not None:
            ok = _deliver_outside_transaction(claimed, handler)
        if ok:
            delivered += 1
        else:
            failed += 1
    return delivered, failed


def _deliver_atomically(message: OutboxMessage, handler: Handler, now: dt.datetime) -> bool:
    """Handle and mark in the caller's transaction; return whether it was delivered."""
    ok = True
    try:
        with transaction.atomic():
            handler(message)
    except Exception as exc:  # a handler's failure must not stop the others
        log.warning("outbox %s #%s failed: %s", message.topic, message.pk, exc)
        message.last_error = _error_text(exc)
        message.available_at = now + backoff(message.attempts)
        ok = False
    else:
        message.delivered_at = now
        message.last_error = ""
    message.save(update_fields=["attempts", "last_error", "available_at", "delivered_at"])
    return ok


def _deliver_outside_transaction(message: OutboxMessage, handler: Handler) -> bool:
    """Handle an already claimed message, then mark it; return whether it was delivered."""
    try:
        handler(message)
    except Exception as exc:  # a handler's failure must not stop the others
        log.warning("outbox %s #%s failed: %s", message.topic, message.pk, exc)
        now = timezone.now()
        OutboxMessage.objects.filter(pk=message.pk).update(
            last_error=_error_text(exc), available_at=now + backoff(message.attempts)
        )
        return False
    OutboxMessage.objects.filter(pk=message.pk).update(delivered_at=timezone.now(), last_error="")
    return True


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]
