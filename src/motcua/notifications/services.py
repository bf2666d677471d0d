"""Telling the applicant: the outbox handler of topic ``notify``.

For each event worth a message (``events.KINDS``) and each channel the applicant wants and can
be reached on, one ``Notification`` row — never two, a unique constraint on (event, channel) —
goes through these states, each committed on its own:

    (none) → sending → sent
                     → failed → sending → …      (the outbox retries with backoff)
                     → undeliverable              (no or invalid address, refused: not retried)
    sending, older than MOTCUA_NOTIFY_SENDING_TIMEOUT → unknown   (not sent again)

The row is committed in ``sending`` *before* the provider is called. If the worker dies after
the provider accepted the message but before the row says ``sent``, the outbox delivers the
event again later, finds the row still ``sending`` and — once it is older than the time-out —
marks it ``unknown`` instead of sending a second time: **at most once** per event and channel
(an SMS costs money and a duplicate confuses; an officer can resend an ``unknown`` row from the
admin). A failure the provider reports (``failed``) is safe to retry and is retried.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from motcua.dossiers.models import Applicant, DossierEvent, OutboxMessage

from . import events
from .channels import Channel, channels
from .models import Notification, NotificationPreference
from .providers import OutgoingMessage, PermanentFailure

log = logging.getLogger(__name__)

TOPIC = "notify"
Status = Notification.Status


class RetryLater(Exception):
    """Some channel of the event is not through yet: the outbox tries again later."""


def sending_timeout() -> dt.timedelta:
    return dt.timedelta(seconds=int(getattr(settings, "MOTCUA_NOTIFY_SENDING_TIMEOUT", 600)))


def preference_of(applicant: Applicant) -> NotificationPreference:
    """The applicant's choice, or the default (unsaved) when they never made one."""
    try:
        return applicant.notification_preference
    except NotificationPreference.DoesNotExist:
        return NotificationPreference(applicant=applicant)


@dataclass(frozen=True)
class Route:
    channel: Channel
    address: str


def routes_for(applicant: Applicant) -> list[Route]:
    """The channels to use: those wanted for which the applicant has an address.

    When no wanted channel has an address, every wanted channel is returned (address '') so
    that the event is recorded as undeliverable: the desk sees who was not told. A channel
    nobody wants (the applicant opted out of everything) gives no route at all.
    """
    preference = preference_of(applicant)
    wanted = [
        Route(channel, channel.address(applicant))
        for channel in channels
        if preference.wants(channel.identifier)
    ]
    reachable = [route for route in wanted if route.address]
    return reachable or wanted


def handle(message: OutboxMessage) -> None:
    """Outbox handler for ``notify.<action>`` (registered with ``atomic=False``)."""
    if message.event_id is None:
        return
    event = (
        DossierEvent.objects.select_related(
            "dossier__applicant__notification_preference",
            "dossier__version",
            "dossier__procedure",
            "dossier__receiving_agency",
        )
        .filter(pk=message.event_id)
        .first()
    )
    if event is None:
        return
    kind = events.kind_of(event)
    if kind is None:
        return
    context = functools.cache(functools.partial(events.context, event, kind))
    pending = []
    for route in routes_for(event.dossier.applicant):
        try:
            notify(event, kind, route, context)
        except RetryLater as exc:
            pending.append(f"{route.channel.identifier}: {exc}")
    if pending:
        raise RetryLater("; ".join(pending))


def notify(
    event: DossierEvent, kind: str, route: Route, context: Callable[[], dict] | None = None
) -> Notification:
    """Send one event on one channel, at most once (module docstring); return its row.

    ``context`` gives the templates' context (built once for all channels of the event).
    Raises ``RetryLater`` when the channel should be tried again later.
    """
    if context is None:
        context = functools.partial(events.context, event, kind)
    row = _claim(event, kind, route, context)
    if row.status != Status.SENDING:
        return row
    return _send(row, route.channel)


