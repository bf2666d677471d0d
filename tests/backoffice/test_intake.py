"""The counter intake screen (/can-bo/tiep-nhan/) through the Django test client.

Every write goes through ``dossiers.services``; these tests check what the desk sees and that a
refused or repeated post writes nothing (or nothing more).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import threading
import unicodedata
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.test import Client
from pypdf import PdfReader

from motcua.accounts.models import Role
from motcua.agencies.calendar import calendar_for
from motcua.backoffice import staging
from motcua.backoffice.tasks import sweep_intake_staging
from motcua.catalog.models import Procedure
from motcua.core.worktime import VN_TZ
from motcua.dossiers import deadlines, services
from motcua.dossiers.models import (
    Applicant,
    ComponentFile,
    Dossier,
    DossierEvent,
    Status,
    SubmittedComponent,
)
from tests.agencies.factories import CommuneFactory, ProvinceFactory, ProvincialAgencyFactory
from tests.catalog.factories import saved_procedure

from .conftest import make_officer
from .intake_world import MONDAY_9, PDF, PERSONAL_ID, PNG, TAX_CODE, Desk, build_desk, form_data

pytestmark = pytest.mark.django_db

URL = "/can-bo/tiep-nhan/"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def desk(db, settings, tmp_path) -> Desk:
    settings.MEDIA_ROOT = tmp_path / "media"
    return build_desk()


@pytest.fixture
def officer(client, desk):
    client.force_login(desk.counter)
    return client


def text_of(pdf: bytes) -> str:
    raw = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", raw))


def nothing_written() -> bool:
    return not (
        Dossier.objects.exists()
        or Applicant.objects.exists()
        or DossierEvent.objects.exists()
        or ComponentFile.objects.exists()
    )


def html(response) -> str:
    return response.content.decode()


# --- search and choice ----------------------------------------------------------------------


def test_the_page_opens_with_the_search_focused_and_the_shortcuts_listed(officer):
    page = html(officer.get(URL))
    assert "<h1>Tiếp nhận hồ sơ</h1>" in page
    assert 'id="procedure-search"' in page and "autofocus" in page
    for keys in ("Alt+N", "Alt+T", "Alt+G", "Alt+P", "Alt+K"):
        assert f"<kbd>{keys}</kbd>" in page
    assert "/static/backoffice/intake.js" in page
    assert re.search(r'name="token" value="[0-9a-f-]{36}"', page)


def test_search_finds_by_code_and_by_name_without_diacritics_only_at_this_agency(officer, desk):
    by_name = html(officer.get(URL + "thu-tuc/", {"q": "dang ky khai sinh"}, **HTMX))
    assert 'data-code="1.001193"' in by_name
    assert 'role="listbox"' in by_name and 'role="option"' in by_name
    assert "1.000894" not in by_name  # another agency's procedure
    by_code = html(officer.get(URL + "thu-tuc/", {"q": "1.001193"}, **HTMX))
    assert 'data-code="1.001193"' in by_code
    nothing = html(officer.get(URL + "thu-tuc/", {"q": "ket hon"}, **HTMX))
    assert 'role="option"' not in nothing and "Không tìm thấy thủ tục phù hợp" in nothing
    # Without scripts the search form reloads the page with plain links.
    page = html(officer.get(URL, {"q": "KHAI SINH"}))
    assert f'href="{URL}?procedure=1.001193"' in page and "1.000894" not in page


def test_a_procedure_no_agency_is_configured_for_may_be_received_anywhere(officer, desk):
    saved_procedure(code="2.000001", name="Thủ tục chứng thực bản sao từ bản chính")
    assert 'data-code="2.000001"' in html(
        officer.get(URL + "thu-tuc/", {"q": "chung thuc"}, **HTMX)
    )


def test_choosing_the_procedure_shows_its_variants_then_the_checklist(officer, desk):
    variants = html(officer.get(URL + "truong-hop/", {"procedure": "1.001193"}, **HTMX))
    assert "Đăng ký khai sinh đúng hạn" in variants and "Đăng ký khai sinh quá hạn" in variants
    assert 'name="variant"' in variants and "checked" not in variants
    assert "Tờ khai đăng ký khai sinh" not in variants  # no checklist before a variant

    chosen = html(
        officer.get(
            URL + "truong-hop/", {"procedure": "1.001193", "variant": desk.variant.pk}, **HTMX
        )
    )
    for component in desk.components():
        assert component.name in chosen
        assert f'name="c{component.pk}-received"' in chosen
        assert f'name="c{component.pk}-originals"' in chosen
    assert chosen.count("badge-required") == 2
    assert "Không bắt buộc" in chosen
    assert 'id="intake-preview" hx-swap-oob="innerHTML"' in chosen
    assert "50.000 đồng" in chosen

    other = html(officer.get(URL + "truong-hop/", {"procedure": "1.000894"}, **HTMX))
    assert "không có trong danh mục thủ tục" in other and 'name="variant"' not in other


def test_the_preview_gives_the_fees_and_the_appointment_the_receipt_will_give(
    officer, desk, monkeypatch
):
    monkeypatch.setattr("django.utils.timezone.now", lambda: MONDAY_9)
    fragment = html(officer.get(URL + "xem-truoc/", {"variant": desk.variant.pk}))
    expected = deadlines.appointment(calendar_for(desk.agency), MONDAY_9, 3, "working_days")
    assert expected == dt.datetime(2026, 3, 5, 9, 0, tzinfo=VN_TZ)
    assert "Ngày hẹn trả dự kiến" in fragment
    assert "05/03/2026" in fragment and "09:00" in fragment
    assert 'data-value="50000"' in fragment and "50.000 đồng" in fragment
    assert "3 ngày làm việc" in fragment

    response = officer.post(URL, form_data(desk))
    assert response.status_code == 302
    dossier = Dossier.objects.get()
    assert dossier.due_at == expected
    assert dossier.fee_total == 50000

    free = html(officer.get(URL + "xem-truoc/", {"variant": desk.other_variant.pk}))
    assert "Không thu" in free and "09/03/2026" in free
    # A variant of a procedure this desk does not receive shows nothing.
    foreign = Procedure.objects.get(code="1.000894").current_version.variants.get()
    assert "Ngày hẹn trả dự kiến" not in html(
        officer.get(URL + "xem-truoc/", {"variant": foreign.pk})
    )


# --- applicant ------------------------------------------------------------------------------


def test_a_returning_applicant_is_filled_in_from_the_personal_id(officer, desk):
    services.upsert_applicant(
        services.ApplicantInput(
            name="Trần Văn Bình",
            personal_id=PERSONAL_ID,
            phone="0987654321",
            province_code="38",
            commune_code="16000",
            address_line="Thôn Tây",
        )
    )
    fragment = html(
        officer.get(
            URL + "nguoi-nop/",
            {
                "prefix": "applicant",
                "applicant-kind": "individual",
                "applicant-personal_id": "0380 9000 1234",
                "applicant-province": "38",
            },
            **HTMX,
        )
    )
    assert 'value="Trần Văn Bình"' in fragment
    assert 'value="0987654321"' in fragment
    assert 'value="Thôn Tây"' in fragment
    assert '<option value="16000" selected>' in fragment
    assert "Đã nộp hồ sơ trước đây" in fragment
    assert 'data-focus="id_applicant-phone"' in fragment
    assert "Chưa nhập" not in fragment  # only the identifier is judged while typing

    unknown = html(
        officer.get(
            URL + "nguoi-nop/",
            {"prefix": "owner", "owner-kind": "individual", "owner-personal_id": "001200012345"},
            **HTMX,
        )
    )
    assert "Chưa có trong hệ thống" in unknown and 'id="owner-block"' in unknown

    wrong = html(
        officer.get(
            URL + "nguoi-nop/",
            {"prefix": "applicant", "applicant-kind": "individual", "applicant-personal_id": "12"},
            **HTMX,
        )
    )
    assert "Số định danh cá nhân không hợp lệ" in wrong and 'aria-invalid="true"' in wrong


def test_the_commune_list_follows_the_province(officer, desk):
    other = ProvinceFactory(code="01", name="Hà Nội")
    CommuneFactory(code="00004", name="Ba Đình", parent=other)
    options = html(
        officer.get(URL + "xa-phuong/", {"prefix": "applicant", "applicant-province": "01"}, **HTMX)
    )
    assert "Ba Đình" in options and "Hạc Thành" not in options


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"applicant-personal_id": "03809000123"}, "personal_id", "phải gồm đúng 12 chữ số"),
        ({"applicant-personal_id": "999090001234"}, "personal_id", "mã nơi đăng ký khai sinh"),
        ({"applicant-personal_id": ""}, "personal_id", "Chưa nhập số định danh cá nhân"),
        (
            {"applicant-kind": "organisation", "applicant-tax_code": "0312345678"},
            "tax_code",
            "chữ số kiểm tra",
        ),
        ({"applicant-phone": "12345"}, "phone", "Số điện thoại không hợp lệ"),
        ({"applicant-name": "  "}, "name", "Chưa nhập họ tên người nộp hồ sơ"),
    ],
)
def test_a_wrong_identifier_is_shown_next_to_its_field_and_nothing_is_written(
    officer, desk, overrides, field, message
):
    response = officer.post(URL, form_data(desk, **overrides))
    assert response.status_code == 200
    page = html(response)
    assert re.search(rf'id="id_applicant-{field}_error">[^<]*{re.escape(message)}', page), page[
        :3000
    ]
    assert f'href="#id_applicant-{field}"' in page  # the summary links to the field
    assert "Hồ sơ chưa được ghi" in page
    assert nothing_written()


def test_an_organisation_applies_with_its_tax_code(officer, desk):
    data = form_data(
        desk,
        **{
            "applicant-kind": "organisation",
            "applicant-personal_id": "",
            "applicant-tax_code": TAX_CODE,
            "applicant-name": "Công ty TNHH Thử Nghiệm",
        },
    )
    assert officer.post(URL, data).status_code == 302
    applicant = Dossier.objects.get().applicant
    assert applicant.kind == "organisation" and applicant.tax_code == TAX_CODE
    assert applicant.personal_id == ""


# --- outcomes -------------------------------------------------------------------------------


def test_receive_gives_a_code_an_appointment_a_history_and_mau_01(officer, desk):
    response = officer.post(URL, form_data(desk, received=[c.pk for c in desk.components()]))
    dossier = Dossier.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{URL}ket-qua/{dossier.pk}/"
    assert dossier.status == Status.RECEIVED
    assert dossier.code and dossier.code.startswith("000.00.01.H56-")
    assert dossier.channel == "counter" and dossier.created_by == desk.counter
    assert dossier.received_at is not None and dossier.due_at is not None
    assert dossier.idempotency_key.startswith(f"backoffice:{desk.counter.pk}:")
    assert list(dossier.events.order_by("id").values_list("action", flat=True)) == [
        "submit",
        "receive",
    ]
    assert dossier.components.count() == 3
    assert dossier.applicant.phone == "0912345678"
    assert dossier.applicant.commune.code == "16000"

    done = html(officer.get(response["Location"]))
    assert "Đã tiếp nhận hồ sơ" in done and dossier.code in done
    assert f'href="/can-bo/ho-so/{dossier.pk}/in/01/"' in done
    assert "Mẫu 01" in done

    pdf = officer.get(f"/can-bo/ho-so/{dossier.pk}/in/01/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == f'inline; filename="mau-01-{dossier.code}.pdf"'
    text = text_of(pdf.content)
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in text
    assert dossier.code in text and "Nguyễn Thị Hằng" in text


def test_a_missing_required_paper_blocks_receipt_listing_all_and_writes_nothing(officer, desk):
    response = officer.post(URL, form_data(desk, received=[]))
    page = html(response)
    assert response.status_code == 200
    assert "Chưa thể tiếp nhận: hồ sơ còn thiếu 2 giấy tờ bắt buộc" in page
    assert "Tờ khai đăng ký khai sinh; Giấy chứng sinh" in page
    assert "Yêu cầu bổ sung" in page and "Mẫu 02" in page
    assert page.count('_error">Giấy tờ bắt buộc chưa nhận.') == 2
    assert nothing_written()


def test_the_same_form_posted_twice_creates_one_dossier(officer, desk):
    data = form_data(desk)
    first = officer.post(URL, data)
    second = officer.post(URL, data)
    assert Dossier.objects.count() == 1
    assert first["Location"] == second["Location"]
    dossier = Dossier.objects.get()
    assert dossier.events.filter(action="receive").count() == 1
    follow = officer.get(second["Location"])
    assert "đã được ghi nhận từ lần gửi trước" in html(follow)


def test_a_form_replayed_with_another_outcome_changes_nothing_and_says_so(officer, desk):
    token = uuid.uuid4()
    officer.post(URL, form_data(desk, token=token))
    refused = officer.post(
        URL, form_data(desk, "refuse", token=token, refuse_reason="Không thuộc thẩm quyền")
    )
    dossier = Dossier.objects.get()
    assert dossier.status == Status.RECEIVED
    assert not dossier.events.filter(action="refuse").exists()
    page = html(officer.get(refused["Location"]))
    assert "Không thực hiện «Từ chối tiếp nhận»" in page
    assert "Đã tiếp nhận" in page


def test_the_token_is_scoped_by_the_officer(client, desk):
    token = uuid.uuid4()
    client.force_login(desk.counter)
    client.post(URL, form_data(desk, token=token))
    colleague = make_officer("tiepnhan2", desk.agency, Role.COUNTER_OFFICER)
    client.force_login(colleague)
    response = client.post(
        URL, form_data(desk, token=token, **{"applicant-personal_id": "001200012345"})
    )
    assert response.status_code == 302
    assert Dossier.objects.count() == 2


def test_request_supplement_lists_everything_missing_on_mau_02(officer, desk):
    tokhai, _chungsinh = desk.components(required=True)
    data = form_data(
        desk,
        "supplement",
        received=[tokhai.pk],
        supplement_items="Tờ khai ghi thiếu ngày sinh\n\n",
    )
    response = officer.post(URL, data)
    dossier = Dossier.objects.get()
    assert response.status_code == 302
    assert dossier.status == Status.AWAITING_SUPPLEMENT and dossier.code is None
    pause = dossier.pauses.get()
    assert pause.items == ["Giấy chứng sinh", "Tờ khai ghi thiếu ngày sinh"]
    done = html(officer.get(response["Location"]))
    assert "Đã lập phiếu yêu cầu bổ sung" in done and f"/ho-so/{dossier.pk}/in/02/" in done
    text = text_of(officer.get(f"/can-bo/ho-so/{dossier.pk}/in/02/").content)
    assert "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ" in text
    assert "Giấy chứng sinh" in text and "Tờ khai ghi thiếu ngày sinh" in text
    # Mẫu 01 does not exist for a dossier not received.
    assert officer.get(f"/can-bo/ho-so/{dossier.pk}/in/01/").status_code == 409


def test_a_supplement_request_needs_something_to_ask_for(officer, desk):
    page = html(officer.post(URL, form_data(desk, "supplement")))
    assert "Hồ sơ đã đủ giấy tờ bắt buộc" in page
    assert nothing_written()


def test_refusal_needs_a_reason_then_gives_mau_03(officer, desk):
    page = html(officer.post(URL, form_data(desk, "refuse", refuse_reason="   ")))
    assert "Cần ghi rõ lý do từ chối tiếp nhận." in page
    assert nothing_written()

    reason = "Thủ tục không thuộc thẩm quyền giải quyết của Trung tâm"
    response = officer.post(URL, form_data(desk, "refuse", received=[], refuse_reason=reason))
    dossier = Dossier.objects.get()
    assert response.status_code == 302 and dossier.status == Status.REFUSED
    assert dossier.events.get(action="refuse").note == reason
    text = text_of(officer.get(f"/can-bo/ho-so/{dossier.pk}/in/03/").content)
    assert "TỪ CHỐI" in text.upper() and reason in text


def test_a_paper_outside_the_list_needs_a_reason(officer, desk):
    outside = {"x-0-name": "Giấy xác nhận của trưởng thôn", "x-0-reason": ""}
    page = html(officer.post(URL, form_data(desk, **outside)))
    assert "chỉ được nhận khi ghi rõ lý do tiếp nhận" in page
    assert nothing_written()

    outside["x-0-reason"] = "Người nộp đề nghị bổ sung để làm rõ nơi cư trú"
    assert officer.post(URL, form_data(desk, **outside)).status_code == 302
    paper = SubmittedComponent.objects.get(in_list=False)
    assert paper.name == "Giấy xác nhận của trưởng thôn"
    assert paper.outside_reason.startswith("Người nộp đề nghị")


def test_the_owner_is_recorded_when_someone_files_for_them(officer, desk):
    data = form_data(
        desk,
        has_owner="on",
        authorisation="Giấy ủy quyền số 12/UQ ngày 01/3/2026",
        **{
            "owner-kind": "individual",
            "owner-personal_id": "001200012345",
            "owner-name": "Lê Văn Chủ",
            "owner-province": "",
            "owner-commune": "",
        },
    )
    assert officer.post(URL, data).status_code == 302
    dossier = Dossier.objects.get()
    assert dossier.owner.name == "Lê Văn Chủ"
    assert dossier.authorisation.startswith("Giấy ủy quyền số 12")
    # Unticked, the owner block is ignored even if filled.
    del data["has_owner"]
    data["token"] = str(uuid.uuid4())
    data["applicant-personal_id"] = "038195001234"
    assert officer.post(URL, data).status_code == 302
    assert Dossier.objects.order_by("-id").first().owner is None


def test_another_agencys_procedure_cannot_be_posted(officer, desk):
    foreign = Procedure.objects.get(code="1.000894")
    variant = foreign.current_version.variants.get()
    page = html(officer.post(URL, form_data(desk, procedure=foreign.code, variant=variant.pk)))
    assert "không thuộc thẩm quyền tiếp nhận của Trung tâm Phục vụ hành chính công tỉnh" in page
    assert nothing_written()


def test_a_postal_delivery_needs_an_address(officer, desk):
    page = html(officer.post(URL, form_data(desk, delivery="postal")))
    assert "Nhận kết quả qua bưu chính cần địa chỉ nhận." in page
    assert nothing_written()


def _files_under(folder):
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


def test_a_refusal_by_the_services_is_shown_and_nothing_is_written(
    officer, desk, monkeypatch, settings
):
    token = uuid.uuid4()
    staged = staging.stage(desk.counter.pk, token, SimpleUploadedFile("to-khai.pdf", PDF))
    tokhai = desk.components(required=True)[0]

    def refuse(*args, **kwargs):
        raise services.GuardFailed("Hồ sơ đã được người khác xử lý trước.")

    monkeypatch.setattr(services, "receive", refuse)
    data = form_data(desk, token=token, **{f"c{tokhai.pk}-files": staged.id})
    page = html(officer.post(URL, data))
    assert "Hồ sơ đã được người khác xử lý trước." in page
    assert nothing_written()
    # The staged scan is still offered, and the copy made for the dossier is gone.
    assert staged.id in page
    assert staging.find(desk.counter.pk, token, staged.id) is not None
    assert not [name for name in _files_under(settings.MEDIA_ROOT / "dossiers")]


# --- scans ----------------------------------------------------------------------------------


def test_a_scan_is_staged_then_attached_when_the_dossier_is_written(
    officer, desk, django_capture_on_commit_callbacks
):
    token = uuid.uuid4()
    response = officer.post(
        URL + "tep/", {"token": str(token), "file": SimpleUploadedFile("to-khai.pdf", PDF)}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "to-khai.pdf" and body["content_type"] == "application/pdf"
    tokhai = desk.components(required=True)[0]
    # Without scripts a file can come with the form itself (multipart).
    chungsinh = desk.components(required=True)[1]
    data = form_data(desk, token=token, **{f"c{tokhai.pk}-files": body["id"]})
    data[f"c{chungsinh.pk}-upload"] = SimpleUploadedFile("chung-sinh.png", PNG)
    with django_capture_on_commit_callbacks(execute=True):
        assert officer.post(URL, data).status_code == 302
    files = {f.original_name: f for f in ComponentFile.objects.select_related("component")}
    assert set(files) == {"to-khai.pdf", "chung-sinh.png"}
    assert files["to-khai.pdf"].component.component_id == tokhai.pk
    assert files["chung-sinh.png"].content_type == "image/png"
    assert files["to-khai.pdf"].file.read() == PDF
    dossier = Dossier.objects.get()
    assert dossier.events.filter(action="attach_file").count() == 2
    # The staging area of this form is emptied once the dossier is written.
    assert staging.find(desk.counter.pk, token, body["id"]) is None


def test_a_file_that_is_not_what_its_name_says_is_refused(officer, desk):
    token = str(uuid.uuid4())
    lying = officer.post(
        URL + "tep/", {"token": token, "file": SimpleUploadedFile("to-khai.pdf", PNG)}
    )
    assert lying.status_code == 422
    assert "không khớp với nội dung (PNG)" in lying.json()["error"]
    text = officer.post(
        URL + "tep/", {"token": token, "file": SimpleUploadedFile("ghi-chu.pdf", b"xin chao")}
    )
    assert text.status_code == 422 and "Chỉ nhận tệp PDF, JPEG hoặc PNG" in text.json()["error"]

    tokhai = desk.components(required=True)[0]
    data = form_data(desk)
    data[f"c{tokhai.pk}-upload"] = SimpleUploadedFile("to-khai.jpg", PDF)
    page = html(officer.post(URL, data))
    assert "«to-khai.jpg»: Tên tệp «to-khai.jpg» không khớp với nội dung (PDF)." in page
    assert nothing_written()


def test_a_staged_file_is_only_found_by_its_officer_and_form(officer, desk, settings):
    token = uuid.uuid4()
    staged = staging.stage(desk.counter.pk, token, SimpleUploadedFile("a.pdf", PDF))
    assert staging.find(desk.counter.pk, token, staged.id) == staged
    assert staging.find(desk.counter.pk, uuid.uuid4(), staged.id) is None
    assert staging.find(desk.specialist.pk, token, staged.id) is None
    assert staging.find(desk.counter.pk, token, "../../etc/passwd") is None
    tokhai = desk.components(required=True)[0]
    page = html(officer.post(URL, form_data(desk, **{f"c{tokhai.pk}-files": uuid.uuid4().hex})))
    assert "không còn trong bộ nhớ tạm" in page
    assert nothing_written()
    settings.MOTCUA_MAX_UPLOAD_BYTES = 10
    too_big = officer.post(
        URL + "tep/", {"token": str(token), "file": SimpleUploadedFile("b.pdf", PDF)}
    )
    assert too_big.status_code == 422 and "vượt quá dung lượng" in too_big.json()["error"]


def test_stale_staged_files_are_swept(desk):
    token = uuid.uuid4()
    staged = staging.stage(desk.counter.pk, token, SimpleUploadedFile("a.pdf", PDF))
    assert staging.sweep() == 0
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=25)
    assert staging.sweep(now=later) == 2  # the scan and its description
    assert staging.find(desk.counter.pk, token, staged.id) is None
    assert sweep_intake_staging.call_local() == 0  # the hourly task


# --- who may use it -------------------------------------------------------------------------


def test_a_specialist_can_neither_open_nor_post_the_intake(client, desk):
    client.force_login(desk.specialist)
    assert client.get(URL).status_code == 403
    assert client.post(URL, form_data(desk)).status_code == 403
    assert client.get(URL + "thu-tuc/", {"q": "khai sinh"}, **HTMX).status_code == 403
    staged = client.post(
        URL + "tep/", {"token": str(uuid.uuid4()), "file": SimpleUploadedFile("a.pdf", PDF)}
    )
    assert staged.status_code == 403
    assert nothing_written()


def test_forms_print_only_for_dossiers_the_officer_may_see(client, desk):
    client.force_login(desk.counter)
    client.post(URL, form_data(desk))
    dossier = Dossier.objects.get()
    commune = ProvincialAgencyFactory(electronic_id="000.04.40.H56", unit=desk.agency.unit)
    stranger = make_officer("xa.tiepnhan", commune, Role.COUNTER_OFFICER)
    client.force_login(stranger)
    assert client.get(f"/can-bo/ho-so/{dossier.pk}/in/01/").status_code == 404
    assert client.get(f"{URL}ket-qua/{dossier.pk}/").status_code == 404
    client.force_login(desk.counter)
    assert client.get(f"/can-bo/ho-so/{dossier.pk}/in/99/").status_code == 404
    assert client.get(f"/can-bo/ho-so/{dossier.pk}/in/06/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_posts_of_one_form_create_one_dossier(settings, tmp_path):
    """A real double click: both requests race; the idempotency key lets one dossier through."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL: run with MOTCUA_TEST_POSTGRES=…")
    settings.MEDIA_ROOT = tmp_path / "media"
    desk = build_desk()
    data = form_data(desk)
    clients = [Client(), Client()]
    for each in clients:
        each.force_login(desk.counter)
    barrier = threading.Barrier(len(clients))
    answers: list = []

    def post(each):
        try:
            barrier.wait(timeout=30)
            answers.append(each.post(URL, data))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(each,)) for each in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [answer.status_code for answer in answers] == [302, 302]
    assert answers[0]["Location"] == answers[1]["Location"]
    dossier = Dossier.objects.get()
    assert dossier.status == Status.RECEIVED
    assert dossier.events.filter(action="receive").count() == 1
