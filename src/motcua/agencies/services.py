"""Write paths of the agencies app: the holiday calendar loader and the admin-units importer.

Both validate their whole input before writing, write in one transaction with bulk
operations, and are idempotent: running them again on the same file changes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.db import transaction

from motcua.agencies.calendar import clear_calendar_cache
from motcua.agencies.models import AdministrativeUnit, Agency, CalendarDay
from motcua.core.errors import InvalidInput
from motcua.core.text import fold, nfc

SHIPPED_HOLIDAYS = Path(__file__).resolve().parent / "data" / "holidays-vn.csv"

# Start of the two-level units (Resolution 202/2025/QH15) and end of the three-level ones.
CURRENT_ERA_START = dt.date(2025, 7, 1)
HISTORICAL_ERA_END = dt.date(2025, 6, 30)

_BATCH = 1000


class ImportFileError(InvalidInput):
    """The file cannot be read as a whole (not JSON/CSV, wrong top-level shape): nothing written."""

    code = "invalid_import_file"
    default_message = "Tệp nhập không đúng cấu trúc."


# --- Holiday calendar -----------------------------------------------------------------------


@dataclass
class LoadReport:
    """Outcome of a calendar load. ``errors`` holds ``(line number, reason)``; when it is not
    empty nothing was written."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_KINDS = {kind.value for kind in CalendarDay.Kind}
_TEXT_LIMITS = {"name": 255, "basis": 255}


def _open_text(path_or_file: str | Path | IO) -> tuple[str, str]:
    """Return (text, display name) of a path or an open file (text or binary)."""
    if hasattr(path_or_file, "read"):
        content = path_or_file.read()
        name = getattr(path_or_file, "name", "<tệp>")
    else:
        path = Path(path_or_file)
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise ImportFileError(f"Không đọc được tệp {path}: {exc.strerror}.") from exc
        name = str(path)
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ImportFileError(f"Tệp {name} không phải văn bản UTF-8.") from exc
    return content, str(name)


def _check_calendar_row(row: dict[str, str], *, national: bool) -> tuple[dict[str, Any], str]:
    """Return (clean values, "") or ({}, reason)."""
    raw_date = (row.get("date") or "").strip()
    if not _ISO_DATE.match(raw_date):
        return {}, f"ngày «{raw_date}» không đúng dạng YYYY-MM-DD"
    try:
        day = dt.date.fromisoformat(raw_date)
    except ValueError:
        return {}, f"ngày «{raw_date}» không tồn tại"
    kind = (row.get("kind") or "").strip()
    if kind not in _KINDS:
        return {}, f"loại «{kind}» không hợp lệ (chỉ nhận day_off hoặc workday)"
    # A national row that changes nothing under the default week is almost surely a typo;
    # an agency may work weekends, so its rows are taken as they are.
    if national and kind == CalendarDay.Kind.WORKDAY and day.weekday() < 5:
        return {}, f"ngày làm bù {day:%d/%m/%Y} không phải thứ Bảy hoặc Chủ Nhật"
    if national and kind == CalendarDay.Kind.DAY_OFF and day.weekday() >= 5:
        return {}, f"ngày nghỉ {day:%d/%m/%Y} rơi vào thứ Bảy hoặc Chủ Nhật"
    values: dict[str, Any] = {"date": day, "kind": kind}
    for key, limit in _TEXT_LIMITS.items():
        text = nfc((row.get(key) or "").strip())
        if len(text) > limit:
            return {}, f"cột {key} dài quá {limit} ký tự"
        values[key] = text
    return values, ""


