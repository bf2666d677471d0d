"""Server time of the back office's worklist (the inbox) with 100,000 dossiers in the database.

Run from the repository root::

    .venv/bin/python benchmarks/bench_worklist.py                       # SQLite (embedded mode)
    .venv/bin/python benchmarks/bench_worklist.py --pg postgresql://postgres@127.0.0.1:5432
        [--dossiers 100000] [--renders 30] [--explain] [--reuse] [--json out.json]

What it does:

1. a scratch database — a SQLite file in a temporary directory (``--sqlite PATH`` to keep it),
   or on PostgreSQL the database ``--db`` (default ``motcua_bench_worklist``, dropped and
   recreated; never ``test``) on the server ``--pg`` — migrated, with the demo province's
   units, agencies and catalogue;
2. ``--dossiers`` dossiers written directly with ``bulk_create`` (minutes, not hours: the
   services would take an hour for 100,000), spread like a province's year: 40% received at the
   provincial service centre (most processed by a department, liên thông), the rest at the four
   communes and the departments; submitted over the last 180 days, those of the last 45 days
   mostly open (received, processing, waiting for a supplement or a payment, result ready) and the
   older ones mostly closed; each received dossier with its steps (intake, two to four
   processing steps — specialist, sometimes a department, leader, clerk — and the return step),
   the active one assigned or not, its events, its open pause and its result; about 60,000
   applicants with Vietnamese names (folded ``search_text``) and personal ids;
3. officers at the centre (counter officer, specialist — with colleagues — and leader, the
   leader with a TOTP device) and a province-wide monitor, signed in through the real pages;
4. for each case (officer × tab × filters/search) ``--warmup`` unmeasured renders, then
   ``--renders`` renders of ``GET /can-bo/ho-so/?…`` through Django's test client — the whole
   server side: middleware, session, view, queries, template — timed with ``perf_counter``; it
   prints the median and p95 in milliseconds, the median CPU time of this (Django) process per
   render (on SQLite that includes the queries; it does not move when other programs load the
   machine), the number of queries of one render and the rows matching, as a Markdown table
   with the machine and its load average;
5. with ``--explain``, the plan of every query of one render of each case (``EXPLAIN`` on
   PostgreSQL, ``EXPLAIN QUERY PLAN`` on SQLite), flagging full scans of the big tables.

Target (issue 4): every page renders in at most 300 ms of server time.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

TARGET_MS = 300.0
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi"]
FAMILY += ["Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Trịnh", "Mai", "Đinh", "Lương"]
MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Ngọc", "Thanh", "Quang", "Hữu", "Xuân", "Thu", "Đình"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Hằng", "Hùng", "Lan", "Minh", "Nga", "Phúc", "Quân"]
GIVEN += ["Sơn", "Thảo", "Trang", "Tuấn", "Yến", "Đức", "Hạnh", "Hương", "Long", "Mai", "Nam"]
GIVEN += ["Oanh", "Phương", "Quyên", "Tâm", "Thắng", "Thúy", "Vân", "Việt", "Xuyến", "Linh"]

CENTRE = "000.00.01.H56"
PROVINCE = "000.00.00.H56"
COMMUNES = ("000.01.40.H56", "000.02.40.H56", "000.03.40.H56", "000.04.40.H56")
DEPARTMENTS = (
    "000.00.10.H56",
    "000.00.11.H56",
    "000.00.12.H56",
    "000.00.13.H56",
    "000.00.14.H56",
    "000.00.15.H56",
)


# --- arguments and environment ------------------------------------------------------------


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dossiers", type=int, default=100_000)
    p.add_argument("--renders", type=int, default=30, help="measured renders per case")
    p.add_argument("--warmup", type=int, default=3, help="unmeasured renders per case first")
    p.add_argument("--pg", default="", help="PostgreSQL server URL (else SQLite)")
    p.add_argument("--db", default="motcua_bench_worklist", help="scratch PostgreSQL database")
    p.add_argument("--sqlite", default="", help="SQLite file to use (kept; default: temporary)")
    p.add_argument(
        "--reuse", action="store_true", help="keep a database already built with these options"
    )
    p.add_argument("--explain", action="store_true", help="print the plan of every query")
    p.add_argument("--seed", type=int, default=20260302)
    p.add_argument("--json", default="", help="also write the results to this file")
    args = p.parse_args(argv)
    if args.db in {"test", "postgres", "template0", "template1"}:
        p.error(f"refusing to drop database {args.db!r}: use a scratch database")
    return args


def configure(args, tmp: Path) -> str:
    """Point Django at the scratch database; return a description of it."""
    if args.pg:
        url = f"{args.pg.rstrip('/')}/{args.db}"
        if not args.reuse:
            import psycopg

            with psycopg.connect(f"{args.pg.rstrip('/')}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{args.db}"')
    else:
        path = Path(args.sqlite) if args.sqlite else tmp / "bench.sqlite3"
        if path.exists() and not args.reuse:
            path.unlink()
        url = f"sqlite:///{path}"
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "motcua.settings",
            "DATABASE_URL": url,
            "DEBUG": "0",
            "SECRET_KEY": "bench-" + uuid.uuid4().hex * 2,
            "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
            "LOG_LEVEL": "WARNING",
            "MOTCUA_VAR_DIR": str(tmp / "var"),
            "MOTCUA_DEMO": "1",
            "HUEY_IMMEDIATE": "1",
            "STATIC_ROOT": str(tmp / "static"),
        }
    )
    os.environ.pop("REDIS_URL", None)
    (tmp / "var").mkdir(parents=True, exist_ok=True)
    (tmp / "static").mkdir(parents=True, exist_ok=True)
    import django

    django.setup()
    return url.split("@")[-1]


# --- the province's dossiers --------------------------------------------------------------


def vn_time(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    from motcua.core.worktime import VN_TZ

    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=VN_TZ)


def build(args) -> dict:
    """Write the demo catalogue, the officers and ``args.dossiers`` dossiers; return the ids."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from motcua.accounts.models import Membership, Role
    from motcua.agencies.models import Agency
    from motcua.catalog.models import Procedure
    from motcua.core.text import fold
    from motcua.demo.loader import load_demo
    from motcua.dossiers.models import (
        Applicant,
        Dossier,
        DossierEvent,
        Pause,
        Result,
        Status,
        Step,
        Timeliness,
    )

    rng = random.Random(args.seed)
    started = time.perf_counter()
    with open(os.devnull, "w") as devnull:
        call_command("migrate", interactive=False, verbosity=0, stdout=devnull)
    load_demo(accounts=False, dossiers=False)
    agencies = {a.electronic_id: a for a in Agency.objects.all()}

    User = get_user_model()
    users = {}
    officers = [
        ("bench.tiepnhan", "Lê Thị", "Hương", CENTRE, Role.COUNTER_OFFICER),
        ("bench.chuyenvien", "Nguyễn Văn", "Hùng", CENTRE, Role.SPECIALIST),
        ("bench.lanhdao", "Trịnh Đình", "Thắng", CENTRE, Role.LEADER),
        ("bench.giamsat", "Lê Minh", "Đức", PROVINCE, Role.MONITOR),
    ]
    officers += [
        (f"bench.cv{i}", "Phạm Văn", GIVEN[i], eid, Role.SPECIALIST)
        for i, eid in enumerate([CENTRE] * 4 + list(DEPARTMENTS) + list(COMMUNES))
    ]
    for username, first, last, eid, role in officers:
        user = User.objects.create_user(
            username=username, password="bench-pass", first_name=first, last_name=last
        )
        Membership.objects.create(user=user, agency=agencies[eid], role=role)
        users[username] = user
    TOTPDevice.objects.create(user=users["bench.lanhdao"], name="bench", confirmed=True)
    colleagues: dict[str, list] = {}
    for username, _first, _last, eid, role in officers:
        if role == Role.SPECIALIST:
            colleagues.setdefault(eid, []).append(users[username])

    procedures = list(
        Procedure.objects.filter(is_active=True)
        .select_related("current_version")
        .prefetch_related("current_version__variants", "applied_by__agency")
    )
    catalogue = []
    for procedure in procedures:
        variant = next(iter(procedure.current_version.variants.all()), None)
        if variant is None:
            continue
        applied = [link.agency.electronic_id for link in procedure.applied_by.all()]
        catalogue.append((procedure, variant, applied))
    at_centre = [c for c in catalogue if CENTRE in c[2] or not c[2]] or catalogue
    at_commune = [c for c in catalogue if set(COMMUNES) & set(c[2])] or catalogue

    # Applicants: ~60% as many as dossiers; some file several dossiers.
    n_applicants = max(1, int(args.dossiers * 0.6))
    ids: set[str] = set()
    applicants = []
    while len(applicants) < n_applicants:
        personal_id = f"038{rng.randrange(10**9):09d}"
        if personal_id in ids:
            continue
        ids.add(personal_id)
        middle = rng.choice(MIDDLE)
        name = f"{rng.choice(FAMILY)} {middle} {rng.choice(GIVEN)}"
        applicants.append(
            Applicant(
                kind="individual",
                name=name,
                search_text=fold(name),
                personal_id=personal_id,
                phone=f"09{rng.randrange(10**8):08d}",
            )
        )
    Applicant.objects.bulk_create(applicants, batch_size=5000)
    applicant_ids = list(Applicant.objects.values_list("pk", flat=True))

    now = timezone.now()
    weights = [(CENTRE, 40)] + [(c, 12) for c in COMMUNES] + [(d, 2) for d in DEPARTMENTS]
    receiving_pool = [eid for eid, w in weights for _ in range(w)]
    recent = [
        (Status.SUBMITTED, 7),
        (Status.RECEIVED, 8),
        (Status.PROCESSING, 52),
        (Status.AWAITING_SUPPLEMENT, 8),
        (Status.AWAITING_PAYMENT, 3),
        (Status.RESULT_READY, 9),
        (Status.RETURNED, 10),
        (Status.REFUSED, 1),
        (Status.WITHDRAWN, 1),
        (Status.STOPPED, 1),
    ]
    older = [
        (Status.RETURNED, 86),
        (Status.RESULT_READY, 2),
        (Status.PROCESSING, 3),
        (Status.REFUSED, 3),
        (Status.WITHDRAWN, 4),
        (Status.STOPPED, 2),
    ]
    recent_pool = [s for s, w in recent for _ in range(w)]
    older_pool = [s for s, w in older for _ in range(w)]
    sequences: dict[tuple[str, dt.date], int] = {}
    open_statuses = {2, 4, 5, 6}

    created = 0
    batch = 5000
    while created < args.dossiers:
        size = min(batch, args.dossiers - created)
        rows = []
        plans = []
        for _ in range(size):
            age = rng.uniform(0, 180)
            submitted = now - dt.timedelta(days=age, minutes=rng.randrange(600))
            status = rng.choice(recent_pool if age < 45 else older_pool)
            eid = rng.choice(receiving_pool)
            agency = agencies[eid]
            pool = at_commune if eid in COMMUNES else at_centre
            procedure, variant, _applied = rng.choice(pool)
            if eid == CENTRE and rng.random() < 0.7:
                processing_at = agencies[rng.choice(DEPARTMENTS)]
            else:
                processing_at = agency
            received = None
            due = None
            code = None
            if status not in (Status.SUBMITTED, Status.REFUSED):
                received = submitted + dt.timedelta(minutes=rng.randrange(5, 240))
                day = received.date()
                seq = sequences.get((eid, day), 0) + 1
                sequences[(eid, day)] = seq
                code = f"{eid}-{day:%y%m%d}-{seq:04d}"
                span = rng.choice((1, 3, 5, 7, 10, 15, 20))
                due_day = (received + dt.timedelta(days=round(span * 1.4))).date()
                due = vn_time(due_day, 17)
            closed = status in (
                Status.RETURNED,
                Status.REFUSED,
                Status.WITHDRAWN,
                Status.STOPPED,
            )
            finished = None
            if status in (Status.RESULT_READY, Status.RETURNED, Status.STOPPED, Status.WITHDRAWN):
                finished = min(now, (received or submitted) + dt.timedelta(days=rng.uniform(1, 25)))
            timeliness = ""
            if finished is not None and due is not None:
                timeliness = Timeliness.LATE if finished > due else Timeliness.ON_TIME
            dossier = Dossier(
                code=code,
                status=status,
                channel=rng.choice(("counter", "counter", "online", "online", "postal")),
                procedure=procedure,
                version_id=procedure.current_version_id,
                variant=variant,
                receiving_agency=agency,
                deciding_agency=processing_at if processing_at != agency else None,
                applicant_id=rng.choice(applicant_ids),
                summary=procedure.name[:200],
                delivery=rng.choice(("counter", "online", "postal")),
                delivery_address="Số 1 Lê Lợi",
                time_limit_amount=5,
                time_limit_unit="working_days",
                time_limit_text="5 ngày làm việc",
                submitted_at=submitted,
                received_at=received,
                original_due_at=due,
                due_at=due,
                finished_at=finished,
                returned_at=finished if status == Status.RETURNED else None,
                closed_at=finished if closed else None,
                timeliness=timeliness,
            )
            rows.append(dossier)
            plans.append((dossier, processing_at))
        with transaction.atomic():
            Dossier.objects.bulk_create(rows, batch_size=2000)
            steps, events, pauses, results = [], [], [], []
            for dossier, processing_at in plans:
                events.append(
                    DossierEvent(
                        dossier=dossier,
                        at=dossier.submitted_at,
                        actor_label="Cổng DVC",
                        agency=dossier.receiving_agency,
                        action="submit",
                        status_after=1,
                    )
                )
                if dossier.received_at is None:
                    if dossier.status == Status.REFUSED:
                        events.append(
                            DossierEvent(
                                dossier=dossier,
                                at=dossier.submitted_at + dt.timedelta(hours=2),
                                actor_label="Lê Thị Hương",
                                agency=dossier.receiving_agency,
                                action="refuse",
                                status_before=1,
                                status_after=3,
                            )
                        )
                    continue
                events.append(
                    DossierEvent(
                        dossier=dossier,
                        at=dossier.received_at,
                        actor_label="Lê Thị Hương",
                        agency=dossier.receiving_agency,
                        action="receive",
                        status_before=1,
                        status_after=2,
                    )
                )
                plan = [("Thẩm định hồ sơ", Role.SPECIALIST, processing_at)]
                if rng.random() < 0.2:
                    plan.append(
                        (
                            "Cơ quan phối hợp cho ý kiến",
                            Role.SPECIALIST,
                            agencies[rng.choice(DEPARTMENTS)],
                        )
                    )
                plan += [
                    ("Lãnh đạo phê duyệt", Role.LEADER, processing_at),
                    ("Văn thư vào sổ, đóng dấu", Role.CLERK, processing_at),
                ]
                is_open = dossier.status in open_statuses
                active = rng.randrange(len(plan)) if dossier.status != Status.RECEIVED else 0
                span = dossier.due_at - dossier.received_at
                total = len(plan) + 1
                steps.append(
                    Step(
                        dossier=dossier,
                        order=0,
                        kind="intake",
                        name="Tiếp nhận hồ sơ",
                        role=Role.COUNTER_OFFICER,
                        agency=dossier.receiving_agency,
                        share=10,
                        state="done",
                        started_at=dossier.submitted_at,
                        done_at=dossier.received_at,
                        due_at=dossier.received_at,
                    )
                )
                for index, (name, role, where) in enumerate(plan, start=1):
                    if is_open:
                        state = (
                            "done"
                            if index - 1 < active
                            else ("active" if index - 1 == active else "pending")
                        )
                    else:
                        state = "done" if dossier.finished_at else "pending"
                    assignee = None
                    if state == "active" and role == Role.SPECIALIST:
                        roll = rng.random()
                        if roll < 0.6 and colleagues.get(where.electronic_id):
                            assignee = rng.choice(colleagues[where.electronic_id])
                    steps.append(
                        Step(
                            dossier=dossier,
                            order=index,
                            kind="processing",
                            name=name,
                            role=role,
                            agency=where,
                            share=round(90 / len(plan), 2),
                            state=state,
                            assignee=assignee,
                            started_at=dossier.received_at if state != "pending" else None,
                            due_at=dossier.received_at + span * index / total,
                            done_at=dossier.received_at + span * index / (total + 1)
                            if state == "done"
                            else None,
                            timeliness="on_time" if state == "done" else "",
                        )
                    )
                returned = dossier.status == Status.RETURNED
                steps.append(
                    Step(
                        dossier=dossier,
                        order=len(plan) + 1,
                        kind="return",
                        name="Trả kết quả",
                        role=Role.COUNTER_OFFICER,
                        agency=dossier.receiving_agency,
                        share=0,
                        state="done"
                        if returned
                        else ("active" if dossier.status == Status.RESULT_READY else "pending"),
                        due_at=dossier.due_at,
                    )
                )
                if dossier.status in (Status.AWAITING_SUPPLEMENT, Status.AWAITING_PAYMENT):
                    supplement = dossier.status == Status.AWAITING_SUPPLEMENT
                    pauses.append(
                        Pause(
                            dossier=dossier,
                            kind="supplement" if supplement else "payment",
                            stage="processing",
                            items=["Bản sao có chứng thực"] if supplement else [],
                            reason="Thiếu giấy tờ" if supplement else "Lệ phí",
                            amount=None if supplement else 100_000,
                            stops_clock=True,
                            resume_status=Status.PROCESSING,
                            started_at=dossier.received_at + dt.timedelta(days=1),
                        )
                    )
                if dossier.status in (Status.RESULT_READY, Status.RETURNED):
                    results.append(
                        Result(
                            dossier=dossier,
                            kind="granted",
                            number=f"{rng.randrange(1, 999)}/GP",
                            signed_on=dossier.finished_at.date(),
                            signer="Lê Văn Bình",
                            recorded_at=dossier.finished_at,
                            returned_at=dossier.returned_at,
                            return_method="counter" if returned else "",
                            recipient_name="Người nhận" if returned else "",
                        )
                    )
            Step.objects.bulk_create(steps, batch_size=5000)
            DossierEvent.objects.bulk_create(events, batch_size=5000)
            Pause.objects.bulk_create(pauses, batch_size=5000)
            Result.objects.bulk_create(results, batch_size=5000)
        created += size
        print(f"  {created:,} dossiers written ({time.perf_counter() - started:.0f} s)", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"build_seconds": time.perf_counter() - started}


