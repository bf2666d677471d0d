"""Dossier endpoints (mounted at /api/v1/dossiers) and the public lookup (/api/v1/lookup).

Thin: parse, call ``services`` (writes) or ``queries`` (reads), shape the answer. Every error
is ``{"code", "message"}``. Machines authenticate with a bearer token carrying scopes; officers'
pages use their session.
"""

from __future__ import annotations

import datetime as dt
import uuid as uuidlib
from typing import Literal

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import File, Form, Router
from ninja import Schema as NinjaSchema
from ninja import Status as HttpStatus
from ninja.files import UploadedFile
from ninja.schema import DjangoGetter
from ninja.throttling import BaseThrottle
from pydantic import model_validator

from motcua.accounts.auth import API_AUTH, require_scope
from motcua.accounts.models import Scope
from motcua.agencies.models import Agency
from motcua.core.errors import InvalidInput, NotFound
from motcua.core.http import client_ip

from . import forms, lifecycle, lookup, queries, services
from .files import file_kind as _file_kind
from .models import Dossier, Status

router = Router(tags=["dossiers"], auth=API_AUTH)
lookup_router = Router(tags=["lookup"])

MAX_PAGE_SIZE = 100
IDEMPOTENCY_KEY_MAX = 200


class Schema(NinjaSchema):
    """Ninja's schema, validated straight from a dict (what these endpoints parse and return).

    Ninja wraps every value it validates, at every nesting level, in an attribute getter for
    model instances; a dict needs none, and skipping it halves the cost of validating an
    answer. Anything else still goes through the getter.
    """

    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(cls, values, handler, info):
        if type(values) is dict:
            return handler(values)
        return handler(DjangoGetter(values, cls, info.context))


class ErrorOut(Schema):
    code: str
    message: str


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


# --- schemas --------------------------------------------------------------------------------


class ApplicantIn(Schema):
    kind: Literal["individual", "organisation"] = "individual"
    name: str
    personal_id: str = ""
    tax_code: str = ""
    phone: str = ""
    email: str = ""
    province_code: str = ""
    commune_code: str = ""
    address_line: str = ""


class ComponentIn(Schema):
    component_id: int | None = None
    name: str = ""
    originals: int = 0
    copies: int = 0
    outside_reason: str = ""


class DossierIn(Schema):
    procedure_code: str
    variant_id: int | None = None
    receiving_agency: str  # electronic identifier, e.g. 000.00.01.H56
    deciding_agency: str | None = None
    channel: Literal["online", "postal", "counter"] = "online"
    applicant: ApplicantIn
    owner: ApplicantIn | None = None
    authorisation: str = ""
    components: list[ComponentIn] = []
    delivery: Literal["counter", "postal", "online"] = "online"
    delivery_address: str = ""
    summary: str = ""
    sets: int = 1


class Ref(Schema):
    id: int
    name: str


class AgencyRef(Schema):
    id: int
    electronic_id: str
    name: str


class ApplicantOut(Schema):
    kind: str
    name: str
    identifier: str
    phone: str
    email: str
    address: str


class DossierItem(Schema):
    uuid: uuidlib.UUID
    code: str | None
    status: int
    status_label: str
    channel: str
    procedure_code: str
    procedure_name: str
    receiving_agency: AgencyRef
    applicant_name: str
    applicant_identifier: str  # masked
    submitted_at: dt.datetime
    received_at: dt.datetime | None
    due_at: dt.datetime | None
    timeliness: str


class StepOut(Schema):
    id: int
    order: int
    kind: str
    name: str
    role: str
    agency: AgencyRef
    state: str
    assignee: str | None
    started_at: dt.datetime | None
    due_at: dt.datetime | None
    done_at: dt.datetime | None
    note: str
    timeliness: str


class ComponentOut(Schema):
    id: int
    component_id: int | None
    name: str
    originals: int
    copies: int
    in_list: bool
    outside_reason: str
    files: list[dict]


class EventOut(Schema):
    at: dt.datetime
    action: str
    label: str
    actor: str
    agency: str
    status_before: int | None
    status_after: int
    note: str


class PauseOut(Schema):
    id: int
    kind: str
    stage: str
    items: list[str]
    reason: str
    amount: int | None
    stops_clock: bool
    started_at: dt.datetime
    ended_at: dt.datetime | None


