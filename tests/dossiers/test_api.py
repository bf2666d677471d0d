"""The dossier API and the public lookup, through HTTP."""

from __future__ import annotations

import io
import json

import pytest
from django.core.cache import cache
from django.test import Client

from motcua.accounts.models import ApiToken, Membership, Role
from motcua.dossiers.models import Applicant, Dossier, DossierEvent, Status

from .world import PERSONAL_ID, PHONE

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def portal(world):
    """The national portal's client: a service account with submit and read scopes."""
    user = world.outsider.__class__.objects.create_user("dvcqg", password=None)
    _token, raw = ApiToken.issue(
        name="Cổng DVCQG", user=user, scopes=["dossiers:submit", "dossiers:read"]
    )
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def officer(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def payload(world, **overrides) -> dict:
    body = {
        "procedure_code": world.procedure.code,
        "receiving_agency": world.centre.electronic_id,
        "channel": "online",
        "delivery": "online",
        "applicant": {
            "name": "Nguyễn Thị Hằng",
            "personal_id": PERSONAL_ID,
            "phone": PHONE,
            "province_code": world.province_code,
            "commune_code": world.commune_code,
            "address_line": "Số 5, thôn Đông",
        },
        "components": [
            {"component_id": c.pk, "originals": 1}
            for c in world.variant.components.filter(required=True)
        ],
    }
    body.update(overrides)
    return body


def post(client, url, body=None, **headers):
    return client.post(url, json.dumps(body or {}), content_type="application/json", **headers)


def create(world, portal, **overrides):
    response = post(portal, "/api/v1/dossiers", payload(world, **overrides))
    assert response.status_code == 201, response.content
    return response.json()


# --- create ----------------------------------------------------------------------------------


def test_online_submission_is_idempotent(world, portal):
    first = post(portal, "/api/v1/dossiers", payload(world), HTTP_IDEMPOTENCY_KEY="req-1")
    again = post(portal, "/api/v1/dossiers", payload(world), HTTP_IDEMPOTENCY_KEY="req-1")
    other = post(portal, "/api/v1/dossiers", payload(world), HTTP_IDEMPOTENCY_KEY="req-2")
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 201)
    assert first.json()["uuid"] == again.json()["uuid"] != other.json()["uuid"]
    assert first.json()["status"] == Status.SUBMITTED
    assert first.json()["fee_total"] == 25000
    assert Dossier.objects.count() == 2


def test_create_answers_what_a_read_answers_with_few_queries(world, portal):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    body = payload(world)
    body["components"].append({"name": "Giấy xác nhận", "copies": 2, "outside_reason": "Bổ sung"})
    body["owner"] = {
        "kind": "organisation",
        "name": "Công ty TNHH Hòa Bình",
        "tax_code": "0101243150",
    }
    post(portal, "/api/v1/dossiers", payload(world))  # warms the process's reference caches
    with CaptureQueriesContext(connection) as queries:
        created = post(portal, "/api/v1/dossiers", body)
    assert created.status_code == 201, created.content
    # The answer is built from what intake wrote, not read back (one write transaction:
    # applicant and owner looked up and written, dossier, components, event, outbox).
    assert len(queries.captured_queries) <= 12, [q["sql"][:80] for q in queries]
    read = portal.get(f"/api/v1/dossiers/{created.json()['uuid']}")
    assert created.json() == read.json()
    assert [c["name"] for c in read.json()["components"]][-1] == "Giấy xác nhận"
    assert read.json()["owner"]["name"] == "Công ty TNHH Hòa Bình"


