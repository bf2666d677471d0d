"""The monitoring API: who may read, and the stable shape of the answers."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from motcua.accounts.models import ApiToken, Membership, Role
from motcua.dossiers import services
from motcua.dossiers.services import SYSTEM
from tests.dossiers.world import vn

from .conftest import deliver

pytestmark = pytest.mark.django_db

BASE = "/api/v1/monitoring"
MARCH = {"period": "month", "year": 2026, "month": 3}


def officer(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def history(world):
    late = world.received(at=vn(2, 9))
    services.complete_step(late, actor=SYSTEM, note="ok", at=vn(3, 9))
    world.received(at=vn(20, 9))
    online = world.submit(at=vn(4, 9), channel="online", delivery="online")
    services.receive(online, actor=SYSTEM, at=vn(4, 10))
    deliver()
    return world


def test_anonymous_and_plain_officers_are_refused(history):
    assert Client().get(f"{BASE}/scorecard", MARCH).status_code == 401
    response = officer(history.counter).get(f"{BASE}/scorecard", MARCH)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert officer(history.specialist).get(f"{BASE}/rules").status_code == 403


def test_the_monitor_reads_the_province_scorecard(history):
    response = officer(history.monitor).get(f"{BASE}/scorecard", MARCH)
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {
        "area",
        "period",
        "rule_set",
        "computed_at",
        "in_progress",
        "total",
        "groups",
    }
    assert body["area"]["kind"] == "province" and body["area"]["agencies"] == 2
    assert body["period"] == {
        "kind": "month",
        "date_from": "2026-03-01",
        "date_to": "2026-03-31",
        "label": "Tháng 3/2026",
    }
    assert body["rule_set"]["id"] == "766-2022"
    assert set(body["total"]) == {
        "score",
        "max",
        "max_computed",
        "complete",
        "indicators_without_data",
    }
    first = body["groups"][1]["indicators"][0]
    assert set(first) == {
        "code",
        "group",
        "name",
        "kind",
        "unit",
        "max",
        "target",
        "status",
        "status_label",
        "reason",
        "numerator",
        "denominator",
        "rate",
        "score",
        "note",
    }
    # Three in progress at the end of March, all past their appointment.
    assert (first["code"], first["numerator"], first["denominator"]) == ("2.1", 0, 3)
    # At the end of 5 March both received dossiers were still in time.
    response = officer(history.monitor).get(
        f"{BASE}/scorecard",
        {"period": "range", "date_from": "2026-03-01", "date_to": "2026-03-05"},
    )
    first = response.json()["groups"][1]["indicators"][0]
    assert (first["numerator"], first["denominator"], first["score"]) == (2, 2, 20.0)
    assert response.json()["in_progress"]["kind"] == "daily"
    no_data = body["groups"][0]["indicators"][0]
    assert (no_data["status"], no_data["status_label"]) == ("no_data", "không đủ dữ liệu")


def test_a_leader_reads_only_their_agencies(history):
    leader = officer(history.leader)
    own = leader.get(f"{BASE}/scorecard", {**MARCH, "scope": "agency", "id": history.centre.pk})
    assert own.status_code == 200
    assert own.json()["area"]["name"] == history.centre.name
    other = leader.get(
        f"{BASE}/scorecard", {**MARCH, "scope": "agency", "id": history.department.pk}
    )
    assert other.status_code == 404
    assert leader.get(f"{BASE}/scorecard", MARCH).status_code == 403


def test_tokens_need_the_monitoring_scope(history):
    service = get_user_model().objects.create_user("he-thong-bao-cao")
    Membership.objects.create(user=service, agency=history.centre, role=Role.MONITOR)
    _t, raw = ApiToken.issue(name="Báo cáo", user=service, scopes=["monitoring:read"])
    response = Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get(f"{BASE}/scorecard", MARCH)
    assert response.status_code == 200
    _t, raw = ApiToken.issue(name="Hồ sơ", user=service, scopes=["dossiers:read"])
    response = Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get(f"{BASE}/scorecard", MARCH)
    assert response.status_code == 403 and response.json()["code"] == "missing_scope"


def test_rollup_summaries(history):
    client = officer(history.monitor)
    span = {"date_from": "2026-03-01", "date_to": "2026-03-31"}
    total = client.get(f"{BASE}/rollups", span).json()
    assert total["group_by"] == "total"
    [row] = total["rows"]
    assert row["counters"]["received"] == 3 and row["counters"]["submitted"] == 3
    by_channel = client.get(f"{BASE}/rollups", {**span, "group_by": "channel"}).json()
    assert {r["key"]: r["counters"]["received"] for r in by_channel["rows"]} == {
        "counter": 2,
        "online": 1,
    }
    by_day = client.get(f"{BASE}/rollups", {**span, "group_by": "day"}).json()
    assert [r["key"] for r in by_day["rows"]] == ["2026-03-02", "2026-03-04", "2026-03-20"]
    by_month = client.get(f"{BASE}/rollups", {**span, "group_by": "month"}).json()
    assert [r["label"] for r in by_month["rows"]] == ["03/2026"]
    by_agency = client.get(f"{BASE}/rollups", {**span, "group_by": "agency"}).json()
    assert by_agency["rows"][0]["label"].startswith(history.centre.name)
    online = client.get(f"{BASE}/rollups", {**span, "channel": "online"}).json()
    assert online["rows"][0]["counters"]["received"] == 1
    bad = client.get(f"{BASE}/rollups", {"date_from": "2026-03-31", "date_to": "2026-03-01"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_period"


def test_in_progress_now_and_at_a_past_day(history):
    client = officer(history.monitor)
    now = client.get(f"{BASE}/in-progress").json()
    assert now["kind"] == "live"
    assert now["totals"] == {"open_in_time": 0, "open_late": 3, "open_extended": 0}
    past = client.get(f"{BASE}/in-progress", {"day": "2026-03-05"}).json()
    assert past["kind"] == "daily"
    assert past["totals"] == {"open_in_time": 2, "open_late": 0, "open_extended": 0}
    assert past["agencies"][0]["agency_id"] == history.centre.pk


def test_violations_list(history):
    client = officer(history.monitor)
    body = client.get(f"{BASE}/violations").json()
    assert body["count"] == 1
    [item] = body["items"]
    assert item["rule"] == "unclear_note"
    assert item["rule_label"] == "Ý kiến xử lý khi hoàn thành bước bị bỏ trống hoặc không rõ ràng"
    assert item["status"] == "open" and item["step"] == "Thẩm định hồ sơ"
    assert client.get(f"{BASE}/violations", {"status": "closed"}).json()["count"] == 0
    rules = client.get(f"{BASE}/rules").json()
    assert {r["code"] for r in rules} >= {"step_late", "no_recipient"}
    rule_sets = client.get(f"{BASE}/rule-sets").json()
    assert rule_sets[0]["id"] == "766-2022"


def test_bad_periods_are_explained(history):
    client = officer(history.monitor)
    response = client.get(f"{BASE}/scorecard", {"period": "quarter", "year": 2026})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_period"
    response = client.get(f"{BASE}/scorecard", {**MARCH, "scope": "commune"})
    assert response.json()["code"] == "area_required"
    response = client.get(f"{BASE}/scorecard", {**MARCH, "rule_set": "766-1999"})
    assert response.status_code == 404 and response.json()["code"] == "unknown_rule_set"
