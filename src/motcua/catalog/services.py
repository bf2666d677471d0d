"""The catalogue's one write path: ``save_procedure``.

The importer of the national portal, the demo loader and any future editor hand a procedure in
one canonical form (see ``save_procedure``) to the same function, which validates it strictly,
normalises its text to NFC and writes a new ``ProcedureVersion`` only when the national content
changed. Versions are never modified or deleted afterwards (dossiers pin them), except for the
local configuration kept beside them: a variant's process template (steps) and the agencies of
the province that apply the procedure.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Max

from motcua.agencies.models import Agency, Department
from motcua.core.codes import normalize_procedure_code
from motcua.core.errors import InvalidInput
from motcua.core.text import fold, nfc

from .models import (
    Channel,
    Component,
    Fee,
    Field,
    OnlineMode,
    Procedure,
    ProcedureAgency,
    ProcedureVersion,
    ProcessStep,
    Role,
    TimeLimit,
    TimeUnit,
    Variant,
)

LEVELS = ("province", "commune", "ministry", "other")
# Units whose amount is a count; same_day and unspecified need none.
COUNTED_UNITS = {TimeUnit.WORKING_DAYS, TimeUnit.WORKING_HOURS, TimeUnit.CALENDAR_DAYS}
MAX_TIME_AMOUNT = Decimal("999999.99")  # TimeLimit.amount is DECIMAL(8, 2)
MAX_COPIES = 32767  # PositiveSmallIntegerField
MAX_FEE = 2**63 - 1  # Fee.amount is BIGINT
TEXT_LIMITS = {  # CharField lengths of ProcedureVersion / Field / Procedure
    "decision_no": 255,
    "issuing_agency": 255,
    "procedure_type": 40,
    "national_id": 64,
}


class InvalidProcedure(InvalidInput):
    """Procedure content that cannot be saved; ``code`` says which rule it breaks."""

    code = "invalid_procedure"
    default_message = "Nội dung thủ tục không hợp lệ."


@dataclass(frozen=True)
class SaveResult:
    procedure: Procedure
    version: ProcedureVersion
    created_procedure: bool
    created_version: bool
    # True when the national content was unchanged but steps or applying agencies were updated.
    local_changed: bool = False


# --- validation and normalisation (no database) ----------------------------------------------


def _fail(code: str, message: str, path: str = "") -> InvalidProcedure:
    return InvalidProcedure(message, code=code, **({"path": path} if path else {}))


def _text(value: Any, path: str, *, limit: int | None = None) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _fail("invalid_text", f"Trường «{path}» phải là chuỗi ký tự.", path)
    text = nfc(value).strip()
    if limit is not None and len(text) > limit:
        raise _fail("value_too_long", f"Trường «{path}» dài quá {limit} ký tự ({len(text)}).", path)
    return text


def _bool(value: Any, path: str, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _fail("invalid_flag", f"Trường «{path}» phải là true hoặc false.", path)
    return value


def _list(value: Any, path: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _fail("invalid_list", f"Trường «{path}» phải là một danh sách.", path)
    return value


def _decimal(value: Any) -> Decimal:
    """Decimal from str/int/Decimal/float; raises ValueError for anything else."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, Decimal | int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(str(value))
    elif isinstance(value, str):
        number = Decimal(value.strip().replace(",", "."))
    else:
        raise ValueError(value)
    if not number.is_finite():
        raise ValueError(value)
    return number


def _decimal_text(number: Decimal) -> str:
    """Canonical text of a 2-decimal amount: 7, 7.5, 0.25 (what the hash sees)."""
    return format(number.quantize(Decimal("0.01")).normalize(), "f")


def _code_name_list(value: Any, path: str) -> list[dict[str, str]]:
    items = []
    for i, item in enumerate(_list(value, path)):
        if isinstance(item, str):
            item = {"code": "", "name": item}
        if not isinstance(item, dict):
            raise _fail("invalid_list", f"Phần tử «{path}[{i}]» phải có mã và tên.", path)
        entry = {
            "code": _text(item.get("code"), f"{path}[{i}].code"),
            "name": _text(item.get("name"), f"{path}[{i}].name"),
        }
        if entry["code"] or entry["name"]:
            items.append(entry)
    return items


