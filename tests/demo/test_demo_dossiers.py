"""The demo dossiers: every status, realistic stories, valid data, loaded once.

``load_demo`` runs once for the module inside a transaction that is rolled back at the end
(each test runs in a savepoint of it), so the 200 dossiers cost one load, not one per test.
"""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.db.models import F
from django.test import override_settings
from django.utils import timezone

from motcua.accounts.models import Membership, Role
from motcua.agencies.calendar import calendar_for
from motcua.core import codes
from motcua.core.worktime import VN_TZ
from motcua.demo import loader
from motcua.demo.dossiers import KEY_PREFIX
from motcua.dossiers.models import (
    Applicant,
    Dossier,
    DossierEvent,
    Extension,
    Pause,
    Status,
    Step,
    Timeliness,
)

CODE = re.compile(r"^(?P<agency>\d{3}\.\d{2}\.\d{2}\.H56)-(?P<day>\d{6})-(?P<seq>\d{4})$")


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    """Run ``manage.py load_demo`` once; yield its output and the time it started."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            started = timezone.now()
            out = StringIO()
            hashers = ["django.contrib.auth.hashers.MD5PasswordHasher"]
            with override_settings(PASSWORD_HASHERS=hashers):
                call_command("load_demo", stdout=out)
            yield {"output": out.getvalue(), "started": started}
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def demo(loaded, db):
    return Dossier.objects.filter(idempotency_key__startswith=KEY_PREFIX)


def test_load_reports_no_failure_and_prints_the_officers(loaded, demo):
    text = loaded["output"]
    assert "Hồ sơ mẫu lỗi" not in text
    assert "Hồ sơ mẫu: 200 hồ sơ mới" in text
    for officer in loader.DEMO_OFFICERS:
        assert f"{officer.username} / {loader.DEMO_PASSWORD}" in text


def test_every_status_is_present_with_most_dossiers_finished(demo):
    assert demo.count() >= 180
    statuses = {status: demo.filter(status=status).count() for status in Status.values}
    assert all(statuses.values()), statuses
    finished = statuses[Status.RETURNED] + statuses[Status.RESULT_READY]
    assert finished > demo.count() / 2
    assert statuses[Status.RETURNED] == max(statuses.values())


def test_stories_cover_late_supplement_extension_and_apology(demo):
    assert demo.filter(timeliness=Timeliness.LATE).exists()
    assert demo.filter(late_without_apology=True).exists()
    # Late but apologised in time: an extension approved before the appointment.
    assert demo.filter(timeliness=Timeliness.LATE, late_without_apology=False).exists()
    resumed = Pause.objects.filter(
        dossier__in=demo,
        kind=Pause.Kind.SUPPLEMENT,
        stage=Pause.Stage.PROCESSING,
        ended_at__isnull=False,
    )
    assert resumed.exists()
    approved = Extension.objects.filter(
        dossier__in=demo, state=Extension.State.APPROVED, after_due=False
    )
    assert approved.exists()
    for extension in approved:
        assert extension.decided_at <= extension.previous_due_at
    assert Step.objects.filter(dossier__in=demo, state=Step.State.SENT_BACK).exists()
    assert demo.filter(status=Status.REFUSED, code__isnull=True).exists()


def test_some_dossiers_are_handled_at_another_agency(demo):
    elsewhere = Step.objects.filter(dossier__in=demo).exclude(
        agency_id=F("dossier__receiving_agency_id")
    )
    assert elsewhere.exists()
    assert demo.filter(deciding_agency__isnull=False).exists()
    assert demo.values("receiving_agency").distinct().count() >= 3
    assert demo.values("procedure").distinct().count() >= 20
    assert set(demo.values_list("channel", flat=True)) == {"counter", "online", "postal"}


def test_last_event_gives_the_status_and_times_increase_within_working_hours(loaded, demo):
    started = loaded["started"]
    for dossier in demo.select_related("receiving_agency").prefetch_related("events"):
        events = sorted(dossier.events.all(), key=lambda e: (e.at, e.pk))
        assert events[0].action == "submit"
        assert events[-1].status_after == dossier.status, dossier
        calendar = calendar_for(dossier.receiving_agency)
        times = [event.at for event in events]
        assert times == sorted(times) and len(set(times)) == len(times), dossier
        for moment in times:
            assert moment <= started, dossier
            assert calendar.next_working_moment(moment) == moment, (dossier, moment)


def test_no_event_is_in_the_future(loaded, demo):
    assert not DossierEvent.objects.filter(dossier__in=demo, at__gt=loaded["started"]).exists()
    assert not demo.filter(submitted_at__gt=loaded["started"]).exists()


def test_codes_are_unique_and_well_formed(demo):
    rows = list(demo.exclude(code=None).select_related("receiving_agency"))
    assert len({d.code for d in rows}) == len(rows) == demo.exclude(received_at=None).count()
    for dossier in rows:
        match = CODE.match(dossier.code)
        assert match, dossier.code
        assert match["agency"] == dossier.receiving_agency.electronic_id
        received = timezone.localtime(dossier.received_at, VN_TZ)
        assert match["day"] == f"{received:%y%m%d}"
        codes.parse_dossier_code(dossier.code)


def test_applicants_have_valid_ids_phones_and_addresses(demo):
    applicants = Applicant.objects.filter(submitted_dossiers__in=demo).distinct()
    assert applicants.count() >= 150
    for applicant in applicants:
        assert applicant.name == " ".join(applicant.name.split())
        if applicant.kind == Applicant.Kind.INDIVIDUAL:
            assert codes.validate_personal_id(applicant.personal_id) == applicant.personal_id
            assert applicant.personal_id.startswith("038")
        else:
            assert codes.validate_tax_code(applicant.tax_code) == applicant.tax_code
        assert codes.normalize_phone(applicant.phone) == applicant.phone
        assert applicant.province.code == "38" and applicant.commune.parent_id
        assert applicant.address_line


def test_demo_officers_have_memberships_and_did_the_work(demo):
    User = get_user_model()
    for officer in loader.DEMO_OFFICERS:
        user = User.objects.get(username=officer.username)
        assert user.check_password(loader.DEMO_PASSWORD)
        assert not user.is_staff
        assert user.get_full_name() == f"{officer.first_name} {officer.last_name}"
        assert Membership.objects.filter(
            user=user, agency__electronic_id=officer.agency_id, role=officer.role
        ).exists()
    assert Membership.objects.filter(
        role=Role.MONITOR, agency__electronic_id=loader.PROVINCE_ID
    ).exists()
    events = DossierEvent.objects.filter(dossier__in=demo)
    by_officers = events.filter(actor__username__in=[o.username for o in loader.DEMO_OFFICERS])
    assert by_officers.count() > events.count() / 2
    for action in ("receive", "assign", "complete_step", "record_result", "return_result"):
        assert by_officers.filter(action=action).exists(), action


def test_loading_again_creates_nothing(demo):
    def counts():
        return (
            Dossier.objects.count(),
            DossierEvent.objects.count(),
            Applicant.objects.count(),
            get_user_model().objects.count(),
            Membership.objects.count(),
        )

    before = counts()
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert counts() == before
    assert "Hồ sơ mẫu: đã có" in out.getvalue()


def test_existing_officer_password_is_not_reset(demo):
    user = get_user_model().objects.get(username="xa.tiepnhan")
    user.set_password("changed-1")
    user.save()
    loader.load_demo()
    user.refresh_from_db()
    assert user.check_password("changed-1")


def test_demo_history_never_goes_out(demo):
    from motcua.dossiers.models import OutboxMessage

    assert OutboxMessage.objects.exists()
    assert not OutboxMessage.objects.filter(delivered_at__isnull=True).exists()


def test_monitoring_rollups_are_filled_from_the_demo(demo):
    from django.db.models import Sum

    from motcua.monitoring.models import DailyRollup

    assert DailyRollup.objects.exists()
    assert DailyRollup.objects.aggregate(n=Sum("received"))["n"] > 0
