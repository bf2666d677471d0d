"""Providers: what actually carries a message (an SMTP server, an SMS gateway, Zalo ZNS).

**The contract for a provider plugin.** A provider is a class, named in the settings by its
dotted path (``MOTCUA_NOTIFY_EMAIL_PROVIDER``, ``MOTCUA_NOTIFY_SMS_PROVIDER``,
``MOTCUA_NOTIFY_ZALO_PROVIDER``), constructed with the options of its channel
(``MOTCUA_NOTIFY_<CHANNEL>_OPTIONS``, a JSON object: endpoint, brand name, keys …) as keyword
arguments, that implements ``send``::

    class ViettelSms(Provider):
        def __init__(self, *, url: str, brandname: str, token: str, timeout: float = 10):
            ...

        def send(self, message: OutgoingMessage) -> SendResult:
            # call the gateway with message.recipient and message.text;
            # message.reference is unique per (event, channel): pass it as the gateway's
            # idempotency key where it has one.
            ...
            return SendResult(message_id=answer["id"], response=answer)

``send`` returns a ``SendResult`` once the provider has accepted the message, raises
``PermanentFailure`` when it never will be (an invalid or blocked number, an address refused
by the server — recorded as *undeliverable*, not retried), and raises anything else
(``TemporaryFailure``, a time-out, a connection error) when it may work later: the row is
marked *failed* and the outbox tries again with a growing delay. ``send`` must not take longer
than ``MOTCUA_NOTIFY_SENDING_TIMEOUT`` (use time-outs on every network call).

``sandbox = True`` marks a provider that sends nothing; rows it handles are flagged in the
admin. ``SandboxProvider`` records what it would send, for tests, the demo and any channel not
yet contracted.
"""

from __future__ import annotations

import smtplib
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection


class NotificationError(Exception):
    """A message could not be sent."""


class TemporaryFailure(NotificationError):
    """It may work later: retried by the outbox."""


class PermanentFailure(NotificationError):
    """It will never work (no address, invalid address, refused): recorded, not retried."""


@dataclass(frozen=True)
class OutgoingMessage:
    channel: str
    recipient: str
    text: str
    subject: str = ""
    html: str = ""
    # Unique per (event, channel): "motcua-<notification id>". An idempotency key for
    # providers that accept one, and the Message-ID of e-mails.
    reference: str = ""


@dataclass(frozen=True)
class SendResult:
    message_id: str = ""
    response: dict[str, Any] = field(default_factory=dict)


class Provider:
    """The base of every provider (see the module docstring for the contract)."""

    sandbox = False

    def __init__(self, **options: Any) -> None:
        self.options = options

    def send(self, message: OutgoingMessage) -> SendResult:
        raise NotImplementedError


class SandboxProvider(Provider):
    """Sends nothing: answers as a gateway would, so the row records what would be sent."""

    sandbox = True

    def send(self, message: OutgoingMessage) -> SendResult:
        message_id = f"sandbox-{uuid.uuid4().hex[:16]}"
        return SendResult(
            message_id=message_id,
            response={
                "sandbox": True,
                "accepted": True,
                "channel": message.channel,
                "characters": len(message.text),
                "segments": sms_segments(message.text),
            },
        )


class DjangoEmailProvider(Provider):
    """E-mail through Django's e-mail backend (SMTP: ``EMAIL_HOST``, ``EMAIL_PORT``, …).

    Options: ``from_email`` (default ``DEFAULT_FROM_EMAIL``), ``reply_to`` (a list).
    """

    def send(self, message: OutgoingMessage) -> SendResult:
        headers = {}
        domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ") or "localhost"
        message_id = f"<{message.reference or uuid.uuid4().hex}@{domain}>"
        headers["Message-ID"] = message_id
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.text,
            from_email=self.options.get("from_email") or settings.DEFAULT_FROM_EMAIL,
            to=[message.recipient],
            reply_to=self.options.get("reply_to") or None,
            headers=headers,
            connection=get_connection(fail_silently=False),
        )
        if message.html:
            email.attach_alternative(message.html, "text/html")
        try:
            email.send()
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure(f"Máy chủ thư từ chối địa chỉ người nhận: {exc}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TemporaryFailure(f"{type(exc).__name__}: {exc}") from exc
        return SendResult(message_id=message_id, response={"backend": settings.EMAIL_BACKEND})


# GSM-7 basic characters (what an unaccented Vietnamese SMS uses); anything else is UCS-2.
_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


def sms_segments(text: str) -> int:
    """How many SMS a gateway bills for ``text``: 160/153 GSM-7 characters, or 70/67 UCS-2."""
    if not text:
        return 0
    single, multi = (160, 153) if set(text) <= _GSM7 else (70, 67)
    if len(text) <= single:
        return 1
    return -(-len(text) // multi)