def _component(item: Any, path: str) -> dict:
    if not isinstance(item, dict):
        raise _fail("invalid_component", f"Thành phần hồ sơ «{path}» không hợp lệ.", path)
    name = _text(item.get("name"), f"{path}.name")
    if not name:
        raise _fail("missing_component_name", f"Thành phần hồ sơ «{path}» thiếu tên.", path)
    counts = {}
    for key, label in (("originals", "số bản chính"), ("copies", "số bản sao")):
        value = item.get(key, 0)
        if value is None:
            value = 0
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COPIES:
            raise _fail(
                "invalid_component",
                f"{label.capitalize()} của thành phần hồ sơ «{path}» phải là số nguyên không âm.",
                path,
            )
        counts[key] = value
    return {
        "code": _text(item.get("code"), f"{path}.code", limit=64),
        "name": name,
        "originals": counts["originals"],
        "copies": counts["copies"],
        "required": _bool(item.get("required"), f"{path}.required", True),
        "form_name": _text(item.get("form_name"), f"{path}.form_name", limit=500),
        "form_url": _text(item.get("form_url"), f"{path}.form_url", limit=1000),
    }


def _channel(value: Any, path: str) -> str:
    if value not in Channel.values:
        raise _fail(
            "invalid_channel",
            f"Kênh «{value}» tại «{path}» không hợp lệ (counter, online, postal).",
            path,
        )
    return value


def _time_limit(item: Any, path: str) -> dict:
    if not isinstance(item, dict):
        raise _fail("invalid_time_limit", f"Thời hạn giải quyết «{path}» không hợp lệ.", path)
    channel = _channel(item.get("channel"), f"{path}.channel")
    unit = item.get("unit")
    if unit not in TimeUnit.values:
        raise _fail("invalid_unit", f"Đơn vị thời hạn «{unit}» tại «{path}» không hợp lệ.", path)
    amount = item.get("amount")
    if amount is not None and amount != "":
        try:
            number = _decimal(amount)
        except (ValueError, InvalidOperation):
            raise _fail(
                "invalid_time_limit", f"Thời hạn «{amount}» tại «{path}» không phải là số.", path
            ) from None
        if number < 0 or number > MAX_TIME_AMOUNT:
            raise _fail(
                "invalid_time_limit",
                f"Thời hạn «{amount}» tại «{path}» phải từ 0 đến {MAX_TIME_AMOUNT}.",
                path,
            )
        amount = _decimal_text(number)
    else:
        amount = None
    if amount is None and unit in COUNTED_UNITS:
        raise _fail(
            "invalid_time_limit",
            f"Thời hạn tính theo «{TimeUnit(unit).label}» tại «{path}» phải có số lượng.",
            path,
        )
    return {
        "channel": channel,
        "amount": amount,
        "unit": unit,
        "description": _text(item.get("description"), f"{path}.description"),
    }


def _fee(item: Any, path: str) -> dict:
    if not isinstance(item, dict):
        raise _fail("invalid_fee", f"Phí, lệ phí «{path}» không hợp lệ.", path)
    channel = _channel(item.get("channel"), f"{path}.channel")
    kind = item.get("kind")
    if kind not in Fee.Kind.values:
        raise _fail(
            "invalid_fee_kind",
            f"Loại phí «{kind}» tại «{path}» không hợp lệ (charge, service_fee, price).",
            path,
        )
    amount = item.get("amount")
    if amount is not None and amount != "":
        try:
            number = _decimal(amount)
        except (ValueError, InvalidOperation):
            raise _fail(
                "invalid_fee", f"Số tiền «{amount}» tại «{path}» không phải là số.", path
            ) from None
        if number < 0:
            raise _fail("negative_fee", f"Số tiền tại «{path}» không được âm ({amount}).", path)
        if number > MAX_FEE:
            raise _fail("invalid_fee", f"Số tiền tại «{path}» quá lớn ({amount}).", path)
        if number != number.to_integral_value():
            raise _fail(
                "invalid_fee", f"Số tiền tại «{path}» phải là số nguyên đồng ({amount}).", path
            )
        amount = int(number)
    else:
        amount = None
    return {
        "channel": channel,
        "kind": kind,
        "amount": amount,
        "description": _text(item.get("description"), f"{path}.description"),
    }


