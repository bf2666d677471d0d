"""Sign-in and out of citizens (django-axes), officers kept out, and the profile."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from motcua.accounts.citizens import applicant_input_for, notification_channels_for
from motcua.accounts.models import CitizenProfile, Membership, Role
from motcua.dossiers import services
from tests.agencies.factories import CommuneFactory, ProvinceFactory, ProvincialAgencyFactory
from tests.portal.account.helpers import PASSWORD, make_citizen

pytestmark = pytest.mark.django_db

SIGN_IN = "/tai-khoan/dang-nhap/"
SIGN_OUT = "/tai-khoan/dang-xuat/"
PROFILE = "/tai-khoan/"


def sign_in(client, identifier="0912345678", password=PASSWORD, **extra):
    return client.post(SIGN_IN, {"identifier": identifier, "password": password, **extra})


def signed_in(client):
    return client.session.get(SESSION_KEY)


def text(response) -> str:
    return response.content.decode()


def test_the_sign_in_page_is_in_vietnamese_without_single_sign_on(client):
    html = text(client.get(SIGN_IN))
    assert "<h1>Đăng nhập</h1>" in html
    assert "Số điện thoại hoặc thư điện tử" in html and "Mật khẩu" in html
    assert 'autocomplete="current-password"' in html
    assert "Đăng nhập bằng tài khoản" not in html  # no provider configured: no button
    assert client.get("/tai-khoan/dang-nhap/dinh-danh/").status_code == 404


def test_a_citizen_signs_in_with_the_phone_in_any_form(client):
    user = make_citizen("0912345678")
    response = sign_in(client, "+84 912.345.678", next="/tai-khoan/danh-gia/X/")
    assert response.status_code == 302
    assert response["Location"] == "/tai-khoan/danh-gia/X/"
    assert signed_in(client) == str(user.pk)


def test_a_citizen_signs_in_with_the_email_in_any_case(client):
    user = make_citizen("hang@example.vn")
    response = sign_in(client, "Hang@Example.vn", next="https://evil.example/")
    assert response["Location"] == PROFILE
    assert signed_in(client) == str(user.pk)


def test_the_citizen_required_pages_send_to_this_sign_in(client):
    response = client.get(PROFILE)
    assert response.status_code == 302
    assert response["Location"] == f"{SIGN_IN}?next=%2Ftai-khoan%2F"


def test_a_wrong_password_then_five_lock_the_account_on_the_portal_page(client):
    make_citizen("0912345678")
    first = sign_in(client, password="sai-mat-khau")
    assert first.status_code == 400
    assert "Số điện thoại (hoặc thư điện tử) hoặc mật khẩu không đúng." in text(first)
    for _attempt in range(3):
        sign_in(client, password="sai-mat-khau")
    fifth = sign_in(client, password="sai-mat-khau")
    assert fifth.status_code == 429
    html = text(fifth)
    assert "Tài khoản tạm thời bị khóa vì đăng nhập sai 5 lần" in html
    assert "thử lại sau 15 phút" in html
    assert "<h1>Đăng nhập</h1>" in html  # the portal's page, not the back office's
    locked = sign_in(client)
    assert locked.status_code == 429
    assert signed_in(client) is None


def test_an_officer_cannot_get_a_session_through_the_citizen_sign_in(client):
    agency = ProvincialAgencyFactory()
    leader = make_citizen("0987654321")  # even one who also has a citizen profile
    Membership.objects.create(user=leader, agency=agency, role=Role.LEADER)
    TOTPDevice.objects.create(user=leader, name="motcua", confirmed=True)
    response = sign_in(client, "0987654321")
    assert response.status_code == 403
    assert "Đây là tài khoản cán bộ" in text(response)
    assert signed_in(client) is None
    # The back office still asks for the password and the second factor.
    assert client.get("/can-bo/ho-so/")["Location"].startswith("/can-bo/dang-nhap/")
    assert client.get("/api/v1/dossiers").status_code == 401


def test_staff_and_users_without_a_citizen_profile_are_refused(client, django_user_model):
    django_user_model.objects.create_user("0911111111", password=PASSWORD, is_staff=True)
    django_user_model.objects.create_user("0922222222", password=PASSWORD)
    assert "Đây là tài khoản cán bộ" in text(sign_in(client, "0911111111"))
    assert "không phải tài khoản công dân" in text(sign_in(client, "0922222222"))
    assert signed_in(client) is None


def test_an_officer_already_signed_in_sees_no_citizen_profile(client):
    officer = make_citizen("0987654321")
    Membership.objects.create(user=officer, agency=ProvincialAgencyFactory(), role=Role.CLERK)
    client.force_login(officer)
    response = client.get(PROFILE)
    assert response.status_code == 403
    assert "Bạn đang đăng nhập bằng tài khoản cán bộ" in text(response)


def test_sign_out_needs_a_post_and_clears_the_site_cache(client):
    user = make_citizen()
    client.force_login(user)
    page = client.get(SIGN_OUT)
    assert page.status_code == 200 and signed_in(client) == str(user.pk)
    response = client.post(SIGN_OUT)
    assert response.status_code == 302 and response["Location"] == SIGN_IN
    assert response["Clear-Site-Data"] == '"cache"'
    assert signed_in(client) is None
    assert "Bạn đã đăng xuất." in text(client.get(SIGN_IN))


# --- profile -------------------------------------------------------------------------------


@pytest.fixture
def place():
    province = ProvinceFactory(code="38", name="Thanh Hóa")
    commune = CommuneFactory(code="16000", name="Hạc Thành", parent=province)
    other = ProvinceFactory(code="01", name="Hà Nội")
    return province, commune, other


def profile_data(place, **overrides):
    province, commune, _other = place
    data = {
        "kind": "individual",
        "full_name": "  Nguyễn   Thị Hằng ",
        "personal_id": "038 090 001 234",
        "tax_code": "",
        "email": "hang@example.vn",
        "province": province.code,
        "commune": commune.code,
        "address_line": "Số 5, thôn Đông",
        "notify_sms": "on",
        "notify_zalo": "on",
    }
    data.update(overrides)
    return data


def test_the_profile_is_saved_and_fills_the_applicant_of_a_dossier(client, place):
    user = make_citizen("0912345678")
    client.force_login(user)
    page = client.get(PROFILE)
    assert page.status_code == 200
    assert "Thông tin cá nhân" in text(page)
    response = client.post(PROFILE, profile_data(place, phone="0999999999"))
    assert response.status_code == 302
    profile = CitizenProfile.objects.get(user=user)
    assert profile.full_name == "Nguyễn   Thị Hằng"
    assert profile.personal_id == "038090001234"
    assert profile.phone == "0912345678"  # the verified phone cannot be changed here
    assert (profile.notify_email, profile.notify_sms, profile.notify_zalo) == (False, True, True)
    user.refresh_from_db()
    given = applicant_input_for(user)
    assert given == services.ApplicantInput(
        kind="individual",
        name="Nguyễn   Thị Hằng",
        personal_id="038090001234",
        tax_code="",
        phone="0912345678",
        email="hang@example.vn",
        province_code="38",
        commune_code="16000",
        address_line="Số 5, thôn Đông",
    )
    # What the form gives is what the one write path accepts.
    assert services.clean_applicant(given)["name"] == "Nguyễn Thị Hằng"
    assert notification_channels_for(user) == {"email": False, "sms": True, "zalo": True}
    assert "Đã lưu thông tin cá nhân." in text(client.get(PROFILE))


def test_bad_profile_data_is_refused_in_vietnamese_and_nothing_is_saved(client, place):
    user = make_citizen("0912345678")
    client.force_login(user)
    _province, commune, other = place
    response = client.post(
        PROFILE,
        profile_data(place, personal_id="123", province=other.code, commune=commune.code),
    )
    assert response.status_code == 400
    html = text(response)
    assert "Số định danh cá nhân không hợp lệ: phải gồm đúng 12 chữ số" in html
    assert "Xã, phường không thuộc tỉnh, thành phố đã chọn" in html
    assert 'aria-invalid="true"' in html
    profile = CitizenProfile.objects.get(user=user)
    assert profile.full_name == "" and profile.province_id is None


def test_the_communes_of_a_province_for_the_form(client, place):
    province, commune, _other = place
    html = text(client.get("/tai-khoan/xa-phuong/", {"province": province.code}))
    assert f'<option value="{commune.code}">' in html
    assert "— Chọn xã, phường —" in html


def test_an_organisation_needs_its_tax_code(client, place):
    user = make_citizen("0912345678")
    client.force_login(user)
    response = client.post(PROFILE, profile_data(place, kind="organisation", personal_id=""))
    assert "Chưa nhập mã số thuế của tổ chức." in text(response)
    response = client.post(
        PROFILE, profile_data(place, kind="organisation", personal_id="", tax_code="0100109106")
    )
    assert response.status_code == 302
    user.refresh_from_db()
    given = applicant_input_for(user)
    assert (given.kind, given.tax_code, given.personal_id) == ("organisation", "0100109106", "")


def test_a_user_without_profile_gets_an_empty_applicant(django_user_model):
    user = django_user_model.objects.create_user("someone", password=PASSWORD)
    assert applicant_input_for(user) == services.ApplicantInput()
