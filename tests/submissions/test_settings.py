"""The limits of online submission come from the environment (docs/configuration.md)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from motcua import settings as project_settings
from motcua.submissions import partial, services

NAMES = (
    "MOTCUA_DRAFT_DAYS",
    "MOTCUA_UPLOAD_HOURS",
    "MOTCUA_MAX_UPLOADS_PER_DRAFT",
    "MOTCUA_MAX_DRAFT_BYTES",
    "MOTCUA_PARTIAL_UPLOAD_ROOT",
)


def _settings_module() -> ModuleType:
    """A fresh copy of src/motcua/settings.py, read with the environment as it is now."""
    spec = importlib.util.spec_from_file_location(
        "motcua_settings_under_test", Path(project_settings.__file__)
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _apply(settings, module: ModuleType) -> None:
    for name in NAMES:
        setattr(settings, name, getattr(module, name))


def _limits() -> dict:
    return {
        "days": services.draft_ttl().days,
        "hours": services.upload_ttl().total_seconds() / 3600,
        "files": services.max_uploads_per_draft(),
        "bytes": services.max_draft_bytes(),
        "partial": partial.root(),
    }


def test_the_submission_limits_are_read_from_the_environment(monkeypatch, settings, tmp_path):
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    settings.MEDIA_ROOT = tmp_path / "media"
    _apply(settings, _settings_module())
    assert _limits() == {
        "days": 30,
        "hours": 24,
        "files": 50,
        "bytes": 200 * 1024 * 1024,
        "partial": tmp_path / "media" / "partial",
    }

    monkeypatch.setenv("MOTCUA_DRAFT_DAYS", "7")
    monkeypatch.setenv("MOTCUA_UPLOAD_HOURS", "6")
    monkeypatch.setenv("MOTCUA_MAX_UPLOADS_PER_DRAFT", "12")
    monkeypatch.setenv("MOTCUA_MAX_DRAFT_BYTES", "1048576")
    monkeypatch.setenv("MOTCUA_PARTIAL_UPLOAD_ROOT", str(tmp_path / "dang-tai"))
    _apply(settings, _settings_module())
    assert _limits() == {
        "days": 7,
        "hours": 6,
        "files": 12,
        "bytes": 1048576,
        "partial": tmp_path / "dang-tai",
    }
