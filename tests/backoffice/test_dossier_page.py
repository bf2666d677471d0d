"""The dossier page (/can-bo/ho-so/<pk>/): who sees it, which actions it offers (exactly those
the services accept), each action's form, stale pages, files and printed forms."""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata

import pytest
from django.db import transaction
from django.utils import timezone
from pypdf import PdfReader

from motcua.accounts.models import Membership, Role
from motcua.backoffice import actions
from motcua.core.errors import DomainError
from motcua.core.worktime import VN_TZ
from motcua.dossiers import services
from motcua.dossiers.lifecycle import Action
from motcua.dossiers.models import DossierEvent, Extension, Result, Status, Step
from motcua.dossiers.services import SYSTEM, ResultInput
from tests.agencies.factories import AgencyFactory, DepartmentFactory
from tests.dossiers.actions import snapshot
from tests.dossiers.world import build_world, vn

from .conftest import make_officer, verify_otp

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

USERS = (
    "counter",
    "specialist",
    "leader",
    "clerk",
    "dept_specialist",
    "dept_leader",
    "monitor",
    "outsider",
)


@pytest.fixture
def world(db):
    return build_world()


def page_url(dossier) -> str:
    return f"/can-bo/ho-so/{dossier.pk}/"


def action_url(dossier, action) -> str:
    return f"/can-bo/ho-so/{dossier.pk}/thao-tac/{action}/"


def sign_in(client, user):
    client.force_login(user)
    if user.memberships.filter(role__in=[Role.LEADER, Role.ADMINISTRATOR]).exists():
        verify_otp(client, user)


def text_of(pdf: bytes) -> str:
    raw = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", raw))


def today() -> dt.date:
    return timezone.now().astimezone(VN_TZ).date()


# --- the world in every state -----------------------------------------------------------------


def prepared(world, state: str):
    """A dossier of the test province in ``state`` (through the services, as the system)."""
    if state == "submitted":
        return world.submit(channel="online", delivery="online")
    if state == "incomplete":
        return world.submit(channel="online", delivery="online", components=world.components()[:1])
    dossier = world.received()
    at = vn(3, 9)
    steps = {
        "assigned": 0,
        "at_department": 1,
        "leader_step": 2,
        "last_step": 3,
        "result": 3,
        "returned": 3,
    }
    if state in ("assigned", "assigned_other"):
        who = (
            world.specialist
            if state == "assigned"
            else make_officer("chuyenvien2", world.centre, Role.SPECIALIST)
        )
        services.assign(dossier, actor=SYSTEM, assignee=who, at=at)
    for _ in range(steps.get(state, 0)):
        services.complete_step(dossier, actor=SYSTEM, note="Đã xem xét", at=at)
    if state in ("result", "returned"):
        result = ResultInput(number="12/GP", signed_on=at.date(), signer="Lê Văn Bình")
        services.record_result(dossier, actor=SYSTEM, result=result, at=at)
    if state == "returned":
        services.return_result(dossier, actor=SYSTEM, method="counter", recipient_name="A", at=at)
    if state in ("supplement", "supplemented_once"):
        services.request_supplement(dossier, actor=SYSTEM, items=["Bản sao"], at=at)
    if state == "supplemented_once":
        services.provide_supplement(dossier, actor=SYSTEM, at=vn(4, 9))
    if state == "payment":
        services.request_payment(dossier, actor=SYSTEM, amount=100_000, reason="Lệ phí", at=at)
    if state in ("proposed", "extended"):
        services.propose_extension(
            dossier, actor=SYSTEM, reason="Chờ xác minh", new_due_at=vn(20, 17), at=at
        )
    if state == "extended":
        services.decide_extension(dossier, actor=SYSTEM, approve=True, at=at)
    if state == "stopped":
        services.stop(dossier, actor=SYSTEM, reason="Công dân đề nghị", at=at)
    dossier.refresh_from_db()
    return dossier


