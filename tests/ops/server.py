"""Real servers for the tests in tests/ops: gunicorn as ``scripts/serve.sh`` runs it (gthread
workers of ``motcua.ops.gunicorn``), a private PostgreSQL cluster, and a small HTTP client.

Nothing here touches the shared PostgreSQL server at 127.0.0.1:5432: the PostgreSQL tests run
their own cluster (``initdb`` into a temporary directory, ``postgres`` on a free port), which
they may kill.
"""

from __future__ import annotations

import contextlib
import glob
import http.client
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(tmp: Path, database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a production-like process: DEBUG off, its own var/ and static dirs."""
    (tmp / "var").mkdir(parents=True, exist_ok=True)
    (tmp / "static").mkdir(parents=True, exist_ok=True)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "MOTCUA_", "PROMETHEUS_", "REDIS_", "DJANGO_"))
        and k not in {"PYTEST_CURRENT_TEST", "HUEY_IMMEDIATE"}
    }
    env.update(
        {
            "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
            "DJANGO_SETTINGS_MODULE": "motcua.settings",
            "DATABASE_URL": database_url,
            "DEBUG": "0",
            "SECRET_KEY": "ops-tests-" + "x" * 40,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_LEVEL": "WARNING",
            "MOTCUA_VAR_DIR": str(tmp / "var"),
            "STATIC_ROOT": str(tmp / "static"),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    env.update(extra)
    return env


def prepare_database(env: dict[str, str]) -> dict:
    """Migrate, load the demo catalogue, issue tokens (tests/ops/prepare.py); its JSON."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.ops.prepare"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    if done.returncode != 0:
        raise RuntimeError(f"prepare failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


@dataclass
class Gunicorn:
    """gunicorn with the gthread worker and hooks of motcua.ops.gunicorn, on a free port."""

    env: dict[str, str]
    log: Path
    workers: int = 1
    threads: int = 4
    extra: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    def command(self) -> list[str]:
        return [
            str(BIN / "gunicorn"),
            "motcua.wsgi:application",
            "-c",
            "python:motcua.ops.gunicorn",
            "--worker-class",
            "motcua.ops.gunicorn.ThreadWorker",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--threads",
            str(self.threads),
            "--backlog",
            "64",
            "--timeout",
            "30",
            "--graceful-timeout",
            "3",
            "--keep-alive",
            "5",
            *self.extra,
        ]

    def start(self, timeout: float = 60.0) -> Gunicorn:
        self.proc = subprocess.Popen(
            self.command(),
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log.read_text()[-3000:]}")
            with contextlib.suppress(OSError):
                if self.request("GET", "/healthz", timeout=2)[0] == 200:
                    return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer:\n{self.log.read_text()[-3000:]}")

    def request(self, method: str, path: str, body=None, headers=None, timeout: float = 30.0):
        return request(self.port, method, path, body, headers, timeout)

    def kill9(self) -> None:
        """SIGKILL the master and every worker at once (its own process group)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill9()


def request(port, method, path, body=None, headers=None, timeout=30.0):
    """(status, headers as a dict with lower-case names, body bytes) — a new connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        head = {"Host": "127.0.0.1", **(headers or {})}
        if data is not None:
            head.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=head)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def parse_metrics(text: str) -> dict[tuple[str, frozenset], float]:
    """{(name, frozenset of label pairs): value} from the Prometheus text format."""
    from prometheus_client.parser import text_string_to_metric_families

    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def metric(samples: dict, name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


# --- a private PostgreSQL cluster ------------------------------------------------------------


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def require_or_skip(reason: str):
    """Skip with ``reason``; under CI=true fail instead (CI must run every test)."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required under CI=true)", pytrace=False)
    pytest.skip(reason)


class PrivatePostgres:
    """``initdb`` into a temporary directory and ``postgres -p <free port>`` as a subprocess in
    its own process group, with durable commits (fsync on, synchronous_commit on). As root it
    runs as the ``postgres`` system user (the server refuses root)."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="motcua-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.proc: subprocess.Popen | None = None
        self.user = None
        if os.geteuid() == 0:
            try:
                self.user = pwd.getpwnam("postgres")
            except KeyError:
                require_or_skip(
                    "running as root and there is no 'postgres' system user to run a private "
                    "PostgreSQL cluster as (the server refuses to run as root)"
                )
            os.chown(self.dir, self.user.pw_uid, self.user.pw_gid)

    def _popen_user(self) -> dict:
        if self.user is None:
            return {}
        return {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}

    def init(self) -> None:
        subprocess.run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.data),
                "--auth=trust",
                "--username=postgres",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-instructions",
            ],
            check=True,
            capture_output=True,
            cwd=self.dir,
            **self._popen_user(),
        )

    def start(self, timeout: float = 30.0) -> None:
        self.proc = subprocess.Popen(
            [
                str(self.bindir / "postgres"),
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                "-k",
                str(self.dir),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=on",
                "-c",
                "synchronous_commit=on",
                "-c",
                "full_page_writes=on",
                "-c",
                "max_connections=60",
                "-c",
                "shared_buffers=32MB",
            ],
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            cwd=self.dir,
            start_new_session=True,
            **self._popen_user(),
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"postgres exited:\n{self.log.read_text()[-3000:]}")
            try:
                with self.connect("postgres") as conn:
                    conn.execute("SELECT 1")
                return
            except Exception:
                time.sleep(0.1)
        raise RuntimeError(f"postgres did not start:\n{self.log.read_text()[-3000:]}")

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str):
        import psycopg

        return psycopg.connect(self.url(database), autocommit=True, connect_timeout=3)

    def kill9(self) -> None:
        """SIGKILL the postmaster and every backend at once (its own process group)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        # Backends notice their postmaster's death on their own; wait until none is left.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _pids_with_cwd(self.data):
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)  # fast shutdown
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill9()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def _pids_with_cwd(directory: Path) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{entry}/cwd") == str(directory):
                    found.append(int(entry))
    return found
