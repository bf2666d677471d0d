"""Durability: intake under load, then ``kill -9`` of the server (and, on PostgreSQL, of the
database) in the middle of it. After a restart, every dossier that was acknowledged (201 to
its intake, 200 to its receipt) is there and whole — its components, its event history, the
outbox rows of each event — no dossier code is issued twice, and the server serves again.

* SQLite: the project's own settings (WAL, ``synchronous=FULL``, ``BEGIN IMMEDIATE``) on a file
  in a temporary directory.
* PostgreSQL: a private cluster (``initdb`` into a temporary directory, ``postgres`` on a free
  port, ``fsync=on``, ``synchronous_commit=on``), never the shared server at 127.0.0.1:5432
  that other tests use. Skipped with one line when the server binaries are missing; under
  CI=true it fails instead.

``kill -9`` of a process cannot lose what the operating system already holds, so this proves
atomicity and what a process crash leaves; surviving a power cut rests on the fsync settings,
checked here and documented in docs/deployment.md.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .server import (
    Gunicorn,
    PrivatePostgres,
    base_env,
    postgres_bin,
    prepare_database,
    request,
    require_or_skip,
)

NAMES = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung", "Đặng Văn Hùng"]


def intake_body(target: dict, n: int) -> dict:
    return {
        "procedure_code": target["procedure"],
        "receiving_agency": target["agency"],
        "channel": "online",
        "applicant": {
            "kind": "individual",
            "name": NAMES[n % len(NAMES)],
            "personal_id": f"038090{n:06d}",
            "phone": f"091{(n * 7919) % 10**7:07d}",
            "province_code": "38",
            "commune_code": "14797",
            "address_line": f"Số {n % 200 + 1}, đường Lê Lợi",
        },
        "components": [{"component_id": c, "originals": 1} for c in target["components"]],
        "delivery": "online",
    }


@dataclass
class IntakeLoad:
    """Clients submitting dossiers and receiving every other one (so codes are issued) as
    fast as the server answers; what was acknowledged is kept."""

    tokens: dict
    port: int
    clients: int = 6
    acked: dict[str, str] = field(default_factory=dict)  # idempotency key -> uuid
    expected_components: dict[str, int] = field(default_factory=dict)
    received: dict[str, str] = field(default_factory=dict)  # uuid -> code
    failures: Counter = field(default_factory=Counter)
    in_flight: int = 0

    def __post_init__(self):
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)
        self._threads = [
            threading.Thread(target=self._run, daemon=True) for _ in range(self.clients)
        ]

    def start(self) -> IntakeLoad:
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(30)

    def _call(self, method, path, body, headers):
        with self._lock:
            self.in_flight += 1
        try:
            return request(self.port, method, path, body, headers, timeout=15)[::2]
        except Exception as exc:
            with self._lock:
                self.failures[type(exc).__name__] += 1
            time.sleep(0.05)
            return None, b""
        finally:
            with self._lock:
                self.in_flight -= 1

    def _run(self):
        submit = {"Authorization": f"Bearer {self.tokens['submit']}"}
        process = {"Authorization": f"Bearer {self.tokens['process']}"}
        targets = self.tokens["targets"]
        while not self._stop.is_set():
            n = next(self._numbers)
            target = targets[n % len(targets)]
            key = f"durability-{n}"
            status, body = self._call(
                "POST",
                "/api/v1/dossiers",
                intake_body(target, n),
                {**submit, "Idempotency-Key": key},
            )
            if status not in (200, 201):
                if status is not None:
                    self.failures[f"intake HTTP {status}"] += 1
                    time.sleep(0.05)
                continue
            uuid = json.loads(body)["uuid"]
            with self._lock:
                self.acked[key] = uuid
                self.expected_components[key] = len(target["components"])
            if n % 2:
                continue
            status, body = self._call(
                "POST", f"/api/v1/dossiers/{uuid}/receive", {"note": ""}, process
            )
            if status == 200:
                with self._lock:
                    self.received[uuid] = json.loads(body)["code"]
            elif status is not None:
                self.failures[f"receive HTTP {status}"] += 1

    def kill_mid_run(self, kill, settle: float = 0.0) -> int:
        """Wait until requests are in flight, then ``kill()``; the number in flight then."""
        deadline = time.monotonic() + 5
        while self.in_flight < 2 and time.monotonic() < deadline:
            time.sleep(0.001)
        in_flight = self.in_flight
        kill()
        time.sleep(settle)
        return in_flight

    def wait_for(self, acknowledged: int, limit: float = 20.0) -> None:
        deadline = time.monotonic() + limit
        while len(self.acked) < acknowledged and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.acked) >= acknowledged, (len(self.acked), self.failures)


def check_whole(query, load: IntakeLoad) -> dict:
    """Every acknowledged dossier is stored whole, and every stored dossier is whole (no
    half-written intake or receipt survived the crash); codes are unique."""
    rows = query(
        "SELECT id, uuid, idempotency_key, status, code FROM dossiers_dossier "
        "WHERE idempotency_key IS NOT NULL"
    )
    by_key = {}
    for pk, uuid, key, status, code in rows:
        short = key.split(":", 1)[1]  # stored as "<user id>:<key>"
        by_key[short] = (pk, str(uuid).replace("-", ""), status, code)
    components = dict(
        query("SELECT dossier_id, COUNT(*) FROM dossiers_submittedcomponent GROUP BY dossier_id")
    )
    events: dict[int, list[str]] = {}
    event_ids: dict[int, list[int]] = {}
    for dossier_id, event_id, action in query(
        "SELECT dossier_id, id, action FROM dossiers_dossierevent ORDER BY id"
    ):
        events.setdefault(dossier_id, []).append(action)
        event_ids.setdefault(dossier_id, []).append(event_id)
    outbox = dict(
        query(
            "SELECT event_id, COUNT(*) FROM dossiers_outboxmessage "
            "WHERE event_id IS NOT NULL GROUP BY event_id"
        )
    )
    duplicated = query(
        "SELECT code, COUNT(*) FROM dossiers_dossier WHERE code IS NOT NULL "
        "GROUP BY code HAVING COUNT(*) > 1"
    )
    assert duplicated == [], duplicated
    codes = list(load.received.values())
    assert len(codes) == len(set(codes)), "a code was acknowledged for two dossiers"

    missing = [key for key in load.acked if key not in by_key]
    assert not missing, f"{len(missing)} acknowledged dossiers lost: {missing[:5]}"
    for key, uuid in load.acked.items():
        pk, stored_uuid, status, code = by_key[key]
        assert stored_uuid == uuid.replace("-", ""), key
        assert components.get(pk, 0) == load.expected_components[key], key
        if uuid in load.received:
            assert code == load.received[uuid], (key, code, load.received[uuid])
            assert status == 2, (key, status)
    for key, (pk, _uuid, status, code) in by_key.items():
        actions = events.get(pk, [])
        assert actions[:1] == ["submit"], (key, actions)
        if status == 2:
            assert actions == ["submit", "receive"] and code, (key, actions, code)
        else:
            assert status == 1 and actions == ["submit"] and code is None, (key, status, actions)
        assert all(outbox.get(e, 0) >= 1 for e in event_ids[pk]), f"{key}: outbox rows lost"
    return {"stored": len(by_key), "received": sum(1 for v in by_key.values() if v[2] == 2)}


def read_back_through_the_api(load: IntakeLoad, port: int) -> None:
    """After the restart the server answers every acknowledged dossier as it was told."""
    auth = {"Authorization": f"Bearer {load.tokens['submit']}"}
    for uuid in list(load.acked.values())[:: max(1, len(load.acked) // 15)]:
        status, _headers, body = request(port, "GET", f"/api/v1/dossiers/{uuid}", headers=auth)
        assert status == 200, (uuid, status, body[:200])
        data = json.loads(body)
        if uuid in load.received:
            assert data["code"] == load.received[uuid]


# --- SQLite ---------------------------------------------------------------------------------


def test_sqlite_settings_make_commits_durable(tmp_path):
    """The settings every connection gets: WAL, synchronous=FULL (each commit synced, also the
    WAL), BEGIN IMMEDIATE for writers."""
    from django.conf import settings

    options = settings.DATABASES["default"].get("OPTIONS", {})
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        pytest.skip("the default database is not SQLite in this run")
    assert options["transaction_mode"] == "IMMEDIATE"
    conn = sqlite3.connect(tmp_path / "probe.sqlite3")
    conn.executescript(options["init_command"])
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    conn.close()


def test_sqlite_survives_kill_9_of_the_server_mid_intake(sqlite_copy, tmp_path):
    path, tokens = sqlite_copy
    env = base_env(tmp_path, f"sqlite:///{path}", MOTCUA_MAX_IN_FLIGHT="0")
    server = Gunicorn(env, tmp_path / "gunicorn.log", workers=1, threads=4).start()
    try:
        load = IntakeLoad(tokens, server.port).start()
        try:
            load.wait_for(40)
            assert load.kill_mid_run(server.kill9) >= 1
            before = len(load.acked)
            server.start()
            load.wait_for(before + 20)  # serving again, codes issued after the restart too
        finally:
            load.stop()
        assert load.failures, "the kill interrupted nothing"
        assert load.received, "no receipt was acknowledged"
        read_back_through_the_api(load, server.port)
        conn = sqlite3.connect(path)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            counts = check_whole(lambda sql: conn.execute(sql).fetchall(), load)
        finally:
            conn.close()
    finally:
        server.stop()
    assert counts["stored"] >= len(load.acked)


# --- PostgreSQL -----------------------------------------------------------------------------


@pytest.fixture
def private_postgres():
    bindir = postgres_bin()
    if bindir is None or not (bindir / "postgres").exists():
        require_or_skip(
            "PostgreSQL server binaries (initdb, postgres) not found under "
            "/usr/lib/postgresql/*/bin: the PostgreSQL durability test needs them "
            "(Debian: apt-get install postgresql)"
        )
    pg = PrivatePostgres(bindir)
    try:
        pg.init()
        pg.start()
        yield pg
    finally:
        pg.cleanup()


def test_postgresql_survives_kill_9_of_the_database_and_the_server(private_postgres, tmp_path):
    pg = private_postgres
    with pg.connect("postgres") as conn:
        conn.execute("CREATE DATABASE motcua")
        assert conn.execute("SHOW fsync").fetchone()[0] == "on"
        assert conn.execute("SHOW synchronous_commit").fetchone()[0] == "on"
    env = base_env(tmp_path, pg.url("motcua"), MOTCUA_MAX_IN_FLIGHT="0")
    # Set-up only: its commits need not wait for the disk (the server's do; checked above).
    tokens = prepare_database({**env, "PGOPTIONS": "-c synchronous_commit=off"})
    with pg.connect("motcua") as conn:
        conn.execute("CHECKPOINT")  # so that crash recovery replays the load, not the set-up
    server = Gunicorn(env, tmp_path / "gunicorn.log", workers=1, threads=6).start()
    try:
        load = IntakeLoad(tokens, server.port).start()
        try:
            load.wait_for(30)
            assert load.kill_mid_run(pg.kill9) >= 1  # the database, mid-run
            pg.start()  # crash recovery from the WAL
            before = len(load.acked)
            load.wait_for(before + 20)
            assert load.kill_mid_run(server.kill9) >= 1  # then the server, mid-run
            before = len(load.acked)
            server.start()
            load.wait_for(before + 20)
        finally:
            load.stop()
        assert load.received, "no receipt was acknowledged"
        assert any("HTTP 5" in k or "Error" in k for k in load.failures), load.failures
        read_back_through_the_api(load, server.port)
        with pg.connect("motcua") as conn:
            counts = check_whole(lambda sql: conn.execute(sql).fetchall(), load)
    finally:
        server.stop()
    assert counts["stored"] >= len(load.acked)
    log = Path(pg.log).read_text()
    assert "automatic recovery in progress" in log  # it was a crash, and it was recovered
    assert "PANIC" not in log