def _steps(value: Any, path: str) -> list[dict] | None:
    if value is None:
        return None
    steps = []
    for i, item in enumerate(_list(value, path)):
        here = f"{path}[{i}]"
        if not isinstance(item, dict):
            raise _fail("invalid_step", f"Bước xử lý «{here}» không hợp lệ.", here)
        name = _text(item.get("name"), f"{here}.name", limit=500)
        if not name:
            raise _fail("missing_step_name", f"Bước xử lý «{here}» thiếu tên.", here)
        role = item.get("role")
        if role not in Role.values:
            raise _fail("invalid_role", f"Vai trò «{role}» của bước «{here}» không hợp lệ.", here)
        try:
            share = _decimal(item.get("share"))
        except (ValueError, InvalidOperation):
            share = None
        if share is None or not 0 <= share <= 100:
            raise _fail(
                "invalid_share",
                f"Tỷ lệ thời gian của bước «{here}» phải là số từ 0 đến 100.",
                here,
            )
        agency = _text(item.get("agency"), f"{here}.agency") or None
        department = _text(item.get("department"), f"{here}.department") or None
        if department and not agency:
            raise _fail(
                "unknown_department",
                f"Bước «{here}» chỉ định phòng, ban «{department}» mà không chỉ định cơ quan.",
                here,
            )
        steps.append(
            {
                "name": name,
                "role": role,
                "agency": agency,
                "department": department,
                "share": share.quantize(Decimal("0.01")),
            }
        )
    if steps and sum(step["share"] for step in steps) != 100:
        total = _decimal_text(sum(step["share"] for step in steps))
        raise _fail(
            "invalid_share",
            f"Tổng tỷ lệ thời gian các bước của «{path}» phải bằng 100 (đang là {total}).",
            path,
        )
    return steps


def _variant(item: Any, index: int) -> tuple[dict, list[dict] | None]:
    path = f"variants[{index}]"
    if not isinstance(item, dict):
        raise _fail("invalid_variant", f"Trường hợp «{path}» không hợp lệ.", path)
    national = {
        "code": _text(item.get("code"), f"{path}.code", limit=40),
        "name": _text(item.get("name"), f"{path}.name"),
        "components": [
            _component(c, f"{path}.components[{i}]")
            for i, c in enumerate(_list(item.get("components"), f"{path}.components"))
        ],
        "time_limits": [
            _time_limit(t, f"{path}.time_limits[{i}]")
            for i, t in enumerate(_list(item.get("time_limits"), f"{path}.time_limits"))
        ],
        "fees": [
            _fee(f, f"{path}.fees[{i}]")
            for i, f in enumerate(_list(item.get("fees"), f"{path}.fees"))
        ],
    }
    channels = [limit["channel"] for limit in national["time_limits"]]
    if len(channels) != len(set(channels)):
        raise _fail(
            "invalid_time_limit",
            f"Trường hợp «{path}» có hai thời hạn cho cùng một kênh.",
            f"{path}.time_limits",
        )
    return national, _steps(item.get("steps"), f"{path}.steps")


