"""The return desk (/can-bo/tra-ket-qua/): results ready at the agency, search, hand-over."""

from __future__ import annotations

import re

import pytest

from motcua.accounts.models import Role
from motcua.backoffice import actions
from motcua.dossiers import services
from motcua.dossiers.models import DossierEvent, Result, Status
from motcua.dossiers.services import SYSTEM, ResultInput
from tests.agencies.factories import AgencyFactory
from tests.dossiers.actions import snapshot
from tests.dossiers.world import build_world, vn

from .conftest import make_officer

pytestmark = pytest.mark.django_db

DESK = "/can-bo/tra-ket-qua/"


@pytest.fixture
def world(db):
    return build_world()


def with_result(world, *, name="Nguyễn Thị Hằng", personal_id="038090001234", **kw):
    dossier = world.received(applicant=world.applicant(name=name, personal_id=personal_id), **kw)
    for _ in range(3):
        services.complete_step(dossier, actor=SYSTEM, at=vn(3, 9))
    result = ResultInput(number="15/GP-STP", signed_on=vn(3, 9).date(), signer="Lê Văn Bình")
    services.record_result(dossier, actor=SYSTEM, result=result, at=vn(3, 10))
    dossier.refresh_from_db()
    return dossier


def listed(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr data-dossier="(\d+)">', response.content.decode())]


def test_the_desk_lists_results_ready_at_its_agency(client, world):
    ready = with_result(world)
    processing = world.received(applicant=world.applicant(personal_id="038090001235"))
    elsewhere = with_result(world, personal_id="038090001236")
    elsewhere.receiving_agency = AgencyFactory()
    elsewhere.save(update_fields=["receiving_agency"])
    client.force_login(world.counter)
    response = client.get(DESK)
    assert listed(response) == [ready.pk]
    html = response.content.decode()
    assert ready.code in html and "15/GP-STP" in html
    assert "1 hồ sơ có kết quả chờ trả." in html
    assert f"/can-bo/tra-ket-qua/{ready.pk}/" in html
    assert processing.code not in html


def test_search_by_code_folded_name_and_identifier(client, world):
    hang = with_result(world)
    duc = with_result(world, name="Trần Văn Đức", personal_id="038090001235")
    client.force_login(world.counter)
    assert listed(client.get(DESK, {"q": "duc"})) == [duc.pk]
    assert listed(client.get(DESK, {"q": "Nguyễn thị HẰNG"})) == [hang.pk]
    assert listed(client.get(DESK, {"q": hang.code})) == [hang.pk]
    assert listed(client.get(DESK, {"q": "038090001235"})) == [duc.pk]
    response = client.get(DESK, {"q": "khong ai"})
    assert "Không có hồ sơ nào khớp với tìm kiếm." in response.content.decode()


def test_returning_a_result_records_who_received_it_and_confirms(client, world):
    dossier = with_result(world)
    client.force_login(world.counter)
    page = client.get(f"{DESK}{dossier.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Thông tin trả kết quả" in html and "Nguyễn Thị Hằng" in html
    version = actions.last_event_id(dossier.pk)
    before = DossierEvent.objects.filter(dossier=dossier).count()
    response = client.post(
        f"{DESK}{dossier.pk}/",
        {
            "return_result-version": version,
            "return_result-method": "counter",
            "return_result-recipient_name": "Lê Văn Tám",
            "return_result-relation": "authorised",
            "return_result-recipient_id": "038090009999",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"{DESK}?da-tra={dossier.pk}"
    dossier.refresh_from_db()
    assert dossier.status == Status.RETURNED
    result = Result.objects.get(dossier=dossier)
    assert result.recipient_name == "Lê Văn Tám (Người được ủy quyền)"
    assert (result.return_method, result.recipient_id) == ("counter", "038090009999")
    assert result.returned_by == world.counter
    assert DossierEvent.objects.filter(dossier=dossier).count() == before + 1
    confirmation = client.get(response["Location"]).content.decode()
    assert f"Đã trả kết quả hồ sơ {dossier.code}" in confirmation
    assert "Lê Văn Tám (Người được ủy quyền)" in confirmation
    assert listed(client.get(DESK)) == []  # no longer waiting


def test_the_hand_over_form_checks_its_fields_and_the_version(client, world):
    dossier = with_result(world, delivery="postal", delivery_address="Số 1 Lê Lợi")
    client.force_login(world.counter)
    version = actions.last_event_id(dossier.pk)
    before = snapshot(dossier)
    url = f"{DESK}{dossier.pk}/"
    response = client.post(
        url,
        {
            "return_result-version": version,
            "return_result-method": "postal",
            "return_result-relation": "self",
        },
    )
    assert response.status_code == 400
    assert "Cần ghi mã vận đơn bưu chính." in response.content.decode()
    response = client.post(
        url,
        {
            "return_result-version": version,
            "return_result-method": "counter",
            "return_result-recipient_name": " ",
            "return_result-relation": "self",
        },
    )
    assert "Cần ghi tên người nhận kết quả." in response.content.decode()
    assert snapshot(dossier) == before
    # Returned by someone else meanwhile: refused, said, nothing written by this form.
    services.return_result(dossier, actor=world.counter, method="counter", recipient_name="X")
    after_other = snapshot(dossier)
    response = client.post(
        url,
        {
            "return_result-version": version,
            "return_result-method": "postal",
            "return_result-waybill": "EA123456789VN",
            "return_result-relation": "self",
        },
    )
    assert response.status_code == 409
    assert "Hồ sơ đã được người khác cập nhật" in response.content.decode()
    assert snapshot(dossier) == after_other


def test_clerks_see_the_list_but_only_counter_officers_return(client, world):
    dossier = with_result(world)
    client.force_login(world.clerk)
    response = client.get(DESK)
    assert listed(response) == [dossier.pk]
    assert f"/can-bo/tra-ket-qua/{dossier.pk}/" not in response.content.decode()
    page = client.get(f"{DESK}{dossier.pk}/").content.decode()
    assert "Chỉ cán bộ một cửa của cơ quan tiếp nhận hồ sơ được trả kết quả." in page
    assert "return_result-method" not in page
    # A dossier of another agency is not found at all.
    stranger = make_officer("tn.khac", AgencyFactory(), Role.COUNTER_OFFICER)
    client.force_login(stranger)
    assert client.get(f"{DESK}{dossier.pk}/").status_code == 404
