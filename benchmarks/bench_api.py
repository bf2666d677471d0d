"""Load benchmark of the HTTP API on PostgreSQL behind gunicorn, with an open-loop generator.

Run from the repository root::

    .venv/bin/python benchmarks/bench_api.py [--part intake|lookup|all] [--seconds 30]
        [--rate R[,R...]] [--workers 4] [--threads 1]
    .venv/bin/python benchmarks/bench_api.py --part sequential [--requests 1000]

What it does, in one run:

1. drops and recreates the scratch database (``--db``, default ``motcua_bench``; never ``test``),
   migrates it, loads the demo province, creates a portal service account with a
   ``dossiers:submit`` token and a counter officer (``counter_officer`` at every receiving agency
   used) with a ``dossiers:process`` token;
2. starts gunicorn on a free port as a subprocess (``motcua.wsgi``, persistent database
   connections via ``DATABASE_CONN_MAX_AGE``, Redis cache via ``REDIS_URL`` unless
   ``--redis-url ''``), submits and receives ``--lookup-dossiers`` dossiers through the API;
3. drives each phase with a fixed arrival rate (open loop: request *i* is due at
   ``t0 + i / rate`` whatever the server does, and its latency runs from that due time, so
   queueing in the client or the server is included). Each target phase is preceded by a
   baseline phase at the same rate on a trivial endpoint (``GET /api/v1/calendar/days-off``:
   one small query through the same middleware and Ninja stack), to read the figures as ratios
   on a noisy machine;
4. intake: ``POST /api/v1/dossiers`` with a unique ``Idempotency-Key`` and a new applicant per
   dossier, about 1% sent twice at the same instant with the same key; afterwards the database
   must hold exactly one dossier per acknowledged key and none twice;
   lookup: ``GET /api/v1/lookup/{code}?factor=NNNN`` (correct factor: the timeline is included)
   from ``--clients`` simulated clients (``X-Forwarded-For``, which the throttle keys on with
   ``MOTCUA_CLIENT_IP_HEADER`` set as behind the province's reverse proxy), so the
   app's own per-client rate (``MOTCUA_LOOKUP_RATE``, 120/m) applies unchanged;
5. reports throughput, p50/p90/p99/max latency, errors, CPU per request of the gunicorn workers,
   of the PostgreSQL backends and of the generator itself, machine busy and steal time, commits
   and WAL syncs; then the anatomy of each request in process (queries, SQL time, the slowest
   query split into planning and execution time by ``EXPLAIN``).

``--part sequential`` runs one gunicorn worker and sends one request at a time (``--requests``
per endpoint): baseline, intake, baseline, lookup of codes whose answer is kept (every code
looked up once before), lookup of codes whose dossier has just changed (``lookup.forget``
before each request). Without queueing or contention between our own processes, the CPU per
request of the worker and of PostgreSQL is the figure to compare on a shared machine.

The generator is a small HTTP/1.1 client on asyncio streams (keep-alive when the server allows
it), one process, one thread: it costs a fraction of what httpx would on the same 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# --src: measure a patched copy of the application (the generator and the report stay the same).
SRC = Path(
    next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--src=")), None)
    or (sys.argv[sys.argv.index("--src") + 1] if "--src" in sys.argv else ROOT / "src")
).resolve()
sys.path[:0] = [str(SRC), str(ROOT)]

CLK_TCK = os.sysconf("SC_CLK_TCK")
BASELINE_PATH = "/api/v1/calendar/days-off?from=2026-04-01&to=2026-05-31"
FIRST_NAMES = ["Nguyễn Văn", "Trần Thị", "Lê Văn", "Phạm Thị", "Hoàng Văn", "Vũ Thị", "Đặng Văn"]
LAST_NAMES = ["An", "Bình", "Cường", "Dung", "Hằng", "Hùng", "Lan", "Minh", "Nga", "Phúc"]


# --- arguments ------------------------------------------------------------------------------


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--part",
        choices=["intake", "lookup", "all", "sequential"],
        default="all",
        help="sequential: one worker, one request at a time (CPU per request without queueing)",
    )
    p.add_argument(
        "--requests", type=int, default=1000, help="--part sequential: requests per endpoint"
    )
    p.add_argument("--seconds", type=float, default=30.0, help="measured seconds per phase")
    p.add_argument("--warmup", type=float, default=5.0, help="unmeasured seconds before each")
    p.add_argument(
        "--rate",
        default="",
        help="arrival rate(s), requests/s, comma-separated; default 200 for intake, 500 for lookup",
    )
    p.add_argument("--intake-rate", default="200")
    p.add_argument("--lookup-rate", default="500")
    p.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    p.add_argument(
        "--threads", type=int, default=1, help="threads per worker (>1: gthread worker class)"
    )
    p.add_argument("--worker-class", default="", help="gunicorn -k (default: sync, or gthread)")
    p.add_argument("--conn-max-age", type=int, default=600, help="DATABASE_CONN_MAX_AGE")
    p.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/13",
        help="REDIS_URL for the cache (throttles shared by the workers); '' = per-process locmem",
    )
    p.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432", help="server URL")
    p.add_argument("--db", default="motcua_bench", help="scratch database, dropped and recreated")
    p.add_argument("--lookup-dossiers", type=int, default=500, help="received dossiers to look up")
    p.add_argument("--clients", type=int, default=2000, help="simulated lookup clients")
    p.add_argument("--factor-share", type=float, default=1.0, help="lookups with the factor")
    p.add_argument("--duplicate-share", type=float, default=0.01, help="intake sent twice")
    p.add_argument("--baseline", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--anatomy", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--max-connections", type=int, default=1000)
    p.add_argument("--timeout", type=float, default=30.0, help="per request, seconds")
    p.add_argument("--seed", type=int, default=20260302)
    p.add_argument("--json", default="", help="also write the results to this file")
    p.add_argument(
        "--src", default=str(ROOT / "src"), help="the application's source tree (a patched copy)"
    )
    args = p.parse_args(argv)
    if args.db in {"test", "postgres", "template0", "template1"}:
        p.error(f"refusing to drop database {args.db!r}: use a scratch database")
    if args.rate:
        args.intake_rate = args.lookup_rate = args.rate
    args.intake_rates = [float(r) for r in str(args.intake_rate).split(",") if r.strip()]
    args.lookup_rates = [float(r) for r in str(args.lookup_rate).split(",") if r.strip()]
    if not args.worker_class:
        args.worker_class = "gthread" if args.threads > 1 else "sync"
    if args.part == "sequential":
        args.workers = 1
    return args


# --- the machine ----------------------------------------------------------------------------


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def fsync_latency(directory: str, seconds: float = 0.5) -> float:
    """Mean µs of an 8 kB write + fdatasync on ``directory``'s file system (like a WAL flush)."""
    block = os.urandom(8192)
    fd, path = tempfile.mkstemp(dir=directory)
    try:
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            os.pwrite(fd, block, 0)
            os.fdatasync(fd)
            count += 1
        return (time.perf_counter() - start) / count * 1e6
    finally:
        os.close(fd)
        os.unlink(path)