def normalize_content(content: Any) -> tuple[dict, list[list[dict] | None], list[str] | None]:
    """Validate canonical procedure content and split it into national and local parts.

    Returns ``(national, steps_per_variant, agencies)``: ``national`` is the NFC-normalised
    national content the version hash is computed from; ``steps_per_variant[i]`` is the process
    template given for variant ``i`` (None when not given); ``agencies`` lists the electronic ids
    of the applying agencies (None when not given). Raises ``InvalidProcedure`` (or
    ``InvalidCode`` for the code) with a specific ``code``; touches no database.
    """
    if not isinstance(content, dict):
        raise _fail("invalid_content", "Nội dung thủ tục phải là một đối tượng JSON.")
    code = normalize_procedure_code(
        content.get("code") if isinstance(content.get("code"), str) else ""
    )
    name = _text(content.get("name"), "name")
    if not name:
        raise _fail("missing_name", f"Thủ tục «{code}» thiếu tên.", "name")

    field = content.get("field")
    if field is not None:
        if not isinstance(field, dict):
            raise _fail("invalid_field", "Lĩnh vực phải có dạng {code, name}.", "field")
        field_name = _text(field.get("name"), "field.name", limit=255)
        field = (
            {"code": _text(field.get("code"), "field.code", limit=40), "name": field_name}
            if field_name
            else None
        )

    levels = _list(content.get("levels"), "levels")
    for level in levels:
        if level not in LEVELS:
            raise _fail(
                "invalid_level",
                f"Cấp thực hiện «{level}» không hợp lệ (province, commune, ministry, other).",
                "levels",
            )
    online_mode = content.get("online_mode")
    if online_mode not in OnlineMode.values:
        raise _fail(
            "invalid_online_mode",
            f"Mức độ trực tuyến «{online_mode}» không hợp lệ (full, partial, none).",
            "online_mode",
        )
    subjects: list[str] = []
    for i, subject in enumerate(_list(content.get("subjects"), "subjects")):
        text = _text(subject, f"subjects[{i}]")
        if text and text not in subjects:
            subjects.append(text)

    variants, steps = [], []
    for i, item in enumerate(_list(content.get("variants"), "variants")):
        national_variant, variant_steps = _variant(item, i)
        variants.append(national_variant)
        steps.append(variant_steps)

    national = {
        "code": code,
        "name": name,
        "field": field,
        "levels": sorted(set(levels), key=LEVELS.index),
        "online_mode": online_mode,
        "postal_allowed": _bool(content.get("postal_allowed"), "postal_allowed", False),
        "same_day_cutoff": _bool(content.get("same_day_cutoff"), "same_day_cutoff", False),
        "subjects": subjects,
        "legal_basis": _code_name_list(content.get("legal_basis"), "legal_basis"),
        "results": _code_name_list(content.get("results"), "results"),
        "variants": variants,
    }
    for key in (
        "competent_agencies",
        "executing_agencies",
        "coordinating_agencies",
        "requirements",
        "description",
        "steps_text",
    ):
        national[key] = _text(content.get(key), key)
    for key, limit in TEXT_LIMITS.items():
        national[key] = _text(content.get(key), key, limit=limit)

    agencies = content.get("agencies")
    if agencies is not None:
        ids = []
        for i, agency in enumerate(_list(agencies, "agencies")):
            text = _text(agency, f"agencies[{i}]")
            if text and text not in ids:
                ids.append(text)
        agencies = ids
    return national, steps, agencies


