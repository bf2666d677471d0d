"""Mixed load on production serving (``scripts/serve.sh`` on PostgreSQL): the 2,000-user
scenario and a ramp to the breaking point, written as a Markdown report.

Run from the repository root (``make bench`` does it)::

    .venv/bin/python benchmarks/bench_mixed.py [--dossiers 100000] [--seed 1]
        [--scenario all|users|ramp] [--users 2000] [--seconds 60]
        [--ramp 10,20,30,45,60,80,100,130,160,200,250,300] [--step-seconds 20]
        [--reuse] [--out var/bench]

What it does:

1. a scratch PostgreSQL database (``--db``, default ``motcua_bench_mixed`` on ``--pg``; dropped
   and recreated, never ``test``) holding ``--dossiers`` dossiers: made by
   ``benchmarks/synth.py`` (the synthetic province) when it is there, else by
   ``bench_worklist.build`` (the demo catalogue and bulk-written dossiers with their steps and
   events). ``--reuse`` keeps the database of a previous run when it holds as many dossiers;
2. accounts for this run: counter officers and specialists signed in (session cookies) at the
   agencies that receive the most dossiers, a portal account with a ``dossiers:submit`` token, a
   province monitor with a ``monitoring:read`` token; a sample of received dossiers (code and
   the last four digits of the applicant's phone) and of procedures;
3. ``scripts/serve.sh`` on a free port — the very production set-up: migrations, gthread
   workers of ``motcua.ops.gunicorn`` with the in-flight bound (``MOTCUA_MAX_IN_FLIGHT``), the
   Huey consumer delivering the outbox, Redis cache (``--redis-url``), persistent database
   connections;
4. open-loop load from one asyncio process (the HTTP/1.1 client of ``bench_api.py``): request
   *i* is sent at its arrival time whatever the server does, and its latency runs from that
   time, so queueing anywhere is included. The mix (``TARGETS``, easy to extend): public
   lookups 60% (the lookup page and API with the right factor, the catalogue), officer
   worklists 20% (``/can-bo/ho-so/``: mine, unit, a name search), intake 10% (``POST
   /api/v1/dossiers`` with an ``Idempotency-Key``), dashboards 10% (``/api/v1/monitoring/…``);
5. **users**: ``--users`` simulated users sending one request a minute on average — Poisson
   arrivals at ``users / 60`` per second — for ``--seconds``; goal: errors < 0.5% and
   p95 ≤ 1 s;
6. **ramp**: rising constant rates (``--ramp``), ``--step-seconds`` each after a short warm-up,
   until the p95 of the served requests exceeds 1 s or more than 0.5% fail; the step where it
   broke is recorded with how it broke (503 shed by the in-flight bound, time-outs, 5xx);
7. the report ``var/bench/mixed-<timestamp>.md`` (path printed): machine (CPU model, cores,
   steal and load during each phase), command, dataset, server settings, throughput, p50, p95,
   p99, the share of requests over 1, 2, 4 and 8 s, errors by kind, per-target figures, and
   what the server itself counted at ``/metrics`` (requests shed).

The lookup page limits requests per connecting address (``MOTCUA_LOOKUP_RATE``); every
simulated user comes from 127.0.0.1 here, so the run raises that limit (the API lookup keys on
``X-Forwarded-For``, which the generator varies per user).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import math
import os
import platform
import random
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT), str(ROOT / "benchmarks")]

import bench_api as api  # noqa: E402  (the HTTP client, CPU accounting, intake bodies)

PROVINCE_AGENCY = "000.00.00.H56"
GOAL_P95_MS = 1000.0
GOAL_ERRORS = 0.005
THRESHOLDS_S = (1, 2, 4, 8)
SEARCH_WORDS = ["khai sinh", "đất đai", "hộ kinh doanh", "kết hôn", "chứng thực", "xây dựng"]
NAME_SEARCHES = ["nguyen van", "tran thi", "le van", "pham thi", "hoang"]


# --- arguments ------------------------------------------------------------------------------


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dossiers", type=int, default=int(os.environ.get("BENCH_DOSSIERS", 100_000)))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--scenario", choices=["all", "users", "ramp", "costs"], default="all")
    p.add_argument(
        "--cost-requests",
        type=int,
        default=20,
        help="sequential requests per target for the cost table (0: none)",
    )
    p.add_argument("--cores-for-capacity", type=int, default=2, help=argparse.SUPPRESS)
    p.add_argument("--users", type=int, default=2000, help="simulated users, 1 request/min each")
    p.add_argument("--seconds", type=float, default=60.0, help="measured seconds, users scenario")
    p.add_argument("--warmup", type=float, default=5.0, help="unmeasured seconds before a phase")
    p.add_argument("--ramp", default="10,20,30,45,60,80,100,130,160,200,250,300")
    p.add_argument("--step-seconds", type=float, default=20.0)
    p.add_argument("--timeout", type=float, default=15.0, help="client time-out per request, s")
    p.add_argument("--workers", type=int, default=0, help="WEB_CONCURRENCY (default: serve.sh's)")
    p.add_argument("--threads", type=int, default=0, help="WEB_THREADS (default: serve.sh's)")
    p.add_argument("--max-in-flight", type=int, default=-1, help="MOTCUA_MAX_IN_FLIGHT")
    p.add_argument("--conn-max-age", type=int, default=600, help="DATABASE_CONN_MAX_AGE")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/12", help="'' = locmem cache")
    p.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432", help="server URL")
    p.add_argument("--db", default="motcua_bench_mixed", help="scratch database (recreated)")
    p.add_argument("--reuse", action="store_true", help="keep the dataset of a previous run")
    p.add_argument("--no-synth", action="store_true", help="use bench_worklist even with synth")
    p.add_argument("--officers", type=int, default=12, help="signed-in officers")
    p.add_argument("--max-connections", type=int, default=1000)
    p.add_argument("--out", default=str(ROOT / "var" / "bench"))
    p.add_argument("--note", default="", help="a line for the report (e.g. who else was busy)")
    p.add_argument("--strict", action="store_true", help="stop when a target fails at the start")
    args = p.parse_args(argv)
    if args.db in {"test", "postgres", "template0", "template1"} or args.db.startswith("test_"):
        p.error(f"refusing to drop database {args.db!r}: use a scratch database")
    args.ramp_rates = [float(r) for r in args.ramp.split(",") if r.strip()]
    return args


# --- the dataset ----------------------------------------------------------------------------


def dossier_count(url: str) -> int | None:
    import psycopg

    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=3) as conn:
            return conn.execute("SELECT count(*) FROM dossiers_dossier").fetchone()[0]
    except Exception:
        return None


def build_dataset(args, env: dict[str, str]) -> dict:
    """The scratch database with ``args.dossiers`` dossiers; how it was made and how long."""
    url = f"{args.pg}/{args.db}"
    have = dossier_count(url) if args.reuse else None
    if have is not None and have >= args.dossiers:
        return {"how": f"reused ({have:,} dossiers already there)", "seconds": 0.0}
    started = time.perf_counter()
    synth = ROOT / "benchmarks" / "synth.py"
    if synth.exists() and not args.no_synth:
        command = [
            sys.executable,
            str(synth),
            "--dossiers",
            str(args.dossiers),
            "--seed",
            str(args.seed),
            "--database-url",
            url,
            "--reset",
        ]
        print(f"[bench] dataset: {' '.join(command)}", file=sys.stderr)
        subprocess.run(command, cwd=ROOT, env={**os.environ, **env}, check=True)
        how = f"benchmarks/synth.py --dossiers {args.dossiers} --seed {args.seed}"
    else:
        print(f"[bench] dataset: bench_worklist.build, {args.dossiers:,} dossiers", file=sys.stderr)
        api.recreate_database(args.pg, args.db)
        import bench_worklist
        import django

        django.setup()
        bench_worklist.build(SimpleNamespace(dossiers=args.dossiers, seed=args.seed))
        how = f"bench_worklist.build (demo catalogue + {args.dossiers:,} bulk-written dossiers)"
    return {"how": how, "seconds": time.perf_counter() - started}


@dataclass
class World:
    submit_token: str
    monitor_token: str
    cookies: list[str]  # "sessionid=…" of signed-in officers
    intake_targets: list[dict]
    codes: list[tuple[str, str]]  # (dossier code, last 4 digits of the phone)
    procedures: list[str]
    counts: dict[str, int]
    officers: list[str] = field(default_factory=list)


def prepare_world(args, run_id: str) -> World:
    """Accounts, sessions and samples for this run (on whatever dataset is there)."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count, Max, Min
    from django.test import Client

    from motcua.accounts.models import ApiToken, Membership, Role, Scope
    from motcua.agencies.models import Agency
    from motcua.catalog.models import Procedure
    from motcua.dossiers.models import Dossier

    with open(os.devnull, "w") as devnull:
        call_command("migrate", interactive=False, verbosity=0, stdout=devnull)
    rng = random.Random(args.seed)
    User = get_user_model()

    # Intake targets: single-variant procedures open online, at each agency applying them.
    targets = []
    procedures = Procedure.objects.filter(is_active=True).select_related("current_version")
    for procedure in procedures:
        variants = list(procedure.current_version.variants.all())
        if len(variants) != 1 or not variants[0].time_limits.filter(channel="online").exists():
            continue
        required = [c.pk for c in variants[0].components.all() if c.required]
        for link in procedure.applied_by.filter(is_active=True).select_related("agency"):
            targets.append(
                {
                    "procedure": procedure.code,
                    "agency": link.agency.electronic_id,
                    "agency_id": link.agency_id,
                    "components": required,
                }
            )
    if not targets:
        raise SystemExit("no procedure of the catalogue is open to online intake")
    rng.shuffle(targets)
    targets = targets[:60]
    portal = User.objects.create_user(username=f"mixed-{run_id}-portal", first_name="Cổng DVC")
    _, submit = ApiToken.issue(
        name="bench mixed portal", user=portal, scopes=[Scope.DOSSIERS_SUBMIT]
    )

    province = Agency.objects.filter(electronic_id=PROVINCE_AGENCY).first()
    if province is None:
        raise SystemExit(f"no agency {PROVINCE_AGENCY} (the province) for the monitor")
    monitor = User.objects.create_user(username=f"mixed-{run_id}-monitor", first_name="Giám sát")
    Membership.objects.create(user=monitor, agency=province, role=Role.MONITOR)
    _, monitoring = ApiToken.issue(
        name="bench mixed monitor", user=monitor, scopes=[Scope.MONITORING_READ]
    )

    # Officers where the work is: the agencies receiving the most dossiers.
    busiest = [
        row["receiving_agency"]
        for row in Dossier.objects.values("receiving_agency")
        .annotate(n=Count("id"))
        .order_by("-n")[: max(1, args.officers // 2)]
    ]
    cookies, names = [], []
    for i in range(args.officers):
        agency_id = busiest[i % len(busiest)]
        role = Role.COUNTER_OFFICER if i % 2 == 0 else Role.SPECIALIST
        user = User.objects.create_user(
            username=f"mixed-{run_id}-{i}", first_name="Cán bộ", last_name=f"số {i}"
        )
        Membership.objects.create(user=user, agency_id=agency_id, role=role)
        client = Client()
        client.force_login(user)
        cookies.append(
            f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        )
        names.append(f"{role} @ agency {agency_id}")

    # Received dossiers to look up, drawn across the whole key range.
    bounds = Dossier.objects.filter(code__isnull=False).aggregate(lo=Min("pk"), hi=Max("pk"))
    codes: list[tuple[str, str]] = []
    if bounds["lo"] is not None:
        picks = {rng.randint(bounds["lo"], bounds["hi"]) for _ in range(6000)}
        for code, phone in Dossier.objects.filter(pk__in=picks, code__isnull=False).values_list(
            "code", "applicant__phone"
        )[:3000]:
            digits = "".join(ch for ch in (phone or "") if ch.isdigit())
            if len(digits) >= 4:
                codes.append((code, digits[-4:]))
    if not codes:
        raise SystemExit("the dataset has no received dossier with a phone to look up")
    procedure_codes = list(Procedure.objects.filter(is_active=True).values_list("code", flat=True))
    with connection.cursor() as cursor:
        counts = {}
        for table in (
            "dossiers_dossier",
            "dossiers_step",
            "dossiers_dossierevent",
            "dossiers_applicant",
            "agencies_agency",
            "catalog_procedure",
        ):
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [table])
            row = cursor.fetchone()
            counts[table] = int(row[0]) if row else -1
        cursor.execute("SELECT count(*) FROM dossiers_dossier")
        counts["dossiers_dossier"] = cursor.fetchone()[0]
    return World(submit, monitoring, cookies, targets, codes, procedure_codes, counts, names)


# --- the mix --------------------------------------------------------------------------------


@dataclass
class Target:
    """One kind of request: ``build(ctx, rng, i)`` returns the raw request and a check of the
    answer (``None`` when good, else a label)."""

    name: str
    group: str  # public | officer | intake | dashboard
    weight: float  # share of all requests, in percent
    build: Callable


def _ok(status: int, body: bytes, want=(200,), contains: bytes | None = None):
    if status not in want:
        return "bad"
    if contains is not None and contains not in body:
        return "wrong body"
    return None


def _client_headers(ctx, rng) -> dict[str, str]:
    user = rng.randrange(ctx.users)
    return {"X-Forwarded-For": f"10.{user // 62500 % 250}.{user // 250 % 250}.{user % 250 + 1}"}


def lookup_page(ctx, rng, i):
    code, factor = ctx.world.codes[rng.randrange(len(ctx.world.codes))]
    request = ctx.http.get(
        f"/tra-cuu-ho-so/?code={code}&factor={factor}", _client_headers(ctx, rng)
    )
    return request, lambda s, b: _ok(s, b, contains=code.encode())


def lookup_api(ctx, rng, i):
    code, factor = ctx.world.codes[rng.randrange(len(ctx.world.codes))]
    headers = {**_client_headers(ctx, rng), "Accept": "application/json"}
    request = ctx.http.get(f"/api/v1/lookup/{code}?factor={factor}", headers)
    return request, lambda s, b: _ok(s, b, contains=b'"verified": true')


def catalogue_search(ctx, rng, i):
    from urllib.parse import quote

    word = quote(rng.choice(SEARCH_WORDS))
    return ctx.http.get(f"/thu-tuc/?q={word}", _client_headers(ctx, rng)), _ok


def procedure_page(ctx, rng, i):
    code = rng.choice(ctx.world.procedures)
    return ctx.http.get(f"/thu-tuc/{code}/", _client_headers(ctx, rng)), _ok


def inbox(query: str):
    def build(ctx, rng, i):
        cookie = ctx.world.cookies[rng.randrange(len(ctx.world.cookies))]
        q = query.replace("{name}", rng.choice(NAME_SEARCHES).replace(" ", "+"))
        request = ctx.http.get(f"/can-bo/ho-so/{q}", {"Cookie": cookie})
        return request, lambda s, b: _ok(s, b)  # a lost session would be a 302 to sign-in

    return build


def intake(ctx, rng, i):
    target = ctx.world.intake_targets[i % len(ctx.world.intake_targets)]
    body = api.intake_body(target, ctx.applicants.next())
    headers = {
        "Authorization": f"Bearer {ctx.world.submit_token}",
        "Idempotency-Key": f"mixed-{ctx.run_id}-{ctx.phase_tag}-{i}",
    }
    return ctx.http.post("/api/v1/dossiers", body, headers), lambda s, b: _ok(s, b, (200, 201))


def dashboard(path: str):
    def build(ctx, rng, i):
        today = dt.date.today()
        p = path.format(
            month_ago=(today - dt.timedelta(days=30)).isoformat(),
            today=today.isoformat(),
            year=today.year,
            month=today.month,
        )
        headers = {"Authorization": f"Bearer {ctx.world.monitor_token}"}
        return ctx.http.get(p, headers), _ok

    return build


# Shares of all requests, in percent. Another kind of request is one more line here (e.g. the
# HTML monitoring pages under /can-bo/giam-sat/, signed in as a monitor).
TARGETS = [
    Target("lookup page /tra-cuu-ho-so/", "public", 25, lookup_page),
    Target("lookup API /api/v1/lookup/{code}", "public", 20, lookup_api),
    Target("catalogue search /thu-tuc/?q=", "public", 10, catalogue_search),
    Target("procedure page /thu-tuc/{code}/", "public", 5, procedure_page),
    Target("inbox /can-bo/ho-so/ (mine)", "officer", 10, inbox("")),
    Target("inbox ?scope=unit", "officer", 5, inbox("?scope=unit")),
    Target("inbox ?scope=all&q=name", "officer", 5, inbox("?scope=all&q={name}")),
    Target("intake POST /api/v1/dossiers", "intake", 10, intake),
    Target("dashboard in-progress", "dashboard", 4, dashboard("/api/v1/monitoring/in-progress")),
    Target(
        "dashboard rollups by agency",
        "dashboard",
        3,
        dashboard(
            "/api/v1/monitoring/rollups?date_from={month_ago}&date_to={today}&group_by=agency"
        ),
    ),
    Target(
        "dashboard scorecard (month)",
        "dashboard",
        2,
        dashboard("/api/v1/monitoring/scorecard?period=month&year={year}&month={month}"),
    ),
    Target("dashboard violations", "dashboard", 1, dashboard("/api/v1/monitoring/violations")),
]


# --- the open-loop run ----------------------------------------------------------------------


@dataclass
class Result:
    name: str
    offered: float  # requests/s
    arrivals: str  # "Poisson" | "constant"
    seconds: float
    kinds: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)
    errors: list[str | None] = field(default_factory=list)
    elapsed: float = 0.0
    server_cpu_s: float = 0.0
    pg_cpu_s: float = 0.0
    gen_cpu_s: float = 0.0
    busy: float = 0.0
    steal: float = 0.0
    loadavg: str = ""
    max_lag_ms: float = 0.0

    def summary(self, select: Callable[[int], bool] | None = None) -> dict:
        idx = [i for i in range(len(self.latency_ms)) if select is None or select(i)]
        n = len(idx)
        good = sorted(self.latency_ms[i] for i in idx if self.errors[i] is None)
        every = [self.latency_ms[i] for i in idx]
        errors = Counter(self.errors[i] for i in idx if self.errors[i] is not None)
        out = {
            "sent": n,
            "ok": len(good),
            "error_share": (n - len(good)) / n if n else 0.0,
            "errors": dict(errors),
            "throughput": len(good) / self.elapsed if self.elapsed else 0.0,
            "p50": api.percentile(good, 0.50),
            "p95": api.percentile(good, 0.95),
            "p99": api.percentile(good, 0.99),
            "max": good[-1] if good else float("nan"),
        }
        for t in THRESHOLDS_S:
            out[f"over_{t}s"] = sum(1 for v in every if v > t * 1000) / n if n else 0.0
        return out