def load_calendar_csv(path_or_file: str | Path | IO, *, agency: Agency | None = None) -> LoadReport:
    """Load days off and make-up workdays from a CSV ``date,kind,name,basis``.

    Rows go to the national calendar, or to ``agency``'s own overrides. Every row is checked
    first (ISO date, known kind, no date twice, national workdays on weekends and national days
    off on weekdays); if any row is wrong the report lists ``(line, reason)`` and nothing is
    written. Otherwise rows are created or updated by date in one transaction; rows of the same
    scope that are absent from the file are kept. Running it twice changes nothing.
    """
    text, name = _open_text(path_or_file)
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = {"date", "kind"} - set(header)
    if missing:
        raise ImportFileError(
            f"Tệp {name} thiếu cột {', '.join(sorted(missing))} "
            "(cần dòng tiêu đề date,kind,name,basis)."
        )
    reader.fieldnames = header

    report = LoadReport()
    clean: dict[dt.date, dict[str, Any]] = {}
    first_line: dict[dt.date, int] = {}
    for row in reader:
        line = reader.line_num
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
            continue
        values, reason = _check_calendar_row(row, national=agency is None)
        if reason:
            report.errors.append((line, reason))
            continue
        day = values["date"]
        if day in clean:
            report.errors.append((line, f"ngày {day:%d/%m/%Y} đã có ở dòng {first_line[day]}"))
            continue
        clean[day] = values
        first_line[day] = line
    if report.errors:
        return report

    with transaction.atomic():
        existing = {
            row.date: row
            for row in CalendarDay.objects.select_for_update().filter(
                agency=agency, date__in=list(clean)
            )
        }
        to_create, to_update = [], []
        for day, values in clean.items():
            row = existing.get(day)
            if row is None:
                to_create.append(CalendarDay(agency=agency, **values))
                continue
            changed = [key for key in ("kind", "name", "basis") if getattr(row, key) != values[key]]
            if changed:
                for key in changed:
                    setattr(row, key, values[key])
                to_update.append(row)
            else:
                report.unchanged += 1
        CalendarDay.objects.bulk_create(to_create, batch_size=_BATCH)
        CalendarDay.objects.bulk_update(to_update, ["kind", "name", "basis"], batch_size=_BATCH)
        report.created, report.updated = len(to_create), len(to_update)
        # Bulk writes send no signals: drop cached calendars here and again once committed.
        transaction.on_commit(clear_calendar_cache)
    clear_calendar_cache()
    return report


# --- Administrative units -------------------------------------------------------------------


@dataclass
class UnitImportReport:
    """Outcome of a units import.

    ``errors`` holds ``(index, code, reason)`` for each record that was skipped; ``index`` is
    the record's position in the file (``"3"``, ``"3.Wards.17"``, ``"3.District.2.Ward.5"``).
    ``counts`` is the number of units of each level read from the file;
    ``formed_from_unmatched`` the codes of the formed-from file that match no current unit.
    """

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    formed_from_filled: int = 0
    formed_from_unmatched: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _UnitRow:
    level: str
    code: str
    name: str
    full_name: str
    name_en: str
    unit_type: str
    parent_code: str | None  # code of the parent in the level above, same era


_CODE_LENGTH = {
    AdministrativeUnit.Level.PROVINCE: 2,
    AdministrativeUnit.Level.DISTRICT: 3,
    AdministrativeUnit.Level.COMMUNE: 5,
}
# Longest first: "Thành phố" must not be read as a district-level "Thị xã" etc.
_HISTORICAL_TYPES = ("Thành phố", "Thị trấn", "Thị xã", "Phường", "Huyện", "Quận", "Tỉnh", "Xã")
_UNIT_FIELDS = ("name", "full_name", "name_en", "unit_type", "parent_id", "search_text")


def _text(record: dict, key: str) -> str:
    value = record.get(key)
    return nfc(value.strip()) if isinstance(value, str) else ""


def _check_code(record: dict, level: str) -> tuple[str, str]:
    """Return (code, reason); reason is empty when the code fits the level."""
    code = record.get("Code")
    code = code.strip() if isinstance(code, str) else ""
    expected = _CODE_LENGTH[level]
    if not (code.isdigit() and len(code) == expected):
        return code, f"mã «{code}» phải gồm {expected} chữ số"
    return code, ""


def _split_historical_name(full_name: str) -> tuple[str, str]:
    for unit_type in _HISTORICAL_TYPES:
        if full_name.startswith(unit_type + " "):
            return unit_type, full_name[len(unit_type) + 1 :].strip()
    return "", full_name


class _Collector:
    """Gathers valid unit rows and per-record errors while walking a file."""

    def __init__(self, report: UnitImportReport):
        self.report = report
        self.rows: list[_UnitRow] = []
        self.seen: set[tuple[str, str]] = set()

    def error(self, index: str, code: str, reason: str) -> None:
        self.report.errors.append((index, code, reason))

    def add(self, index: str, record: Any, level: str, parent_code: str | None, *, current: bool):
        """Validate one record; return its code when it was kept, else None."""
        if not isinstance(record, dict):
            self.error(index, "", "bản ghi không phải đối tượng JSON")
            return None
        code, reason = _check_code(record, level)
        if reason:
            self.error(index, code, reason)
            return None
        full_name = _text(record, "FullName")
        if not full_name:
            self.error(index, code, "thiếu tên đầy đủ (FullName)")
            return None
        if current:
            name = _text(record, "Name")
            unit_type = _text(record, "AdministrativeUnitShortName")
            if not name:
                self.error(index, code, "thiếu tên (Name)")
                return None
            declared_parent = record.get("ProvinceCode")
        else:
            unit_type, name = _split_historical_name(full_name)
            declared_parent = record.get(
                "ProvinceCode" if level == AdministrativeUnit.Level.DISTRICT else "DistrictCode"
            )
        if parent_code and declared_parent not in (None, "", parent_code):
            self.error(index, code, f"mã đơn vị cấp trên «{declared_parent}» khác «{parent_code}»")
            return None
        if (level, code) in self.seen:
            self.error(index, code, "mã bị trùng trong tệp")
            return None
        self.seen.add((level, code))
        self.rows.append(
            _UnitRow(
                level=level,
                code=code,
                name=name,
                full_name=full_name,
                name_en=_text(record, "NameEn") if current else "",
                unit_type=unit_type,
                parent_code=parent_code,
            )
        )
        return code