class ExtensionOut(Schema):
    id: int
    state: str
    reason: str
    previous_due_at: dt.datetime
    new_due_at: dt.datetime
    after_due: bool


class ResultOut(Schema):
    kind: str
    number: str
    signed_on: dt.date
    signer: str
    summary: str
    has_file: bool
    returned_at: dt.datetime | None
    return_method: str


class DossierOut(Schema):
    uuid: uuidlib.UUID
    code: str | None
    status: int
    status_label: str
    actions: list[str]
    channel: str
    procedure_code: str
    procedure_name: str
    procedure_version: int
    variant: Ref
    receiving_agency: AgencyRef
    deciding_agency: AgencyRef | None
    applicant: ApplicantOut
    owner: ApplicantOut | None
    summary: str
    sets: int
    delivery: str
    delivery_address: str
    time_limit_amount: float | None
    time_limit_unit: str
    fee_total: int
    fee_lines: list[dict]
    submitted_at: dt.datetime
    received_at: dt.datetime | None
    original_due_at: dt.datetime | None
    due_at: dt.datetime | None
    finished_at: dt.datetime | None
    returned_at: dt.datetime | None
    timeliness: str
    late_without_apology: bool
    components: list[ComponentOut]
    steps: list[StepOut]
    pauses: list[PauseOut]
    extensions: list[ExtensionOut]
    result: ResultOut | None
    events: list[EventOut]


class DossierPage(Schema):
    items: list[DossierItem]
    count: int
    page: int
    page_size: int


# --- shaping --------------------------------------------------------------------------------


def _agency(agency) -> dict | None:
    if agency is None:
        return None
    return {"id": agency.pk, "electronic_id": agency.electronic_id, "name": agency.name}


def _applicant(applicant) -> dict | None:
    if applicant is None:
        return None
    return {
        "kind": applicant.kind,
        "name": applicant.name,
        "identifier": applicant.identifier,
        "phone": applicant.phone,
        "email": applicant.email,
        "address": applicant.address,
    }


def _item(d: Dossier) -> dict:
    return {
        "uuid": d.uuid,
        "code": d.code,
        "status": d.status,
        "status_label": str(Status(d.status).label),
        "channel": d.channel,
        "procedure_code": d.procedure.code,
        "procedure_name": d.procedure.name,
        "receiving_agency": _agency(d.receiving_agency),
        "applicant_name": d.applicant.name,
        "applicant_identifier": d.applicant.masked_identifier,
        "submitted_at": d.submitted_at,
        "received_at": d.received_at,
        "due_at": d.due_at,
        "timeliness": d.timeliness,
    }


def _detail(d: Dossier) -> dict:
    # Not get(): its LIMIT makes PostgreSQL plan the ten joins expensively.
    (d,) = list(
        Dossier.objects.select_related(
            "procedure",
            "version",
            "variant",
            "receiving_agency",
            "deciding_agency",
            "applicant__province",
            "applicant__commune",
            "owner",
        )
        .prefetch_related("components__files")
        .filter(pk=d.pk)
        .order_by()
    )
    result = getattr(d, "result", None) if hasattr(d, "result") else None
    return _render_detail(
        d,
        components=[(c, list(c.files.all())) for c in d.components.all()],
        steps=d.steps.select_related("agency", "assignee").order_by("order", "id"),
        pauses=d.pauses.all(),
        extensions=d.extensions.all(),
        result=result,
        events=d.events.select_related("agency").order_by("at", "id"),
    )


def _new_detail(d: Dossier) -> dict:
    """The detail of a dossier ``services.submit`` has just written, from what it holds.

    A new dossier has no file, step, pause, extension or result yet, and one event; reading
    it all back would cost ten queries on the busiest write path.
    """
    return _render_detail(
        d,
        components=[(c, []) for c in d.new_components],
        steps=[],
        pauses=[],
        extensions=[],
        result=None,
        events=[d.new_event],
    )


