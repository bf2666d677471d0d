"""The citizens' portal in a real browser on a small phone (Chromium, 360×740, live server).

The journey of issue 5, end to end: a citizen registers with an e-mail address and a password
(the one-time code read from the e-mail the real SMTP server received), fills her profile,
submits a dossier with two scans (the first chunk after the first megabyte is cut off by the
network and the uploader resumes from the server's offset) and gets the reference at once; the
service worker's copy of "my dossiers" goes when she signs out; the desk receives (service
layer) and, signed in again, she sees the code; she answers a supplement request online,
downloads the e-result once officers have recorded it, and rates the dossier. axe-core checks
every page on the way, and nothing is wider than the phone.

A second test uploads with no SubtleCrypto (plain http on a LAN address) and with the network
gone mid-upload; a third checks the remaining pages (withdrawal, an expired draft, a procedure
not offered online). Screenshots: var/test-artifacts/screenshots/portal-*.png.
"""

from __future__ import annotations

import hashlib
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from motcua.catalog.models import ProcedureVersion
from motcua.dossiers import services as dossier_services
from motcua.dossiers.models import ComponentFile, Dossier, Rating, Status
from motcua.dossiers.services import ResultInput
from motcua.submissions.models import Draft, Upload
from tests.portal.account.conftest import smtp_server  # noqa: F401  (fixture)
from tests.portal.account.helpers import PASSWORD, last_code

from .world import PERSONAL_ID, build_portal, pdf, png

pytestmark = pytest.mark.browser

MB = 1024 * 1024
EMAIL = "hang.nguyen@example.vn"
PRIVATE_COPY = """async (url) => {
  const cache = await caches.open('motcua-private');
  const kept = await cache.match(url, {ignoreVary: true});
  return kept ? kept.text() : null;
}"""


@pytest.fixture
def live_portal(transactional_db):
    return build_portal()


def sign_in(page, live_server, user) -> None:
    """The portal's own sign-in is in the journey; the other tests use a session cookie."""
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def choose(page, slot: str, name: str, content: bytes, mime: str) -> None:
    page.locator(f"#file-{slot}").set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": content}]
    )


def wait_uploaded(page, slot: str, name: str) -> None:
    page.locator(f"#slot-{slot} .slot-files li", has_text=name).wait_for(timeout=30_000)


def checked(page, axe) -> None:
    """axe-core finds nothing serious, and nothing is wider than the phone's screen."""
    axe(page)
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0, page.url


