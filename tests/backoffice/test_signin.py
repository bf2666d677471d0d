"""Sign-in: password through django-axes, TOTP for leaders, sign-out (test client)."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from motcua.accounts.models import ApiToken, Role, Scope
from motcua.backoffice.signin import PENDING_KEY

from .conftest import PASSWORD, confirmed_device, current_code, make_officer

# The real routes and gate; the pages other modules own render the bare layout.
pytestmark = pytest.mark.urls("tests.backoffice.gate_urls")

LOGIN = "/can-bo/dang-nhap/"
VERIFY = "/can-bo/xac-thuc/"
SETUP = "/can-bo/xac-thuc/thiet-lap/"


def sign_in(client, username, password=PASSWORD, headers=None, **extra):
    data = {"username": username, "password": password, **extra}
    return client.post(LOGIN, data, headers=headers)


def signed_in_as(client):
    return client.session.get(SESSION_KEY)


def wait_out_throttle(device):
    """As if the officer waited: a wrong code makes the device refuse for a moment."""
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    )


# --- password ------------------------------------------------------------------------------


def test_the_sign_in_page_is_in_vietnamese(client, db):
    html = client.get(LOGIN).content.decode()
    assert "<h1>Đăng nhập cán bộ</h1>" in html
    assert "Tên đăng nhập" in html and "Mật khẩu" in html
    assert 'autocomplete="current-password"' in html


def test_a_counter_officer_signs_in_with_the_password_alone(client, officers):
    response = sign_in(client, "tiepnhan")
    assert response.status_code == 302
    assert response["Location"] == "/can-bo/"
    assert signed_in_as(client) == str(officers.counter.pk)
    assert client.get("/can-bo/")["Location"] == "/can-bo/tiep-nhan/"


def test_sign_in_returns_to_the_page_asked_for_but_never_to_another_site(client, officers):
    response = sign_in(client, "tiepnhan", next="/can-bo/so-theo-doi/")
    assert response["Location"] == "/can-bo/so-theo-doi/"
    client.logout()
    response = sign_in(client, "tiepnhan", next="https://evil.example/can-bo/")
    assert response["Location"] == "/can-bo/"


def test_a_wrong_password_says_so_in_vietnamese_and_signs_nobody_in(client, officers):
    response = sign_in(client, "tiepnhan", "sai-mat-khau")
    assert response.status_code == 200
    assert "Tên đăng nhập hoặc mật khẩu không đúng" in response.content.decode()
    assert signed_in_as(client) is None


def test_a_user_without_membership_is_told_why_and_not_signed_in(client, officers):
    response = sign_in(client, "khongvaitro")
    assert response.status_code == 200
    assert "chưa được phân công vào cơ quan nào" in response.content.decode()
    assert signed_in_as(client) is None


def test_a_signed_in_officer_visiting_the_sign_in_page_goes_to_work(client, officers):
    client.force_login(officers.clerk)
    assert client.get(LOGIN)["Location"] == "/can-bo/"


# --- django-axes ---------------------------------------------------------------------------


def test_five_failures_lock_the_user_name_from_that_address_for_15_minutes(client, officers):
    for _attempt in range(4):
        assert sign_in(client, "tiepnhan", "sai").status_code == 200
    fifth = sign_in(client, "tiepnhan", "sai")
    assert fifth.status_code == 429
    html = fifth.content.decode()
    assert "tạm thời bị khóa vì đăng nhập sai 5 lần" in html
    assert "thử lại sau 15 phút" in html
    # Locked: even the right password is refused now.
    locked = sign_in(client, "tiepnhan")
    assert locked.status_code == 429
    assert signed_in_as(client) is None
    # Another officer at the same address is not locked (user name × address).
    assert sign_in(client, "vanthu").status_code == 302


def test_behind_a_proxy_the_lock_is_per_client_address_from_the_named_header(
    client, officers, settings
):
    settings.MOTCUA_CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    for _attempt in range(5):
        last = sign_in(client, "tiepnhan", "sai", headers={"X-Real-IP": "203.0.113.7"})
    assert last.status_code == 429
    # Same proxy (REMOTE_ADDR), another client: not locked.
    other = sign_in(client, "tiepnhan", headers={"X-Real-IP": "198.51.100.9"})
    assert other.status_code == 302


def test_a_client_cannot_escape_a_lock_by_forging_forwarded_addresses(client, officers, settings):
    settings.MOTCUA_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    for n in range(5):
        # The client writes what it likes first; the proxy appends the address it saw.
        forged = {"X-Forwarded-For": f"10.0.0.{n}, 203.0.113.7"}
        last = sign_in(client, "tiepnhan", "sai", headers=forged)
    assert last.status_code == 429


def test_failures_while_locked_do_not_lengthen_the_lock(client, officers):
    for _attempt in range(5):
        sign_in(client, "tiepnhan", "sai")
    locked_at = AccessAttempt.objects.get(username="tiepnhan").attempt_time
    sign_in(client, "tiepnhan", "sai")
    assert AccessAttempt.objects.get(username="tiepnhan").attempt_time == locked_at


def test_the_lock_ends_after_the_cool_off(client, officers):
    for _attempt in range(5):
        sign_in(client, "tiepnhan", "sai")
    AccessAttempt.objects.update(attempt_time=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16))
    assert sign_in(client, "tiepnhan").status_code == 302


def test_a_success_resets_the_count(client, officers):
    for _attempt in range(4):
        sign_in(client, "tiepnhan", "sai")
    assert sign_in(client, "tiepnhan").status_code == 302
    client.logout()
    for _attempt in range(4):
        assert sign_in(client, "tiepnhan", "sai").status_code == 200


def test_the_admin_asks_for_the_second_factor_after_its_password(client, officers):
    admin = make_officer(
        "quantrivien", officers.agency, Role.SPECIALIST, is_staff=True, is_superuser=True
    )
    device = confirmed_device(admin)
    ok = client.post(
        "/admin/login/?next=/admin/agencies/", {"username": "quantrivien", "password": PASSWORD}
    )
    assert ok.status_code == 302 and ok["Location"] == "/admin/agencies/"
    # The password alone does not open the admin: its sign-in page sends to the code page.
    held = client.get("/admin/agencies/")
    assert held.status_code == 302 and held["Location"].startswith("/admin/login/")
    to_code = client.get(held["Location"])
    assert to_code["Location"] == f"{VERIFY}?next=%2Fadmin%2Fagencies%2F"
    done = client.post(to_code["Location"], {"code": current_code(device)})
    assert done["Location"] == "/admin/agencies/"
    assert client.get("/admin/agencies/").status_code == 200


def test_staff_without_a_device_enrol_before_the_admin_opens(client, db):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user(
        "nhanvien", password=PASSWORD, is_staff=True, is_superuser=False
    )
    client.post("/admin/login/", {"username": "nhanvien", "password": PASSWORD})
    to_code = client.get("/admin/login/?next=/admin/")
    assert to_code["Location"] == f"{VERIFY}?next=%2Fadmin%2F"
    assert client.get(to_code["Location"])["Location"].startswith(SETUP)
    assert client.get("/admin/").status_code == 302


def test_the_admin_second_factor_can_be_turned_off(client, officers, settings):
    settings.MOTCUA_ADMIN_REQUIRE_OTP = False
    make_officer("quantrivien", officers.agency, Role.SPECIALIST, is_staff=True, is_superuser=True)
    client.post("/admin/login/", {"username": "quantrivien", "password": PASSWORD})
    assert client.get("/admin/").status_code == 200


def test_the_admin_sign_in_is_throttled_too(client, officers):
    make_officer("quantrivien", officers.agency, Role.SPECIALIST, is_staff=True, is_superuser=True)
    for _attempt in range(5):
        last = client.post("/admin/login/", {"username": "quantrivien", "password": "sai"})
    assert last.status_code == 429


def test_api_bearer_tokens_are_untouched_by_sign_in_throttling(client, officers):
    _token, raw = ApiToken.issue(
        name="Cổng DVCQG", user=officers.counter, scopes=[Scope.DOSSIERS_READ]
    )
    for _attempt in range(5):
        sign_in(client, "tiepnhan", "sai")
    response = client.get("/api/v1/dossiers", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200


# --- second factor -------------------------------------------------------------------------


def test_a_leader_without_a_device_is_enrolled_after_the_password(client, officers):
    response = sign_in(client, "lanhdao", next="/can-bo/ho-so/")
    assert response["Location"] == SETUP
    # Not signed in yet: the password alone opens nothing.
    assert signed_in_as(client) is None
    assert client.get("/can-bo/ho-so/")["Location"].startswith(LOGIN)

    page = client.get(SETUP)
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html and "Thiết lập xác thực hai bước" in html
    device = TOTPDevice.objects.get(user=officers.leader, confirmed=False)
    secret = page.context["secret"].replace(" ", "")
    from base64 import b32decode

    assert b32decode(secret) == device.bin_key
    # Reloading keeps the same key (the QR code already scanned stays valid).
    client.get(SETUP)
    assert TOTPDevice.objects.filter(user=officers.leader).count() == 1

    right = current_code(device)
    wrong = client.post(SETUP, {"code": f"{(int(right) + 1) % 1_000_000:06d}"})
    assert "Mã xác thực không đúng" in wrong.content.decode()
    wait_out_throttle(device)
    done = client.post(SETUP, {"code": current_code(device)})
    assert done["Location"] == "/can-bo/ho-so/"
    device.refresh_from_db()
    assert device.confirmed
    assert signed_in_as(client) == str(officers.leader.pk)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert PENDING_KEY not in client.session
    assert client.get("/can-bo/ho-so/").status_code == 200


def test_a_leader_with_a_device_gives_its_code_after_the_password(client, officers):
    device = confirmed_device(officers.leader)
    response = sign_in(client, "lanhdao")
    assert response["Location"] == VERIFY
    assert signed_in_as(client) is None
    page = client.get(VERIFY)
    assert "Xác thực hai bước" in page.content.decode()
    assert "<svg" not in page.content.decode()  # no QR code: the key is never shown again

    bad = client.post(VERIFY, {"code": "12345"})
    assert "đúng 6 chữ số" in bad.content.decode()
    code = current_code(device)
    ok = client.post(VERIFY, {"code": code[:3] + " " + code[3:]})  # as the app shows it
    assert ok["Location"] == "/can-bo/"
    assert signed_in_as(client) == str(officers.leader.pk)
    assert client.get("/can-bo/")["Location"] == "/can-bo/ho-so/"


def test_a_code_cannot_be_used_twice(client, officers):
    device = confirmed_device(officers.leader)
    sign_in(client, "lanhdao")
    code = current_code(device)
    assert client.post(VERIFY, {"code": code}).status_code == 302
    client.post("/can-bo/dang-xuat/")
    sign_in(client, "lanhdao")
    again = client.post(VERIFY, {"code": code})
    assert again.status_code == 200
    assert signed_in_as(client) is None


def test_wrong_codes_are_throttled(client, officers):
    device = confirmed_device(officers.leader)
    sign_in(client, "lanhdao")
    right = current_code(device)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    client.post(VERIFY, {"code": wrong})
    # Right after a failure the device refuses for a while, even the right code.
    throttled = client.post(VERIFY, {"code": right})
    assert "nhập sai mã nhiều lần" in throttled.content.decode()
    assert signed_in_as(client) is None
    wait_out_throttle(device)
    assert client.post(VERIFY, {"code": right}).status_code == 302


def test_the_password_step_expires(client, officers, settings):
    device = confirmed_device(officers.leader)
    sign_in(client, "lanhdao")
    session = client.session
    session[PENDING_KEY]["at"] = time.time() - settings.MOTCUA_OTP_PENDING_SECONDS - 1
    session.save()
    response = client.post(VERIFY, {"code": current_code(device)})
    assert response["Location"].startswith(LOGIN)
    assert signed_in_as(client) is None


def test_the_code_pages_without_a_password_step_go_to_sign_in(client, db):
    assert client.get(VERIFY)["Location"].startswith(LOGIN)
    assert client.get(SETUP)["Location"].startswith(LOGIN)


def test_a_leader_signed_in_elsewhere_verifies_here_before_the_back_office(client, officers):
    # e.g. through /admin/login/, which asks for the password only
    device = confirmed_device(officers.leader)
    client.force_login(officers.leader)
    assert client.get("/can-bo/ho-so/")["Location"] == f"{VERIFY}?next=%2Fcan-bo%2Fho-so%2F"
    ok = client.post(f"{VERIFY}?next=/can-bo/ho-so/", {"code": current_code(device)})
    assert ok["Location"] == "/can-bo/ho-so/"
    assert client.get("/can-bo/ho-so/").status_code == 200


def test_officers_who_need_no_second_factor_are_not_asked_for_one(client, officers):
    client.force_login(officers.counter)
    assert client.get(VERIFY)["Location"] == "/can-bo/"
    assert not TOTPDevice.objects.exists()


def test_the_second_factor_of_one_user_does_not_serve_another(client, officers):
    leader_device = confirmed_device(officers.leader)
    other = make_officer("lanhdao2", officers.agency, Role.LEADER)
    confirmed_device(other)
    sign_in(client, "lanhdao2")
    client.post(VERIFY, {"code": current_code(leader_device)})
    assert signed_in_as(client) is None


def test_a_code_for_the_next_time_step_is_accepted(client, officers):
    # Clocks of phones drift: one step either way is tolerated.
    device = confirmed_device(officers.leader)
    sign_in(client, "lanhdao")
    code = f"{totp(device.bin_key, t0=-device.step):06d}"
    assert client.post(VERIFY, {"code": code}).status_code == 302


# --- sign-out ------------------------------------------------------------------------------


def test_sign_out_needs_a_post_and_ends_the_session(client, officers):
    client.force_login(officers.counter)
    page = client.get("/can-bo/dang-xuat/")
    assert page.status_code == 200 and signed_in_as(client) is not None
    response = client.post("/can-bo/dang-xuat/", follow=True)
    assert response.redirect_chain[-1][0] == LOGIN
    assert "Bạn đã đăng xuất" in response.content.decode()
    assert signed_in_as(client) is None
    assert client.get("/can-bo/tiep-nhan/").status_code == 302


# --- English ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_sign_in_page_in_english(client):
    client.cookies["django_language"] = "en"
    html = client.get(LOGIN).content.decode()
    assert '<html lang="en">' in html
    assert "Staff sign-in" in html and "Password" in html
