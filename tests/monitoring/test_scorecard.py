"""The Decision 766 scorecard on small hand-computed data sets, and its rule-set files."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.core import checks

from motcua.catalog.models import ProcedureAgency
from motcua.core.errors import InvalidInput, NotFound
from motcua.dossiers import services
from motcua.dossiers.services import SYSTEM, ResultInput
from motcua.monitoring import rollups, scorecard
from motcua.monitoring.models import DailyRollup, OpenSnapshot, SnapshotDay
from motcua.monitoring.scorecard import Area, Period, RuleSetError, parse_formula
from tests.catalog.factories import saved_procedure
from tests.dossiers.world import vn

from .conftest import deliver

pytestmark = pytest.mark.django_db

SHIPPED = Path(scorecard.__file__).parent / "data" / "766-2022.json"
MARCH = Period.month(2026, 3)
NOW = dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC)


def indicators(card: dict) -> dict[str, dict]:
    return {i["code"]: i for g in card["groups"] for i in g["indicators"]}


def groups(card: dict) -> dict[str, dict]:
    return {g["code"]: g for g in card["groups"]}


def rollup(world, day: int, channel: str, agency=None, procedure=None, **counts):
    DailyRollup.objects.create(
        day=dt.date(2026, 3, day),
        agency=agency or world.centre,
        procedure=procedure or world.procedure,
        channel=channel,
        **counts,
    )


@pytest.fixture
def data(world):
    """March 2026 at the service centre (and some noise at the department)."""
    rollup(
        world,
        3,
        "counter",
        received=6,
        finished_early=3,
        finished_on_time=1,
        finished_late=2,
        finished_extended=1,
        results=5,
        eresults=2,
        with_fee=4,
        paid_online=2,
        digitised_complete=3,
        received_full_online=2,
        result_seconds=5 * 2 * 86400,
    )
    rollup(
        world,
        10,
        "online",
        received=4,
        finished_early=1,
        results=1,
        eresults=1,
        received_full_online=3,
        digitised_complete=3,
    )
    rollup(world, 15, "postal", received=2)
    rollup(world, 16, "counter", agency=world.department, received=50, finished_late=50)
    # Outside the period.
    DailyRollup.objects.create(
        day=dt.date(2026, 4, 1),
        agency=world.centre,
        procedure=world.procedure,
        channel="counter",
        received=9,
        finished_late=9,
    )
    rollups.refresh_months(dt.date(2026, 3, 1), dt.date(2026, 4, 30))
    SnapshotDay.objects.create(day=dt.date(2026, 3, 31))
    for channel, in_time, late, extended in (("counter", 3, 1, 1), ("online", 1, 0, 0)):
        OpenSnapshot.objects.create(
            day=dt.date(2026, 3, 31),
            agency=world.centre,
            procedure=world.procedure,
            channel=channel,
            open_in_time=in_time,
            open_late=late,
            open_extended=extended,
        )
    offline = saved_procedure(code="2.000001", name="Thủ tục không trực tuyến", online_mode="none")
    ProcedureAgency.objects.create(procedure=world.procedure, agency=world.centre)
    ProcedureAgency.objects.create(procedure=offline.procedure, agency=world.centre)
    return Area("agency", world.centre.pk, world.centre.name, [world.centre.pk])


def test_every_indicator_on_a_hand_computed_data_set(data):
    card = scorecard.compute(data, MARCH, now=NOW)
    got = indicators(card)

    def check(code, numerator, denominator, rate, score):
        item = got[code]
        assert item["status"] == "ok", code
        assert (item["numerator"], item["denominator"]) == (numerator, denominator), code
        assert (item["rate"], item["score"]) == (rate, score), code

    # 2.1: (4 early + 1 on time − 1 in time only by extension) + (4 in time − 1 by extension)
    # over 7 finished + 5 in progress; 20 × 58.33 %.
    check("2.1", 7, 12, 58.33, 11.67)
    # 2.2: 10 days over 6 results, for information.
    check("2.2", 864000, 6, 1.67, 0.0)
    # 3.0: full-online procedures' dossiers received online: 3 of 5; 12 × 60 %.
    check("3.0", 3, 5, 60.0, 7.2)
    check("3.1", 1, 2, 50.0, 0.0)  # 1 of the 2 applied procedures is online
    check("3.2", 1, 1, 100.0, 0.0)
    check("3.3", 4, 12, 33.33, 0.0)
    check("4.1", 3, 6, 50.0, 3.0)  # e-results / results
    check("4.2", 6, 12, 50.0, 2.5)  # 4 × min(1, 50 / 80)
    for code in ("1.1", "1.2", "1.3", "1.4", "3.5", "3.5b", "3.6", "5.1", "5.2", "5.3", "5.4"):
        assert got[code]["status"] == "no_data", code
        assert got[code]["status_label"] == "không đủ dữ liệu"
        assert got[code]["reason"], code
        assert got[code]["score"] is None and got[code]["numerator"] is None
    for code in ("4.ct", "4.3", "4.4", "4.5a", "4.5b"):
        assert got[code]["status"] == "no_data", code
    assert "thanh toán trực tuyến" in got["3.6"]["reason"]
    assert "đồng bộ" in got["1.4"]["reason"]

    g = groups(card)
    assert [g[c]["max"] for c in "123456"] == [18, 20, 12, 10, 18, 22]
    assert (g["2"]["score"], g["2"]["max_computed"]) == (11.67, 20)
    assert (g["3"]["score"], g["3"]["max_computed"]) == (7.2, 12)
    assert (g["6"]["score"], g["6"]["max_computed"]) == (5.5, 10)
    assert (g["1"]["score"], g["1"]["max_computed"]) == (0, 0)
    assert card["total"] == {
        "score": 24.37,
        "max": 100,
        "max_computed": 42,
        "complete": False,
        "indicators_without_data": 15,
    }
    assert card["rule_set"]["id"] == "766-2022" and card["rule_set"]["version"] == "2022.1"
    assert len(card["rule_set"]["sha256"]) == 64
    assert card["in_progress"] == {
        "kind": "daily",
        "as_of": card["in_progress"]["as_of"],
        "open_in_time": 4,
        "open_late": 1,
        "open_extended": 1,
    }
    assert card["period"]["label"] == "Tháng 3/2026"


def test_a_feed_switched_on_makes_its_indicators_computable(data, settings):
    settings.MOTCUA_MONITORING_FEEDS = "online_payment"
    got = indicators(scorecard.compute(data, MARCH, now=NOW))
    # 3.6: 2 of 4 fee-bearing dossiers paid online, target 100 %: 6 × 50 %.
    assert (got["3.6"]["numerator"], got["3.6"]["denominator"], got["3.6"]["score"]) == (2, 4, 3.0)
    # 3.5b: the one procedure with fees has online payments: 100 % ≥ the 80 % target.
    assert (got["3.5b"]["rate"], got["3.5b"]["score"]) == (100.0, 2.0)
    assert got["1.4"]["status"] == "no_data"


def test_no_data_when_the_denominator_is_zero(world):
    area = Area("agency", world.department.pk, world.department.name, [world.department.pk])
    got = indicators(scorecard.compute(area, MARCH, now=NOW))
    assert got["2.1"]["status"] == "no_data"
    assert (got["2.1"]["numerator"], got["2.1"]["denominator"]) == (0, 0)
    assert "Mẫu số bằng 0" in got["2.1"]["reason"]
    assert got["2.1"]["score"] is None


def test_the_province_adds_its_agencies_and_communes(data, world):
    from motcua.monitoring import queries

    admin = world.monitor
    area = queries.resolve_area(admin, "province", None)
    assert set(area.agency_ids) >= {world.centre.pk, world.department.pk}
    got = indicators(scorecard.compute(area, MARCH, now=NOW))
    assert (got["2.1"]["numerator"], got["2.1"]["denominator"]) == (7, 62)


def test_service_built_dossiers_through_to_indicator_2_1(world):
    """§1.6 on real histories: supplement time subtracted, two supplement requests late, an
    extension does not make a dossier on time, a dossier waiting for a supplement judged at
    the request, unfinished dossiers judged at the end of the period."""
    a = world.received(at=vn(2, 9))  # due 9/3
    finish(a, vn(4, 9))  # early
    b = world.received(at=vn(2, 9))
    services.complete_step(b, actor=SYSTEM, note=NOTE, at=vn(2, 15))
    services.request_supplement(b, actor=SYSTEM, items=["Bản sao"], at=vn(3, 9))
    services.provide_supplement(b, actor=SYSTEM, at=vn(10, 9))  # due moves to 16/3
    finish(b, vn(13, 9), steps=2)  # early, not late: the waiting time is subtracted
    c = world.received(at=vn(2, 9))
    services.request_supplement(c, actor=SYSTEM, items=["Bản sao"], at=vn(2, 10))
    services.provide_supplement(c, actor=SYSTEM, at=vn(2, 11))
    services.request_supplement(
        c,
        actor=SYSTEM,
        items=["Bản chính"],
        approver=world.leader,
        approval_reason="Luật chuyên ngành",
        at=vn(2, 14),
    )
    services.provide_supplement(c, actor=SYSTEM, at=vn(3, 9))
    finish(c, vn(4, 9))  # long before its appointment, but late: two requests
    d = world.received(at=vn(2, 9))  # never handled: in progress, late at the end of March
    e = world.received(at=vn(30, 9))  # in progress, in time
    f = world.received(at=vn(20, 9))  # due 27/3; waiting since 23/3: in time
    services.request_supplement(f, actor=SYSTEM, items=["Bản sao"], at=vn(23, 9))
    g = world.received(at=vn(2, 9))  # due 9/3, extended (in time) to 13/3
    services.propose_extension(
        g, actor=SYSTEM, reason="Chờ xác minh", new_due_at=vn(13, 9), at=vn(6, 9)
    )
    services.decide_extension(g, actor=SYSTEM, approve=True, at=vn(6, 10))
    finish(g, vn(11, 9))  # early against 13/3, late against 9/3
    deliver()
    assert [x.pk for x in (d, e, f)]
    area = Area("agency", world.centre.pk, world.centre.name, [world.centre.pk])
    got = indicators(scorecard.compute(area, MARCH, now=NOW))
    # Finished: a, b early; c late; g early by its register, late for 766.
    # In progress at 31/3: d late; e, f in time. Numerator a, b, e, f; denominator all 7.
    assert (got["2.1"]["numerator"], got["2.1"]["denominator"]) == (4, 7)
    assert (got["2.1"]["rate"], got["2.1"]["score"]) == (57.14, 11.43)
    # A rule set that lets an extension count as on time gives g back.
    lenient = scorecard.Indicator(
        **{
            **scorecard.select_rule_set(MARCH.end).groups[1].indicators[0].__dict__,
            "numerator": parse_formula("finished_early + finished_on_time + open_in_time"),
        }
    )
    figures = scorecard.Figures(
        area.agency_ids, MARCH, scorecard.open_at_end(area.agency_ids, MARCH, NOW)
    )
    assert scorecard.score_indicator(lenient, "2", figures).numerator == 5


NOTE = "Hồ sơ đầy đủ, hợp lệ; đề nghị lãnh đạo phê duyệt"


def finish(dossier, at, *, steps: int = 3):
    for _ in range(steps):
        services.complete_step(dossier, actor=SYSTEM, note=NOTE, at=at)
    result = ResultInput(number="9/GP", signed_on=at.date(), signer="Lê Văn Bình")
    services.record_result(dossier, actor=SYSTEM, result=result, at=at)


def test_a_period_ending_today_reads_the_live_index(world):
    world.received(at=vn(2, 9))
    deliver()
    area = Area("agency", world.centre.pk, world.centre.name, [world.centre.pk])
    card = scorecard.compute(area, Period.month(2026, 3), now=vn(5, 9))
    assert card["in_progress"]["kind"] == "live"
    assert card["in_progress"]["open_in_time"] == 1
    assert indicators(card)["2.1"]["score"] == 20.0


# --- periods -----------------------------------------------------------------------------------


def test_periods():
    assert Period.month(2026, 2) == Period(
        "month", dt.date(2026, 2, 1), dt.date(2026, 2, 28), "Tháng 2/2026"
    )
    assert Period.quarter(2026, 4).start == dt.date(2026, 10, 1)
    assert Period.quarter(2026, 4).end == dt.date(2026, 12, 31)
    assert Period.quarter(2026, 1).label == "Quý I/2026"
    assert Period.year(2026).end == dt.date(2026, 12, 31)
    assert Period.between(dt.date(2026, 3, 5), dt.date(2026, 3, 9)).label == (
        "Từ 05/03/2026 đến 09/03/2026"
    )
    assert Period.parse("quarter", year=2026, quarter=2).label == "Quý II/2026"
    for bad in (
        lambda: Period.parse("month", year=2026),
        lambda: Period.parse("week", year=2026),
        lambda: Period.parse("month", year=1999, month=1),
        lambda: Period.month(2026, 13),
        lambda: Period.between(dt.date(2026, 3, 9), dt.date(2026, 3, 5)),
        lambda: Period.between(dt.date(2020, 1, 1), dt.date(2026, 1, 1)),
    ):
        with pytest.raises(InvalidInput):
            bad()


# --- rule sets ---------------------------------------------------------------------------------


def test_the_shipped_rule_set_adds_up():
    rule_set = scorecard.parse_rule_set(SHIPPED.read_bytes(), str(SHIPPED))
    assert rule_set.total == 100
    assert [float(g.max) for g in rule_set.groups] == [18, 20, 12, 10, 18, 22]
    codes = [i.code for g in rule_set.groups for i in g.indicators]
    assert len(codes) == len(set(codes)) == 24
    assert not scorecard.load_rule_sets()[0].valid_to


def test_formulas():
    terms = parse_formula(
        "received[online, postal] - procedures(paid_online[online]) + catalogue.procedures"
    )
    assert [(t.sign, t.kind, t.name, t.channels) for t in terms] == [
        (1, "sum", "received", ("online", "postal")),
        (-1, "procedures", "paid_online", ("online",)),
        (1, "catalogue", "procedures", ()),
    ]
    for bad in (
        "",
        "received +",
        "received received",
        "- received",
        "recieved",
        "received[fax]",
        "catalogue.everything",
        "procedures()",
        "received * 2",
    ):
        with pytest.raises(RuleSetError):
            parse_formula(bad)


def _doc(**changes) -> dict:
    doc = json.loads(SHIPPED.read_text())
    doc.update(changes)
    return doc


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["groups"][1]["indicators"][0].update(numerator="finished_soon"),
            "finished_soon",
        ),
        (lambda d: d["groups"][1]["indicators"][0].update(max=25), "tổng điểm tối đa"),
        (lambda d: d.update(total=90), "«total»"),
        (lambda d: d["groups"][0]["indicators"][0].update(requires=["telepathy"]), "telepathy"),
        (lambda d: d["groups"][1]["indicators"][1].update(max=5, kind="average"), "average"),
        (lambda d: d["groups"][1]["indicators"][0].update(target=150), "target"),
        (lambda d: d["groups"][1]["indicators"][0].pop("denominator"), "denominator"),
        (lambda d: d.pop("version"), "version"),
        (lambda d: d.update(valid_from="23/6/2022"), "YYYY-MM-DD"),
    ],
)
def test_broken_rule_sets_are_refused(change, message):
    doc = _doc()
    change(doc)
    with pytest.raises(RuleSetError) as caught:
        scorecard.parse_rule_set(json.dumps(doc).encode(), "bad.json")
    assert message in str(caught.value)


def test_an_operator_rule_set_takes_over_from_its_date(data, settings, tmp_path):
    doc = _doc(id="766-2027", version="2027.1", valid_from="2027-01-01", title="Bộ chỉ số mới")
    doc["groups"][1]["indicators"][0]["numerator"] = "finished_early + finished_on_time"
    (tmp_path / "766-2027.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    settings.MOTCUA_MONITORING_RULES_DIR = str(tmp_path)
    assert scorecard.select_rule_set(dt.date(2026, 12, 31)).id == "766-2022"
    assert scorecard.select_rule_set(dt.date(2027, 1, 31)).id == "766-2027"
    card = scorecard.compute(data, MARCH, rule_set="766-2027", now=NOW)
    assert card["rule_set"]["version"] == "2027.1"
    assert indicators(card)["2.1"]["numerator"] == 5
    with pytest.raises(NotFound):
        scorecard.select_rule_set(dt.date(2026, 1, 1), "766-1999")
    with pytest.raises(NotFound):
        scorecard.select_rule_set(dt.date(2020, 1, 1))


def test_when_zero_can_give_full_marks(world, settings, tmp_path):
    doc = _doc(id="766-local", valid_from="2026-01-01")
    doc["groups"][1]["indicators"][0]["when_zero"] = "full"
    (tmp_path / "local.json").write_text(json.dumps(doc), encoding="utf-8")
    settings.MOTCUA_MONITORING_RULES_DIR = str(tmp_path)
    area = Area("agency", world.department.pk, world.department.name, [world.department.pk])
    got = indicators(scorecard.compute(area, MARCH, now=NOW))
    assert (got["2.1"]["status"], got["2.1"]["score"]) == ("ok", 20.0)


def test_the_system_check_names_a_broken_file(settings, tmp_path):
    (tmp_path / "broken.json").write_text('{"id": "x"', encoding="utf-8")
    settings.MOTCUA_MONITORING_RULES_DIR = str(tmp_path)
    errors = [e for e in checks.run_checks() if e.id == "monitoring.E001"]
    assert len(errors) == 1 and "broken.json" in errors[0].msg
