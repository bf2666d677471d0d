"""The only write path of dossiers: one function per business action.

Every function that changes a dossier

1. locks the dossier row (``select_for_update``),
2. asks ``lifecycle.transition`` whether the action is allowed from the current status,
3. checks that the actor holds a role the transition allows at the right agency,
4. checks the action's own guards (completeness, the active step, …),
5. writes the change, exactly one ``DossierEvent`` and its ``OutboxMessage`` in one
   transaction, and
6. sends ``dossier_changed`` after the commit.

A refused action raises a ``DomainError`` (stable code, Vietnamese message) before anything is
written, and the transaction is rolled back if anything fails after. ``at=`` lets trusted
callers (the demo loader, tests) date an action; the API and pages never pass it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone

from motcua.accounts.models import Membership, Role
from motcua.agencies.models import AdministrativeUnit, Agency, Counter
from motcua.catalog.models import Channel, Component, Procedure, Variant
from motcua.core import codes
from motcua.core.errors import DomainError, InvalidInput, NotFound
from motcua.core.worktime import VN_TZ

from . import deadlines, fastpath, lookup
from .lifecycle import ACTION_LABELS, APPLICANT, Action, Transition, Where, transition
from .models import (
    Applicant,
    ComponentFile,
    Delivery,
    Dossier,
    DossierCodeCounter,
    DossierEvent,
    Extension,
    OutboxMessage,
    Pause,
    Result,
    Status,
    Step,
    SubmittedComponent,
    Timeliness,
)

# Sent after commit for every event: ``dossier_id``, ``event_id``, ``action``.
dossier_changed = Signal()


# --- errors ---------------------------------------------------------------------------------


class PermissionDenied(DomainError):
    code = "forbidden"
    status = 403
    default_message = "Bạn không có quyền thực hiện thao tác này đối với hồ sơ."


class MissingComponents(DomainError):
    code = "missing_components"
    status = 422
    default_message = "Hồ sơ còn thiếu thành phần bắt buộc."


class GuardFailed(DomainError):
    """The status allows the action but the dossier's state does not (yet)."""

    code = "action_not_possible"
    status = 409


# --- actors ---------------------------------------------------------------------------------


class _System:
    """The system itself (demo loader, scheduled jobs): allowed every action the table allows."""

    pk = None
    is_active = True

    def __str__(self) -> str:
        return "Hệ thống"


SYSTEM = _System()


def _actor_user(actor) -> Any:
    return None if actor is SYSTEM else actor


def _actor_label(actor) -> str:
    if actor is SYSTEM or actor is None:
        return "Hệ thống"
    return actor.get_full_name() or actor.get_username()


def _roles_of(actor, agency_id: int, department_id: int | None = None) -> set[str]:
    if actor is SYSTEM:
        return set(Role.values)
    if actor is None or not getattr(actor, "is_active", False):
        return set()
    rows = Membership.objects.filter(user=actor, agency_id=agency_id, is_active=True)
    if department_id is not None:
        # A membership of the whole agency covers its departments; a department membership
        # covers that department only.
        rows = rows.filter(Q(department__isnull=True) | Q(department_id=department_id))
    return set(rows.values_list("role", flat=True))


def _is_applicant(actor, dossier: Dossier) -> bool:
    """Whether ``actor`` is the citizen account of the dossier's applicant or owner, or the
    account that submitted it online."""
    if actor is SYSTEM or actor is None or not getattr(actor, "is_active", False):
        return False
    if dossier.channel == Channel.ONLINE and dossier.created_by_id == actor.pk:
        return True
    people = [pk for pk in (dossier.applicant_id, dossier.owner_id) if pk]
    return Applicant.objects.filter(pk__in=people, user_id=actor.pk).exists()


def _require(
    actor,
    dossier: Dossier,
    tr: Transition,
    step: Step | None,
    roles: Iterable[str] | None = None,
) -> None:
    """Raise ``PermissionDenied`` unless ``actor`` holds an allowed role where it must."""
    wanted = set(roles if roles is not None else tr.roles)
    held: set[str] = set()
    if tr.where in (Where.RECEIVING, Where.EITHER):
        held |= _roles_of(actor, dossier.receiving_agency_id)
    if tr.where in (Where.STEP, Where.EITHER) and step is not None:
        held |= _roles_of(actor, step.agency_id, step.department_id)
    if APPLICANT in wanted and _is_applicant(actor, dossier):
        held.add(APPLICANT)
    if not wanted & held:
        raise PermissionDenied(
            f"Bạn không có quyền «{ACTION_LABELS[tr.action]}» đối với hồ sơ này.",
            action=str(tr.action),
        )


# --- inputs ---------------------------------------------------------------------------------


@dataclass
class ApplicantInput:
    kind: str = Applicant.Kind.INDIVIDUAL
    name: str = ""
    personal_id: str = ""
    tax_code: str = ""
    phone: str = ""
    email: str = ""
    province_code: str = ""
    commune_code: str = ""
    address_line: str = ""


@dataclass
class ComponentInput:
    """A paper handed in: ``component_id`` of the variant's list, or a name outside it."""

    component_id: int | None = None
    name: str = ""
    originals: int = 0
    copies: int = 0
    outside_reason: str = ""


@dataclass
class SubmissionInput:
    procedure_code: str
    receiving_agency_id: int
    applicant: ApplicantInput
    channel: str = Channel.COUNTER
    variant_id: int | None = None
    owner: ApplicantInput | None = None
    authorisation: str = ""
    components: Sequence[ComponentInput] = field(default_factory=list)
    delivery: str = Delivery.COUNTER
    delivery_address: str = ""
    summary: str = ""
    sets: int = 1
    counter_id: int | None = None
    deciding_agency_id: int | None = None


# --- helpers --------------------------------------------------------------------------------


def _now(at: dt.datetime | None) -> dt.datetime:
    if at is None:
        return timezone.now()
    if timezone.is_naive(at):
        raise InvalidInput("Thời điểm phải có múi giờ.", code="naive_datetime")
    return at


def _lock(dossier: Dossier | str | Any) -> Dossier:
    """Lock and reload the dossier row (by instance, uuid or pk)."""
    rows = Dossier.objects.select_for_update(of=("self",)).select_related(
        "receiving_agency", "variant", "procedure"
    )
    try:
        if isinstance(dossier, Dossier):
            return rows.get(pk=dossier.pk)
        if isinstance(dossier, int):
            return rows.get(pk=dossier)
        return rows.get(uuid=dossier)
    except (Dossier.DoesNotExist, ValueError, TypeError):
        raise NotFound("Không tìm thấy hồ sơ.", code="dossier_not_found") from None


def _active_step(dossier: Dossier) -> Step | None:
    return (
        Step.objects.filter(dossier=dossier, state=Step.State.ACTIVE)
        .exclude(kind=Step.Kind.INTAKE)
        .order_by("order", "id")
        .first()
    )


def _open_steps(dossier: Dossier) -> list[Step]:
    return list(
        Step.objects.filter(
            dossier=dossier, state__in=[Step.State.PENDING, Step.State.ACTIVE]
        ).order_by("order", "id")
    )


def _record(
    dossier: Dossier,
    action: str,
    actor,
    at: dt.datetime,
    *,
    before: int | None,
    note: str = "",
    step: Step | None = None,
    agency: Agency | None = None,
    data: dict | None = None,
    topics: Sequence[str] = ("notify", "sync"),
) -> DossierEvent:
    """Write the event and its outbox rows; send the domain event after commit."""
    event, messages = _event_rows(
        dossier,
        action,
        actor,
        at,
        before=before,
        note=note,
        step=step,
        agency=agency,
        data=data,
        topics=topics,
    )
    event.save(force_insert=True)
    OutboxMessage.objects.bulk_create(messages)
    _announce(dossier, event, action)
    return event