# --- measuring ------------------------------------------------------------------------------


def signed_in(username: str):
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    user = get_user_model().objects.get(username=username)
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user).first()
    if device is not None:
        code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
        response = client.post("/can-bo/xac-thuc/", {"code": code})
        assert response.status_code == 302, response.content[:300]
    return client


def cases(sample: dict) -> list[tuple[str, str, str, dict]]:
    """(officer, list, filters, query) to measure; ``sample`` holds real values to search."""
    return [
        ("counter officer", "mine (desk)", "—", {}),
        ("counter officer", "unit (desk)", "—", {"scope": "unit"}),
        ("counter officer", "all", "name «nguyen van an»", {"scope": "all", "q": "nguyen van an"}),
        ("specialist", "mine", "—", {}),
        ("specialist", "mine", "page 3", {"page": "3"}),
        ("specialist", "unit", "—", {"scope": "unit"}),
        (
            "specialist",
            "unit",
            "status + channel",
            {"scope": "unit", "status": "4", "channel": "online"},
        ),
        ("specialist", "all", "—", {"scope": "all"}),
        ("specialist", "all", "page 40", {"scope": "all", "page": "40"}),
        ("specialist", "all", "name «hằng»", {"scope": "all", "q": "hằng"}),
        ("specialist", "all", "dossier code", {"scope": "all", "q": sample["code"]}),
        ("specialist", "all", "personal id", {"scope": "all", "q": sample["personal_id"]}),
        (
            "specialist",
            "all",
            "procedure + received last 30 days",
            {
                "scope": "all",
                "procedure": sample["procedure"],
                "received_from": sample["month_ago"],
                "received_to": sample["today"],
            },
        ),
        ("leader", "mine", "—", {}),
        ("leader", "unit", "—", {"scope": "unit"}),
        ("leader", "all", "name «tran thi lan»", {"scope": "all", "q": "tran thi lan"}),
        ("monitor", "all (province)", "—", {}),
        (
            "monitor",
            "all (province)",
            "returned, received last 30 days",
            {"status": "10", "received_from": sample["month_ago"], "received_to": sample["today"]},
        ),
        ("monitor", "all (province)", "name «nguyen thi hang»", {"q": "nguyen thi hang"}),
        ("monitor", "all (province)", "code piece «H56-2»", {"q": "H56-2"}),
    ]


