"""Import procedures from the national portal's JSON (catalogue list and detail records).

Input is JSON Lines, plain or gzip (detected by the magic bytes, not the file name). Each line is
recognised on its own:

* **detail** — ``{"code", "response": {"code": "OK", "data": {...}}}`` as the portal's detail
  API answers, or the bare ``data`` object (it has ``executionMethods``/``executionCases``);
* **catalogue row** — ``{id, code, name, categories, departments, departmentPromulgate,
  formalityTargetType, state, type}`` from the list API.

Every record is mapped to the canonical content of ``services.save_procedure`` and saved in its
own savepoint: a bad record is reported (line, code, reason) and skipped, never half-imported.
Re-importing the same file writes no new version.

Mapping rules where the source is silent or ambiguous (we do not invent data):

* **Levels of catalogue rows** (they have no level flags) come from the ``departments`` text,
  diacritics folded: "cấp xã" / "UBND xã" → commune; "Sở …", "cấp tỉnh", "… tỉnh" → province;
  "Bộ …", "… - Bộ …", "Cục …", "cấp bộ" → ministry (not "Bộ phận", "Bộ chỉ huy"); any other
  non-empty text → other; empty → no level.
* **Online mode of catalogue rows** is ``none``: the list has no channel data. A detail record
  for the same code later brings the real mode.
* **Component required**: the portal leaves ``required`` false everywhere, so it is ignored. A
  component is optional when its name says "nếu có" or is conditional ("Trường hợp …",
  "trong trường hợp", "đối với trường hợp"); otherwise required.
* **Time limits** per variant and channel (DIRECT → counter, ONLINE → online, POSTAL → postal):
  one entry with a number and a known unit (WORKING_DAY → working days, HOUR → working hours,
  DAY → calendar days) is used as is; otherwise the ``cases[]`` entry matching the variant (same
  folded name, or the only case of a single-variant procedure) gives the time; otherwise, among
  several entries, the longest clean one (the statutory ceiling; officers can finish earlier);
  otherwise the entry is kept as ``unspecified`` with its text. MONTH becomes ``unspecified``
  with "N tháng" in the description (no 30-day guess). OTHER becomes ``same_day`` when the
  text says "trong ngày" or the amount is 1, else ``unspecified``. All entries' descriptions
  are kept.
* **Same-day cut-off** is set when a time limit is same-day and the time descriptions or the
  steps mention 15 giờ.
* **Fees** per channel: FEE → charge, SERVICE_FEE → service_fee, PRICE_LEVEL → price; a null
  value stays null with its description (the amount is set elsewhere, e.g. by the provincial
  council); a negative or fractional value is dropped to null with a note.
* **Catalogue rows never downgrade**: a catalogue row for a code whose current version came
  from a detail record (its raw has ``executionMethods``) or has components/time limits is
  skipped and counted as "kept".
"""

from __future__ import annotations

import gzip
import io
import json
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.db import DatabaseError, transaction
from django.db.models import Q

from motcua.core.codes import normalize_procedure_code
from motcua.core.errors import DomainError
from motcua.core.text import fold

from .models import Procedure, ProcedureVersion
from .services import FieldCache, content_hash, normalize_content, save_procedure

GZIP_MAGIC = b"\x1f\x8b"
CHANNELS = {"DIRECT": "counter", "ONLINE": "online", "POSTAL": "postal"}
CHANNEL_ORDER = ["counter", "online", "postal"]
FEE_KINDS = {"FEE": "charge", "SERVICE_FEE": "service_fee", "PRICE_LEVEL": "price"}
CLEAN_UNITS = {"WORKING_DAY": "working_days", "HOUR": "working_hours", "DAY": "calendar_days"}
_NUMBER = re.compile(r"^\d+(?:[.,]\d+)?$")
_OPTIONAL = re.compile(r"neu co|^truong hop|trong truong hop|doi voi truong hop")


class ImportFileError(DomainError):
    code = "import_file_unreadable"
    default_message = "Không đọc được tệp dữ liệu."


class RecordError(Exception):
    """A record that cannot be imported; ``reason`` is Vietnamese, shown to the operator."""

    def __init__(self, reason: str, code: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass(frozen=True)
class Failure:
    file: str
    line: int
    code: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line} [{self.code or '—'}] {self.reason}"