def _render_detail(d, *, components, steps, pauses, extensions, result, events) -> dict:
    return {
        **{
            k: v for k, v in _item(d).items() if k not in ("applicant_name", "applicant_identifier")
        },
        "actions": [str(a) for a in lifecycle.actions_from(d.status)],
        "procedure_version": d.version.number,
        "variant": {"id": d.variant.pk, "name": d.variant.name},
        "deciding_agency": _agency(d.deciding_agency),
        "applicant": _applicant(d.applicant),
        "owner": _applicant(d.owner),
        "summary": d.summary,
        "sets": d.sets,
        "delivery": d.delivery,
        "delivery_address": d.delivery_address,
        "time_limit_amount": float(d.time_limit_amount)
        if d.time_limit_amount is not None
        else None,
        "time_limit_unit": d.time_limit_unit,
        "fee_total": d.fee_total,
        "fee_lines": d.fee_lines,
        "original_due_at": d.original_due_at,
        "finished_at": d.finished_at,
        "returned_at": d.returned_at,
        "late_without_apology": d.late_without_apology,
        "components": [
            {
                "id": c.pk,
                "component_id": c.component_id,
                "name": c.name,
                "originals": c.originals,
                "copies": c.copies,
                "in_list": c.in_list,
                "outside_reason": c.outside_reason,
                "files": [
                    {
                        "id": f.pk,
                        "name": f.original_name,
                        "content_type": f.content_type,
                        "size": f.size,
                        "sha256": f.sha256,
                    }
                    for f in files
                ],
            }
            for c, files in components
        ],
        "steps": [
            {
                "id": s.pk,
                "order": s.order,
                "kind": s.kind,
                "name": s.name,
                "role": s.role,
                "agency": _agency(s.agency),
                "state": s.state,
                "assignee": (s.assignee.get_full_name() or s.assignee.get_username())
                if s.assignee
                else None,
                "started_at": s.started_at,
                "due_at": s.due_at,
                "done_at": s.done_at,
                "note": s.note,
                "timeliness": s.timeliness,
            }
            for s in steps
        ],
        "pauses": [
            {
                "id": p.pk,
                "kind": p.kind,
                "stage": p.stage,
                "items": p.items,
                "reason": p.reason,
                "amount": p.amount,
                "stops_clock": p.stops_clock,
                "started_at": p.started_at,
                "ended_at": p.ended_at,
            }
            for p in pauses
        ],
        "extensions": [
            {
                "id": e.pk,
                "state": e.state,
                "reason": e.reason,
                "previous_due_at": e.previous_due_at,
                "new_due_at": e.new_due_at,
                "after_due": e.after_due,
            }
            for e in extensions
        ],
        "result": {
            "kind": result.kind,
            "number": result.number,
            "signed_on": result.signed_on,
            "signer": result.signer,
            "summary": result.summary,
            "has_file": bool(result.file),
            "returned_at": result.returned_at,
            "return_method": result.return_method,
        }
        if result
        else None,
        "events": [
            {
                "at": e.at,
                "action": e.action,
                "label": str(lifecycle.ACTION_LABELS.get(e.action, e.action)),
                "actor": e.actor_label,
                "agency": e.agency.name if e.agency else "",
                "status_before": e.status_before,
                "status_after": e.status_after,
                "note": e.note,
            }
            for e in events
        ],
    }


def _visible(request: HttpRequest, key: uuidlib.UUID) -> Dossier:
    require_scope(request, Scope.DOSSIERS_READ)
    found = queries.visible_to(request.auth).filter(uuid=key).first()
    if found is None:
        # The same answer whether the dossier does not exist or is not the caller's.
        raise NotFound("Không tìm thấy hồ sơ.", code="dossier_not_found")
    return found


def _agency_by_eid(value: str | None, what: str) -> Agency | None:
    if not value:
        return None
    agency = services.agency_by_electronic_id(value)
    if agency is None:
        raise NotFound(f"Không tìm thấy {what} có mã định danh «{value}».", code="unknown_agency")
    return agency


def _applicant_input(data: ApplicantIn | None) -> services.ApplicantInput | None:
    if data is None:
        return None
    return services.ApplicantInput(**data.dict())


def _components(items: list[ComponentIn]) -> list[services.ComponentInput]:
    return [services.ComponentInput(**item.dict()) for item in items]


# --- reads ----------------------------------------------------------------------------------