def _event_rows(
    dossier: Dossier,
    action: str,
    actor,
    at: dt.datetime,
    *,
    before: int | None,
    note: str = "",
    step: Step | None = None,
    agency: Agency | None = None,
    data: dict | None = None,
    topics: Sequence[str] = ("notify", "sync"),
) -> tuple[DossierEvent, list[OutboxMessage]]:
    """The event and its outbox rows, unsaved (``_record`` and the intake fast path save them)."""
    event = DossierEvent(
        dossier=dossier,
        at=at,
        actor=_actor_user(actor),
        actor_label=_actor_label(actor),
        agency=agency or (step.agency if step else dossier.receiving_agency),
        action=str(action),
        note=note,
        status_before=before,
        status_after=dossier.status,
        step=step,
        data=data or {},
    )
    payload = {"action": str(action), "status": dossier.status, "code": dossier.code}
    messages = [
        OutboxMessage(
            topic=f"{topic}.{action}",
            dossier=dossier,
            event=event,
            payload=payload,
            available_at=timezone.now(),
        )
        for topic in (*topics, "monitor")
    ]
    return event, messages


def _announce(dossier: Dossier, event: DossierEvent, action: str) -> None:
    """Once the transaction that wrote ``event`` commits: drop the public lookup's kept
    answer for the dossier (every process shares it) and send ``dossier_changed``."""
    dossier_id, event_id, code = dossier.pk, event.pk, dossier.code

    def committed() -> None:
        lookup.forget(code)
        dossier_changed.send(
            sender=Dossier, dossier_id=dossier_id, event_id=event_id, action=str(action)
        )

    transaction.on_commit(committed)


def _save_status(dossier: Dossier, status: int, *fields: str) -> None:
    dossier.status = status
    dossier.save(update_fields=["status", "updated_at", *fields])


# --- applicants -----------------------------------------------------------------------------


def _unit(code: str, level: str | None = None) -> AdministrativeUnit | None:
    if not code:
        return None
    key = (code.strip(), level)
    now = time.monotonic()
    hit = _units.get(key)
    if hit is not None and now - hit[0] < UNIT_TTL:
        return hit[1]
    unit = AdministrativeUnit.objects.filter(code=code.strip(), valid_to__isnull=True)
    if level:
        unit = unit.filter(level=level)
    found = unit.first()
    if found is None:
        raise InvalidInput(
            f"Không tìm thấy đơn vị hành chính có mã «{code}».", code="unknown_unit", unit=code
        )
    with _reference_lock:
        if len(_units) >= _CACHE_LIMIT:
            _units.clear()
        _units[key] = (now, found)
    return found


def clean_applicant(data: ApplicantInput) -> dict[str, Any]:
    """Validate an applicant's data; return the normalised field values."""
    name = " ".join((data.name or "").split())
    if not name:
        raise InvalidInput("Chưa nhập họ tên người nộp hồ sơ.", code="missing_name")
    values: dict[str, Any] = {"kind": data.kind, "name": name}
    if data.kind == Applicant.Kind.INDIVIDUAL:
        if not data.personal_id:
            raise InvalidInput(
                "Chưa nhập số định danh cá nhân (12 chữ số).", code="missing_personal_id"
            )
        values["personal_id"] = codes.validate_personal_id(data.personal_id)
        values["tax_code"] = ""
    elif data.kind == Applicant.Kind.ORGANISATION:
        if not data.tax_code:
            raise InvalidInput("Chưa nhập mã số thuế của tổ chức.", code="missing_tax_code")
        values["tax_code"] = codes.validate_tax_code(data.tax_code)
        values["personal_id"] = ""
    else:
        raise InvalidInput(
            f"Loại người nộp «{data.kind}» không hợp lệ.", code="invalid_applicant_kind"
        )
    values["phone"] = codes.normalize_phone(data.phone) if data.phone else ""
    values["email"] = (data.email or "").strip()
    if values["email"] and "@" not in values["email"]:
        raise InvalidInput("Địa chỉ thư điện tử không hợp lệ.", code="invalid_email")
    province = _unit(data.province_code)
    commune = _unit(data.commune_code)
    if commune is not None and province is not None and commune.parent_id != province.pk:
        raise InvalidInput(
            "Xã, phường không thuộc tỉnh, thành phố đã chọn.", code="commune_not_in_province"
        )
    values["province"] = province
    values["commune"] = commune
    values["address_line"] = (data.address_line or "").strip()
    return values


def find_applicant(*, personal_id: str = "", tax_code: str = "") -> Applicant | None:
    """A returning applicant, by personal id or tax code."""
    if personal_id:
        return Applicant.objects.filter(personal_id=codes.validate_personal_id(personal_id)).first()
    if tax_code:
        return Applicant.objects.filter(
            personal_id="", tax_code=codes.validate_tax_code(tax_code)
        ).first()
    return None


def upsert_applicant(data: ApplicantInput) -> Applicant:
    """Find the applicant by identifier and refresh their details, or create them."""
    values = clean_applicant(data)
    if values["personal_id"]:
        lookup = {"personal_id": values["personal_id"]}
    else:
        lookup = {"personal_id": "", "tax_code": values["tax_code"]}
    applicant = Applicant.objects.select_for_update().filter(**lookup).first()
    if applicant is None:
        try:
            with transaction.atomic():
                return Applicant.objects.create(**values)
        except IntegrityError:
            applicant = Applicant.objects.select_for_update().get(**lookup)
    changed = []
    for name, value in values.items():
        # Contact details are refreshed; an empty value never erases a known one.
        if value in ("", None):
            continue
        if isinstance(value, models.Model):
            # Compare keys, not rows (no query); the row in hand is the cached unit.
            if getattr(applicant, f"{name}_id") != value.pk:
                changed.append(name)
            setattr(applicant, name, value)
        elif getattr(applicant, name) != value:
            setattr(applicant, name, value)
            changed.append(name)
    if changed:
        applicant.save(update_fields=[*changed, "updated_at"])
    return applicant


# --- catalogue checks -----------------------------------------------------------------------


# --- reference data, cached per process -------------------------------------------------------
# A procedure version's variants, components, time limits and fees never change (a change makes
# a new version), so they are read once per process; administrative units change rarely and
# are kept for ``UNIT_TTL`` seconds. Saving any of these rows in this process clears both
# (``clear_reference_cache``, connected in ``apps.py``), as the calendars do.
UNIT_TTL = 300.0
_CACHE_LIMIT = 2000
_versions: dict[int, dict[int, Variant]] = {}
_units: dict[tuple[str, str | None], tuple[float, AdministrativeUnit]] = {}
_reference_lock = threading.Lock()


# Agencies and which procedure each may receive change rarely and only by an administrator; a
# change made in another process is seen within REFERENCE_TTL seconds.
REFERENCE_TTL = 60.0
_agencies: dict[tuple[str, Any], tuple[float, Agency | None]] = {}
_procedures: dict[str, tuple[float, tuple[Procedure | None, frozenset[int]]]] = {}


def clear_reference_cache(**_signal_kwargs: Any) -> None:
    with _reference_lock:
        _versions.clear()
        _units.clear()
        _agencies.clear()
        _procedures.clear()


def _remember(store: dict, key, value) -> None:
    with _reference_lock:
        if len(store) >= _CACHE_LIMIT:
            store.clear()
        store[key] = (time.monotonic(), value)


def _recall(store: dict, key, ttl: float):
    hit = store.get(key)
    if hit is not None and time.monotonic() - hit[0] < ttl:
        return True, hit[1]
    return False, None


def active_agency(pk: int) -> Agency | None:
    """The active agency with this id (cached per process for ``REFERENCE_TTL`` seconds)."""
    found, agency = _recall(_agencies, ("pk", pk), REFERENCE_TTL)
    if not found:
        agency = Agency.objects.filter(pk=pk, is_active=True).first()
        _remember(_agencies, ("pk", pk), agency)
    return agency


def agency_by_electronic_id(value: str) -> Agency | None:
    """The active agency with this electronic id (cached like ``active_agency``)."""
    key = ("eid", (value or "").strip())
    found, agency = _recall(_agencies, key, REFERENCE_TTL)
    if not found:
        agency = Agency.objects.filter(electronic_id=key[1], is_active=True).first()
        _remember(_agencies, key, agency)
    return agency


