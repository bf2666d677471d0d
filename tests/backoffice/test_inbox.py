"""The inbox (/can-bo/ho-so/): whose work is listed, how urgent it is, filters, search, pages."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import transaction

from motcua.accounts.models import Membership, Role
from motcua.agencies.calendar import calendar_for
from motcua.backoffice import worklist
from motcua.dossiers import services
from motcua.dossiers.models import Dossier, Step
from motcua.dossiers.services import SYSTEM
from tests.agencies.factories import AgencyFactory, DepartmentFactory
from tests.dossiers.world import MONDAY_9, build_world, vn

from .conftest import make_officer, verify_otp

pytestmark = pytest.mark.django_db

INBOX = "/can-bo/ho-so/"
# Wednesday 4 March 2026, 10:00 in Việt Nam: the worklist's clock in these tests.
NOW = vn(4, 10)


@pytest.fixture
def world(db, monkeypatch):
    monkeypatch.setattr(worklist, "now", lambda: NOW)
    return build_world()


def received(world, *, name="Nguyễn Thị Hằng", personal_id="038090001234", at=MONDAY_9, **kw):
    return world.received(
        at=at, applicant=world.applicant(name=name, personal_id=personal_id), **kw
    )


def step_due(dossier: Dossier, due: dt.datetime) -> Step:
    """Move the active step's due time (test data: a dossier received earlier)."""
    step = dossier.steps.get(state=Step.State.ACTIVE)
    step.due_at = due
    step.save(update_fields=["due_at"])
    return step


def rows(response) -> dict[int, str]:
    """Dossier id → the row's HTML, in the order of the page."""
    html = response.content.decode()
    found = re.findall(r'<tr class="row-[a-z_]+" data-dossier="(\d+)">(.*?)</tr>', html, re.S)
    return {int(pk): body for pk, body in found}


def row_classes(response) -> dict[int, str]:
    html = response.content.decode()
    return {
        int(pk): urgency
        for urgency, pk in re.findall(r'<tr class="row-([a-z_]+)" data-dossier="(\d+)">', html)
    }


def test_the_specialist_sees_the_steps_of_their_agency_only(client, world):
    here = received(world)
    # A dossier of another agency, with its own officer: never listed here.
    other_agency = AgencyFactory()
    make_officer("cv.khac", other_agency, Role.SPECIALIST)
    elsewhere = received(world, personal_id="038090001235")
    Step.objects.filter(dossier=elsewhere).update(agency=other_agency)
    client.force_login(world.specialist)
    listed = rows(client.get(INBOX))
    assert list(listed) == [here.pk]
    assert here.code in listed[here.pk]
    assert "Thẩm định hồ sơ" in listed[here.pk]  # the step waiting
    assert "**********34" in listed[here.pk]  # identifiers are masked in lists
    assert "038090001234" not in listed[here.pk]
    # Once the step moves to the department (liên thông), it leaves the centre's list and
    # enters the department's.
    services.complete_step(here, actor=world.specialist, note="Đủ điều kiện", at=vn(3, 9))
    assert rows(client.get(INBOX)) == {}
    client.force_login(world.dept_specialist)
    assert list(rows(client.get(INBOX))) == [here.pk]


def test_mine_shows_my_work_unit_shows_the_whole_agency(client, world):
    mine = received(world)
    theirs = received(world, personal_id="038090001235")
    colleague = make_officer("chuyenvien2", world.centre, Role.SPECIALIST)
    services.assign(theirs, actor=world.leader, assignee=colleague, at=vn(2, 10))
    services.assign(mine, actor=world.leader, assignee=world.specialist, at=vn(2, 10))
    client.force_login(world.specialist)
    assert list(rows(client.get(INBOX))) == [mine.pk]
    everyone = rows(client.get(INBOX, {"scope": "unit"}))
    assert set(everyone) == {mine.pk, theirs.pk}
    assert "Người xử lý: chuyenvien2" in everyone[theirs.pk]
    # "All" lists every dossier of the agency, closed ones too.
    services.withdraw(theirs, actor=world.counter, at=vn(3, 9))
    assert set(rows(client.get(INBOX, {"scope": "all"}))) == {mine.pk, theirs.pk}
    assert set(rows(client.get(INBOX, {"scope": "unit"}))) == {mine.pk}


def test_the_leader_sees_steps_to_assign_and_leader_steps(client, world):
    unassigned = received(world)
    assigned = received(world, personal_id="038090001235")
    services.assign(assigned, actor=world.leader, assignee=world.specialist, at=vn(2, 10))
    client.force_login(world.leader)
    verify_otp(client, world.leader)
    assert list(rows(client.get(INBOX))) == [unassigned.pk]
    assert set(rows(client.get(INBOX, {"scope": "unit"}))) == {unassigned.pk, assigned.pk}