def classify(status: int, body: bytes, check) -> str | None:
    if status == -1:
        return "timeout"
    if status == -2:
        return "connection error"
    if status == 503 and (b'"overloaded"' in body or "quá tải".encode() in body):
        return "503 shed"
    if status >= 500:
        return f"{status} (5xx)"
    label = check(status, body)
    if label is None:
        return None
    return "wrong body" if label == "wrong body" else f"HTTP {status}"


async def open_loop(ctx, meter, result: Result, warmup: float, poisson: bool) -> Result:
    """Send every request at its arrival time (Poisson or evenly spaced at ``result.offered``);
    latency from that time to the last byte of the answer, time-outs included."""
    rng = random.Random(hash((ctx.run_id, result.name)) & 0xFFFFFFFF)
    rate = result.offered
    horizon = warmup + result.seconds
    arrivals, t = [], 0.0
    while True:
        t += rng.expovariate(rate) if poisson else 1.0 / rate
        if t >= horizon:
            break
        arrivals.append(t)
    n_warm = sum(1 for a in arrivals if a < warmup)
    total = len(arrivals)
    if total <= n_warm:
        raise SystemExit(f"{result.name}: no request to measure (rate or seconds too small)")
    targets = ctx.targets
    weights = [tg.weight for tg in targets]
    ctx.phase_tag = f"{result.name}-{int(rate)}".replace(" ", "")
    chosen = rng.choices(range(len(targets)), weights=weights, k=total)
    prebuilt = [targets[k].build(ctx, rng, i) for i, k in enumerate(chosen)]
    done = [math.nan] * total
    status = [0] * total
    bodies: list[bytes] = [b""] * total
    perf = time.perf_counter
    http, timeout = ctx.http, ctx.timeout

    async def one(i: int) -> None:
        try:
            async with asyncio.timeout(timeout):
                s, b = await http.request(prebuilt[i][0])
        except TimeoutError:
            s, b = -1, b""
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            s, b = -2, repr(exc).encode()
        done[i], status[i], bodies[i] = perf(), s, b

    tasks: set[asyncio.Task] = set()
    start = lag = None
    lag = 0.0
    t0 = perf() + 0.05
    due = [t0 + a for a in arrivals]
    for i in range(total):
        if i == n_warm:
            await asyncio.sleep(0)
            start, pg_pids = meter.mark()
            load0 = os.getloadavg()
        delay = due[i] - perf()
        if delay > 0:
            await asyncio.sleep(delay)
        elif i >= n_warm:
            lag = max(lag, -delay)
        task = asyncio.create_task(one(i))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    while tasks:
        await asyncio.gather(*list(tasks))
    end, _ = meter.mark(pg_pids)

    measured = range(n_warm, total)
    result.max_lag_ms = lag * 1000
    result.elapsed = max(done[i] for i in measured) - due[n_warm]
    for i in measured:
        result.kinds.append(targets[chosen[i]].name)
        result.groups.append(targets[chosen[i]].group)
        result.latency_ms.append((done[i] - due[i]) * 1000)
        result.errors.append(classify(status[i], bodies[i], prebuilt[i][1]))
    result.server_cpu_s = end.server - start.server
    result.pg_cpu_s = end.pg - start.pg
    result.gen_cpu_s = end.gen - start.gen
    jiffies = end.machine[2] - start.machine[2]
    result.busy = (end.machine[0] - start.machine[0]) / jiffies if jiffies else 0.0
    result.steal = (end.machine[1] - start.machine[1]) / jiffies if jiffies else 0.0
    load1 = os.getloadavg()
    result.loadavg = f"{load0[0]:.2f} → {load1[0]:.2f}"
    return result