STATES = (
    "submitted",
    "incomplete",
    "received",
    "assigned",
    "assigned_other",
    "at_department",
    "leader_step",
    "last_step",
    "supplement",
    "supplemented_once",
    "payment",
    "proposed",
    "extended",
    "result",
    "returned",
    "stopped",
)


def attempt(world, action: Action, dossier, user, state: actions.DossierState) -> None:
    """Call the service of ``action`` as ``user`` with the input its form would send."""
    if action == Action.RECEIVE:
        services.receive(dossier, actor=user)
    elif action == Action.REFUSE:
        services.refuse(dossier, actor=user, reason="Không thuộc thẩm quyền")
    elif action == Action.REQUEST_SUPPLEMENT:
        approver = actions.approvers(state).first() if state.second_supplement else None
        services.request_supplement(
            dossier,
            actor=user,
            items=["Tờ khai"],
            approver=approver,
            approval_reason="Theo luật chuyên ngành" if approver else "",
        )
    elif action == Action.PROVIDE_SUPPLEMENT:
        services.provide_supplement(dossier, actor=user)
    elif action == Action.ASSIGN:
        assignee = actions.assignees(state).first() or world.specialist
        services.assign(dossier, actor=user, assignee=assignee)
    elif action == Action.COMPLETE_STEP:
        services.complete_step(dossier, actor=user, note="Đồng ý")
    elif action == Action.SEND_BACK:
        targets = state.send_back_targets
        services.send_back(
            dossier, actor=user, to_step_id=targets[0].pk if targets else 0, reason="Làm lại"
        )
    elif action == Action.REQUEST_PAYMENT:
        services.request_payment(dossier, actor=user, amount=1000, reason="Phí")
    elif action == Action.CONFIRM_PAYMENT:
        services.confirm_payment(dossier, actor=user, receipt="BL-1")
    elif action == Action.PROPOSE_EXTENSION:
        base = dossier.due_at or timezone.now()
        services.propose_extension(
            dossier, actor=user, reason="Chậm", new_due_at=base + dt.timedelta(days=7)
        )
    elif action == Action.DECIDE_EXTENSION:
        services.decide_extension(dossier, actor=user, approve=True)
    elif action == Action.STOP:
        services.stop(dossier, actor=user, reason="Đề nghị dừng")
    elif action == Action.WITHDRAW:
        services.withdraw(dossier, actor=user, reason="Đề nghị rút")
    elif action == Action.RECORD_RESULT:
        result = ResultInput(number="1/QĐ", signed_on=today(), signer="Lê Văn Bình")
        services.record_result(dossier, actor=user, result=result)
    elif action == Action.RETURN_RESULT:
        services.return_result(dossier, actor=user, method="counter", recipient_name="B")
    else:  # pragma: no cover
        raise AssertionError(action)


@pytest.mark.parametrize("state_name", STATES)
def test_the_actions_offered_are_exactly_those_the_services_accept(world, state_name):
    dossier = prepared(world, state_name)
    offered_to_someone = set()
    for name in USERS:
        user = getattr(world, name)
        state = actions.load_state(dossier)
        offered = set(actions.available_actions(state, user))
        offered_to_someone |= offered
        for action in Action:
            with transaction.atomic():
                try:
                    attempt(world, action, dossier, user, state)
                except DomainError as exc:
                    accepted, reason = False, exc.message
                else:
                    accepted, reason = True, ""
                transaction.set_rollback(True)
            assert accepted == (action in offered), (state_name, name, str(action), reason)
    # Every state has someone who can act, except the closed ones.
    assert bool(offered_to_someone) == (state_name not in ("returned", "stopped"))