@dataclass
class ImportReport:
    read: int = 0
    created: int = 0  # new procedures
    new_versions: int = 0  # new versions of existing procedures
    unchanged: int = 0
    kept: int = 0  # catalogue rows skipped because a detail version exists
    failures: list[Failure] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def skipped(self) -> int:
        return len(self.failures)

    def summary(self) -> str:
        return (
            f"Đã đọc {self.read} bản ghi: {self.created} thủ tục mới, "
            f"{self.new_versions} phiên bản mới, {self.unchanged} không thay đổi, "
            f"{self.kept} giữ bản chi tiết, {self.skipped} bỏ qua do lỗi "
            f"({self.seconds:.1f} giây)."
        )


# --- reading -----------------------------------------------------------------------------


def _open(path: Path) -> io.BufferedIOBase:
    try:
        with open(path, "rb") as probe:
            magic = probe.read(2)
        # Returned to the caller, who closes it.
        return gzip.open(path, "rb") if magic == GZIP_MAGIC else open(path, "rb")
    except OSError as exc:
        raise ImportFileError(f"Không đọc được tệp «{path}»: {exc.strerror or exc}.") from exc


def read_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, raw line) of a plain or gzip JSONL file, blank lines skipped."""
    with _open(path) as handle:
        try:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield number, line
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise ImportFileError(f"Tệp «{path}» bị hỏng hoặc không đọc hết được: {exc}.") from exc


def _count_lines(path: Path) -> int | None:
    try:
        return sum(1 for _ in read_lines(path))
    except ImportFileError:
        return None


# --- mapping -----------------------------------------------------------------------------


def _s(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _seq(value: Any, key: str) -> list:
    """A list-typed source field: [] when absent; anything but a list makes the record bad.

    (Iterating a string would split it into characters and store them as names.)
    """
    if value is None:
        return []
    if not isinstance(value, list):
        raise TypeError(f"trường «{key}» phải là một danh sách")
    return value


def _names(items: Any, key: str) -> list[str]:
    names = []
    for item in _seq(items, key):
        name = _s(item.get("name")) if isinstance(item, dict) else _s(item)
        if name and name not in names:
            names.append(name)
    return names


def levels_from_departments(departments: Iterable[str]) -> list[str]:
    """Levels guessed from a catalogue row's executing-agency texts (see module docstring)."""
    levels = set()
    for text in departments:
        folded = fold(text)
        if not folded:
            continue
        found = set()
        if re.search(r"\bcap xa\b|\b(ubnd|uy ban nhan dan) (xa|phuong)\b", folded):
            found.add("commune")
        if re.search(r"^so\b|\bcap tinh\b|\btinh\b", folded):
            found.add("province")
        if re.search(r"(^|[-/(,]\s*|\b(thuoc|truong|giup|cap)\s)bo\b(?! phan| chi huy)", folded):
            found.add("ministry")
        if re.search(r"^(cuc|vu|tong cuc)\b", folded):
            found.add("ministry")
        levels |= found or {"other"}
    return [level for level in ("province", "commune", "ministry", "other") if level in levels]


def catalog_row_to_content(row: dict) -> dict:
    """Canonical content of a catalogue-list row: identity, field, levels; one empty variant."""
    categories = [c for c in _seq(row.get("categories"), "categories") if _s(c)]
    departments = _names(row.get("departments"), "departments")
    return {
        "code": _s(row.get("code")),
        "name": _s(row.get("name")),
        "national_id": _s(row.get("id")),
        "field": {"code": "", "name": _s(categories[0])} if categories else None,
        "procedure_type": _s(row.get("type")),
        "levels": levels_from_departments(departments),
        "issuing_agency": _s(row.get("departmentPromulgate")),
        "executing_agencies": "; ".join(departments),
        "subjects": _names(row.get("formalityTargetType"), "formalityTargetType"),
        "online_mode": "none",
        "postal_allowed": False,
        "variants": [{"code": "", "name": "", "components": [], "time_limits": [], "fees": []}],
    }


def _is_optional(name: str) -> bool:
    return bool(_OPTIONAL.search(fold(name).lstrip(" -+*•.")))


