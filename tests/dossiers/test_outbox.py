"""Outbox rows are written with each change and delivered by their topic's handler."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from motcua.dossiers import outbox
from motcua.dossiers.models import OutboxMessage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def only_test_handlers():
    """Each test registers its own handlers; the apps' handlers come back afterwards."""
    saved = dict(outbox.HANDLERS), set(outbox.OUTSIDE_TRANSACTION)
    outbox.HANDLERS.clear()
    outbox.OUTSIDE_TRANSACTION.clear()
    yield
    outbox.HANDLERS.clear()
    outbox.HANDLERS.update(saved[0])
    outbox.OUTSIDE_TRANSACTION.clear()
    outbox.OUTSIDE_TRANSACTION.update(saved[1])


@pytest.fixture
def handlers():
    seen = []
    outbox.register_handler("notify", lambda m: seen.append(m.topic))
    return seen


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


def test_command_delivers(world, handlers, capsys):
    world.received()
    call_command("deliver_outbox")
    assert "Đã gửi 2" in capsys.readouterr().out
    assert len(handlers) == 2


def test_backoff_grows_and_is_capped():
    assert outbox.backoff(1) == dt.timedelta(seconds=30)
    assert outbox.backoff(3) == dt.timedelta(minutes=2)
    assert outbox.backoff(50) == dt.timedelta(hours=6)


# --- handlers with effects outside the database (atomic=False) --------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_outside_handler_runs_after_its_claim_is_committed(world):
    world.submit()
    seen = []

    def handler(message):
        # Not inside the claim's transaction: what the handler commits before it sends is
        # durable, and the claim itself already is.
        assert not connection.in_atomic_block
        row = OutboxMessage.objects.get(pk=message.pk)
        seen.append((row.attempts, row.available_at > timezone.now(), row.delivered_at))

    outbox.register_handler("notify", handler, atomic=False)
    assert outbox.deliver_pending() == (1, 0)
    assert seen == [(1, True, None)]
    message = OutboxMessage.objects.get(topic="notify.submit")
    assert message.delivered_at is not None and message.last_error == ""


def test_a_worker_dying_in_an_outside_handler_leaves_the_message_for_a_later_retry(world):
    world.submit()

    def dies(message):
        raise KeyboardInterrupt  # not an Exception: nothing after the claim runs

    outbox.register_handler("notify", dies, atomic=False)
    with pytest.raises(KeyboardInterrupt):
        outbox.deliver_pending()
    message = OutboxMessage.objects.get(topic="notify.submit")
    assert message.attempts == 1 and message.delivered_at is None
    # Claimed: not due again before the backoff, so no other worker takes it meanwhile.
    assert message.available_at > timezone.now() + dt.timedelta(seconds=20)
    assert outbox.deliver_pending() == (0, 0)
    OutboxMessage.objects.update(available_at=timezone.now())
    outbox.register_handler("notify", lambda m: None, atomic=False)
    assert outbox.deliver_pending() == (1, 0)


def test_an_outside_handlers_failure_is_retried_with_backoff(world):
    world.submit()

    def broken(message):
        raise RuntimeError("SMTP down")

    outbox.register_handler("notify", broken, atomic=False)
    assert outbox.deliver_pending() == (0, 1)
    message = OutboxMessage.objects.get(topic="notify.submit")
    assert (message.attempts, message.delivered_at) == (1, None)
    assert "RuntimeError: SMTP down" in message.last_error
    assert message.available_at > timezone.now() + dt.timedelta(seconds=20)


def test_registering_again_as_atomic_brings_the_transaction_back():
    outbox.register_handler("sync", lambda m: None, atomic=False)
    assert "sync" in outbox.OUTSIDE_TRANSACTION
    outbox.register_handler("sync", lambda m: None)
    assert "sync" not in outbox.OUTSIDE_TRANSACTION
    outbox.register_handler("sync", lambda m: None, atomic=False)
    outbox.unregister_handler("sync")
    assert "sync" not in outbox.OUTSIDE_TRANSACTION and "sync" not in outbox.HANDLERS