def _page_args(page: int, page_size: int) -> tuple[int, int]:
    if page < 1:
        raise InvalidInput("Tham số «page» phải là số nguyên dương.", code="invalid_page")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidInput(
            f"Tham số «page_size» phải từ 1 đến {MAX_PAGE_SIZE}.", code="invalid_page_size"
        )
    return page, page_size


@router.get("", response={200: DossierPage, **ERRORS}, summary="Danh sách hồ sơ")
def list_dossiers(
    request: HttpRequest,
    status: str = "",
    agency: int | None = None,
    procedure: str = "",
    code: str = "",
    q: str = "",
    submitted_from: dt.date | None = None,
    submitted_to: dt.date | None = None,
    late: bool | None = None,
    open_only: bool = False,
    page: int = 1,
    page_size: int = 20,
):
    """Dossiers the caller may see, newest first; personal identifiers are masked.

    ``status``: one or more status codes separated by commas (``4,5,6``).
    """
    require_scope(request, Scope.DOSSIERS_READ)
    page, page_size = _page_args(page, page_size)
    try:
        statuses = [int(part) for part in status.split(",") if part.strip()]
    except ValueError:
        statuses = [0]
    if any(s not in Status.values for s in statuses):
        raise InvalidInput("Mã trạng thái phải là số từ 1 đến 10.", code="invalid_status")
    filters = queries.DossierFilters(
        status=statuses or None,
        agency_id=agency,
        procedure_code=procedure,
        code=code,
        q=q,
        submitted_from=submitted_from,
        submitted_to=submitted_to,
        late=late,
        open_only=open_only,
    )
    rows = queries.filtered(request.auth, filters)
    count = rows.count()
    start = (page - 1) * page_size
    return {
        "items": [_item(d) for d in rows[start : start + page_size]],
        "count": count,
        "page": page,
        "page_size": page_size,
    }


@router.get("/{uuid:key}", response={200: DossierOut, **ERRORS}, summary="Chi tiết hồ sơ")
def get_dossier(request: HttpRequest, key: uuidlib.UUID):
    return _detail(_visible(request, key))