def test_a_department_membership_counts_for_its_department_only(world):
    dossier = prepared(world, "received")
    ours = DepartmentFactory(agency=world.centre, name="Phòng Kiểm soát thủ tục")
    theirs = DepartmentFactory(agency=world.centre, name="Phòng Tổng hợp")
    member = make_officer("cv.phong", world.centre, Role.SPECIALIST)
    Membership.objects.filter(user=member).update(department=ours)
    for department, expected in ((theirs, False), (ours, True)):
        Step.objects.filter(dossier=dossier, state="active").update(department=department)
        state = actions.load_state(dossier)
        offered = Action.COMPLETE_STEP in actions.available_actions(state, member)
        with transaction.atomic():
            try:
                services.complete_step(dossier, actor=member, note="Đồng ý")
            except services.PermissionDenied:
                accepted = False
            else:
                accepted = True
            transaction.set_rollback(True)
        assert offered is accepted is expected, department.name
        # A supplement may be asked by anyone of the receiving agency, department or not.
        assert Action.REQUEST_SUPPLEMENT in actions.available_actions(state, member)


def test_an_incomplete_dossier_says_what_is_missing_instead_of_offering_receipt(client, world):
    dossier = prepared(world, "incomplete")
    client.force_login(world.counter)
    html = client.get(page_url(dossier)).content.decode()
    assert "Còn thiếu thành phần bắt buộc, chưa tiếp nhận được:" in html
    assert "Bản sao giấy tờ chứng minh" in html
    assert "/thao-tac/receive/" not in html
    assert "/thao-tac/refuse/" in html


def test_monitors_and_outsiders_are_offered_nothing(client, world):
    dossier = prepared(world, "received")
    client.force_login(world.monitor)
    html = client.get(page_url(dossier)).content.decode()
    assert "Chỉ xem: vai trò giám sát không xử lý hồ sơ." in html
    assert "/thao-tac/" not in html


# --- seeing the dossier -----------------------------------------------------------------------


def test_the_page_is_404_outside_the_officers_agencies(client, world):
    dossier = prepared(world, "received")
    stranger = make_officer("cb.noikhac", AgencyFactory(), Role.SPECIALIST)
    client.force_login(stranger)
    assert client.get(page_url(dossier)).status_code == 404
    assert client.get(f"/can-bo/ho-so/{dossier.pk}/in/01/").status_code == 404
    assert client.post(action_url(dossier, "complete_step")).status_code == 404
    # The department sees it once it has a step there (liên thông).
    client.force_login(world.dept_specialist)
    assert client.get(page_url(dossier)).status_code == 200
    client.force_login(world.monitor)
    assert client.get(page_url(dossier)).status_code == 200


def test_the_page_shows_the_dossier_its_steps_and_history(client, world):
    dossier = prepared(world, "at_department")
    client.force_login(world.dept_specialist)
    response = client.get(page_url(dossier))
    html = response.content.decode()
    assert f"Hồ sơ {dossier.code}" in html
    assert "Đang xử lý" in html
    assert "Nguyễn Thị Hằng" in html and "038090001234" in html  # full id on the page
    assert "Tờ khai theo mẫu" in html
    assert "Sở Tư pháp cho ý kiến" in html  # the steps
    assert "Lịch sử xử lý" in html and "Hoàn thành bước xử lý" in html  # the timeline
    assert "Đã xem xét" in html  # the note of the step before
    # The forms it has reached, to print.
    assert f"/can-bo/ho-so/{dossier.pk}/in/01/" in html
    assert f"/can-bo/ho-so/{dossier.pk}/in/06/" in html
    assert f"/can-bo/ho-so/{dossier.pk}/in/03/" not in html
    # The actions of the department specialist here, each a form with the page's version.
    forms = re.findall(r'action="/can-bo/ho-so/\d+/thao-tac/([a-z_]+)/"', html)
    assert forms == [
        "complete_step",
        "send_back",
        "request_supplement",
        "request_payment",
        "propose_extension",
    ]
    version = DossierEvent.objects.filter(dossier=dossier).order_by("-id").first().pk
    assert f'name="complete_step-version" value="{version}"' in html


# --- each action through its form ----------------------------------------------------------


def post(client, dossier, action: str, data: dict, files: dict | None = None):
    version = actions.last_event_id(dossier.pk)
    body = {f"{action}-{k}": v for k, v in {"version": version, **data}.items()}
    if files:
        body.update({f"{action}-{k}": v for k, v in files.items()})
    return client.post(action_url(dossier, action), body)


