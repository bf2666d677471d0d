"""The inbox and the dossier page in a real browser (Chromium via Playwright, live server): a
leader assigns a dossier, the specialist completes the step with a note; axe-core finds no
serious or critical violation on either page, on a desk screen or a tablet."""

from __future__ import annotations

import pytest
from django_otp.oath import totp
from playwright.sync_api import expect

from motcua.dossiers.models import Step
from tests.dossiers.world import build_world

from .conftest import confirmed_device

pytestmark = pytest.mark.browser

LOGIN = "/can-bo/dang-nhap/"
PASSWORD = "x"  # tests.dossiers.world's officers


@pytest.fixture
def world(transactional_db):
    world = build_world()
    world.dossier = world.received()
    return world


def sign_in(page, username: str, *, device=None) -> None:
    page.goto(LOGIN)
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    if device is not None:
        page.wait_for_url("**/can-bo/xac-thuc/**")
        device.refresh_from_db()
        page.get_by_label("Mã xác thực (6 chữ số)").fill(f"{totp(device.bin_key):06d}")
        page.get_by_role("button", name="Xác nhận").click()
    page.wait_for_url("**/can-bo/ho-so/")


def sign_out(page) -> None:
    nav = page.get_by_role("navigation", name="Điều hướng trang cán bộ")
    nav.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url(f"**{LOGIN}")


def test_a_leader_assigns_and_the_specialist_completes_the_step(page, world, axe, screenshot):
    dossier = world.dossier
    sign_in(page, "lanhdao", device=confirmed_device(world.leader))
    expect(page.get_by_role("heading", level=1)).to_have_text("Hồ sơ cần xử lý")
    row = page.locator(f'tr[data-dossier="{dossier.pk}"]')
    expect(row).to_contain_text("Chưa phân công")
    expect(row).to_contain_text("Quá hạn")  # received in March: its time is long past
    axe(page)
    screenshot(page, "backoffice-inbox")
    # Searching (htmx swaps the list in place and keeps the address bookmarkable).
    page.get_by_role("searchbox", name="Tìm hồ sơ").fill("hang")
    page.get_by_role("button", name="Lọc, tìm kiếm").click()
    page.wait_for_url("**q=hang**")
    expect(row).to_be_visible()
    page.get_by_role("searchbox", name="Tìm hồ sơ").fill("khong co ai")
    page.get_by_role("button", name="Lọc, tìm kiếm").click()
    expect(page.get_by_text("Không có hồ sơ nào khớp với bộ lọc.")).to_be_visible()
    page.get_by_role("link", name="Xóa bộ lọc").click()

    row.get_by_role("link", name=dossier.code).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hồ sơ {dossier.code}")
    axe(page)
    page.get_by_text("Phân công xử lý", exact=True).click()
    page.get_by_label("Người xử lý").select_option(label="chuyenvien")
    page.get_by_label("Ý kiến chỉ đạo").fill("Xử lý trong tuần")
    axe(page)  # with the form open
    page.get_by_role("button", name="Phân công", exact=True).click()
    expect(page.get_by_text("Đã phân công chuyenvien xử lý hồ sơ.")).to_be_visible()
    screenshot(page, "backoffice-dossier-assigned")
    sign_out(page)

    sign_in(page, "chuyenvien")
    page.locator(f'tr[data-dossier="{dossier.pk}"]').get_by_role("link").click()
    page.get_by_text("Hoàn thành bước xử lý", exact=True).click()
    page.get_by_role("button", name="Hoàn thành, chuyển bước tiếp").click()
    # Nothing typed: the page says so next to the field, nothing is written.
    expect(page.get_by_text("Cần ghi ý kiến xử lý của bước này.")).to_be_visible()
    page.get_by_label("Ý kiến xử lý").fill("Hồ sơ hợp lệ, đề nghị Sở Tư pháp cho ý kiến.")
    page.get_by_role("button", name="Hoàn thành, chuyển bước tiếp").click()
    expect(page.get_by_text("hồ sơ chuyển sang bước «Sở Tư pháp cho ý kiến»")).to_be_visible()
    expect(page.get_by_text("Hồ sơ hợp lệ, đề nghị Sở Tư pháp cho ý kiến.").first).to_be_visible()
    axe(page)
    screenshot(page, "backoffice-dossier-step-completed")
    done = Step.objects.get(dossier=dossier, order=1)
    assert (done.state, done.done_by, done.note) == (
        "done",
        world.specialist,
        "Hồ sơ hợp lệ, đề nghị Sở Tư pháp cho ý kiến.",
    )


def test_the_inbox_and_the_dossier_page_fit_a_tablet(tablet_page, world, axe, screenshot):
    page = tablet_page
    sign_in(page, "chuyenvien")
    overflow = "document.documentElement.scrollWidth - window.innerWidth"
    assert page.evaluate(overflow) <= 0  # the table scrolls inside its frame, not the page
    axe(page)
    screenshot(page, "backoffice-inbox-tablet")
    page.goto(f"/can-bo/ho-so/{world.dossier.pk}/")
    assert page.evaluate(overflow) <= 0
    axe(page)
    screenshot(page, "backoffice-dossier-tablet")