def _procedure(code: str) -> tuple[Procedure | None, frozenset[int]]:
    """The active procedure with this code and its current version, with the agencies that
    apply it (empty: any agency). Cached like ``active_agency``."""
    code = (code or "").strip()
    found, value = _recall(_procedures, code, REFERENCE_TTL)
    if not found:
        procedure = next(
            iter(
                Procedure.objects.select_related("current_version")
                .filter(code=code, is_active=True)
                .order_by()
            ),
            None,
        )
        applied = frozenset(
            procedure.applied_by.filter(is_active=True).values_list("agency_id", flat=True)
            if procedure is not None
            else ()
        )
        value = (procedure, applied)
        _remember(_procedures, code, value)
    return value


def _offer(version_id: int) -> dict[int, Variant]:
    """The variants of a version with their components, time limits and fees prefetched."""
    found = _versions.get(version_id)
    if found is None:
        found = {
            v.pk: v
            for v in Variant.objects.filter(version_id=version_id)
            .prefetch_related("components", "time_limits", "fees")
            .order_by("order", "id")
        }
        with _reference_lock:
            if len(_versions) >= _CACHE_LIMIT:
                _versions.clear()
            _versions[version_id] = found
    return found


def _procedure_and_variant(
    code: str, variant_id: int | None, agency: Agency
) -> tuple[Procedure, Variant]:
    procedure, applied = _procedure(code)
    if procedure is None or procedure.current_version is None:
        raise NotFound(
            f"Không tìm thấy thủ tục hành chính có mã «{code}».",
            code="unknown_procedure",
            procedure=code,
        )
    if applied and agency.pk not in applied:
        raise InvalidInput(
            f"Thủ tục «{procedure.code}» không thuộc thẩm quyền tiếp nhận của {agency.name}.",
            code="not_in_competence",
        )
    variants = _offer(procedure.current_version_id)
    if variant_id is None:
        if len(variants) != 1:
            raise InvalidInput(
                "Thủ tục có nhiều trường hợp: cần chọn trường hợp giải quyết.",
                code="variant_required",
            )
        return procedure, next(iter(variants.values()))
    variant = variants.get(variant_id)
    if variant is None:
        raise InvalidInput(
            "Trường hợp đã chọn không thuộc phiên bản hiện hành của thủ tục.",
            code="unknown_variant",
        )
    return procedure, variant


def fees_for(variant: Variant, channel: str) -> tuple[int, list[dict]]:
    lines = [
        {"kind": fee.kind, "amount": fee.amount, "description": fee.description}
        for fee in sorted(variant.fees.all(), key=lambda f: f.pk)
        if fee.channel == channel
    ]
    return sum(line["amount"] or 0 for line in lines), lines


def time_limit_for(variant: Variant, channel: str):
    limits = {limit.channel: limit for limit in variant.time_limits.all()}
    return limits.get(channel) or limits.get(Channel.COUNTER) or next(iter(limits.values()), None)


def missing_components(dossier: Dossier) -> list[Component]:
    """The variant's required components not handed in (everything missing, at once)."""
    received = set(
        SubmittedComponent.objects.filter(dossier=dossier, component__isnull=False).values_list(
            "component_id", flat=True
        )
    )
    return [c for c in dossier.variant.components.all() if c.required and c.pk not in received]


def _add_components(
    dossier: Dossier,
    items: Sequence[ComponentInput],
    at: dt.datetime,
    pause: Pause | None = None,
    *,
    start: int | None = None,
) -> list[SubmittedComponent]:
    if start is None:
        start = SubmittedComponent.objects.filter(dossier=dossier).count()
    rows = _component_rows(dossier, items, at, pause, start=start)
    return SubmittedComponent.objects.bulk_create(rows)


def _component_rows(
    dossier: Dossier,
    items: Sequence[ComponentInput],
    at: dt.datetime,
    pause: Pause | None = None,
    *,
    start: int,
) -> list[SubmittedComponent]:
    """Check the papers handed in against the variant's list; the rows to save, unsaved."""
    known = {c.pk: c for c in dossier.variant.components.all()}
    rows = []
    for index, item in enumerate(items):
        if item.originals < 0 or item.copies < 0:
            raise InvalidInput("Số bản không được là số âm.", code="invalid_count")
        if item.component_id is not None:
            component = known.get(item.component_id)
            if component is None:
                raise InvalidInput(
                    "Thành phần hồ sơ không thuộc trường hợp đã chọn.",
                    code="unknown_component",
                    component=item.component_id,
                )
            name, in_list = item.name or component.name, True
        else:
            name, in_list = (item.name or "").strip(), False
            if not name:
                raise InvalidInput("Chưa nhập tên giấy tờ.", code="missing_component_name")
            if not item.outside_reason.strip():
                raise InvalidInput(
                    f"Giấy tờ «{name}» ngoài danh mục công bố: cần ghi lý do tiếp nhận.",
                    code="outside_component_reason",
                )
            component = None
        rows.append(
            SubmittedComponent(
                dossier=dossier,
                component=component,
                order=start + index,
                name=name,
                originals=item.originals,
                copies=item.copies,
                in_list=in_list,
                outside_reason="" if in_list else item.outside_reason.strip(),
                pause=pause,
                added_at=at,
            )
        )
    return rows


# --- submission -----------------------------------------------------------------------------


def _by_idempotency_key(key: str) -> Dossier | None:
    # The key is unique: no ORDER BY/LIMIT, which can lead PostgreSQL to walk the primary key.
    return next(iter(Dossier.objects.filter(idempotency_key=key).order_by()), None)


def submit(
    data: SubmissionInput,
    *,
    actor,
    idempotency_key: str | None = None,
    at: dt.datetime | None = None,
) -> tuple[Dossier, bool]:
    """Create a dossier in status 1 (submitted); return it and whether it was created.

    With ``idempotency_key`` a retried request returns the dossier the first one created.
    """
    # On PostgreSQL the one-statement write checks the key itself (``fastpath``); a retry is
    # still answered with the first dossier when its checks would now fail.
    fast = fastpath.applies()
    if idempotency_key and not fast:
        existing = _by_idempotency_key(idempotency_key)
        if existing is not None:
            return existing, False
    try:
        return _submit(data, actor=actor, idempotency_key=idempotency_key, at=at, fast=fast)
    except DomainError:
        if fast and idempotency_key:
            existing = _by_idempotency_key(idempotency_key)
            if existing is not None:
                return existing, False
        raise
    except IntegrityError:
        if idempotency_key:
            existing = _by_idempotency_key(idempotency_key)
            if existing is not None:
                return existing, False
        raise


