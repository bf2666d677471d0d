"""Send one message now, to one address, through one channel: for messages that belong to no
dossier event (a one-time code at a citizen's registration).

It uses the channel plugins and the providers configured for them exactly as the dossier
notifications do (``MOTCUA_NOTIFY_<CHANNEL>_PROVIDER``), but writes no ``Notification`` row and
goes through no outbox: the caller is waiting for the answer. The text is not logged here —
it may hold a secret such as a one-time code; a failure is logged with the channel and the
masked address only.
"""

from __future__ import annotations

import logging
import uuid

from motcua.core import codes
from motcua.core.registry import RegistryError

from .channels import channels
from .providers import OutgoingMessage, PermanentFailure, SendResult, TemporaryFailure

log = logging.getLogger(__name__)


def _masked(channel: str, address: str) -> str:
    if channel == "email":
        name, _, domain = address.partition("@")
        return f"{name[:2]}…@{domain}"
    return codes.mask_phone(address)


def send_now(
    channel: str, address: str, *, text: str, subject: str = "", html: str = ""
) -> SendResult:
    """Send ``text`` (and for e-mail ``subject``, ``html``) to ``address`` on ``channel``.

    The address is normalised by the channel (``PermanentFailure`` if invalid); a short
    channel's text is finished as its dossier messages are (one line; SMS without diacritics
    unless ``MOTCUA_NOTIFY_SMS_UNICODE``). Raises ``PermanentFailure`` when the message will
    never go (invalid or refused address) and ``TemporaryFailure`` when it may go later (the
    provider is down, times out or cannot be built); returns the provider's ``SendResult``.
    """
    try:
        plugin = channels.get(channel)
    except RegistryError:
        raise PermanentFailure(f"Kênh thông báo «{channel}» không tồn tại.") from None
    recipient = plugin.normalize(address)
    finish = getattr(plugin, "finish", None)
    if finish is not None:
        text = finish(text)
    message = OutgoingMessage(
        channel=channel,
        recipient=recipient,
        text=text,
        subject=subject,
        html=html,
        reference=f"motcua-direct-{uuid.uuid4().hex}",
    )
    try:
        provider = plugin.provider()
        return provider.send(message)
    except PermanentFailure:
        log.warning("direct %s message to %s refused", channel, _masked(channel, recipient))
        raise
    except Exception as exc:
        log.warning(
            "direct %s message to %s failed: %s",
            channel,
            _masked(channel, recipient),
            type(exc).__name__,
        )
        raise TemporaryFailure(f"{type(exc).__name__}") from exc