def test_create_needs_authentication_and_scope(world):
    response = post(Client(), "/api/v1/dossiers", payload(world))
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    _t, raw = ApiToken.issue(name="Chỉ đọc", user=world.outsider, scopes=["dossiers:read"])
    response = post(Client(HTTP_AUTHORIZATION=f"Bearer {raw}"), "/api/v1/dossiers", payload(world))
    assert response.status_code == 403
    assert response.json()["code"] == "missing_scope"
    revoked, raw = ApiToken.issue(name="Cũ", user=world.outsider, scopes=["dossiers:submit"])
    revoked.is_active = False
    revoked.save()
    response = post(Client(HTTP_AUTHORIZATION=f"Bearer {raw}"), "/api/v1/dossiers", payload(world))
    assert response.status_code == 401
    assert not Dossier.objects.exists()


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"procedure_code": "1.999999"}, 404, "unknown_procedure"),
        ({"receiving_agency": "000.00.99.H99"}, 404, "unknown_agency"),
        ({"components": []}, 201, None),  # incomplete online dossiers are still accepted
        ({"channel": "fax"}, 400, "invalid_parameters"),
    ],
)
def test_create_errors(world, portal, change, status, code):
    response = post(portal, "/api/v1/dossiers", payload(world, **change))
    assert response.status_code == status, response.content
    if code:
        assert response.json()["code"] == code
        assert response.json()["message"]
        assert not Dossier.objects.exists()


def test_invalid_personal_id_is_refused(world, portal):
    body = payload(world)
    body["applicant"]["personal_id"] = "03809000123"
    response = post(portal, "/api/v1/dossiers", body)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_personal_id"
    assert "định danh" in response.json()["message"]
    assert not Dossier.objects.exists() and not Applicant.objects.exists()


def test_counter_channel_through_api_needs_a_counter_officer(world, portal):
    response = post(portal, "/api/v1/dossiers", payload(world, channel="counter"))
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


# --- actions ---------------------------------------------------------------------------------


