"""Read side of the counter intake: the procedures a desk may receive, their variants, the
administrative units of an address, and the fee and appointment preview.

"May receive" is exactly what ``services.submit`` accepts: an active procedure with a current
version that the agency actively applies, or that no agency is configured to apply (then any
agency may receive it — ``services._procedure_and_variant``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone

from motcua.agencies.calendar import calendar_for
from motcua.agencies.models import AdministrativeUnit, Agency
from motcua.catalog.models import Channel, Fee, Procedure, ProcedureAgency, TimeLimit, Variant
from motcua.catalog.queries import search_procedures
from motcua.dossiers import deadlines, services

SEARCH_LIMIT = 12


def receivable(agency: Agency, procedures: QuerySet[Procedure] | None = None):
    """``procedures`` (default: all) narrowed to those ``agency`` may receive."""
    rows = procedures if procedures is not None else Procedure.objects.all()
    links = ProcedureAgency.objects.filter(is_active=True)
    return rows.filter(is_active=True, current_version__isnull=False).filter(
        Q(pk__in=links.filter(agency=agency).values("procedure_id"))
        | ~Q(pk__in=links.values("procedure_id"))
    )


def search(agency: Agency, q: str, *, limit: int = SEARCH_LIMIT) -> list[Procedure]:
    """Diacritics-insensitive search by code or name among the procedures ``agency`` may
    receive; an exact code first (``catalog.queries.search_procedures``)."""
    if not (q or "").strip():
        return []
    return list(receivable(agency, search_procedures(q))[:limit])


def procedure_for(agency: Agency, code: str) -> Procedure | None:
    code = (code or "").strip()
    if not code:
        return None
    return (
        receivable(agency, Procedure.objects.select_related("current_version", "field"))
        .filter(code=code)
        .first()
    )


def variants_of(procedure: Procedure) -> list[Variant]:
    """The variants of the procedure's current version, each with its components, time limits
    and fees, in order."""
    return list(
        Variant.objects.filter(version_id=procedure.current_version_id)
        .prefetch_related("components", "time_limits", "fees")
        .order_by("order", "id")
    )


def variant_for(agency: Agency, variant_id) -> Variant | None:
    """A variant of the current version of a procedure ``agency`` may receive."""
    try:
        pk = int(variant_id)
    except (TypeError, ValueError):
        return None
    variant = (
        Variant.objects.filter(pk=pk)
        .select_related("version__procedure")
        .prefetch_related("components", "time_limits", "fees")
        .first()
    )
    if variant is None:
        return None
    procedure = variant.version.procedure
    if procedure.current_version_id != variant.version_id:
        return None
    if not receivable(agency).filter(pk=procedure.pk).exists():
        return None
    return variant


# --- addresses ------------------------------------------------------------------------------


def home_province(agency: Agency) -> str:
    """The code of the province an agency serves (the default of an applicant's address)."""
    unit = agency.unit
    while unit is not None and unit.level != AdministrativeUnit.Level.PROVINCE:
        unit = unit.parent
    return unit.code if unit is not None else ""


# --- preview --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeeLine:
    label: str
    amount: int | None
    description: str


@dataclass
class Preview:
    """What the receipt (Mẫu 01) will say about money and time if received now."""

    computed_at: dt.datetime
    fee_total: int = 0
    fees: list[FeeLine] = field(default_factory=list)
    time_limit: TimeLimit | None = None
    appointment: dt.datetime | None = None

    @property
    def time_limit_label(self) -> str:
        return str(self.time_limit) if self.time_limit is not None else ""


def preview(agency: Agency, variant: Variant, *, at: dt.datetime | None = None) -> Preview:
    """Fees for the counter channel and the appointment a receipt at ``at`` (now) would give:
    the same functions ``services.submit`` and ``services.receive`` use, on the receiving
    agency's calendar."""
    at = at or timezone.now()
    total, lines = services.fees_for(variant, Channel.COUNTER)
    kinds = dict(Fee.Kind.choices)
    limit = services.time_limit_for(variant, Channel.COUNTER)
    appointment = None
    if limit is not None:
        appointment = deadlines.appointment(calendar_for(agency), at, limit.amount, limit.unit)
    return Preview(
        computed_at=at,
        fee_total=total,
        fees=[
            FeeLine(
                label=str(kinds.get(line["kind"], line["kind"])),
                amount=line["amount"],
                description=line["description"],
            )
            for line in lines
        ],
        time_limit=limit,
        appointment=appointment,
    )
