"""The monitoring pages of the back office: who sees which figures, the figures themselves,
the dossiers behind each figure, the exports and the charts.

The history: in March 2026 the service centre receives four dossiers (one finished early, one
finished late, one still in progress, one online in progress and late) and the department
(Sở Tư pháp) receives two of its own (one finished late, one in progress).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client

from motcua.catalog.models import ProcedureAgency
from motcua.core.errors import DomainError
from motcua.dossiers import services
from motcua.dossiers.services import SYSTEM, ResultInput
from motcua.monitoring import charts, queries, scorecard
from tests.backoffice.conftest import verify_otp
from tests.dossiers.world import vn

from .conftest import deliver

pytestmark = pytest.mark.django_db

MARCH = {"period": "month", "year": 2026, "month": 3}
BASE = "/can-bo/giam-sat/"


def finish(dossier, at):
    for _ in range(6):
        try:
            services.complete_step(dossier, actor=SYSTEM, note="Đã thẩm định, đủ điều kiện.", at=at)
        except DomainError:  # the last processing step: the result is recorded below
            break
    result = ResultInput(number="12/GP", signed_on=at.date(), signer="Lê Văn Bình")
    services.record_result(dossier, actor=SYSTEM, result=result, at=at)


def dept_submit(world, at):
    submission = world.submission(receiving_agency_id=world.department.pk)
    dossier, _ = services.submit(submission, actor=SYSTEM, at=at)
    return dossier


@pytest.fixture
def history(world):
    for agency in (world.centre, world.department):
        ProcedureAgency.objects.get_or_create(procedure=world.procedure, agency=agency)
    early = world.received(at=vn(2, 9))
    finish(early, vn(3, 10))
    late = world.received(at=vn(2, 10))
    finish(late, vn(20, 10))
    world.received(at=vn(25, 9))
    online = world.submit(at=vn(4, 9), channel="online", delivery="online")
    services.receive(online, actor=SYSTEM, at=vn(4, 10))
    dept_late = dept_submit(world, vn(5, 9))
    services.receive(dept_late, actor=SYSTEM, at=vn(5, 9, 30))
    finish(dept_late, vn(27, 9))
    dept_open = dept_submit(world, vn(26, 9))
    services.receive(dept_open, actor=SYSTEM, at=vn(26, 9, 30))
    deliver()
    return world


def officer(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def leader(user) -> Client:
    client = officer(user)
    verify_otp(client, user)
    return client


def area(kind, pk=None):
    return {"area": f"{kind}-{pk}" if pk else kind}


# --- who sees what ---------------------------------------------------------------------------


def test_the_monitor_sees_the_province_with_every_agency(history):
    response = officer(history.monitor).get(BASE, {**area("province"), **MARCH})
    assert response.status_code == 200, response.content.decode()[:500]
    data = response.context["data"]
    rows = {row["agency_id"]: row for row in data["agencies"]}
    assert set(rows) == {history.centre.pk, history.department.pk}
    centre, dept = rows[history.centre.pk], rows[history.department.pk]
    assert (centre["received"], centre["finished_early"], centre["finished_late"]) == (4, 1, 1)
    assert (dept["received"], dept["finished_late"]) == (2, 1)
    assert data["totals"]["received"] == 6
    assert data["totals"]["finished_late"] == 2
    html = response.content.decode()
    assert "Sở Tư pháp tỉnh Thanh Hóa" in html and "Trung tâm Phục vụ hành chính công" in html
    assert 'role="img"' in html  # the charts


def test_a_leader_sees_only_their_agency(history):
    client = leader(history.leader)
    response = client.get(BASE, MARCH)  # default area: the leader's agency
    assert response.status_code == 200
    data = response.context["data"]
    assert [row["agency_id"] for row in data["agencies"]] == [history.centre.pk]
    assert data["totals"]["received"] == 4
    html = response.content.decode()
    assert "Sở Tư pháp" not in html
    # Another agency, the province: not among the choices, refused with the form's message.
    for asked in (area("agency", history.department.pk), area("province")):
        other = client.get(BASE, {**asked, **MARCH})
        assert other.status_code == 400
        assert "Sở Tư pháp" not in other.content.decode()
        assert other.context["data"] is None
    for page in ("chi-so-766/", "bao-cao/"):
        assert (
            client.get(BASE + page, {**area("agency", history.department.pk), **MARCH}).status_code
            == 400
        )
    # Nor the dossiers of another agency through the drill-down.
    drill = client.get(
        BASE + "ho-so/",
        {
            **area("agency", history.centre.pk),
            **MARCH,
            "measure": "received",
            "agency": history.department.pk,
        },
    )
    assert drill.status_code == 404


def test_the_department_leader_sees_only_the_department(history):
    response = leader(history.dept_leader).get(BASE, MARCH)
    assert response.status_code == 200
    assert [row["agency_id"] for row in response.context["data"]["agencies"]] == [
        history.department.pk
    ]
    assert (
        "Trung tâm Phục vụ hành chính công" not in response.context["data"]["agencies"][0]["name"]
    )


@pytest.mark.parametrize("who", ["counter", "specialist", "clerk"])
def test_other_officers_do_not_open_the_dashboards(history, who):
    client = officer(getattr(history, who))
    for page in ("", "chi-so-766/", "bao-cao/", "ho-so/"):
        assert client.get(BASE + page, MARCH).status_code == 403


def test_a_bad_period_gets_a_clear_message(history):
    response = officer(history.monitor).get(
        BASE, {**area("province"), "period": "month", "year": 2026, "month": ""}
    )
    assert response.status_code == 400
    assert "Cần chọn tháng." in response.content.decode()


# --- drill-down: the list behind a figure ----------------------------------------------------


def every_row(area_, period, measure, **filters) -> list[int]:
    """All dossiers of a drill-down list, one row per page (the keyset paging)."""
    ids, after = [], None
    while True:
        page = queries.drilldown(area_, period, measure, after=after, limit=1, **filters)
        ids += [row["pk"] for row in page.rows]
        if page.next_cursor is None:
            return ids
        after = page.next_cursor


@pytest.mark.parametrize(
    "measure",
    ["received", "finished", "finished_early", "finished_on_time", "finished_late", "open",
     "open_in_time", "open_late"],
)  # fmt: skip
def test_each_list_adds_up_to_its_figure(history, measure):
    province = queries.resolve_area(history.monitor, "province", None)
    march = scorecard.Period.month(2026, 3)
    for filters in ({}, {"agency_id": history.centre.pk}, {"agency_id": history.department.pk},
                    {"channel": "online"}, {"procedure_id": history.procedure.pk}):  # fmt: skip
        ids = every_row(province, march, measure, **filters)
        assert len(ids) == len(set(ids))
        assert len(ids) == queries.measure_total(province, march, measure, **filters), filters


def test_the_dashboard_links_open_lists_of_exactly_that_many_dossiers(history):
    client = officer(history.monitor)
    html = client.get(BASE, {**area("province"), **MARCH}).content.decode()
    links = re.findall(r'<tr data-agency="(\d+)">(.*?)</tr>', html, re.S)
    checked = 0
    for _agency, row in links:
        for href, shown in re.findall(r'<a href="([^"]+)">(\d+)</a>', row):
            url = urlparse(href.replace("&amp;", "&"))
            listed = client.get(url.path, {k: v[0] for k, v in parse_qs(url.query).items()})
            assert listed.status_code == 200
            assert len(listed.context["page"].rows) == int(shown) == listed.context["total"]
            checked += 1
    assert checked >= 14


def test_the_open_late_list_of_a_past_month_replays_the_histories(history):
    # End of March: the online dossier (received 4/3, due 11/3) is open and late; the centre's
    # dossier received on 25/3 is open and in time; the late one finished on 20/3 is gone.
    province = queries.resolve_area(history.monitor, "province", None)
    march = scorecard.Period.month(2026, 3)
    late = every_row(province, march, "open_late")
    in_time = every_row(province, march, "open_in_time")
    assert len(late) == 1 and len(in_time) == 2
    page = queries.drilldown(province, march, "open_late")
    assert page.rows[0]["channel"] == "Trực tuyến"


def test_the_list_page_shows_the_dossiers_with_their_codes(history):
    client = officer(history.monitor)
    response = client.get(
        BASE + "ho-so/", {**area("province"), **MARCH, "measure": "finished_late"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert response.context["total"] == 2
    assert html.count("data-dossier=") == 2
    assert "Hồ sơ giải quyết quá hạn" in html
    bad = client.get(BASE + "ho-so/", {**area("province"), **MARCH, "measure": "nothing"})
    assert bad.status_code == 404


# --- scorecard and report --------------------------------------------------------------------


def test_the_scorecard_page_shows_the_indicators_and_the_trend(history):
    response = officer(history.monitor).get(BASE + "chi-so-766/", {**area("province"), **MARCH})
    assert response.status_code == 200
    card = response.context["card"]
    links = [i.pop("links") for g in card["groups"] for i in g["indicators"] if "links" in i]
    assert len(links) == 1 and "measure=finished_late" in links[0]["finished_late"]
    assert card == scorecard.compute(
        queries.resolve_area(history.monitor, "province", None),
        scorecard.Period.month(2026, 3),
        now=card["computed_at"],
    )
    html = response.content.decode()
    assert "không đủ dữ liệu" in html
    trend = response.context["trend"]
    assert [t["label"] for t in trend][-1] == "03/2026" and len(trend) == 12
    # The trend's March equals the month's own scorecard.
    assert trend[-1]["score"] == card["total"]["score"]
    rate = next(i for g in card["groups"] for i in g["indicators"] if i["code"] == "2.1")["rate"]
    assert trend[-1]["rate_21"] == rate


def test_the_report_page_lists_agencies_and_procedures(history):
    response = officer(history.monitor).get(BASE + "bao-cao/", {**area("province"), **MARCH})
    assert response.status_code == 200
    report = response.context["report"]
    assert report["totals"]["received"] == 6
    assert report["totals"]["received_online"] == 1
    assert [p["code"] for p in report["procedures"]] == [history.procedure.code]


# --- exports ---------------------------------------------------------------------------------


def cells(content: bytes) -> list:
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(content)).active
    return [cell.value for row in sheet.iter_rows() for cell in row if cell.value is not None]


def pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_dashboard_exports_hold_its_figures(history):
    client = officer(history.monitor)
    query = {**area("province"), **MARCH}
    data = client.get(BASE, query).context["data"]
    xlsx = client.get(BASE, {**query, "format": "xlsx"})
    assert xlsx.status_code == 200
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    values = cells(xlsx.content)
    assert "Hồ sơ tiếp nhận" in values and data["totals"]["received"] in values
    assert "Sở Tư pháp tỉnh Thanh Hóa" in values
    assert data["totals"]["rate"] in values
    pdf = client.get(BASE, {**query, "format": "pdf"})
    assert pdf["Content-Type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert "Tháng 3/2026" in text
    assert "Sở Tư pháp tỉnh Thanh Hóa" in text
    assert "Tỷ lệ giải quyết trước hạn, đúng hạn" in text


def test_the_scorecard_and_report_exports(history):
    client = officer(history.monitor)
    query = {**area("province"), **MARCH}
    card = client.get(BASE + "chi-so-766/", query).context["card"]
    text = pdf_text(client.get(BASE + "chi-so-766/", {**query, "format": "pdf"}).content)
    assert "Bộ chỉ số 766" in text and "không đủ dữ liệu" in text
    assert f"{card['total']['score']:.2f}".replace(".", ",") in text
    values = cells(client.get(BASE + "chi-so-766/", {**query, "format": "xlsx"}).content)
    assert card["total"]["score"] in values or float(card["total"]["score"]) in values
    report = cells(client.get(BASE + "bao-cao/", {**query, "format": "xlsx"}).content)
    assert "Tổng cộng" in report and "Trung tâm Phục vụ hành chính công tỉnh" in report
    text = pdf_text(client.get(BASE + "bao-cao/", {**query, "format": "pdf"}).content)
    assert "Theo thủ tục" in text and history.procedure.code in text


def test_a_leader_export_holds_only_their_agency(history):
    client = leader(history.leader)
    values = cells(client.get(BASE, {**MARCH, "format": "xlsx"}).content)
    assert "Sở Tư pháp tỉnh Thanh Hóa" not in values
    assert "Trung tâm Phục vụ hành chính công tỉnh" in values


# --- charts ----------------------------------------------------------------------------------


def test_charts_are_named_described_and_escape_labels():
    svg = str(
        charts.bar_chart("Tỷ lệ", "Mô tả", [charts.Bar("<script>", 50.0), charts.Bar("Sở B", None)])
    )
    assert svg.startswith("<svg") and 'role="img"' in svg
    ids = re.search(r'aria-labelledby="([^"]+)"', svg).group(1).split()
    assert all(f'id="{i}"' in svg for i in ids)
    assert "<title" in svg and "<desc" in svg
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "50%" in svg and "—" in svg
    line = str(charts.line_chart("T", "D", ["01/26", "02/26"], [("A", [90.0, None])]))
    assert line.count("<circle") == 1
    stacked = str(charts.stacked_columns("T", "D", ["01/26"], [("A", [3]), ("B", [1])]))
    assert "75.0%" in stacked and "25.0%" in stacked


def test_the_dashboard_of_an_empty_period_renders(history):
    response = officer(history.monitor).get(
        BASE, {**area("province"), "period": "year", "year": 2024}
    )
    assert response.status_code == 200
    assert response.context["data"]["totals"]["rate"] is None
    assert dt.date(2024, 12, 1) == response.context["data"]["trend"][-1]["month"]