def _components(items: Any) -> list[dict]:
    components = []
    for item in _seq(items, "profileComponents"):
        name = _s(item.get("name"))
        if not name:
            continue  # 8 real components have no name: nothing to show or check
        attachments = _seq(item.get("attachments"), "attachments")
        form_name = _s(attachments[0].get("fileName")) if attachments else ""
        components.append(
            {
                "code": _s(item.get("code"))[:64],
                "name": name,
                "originals": max(int(item.get("originalQty") or 0), 0),
                "copies": max(int(item.get("copyQty") or 0), 0),
                "required": not _is_optional(name),
                "form_name": form_name[:500],
                "form_url": "",
            }
        )
    return components


def _amount(value: Any) -> tuple[Decimal | None, str]:
    """(number, prose): a number when the value is one, else the value's text."""
    if isinstance(value, bool) or value is None:
        return None, ""
    if isinstance(value, int | float):
        return Decimal(str(value)), ""
    text = _s(value)
    if _NUMBER.match(text):
        return Decimal(text.replace(",", ".")), ""
    return None, text


def _limit(amount_value: Any, unit: str | None, description: str) -> dict:
    """One source time entry as a canonical limit (without channel) plus a ``clean`` flag."""
    amount, prose = _amount(amount_value)
    text = "\n".join(part for part in (prose, description) if part)
    if amount is not None and not 0 <= amount <= Decimal("999999"):
        amount, text = None, "\n".join(p for p in (f"{amount_value}", text) if p)
    if unit in CLEAN_UNITS and amount is not None:
        return {"amount": amount, "unit": CLEAN_UNITS[unit], "description": text, "clean": True}
    if unit == "MONTH" and amount is not None:
        months = f"{amount.normalize():f} tháng"
        text = "\n".join(part for part in (months, text) if part)
        return {"amount": None, "unit": "unspecified", "description": text, "clean": False}
    if unit == "OTHER" and ("trong ngay" in fold(text) or amount == 1):
        return {"amount": None, "unit": "same_day", "description": text, "clean": True}
    if amount is not None:
        note = f"Thời hạn theo CSDL quốc gia: {amount.normalize():f} (không rõ đơn vị)."
        text = "\n".join(part for part in (note, text) if part)
    return {"amount": None, "unit": "unspecified", "description": text, "clean": False}


def _matching_case(variant_name: str, cases: list[dict], variant_count: int) -> dict | None:
    folded = fold(variant_name)
    for case in cases:
        case_name = fold(case.get("name"))
        if folded and case_name and (folded == case_name):
            return case
    if len(cases) == 1 and variant_count == 1:
        return cases[0]
    return None


def _time_limits(methods: list[dict], case: dict | None) -> list[dict]:
    case_limit = None
    if case and isinstance(case.get("processingDay"), dict):
        day = case["processingDay"]
        case_limit = _limit(day.get("qty"), day.get("type"), "")
    limits = []
    for channel in CHANNEL_ORDER:
        entries = [m for m in methods if CHANNELS.get(m.get("submissionMethod")) == channel]
        if not entries:
            continue
        candidates = [
            _limit(m.get("processingTime"), m.get("processingTimeUnit"), _s(m.get("description")))
            for m in entries
        ]
        descriptions = []
        for candidate in candidates:
            if candidate["description"] and candidate["description"] not in descriptions:
                descriptions.append(candidate["description"])
        if len(candidates) == 1 and candidates[0]["clean"]:
            chosen = candidates[0]
        elif case_limit is not None and case_limit["clean"]:
            chosen = case_limit
        else:
            clean = [c for c in candidates if c["clean"] and c["amount"] is not None]
            if clean and all(c["unit"] == clean[0]["unit"] for c in clean):
                chosen = max(clean, key=lambda c: c["amount"])
            else:
                chosen = next((c for c in candidates if c["clean"]), candidates[0])
        limits.append(
            {
                "channel": channel,
                "amount": chosen["amount"],
                "unit": chosen["unit"],
                "description": "\n".join(descriptions),
            }
        )
    return limits


