"""Registers (/can-bo/so-theo-doi/): Mẫu 07 on screen, as PDF and Excel; Mẫu 06 by code."""

from __future__ import annotations

import io
import re
import unicodedata

import openpyxl
import pytest
from pypdf import PdfReader

from motcua.accounts.models import Role
from motcua.dossiers import services
from motcua.dossiers.services import SYSTEM
from tests.agencies.factories import AgencyFactory
from tests.dossiers.world import build_world, vn

from .conftest import make_officer

pytestmark = pytest.mark.django_db

URL = "/can-bo/so-theo-doi/"


@pytest.fixture
def world(db):
    world = build_world()
    world.first = world.received(at=vn(2, 9))
    world.second = world.received(
        at=vn(5, 9), applicant=world.applicant(name="Trần Văn Đức", personal_id="038090001235")
    )
    services.withdraw(world.second, actor=SYSTEM, reason="Rút", at=vn(5, 10))
    world.april = world.received(
        at=vn(1, 9, month=4), applicant=world.applicant(personal_id="038090001236")
    )
    return world


def text_of(pdf: bytes) -> str:
    raw = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", raw))


def period(world, **extra) -> dict:
    return {"agency": world.centre.pk, "date_from": "2026-03-01", "date_to": "2026-03-31", **extra}


def test_the_register_of_a_period_on_screen(client, world):
    client.force_login(world.counter)
    first = client.get(URL)
    assert first.status_code == 200
    assert 'name="agency"' in first.content.decode()
    response = client.get(URL, period(world))
    html = response.content.decode()
    assert "2 hồ sơ tiếp nhận trong kỳ." in html
    assert world.first.code in html and world.second.code in html
    assert world.april.code not in html
    assert "Trần Văn Đức" in html
    assert "Công dân yêu cầu rút hồ sơ" in html  # the status as the note
    assert f"/can-bo/ho-so/{world.first.pk}/in/06/" in html  # each row's control slip
    assert "format=pdf" in html and "format=xlsx" in html


def test_the_register_as_pdf_and_excel(client, world):
    client.force_login(world.counter)
    pdf = client.get(URL, period(world, format="pdf"))
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    text = text_of(pdf.content)
    assert "SỔ THEO DÕI HỒ SƠ" in text
    assert world.first.code in text and world.second.code in text
    assert world.april.code not in text
    xlsx = client.get(URL, period(world, format="xlsx"))
    assert xlsx.status_code == 200
    assert (
        xlsx["Content-Disposition"] == 'attachment; filename="so-theo-doi-20260301-20260331.xlsx"'
    )
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert world.first.code in cells and world.second.code in cells
    assert "Trần Văn Đức" in cells
    assert world.april.code not in cells


def test_a_wrong_period_or_another_agency_is_refused(client, world):
    client.force_login(world.counter)
    html = client.get(URL, period(world, date_to="2026-02-01")).content.decode()
    assert "Ngày kết thúc phải từ ngày bắt đầu trở đi." in html
    html = client.get(URL, period(world, date_from="2024-01-01")).content.decode()
    assert "Sổ theo dõi lập tối đa cho một năm." in html
    other = AgencyFactory()
    response = client.get(URL, period(world, agency=other.pk, format="pdf"))
    assert response["Content-Type"].startswith("text/html")
    assert "Hãy chọn một lựa chọn hợp lệ" in response.content.decode() or (
        "Select a valid choice" in response.content.decode()
    )
    # Monitors choose among every agency.
    client.force_login(world.monitor)
    assert client.get(URL, period(world, agency=other.pk)).status_code == 200
    assert (
        "0 hồ sơ tiếp nhận trong kỳ."
        in client.get(URL, period(world, agency=other.pk)).content.decode()
    )


def test_the_control_slip_by_dossier_code(client, world):
    client.force_login(world.clerk)
    response = client.get(URL + "phieu-kiem-soat/", {"slip-code": world.first.code.lower()})
    assert response.status_code == 302
    assert response["Location"] == f"/can-bo/ho-so/{world.first.pk}/in/06/"
    slip = client.get(response["Location"])
    assert slip.status_code == 200
    text = text_of(slip.content)
    assert "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ" in text and world.first.code in text
    missing = client.get(URL + "phieu-kiem-soat/", {"slip-code": "000.00.01.H56-260302-9999"})
    assert missing.status_code == 400
    assert "Không tìm thấy hồ sơ có mã 000.00.01.H56-260302-9999." in missing.content.decode()
    # A dossier the officer may not see is not found either.
    stranger = make_officer("vt.khac", AgencyFactory(), Role.CLERK)
    client.force_login(stranger)
    response = client.get(URL + "phieu-kiem-soat/", {"slip-code": world.first.code})
    assert response.status_code == 400
