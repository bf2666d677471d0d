"""What each event says, on each channel: Vietnamese, the facts the citizen needs, short texts
for SMS and Zalo. E-mail goes to Django's test outbox here (the SMTP path is test_delivery)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from motcua.dossiers import outbox, services
from motcua.dossiers.lifecycle import Action
from motcua.dossiers.models import Dossier
from motcua.dossiers.services import SYSTEM, ResultInput
from motcua.notifications.models import Notification, NotificationPreference
from motcua.printing import fmt
from tests.dossiers.actions import perform
from tests.dossiers.world import vn

pytestmark = pytest.mark.django_db
CODE = "000.00.01.H56-260302-0001"


@pytest.fixture
def dossier(world) -> Dossier:
    dossier = world.received()
    NotificationPreference.objects.create(applicant=dossier.applicant, zalo=True)
    return dossier


def sent(kind: str) -> dict[str, Notification]:
    """Deliver the outbox; the rows of ``kind`` by channel, each checked for the basics."""
    outbox.deliver_pending()
    found = {n.channel: n for n in Notification.objects.filter(kind=kind)}
    assert set(found) == {"email", "sms", "zalo"}
    for row in found.values():
        assert row.status == Notification.Status.SENT, row.error
    sms, zalo = found["sms"], found["zalo"]
    assert sms.body.isascii(), sms.body
    assert len(sms.body) <= 160, (len(sms.body), sms.body)
    assert len(zalo.body) <= 160, (len(zalo.body), zalo.body)
    assert "\n" not in sms.body and "\n" not in zalo.body
    email = found["email"]
    assert email.subject and "Kính gửi Nguyễn Thị Hằng," in email.body
    assert email.html.startswith("<!DOCTYPE html>")
    return found


def to_processing(world, dossier, at):
    services.assign(dossier, actor=world.leader, assignee=world.specialist, at=at)


def test_receipt(dossier):
    rows = sent("received")
    due = fmt.short_datetime(dossier.due_at)
    assert rows["email"].subject == f"Hồ sơ {CODE} đã được tiếp nhận"
    assert "Hồ sơ của ông/bà đã được tiếp nhận lúc 02/03/2026 09:00." in rows["email"].body
    assert rows["zalo"].body == (
        f"Hồ sơ {CODE} đã được tiếp nhận, hẹn trả {due}. "
        f"Tra cứu: http://127.0.0.1:8000/tra-cuu-ho-so/?code={CODE}"
    )
    assert rows["sms"].body == (
        f"Ho so {CODE} da duoc tiep nhan, hen tra {due}. "
        f"Tra cuu: http://127.0.0.1:8000/tra-cuu-ho-so/?code={CODE}"
    )


def test_supplement_request_lists_every_item(world, dossier):
    services.request_supplement(
        dossier,
        actor=world.counter,
        items=["Bản sao giấy khai sinh có chứng thực", "Tờ khai có đủ chữ ký"],
        reason="Tờ khai thiếu chữ ký người yêu cầu",
        at=vn(3, 10),
    )
    rows = sent("supplement_requested")
    email = rows["email"]
    assert email.subject == f"Hồ sơ {CODE} cần bổ sung, hoàn thiện"
    assert "1. Bản sao giấy khai sinh có chứng thực\n2. Tờ khai có đủ chữ ký" in email.body
    assert "Lý do: Tờ khai thiếu chữ ký người yêu cầu" in email.body
    assert "<li>Bản sao giấy khai sinh có chứng thực</li>" in email.html
    assert "không tính vào thời hạn giải quyết" in email.body
    assert f"Ho so {CODE} can bo sung 2 giay to, noi dung. Chi tiet:" in rows["sms"].body


def test_supplement_asked_at_intake_names_the_dossier_by_its_submission_date(world):
    dossier = world.submit(components=world.components(complete=False))
    services.request_supplement(
        dossier, actor=world.counter, items=["Bản sao giấy tờ chứng minh"], at=vn(2, 10)
    )
    outbox.deliver_pending()
    email = Notification.objects.get(kind="supplement_requested", channel="email")
    # No code before the dossier is received: the lookup link is the bare page.
    assert email.subject == "Hồ sơ nộp ngày 02/03/2026 cần bổ sung, hoàn thiện"
    assert "Mã hồ sơ" not in email.body and "?code=" not in email.body
    assert "Tra cứu hồ sơ: http://127.0.0.1:8000/tra-cuu-ho-so/" in email.body


def test_supplement_received_gives_the_new_appointment(world, dossier):
    services.request_supplement(dossier, actor=world.counter, items=["Tờ khai"], at=vn(3, 10))
    services.provide_supplement(dossier, actor=world.counter, at=vn(5, 10))
    dossier.refresh_from_db()
    rows = sent("supplement_received")
    assert f"Hẹn trả kết quả: {fmt.long_datetime(dossier.due_at)}." in rows["email"].body
    assert f"da nhan phan bo sung, hen tra {fmt.short_datetime(dossier.due_at)}" in rows["sms"].body


def test_payment_request_gives_amount_and_what_for(world, dossier):
    to_processing(world, dossier, vn(2, 10))
    services.request_payment(
        dossier, actor=world.specialist, amount=1_250_000, reason="Lệ phí trước bạ", at=vn(3, 9)
    )
    rows = sent("payment_requested")
    assert "Số tiền: 1.250.000 đồng" in rows["email"].body
    assert "Nội dung: Lệ phí trước bạ" in rows["email"].body
    assert "<strong>1.250.000 đồng</strong>" in rows["email"].html
    assert "de nghi nop 1.250.000 dong" in rows["sms"].body


def test_an_approved_extension_apologises_with_the_new_appointment(world, dossier):
    old_due = dossier.due_at
    perform(world, Action.PROPOSE_EXTENSION, dossier, vn(4, 9))
    outbox.deliver_pending()
    assert not Notification.objects.filter(kind="extended").exists()  # proposed: not yet
    perform(world, Action.DECIDE_EXTENSION, dossier, vn(4, 10))
    dossier.refresh_from_db()
    rows = sent("extended")
    email = rows["email"]
    assert email.subject == f"Thư xin lỗi và hẹn lại ngày trả kết quả hồ sơ {CODE}"
    assert "thành thật xin lỗi" in email.body
    assert "Lý do: Chờ xác minh" in email.body
    assert f"Ngày hẹn trả kết quả mới: {fmt.long_datetime(dossier.due_at)}." in email.body
    assert f"Ngày hẹn trước đó: {fmt.short_datetime(old_due)}." in email.body
    assert rows["sms"].body.startswith(
        f"Xin loi ong/ba: ho so {CODE} cham tra ket qua, hen lai "
        f"{fmt.short_datetime(dossier.due_at)}."
    )


def test_a_rejected_extension_says_nothing(world, dossier):
    perform(world, Action.PROPOSE_EXTENSION, dossier, vn(4, 9))
    services.decide_extension(dossier, actor=SYSTEM, approve=False, at=vn(4, 10))
    outbox.deliver_pending()
    assert not Notification.objects.exclude(kind="received").exists()


def test_internal_steps_say_nothing(world, dossier):
    to_processing(world, dossier, vn(2, 10))
    services.complete_step(dossier, actor=world.specialist, note="Hợp lệ", at=vn(2, 11))
    outbox.deliver_pending()
    assert set(Notification.objects.values_list("kind", flat=True)) == {"received"}


def finish(world, dossier):
    to_processing(world, dossier, vn(3, 9))
    services.complete_step(dossier, actor=world.specialist, note="Hồ sơ hợp lệ", at=vn(3, 9))
    services.complete_step(dossier, actor=world.dept_specialist, note="Đồng ý", at=vn(3, 9))
    services.complete_step(dossier, actor=world.leader, note="Duyệt", at=vn(3, 9))
    result = ResultInput(number="125/GCN-STP", signed_on=dt.date(2026, 3, 4), signer="Lê Văn Bình")
    services.record_result(dossier, actor=world.clerk, result=result, at=vn(4, 10))


def test_result_ready_says_where_to_collect_it(world, dossier):
    finish(world, dossier)
    rows = sent("result_ready")
    email = rows["email"]
    assert email.subject == f"Hồ sơ {CODE} đã có kết quả giải quyết"
    assert "Hồ sơ của ông/bà đã được giải quyết. Số, ký hiệu: 125/GCN-STP." in email.body
    assert (
        "Mời ông/bà đến nhận kết quả tại Bộ phận Một cửa của "
        "Trung tâm Phục vụ hành chính công tỉnh" in email.body
    )
    assert "moi ong/ba den nhan tai Bo phan Mot cua" in rows["sms"].body


def test_result_ready_by_post_says_it_will_be_posted(world):
    dossier = world.received(delivery="postal", delivery_address="Số 5, thôn Đông, Hạc Thành")
    finish(world, dossier)
    outbox.deliver_pending()
    email = Notification.objects.get(kind="result_ready", channel="email")
    assert "qua dịch vụ bưu chính công ích đến địa chỉ: Số 5, thôn Đông, Hạc Thành." in email.body


def test_returned_by_post_gives_the_waybill(world, dossier):
    finish(world, dossier)
    services.return_result(
        dossier, actor=world.counter, method="postal", waybill="EB123456789VN", at=vn(4, 15)
    )
    rows = sent("returned")
    assert rows["email"].subject == f"Hồ sơ {CODE} đã trả kết quả"
    assert "Mã vận đơn bưu chính: EB123456789VN." in rows["email"].body
    assert "Hình thức: Qua dịch vụ bưu chính công ích." in rows["email"].body
    assert "ma van don EB123456789VN" in rows["sms"].body


def test_refusal_gives_the_reason(world):
    dossier = world.submit()
    NotificationPreference.objects.create(applicant=dossier.applicant, zalo=True)
    services.refuse(
        dossier,
        actor=world.counter,
        reason="Hồ sơ không thuộc thẩm quyền giải quyết của cơ quan",
        at=vn(2, 10),
    )
    rows = sent("refused")
    assert rows["email"].subject == "Hồ sơ nộp ngày 02/03/2026 không được tiếp nhận"
    assert "Lý do: Hồ sơ không thuộc thẩm quyền giải quyết của cơ quan" in rows["email"].body
    assert rows["sms"].body == (
        "Ho so nop ngay 02/03/2026 khong duoc tiep nhan. "
        "Ly do: Ho so khong thuoc tham quyen giai quyet cua co quan"
    )


def test_stop_and_withdrawal(world, dossier):
    services.stop(dossier, actor=world.counter, reason="Công dân đề nghị dừng", at=vn(3, 9))
    rows = sent("stopped")
    assert rows["email"].subject == f"Hồ sơ {CODE} đã dừng giải quyết"
    assert "Nội dung: Công dân đề nghị dừng" in rows["email"].body

    other = world.received(applicant=world.applicant(), at=vn(2, 10))
    services.withdraw(other, actor=world.counter, reason="Rút để bổ sung", at=vn(3, 9))
    outbox.deliver_pending()
    email = Notification.objects.get(kind="withdrawn", channel="email")
    assert email.subject == f"Hồ sơ {other.code} đã được rút"
    assert "hồ sơ đã được rút lúc 03/03/2026 09:00" in email.body


def test_a_long_site_address_gives_the_sms_the_bare_lookup_page(world, settings):
    settings.MOTCUA_BASE_URL = "https://dichvucong.thanhhoa.gov.vn"
    world.received()
    outbox.deliver_pending()
    sms = Notification.objects.get(channel="sms").body
    assert sms.endswith("Tra cuu: https://dichvucong.thanhhoa.gov.vn/tra-cuu-ho-so/")
    assert len(sms) <= 160
    email = Notification.objects.get(channel="email").body
    assert f"https://dichvucong.thanhhoa.gov.vn/tra-cuu-ho-so/?code={CODE}" in email


def test_sms_with_diacritics_when_the_gateway_takes_unicode(world, settings):
    settings.MOTCUA_NOTIFY_SMS_UNICODE = True
    world.received()
    outbox.deliver_pending()
    sms = Notification.objects.get(channel="sms")
    assert sms.body.startswith(f"Hồ sơ {CODE} đã được tiếp nhận")
    # UCS-2: 67 characters a part once the text is longer than 70.
    assert len(sms.body) > 70
    assert sms.provider_response["segments"] == -(-len(sms.body) // 67)


def test_the_email_is_multipart_with_text_and_html(dossier):
    outbox.deliver_pending()
    [message] = mail.outbox
    assert message.to == ["hang@example.invalid"]
    assert message.subject == f"Hồ sơ {CODE} đã được tiếp nhận"
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html" and CODE in html


def test_what_officers_typed_is_escaped_in_html_and_kept_in_text(world):
    dossier = world.submit()
    services.refuse(dossier, actor=world.counter, reason="Thiếu <tờ khai> & chữ ký", at=vn(2, 10))
    outbox.deliver_pending()
    email = Notification.objects.get(kind="refused", channel="email")
    assert "Lý do: Thiếu &lt;tờ khai&gt; &amp; chữ ký" in email.html
    assert "Lý do: Thiếu <tờ khai> & chữ ký" in email.body
    sms = Notification.objects.get(kind="refused", channel="sms")
    assert sms.body.endswith("Ly do: Thieu <to khai> & chu ky")