# --- the server -----------------------------------------------------------------------------


def start_serve_sh(args, env: dict[str, str], port: int, log: Path) -> tuple[subprocess.Popen, int]:
    """``scripts/serve.sh`` in its own process group; (its process, the gunicorn master's pid)."""
    senv = {**os.environ, **env, "HOST": "127.0.0.1", "PORT": str(port), "PY": sys.executable}
    senv["PROMETHEUS_MULTIPROC_DIR"] = str(Path(env["MOTCUA_VAR_DIR"]) / "metrics")
    if args.workers:
        senv["WEB_CONCURRENCY"] = str(args.workers)
    if args.threads:
        senv["WEB_THREADS"] = str(args.threads)
    if args.max_in_flight >= 0:
        senv["MOTCUA_MAX_IN_FLIGHT"] = str(args.max_in_flight)
    proc = subprocess.Popen(
        [str(ROOT / "scripts" / "serve.sh")],
        cwd=ROOT,
        env=senv,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 180
    import http.client

    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"serve.sh exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/readyz", headers={"Host": "127.0.0.1"})
            if conn.getresponse().status == 200:
                for child in api.children_of(proc.pid):
                    cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
                    if b"gunicorn" in cmdline:
                        return proc, child
        time.sleep(0.3)
    stop_serve_sh(proc)
    raise SystemExit(f"serve.sh did not become ready:\n{log.read_text()[-3000:]}")