USERS = {
    "counter officer": "bench.tiepnhan",
    "specialist": "bench.chuyenvien",
    "leader": "bench.lanhdao",
    "monitor": "bench.giamsat",
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def measure(args) -> list[dict]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from motcua.core.worktime import VN_TZ
    from motcua.dossiers.models import Dossier

    today = timezone.now().astimezone(VN_TZ).date()
    sample_dossier = (
        Dossier.objects.filter(receiving_agency__electronic_id=CENTRE, code__isnull=False)
        .select_related("applicant", "procedure")
        .order_by("-submitted_at")
        .first()
    )
    sample = {
        "code": sample_dossier.code,
        "personal_id": sample_dossier.applicant.personal_id,
        "procedure": sample_dossier.procedure.code,
        "today": today.isoformat(),
        "month_ago": (today - dt.timedelta(days=30)).isoformat(),
    }
    clients = {who: signed_in(username) for who, username in USERS.items()}
    results = []
    for who, tab, label, query in cases(sample):
        client = clients[who]
        for _ in range(args.warmup):
            response = client.get("/can-bo/ho-so/", query)
            assert response.status_code == 200, (who, query, response.status_code)
        times, cpu = [], []
        for _ in range(args.renders):
            c0, t0 = time.process_time(), time.perf_counter()
            response = client.get("/can-bo/ho-so/", query)
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/can-bo/ho-so/", query)
        html = response.content.decode()
        matching = int(re.search(r'data-count="(\d+)"', html).group(1))
        shown = len(re.findall(r'<tr class="row-', html))
        results.append(
            {
                "who": who,
                "list": tab,
                "filter": label,
                "query": query,
                "matching": matching,
                "rows": shown,
                "median_ms": statistics.median(times),
                "p95_ms": percentile(times, 0.95),
                "max_ms": max(times),
                "cpu_ms": statistics.median(cpu),
                "queries": len(captured.captured_queries),
                "sql": [q["sql"] for q in captured.captured_queries],
            }
        )
        print(f"  {who:16} {tab:16} {label:36} {statistics.median(times):7.1f} ms", flush=True)
    # The dossier page of an open dossier at the centre, for the specialist who handles it.
    open_one = (
        Dossier.objects.filter(status=4, steps__agency__electronic_id=CENTRE)
        .order_by("-submitted_at")
        .first()
    )
    if open_one is not None:
        client = clients["specialist"]
        url = f"/can-bo/ho-so/{open_one.pk}/"
        for _ in range(args.warmup):
            client.get(url)
        times, cpu = [], []
        for _ in range(args.renders):
            c0, t0 = time.process_time(), time.perf_counter()
            assert client.get(url).status_code == 200
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        results.append(
            {
                "who": "specialist",
                "list": "dossier page",
                "filter": "one open dossier",
                "query": {},
                "matching": 1,
                "rows": 1,
                "median_ms": statistics.median(times),
                "p95_ms": percentile(times, 0.95),
                "max_ms": max(times),
                "cpu_ms": statistics.median(cpu),
                "queries": len(captured.captured_queries),
                "sql": [q["sql"] for q in captured.captured_queries],
            }
        )
    return results


BIG_TABLES = ("dossiers_dossier", "dossiers_step", "dossiers_applicant", "dossiers_dossierevent")


def explain(results: list[dict]) -> None:
    from django.db import connection

    vendor = connection.vendor
    print("\n## Query plans\n")
    for row in results:
        print(f"### {row['who']} — {row['list']} — {row['filter']}\n")
        for sql in row["sql"]:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            if not any(table in sql for table in BIG_TABLES):
                continue
            with connection.cursor() as cursor:
                if vendor == "postgresql":
                    cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) " + sql)
                    plan = [r[0] for r in cursor.fetchall()]
                else:
                    cursor.execute("EXPLAIN QUERY PLAN " + sql)
                    plan = [r[-1] for r in cursor.fetchall()]
            full = [
                line
                for line in plan
                if any(
                    f"Seq Scan on {t}" in line or line.strip() == f"SCAN {t}" for t in BIG_TABLES
                )
            ]
            flag = "  ← FULL SCAN" if full else ""
            print(f"```sql\n{sql[:400]}{'…' if len(sql) > 400 else ''}\n```{flag}")
            print("```\n" + "\n".join(plan) + "\n```\n")


