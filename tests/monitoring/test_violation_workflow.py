"""Violations in the back office: the agency explains, the monitoring centre closes; each
change is written with its history row in one transaction; nobody sees another agency's."""

from __future__ import annotations

from unittest import mock

import pytest
from django.test import Client

from motcua.accounts.models import Membership, Role
from motcua.core.errors import InvalidInput
from motcua.monitoring.models import Severity, Violation, ViolationChange
from tests.backoffice.conftest import verify_otp
from tests.dossiers.world import vn

pytestmark = pytest.mark.django_db

LIST = "/can-bo/giam-sat/vi-pham/"


def page(pk: int, action: str = "") -> str:
    return f"{LIST}{pk}/{action}"


def officer(user, *, otp: bool = False) -> Client:
    client = Client()
    client.force_login(user)
    if otp:
        verify_otp(client, user)
    return client


@pytest.fixture
def cases(world):
    dossier = world.received(at=vn(2, 9))
    other = world.received(at=vn(3, 9))
    late = Violation.objects.create(
        rule="dossier_late",
        severity=Severity.HIGH,
        dossier=dossier,
        agency=world.centre,
        officer=world.specialist,
        detail="Hồ sơ giải quyết quá hạn.",
        occurred_at=vn(12, 17),
    )
    dept = Violation.objects.create(
        rule="unclear_note",
        severity=Severity.LOW,
        dossier=other,
        agency=world.department,
        officer=world.dept_specialist,
        detail="Ý kiến xử lý không rõ nội dung: «ok».",
        occurred_at=vn(4, 10),
    )
    return world, late, dept


def test_each_agency_lists_only_its_own_violations(cases):
    world, late, dept = cases
    centre = officer(world.clerk).get(LIST)
    assert centre.status_code == 200
    assert [v.pk for v in centre.context["page"]] == [late.pk]
    department = officer(world.dept_specialist).get(LIST)
    assert [v.pk for v in department.context["page"]] == [dept.pk]
    assert officer(world.dept_specialist).get(page(late.pk)).status_code == 404
    monitor = officer(world.monitor).get(LIST)
    assert {v.pk for v in monitor.context["page"]} == {late.pk, dept.pk}


def test_filters_narrow_the_list(cases):
    world, late, dept = cases
    client = officer(world.monitor)
    assert [v.pk for v in client.get(LIST, {"rule": "unclear_note"}).context["page"]] == [dept.pk]
    assert [v.pk for v in client.get(LIST, {"severity": "high"}).context["page"]] == [late.pk]
    found = client.get(LIST, {"agency": world.department.pk}).context["page"]
    assert [v.pk for v in found] == [dept.pk]
    assert [v.pk for v in client.get(LIST, {"date_from": "2026-03-10"}).context["page"]] == [
        late.pk
    ]
    assert list(client.get(LIST, {"status": "closed"}).context["page"]) == []
    code = late.dossier.code
    assert [v.pk for v in client.get(LIST, {"dossier": code[-6:]}).context["page"]] == [late.pk]


def test_the_leader_explains_and_the_monitor_closes_with_history(cases):
    world, late, _dept = cases
    leader = officer(world.leader, otp=True)
    detail = leader.get(page(late.pk))
    assert detail.context["may_explain"] and not detail.context["may_close"]
    response = leader.post(page(late.pk, "giai-trinh/"), {"explanation": "Chờ kết quả xác minh."})
    assert response.status_code == 302
    late.refresh_from_db()
    assert late.status == Violation.Status.EXPLAINED
    assert late.explained_by == world.leader and late.explanation == "Chờ kết quả xác minh."

    monitor = officer(world.monitor)
    detail = monitor.get(page(late.pk))
    assert detail.context["may_close"] and not detail.context["may_explain"]
    response = monitor.post(page(late.pk, "ket-thuc/"), {"note": "Chấp nhận giải trình."})
    assert response.status_code == 302
    late.refresh_from_db()
    assert late.status == Violation.Status.CLOSED and late.closed_by == world.monitor
    history = list(
        late.changes.order_by("at", "id").values_list(
            "status_before", "status_after", "actor", "note"
        )
    )
    assert history == [
        ("open", "explained", world.leader.pk, "Chờ kết quả xác minh."),
        ("explained", "closed", world.monitor.pk, "Chấp nhận giải trình."),
    ]
    html = monitor.get(page(late.pk)).content.decode()
    assert "Chấp nhận giải trình." in html and "Đã kết thúc" in html
    # Closed: nobody explains any more.
    again = leader.post(page(late.pk, "giai-trinh/"), {"explanation": "Bổ sung."})
    assert again.status_code == 403
    assert late.changes.count() == 2


