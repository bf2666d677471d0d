"""Notifications end to end: dossier actions through the services, the outbox delivering, a
real SMTP server receiving, SMS and Zalo recorded by their sandboxes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from motcua.dossiers import outbox
from motcua.dossiers.models import OutboxMessage
from motcua.notifications.models import Notification, NotificationPreference
from motcua.printing import fmt
from tests.dossiers.world import PERSONAL_ID

from .conftest import make_due, redeliver

pytestmark = pytest.mark.django_db
Status = Notification.Status
CODE = "000.00.01.H56-260302-0001"


def rows(channel: str | None = None):
    found = Notification.objects.order_by("id")
    return list(found.filter(channel=channel) if channel else found)


def test_receipt_is_emailed_in_vietnamese_with_code_appointment_and_lookup_link(world, smtp_server):
    dossier = world.received()
    assert outbox.deliver_pending() == (2, 0)  # notify.submit (nothing to say), notify.receive

    [mail] = smtp_server.messages
    assert mail.recipients == ["hang@example.invalid"]
    # (Django folds the encoded subject onto the next line; the parser keeps that space.)
    assert mail.message["Subject"].strip() == f"Hồ sơ {CODE} đã được tiếp nhận"
    assert "Một cửa Thanh Hóa" in str(mail.message["From"])
    text = mail.text
    assert "Kính gửi Nguyễn Thị Hằng," in text
    assert f"Hẹn trả kết quả: {fmt.long_datetime(dossier.due_at)}." in text
    assert "Thủ tục: Thủ tục đăng ký hoạt động thử nghiệm" in text
    assert f"/tra-cuu-ho-so/?code={CODE}" in text
    html = mail.html
    assert f"<strong>{CODE}</strong>" in html
    assert f"<strong>{fmt.long_datetime(dossier.due_at)}</strong>" in html
    assert '<html lang="vi">' in html

    [row] = rows("email")
    assert (row.status, row.kind, row.sandbox, row.attempts) == (Status.SENT, "received", False, 1)
    assert row.recipient == "hang@example.invalid"
    assert row.provider_message_id == mail.message["Message-ID"]
    assert not OutboxMessage.objects.filter(topic__startswith="notify", delivered_at=None).exists()


def test_sms_and_zalo_are_recorded_by_their_sandboxes(world, smtp_server):
    world.received()
    NotificationPreference.objects.create(
        applicant=world_applicant(), email=True, sms=True, zalo=True
    )
    outbox.deliver_pending()

    sms, zalo = rows("sms")[0], rows("zalo")[0]
    for row in (sms, zalo):
        assert row.status == Status.SENT and row.sandbox is True
        assert row.recipient == "0912345678"
        assert row.provider == "motcua.notifications.providers.SandboxProvider"
        assert row.provider_response["sandbox"] is True
        assert row.provider_message_id.startswith("sandbox-")
        assert CODE in row.body and len(row.body) <= 160
    # SMS unaccented (one 160-character message); Zalo keeps the diacritics.
    assert sms.body.startswith(f"Ho so {CODE} da duoc tiep nhan, hen tra 09/03/2026")
    assert sms.body.isascii() and sms.provider_response["segments"] == 1
    assert zalo.body.startswith(f"Hồ sơ {CODE} đã được tiếp nhận, hẹn trả 09/03/2026")
    assert len(smtp_server.messages) == 1


def world_applicant():
    from motcua.dossiers.models import Applicant

    return Applicant.objects.get(personal_id=PERSONAL_ID)


def test_an_event_delivered_twice_is_sent_once_on_each_channel(world, smtp_server):
    world.received()
    outbox.deliver_pending()
    redeliver()  # as if the worker had died before marking the messages delivered
    redeliver()

    assert len(smtp_server.messages) == 1
    assert [(r.channel, r.kind, r.attempts) for r in rows()] == [
        ("email", "received", 1),
        ("sms", "received", 1),
    ]


def test_the_database_refuses_a_second_row_for_the_same_event_and_channel(world):
    from django.db import IntegrityError, transaction

    world.received()
    outbox.deliver_pending()
    row = rows("email")[0]
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(
            dossier=row.dossier, event=row.event, kind=row.kind, channel="email", body="x"
        )


def test_smtp_down_is_retried_later_and_sent_once_it_is_up(world, smtp):
    world.received()  # the server is not listening yet
    assert outbox.deliver_pending() == (1, 1)  # notify.submit done, notify.receive failed

    [email_row] = rows("email")
    assert email_row.status == Status.FAILED
    assert "ConnectionRefusedError" in email_row.error
    message = OutboxMessage.objects.get(topic="notify.receive")
    assert message.delivered_at is None and message.attempts == 1
    assert message.available_at > timezone.now() + dt.timedelta(seconds=20)
    assert "email:" in message.last_error
    # Not due yet: nothing is tried.
    assert outbox.deliver_pending() == (0, 0)

    smtp.start()
    make_due()
    assert outbox.deliver_pending() == (1, 0)
    [mail] = smtp.messages
    assert CODE in mail.message["Subject"]
    email_row.refresh_from_db()
    assert (email_row.status, email_row.attempts, email_row.error) == (Status.SENT, 2, "")
    # The SMS went out on the first try and was not sent again with the retry.
    [sms] = rows("sms")
    assert (sms.status, sms.attempts) == (Status.SENT, 1)


def test_no_email_and_no_phone_is_recorded_as_undeliverable_and_not_retried(world, smtp_server):
    world.received(applicant=world.applicant(email="", phone=""))
    assert outbox.deliver_pending() == (2, 0)

    assert [(r.channel, r.status) for r in rows()] == [
        ("email", Status.UNDELIVERABLE),
        ("sms", Status.UNDELIVERABLE),
    ]
    assert rows("email")[0].error == "Người nộp hồ sơ không có địa chỉ thư điện tử."
    assert rows("sms")[0].error == "Người nộp hồ sơ không có số điện thoại."
    assert not OutboxMessage.objects.filter(topic__startswith="notify", delivered_at=None).exists()
    make_due()
    assert outbox.deliver_pending() == (0, 0)
    assert smtp_server.messages == []


def test_an_address_the_server_refuses_is_undeliverable_and_not_retried(world, smtp_server):
    smtp_server.inbox.refuse.add("hang@example.invalid")
    world.received()
    assert outbox.deliver_pending() == (2, 0)

    [row] = rows("email")
    assert row.status == Status.UNDELIVERABLE
    assert "từ chối địa chỉ người nhận" in row.error
    assert smtp_server.messages == []


def test_default_preference_uses_the_channels_whose_address_is_known(world, smtp_server):
    world.received(applicant=world.applicant(email=""))
    outbox.deliver_pending()
    # A phone and no e-mail address: SMS only, and no "undeliverable" e-mail row as noise.
    assert [(r.channel, r.status) for r in rows()] == [("sms", Status.SENT)]
    assert smtp_server.messages == []


def test_the_applicants_choice_of_channels_is_respected(world, smtp_server):
    dossier = world.submit()
    NotificationPreference.objects.create(
        applicant=dossier.applicant, email=False, sms=False, zalo=True
    )
    from motcua.dossiers import services

    services.receive(dossier, actor=world.counter)
    outbox.deliver_pending()
    assert [(r.channel, r.status) for r in rows()] == [("zalo", Status.SENT)]
    assert smtp_server.messages == []


def test_an_applicant_who_opted_out_of_everything_gets_nothing(world, smtp_server):
    dossier = world.submit()
    NotificationPreference.objects.create(
        applicant=dossier.applicant, email=False, sms=False, zalo=False
    )
    from motcua.dossiers import services

    services.receive(dossier, actor=world.counter)
    assert outbox.deliver_pending() == (2, 0)
    assert rows() == [] and smtp_server.messages == []


class Crash(BaseException):
    """The worker process dying (not an Exception: nothing catches it)."""


def test_a_crash_after_sending_is_not_sent_again(world, smtp_server, monkeypatch, settings):
    """At most once: the row was committed as "sending" before the send; found again after
    the crash, it is left alone while it may still be in progress, then marked unknown."""
    from motcua.notifications import services

    settings.MOTCUA_NOTIFY_SENDING_TIMEOUT = 600
    world.received()
    real_save = services._save

    def crash_after_the_send(row, fields):
        raise Crash

    monkeypatch.setattr(services, "_save", crash_after_the_send)
    with pytest.raises(Crash):
        outbox.deliver_pending()
    monkeypatch.setattr(services, "_save", real_save)
    assert len(smtp_server.messages) == 1  # the e-mail went out…
    [row] = rows("email")
    assert row.status == Status.SENDING  # …but the row could not say so

    # The outbox delivers notify.receive again after the backoff: still "sending" (another
    # worker may be on it), so nothing is sent and the outbox will try again.
    make_due()
    outbox.deliver_pending()
    assert len(smtp_server.messages) == 1
    row.refresh_from_db()
    assert row.status == Status.SENDING
    message = OutboxMessage.objects.get(topic="notify.receive")
    assert message.delivered_at is None and "đang gửi" in message.last_error

    # Past the time-out the row is taken as lost: unknown, not resent; the event is done.
    Notification.objects.filter(pk=row.pk).update(
        sending_since=timezone.now() - dt.timedelta(seconds=601)
    )
    make_due()
    outbox.deliver_pending()
    row.refresh_from_db()
    assert row.status == Status.UNKNOWN and "không gửi lại" in row.error
    assert len(smtp_server.messages) == 1
    message.refresh_from_db()
    assert message.delivered_at is not None


def test_huey_delivers_right_after_the_commit(
    world, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        world.received()
    # Huey runs tasks at once under the tests: the e-mail is there without a sweep.
    [mail] = smtp_server.messages
    assert CODE in mail.message["Subject"]
