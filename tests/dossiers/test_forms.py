"""The official forms of a dossier, rendered from its data and history (text extracted)."""

from __future__ import annotations

import io
import re
import unicodedata

import openpyxl
import pytest
from django.test import Client
from pypdf import PdfReader

from motcua.dossiers import forms, services
from motcua.dossiers.services import SYSTEM, ResultInput

from .world import MONDAY_9, PERSONAL_ID, vn

pytestmark = pytest.mark.django_db


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    raw = "\n".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", raw))


def processed(world, dossier):
    for actor in (world.specialist, world.dept_specialist, world.leader):
        services.complete_step(dossier, actor=actor, at=vn(3, 10))
    return dossier


def test_receipt_mau_01(world):
    dossier = world.received()
    text = text_of(forms.render_form(dossier, "01"))
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in text
    assert dossier.code in text
    assert "Nguyễn Thị Hằng" in text
    assert "Tờ khai theo mẫu" in text
    assert "09/3/2026" in text or "09 tháng 3 năm 2026" in text  # the appointment
    assert PERSONAL_ID not in text  # masked
    assert "Quét mã để tra cứu hồ sơ" in text
    assert forms.lookup_url(dossier.code).endswith(f"code={dossier.code}")


def test_supplement_request_mau_02(world):
    dossier = world.received()
    services.request_supplement(
        dossier,
        actor=world.specialist,
        items=["Bản sao Giấy chứng nhận quyền sử dụng đất có chứng thực"],
        reason="Thiếu giấy tờ chứng minh",
        legal_basis="Điều 17 Nghị định 118/2025/NĐ-CP",
        at=vn(3, 9),
    )
    text = text_of(forms.render_form(dossier, "02"))
    assert "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ" in text
    assert "Giấy chứng nhận quyền sử dụng đất" in text
    assert "Điều 17 Nghị định 118/2025/NĐ-CP" in text


def test_refusal_mau_03(world):
    dossier = world.submit()
    services.refuse(dossier, actor=world.counter, reason="Không thuộc thẩm quyền", at=MONDAY_9)
    text = text_of(forms.render_form(dossier, "03"))
    assert "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ" in text
    assert "Không thuộc thẩm quyền" in text
    assert "Nguyễn Thị Hằng" in text


def test_apology_mau_04(world):
    dossier = world.received()
    services.propose_extension(
        dossier,
        actor=world.specialist,
        reason="Chờ kết quả xác minh của Công an xã",
        new_due_at=vn(13, 17),
        at=vn(5, 9),
    )
    services.decide_extension(dossier, actor=world.leader, approve=True, at=vn(5, 10))
    text = text_of(forms.render_form(dossier, "04"))
    assert "VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ GIA HẠN THỜI GIAN GIẢI QUYẾT" in text
    assert "Chờ kết quả xác minh của Công an xã" in text
    assert "13" in text and "2026" in text


def test_stop_notice_mau_05(world):
    dossier = world.received()
    services.stop(dossier, actor=world.counter, reason="Công dân đề nghị dừng", at=vn(3, 9))
    text = text_of(forms.render_form(dossier, "05"))
    assert "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ" in text
    assert "Công dân đề nghị dừng" in text


def test_control_slip_mau_06_follows_the_history(world):
    dossier = processed(world, world.received())
    services.record_result(
        dossier,
        actor=world.clerk,
        result=ResultInput(number="1/GP", signed_on=MONDAY_9.date(), signer="Lê Văn Bình"),
        at=vn(4, 9),
    )
    text = text_of(forms.render_form(dossier, "06"))
    assert "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ" in text
    assert "Sở Tư pháp tỉnh Thanh Hóa" in text  # the inter-agency hand-over
    assert "Trước hạn" in text
    assert len(forms.hand_overs(dossier)) == 5  # receive, 3 steps, result


@pytest.mark.parametrize("form", ["01", "03", "05", "06"])
def test_form_not_yet_applicable(world, form):
    dossier = world.submit()
    with pytest.raises(forms.FormNotApplicable):
        forms.render_form(dossier, form)


def test_forms_through_the_api(world):
    dossier = world.received()
    client = Client()
    client.force_login(world.counter)
    response = client.get(f"/api/v1/dossiers/{dossier.uuid}/forms/01")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert dossier.code in text_of(response.content)
    missing = client.get(f"/api/v1/dossiers/{dossier.uuid}/forms/03")
    assert (missing.status_code, missing.json()["code"]) == (409, "form_not_applicable")
    unknown = client.get(f"/api/v1/dossiers/{dossier.uuid}/forms/99")
    assert (unknown.status_code, unknown.json()["code"]) == (400, "unknown_form")
    outsider = Client()
    outsider.force_login(world.outsider)
    assert outsider.get(f"/api/v1/dossiers/{dossier.uuid}/forms/01").status_code == 404


def test_register_mau_07_pdf_and_excel(world):
    first = world.received()
    second = processed(world, world.received(at=vn(3, 9)))
    services.record_result(
        second,
        actor=world.clerk,
        result=ResultInput(number="2/GP", signed_on=vn(3, 9).date(), signer="Lê Văn Bình"),
        at=vn(4, 9),
    )
    services.return_result(
        second,
        actor=world.counter,
        method="counter",
        recipient_name="Trần Văn Nam",
        at=vn(4, 10),
    )
    world.received(at=vn(20, 9))  # outside the period
    client = Client()
    client.force_login(world.counter)
    period = "date_from=2026-03-01&date_to=2026-03-10"
    url = f"/api/v1/dossiers/register?agency={world.centre.pk}&{period}"
    pdf = client.get(url)
    assert pdf.status_code == 200
    text = text_of(pdf.content)
    assert "SỔ THEO DÕI HỒ SƠ" in text
    assert first.code in text and second.code in text
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(url + "&format=xlsx").content))
    cells = [str(c) for row in workbook.active.iter_rows(values_only=True) for c in row if c]
    assert first.code in cells and second.code in cells
    assert "Trần Văn Nam" in cells
    assert sum(1 for c in cells if c.startswith("000.00.01.H56-")) == 2
    # Another agency's register is not the counter officer's business.
    other = client.get(url.replace(f"agency={world.centre.pk}", f"agency={world.department.pk}"))
    assert other.status_code == 404
    bad = client.get(url.replace("2026-03-10", "2026-02-10"))
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_period")


def test_system_actor_prints_no_officer_name(world):
    dossier = world.submit()
    dossier = services.receive(dossier, actor=SYSTEM, at=MONDAY_9)
    ctx = forms.form_context(dossier, "01")
    assert ctx.officer == ""