# --- the report -----------------------------------------------------------------------------


def machine(db: str) -> str:
    from django import get_version
    from django.db import connection

    cpu = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            engine = f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
        else:
            cursor.execute("select sqlite_version()")
            engine = f"SQLite {cursor.fetchone()[0]}"
    return (
        f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.machine()}, "
        f"CPython {platform.python_version()}, Django {get_version()}, {engine} ({db})"
    )


def matching(row: dict) -> str:
    """The rows matching; the "all" lists count to 1,000 only (``worklist.COUNT_LIMIT``)."""
    if row["list"].startswith("all") and row["matching"] > 1000:
        return "> 1,000"
    return f"{row['matching']:,}"


def report(args, results: list[dict], built: dict, where: str, load: tuple) -> None:
    from motcua.dossiers.models import Dossier, Step

    print()
    print(
        f"{Dossier.objects.count():,} dossiers, {Step.objects.count():,} steps"
        + (f", built in {built['build_seconds']:.0f} s" if built else " (reused)")
    )
    print(f"Machine: {machine(where)}")
    print(
        f"{args.renders} measured renders per case after {args.warmup} warm-up renders; "
        f"load average before/after: {load[0]} / {os.getloadavg()[0]:.2f}.\n"
    )
    print(
        "| officer | list | filter / search | matching | median ms | p95 ms | CPU ms (Django) "
        "| queries |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for r in results:
        slow = " ⚠" if r["p95_ms"] > TARGET_MS else ""
        print(
            f"| {r['who']} | {r['list']} | {r['filter']} | {matching(r)} | "
            f"{r['median_ms']:.1f} | {r['p95_ms']:.1f}{slow} | {r['cpu_ms']:.1f} | "
            f"{r['queries']} |"
        )
    worst = max(r["p95_ms"] for r in results)
    verdict = "met" if worst <= TARGET_MS else "NOT met"
    print(f"\nTarget ≤ {TARGET_MS:.0f} ms per page: {verdict} (worst p95 {worst:.1f} ms).")


def main(argv=None) -> None:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="motcua-bench-worklist-") as tmp:
        where = configure(args, Path(tmp))
        from motcua.dossiers.models import Dossier

        built = {}
        if args.reuse and Dossier.objects.count() >= args.dossiers:
            print(f"Reusing the database at {where}.")
        else:
            print(f"Writing {args.dossiers:,} dossiers to {where} …", flush=True)
            built = build(args)
        print("Measuring …", flush=True)
        load = (f"{os.getloadavg()[0]:.2f}",)
        results = measure(args)
        report(args, results, built, where, load)
        if args.explain:
            explain(results)
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
