"""The official forms of the one-stop mechanism (Mẫu 01–07), rendered to PDF (and XLSX).

A pure library: callers build the dataclasses of ``contexts`` (the dossiers app adapts its
models) and call ``render_pdf`` / ``render_register_pdf`` / ``render_register_xlsx``. Layouts are
versioned strategies in ``registry``, picked by date and legal basis. No models, no database.

The names below are loaded on first use, so ``import motcua.printing`` (as Django does for the
app) does not pull in ReportLab.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "AgencyHeader": "contexts",
    "ComponentLine": "contexts",
    "FeeLine": "contexts",
    "FormContext": "contexts",
    "HandOver": "contexts",
    "Person": "contexts",
    "RegisterContext": "contexts",
    "RegisterRow": "contexts",
    "FormRenderer": "registry",
    "UnknownForm": "registry",
    "register": "registry",
    "renderer_for": "registry",
    "render_pdf": "pdf",
    "render_register_pdf": "pdf",
    "render_register_xlsx": "pdf",
    "warm_up": "pdf",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f"motcua.printing.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'motcua.printing' has no attribute {name!r}")