def _submit(
    data: SubmissionInput,
    *,
    actor,
    idempotency_key: str | None,
    at: dt.datetime | None,
    fast: bool,
) -> tuple[Dossier, bool]:
    at = _now(at)
    if data.channel not in Channel.values:
        raise InvalidInput(f"Kênh nộp «{data.channel}» không hợp lệ.", code="invalid_channel")
    if data.delivery not in Delivery.values:
        raise InvalidInput(
            f"Hình thức nhận kết quả «{data.delivery}» không hợp lệ.", code="invalid_delivery"
        )
    if data.delivery == Delivery.POSTAL and not data.delivery_address.strip():
        raise InvalidInput(
            "Nhận kết quả qua bưu chính cần địa chỉ nhận.", code="missing_delivery_address"
        )
    if not 1 <= int(data.sets) <= 100:
        raise InvalidInput("Số bộ hồ sơ phải từ 1 đến 100.", code="invalid_sets")
    agency = active_agency(data.receiving_agency_id)
    if agency is None:
        raise NotFound("Không tìm thấy cơ quan tiếp nhận.", code="unknown_agency")
    deciding = None
    if data.deciding_agency_id is not None:
        deciding = active_agency(data.deciding_agency_id)
        if deciding is None:
            raise NotFound("Không tìm thấy cơ quan giải quyết.", code="unknown_agency")
    counter = None
    if data.counter_id is not None:
        counter = Counter.objects.filter(pk=data.counter_id, agency=agency).first()
        if counter is None:
            raise InvalidInput("Quầy không thuộc cơ quan tiếp nhận.", code="unknown_counter")
    counter_intake = data.channel == Channel.COUNTER and actor is not SYSTEM
    if counter_intake and Role.COUNTER_OFFICER not in _roles_of(actor, agency.pk):
        raise PermissionDenied("Chỉ cán bộ một cửa của cơ quan tiếp nhận được nhập hồ sơ tại quầy.")
    procedure, variant = _procedure_and_variant(data.procedure_code, data.variant_id, agency)
    limit = time_limit_for(variant, data.channel)
    fee_total, fee_lines = fees_for(variant, data.channel)
    fields = dict(
        status=Status.SUBMITTED,
        channel=data.channel,
        procedure=procedure,
        version=procedure.current_version,
        variant=variant,
        receiving_agency=agency,
        deciding_agency=deciding,
        counter=counter,
        authorisation=data.authorisation.strip(),
        summary=data.summary.strip() or procedure.current_version.name,
        sets=data.sets,
        delivery=data.delivery,
        delivery_address=data.delivery_address.strip(),
        time_limit_amount=limit.amount if limit else None,
        time_limit_unit=limit.unit if limit else "",
        time_limit_text=(limit.description[:255] if limit else ""),
        fee_total=fee_total,
        fee_lines=fee_lines,
        submitted_at=at,
        created_by=_actor_user(actor),
        idempotency_key=idempotency_key or None,
    )

    if fast:
        # The same checks in the same order as below, then one statement writes it all.
        applicant = clean_applicant(data.applicant)
        owner = clean_applicant(data.owner) if data.owner else None
        if owner is None or not fastpath.same_person(applicant, owner):
            dossier = Dossier(**fields)
            dossier.new_components = _component_rows(dossier, data.components, at, start=0)
            dossier.new_event, messages = _event_rows(
                dossier, "submit", actor, at, before=None, topics=("notify",)
            )
            if fastpath.insert_submission(
                dossier=dossier,
                applicant=applicant,
                owner=owner,
                components=dossier.new_components,
                event=dossier.new_event,
                messages=messages,
                idempotency_key=idempotency_key,
            ):
                _announce(dossier, dossier.new_event, "submit")
                return dossier, True
        if idempotency_key:
            # The key is taken (or the owner is the applicant: the ORM path, key read first).
            existing = _by_idempotency_key(idempotency_key)
            if existing is not None:
                return existing, False

    with transaction.atomic():
        applicant = upsert_applicant(data.applicant)
        owner = upsert_applicant(data.owner) if data.owner else None
        dossier = Dossier.objects.create(
            applicant=applicant,
            owner=owner if owner is not None and owner.pk != applicant.pk else None,
            **fields,
        )
        # What this call wrote, for the caller's answer (the API answers from it).
        dossier.new_components = _add_components(dossier, data.components, at, start=0)
        dossier.new_event = _record(dossier, "submit", actor, at, before=None, topics=("notify",))
    return dossier, True


# --- intake decisions -----------------------------------------------------------------------


def _issue_code(agency: Agency, day: dt.date) -> str:
    """The next dossier code of ``agency`` for ``day``: sequential, no gap, no duplicate.

    The counter row is locked for the rest of the receiving transaction, so concurrent
    receipts at the same agency queue here and a rolled-back receipt gives its number back.
    """
    DossierCodeCounter.objects.bulk_create(
        [DossierCodeCounter(agency=agency, day=day, last=0)], ignore_conflicts=True
    )
    counter = DossierCodeCounter.objects.select_for_update().get(agency=agency, day=day)
    counter.last += 1
    counter.save(update_fields=["last"])
    return codes.dossier_code_rule(day).format(agency.electronic_id, day, counter.last)


def _instantiate_steps(dossier: Dossier, received_at: dt.datetime) -> list[Step]:
    template = list(dossier.variant.steps.select_related("agency", "department").order_by("order"))
    processing_agency = dossier.deciding_agency or dossier.receiving_agency
    rows: list[Step] = []
    if template and template[0].role == Role.COUNTER_OFFICER:
        first, template = template[0], template[1:]
        intake = (first.name, first.share)
    else:
        intake = ("Tiếp nhận hồ sơ", Decimal(0))
    # A template that ends at the desk ("Trả kết quả tại …") names the return step itself.
    if len(template) > 1 and template[-1].role == Role.COUNTER_OFFICER:
        last, template = template[-1], template[:-1]
        handover = (last.name, last.share)
    else:
        handover = ("Trả kết quả", Decimal(0))
    rows.append(
        Step(
            dossier=dossier,
            order=0,
            kind=Step.Kind.INTAKE,
            name=intake[0],
            role=Role.COUNTER_OFFICER,
            agency=dossier.receiving_agency,
            share=intake[1],
            state=Step.State.DONE,
            started_at=dossier.submitted_at,
            done_at=received_at,
        )
    )
    if not template:
        rows.append(
            Step(
                dossier=dossier,
                order=1,
                kind=Step.Kind.PROCESSING,
                name="Thẩm định, giải quyết hồ sơ",
                role=Role.SPECIALIST,
                agency=processing_agency,
                share=Decimal(100) - intake[1],
                state=Step.State.PENDING,
            )
        )
    for index, item in enumerate(template, start=1):
        rows.append(
            Step(
                dossier=dossier,
                order=index,
                kind=Step.Kind.PROCESSING,
                name=item.name,
                role=item.role,
                agency=item.agency or processing_agency,
                department=item.department,
                share=item.share,
                state=Step.State.PENDING,
            )
        )
    rows.append(
        Step(
            dossier=dossier,
            order=len(rows),
            kind=Step.Kind.RETURN,
            name=handover[0],
            role=Role.COUNTER_OFFICER,
            agency=dossier.receiving_agency,
            share=handover[1],
            state=Step.State.PENDING,
        )
    )
    calendar = deadlines.calendar_of(dossier)
    dues = deadlines.step_dues(calendar, received_at, dossier.due_at, [s.share for s in rows])
    for step, due in zip(rows, dues, strict=True):
        step.due_at = due
    rows[0].timeliness = deadlines.classify(received_at, rows[0].due_at)
    rows[1].state = Step.State.ACTIVE
    rows[1].started_at = received_at
    return Step.objects.bulk_create(rows)


def receive(dossier, *, actor, note: str = "", at: dt.datetime | None = None) -> Dossier:
    """Receive a complete dossier: code, appointment, steps (status 1 → 2)."""
    with transaction.atomic():
        dossier = _lock(dossier)
        tr = transition(Action.RECEIVE, dossier.status)
        _require(actor, dossier, tr, None)
        missing = missing_components(dossier)
        if missing:
            raise MissingComponents(
                "Hồ sơ còn thiếu: " + "; ".join(c.name for c in missing) + ".",
                missing=[{"id": c.pk, "name": c.name} for c in missing],
            )
        at = _now(at)
        if at < dossier.submitted_at:
            raise InvalidInput("Thời điểm tiếp nhận trước thời điểm nộp.", code="invalid_time")
        calendar = deadlines.calendar_of(dossier)
        due = deadlines.appointment(
            calendar, at, dossier.time_limit_amount, dossier.time_limit_unit
        )
        before = dossier.status
        dossier.code = _issue_code(dossier.receiving_agency, at.astimezone(VN_TZ).date())
        dossier.received_at = at
        dossier.due_at = due
        dossier.original_due_at = due
        _save_status(dossier, Status.RECEIVED, "code", "received_at", "due_at", "original_due_at")
        steps = _instantiate_steps(dossier, at)
        _record(
            dossier,
            Action.RECEIVE,
            actor,
            at,
            before=before,
            note=note,
            step=steps[0],
            data={"due_at": due.isoformat() if due else None},
        )
        return dossier