# --- CPU accounting -------------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()  # fields from 3 (state) on


def proc_cpu(pids) -> float:
    """CPU seconds (user + system) used so far by ``pids``."""
    total = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLK_TCK


def children_of(ppid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields and int(fields[1]) == ppid:
                found.append(int(entry))
    return found


def machine_cpu() -> tuple[int, int, int]:
    """(busy, steal, total) jiffies over all CPUs from /proc/stat."""
    parts = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = parts[:8]
    busy = user + nice + system + irq + softirq
    return busy, steal, busy + idle + iowait + steal


@dataclass
class CpuMark:
    wall: float
    server: float
    pg: float
    gen: float
    machine: tuple[int, int, int]
    commits: int
    wal_syncs: int
    wal_writes: int


# --- the database ---------------------------------------------------------------------------


def recreate_database(pg_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{pg_url}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def configure_env(args, tmp: Path) -> dict[str, str]:
    env = {
        "DJANGO_SETTINGS_MODULE": "motcua.settings",
        "PYTHONPATH": os.pathsep.join([str(SRC), str(ROOT)]),
        "DATABASE_URL": f"{args.pg}/{args.db}",
        "DATABASE_CONN_MAX_AGE": str(args.conn_max_age),
        "DEBUG": "0",
        "SECRET_KEY": "bench-" + uuid.uuid4().hex * 2,
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "LOG_LEVEL": "WARNING",
        "MOTCUA_VAR_DIR": str(tmp / "var"),  # Huey's SQLite queue, media: not the repo's var/
        "STATIC_ROOT": str(tmp / "static"),
        "WHITENOISE_USE_FINDERS": "0",  # as in production (docs/configuration.md)
        "REDIS_URL": args.redis_url,
        # The simulated clients are told apart by X-Forwarded-For, as behind the province's
        # reverse proxy (docs/deployment.md): the throttle trusts that header only when told.
        "MOTCUA_CLIENT_IP_HEADER": "HTTP_X_FORWARDED_FOR",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    (tmp / "static").mkdir(parents=True, exist_ok=True)
    (tmp / "var").mkdir(parents=True, exist_ok=True)
    os.environ.update(env)
    if not args.redis_url:
        os.environ.pop("REDIS_URL", None)
        env.pop("REDIS_URL")
    return env


@dataclass
class Prepared:
    submit_token: str
    process_token: str
    service_user_id: int
    intake_targets: list[dict]  # procedure code, agency, component ids


def prepare_database(seed: int) -> Prepared:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from motcua.accounts.models import ApiToken, Membership, Role, Scope
    from motcua.agencies.models import Agency
    from motcua.catalog.models import Procedure

    with open(os.devnull, "w") as devnull:
        call_command("migrate", interactive=False, verbosity=0, stdout=devnull)
        call_command("load_demo", stdout=devnull)

    # Online intake targets: single-variant procedures with an online time limit, at each agency
    # that applies them.
    targets = []
    for procedure in Procedure.objects.filter(is_active=True).select_related("current_version"):
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
        raise SystemExit("the demo catalogue has no procedure open to online intake")
    random.Random(seed).shuffle(targets)

    User = get_user_model()
    portal = User.objects.create_user(username="bench-portal", first_name="Cổng DVC (bench)")
    _, submit_raw = ApiToken.issue(
        name="bench portal", user=portal, scopes=[Scope.DOSSIERS_SUBMIT, Scope.DOSSIERS_READ]
    )
    officer = User.objects.create_user(username="bench-counter", first_name="Cán bộ một cửa")
    for agency_id in sorted({t["agency_id"] for t in targets}):
        Membership.objects.create(
            user=officer, agency=Agency.objects.get(pk=agency_id), role=Role.COUNTER_OFFICER
        )
    _, process_raw = ApiToken.issue(
        name="bench counter",
        user=officer,
        scopes=[Scope.DOSSIERS_PROCESS, Scope.DOSSIERS_READ],
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return Prepared(submit_raw, process_raw, portal.pk, targets)


def pg_settings() -> dict[str, str]:
    from django.db import connection

    out = {}
    with connection.cursor() as cursor:
        for name in (
            "server_version",
            "synchronous_commit",
            "fsync",
            "wal_sync_method",
            "full_page_writes",
            "commit_delay",
            "shared_buffers",
            "max_connections",
        ):
            cursor.execute(f"SHOW {name}")
            out[name] = cursor.fetchone()[0]
        # Overrides for this database or role would apply to the server's connections too.
        cursor.execute(
            "SELECT coalesce(string_agg(array_to_string(setconfig, ','), '; '), '') "
            "FROM pg_db_role_setting s LEFT JOIN pg_database d ON d.oid = s.setdatabase "
            "WHERE d.datname = current_database() OR s.setdatabase = 0"
        )
        out["per_db_or_role_overrides"] = cursor.fetchone()[0] or "none"
    return out


def pg_counters(conn) -> tuple[list[int], int, int, int]:
    """(backend pids of this database, commits, WAL syncs, WAL writes) — stats lag up to ~1 s.

    ``conn``: a psycopg connection of its own (autocommit), usable inside the event loop.
    """
    pids = [
        row[0]
        for row in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
    ]
    commits = conn.execute(
        "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
    ).fetchone()[0]
    syncs, writes = conn.execute("SELECT wal_sync, wal_write FROM pg_stat_wal").fetchone()
    return pids, int(commits), int(syncs), int(writes)


# --- gunicorn -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn_command(args, port: int) -> list[str]:
    cmd = [
        str(Path(sys.executable).with_name("gunicorn")),
        "motcua.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        args.worker_class,
        "--backlog",
        "2048",
        "--timeout",
        "60",
        "--graceful-timeout",
        "5",
        "--worker-tmp-dir",
        "/dev/shm",
        "--log-level",
        "warning",
        "--preload",
    ]
    if args.worker_class == "gthread":
        cmd += ["--threads", str(args.threads), "--keep-alive", "5"]
    return cmd


def start_server(args, env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        gunicorn_command(args, port),
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            if len(children_of(proc.pid)) >= args.workers:
                return proc
        time.sleep(0.2)
    stop_server(proc)
    raise SystemExit("gunicorn did not start within 60 s")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # the master stops its own workers
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- a lean HTTP/1.1 client -----------------------------------------------------------------


class Http:
    """Pre-built requests over raw asyncio streams; keeps connections the server keeps."""

    def __init__(self, port: int, max_connections: int):
        self.port = port
        self.host_header = f"Host: 127.0.0.1:{port}\r\n".encode()
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.slots = asyncio.Semaphore(max_connections)
        self.opened = 0

    def get(self, path: str, headers: dict[str, str] | None = None) -> bytes:
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        return f"GET {path} HTTP/1.1\r\n".encode() + self.host_header + extra.encode() + b"\r\n"

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> bytes:
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        head = (
            f"POST {path} HTTP/1.1\r\n{extra}Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
        )
        return head.encode() + self.host_header + b"\r\n" + body

    async def request(self, data: bytes) -> tuple[int, bytes]:
        async with self.slots:
            for attempt in (0, 1):
                reused = attempt == 0 and bool(self.idle)
                if reused:
                    reader, writer = self.idle.pop()
                else:
                    reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                    self.opened += 1
                keep = False
                try:
                    writer.write(data)
                    try:
                        head = await reader.readuntil(b"\r\n\r\n")
                    except (ConnectionError, asyncio.IncompleteReadError):
                        # A kept connection the server closed meanwhile: nothing was answered,
                        # so sending again on a new connection is safe (and POSTs carry an
                        # Idempotency-Key).
                        if reused:
                            continue
                        raise
                    status, body, keep = await self._rest(reader, head)
                    return status, body
                finally:
                    if keep:
                        self.idle.append((reader, writer))
                    else:
                        writer.close()
        raise ConnectionError("unreachable")

    @staticmethod
    async def _rest(reader, head: bytes) -> tuple[int, bytes, bool]:
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, close, chunked = None, lines[0].startswith(b"HTTP/1.0"), False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection":
                close = value.strip().lower() == b"close"
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
        if length is not None:
            body = await reader.readexactly(length)
        elif chunked:
            parts = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                parts.append(await reader.readexactly(size + 2))
                if size == 0:
                    break
            body = b"".join(p[:-2] for p in parts)
        else:
            body, close = await reader.read(), True
        return status, body, not close


# --- the open-loop runner -------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    rate: float
    seconds: float
    sent: int = 0
    ok: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    throughput: float = 0.0
    p50: float = 0.0
    p90: float = 0.0
    p99: float = 0.0
    max: float = 0.0
    max_lag_ms: float = 0.0
    server_ms: float = 0.0
    pg_ms: float = 0.0
    gen_ms: float = 0.0
    gen_core: float = 0.0
    machine_busy: float = 0.0
    machine_steal: float = 0.0
    others_cores: float = 0.0
    commits_per_req: float = 0.0
    wal_syncs_per_s: float = 0.0
    connections: int = 0
    extra: dict = field(default_factory=dict)


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = max(0, min(len(sorted_values) - 1, round(q * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


class Meter:
    """CPU of the server, the PostgreSQL backends, this process and the machine."""

    def __init__(self, server_pid: int, dsn: str):
        import psycopg

        self.server_pid = server_pid
        self.conn = psycopg.connect(dsn, autocommit=True)

    def mark(self, pg_pids: list[int] | None = None) -> tuple[CpuMark, list[int]]:
        pids, commits, syncs, writes = pg_counters(self.conn)
        server = [self.server_pid, *children_of(self.server_pid)]
        return CpuMark(
            wall=time.perf_counter(),
            server=proc_cpu(server),
            pg=proc_cpu(pg_pids if pg_pids is not None else pids),
            gen=time.process_time(),
            machine=machine_cpu(),
            commits=commits,
            wal_syncs=syncs,
            wal_writes=writes,
        ), pids


async def open_loop(
    http: Http,
    meter: Meter,
    phase: Phase,
    make,
    warmup: float,
    timeout: float,
    twice: set[int] | None = None,
):
    """Send request ``make(i)`` at ``t0 + i / rate``; return the arrays of the measured ones."""
    n_warm = int(phase.rate * warmup)
    total = n_warm + int(phase.rate * phase.seconds)
    due = [0.0] * total
    done = [float("nan")] * total
    status = [0] * total
    bodies: list[bytes] = [b""] * total
    second: dict[int, tuple[int, bytes]] = {}
    prebuilt = [make(i) for i in range(total)]  # nothing to compute while sending
    perf = time.perf_counter

    async def one(i: int, data: bytes) -> None:
        try:
            async with asyncio.timeout(timeout):
                if twice and i in twice:
                    (s1, b1), (s2, b2) = await asyncio.gather(
                        http.request(data), http.request(data)
                    )
                    second[i] = (s2, b2)
                else:
                    s1, b1 = await http.request(data)
        except TimeoutError:
            s1, b1 = -1, b""
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            s1, b1 = -2, repr(exc).encode()
        done[i], status[i], bodies[i] = perf(), s1, b1

    tasks: set[asyncio.Task] = set()
    start_mark = pg_pids = None
    lag = 0.0
    t0 = perf() + 0.05
    for i in range(total):
        if i == n_warm:
            await asyncio.sleep(0)
            start_mark, pg_pids = meter.mark()
        due[i] = t0 + i / phase.rate
        delay = due[i] - perf()
        if delay > 0:
            await asyncio.sleep(delay)
        elif i >= n_warm:
            lag = max(lag, -delay)
        task = asyncio.create_task(one(i, prebuilt[i]))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    while tasks:
        await asyncio.gather(*list(tasks))
    end_mark, _ = meter.mark(pg_pids)

    measured = range(n_warm, total)
    phase.sent = len(measured)
    phase.max_lag_ms = lag * 1000
    latencies = sorted((done[i] - due[i]) * 1000 for i in measured)
    phase.p50, phase.p90, phase.p99 = (percentile(latencies, q) for q in (0.50, 0.90, 0.99))
    phase.max = latencies[-1]
    elapsed = max(done[i] for i in measured) - due[n_warm]
    wall = end_mark.wall - start_mark.wall
    # The server's and PostgreSQL's CPU per request it answered between the two marks: under
    # overload that includes warm-up requests still queued at the first mark (dividing by the
    # measured requests alone overstated the cost by up to the warm-up's share), not requests
    # the client gave up on that the server answers after the second one.
    served = sum(1 for i in range(total) if status[i] > 0 and done[i] >= start_mark.wall)
    served += sum(1 for i, (s2, _) in second.items() if s2 > 0 and done[i] >= start_mark.wall)
    served = max(served, 1)
    phase.extra["served_in_window"] = served
    phase.server_ms = (end_mark.server - start_mark.server) / served * 1000
    phase.pg_ms = (end_mark.pg - start_mark.pg) / served * 1000
    phase.gen_ms = (end_mark.gen - start_mark.gen) / phase.sent * 1000
    phase.gen_core = (end_mark.gen - start_mark.gen) / wall
    busy = end_mark.machine[0] - start_mark.machine[0]
    steal = end_mark.machine[1] - start_mark.machine[1]
    jiffies = end_mark.machine[2] - start_mark.machine[2]
    phase.machine_busy = busy / jiffies if jiffies else 0.0
    phase.machine_steal = steal / jiffies if jiffies else 0.0
    # Everything else on the machine (other people's test runs, autovacuum, Redis, the kernel's
    # share not charged to our processes), in cores: the noise of this phase.
    ours = (end_mark.server - start_mark.server) + (end_mark.pg - start_mark.pg)
    ours += end_mark.gen - start_mark.gen
    cores = len(os.sched_getaffinity(0))
    phase.others_cores = max(0.0, phase.machine_busy * cores - ours / wall)
    phase.commits_per_req = (end_mark.commits - start_mark.commits) / served
    phase.wal_syncs_per_s = (end_mark.wal_syncs - start_mark.wal_syncs) / wall
    phase.connections = http.opened
    # Per second of arrival: the slowest seconds show whether a tail is a stall or a queue.
    buckets: dict[int, list[float]] = {}
    for i in measured:
        buckets.setdefault(int(due[i] - due[n_warm]), []).append((done[i] - due[i]) * 1000)
    per_second = [
        (sec, len(v), percentile(sorted(v), 0.99), max(v)) for sec, v in sorted(buckets.items())
    ]
    phase.extra["worst_seconds"] = sorted(per_second, key=lambda r: -r[2])[:3]
    phase.extra["seconds_with_p99_over_50ms"] = sum(1 for r in per_second if r[2] > 50)
    return {
        "measured": measured,
        "all": range(total),
        "status": status,
        "bodies": bodies,
        "second": second,
        "elapsed": elapsed,
    }


def classify(phase: Phase, result: dict, good) -> None:
    ok = 0
    for i in result["measured"]:
        label = good(i, result["status"][i], result["bodies"][i])
        if label is None:
            ok += 1
        else:
            phase.errors[label] = phase.errors.get(label, 0) + 1
    phase.ok = ok
    phase.throughput = ok / result["elapsed"] if result["elapsed"] > 0 else 0.0


def status_label(status: int) -> str:
    return {-1: "timeout", -2: "connection error"}.get(status, f"HTTP {status}")


# --- workloads ------------------------------------------------------------------------------


class Applicants:
    """A new applicant per dossier: valid personal id (Thanh Hóa, born 1990) and phone."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.seq = 0

    def next(self) -> dict:
        self.seq += 1
        n = self.seq
        return {
            "kind": "individual",
            "name": f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}",
            "personal_id": f"038090{n:06d}",
            "phone": f"091{(n * 7919) % 10**7:07d}",
            "email": f"nguoinop{n}@example.invalid",
            "province_code": "38",
            "commune_code": "14797",
            "address_line": f"Số {n % 200 + 1}, đường Lê Lợi",
        }


def intake_body(target: dict, applicant: dict) -> bytes:
    return json.dumps(
        {
            "procedure_code": target["procedure"],
            "receiving_agency": target["agency"],
            "channel": "online",
            "applicant": applicant,
            "components": [{"component_id": c, "originals": 1} for c in target["components"]],
            "delivery": "online",
        },
        ensure_ascii=False,
    ).encode()


async def closed_loop(http: Http, requests: list[bytes], concurrency: int):
    results: list[tuple[int, bytes]] = [(0, b"")] * len(requests)
    queue = iter(range(len(requests)))

    async def worker():
        for i in queue:
            results[i] = await http.request(requests[i])

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return results, time.perf_counter() - start


# --- in-process anatomy of one request ------------------------------------------------------


def anatomy(prep: Prepared, codes: list[tuple[str, str]], run_id: str, samples: int = 30):
    """Queries, SQL time and wall time of each endpoint, in process (Django test client)."""
    from django.db import connection
    from django.test import Client

    client = Client()
    submit = {"HTTP_AUTHORIZATION": f"Bearer {prep.submit_token}"}
    process = {"HTTP_AUTHORIZATION": f"Bearer {prep.process_token}"}
    applicants = Applicants(hash(run_id) & 0xFFFF)
    applicants.seq = 900_000
    rows = []

    def measure(label, call, prepare=None):
        walls, samples_q = [], []
        for k in range(samples):
            if prepare is not None:
                prepare(k)  # not measured
            captured = []

            def wrapper(execute, sql, params, many, context, captured=captured):
                t = time.perf_counter()
                try:
                    return execute(sql, params, many, context)
                finally:
                    captured.append((time.perf_counter() - t, sql, params))

            with connection.execute_wrapper(wrapper):
                t = time.perf_counter()
                response = call(k)
                walls.append(time.perf_counter() - t)
            assert response.status_code < 300, (label, response.status_code, response.content)
            samples_q.append(captured)
        counts = [len(c) for c in samples_q]
        sql_ms = [sum(q[0] for q in c) * 1000 for c in samples_q]
        # The slowest query: the position in the request's query sequence with the highest
        # median time (the sequence has the same shape on every sample).
        slowest, slowest_ms = None, 0.0
        steady = [c for c in samples_q[3:] if len(c) == len(samples_q[-1])]
        for pos in range(len(samples_q[-1])):
            median = statistics.median(c[pos][0] for c in steady) * 1000
            if median > slowest_ms:
                slowest, slowest_ms = samples_q[-1][pos], median
        explain = ""
        if slowest and slowest[1].lstrip().upper().startswith("SELECT"):
            with connection.cursor() as cursor:
                plans = []
                for _ in range(5):
                    cursor.execute(
                        "EXPLAIN (ANALYZE, SUMMARY, FORMAT JSON) " + slowest[1], slowest[2]
                    )
                    plans.append(cursor.fetchone()[0][0])
                planning = statistics.median(p["Planning Time"] for p in plans)
                execution = statistics.median(p["Execution Time"] for p in plans)
                explain = f"planning {planning:.2f} ms, execution {execution:.2f} ms"
        rows.append(
            {
                "endpoint": label,
                "queries": statistics.median(counts),
                "sql_ms": statistics.median(sql_ms),
                "wall_ms": statistics.median(walls) * 1000,
                "slowest_ms": slowest_ms,
                "slowest_sql": (" ".join(slowest[1].split())[:90] + "…") if slowest else "",
                "slowest_explain": explain,
            }
        )

    from motcua.dossiers import lookup, services

    def look(k, factor: bool, net: int):
        code, digits = codes[k % len(codes)]
        return client.get(
            f"/api/v1/lookup/{code}",
            {"factor": digits} if factor else {},
            HTTP_X_FORWARDED_FOR=f"10.250.{net}.{k}",
        )

    measure("baseline GET days-off", lambda k: client.get(BASELINE_PATH))
    # With a shared cache (Redis) the lookup answers from the kept answer; the first lookup of
    # a code after a change (``lookup.forget``) reads the database.
    measure(
        "GET lookup (no factor, kept answer)",
        lambda k: look(k, False, 0),
        prepare=lambda k: look(k, False, 3),
    )
    measure(
        "GET lookup ?factor (kept answer)",
        lambda k: look(k, True, 1),
        prepare=lambda k: look(k, True, 4),
    )
    measure(
        "GET lookup ?factor (just changed: database)",
        lambda k: look(k, True, 2),
        prepare=lambda k: lookup.forget(codes[k % len(codes)][0]),
    )
    created: list[str] = []

    def post_dossier(k):
        target = prep.intake_targets[k % len(prep.intake_targets)]
        response = client.post(
            "/api/v1/dossiers",
            intake_body(target, applicants.next()),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=f"anatomy-{run_id}-{k}",
            **submit,
        )
        created.append(response.json()["uuid"])
        return response

    def warm_target(k):
        # The worker's reference caches hold the catalogue; so do this process's.
        target = prep.intake_targets[k % len(prep.intake_targets)]
        services.submit(
            services.SubmissionInput(
                procedure_code=target["procedure"],
                receiving_agency_id=target["agency_id"],
                channel="online",
                delivery="online",
                applicant=services.ApplicantInput(**applicants.next()),
            ),
            actor=services.SYSTEM,
        )

    measure("POST dossiers (intake)", post_dossier, prepare=warm_target)
    measure(
        "POST dossiers/{uuid}/receive",
        lambda k: client.post(
            f"/api/v1/dossiers/{created[k]}/receive",
            b"{}",
            content_type="application/json",
            **process,
        ),
    )
    return rows


# --- the run --------------------------------------------------------------------------------


async def run(args, prep: Prepared, port: int, server_pid: int, run_id: str) -> dict:
    http = Http(port, args.max_connections)
    meter = Meter(server_pid, f"{args.pg}/{args.db}")
    phases: list[Phase] = []
    out: dict = {"phases": phases}
    rng = random.Random(args.seed)
    applicants = Applicants(args.seed)
    submit_auth = {"Authorization": f"Bearer {prep.submit_token}"}
    process_auth = {"Authorization": f"Bearer {prep.process_token}"}

    # Every worker answers once before anything is measured.
    for _ in range(args.workers * 4):
        status, _ = await http.request(http.get(BASELINE_PATH))
        assert status == 200, status

    codes: list[tuple[str, str]] = []
    if args.part in ("lookup", "all", "sequential") or args.anatomy:
        n = args.lookup_dossiers
        submits = []
        for i in range(n):
            target = prep.intake_targets[i % len(prep.intake_targets)]
            body = intake_body(target, applicants.next())
            key = {"Idempotency-Key": f"prep-{run_id}-{i}"}
            submits.append(http.post("/api/v1/dossiers", body, {**submit_auth, **key}))
        answers, secs = await closed_loop(http, submits, 8)
        bad = [s for s, _ in answers if s != 201]
        if bad:
            raise SystemExit(f"lookup preparation: {len(bad)} submissions failed: {bad[:5]}")
        uuids = [json.loads(b)["uuid"] for _, b in answers]
        receives = [
            http.post(f"/api/v1/dossiers/{u}/receive", b'{"note": ""}', process_auth) for u in uuids
        ]
        answers2, secs2 = await closed_loop(http, receives, 8)
        for status, body in answers2:
            if status != 200:
                raise SystemExit(f"lookup preparation: receive failed {status}: {body[:300]!r}")
            data = json.loads(body)
            # The second factor: the last 4 digits of the applicant's phone.
            phone = "".join(ch for ch in data["applicant"]["phone"] if ch.isdigit())
            codes.append((data["code"], phone[-4:]))
        out["prep"] = {
            "dossiers": n,
            "submit_per_s_closed_loop_8": n / secs,
            "receive_per_s_closed_loop_8": n / secs2,
        }

    async def baseline(rate: float):
        phase = Phase("baseline GET days-off", rate, args.seconds)
        request = http.get(BASELINE_PATH)
        result = await open_loop(http, meter, phase, lambda i: request, args.warmup, args.timeout)
        classify(phase, result, lambda i, s, b: None if s == 200 else status_label(s))
        phases.append(phase)

    if args.part in ("intake", "all"):
        out["intake_checks"] = []
        for rate in args.intake_rates:
            if args.baseline:
                await baseline(rate)
            phase = Phase("intake POST /dossiers", rate, args.seconds)
            keys: list[str] = []
            n_total = int(rate * args.warmup) + int(rate * args.seconds)
            twice = {
                i
                for i in range(n_total)
                if args.duplicate_share and rng.random() < args.duplicate_share
            }

            def make(i, rate=rate, keys=keys):
                key = f"intake-{run_id}-{int(rate)}-{i}"
                keys.append(key)
                target = prep.intake_targets[i % len(prep.intake_targets)]
                body = intake_body(target, applicants.next())
                return http.post("/api/v1/dossiers", body, {**submit_auth, "Idempotency-Key": key})

            result = await open_loop(
                http, meter, phase, make, args.warmup, args.timeout, twice=twice
            )
            classify(phase, result, lambda i, s, b: None if s in (200, 201) else status_label(s))
            await wait_idle(meter)
            out["intake_checks"].append(
                await asyncio.to_thread(check_intake, prep, keys, result, phase)
            )
            phases.append(phase)

    if args.part in ("lookup", "all"):
        if args.part == "all":
            out["settle_s"] = await settle(meter, f"{args.pg}/{args.db}")
        prefix = rng.randrange(1, 250)
        for rate in args.lookup_rates:
            if args.baseline:
                await baseline(rate)
            phase = Phase("lookup GET /lookup/{code}", rate, args.seconds)
            picks = []

            def make(i, picks=picks):
                code, factor = codes[rng.randrange(len(codes))]
                use_factor = rng.random() < args.factor_share
                picks.append((code, use_factor))
                client = rng.randrange(args.clients)
                path = f"/api/v1/lookup/{code}" + (f"?factor={factor}" if use_factor else "")
                xff = f"10.{prefix}.{client // 250}.{client % 250 + 1}"
                return http.get(path, {"X-Forwarded-For": xff, "Accept": "application/json"})

            result = await open_loop(http, meter, phase, make, args.warmup, args.timeout)

            def good(i, s, b, picks=picks):
                if s != 200:
                    return status_label(s)
                code, use_factor = picks[i]
                if code.encode() not in b or (use_factor and b'"verified": true' not in b):
                    return "wrong body"
                return None

            classify(phase, result, good)
            phase.extra["clients"] = args.clients
            phases.append(phase)

    if args.part == "sequential":
        intake_keys = iter(range(10**9))

        def intake(i):
            target = prep.intake_targets[i % len(prep.intake_targets)]
            body = intake_body(target, applicants.next())
            key = {"Idempotency-Key": f"seq-{run_id}-{next(intake_keys)}"}
            return http.post("/api/v1/dossiers", body, {**submit_auth, **key})

        from motcua.dossiers import lookup as public_lookup

        picks = [codes[rng.randrange(len(codes))] for _ in range(args.requests + 100)]

        def look(i, code, factor, net=251):
            xff = f"10.{net}.{i // 250 % 250}.{i % 250 + 1}"
            return http.get(
                f"/api/v1/lookup/{code}?factor={factor}",
                {"X-Forwarded-For": xff, "Accept": "application/json"},
            )

        # Every code looked up once: the phase after answers from the kept answers (with a
        # shared cache); the last one looks up codes whose dossier has just changed
        # (``lookup.forget`` before each request, as a committed change does): the database.
        warm = [look(i, code, factor, net=252) for i, (code, factor) in enumerate(codes)]
        baseline_request = http.get(BASELINE_PATH)
        for name, make, want, before in (
            ("baseline GET days-off", lambda i: baseline_request, 200, None),
            ("intake POST /dossiers", intake, 201, None),
            ("baseline GET days-off", lambda i: baseline_request, 200, None),
            ("lookup GET /lookup/{code} (kept answer)", lambda i: look(i, *picks[i]), 200, None),
            (
                "lookup GET /lookup/{code} (just changed)",
                lambda i: look(i, *picks[i], net=253),
                200,
                lambda i: public_lookup.forget(picks[i][0]),
            ),
        ):
            if name.endswith("(kept answer)"):
                await closed_loop(http, warm, 8)
            phase = Phase(name, 0.0, 0.0)
            await sequential_phase(http, meter, phase, make, want, args.requests, before=before)
            phases.append(phase)

    out["codes"] = codes
    return out


async def sequential_phase(
    http: Http, meter: Meter, phase: Phase, make, want: int, n: int, warm: int = 50, before=None
) -> None:
    """One request at a time (one worker): the CPU each request costs without any queueing.

    ``before(i)`` runs in this process before request ``i`` (not timed)."""
    for i in range(warm):
        status, body = await http.request(make(i))
        if status != want:
            raise SystemExit(f"{phase.name}: HTTP {status}: {body[:300]!r}")
    prebuilt = [make(warm + i) for i in range(n)]
    latencies = []
    perf = time.perf_counter
    start_mark, pg_pids = meter.mark()
    for i, data in enumerate(prebuilt):
        if before is not None:
            before(warm + i)
        t = perf()
        status, body = await http.request(data)
        latencies.append((perf() - t) * 1000)
        if status == want:
            phase.ok += 1
        else:
            label = status_label(status)
            phase.errors[label] = phase.errors.get(label, 0) + 1
    end_mark, _ = meter.mark(pg_pids)
    wall = end_mark.wall - start_mark.wall
    latencies.sort()
    phase.extra["sequential"] = True
    phase.sent = n
    phase.seconds = wall
    phase.rate = phase.throughput = phase.ok / wall
    phase.p50, phase.p90, phase.p99 = (percentile(latencies, q) for q in (0.50, 0.90, 0.99))
    phase.max = latencies[-1]
    phase.server_ms = (end_mark.server - start_mark.server) / n * 1000
    phase.pg_ms = (end_mark.pg - start_mark.pg) / n * 1000
    phase.gen_ms = (end_mark.gen - start_mark.gen) / n * 1000
    phase.gen_core = (end_mark.gen - start_mark.gen) / wall
    busy = end_mark.machine[0] - start_mark.machine[0]
    jiffies = end_mark.machine[2] - start_mark.machine[2]
    phase.machine_busy = busy / jiffies if jiffies else 0.0
    ours = (end_mark.server - start_mark.server) + (end_mark.pg - start_mark.pg)
    ours += end_mark.gen - start_mark.gen
    cores = len(os.sched_getaffinity(0))
    phase.others_cores = max(0.0, phase.machine_busy * cores - ours / wall)
    phase.commits_per_req = (end_mark.commits - start_mark.commits) / n
    phase.wal_syncs_per_s = (end_mark.wal_syncs - start_mark.wal_syncs) / wall


async def wait_idle(meter: Meter, quiet: float = 0.15, limit: float = 90.0) -> float:
    """Wait until the gunicorn workers are idle (requests whose clients gave up are still being
    served after an overload) and the machine is quiet."""
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        server = [meter.server_pid, *children_of(meter.server_pid)]
        cpu0, machine0 = proc_cpu(server), machine_cpu()
        await asyncio.sleep(1.0)
        cpu1, machine1 = proc_cpu(server), machine_cpu()
        busy = (machine1[0] - machine0[0]) / max(1, machine1[2] - machine0[2])
        if cpu1 - cpu0 < 0.05 and busy < quiet:
            break
    return time.perf_counter() - start


async def settle(meter: Meter, dsn: str) -> float:
    """Between intake and lookup: VACUUM ANALYZE the scratch database, CHECKPOINT, then wait
    until the server and the machine are idle, so the lookup does not pay for the intake."""
    import psycopg

    start = time.perf_counter()

    def maintenance():
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE)")
            conn.execute("CHECKPOINT")

    await wait_idle(meter)
    await asyncio.to_thread(maintenance)
    await wait_idle(meter)
    return time.perf_counter() - start


def check_intake(prep: Prepared, keys: list[str], result: dict, phase: Phase) -> dict:
    """Every acknowledged key is in the database exactly once and no dossier is there twice.

    Requests that timed out may still have been committed afterwards (the server finishes what
    it accepted): they are counted apart; a client retrying with the same key would get 200.
    """
    from motcua.dossiers.models import Dossier

    status, bodies, second = result["status"], result["bodies"], result["second"]
    prefix = f"{prep.service_user_id}:"
    created = sum(1 for i in result["all"] if status[i] == 201) + sum(
        1 for s, _ in second.values() if s == 201
    )
    replays = sum(1 for i in result["all"] if status[i] == 200) + sum(
        1 for s, _ in second.values() if s == 200
    )
    answered = {i for i in result["all"] if status[i] in (200, 201)} | {
        i for i, (s, _) in second.items() if s in (200, 201)
    }
    acknowledged = {prefix + keys[i] for i in answered}
    sent = {prefix + k for k in keys}
    pair_ok = sum(
        1
        for i, (s2, b2) in second.items()
        if {status[i], s2} == {200, 201} and json.loads(bodies[i])["uuid"] == json.loads(b2)["uuid"]
    )
    # One query, after the server went idle: every dossier of this phase with its applicant.
    rows = list(
        Dossier.objects.filter(idempotency_key__in=sorted(sent)).values_list(
            "idempotency_key", "applicant_id"
        )
    )
    in_db = {key for key, _ in rows}
    applicants = [applicant for _, applicant in rows]
    late = in_db - acknowledged
    check = {
        "rate": phase.rate,
        "requests_sent_incl_warmup": len(keys) + len(second),
        "http_201_created": created,
        "http_200_replayed": replays,
        "dossiers_in_db": len(rows),
        "distinct_keys_in_db": len(in_db),
        "dossiers_sharing_an_applicant": len(applicants) - len(set(applicants)),
        "duplicate_pairs": len(second),
        "duplicate_pairs_one_201_one_200_same_uuid": pair_ok,
        "acknowledged_keys_missing_in_db": len(acknowledged - in_db),
        "unanswered_keys_committed_after_timeout": len(late),
    }
    check["ok"] = (
        len(rows) == len(in_db)  # no key twice
        and len(applicants) == len(set(applicants))  # no dossier twice under another key
        and not (acknowledged - in_db)
        and len(rows) == created + len(late)
        and pair_ok == len(second)
    )
    return check


# --- report ---------------------------------------------------------------------------------


def report(args, machine: dict, pg: dict, gunicorn: list[str], out: dict) -> str:
    lines = []
    lines.append(
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['os']}, "
        f"CPython {machine['python']}, PostgreSQL {pg['server_version']}, "
        f"8 kB write + fdatasync {machine['fsync_us']:.0f} µs, load average at start "
        f"{machine['loadavg']}"
    )
    lines.append(
        f"PostgreSQL: synchronous_commit={pg['synchronous_commit']}, fsync={pg['fsync']}, "
        f"wal_sync_method={pg['wal_sync_method']}, full_page_writes={pg['full_page_writes']}, "
        f"commit_delay={pg['commit_delay']}, shared_buffers={pg['shared_buffers']}, "
        f"database/role overrides: {pg['per_db_or_role_overrides']}"
    )
    cache = f"Redis ({args.redis_url})" if args.redis_url else "LocMemCache (one per worker)"
    lines.append("Server: " + " ".join([Path(gunicorn[0]).name, *gunicorn[1:]]))
    lines.append(
        f"DATABASE_CONN_MAX_AGE={args.conn_max_age}, cache {cache}, DEBUG=0, "
        f"MOTCUA_LOOKUP_RATE={os.environ.get('MOTCUA_LOOKUP_RATE', '120/m (default)')}; "
        f"generator: one asyncio process, open loop, {args.warmup:g} s warm-up + "
        f"{args.seconds:g} s measured per phase"
    )
    lines.append("")
    lines.append(
        "| phase | offered /s | measured requests | ok | errors | achieved /s | p50 ms | p90 ms "
        "| p99 ms | max ms | server CPU ms/req | PG CPU ms/req | generator CPU ms/req "
        "(share of a core) | machine busy / others (cores) | transactions/req | WAL syncs/s |"
    )
    lines.append("|" + "---|" * 16)
    for ph in out["phases"]:
        errors = ", ".join(f"{k}: {v}" for k, v in sorted(ph.errors.items())) or "0"
        offered = "1 at a time" if ph.extra.get("sequential") else f"{ph.rate:g}"
        lines.append(
            f"| {ph.name} | {offered} | {ph.sent:,} | {ph.ok:,} | {errors} | "
            f"{ph.throughput:,.1f} | {ph.p50:.1f} | {ph.p90:.1f} | {ph.p99:.1f} | {ph.max:.1f} | "
            f"{ph.server_ms:.2f} | {ph.pg_ms:.2f} | {ph.gen_ms:.2f} ({ph.gen_core:.0%}) | "
            f"{ph.machine_busy:.0%} / {ph.others_cores:.2f} | {ph.commits_per_req:.2f} | "
            f"{ph.wal_syncs_per_s:,.0f} |"
        )
    lines.append("")
    for ph in out["phases"]:
        if ph.extra.get("sequential"):
            continue
        worst = ", ".join(
            f"s{sec}: p99 {p99:.0f} ms, max {mx:.0f} ms"
            for sec, _n, p99, mx in ph.extra["worst_seconds"]
        )
        lines.append(
            f"- {ph.name} @ {ph.rate:g}/s: {ph.extra['seconds_with_p99_over_50ms']} of "
            f"{len(range(int(ph.seconds)))} one-second windows with p99 > 50 ms; worst: {worst}; "
            f"{ph.extra['served_in_window']:,} answers in the measured window (CPU/req is per "
            "answer)"
        )
    by_target = {}
    for ph in out["phases"]:
        if ph.name.startswith("baseline"):
            base = ph
        else:
            by_target.setdefault(ph.name, []).append((ph, base if args.baseline else None))
    ratios = []
    for name, pairs in by_target.items():
        for ph, base in pairs:
            if base is not None:
                ratios.append(
                    f"{name} @ {ph.rate:g}/s vs baseline: p99 ×{ph.p99 / base.p99:.1f}, "
                    f"p50 ×{ph.p50 / base.p50:.1f}, "
                    f"server CPU/req ×{ph.server_ms / base.server_ms:.1f}"
                )
    if ratios:
        lines.append("")
        lines += [f"- {r}" for r in ratios]
    if "settle_s" in out:
        lines.append(
            f"- between intake and lookup: VACUUM ANALYZE, CHECKPOINT and "
            f"{out['settle_s']:.0f} s until the server and the machine were idle"
        )
    if "prep" in out:
        p = out["prep"]
        lines.append(
            f"- preparation (closed loop, 8 in flight): {p['dossiers']} submissions at "
            f"{p['submit_per_s_closed_loop_8']:.0f}/s, receipts at "
            f"{p['receive_per_s_closed_loop_8']:.0f}/s"
        )
    for check in out.get("intake_checks", []):
        lines.append(
            f"- intake check @ {check['rate']:g}/s: {'OK' if check['ok'] else 'FAILED'} — "
            + ", ".join(
                f"{k.replace('_', ' ')} {v}" for k, v in check.items() if k not in ("ok", "rate")
            )
        )
    if out.get("anatomy"):
        lines.append("")
        lines.append(
            "| endpoint (in process, median of 30) | queries | SQL ms | wall ms | slowest query "
            "ms (median) | its EXPLAIN | slowest query |"
        )
        lines.append("|---|---:|---:|---:|---:|---|---|")
        for row in out["anatomy"]:
            lines.append(
                f"| {row['endpoint']} | {row['queries']:g} | {row['sql_ms']:.2f} | "
                f"{row['wall_ms']:.2f} | {row['slowest_ms']:.2f} | {row['slowest_explain']} | "
                f"`{row['slowest_sql']}` |"
            )
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    run_id = uuid.uuid4().hex[:8]
    tmp = Path(tempfile.mkdtemp(prefix="motcua-bench-"))
    env = configure_env(args, tmp)
    machine = {
        "cpu": cpu_model(),
        "cores": len(os.sched_getaffinity(0)),
        "os": f"{platform.system()} {platform.machine()}",
        "python": platform.python_version(),
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "fsync_us": fsync_latency(str(tmp)),
    }
    print(f"[bench] recreating database {args.db}", file=sys.stderr)
    recreate_database(args.pg, args.db)

    import django

    django.setup()
    print("[bench] migrate + demo data + accounts", file=sys.stderr)
    prep = prepare_database(args.seed)
    pg = pg_settings()
    print(
        f"[bench] SHOW synchronous_commit = {pg['synchronous_commit']}, fsync = {pg['fsync']}",
        file=sys.stderr,
    )

    port = free_port()
    log = tmp / "gunicorn.log"
    command = gunicorn_command(args, port)
    print(f"[bench] starting {' '.join(command)}", file=sys.stderr)
    server = start_server(args, env, port, log)
    try:
        out = asyncio.run(run(args, prep, port, server.pid, run_id))
    finally:
        stop_server(server)
    if args.anatomy and out["codes"]:
        print("[bench] anatomy of each request (in process)", file=sys.stderr)
        out["anatomy"] = anatomy(prep, out["codes"], run_id)
    text = report(args, machine, pg, command, out)
    print(text)
    if args.json:
        data = {
            "machine": machine,
            "postgresql": pg,
            "gunicorn": command,
            "args": {k: v for k, v in vars(args).items()},
            "phases": [vars(p) for p in out["phases"]],
            "prep": out.get("prep"),
            "intake_checks": out.get("intake_checks"),
            "anatomy": out.get("anatomy"),
        }
        Path(args.json).write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    tail = log.read_text()[-2000:] if log.exists() else ""
    if "Traceback" in tail or "CRITICAL" in tail:
        print(f"\n[bench] gunicorn log ({log}):\n{tail}", file=sys.stderr)
    checks = out.get("intake_checks", [])
    return 0 if all(c["ok"] for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
