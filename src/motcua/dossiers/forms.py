"""From dossiers to the official forms: builds ``motcua.printing`` contexts and renders them.

Which forms a dossier has depends on what happened to it: Mẫu 01 once received, 02 when a
supplement was requested, 03 when refused, 04 when an extension was proposed, 05 when stopped,
06 (the control slip) once received. The control slip and the register (Mẫu 07) are built from
the event history. Personal identifiers are masked on every form.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.conf import settings

from motcua import printing
from motcua.agencies.models import Agency
from motcua.core import codes
from motcua.core.errors import DomainError, InvalidInput

from .models import (
    Delivery,
    Dossier,
    DossierEvent,
    Extension,
    Pause,
    Result,
    Status,
    Step,
    Timeliness,
)

FORMS = ("01", "02", "03", "04", "05", "06")
TIMELINESS_LABELS = {value: str(label) for value, label in Timeliness.choices}
DESK = "Bộ phận Một cửa"


class FormNotApplicable(DomainError):
    code = "form_not_applicable"
    status = 409
    default_message = "Hồ sơ chưa có biểu mẫu này."


def lookup_url(code: str) -> str:
    base = getattr(settings, "MOTCUA_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    return f"{base}/tra-cuu-ho-so/?{urlencode({'code': code})}"


def _place(agency: Agency) -> str:
    unit = agency.unit
    return unit.name if unit is not None else ""


def agency_header(agency: Agency) -> printing.AgencyHeader:
    if agency.parent is not None:
        governing = agency.parent.short_name or agency.parent.name
    elif agency.unit is not None and agency.kind != Agency.Kind.PEOPLES_COMMITTEE:
        governing = f"UBND {agency.unit.full_name}"
    else:
        governing = ""
    return printing.AgencyHeader(
        governing_body=governing.upper(),
        agency_name=agency.name,
        place=_place(agency),
        unit_abbr=agency.short_name,
    )


def _person(applicant) -> printing.Person | None:
    if applicant is None:
        return None
    identifier = (
        codes.mask_personal_id(applicant.personal_id)
        if applicant.personal_id
        else applicant.tax_code
    )
    return printing.Person(
        name=applicant.name,
        identifier=identifier,
        address=applicant.address,
        phone=codes.mask_phone(applicant.phone) if applicant.phone else "",
        email=applicant.email,
    )


def _time_limit(dossier: Dossier) -> str:
    if dossier.time_limit_amount is None:
        return dossier.time_limit_text
    from motcua.catalog.models import TimeUnit

    amount = dossier.time_limit_amount.normalize()
    unit = dict(TimeUnit.choices).get(dossier.time_limit_unit, dossier.time_limit_unit)
    return f"{amount:f} {unit}"


def _officer(dossier: Dossier, action: str) -> str:
    event = dossier.events.filter(action=action).order_by("-at", "-id").first()
    return event.actor_label if event and event.actor_id else ""


def _base(dossier: Dossier, form: str) -> dict:
    channel_labels = dict(Dossier._meta.get_field("channel").choices)
    return {
        "form": form,
        "agency": agency_header(dossier.receiving_agency),
        "applicant": _person(dossier.applicant),
        "owner": _person(dossier.owner),
        "authorisation": dossier.authorisation,
        "dossier_code": dossier.code or "",
        "procedure_code": dossier.procedure.code,
        "procedure_name": dossier.version.name,
        "sets": dossier.sets,
        "time_limit": _time_limit(dossier),
        "received_at": dossier.received_at,
        "due_at": dossier.due_at,
        "original_due_at": dossier.original_due_at,
        "channel": str(channel_labels.get(dossier.channel, dossier.channel)),
        "delivery": str(Delivery(dossier.delivery).label),
        "deciding_agency": (dossier.deciding_agency or dossier.receiving_agency).name,
        "coordinating_agencies": dossier.version.coordinating_agencies,
    }


def _components(dossier: Dossier, pause: Pause | None = None) -> tuple:
    rows = dossier.components.all()
    return tuple(
        printing.ComponentLine(
            name=c.name,
            originals=c.originals,
            copies=c.copies,
            in_list=c.in_list,
            note=c.outside_reason,
        )
        for c in rows
    )


def _fees(dossier: Dossier) -> tuple:
    return tuple(
        printing.FeeLine(name=line.get("description") or "Phí, lệ phí", amount=line["amount"])
        for line in dossier.fee_lines
        if line.get("amount")
    )


def _step_label(step: Step | None) -> str:
    if step is None:
        return DESK
    if step.kind in (Step.Kind.INTAKE, Step.Kind.RETURN):
        return f"{DESK} — {step.agency.name}"
    department = f"{step.department.name}, " if step.department_id else ""
    return f"{department}{step.agency.name} ({step.name})"


def hand_overs(dossier: Dossier) -> tuple:
    """The control slip's rows, from the history: one per hand-over of the dossier."""
    steps = {s.pk: s for s in dossier.steps.select_related("agency", "department", "assignee")}
    events = dossier.events.filter(
        action__in=["receive", "complete_step", "send_back", "record_result", "return_result"]
    ).order_by("at", "id")
    rows = []
    for event in events:
        step = steps.get(event.step_id)
        if event.action == "receive":
            target = next(
                (s for s in steps.values() if s.kind == Step.Kind.PROCESSING and s.order == 1),
                None,
            )
            source = DESK
        elif event.action == "complete_step":
            target = steps.get(event.data.get("next_step"))
            source = _step_label(step)
        elif event.action == "send_back":
            target = next(
                (s for s in steps.values() if s.pk == event.data.get("to_step")),
                None,
            )
            source = _step_label(step)
        elif event.action == "record_result":
            target = next((s for s in steps.values() if s.kind == Step.Kind.RETURN), None)
            source = _step_label(step)
        else:
            target, source = None, _step_label(step)
        receiver = ""
        if target is not None and target.assignee_id:
            receiver = target.assignee.get_full_name() or target.assignee.get_username()
        to_label = (
            "Tổ chức, cá nhân nhận kết quả"
            if event.action == "return_result"
            else _step_label(target)
        )
        rows.append(
            printing.HandOver(
                from_label=source,
                to_label=to_label,
                at=event.at,
                due_at=step.due_at if step and event.action != "receive" else None,
                done_at=step.done_at if step and event.action != "receive" else None,
                timeliness=TIMELINESS_LABELS.get(step.timeliness, "") if step else "",
                note=event.note,
                giver=event.actor_label,
                receiver=receiver,
            )
        )
    return tuple(rows)