def test_a_department_member_sees_their_department_only(client, world):
    dossier = received(world)
    services.complete_step(dossier, actor=world.specialist, at=vn(2, 10))
    civil = DepartmentFactory(agency=world.department, name="Phòng Hành chính tư pháp")
    other = DepartmentFactory(agency=world.department, name="Phòng Bổ trợ tư pháp")
    member = make_officer("cv.phong", world.department, Role.SPECIALIST)
    Membership.objects.filter(user=member).update(department=civil)
    client.force_login(member)
    # A step of the whole agency is listed to its departments too.
    assert list(rows(client.get(INBOX))) == [dossier.pk]
    Step.objects.filter(dossier=dossier, state=Step.State.ACTIVE).update(department=other)
    assert rows(client.get(INBOX)) == {}
    assert rows(client.get(INBOX, {"scope": "unit"})) == {}


def test_rows_are_coloured_and_labelled_by_working_time_left(client, world):
    # The clock is Wednesday 4 March, 10:00.
    late = step_due(received(world, personal_id="038090001231"), vn(3, 17))
    today = step_due(received(world, personal_id="038090001232"), vn(4, 16))
    soon = step_due(received(world, personal_id="038090001233"), vn(5, 9))
    later = step_due(received(world, personal_id="038090001234"), vn(11, 17))
    paused = step_due(received(world, personal_id="038090001235"), vn(3, 12))
    services.request_supplement(
        paused.dossier, actor=world.specialist, items=["Bản sao giấy khai sinh"], at=vn(3, 11)
    )
    client.force_login(world.specialist)
    response = client.get(INBOX)
    listed = rows(response)
    # By the step's due time (the paused one was due at noon on Tuesday).
    assert list(listed) == [
        paused.dossier_id,
        late.dossier_id,
        today.dossier_id,
        soon.dossier_id,
        later.dossier_id,
    ]
    assert row_classes(response) == {
        late.dossier_id: "late",
        paused.dossier_id: "paused",
        today.dossier_id: "due_today",
        soon.dossier_id: "due_soon",
        later.dossier_id: "on_track",
    }
    # Not colour alone: every row says it in words.
    assert "Quá hạn" in listed[late.dossier_id]
    assert "quá 2 giờ làm việc" in listed[late.dossier_id]  # Tuesday 17:00 → Wednesday 10:00
    assert "Đến hạn hôm nay" in listed[today.dossier_id]
    assert "còn 5 giờ làm việc" in listed[today.dossier_id]
    assert "Sắp đến hạn" in listed[soon.dossier_id]
    assert "còn 7 giờ làm việc" in listed[soon.dossier_id]
    assert "Còn hạn" in listed[later.dossier_id]
    assert "Tạm dừng tính thời gian" in listed[paused.dossier_id]
    assert "Chú thích thời hạn" in response.content.decode()


def test_remaining_counts_working_time_on_the_agency_calendar(world):
    calendar = calendar_for(world.centre)
    friday_16 = vn(6, 16)
    # Friday 16:00 → Monday 15:00 is 7 working hours: due soon, though three days away.
    assert worklist.remaining(calendar, vn(9, 15), friday_16).urgency == "due_soon"
    assert worklist.remaining(calendar, vn(9, 17), friday_16).urgency == "on_track"
    assert worklist.remaining(calendar, vn(6, 17), friday_16).urgency == "due_today"
    assert worklist.remaining(calendar, vn(6, 15), friday_16).urgency == "late"
    assert worklist.remaining(calendar, None, friday_16).urgency == "none"
    state = worklist.remaining(calendar, vn(12, 17), friday_16)
    assert (state.urgency, state.detail) == ("on_track", "còn 4 ngày 1 giờ làm việc")


def test_the_desk_lists_what_waits_for_it(client, world):
    submitted = world.submit(channel="online", delivery="online")
    processing = received(world, personal_id="038090001235")
    waiting = received(world, personal_id="038090001236")
    services.request_payment(
        waiting, actor=world.counter, amount=100_000, reason="Lệ phí", at=vn(2, 10)
    )
    client.force_login(world.counter)
    listed = rows(client.get(INBOX))
    assert set(listed) == {submitted.pk, waiting.pk}
    assert "Kiểm tra, tiếp nhận hồ sơ" in listed[submitted.pk]
    assert "Chưa có mã" in listed[submitted.pk]
    assert "Chờ xác nhận nghĩa vụ tài chính" in listed[waiting.pk]
    assert set(rows(client.get(INBOX, {"scope": "unit"}))) == {
        submitted.pk,
        processing.pk,
        waiting.pk,
    }


