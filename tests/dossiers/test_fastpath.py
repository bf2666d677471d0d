"""The intake's one-statement write on PostgreSQL (``dossiers.fastpath``) against the ORM path.

The same submissions go through both paths; every stored row (but ids, uuids and the clock's
own timestamps) and the answer built from what ``submit`` wrote must be the same.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import DataError, connection, connections, transaction
from django.db.models.signals import post_save
from django.test import Client
from django.test.utils import CaptureQueriesContext

from motcua.accounts.models import ApiToken
from motcua.agencies.models import Counter
from motcua.dossiers import api, fastpath, outbox, services
from motcua.dossiers.models import (
    Applicant,
    Dossier,
    DossierEvent,
    OutboxMessage,
    SubmittedComponent,
)
from motcua.dossiers.services import SYSTEM, ApplicantInput, ComponentInput

from .world import MONDAY_9, PERSONAL_ID, PHONE, build_world

postgresql_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="the one-statement intake is for PostgreSQL"
)

OTHER_ID = "038090001235"
THIRD_ID = "038190004321"
TAX_CODE = "0101243150"
CLOCK = {"created_at", "updated_at", "available_at"}  # set by the clock at write time


class _Rollback(Exception):
    pass


def _snapshot() -> dict[str, list[dict]]:
    """Every row the intake writes, with references to rows of this run made stable."""
    applicants = {a.pk: a.personal_id or f"tax:{a.tax_code}" for a in Applicant.objects.all()}
    pks = Dossier.objects.order_by("pk").values_list("pk", flat=True)
    dossiers = {pk: i for i, pk in enumerate(pks)}
    events = {e.pk: (dossiers[e.dossier_id], e.action) for e in DossierEvent.objects.all()}
    refs = {
        "applicant_id": applicants,
        "owner_id": applicants,
        "dossier_id": dossiers,
        "event_id": events,
    }
    out = {}
    for model in (Applicant, Dossier, SubmittedComponent, DossierEvent, OutboxMessage):
        rows = []
        for row in model.objects.order_by("pk").values():
            for name in ("id", "uuid", *CLOCK):
                row.pop(name, None)
            for name, mapping in refs.items():
                if row.get(name) is not None:
                    row[name] = mapping[row[name]]
            rows.append(row)
        out[model.__name__] = rows
    return out


def _answer(dossier: Dossier) -> dict:
    body = api._new_detail(dossier)
    body.pop("uuid")
    for component in body["components"]:
        component.pop("id")
    return body


def _steps(world) -> list[tuple[dict, object, str | None]]:
    """(submission overrides, actor, idempotency key): new, returning, unchanged, owners, …"""
    counter, _ = Counter.objects.get_or_create(agency=world.centre, number=3, name="Quầy 3")
    extra = ComponentInput(name="Giấy xác nhận", copies=2, outside_reason="  Bổ sung  ")
    organisation = ApplicantInput(
        kind="organisation",
        name="Công ty TNHH  Hòa Bình",
        tax_code=TAX_CODE,
        phone="+84 912 000 111",
        province_code=world.province_code,
    )
    returning = world.applicant(
        name="Nguyễn Thị Hằng Nga", phone="0987654321", email="", address_line=""
    )
    return [
        ({"components": [*world.components(), extra], "channel": "online"}, world.outsider, "k1"),
        ({"applicant": returning}, world.counter, "k2"),
        ({"applicant": returning, "summary": "  Lần ba  "}, world.counter, None),
        (
            {
                "applicant": organisation,
                "components": [],
                "channel": "counter",
                "counter_id": counter.pk,
                "deciding_agency_id": world.department.pk,
                "delivery": "postal",
                "delivery_address": " 12 Lê Lợi ",
                "sets": 2,
                "authorisation": "Giấy ủy quyền số 7",
            },
            world.counter,
            "k4",
        ),
        (
            {
                "applicant": world.applicant(personal_id=OTHER_ID, name="Lê Văn An", email=""),
                "owner": ApplicantInput(
                    kind="organisation",
                    name="Công ty TNHH Hòa Bình",
                    tax_code=TAX_CODE,
                    email="hoabinh@example.invalid",
                ),
            },
            world.counter,
            "k5",
        ),
        (
            {"applicant": returning, "owner": returning},
            world.counter,
            "k6",
        ),  # the owner is the applicant
        (
            {
                "applicant": ApplicantInput(name="Trần  Bình", personal_id=THIRD_ID),
                "channel": "postal",
                "delivery": "counter",
            },
            SYSTEM,
            None,
        ),
        ({"applicant": world.applicant(phone="0900000000")}, world.counter, "k1"),  # a retry
        ({"procedure_code": "9.999999"}, world.counter, "k2"),  # a retry, checks now fail
    ]


def _updated() -> dict[str, object]:
    return {
        a.personal_id or f"tax:{a.tax_code}": a.updated_at
        for a in Applicant.objects.only("personal_id", "tax_code", "updated_at")
    }


def _run(world, monkeypatch, *, fast: bool, prepared: bool = False) -> tuple:
    """Submit every step through one path; return the rows, the answers, which applicants
    each step changed (their ``updated_at``) and how many statements the connection holds
    prepared; leave the database as it was."""
    monkeypatch.setattr(fastpath, "applies", lambda using="default": fast)
    monkeypatch.setattr(fastpath, "prepares", lambda connection: prepared)
    steps = _steps(world)
    result = None
    try:
        with transaction.atomic():
            answers, touched, first = [], [], {}
            for overrides, actor, key in steps:
                before = _updated()
                dossier, created = services.submit(
                    world.submission(**overrides),
                    actor=actor,
                    idempotency_key=key,
                    at=MONDAY_9,
                )
                after = _updated()
                touched.append(sorted(k for k in after if before.get(k) != after[k]))
                if created:
                    first[key] = dossier.uuid
                    answers.append((True, _answer(dossier)))
                else:
                    answers.append((False, dossier.uuid == first[key]))
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'WITH p AS%%'"
                )
                prepared_statements = cursor.fetchone()[0]
            result = (_snapshot(), answers, touched, prepared_statements)
            raise _Rollback
    except _Rollback:
        pass
    monkeypatch.undo()
    return result


@postgresql_only
@pytest.mark.django_db
def test_both_paths_write_the_same_rows_and_answer_the_same(world, monkeypatch):
    assert fastpath.applies()
    orm_rows, orm_answers, orm_touched, _ = _run(world, monkeypatch, fast=False)
    for prepared in (False, True):
        fast_rows, fast_answers, fast_touched, statements = _run(
            world, monkeypatch, fast=True, prepared=prepared
        )
        for table in orm_rows:
            assert fast_rows[table] == orm_rows[table], (table, prepared)
        assert fast_answers == orm_answers
        assert fast_touched == orm_touched
        # One statement per shape: an individual, an organisation, an owner, no key.
        assert statements == (4 if prepared else 0)
    # What the comparison covered: a returning applicant refreshed but not erased, an
    # unchanged one left alone, an owner, the retries answered with the first dossier.
    applicant = next(r for r in orm_rows["Applicant"] if r["personal_id"] == PERSONAL_ID)
    assert (applicant["name"], applicant["phone"]) == ("Nguyễn Thị Hằng Nga", "0987654321")
    assert applicant["email"] == "hang@example.invalid" and applicant["address_line"]
    assert applicant["search_text"] == "nguyen thi hang nga"
    assert orm_touched[2] == [] and PERSONAL_ID in orm_touched[1]
    assert len(orm_rows["Dossier"]) == 7
    assert [r["owner_id"] for r in orm_rows["Dossier"]][4:6] == [f"tax:{TAX_CODE}", None]
    organisation = next(r for r in orm_rows["Applicant"] if r["tax_code"] == TAX_CODE)
    assert organisation["email"] == "hoabinh@example.invalid"
    assert organisation["phone"] and organisation["province_id"]
    assert [r["topic"] for r in orm_rows["OutboxMessage"][:2]] == [
        "notify.submit",
        "monitor.submit",
    ]
    assert orm_answers[-2:] == [(False, True), (False, True)]


@postgresql_only
@pytest.mark.django_db
def test_a_retry_writes_nothing_not_even_the_applicant(world):
    first, created = services.submit(world.submission(), actor=world.counter, idempotency_key="r")
    stored = Applicant.objects.values().get()
    with CaptureQueriesContext(connection) as queries:
        again, created_again = services.submit(
            world.submission(applicant=world.applicant(phone="0900000000")),
            actor=world.counter,
            idempotency_key="r",
        )
    assert (created, created_again, again.pk) == (True, False, first.pk)
    assert Applicant.objects.values().get() == stored
    assert Dossier.objects.count() == 1 and DossierEvent.objects.count() == 1
    assert not any(q["sql"].startswith("UPDATE") for q in queries.captured_queries)


@postgresql_only
@pytest.mark.django_db
def test_an_over_long_value_is_refused_not_cut(world):
    with pytest.raises(DataError):
        services.submit(world.submission(authorisation="x" * 501), actor=world.counter)
    assert not Dossier.objects.exists() and not Applicant.objects.exists()


@postgresql_only
@pytest.mark.django_db
def test_a_model_signal_receiver_turns_the_fast_path_off(world):
    seen = []

    def receiver(sender, instance, created, **kwargs):
        seen.append(instance.pk)

    post_save.connect(receiver, sender=Dossier, dispatch_uid="test-fastpath-receiver")
    try:
        assert not fastpath.applies()
        dossier, _ = services.submit(world.submission(), actor=world.counter)
    finally:
        post_save.disconnect(dispatch_uid="test-fastpath-receiver", sender=Dossier)
    assert seen == [dossier.pk]
    assert fastpath.applies()


@pytest.mark.django_db
def test_only_postgresql_takes_the_fast_path():
    assert fastpath.applies() == (connection.vendor == "postgresql")


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_one_statement_is_the_whole_intake(monkeypatch):
    monkeypatch.setattr(outbox, "HANDLERS", {})  # no delivery run in process after the commit
    world = build_world()
    services.submit(world.submission(), actor=world.counter)  # warms the reference caches
    sent = []

    def receiver(sender, dossier_id, event_id, action, **kwargs):
        sent.append((dossier_id, event_id, action, connection.in_atomic_block))

    data = world.submission(applicant=world.applicant(personal_id=OTHER_ID), channel="online")
    services.dossier_changed.connect(receiver, dispatch_uid="test-fastpath-changed")
    try:
        with CaptureQueriesContext(connection) as queries:
            dossier, created = services.submit(data, actor=world.outsider, idempotency_key="one")
    finally:
        services.dossier_changed.disconnect(dispatch_uid="test-fastpath-changed")
    assert created
    assert [q["sql"][:4] for q in queries.captured_queries] == ["WITH"]
    event = DossierEvent.objects.get(dossier=dossier)
    assert sent == [(dossier.pk, event.pk, "submit", False)]
    assert OutboxMessage.objects.filter(event=event).count() == 2
    assert SubmittedComponent.objects.filter(dossier=dossier).count() == 2


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_lost_idempotency_race_answers_with_the_winner_and_keeps_nothing():
    world = build_world()
    services.submit(world.submission(applicant=world.applicant(personal_id=OTHER_ID)), actor=SYSTEM)
    outcome: dict = {}

    def loser():
        try:
            outcome["result"] = services.submit(
                world.submission(applicant=world.applicant(phone="0922222222")),
                actor=world.counter,
                idempotency_key="race",
            )
        except BaseException as exc:  # reported below
            outcome["error"] = exc
        finally:
            connections.close_all()

    with transaction.atomic():
        winner, _ = services.submit(
            world.submission(applicant=world.applicant(phone="0911111111")),
            actor=world.counter,
            idempotency_key="race",
        )
        thread = threading.Thread(target=loser)
        thread.start()
        # The loser's statement waits for this transaction's uncommitted rows (pg_locks is
        # live; pg_stat_activity would show this transaction's first snapshot again).
        deadline = time.monotonic() + 20
        with connection.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute(
                    "SELECT count(*) FROM pg_locks WHERE NOT granted "
                    "AND pg_backend_pid() = ANY(pg_blocking_pids(pid))"
                )
                if cursor.fetchone()[0]:
                    break
                time.sleep(0.05)
            else:
                pytest.fail(f"the second submission never waited for the first: {outcome}")
    thread.join(timeout=30)
    assert "error" not in outcome, outcome.get("error")
    dossier, created = outcome["result"]
    assert (dossier.pk, created) == (winner.pk, False)
    assert Dossier.objects.filter(idempotency_key="race").count() == 1
    assert Applicant.objects.get(personal_id=PERSONAL_ID).phone == "0911111111"


@postgresql_only
@pytest.mark.django_db
def test_the_api_answers_the_same_both_ways(world, monkeypatch):
    user = world.outsider.__class__.objects.create_user("dvcqg", password=None)
    _token, raw = ApiToken.issue(name="Cổng", user=user, scopes=["dossiers:submit"])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    body = {
        "procedure_code": world.procedure.code,
        "receiving_agency": world.centre.electronic_id,
        "applicant": {"name": "Nguyễn Thị Hằng", "personal_id": PERSONAL_ID, "phone": "0912345678"},
        "components": [
            {"component_id": c.component_id, "originals": 1} for c in world.components()
        ],
    }
    answers = []
    for fast in (False, True):
        monkeypatch.setattr(fastpath, "applies", lambda using="default", fast=fast: fast)
        try:
            with transaction.atomic():
                response = client.post("/api/v1/dossiers", body, content_type="application/json")
                answers.append((response.status_code, response.json()))
                raise _Rollback
        except _Rollback:
            pass
    for _status, answer in answers:
        answer.pop("uuid"), answer.pop("submitted_at"), answer["events"][0].pop("at")
        for component in answer["components"]:
            component.pop("id")
    assert answers[0] == answers[1]
    assert answers[0][0] == 201 and answers[0][1]["applicant"]["phone"] == PHONE
