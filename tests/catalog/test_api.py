"""The catalogue API under /api/v1/procedures: search, filters, paging, detail, errors."""

from __future__ import annotations

import copy

import pytest

from motcua.catalog.models import Field, Procedure
from motcua.catalog.services import save_procedure
from tests.agencies.factories import AgencyFactory, DepartmentFactory

from .factories import procedure_content, steps

pytestmark = pytest.mark.django_db

URL = "/api/v1/procedures"


def save(code, name, *, field="Hộ tịch", levels=("commune",), online="partial", **extra):
    content = procedure_content(
        code=code,
        name=name,
        field={"code": "", "name": field},
        levels=list(levels),
        online_mode=online,
        **extra,
    )
    return save_procedure(content, source="national").procedure


@pytest.fixture
def catalogue():
    """Six active procedures (one applied by an agency) and one withdrawn."""
    agency = AgencyFactory()
    procedures = {
        "birth": save("1.001193", "Thủ tục đăng ký khai sinh", agencies=[agency.electronic_id]),
        "late_birth": save("1.004884", "Thủ tục đăng ký lại khai sinh", online="full"),
        "marriage": save("1.000894", "Thủ tục đăng ký kết hôn", online="full"),
        "building": save(
            "1.009972",
            "Cấp giấy phép xây dựng mới đối với công trình cấp III",
            field="Hoạt động xây dựng",
            levels=("province",),
            online="none",
        ),
        "passport": save(
            "2.002123",
            "Cấp hộ chiếu phổ thông",
            field="Xuất nhập cảnh",
            levels=("ministry", "province"),
        ),
        "ferry": save("3.000010", "Cấp phép bến khách ngang sông", field="Đường thủy", levels=()),
    }
    withdrawn = save("1.000001", "Thủ tục đăng ký khai sinh (đã bãi bỏ)")
    Procedure.objects.filter(pk=withdrawn.pk).update(is_active=False)
    return {"agency": agency, **procedures}


def codes(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["code"] for item in response.json()["items"]]


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


# --- list and search ---------------------------------------------------------------------------


def test_list_returns_active_procedures_by_code_with_their_summary(client, catalogue):
    response = client.get(URL)
    body = response.json()
    assert (body["count"], body["page"], body["page_size"]) == (6, 1, 20)
    assert codes(response) == [
        "1.000894",
        "1.001193",
        "1.004884",
        "1.009972",
        "2.002123",
        "3.000010",
    ]
    passport = next(item for item in body["items"] if item["code"] == "2.002123")
    field = Field.objects.get(name="Xuất nhập cảnh")
    assert passport == {
        "code": "2.002123",
        "name": "Cấp hộ chiếu phổ thông",
        "field": {"id": field.pk, "code": "", "name": "Xuất nhập cảnh"},
        "levels": ["province", "ministry"],
        "online_mode": "partial",
        "version": 1,
    }


@pytest.mark.parametrize(
    "q",
    [
        "dang ky khai sinh",
        "Đăng ký khai sinh",
        "ĐĂNG KÝ KHAI SINH",
        "khai sinh  dang ky",
        "KHAI sinh",
    ],
)
def test_search_ignores_diacritics_case_and_word_order(client, catalogue, q):
    assert codes(client.get(URL, {"q": q})) == ["1.001193", "1.004884"]


def test_search_needs_every_term(client, catalogue):
    assert codes(client.get(URL, {"q": "dang ky lai khai sinh"})) == ["1.004884"]
    assert codes(client.get(URL, {"q": "khai sinh ket hon"})) == []


def test_search_matches_the_field_name_and_the_code(client, catalogue):
    assert codes(client.get(URL, {"q": "xuat nhap canh"})) == ["2.002123"]
    assert codes(client.get(URL, {"q": "1.009972"})) == ["1.009972"]


def test_search_without_match_is_an_empty_first_page(client, catalogue):
    body = client.get(URL, {"q": "khong co thu tuc nay"}).json()
    assert body == {"items": [], "count": 0, "page": 1, "page_size": 20}


