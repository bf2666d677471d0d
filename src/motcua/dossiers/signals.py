"""After a dossier's change is committed, ask Huey to deliver its outbox messages."""

from __future__ import annotations

import logging

from .services import dossier_changed

log = logging.getLogger(__name__)


def enqueue_delivery(sender, dossier_id: int, **kwargs) -> None:
    from . import outbox

    if not outbox.HANDLERS:
        return
    from .tasks import deliver_outbox

    try:
        deliver_outbox(dossier_id)
    except Exception:  # the queue being down must never fail the request: the sweep catches up
        log.exception("could not enqueue outbox delivery for dossier %s", dossier_id)


def connect() -> None:
    dossier_changed.connect(enqueue_delivery, dispatch_uid="dossiers.enqueue_delivery")
