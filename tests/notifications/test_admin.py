"""The admin: sent messages with masked recipients and filters, resend, preferences."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from motcua.dossiers import outbox
from motcua.notifications.models import Notification, NotificationPreference

pytestmark = pytest.mark.django_db
Status = Notification.Status
LIST = reverse("admin:notifications_notification_changelist")


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def sent(world):
    world.received(applicant=world.applicant(email="nguyenthihang@gmail.com"))
    outbox.deliver_pending()
    return {n.channel: n for n in Notification.objects.all()}


def test_the_list_masks_recipients(admin_client, sent):
    page = admin_client.get(LIST).content.decode()
    assert "***ang@gmail.com" in page
    assert "091*****78" in page
    assert "nguyenthihang" not in page and "0912345678" not in page
    assert "000.00.01.H56-260302-0001" in page


def test_the_list_filters_by_channel_and_status(admin_client, sent):
    Notification.objects.filter(channel="sms").update(status=Status.FAILED)
    by_channel = admin_client.get(LIST, {"channel__exact": "sms"}).context["cl"].queryset
    assert [n.channel for n in by_channel] == ["sms"]
    by_status = admin_client.get(LIST, {"status__exact": "sent"}).context["cl"].queryset
    assert [n.channel for n in by_status] == ["email"]


def test_the_detail_page_opens_read_only(admin_client, sent):
    url = reverse("admin:notifications_notification_change", args=[sent["email"].pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert b'name="_save"' not in response.content
    assert admin_client.get(reverse("admin:notifications_notification_add")).status_code == 403


def test_resend_sends_an_unknown_row_again_to_the_current_address(admin_client, sent, smtp_server):
    row = sent["email"]
    Notification.objects.filter(pk=row.pk).update(
        status=Status.UNKNOWN, sending_since=timezone.now() - dt.timedelta(hours=1)
    )
    applicant = row.dossier.applicant
    applicant.email = "hang.nguyen@example.vn"  # corrected at the desk
    applicant.save(update_fields=["email"])

    response = admin_client.post(
        LIST,
        {"action": "resend", "_selected_action": [row.pk, sent["sms"].pk]},
        follow=True,
    )
    messages = [str(m) for m in response.context["messages"]]
    assert "Đã xếp 1 thông báo vào hàng đợi gửi lại." in messages
    assert "Bỏ qua 1 thông báo đã gửi hoặc đang gửi." in messages
    [mail] = smtp_server.messages
    assert mail.recipients == ["hang.nguyen@example.vn"]
    row.refresh_from_db()
    assert (row.status, row.recipient, row.attempts) == (
        Status.SENT,
        "hang.nguyen@example.vn",
        2,
    )
    assert Notification.objects.get(channel="sms").attempts == 1  # sent already: left alone


def test_resend_without_an_address_stays_undeliverable(sent):
    from motcua.notifications.services import resend

    row = sent["email"]
    Notification.objects.filter(pk=row.pk).update(status=Status.FAILED)
    row.dossier.applicant.email = ""
    row.dossier.applicant.save(update_fields=["email"])
    assert resend(row.pk).status == Status.UNDELIVERABLE
    assert resend(sent["sms"].pk) is None  # sent: not resendable


def test_preferences_are_listed_masked_and_editable(admin_client, world, sent):
    applicant = sent["email"].dossier.applicant
    preference = NotificationPreference.objects.create(applicant=applicant)
    url = reverse("admin:notifications_notificationpreference_changelist")
    page = admin_client.get(url).content.decode()
    assert "***ang@gmail.com" in page and "091*****78" in page
    assert "0912345678" not in page
    change = reverse("admin:notifications_notificationpreference_change", args=[preference.pk])
    response = admin_client.post(
        change, {"applicant": applicant.pk, "email": "on", "zalo": "on"}, follow=True
    )
    assert response.status_code == 200
    preference.refresh_from_db()
    assert (preference.email, preference.sms, preference.zalo) == (True, False, True)


def test_only_officers_allowed_to_change_notifications_may_resend(
    client, sent, django_user_model, verified_login
):
    from django.contrib.auth.models import Permission

    viewer = django_user_model.objects.create_user("xem", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_notification"))
    verified_login(client, viewer)
    assert client.get(LIST).status_code == 200
    row = sent["email"]
    Notification.objects.filter(pk=row.pk).update(status=Status.UNKNOWN)
    client.post(LIST, {"action": "resend", "_selected_action": [row.pk]})
    row.refresh_from_db()
    assert row.status == Status.UNKNOWN