def test_filter_by_field(client, catalogue):
    field = Field.objects.get(name="Hộ tịch")
    assert codes(client.get(URL, {"field": field.pk})) == ["1.000894", "1.001193", "1.004884"]


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ("commune", ["1.000894", "1.001193", "1.004884"]),
        ("province", ["1.009972", "2.002123"]),
        ("ministry", ["2.002123"]),
        ("other", []),
    ],
)
def test_filter_by_level(client, catalogue, level, expected):
    assert codes(client.get(URL, {"level": level})) == expected


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("full", ["1.000894", "1.004884"]),
        ("partial", ["1.001193", "2.002123", "3.000010"]),
        ("none", ["1.009972"]),
    ],
)
def test_filter_by_online_mode(client, catalogue, mode, expected):
    assert codes(client.get(URL, {"online_mode": mode})) == expected


def test_filter_by_agency_electronic_id_or_key(client, catalogue):
    agency = catalogue["agency"]
    assert codes(client.get(URL, {"agency": agency.electronic_id})) == ["1.001193"]
    assert codes(client.get(URL, {"agency": str(agency.pk)})) == ["1.001193"]
    assert codes(client.get(URL, {"agency": AgencyFactory().electronic_id})) == []


def test_filters_combine_with_the_search(client, catalogue):
    query = {"q": "dang ky", "online_mode": "full", "level": "commune"}
    assert codes(client.get(URL, query)) == ["1.000894", "1.004884"]
    assert codes(client.get(URL, {"q": "cap", "level": "province"})) == ["1.009972", "2.002123"]


def test_empty_filter_values_mean_no_filter(client, catalogue):
    body = client.get(URL, {"level": "", "online_mode": "", "agency": "", "page": ""}).json()
    assert body["count"] == 6 and body["page"] == 1


def test_pages_cover_the_results_once(client, catalogue):
    pages = [client.get(URL, {"page": n, "page_size": 4}).json() for n in (1, 2)]
    assert [page["count"] for page in pages] == [6, 6]
    assert [(page["page"], page["page_size"]) for page in pages] == [(1, 4), (2, 4)]
    first, second = ([item["code"] for item in page["items"]] for page in pages)
    assert len(first) == 4 and len(second) == 2
    assert first + second == codes(client.get(URL))


# --- bad list parameters ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"page": "0"}, "invalid_page"),
        ({"page": "-1"}, "invalid_page"),
        ({"page": "hai"}, "invalid_page"),
        ({"page_size": "0"}, "invalid_page_size"),
        ({"page_size": "x"}, "invalid_page_size"),
        ({"page_size": "101"}, "invalid_page_size"),
        ({"page": "3", "page_size": "4"}, "page_out_of_range"),
        ({"level": "district"}, "invalid_level"),
        ({"online_mode": "level4"}, "invalid_online_mode"),
        ({"field": "ho-tich"}, "invalid_parameters"),
    ],
)
def test_bad_list_parameters_answer_400_with_code_and_message(client, catalogue, params, code):
    body = assert_error(client.get(URL, params), 400, code)
    if code == "invalid_parameters":
        assert [f["field"] for f in body["details"]["fields"]] == ["field"]
    else:
        assert set(body) == {"code", "message"}


def test_page_size_of_100_is_allowed(client, catalogue):
    assert client.get(URL, {"page_size": "100"}).json()["page_size"] == 100


# --- detail ----------------------------------------------------------------------------------