def test_monitors_read_every_dossier_of_the_province(client, world):
    first = received(world)
    elsewhere = received(world, personal_id="038090001235")
    Dossier.objects.filter(pk=elsewhere.pk).update(receiving_agency=AgencyFactory())
    client.force_login(world.monitor)
    response = client.get(INBOX)
    assert set(rows(response)) == {first.pk, elsewhere.pk}
    assert 'data-scope="mine"' not in response.content.decode()  # one list, no tabs


def test_search_folds_diacritics_and_matches_codes_and_identifiers(client, world):
    hang = received(world, name="Nguyễn Thị Hằng", personal_id="038090001234")
    duc = received(world, name="Trần Văn Đức", personal_id="038090001235")
    company = world.received(
        applicant=world.applicant(
            kind="organisation", name="Công ty TNHH Đông Sơn", personal_id="", tax_code="0100109106"
        )
    )
    client.force_login(world.specialist)

    def found(q, **extra):
        return set(rows(client.get(INBOX, {"scope": "all", "q": q, **extra})))

    assert found("duc") == {duc.pk}
    assert found("ĐỨC") == {duc.pk}
    assert found("nguyen thi hang") == {hang.pk}
    assert found("thi hang nguyen") == {hang.pk}  # every word, in any order
    assert found("dong son") == {company.pk}
    assert found("038090001235") == {duc.pk}  # personal id, exactly
    assert found("0380 9000 1235") == {duc.pk}
    assert found("03809000123") == set()  # not a prefix search
    assert found("0100109106") == {company.pk}  # tax code
    assert found(hang.code) == {hang.pk}
    assert found(hang.code.lower()) == {hang.pk}
    assert found(hang.code.rsplit("-", 1)[0] + "-") == {hang.pk, duc.pk, company.pk}
    assert found("khong co ai") == set()
    # Words are matched from their start: «hang» is Hằng, not Thắng; «th» is Thị.
    thang = received(world, name="Lê Văn Thắng", personal_id="038090001237")
    assert found("hang") == {hang.pk}
    assert found("thang") == {thang.pk}
    assert found("th hang") == {hang.pk}
    # The owner of a dossier filed by someone else is found by name too.
    owned = world.received(
        applicant=world.applicant(name="Lê Văn Bình", personal_id="038090001239"),
        owner=world.applicant(name="Phạm Thị Lụa", personal_id="038090001238"),
    )
    assert found("lua") == {owned.pk}


def test_filters(client, world):
    counter = received(world, at=vn(2, 9))
    online = received(world, personal_id="038090001235", at=vn(3, 9), channel="online")
    services.request_supplement(online, actor=world.specialist, items=["Tờ khai"], at=vn(3, 10))
    client.force_login(world.specialist)

    def found(**params):
        response = client.get(INBOX, {"scope": "all", **params})
        assert response.status_code == 200
        return set(rows(response))

    assert found() == {counter.pk, online.pk}
    assert found(channel="online") == {online.pk}
    assert found(status=5) == {online.pk}
    assert found(status=4) == set()
    assert found(status=2) == {counter.pk}
    assert found(procedure="1.001193") == {counter.pk, online.pk}
    assert found(procedure="9.999999") == set()
    assert found(received_from="2026-03-03") == {online.pk}
    assert found(received_to="2026-03-02") == {counter.pk}
    assert found(received_from="2026-03-02", received_to="2026-03-02") == {counter.pk}
    # Filters combine with the tabs: the specialist's own list has the processing dossier only.
    assert set(rows(client.get(INBOX, {"channel": "counter"}))) == {counter.pk}
    # A wrong period is said next to the field and filters nothing.
    response = client.get(INBOX, {"received_from": "2026-03-05", "received_to": "2026-03-01"})
    assert "Ngày kết thúc phải từ ngày bắt đầu trở đi." in response.content.decode()