def test_desk_receives_an_online_dossier(world, portal):
    created = create(world, portal)
    url = f"/api/v1/dossiers/{created['uuid']}"
    response = post(officer(world.specialist), f"{url}/receive")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    response = post(officer(world.counter), f"{url}/receive", {"note": "Đủ hồ sơ"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == Status.RECEIVED
    assert body["code"].startswith("000.00.01.H56-")
    assert body["due_at"] == body["original_due_at"]
    assert body["steps"][0]["kind"] == "intake"
    # Receiving twice is a transition the table does not allow: 409, nothing written.
    events = DossierEvent.objects.count()
    response = post(officer(world.counter), f"{url}/receive")
    assert response.status_code == 409
    assert response.json()["code"] == "transition_not_allowed"
    assert DossierEvent.objects.count() == events


def test_portal_token_cannot_process(world, portal):
    created = create(world, portal)
    response = post(portal, f"/api/v1/dossiers/{created['uuid']}/receive")
    assert response.status_code == 403
    assert response.json()["code"] == "missing_scope"


def test_processing_through_the_api(world, portal, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    uuid = create(world, portal)["uuid"]
    url = f"/api/v1/dossiers/{uuid}"
    assert post(officer(world.counter), f"{url}/receive").status_code == 200
    r = post(officer(world.leader), f"{url}/assign", {"assignee_id": world.specialist.pk})
    assert r.status_code == 200, r.content
    r = post(officer(world.specialist), f"{url}/request-supplement", {"items": []})
    assert (r.status_code, r.json()["code"]) == (400, "missing_items")
    r = post(officer(world.specialist), f"{url}/request-supplement", {"items": ["Bản sao"]})
    assert r.json()["status"] == Status.AWAITING_SUPPLEMENT
    r = post(officer(world.counter), f"{url}/provide-supplement", {"note": "Đã nhận"})
    assert r.json()["status"] == Status.PROCESSING
    r = post(officer(world.specialist), f"{url}/complete-step", {"note": "Hợp lệ"})
    assert r.status_code == 200
    r = post(officer(world.dept_specialist), f"{url}/complete-step", {"note": "Đồng ý"})
    assert r.status_code == 200, r.content
    r = post(officer(world.leader), f"{url}/complete-step", {"note": "Duyệt"})
    assert r.status_code == 200
    r = officer(world.clerk).post(
        f"{url}/result",
        {
            "number": "15/GP",
            "signed_on": "2026-01-05",
            "signer": "Lê Văn Bình",
            "file": _named("ket-qua.pdf", PDF),
        },
    )
    assert r.status_code == 200, r.content
    assert r.json()["result"]["has_file"] is True
    r = post(
        officer(world.counter), f"{url}/return", {"method": "counter", "recipient_name": "Hằng"}
    )
    assert r.json()["status"] == Status.RETURNED
    assert [e["action"] for e in r.json()["events"]][-1] == "return_result"


# --- reads and visibility --------------------------------------------------------------------


def test_who_sees_what(world, portal):
    uuid = create(world, portal)["uuid"]
    url = f"/api/v1/dossiers/{uuid}"
    assert officer(world.counter).get(url).status_code == 200
    assert portal.get(url).status_code == 200  # the client that created it
    # The department has no step yet … then its step makes the dossier visible.
    assert officer(world.dept_specialist).get(url).status_code == 404
    post(officer(world.counter), f"{url}/receive")
    assert officer(world.dept_specialist).get(url).status_code == 200
    assert officer(world.monitor).get(url).status_code == 200
    response = officer(world.outsider).get(url)
    assert response.status_code == 404
    assert response.json()["code"] == "dossier_not_found"
    assert officer(world.outsider).get("/api/v1/dossiers").json()["count"] == 0


def test_list_masks_personal_ids(world, portal):
    create(world, portal)
    response = officer(world.counter).get("/api/v1/dossiers?status=1&page_size=5")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    item = body["items"][0]
    assert item["applicant_identifier"].endswith(PERSONAL_ID[-2:])
    assert PERSONAL_ID not in response.content.decode()
    assert officer(world.counter).get("/api/v1/dossiers?status=4").json()["count"] == 0
    bad = officer(world.counter).get("/api/v1/dossiers?page_size=1000")
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_page_size")
    bad = officer(world.counter).get("/api/v1/dossiers?status=11")
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_status")


def test_an_officer_of_another_agency_sees_nothing(world, portal):
    from tests.agencies.factories import AgencyFactory

    other = AgencyFactory()
    stranger = world.outsider
    Membership.objects.create(user=stranger, agency=other, role=Role.LEADER)
    create(world, portal)
    assert officer(stranger).get("/api/v1/dossiers").json()["count"] == 0


# --- files -----------------------------------------------------------------------------------


def upload(client, uuid, component, name, content):
    return client.post(
        f"/api/v1/dossiers/{uuid}/components/{component}/files",
        {"file": _named(name, content)},
    )


def _named(name, content):
    handle = io.BytesIO(content)
    handle.name = name
    return handle


def test_file_content_must_match_its_name(world, portal, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    body = create(world, portal)
    component = body["components"][0]["id"]
    ok = upload(portal, body["uuid"], component, "to-khai.pdf", PDF)
    assert ok.status_code == 201, ok.content
    assert ok.json()["components"][0]["files"][0]["content_type"] == "application/pdf"
    lying = upload(portal, body["uuid"], component, "to-khai.pdf", PNG)
    assert (lying.status_code, lying.json()["code"]) == (400, "file_type_mismatch")
    text = upload(portal, body["uuid"], component, "ghi-chu.txt", b"xin chao")
    assert (text.status_code, text.json()["code"]) == (400, "unsupported_file_type")
    settings.MOTCUA_MAX_UPLOAD_BYTES = 10
    big = upload(portal, body["uuid"], component, "to-khai.pdf", PDF)
    assert (big.status_code, big.json()["code"]) == (400, "file_too_large")
    dossier = Dossier.objects.get(uuid=body["uuid"])
    assert sum(c.files.count() for c in dossier.components.all()) == 1


# --- the public lookup -----------------------------------------------------------------------


def received_code(world, portal) -> str:
    uuid = create(world, portal)["uuid"]
    return post(officer(world.counter), f"/api/v1/dossiers/{uuid}/receive").json()["code"]


def test_lookup_without_second_factor_reveals_nothing_personal(world, portal):
    code = received_code(world, portal)
    response = Client().get(f"/api/v1/lookup/{code}")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == Status.RECEIVED
    assert body["due_at"]
    assert body["timeline"] is None and body["verified"] is False
    text = response.content.decode()
    for secret in ("Nguyễn Thị Hằng", "Hằng", PERSONAL_ID, PHONE, PHONE[-4:], "thôn Đông"):
        assert secret not in text


def test_lookup_with_second_factor_shows_the_timeline(world, portal):
    code = received_code(world, portal)
    for factor in (PHONE[-4:], PERSONAL_ID[-4:]):
        body = Client().get(f"/api/v1/lookup/{code}?factor={factor}").json()
        assert body["verified"] is True
        assert [e["action"] for e in body["timeline"]] == ["submit", "receive"]
        assert "Nguyễn Thị Hằng" not in json.dumps(body, ensure_ascii=False)


def test_wrong_factor_reveals_nothing_and_is_limited(world, portal):
    code = received_code(world, portal)
    for _ in range(5):
        response = Client().get(f"/api/v1/lookup/{code}?factor=0000")
        assert response.status_code == 400
        assert response.json() == {
            "code": "wrong_second_factor",
            "message": "Thông tin xác thực không đúng.",
        }
    # Even the right factor is refused once the limit is reached.
    response = Client().get(f"/api/v1/lookup/{code}?factor={PHONE[-4:]}")
    assert (response.status_code, response.json()["code"]) == (429, "too_many_attempts")


def test_lookup_unknown_and_malformed_codes(world, portal):
    received_code(world, portal)
    for code in ("000.00.01.H56-260302-9999", "not-a-code", "%27%20OR%201=1"):
        response = Client().get(f"/api/v1/lookup/{code}")
        assert response.status_code == 404
        assert response.json()["code"] == "dossier_not_found"


def test_lookup_is_throttled_per_client(world, portal, settings):
    settings.MOTCUA_LOOKUP_RATE = "3/m"
    code = received_code(world, portal)
    client = Client(REMOTE_ADDR="203.0.113.9")
    statuses = [client.get(f"/api/v1/lookup/{code}").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert client.get(f"/api/v1/lookup/{code}").json()["code"] == "too_many_requests"
    assert Client(REMOTE_ADDR="203.0.113.10").get(f"/api/v1/lookup/{code}").status_code == 200


def test_a_forged_forwarded_for_header_does_not_escape_the_lookup_throttle(world, portal, settings):
    settings.MOTCUA_LOOKUP_RATE = "2/m"
    settings.MOTCUA_CLIENT_IP_HEADER = ""  # no trusted proxy: the connection's address counts
    code = received_code(world, portal)
    client = Client(REMOTE_ADDR="203.0.113.20")
    statuses = [
        client.get(f"/api/v1/lookup/{code}", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code
        for n in range(4)
    ]
    assert statuses == [200, 200, 429, 429]


def test_behind_a_proxy_the_lookup_throttle_counts_the_proxy_given_address(world, portal, settings):
    settings.MOTCUA_LOOKUP_RATE = "2/m"
    settings.MOTCUA_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    code = received_code(world, portal)
    proxy = Client(REMOTE_ADDR="10.0.0.2")
    first = [
        proxy.get(f"/api/v1/lookup/{code}", HTTP_X_FORWARDED_FOR="203.0.113.30").status_code
        for _ in range(3)
    ]
    assert first == [200, 200, 429]
    # Another citizen behind the same proxy is not blocked by the first one's requests.
    other = proxy.get(f"/api/v1/lookup/{code}", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.31")
    assert other.status_code == 200


def test_openapi_lists_the_dossier_endpoints(db):
    schema = Client().get("/api/v1/openapi.json").json()
    paths = set(schema["paths"])
    assert "/api/v1/dossiers" in paths
    assert "/api/v1/lookup/{code}" in paths
    assert any(p.endswith("/receive") for p in paths)