def test_detail_gives_variants_components_time_limits_and_fees_per_channel(client, catalogue):
    response = client.get(f"{URL}/1.001193")
    assert response.status_code == 200
    body = response.json()
    field = Field.objects.get(name="Hộ tịch")
    assert body["code"] == "1.001193" and body["name"] == "Thủ tục đăng ký khai sinh"
    assert (body["version"], body["current_version"], body["source"]) == (1, 1, "national")
    assert body["field"] == {"id": field.pk, "code": "", "name": "Hộ tịch"}
    assert (body["levels"], body["online_mode"]) == (["commune"], "partial")
    assert (body["postal_allowed"], body["same_day_cutoff"]) == (True, True)
    assert (body["decision_no"], body["issuing_agency"]) == ("163/QĐ-BTP", "Bộ Tư pháp")
    assert body["subjects"] == ["Công dân Việt Nam"]
    assert body["legal_basis"] == [{"code": "60/2014/QH13", "name": "Luật Hộ tịch"}]
    assert body["results"] == [{"code": "KQ.G15.000031", "name": "Giấy khai sinh"}]
    (variant,) = body["variants"]
    assert variant["name"] == "Đăng ký khai sinh đúng hạn"
    assert variant["components"] == [
        {
            "code": "",
            "name": "Tờ khai đăng ký khai sinh",
            "originals": 1,
            "copies": 0,
            "required": True,
            "form_name": "Tờ khai",
            "form_url": "",
        }
    ]
    limits = {limit["channel"]: limit for limit in variant["time_limits"]}
    assert set(limits) == {"counter", "online"}
    assert (limits["counter"]["amount"], limits["counter"]["unit"]) == (None, "same_day")
    # Decimal amounts are JSON strings with two decimals (DECIMAL(8, 2)).
    assert (limits["online"]["amount"], limits["online"]["unit"]) == ("3.00", "working_days")
    assert sorted(
        (f["channel"], f["kind"], f["amount"], f["description"]) for f in variant["fees"]
    ) == [
        ("counter", "charge", 0, ""),
        ("online", "charge", None, "HĐND"),
    ]
    assert variant["steps"] == []


def test_detail_lists_several_variants_in_order_with_their_process_steps(client):
    department = DepartmentFactory()
    agency = department.agency
    content = procedure_content(code="1.000656")
    second = copy.deepcopy(content["variants"][0])
    second["name"] = "Đăng ký khai sinh quá hạn"
    second["time_limits"] = [
        {"channel": "counter", "amount": "5", "unit": "working_days", "description": ""}
    ]
    second["fees"] = [{"channel": "counter", "kind": "charge", "amount": 8000}]
    second["steps"] = steps("20", "80", agency=agency.electronic_id, department=department.name)
    content["variants"].append(second)
    save_procedure(content, source="demo")

    variants = client.get(f"{URL}/1.000656").json()["variants"]
    assert [v["name"] for v in variants] == [
        "Đăng ký khai sinh đúng hạn",
        "Đăng ký khai sinh quá hạn",
    ]
    late = variants[1]
    assert [(t["amount"], t["unit"]) for t in late["time_limits"]] == [("5.00", "working_days")]
    assert [(f["channel"], f["amount"]) for f in late["fees"]] == [("counter", 8000)]
    assert [(s["order"], s["role"], s["agency"], s["department"]) for s in late["steps"]] == [
        (1, "counter_officer", agency.electronic_id, department.name),
        (2, "specialist", agency.electronic_id, department.name),
    ]
    assert [s["share"] for s in late["steps"]] == ["20.00", "80.00"]


def test_detail_of_an_older_version(client, catalogue):
    content = procedure_content(code="1.001193", name="Thủ tục đăng ký khai sinh (sửa đổi)")
    content["field"] = {"code": "", "name": "Hộ tịch"}
    save_procedure(content, source="national")

    current = client.get(f"{URL}/1.001193").json()
    assert (current["version"], current["current_version"]) == (2, 2)
    assert current["name"] == "Thủ tục đăng ký khai sinh (sửa đổi)"
    old = client.get(f"{URL}/1.001193", {"version": 1}).json()
    assert (old["version"], old["current_version"]) == (1, 2)
    assert old["name"] == "Thủ tục đăng ký khai sinh"


def test_unknown_code_answers_404_with_code_and_message(client, catalogue):
    body = assert_error(client.get(f"{URL}/9.999999"), 404, "procedure_not_found")
    assert set(body) == {"code", "message"}
    assert "9.999999" in body["message"]


def test_unknown_version_answers_404(client, catalogue):
    body = assert_error(client.get(f"{URL}/1.001193", {"version": 7}), 404, "version_not_found")
    assert set(body) == {"code", "message"}


def test_procedure_without_a_version_answers_404(client):
    Procedure.objects.create(code="1.000002", name="Chưa có nội dung")
    assert_error(client.get(f"{URL}/1.000002"), 404, "version_not_found")


@pytest.mark.parametrize(
    ("version", "code"), [("0", "invalid_version"), ("abc", "invalid_parameters")]
)
def test_bad_version_answers_400(client, catalogue, version, code):
    assert_error(client.get(f"{URL}/1.001193", {"version": version}), 400, code)
