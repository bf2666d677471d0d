"""One dossier through the whole back office, in a real browser (Chromium via Playwright, on
the live server): received at the counter, two agencies' steps (liên thông), a supplement round
trip, an extension with an apology, the result and its return.

Every officer works in their own browser context (signed in with a session cookie; leaders
have passed the second factor) and does everything through the pages: the counter officer
receives at the intake screen (Mẫu 01); the centre's leader assigns; the specialist asks for a
supplement (Mẫu 02); the counter officer records it as provided on the dossier page; the
specialist completes the step and the department's specialist finds the dossier in their inbox
(liên thông), proposes an extension with an apology (Mẫu 04) that the department's leader
approves, then completes the step; the centre's leader approves; the clerk records the result
with its PDF; the counter officer hands it over at the return desk. The dossier page then says
"Đã trả kết quả", its history lists every action and Mẫu 06 lists the steps.

axe-core checks each main page; screenshots: var/test-artifacts/screenshots/journey-*.png.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect
from pypdf import PdfReader

from motcua.backoffice.action_forms import end_of_working_day
from motcua.core.worktime import VN_TZ
from motcua.dossiers.models import Dossier, DossierEvent, Extension, Pause, Result, Status, Step
from tests.dossiers.world import PERSONAL_ID, build_world

from .conftest import verify_otp
from .intake_world import PDF

pytestmark = pytest.mark.browser

HOME = "/can-bo/"
INTAKE = "/can-bo/tiep-nhan/"
RECIPIENT = "Trần Văn Nam"


@pytest.fixture
def world(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return build_world()


@pytest.fixture
def sign_in(browser, live_server):
    """``sign_in(user)``: a new browser context (its own cookies) signed in as the officer, on
    the page the back office opens for them.

    The session comes from ``Client.force_login`` (plus ``verify_otp`` for leaders), its cookie
    put into the context: signing in through the form is tested in test_signin.py and
    test_dossier_browser.py, and hashing passwords six times would double this test's time.
    """
    contexts = []

    def open_as(user, *, leader: bool = False):
        client = Client()
        client.force_login(user)
        if leader:
            verify_otp(client, user)
        context = browser.new_context(
            viewport={"width": 1366, "height": 768}, locale="vi-VN", base_url=live_server.url
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        context.add_cookies(
            [{"name": cookie.key, "value": cookie.value, "url": live_server.url, "httpOnly": True}]
        )
        tab = context.new_page()
        tab.goto(HOME)
        return tab

    yield open_as
    for context in contexts:
        context.close()


def pdf_text(tab, url: str) -> str:
    """The text of a printed form, fetched with the officer's cookies; spaces collapsed."""
    response = tab.request.get(url)
    assert response.ok, f"{url}: {response.status}"
    assert response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.body()))
    text = unicodedata.normalize("NFC", " ".join(p.extract_text() for p in reader.pages))
    return re.sub(r"\s+", " ", text)


def print_link(tab, code: str) -> str:
    panel = tab.get_by_role("region", name="In biểu mẫu")
    return panel.get_by_role("link", name=re.compile(f"^Mẫu {code}:")).get_attribute("href")


def open_action(tab, label: str):
    """Open an action's form on the dossier page; return it (fields are looked up inside)."""
    summary = tab.locator("summary", has_text=re.compile(f"^{re.escape(label)}$"))
    form = tab.locator("#thao-tac details").filter(has=summary)
    form.locator("summary").click()
    return form


def confirmed(tab, message: str) -> None:
    expect(tab.get_by_text(message)).to_be_visible()


def status_is(tab, label: str) -> None:
    expect(tab.get_by_test_id("status")).to_have_text(label)


def inbox_row(tab, dossier: Dossier):
    return tab.locator(f'tr[data-dossier="{dossier.pk}"]')


def a_working_day_after(agency_id: int, due: dt.datetime) -> dt.date:
    day = due.astimezone(VN_TZ).date() + dt.timedelta(days=3)
    while end_of_working_day(agency_id, day) is None:
        day += dt.timedelta(days=1)
    return day


