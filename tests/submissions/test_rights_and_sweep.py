"""The applicant capability in the dossier write path, and the hourly sweep."""

from __future__ import annotations

import datetime as dt
import os
import time

import pytest
from django.db import transaction
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from motcua.dossiers import lifecycle
from motcua.dossiers import services as dossier_services
from motcua.dossiers.lifecycle import APPLICANT, Action
from motcua.dossiers.models import Applicant, Status
from motcua.dossiers.services import ApplicantInput, ComponentInput, SubmissionInput
from motcua.submissions import partial, services
from motcua.submissions.models import Draft, Upload
from motcua.submissions.tasks import sweep_drafts_and_uploads

from .world import PERSONAL_ID, pdf, sha256

pytestmark = pytest.mark.django_db


def online_dossier(portal, *, applicant_user=None):
    """A dossier whose applicant record belongs to ``applicant_user`` (submitted by the desk)."""
    components = [
        ComponentInput(component_id=c.pk, originals=1)
        for c in portal.variant.components.filter(required=True)
    ]
    dossier, _ = dossier_services.submit(
        SubmissionInput(
            procedure_code=portal.procedure.code,
            receiving_agency_id=portal.centre.pk,
            applicant=ApplicantInput(name="Nguyễn Thị Hằng", personal_id=PERSONAL_ID),
            components=components,
        ),
        actor=portal.counter,
    )
    if applicant_user is not None:
        Applicant.objects.filter(pk=dossier.applicant_id).update(user=applicant_user)
    return dossier


def test_the_table_gives_the_applicant_supplement_and_withdrawal_only():
    for (action, _status), tr in lifecycle.TABLE.items():
        assert (APPLICANT in tr.roles) == (
            action in (Action.PROVIDE_SUPPLEMENT, Action.WITHDRAW)
        ), action


def test_the_applicants_account_may_supplement_and_withdraw_and_nothing_else(portal):
    dossier = online_dossier(portal, applicant_user=portal.citizen)
    dossier_services.receive(dossier, actor=portal.counter)
    # Everything an officer does is refused to the citizen.
    refused = {
        "request_supplement": lambda: dossier_services.request_supplement(
            dossier, actor=portal.citizen, items=["A"]
        ),
        "complete_step": lambda: dossier_services.complete_step(dossier, actor=portal.citizen),
        "stop": lambda: dossier_services.stop(dossier, actor=portal.citizen, reason="x"),
        "request_payment": lambda: dossier_services.request_payment(
            dossier, actor=portal.citizen, amount=1000, reason="x"
        ),
    }
    for name, call in refused.items():
        with transaction.atomic(), pytest.raises(dossier_services.PermissionDenied):
            call()
        assert name
    dossier_services.request_supplement(dossier, actor=portal.specialist, items=["Bản sao"])
    dossier_services.provide_supplement(dossier, actor=portal.citizen)
    dossier.refresh_from_db()
    assert dossier.status == Status.PROCESSING
    dossier_services.withdraw(dossier, actor=portal.citizen, reason="Không cần nữa")
    dossier.refresh_from_db()
    assert dossier.status == Status.WITHDRAWN


@pytest.mark.parametrize("who", ["other", "nobody"])
def test_another_account_or_an_unlinked_applicant_cannot_act(portal, who):
    dossier = online_dossier(portal, applicant_user=portal.citizen if who == "other" else None)
    actor = portal.other if who == "other" else portal.citizen
    with pytest.raises(dossier_services.PermissionDenied):
        dossier_services.withdraw(dossier, actor=actor)
    dossier.refresh_from_db()
    assert dossier.status == Status.SUBMITTED


def test_a_deactivated_citizen_account_has_no_right(portal):
    dossier = online_dossier(portal, applicant_user=portal.citizen)
    portal.citizen.is_active = False
    portal.citizen.save()
    with pytest.raises(dossier_services.PermissionDenied):
        dossier_services.withdraw(dossier, actor=portal.citizen)


def _upload(portal, draft, size=3000):
    content = pdf(size)
    return services.create_upload(
        portal.citizen,
        {
            "filename": "a.pdf",
            "draft": str(draft.uuid),
            "slot": portal.slots()[0],
            "sha256": sha256(content),
        },
        len(content),
    )


def test_the_sweep_expires_drafts_and_deletes_their_files(
    portal, django_capture_on_commit_callbacks
):
    old = portal.draft()
    fresh = portal.draft()
    stale_upload = _upload(portal, old)
    live_upload = _upload(portal, fresh)
    Draft.objects.filter(pk=old.pk).update(expires_at=timezone.now() - dt.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        counts = services.sweep()
    assert counts["drafts_expired"] == 1 and counts["uploads_deleted"] == 1
    old.refresh_from_db()
    assert old.state == Draft.State.EXPIRED
    assert partial.size(stale_upload.storage_path) == -1
    assert not Upload.objects.filter(pk=stale_upload.pk).exists()
    assert partial.size(live_upload.storage_path) == 0
    assert Upload.objects.filter(pk=live_upload.pk).exists()


def test_the_sweep_deletes_abandoned_uploads_and_orphan_files(
    portal, django_capture_on_commit_callbacks
):
    draft = portal.draft()
    abandoned = _upload(portal, draft)
    Upload.objects.filter(pk=abandoned.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    partial.create("0" * 32 + ".part")
    past = time.time() - 7200
    os.utime(partial.path("0" * 32 + ".part"), (past, past))
    partial.create("1" * 32 + ".part")  # too recent: may belong to an upload being created
    with django_capture_on_commit_callbacks(execute=True):
        counts = services.sweep()
    assert counts["uploads_deleted"] == 1 and counts["orphans"] == 1
    assert partial.size(abandoned.storage_path) == -1
    assert partial.size("0" * 32 + ".part") == -1
    assert partial.size("1" * 32 + ".part") == 0
    draft.refresh_from_db()
    assert draft.state == Draft.State.EDITING


def test_the_sweep_forgets_old_finished_drafts(portal):
    draft = portal.draft()
    Draft.objects.filter(pk=draft.pk).update(
        state=Draft.State.EXPIRED, expires_at=timezone.now() - dt.timedelta(days=40)
    )
    assert services.sweep()["drafts_deleted"] == 1
    assert not Draft.objects.exists()


def test_the_sweep_is_an_hourly_periodic_task(portal):
    assert sweep_drafts_and_uploads.task_class in HUEY._registry._periodic_tasks
    task = sweep_drafts_and_uploads.s()
    hours = [dt.datetime(2026, 3, 2, hour, minute) for hour in range(24) for minute in range(60)]
    assert [(m.hour, m.minute) for m in hours if task.validate_datetime(m)] == [
        (hour, 23) for hour in range(24)
    ]
    assert sweep_drafts_and_uploads.call_local() == {
        "drafts_expired": 0,
        "uploads_deleted": 0,
        "drafts_deleted": 0,
        "orphans": 0,
    }
