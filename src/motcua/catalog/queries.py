"""Read-side queries of the catalogue: search, filters, the detail page, field counts.

Search folds diacritics on both sides (``core.text.fold``): ``Procedure.search_text`` holds the
folded code, name and field name, and every folded term of the query must occur in it. On
PostgreSQL a trigram GIN index (migration 0003) serves the ``LIKE '%term%'`` scans; SQLite
scans the table, which is trivial for the ~6,000 national procedures.
"""

from __future__ import annotations

from django.db.models import Case, Count, IntegerField, Prefetch, Q, QuerySet, Value, When

from motcua.core.errors import InvalidInput, NotFound
from motcua.core.text import fold, search_terms

from .models import (
    Field,
    OnlineMode,
    Procedure,
    ProcedureAgency,
    ProcedureVersion,
    Variant,
)

LEVELS = ("province", "commune", "ministry", "other")


class ProcedureNotFound(NotFound):
    code = "procedure_not_found"
    default_message = "Không tìm thấy thủ tục hành chính."


class VersionNotFound(NotFound):
    code = "version_not_found"
    default_message = "Không tìm thấy phiên bản thủ tục."


class InvalidFilter(InvalidInput):
    code = "invalid_filter"
    default_message = "Bộ lọc không hợp lệ."


def search_procedures(
    q: str = "",
    *,
    field: int | None = None,
    level: str | None = None,
    online_mode: str | None = None,
    agency: int | str | None = None,
    active_only: bool = True,
) -> QuerySet[Procedure]:
    """Procedures matching a diacritics-insensitive query and filters, ordered by code.

    Every folded term of ``q`` must occur in the code, name or field name. An exact code
    match comes first. ``level`` is one of province/commune/ministry/other and filters on the
    current version; ``online_mode`` is full/partial/none; ``agency`` is an agency's primary
    key or electronic identifier and keeps procedures that agency actively applies.
    Raises ``InvalidFilter`` (``invalid_level`` / ``invalid_online_mode``) for unknown values.
    """
    qs = Procedure.objects.select_related("field", "current_version")
    if active_only:
        qs = qs.filter(is_active=True)
    terms = search_terms(q)
    for term in terms:
        qs = qs.filter(search_text__contains=term)
    if field is not None:
        qs = qs.filter(field_id=field)
    if level:
        if level not in LEVELS:
            raise InvalidFilter(
                f"Cấp thực hiện «{level}» không hợp lệ (province, commune, ministry, other).",
                code="invalid_level",
            )
        qs = qs.filter(**{f"current_version__at_{level}": True})
    if online_mode:
        if online_mode not in OnlineMode.values:
            raise InvalidFilter(
                f"Mức độ trực tuyến «{online_mode}» không hợp lệ (full, partial, none).",
                code="invalid_online_mode",
            )
        qs = qs.filter(current_version__online_mode=online_mode)
    if agency not in (None, ""):
        links = ProcedureAgency.objects.filter(is_active=True)
        if isinstance(agency, int) or str(agency).isdigit():
            links = links.filter(agency_id=int(agency))
        else:
            links = links.filter(agency__electronic_id=str(agency).strip())
        qs = qs.filter(pk__in=links.values("procedure_id"))
    code = fold(q)
    if len(terms) == 1 and code:
        qs = qs.annotate(
            _exact=Case(
                When(code=code, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        ).order_by("_exact", "code")
    else:
        qs = qs.order_by("code")
    return qs


def _version_prefetches(prefix: str = "") -> list:
    variants = Variant.objects.order_by("order").prefetch_related(
        "components",
        "time_limits",
        "fees",
        "steps__agency",
        "steps__department",
    )
    return [Prefetch(f"{prefix}variants", queryset=variants)]


def procedure_detail(code: str) -> Procedure:
    """The procedure with its current version and everything a detail page shows.

    Prefetches variants with their components, time limits, fees and process steps (with
    agency and department), and the agencies applying the procedure, so rendering the page
    issues no further queries. Raises ``ProcedureNotFound``.
    """
    try:
        return (
            Procedure.objects.select_related("field", "current_version__field")
            .prefetch_related(
                *_version_prefetches("current_version__"),
                Prefetch(
                    "applied_by",
                    queryset=ProcedureAgency.objects.select_related("agency").order_by(
                        "agency__name"
                    ),
                ),
            )
            .get(code=(code or "").strip())
        )
    except Procedure.DoesNotExist as exc:
        raise ProcedureNotFound(f"Không tìm thấy thủ tục có mã «{code}».") from exc


def procedure_version(code: str, number: int | None = None) -> ProcedureVersion:
    """A version of a procedure (the current one if ``number`` is None), fully prefetched.

    Raises ``ProcedureNotFound`` or ``VersionNotFound``.
    """
    procedure = (
        Procedure.objects.filter(code=(code or "").strip()).only("id", "current_version_id").first()
    )
    if procedure is None:
        raise ProcedureNotFound(f"Không tìm thấy thủ tục có mã «{code}».")
    versions = ProcedureVersion.objects.select_related("procedure", "field").prefetch_related(
        *_version_prefetches()
    )
    if number is None:
        # Not a subquery: Django refuses a queryset as an exact-lookup value unless sliced.
        version = (
            versions.filter(pk=procedure.current_version_id).first()
            if procedure.current_version_id is not None
            else None
        )
    else:
        version = versions.filter(procedure=procedure, number=number).first()
    if version is None:
        raise VersionNotFound(
            f"Thủ tục «{code}» không có phiên bản {number}."
            if number is not None
            else f"Thủ tục «{code}» chưa có phiên bản hiện hành."
        )
    return version


def fields_with_counts(*, active_only: bool = True) -> QuerySet[Field]:
    """Fields that have procedures, each annotated with ``procedure_count``, by name."""
    condition = Q(procedures__is_active=True) if active_only else Q()
    return (
        Field.objects.annotate(procedure_count=Count("procedures", filter=condition))
        .filter(procedure_count__gt=0)
        .order_by("name")
    )
