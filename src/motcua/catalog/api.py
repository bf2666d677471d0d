"""Procedure catalogue endpoints (mounted at /api/v1/procedures)."""

from __future__ import annotations

from decimal import Decimal

from django.http import HttpRequest
from ninja import Router, Schema

from motcua.core.errors import InvalidInput

from . import queries
from .models import ProcedureVersion

router = Router(tags=["procedures"])

MAX_PAGE_SIZE = 100
LEVEL_FLAGS = (
    ("province", "at_province"),
    ("commune", "at_commune"),
    ("ministry", "at_ministry"),
    ("other", "at_other"),
)


class InvalidPaging(InvalidInput):
    code = "invalid_page"
    default_message = "Số trang không hợp lệ."


class FieldOut(Schema):
    id: int
    code: str
    name: str


class CodeName(Schema):
    code: str
    name: str


class ProcedureItem(Schema):
    code: str
    name: str
    field: FieldOut | None
    levels: list[str]
    online_mode: str | None
    version: int | None


class ProcedurePage(Schema):
    items: list[ProcedureItem]
    count: int
    page: int
    page_size: int


class ComponentOut(Schema):
    code: str
    name: str
    originals: int
    copies: int
    required: bool
    form_name: str
    form_url: str


class TimeLimitOut(Schema):
    channel: str
    amount: Decimal | None
    unit: str
    description: str


class FeeOut(Schema):
    channel: str
    kind: str
    amount: int | None
    description: str


class StepOut(Schema):
    order: int
    name: str
    role: str
    agency: str | None
    department: str | None
    share: Decimal


class VariantOut(Schema):
    code: str
    name: str
    components: list[ComponentOut]
    time_limits: list[TimeLimitOut]
    fees: list[FeeOut]
    steps: list[StepOut]


class ProcedureDetail(Schema):
    code: str
    name: str
    version: int
    current_version: int | None
    source: str
    field: FieldOut | None
    procedure_type: str
    levels: list[str]
    decision_no: str
    issuing_agency: str
    competent_agencies: str
    executing_agencies: str
    coordinating_agencies: str
    subjects: list[str]
    online_mode: str
    postal_allowed: bool
    same_day_cutoff: bool
    requirements: str
    description: str
    steps_text: str
    legal_basis: list[CodeName]
    results: list[CodeName]
    variants: list[VariantOut]


class ErrorOut(Schema):
    code: str
    message: str


def _levels(version: ProcedureVersion | None) -> list[str]:
    if version is None:
        return []
    return [level for level, flag in LEVEL_FLAGS if getattr(version, flag)]


def _field(field) -> dict | None:
    return {"id": field.pk, "code": field.code, "name": field.name} if field else None


def _code_names(items) -> list[dict]:
    return [
        {"code": str(item.get("code", "")), "name": str(item.get("name", ""))}
        for item in items or []
        if isinstance(item, dict)
    ]


def _positive(value: str | None, name: str, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        code = "invalid_page" if name == "page" else "invalid_page_size"
        raise InvalidPaging(f"Tham số «{name}» phải là số nguyên dương.", code=code)
    return number


@router.get(
    "",
    response={200: ProcedurePage, 400: ErrorOut},
    summary="Tìm kiếm thủ tục hành chính",
)
def list_procedures(
    request: HttpRequest,
    q: str = "",
    field: int | None = None,
    level: str | None = None,
    online_mode: str | None = None,
    agency: str | None = None,
    page: str | None = None,
    page_size: str | None = None,
):
    """Search (diacritics-insensitive) and filter the catalogue; paginated, ordered by code."""
    number = _positive(page, "page", 1)
    size = _positive(page_size, "page_size", 20)
    if size > MAX_PAGE_SIZE:
        raise InvalidPaging(
            f"Tham số «page_size» tối đa là {MAX_PAGE_SIZE}.", code="invalid_page_size"
        )
    results = queries.search_procedures(
        q, field=field, level=level or None, online_mode=online_mode or None, agency=agency
    )
    count = results.count()
    last_page = max((count + size - 1) // size, 1)
    if number > last_page:
        raise InvalidPaging(
            f"Trang {number} vượt quá số trang hiện có ({last_page}).", code="page_out_of_range"
        )
    start = (number - 1) * size
    items = [
        {
            "code": procedure.code,
            "name": procedure.name,
            "field": _field(procedure.field),
            "levels": _levels(procedure.current_version),
            "online_mode": procedure.current_version.online_mode
            if procedure.current_version
            else None,
            "version": procedure.current_version.number if procedure.current_version else None,
        }
        for procedure in results[start : start + size]
    ]
    return {"items": items, "count": count, "page": number, "page_size": size}


@router.get(
    "/{code}",
    response={200: ProcedureDetail, 400: ErrorOut, 404: ErrorOut},
    summary="Chi tiết thủ tục hành chính",
)
def get_procedure(request: HttpRequest, code: str, version: int | None = None):
    """The current version in full, or version ``N`` with ``?version=N``."""
    if version is not None and version < 1:
        raise InvalidInput("Số phiên bản phải là số nguyên dương.", code="invalid_version")
    item = queries.procedure_version(code, version)
    current_id = item.procedure.current_version_id
    current_number = (
        item.number
        if current_id == item.pk
        else ProcedureVersion.objects.filter(pk=current_id).values_list("number", flat=True).first()
    )
    return {
        "code": item.procedure.code,
        "name": item.name,
        "version": item.number,
        "current_version": current_number,
        "source": item.source,
        "field": _field(item.field),
        "procedure_type": item.procedure_type,
        "levels": _levels(item),
        "decision_no": item.decision_no,
        "issuing_agency": item.issuing_agency,
        "competent_agencies": item.competent_agencies,
        "executing_agencies": item.executing_agencies,
        "coordinating_agencies": item.coordinating_agencies,
        "subjects": [str(subject) for subject in item.subjects or []],
        "online_mode": item.online_mode,
        "postal_allowed": item.postal_allowed,
        "same_day_cutoff": item.same_day_cutoff,
        "requirements": item.requirements,
        "description": item.description,
        "steps_text": item.steps_text,
        "legal_basis": _code_names(item.legal_basis),
        "results": _code_names(item.results),
        "variants": [
            {
                "code": variant.code,
                "name": variant.name,
                "components": list(variant.components.all()),
                "time_limits": list(variant.time_limits.all()),
                "fees": list(variant.fees.all()),
                "steps": [
                    {
                        "order": step.order,
                        "name": step.name,
                        "role": step.role,
                        "agency": step.agency.electronic_id if step.agency else None,
                        "department": step.department.name if step.department else None,
                        "share": step.share,
                    }
                    for step in variant.steps.all()
                ],
            }
            for variant in item.variants.all()
        ],
    }
