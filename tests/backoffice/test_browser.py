"""The back office in a real browser (Chromium via Playwright, on the live server).

Each test makes its own officers (``build_officers``), never the whole demo. Screenshots of the
main screens land in var/test-artifacts/screenshots/.
"""

from __future__ import annotations

import re

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from motcua.accounts.models import Membership, Role
from tests.agencies.factories import AgencyFactory

from .conftest import PASSWORD, build_officers, confirmed_device

# The real routes, sign-in and gate; the pages other modules own render the bare layout, so these
# tests check the foundation whatever state those pages are in.
pytestmark = [pytest.mark.browser, pytest.mark.urls("tests.backoffice.gate_urls")]

LOGIN = "/can-bo/dang-nhap/"


@pytest.fixture
def people(transactional_db):
    return build_officers()


def sign_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto(LOGIN)
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()


def code_for(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    device.refresh_from_db()
    return f"{totp(device.bin_key, t0=device.t0 - steps_ahead * device.step):06d}"


def test_the_sign_in_page_is_accessible(page, people, axe, screenshot):
    page.goto(LOGIN)
    expect(page.locator("h1")).to_have_text("Đăng nhập cán bộ")
    axe(page)
    screenshot(page, "backoffice-login")
    # The skip link is the first thing the keyboard reaches, and it is visible when it is.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"


def test_a_counter_officer_signs_in_and_lands_on_intake(page, people, axe, screenshot):
    # Two memberships: the layout shows the role chooser too.
    commune = AgencyFactory(short_name="UBND xã Hoằng Thanh")
    Membership.objects.create(user=people.counter, agency=commune, role=Role.CLERK)
    sign_in(page, "tiepnhan")
    page.wait_for_url("**/can-bo/tiep-nhan/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tiếp nhận hồ sơ")
    nav = page.get_by_role("navigation", name="Điều hướng trang cán bộ")
    expect(nav.get_by_role("link")).to_have_text(
        ["Tiếp nhận hồ sơ", "Hồ sơ cần xử lý", "Trả kết quả", "Sổ theo dõi", "Vi phạm"]
    )
    expect(nav.get_by_role("button", name="Đăng xuất")).to_be_visible()
    expect(page.get_by_text("Lê Thị Hương")).to_be_visible()
    axe(page)
    screenshot(page, "backoffice-intake")

    # Changing role changes the navigation.
    page.get_by_label("Vai trò").select_option(label="Văn thư — UBND xã Hoằng Thanh")
    page.get_by_role("button", name="Đổi").click()
    page.wait_for_url("**/can-bo/tra-ket-qua/")
    expect(nav.get_by_role("link")).to_have_text(
        ["Trả kết quả", "Hồ sơ cần xử lý", "Sổ theo dõi", "Vi phạm"]
    )

    nav.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url(f"**{LOGIN}")
    expect(page.get_by_text("Bạn đã đăng xuất.")).to_be_visible()


def test_five_wrong_passwords_lock_the_account(page, people, screenshot):
    for _attempt in range(4):
        sign_in(page, "tiepnhan", "sai-mat-khau")
        expect(page.get_by_role("alert")).to_contain_text("Tên đăng nhập hoặc mật khẩu không đúng")
    sign_in(page, "tiepnhan", "sai-mat-khau")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("tạm thời bị khóa vì đăng nhập sai 5 lần")
    expect(alert).to_contain_text("thử lại sau 15 phút")
    sign_in(page, "tiepnhan")  # the right password does not open a locked account
    expect(page.get_by_role("alert")).to_contain_text("tạm thời bị khóa")
    assert page.url.endswith(LOGIN)
    screenshot(page, "backoffice-locked")


def test_a_leader_enrols_the_second_factor_then_reaches_the_inbox(page, people, axe, screenshot):
    sign_in(page, "lanhdao")
    page.wait_for_url("**/can-bo/xac-thuc/thiet-lap/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Thiết lập xác thực hai bước")
    expect(page.locator("figure.qr svg")).to_be_visible()
    axe(page)
    screenshot(page, "backoffice-otp-setup")
    # The back office stays closed until the code is given.
    page.goto("/can-bo/ho-so/")
    page.wait_for_url(re.compile(r".*/can-bo/dang-nhap/\?next=.*"))
    page.go_back()

    device = TOTPDevice.objects.get(user=people.leader)
    page.get_by_label("Mã xác thực (6 chữ số)").fill(code_for(device))
    page.get_by_role("button", name="Hoàn tất thiết lập").click()
    page.wait_for_url("**/can-bo/ho-so/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hồ sơ cần xử lý")
    expect(page.locator(".messages")).to_contain_text("Đã thiết lập xác thực hai bước")


def test_a_leader_with_a_device_gives_a_code_after_the_password(page, people, axe, screenshot):
    device = confirmed_device(people.leader)
    sign_in(page, "lanhdao")
    page.wait_for_url("**/can-bo/xac-thuc/")
    wrong = f"{(int(code_for(device)) + 500_000) % 1_000_000:06d}"
    page.get_by_label("Mã xác thực (6 chữ số)").fill(wrong)
    page.get_by_role("button", name="Xác nhận").click()
    expect(page.locator(".field-error")).to_have_text(
        "Mã xác thực không đúng hoặc đã hết hạn. Vui lòng thử lại."
    )
    # The error is tied to the field for screen readers.
    field = page.get_by_label("Mã xác thực (6 chữ số)")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_attribute("aria-describedby", "id_code_error")
    axe(page)
    screenshot(page, "backoffice-otp-verify")
    # As if the officer waited out the short delay a wrong code imposes.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    page.get_by_label("Mã xác thực (6 chữ số)").fill(code_for(device, steps_ahead=1))
    page.get_by_role("button", name="Xác nhận").click()
    page.wait_for_url("**/can-bo/ho-so/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hồ sơ cần xử lý")
    axe(page)
    screenshot(page, "backoffice-inbox-leader")


def test_the_layout_switches_to_english(page, people):
    sign_in(page, "tiepnhan")
    page.wait_for_url("**/can-bo/tiep-nhan/")
    page.get_by_role("button", name="English").click()
    page.wait_for_url("**/can-bo/tiep-nhan/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Counter intake")
    nav = page.get_by_role("navigation", name="Back-office navigation")
    expect(nav.get_by_role("link")).to_have_text(
        ["Counter intake", "Dossiers to process", "Return desk", "Registers", "Violations"]
    )
    expect(nav.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.get_by_text("Under construction")).to_be_visible()


def test_the_layout_fits_a_tablet(tablet_page, people, axe, screenshot):
    page = tablet_page
    sign_in(page, "tiepnhan")
    page.wait_for_url("**/can-bo/tiep-nhan/")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    nav = page.get_by_role("navigation", name="Điều hướng trang cán bộ")
    for name in ("Tiếp nhận hồ sơ", "Trả kết quả", "Sổ theo dõi"):
        expect(nav.get_by_role("link", name=name)).to_be_in_viewport()
    expect(nav.get_by_role("button", name="Đăng xuất")).to_be_in_viewport()
    axe(page)
    screenshot(page, "backoffice-intake-tablet")