def form_context(dossier: Dossier, form: str) -> printing.FormContext:
    """The context of ``form`` for ``dossier``; ``FormNotApplicable`` if it has none yet."""
    if form not in FORMS:
        raise InvalidInput(f"Không có biểu mẫu số «{form}».", code="unknown_form")
    values = _base(dossier, form)
    received = dossier.received_at is not None
    if form == "01":
        if not received:
            raise FormNotApplicable("Hồ sơ chưa được tiếp nhận nên chưa có Giấy tiếp nhận.")
        values.update(
            components=_components(dossier),
            fees=_fees(dossier),
            fee_total=dossier.fee_total,
            officer=_officer(dossier, "receive"),
            lookup_url=lookup_url(dossier.code),
            issued_at=dossier.received_at,
        )
    elif form == "02":
        pause = (
            dossier.pauses.filter(kind=Pause.Kind.SUPPLEMENT).order_by("-started_at", "-id").first()
        )
        if pause is None:
            raise FormNotApplicable("Hồ sơ chưa có yêu cầu bổ sung, hoàn thiện.")
        values.update(
            missing_items=tuple(pause.items),
            reason=pause.reason,
            legal_basis=pause.legal_basis,
            issued_at=pause.started_at,
            officer=_officer(dossier, "request_supplement"),
            received_at=dossier.received_at or dossier.submitted_at,
        )
    elif form == "03":
        if dossier.status != Status.REFUSED:
            raise FormNotApplicable("Hồ sơ không bị từ chối tiếp nhận.")
        event = dossier.events.filter(action="refuse").latest("at")
        values.update(
            reason=event.note,
            issued_at=event.at,
            officer=event.actor_label,
            received_at=dossier.submitted_at,
            components=_components(dossier),
        )
    elif form == "04":
        extension = dossier.extensions.order_by("-requested_at", "-id").first()
        if extension is None:
            raise FormNotApplicable("Hồ sơ chưa có đề nghị gia hạn.")
        values.update(
            reason=extension.reason,
            due_at=extension.previous_due_at,
            new_due_at=extension.new_due_at,
            issued_at=extension.decided_at or extension.requested_at,
            signer_name=_officer(dossier, "decide_extension")
            if extension.state == Extension.State.APPROVED
            else "",
        )
    elif form == "05":
        if dossier.status != Status.STOPPED:
            raise FormNotApplicable("Hồ sơ không dừng giải quyết.")
        event = dossier.events.filter(action="stop").latest("at")
        values.update(
            reason=event.note,
            stop_requested_at=event.at,
            issued_at=event.at,
            officer=event.actor_label,
        )
    elif form == "06":
        if not received:
            raise FormNotApplicable("Hồ sơ chưa được tiếp nhận nên chưa có phiếu kiểm soát.")
        values.update(hand_overs=hand_overs(dossier), issued_at=dossier.received_at)
    return printing.FormContext(**values)


