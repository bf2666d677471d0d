"""Server time of the monitoring pages (dashboard, Decision 766 scorecard, period report,
drill-down lists, violations) and of the full rollup rebuild, on a synthetic province.

Run from the repository root, on a database made by ``benchmarks/synth.py``::

    .venv/bin/python benchmarks/synth.py --dossiers 1000000 --reset --no-rollups \\
        --database-url postgresql://postgres@127.0.0.1:5432/motcua_synth
    .venv/bin/python benchmarks/bench_dashboards.py \\
        --database-url postgresql://postgres@127.0.0.1:5432/motcua_synth [--rebuild sql]
        [--repeat 20] [--warmup 2] [--json out.json]

or let it generate a small province first (``--generate 100000``, on the given database,
dropped and recreated; never ``test``).

What it measures:

1. with ``--rebuild sql|python``, the full ``rebuild_rollups`` (wall time, once);
2. each page through Django's test client — the whole server side: middleware, session, the
   access gate, view, queries, template — signed in as the monitor (``synth.giamsat``) for the
   province, one agency and one commune, and as a commune leader (``synth.xa.lanhdao``, with
   the second factor) for their agency; for the last complete month, its quarter, the year,
   and the current month (live in-progress figures); ``--warmup`` unmeasured renders then
   ``--repeat`` timed ones; p50 and p95 in milliseconds and the number of queries of one
   render.

Targets (issue 6): every dashboard page and scorecard p95 ≤ 200 ms on PostgreSQL with ten
million dossiers; ≤ 500 ms on SQLite with one million; a full rebuild ≤ 30 s on PostgreSQL.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT), str(ROOT / "benchmarks")]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database-url", required=True)
    p.add_argument("--generate", type=int, default=0, help="generate this many dossiers first")
    p.add_argument("--months", type=int, default=12)
    p.add_argument("--rebuild", choices=["", "sql", "python"], default="")
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--only", default="", help="run the cases whose name contains this")
    p.add_argument("--json", default="")
    return p.parse_args(argv)


def setup(args) -> None:
    import synth

    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("SECRET_KEY", "bench-dashboards-" + "x" * 40)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.pop("REDIS_URL", None)
    synth.configure(args.database_url, reset=bool(args.generate))
    if args.generate:
        synth.generate(args.generate, months=args.months, rollups=False)


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


def pick_areas() -> dict[str, str]:
    """The busiest agency and commune of the last month (from the rollups)."""
    from django.db.models import Sum

    from motcua.agencies.models import Agency
    from motcua.monitoring.models import MonthlyRollup

    latest = MonthlyRollup.objects.order_by("-month").values_list("month", flat=True).first()
    rows = (
        MonthlyRollup.objects.filter(month=latest)
        .values("agency_id")
        .annotate(n=Sum("received"))
        .order_by("-n")
    )
    agency = department = commune = None
    for row in rows:
        a = Agency.objects.get(pk=row["agency_id"])
        if a.level == "commune" and commune is None:
            commune = a.unit_id
        if a.kind == "department" and department is None:
            department = a.pk
        if commune and department:
            break
    agency = department
    return {"province": "province", "agency": f"agency-{agency}", "commune": f"commune-{commune}"}


def periods(today: dt.date) -> dict[str, dict]:
    last_month_end = today.replace(day=1) - dt.timedelta(days=1)
    q = (last_month_end.month - 1) // 3 + 1
    return {
        "month": {"period": "month", "year": last_month_end.year, "month": last_month_end.month},
        "quarter": {"period": "quarter", "year": last_month_end.year, "quarter": q},
        "year": {"period": "year", "year": last_month_end.year},
        "this month": {"period": "month", "year": today.year, "month": today.month},
    }


def cases(areas, spans) -> list[tuple[str, str, str, dict]]:
    out = []
    for page, path in (
        ("dashboard", "/can-bo/giam-sat/"),
        ("scorecard", "/can-bo/giam-sat/chi-so-766/"),
        ("report", "/can-bo/giam-sat/bao-cao/"),
    ):
        for area_name, area in areas.items():
            for span_name, span in spans.items():
                if page == "report" and span_name == "this month":
                    continue
                out.append(
                    ("monitor", f"{page} · {area_name} · {span_name}", path, {"area": area, **span})
                )
    month = spans["month"]
    for measure in ("finished_late", "received", "open_late", "open_in_time"):
        out.append(
            (
                "monitor",
                f"drill-down {measure} · province · month",
                "/can-bo/giam-sat/ho-so/",
                {"area": "province", **month, "measure": measure},
            )
        )
    out.append(
        (
            "monitor",
            "drill-down open_late · province · this month",
            "/can-bo/giam-sat/ho-so/",
            {"area": "province", **spans["this month"], "measure": "open_late"},
        )
    )
    out.append(("monitor", "violations · open", "/can-bo/giam-sat/vi-pham/", {"status": "open"}))
    for span_name in ("month", "year"):
        out.append(
            (
                "leader",
                f"dashboard · own commune · {span_name}",
                "/can-bo/giam-sat/",
                spans[span_name],
            )
        )
        out.append(
            (
                "leader",
                f"scorecard · own commune · {span_name}",
                "/can-bo/giam-sat/chi-so-766/",
                spans[span_name],
            )
        )
    return out


def measure(client, path, query, warmup, repeat) -> tuple[list[float], int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmup):
        response = client.get(path, query)
        assert response.status_code == 200, (path, query, response.status_code)
    with CaptureQueriesContext(connection) as captured:
        client.get(path, query)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path, query)
        times.append((time.perf_counter() - started) * 1000)
    return times, len(captured), len(response.content)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


def main(argv=None) -> None:
    args = parse_args(argv)
    setup(args)
    from django.db import connection
    from django.utils import timezone

    from motcua.core.worktime import VN_TZ
    from motcua.dossiers.models import Dossier, DossierEvent
    from motcua.monitoring.models import DailyRollup, DossierTrack, MonthlyRollup, OpenSnapshot
    from motcua.monitoring.rollups import rebuild

    results: dict = {
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        "vendor": connection.vendor,
    }
    if args.rebuild:
        started = time.perf_counter()
        report = rebuild(method=args.rebuild, progress=lambda m: print("  rebuild", m))
        results["rebuild_seconds"] = round(time.perf_counter() - started, 1)
        print(
            f"rebuild ({args.rebuild}): {results['rebuild_seconds']} s, {report.dossiers:,} tracks"
        )
    sizes = {
        "dossiers": Dossier.objects.count(),
        "events": DossierEvent.objects.count(),
        "day rows": DailyRollup.objects.count(),
        "month rows": MonthlyRollup.objects.count(),
        "snapshot rows": OpenSnapshot.objects.count(),
        "tracks": DossierTrack.objects.count(),
    }
    results["sizes"] = sizes
    print(", ".join(f"{k} {v:,}" for k, v in sizes.items()))
    # Production keeps its connections (DATABASE_CONN_MAX_AGE): do not reconnect per request.
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    today = timezone.now().astimezone(VN_TZ).date()
    areas = pick_areas()
    clients = {"monitor": signed_in("synth.giamsat"), "leader": signed_in("synth.xa.lanhdao")}
    rows = []
    print("| who | case | p50 ms | p95 ms | max ms | queries | KB |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for who, name, path, query in cases(areas, periods(today)):
        if args.only and args.only not in name:
            continue
        times, queries, size = measure(clients[who], path, query, args.warmup, args.repeat)
        row = {
            "who": who,
            "case": name,
            "p50": round(statistics.median(times), 1),
            "p95": round(p95(times), 1),
            "max": round(max(times), 1),
            "queries": queries,
            "kb": round(size / 1024),
        }
        rows.append(row)
        cells = [who, name, row["p50"], row["p95"], row["max"], queries, row["kb"]]
        print("| " + " | ".join(str(c) for c in cells) + " |")
    results["pages"] = rows
    print(results["machine"], connection.vendor)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
