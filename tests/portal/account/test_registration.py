"""Registration with a phone number or an e-mail address, verified by a one-time code sent
through the notification channels (SMS: a recording gateway; e-mail: a real SMTP server)."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.utils import timezone

from motcua.accounts import citizens
from motcua.accounts.models import CitizenProfile, OneTimeCode
from tests.portal.account.helpers import DOWN_SMS, PASSWORD, last_code, make_citizen, sms_code

pytestmark = pytest.mark.django_db

REGISTER = "/tai-khoan/dang-ky/"
VERIFY = "/tai-khoan/dang-ky/xac-minh/"
User = get_user_model()


def register(client, identifier="0912 345 678", password=PASSWORD, password2=None):
    return client.post(
        REGISTER,
        {"identifier": identifier, "password1": password, "password2": password2 or password},
    )


def verify(client, code):
    return client.post(VERIFY, {"code": code})


def text(response) -> str:
    return response.content.decode()


def test_register_with_a_phone_number_and_the_code_it_received(client, sms):
    response = register(client, "+84 912 345 678")
    assert response.status_code == 302 and response["Location"] == VERIFY
    # Nothing but the code row exists until the code comes back.
    assert not User.objects.exists()
    row = OneTimeCode.objects.get()
    code = sms_code("0912345678")
    assert row.address == "0912345678" and row.channel == "sms"
    assert code not in row.code_hash and row.payload["password"] != PASSWORD
    page = client.get(VERIFY)
    assert "091*****78" in text(page)
    response = verify(client, code)
    assert response.status_code == 302 and response["Location"] == "/tai-khoan/"
    user = User.objects.get()
    assert user.username == "0912345678" and user.check_password(PASSWORD)
    profile = user.citizen_profile
    assert profile.phone == "0912345678" and profile.phone_verified
    assert not profile.email_verified
    assert client.session[SESSION_KEY] == str(user.pk)
    assert "Đăng ký tài khoản thành công" in text(client.get("/tai-khoan/"))
    row.refresh_from_db()
    assert row.used_at is not None and row.payload == {}
    # The SMS went through the channel: one line, without diacritics (the SMS default).
    assert "Ma xac minh dang ky tai khoan" in sms[-1].text


def test_register_with_an_email_address_through_a_real_smtp_server(client, smtp_server):
    assert register(client, "Hang.Nguyen@Example.VN").status_code == 302
    (mail,) = smtp_server.messages
    assert mail.recipients == ["hang.nguyen@example.vn"]
    subject = str(mail.message["Subject"]).strip()
    assert subject.startswith("Mã xác minh đăng ký tài khoản")
    assert last_code(mail.text) not in subject
    assert "Không cung cấp mã này cho bất kỳ ai" in mail.text
    assert verify(client, last_code(mail.text)).status_code == 302
    user = User.objects.get()
    assert user.username == "hang.nguyen@example.vn" and user.email == user.username
    assert user.citizen_profile.email_verified


def test_the_code_never_reaches_the_logs(client, sms, caplog):
    caplog.set_level(logging.DEBUG)
    register(client)
    code = sms_code("0912345678")
    verify(client, f"{(int(code) + 1) % 1_000_000:06d}")
    verify(client, code)
    assert User.objects.count() == 1
    assert all(code not in record.getMessage() for record in caplog.records)


def test_a_wrong_code_counts_and_says_how_many_tries_are_left(client, sms):
    register(client)
    code = sms_code("0912345678")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    response = verify(client, wrong)
    assert response.status_code == 400
    assert "Mã xác minh không đúng. Bạn còn 4 lần thử." in text(response)
    assert OneTimeCode.objects.get().attempts == 1
    assert not User.objects.exists()
    malformed = verify(client, "12ab")
    assert "Mã xác minh gồm đúng 6 chữ số." in text(malformed)
    assert OneTimeCode.objects.get().attempts == 1  # a typo of the wrong shape is not a guess


def test_too_many_wrong_codes_kill_the_code_even_for_the_right_one(client, sms):
    register(client)
    code = sms_code("0912345678")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _attempt in range(4):
        verify(client, wrong)
    fifth = verify(client, wrong)
    assert fifth.status_code == 429
    assert "Bạn đã nhập sai mã quá nhiều lần" in text(fifth)
    right = verify(client, code)
    assert right.status_code == 429
    assert "Bạn đã nhập sai mã quá nhiều lần" in text(right)
    assert not User.objects.exists()
    assert OneTimeCode.objects.get().attempts == 5


def test_an_expired_code_is_refused(client, sms):
    register(client)
    OneTimeCode.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = verify(client, sms_code("0912345678"))
    assert response.status_code == 400
    assert "Mã xác minh đã hết hạn" in text(response)
    assert not User.objects.exists()


def test_a_used_code_cannot_be_replayed(client, sms):
    register(client)
    code = sms_code("0912345678")
    row = OneTimeCode.objects.get()
    assert verify(client, code).status_code == 302
    # The same code again, in the same browser: nothing is pending any more.
    again = client.post(VERIFY, {"code": code}, follow=True)
    assert "Không có yêu cầu đăng ký nào đang chờ xác minh" in text(again)
    # And straight at the service, with the row's id (another session replaying it).
    with pytest.raises(citizens.CodeUsed) as caught:
        citizens.complete_registration(row.pk, code)
    assert caught.value.message == "Mã xác minh này đã được sử dụng. Mỗi mã chỉ dùng được một lần."
    assert User.objects.count() == 1 and CitizenProfile.objects.count() == 1


def test_asking_for_codes_again_and_again_is_throttled(client, sms, settings):
    register(client)
    soon = client.post(VERIFY, {"resend": "1"})
    assert soon.status_code == 429
    assert "Vui lòng chờ" in text(soon)
    assert OneTimeCode.objects.count() == 1 and len(sms) == 1
    settings.MOTCUA_CITIZEN_CODE_RESEND_SECONDS = 0
    for _n in range(4):
        assert client.post(VERIFY, {"resend": "1"}).status_code == 302
    sixth = client.post(VERIFY, {"resend": "1"})
    assert sixth.status_code == 429
    assert "quá nhiều mã xác minh trong một giờ" in text(sixth)
    assert OneTimeCode.objects.count() == 5 and len(sms) == 5
    # The newest code is the one that works.
    assert verify(client, sms_code("0912345678")).status_code == 302


def test_too_many_codes_from_one_client_are_throttled(client, sms, settings):
    settings.MOTCUA_CITIZEN_CODES_PER_HOUR_PER_CLIENT = 2
    assert register(client, "0912345678").status_code == 302
    assert register(client, "0987654321").status_code == 302
    third = register(client, "0911222333")
    assert third.status_code == 429
    assert "quá nhiều mã xác minh" in text(third)
    assert OneTimeCode.objects.count() == 2


@pytest.mark.parametrize(
    ("identifier", "taken", "message"),
    [
        ("0912345678", "+84912345678", "Số điện thoại này đã được đăng ký tài khoản"),
        ("hang@example.vn", "HANG@example.vn", "Địa chỉ thư điện tử này đã được đăng ký"),
    ],
)
def test_a_phone_or_address_already_registered_is_refused(client, sms, identifier, taken, message):
    make_citizen(identifier)
    response = register(client, taken)
    assert response.status_code == 400
    assert message in text(response)
    assert not OneTimeCode.objects.exists() and not sms


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("abc", "Mật khẩu quá ngắn: cần ít nhất 8 ký tự."),
        ("12345678901", "Mật khẩu không được chỉ gồm chữ số."),
        ("password", "Mật khẩu này quá phổ biến, dễ bị đoán."),
        ("0912345678x", "Mật khẩu quá giống số điện thoại hoặc địa chỉ thư điện tử của bạn."),
    ],
)
def test_a_weak_password_is_refused_in_vietnamese(client, sms, password, message):
    response = register(client, "0912345678", password)
    assert response.status_code == 400
    assert message in text(response)
    assert not OneTimeCode.objects.exists() and not sms


def test_two_different_passwords_and_bad_identifiers(client, sms):
    different = register(client, "0912345678", PASSWORD, PASSWORD + "x")
    assert "Hai mật khẩu đã nhập không khớp nhau." in text(different)
    landline = register(client, "024 3825 1234")
    assert "Số điện thoại di động gồm 10 chữ số" in text(landline)
    email = register(client, "hang@")
    assert "Địa chỉ thư điện tử không hợp lệ." in text(email)
    assert not OneTimeCode.objects.exists() and not sms


def test_a_gateway_that_is_down_leaves_nothing_behind(client, settings):
    settings.MOTCUA_NOTIFY_SMS_PROVIDER = DOWN_SMS
    response = register(client)
    assert response.status_code == 502
    assert "Chưa gửi được mã xác minh" in text(response)
    assert not OneTimeCode.objects.exists()
    assert "citizen_registration" not in client.session


def test_a_phone_registered_between_the_two_steps_is_refused_at_the_second(client, sms):
    register(client)
    code = sms_code("0912345678")
    make_citizen("0912345678", password="mat-khau-khac-2026")
    response = verify(client, code)
    assert response.status_code == 409
    assert "Số điện thoại này đã được đăng ký tài khoản" in text(response)
    assert User.objects.count() == 1
    assert OneTimeCode.objects.get().used_at is None  # nothing half-written


def test_verify_without_a_registration_goes_back_to_the_form(client, db):
    response = client.get(VERIFY)
    assert response.status_code == 302 and response["Location"] == REGISTER