@router.get(
    "/register",
    response={200: None, **ERRORS},
    summary="Sổ theo dõi hồ sơ (Mẫu 07), PDF hoặc Excel",
)
def register(
    request: HttpRequest,
    agency: int,
    date_from: dt.date,
    date_to: dt.date,
    format: Literal["pdf", "xlsx"] = "pdf",
):
    """The register of one agency's desk over a period (at most a year)."""
    require_scope(request, Scope.DOSSIERS_READ)
    if not (queries.sees_everything(request.auth) or agency in queries.agencies_of(request.auth)):
        raise NotFound("Không tìm thấy cơ quan.", code="unknown_agency")
    found = Agency.objects.select_related("parent", "unit").filter(pk=agency).first()
    if found is None:
        raise NotFound("Không tìm thấy cơ quan.", code="unknown_agency")
    from motcua import printing

    ctx = forms.register_context(found, date_from, date_to)
    name = f"so-theo-doi-{date_from:%Y%m%d}-{date_to:%Y%m%d}"
    if format == "xlsx":
        response = HttpResponse(
            printing.render_register_xlsx(ctx),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response
    return pdf_response(printing.render_register_pdf(ctx), f"{name}.pdf")


@router.get(
    "/{uuid:key}/forms/{form}",
    response={200: None, **ERRORS},
    summary="Biểu mẫu của hồ sơ (Mẫu 01–06) dạng PDF",
)
def form_pdf(request: HttpRequest, key: uuidlib.UUID, form: str):
    """Mẫu 01 receipt, 02 supplement request, 03 refusal, 04 apology and extension, 05 stop
    notice, 06 control slip — each once the dossier has reached the point it records."""
    dossier = _visible(request, key)
    content = forms.render_form(dossier, form)
    return pdf_response(content, f"mau-{form}-{dossier.code or dossier.uuid}.pdf")


# --- intake ---------------------------------------------------------------------------------


@router.post("", response={201: DossierOut, 200: DossierOut, **ERRORS}, summary="Nộp hồ sơ")
def create_dossier(request: HttpRequest, payload: DossierIn):
    """Create a dossier in status 1 (submitted).

    Send an ``Idempotency-Key`` header: a retried request with the same key returns the
    dossier the first one created (status 200 instead of 201), never a second dossier.
    """
    require_scope(request, Scope.DOSSIERS_SUBMIT)
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > IDEMPOTENCY_KEY_MAX:
        raise InvalidInput(
            f"Idempotency-Key dài tối đa {IDEMPOTENCY_KEY_MAX} ký tự.",
            code="invalid_idempotency_key",
        )
    agency = _agency_by_eid(payload.receiving_agency, "cơ quan tiếp nhận")
    deciding = _agency_by_eid(payload.deciding_agency, "cơ quan giải quyết")
    data = services.SubmissionInput(
        procedure_code=payload.procedure_code,
        variant_id=payload.variant_id,
        receiving_agency_id=agency.pk,
        deciding_agency_id=deciding.pk if deciding else None,
        channel=payload.channel,
        applicant=_applicant_input(payload.applicant),
        owner=_applicant_input(payload.owner),
        authorisation=payload.authorisation,
        components=_components(payload.components),
        delivery=payload.delivery,
        delivery_address=payload.delivery_address,
        summary=payload.summary,
        sets=payload.sets,
    )
    dossier, created = services.submit(
        data,
        actor=request.auth,
        idempotency_key=f"{request.auth.pk}:{key}" if key else None,
    )
    return HttpStatus(201, _new_detail(dossier)) if created else HttpStatus(200, _detail(dossier))


@router.post(
    "/{uuid:key}/components/{component_id}/files",
    response={201: DossierOut, **ERRORS},
    summary="Đính kèm bản quét thành phần hồ sơ",
)
def upload_file(
    request: HttpRequest, key: uuidlib.UUID, component_id: int, file: File[UploadedFile]
):
    require_scope(request, Scope.DOSSIERS_SUBMIT)
    dossier = _visible(request, key)
    limit = getattr(settings, "MOTCUA_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)
    if file.size > limit:
        raise InvalidInput(
            f"Tệp vượt quá dung lượng cho phép ({limit // (1024 * 1024)} MB).",
            code="file_too_large",
        )
    mime, _ext = _file_kind(file)
    services.attach_file(
        dossier,
        actor=request.auth,
        submitted_component_id=component_id,
        name=file.name,
        content_type=mime,
        content=file.read(),
    )
    return HttpStatus(201, _detail(dossier))


# --- actions --------------------------------------------------------------------------------


class NoteIn(Schema):
    note: str = ""


class ReasonIn(Schema):
    reason: str


class SupplementRequestIn(Schema):
    items: list[str]
    reason: str = ""
    legal_basis: str = ""
    approver_id: int | None = None
    approval_reason: str = ""


class SupplementIn(Schema):
    components: list[ComponentIn] = []
    note: str = ""


class AssignIn(Schema):
    assignee_id: int
    note: str = ""


class SendBackIn(Schema):
    to_step_id: int
    reason: str


class PaymentIn(Schema):
    amount: int
    reason: str
    legal_basis: str = ""
    stops_clock: bool | None = None


class ReceiptIn(Schema):
    receipt: str = ""


class ExtensionIn(Schema):
    reason: str
    new_due_at: dt.datetime


class DecisionIn(Schema):
    approve: bool
    note: str = ""


class ReturnIn(Schema):
    method: Literal["counter", "postal", "online"]
    recipient_name: str = ""
    recipient_id: str = ""
    waybill: str = ""


def _user(user_id: int | None):
    if user_id is None:
        return None
    from django.contrib.auth import get_user_model

    found = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if found is None:
        raise NotFound("Không tìm thấy cán bộ.", code="unknown_user")
    return found


def _act(request: HttpRequest, key: uuidlib.UUID, call) -> dict:
    require_scope(request, Scope.DOSSIERS_PROCESS)
    dossier = _visible(request, key)
    call(dossier)
    return _detail(dossier)


ACTION = {"response": {200: DossierOut, **ERRORS}}


@router.post("/{uuid:key}/receive", **ACTION, summary="Tiếp nhận hồ sơ")
def receive(request: HttpRequest, key: uuidlib.UUID, payload: NoteIn):
    return _act(request, key, lambda d: services.receive(d, actor=request.auth, note=payload.note))


@router.post("/{uuid:key}/refuse", **ACTION, summary="Từ chối tiếp nhận (Mẫu 03)")
def refuse(request: HttpRequest, key: uuidlib.UUID, payload: ReasonIn):
    return _act(
        request, key, lambda d: services.refuse(d, actor=request.auth, reason=payload.reason)
    )


@router.post("/{uuid:key}/request-supplement", **ACTION, summary="Yêu cầu bổ sung hồ sơ (Mẫu 02)")
def request_supplement(request: HttpRequest, key: uuidlib.UUID, payload: SupplementRequestIn):
    return _act(
        request,
        key,
        lambda d: services.request_supplement(
            d,
            actor=request.auth,
            items=payload.items,
            reason=payload.reason,
            legal_basis=payload.legal_basis,
            approver=_user(payload.approver_id),
            approval_reason=payload.approval_reason,
        ),
    )


@router.post("/{uuid:key}/provide-supplement", **ACTION, summary="Nhận hồ sơ bổ sung")
def provide_supplement(request: HttpRequest, key: uuidlib.UUID, payload: SupplementIn):
    return _act(
        request,
        key,
        lambda d: services.provide_supplement(
            d, actor=request.auth, components=_components(payload.components), note=payload.note
        ),
    )


@router.post("/{uuid:key}/assign", **ACTION, summary="Phân công xử lý")
def assign(request: HttpRequest, key: uuidlib.UUID, payload: AssignIn):
    return _act(
        request,
        key,
        lambda d: services.assign(
            d, actor=request.auth, assignee=_user(payload.assignee_id), note=payload.note
        ),
    )


@router.post("/{uuid:key}/complete-step", **ACTION, summary="Hoàn thành bước xử lý")
def complete_step(request: HttpRequest, key: uuidlib.UUID, payload: NoteIn):
    return _act(
        request, key, lambda d: services.complete_step(d, actor=request.auth, note=payload.note)
    )


@router.post("/{uuid:key}/send-back", **ACTION, summary="Chuyển trả bước trước")
def send_back(request: HttpRequest, key: uuidlib.UUID, payload: SendBackIn):
    return _act(
        request,
        key,
        lambda d: services.send_back(
            d, actor=request.auth, to_step_id=payload.to_step_id, reason=payload.reason
        ),
    )


@router.post(
    "/{uuid:key}/request-payment", **ACTION, summary="Yêu cầu thực hiện nghĩa vụ tài chính"
)
def request_payment(request: HttpRequest, key: uuidlib.UUID, payload: PaymentIn):
    return _act(
        request,
        key,
        lambda d: services.request_payment(
            d,
            actor=request.auth,
            amount=payload.amount,
            reason=payload.reason,
            legal_basis=payload.legal_basis,
            stops_clock=payload.stops_clock,
        ),
    )


@router.post("/{uuid:key}/confirm-payment", **ACTION, summary="Xác nhận đã nộp nghĩa vụ tài chính")
def confirm_payment(request: HttpRequest, key: uuidlib.UUID, payload: ReceiptIn):
    return _act(
        request,
        key,
        lambda d: services.confirm_payment(d, actor=request.auth, receipt=payload.receipt),
    )


@router.post("/{uuid:key}/extension", **ACTION, summary="Đề nghị gia hạn, xin lỗi (Mẫu 04)")
def propose_extension(request: HttpRequest, key: uuidlib.UUID, payload: ExtensionIn):
    if payload.new_due_at.tzinfo is None:
        raise InvalidInput(
            "Ngày hẹn trả mới phải có múi giờ (ví dụ +07:00).", code="naive_datetime"
        )
    return _act(
        request,
        key,
        lambda d: services.propose_extension(
            d, actor=request.auth, reason=payload.reason, new_due_at=payload.new_due_at
        ),
    )


@router.post("/{uuid:key}/extension/decision", **ACTION, summary="Phê duyệt gia hạn")
def decide_extension(request: HttpRequest, key: uuidlib.UUID, payload: DecisionIn):
    return _act(
        request,
        key,
        lambda d: services.decide_extension(
            d, actor=request.auth, approve=payload.approve, note=payload.note
        ),
    )


@router.post("/{uuid:key}/stop", **ACTION, summary="Dừng giải quyết (Mẫu 05)")
def stop(request: HttpRequest, key: uuidlib.UUID, payload: ReasonIn):
    return _act(request, key, lambda d: services.stop(d, actor=request.auth, reason=payload.reason))


@router.post("/{uuid:key}/withdraw", **ACTION, summary="Rút hồ sơ theo đề nghị")
def withdraw(request: HttpRequest, key: uuidlib.UUID, payload: ReasonIn):
    return _act(
        request, key, lambda d: services.withdraw(d, actor=request.auth, reason=payload.reason)
    )


@router.post("/{uuid:key}/result", **ACTION, summary="Cập nhật kết quả giải quyết")
def record_result(
    request: HttpRequest,
    key: uuidlib.UUID,
    number: Form[str],
    signed_on: Form[dt.date],
    signer: Form[str],
    kind: Form[str] = "granted",
    summary: Form[str] = "",
    note: Form[str] = "",
    file: File[UploadedFile] = None,
):
    content = None
    name = ""
    if file is not None:
        mime, _ext = _file_kind(file)
        if mime != "application/pdf":
            raise InvalidInput("Tệp kết quả phải là PDF.", code="unsupported_file_type")
        content, name = file.read(), file.name
    result = services.ResultInput(
        number=number,
        signed_on=signed_on,
        signer=signer,
        kind=kind,
        summary=summary,
        file_name=name,
        file_content=content,
    )
    return _act(
        request,
        key,
        lambda d: services.record_result(d, actor=request.auth, result=result, note=note),
    )


@router.post("/{uuid:key}/return", **ACTION, summary="Trả kết quả")
def return_result(request: HttpRequest, key: uuidlib.UUID, payload: ReturnIn):
    return _act(
        request,
        key,
        lambda d: services.return_result(
            d,
            actor=request.auth,
            method=payload.method,
            recipient_name=payload.recipient_name,
            recipient_id=payload.recipient_id,
            waybill=payload.waybill,
        ),
    )


# --- the public lookup ----------------------------------------------------------------------


class TimelineOut(Schema):
    at: dt.datetime
    action: str
    label: str
    agency: str
    status: int


class LookupOut(Schema):
    code: str
    status: int
    status_label: str
    status_text: str
    procedure_code: str
    procedure_name: str
    receiving_agency: str
    received_at: dt.datetime | None
    due_at: dt.datetime | None
    returned_at: dt.datetime | None
    verified: bool
    timeline: list[TimelineOut] | None


class LookupThrottle(BaseThrottle):
    """Per client (address), whether logged in or not; rate from ``MOTCUA_LOOKUP_RATE``.

    ``lookup_dossier`` counts the request itself (``lookup.lookup(scope="api")``, in the same
    cache round trip as its reads); this class names the client (``get_ident``): the address
    of ``core.http.client_ip`` (the trusted proxy's header when one is configured), never
    Django Ninja's default, which trusts any ``X-Forwarded-For`` the client sends."""

    def get_ident(self, request: HttpRequest) -> str | None:
        return client_ip(request) or None

    def allow_request(self, request: HttpRequest) -> bool:
        return lookup.allow_client(self.get_ident(request) or "unknown")

    def wait(self) -> float | None:
        return None


_LOOKUP_THROTTLE = LookupThrottle()


@lookup_router.get(
    "/{code}",
    response={200: LookupOut, 400: ErrorOut, 404: ErrorOut, 429: ErrorOut},
    summary="Tra cứu hồ sơ theo mã",
)
def lookup_dossier(request: HttpRequest, code: str, factor: str = ""):
    """Status and appointment by dossier code, nothing personal.

    ``factor`` — the last 4 digits of the applicant's phone number or personal identifier —
    adds the public timeline. Wrong factors are counted per client and code. Each client
    (address) may look up ``MOTCUA_LOOKUP_RATE`` times (429 ``too_many_requests`` beyond).
    """
    client = _LOOKUP_THROTTLE.get_ident(request) or "unknown"
    return lookup.lookup(code.strip(), factor.strip(), client, scope="api")


def pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
