"""Outbox rows are written with each change and delivered by their topic's handler."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from motcua.dossiers import outbox
from motcua.dossiers.models import OutboxMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def handlers():
    seen = []
    outbox.register_handler("notify", lambda m: seen.append(m.topic))
    yield seen
    outbox.HANDLERS.clear()


def test_messages_are_delivered_after_commit(world, handlers, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        world.received()
    # Huey runs immediately under the tests: submit and receive notices are out.
    assert handlers == ["notify.submit", "notify.receive"]
    assert not OutboxMessage.objects.filter(topic__startswith="notify", delivered_at=None).exists()
    # No sync handler yet: those messages wait for one.
    assert OutboxMessage.objects.filter(topic="sync.receive", delivered_at=None).count() == 1


def test_a_failing_handler_is_retried_later(world):
    world.received()

    def broken(message):
        raise RuntimeError("SMTP down")

    outbox.register_handler("notify", broken)
    try:
        delivered, failed = outbox.deliver_pending()
        assert (delivered, failed) == (0, 2)
        message = OutboxMessage.objects.filter(topic="notify.submit").get()
        assert message.attempts == 1
        assert "SMTP down" in message.last_error
        assert message.available_at > timezone.now() + dt.timedelta(seconds=20)
        # Not due yet: nothing is tried again.
        assert outbox.deliver_pending() == (0, 0)
        OutboxMessage.objects.update(available_at=timezone.now())
        outbox.register_handler("notify", lambda m: None)
        assert outbox.deliver_pending() == (2, 0)
    finally:
        outbox.HANDLERS.clear()


def test_command_delivers(world, handlers, capsys):
    world.received()
    call_command("deliver_outbox")
    assert "Đã gửi 2" in capsys.readouterr().out
    assert len(handlers) == 2


def test_backoff_grows_and_is_capped():
    assert outbox.backoff(1) == dt.timedelta(seconds=30)
    assert outbox.backoff(3) == dt.timedelta(minutes=2)
    assert outbox.backoff(50) == dt.timedelta(hours=6)
