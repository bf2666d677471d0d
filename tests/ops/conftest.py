"""Fixtures of the real-server tests: a migrated SQLite database with the demo catalogue and
API tokens, prepared once per session and copied for each test that needs one."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from .server import base_env, prepare_database


@dataclass
class Prepared:
    path: Path  # the template database file
    tokens: dict  # submit, process, targets


@pytest.fixture(scope="session")
def prepared_sqlite(tmp_path_factory) -> Prepared:
    tmp = tmp_path_factory.mktemp("ops-template")
    path = tmp / "template.sqlite3"
    tokens = prepare_database(base_env(tmp, f"sqlite:///{path}"))
    return Prepared(path, tokens)


@pytest.fixture
def sqlite_copy(prepared_sqlite, tmp_path) -> tuple[Path, dict]:
    """A fresh copy of the prepared database for one test: (file, tokens)."""
    path = tmp_path / "db.sqlite3"
    shutil.copyfile(prepared_sqlite.path, path)
    return path, prepared_sqlite.tokens