def refuse(dossier, *, actor, reason: str, at: dt.datetime | None = None) -> Dossier:
    """Refuse to receive (Mẫu 03): not in competence or conditions not met (1 → 3)."""
    reason = (reason or "").strip()
    with transaction.atomic():
        dossier = _lock(dossier)
        tr = transition(Action.REFUSE, dossier.status)
        _require(actor, dossier, tr, None)
        if not reason:
            raise InvalidInput("Cần ghi rõ lý do từ chối tiếp nhận.", code="missing_reason")
        at = _now(at)
        before = dossier.status
        dossier.closed_at = at
        _save_status(dossier, Status.REFUSED, "closed_at")
        _record(dossier, Action.REFUSE, actor, at, before=before, note=reason)
        return dossier


def request_supplement(
    dossier,
    *,
    actor,
    items: Sequence[str],
    reason: str = "",
    legal_basis: str = "",
    approver=None,
    approval_reason: str = "",
    at: dt.datetime | None = None,
) -> Pause:
    """Ask for everything missing at once (Mẫu 02); the clock stops (→ 5).

    At intake (status 1) the dossier is not received yet. During processing a second request
    needs an approver (a leader of the agency) and a reason.
    """
    items = [" ".join(str(i).split()) for i in items if str(i).strip()]
    with transaction.atomic():
        dossier = _lock(dossier)
        tr = transition(Action.REQUEST_SUPPLEMENT, dossier.status)
        step = _active_step(dossier)
        _require(actor, dossier, tr, step)
        if not items:
            raise InvalidInput(
                "Cần liệt kê đầy đủ các giấy tờ, nội dung phải bổ sung.", code="missing_items"
            )
        at = _now(at)
        stage = Pause.Stage.INTAKE if dossier.status == Status.SUBMITTED else Pause.Stage.PROCESSING
        if stage == Pause.Stage.PROCESSING:
            earlier = Pause.objects.filter(
                dossier=dossier, kind=Pause.Kind.SUPPLEMENT, stage=Pause.Stage.PROCESSING
            ).count()
            if earlier:
                if approver is None or not approval_reason.strip():
                    raise GuardFailed(
                        "Hồ sơ đã được yêu cầu bổ sung trong quá trình giải quyết: yêu cầu lần "
                        "nữa cần lãnh đạo phê duyệt và ghi rõ lý do.",
                        code="second_supplement_needs_approval",
                    )
                agency_id = step.agency_id if step else dossier.receiving_agency_id
                if Role.LEADER not in _roles_of(approver, agency_id):
                    raise PermissionDenied(
                        "Người phê duyệt phải là lãnh đạo của cơ quan đang giải quyết hồ sơ.",
                        code="approver_not_leader",
                    )
        pause = Pause.objects.create(
            dossier=dossier,
            kind=Pause.Kind.SUPPLEMENT,
            stage=stage,
            items=items,
            reason=reason.strip(),
            legal_basis=legal_basis.strip(),
            stops_clock=True,
            resume_status=dossier.status
            if dossier.status != Status.RECEIVED
            else Status.PROCESSING,
            requested_by=_actor_user(actor),
            approved_by=approver if approver is not SYSTEM else None,
            approval_reason=approval_reason.strip(),
            started_at=at,
        )
        before = dossier.status
        _save_status(dossier, Status.AWAITING_SUPPLEMENT)
        _record(
            dossier,
            Action.REQUEST_SUPPLEMENT,
            actor,
            at,
            before=before,
            note=reason,
            step=step,
            data={"items": items, "stage": stage, "pause": pause.pk},
        )
        return pause


def _close_pause(dossier: Dossier, at: dt.datetime) -> Pause:
    pause = Pause.objects.select_for_update().filter(dossier=dossier, ended_at__isnull=True).first()
    if pause is None:
        raise GuardFailed("Hồ sơ không có yêu cầu nào đang chờ.", code="no_open_pause")
    if at < pause.started_at:
        raise InvalidInput("Thời điểm tiếp tục trước thời điểm tạm dừng.", code="invalid_time")
    pause.ended_at = at
    pause.save(update_fields=["ended_at"])
    if pause.stops_clock and dossier.due_at is not None:
        calendar = deadlines.calendar_of(dossier)
        dossier.due_at = deadlines.shift_for_pause(calendar, dossier.due_at, pause.started_at, at)
        dossier.save(update_fields=["due_at"])
        for step in _open_steps(dossier):
            step.due_at = deadlines.shift_for_pause(calendar, step.due_at, pause.started_at, at)
            step.save(update_fields=["due_at"])
    return pause


def provide_supplement(
    dossier,
    *,
    actor,
    components: Sequence[ComponentInput] = (),
    note: str = "",
    at: dt.datetime | None = None,
) -> Dossier:
    """The applicant's supplement arrived: the clock runs again, time used is kept (5 → …)."""
    with transaction.atomic():
        dossier = _lock(dossier)
        tr = transition(Action.PROVIDE_SUPPLEMENT, dossier.status)
        _require(actor, dossier, tr, None)
        at = _now(at)
        old_due = dossier.due_at
        pause = _close_pause(dossier, at)
        if pause.kind != Pause.Kind.SUPPLEMENT:
            raise GuardFailed("Hồ sơ không chờ bổ sung.", code="no_open_pause")
        _add_components(dossier, components, at, pause=pause)
        before = dossier.status
        _save_status(dossier, pause.resume_status)
        _record(
            dossier,
            Action.PROVIDE_SUPPLEMENT,
            actor,
            at,
            before=before,
            note=note,
            step=_active_step(dossier),
            data={
                "pause": pause.pk,
                "previous_due_at": old_due.isoformat() if old_due else None,
                "due_at": dossier.due_at.isoformat() if dossier.due_at else None,
            },
        )
        return dossier


def attach_file(
    dossier,
    *,
    actor,
    submitted_component_id: int,
    name: str,
    content_type: str,
    content: bytes,
    at: dt.datetime | None = None,
) -> ComponentFile:
    """Attach a scan to a submitted component (the caller has checked the content type).

    The receiving desk may attach while the dossier is open; the client that created an
    online dossier, or the applicant's own account, may attach while it is submitted or
    awaiting its supplement, and to the papers of a supplement it provided at ``at`` (the
    portal gives the supplement and its scans in one transaction, at one moment).
    """
    from django.core.files.base import ContentFile

    with transaction.atomic():
        dossier = _lock(dossier)
        own = actor is not SYSTEM and (
            dossier.created_by_id == getattr(actor, "pk", None) or _is_applicant(actor, dossier)
        )
        desk = Role.COUNTER_OFFICER in _roles_of(actor, dossier.receiving_agency_id)
        supplying = (
            own
            and at is not None
            and SubmittedComponent.objects.filter(
                dossier=dossier, pk=submitted_component_id, added_at=at, pause__ended_at=at
            ).exists()
        )
        if (
            not (desk and dossier.is_open)
            and not supplying
            and not (own and dossier.status in (Status.SUBMITTED, Status.AWAITING_SUPPLEMENT))
        ):
            raise PermissionDenied(
                "Bạn không thể đính kèm tệp vào hồ sơ này ở trạng thái hiện tại."
            )
        component = SubmittedComponent.objects.filter(
            dossier=dossier, pk=submitted_component_id
        ).first()
        if component is None:
            raise NotFound("Không tìm thấy thành phần hồ sơ.", code="unknown_component")
        at = _now(at)
        row = ComponentFile(
            component=component,
            original_name=name[:255],
            content_type=content_type,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
        )
        row.file.save(name[-100:], ContentFile(content), save=False)
        row.save()
        _record(
            dossier,
            "attach_file",
            actor,
            at,
            before=dossier.status,
            data={"component": component.pk, "file": row.pk, "sha256": row.sha256},
            topics=(),
        )
        return row


# --- processing -----------------------------------------------------------------------------


def _require_active_step(dossier: Dossier) -> Step:
    step = _active_step(dossier)
    if step is None or step.kind != Step.Kind.PROCESSING:
        raise GuardFailed("Hồ sơ không có bước xử lý nào đang thực hiện.", code="no_active_step")
    return step