def _claim(
    event: DossierEvent, kind: str, route: Route, context: Callable[[], dict]
) -> Notification:
    """Find or write the row and, if it is to be sent now, commit it as ``sending``."""
    now = timezone.now()
    with transaction.atomic():
        row = (
            Notification.objects.select_for_update()
            .filter(event=event, channel=route.channel.identifier)
            .first()
        )
        if row is None:
            try:
                with transaction.atomic():
                    return _new_row(event, kind, route, context(), now)
            except IntegrityError:  # another worker wrote it a moment ago
                raise RetryLater("đang được gửi ở tiến trình khác") from None
        if row.status == Status.SENDING:
            if row.sending_since and now - row.sending_since < sending_timeout():
                raise RetryLater("đang gửi")
            # The worker that was sending it died: it may or may not have gone out.
            row.status = Status.UNKNOWN
            row.error = (
                "Tiến trình gửi dừng giữa chừng; không rõ tin đã đi chưa nên không gửi lại tự động."
            )
            row.save(update_fields=["status", "error", "updated_at"])
            log.warning(
                "notification #%s: sending since %s, now unknown", row.pk, row.sending_since
            )
        elif row.status == Status.FAILED:
            _start(row, now)
            row.save(update_fields=["status", "attempts", "sending_since", "updated_at"])
        return row


def _start(row: Notification, now: dt.datetime) -> None:
    row.status = Status.SENDING
    row.attempts += 1
    row.sending_since = now


def _new_row(
    event: DossierEvent, kind: str, route: Route, context: dict, now: dt.datetime
) -> Notification:
    channel = route.channel
    content = channel.compose(kind, context)
    row = Notification(
        dossier=event.dossier,
        event=event,
        kind=kind,
        channel=channel.identifier,
        recipient=route.address[:254],
        subject=content.subject,
        body=content.text,
        html=content.html,
    )
    try:
        if not route.address:
            raise PermanentFailure(_no_address(channel.identifier))
        row.recipient = channel.normalize(route.address)
    except PermanentFailure as exc:
        row.status = Status.UNDELIVERABLE
        row.error = str(exc)
    else:
        _start(row, now)
    row.save()
    return row


def _no_address(channel: str) -> str:
    if channel == "email":
        return "Người nộp hồ sơ không có địa chỉ thư điện tử."
    return "Người nộp hồ sơ không có số điện thoại."


def _send(row: Notification, channel: Channel) -> Notification:
    """Call the provider (outside any transaction) and record what it said."""
    message = OutgoingMessage(
        channel=row.channel,
        recipient=row.recipient,
        subject=row.subject,
        text=row.body,
        html=row.html,
        reference=f"motcua-{row.pk}",
    )
    fields = ["status", "provider", "sandbox", "error", "updated_at"]
    try:
        # A provider that cannot even be built (a wrong setting) fails like a send: retried.
        provider = channel.provider()
        row.provider = f"{type(provider).__module__}.{type(provider).__qualname__}"[:200]
        row.sandbox = bool(provider.sandbox)
        result = provider.send(message)
    except PermanentFailure as exc:
        row.status, row.error = Status.UNDELIVERABLE, str(exc)
        _save(row, fields)
        return row
    except Exception as exc:
        row.status, row.error = Status.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
        _save(row, fields)
        raise RetryLater(row.error) from exc
    row.status, row.error = Status.SENT, ""
    row.sent_at = timezone.now()
    row.provider_message_id = (result.message_id or "")[:200]
    row.provider_response = result.response or {}
    _save(row, [*fields, "sent_at", "provider_message_id", "provider_response"])
    return row


def _save(row: Notification, fields: list[str]) -> None:
    with transaction.atomic():
        row.save(update_fields=fields)


RESENDABLE = (Status.FAILED, Status.UNKNOWN, Status.UNDELIVERABLE)


def resend(notification_id: int) -> Notification | None:
    """An officer's explicit resend of a row that did not (surely) go out.

    Takes the applicant's current address (it may have been corrected) and the message as it
    was written. Rows already sent, or being sent, are left alone.
    """
    now = timezone.now()
    with transaction.atomic():
        row = (
            Notification.objects.select_for_update()
            .select_related("dossier__applicant")
            .filter(pk=notification_id, status__in=RESENDABLE)
            .first()
        )
        if row is None:
            return None
        channel = channels.get(row.channel)
        try:
            address = channel.address(row.dossier.applicant)
            if not address:
                raise PermanentFailure(_no_address(row.channel))
            row.recipient = channel.normalize(address)
        except PermanentFailure as exc:
            row.status, row.error = Status.UNDELIVERABLE, str(exc)
            row.save(update_fields=["status", "error", "updated_at"])
            return row
        _start(row, now)
        row.save(update_fields=["recipient", "status", "attempts", "sending_since", "updated_at"])
    try:
        return _send(row, channel)
    except RetryLater:
        return row