def test_the_named_officer_explains_but_a_colleague_does_not(cases):
    world, late, _dept = cases
    response = officer(world.specialist).post(
        page(late.pk, "giai-trinh/"), {"explanation": "Đã rút kinh nghiệm."}
    )
    assert response.status_code == 302
    late.refresh_from_db()
    assert late.status == Violation.Status.EXPLAINED and late.explained_by == world.specialist
    refused = officer(world.clerk).post(
        page(late.pk, "giai-trinh/"), {"explanation": "Xin giải trình."}
    )
    assert refused.status_code == 403
    assert late.changes.count() == 1


def test_only_the_monitoring_centre_closes(cases):
    world, late, _dept = cases
    for user, otp in ((world.leader, True), (world.specialist, False)):
        response = officer(user, otp=otp).post(page(late.pk, "ket-thuc/"), {"note": ""})
        assert response.status_code == 403
    # An administrator reads every violation but does not close them either.
    admin_user = world.outsider
    Membership.objects.create(user=admin_user, agency=world.centre, role=Role.ADMINISTRATOR)
    client = officer(admin_user, otp=True)
    assert client.get(page(late.pk)).status_code == 200
    assert client.post(page(late.pk, "ket-thuc/"), {"note": ""}).status_code == 403
    late.refresh_from_db()
    assert late.status == Violation.Status.OPEN and not late.changes.exists()


def test_an_empty_explanation_is_refused_with_a_message(cases):
    world, late, _dept = cases
    response = officer(world.leader, otp=True).post(
        page(late.pk, "giai-trinh/"), {"explanation": "  "}
    )
    assert response.status_code == 400
    assert "Cần nhập nội dung giải trình." in response.content.decode()
    late.refresh_from_db()
    assert late.status == Violation.Status.OPEN and not late.changes.exists()


def test_a_status_change_and_its_history_are_one_transaction(cases):
    world, late, _dept = cases
    with (
        mock.patch.object(ViolationChange.objects, "create", side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError),
    ):
        late.explain("Chờ kết quả xác minh.", by=world.leader)
    late.refresh_from_db()
    assert late.status == Violation.Status.OPEN and late.explanation == ""
    late.close(by=world.monitor)
    with pytest.raises(InvalidInput):
        late.close(by=world.monitor)
    assert late.changes.count() == 1


def test_the_admin_records_history_too(cases, rf):
    from django.contrib.admin.sites import site

    from motcua.monitoring.admin import ViolationAdmin

    world, late, _dept = cases
    request = rf.post("/")
    request.user = world.monitor
    model_admin = ViolationAdmin(Violation, site)
    edited = Violation.objects.get(pk=late.pk)
    edited.explanation = "Giải trình qua quản trị."
    form = mock.Mock(changed_data=["explanation"])
    model_admin.save_model(request, edited, form, change=True)
    late.refresh_from_db()
    assert late.status == Violation.Status.EXPLAINED
    assert late.changes.get().note == "Giải trình qua quản trị."
    edited.status = Violation.Status.CLOSED
    model_admin.save_model(request, edited, mock.Mock(changed_data=["status"]), change=True)
    late.refresh_from_db()
    assert late.status == Violation.Status.CLOSED and late.changes.count() == 2