def assign(dossier, *, actor, assignee, note: str = "", at: dt.datetime | None = None) -> Step:
    """The leader assigns the active step to an officer of the step's agency (→ 4)."""
    with transaction.atomic():
        dossier = _lock(dossier)
        tr = transition(Action.ASSIGN, dossier.status)
        step = _require_active_step(dossier)
        _require(actor, dossier, tr, step)
        if not isinstance(assignee, get_user_model()) or not (
            _roles_of(assignee, step.agency_id, step.department_id) & {step.role, Role.LEADER}
        ):
            raise InvalidInput(
                "Người được phân công không có vai trò phù hợp tại cơ quan xử lý bước này.",
                code="invalid_assignee",
            )
        at = _now(at)
        step.assignee = assignee
        step.save(update_fields=["assignee"])
        before = dossier.status
        _save_status(dossier, Status.PROCESSING)
        _record(
            dossier,
            Action.ASSIGN,
            actor,
            at,
            before=before,
            note=note,
            step=step,
            data={"assignee": assignee.pk, "assignee_label": _actor_label(assignee)},
            topics=("notify",),
        )
        return step


def _step_roles(actor, step: Step) -> set[str]:
    """Who may act on a step: its role or a leader; a specialist only if it is theirs."""
    roles = {step.role, Role.LEADER}
    if step.assignee_id is not None and getattr(actor, "pk", None) != step.assignee_id:
        roles = {Role.LEADER}
    return roles


def _finish_step(step: Step, actor, at: dt.datetime, note: str) -> None:
    step.state = Step.State.DONE
    step.done_at = at
    step.done_by = _actor_user(actor)
    step.note = note
    step.timeliness = deadlines.classify(at, step.due_at)
    step.save(update_fields=["state", "done_at", "done_by", "note", "timeliness"])


def complete_step(dossier, *, actor, note: str = "", at: dt.datetime | None = None) -> Step:
    """Finish the active step with a processing note; the next one starts (→ 4).

    The last processing step is finished by ``record_result``, not here.
    """
    with transaction.atomic():
        dossier = _lock(dossier)
        tr = transition(Action.COMPLETE_STEP, dossier.status)
        step = _require_active_step(dossier)
        _require(actor, dossier, tr, step, roles=_step_roles(actor, step))
        following = (
            Step.objects.filter(dossier=dossier, state=Step.State.PENDING, order__gt=step.order)
            .order_by("order", "id")
            .first()
        )
        if following is None or following.kind != Step.Kind.PROCESSING:
            raise GuardFailed(
                "Đây là bước xử lý cuối: hãy cập nhật kết quả giải quyết.", code="last_step"
            )
        at = _now(at)
        _finish_step(step, actor, at, note.strip())
        following.state = Step.State.ACTIVE
        following.started_at = at
        following.save(update_fields=["state", "started_at"])
        before = dossier.status
        _save_status(dossier, Status.PROCESSING)
        handover = following.agency_id != step.agency_id
        _record(
            dossier,
            Action.COMPLETE_STEP,
            actor,
            at,
            before=before,
            note=note,
            step=step,
            agency=step.agency,
            data={
                "next_step": following.pk,
                "next_agency": following.agency_id,
                "interagency": handover,
                "timeliness": step.timeliness,
            },
            topics=("notify",),
        )
        return following


def send_back(
    dossier, *, actor, to_step_id: int, reason: str, at: dt.datetime | None = None
) -> Step:
    """Send the dossier back to an earlier processing step, which is redone (4 → 4)."""
    reason = (reason or "").strip()
    with transaction.atomic():
        dossier = _lock(dossier)
        tr = transition(Action.SEND_BACK, dossier.status)
        step = _require_active_step(dossier)
        _require(actor, dossier, tr, step, roles=_step_roles(actor, step))
        if not reason:
            raise InvalidInput("Cần ghi rõ lý do chuyển trả.", code="missing_reason")
        target = Step.objects.filter(
            dossier=dossier,
            pk=to_step_id,
            kind=Step.Kind.PROCESSING,
            state=Step.State.DONE,
            order__lt=step.order,
        ).first()
        if target is None:
            raise InvalidInput(
                "Chỉ chuyển trả về một bước xử lý đã hoàn thành trước bước hiện tại.",
                code="invalid_step",
            )
        at = _now(at)
        redo = list(
            Step.objects.filter(
                dossier=dossier,
                kind=Step.Kind.PROCESSING,
                state=Step.State.DONE,
                order__gte=target.order,
                order__lt=step.order,
            ).order_by("order", "id")
        )
        # The sent-back step and the steps to redo keep their rows as history; fresh rows
        # take their place with the same allowance.
        step.state = Step.State.SENT_BACK
        step.done_at = at
        step.done_by = _actor_user(actor)
        step.note = reason
        step.save(update_fields=["state", "done_at", "done_by", "note"])
        fresh = []
        for old in [*redo, step]:
            fresh.append(
                Step(
                    dossier=dossier,
                    order=old.order,
                    kind=old.kind,
                    name=old.name,
                    role=old.role,
                    agency_id=old.agency_id,
                    department_id=old.department_id,
                    share=old.share,
                    state=Step.State.PENDING,
                    due_at=old.due_at,
                    assignee_id=old.assignee_id,
                )
            )
        fresh[0].state = Step.State.ACTIVE
        fresh[0].started_at = at
        created = Step.objects.bulk_create(fresh)
        before = dossier.status
        _save_status(dossier, Status.PROCESSING)
        _record(
            dossier,
            Action.SEND_BACK,
            actor,
            at,
            before=before,
            note=reason,
            step=step,
            data={"to_step": target.pk, "to_order": target.order},
            topics=("notify",),
        )
        return created[0]


def request_payment(
    dossier,
    *,
    actor,
    amount: int,
    reason: str,
    legal_basis: str = "",
    stops_clock: bool | None = None,
    at: dt.datetime | None = None,
) -> Pause:
    """Ask the applicant to pay a financial obligation (→ 6).

    Whether the clock stops is sector-specific: ``stops_clock`` or the setting
    ``MOTCUA_PAYMENT_STOPS_CLOCK`` (default on).
    """
    with transaction.atomic():
        dossier = _lock(dossier)
        tr = transition(Action.REQUEST_PAYMENT, dossier.status)
        step = _active_step(dossier)
        _require(actor, dossier, tr, step)
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise InvalidInput("Số tiền phải là số nguyên dương (đồng).", code="invalid_amount")
        if not (reason or "").strip():
            raise InvalidInput(
                "Cần ghi rõ nghĩa vụ tài chính phải thực hiện.", code="missing_reason"
            )
        if stops_clock is None:
            stops_clock = getattr(settings, "MOTCUA_PAYMENT_STOPS_CLOCK", True)
        at = _now(at)
        pause = Pause.objects.create(
            dossier=dossier,
            kind=Pause.Kind.PAYMENT,
            stage=Pause.Stage.PROCESSING,
            items=[],
            reason=reason.strip(),
            legal_basis=legal_basis.strip(),
            amount=amount,
            stops_clock=bool(stops_clock),
            resume_status=Status.PROCESSING,
            requested_by=_actor_user(actor),
            started_at=at,
        )
        before = dossier.status
        _save_status(dossier, Status.AWAITING_PAYMENT)
        _record(
            dossier,
            Action.REQUEST_PAYMENT,
            actor,
            at,
            before=before,
            note=reason,
            step=step,
            data={"amount": amount, "stops_clock": bool(stops_clock), "pause": pause.pk},
        )
        return pause


def confirm_payment(dossier, *, actor, receipt: str = "", at: dt.datetime | None = None) -> Dossier:
    """The obligation is paid: processing goes on (6 → 4)."""
    with transaction.atomic():
        dossier = _lock(dossier)
        tr = transition(Action.CONFIRM_PAYMENT, dossier.status)
        _require(actor, dossier, tr, None)
        at = _now(at)
        pause = _close_pause(dossier, at)
        if pause.kind != Pause.Kind.PAYMENT:
            raise GuardFailed("Hồ sơ không chờ thực hiện nghĩa vụ tài chính.", code="no_open_pause")
        before = dossier.status
        _save_status(dossier, Status.PROCESSING)
        _record(
            dossier,
            Action.CONFIRM_PAYMENT,
            actor,
            at,
            before=before,
            note=receipt,
            step=_active_step(dossier),
            data={"pause": pause.pk, "receipt": receipt},
        )
        return dossier


