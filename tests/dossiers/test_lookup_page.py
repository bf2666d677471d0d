"""The public lookup page (/tra-cuu-ho-so/), reached from the QR code of Mẫu 01."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from .world import PERSONAL_ID, PHONE

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def test_page_shows_status_without_personal_data(world):
    dossier = world.received()
    response = Client().get("/tra-cuu-ho-so/", {"code": dossier.code})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Đã tiếp nhận" in html
    assert dossier.code in html
    for secret in ("Nguyễn Thị Hằng", PERSONAL_ID, PHONE, "thôn Đông"):
        assert secret not in html
    assert "Quá trình xử lý" not in html


def test_page_timeline_with_factor(world):
    dossier = world.received()
    html = Client().get("/tra-cuu-ho-so/", {"code": dossier.code, "factor": PHONE[-4:]})
    text = html.content.decode()
    assert "Quá trình xử lý" in text
    assert "Tiếp nhận hồ sơ" in text
    assert "Nguyễn Thị Hằng" not in text


def test_page_errors_in_vietnamese(world):
    dossier = world.received()
    missing = Client().get("/tra-cuu-ho-so/", {"code": "000.00.01.H56-260302-0999"})
    assert missing.status_code == 404
    assert "Không tìm thấy hồ sơ" in missing.content.decode()
    wrong = Client().get("/tra-cuu-ho-so/", {"code": dossier.code, "factor": "0000"})
    assert wrong.status_code == 400
    text = wrong.content.decode()
    assert "Thông tin xác thực không đúng" in text
    assert "Đã tiếp nhận" not in text  # a wrong factor shows nothing at all


def test_page_is_throttled(world, settings):
    settings.MOTCUA_LOOKUP_RATE = "2/m"
    dossier = world.received()
    client = Client(REMOTE_ADDR="198.51.100.7")
    statuses = [client.get("/tra-cuu-ho-so/", {"code": dossier.code}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_behind_a_proxy_the_page_is_throttled_per_client_not_per_proxy(world, settings):
    settings.MOTCUA_LOOKUP_RATE = "2/m"
    settings.MOTCUA_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    dossier = world.received()
    proxy = Client(REMOTE_ADDR="10.0.0.1")

    def status(citizen: str) -> int:
        return proxy.get(
            "/tra-cuu-ho-so/", {"code": dossier.code}, HTTP_X_FORWARDED_FOR=citizen
        ).status_code

    assert [status("203.0.113.5") for _ in range(3)] == [200, 200, 429]
    assert status("203.0.113.6") == 200  # another citizen behind the same proxy


def test_page_in_english(world):
    dossier = world.received()
    response = Client().get(
        "/tra-cuu-ho-so/",
        {"code": dossier.code, "factor": PHONE[-4:]},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    text = response.content.decode()
    assert "The dossier has been received." in text
    assert "Dossier received" in text  # a timeline label
