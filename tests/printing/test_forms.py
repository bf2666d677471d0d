"""The official forms (Mẫu 01–07, Circular 03/2025) render to PDF/XLSX with what they must carry.

Pure: no database, no Django settings. Text is read back from the PDF with pypdf, normalised to
NFC with white space collapsed, and searched for the values the form must show.
"""

from __future__ import annotations

import dataclasses
import io
import re
import subprocess
import sys
import unicodedata
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pypdf
import pytest

from motcua.core.errors import InvalidInput
from motcua.printing import (
    AgencyHeader,
    ComponentLine,
    FeeLine,
    FormContext,
    HandOver,
    Person,
    RegisterContext,
    RegisterRow,
    UnknownForm,
    render_pdf,
    render_register_pdf,
    render_register_xlsx,
    renderer_for,
)
from motcua.printing.qr import MODULE_PX, QUIET_ZONE, qr_matrix

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CODE = "000.00.00.H56-250714-0001"
URL = f"https://dichvucong.thanhhoa.gov.vn/tra-cuu-ho-so?ma={CODE}"
TITLES = {
    "01": "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
    "02": "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ",
    "03": "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ",
    "04": "VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ GIA HẠN THỜI GIAN GIẢI QUYẾT",
    "05": "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ",
    "06": "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ",
    "07": "SỔ THEO DÕI HỒ SƠ",
}

AGENCY = AgencyHeader(
    governing_body="UBND tỉnh Thanh Hóa",
    agency_name="Trung tâm Phục vụ hành chính công tỉnh Thanh Hóa",
    place="Thanh Hóa",
    unit_abbr="TTPVHCC",
)
APPLICANT = Person(
    name="Nguyễn Thị Hằng",
    identifier="038******456",
    address="Số 12 Lê Lợi, phường Hạc Thành, tỉnh Thanh Hóa",
    phone="0912 345 678",
    email="hang.nt@example.vn",
)


def local(y, m, d, hh=0, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=VN)


def base_context(form: str, **changes) -> FormContext:
    ctx = FormContext(
        form=form,
        agency=AGENCY,
        applicant=APPLICANT,
        dossier_code=CODE,
        procedure_code="1.001193",
        procedure_name="Đăng ký khai sinh",
        components=(
            ComponentLine("Tờ khai đăng ký khai sinh", originals=1),
            ComponentLine("Giấy chứng sinh", originals=1, copies=1),
        ),
        time_limit="01 ngày làm việc",
        # Stored in UTC as the database does: 01:30 UTC is 08:30 in Việt Nam.
        received_at=datetime(2025, 7, 14, 1, 30, tzinfo=UTC),
        due_at=local(2025, 7, 15, 16, 0),
        channel="Trực tiếp",
        delivery="Bộ phận Một cửa Trung tâm Phục vụ hành chính công",
        fees=(FeeLine("Lệ phí đăng ký khai sinh", 8_000),),
        officer="Lê Văn Tâm",
        lookup_url=URL,
    )
    return dataclasses.replace(ctx, **changes)


CONTEXTS = {
    "01": base_context("01", register_book="07/2025", register_entry="1234"),
    "02": base_context(
        "02",
        missing_items=(
            "Bản sao Giấy chứng nhận kết hôn của cha, mẹ",
            "Văn bản ủy quyền có chứng thực",
        ),
        reason="Hồ sơ thiếu giấy tờ chứng minh quan hệ cha, mẹ, con",
        legal_basis="Điều 16 Luật Hộ tịch năm 2014",
        contact="Lê Văn Tâm, số điện thoại 0237 3 852 123",
        issued_at=local(2025, 7, 14, 9, 0),
        number="15/PBS-TTPVHCC",
    ),
    "03": base_context(
        "03",
        reason="Thủ tục không thuộc thẩm quyền giải quyết của cấp tỉnh",
        legal_basis="Khoản 2 Điều 17 Nghị định số 118/2025/NĐ-CP",
    ),
    "04": base_context(
        "04",
        original_due_at=local(2025, 7, 15, 16, 0),
        new_due_at=local(2025, 7, 22, 10, 30),
        deciding_agency="Sở Tư pháp tỉnh Thanh Hóa",
        reason="Cần xác minh thông tin tại nơi cư trú trước đây của người yêu cầu",
        issued_at=date(2025, 7, 14),
        signer_name="Phạm Quốc Việt",
    ),
    "05": base_context(
        "05",
        stop_requested_at=local(2025, 7, 15, 9, 15),
        reason="Người yêu cầu đề nghị dừng để bổ sung thông tin về nơi sinh",
        issued_at=date(2025, 7, 15),
        signer_name="Phạm Quốc Việt",
    ),
    "06": base_context(
        "06",
        deciding_agency="Sở Tư pháp tỉnh Thanh Hóa",
        coordinating_agencies="Công an tỉnh Thanh Hóa",
        hand_overs=(
            HandOver(
                "Bộ phận tiếp nhận và trả kết quả",
                "Phòng Hành chính tư pháp",
                at=local(2025, 7, 14, 9, 5),
                due_at=local(2025, 7, 14, 17, 0),
                done_at=local(2025, 7, 14, 15, 40),
                timeliness="Trước hạn",
                giver="Lê Văn Tâm",
                receiver="Đỗ Thị Lụa",
            ),
            HandOver(
                "Phòng Hành chính tư pháp",
                "Bộ phận tiếp nhận và trả kết quả",
                at=local(2025, 7, 15, 14, 0),
                timeliness="Đúng hạn",
                giver="Đỗ Thị Lụa",
                receiver="Lê Văn Tâm",
                note="Trả kết quả qua bưu chính",
            ),
        ),
    ),
}

