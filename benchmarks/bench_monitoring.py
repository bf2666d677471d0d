"""Server time of the Decision 766 scorecard and the rollup summaries over a year of rollups.

Run from the repository root::

    .venv/bin/python benchmarks/bench_monitoring.py                   # SQLite (embedded mode)
    .venv/bin/python benchmarks/bench_monitoring.py --pg postgresql://postgres@127.0.0.1:5432
        [--days 365] [--rows-per-day 3000] [--repeat 5]

What it does:

1. a scratch database — a SQLite file in a temporary directory, or on PostgreSQL the database
   ``--db`` (default ``motcua_bench_monitoring``, dropped and recreated; never ``test``) —
   migrated, with one province, ``--communes`` communes, a service centre, 20 departments and a
   people's committee per commune, 300 procedures (100 applied per agency kind);
2. ``DailyRollup`` rows written directly: ``--rows-per-day`` (agency, procedure, channel)
   combinations a day over ``--days`` days ending yesterday (3,000 a day is what a province of
   about 10 million dossiers in three years produces; procedures drawn with Zipf weights), with
   plausible counters; the ``MonthlyRollup`` rows computed from them (``refresh_months``, as a
   rebuild does); and the end-of-month in-progress snapshots (``OpenSnapshot``);
3. for each case, one unmeasured run then ``--repeat`` runs of the read function the API calls
   (``scorecard.compute``, ``queries.rollup_summary``), timed with ``perf_counter``; it prints
   the median and the worst in milliseconds and the number of queries of one run.

Target (issue 6): a scorecard of the province for a year in under one second.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))


def _setup(args) -> None:
    if args.pg:
        import psycopg

        if args.db in ("test", "postgres"):
            sys.exit("refusing to use that database")
        with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{args.db}"')
        os.environ["DATABASE_URL"] = f"{args.pg}/{args.db}"
    else:
        folder = Path(tempfile.mkdtemp(prefix="motcua-bench-monitoring-"))
        os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
        os.environ["MOTCUA_VAR_DIR"] = str(folder)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "motcua.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _load(args) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from motcua.agencies.models import AdministrativeUnit, Agency
    from motcua.catalog.models import Procedure, ProcedureAgency
    from motcua.monitoring.facts import vn_day
    from motcua.monitoring.models import DailyRollup, OpenSnapshot, SnapshotDay

    rng = random.Random(args.seed)
    started = time.perf_counter()
    province = AdministrativeUnit.objects.create(
        code="38", level="province", name="Thanh Hóa", full_name="Tỉnh Thanh Hóa"
    )
    communes = AdministrativeUnit.objects.bulk_create(
        AdministrativeUnit(
            code=f"{16000 + n}",
            level="commune",
            name=f"Xã {n}",
            full_name=f"Xã Thử Nghiệm {n}",
            parent=province,
        )
        for n in range(args.communes)
    )
    agencies = [
        Agency(
            electronic_id="000.00.01.H56", name="Trung tâm PVHCC", level="province", unit=province
        )
    ]
    agencies += [
        Agency(
            electronic_id=f"000.00.{10 + n}.H56", name=f"Sở {n}", level="province", unit=province
        )
        for n in range(20)
    ]
    agencies += [
        Agency(
            electronic_id=f"{100 + n // 100:03d}.{n % 100:02d}.40.H56",
            name=f"UBND xã {n}",
            level="commune",
            unit=unit,
        )
        for n, unit in enumerate(communes)
    ]
    agencies = Agency.objects.bulk_create(agencies)
    procedures = Procedure.objects.bulk_create(
        Procedure(code=f"1.{n:06d}", name=f"Thủ tục {n}") for n in range(300)
    )
    ProcedureAgency.objects.bulk_create(
        ProcedureAgency(procedure=p, agency=a)
        for a in agencies
        for p in rng.sample(procedures, 100 if a.level == "province" else 40)
    )
    # Weights: the centre receives most, communes a little each; a few procedures make most
    # of the dossiers (Zipf), as in a real province.
    weights = [30.0] + [3.0] * 20 + [1.0] * args.communes
    procedure_weights = [1 / (rank + 1) for rank in range(len(procedures))]
    yesterday = vn_day(dt.datetime.now(dt.UTC)) - dt.timedelta(days=1)
    first = yesterday - dt.timedelta(days=args.days - 1)
    channels = ["counter"] * 6 + ["online"] * 3 + ["postal"]
    rows = 0
    month_ends = set()
    day = first
    while day <= yesterday:
        keys = set()
        while len(keys) < args.rows_per_day:
            agency = rng.choices(agencies, weights)[0]
            procedure = rng.choices(procedures, procedure_weights)[0]
            keys.add((agency.pk, procedure.pk, rng.choice(channels)))
        batch = []
        for agency_id, procedure_id, channel in keys:
            received = rng.randint(1, 12)
            finished = rng.randint(0, received)
            late = rng.randint(0, finished // 3)
            batch.append(
                DailyRollup(
                    day=day,
                    agency_id=agency_id,
                    procedure_id=procedure_id,
                    channel=channel,
                    submitted=received + rng.randint(0, 1),
                    received=received,
                    finished_early=finished - late,
                    finished_late=late,
                    results=finished,
                    eresults=rng.randint(0, finished),
                    returned=rng.randint(0, finished),
                    supplement_requests=rng.randint(0, 1),
                    with_fee=rng.randint(0, received),
                    received_full_online=received if channel == "online" else 0,
                    digitised=rng.randint(0, received),
                    digitised_complete=rng.randint(0, received),
                    result_seconds=finished * rng.randint(1, 15) * 86400,
                )
            )
        with transaction.atomic():
            DailyRollup.objects.bulk_create(batch, batch_size=2000)
        rows += len(batch)
        if (day + dt.timedelta(days=1)).day == 1 or day == yesterday:
            month_ends.add(day)
            snaps = [
                OpenSnapshot(
                    day=day,
                    agency_id=a,
                    procedure_id=p,
                    channel=c,
                    open_in_time=rng.randint(0, 20),
                    open_late=rng.randint(0, 3),
                )
                for a, p, c in keys
            ]
            OpenSnapshot.objects.bulk_create(snaps, batch_size=2000)
            SnapshotDay.objects.create(day=day)
        day += dt.timedelta(days=1)
    # The month rows, as the outbox handler keeps them and the rebuild writes them.
    from motcua.monitoring.rollups import refresh_months

    month_rows = refresh_months(first, yesterday)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    user = get_user_model().objects.create_superuser("bench", "b@example.invalid", "x")
    return {
        "rows": rows,
        "month_rows": month_rows,
        "seconds": time.perf_counter() - started,
        "user": user,
        "province": province,
        "centre": agencies[0],
        "commune": communes[0],
        "yesterday": yesterday,
    }


def _time(fn, repeat: int) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        fn()
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs), max(runs), len(ctx.captured_queries)


def _explain(fn) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        fn()
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN ANALYZE "
    for query in ctx.captured_queries:
        print(f"-- {query['time']} s: {query['sql'][:300]}")
        with connection.cursor() as cursor:
            cursor.execute(prefix + query["sql"])
            for row in cursor.fetchall():
                print("   ", row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", help="PostgreSQL server URL (without database)")
    parser.add_argument("--db", default="motcua_bench_monitoring")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--rows-per-day", type=int, default=3000)
    parser.add_argument("--communes", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=766)
    parser.add_argument(
        "--explain", action="store_true", help="time and plan each query of the province year"
    )
    args = parser.parse_args()
    _setup(args)

    from django.db import connection

    from motcua.monitoring import queries, scorecard
    from motcua.monitoring.scorecard import Period

    data = _load(args)
    end = data["yesterday"]
    year = Period.between(end - dt.timedelta(days=364), end)
    month = Period.month(end.year, end.month)
    if month.end > end:
        previous = month.start - dt.timedelta(days=1)
        month = Period.month(previous.year, previous.month)
    quarter_start = (month.start.month - 1) // 3 * 3 + 1
    quarter = Period.quarter(month.start.year, (quarter_start - 1) // 3 + 1)
    if quarter.end > end:
        quarter = Period.between(quarter.start, month.end)
    user = data["user"]
    province = queries.resolve_area(user, "province", data["province"].pk)
    centre = queries.resolve_area(user, "agency", data["centre"].pk)
    commune = queries.resolve_area(user, "commune", data["commune"].pk)
    cases = [
        ("scorecard, province, month", lambda: scorecard.compute(province, month)),
        ("scorecard, province, quarter", lambda: scorecard.compute(province, quarter)),
        ("scorecard, province, 365 days", lambda: scorecard.compute(province, year)),
        ("scorecard, service centre, 365 days", lambda: scorecard.compute(centre, year)),
        ("scorecard, one commune, 365 days", lambda: scorecard.compute(commune, year)),
        (
            "summary by agency, province, 365 days",
            lambda: queries.rollup_summary(province, year.start, year.end, group_by="agency"),
        ),
        (
            "summary by day, province, month",
            lambda: queries.rollup_summary(province, month.start, month.end, group_by="day"),
        ),
        (
            "summary by procedure, centre, 365 days",
            lambda: queries.rollup_summary(centre, year.start, year.end, group_by="procedure"),
        ),
    ]
    if args.explain:
        _explain(lambda: scorecard.compute(province, year))
    print(f"# bench_monitoring — {connection.vendor}")
    print()
    print(
        f"{data['rows']:,} day rows ({args.days} days × {args.rows_per_day:,}), "
        f"{data['month_rows']:,} month rows, {len(province.agency_ids)} agencies; "
        f"loaded in {data['seconds']:.0f} s."
    )
    print()
    print("| case | median ms | worst ms | queries |")
    print("|---|---:|---:|---:|")
    for name, fn in cases:
        median, worst, count = _time(fn, args.repeat)
        print(f"| {name} | {median:.0f} | {worst:.0f} | {count} |")
    print()
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    print(
        f"Machine: {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, load average {load[0]}."
    )


if __name__ == "__main__":
    main()
