"""Versioned form strategies: which layout of a form is in force on a given date.

Forms are re-issued with the law (TT 01/2018 → TT 03/2025, perhaps the Ministry of Justice after
Decree 309/2026), and a dossier keeps the regime in force when it was received. Each layout is a
renderer registered under its form number, the date it takes effect and its legal basis::

    @register(form="01", valid_from=date(2025, 7, 1), basis="Thông tư 03/2025/TT-VPCP",
              title="GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ")
    def receipt(ctx: FormContext) -> list[Flowable]: ...

``renderer_for("01", on=date(2025, 7, 14))`` then picks the registration with the latest
``valid_from`` on or before that date. Adding the 2018 set is one more module of registrations
with ``valid_from`` in 2018; nothing else changes. Pure Python: the renderers are opaque here.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from motcua.core.errors import InvalidInput

# Modules whose import registers the built-in layouts (loaded on first look-up, so importing the
# registry alone stays cheap and free of ReportLab).
BUILTIN_MODULES = ("motcua.printing.forms_2025",)


class UnknownForm(InvalidInput):
    """No layout of this form is in force on that date."""

    code = "unknown_form"
    default_message = "Không có biểu mẫu phù hợp."


@dataclass(frozen=True)
class FormRenderer:
    """One registered layout of one form.

    ``build`` turns the context into the page content (for PDF: a list of ReportLab
    flowables); ``build_xlsx`` is set for forms that also export to a spreadsheet (the register).
    ``context_type`` is the context class the renderer accepts.
    """

    form: str
    valid_from: date
    basis: str
    title: str
    build: Callable[[Any, FormRenderer], Any]
    context_type: type | None = None
    landscape: bool = False
    number_suffix: str = ""  # "PBS", "PTC", … printed in the number line
    build_xlsx: Callable[[Any], bytes] | None = None


class Registry:
    """Layouts by form number, each list sorted by ``valid_from``."""

    def __init__(self, builtin_modules: tuple[str, ...] = ()) -> None:
        self._by_form: dict[str, list[FormRenderer]] = {}
        self._builtin_modules = builtin_modules
        self._loaded = not builtin_modules
        self._lock = threading.Lock()

    def register(
        self,
        *,
        form: str,
        valid_from: date,
        basis: str,
        title: str = "",
        context_type: type | None = None,
        landscape: bool = False,
        number_suffix: str = "",
        xlsx: Callable[[Any], bytes] | None = None,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator: register ``build`` as the layout of ``form`` from ``valid_from`` on."""

        def decorator(build: Callable[..., Any]) -> Callable[..., Any]:
            self.add(
                FormRenderer(
                    form=form,
                    valid_from=valid_from,
                    basis=basis,
                    title=title,
                    build=build,
                    context_type=context_type,
                    landscape=landscape,
                    number_suffix=number_suffix,
                    build_xlsx=xlsx,
                )
            )
            return build

        return decorator

    def add(self, renderer: FormRenderer) -> None:
        """Register one layout; two layouts of a form may not start on the same day."""
        versions = self._by_form.setdefault(renderer.form, [])
        if any(v.valid_from == renderer.valid_from for v in versions):
            raise ValueError(
                f"form {renderer.form} already has a layout from {renderer.valid_from}"
            )
        versions.append(renderer)
        versions.sort(key=lambda v: v.valid_from)

    def renderer_for(self, form: str, on: date) -> FormRenderer:
        """The layout of ``form`` in force on ``on``: the latest ``valid_from`` <= ``on``.

        Raises ``UnknownForm`` (code ``unknown_form``) for a form number never registered or a
        date before its first layout.
        """
        self._load_builtins()
        if isinstance(on, datetime):  # a datetime counts by its day
            on = on.date()
        versions = self._by_form.get(form, [])
        index = bisect.bisect_right([v.valid_from for v in versions], on)
        if not versions:
            raise UnknownForm(f"Không có biểu mẫu số {form}.", form=form, on=on.isoformat())
        if index == 0:
            raise UnknownForm(
                f"Chưa có biểu mẫu số {form} áp dụng tại ngày {on:%d/%m/%Y}.",
                form=form,
                on=on.isoformat(),
            )
        return versions[index - 1]

    def forms(self) -> list[str]:
        """The form numbers that have at least one layout."""
        self._load_builtins()
        return sorted(self._by_form)

    def versions(self, form: str) -> list[FormRenderer]:
        """Every layout of ``form``, oldest first."""
        self._load_builtins()
        return list(self._by_form.get(form, []))

    def _load_builtins(self) -> None:
        if self._loaded:
            return
        with self._lock:
            if self._loaded:
                return
            import importlib

            for module in self._builtin_modules:
                importlib.import_module(module)
            self._loaded = True


registry = Registry(BUILTIN_MODULES)
register = registry.register
renderer_for = registry.renderer_for