EXPECTED = {
    "01": [
        CODE,
        "Nguyễn Thị Hằng",
        "Đăng ký khai sinh",
        "Tờ khai đăng ký khai sinh",
        "Giấy chứng sinh",
        "Thời gian nhận hồ sơ: 08 giờ 30 phút, ngày 14 tháng 7 năm 2025",
        "Thời gian trả kết quả giải quyết hồ sơ: 16 giờ 00 phút, ngày 15 tháng 7 năm 2025",
        "Đăng ký nhận kết quả tại: Bộ phận Một cửa Trung tâm Phục vụ hành chính công",
        "Quét mã để tra cứu hồ sơ",
        "Thanh Hóa, ngày 14 tháng 7 năm 2025",
        "Quyển số: 07/2025, Số thứ tự: 1234",
        "Tổng cộng: 8.000 đồng",
        "NGƯỜI NỘP HỒ SƠ",
        "NGƯỜI TIẾP NHẬN HỒ SƠ",
        "Lê Văn Tâm",
    ],
    "02": [
        CODE,
        "Số: 15/PBS-TTPVHCC",
        "Hồ sơ của: Nguyễn Thị Hằng",
        "Yêu cầu hoàn thiện hồ sơ gồm những nội dung sau",
        "1. Bản sao Giấy chứng nhận kết hôn của cha, mẹ",
        "2. Văn bản ủy quyền có chứng thực",
        "Lý do: Hồ sơ thiếu giấy tờ chứng minh quan hệ cha, mẹ, con",
        "Điều 16 Luật Hộ tịch năm 2014",
        "Lê Văn Tâm, số điện thoại 0237 3 852 123",
        "NGƯỜI HƯỚNG DẪN",
    ],
    "03": [
        CODE,
        "Nguyễn Thị Hằng",
        "Số: ……/PTC-TTPVHCC",
        "Thủ tục không thuộc thẩm quyền giải quyết của cấp tỉnh",
        "Khoản 2 Điều 17 Nghị định số 118/2025/NĐ-CP",
        "NGƯỜI TIẾP NHẬN HỒ SƠ",
    ],
    "04": [
        CODE,
        "Kính gửi: Ông (Bà)/Tổ chức Nguyễn Thị Hằng",
        "Thời gian hẹn trả kết quả giải quyết hồ sơ: 16 giờ 00 phút, ngày 15 tháng 7 năm 2025",
        "hẹn trả kết quả vào: 10 giờ 30 phút, ngày 22 tháng 7 năm 2025",
        "Lý do: Cần xác minh thông tin tại nơi cư trú trước đây của người yêu cầu",
        "Sở Tư pháp tỉnh Thanh Hóa xin lỗi",
        "THỦ TRƯỞNG CƠ QUAN, ĐƠN VỊ",
        "Phạm Quốc Việt",
        "Nơi nhận",
    ],
    "05": [
        CODE,
        "Kính gửi: Ông (Bà)/Tổ chức Nguyễn Thị Hằng",
        "Ngày 15 tháng 7 năm 2025",
        "đề nghị dừng giải quyết hồ sơ",
        "Người yêu cầu đề nghị dừng để bổ sung thông tin về nơi sinh",
        "Điều 21 Nghị định số 118/2025/NĐ-CP",
        "chưa có quyết định giải quyết",
        "Thanh Hóa, ngày 15 tháng 7 năm 2025",
    ],
    "06": [
        CODE,
        "Kèm theo hồ sơ của: Nguyễn Thị Hằng",
        "Cơ quan (bộ phận) giải quyết: Sở Tư pháp tỉnh Thanh Hóa",
        "Cơ quan phối hợp giải quyết: Công an tỉnh Thanh Hóa",
        "Thời gian hẹn trả kết quả: 16 giờ 00 phút, ngày 15 tháng 7 năm 2025",
        "TÊN ĐƠN VỊ",
        "THỜI GIAN GIAO, NHẬN HỒ SƠ",
        "KẾT QUẢ GIẢI QUYẾT HỒ SƠ",
        "GHI CHÚ",
        "1. Giao: Bộ phận tiếp nhận và trả kết quả",
        "2. Nhận: Phòng Hành chính tư pháp",
        "09 giờ 05 phút, ngày 14 tháng 7 năm 2025",
        "Người nhận: Đỗ Thị Lụa",
        "Trước hạn",
        "Đúng hạn",
        "Trả kết quả qua bưu chính",
    ],
}


