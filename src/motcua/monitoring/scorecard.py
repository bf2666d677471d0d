"""The Decision 766 scorecard, computed from the rollups with a versioned rule set.

The rule set is a data file (``data/766-2022.json``; operators add files in
``MOTCUA_MONITORING_RULES_DIR``): groups and indicators with their maxima, targets, the data
feeds they need, and each indicator's numerator and denominator as a small formula over the
rollup counters:

* ``received`` — the sum of a ``DailyRollup`` counter over the period;
* ``received[online]`` / ``received[online,postal]`` — restricted to channels;
* ``open_in_time``, ``open_late``, ``open_extended`` — dossiers in progress at the period's end;
* ``procedures(received[online])`` — how many procedures have a non-zero sum;
* ``catalogue.procedures`` / ``catalogue.procedures_online`` / ``catalogue.procedures_full_online``
  — procedures applied by the area's agencies (with an online service, a full-online one);

joined with ``+`` and ``-``. Scores follow one-stop-rules §4.2: rate = numerator ÷ denominator
× 100; score = max × min(1, rate ÷ target), or max × rate ÷ 100 without a target; 2 decimals.

An indicator whose feeds the installation lacks (``FEEDS``) is "không đủ dữ liệu" with the
reason, never a number; so is one whose denominator is zero, unless the rule set says
``"when_zero": "full"`` or ``"zero"``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from motcua.catalog.models import Channel, OnlineMode, ProcedureAgency
from motcua.core.errors import InvalidInput, NotFound

from . import conf, rollups
from .facts import vn_day
from .models import COUNTERS, OPEN_COUNTERS

# Data feeds an indicator may need: available here, or why not (Vietnamese, shown as is).
FEEDS: dict[str, tuple[bool, Any]] = {
    "dossiers": (True, ""),
    "catalogue": (True, ""),
    "announcement": (
        False,
        _(
            "Chỉ số tính trên Cơ sở dữ liệu quốc gia về thủ tục hành chính (quyết định công bố, "
            "thời điểm công khai); hệ thống một cửa không có dữ liệu này."
        ),
    ),
    "national_portal_sync": (
        False,
        _("Chưa có dữ liệu đồng bộ hồ sơ với Cổng Dịch vụ công quốc gia (chưa tích hợp đồng bộ)."),
    ),
    "online_payment": (
        False,
        _(
            "Chưa có dữ liệu thanh toán trực tuyến: hệ thống chỉ ghi nhận biên lai, chưa tích "
            "hợp nền tảng thanh toán."
        ),
    ),
    "ratings": (
        False,
        _("Chưa có dữ liệu đánh giá mức độ hài lòng (Cổng dịch vụ công sẽ cung cấp)."),
    ),
    "feedback": (
        False,
        _(
            "Phản ánh, kiến nghị được xử lý trên hệ thống của Cổng Dịch vụ công quốc gia; hệ "
            "thống chưa nhận dữ liệu này."
        ),
    ),
    "reuse": (
        False,
        _("Hệ thống chưa ghi nhận thành phần hồ sơ tái sử dụng dữ liệu đã số hóa."),
    ),
    "national_store": (
        False,
        _(
            "Hệ thống chưa ghi nhận giấy tờ lấy từ, hay kết quả đưa vào, kho quản lý dữ liệu "
            "điện tử của tổ chức, cá nhân trên Cổng Dịch vụ công quốc gia."
        ),
    ),
    "population_db": (
        False,
        _(
            "Hệ thống chưa ghi nhận việc xác thực VNeID hay khai thác Cơ sở dữ liệu quốc gia "
            "về dân cư."
        ),
    ),
    "certified_copies": (
        False,
        _("Việc cung cấp dịch vụ chứng thực bản sao điện tử không tính được từ hồ sơ."),
    ),
}
NO_DATA = _("không đủ dữ liệu")
ZERO_DENOMINATOR = _("Mẫu số bằng 0 trong kỳ: không có đối tượng để tính.")
CATALOGUE_MEASURES = ("procedures", "procedures_online", "procedures_full_online")
TERM_NAMES = frozenset(COUNTERS) | frozenset(OPEN_COUNTERS)


def feed_available(name: str) -> bool:
    available, _reason = FEEDS.get(name, (False, ""))
    return available or name in conf.available_feeds()


class RuleSetError(ValueError):
    """A rule-set file that cannot be used (the message names the file and the problem)."""


# --- formulas ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    sign: int
    kind: str  # "sum" | "procedures" | "catalogue"
    name: str
    channels: tuple[str, ...] = ()


_TOKEN = re.compile(
    r"\s*(?:(?P<op>[+-])|(?P<func>procedures)\s*\(\s*(?P<inner>[^)]*)\)"
    r"|catalogue\.(?P<measure>[a-z_]+)|(?P<name>[a-z_]+)\s*(?:\[(?P<channels>[a-z_,\s]*)\])?)"
)


def _ref(name: str, channels: str | None, text: str) -> tuple[str, tuple[str, ...]]:
    if name not in TERM_NAMES:
        raise RuleSetError(f"«{text}»: không có chỉ tiêu đếm «{name}».")
    wanted = tuple(c.strip() for c in (channels or "").split(",") if c.strip())
    for channel in wanted:
        if channel not in Channel.values:
            raise RuleSetError(f"«{text}»: kênh «{channel}» không hợp lệ.")
    return name, wanted


def parse_formula(text: str) -> tuple[Term, ...]:
    """``"a + b[online] - procedures(c)"`` → terms; ``RuleSetError`` if it is not valid."""
    terms: list[Term] = []
    sign, expect_term, pos = 1, True, 0
    text = (text or "").strip()
    if not text:
        raise RuleSetError("Công thức trống.")
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise RuleSetError(f"«{text}»: không hiểu từ vị trí {pos + 1}.")
        pos = match.end()
        if match["op"]:
            if expect_term:
                raise RuleSetError(f"«{text}»: thiếu số hạng trước «{match['op']}».")
            sign, expect_term = (1 if match["op"] == "+" else -1), True
            continue
        if not expect_term:
            raise RuleSetError(f"«{text}»: thiếu dấu + hoặc - giữa hai số hạng.")
        if match["func"]:
            inner = re.fullmatch(r"\s*([a-z_]+)\s*(?:\[([a-z_,\s]*)\])?\s*", match["inner"])
            if inner is None:
                raise RuleSetError(f"«{text}»: procedures(…) cần một chỉ tiêu đếm.")
            name, channels = _ref(inner[1], inner[2], text)
            terms.append(Term(sign, "procedures", name, channels))
        elif match["measure"]:
            if match["measure"] not in CATALOGUE_MEASURES:
                raise RuleSetError(f"«{text}»: không có catalogue.{match['measure']}.")
            terms.append(Term(sign, "catalogue", match["measure"]))
        else:
            name, channels = _ref(match["name"], match["channels"], text)
            terms.append(Term(sign, "sum", name, channels))
        sign, expect_term = 1, False
    if expect_term:
        raise RuleSetError(f"«{text}»: công thức kết thúc bằng dấu.")
    return tuple(terms)


# --- rule sets ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    max: Decimal
    target: Decimal | None
    kind: str
    numerator: tuple[Term, ...]
    denominator: tuple[Term, ...]
    requires: tuple[str, ...]
    when_zero: str
    divide_by: Decimal
    unit: str
    note: str
    reason: str


@dataclass(frozen=True)
class Group:
    code: str
    name: str
    max: Decimal
    indicators: tuple[Indicator, ...]


@dataclass(frozen=True)
class RuleSet:
    id: str
    version: str
    title: str
    legal_basis: str
    method: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    total: Decimal
    rounding: int
    groups: tuple[Group, ...]
    sha256: str
    path: str

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.version,
            "title": self.title,
            "legal_basis": self.legal_basis,
            "valid_from": self.valid_from,
            "valid_to": self.valid_to,
            "sha256": self.sha256,
        }

    def applies_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


def _number(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RuleSetError(f"{where}: cần một số.")
    number = Decimal(str(value))
    if number < 0:
        raise RuleSetError(f"{where}: không được âm.")
    return number


def _date(value: Any, where: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise RuleSetError(f"{where}: ngày phải có dạng YYYY-MM-DD.") from None


def parse_rule_set(raw: bytes, path: str = "") -> RuleSet:
    """Read and check a rule-set file; ``RuleSetError`` says what is wrong."""
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RuleSetError(f"{path}: không đọc được JSON ({exc}).") from None
    if not isinstance(doc, dict):
        raise RuleSetError(f"{path}: cần một đối tượng JSON.")
    for key in ("id", "version", "title", "groups"):
        if not doc.get(key):
            raise RuleSetError(f"{path}: thiếu «{key}».")
    rounding = doc.get("rounding", 2)
    if not isinstance(rounding, int) or not 0 <= rounding <= 6:
        raise RuleSetError(f"{path}: «rounding» phải là số nguyên từ 0 đến 6.")
    groups: list[Group] = []
    codes: set[str] = set()
    for g_index, g in enumerate(doc["groups"]):
        where = f"{path} nhóm {g.get('code', g_index + 1)}"
        indicators = []
        for i in g.get("indicators") or []:
            indicators.append(_indicator(i, f"{where} chỉ số {i.get('code', '?')}"))
            if indicators[-1].code in codes:
                raise RuleSetError(f"{where}: trùng mã chỉ số «{indicators[-1].code}».")
            codes.add(indicators[-1].code)
        group_max = _number(g.get("max"), f"{where} «max»")
        if sum((i.max for i in indicators), Decimal(0)) != group_max:
            raise RuleSetError(f"{where}: tổng điểm tối đa các chỉ số khác điểm tối đa của nhóm.")
        groups.append(
            Group(
                code=str(g.get("code", "")),
                name=g.get("name", ""),
                max=group_max,
                indicators=tuple(indicators),
            )
        )
    total = _number(doc.get("total", 100), f"{path} «total»")
    if sum((g.max for g in groups), Decimal(0)) != total:
        raise RuleSetError(f"{path}: tổng điểm tối đa các nhóm khác «total».")
    return RuleSet(
        id=str(doc["id"]),
        version=str(doc["version"]),
        title=doc["title"],
        legal_basis=doc.get("legal_basis", ""),
        method=doc.get("method", ""),
        valid_from=_date(doc.get("valid_from"), f"{path} «valid_from»"),
        valid_to=_date(doc.get("valid_to"), f"{path} «valid_to»"),
        total=total,
        rounding=rounding,
        groups=tuple(groups),
        sha256=hashlib.sha256(raw).hexdigest(),
        path=path,
    )


def _indicator(doc: dict, where: str) -> Indicator:
    if not doc.get("code") or not doc.get("name"):
        raise RuleSetError(f"{where}: thiếu «code» hoặc «name».")
    requires = tuple(doc.get("requires") or ())
    for feed in requires:
        if feed not in FEEDS:
            raise RuleSetError(f"{where}: nguồn dữ liệu «{feed}» không tồn tại.")
    kind = doc.get("kind", "rate")
    if kind not in ("rate", "average"):
        raise RuleSetError(f"{where}: «kind» phải là «rate» hoặc «average».")
    when_zero = doc.get("when_zero", "no_data")
    if when_zero not in ("no_data", "full", "zero"):
        raise RuleSetError(f"{where}: «when_zero» phải là «no_data», «full» hoặc «zero».")
    target = doc.get("target")
    target = None if target is None else _number(target, f"{where} «target»")
    if target is not None and not 0 < target <= 100:
        raise RuleSetError(f"{where}: «target» phải trong (0, 100].")
    has_formula = bool(doc.get("numerator")) and bool(doc.get("denominator"))
    available = all(FEEDS[f][0] for f in requires)
    if not has_formula and (available or not requires):
        raise RuleSetError(f"{where}: cần «numerator» và «denominator» (hoặc «requires»).")
    try:
        numerator = parse_formula(doc["numerator"]) if has_formula else ()
        denominator = parse_formula(doc["denominator"]) if has_formula else ()
    except RuleSetError as exc:
        raise RuleSetError(f"{where}: {exc}") from None
    if kind == "average" and doc.get("max", 0):
        raise RuleSetError(f"{where}: chỉ số «average» chỉ để theo dõi («max» phải bằng 0).")
    divide_by = _number(doc.get("divide_by", 1), f"{where} «divide_by»")
    if divide_by == 0:
        raise RuleSetError(f"{where}: «divide_by» phải khác 0.")
    return Indicator(
        code=str(doc["code"]),
        name=doc["name"],
        max=_number(doc.get("max", 0), f"{where} «max»"),
        target=target,
        kind=kind,
        numerator=numerator,
        denominator=denominator,
        requires=requires,
        when_zero=when_zero,
        divide_by=divide_by,
        unit=doc.get("unit", "%" if kind == "rate" else ""),
        note=doc.get("note", ""),
        reason=doc.get("reason", ""),
    )


_cache: dict[str, tuple[int, RuleSet]] = {}


def rule_set_files() -> list[Path]:
    files: list[Path] = []
    for folder in conf.rules_dirs():
        if folder.is_dir():
            files += sorted(folder.glob("*.json"))
    return files


def load_rule_sets() -> list[RuleSet]:
    """Every rule set, shipped ones first; a file is re-read when it changes."""
    found = []
    for path in rule_set_files():
        stamp = path.stat().st_mtime_ns
        hit = _cache.get(str(path))
        if hit is None or hit[0] != stamp:
            hit = (stamp, parse_rule_set(path.read_bytes(), str(path)))
            _cache[str(path)] = hit
        found.append(hit[1])
    return found


def select_rule_set(day: dt.date, wanted: str | None = None) -> RuleSet:
    """The rule set ``wanted`` (by id), else the one in force on ``day`` with the latest
    ``valid_from`` (an operator's file wins over a shipped one with the same date)."""
    rule_sets = load_rule_sets()
    if wanted:
        matching = [rs for rs in rule_sets if rs.id == wanted]
        if not matching:
            raise NotFound(f"Không có bộ quy tắc «{wanted}».", code="unknown_rule_set")
        return matching[-1]
    in_force = [rs for rs in rule_sets if rs.applies_on(day)]
    if not in_force:
        raise NotFound(
            f"Không có bộ quy tắc chấm điểm áp dụng cho ngày {day:%d/%m/%Y}.",
            code="no_rule_set",
        )
    best = max(rs.valid_from or dt.date.min for rs in in_force)
    return [rs for rs in in_force if (rs.valid_from or dt.date.min) == best][-1]


# --- periods -----------------------------------------------------------------------------------

ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
MAX_PERIOD_DAYS = 3 * 366


@dataclass(frozen=True)
class Period:
    kind: str
    start: dt.date
    end: dt.date
    label: str

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        if not 1 <= month <= 12:
            raise InvalidInput("Tháng phải từ 1 đến 12.", code="invalid_period")
        start = dt.date(year, month, 1)
        end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        return cls("month", start, end, f"Tháng {month}/{year}")

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        if not 1 <= quarter <= 4:
            raise InvalidInput("Quý phải từ 1 đến 4.", code="invalid_period")
        start = dt.date(year, 3 * quarter - 2, 1)
        end = cls.month(year, 3 * quarter).end
        return cls("quarter", start, end, f"Quý {ROMAN[quarter]}/{year}")

    @classmethod
    def year(cls, year: int) -> Period:
        return cls("year", dt.date(year, 1, 1), dt.date(year, 12, 31), f"Năm {year}")

    @classmethod
    def between(cls, start: dt.date, end: dt.date) -> Period:
        if end < start:
            raise InvalidInput("Ngày kết thúc phải sau ngày bắt đầu.", code="invalid_period")
        if (end - start).days + 1 > MAX_PERIOD_DAYS:
            raise InvalidInput("Kỳ báo cáo dài tối đa 3 năm.", code="invalid_period")
        return cls("range", start, end, f"Từ {start:%d/%m/%Y} đến {end:%d/%m/%Y}")

    @classmethod
    def parse(
        cls,
        kind: str,
        *,
        year: int | None = None,
        month: int | None = None,
        quarter: int | None = None,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
    ) -> Period:
        def need(value, what):
            if value is None:
                raise InvalidInput(f"Kỳ «{kind}» cần tham số «{what}».", code="invalid_period")
            return value

        if year is not None and not 2000 <= year <= 2100:
            raise InvalidInput("Năm phải từ 2000 đến 2100.", code="invalid_period")

        if kind == "month":
            return cls.month(need(year, "year"), need(month, "month"))
        if kind == "quarter":
            return cls.quarter(need(year, "year"), need(quarter, "quarter"))
        if kind == "year":
            return cls.year(need(year, "year"))
        if kind == "range":
            return cls.between(need(date_from, "date_from"), need(date_to, "date_to"))
        raise InvalidInput("Kỳ phải là month, quarter, year hoặc range.", code="invalid_period")


# --- figures of an area and period -------------------------------------------------------------


class Figures:
    """The sums a rule set's formulas read, for some agencies over a period.

    One grouped sum (by procedure and channel) over the period's rollups — whole months from
    the month rows — of only the counters the formulas use; totals, channel sums and procedure
    counts come from it.
    """

    def __init__(
        self,
        agency_ids: list[int] | None,
        period: Period,
        opens: rollups.OpenFigures,
        counters: Iterable[str] = COUNTERS,
    ) -> None:
        self.agency_ids = agency_ids
        self.period = period
        self.opens = opens
        self.counters = sorted(set(counters) & set(COUNTERS))

    @cached_property
    def _sums(self) -> dict[tuple[int, str], dict[str, int]]:
        found: dict[tuple[int, str], dict[str, int]] = {}
        if self.counters:
            found = rollups.sum_rollups(
                self.agency_ids,
                self.period.start,
                self.period.end,
                ("procedure_id", "channel"),
                self.counters,
            )
        for (_agency, procedure_id, channel), counts in self.opens.by_key.items():
            sums = found.setdefault((procedure_id, channel), {})
            for name, n in counts.items():
                sums[name] = sums.get(name, 0) + n
        return found

    def _require(self, name: str) -> None:
        if name not in OPEN_COUNTERS and name not in self.counters:
            raise RuleSetError(f"Chỉ tiêu đếm «{name}» không được nạp.")

    @cached_property
    def _by_channel(self) -> dict[tuple[str, str], int]:
        """Each counter summed per channel (formulas read the same sums many times)."""
        found: dict[tuple[str, str], int] = {}
        for (_procedure, channel), counts in self._sums.items():
            for name, n in counts.items():
                found[(name, channel)] = found.get((name, channel), 0) + n
        return found

    def total(self, name: str, channels: tuple[str, ...] = ()) -> int:
        self._require(name)
        return sum(
            n
            for (counter, channel), n in self._by_channel.items()
            if counter == name and (not channels or channel in channels)
        )

    def procedures(self, name: str, channels: tuple[str, ...] = ()) -> int:
        self._require(name)
        sums: dict[int, int] = {}
        for (procedure_id, channel), counts in self._sums.items():
            if not channels or channel in channels:
                sums[procedure_id] = sums.get(procedure_id, 0) + counts.get(name, 0)
        return sum(1 for value in sums.values() if value)

    def catalogue(self, measure: str) -> int:
        rows = ProcedureAgency.objects.filter(is_active=True, procedure__is_active=True)
        if self.agency_ids is not None:
            rows = rows.filter(agency_id__in=self.agency_ids)
        mode = "procedure__current_version__online_mode"
        if measure == "procedures_online":
            rows = rows.filter(**{f"{mode}__in": [OnlineMode.FULL, OnlineMode.PARTIAL]})
        elif measure == "procedures_full_online":
            rows = rows.filter(**{mode: OnlineMode.FULL})
        return rows.values("procedure_id").distinct().count()

    def evaluate(self, terms: Iterable[Term]) -> int:
        value = 0
        for term in terms:
            if term.kind == "sum":
                value += term.sign * self.total(term.name, term.channels)
            elif term.kind == "procedures":
                value += term.sign * self.procedures(term.name, term.channels)
            else:
                value += term.sign * self.catalogue(term.name)
        return value


# --- the scorecard -----------------------------------------------------------------------------


def counters_used(rule_set: RuleSet) -> set[str]:
    """The rollup counters read by the indicators this installation can compute."""
    used = set()
    for group in rule_set.groups:
        for indicator in group.indicators:
            if all(feed_available(feed) for feed in indicator.requires):
                for term in (*indicator.numerator, *indicator.denominator):
                    if term.kind != "catalogue":
                        used.add(term.name)
    return used


def open_at_end(
    agency_ids: list[int] | None,
    period: Period,
    now: dt.datetime,
    *,
    fields: tuple[str, ...] = rollups.KEY_FIELDS,
) -> rollups.OpenFigures:
    """Dossiers in progress at the period's end: the live index if it ends today or later,
    else the day's snapshot (computed on the spot if it has not been taken yet), grouped by
    ``fields`` of the key."""
    if period.end >= vn_day(now):
        return rollups.live_open(agency_ids, now, fields=fields)
    stored = rollups.stored_open(agency_ids, period.end, fields=fields)
    if stored is not None:
        return stored
    return rollups.compute_open(period.end, agency_ids)


def _round(value: Decimal, places: int) -> float:
    return float(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


@dataclass
class IndicatorResult:
    indicator: Indicator
    group: str
    status: str = "ok"
    reason: str = ""
    numerator: int | None = None
    denominator: int | None = None
    rate: Decimal | None = None
    score: Decimal | None = None

    def as_dict(self, places: int) -> dict[str, Any]:
        i = self.indicator
        return {
            "code": i.code,
            "group": self.group,
            "name": i.name,
            "kind": i.kind,
            "unit": i.unit,
            "max": float(i.max),
            "target": float(i.target) if i.target is not None else None,
            "status": self.status,
            "status_label": str(NO_DATA) if self.status == "no_data" else "",
            "reason": str(self.reason) if self.reason else None,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "rate": _round(self.rate, places) if self.rate is not None else None,
            "score": _round(self.score, places) if self.score is not None else None,
            "note": i.note or None,
        }


def score_indicator(indicator: Indicator, group: str, figures: Figures) -> IndicatorResult:
    result = IndicatorResult(indicator, group)
    missing = [feed for feed in indicator.requires if not feed_available(feed)]
    if missing or not indicator.numerator:
        result.status = "no_data"
        reasons = [FEEDS[feed][1] for feed in missing]
        result.reason = indicator.reason or " ".join(str(r) for r in reasons if r)
        return result
    numerator = figures.evaluate(indicator.numerator)
    denominator = figures.evaluate(indicator.denominator)
    result.numerator, result.denominator = numerator, denominator
    if denominator <= 0:
        if indicator.when_zero == "no_data":
            result.status, result.reason = "no_data", ZERO_DENOMINATOR
        else:
            result.score = indicator.max if indicator.when_zero == "full" else Decimal(0)
        return result
    if indicator.kind == "average":
        result.rate = Decimal(numerator) / Decimal(denominator) / indicator.divide_by
        result.score = Decimal(0) if indicator.max == 0 else None
        return result
    rate = Decimal(numerator) * 100 / Decimal(denominator)
    result.rate = rate
    if indicator.target is not None:
        result.score = indicator.max * min(Decimal(1), rate / indicator.target)
    else:
        result.score = indicator.max * min(rate, Decimal(100)) / 100
    result.score = max(result.score, Decimal(0))
    return result


@dataclass
class Area:
    """What a scorecard is about: the province, one agency, or one commune's agencies."""

    kind: str  # province | agency | commune
    id: int
    name: str
    agency_ids: list[int] = field(default_factory=list)
    everything: bool = False  # every agency of the installation: no need to filter by agency

    @property
    def filter_ids(self) -> list[int] | None:
        """The agencies to filter rows by, or None when the area holds them all (a filter on
        every agency costs PostgreSQL a bitmap of two hundred index scans for nothing)."""
        return None if self.everything else self.agency_ids


def compute(
    area: Area,
    period: Period,
    *,
    rule_set: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The scorecard of ``area`` over ``period`` as plain data (the API's answer)."""
    now = now or timezone.now()
    rs = select_rule_set(period.end, rule_set)
    # The formulas read procedures and channels: the in-progress figures are grouped so.
    opens = open_at_end(area.filter_ids, period, now, fields=("procedure_id", "channel"))
    figures = Figures(area.filter_ids, period, opens, counters=counters_used(rs))
    places = rs.rounding
    groups = []
    total_score = Decimal(0)
    total_computed = Decimal(0)
    without_data = 0
    for group in rs.groups:
        results = [score_indicator(i, group.code, figures) for i in group.indicators]
        scored = [r for r in results if r.status == "ok" and r.score is not None]
        group_score = sum((r.score for r in scored), Decimal(0))
        group_computed = sum((r.indicator.max for r in scored), Decimal(0))
        without_data += sum(1 for r in results if r.status == "no_data" and r.indicator.max > 0)
        total_score += group_score
        total_computed += group_computed
        groups.append(
            {
                "code": group.code,
                "name": group.name,
                "max": float(group.max),
                "score": _round(group_score, places),
                "max_computed": float(group_computed),
                "indicators": [r.as_dict(places) for r in results],
            }
        )
    return {
        "area": {
            "kind": area.kind,
            "id": area.id,
            "name": area.name,
            "agencies": len(area.agency_ids),
        },
        "period": {
            "kind": period.kind,
            "date_from": period.start,
            "date_to": period.end,
            "label": period.label,
        },
        "rule_set": rs.describe(),
        "computed_at": now,
        "in_progress": {
            "kind": opens.kind,
            "as_of": opens.as_of,
            **opens.total(),
        },
        "total": {
            "score": _round(total_score, places),
            "max": float(rs.total),
            "max_computed": float(total_computed),
            "complete": total_computed == rs.total,
            "indicators_without_data": without_data,
        },
        "groups": groups,
    }


__all__ = [
    "FEEDS",
    "Area",
    "Period",
    "RuleSetError",
    "compute",
    "load_rule_sets",
    "parse_formula",
    "parse_rule_set",
    "select_rule_set",
]
