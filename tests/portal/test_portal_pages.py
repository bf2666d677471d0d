"""Public pages: home, catalogue (search, filters, htmx, paging), detail, 404, i18n."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from motcua.catalog.models import Procedure
from motcua.demo import loader

pytestmark = pytest.mark.django_db

EXTERNAL_ASSET = re.compile(
    r"<(?:script|link|img)\b[^>]*(?:src|href)=\"(?:https?:)?//", re.IGNORECASE
)


@pytest.fixture
def demo():
    loader.load_demo(accounts=False)


def test_home_shows_figures_fields_and_common_procedures(client, demo):
    response = client.get(reverse("portal:home"))
    assert response.status_code == 200
    html = response.content.decode()
    active = Procedure.objects.filter(is_active=True).count()
    assert response.context["procedure_count"] == active
    assert f"<strong>{active}</strong>" in html
    assert "Hộ tịch" in html
    assert "Thủ tục đăng ký khai sinh" in html
    assert "Dịch vụ công — tỉnh Thanh Hóa" in html


def test_site_name_falls_back_to_motcua_without_a_province(client):
    response = client.get(reverse("portal:home"))
    assert response.status_code == 200
    assert "<title>motcua</title>" in response.content.decode()


def test_search_without_diacritics_finds_khai_sinh(client, demo):
    response = client.get(reverse("portal:catalogue"), {"q": "dang ky khai sinh"})
    assert response.status_code == 200
    names = [p.name for p in response.context["page"].object_list]
    assert "Thủ tục đăng ký khai sinh" in names
    assert all("khai sinh" in name.lower() for name in names)


def test_level_filter_narrows_results(client, demo):
    everything = client.get(reverse("portal:catalogue")).context["page"].paginator.count
    response = client.get(reverse("portal:catalogue"), {"level": "province"})
    page = response.context["page"]
    assert 0 < page.paginator.count < everything
    codes = [p.code for p in page.object_list]
    assert "3.000333" in codes and "1.001193" not in codes


def test_online_mode_and_field_filters_narrow_results(client, demo):
    full = client.get(reverse("portal:catalogue"), {"online_mode": "full"}).context["page"]
    assert full.paginator.count > 0
    assert all(p.current_version.online_mode == "full" for p in full.object_list)
    field = Procedure.objects.get(code="2.000815").field
    by_field = client.get(reverse("portal:catalogue"), {"field": field.pk}).context["page"]
    assert {p.field_id for p in by_field.object_list} == {field.pk}


def test_agency_filter_keeps_only_procedures_the_agency_applies(client, demo):
    response = client.get(reverse("portal:catalogue"), {"agency": "000.00.15.H56"})
    codes = [p.code for p in response.context["page"].object_list]
    assert codes == ["3.000333"]


def test_htmx_request_returns_only_the_results_fragment(client, demo):
    response = client.get(
        reverse("portal:catalogue"), {"q": "khai sinh"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "<form" not in html
    assert "Thủ tục đăng ký khai sinh" in html


def test_full_page_has_an_aria_live_results_region_driven_by_htmx(client, demo):
    html = client.get(reverse("portal:catalogue")).content.decode()
    assert 'id="results" aria-live="polite"' in html
    assert 'hx-get="/thu-tuc/"' in html
    assert "django_htmx/htmx-2.min.js" in html


def test_invalid_filter_value_shows_a_message_instead_of_failing(client, demo):
    response = client.get(reverse("portal:catalogue"), {"level": "galaxy", "field": "abc"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Giá trị lọc không hợp lệ" in html
    assert "Cấp thực hiện" in html
    assert response.context["page"].paginator.count == Procedure.objects.count()


def test_no_result_shows_an_empty_state(client, demo):
    response = client.get(reverse("portal:catalogue"), {"q": "zzzz khong co thu tuc nay"})
    assert response.status_code == 200
    assert "Không tìm thấy thủ tục phù hợp." in response.content.decode()


def test_catalogue_is_paginated_by_20(client, demo):
    total = Procedure.objects.filter(is_active=True).count()
    assert total > 20
    first = client.get(reverse("portal:catalogue")).context["page"]
    second = client.get(reverse("portal:catalogue"), {"page": 2}).context["page"]
    assert len(first.object_list) == 20
    assert len(second.object_list) == total - 20


def test_catalogue_query_count_is_bounded(client, demo, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        client.get(reverse("portal:catalogue"), {"q": "dang ky", "level": "commune"})


def test_detail_shows_components_time_limits_and_fees(client, demo):
    response = client.get(reverse("portal:procedure", args=["2.000635"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Cấp bản sao Trích lục hộ tịch" in html
    assert "Tờ khai cấp bản sao trích lục hộ tịch theo mẫu" in html
    assert re.search(r'<th scope="col"[^>]*>Bản chính</th>', html)
    assert "8.000 đồng" in html
    assert "Trong ngày" in html
    assert "Bưu chính công ích" in html
    assert "Phiên bản 1" in html


def test_detail_shows_unspecified_fee_as_by_regulation_and_process_steps(client, demo):
    html = client.get(reverse("portal:procedure", args=["1.004873"])).content.decode()
    assert "Theo quy định" in html
    assert "Mức thu do Hội đồng nhân dân tỉnh quy định." in html
    assert "3 ngày làm việc" in html
    assert "Quy trình xử lý" in html and "Cán bộ một cửa" in html


def test_unknown_code_is_a_vietnamese_404(client, demo):
    response = client.get(reverse("portal:procedure", args=["9.999999"]))
    assert response.status_code == 404
    assert "Không tìm thấy trang" in response.content.decode()


@pytest.mark.parametrize(
    "url",
    ["/", "/thu-tuc/", "/thu-tuc/?q=ho+tich", "/thu-tuc/1.001193/", "/tra-cuu-ho-so/", "/404/"],
)
def test_pages_load_no_external_scripts_or_styles(client, demo, url):
    html = client.get(url).content.decode()
    assert not EXTERNAL_ASSET.search(html)


def test_every_input_has_a_label(client, demo):
    html = client.get(reverse("portal:catalogue")).content.decode()
    ids = re.findall(r'<(?:input|select)\b(?![^>]*type="hidden")[^>]*\bid="([^"]+)"', html)
    assert ids
    for element_id in ids:
        assert f'for="{element_id}"' in html, element_id


def test_default_language_is_vietnamese(client, demo):
    html = client.get(reverse("portal:home")).content.decode()
    assert '<html lang="vi">' in html
    assert "Thủ tục thường dùng" in html


def test_english_after_choosing_it_with_the_language_switch(client, demo):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get(reverse("portal:home")).content.decode()
    assert '<html lang="en">' in html
    assert "Common procedures" in html
    assert "Administrative procedures" in html


def test_english_from_accept_language(client, demo):
    html = client.get(reverse("portal:catalogue"), headers={"Accept-Language": "en"}).content
    assert "Search" in html.decode()
    assert "Field" in html.decode()