def propose_extension(
    dossier, *, actor, reason: str, new_due_at: dt.datetime, at: dt.datetime | None = None
) -> Extension:
    """Draft the apology and extension request (Mẫu 04) for the leader's approval."""
    reason = (reason or "").strip()
    with transaction.atomic():
        dossier = _lock(dossier)
        tr = transition(Action.PROPOSE_EXTENSION, dossier.status)
        step = _active_step(dossier)
        _require(actor, dossier, tr, step)
        if not reason:
            raise InvalidInput("Cần ghi rõ lý do chậm trả kết quả.", code="missing_reason")
        if dossier.due_at is None:
            raise GuardFailed("Hồ sơ không có ngày hẹn trả để gia hạn.", code="no_appointment")
        if timezone.is_naive(new_due_at) or new_due_at <= dossier.due_at:
            raise InvalidInput(
                "Ngày hẹn trả mới phải sau ngày hẹn trả hiện tại.", code="invalid_new_due"
            )
        limit = getattr(settings, "MOTCUA_MAX_EXTENSIONS", 1)
        used = Extension.objects.filter(
            dossier=dossier, state__in=[Extension.State.PROPOSED, Extension.State.APPROVED]
        ).count()
        if used >= limit:
            raise GuardFailed(f"Hồ sơ chỉ được gia hạn tối đa {limit} lần.", code="extension_limit")
        at = _now(at)
        extension = Extension.objects.create(
            dossier=dossier,
            state=Extension.State.PROPOSED,
            reason=reason,
            previous_due_at=dossier.due_at,
            new_due_at=new_due_at,
            requested_by=_actor_user(actor),
            requested_at=at,
            after_due=at > dossier.due_at,
        )
        _record(
            dossier,
            Action.PROPOSE_EXTENSION,
            actor,
            at,
            before=dossier.status,
            note=reason,
            step=step,
            data={"extension": extension.pk, "new_due_at": new_due_at.isoformat()},
            topics=("notify",),
        )
        return extension


def decide_extension(
    dossier,
    *,
    actor,
    approve: bool,
    note: str = "",
    at: dt.datetime | None = None,
) -> Extension:
    """The leader approves (new appointment, apology sent) or rejects the extension."""
    with transaction.atomic():
        dossier = _lock(dossier)
        tr = transition(Action.DECIDE_EXTENSION, dossier.status)
        step = _active_step(dossier)
        _require(actor, dossier, tr, step)
        extension = (
            Extension.objects.select_for_update()
            .filter(dossier=dossier, state=Extension.State.PROPOSED)
            .first()
        )
        if extension is None:
            raise GuardFailed("Không có đề nghị gia hạn nào chờ phê duyệt.", code="no_proposal")
        at = _now(at)
        extension.state = Extension.State.APPROVED if approve else Extension.State.REJECTED
        extension.decided_by = _actor_user(actor)
        extension.decided_at = at
        extension.save(update_fields=["state", "decided_by", "decided_at"])
        data: dict[str, Any] = {"extension": extension.pk, "approved": bool(approve)}
        if approve:
            old_due = dossier.due_at
            calendar = deadlines.calendar_of(dossier)
            open_steps = [s for s in _open_steps(dossier) if s.kind != Step.Kind.RETURN]
            shifted = deadlines.shift_by(
                calendar, [s.due_at for s in open_steps], old_due, extension.new_due_at
            )
            for s, due in zip(open_steps, shifted, strict=True):
                s.due_at = min(due, extension.new_due_at) if due else due
                s.save(update_fields=["due_at"])
            Step.objects.filter(
                dossier=dossier, kind=Step.Kind.RETURN, state=Step.State.PENDING
            ).update(due_at=extension.new_due_at)
            dossier.due_at = extension.new_due_at
            # An apology issued after the appointment had passed does not excuse the delay.
            if extension.after_due or at > old_due:
                dossier.late_without_apology = True
            dossier.save(update_fields=["due_at", "late_without_apology", "updated_at"])
            data.update(previous_due_at=old_due.isoformat(), due_at=dossier.due_at.isoformat())
        _record(
            dossier,
            Action.DECIDE_EXTENSION,
            actor,
            at,
            before=dossier.status,
            note=note,
            step=step,
            data=data,
        )
        return extension


# --- endings --------------------------------------------------------------------------------


def _close_open_pause_quietly(dossier: Dossier, at: dt.datetime) -> None:
    Pause.objects.filter(dossier=dossier, ended_at__isnull=True).update(ended_at=at)


def _cancel_open_steps(dossier: Dossier) -> list[int]:
    """Steps not done yet end with the dossier (stop, withdrawal): out of every inbox and
    deadline check. Their ids go into the event so the history says which were dropped."""
    ids = list(
        Step.objects.filter(
            dossier=dossier, state__in=[Step.State.PENDING, Step.State.ACTIVE]
        ).values_list("pk", flat=True)
    )
    if ids:
        Step.objects.filter(pk__in=ids).update(state=Step.State.CANCELLED)
    return ids


def stop(dossier, *, actor, reason: str, at: dt.datetime | None = None) -> Dossier:
    """Stop handling at the applicant's request (Mẫu 05; Decree 118 Art. 21) (→ 8)."""
    reason = (reason or "").strip()
    with transaction.atomic():
        dossier = _lock(dossier)
        tr = transition(Action.STOP, dossier.status)
        _require(actor, dossier, tr, None)
        if not reason:
            raise InvalidInput(
                "Cần ghi rõ nội dung đề nghị dừng giải quyết.", code="missing_reason"
            )
        if Result.objects.filter(dossier=dossier).exists():
            raise GuardFailed(
                "Hồ sơ đã có kết quả giải quyết nên không thể dừng.", code="result_exists"
            )
        at = _now(at)
        _close_open_pause_quietly(dossier, at)
        cancelled = _cancel_open_steps(dossier)
        before = dossier.status
        dossier.finished_at = at
        dossier.closed_at = at
        dossier.timeliness = _dossier_timeliness(dossier, at)
        _save_status(dossier, Status.STOPPED, "finished_at", "closed_at", "timeliness")
        _record(
            dossier,
            Action.STOP,
            actor,
            at,
            before=before,
            note=reason,
            data={"cancelled_steps": cancelled} if cancelled else None,
        )
        return dossier


def withdraw(dossier, *, actor, reason: str = "", at: dt.datetime | None = None) -> Dossier:
    """Withdraw at the applicant's request (→ 7)."""
    with transaction.atomic():
        dossier = _lock(dossier)
        tr = transition(Action.WITHDRAW, dossier.status)
        _require(actor, dossier, tr, None)
        at = _now(at)
        _close_open_pause_quietly(dossier, at)
        cancelled = _cancel_open_steps(dossier)
        before = dossier.status
        dossier.closed_at = at
        fields = ["closed_at"]
        if dossier.received_at is not None:
            # §1.6: a withdrawal ends processing only for a dossier that was received.
            dossier.finished_at = at
            dossier.timeliness = _dossier_timeliness(dossier, at)
            fields += ["finished_at", "timeliness"]
        _save_status(dossier, Status.WITHDRAWN, *fields)
        _record(
            dossier,
            Action.WITHDRAW,
            actor,
            at,
            before=before,
            note=reason,
            data={"cancelled_steps": cancelled} if cancelled else None,
        )
        return dossier


@dataclass
class ResultInput:
    number: str
    signed_on: dt.date
    signer: str
    kind: str = Result.Kind.GRANTED
    summary: str = ""
    file_name: str = ""
    file_content: bytes | None = None


