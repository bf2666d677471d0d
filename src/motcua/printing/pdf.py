"""Render the official forms: a context in, PDF (or, for the register, XLSX) bytes out.

The layout comes from the registry by date: a dossier is printed with the forms of the regime in
force when it was received, unless the caller says otherwise with ``on``.
"""

from __future__ import annotations

from datetime import date, datetime

from motcua.core.errors import InvalidInput
from motcua.printing import fmt
from motcua.printing.contexts import FormContext, RegisterContext
from motcua.printing.layout import build_pdf, styles
from motcua.printing.registry import FormRenderer, UnknownForm, registry, renderer_for


def form_date(ctx: FormContext | RegisterContext) -> date:
    """The date that picks the layout: the receipt day, else the issue day, else today (local).

    The register is chosen by the last day of its period.
    """
    if isinstance(ctx, RegisterContext):
        return ctx.date_to
    for value in (ctx.received_at, ctx.issued_at):
        if isinstance(value, datetime):
            return fmt.local(value).date()
        if isinstance(value, date):
            return value
    return datetime.now(fmt.LOCAL_TZ).date()


def _renderer(ctx: FormContext | RegisterContext, on: date | None) -> FormRenderer:
    spec = renderer_for(ctx.form, on or form_date(ctx))
    if spec.context_type is not None and not isinstance(ctx, spec.context_type):
        raise InvalidInput(
            f"Biểu mẫu số {ctx.form} cần dữ liệu kiểu {spec.context_type.__name__}.",
            code="wrong_form_context",
            form=ctx.form,
        )
    return spec


def render_pdf(ctx: FormContext | RegisterContext, on: date | None = None) -> bytes:
    """The form ``ctx.form`` as an A4 PDF, in the layout in force on ``on``.

    ``on`` defaults to ``form_date(ctx)``. Raises ``UnknownForm`` (code ``unknown_form``) when no
    layout of the form is in force then, ``InvalidInput`` (code ``wrong_form_context``) when the
    context is not the kind the layout reads (the register takes a ``RegisterContext``).
    """
    spec = _renderer(ctx, on)
    subject = ctx.dossier_code if isinstance(ctx, FormContext) else ""
    return build_pdf(
        spec.build(ctx, spec),
        doc_title=spec.title,
        form_label=f"Mẫu số {spec.form}",
        is_landscape=spec.landscape,
        author=ctx.agency.agency_name,
        subject=subject,
    )


def render_register_pdf(ctx: RegisterContext, on: date | None = None) -> bytes:
    """The register (Mẫu 07) as a landscape A4 PDF; the table heading repeats on every page."""
    return render_pdf(ctx, on)


def render_register_xlsx(ctx: RegisterContext, on: date | None = None) -> bytes:
    """The register (Mẫu 07) as an Excel workbook with the same columns as the PDF."""
    spec = _renderer(ctx, on)
    if spec.build_xlsx is None:
        raise UnknownForm(f"Biểu mẫu số {ctx.form} không có bản Excel.", form=ctx.form, kind="xlsx")
    return spec.build_xlsx(ctx)


def warm_up() -> None:
    """Load the fonts, styles and built-in layouts now (for a worker's start), so the first
    document a user asks for does not pay for them (~15 ms fonts, ~50 ms layouts)."""
    styles()
    registry.forms()  # imports the built-in layout modules
