"""The counter intake in a real browser (Chromium via Playwright, on the live server).

A counter officer finds the procedure by typing without diacritics and choosing with the
keyboard, picks the variant, ticks the papers, drops scans, identifies the applicant, reads the
preview, receives (with a double click: still one dossier) and opens Mẫu 01. axe-core checks
the screen at each stage. Screenshots: var/test-artifacts/screenshots/intake-*.png.
"""

from __future__ import annotations

import base64
import io
import re
import unicodedata

import pytest
from pypdf import PdfReader

from motcua.dossiers.models import ComponentFile, Dossier, Status

from .conftest import PASSWORD
from .intake_world import PDF, PERSONAL_ID, PNG, build_desk

pytestmark = pytest.mark.browser

INTAKE = "/can-bo/tiep-nhan/"


@pytest.fixture
def desk(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return build_desk()


def sign_in(page, username: str) -> None:
    page.goto("/can-bo/dang-nhap/")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"**{INTAKE}")


def focused(page) -> dict:
    return page.evaluate(
        "({id: document.activeElement.id, name: document.activeElement.name || '',"
        " type: document.activeElement.type || ''})"
    )


def drop_file(page, zone_selector: str, name: str, content: bytes, mime: str) -> None:
    """Drag and drop a file onto a drop zone, as the desk does from the scanner's folder."""
    page.evaluate(
        """([selector, name, data, mime]) => {
            const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, {type: mime}));
            const zone = document.querySelector(selector);
            for (const type of ["dragenter", "dragover", "drop"]) {
                zone.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true,
                                                        cancelable: true}));
            }
        }""",
        [zone_selector, name, base64.b64encode(content).decode(), mime],
    )


def test_a_counter_officer_receives_a_dossier_with_the_keyboard_and_prints_mau_01(
    page, desk, axe, screenshot
):
    tokhai, chungsinh = desk.components(required=True)
    sign_in(page, "tiepnhan")
    assert page.get_by_role("heading", level=1).inner_text() == "Tiếp nhận hồ sơ"
    assert focused(page)["id"] == "procedure-search"  # ready to type
    axe(page)

    # 1. The procedure: typed without diacritics, chosen with ↓ and Enter.
    page.keyboard.type("dang ky khai sinh")
    listbox = page.get_by_role("listbox", name="Thủ tục tìm được")
    option = listbox.get_by_role("option", name=re.compile("1.001193"))
    option.wait_for()
    assert listbox.get_by_role("option").count() == 1  # not the other agency's procedure
    page.keyboard.press("ArrowDown")
    assert option.get_attribute("aria-selected") == "true"
    page.keyboard.press("Enter")

    # 2. The variant: focus moved there; Space chooses, focus moves to the first paper.
    page.locator("#section-variant").wait_for()
    page.wait_for_function("document.activeElement.name === 'variant'")
    page.keyboard.press("Space")
    page.wait_for_function(f"document.activeElement.name === 'c{tokhai.pk}-received'")
    assert page.get_by_label("Tờ khai đăng ký khai sinh", exact=True).is_visible()
    assert page.locator("#preview-appointment").is_visible()
    assert "50.000 đồng" in page.locator("#intake-preview").inner_text()
    missing = page.locator("#missing-summary")
    assert "Còn thiếu 2 giấy tờ bắt buộc" in missing.inner_text()

    # 3. Papers: the first ticked with the keyboard, the second gets a dropped scan (which
    # ticks it); a scan that lies about its type is refused with a message.
    page.keyboard.press("Space")
    assert "Còn thiếu 1 giấy tờ bắt buộc" in missing.inner_text()
    page.locator(f"#id_c{tokhai.pk}-upload").set_input_files(
        files=[{"name": "to-khai.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.locator(".files .file-name", has_text="to-khai.pdf").wait_for()
    zone = f"#listed-components .dropzone[data-prefix='c{chungsinh.pk}']"
    drop_file(page, zone, "giay-chung-sinh.pdf", PDF, "application/pdf")
    page.locator(f"{zone} .file-name", has_text="giay-chung-sinh.pdf").wait_for()
    assert page.locator(f"#id_c{chungsinh.pk}-received").is_checked()
    assert missing.inner_text() == "Đã nhận đủ giấy tờ bắt buộc."
    drop_file(page, zone, "anh-chup.pdf", PNG, "application/pdf")
    error = page.locator(f"{zone} .upload-error")
    error.wait_for()
    assert "không khớp với nội dung (PNG)" in error.inner_text()

    # 4. The applicant (Alt+P), found by the personal id.
    page.keyboard.press("Alt+KeyP")
    assert focused(page)["id"] == "id_applicant-personal_id"
    page.keyboard.type(PERSONAL_ID)
    page.keyboard.press("Enter")  # looks up; never submits the form
    page.get_by_text("Chưa có trong hệ thống").wait_for()
    page.wait_for_function("document.activeElement.id === 'id_applicant-name'")
    page.keyboard.type("Nguyễn Thị Hằng")
    applicant = page.locator("#applicant-block")
    applicant.get_by_label("Số điện thoại di động").fill("0912345678")
    applicant.get_by_label("Số nhà, đường, thôn, xóm").fill("Số 5, thôn Đông")
    assert Dossier.objects.count() == 0
    axe(page)
    screenshot(page, "intake-filled")

    # 5. Receive — a double click still makes one dossier.
    page.keyboard.press("Alt+KeyK")
    assert focused(page)["id"] == "do-receive"
    page.locator("#do-receive").dblclick()
    page.wait_for_url(re.compile(r".*/can-bo/tiep-nhan/ket-qua/\d+/$"))
    dossier = Dossier.objects.get()
    assert dossier.status == Status.RECEIVED
    assert page.locator("#dossier-code").inner_text() == dossier.code
    assert ComponentFile.objects.filter(component__dossier=dossier).count() == 2
    axe(page)
    screenshot(page, "intake-received")

    # 6. Mẫu 01 opens as a PDF carrying the code.
    link = page.get_by_role("link", name=re.compile("Mẫu 01"))
    response = page.request.get(link.get_attribute("href"))
    assert response.ok and response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.body()))
    text = unicodedata.normalize("NFC", " ".join(p.extract_text() for p in reader.pages))
    assert dossier.code in re.sub(r"\s+", " ", text)

    # Alt+N: a fresh form.
    page.keyboard.press("Alt+KeyN")
    page.wait_for_url(f"**{INTAKE}")
    assert page.locator("#procedure-search").input_value() == ""


def test_the_intake_fits_a_tablet_and_asks_for_what_is_missing(tablet_page, desk, axe, screenshot):
    page = tablet_page
    sign_in(page, "tiepnhan")
    page.goto(f"{INTAKE}?procedure={desk.procedure.code}&variant={desk.variant.pk}")
    assert page.locator("#listed-components .component").count() == 3
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    axe(page)
    screenshot(page, "intake-tablet")
    # Receiving without the papers: nothing written, every missing paper named, focus on
    # the summary of errors.
    applicant = page.locator("#applicant-block")
    applicant.get_by_label("Số định danh cá nhân").fill(PERSONAL_ID)
    applicant.get_by_label("Họ và tên / Tên tổ chức").fill("Nguyễn Thị Hằng")
    page.get_by_role("button", name="Tiếp nhận hồ sơ").click()
    summary = page.locator("#error-summary")
    summary.wait_for()
    assert "Tờ khai đăng ký khai sinh; Giấy chứng sinh" in summary.inner_text()
    assert focused(page)["id"] == "error-summary"
    assert Dossier.objects.count() == 0
    axe(page)
    screenshot(page, "intake-missing")