def record_result(
    dossier, *, actor, result: ResultInput, note: str = "", at: dt.datetime | None = None
) -> Result:
    """Record the result (number, date, signer, file) at the last processing step (4 → 9)."""
    with transaction.atomic():
        dossier = _lock(dossier)
        tr = transition(Action.RECORD_RESULT, dossier.status)
        step = _require_active_step(dossier)
        _require(actor, dossier, tr, step, roles=_step_roles(actor, step))
        remaining = Step.objects.filter(
            dossier=dossier,
            kind=Step.Kind.PROCESSING,
            state=Step.State.PENDING,
            order__gt=step.order,
        ).exists()
        if remaining:
            raise GuardFailed(
                "Còn bước xử lý chưa thực hiện: chưa thể cập nhật kết quả.",
                code="steps_remaining",
            )
        if not result.number.strip() or not result.signer.strip():
            raise InvalidInput(
                "Cần nhập số, ký hiệu văn bản và người ký kết quả.", code="missing_result_fields"
            )
        if result.kind not in Result.Kind.values:
            raise InvalidInput("Loại kết quả không hợp lệ.", code="invalid_result_kind")
        at = _now(at)
        if result.signed_on > at.astimezone(VN_TZ).date():
            raise InvalidInput("Ngày ký không được sau ngày hiện tại.", code="invalid_signed_on")
        _finish_step(step, actor, at, note.strip())
        Step.objects.filter(
            dossier=dossier, kind=Step.Kind.RETURN, state=Step.State.PENDING
        ).update(state=Step.State.ACTIVE, started_at=at)
        row = Result(
            dossier=dossier,
            kind=result.kind,
            number=result.number.strip(),
            signed_on=result.signed_on,
            signer=result.signer.strip(),
            summary=result.summary.strip(),
            recorded_by=_actor_user(actor),
            recorded_at=at,
        )
        if result.file_content is not None:
            from django.core.files.base import ContentFile

            row.file_sha256 = hashlib.sha256(result.file_content).hexdigest()
            row.file.save(
                result.file_name or "ket-qua.pdf", ContentFile(result.file_content), save=False
            )
        row.save()
        before = dossier.status
        dossier.finished_at = at
        dossier.timeliness = _dossier_timeliness(dossier, at)
        if (
            dossier.timeliness == Timeliness.LATE
            and not Extension.objects.filter(
                dossier=dossier, state=Extension.State.APPROVED, after_due=False
            ).exists()
        ):
            dossier.late_without_apology = True
        _save_status(
            dossier, Status.RESULT_READY, "finished_at", "timeliness", "late_without_apology"
        )
        _record(
            dossier,
            Action.RECORD_RESULT,
            actor,
            at,
            before=before,
            note=note,
            step=step,
            data={"number": row.number, "timeliness": dossier.timeliness},
        )
        return row


def _dossier_timeliness(dossier: Dossier, finished_at: dt.datetime) -> str:
    """§1.6: more than one supplement request during processing counts as late (766)."""
    requests = Pause.objects.filter(
        dossier=dossier, kind=Pause.Kind.SUPPLEMENT, stage=Pause.Stage.PROCESSING
    ).count()
    if requests > 1:
        return Timeliness.LATE
    return deadlines.classify(finished_at, dossier.due_at)


def return_result(
    dossier,
    *,
    actor,
    method: str,
    recipient_name: str = "",
    recipient_id: str = "",
    waybill: str = "",
    at: dt.datetime | None = None,
) -> Result:
    """Hand the result over: at the counter, by post or online (9 → 10)."""
    with transaction.atomic():
        dossier = _lock(dossier)
        tr = transition(Action.RETURN_RESULT, dossier.status)
        _require(actor, dossier, tr, None)
        if method not in Delivery.values:
            raise InvalidInput("Hình thức trả kết quả không hợp lệ.", code="invalid_delivery")
        if method == Delivery.COUNTER and not recipient_name.strip():
            raise InvalidInput("Cần ghi tên người nhận kết quả.", code="missing_recipient")
        if method == Delivery.POSTAL and not waybill.strip():
            raise InvalidInput("Cần ghi mã vận đơn bưu chính.", code="missing_waybill")
        at = _now(at)
        result = Result.objects.select_for_update().get(dossier=dossier)
        result.returned_at = at
        result.returned_by = _actor_user(actor)
        result.return_method = method
        result.recipient_name = recipient_name.strip()
        result.recipient_id = recipient_id.strip()
        result.waybill = waybill.strip()
        result.save()
        step = Step.objects.filter(
            dossier=dossier, kind=Step.Kind.RETURN, state=Step.State.ACTIVE
        ).first()
        if step is not None:
            _finish_step(step, actor, at, "")
        before = dossier.status
        dossier.returned_at = at
        dossier.closed_at = at
        _save_status(dossier, Status.RETURNED, "returned_at", "closed_at")
        _record(
            dossier,
            Action.RETURN_RESULT,
            actor,
            at,
            before=before,
            step=step,
            data={
                "method": method,
                "recipient": codes.mask_personal_id(recipient_id) if recipient_id else "",
            },
        )
        return result


__all__ = [
    "SYSTEM",
    "ApplicantInput",
    "ComponentInput",
    "GuardFailed",
    "MissingComponents",
    "PermissionDenied",
    "ResultInput",
    "SubmissionInput",
    "assign",
    "complete_step",
    "confirm_payment",
    "decide_extension",
    "dossier_changed",
    "find_applicant",
    "missing_components",
    "propose_extension",
    "provide_supplement",
    "receive",
    "record_result",
    "refuse",
    "request_payment",
    "request_supplement",
    "return_result",
    "send_back",
    "stop",
    "submit",
    "upsert_applicant",
    "withdraw",
]


# --- satisfaction rating (the citizens' portal) ----------------------------------------------


class AlreadyRated(DomainError):
    code = "already_rated"
    status = 409
    default_message = "Hồ sơ này đã được đánh giá; mỗi hồ sơ chỉ được đánh giá một lần."


def _rated_officer(dossier: Dossier, result: Result | None):
    """Who handed the result over, else who finished the last processing step (or None)."""
    if result is not None and result.returned_by_id is not None:
        return result.returned_by
    step = (
        Step.objects.filter(dossier=dossier, state=Step.State.DONE, done_by__isnull=False)
        .exclude(kind=Step.Kind.INTAKE)
        .select_related("done_by")
        .order_by("-done_at", "-order", "-id")
        .first()
    )
    return step.done_by if step is not None else None


def rate(dossier, *, actor, score: int, comment: str = "", at: dt.datetime | None = None):
    """The applicant rates how their returned dossier was handled, once (``Rating``).

    Only the applicant's (or the owner's) own account may rate; anyone else gets
    ``dossier_not_found`` (404), so a rating page never tells whether a code exists. The
    dossier must have been returned (status 10). The event ``rate`` carries ``data["score"]``
    for monitoring's rollups; it changes no status.
    """
    from .models import Rating

    if not isinstance(score, int) or isinstance(score, bool) or score not in Rating.Score.values:
        raise InvalidInput(
            "Mức độ hài lòng phải là Rất hài lòng, Hài lòng hoặc Không hài lòng.",
            code="invalid_score",
        )
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise InvalidInput("Ý kiến không được dài quá 2.000 ký tự.", code="comment_too_long")
    with transaction.atomic():
        dossier = _lock(dossier)
        if getattr(actor, "pk", None) is None or not _is_applicant(actor, dossier):
            raise NotFound("Không tìm thấy hồ sơ.", code="dossier_not_found")
        if dossier.status != Status.RETURNED:
            raise GuardFailed(
                "Hồ sơ chưa được trả kết quả nên chưa thể đánh giá mức độ hài lòng.",
                code="not_returned",
            )
        if Rating.objects.filter(dossier=dossier).exists():
            raise AlreadyRated()
        at = _now(at)
        result = Result.objects.filter(dossier=dossier).select_related("returned_by").first()
        agency = dossier.deciding_agency or dossier.receiving_agency
        rating = Rating.objects.create(
            dossier=dossier,
            agency=agency,
            officer=_rated_officer(dossier, result),
            rated_by=actor,
            score=score,
            comment=comment,
            created_at=at,
        )
        _record(
            dossier,
            "rate",
            actor,
            at,
            before=dossier.status,
            agency=agency,
            data={"score": score},
            topics=(),
        )
        return rating


__all__ += ["AlreadyRated", "rate"]