def clean(value: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", value)).strip()


def raw_pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def pages_text(data: bytes) -> list[str]:
    return [clean(text) for text in raw_pages(data)]


def pdf_text(data: bytes) -> str:
    return " ".join(pages_text(data))


@pytest.fixture(scope="module")
def rendered() -> dict[str, bytes]:
    return {form: render_pdf(ctx) for form, ctx in CONTEXTS.items()}


@pytest.mark.parametrize("form", sorted(CONTEXTS))
def test_form_shows_its_title_label_and_required_fields(rendered, form):
    data = rendered[form]
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    assert TITLES[form] in text
    assert f"Mẫu số {form}" in text
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
    assert "Độc lập - Tự do - Hạnh phúc" in text
    assert "UBND TỈNH THANH HÓA" in text
    assert "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG TỈNH THANH HÓA" in text
    missing = [value for value in EXPECTED[form] if value not in text]
    assert not missing, f"Mẫu {form} lacks {missing}"


@pytest.mark.parametrize("form", sorted(CONTEXTS))
def test_pdf_metadata_title_is_the_form_title(rendered, form):
    reader = pypdf.PdfReader(io.BytesIO(rendered[form]))
    assert reader.metadata.title == TITLES[form]
    assert len(reader.pages) == 1
    width, height = reader.pages[0].mediabox.width, reader.pages[0].mediabox.height
    assert (round(width), round(height)) == (595, 842)  # A4 portrait


def test_decomposed_input_is_printed_in_nfc():
    nfd = unicodedata.normalize("NFD", "Nguyễn Thị Hằng")
    assert nfd != "Nguyễn Thị Hằng"
    ctx = base_context("01", applicant=dataclasses.replace(APPLICANT, name=nfd))
    raw = " ".join(raw_pages(render_pdf(ctx)))
    assert "Nguyễn Thị Hằng" in re.sub(r"\s+", " ", raw)
    assert not any(unicodedata.combining(ch) for ch in raw)


def test_markup_characters_in_caller_text_are_printed_literally():
    ctx = base_context(
        "01", components=(ComponentLine("Giấy xác nhận <b>tạm trú</b> & cư trú", copies=1),)
    )
    assert "Giấy xác nhận <b>tạm trú</b> & cư trú" in pdf_text(render_pdf(ctx))


def test_receipt_prints_the_owner_when_someone_else_submits():
    owner = Person("Trần Văn Bình", "038******789", "Thôn 3, xã Quảng Phú", "0987 654 321")
    ctx = base_context("01", owner=owner, authorisation="Giấy ủy quyền số 12/UQ")
    text = pdf_text(render_pdf(ctx))
    assert "thông tin người ủy quyền (chủ hồ sơ)" in text
    assert "Trần Văn Bình" in text
    assert "Văn bản ủy quyền: Giấy ủy quyền số 12/UQ" in text


def test_components_outside_the_published_list_are_marked():
    ctx = base_context("01", components=(ComponentLine("Ảnh 4x6", copies=2, in_list=False),))
    assert "Ngoài danh mục" in pdf_text(render_pdf(ctx))


# --- the QR code on Mẫu 01 -----------------------------------------------------------------


def _qr_image(data: bytes):
    images = pypdf.PdfReader(io.BytesIO(data)).pages[0].images
    assert len(images) == 1, "Mẫu 01 carries exactly one image, the QR code"
    return images[0].image.convert("L")


def test_receipt_qr_image_holds_exactly_segno_matrix_for_the_lookup_url(rendered):
    image = _qr_image(rendered["01"])
    matrix = qr_matrix(URL)
    size = len(matrix)
    assert (size - 17) % 4 == 0 and size >= 21  # a QR symbol (version 1–40), not Micro QR
    assert image.size == ((size + 2 * QUIET_ZONE) * MODULE_PX,) * 2
    # Read every module back from the centre of its pixel block.
    read = tuple(
        tuple(
            image.getpixel(
                (
                    (QUIET_ZONE + x) * MODULE_PX + MODULE_PX // 2,
                    (QUIET_ZONE + y) * MODULE_PX + MODULE_PX // 2,
                )
            )
            < 128
            for x in range(size)
        )
        for y in range(size)
    )
    assert read == matrix
    assert matrix != qr_matrix(URL + "x")  # the matrix depends on the URL


def test_qr_matrix_has_the_three_finder_patterns():
    matrix = qr_matrix(URL)
    size = len(matrix)
    # 7×7: dark outer ring, light ring, dark 3×3 centre (Chebyshev distance 2 is the light ring)
    finder = [[max(abs(x - 3), abs(y - 3)) != 2 for x in range(7)] for y in range(7)]
    for oy, ox in ((0, 0), (0, size - 7), (size - 7, 0)):
        block = [[matrix[oy + y][ox + x] for x in range(7)] for y in range(7)]
        assert block == finder


def test_receipt_qr_decodes_to_the_lookup_url(rendered):
    zxingcpp = pytest.importorskip("zxingcpp")
    results = zxingcpp.read_barcodes(_qr_image(rendered["01"]))
    assert [r.text for r in results] == [URL]


def test_receipt_without_lookup_url_has_no_qr():
    data = render_pdf(base_context("01", lookup_url=""))
    assert len(pypdf.PdfReader(io.BytesIO(data)).pages[0].images) == 0
    assert "Quét mã để tra cứu hồ sơ" not in pdf_text(data)


# --- long tables split across pages ----------------------------------------------------------


def test_long_components_table_splits_and_repeats_its_heading():
    components = tuple(
        ComponentLine(f"Giấy tờ kèm theo số {i:03d}", originals=1) for i in range(1, 81)
    )
    data = render_pdf(base_context("01", components=components))
    pages = pages_text(data)
    table_pages = [page for page in pages if "Giấy tờ kèm theo số" in page]
    assert len(table_pages) >= 2
    for page in table_pages:
        assert "STT Tên giấy tờ Bản chính Bản sao Ghi chú" in page
    text = " ".join(pages)
    assert all(f"Giấy tờ kèm theo số {i:03d}" in text for i in range(1, 81))
    assert pages[1].startswith("2 ")  # later pages are numbered at the top


def test_long_control_slip_splits_and_repeats_its_heading():
    hands = tuple(
        HandOver(f"Đơn vị số {i}", f"Đơn vị số {i + 1}", at=local(2025, 7, 14, 8, 0))
        for i in range(1, 41)
    )
    pages = pages_text(render_pdf(base_context("06", hand_overs=hands)))
    assert len(pages) >= 2
    assert all("TÊN ĐƠN VỊ" in page and "THỜI GIAN GIAO, NHẬN HỒ SƠ" in page for page in pages)
    assert "2. Nhận: Đơn vị số 41" in " ".join(pages)


# --- Mẫu 07, the register ---------------------------------------------------------------------


def register_context(rows: int = 300) -> RegisterContext:
    start = datetime(2025, 7, 1, 1, 0, tzinfo=UTC)  # 08:00 in Việt Nam
    return RegisterContext(
        agency=AGENCY,
        date_from=date(2025, 7, 1),
        date_to=date(2025, 7, 31),
        field_name="Hộ tịch",
        rows=tuple(
            RegisterRow(
                order=i,
                dossier_code=f"000.00.00.H56-2507{(i % 28) + 1:02d}-{i:04d}",
                procedure="Cấp bản sao trích lục hộ tịch",
                owner_name=f"Nguyễn Thị Hằng {i}",
                sets=1,
                address="Thôn 3, xã Quảng Phú",
                phone="0987654321",
                deciding_agency="UBND xã Quảng Phú",
                received_at=start + timedelta(hours=i),
                due_at=start + timedelta(hours=i, days=2),
                returned_at=start + timedelta(hours=i, days=1) if i % 2 else None,
                delivery="Trực tiếp",
                receiver_name="Nguyễn Thị Hằng" if i % 2 else "",
                note="Trả trước hạn" if i % 2 else "",
            )
            for i in range(1, rows + 1)
        ),
    )


@pytest.fixture(scope="module")
def register_pdf() -> bytes:
    return render_register_pdf(register_context())


def test_register_pdf_splits_300_rows_over_pages_with_the_heading_repeated(register_pdf):
    reader = pypdf.PdfReader(io.BytesIO(register_pdf))
    assert reader.metadata.title == TITLES["07"]
    assert reader.pages[0].mediabox.width > reader.pages[0].mediabox.height  # landscape
    pages = pages_text(register_pdf)
    assert len(pages) >= 5
    assert TITLES["07"] in pages[0] and "Mẫu số 07" in pages[0]
    assert "Lĩnh vực: Hộ tịch. Từ ngày 01/07/2025 đến ngày 31/07/2025" in pages[0]
    for page in pages:
        assert "Mã hồ sơ" in page
        assert "Nhận và trả kết quả" in page
        assert "Hẹn trả kết quả" in page
        assert "(13)" in page
    text = " ".join(pages)
    for i in range(1, 301):
        assert text.count(f"-{i:04d}") == 1, f"row {i} printed {text.count(f'-{i:04d}')} times"
    # Row 1: received 01:00 UTC + 1 h = 09:00 local.
    assert "01/07/2025 09:00" in text


def test_register_xlsx_holds_every_row_with_local_dates():
    ctx = register_context()
    wb = openpyxl.load_workbook(io.BytesIO(render_register_xlsx(ctx)))
    ws = wb.active
    values = list(ws.iter_rows(values_only=True))
    assert values[0][0] == "UBND TỈNH THANH HÓA"
    assert values[2][0] == TITLES["07"]
    assert "Từ ngày 01/07/2025 đến ngày 31/07/2025" in values[3][0]
    header = values[5]
    assert header[:3] == ("STT", "Mã hồ sơ", "Tên thủ tục hành chính")
    assert "Nhận và trả kết quả" in header
    assert {"Nhận hồ sơ", "Hẹn trả kết quả", "Trả kết quả"} <= set(values[6])
    data = values[7:]
    assert len(data) == 300
    first = data[0]
    assert first[0] == 1 and first[1] == ctx.rows[0].dossier_code
    assert first[4] == "Nguyễn Thị Hằng 1"
    assert datetime(2025, 7, 1, 9, 0) in first  # 02:00 UTC shown as 09:00 local, naive
    received_col = values[6].index("Nhận hồ sơ") + 1
    cell = ws.cell(8, received_col)
    assert cell.value == datetime(2025, 7, 1, 9, 0)
    assert cell.number_format == "dd/mm/yyyy hh:mm"
    assert ws.column_dimensions["B"].width >= 20
    assert ws.freeze_panes == "C8"
    assert [row[1] for row in data] == [row.dossier_code for row in ctx.rows]


# --- choosing the layout by date --------------------------------------------------------------


@pytest.mark.parametrize("form", ["01", "02", "03", "04", "05", "06", "07"])
def test_the_2025_set_is_in_force_from_1_july_2025(form):
    renderer = renderer_for(form, date(2025, 7, 1))
    assert renderer.basis == "Thông tư 03/2025/TT-VPCP"
    assert renderer.valid_from == date(2025, 7, 1)
    assert renderer.title == TITLES[form]
    assert renderer_for(form, date(2030, 1, 1)) is renderer


def test_unknown_form_number_is_refused_with_a_stable_code():
    with pytest.raises(UnknownForm) as caught:
        renderer_for("99", date(2025, 7, 14))
    assert caught.value.code == "unknown_form"
    assert isinstance(caught.value, InvalidInput)
    assert "99" in caught.value.message and "biểu mẫu" in caught.value.message


def test_no_layout_before_the_first_registration():
    with pytest.raises(UnknownForm) as caught:
        renderer_for("01", date(2025, 6, 30))
    assert caught.value.code == "unknown_form"
    assert "30/06/2025" in caught.value.message


def test_render_picks_the_layout_by_the_local_day_of_receipt():
    # 30/6 17:30 UTC is 1/7 00:30 in Việt Nam: received under the 2025 regime.
    late_evening = base_context("01", received_at=datetime(2025, 6, 30, 17, 30, tzinfo=UTC))
    assert "GIẤY TIẾP NHẬN" in pdf_text(render_pdf(late_evening))
    before = base_context("01", received_at=local(2025, 6, 30, 16, 0))
    with pytest.raises(UnknownForm):
        render_pdf(before)
    with pytest.raises(UnknownForm):
        render_pdf(CONTEXTS["01"], on=date(2024, 1, 1))


def test_the_register_needs_a_register_context():
    with pytest.raises(InvalidInput) as caught:
        render_pdf(base_context("07"))
    assert caught.value.code == "wrong_form_context"


# --- speed and purity -------------------------------------------------------------------------


def test_printing_imports_no_django():
    code = (
        "import sys, motcua.printing.pdf, motcua.printing.xlsx;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
