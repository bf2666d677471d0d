"""Channels are plugins in the core registry; each channel's provider is chosen by a dotted path
in the settings and follows the contract: accepted, permanent failure, anything else retried."""

from __future__ import annotations

import pytest
from django.apps import apps

from motcua.dossiers import outbox
from motcua.dossiers.models import OutboxMessage
from motcua.notifications import services
from motcua.notifications.channels import Channel, channels, without_diacritics
from motcua.notifications.models import Channel as ChannelChoice
from motcua.notifications.models import Notification
from motcua.notifications.providers import sms_segments
from tests.notifications import providers

from .conftest import make_due

pytestmark = pytest.mark.django_db
Status = Notification.Status
GATEWAYS = "tests.notifications.providers"


@pytest.fixture(autouse=True)
def _clean_gateway():
    providers.SENT.clear()
    yield
    providers.SENT.clear()


def sms() -> Notification:
    return Notification.objects.get(channel="sms")


def test_channels_are_registered_plugins_with_the_contract():
    assert channels.identifiers() == ["email", "sms", "zalo"]
    assert all(isinstance(channel, Channel) for channel in channels)
    assert set(channels.identifiers()) == set(ChannelChoice.values)


def test_the_app_registers_its_handler_to_run_outside_the_claims_transaction():
    outbox.HANDLERS.clear()
    outbox.OUTSIDE_TRANSACTION.clear()
    apps.get_app_config("notifications").ready()
    assert outbox.HANDLERS["notify"] is services.handle
    assert "notify" in outbox.OUTSIDE_TRANSACTION


def test_a_provider_plugin_is_chosen_by_dotted_path_and_built_with_its_options(world, settings):
    settings.MOTCUA_NOTIFY_SMS_PROVIDER = f"{GATEWAYS}.RecordingGateway"
    settings.MOTCUA_NOTIFY_SMS_OPTIONS = (
        '{"url": "https://sms.example/api", "brandname": "UBND-TH"}'
    )
    world.received()
    outbox.deliver_pending()

    [(options, message)] = providers.SENT
    assert options == {"url": "https://sms.example/api", "brandname": "UBND-TH"}
    row = sms()
    assert (message.channel, message.recipient, message.text) == ("sms", "0912345678", row.body)
    assert message.reference == f"motcua-{row.pk}"  # unique per event and channel
    assert (row.status, row.sandbox, row.provider) == (
        Status.SENT,
        False,
        f"{GATEWAYS}.RecordingGateway",
    )
    assert row.provider_message_id == "gw-1"
    assert row.provider_response == {"code": "00", "ok": True}


def test_a_gateway_that_is_down_is_retried_until_it_accepts(world, settings):
    settings.MOTCUA_NOTIFY_SMS_PROVIDER = f"{GATEWAYS}.DownGateway"
    world.received()
    assert outbox.deliver_pending() == (1, 1)
    row = sms()
    assert row.status == Status.FAILED
    assert row.error == "TemporaryFailure: HTTP 503 từ cổng SMS"
    assert OutboxMessage.objects.get(topic="notify.receive").delivered_at is None

    settings.MOTCUA_NOTIFY_SMS_PROVIDER = f"{GATEWAYS}.RecordingGateway"
    make_due()
    assert outbox.deliver_pending() == (1, 0)
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.SENT, 2)
    assert len(providers.SENT) == 1


def test_a_permanent_failure_is_recorded_and_not_retried(world, settings):
    settings.MOTCUA_NOTIFY_SMS_PROVIDER = f"{GATEWAYS}.BlockedNumberGateway"
    world.received()
    assert outbox.deliver_pending() == (2, 0)
    row = sms()
    assert row.status == Status.UNDELIVERABLE
    assert "từ chối nhận tin" in row.error
    assert not OutboxMessage.objects.filter(topic__startswith="notify", delivered_at=None).exists()


@pytest.mark.parametrize(
    ("path", "options", "message"),
    [
        (f"{GATEWAYS}.NotAProvider", "{}", "PROVIDER: tests.notifications.providers.NotAProvider"),
        (f"{GATEWAYS}.Nowhere", "{}", "PROVIDER: 'tests.notifications.providers' has no"),
        (f"{GATEWAYS}.RecordingGateway", "{brandname: UBND}", "OPTIONS: Expecting property"),
        (f"{GATEWAYS}.RecordingGateway", '["UBND"]', "OPTIONS: not a JSON object"),
    ],
)
def test_a_wrong_provider_setting_fails_loudly_and_is_retried_not_lost(
    world, settings, path, options, message
):
    settings.MOTCUA_NOTIFY_SMS_PROVIDER = path
    settings.MOTCUA_NOTIFY_SMS_OPTIONS = options
    world.received()
    assert outbox.deliver_pending() == (1, 1)
    row = sms()
    assert row.status == Status.FAILED
    assert f"ImproperlyConfigured: MOTCUA_NOTIFY_SMS_{message}" in row.error
    settings.MOTCUA_NOTIFY_SMS_PROVIDER = "motcua.notifications.providers.SandboxProvider"
    settings.MOTCUA_NOTIFY_SMS_OPTIONS = "{}"
    make_due()
    outbox.deliver_pending()
    row.refresh_from_db()
    assert row.status == Status.SENT


def test_an_email_address_that_is_not_one_is_undeliverable(world):
    dossier = world.received()
    dossier.applicant.email = "hang@"  # stored before validation was tightened, say
    dossier.applicant.save(update_fields=["email"])
    outbox.deliver_pending()
    row = Notification.objects.get(channel="email")
    assert row.status == Status.UNDELIVERABLE
    assert row.error == "Địa chỉ thư điện tử không hợp lệ: hang@"


def test_sms_parts_are_counted_as_gateways_bill_them():
    assert sms_segments("") == 0
    assert sms_segments("a" * 160) == 1
    assert sms_segments("a" * 161) == 2  # 153 characters a part once split
    assert sms_segments("a" * 307) == 3
    assert sms_segments("ấ" * 70) == 1  # anything outside GSM-7 is UCS-2
    assert sms_segments("ấ" * 71) == 2


def test_unaccented_text_keeps_case_and_turns_d_with_stroke_into_d():
    assert without_diacritics("Đặng Thị Hồng, ĐƯỜNG Lê Lợi") == "Dang Thi Hong, DUONG Le Loi"