def _fees(methods: list[dict]) -> list[dict]:
    fees, seen = [], set()
    for channel in CHANNEL_ORDER:
        entries = [m for m in methods if CHANNELS.get(m.get("submissionMethod")) == channel]
        for method in entries:
            for fee in _seq(method.get("fees"), "fees"):
                kind = FEE_KINDS.get(fee.get("type"))
                if kind is None:
                    continue
                description = _s(fee.get("description"))
                if not description and len(entries) > 1:
                    # Several entries per channel are sub-cases: keep which one this fee is for.
                    description = _s(method.get("description"))
                value = fee.get("value")
                amount = None
                if isinstance(value, int | float) and not isinstance(value, bool):
                    if value >= 0 and float(value).is_integer():
                        amount = int(value)
                    else:
                        note = f"Giá trị gốc {value} không hợp lệ, đã bỏ."
                        description = "\n".join(p for p in (note, description) if p)
                item = (channel, kind, amount, description)
                if item not in seen:
                    seen.add(item)
                    fees.append(
                        {
                            "channel": channel,
                            "kind": kind,
                            "amount": amount,
                            "description": description,
                        }
                    )
    return fees


def _steps_text(steps: Any) -> str:
    parts = []
    for step in _seq(steps, "executionSteps"):
        if not isinstance(step, dict):
            continue
        text = "\n".join(p for p in (_s(step.get("name")), _s(step.get("description"))) if p)
        if text:
            parts.append(text)
    return "\n\n".join(parts)


def _code_names(items: Any, key: str) -> list[dict]:
    return [
        {"code": _s(item.get("code")), "name": _s(item.get("name"))}
        for item in _seq(items, key)
        if isinstance(item, dict) and (_s(item.get("code")) or _s(item.get("name")))
    ]


def detail_to_content(data: dict) -> dict:
    """Canonical content of a national-portal detail record (the ``data`` object)."""
    methods = [
        m for m in _seq(data.get("executionMethods"), "executionMethods") if isinstance(m, dict)
    ]
    submission = {m.get("submissionMethod") for m in methods}
    if data.get("isFullProcess"):
        online_mode = "full"
    elif data.get("isOfflineOnly") or "ONLINE" not in submission:
        online_mode = "none"
    else:
        online_mode = "partial"

    categories = _seq(data.get("categoriesDetails"), "categoriesDetails")
    category = categories[0] if categories else data.get("category")
    field = (
        {"code": _s(category.get("code")), "name": _s(category.get("name"))}
        if isinstance(category, dict) and _s(category.get("name"))
        else None
    )
    proposal = data.get("procedureProposal") or {}
    issuing = _s(data.get("departmentPromulgateName")) or _s(
        (proposal.get("issuingAgency") or {}).get("name")
    )

    cases = [c for c in _seq(data.get("cases"), "cases") if isinstance(c, dict)]
    sources = [c for c in _seq(data.get("executionCases"), "executionCases") if isinstance(c, dict)]
    if not sources:
        sources = [{"name": "", "profileComponents": data.get("profileComponents") or []}]
    variants = []
    for source in sources:
        name = _s(source.get("name"))
        case = _matching_case(name, cases, len(sources))
        variants.append(
            {
                "code": "",
                "name": name,
                "components": _components(source.get("profileComponents")),
                "time_limits": _time_limits(methods, case),
                "fees": _fees(methods),
            }
        )
    steps_text = _steps_text(data.get("executionSteps"))
    # Where the portal states the 15:00 cut-off: the time descriptions or the steps.
    time_text = fold(
        " ".join(f"{_s(m.get('description'))} {m.get('processingTime')}" for m in methods)
        + " "
        + steps_text
    )
    same_day = any(limit["unit"] == "same_day" for v in variants for limit in v["time_limits"])

    levels = [
        level
        for flag, level in (
            ("isProvince", "province"),
            ("isWard", "commune"),
            ("isMinistry", "ministry"),
            ("isOtherAgency", "other"),
        )
        if data.get(flag)
    ]
    return {
        "code": _s(data.get("code")),
        "name": _s(data.get("name")),
        "national_id": _s(data.get("id")),
        "field": field,
        "procedure_type": _s(data.get("type")),
        "levels": levels,
        "decision_no": _s(proposal.get("proposalNumber")) or _s(data.get("decisionNo")),
        "issuing_agency": issuing,
        "competent_agencies": "; ".join(
            _names(data.get("departmentsAuthority"), "departmentsAuthority")
        ),
        "executing_agencies": "; ".join(
            _names(data.get("departmentsExecuting"), "departmentsExecuting")
        )
        or _s(data.get("executingAgencies")),
        "coordinating_agencies": "; ".join(
            _names(data.get("departmentsCoordinating"), "departmentsCoordinating")
        )
        or _s(data.get("coordinatingAgencies")),
        "subjects": _names(data.get("subjectTypesDetails"), "subjectTypesDetails")
        or _names(data.get("formalityTargetType"), "formalityTargetType"),
        "online_mode": online_mode,
        "postal_allowed": "POSTAL" in submission,
        "same_day_cutoff": same_day and bool(re.search(r"\b15 ?(gio|h)\b", time_text)),
        "requirements": _s(data.get("requirementsAndConditions")),
        "description": _s(data.get("description")),
        "steps_text": steps_text,
        "legal_basis": _code_names(data.get("legalBasisesDetails"), "legalBasisesDetails"),
        "results": _code_names(data.get("resultsDetails"), "resultsDetails"),
        "variants": variants,
    }


