"""A small province (tests/dossiers/world.py), the notify handler alone on the outbox, and a
real SMTP server (aiosmtpd on 127.0.0.1) with Django's SMTP backend pointed at it."""

from __future__ import annotations

import datetime as dt
import email
import logging
import socket
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from motcua.dossiers import outbox
from motcua.dossiers.models import OutboxMessage
from motcua.notifications.apps import connect
from tests.dossiers.world import build_world

# aiosmtpd logs every SMTP command at INFO.
logging.getLogger("mail.log").setLevel(logging.WARNING)


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture(autouse=True)
def notify_handler_only():
    """Only this app's handler, registered as the app does (another test may have cleared it)."""
    saved = dict(outbox.HANDLERS), set(outbox.OUTSIDE_TRANSACTION)
    outbox.HANDLERS.clear()
    outbox.OUTSIDE_TRANSACTION.clear()
    connect()
    yield
    outbox.HANDLERS.clear()
    outbox.HANDLERS.update(saved[0])
    outbox.OUTSIDE_TRANSACTION.clear()
    outbox.OUTSIDE_TRANSACTION.update(saved[1])


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def text(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.message.get_body(preferencelist=("html",)).get_content()


@dataclass
class Inbox:
    """An aiosmtpd handler keeping what arrives; ``refuse`` makes it refuse some recipients."""

    messages: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """A real SMTP server on a fixed free port, which tests can stop and start again."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def messages(self) -> list[Received]:
        return self.inbox.messages


@pytest.fixture
def smtp(settings):
    """Django's SMTP backend pointed at a server that is *not* started yet (``smtp.start()``)."""
    server = SmtpServer(free_port())
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "Một cửa Thanh Hóa <no-reply@motcua.example>"
    yield server
    server.stop()


@pytest.fixture
def smtp_server(smtp):
    smtp.start()
    return smtp


def make_due() -> None:
    """Let time pass: every message waiting for its backoff is due now."""
    OutboxMessage.objects.filter(delivered_at=None).update(
        available_at=timezone.now() - dt.timedelta(seconds=1)
    )


def redeliver() -> None:
    """What the outbox does after a crash between handling and marking: deliver it again."""
    OutboxMessage.objects.update(delivered_at=None, available_at=timezone.now())
    outbox.deliver_pending()
