"""Run the whole test suite: lint, migration check, tests on SQLite, then on PostgreSQL.

PostgreSQL runs when CI=true (and must then be reachable at 127.0.0.1:5432, database `test`,
user `postgres`) or when MOTCUA_TEST_POSTGRES holds a database URL. Elsewhere it is skipped
with one line saying how to enable it. Extra arguments are passed to pytest.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CI_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def run(cmd: list[str], env: dict[str, str] | None = None) -> None:
    print("+", " ".join(cmd), flush=True)
    result = subprocess.run(cmd, cwd=ROOT, env=env)
    if result.returncode != 0:
        sys.exit(result.returncode)


def workers() -> list[str]:
    """pytest-xdist options when ``MOTCUA_TEST_WORKERS`` asks for more than one process (each
    module on one process). Off by default: a transactional test flushes the tables, and on a
    shared process the data the migrations put there (the national calendar) is then gone for
    the modules that follow — pytest-django orders those tests last only within one process."""
    count = int(os.environ.get("MOTCUA_TEST_WORKERS") or 1)
    return ["-n", str(count), "--dist", "loadscope"] if count > 1 else []


def main(argv: list[str]) -> None:
    base_env = {**os.environ}
    base_env.pop("DATABASE_URL", None)  # the SQLite run never touches a configured database
    run([str(BIN / "ruff"), "check", "."])
    run([str(BIN / "ruff"), "format", "--check", "."])
    run([sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"], env=base_env)
    run([sys.executable, "-m", "pytest", *workers(), *argv], env=base_env)

    pg_url = os.environ.get("MOTCUA_TEST_POSTGRES")
    if not pg_url and os.environ.get("CI") == "true":
        pg_url = CI_POSTGRES
    if not pg_url:
        print(
            "PostgreSQL run skipped: set MOTCUA_TEST_POSTGRES=postgresql://user@host:5432/db "
            "(or CI=true) to run the database tests on PostgreSQL too.",
            flush=True,
        )
        return
    # Only the tests that touch the database run again; pure tests gain nothing from a rerun.
    run(
        [sys.executable, "-m", "pytest", "--db-only", *workers(), *argv],
        env={**base_env, "DATABASE_URL": pg_url, "MOTCUA_REQUIRE_DB_VENDOR": "postgresql"},
    )


if __name__ == "__main__":
    main(sys.argv[1:])