def test_a_citizen_registers_submits_follows_and_rates_on_a_phone(
    phone,
    live_server,
    live_portal,
    smtp_server,  # noqa: F811
    axe,
    screenshot,
):
    page, portal = phone, live_portal
    first, second = portal.slots()[:2]

    # 1. Register: e-mail and password (too short first), then the code from the e-mail.
    page.goto(f"/thu-tuc/{portal.procedure.code}/")
    page.get_by_role("link", name="Đăng nhập", exact=True).click()
    page.get_by_role("link", name="Đăng ký tài khoản").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Đăng ký tài khoản")
    checked(page, axe)
    page.get_by_label("Số điện thoại hoặc thư điện tử").fill(EMAIL)
    page.get_by_label("Mật khẩu", exact=True).fill("123")
    page.get_by_label("Nhập lại mật khẩu").fill("123")
    page.get_by_role("button", name="Gửi mã xác minh").click()
    expect(page.locator("#id_password1_error")).to_contain_text("Mật khẩu quá ngắn")
    expect(page.get_by_label("Mật khẩu", exact=True)).to_have_attribute("aria-invalid", "true")
    checked(page, axe)
    page.get_by_label("Mật khẩu", exact=True).fill(PASSWORD)
    page.get_by_label("Nhập lại mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Gửi mã xác minh").click()
    page.wait_for_url("**/tai-khoan/dang-ky/xac-minh/")
    expect(page.get_by_text("đã được gửi tới thư điện tử ha")).to_be_visible()
    checked(page, axe)
    screenshot(page, "portal-register-code")
    (mail,) = smtp_server.messages
    assert mail.recipients == [EMAIL]
    page.get_by_label("Mã xác minh (6 chữ số)").fill(last_code(mail.text))
    page.get_by_role("button", name="Xác nhận và tạo tài khoản").click()
    page.wait_for_url("**/tai-khoan/")
    expect(page.get_by_text("Đăng ký tài khoản thành công")).to_be_visible()
    citizen = get_user_model().objects.get(username=EMAIL)

    # 2. The profile, reused in the e-form.
    page.get_by_label("Họ tên (hoặc tên tổ chức)").fill("Nguyễn Thị Hằng")
    page.get_by_label("Số định danh cá nhân (12 chữ số)").fill(PERSONAL_ID)
    page.get_by_label("Số điện thoại di động").fill("0912 345 678")
    page.get_by_label("Tỉnh, thành phố").select_option(portal.province_code)
    page.locator(f"#id_commune option[value='{portal.commune_code}']").wait_for(state="attached")
    page.get_by_label("Xã, phường, đặc khu").select_option(portal.commune_code)
    page.get_by_role("button", name="Lưu thông tin").click()
    expect(page.get_by_text("Đã lưu thông tin cá nhân.")).to_be_visible()
    checked(page, axe)
    screenshot(page, "portal-profile")

    # 3. The procedure page offers online submission; start: the case and the agency.
    page.goto(f"/thu-tuc/{portal.procedure.code}/")
    checked(page, axe)
    page.get_by_role("link", name="Nộp trực tuyến").click()
    page.wait_for_url(re.compile(r"/nop-ho-so/1\.001193/$"))
    checked(page, axe)
    page.get_by_role("button", name="Bắt đầu khai hồ sơ").click()
    page.wait_for_url(re.compile(r"/nop-ho-so/ban-nhap/[0-9a-f-]+/$"))
    page.locator("#uploads[data-ready=true]").wait_for(state="attached")
    assert page.get_by_label("Họ và tên / Tên tổ chức").input_value() == "Nguyễn Thị Hằng"
    assert page.get_by_label("Số định danh cá nhân").input_value() == PERSONAL_ID
    assert page.get_by_label("Thư điện tử").input_value() == EMAIL
    assert page.get_by_label("Xã, phường, đặc khu").input_value() == portal.commune_code
    checked(page, axe)
    # The fallback SHA-256 gives the standard answer.
    digest = page.evaluate("Array.from(window.motcuaSha256(new TextEncoder().encode('abc')))")
    assert bytes(digest) == hashlib.sha256(b"abc").digest()

    # 4. A 2.5 MB scan in 1 MB chunks: the second chunk's first attempt is cut off, and the
    # uploader resumes from the server's offset.
    cut = {"done": 0}

    def network(route):
        request = route.request
        if (
            request.method == "PATCH"
            and request.headers.get("upload-offset") == str(MB)
            and not cut["done"]
        ):
            cut["done"] = 1
            route.abort("connectionreset")
            return
        route.continue_()

    page.route("**/tai-len/**", network)
    scan = pdf(2 * MB + MB // 2, seed=b"to-khai")
    choose(page, first, "to-khai.pdf", scan, "application/pdf")
    wait_uploaded(page, first, "to-khai.pdf")
    assert cut["done"] == 1
    status = page.locator(f"#slot-{first} .upload-status")
    assert status.inner_text() == "Đã tải lên và kiểm tra «to-khai.pdf»."
    upload = Upload.objects.get(slot=first)
    assert upload.state == Upload.State.VERIFIED
    assert upload.sha256_verified == hashlib.sha256(scan).hexdigest()

    # A wrong type is refused in Vietnamese before anything is sent; then a real PNG.
    choose(page, second, "anh.gif", b"GIF89a" + b"\x00" * 100, "image/gif")
    error = page.locator(f"#slot-{second} .upload-error")
    error.wait_for()
    assert error.inner_text() == "«anh.gif»: chỉ nhận tệp PDF, JPG hoặc PNG."
    photo = png(300_000)
    choose(page, second, "ban-sao.png", photo, "image/png")
    wait_uploaded(page, second, "ban-sao.png")
    page.unroute("**/tai-len/**")

    # 5. The way to get the result, submit: the reference at once.
    page.get_by_label("Nhận kết quả điện tử trên Cổng (tải về)").check()
    screenshot(page, "portal-submission-draft")
    page.get_by_role("button", name="Nộp hồ sơ").click()
    page.wait_for_url(re.compile(r"/ho-so-cua-toi/[0-9a-f-]+/$"))
    dossier = Dossier.objects.get()
    assert dossier.status == Status.SUBMITTED and dossier.applicant.user == citizen
    assert dossier.applicant.personal_id == PERSONAL_ID
    assert page.locator("#dossier-reference").inner_text() == str(dossier.uuid)
    stored = ComponentFile.objects.filter(component__dossier=dossier)
    assert sorted(f.sha256 for f in stored) == sorted(
        hashlib.sha256(content).hexdigest() for content in (scan, photo)
    )
    checked(page, axe)
    screenshot(page, "portal-submission-submitted")
    dossier_url = page.url

    # 6. The service worker kept this page for offline reading; signing out deletes it, so
    # the next person on this phone does not see it, even offline.
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller")
    page.reload()
    assert str(dossier.uuid) in (page.evaluate(PRIVATE_COPY, dossier_url) or "")
    page.goto("/tai-khoan/")
    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url("**/tai-khoan/dang-nhap/")
    expect(page.get_by_text("Bạn đã đăng xuất.")).to_be_visible()
    gone = False
    for _poll in range(50):
        gone = not page.evaluate("caches.has('motcua-private')")
        if gone:
            break
        page.wait_for_timeout(100)
    assert gone
    checked(page, axe)
    page.context.set_offline(True)
    page.goto(dossier_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Không có kết nối mạng")
    page.context.set_offline(False)

    # 7. The desk receives the dossier. She signs in again (a wrong password first) and finds
    # the code and the appointment.
    dossier_services.receive(dossier, actor=portal.counter)
    dossier.refresh_from_db()
    page.goto("/tai-khoan/dang-nhap/")
    page.get_by_label("Số điện thoại hoặc thư điện tử").fill(EMAIL)
    page.get_by_label("Mật khẩu").fill("sai-mat-khau")
    page.get_by_role("button", name="Đăng nhập", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("hoặc mật khẩu không đúng")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập", exact=True).click()
    page.wait_for_url("**/tai-khoan/")
    expect(page.get_by_role("link", name="Tài khoản của tôi")).to_be_visible()
    page.get_by_role("link", name="Hồ sơ của tôi").click()
    page.wait_for_url("**/ho-so-cua-toi/")
    expect(page.locator("main")).to_contain_text(dossier.code)
    checked(page, axe)
    page.get_by_role("link", name=portal.procedure.name).click()
    page.wait_for_url(dossier_url)
    assert page.locator("#dossier-code").inner_text() == dossier.code
    assert (
        page.locator("#dossier-due")
        .inner_text()
        .startswith(timezone.localtime(dossier.due_at).strftime("%H:%M %d/%m/%Y"))
    )
    assert "đã tiếp nhận hồ sơ" in page.locator("#timeline").inner_text()
    checked(page, axe)

    # 8. The specialist asks for a supplement; she answers online.
    dossier_services.request_supplement(
        dossier, actor=portal.specialist, items=["Giấy xác nhận cư trú"], reason="Còn thiếu"
    )
    page.reload()
    assert page.locator("#supplement-items").inner_text() == "Giấy xác nhận cư trú"
    page.get_by_role("link", name="Nộp bổ sung trực tuyến").click()
    page.wait_for_url(re.compile(r"/bo-sung/$"))
    page.locator("#uploads[data-ready=true]").wait_for(state="attached")
    checked(page, axe)
    choose(page, "s0", "xac-nhan.pdf", pdf(400_000, seed=b"cu-tru"), "application/pdf")
    wait_uploaded(page, "s0", "xac-nhan.pdf")
    page.get_by_role("button", name="Gửi hồ sơ bổ sung").click()
    page.wait_for_url(dossier_url)
    dossier.refresh_from_db()
    assert dossier.status == Status.PROCESSING
    assert "Đã nhận hồ sơ bổ sung" in page.locator("#timeline").inner_text()

    # 9. The specialist finishes her step, the leader signs and records the e-result: she
    # downloads it (never kept by the service worker).
    dossier_services.complete_step(dossier, actor=portal.specialist, note="Hồ sơ đủ điều kiện")
    result = pdf(60_000, seed=b"giay-phep")
    dossier_services.record_result(
        dossier,
        actor=portal.leader,
        result=ResultInput(
            number="15/GP",
            signed_on=timezone.localdate(),
            signer="Lê Văn Bình",
            file_name="giay-phep.pdf",
            file_content=result,
        ),
    )
    page.reload()
    expect(page.locator(".todo")).to_contain_text("Đã có kết quả điện tử")
    checked(page, axe)
    with page.expect_download() as caught:
        page.locator("#download-result").click()
    download = caught.value
    assert download.suggested_filename == f"ket-qua-{dossier.code}.pdf"
    with open(download.path(), "rb") as handle:
        assert handle.read() == result
    kept = page.evaluate(
        "caches.keys().then((names) => Promise.all(names.map((name) => caches.open(name)"
        ".then((cache) => cache.keys())))).then((lists) => lists.flat().map((r) => r.url))"
    )
    assert not [url for url in kept if "/ket-qua-dien-tu/" in url]
    screenshot(page, "portal-submission-result")

    # 10. The desk records the result as returned online; she rates the dossier, once.
    dossier_services.return_result(dossier, actor=portal.counter, method="online")
    page.reload()
    rate_url = f"/tai-khoan/danh-gia/{dossier.code}/"
    assert page.get_by_role("link", name="Đánh giá mức độ hài lòng").get_attribute("href") == (
        rate_url
    )
    page.goto("/tai-khoan/")
    page.get_by_role("link", name=dossier.code).click()
    page.wait_for_url(f"**{rate_url}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Đánh giá mức độ hài lòng")
    checked(page, axe)
    page.get_by_role("button", name="Gửi đánh giá").click()
    expect(page.locator("#id_score_error")).to_have_text("Chưa chọn mức độ hài lòng.")
    page.get_by_label("Rất hài lòng").check()
    page.get_by_label("Ý kiến của bạn (không bắt buộc)").fill("Cán bộ hướng dẫn tận tình.")
    page.get_by_role("button", name="Gửi đánh giá").click()
    expect(page.get_by_text("Cảm ơn bạn đã đánh giá")).to_be_visible()
    expect(page.get_by_role("button", name="Gửi đánh giá")).to_have_count(0)
    checked(page, axe)
    screenshot(page, "portal-rating")
    rating = Rating.objects.get()
    assert (rating.dossier_id, rating.score, rating.comment) == (
        dossier.pk,
        3,
        "Cán bộ hướng dẫn tận tình.",
    )


def test_uploads_resume_after_the_network_drops_without_subtle_crypto(
    phone, live_server, live_portal, settings
):
    page, portal = phone, live_portal
    settings.MOTCUA_MAX_UPLOAD_BYTES = 3 * MB
    # As on plain http from a LAN address: no SubtleCrypto, the uploader's own SHA-256.
    page.add_init_script("Object.defineProperty(window, 'isSecureContext', {value: false})")
    sign_in(page, live_server, portal.citizen)
    draft = portal.draft()
    first = portal.slots()[0]
    page.goto(f"/nop-ho-so/ban-nhap/{draft.uuid}/")
    page.locator("#uploads[data-ready=true]").wait_for(state="attached")

    # Too big for this site's limit: refused at once, with the limit in words.
    choose(page, first, "lon.pdf", pdf(3 * MB + 1), "application/pdf")
    error = page.locator(f"#slot-{first} .upload-error")
    error.wait_for()
    assert error.inner_text() == "«lon.pdf» vượt quá dung lượng cho phép (3 MB)."

    # The network goes away when the second chunk starts, and comes back later.
    state = {"offline": False}

    def network(route):
        request = route.request
        offset = request.headers.get("upload-offset")
        if request.method == "PATCH" and offset == str(MB) and not state["offline"]:
            state["offline"] = True
            page.context.set_offline(True)
            route.abort("internetdisconnected")
            return
        route.continue_()

    page.route("**/tai-len/**", network)
    scan = pdf(2 * MB + 12345, seed=b"offline")
    choose(page, first, "to-khai.pdf", scan, "application/pdf")
    status = page.locator(f"#slot-{first} .upload-status")
    page.wait_for_function(
        f"document.querySelector('#slot-{first} .upload-status').textContent.includes('Mất mạng')"
    )
    assert "sẽ tiếp tục tải lên khi có mạng trở lại" in status.inner_text()
    assert Upload.objects.get().offset == MB
    page.context.set_offline(False)
    wait_uploaded(page, first, "to-khai.pdf")
    upload = Upload.objects.get()
    assert upload.state == Upload.State.VERIFIED
    assert upload.sha256_verified == hashlib.sha256(scan).hexdigest()


def test_the_other_pages_pass_axe_on_a_phone(phone, live_server, live_portal, axe):
    """The withdrawal page (and a withdrawal with the keyboard), an expired draft, a procedure
    not offered online."""
    page, portal = phone, live_portal
    sign_in(page, live_server, portal.citizen)
    dossier, _ = dossier_services.submit(
        dossier_services.SubmissionInput(
            procedure_code=portal.procedure.code,
            receiving_agency_id=portal.centre.pk,
            channel="online",
            delivery="online",
            applicant=dossier_services.ApplicantInput(
                name="Nguyễn Thị Hằng", personal_id=PERSONAL_ID, email="hang@example.invalid"
            ),
            components=[
                dossier_services.ComponentInput(component_id=c.pk, originals=1)
                for c in portal.components()[:2]
            ],
        ),
        actor=portal.citizen,
    )
    page.goto(f"/ho-so-cua-toi/{dossier.uuid}/")
    page.get_by_role("link", name="Rút hồ sơ").click()
    page.wait_for_url(re.compile(r"/rut-ho-so/$"))
    axe(page)
    page.get_by_label("Lý do rút hồ sơ (không bắt buộc)").fill("Nộp nhầm thủ tục")
    page.get_by_role("button", name="Rút hồ sơ").click()
    alert = page.locator(".field-error")
    alert.wait_for()
    assert alert.inner_text() == "Vui lòng xác nhận trước khi rút hồ sơ."
    axe(page)
    page.get_by_label("Tôi hiểu rằng hồ sơ sẽ dừng giải quyết").check()
    page.get_by_role("button", name="Rút hồ sơ").click()
    page.wait_for_url(re.compile(r"/ho-so-cua-toi/[0-9a-f-]+/$"))
    dossier.refresh_from_db()
    assert dossier.status == Status.WITHDRAWN

    draft = portal.draft()
    Draft.objects.filter(pk=draft.pk).update(expires_at=timezone.now())
    page.goto(f"/nop-ho-so/ban-nhap/{draft.uuid}/")
    assert "Bản nháp đã hết hạn" in page.locator("h1").inner_text()
    axe(page)

    ProcedureVersion.objects.update(online_mode="none")
    page.goto(f"/nop-ho-so/{portal.procedure.code}/")
    assert "chưa được cung cấp trực tuyến" in page.locator("main").inner_text()
    axe(page)