def test_pages(client, world, monkeypatch):
    monkeypatch.setattr(worklist, "PAGE_SIZE", 2)
    made = [received(world, personal_id=f"03809000123{i}") for i in range(5)]
    for i, dossier in enumerate(made):
        step_due(dossier, vn(5 + i, 17))
    client.force_login(world.specialist)
    first = client.get(INBOX)
    assert list(rows(first)) == [made[0].pk, made[1].pk]
    html = first.content.decode()
    assert "Hồ sơ 1–2 trong 5 hồ sơ" in html
    assert "Trang 1/3" in html
    assert 'rel="next"' in html and 'rel="prev"' not in html
    assert list(rows(client.get(INBOX, {"page": 2}))) == [made[2].pk, made[3].pk]
    last = client.get(INBOX, {"page": 3})
    assert list(rows(last)) == [made[4].pk]
    assert 'rel="prev"' in last.content.decode() and 'rel="next"' not in last.content.decode()
    # Past the end: the last page; nonsense: the first.
    assert list(rows(client.get(INBOX, {"page": 99}))) == [made[4].pk]
    assert list(rows(client.get(INBOX, {"page": "x"}))) == [made[0].pk, made[1].pk]
    # The page links keep the filters.
    filtered = client.get(INBOX, {"q": "hang", "channel": "counter"}).content.decode()
    assert "q=hang" in filtered and "channel=counter" in filtered and "page=2" in filtered


def test_an_htmx_filter_request_gets_the_results_only(client, world):
    dossier = received(world)
    client.force_login(world.specialist)
    response = client.get(
        INBOX, {"q": "hang"}, headers={"HX-Request": "true", "HX-Target": "worklist"}
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="worklist"')
    assert dossier.code in html
    assert "<html" not in html


def test_a_page_costs_a_fixed_number_of_queries(client, world, django_assert_max_num_queries):
    for i in range(6):
        dossier = received(world, personal_id=f"03809000123{i}")
        if i % 2:
            services.request_supplement(dossier, actor=SYSTEM, items=["A"], at=vn(2, 10))
    client.force_login(world.specialist)
    client.get(INBOX)  # warm the calendar cache
    for params in ({}, {"scope": "unit"}, {"scope": "all", "q": "hang"}):
        with django_assert_max_num_queries(15):
            assert client.get(INBOX, params).status_code == 200


def test_the_folded_name_follows_the_applicant(world):
    applicant = received(world).applicant
    assert applicant.search_text == "nguyen thi hang"
    # A returning applicant's new name (services.upsert_applicant saves only what changed).
    with transaction.atomic():
        services.upsert_applicant(world.applicant(name="Nguyễn Thị Hằng Nga"))
    applicant.refresh_from_db()
    assert applicant.search_text == "nguyen thi hang nga"


def test_a_name_search_of_all_dossiers_keeps_to_the_agency(client, world):
    """The search narrows the list to keys first; the agency's own rule still applies to them:
    received here, or with a step here, never someone else's."""
    here = received(world)
    other_agency = AgencyFactory()
    elsewhere = received(world, personal_id="038090001235")
    elsewhere.receiving_agency = other_agency
    elsewhere.save(update_fields=["receiving_agency"])
    Step.objects.filter(dossier=elsewhere).update(agency=other_agency)
    stepped = received(world, personal_id="038090001236")  # received elsewhere, a step here
    stepped.receiving_agency = other_agency
    stepped.save(update_fields=["receiving_agency"])
    Step.objects.filter(dossier=stepped, kind=Step.Kind.INTAKE).update(agency=other_agency)
    client.force_login(world.specialist)
    for query in ("hang", "Nguyễn Thị Hằng", "038090001235"):
        listed = rows(client.get(INBOX, {"scope": "all", "q": query}))
        assert elsewhere.pk not in listed, query
    listed = rows(client.get(INBOX, {"scope": "all", "q": "hang"}))
    assert set(listed) == {here.pk, stepped.pk}


@pytest.mark.parametrize("limit", [0, 1000])
def test_a_name_search_finds_the_same_rows_when_too_many_people_match(
    client, world, monkeypatch, limit
):
    """Past ``PEOPLE_LIMIT`` people the search becomes a condition on the applicant and owner
    columns instead of a list of keys: same rows, same agency rule."""
    monkeypatch.setattr(worklist, "PEOPLE_LIMIT", limit)
    filed = received(world)
    owned = received(
        world,
        name="Lê Văn Tám",
        personal_id="038090001240",
        owner=world.applicant(name="Nguyễn Thị Hằng", personal_id="038090001241"),
    )
    other = received(world, name="Trần Văn Ba", personal_id="038090001242")
    elsewhere = received(world, personal_id="038090001243")
    elsewhere.receiving_agency = AgencyFactory()
    elsewhere.save(update_fields=["receiving_agency"])
    Step.objects.filter(dossier=elsewhere).update(agency=elsewhere.receiving_agency)
    client.force_login(world.specialist)
    listed = rows(client.get(INBOX, {"scope": "all", "q": "nguyen hang"}))
    assert set(listed) == {filed.pk, owned.pk}
    assert other.pk not in listed and elsewhere.pk not in listed
