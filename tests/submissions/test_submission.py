"""Online submission with the Django test client: start, e-form, drafts, submit (all or
nothing), my dossiers, the detail page, supplement online, withdrawal, the e-result."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from motcua.catalog.models import ProcedureVersion
from motcua.dossiers import services as dossier_services
from motcua.dossiers.models import (
    Applicant,
    ComponentFile,
    Dossier,
    DossierEvent,
    Status,
    SubmittedComponent,
)
from motcua.dossiers.services import SYSTEM, ResultInput
from motcua.submissions import partial, services
from motcua.submissions.models import Draft, Upload

from .world import OTHER_PERSONAL_ID, PERSONAL_ID, pdf, png, upload_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def citizen(client, portal):
    client.force_login(portal.citizen)
    return client


def edit_url(draft: Draft) -> str:
    return reverse("portal:submission:edit", args=[draft.uuid])


def ready_draft(client, portal, **files) -> Draft:
    """A draft with both required papers uploaded and verified."""
    draft = portal.draft()
    first, second = portal.slots()[:2]
    upload_file(client, draft, first, "to-khai.pdf", files.get("first", pdf(3000, seed=b"1")))
    upload_file(client, draft, second, "ban-sao.png", files.get("second", png(2500)))
    return draft


def submit(client, portal, draft: Draft, **overrides):
    return client.post(edit_url(draft), portal.applicant_post(action="submit", **overrides))


def media_files(root: Path, folder: str) -> list[Path]:
    base = root / folder
    return [p for p in base.rglob("*") if p.is_file()] if base.exists() else []


# --- start and the e-form -------------------------------------------------------------------


def test_the_procedure_page_offers_online_submission(client, portal):
    page = client.get(reverse("portal:procedure", args=[portal.procedure.code]))
    start = reverse("portal:submission:start", args=[portal.procedure.code])
    assert f'href="{start}"' in page.content.decode()
    ProcedureVersion.objects.update(online_mode="none")
    page = client.get(reverse("portal:procedure", args=[portal.procedure.code]))
    assert f'href="{start}"' not in page.content.decode()


def test_start_opens_a_draft_prefilled_from_the_account(citizen, portal):
    url = reverse("portal:submission:start", args=[portal.procedure.code])
    page = citizen.get(url)
    assert page.status_code == 200
    assert not Draft.objects.exists()  # looking creates nothing
    response = citizen.post(
        url, {"variant": portal.variant.pk, "agency": portal.centre.pk}, follow=True
    )
    draft = Draft.objects.get()
    assert response.redirect_chain[-1][0] == edit_url(draft)
    assert draft.owner == portal.citizen and draft.receiving_agency == portal.centre
    html = response.content.decode()
    assert 'value="Nguyễn Thị Hằng"' in html
    assert 'value="congdan@example.invalid"' in html
    for component in portal.components():
        assert component.name in html
    assert "25.000 đồng" in html


def test_prefill_prefers_the_applicant_record_of_the_account(citizen, portal):
    Applicant.objects.create(
        kind="individual",
        name="Nguyễn Thị Hằng",
        personal_id=PERSONAL_ID,
        phone="0912345678",
        user=portal.citizen,
    )
    url = reverse("portal:submission:start", args=[portal.procedure.code])
    response = citizen.post(
        url, {"variant": portal.variant.pk, "agency": portal.centre.pk}, follow=True
    )
    html = response.content.decode()
    assert f'value="{PERSONAL_ID}"' in html and 'value="0912345678"' in html


def test_a_procedure_not_offered_online_cannot_be_started(citizen, portal):
    ProcedureVersion.objects.update(online_mode="none")
    url = reverse("portal:submission:start", args=[portal.procedure.code])
    response = citizen.post(url, {"variant": portal.variant.pk, "agency": portal.centre.pk})
    assert response.status_code == 409
    assert "chưa được cung cấp trực tuyến" in response.content.decode()
    assert not Draft.objects.exists()


def test_an_unknown_procedure_is_404(citizen):
    assert citizen.get("/nop-ho-so/9.999999/").status_code == 404


def test_the_draft_keeps_what_was_typed_without_javascript(citizen, portal):
    draft = portal.draft()
    post = portal.applicant_post(action="save", **{"applicant-phone": "0987 654 321"})
    response = citizen.post(edit_url(draft), post, follow=True)
    assert response.status_code == 200
    assert "Đã lưu bản nháp" in response.content.decode()
    draft.refresh_from_db()
    assert draft.data["applicant"]["phone"] == "0987 654 321"
    assert draft.delivery == "online"
    assert 'value="0987 654 321"' in citizen.get(edit_url(draft)).content.decode()


def test_communes_follow_the_province(client, portal):
    response = client.get(reverse("portal:submission:communes"), {"applicant-province": "38"})
    assert "Hạc Thành" in response.content.decode()
    response = client.get(reverse("portal:submission:communes"), {"applicant-province": "01"})
    assert "Hạc Thành" not in response.content.decode()


# --- submission -----------------------------------------------------------------------------


def test_submitting_makes_a_dossier_with_every_file(
    citizen, portal, media, django_capture_on_commit_callbacks
):
    one, two = pdf(3000, seed=b"1"), png(2500)
    draft = ready_draft(citizen, portal, first=one, second=two)
    names = [u.storage_path for u in Upload.objects.all()]
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(citizen, portal, draft)
    dossier = Dossier.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:submission:dossier", args=[dossier.uuid])
    assert dossier.status == Status.SUBMITTED
    assert dossier.channel == "online" and dossier.delivery == "online"
    assert dossier.created_by == portal.citizen
    assert dossier.applicant.user == portal.citizen
    assert dossier.code is None
    files = ComponentFile.objects.filter(component__dossier=dossier).order_by("id")
    assert [(f.original_name, f.content_type) for f in files] == [
        ("to-khai.pdf", "application/pdf"),
        ("ban-sao.png", "image/png"),
    ]
    assert [f.sha256 for f in files] == [
        hashlib.sha256(one).hexdigest(),
        hashlib.sha256(two).hexdigest(),
    ]
    assert files[0].file.read() == one
    assert set(Upload.objects.values_list("state", flat=True)) == {Upload.State.ATTACHED}
    assert all(partial.size(name) == -1 for name in names)
    draft.refresh_from_db()
    assert draft.state == Draft.State.SUBMITTED and draft.dossier == dossier
    # At once: the reference, and the page says the code comes on receipt.
    page = citizen.get(response["Location"])
    html = page.content.decode()
    assert str(dossier.uuid) in html and "sẽ được cấp khi cơ quan tiếp nhận" in html
    # Submitting again (a double click, a retried request) gives the same dossier.
    again = submit(citizen, portal, draft)
    assert again.status_code == 302 and Dossier.objects.count() == 1


def test_required_papers_must_be_uploaded(citizen, portal):
    draft = portal.draft()
    upload_file(citizen, draft, portal.slots()[0], "to-khai.pdf", pdf(2000))
    response = submit(citizen, portal, draft)
    assert response.status_code == 400
    assert "Chưa tải lên giấy tờ bắt buộc: Bản sao giấy tờ chứng minh." in (
        response.content.decode()
    )
    assert not Dossier.objects.exists()


def test_invalid_applicant_data_is_shown_next_to_the_field(citizen, portal):
    draft = ready_draft(citizen, portal)
    response = submit(citizen, portal, draft, **{"applicant-personal_id": "12345"})
    assert response.status_code == 400
    assert response.context["applicant_form"].errors["personal_id"]
    html = response.content.decode()
    assert 'id="id_applicant-personal_id_error"' in html
    assert 'aria-describedby="id_applicant-personal_id_help id_applicant-personal_id_error"' in html
    assert 'aria-invalid="true"' in html
    assert not Dossier.objects.exists()
    response = submit(citizen, portal, draft, delivery="postal")
    assert "cần địa chỉ nhận" in response.content.decode()
    assert not Dossier.objects.exists()


def test_a_file_still_uploading_blocks_the_submission(citizen, portal):
    draft = ready_draft(citizen, portal)
    services.create_upload(
        portal.citizen,
        {
            "filename": "uy-quyen.pdf",
            "draft": str(draft.uuid),
            "slot": portal.slots()[2],
            "sha256": "0" * 64,
        },
        5000,
    )
    response = submit(citizen, portal, draft)
    assert response.status_code == 400
    assert "Còn tệp chưa tải lên xong: uy-quyen.pdf" in response.content.decode()
    assert not Dossier.objects.exists()


def test_a_half_way_upload_is_listed_and_can_be_removed(
    citizen, portal, django_capture_on_commit_callbacks
):
    draft = ready_draft(citizen, portal)
    stale = services.create_upload(
        portal.citizen,
        {
            "filename": "bo-do.pdf",
            "draft": str(draft.uuid),
            "slot": portal.slots()[2],
            "sha256": "0" * 64,
        },
        5000,
    )
    html = citizen.get(edit_url(draft)).content.decode()
    assert "bo-do.pdf" in html and "đang tải dở, 0%" in html
    assert f'name="remove" value="{stale.uuid}"' in html
    with django_capture_on_commit_callbacks(execute=True):
        citizen.post(edit_url(draft), portal.applicant_post(action="save", remove=str(stale.uuid)))
    assert submit(citizen, portal, draft).status_code == 302
    assert Dossier.objects.count() == 1


def test_a_damaged_stored_file_leaves_nothing_half_stored(citizen, portal, media):
    draft = ready_draft(citizen, portal)
    second = Upload.objects.order_by("id").last()
    with open(partial.path(second.storage_path), "r+b") as handle:
        handle.seek(100)
        handle.write(b"XX")
    response = submit(citizen, portal, draft)
    assert response.status_code == 400
    assert "không còn nguyên vẹn" in response.content.decode()
    assert not Dossier.objects.exists()
    assert not ComponentFile.objects.exists()
    assert media_files(media, "dossiers") == []  # the first file's copy was removed too
    draft.refresh_from_db()
    assert draft.state == Draft.State.EDITING
    assert Upload.objects.filter(state=Upload.State.VERIFIED).count() == 2


def test_a_personal_id_of_another_account_is_refused(citizen, portal):
    Applicant.objects.create(
        kind="individual", name="Người khác", personal_id=OTHER_PERSONAL_ID, user=portal.other
    )
    draft = ready_draft(citizen, portal)
    response = submit(citizen, portal, draft, **{"applicant-personal_id": OTHER_PERSONAL_ID})
    assert response.status_code == 400
    assert "đã gắn với một tài khoản khác" in response.content.decode()
    assert not Dossier.objects.exists()


def test_a_known_unlinked_applicant_is_not_claimed_by_typing_the_number(citizen, portal):
    """Someone who knows a neighbour's personal id must not see the neighbour's dossiers."""
    earlier, _ = dossier_services.submit(
        dossier_services.SubmissionInput(
            procedure_code=portal.procedure.code,
            receiving_agency_id=portal.centre.pk,
            applicant=dossier_services.ApplicantInput(
                name="Nguyễn Thị Hằng", personal_id=PERSONAL_ID
            ),
            components=[
                dossier_services.ComponentInput(component_id=c.pk, originals=1)
                for c in portal.components()[:2]
            ],
        ),
        actor=portal.counter,
    )
    draft = ready_draft(citizen, portal)
    assert submit(citizen, portal, draft).status_code == 302
    online = Dossier.objects.get(channel="online")
    assert online.applicant_id == earlier.applicant_id
    assert Applicant.objects.get(pk=earlier.applicant_id).user is None
    listed = citizen.get(reverse("portal:submission:my_dossiers")).content.decode()
    assert str(online.uuid) in listed and str(earlier.uuid) not in listed
    url = reverse("portal:submission:dossier", args=[earlier.uuid])
    assert citizen.get(url).status_code == 404
    # The online dossier is still the citizen's to act on.
    dossier_services.withdraw(online, actor=portal.citizen)
    with pytest.raises(dossier_services.PermissionDenied):
        dossier_services.withdraw(earlier, actor=portal.citizen)


def test_an_expired_draft_says_so_and_keeps_nothing(citizen, portal):
    draft = ready_draft(citizen, portal)
    Draft.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    page = citizen.get(edit_url(draft))
    assert page.status_code == 410
    assert "Bản nháp đã hết hạn" in page.content.decode()
    response = submit(citizen, portal, draft)
    assert response.status_code == 410
    assert not Dossier.objects.exists()


def test_removing_a_file_from_the_draft(citizen, portal, django_capture_on_commit_callbacks):
    draft = ready_draft(citizen, portal)
    upload = Upload.objects.order_by("id").first()
    with django_capture_on_commit_callbacks(execute=True):
        response = citizen.post(
            edit_url(draft), portal.applicant_post(action="save", remove=str(upload.uuid))
        )
    assert response.status_code == 302
    assert not Upload.objects.filter(pk=upload.pk).exists()
    assert partial.size(upload.storage_path) == -1


def test_anonymous_visitors_are_sent_to_the_sign_in_page(client, portal):
    for url in (
        reverse("portal:submission:my_dossiers"),
        reverse("portal:submission:start", args=[portal.procedure.code]),
        reverse("portal:submission:edit", args=[portal.draft().uuid]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("portal:account:sign_in"))


def test_someone_elses_draft_is_not_found(client, portal):
    draft = portal.draft()
    client.force_login(portal.other)
    assert client.get(edit_url(draft)).status_code == 404
    response = client.post(edit_url(draft), portal.applicant_post(action="submit"))
    assert response.status_code == 404
    assert client.post(reverse("portal:submission:discard", args=[draft.uuid])).status_code == 404


# --- my dossiers ----------------------------------------------------------------------------


def submitted(client, portal) -> Dossier:
    draft = ready_draft(client, portal)
    assert submit(client, portal, draft).status_code == 302
    return Dossier.objects.get()


def test_my_dossiers_lists_only_mine(citizen, portal, client):
    dossier = submitted(citizen, portal)
    page = citizen.get(reverse("portal:submission:my_dossiers"))
    assert str(dossier.uuid) in page.content.decode()
    from django.test import Client

    other = Client()
    other.force_login(portal.other)
    page = other.get(reverse("portal:submission:my_dossiers"))
    assert str(dossier.uuid) not in page.content.decode()


@pytest.mark.parametrize("name", ["dossier", "supplement", "withdraw", "result_file"])
def test_someone_elses_dossier_is_not_found(citizen, portal, name):
    dossier = submitted(citizen, portal)
    from django.test import Client

    other = Client()
    other.force_login(portal.other)
    url = reverse(f"portal:submission:{name}", args=[dossier.uuid])
    assert other.get(url).status_code == 404
    assert other.post(url, {"confirm": "on"}).status_code in (404, 405)
    dossier.refresh_from_db()
    assert dossier.status == Status.SUBMITTED


def test_the_detail_follows_the_dossier_in_plain_words(citizen, portal):
    dossier = submitted(citizen, portal)
    dossier_services.receive(dossier, actor=portal.counter)
    dossier.refresh_from_db()
    url = reverse("portal:submission:dossier", args=[dossier.uuid])
    html = citizen.get(url).content.decode()
    assert dossier.code in html
    assert "Bạn đã nộp hồ sơ trực tuyến." in html
    assert "đã tiếp nhận hồ sơ và hẹn trả kết quả lúc" in html
    due = timezone.localtime(dossier.due_at).strftime("%H:%M %d/%m/%Y")
    assert due in html
    assert "Bạn không cần làm gì thêm lúc này" in html
    assert "25.000 đồng" in html


def test_a_supplement_answered_online(citizen, portal, django_capture_on_commit_callbacks):
    dossier = submitted(citizen, portal)
    dossier_services.receive(dossier, actor=portal.counter)
    pause = dossier_services.request_supplement(
        dossier,
        actor=portal.specialist,
        items=["Bản sao giấy tờ chứng minh", "Giấy xác nhận cư trú"],
        reason="Bản sao bị mờ",
    )
    url = reverse("portal:submission:dossier", args=[dossier.uuid])
    html = citizen.get(url).content.decode()
    assert "Giấy xác nhận cư trú" in html and "Nộp bổ sung trực tuyến" in html

    page = citizen.get(reverse("portal:submission:supplement", args=[dossier.uuid]))
    assert page.status_code == 200
    draft = Draft.objects.get(kind=Draft.Kind.SUPPLEMENT)
    assert draft.pause == pause
    # Nothing chosen yet: a clear message, nothing changes.
    empty = citizen.post(reverse("portal:submission:supplement", args=[dossier.uuid]), {})
    assert empty.status_code == 400
    assert "Vui lòng tải lên giấy tờ bổ sung" in empty.content.decode()

    one, two = pdf(2200, seed=b"s0"), pdf(2100, seed=b"s1")
    upload_file(citizen, draft, "s0", "ban-sao-moi.pdf", one)
    upload_file(citizen, draft, "s1", "xac-nhan.pdf", two)
    with django_capture_on_commit_callbacks(execute=True):
        response = citizen.post(
            reverse("portal:submission:supplement", args=[dossier.uuid]),
            {"note": "Đã chụp lại rõ hơn"},
        )
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.status == Status.PROCESSING
    event = DossierEvent.objects.filter(dossier=dossier, action="provide_supplement").get()
    assert event.actor == portal.citizen and event.note == "Đã chụp lại rõ hơn"
    supplied = SubmittedComponent.objects.filter(dossier=dossier, pause=pause).order_by("order")
    assert [(c.name, c.in_list, c.component_id is not None) for c in supplied] == [
        ("Bản sao giấy tờ chứng minh", True, True),
        ("Giấy xác nhận cư trú", False, False),
    ]
    assert [f.sha256 for c in supplied for f in c.files.all()] == [
        hashlib.sha256(one).hexdigest(),
        hashlib.sha256(two).hexdigest(),
    ]
    attached = DossierEvent.objects.filter(dossier=dossier, action="attach_file", at=event.at)
    assert attached.count() == 2 and {e.actor for e in attached} == {portal.citizen}
    # The request is answered: the page no longer asks.
    page = citizen.get(reverse("portal:submission:supplement", args=[dossier.uuid]))
    assert page.status_code == 302


def test_supplement_files_cannot_be_added_later_by_the_applicant(citizen, portal):
    dossier = submitted(citizen, portal)
    dossier_services.receive(dossier, actor=portal.counter)
    first = SubmittedComponent.objects.filter(dossier=dossier).first()
    with pytest.raises(dossier_services.PermissionDenied):
        dossier_services.attach_file(
            dossier,
            actor=portal.citizen,
            submitted_component_id=first.pk,
            name="them.pdf",
            content_type="application/pdf",
            content=pdf(100),
        )


def test_withdrawal_by_the_citizen(citizen, portal):
    dossier = submitted(citizen, portal)
    dossier_services.receive(dossier, actor=portal.counter)
    url = reverse("portal:submission:withdraw", args=[dossier.uuid])
    assert citizen.get(url).status_code == 200
    refused = citizen.post(url, {"reason": "Nộp nhầm"})
    assert refused.status_code == 400
    assert "Vui lòng xác nhận" in refused.content.decode()
    dossier.refresh_from_db()
    assert dossier.status == Status.RECEIVED
    response = citizen.post(url, {"reason": "Nộp nhầm", "confirm": "on"})
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.status == Status.WITHDRAWN
    event = dossier.events.latest("id")
    assert (event.action, event.actor, event.note) == ("withdraw", portal.citizen, "Nộp nhầm")
    html = citizen.get(reverse("portal:submission:dossier", args=[dossier.uuid])).content.decode()
    assert "Hồ sơ đã được rút theo đề nghị của người nộp." in html


def _to_result(portal, dossier, content: bytes | None):
    dossier_services.receive(dossier, actor=portal.counter)
    dossier_services.complete_step(dossier, actor=SYSTEM)
    today = timezone.localdate()
    return dossier_services.record_result(
        dossier,
        actor=SYSTEM,
        result=ResultInput(
            number="12/GP",
            signed_on=today,
            signer="Lê Văn Bình",
            file_name="giay-phep.pdf" if content else "",
            file_content=content,
        ),
    )


def test_the_e_result_is_downloaded_by_the_applicant_only(citizen, portal):
    dossier = submitted(citizen, portal)
    url = reverse("portal:submission:result_file", args=[dossier.uuid])
    assert citizen.get(url).status_code == 404  # no result yet
    content = pdf(5000, seed=b"ket-qua")
    _to_result(portal, dossier, content)
    page = citizen.get(reverse("portal:submission:dossier", args=[dossier.uuid]))
    assert "Tải kết quả điện tử" in page.content.decode()
    response = citizen.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    dossier.refresh_from_db()
    assert response["Content-Disposition"] == f'attachment; filename="ket-qua-{dossier.code}.pdf"'
    assert "no-store" in response["Cache-Control"]
    from django.test import Client

    other = Client()
    other.force_login(portal.counter)  # not even the desk officer: this page is the citizen's
    assert other.get(url).status_code in (302, 404)


def test_a_returned_dossier_links_to_the_rating(citizen, portal):
    dossier = submitted(citizen, portal)
    _to_result(portal, dossier, pdf(1000))
    dossier_services.return_result(dossier, actor=portal.counter, method="online")
    html = citizen.get(reverse("portal:submission:dossier", args=[dossier.uuid])).content.decode()
    assert "Đã trả kết quả trực tuyến." in html
    assert reverse("portal:account:rate", args=[Dossier.objects.get().code]) in html