def stop_serve_sh(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def server_setting(master: int, name: str) -> str:
    """A variable of the gunicorn master's environment (what serve.sh exported)."""
    with contextlib.suppress(OSError):
        for item in Path(f"/proc/{master}/environ").read_bytes().split(b"\0"):
            key, _, value = item.decode(errors="replace").partition("=")
            if key == name:
                return value
    return ""


def gunicorn_cmdline(master: int) -> str:
    with contextlib.suppress(OSError):
        parts = Path(f"/proc/{master}/cmdline").read_bytes().split(b"\0")
        words = [p.decode() for p in parts if p]
        while words and not words[0].endswith("gunicorn"):
            words.pop(0)
        return " ".join(["gunicorn", *words[1:]])
    return "?"


# --- the run --------------------------------------------------------------------------------


async def run(args, world: World, port: int, master: int, run_id: str) -> dict:
    http = api.Http(port, args.max_connections)
    meter = api.Meter(master, f"{args.pg}/{args.db}")
    ctx = SimpleNamespace(
        http=http,
        world=world,
        run_id=run_id,
        users=args.users,
        timeout=args.timeout,
        applicants=api.Applicants(args.seed + 7),
        phase_tag="",
    )
    ctx.applicants.seq = int(time.time()) % 500_000  # fresh personal ids run after run
    out: dict = {"phases": [], "ramp": []}

    # Every target answers, and every worker has loaded its code, before measuring. A target
    # that fails here (say, a page another change is half-way through) is left out of the mix
    # and named in the report, unless --strict.
    rng = random.Random(1)
    ctx.phase_tag = "check"
    ctx.targets, out["left_out"] = [], {}
    for k, target in enumerate(TARGETS):
        for j in range(3):
            request, check = target.build(ctx, rng, k * 10 + j)
            status, body = await http.request(request)
            label = classify(status, body, check)
            if label is not None:
                if args.strict:
                    raise SystemExit(f"{target.name}: {label} — {body[:300]!r}")
                out["left_out"][target.name] = f"{label} at the start"
                print(f"[bench] left out {target.name}: {label}", file=sys.stderr)
                break
        else:
            ctx.targets.append(target)
    if not ctx.targets:
        raise SystemExit("no target answers")
    out["targets"] = ctx.targets
    out["costs"] = await request_costs(ctx, http, meter, args.cost_requests)

    if args.scenario in ("all", "users"):
        rate = args.users / 60.0
        print(f"[bench] users scenario: {args.users} users, Poisson {rate:.1f}/s", file=sys.stderr)
        result = Result(f"{args.users:,} users", rate, "Poisson", args.seconds)
        await open_loop(ctx, meter, result, args.warmup, poisson=True)
        out["phases"].append(result)
        await settle(meter)

    if args.scenario in ("all", "ramp"):
        for rate in args.ramp_rates:
            print(f"[bench] ramp: {rate:g}/s", file=sys.stderr)
            result = Result(f"ramp {rate:g}/s", rate, "constant", args.step_seconds)
            await open_loop(ctx, meter, result, min(args.warmup, 3.0), poisson=False)
            out["ramp"].append(result)
            s = result.summary()
            await settle(meter)
            if s["p95"] > GOAL_P95_MS or s["error_share"] > GOAL_ERRORS or math.isnan(s["p95"]):
                break
    out["metrics"] = await asyncio.to_thread(scrape_metrics, port)
    return out


async def request_costs(ctx, http, meter, n: int) -> list[dict]:
    """What one request of each target costs with nothing else running: ``n`` requests one
    after the other; the server's and PostgreSQL's CPU per request and the median latency.
    Shows which requests a mix's capacity is spent on (CPU per request × share)."""
    if n <= 0:
        return []
    rng = random.Random(2)
    ctx.phase_tag = "cost"
    costs = []
    for k, target in enumerate(ctx.targets):
        start, pg_pids = await asyncio.to_thread(meter.mark)
        walls = []
        for j in range(n):
            request, _check = target.build(ctx, rng, 100_000 + k * n + j)
            began = time.perf_counter()
            await http.request(request)
            walls.append((time.perf_counter() - began) * 1000)
        end, _ = await asyncio.to_thread(meter.mark, pg_pids)
        server = (end.server - start.server) / n * 1000
        pg = (end.pg - start.pg) / n * 1000
        costs.append(
            {
                "name": target.name,
                "weight": target.weight,
                "p50": statistics.median(walls),
                "server_ms": server,
                "pg_ms": pg,
            }
        )
    return costs


async def settle(meter) -> None:
    """Until the server is idle (requests whose clients gave up may still be running): the
    next phase starts clean. Only the server: other people's work on the machine is noise
    reported with each phase, not waited for."""
    await api.wait_idle(meter, quiet=1.01, limit=60.0)


def scrape_metrics(port: int) -> dict:
    import http.client

    from prometheus_client.parser import text_string_to_metric_families

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/metrics", headers={"Host": "127.0.0.1"})
    response = conn.getresponse()
    if response.status != 200:
        return {}
    totals: Counter = Counter()
    for family in text_string_to_metric_families(response.read().decode()):
        for sample in family.samples:
            if sample.name == "motcua_http_requests_shed_total":
                totals[f"shed ({sample.labels['reason']})"] += sample.value
            elif sample.name == "motcua_http_requests_total":
                totals["requests"] += sample.value
                if sample.labels["status"].startswith("5"):
                    totals[f"HTTP {sample.labels['status']}"] += sample.value
            elif sample.name == "motcua_outbox_pending":
                totals["outbox pending at the end"] = sample.value
    return dict(totals)


# --- the report -----------------------------------------------------------------------------


def fmt_errors(errors: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(errors.items())) or "—"


def row(label: str, r: Result, s: dict, whole: bool = True) -> str:
    """One line of the table; the CPU and machine columns only for a whole phase."""
    cores = len(os.sched_getaffinity(0))
    n = max(s["sent"], 1)
    cpu = f"{r.server_cpu_s / n * 1000:.1f} / {r.pg_cpu_s / n * 1000:.1f}" if whole else "— / —"
    machine = f"{r.busy * cores:.2f} / {r.steal:.1%} | {r.loadavg}" if whole else "— | —"
    return (
        f"| {label} | {r.offered:.1f} | {s['sent']:,} | {s['throughput']:.1f} | {s['p50']:.0f} | "
        f"{s['p95']:.0f} | {s['p99']:.0f} | {s['max']:.0f} | "
        + " | ".join(f"{s[f'over_{t}s']:.2%}" for t in THRESHOLDS_S)
        + f" | {s['error_share']:.2%} | {fmt_errors(s['errors'])} | {cpu} | {machine} |"
    )


HEADER = (
    "| phase | offered /s | requests | served /s | p50 ms | p95 ms | p99 ms | max ms | "
    "> 1 s | > 2 s | > 4 s | > 8 s | errors | error kinds | CPU ms/req: server / PostgreSQL | "
    "machine busy (cores) / steal | load average |\n|" + "---|" * 17
)


def report(args, machine: dict, dataset: dict, world: World, command: str, out: dict) -> str:
    lines = [f"# Mixed load benchmark — {dt.datetime.now().isoformat(timespec='seconds')}", ""]
    lines.append(f"Command: `{' '.join(shlex.quote(a) for a in sys.argv)}`")
    lines.append("")
    lines.append(
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['os']}, CPython "
        f"{machine['python']}, PostgreSQL {machine['pg']['server_version']} "
        f"(fsync={machine['pg']['fsync']}, synchronous_commit="
        f"{machine['pg']['synchronous_commit']}), 8 kB write + fdatasync "
        f"{machine['fsync_us']:.0f} µs, load average at start {machine['loadavg']}."
    )
    if args.note:
        lines.append(f"Note: {args.note}")
    lines.append(
        f"Dataset: {world.counts['dossiers_dossier']:,} dossiers "
        f"(≈ {world.counts['dossiers_step']:,} steps, "
        f"≈ {world.counts['dossiers_dossierevent']:,} events, "
        f"≈ {world.counts['dossiers_applicant']:,} applicants, "
        f"{world.counts['agencies_agency']:,} agencies, "
        f"{world.counts['catalog_procedure']:,} procedures) made by {dataset['how']}"
        + (f" in {dataset['seconds']:.0f} s" if dataset["seconds"] else "")
        + f"; {len(world.codes):,} dossier codes sampled for lookups, {len(world.cookies)} "
        f"signed-in officers, {len(world.intake_targets)} intake targets."
    )
    lines.append(f"Server: `scripts/serve.sh` → `{command}`; {machine['server_env']}.")
    lines.append(
        "Generator: one asyncio process on loopback (bench_api's HTTP/1.1 client, keep-alive), "
        f"open loop, client time-out {args.timeout:g} s; latency from the scheduled arrival "
        "to the last byte. Percentiles are of the served requests; the shares over 1/2/4/8 s "
        "are of all requests (time-outs included)."
    )
    lines.append("")
    active = out["targets"]
    total = sum(t.weight for t in active)
    lines.append(
        "Mix: "
        + ", ".join(f"{t.name} {t.weight / total:.0%}" for t in active)
        + ". Groups: "
        + ", ".join(
            f"{g} {sum(t.weight for t in active if t.group == g) / total:.0%}"
            for g in ("public", "officer", "intake", "dashboard")
        )
        + "."
    )
    for name, why in out["left_out"].items():
        lines.append(f"**Left out of the mix: {name} — {why}** (the other shares scaled up).")
    if out.get("costs"):
        total_weight = sum(c["weight"] for c in out["costs"])
        per_mix = sum(c["weight"] * (c["server_ms"] + c["pg_ms"]) for c in out["costs"])
        per_mix /= total_weight
        lines += ["", f"## Cost of one request ({args.cost_requests} in a row, nothing else)", ""]
        lines.append(
            f"CPU of the mix: {per_mix:.1f} ms per request on average (server + PostgreSQL), "
            f"so {args.cores_for_capacity} cores serve at most about "
            f"{args.cores_for_capacity * 1000 / per_mix:.0f} requests/s of it before the "
            "generator's and the kernel's share."
        )
        lines += [
            "",
            "| target | share | p50 ms | server CPU ms | PostgreSQL CPU ms | of the mix's CPU |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for c in out["costs"]:
            part = c["weight"] * (c["server_ms"] + c["pg_ms"]) / total_weight / per_mix
            lines.append(
                f"| {c['name']} | {c['weight'] / total_weight:.0%} | {c['p50']:.0f} | "
                f"{c['server_ms']:.1f} | {c['pg_ms']:.1f} | {part:.0%} |"
            )
    for r in out["phases"]:
        s = r.summary()
        verdict = (
            "**goal met**"
            if s["error_share"] < GOAL_ERRORS and s["p95"] <= GOAL_P95_MS
            else "**goal missed**"
        )
        lines += ["", f"## {r.name}: Poisson arrivals at {r.offered:.1f}/s for {r.seconds:g} s", ""]
        lines.append(
            f"Goal: errors < {GOAL_ERRORS:.1%} and p95 ≤ {GOAL_P95_MS:g} ms — {verdict} "
            f"(errors {s['error_share']:.2%}, p95 {s['p95']:.0f} ms). Generator lag at most "
            f"{r.max_lag_ms:.0f} ms."
        )
        lines += ["", HEADER, row("all", r, s)]
        for group in ("public", "officer", "intake", "dashboard"):
            gs = r.summary(lambda i, g=group, r=r: r.groups[i] == g)
            if gs["sent"]:
                lines.append(row(group, r, gs, whole=False))
        lines += [
            "",
            "| target | requests | p50 ms | p95 ms | p99 ms | errors |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for t in active:
            ts = r.summary(lambda i, name=t.name, r=r: r.kinds[i] == name)
            if ts["sent"]:
                lines.append(
                    f"| {t.name} | {ts['sent']:,} | {ts['p50']:.0f} | {ts['p95']:.0f} | "
                    f"{ts['p99']:.0f} | {fmt_errors(ts['errors'])} |"
                )
    if out["ramp"]:
        lines += ["", "## Ramp to the breaking point", ""]
        lines.append(
            f"Constant arrival rate per step, {args.step_seconds:g} s measured after a short "
            f"warm-up; it stops at the first step with p95 > {GOAL_P95_MS:g} ms or errors > "
            f"{GOAL_ERRORS:.1%}."
        )
        lines += ["", HEADER]
        held = None
        broke = None
        for r in out["ramp"]:
            s = r.summary()
            lines.append(row(r.name, r, s))
            if s["p95"] > GOAL_P95_MS or s["error_share"] > GOAL_ERRORS or math.isnan(s["p95"]):
                broke = (r, s)
            else:
                held = (r, s)
        lines.append("")
        if held:
            lines.append(
                f"- Held: {held[0].offered:g} req/s offered, {held[1]['throughput']:.1f} served/s, "
                f"p95 {held[1]['p95']:.0f} ms, errors {held[1]['error_share']:.2%}."
            )
        if broke:
            r, s = broke
            kinds = s["errors"]
            shed = sum(v for k, v in kinds.items() if k.startswith("503 shed"))
            timeouts = kinds.get("timeout", 0)
            fivexx = sum(v for k, v in kinds.items() if "(5xx)" in k)
            why = []
            if s["p95"] > GOAL_P95_MS:
                why.append(f"p95 {s['p95']:.0f} ms > {GOAL_P95_MS:g} ms")
            if s["error_share"] > GOAL_ERRORS:
                why.append(f"errors {s['error_share']:.2%} > {GOAL_ERRORS:.1%}")
            others = {
                k: v
                for k, v in kinds.items()
                if k != "timeout" and not k.startswith("503 shed") and "(5xx)" not in k
            }
            lines.append(
                f"- Broke at {r.offered:g} req/s offered ({s['throughput']:.1f} served/s): "
                + "; ".join(why)
                + f". Errors: {shed:,} shed with 503 + Retry-After, {timeouts:,} time-outs "
                f"(> {args.timeout:g} s), {fivexx:,} other 5xx"
                + (f", {fmt_errors(others)}" if others else "")
                + f". Share over 1 s {s['over_1s']:.1%}, over 8 s {s['over_8s']:.1%}."
            )
        else:
            lines.append("- Did not break within the steps given (raise --ramp).")
    if out.get("metrics"):
        lines += [
            "",
            "Counted by the server (`/metrics`, whole run): " + fmt_errors(out["metrics"]) + ".",
        ]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    args = parse_args(argv)
    run_id = uuid.uuid4().hex[:6]
    tmp = Path(tempfile.mkdtemp(prefix="motcua-bench-mixed-"))
    # bench_api's environment (scratch database, DEBUG off, own var/ and static dirs, Redis).
    env = api.configure_env(args, tmp)
    env["ALLOWED_HOSTS"] = os.environ["ALLOWED_HOSTS"] = "127.0.0.1,localhost,testserver"
    env["MOTCUA_LOOKUP_RATE"] = os.environ["MOTCUA_LOOKUP_RATE"] = "1000000/m"
    machine = {
        "cpu": api.cpu_model(),
        "cores": len(os.sched_getaffinity(0)),
        "os": f"{platform.system()} {platform.machine()}",
        "python": platform.python_version(),
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "fsync_us": api.fsync_latency(str(tmp)),
    }
    dataset = build_dataset(args, env)
    import django

    django.setup()
    print("[bench] accounts, sessions and samples", file=sys.stderr)
    world = prepare_world(args, run_id)
    machine["pg"] = api.pg_settings()
    from django.db import connections

    connections.close_all()

    port = api.free_port()
    log = tmp / "serve.log"
    print(f"[bench] scripts/serve.sh on port {port} (log {log})", file=sys.stderr)
    proc, master = start_serve_sh(args, env, port, log)
    command = gunicorn_cmdline(master)
    machine["server_env"] = (
        f"MOTCUA_MAX_IN_FLIGHT={server_setting(master, 'MOTCUA_MAX_IN_FLIGHT')} per process, "
        f"MOTCUA_MAX_QUEUE_MS={server_setting(master, 'MOTCUA_MAX_QUEUE_MS') or '1000'}, "
        f"DATABASE_CONN_MAX_AGE={args.conn_max_age}, cache "
        + (f"Redis ({args.redis_url})" if args.redis_url else "per-process")
        + ", MOTCUA_LOOKUP_RATE raised (see the docstring)"
    )
    try:
        out = asyncio.run(run(args, world, port, master, run_id))
    finally:
        stop_serve_sh(proc)
    text = report(args, machine, dataset, world, command, out)
    print(text)
    target = Path(args.out)
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"mixed-{dt.datetime.now():%Y%m%d-%H%M%S}.md"
    path.write_text(text)
    print(f"[bench] report written to {path}", file=sys.stderr)
    print(path)
    server_log = log.read_text(errors="replace")
    if "Traceback" in server_log:
        print(f"[bench] server log kept: {log}\n{server_log[-4000:]}", file=sys.stderr)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