def _children(record: dict, key: str, index: str, collector: _Collector, *, required: bool) -> list:
    children = record.get(key)
    if children is None and not required:
        return []
    if not isinstance(children, list):
        label = {"District": "quận, huyện", "Ward": "xã, phường"}.get(key, key)
        collector.error(index, str(record.get("Code", "")), f"thiếu danh sách {label} ({key})")
        return []
    return children


def _progress(items: list, enabled: bool, desc: str) -> Iterable:
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit=" tỉnh")


def _read_current(data: list, collector: _Collector, progress: bool) -> None:
    level = AdministrativeUnit.Level
    for i, province in enumerate(_progress(data, progress, "Đọc tệp")):
        code = collector.add(str(i), province, level.PROVINCE, None, current=True)
        if code is None:
            continue
        if not isinstance(province.get("Wards"), list):
            collector.error(str(i), code, "thiếu danh sách xã, phường (Wards)")
            continue
        for j, ward in enumerate(province["Wards"]):
            collector.add(f"{i}.Wards.{j}", ward, level.COMMUNE, code, current=True)


def _read_historical(data: list, collector: _Collector, progress: bool) -> None:
    level = AdministrativeUnit.Level
    for i, province in enumerate(_progress(data, progress, "Đọc tệp")):
        province_code = collector.add(str(i), province, level.PROVINCE, None, current=False)
        if province_code is None:
            continue
        for j, district in enumerate(
            _children(province, "District", str(i), collector, required=True)
        ):
            index = f"{i}.District.{j}"
            district_code = collector.add(
                index, district, level.DISTRICT, province_code, current=False
            )
            if district_code is None:
                continue
            # A few districts (islands) have no communes: Ward is null there.
            for k, ward in enumerate(_children(district, "Ward", index, collector, required=False)):
                collector.add(
                    f"{index}.Ward.{k}", ward, level.COMMUNE, district_code, current=False
                )


def _load_json(path: str | Path) -> Any:
    text, name = _open_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFileError(
            f"Tệp {name} không phải JSON hợp lệ (dòng {exc.lineno}, cột {exc.colno})."
        ) from exc


def _formed_from_map(path: str | Path) -> dict[tuple[str, str], str]:
    data = _load_json(path)
    if not isinstance(data, list):
        raise ImportFileError("Tệp sáp nhập phải là một danh sách bản ghi {ma, truocsapnhap}.")
    mapping: dict[tuple[str, str], str] = {}
    for record in data:
        if not isinstance(record, dict) or not isinstance(record.get("ma"), str):
            continue
        code = record["ma"].strip()
        level = (
            AdministrativeUnit.Level.PROVINCE
            if len(code) == 2
            else AdministrativeUnit.Level.COMMUNE
        )
        mapping[(level, code)] = _text(record, "truocsapnhap")
    return mapping