def upload(name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="application/pdf")


# action → (dossier state, who, form data, status after)
CASES = {
    "receive": ("submitted", "counter", {"note": "Đủ hồ sơ"}, Status.RECEIVED),
    "refuse": ("submitted", "counter", {"reason": "Không thuộc thẩm quyền"}, Status.REFUSED),
    "assign": ("received", "leader", {"assignee": "specialist", "note": "Xử lý gấp"}, 4),
    "complete_step": ("assigned", "specialist", {"note": "Hồ sơ hợp lệ"}, Status.PROCESSING),
    "send_back": ("at_department", "dept_specialist", {"to_step": 0, "reason": "Thiếu"}, 4),
    "request_supplement": (
        "received",
        "specialist",
        {"items": "Bản sao giấy khai sinh\n\nSổ hộ khẩu", "reason": "Thiếu giấy tờ"},
        Status.AWAITING_SUPPLEMENT,
    ),
    "provide_supplement": ("supplement", "counter", {"note": "Đã nhận"}, Status.PROCESSING),
    "request_payment": (
        "received",
        "counter",
        {"amount": "150000", "reason": "Lệ phí trước bạ"},
        Status.AWAITING_PAYMENT,
    ),
    "confirm_payment": ("payment", "counter", {"receipt": "BL-0001"}, Status.PROCESSING),
    "propose_extension": (
        "received",
        "specialist",
        {"new_due": "2026-03-20", "reason": "Cần xác minh thực địa"},
        Status.RECEIVED,
    ),
    "decide_extension": ("proposed", "leader", {"decision": "approve"}, Status.RECEIVED),
    "stop": ("received", "counter", {"reason": "Công dân đề nghị dừng"}, Status.STOPPED),
    "withdraw": ("received", "counter", {"reason": "Công dân rút hồ sơ"}, Status.WITHDRAWN),
    "record_result": (
        "last_step",
        "clerk",
        {"kind": "granted", "number": "15/GP-STP", "signed_on": "2026-03-05", "signer": "Lê Bình"},
        Status.RESULT_READY,
    ),
    "return_result": (
        "result",
        "counter",
        {"method": "counter", "recipient_name": "Nguyễn Thị Hằng", "relation": "self"},
        Status.RETURNED,
    ),
}


