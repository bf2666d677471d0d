"""Provider plugins for the tests, loaded by dotted path like a real one would be."""

from __future__ import annotations

from motcua.notifications.providers import (
    OutgoingMessage,
    PermanentFailure,
    Provider,
    SendResult,
    TemporaryFailure,
)

SENT: list[tuple[dict, OutgoingMessage]] = []


class RecordingGateway(Provider):
    """A "real" gateway: keeps what it is given with the options it was built with."""

    def send(self, message: OutgoingMessage) -> SendResult:
        SENT.append((self.options, message))
        return SendResult(message_id=f"gw-{len(SENT)}", response={"code": "00", "ok": True})


class DownGateway(Provider):
    def send(self, message: OutgoingMessage) -> SendResult:
        raise TemporaryFailure("HTTP 503 từ cổng SMS")


class BlockedNumberGateway(Provider):
    def send(self, message: OutgoingMessage) -> SendResult:
        raise PermanentFailure("Số thuê bao đã từ chối nhận tin quảng cáo/brandname")


class NotAProvider:
    def __init__(self, **options):
        pass