def render_form(dossier: Dossier, form: str) -> bytes:
    dossier = Dossier.objects.select_related(
        "receiving_agency__parent",
        "receiving_agency__unit",
        "deciding_agency",
        "procedure",
        "version",
        "applicant__province",
        "applicant__commune",
        "owner",
    ).get(pk=dossier.pk)
    return printing.render_pdf(form_context(dossier, form))


def register_context(agency: Agency, date_from: dt.date, date_to: dt.date):
    """Mẫu 07 for ``agency``'s desk: the dossiers it received in the period, from the history."""
    if date_to < date_from:
        raise InvalidInput("Ngày kết thúc phải sau ngày bắt đầu.", code="invalid_period")
    if (date_to - date_from).days > 366:
        raise InvalidInput("Sổ theo dõi lập tối đa cho một năm.", code="invalid_period")
    receipts = (
        DossierEvent.objects.filter(
            action="receive",
            dossier__receiving_agency=agency,
            at__date__gte=date_from,
            at__date__lte=date_to,
        )
        .select_related(
            "dossier__procedure",
            "dossier__version",
            "dossier__applicant__province",
            "dossier__applicant__commune",
            "dossier__owner",
            "dossier__deciding_agency",
        )
        .order_by("at", "id")
    )
    returns = {
        e.dossier_id: e
        for e in DossierEvent.objects.filter(
            action="return_result", dossier__in=receipts.values("dossier_id")
        )
    }
    results = {
        r.dossier_id: r for r in Result.objects.filter(dossier__in=receipts.values("dossier_id"))
    }
    rows = []
    for order, event in enumerate(receipts, start=1):
        d = event.dossier
        owner = d.owner or d.applicant
        returned = returns.get(d.pk)
        result = results.get(d.pk)
        rows.append(
            printing.RegisterRow(
                order=order,
                dossier_code=d.code or "",
                procedure=d.version.name,
                owner_name=owner.name,
                sets=d.sets,
                address=owner.address,
                phone=codes.mask_phone(owner.phone) if owner.phone else "",
                deciding_agency=(d.deciding_agency or agency).name,
                received_at=event.at,
                due_at=d.due_at,
                returned_at=returned.at if returned else None,
                delivery=str(Delivery(d.delivery).label),
                receiver_name=result.recipient_name if result else "",
                note=str(Status(d.status).label),
            )
        )
    return printing.RegisterContext(
        agency=agency_header(agency), date_from=date_from, date_to=date_to, rows=tuple(rows)
    )