@pytest.mark.parametrize("action", list(CASES))
def test_each_action_form_succeeds_and_writes_one_event(client, world, action):
    state_name, who, data, status_after = CASES[action]
    dossier = prepared(world, state_name)
    data = dict(data)
    if action == "assign":
        data["assignee"] = world.specialist.pk
    if action == "send_back":
        data["to_step"] = actions.load_state(dossier).send_back_targets[0].pk
    user = getattr(world, who)
    sign_in(client, user)
    assert f"/thao-tac/{action}/" in client.get(page_url(dossier)).content.decode()
    before = DossierEvent.objects.filter(dossier=dossier).count()
    response = post(client, dossier, action, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"] == page_url(dossier)
    events = DossierEvent.objects.filter(dossier=dossier).order_by("id")
    assert events.count() == before + 1
    assert events.last().action == action
    assert events.last().actor == user
    dossier.refresh_from_db()
    assert dossier.status == status_after
    page = client.get(page_url(dossier)).content.decode()
    assert 'class="message message-success"' in page  # the confirmation


def test_the_leader_assigns_and_the_specialist_completes_with_a_note(client, world):
    dossier = prepared(world, "received")
    sign_in(client, world.leader)
    html = client.get(page_url(dossier)).content.decode()
    # The assignees: the step's role (specialist) or a leader, of the step's agency only.
    options = re.findall(r'<option value="(\d+)"', html.split('name="assign-assignee"')[1])
    assert {int(o) for o in options} == {world.specialist.pk, world.leader.pk}
    assert post(client, dossier, "assign", {"assignee": world.specialist.pk}).status_code == 302
    assert Step.objects.get(dossier=dossier, state="active").assignee == world.specialist
    sign_in(client, world.specialist)
    assert post(client, dossier, "complete_step", {"note": "Đủ điều kiện"}).status_code == 302
    done = Step.objects.get(dossier=dossier, order=1, state="done")
    assert (done.note, done.done_by) == ("Đủ điều kiện", world.specialist)


def test_a_second_supplement_request_asks_for_a_leader_and_a_reason(client, world):
    dossier = prepared(world, "supplemented_once")
    sign_in(client, world.specialist)
    html = client.get(page_url(dossier)).content.decode()
    assert 'name="request_supplement-approver"' in html
    before = snapshot(dossier)
    response = post(client, dossier, "request_supplement", {"items": "Giấy tờ khác"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Yêu cầu bổ sung lần nữa cần lãnh đạo phê duyệt." in html
    assert "Cần ghi rõ lý do phải yêu cầu bổ sung lần nữa." in html
    assert snapshot(dossier) == before
    response = post(
        client,
        dossier,
        "request_supplement",
        {"items": "Giấy tờ khác", "approver": world.leader.pk, "approval_reason": "Luật định"},
    )
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.status == Status.AWAITING_SUPPLEMENT
    assert dossier.pauses.order_by("-id").first().approved_by == world.leader


# --- refusals -------------------------------------------------------------------------------


def test_invalid_input_is_said_next_to_the_field_and_nothing_is_written(client, world):
    dossier = prepared(world, "assigned")
    sign_in(client, world.specialist)
    before = snapshot(dossier)
    response = post(client, dossier, "complete_step", {"note": "   "})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Cần ghi ý kiến xử lý của bước này." in html
    assert 'aria-invalid="true"' in html
    assert '<details id="action-complete_step" open>' in html  # the form stays open
    assert snapshot(dossier) == before
    # A new appointment must be a later working day.
    response = post(client, dossier, "propose_extension", {"new_due": "2026-03-07", "reason": "x"})
    assert "Ngày hẹn trả mới phải là ngày làm việc." in response.content.decode()
    response = post(client, dossier, "propose_extension", {"new_due": "2026-03-04", "reason": "x"})
    assert "Ngày hẹn trả mới phải sau ngày hẹn trả hiện tại (09/03/2026)." in (
        response.content.decode()
    )
    assert snapshot(dossier) == before


def test_a_stale_page_is_refused_and_nothing_is_written(client, world):
    dossier = prepared(world, "received")
    sign_in(client, world.specialist)
    version = actions.last_event_id(dossier.pk)
    # Someone else acts after the page was shown.
    services.assign(dossier, actor=world.leader, assignee=world.specialist)
    before = snapshot(dossier)
    response = client.post(
        action_url(dossier, "complete_step"),
        {"complete_step-version": version, "complete_step-note": "Đồng ý"},
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "Hồ sơ đã được người khác cập nhật" in html
    assert snapshot(dossier) == before
    # The page came back fresh: its forms carry the new version.
    fresh = actions.last_event_id(dossier.pk)
    assert f'name="complete_step-version" value="{fresh}"' in html
    # A form without a version is not taken either.
    response = client.post(action_url(dossier, "complete_step"), {"complete_step-note": "x"})
    assert response.status_code == 409
    assert snapshot(dossier) == before


def test_an_action_the_status_no_longer_allows_says_so(client, world):
    dossier = prepared(world, "received")
    sign_in(client, world.counter)
    before = snapshot(dossier)
    data = {"method": "counter", "recipient_name": "A", "relation": "self"}
    response = post(client, dossier, "return_result", data)
    assert response.status_code == 409
    html = response.content.decode()
    assert "Không thực hiện được: Không thể «Trả kết quả» khi hồ sơ đang ở trạng thái" in html
    assert snapshot(dossier) == before


def test_a_refusal_of_the_services_is_shown_on_the_form(client, world):
    dossier = prepared(world, "received")
    sign_in(client, world.specialist)  # not a leader: may not assign
    before = snapshot(dossier)
    response = post(client, dossier, "assign", {"assignee": world.specialist.pk})
    assert response.status_code in (400, 403)
    assert snapshot(dossier) == before
    assert client.post(action_url(dossier, "no_such_action"), {}).status_code == 404


# --- files ---------------------------------------------------------------------------------


def test_record_result_with_a_file_then_read_it(client, world):
    dossier = prepared(world, "last_step")
    sign_in(client, world.clerk)
    data = {"kind": "granted", "number": "15/GP", "signed_on": today().isoformat(), "signer": "B"}
    response = post(client, dossier, "record_result", data, {"file": upload("anh.png", b"\x89PNG")})
    assert response.status_code == 400
    assert "Tệp kết quả phải là tệp PDF." in response.content.decode()
    future = {**data, "signed_on": (today() + dt.timedelta(days=2)).isoformat()}
    response = post(client, dossier, "record_result", future)
    assert "Ngày ký không được sau ngày hiện tại." in response.content.decode()
    response = post(client, dossier, "record_result", data, {"file": upload("qd.pdf", PDF)})
    assert response.status_code == 302
    result = Result.objects.get(dossier=dossier)
    assert (result.number, result.signer) == ("15/GP", "B")
    assert result.file
    served = client.get(f"/can-bo/ho-so/{dossier.pk}/ket-qua/")
    assert served.status_code == 200
    assert served["Content-Type"] == "application/pdf"
    assert served["Content-Disposition"].startswith("inline")
    assert b"".join(served.streaming_content) == PDF
    stranger = make_officer("cb.khac", AgencyFactory(), Role.CLERK)
    client.force_login(stranger)
    assert client.get(f"/can-bo/ho-so/{dossier.pk}/ket-qua/").status_code == 404


def test_component_files_are_served_to_those_who_see_the_dossier(client, world):
    dossier = prepared(world, "received")
    component = dossier.components.order_by("order").first()
    scan = services.attach_file(
        dossier,
        actor=world.counter,
        submitted_component_id=component.pk,
        name="to-khai.pdf",
        content_type="application/pdf",
        content=PDF,
    )
    client.force_login(world.specialist)
    html = client.get(page_url(dossier)).content.decode()
    url = f"/can-bo/ho-so/{dossier.pk}/tep/{scan.pk}/"
    assert url in html and "to-khai.pdf" in html
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("inline")
    assert b"".join(response.streaming_content) == PDF
    # Of another dossier: not found, even with a valid file id.
    other = prepared(world, "submitted")
    assert client.get(f"/can-bo/ho-so/{other.pk}/tep/{scan.pk}/").status_code == 404
    client.force_login(make_officer("cb.khac", AgencyFactory(), Role.SPECIALIST))
    assert client.get(url).status_code == 404


# --- printed forms -----------------------------------------------------------------------------


def test_print_forms_as_pdf(client, world):
    dossier = prepared(world, "extended")
    client.force_login(world.specialist)
    response = client.get(f"/can-bo/ho-so/{dossier.pk}/in/01/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = text_of(response.content)
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in text and dossier.code in text
    assert "VĂN BẢN XIN LỖI" in text_of(client.get(f"/can-bo/ho-so/{dossier.pk}/in/04/").content)
    slip = text_of(client.get(f"/can-bo/ho-so/{dossier.pk}/in/06/").content)
    assert "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ" in slip
    # A form the dossier has not reached: said, not printed.
    refused = client.get(f"/can-bo/ho-so/{dossier.pk}/in/03/")
    assert refused.status_code == 409
    assert "Hồ sơ không bị từ chối tiếp nhận." in refused.content.decode()
    assert client.get(f"/can-bo/ho-so/{dossier.pk}/in/09/").status_code == 404
    html = client.get(page_url(dossier)).content.decode()
    assert "Mẫu 04: Văn bản xin lỗi và đề nghị gia hạn" in html
    assert Extension.objects.get(dossier=dossier).state == "approved"