def _has_non_finite(value: Any) -> bool:
    """Whether a parsed JSON value holds NaN or ±Infinity anywhere.

    Python's json accepts ``NaN``/``Infinity`` (and reads 1e400 as infinity); JSON has no such
    numbers, the mappers cannot convert them and the database refuses them in ``raw``.
    """
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_has_non_finite(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_non_finite(item) for item in value)
    return False


@dataclass(frozen=True)
class Record:
    kind: str  # "catalog" or "detail"
    code: str
    content: dict
    raw: dict


def parse_record(line: bytes) -> Record:
    """Recognise one JSONL line and map it; raises ``RecordError`` with a Vietnamese reason."""
    try:
        obj = json.loads(line.decode("utf-8").lstrip("\ufeff"))
    except UnicodeDecodeError as exc:
        raise RecordError("Dòng không phải văn bản UTF-8.") from exc
    except json.JSONDecodeError as exc:
        raise RecordError(f"JSON không hợp lệ: {exc.msg} (cột {exc.colno}).") from exc
    if not isinstance(obj, dict):
        raise RecordError("Bản ghi không phải một đối tượng JSON.")

    code = _s(obj.get("code")) if isinstance(obj.get("code"), str) else ""
    if "response" in obj:
        response = obj.get("response")
        if not isinstance(response, dict):
            raise RecordError("Trường «response» không hợp lệ.", code)
        if response.get("code") != "OK":
            raise RecordError(
                f"Cổng quốc gia trả lời không thành công (mã «{response.get('code')}»).", code
            )
        data = response.get("data")
        if not isinstance(data, dict):
            raise RecordError("Phản hồi không có dữ liệu thủ tục («data»).", code)
        kind, raw = "detail", data
    elif "executionMethods" in obj or "executionCases" in obj:
        kind, raw = "detail", obj
    elif "code" in obj and "name" in obj:
        kind, raw = "catalog", obj
    else:
        raise RecordError("Không nhận ra định dạng bản ghi (danh mục hoặc chi tiết).", code)

    raw_code = raw.get("code") if isinstance(raw.get("code"), str) else code
    if not _s(raw_code):
        raise RecordError("Bản ghi thiếu mã thủ tục.", code)
    try:
        code = normalize_procedure_code(raw_code)
    except DomainError as exc:
        raise RecordError(exc.message, _s(raw_code)) from exc
    if _has_non_finite(obj):
        raise RecordError("Bản ghi có số không hợp lệ (NaN hoặc vô cực).", code)
    mapper = detail_to_content if kind == "detail" else catalog_row_to_content
    try:
        content = mapper(raw)
    except (AttributeError, TypeError, ValueError, OverflowError, InvalidOperation) as exc:
        raise RecordError(f"Cấu trúc bản ghi không đúng: {exc}.", code) from exc
    content["code"] = code
    return Record(kind, code, content, raw)


# --- importing ---------------------------------------------------------------------------