def content_hash(national: dict) -> str:
    """sha256 of the canonical JSON of the national content (sorted keys, no spaces)."""
    text = json.dumps(national, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- writing ---------------------------------------------------------------------------------


class FieldCache:
    """Field rows by name for one import run, so each field costs one query per run.

    The importer clears it when a record fails: a field created inside the failed record's
    savepoint was rolled back with it.
    """

    def __init__(self) -> None:
        self._by_name: dict[str, Field] = {}

    def clear(self) -> None:
        self._by_name.clear()

    def get(self, field: dict | None) -> Field | None:
        if not field:
            return None
        cached = self._by_name.get(field["name"])
        if cached is not None and (not field["code"] or cached.code == field["code"]):
            return cached
        row, _created = Field.objects.get_or_create(
            name=field["name"], defaults={"code": field["code"]}
        )
        if field["code"] and row.code != field["code"]:
            # A field first seen in a catalogue row (no code) learns its code from a detail.
            row.code = field["code"]
            row.save(update_fields=["code", "search_text"])
        self._by_name[field["name"]] = row
        return row


def _resolve_agencies(
    steps: list[list[dict] | None], agencies: list[str] | None
) -> tuple[dict[str, Agency], dict[tuple[str, str], Department]]:
    wanted = set(agencies or [])
    for variant_steps in steps:
        for step in variant_steps or []:
            if step["agency"]:
                wanted.add(step["agency"])
    if not wanted:
        return {}, {}
    found = {
        agency.electronic_id: agency for agency in Agency.objects.filter(electronic_id__in=wanted)
    }
    missing = sorted(wanted - set(found))
    if missing:
        raise _fail(
            "unknown_agency",
            "Không tìm thấy cơ quan có mã định danh: " + ", ".join(missing) + ".",
            "agencies",
        )
    departments: dict[tuple[str, str], Department] = {}
    wanted_departments = {
        (step["agency"], step["department"])
        for variant_steps in steps
        for step in variant_steps or []
        if step["department"]
    }
    if wanted_departments:
        agency_ids = {found[agency].pk for agency, _name in wanted_departments}
        rows = Department.objects.filter(
            agency_id__in=agency_ids, name__in={name for _agency, name in wanted_departments}
        ).select_related("agency")
        departments = {(row.agency.electronic_id, row.name): row for row in rows}
        missing_departments = sorted(wanted_departments - set(departments))
        if missing_departments:
            agency, name = missing_departments[0]
            raise _fail(
                "unknown_department",
                f"Cơ quan «{agency}» không có phòng, ban «{name}».",
                "variants.steps",
            )
    return found, departments


def _step_rows(
    variant: Variant,
    steps: list[dict],
    agencies: dict[str, Agency],
    departments: dict[tuple[str, str], Department],
) -> list[ProcessStep]:
    return [
        ProcessStep(
            variant=variant,
            order=order,
            name=step["name"],
            role=step["role"],
            agency=agencies[step["agency"]] if step["agency"] else None,
            department=departments[(step["agency"], step["department"])]
            if step["department"]
            else None,
            share=step["share"],
        )
        for order, step in enumerate(steps, start=1)
    ]


def _step_signature(rows) -> list[tuple]:
    return [
        (row.order, row.name, row.role, row.agency_id, row.department_id, Decimal(row.share))
        for row in rows
    ]


def _replace_steps(variant: Variant, new_rows: list[ProcessStep]) -> bool:
    current = list(variant.steps.order_by("order"))
    if _step_signature(current) == _step_signature(new_rows):
        return False
    variant.steps.all().delete()
    ProcessStep.objects.bulk_create(new_rows)
    return True


def _sync_agencies(procedure: Procedure, agencies: list[str], found: dict[str, Agency]) -> bool:
    """Make exactly ``agencies`` the active applying agencies; returns whether anything changed."""
    wanted = {found[electronic_id].pk for electronic_id in agencies}
    links = {link.agency_id: link for link in procedure.applied_by.all()}
    changed = False
    for agency_id in wanted - set(links):
        ProcedureAgency.objects.create(procedure=procedure, agency_id=agency_id)
        changed = True
    for agency_id, link in links.items():
        active = agency_id in wanted
        if link.is_active != active:
            link.is_active = active
            link.save(update_fields=["is_active"])
            changed = True
    return changed


def _create_version(
    procedure: Procedure,
    national: dict,
    digest: str,
    *,
    source: str,
    raw: dict | None,
    field: Field | None,
    steps: list[list[dict] | None],
    agencies: dict[str, Agency],
    departments: dict[tuple[str, str], Department],
    previous: ProcedureVersion | None,
    is_new: bool,
) -> ProcedureVersion:
    # A procedure created in this call has no versions: spare the query.
    last = 0 if is_new else procedure.versions.aggregate(last=Max("number"))["last"] or 0
    levels = set(national["levels"])
    version = ProcedureVersion.objects.create(
        procedure=procedure,
        number=last + 1,
        content_hash=digest,
        source=source,
        name=national["name"],
        field=field,
        procedure_type=national["procedure_type"],
        at_province="province" in levels,
        at_commune="commune" in levels,
        at_ministry="ministry" in levels,
        at_other="other" in levels,
        decision_no=national["decision_no"],
        issuing_agency=national["issuing_agency"],
        competent_agencies=national["competent_agencies"],
        executing_agencies=national["executing_agencies"],
        coordinating_agencies=national["coordinating_agencies"],
        subjects=national["subjects"],
        online_mode=national["online_mode"],
        postal_allowed=national["postal_allowed"],
        same_day_cutoff=national["same_day_cutoff"],
        requirements=national["requirements"],
        description=national["description"],
        steps_text=national["steps_text"],
        legal_basis=national["legal_basis"],
        results=national["results"],
        raw=raw or {},
    )
    previous_variants = (
        list(previous.variants.order_by("order").prefetch_related("steps")) if previous else []
    )
    by_name: dict[str, Variant] = {}
    for old in previous_variants:
        by_name.setdefault(old.name, old)
    new_names = {item["name"] for item in national["variants"]}

    components, limits, fees, step_rows = [], [], [], []
    for order, item in enumerate(national["variants"]):
        variant = Variant.objects.create(
            version=version, order=order, code=item["code"], name=item["name"]
        )
        components += [
            Component(variant=variant, order=i, **component)
            for i, component in enumerate(item["components"])
        ]
        limits += [
            TimeLimit(
                variant=variant,
                channel=limit["channel"],
                amount=Decimal(limit["amount"]) if limit["amount"] is not None else None,
                unit=limit["unit"],
                description=limit["description"],
            )
            for limit in item["time_limits"]
        ]
        fees += [Fee(variant=variant, **fee) for fee in item["fees"]]
        if steps[order] is not None:
            step_rows += _step_rows(variant, steps[order], agencies, departments)
        else:
            # The process template is local work: keep it across national updates.
            old = by_name.get(item["name"])
            if old is None and order < len(previous_variants):
                # Same position, unless that old variant lives on under its own name.
                candidate = previous_variants[order]
                old = candidate if candidate.name not in new_names else None
            if old is not None:
                step_rows += [
                    ProcessStep(
                        variant=variant,
                        order=step.order,
                        name=step.name,
                        role=step.role,
                        agency_id=step.agency_id,
                        department_id=step.department_id,
                        share=step.share,
                    )
                    for step in old.steps.all()
                ]
    Component.objects.bulk_create(components)
    TimeLimit.objects.bulk_create(limits)
    Fee.objects.bulk_create(fees)
    ProcessStep.objects.bulk_create(step_rows)
    return version


def save_procedure(
    content: dict,
    *,
    source: str,
    raw: dict | None = None,
    field_cache: FieldCache | None = None,
) -> SaveResult:
    """Save a procedure's canonical content; write a new version only if it changed.

    ``content`` is the canonical form (code, name, field {code, name}, procedure_type, levels,
    decision_no, issuing/competent/executing/coordinating agencies, subjects, online_mode,
    postal_allowed, same_day_cutoff, requirements, description, steps_text, legal_basis,
    results, national_id, variants [{code, name, components, time_limits, fees, steps}],
    agencies). ``source`` is a ``ProcedureVersion.Source`` value; ``raw`` is the source record,
    kept on the version.

    In one transaction: validates (raising ``InvalidProcedure``/``InvalidCode`` with a specific
    code), hashes the national content (everything but variants' steps and agencies) and, if the
    hash equals the current version's, only applies changed local configuration in place.
    Otherwise it creates version ``number + 1``; variants without steps in ``content`` inherit
    the previous version's steps of the variant with the same name (else the same position).
    The procedure's current version, name, field and search text follow the new version.
    """
    if source not in ProcedureVersion.Source.values:
        raise _fail("invalid_source", f"Nguồn dữ liệu «{source}» không hợp lệ.", "source")
    national, steps, agency_ids = normalize_content(content)
    digest = content_hash(national)
    cache = field_cache or FieldCache()

    with transaction.atomic():
        agencies, departments = _resolve_agencies(steps, agency_ids)
        field = cache.get(national["field"])
        try:
            procedure = (
                # Lock the procedure row only: PostgreSQL refuses FOR UPDATE on the nullable
                # side of the outer join to current_version.
                Procedure.objects.select_for_update(of=("self",))
                .select_related("current_version")
                .defer("current_version__raw")
                .get(code=national["code"])
            )
        except Procedure.DoesNotExist:
            procedure = None
        created_procedure = procedure is None
        if created_procedure:
            procedure = Procedure.objects.create(code=national["code"], name=national["name"])
        current = procedure.current_version

        if current is not None and current.content_hash == digest:
            changed = False
            given = any(variant_steps is not None for variant_steps in steps)
            variants = list(current.variants.order_by("order")) if given else []
            for variant, variant_steps in zip(variants, steps, strict=False):
                if variant_steps is not None:
                    rows = _step_rows(variant, variant_steps, agencies, departments)
                    changed |= _replace_steps(variant, rows)
            if agency_ids is not None:
                changed |= _sync_agencies(procedure, agency_ids, agencies)
            return SaveResult(procedure, current, False, False, local_changed=changed)

        version = _create_version(
            procedure,
            national,
            digest,
            source=source,
            raw=raw,
            field=field,
            steps=steps,
            agencies=agencies,
            departments=departments,
            previous=current,
            is_new=created_procedure,
        )
        procedure.current_version = version
        procedure.name = national["name"]
        procedure.field = field
        if national["national_id"]:
            procedure.national_id = national["national_id"]
        procedure.search_text = fold(
            f"{national['code']} {national['name']} {field.name if field else ''}"
        )
        procedure.save(
            update_fields=[
                "current_version",
                "name",
                "field",
                "national_id",
                "search_text",
                "updated_at",
            ]
        )
        if agency_ids is not None:
            _sync_agencies(procedure, agency_ids, agencies)
        return SaveResult(procedure, version, created_procedure, True)