def test_one_dossier_from_the_counter_to_its_return(world, sign_in, axe, screenshot):
    # --- 1. The counter officer receives the dossier at the intake screen (Mẫu 01).
    counter = sign_in(world.counter)
    expect(counter.get_by_role("heading", level=1)).to_have_text("Tiếp nhận hồ sơ")
    counter.goto(f"{INTAKE}?procedure={world.procedure.code}&variant={world.variant.pk}")
    counter.get_by_label("Tờ khai theo mẫu", exact=True).check()
    counter.get_by_label("Bản sao giấy tờ chứng minh", exact=True).check()
    expect(counter.locator("#missing-summary")).to_have_text("Đã nhận đủ giấy tờ bắt buộc.")
    applicant = counter.locator("#applicant-block")
    applicant.get_by_label("Số định danh cá nhân").fill(PERSONAL_ID)
    applicant.get_by_label("Họ và tên / Tên tổ chức").fill("Nguyễn Thị Hằng")
    applicant.get_by_label("Số điện thoại di động").fill("0912345678")
    applicant.get_by_label("Số nhà, đường, thôn, xóm").fill("Số 5, thôn Đông")
    axe(counter)
    screenshot(counter, "journey-01-intake")
    counter.locator("#do-receive").click()
    counter.wait_for_url(re.compile(r".*/can-bo/tiep-nhan/ket-qua/\d+/$"))
    dossier = Dossier.objects.get()
    assert dossier.status == Status.RECEIVED
    expect(counter.locator("#dossier-code")).to_have_text(dossier.code)
    axe(counter)
    screenshot(counter, "journey-02-received")
    mau_01 = counter.get_by_role("link", name=re.compile("Mẫu 01")).get_attribute("href")
    assert dossier.code in pdf_text(counter, mau_01)
    page_url = f"/can-bo/ho-so/{dossier.pk}/"

    # --- 2. The centre's leader assigns the first processing step to the specialist.
    leader = sign_in(world.leader, leader=True)
    expect(leader.get_by_role("heading", level=1)).to_have_text("Hồ sơ cần xử lý")
    expect(inbox_row(leader, dossier)).to_contain_text("Chưa phân công")
    axe(leader)
    screenshot(leader, "journey-03-leader-inbox")
    inbox_row(leader, dossier).get_by_role("link", name=dossier.code).click()
    expect(leader.get_by_role("heading", level=1)).to_have_text(f"Hồ sơ {dossier.code}")
    form = open_action(leader, "Phân công xử lý")
    form.get_by_label("Người xử lý").select_option(label="chuyenvien")
    form.get_by_label("Ý kiến chỉ đạo").fill("Thẩm định trong tuần")
    form.get_by_role("button", name="Phân công", exact=True).click()
    confirmed(leader, "Đã phân công chuyenvien xử lý hồ sơ.")
    status_is(leader, "Đang xử lý")
    axe(leader)
    screenshot(leader, "journey-04-assigned")

    # --- 3. The specialist asks for a supplement while processing (Mẫu 02).
    specialist = sign_in(world.specialist)
    inbox_row(specialist, dossier).get_by_role("link", name=dossier.code).click()
    expect(specialist.get_by_role("heading", level=1)).to_have_text(f"Hồ sơ {dossier.code}")
    form = open_action(specialist, "Yêu cầu bổ sung, hoàn thiện hồ sơ")
    form.get_by_label("Giấy tờ, nội dung cần bổ sung (mỗi dòng một mục)").fill(
        "Bản sao giấy khai sinh có chứng thực\nSơ đồ vị trí"
    )
    form.get_by_label("Lý do").fill("Thiếu giấy tờ chứng minh")
    form.get_by_role("button", name="Gửi yêu cầu bổ sung").click()
    confirmed(specialist, "Đã yêu cầu bổ sung hồ sơ; thời gian giải quyết tạm dừng.")
    status_is(specialist, "Yêu cầu bổ sung giấy tờ")
    expect(specialist.get_by_role("region", name="Tạm dừng")).to_contain_text("Sơ đồ vị trí")
    axe(specialist)
    screenshot(specialist, "journey-05-supplement-requested")
    mau_02 = pdf_text(specialist, print_link(specialist, "02"))
    assert dossier.code in mau_02
    assert "Bản sao giấy khai sinh có chứng thực" in mau_02

    # --- 4. The applicant brings the papers: the counter officer records it on the dossier
    # page (the "Nhận hồ sơ bổ sung" action); the clock runs again.
    counter.goto(page_url)
    form = open_action(counter, "Nhận hồ sơ bổ sung")
    form.get_by_label("Giấy tờ đã nhận bổ sung").fill("Bản sao giấy khai sinh; sơ đồ vị trí")
    form.get_by_role("button", name="Xác nhận đã nhận bổ sung").click()
    confirmed(counter, "Đã nhận hồ sơ bổ sung; thời gian giải quyết được tính tiếp.")
    status_is(counter, "Đang xử lý")
    axe(counter)
    screenshot(counter, "journey-06-supplement-provided")
    pause = Pause.objects.get(dossier=dossier)
    assert pause.kind == Pause.Kind.SUPPLEMENT and pause.ended_at is not None

    # --- 5. The specialist completes the step: the dossier moves to the department.
    specialist.goto(page_url)
    form = open_action(specialist, "Hoàn thành bước xử lý")
    expect(form).to_contain_text(
        f"Bước tiếp theo: «Sở Tư pháp cho ý kiến» tại {world.department.name}."
    )
    form.get_by_label("Ý kiến xử lý").fill("Hồ sơ hợp lệ, đề nghị Sở Tư pháp cho ý kiến.")
    form.get_by_role("button", name="Hoàn thành, chuyển bước tiếp").click()
    confirmed(specialist, "hồ sơ chuyển sang bước «Sở Tư pháp cho ý kiến»")
    # The step is not theirs any more.
    expect(specialist.locator("#thao-tac summary", has_text="Hoàn thành bước xử lý")).to_have_count(
        0
    )

    # --- 6. Liên thông: the step is in the department specialist's inbox; they propose an
    # extension with an apology (Mẫu 04).
    dept = sign_in(world.dept_specialist)
    expect(dept.get_by_role("heading", level=1)).to_have_text("Hồ sơ cần xử lý")
    expect(inbox_row(dept, dossier)).to_be_visible()
    axe(dept)
    screenshot(dept, "journey-07-department-inbox")
    inbox_row(dept, dossier).get_by_role("link", name=dossier.code).click()
    expect(dept.get_by_role("heading", level=1)).to_have_text(f"Hồ sơ {dossier.code}")
    expect(dept.get_by_role("region", name="Thông tin hồ sơ")).to_contain_text(
        f"Sở Tư pháp cho ý kiến — {world.department.name}"
    )
    dossier.refresh_from_db()
    original_due = dossier.due_at
    new_day = a_working_day_after(world.centre.pk, original_due)
    form = open_action(dept, "Đề nghị gia hạn, xin lỗi")
    form.get_by_label("Ngày hẹn trả mới").fill(new_day.isoformat())
    form.get_by_label("Lý do chậm trả kết quả").fill("Cần xác minh thêm với cơ quan khác")
    form.get_by_role("button", name="Trình lãnh đạo").click()
    confirmed(dept, "Đã trình lãnh đạo đề nghị gia hạn và văn bản xin lỗi (Mẫu 04).")
    expect(dept.get_by_role("region", name="Xin lỗi và gia hạn")).to_contain_text(
        "Cần xác minh thêm với cơ quan khác"
    )
    axe(dept)
    screenshot(dept, "journey-08-extension-proposed")
    mau_04 = pdf_text(dept, print_link(dept, "04"))
    assert dossier.code in mau_04
    assert "Cần xác minh thêm với cơ quan khác" in mau_04

    # --- 7. The department's leader approves the extension: the appointment moves.
    dept_leader = sign_in(world.dept_leader, leader=True)
    inbox_row(dept_leader, dossier).get_by_role("link", name=dossier.code).click()
    form = open_action(dept_leader, "Phê duyệt gia hạn")
    form.get_by_label("Phê duyệt gia hạn, gửi văn bản xin lỗi").check()
    form.get_by_label("Ý kiến").fill("Đồng ý")
    form.get_by_role("button", name="Ghi quyết định").click()
    confirmed(dept_leader, "Đã phê duyệt gia hạn; ngày hẹn trả kết quả đã được cập nhật.")
    facts = dept_leader.get_by_role("region", name="Thông tin hồ sơ")
    expect(facts).to_contain_text(new_day.strftime("%d/%m/%Y"))
    expect(facts).to_contain_text("hẹn ban đầu")
    axe(dept_leader)
    screenshot(dept_leader, "journey-09-extension-approved")
    extension = Extension.objects.get(dossier=dossier)
    assert (extension.state, extension.decided_by) == (
        Extension.State.APPROVED,
        world.dept_leader,
    )

    # --- 8. The department's specialist completes their step: back to the centre's leader.
    dept.goto(page_url)
    form = open_action(dept, "Hoàn thành bước xử lý")
    form.get_by_label("Ý kiến xử lý").fill("Sở Tư pháp thống nhất.")
    form.get_by_role("button", name="Hoàn thành, chuyển bước tiếp").click()
    confirmed(dept, "hồ sơ chuyển sang bước «Lãnh đạo phê duyệt»")

    # --- 9. The centre's leader approves (completes the leader's step).
    leader.goto("/can-bo/ho-so/")
    inbox_row(leader, dossier).get_by_role("link", name=dossier.code).click()
    form = open_action(leader, "Hoàn thành bước xử lý")
    form.get_by_label("Ý kiến xử lý").fill("Đồng ý, ký duyệt.")
    form.get_by_role("button", name="Hoàn thành, chuyển bước tiếp").click()
    confirmed(leader, "hồ sơ chuyển sang bước «Văn thư vào sổ, đóng dấu»")

    # --- 10. The clerk records the result with its signed PDF.
    clerk = sign_in(world.clerk)
    clerk.goto(page_url)
    expect(clerk.get_by_role("heading", level=1)).to_have_text(f"Hồ sơ {dossier.code}")
    form = open_action(clerk, "Cập nhật kết quả giải quyết")
    form.get_by_label("Số, ký hiệu văn bản").fill("125/QĐ-STP")
    form.get_by_label("Người ký").fill("Lê Văn Bình")
    form.get_by_label("Trích yếu").fill("Chấp thuận đăng ký hoạt động")
    form.get_by_label("Tệp kết quả (PDF)").set_input_files(
        files=[{"name": "quyet-dinh.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    axe(clerk)
    form.get_by_role("button", name="Cập nhật kết quả").click()
    confirmed(clerk, "Đã cập nhật kết quả giải quyết")
    status_is(clerk, "Đã xử lý xong")
    result_panel = clerk.get_by_role("region", name="Kết quả giải quyết")
    expect(result_panel).to_contain_text("125/QĐ-STP")
    screenshot(clerk, "journey-10-result-recorded")
    response = clerk.request.get(
        result_panel.get_by_role("link", name="Xem tệp kết quả (PDF)").get_attribute("href")
    )
    assert response.ok and response.body() == PDF

    # --- 11. The counter officer hands the result over at the return desk.
    counter.goto("/can-bo/tra-ket-qua/")
    expect(counter.get_by_role("heading", level=1)).to_have_text("Trả kết quả")
    row = counter.locator(f'tr[data-dossier="{dossier.pk}"]')
    expect(row).to_contain_text("125/QĐ-STP")
    axe(counter)
    screenshot(counter, "journey-11-return-desk")
    row.get_by_role("link", name=re.compile("Trả kết quả")).click()
    expect(counter.get_by_role("heading", level=1)).to_have_text(
        f"Trả kết quả hồ sơ {dossier.code}"
    )
    counter.get_by_label("Họ tên người nhận").fill(RECIPIENT)
    counter.get_by_label("Quan hệ với người nộp").select_option("authorised")
    counter.get_by_label("Số giấy tờ tùy thân của người nhận").fill("038090009999")
    axe(counter)
    screenshot(counter, "journey-12-hand-over")
    counter.get_by_role("button", name="Xác nhận đã trả kết quả").click()
    returned = counter.get_by_test_id("returned")
    expect(returned).to_contain_text(f"Đã trả kết quả hồ sơ {dossier.code}")
    expect(returned).to_contain_text(RECIPIENT)
    result = Result.objects.get(dossier=dossier)
    assert result.recipient_name == f"{RECIPIENT} (Người được ủy quyền)"
    assert result.returned_by == world.counter

    # --- 12. The dossier page: returned, every action in its history; Mẫu 06 lists the steps.
    returned.get_by_role("link", name="Xem hồ sơ").click()
    expect(counter.get_by_role("heading", level=1)).to_have_text(f"Hồ sơ {dossier.code}")
    status_is(counter, "Đã trả kết quả")
    history = counter.get_by_role("region", name="Lịch sử xử lý")
    actions = history.locator("li strong").all_inner_texts()
    for expected in (
        "Tiếp nhận hồ sơ",
        "Phân công xử lý",
        "Yêu cầu bổ sung, hoàn thiện hồ sơ",
        "Nhận hồ sơ bổ sung",
        "Hoàn thành bước xử lý",
        "Đề nghị gia hạn, xin lỗi",
        "Phê duyệt gia hạn",
        "Cập nhật kết quả giải quyết",
        "Trả kết quả",
    ):
        assert expected in actions, (expected, actions)
    assert actions.count("Hoàn thành bước xử lý") == 3
    assert len(actions) == DossierEvent.objects.filter(dossier=dossier).count()
    steps = counter.get_by_role("region", name="Quá trình xử lý")
    expect(steps).to_contain_text(world.department.name)
    axe(counter)
    screenshot(counter, "journey-13-returned")
    mau_06 = pdf_text(counter, print_link(counter, "06"))
    assert dossier.code in mau_06
    for step in Step.objects.filter(dossier=dossier, kind=Step.Kind.PROCESSING):
        assert step.name in mau_06, step.name
    dossier.refresh_from_db()
    assert dossier.status == Status.RETURNED
    assert dossier.due_at > original_due == dossier.original_due_at