def _rich_codes() -> set[str]:
    """Codes whose current version a catalogue row must not replace."""
    rich = (
        Q(current_version__raw__has_key="executionMethods")
        | Q(current_version__variants__components__isnull=False)
        | Q(current_version__variants__time_limits__isnull=False)
    )
    return set(Procedure.objects.filter(rich).values_list("code", flat=True).distinct())


def import_procedures(
    paths: Iterable[str | Path],
    *,
    progress: bool = False,
    batch_size: int = 250,
    log: Callable[[str], None] | None = None,
) -> ImportReport:
    """Import national-portal JSONL files; return counts and the failures.

    Every record is saved through ``save_procedure(source="national")`` inside its own savepoint
    (records are grouped into transactions of ``batch_size`` so SQLite does not sync the disk
    for each one). A file that cannot be opened or is truncated is listed in ``file_errors``;
    a bad record is listed in ``failures`` and skipped.
    """
    report = ImportReport()
    started = time.monotonic()
    fields = FieldCache()
    rich = _rich_codes()
    hashes = dict(Procedure.objects.values_list("code", "current_version__content_hash"))
    for path in map(Path, paths):
        seen: dict[str, int] = {}  # code -> first line in this file
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=_count_lines(path), desc=path.name, unit=" bản ghi")
        lines = read_lines(path)
        error: ImportFileError | None = None
        while error is None:
            batch, error = _take(lines, batch_size)
            if batch:
                with transaction.atomic():
                    for number, line in batch:
                        _import_line(path, number, line, report, fields, rich, hashes, seen)
                if bar is not None:
                    bar.update(len(batch))
            elif error is None:
                break
        if bar is not None:
            bar.close()
        if error is not None:
            report.file_errors.append(error.message)
            if log:
                log(error.message)
    report.seconds = time.monotonic() - started
    return report


def _take(
    lines: Iterator[tuple[int, bytes]], size: int
) -> tuple[list[tuple[int, bytes]], ImportFileError | None]:
    """The next ``size`` lines, and the read error that ended the file early, if any.

    Lines read before a truncated gzip stream breaks are still imported.
    """
    batch: list[tuple[int, bytes]] = []
    try:
        for item in lines:
            batch.append(item)
            if len(batch) >= size:
                break
    except ImportFileError as exc:
        return batch, exc
    return batch, None


def _import_line(
    path: Path,
    number: int,
    line: bytes,
    report: ImportReport,
    fields: FieldCache,
    rich: set[str],
    hashes: dict[str, str | None],
    seen: dict[str, int],
) -> None:
    report.read += 1
    try:
        record = parse_record(line)
    except RecordError as exc:
        report.failures.append(Failure(path.name, number, exc.code, exc.reason))
        return
    if record.kind == "catalog" and record.code in rich:
        report.kept += 1
        return
    previous = seen.get(record.code)
    if previous is not None:
        reason = f"Mã thủ tục trùng với dòng {previous} của tệp; giữ bản ghi đầu tiên."
        report.failures.append(Failure(path.name, number, record.code, reason))
        return
    seen[record.code] = number
    try:
        # Pure and cheap: an unchanged record costs no query at all.
        digest = content_hash(normalize_content(record.content)[0])
    except DomainError as exc:
        report.failures.append(Failure(path.name, number, record.code, exc.message))
        return
    if hashes.get(record.code) == digest:
        report.unchanged += 1
        if record.kind == "detail":
            rich.add(record.code)
        return
    try:
        result = save_procedure(
            record.content,
            source=ProcedureVersion.Source.NATIONAL,
            raw=record.raw,
            field_cache=fields,
        )
    except DomainError as exc:
        fields.clear()
        report.failures.append(Failure(path.name, number, record.code, exc.message))
        return
    except DatabaseError as exc:
        # The record's savepoint is rolled back; the batch goes on.
        fields.clear()
        reason = f"Cơ sở dữ liệu từ chối bản ghi: {exc}."
        report.failures.append(Failure(path.name, number, record.code, reason))
        return
    hashes[record.code] = result.version.content_hash
    if result.created_procedure:
        report.created += 1
    elif result.created_version:
        report.new_versions += 1
    else:
        report.unchanged += 1
    if record.kind == "detail":
        rich.add(record.code)