def import_units(
    path: str | Path,
    *,
    historical: bool = False,
    formed_from: str | Path | None = None,
    progress: bool = False,
) -> UnitImportReport:
    """Import administrative units from a thanglequoc JSON file.

    Current file (``vn_units_2026_full.json``): provinces with ``Wards`` → provinces and
    communes valid from 01/7/2025. With ``historical=True`` (``vn_units_pre2025_…json``):
    provinces → ``District`` → ``Ward``, valid until 30/6/2025. ``formed_from`` (a
    ``sapnhap_donvi_truocsapnhap.json``) fills the free-text origin of current units by code.

    Units are matched on (level, code, era) and updated in place, so a re-run changes nothing.
    A record that cannot be read is skipped and reported as ``(index, code, reason)``, along
    with its children. A file that cannot be read as a whole raises ``ImportFileError`` and
    nothing is written. All writes happen in one transaction.
    """
    if historical and formed_from:
        raise InvalidInput(
            "Chỉ điền «hình thành từ» cho đơn vị hiện hành, không dùng với dữ liệu trước 2025.",
            code="formed_from_historical",
        )
    data = _load_json(path)
    if not isinstance(data, list) or not data:
        raise ImportFileError("Tệp đơn vị hành chính phải là một danh sách tỉnh, thành phố.")
    origins = _formed_from_map(formed_from) if formed_from else {}

    report = UnitImportReport()
    collector = _Collector(report)
    (_read_historical if historical else _read_current)(data, collector, progress)
    for row in collector.rows:
        report.counts[str(row.level)] = report.counts.get(str(row.level), 0) + 1

    valid_from = None if historical else CURRENT_ERA_START
    valid_to = HISTORICAL_ERA_END if historical else None
    order = [AdministrativeUnit.Level.PROVINCE]
    if historical:
        order.append(AdministrativeUnit.Level.DISTRICT)
    order.append(AdministrativeUnit.Level.COMMUNE)

    if origins:
        kept = {(str(row.level), row.code) for row in collector.rows}
        report.formed_from_unmatched = sorted(
            code for level, code in origins if (level, code) not in kept
        )

    with transaction.atomic():
        parent_ids: dict[str, int] = {}
        for level in order:
            rows = [row for row in collector.rows if row.level == level]
            ids = _write_level(rows, level, parent_ids, valid_from, valid_to, origins, report)
            parent_ids = ids
    return report


def _era_filter(level: str, valid_from: dt.date | None) -> dict[str, Any]:
    if valid_from is None:
        return {"level": level, "valid_from__isnull": True}
    return {"level": level, "valid_from": valid_from}


def _write_level(
    rows: list[_UnitRow],
    level: str,
    parent_ids: dict[str, int],
    valid_from: dt.date | None,
    valid_to: dt.date | None,
    origins: dict[tuple[str, str], str],
    report: UnitImportReport,
) -> dict[str, int]:
    """Create or update one level; return code → id of that level (the next level's parents)."""
    existing = {
        unit.code: unit
        for unit in AdministrativeUnit.objects.filter(**_era_filter(level, valid_from))
    }
    to_create, to_update = [], []
    for row in rows:
        values: dict[str, Any] = {
            "name": row.name,
            "full_name": row.full_name,
            "name_en": row.name_en,
            "unit_type": row.unit_type,
            "parent_id": parent_ids.get(row.parent_code) if row.parent_code else None,
            "search_text": fold(f"{row.code} {row.full_name} {row.name_en}"),
            "valid_to": valid_to,
        }
        origin = origins.get((level, row.code))
        if origin is not None:
            values["formed_from"] = origin
            report.formed_from_filled += 1
        unit = existing.get(row.code)
        if unit is None:
            to_create.append(
                AdministrativeUnit(level=level, code=row.code, valid_from=valid_from, **values)
            )
            continue
        changed = False
        for key, value in values.items():
            if getattr(unit, key) != value:
                setattr(unit, key, value)
                changed = True
        if changed:
            to_update.append(unit)
        else:
            report.unchanged += 1
    AdministrativeUnit.objects.bulk_create(to_create, batch_size=_BATCH)
    AdministrativeUnit.objects.bulk_update(
        to_update, [*_UNIT_FIELDS, "valid_to", "formed_from"], batch_size=_BATCH
    )
    report.created += len(to_create)
    report.updated += len(to_update)
    return dict(
        AdministrativeUnit.objects.filter(**_era_filter(level, valid_from)).values_list(
            "code", "id"
        )
    )


def _n(count: int) -> str:
    return f"{count:,}".replace(",", ".")  # Vietnamese thousands separator


def iter_report_lines(report: UnitImportReport) -> Iterator[str]:
    """Vietnamese lines describing a units import (used by the command)."""
    labels = dict(AdministrativeUnit.Level.choices)
    for level, count in report.counts.items():
        yield f"{labels.get(level, level)}: {_n(count)} đơn vị."
    yield (
        f"Tạo mới {_n(report.created)}, cập nhật {_n(report.updated)}, "
        f"không đổi {_n(report.unchanged)}."
    )
    if report.formed_from_filled:
        yield f"Điền «hình thành từ» cho {_n(report.formed_from_filled)} đơn vị."
    if report.formed_from_unmatched:
        codes = ", ".join(report.formed_from_unmatched)
        yield f"Mã trong tệp sáp nhập không khớp đơn vị nào: {codes}."
    for index, code, reason in report.errors:
        yield f"Lỗi bản ghi {index} (mã {code or '?'}): {reason}."
