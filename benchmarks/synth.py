"""A synthetic province for benchmarks: agencies, procedures, officers and up to 10 million
dossiers with their whole history, bulk-loaded fast and reproducible from a seed.

Importable (on the Django database already configured and migrated)::

    from benchmarks.synth import generate

    report = generate(100_000, seed=1, months=12)   # -> SynthReport
    report.accounts["monitor"]                        # "synth.giamsat" (password SYNTH_PASSWORD)

or from the command line, on a scratch database it creates and migrates (never ``test``)::

    .venv/bin/python benchmarks/synth.py --dossiers 1000000 --seed 1 --reset
    .venv/bin/python benchmarks/synth.py --dossiers 100000 \\
        --database-url sqlite:///var/synth.sqlite3 --reset
    # default database: postgresql://postgres@127.0.0.1:5432/motcua_synth

**Interface (stable; other benchmarks import it).** ``generate(dossiers, *, seed=1, months=12,
end=None, communes=None, extra_procedures=60, batch=20_000, rollups=True, progress=print)``
writes onto the configured database and returns a ``SynthReport`` (counts per table, seconds,
rows per second, the period, the accounts). ``setup_province(...)`` alone creates the agencies,
procedures and officers (idempotent). ``clear_dossiers()`` deletes every dossier and what hangs
on it (used by ``--reset`` on SQLite files kept by hand, and by the tests).

**What it writes.** The demo province (``demo.loader``: Thanh Hóa, its service centre, the
departments, about 30 real procedures with their time limits and fees), plus the province's
other communes (the real list from ``../shared/data/admin_units`` when present, else numbered
ones), each with its people's committee, seven more departments, ``extra_procedures`` long-tail
procedures cloned through the catalogue's write path (``catalog.services.save_procedure``),
five officers per agency and the accounts below. Then ``dossiers`` dossiers submitted over the
``months`` months ending on ``end`` (default today), more on weekdays and in working hours, with
procedures drawn by a Zipf law and communes by size. Each dossier gets a whole consistent story
— submit, intake supplement, refusal, receipt with its appointment from the working calendar
(``deadlines.appointment``), scans (``attach_file``), processing steps, supplements during
processing (the appointment moved by the waiting time, ``deadlines.shift_for_pause``), an
extension with apology, stop or withdrawal, the result (``record_result`` with its timeliness),
its hand-over and the applicant's rating (event ``rate``, ``data.score`` 1 = không hài lòng,
2 = hài lòng, 3 = rất hài lòng) — cut at the present instant, so recent dossiers are in
progress. Rows: applicants, dossiers, steps, events, pauses, extensions, results, dossier-code
counters, and violations (``dossier_late``, ``late_without_apology``, ``unclear_note``) with
their history, older ones explained or closed. Figures come out about 95–98 % on time, 1–3 %
late, 60–70 % online for the fully-online procedures.

**How it loads.** PostgreSQL: ``COPY … FROM STDIN`` (psycopg 3 ``cursor.copy``) with
``synchronous_commit=off`` and foreign-key triggers off (``session_replication_role=replica``)
in the generator's session only; on an empty database with at least 200,000 dossiers the
secondary indexes of the big tables are dropped before and rebuilt after. SQLite:
``executemany`` in transactions of ``batch`` dossiers. Primary keys are allocated by the
generator, sequences are moved past them at the end. With ``rollups`` the monitoring rollups are
rebuilt at the end (``monitoring.rollups.rebuild``).

**Reproducible.** The same seed, ``end``, ``months`` and options on a fresh database give the
same rows (the random generator is seeded once and drawn in a fixed order; the present instant
is the end of ``end`` when ``end`` is in the past). ``tests/monitoring/test_synth.py`` checks
that two runs give identical rollups.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import datetime as dt
import gc
import itertools
import json
import math
import os
import random
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:
    sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

SYNTH_PASSWORD = "synth-pass"
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/motcua_synth"
PROVINCE_UBND = "000.00.00.H56"
CENTRE = "000.00.01.H56"
UNITS_FILE = Path("admin_units/thanglequoc/vn_units_2026_full.json")
EXTRA_DEPARTMENTS = [
    ("000.00.16.H56", "Sở Y tế tỉnh Thanh Hóa", "Sở Y tế"),
    ("000.00.17.H56", "Sở Giáo dục và Đào tạo tỉnh Thanh Hóa", "Sở GD&ĐT"),
    ("000.00.18.H56", "Sở Nội vụ tỉnh Thanh Hóa", "Sở Nội vụ"),
    ("000.00.19.H56", "Sở Khoa học và Công nghệ tỉnh Thanh Hóa", "Sở KH&CN"),
    ("000.00.20.H56", "Sở Văn hóa, Thể thao và Du lịch tỉnh Thanh Hóa", "Sở VHTTDL"),
    ("000.00.21.H56", "Sở Dân tộc và Tôn giáo tỉnh Thanh Hóa", "Sở DT&TG"),
    ("000.00.22.H56", "Sở Ngoại vụ tỉnh Thanh Hóa", "Sở Ngoại vụ"),
]
FAMILY = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
    "Trịnh",
    "Mai",
]
MIDDLE = [
    "Văn",
    "Thị",
    "Đức",
    "Minh",
    "Ngọc",
    "Thanh",
    "Quang",
    "Hữu",
    "Xuân",
    "Thu",
    "Đình",
    "Hồng",
    "Bảo",
    "Kim",
]
GIVEN = [
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Hằng",
    "Hùng",
    "Lan",
    "Minh",
    "Nga",
    "Phúc",
    "Quân",
    "Sơn",
    "Thảo",
    "Trang",
    "Tuấn",
    "Yến",
    "Đức",
    "Hạnh",
    "Hương",
    "Long",
    "Mai",
    "Nam",
    "Oanh",
    "Phương",
    "Quyên",
    "Tâm",
    "Thắng",
    "Thúy",
    "Vân",
    "Việt",
    "Xuyến",
    "Linh",
    "Hà",
    "Khánh",
]
GOOD_NOTES = [
    "Hồ sơ đầy đủ, đúng quy định; đề nghị lãnh đạo phê duyệt.",
    "Đã thẩm định, đủ điều kiện giải quyết theo quy định.",
    "Đã kiểm tra thông tin, đối chiếu cơ sở dữ liệu, trình ký.",
    "Đủ điều kiện cấp; dự thảo kết quả kèm theo.",
]
PLACEHOLDER_NOTES = ["ok", "xong", "Đã xử lý"]
EXPLANATIONS = [
    "Hồ sơ phải chờ kết quả xác minh của cơ quan phối hợp; đã rút kinh nghiệm.",
    "Cán bộ thụ lý nghỉ ốm đột xuất, chưa kịp bàn giao; đơn vị đã chấn chỉnh.",
    "Hệ thống mạng gián đoạn trong hai ngày, đã báo cáo và khắc phục.",
    "Khối lượng hồ sơ tăng đột biến cuối quý; đơn vị đã bố trí thêm người.",
]
SUPPLEMENT_ITEMS = [
    ["Bản sao giấy tờ tùy thân còn hiệu lực"],
    ["Tờ khai ghi thiếu thông tin nơi cư trú"],
    ["Sơ đồ vị trí thửa đất có xác nhận"],
    ["Văn bản ủy quyền có chứng thực"],
]
WEEKDAY_WEIGHT = (1.0, 1.0, 1.0, 1.0, 0.95, 0.12, 0.04)  # Monday … Sunday
SAME_STATUS = frozenset({"attach_file", "propose_extension", "decide_extension", "rate"})
HOUR_WEIGHT = {7: 3, 8: 10, 9: 12, 10: 12, 11: 8, 13: 4, 14: 10, 15: 10, 16: 8}


# --- the report ----------------------------------------------------------------------------


@dataclass
class SynthReport:
    dossiers: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    load_seconds: float = 0.0
    rollup_seconds: float = 0.0
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    now: dt.datetime | None = None
    agencies: int = 0
    procedures: int = 0
    accounts: dict[str, str] = field(default_factory=dict)
    password: str = SYNTH_PASSWORD
    vendor: str = ""

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def summary(self) -> str:
        rate = self.total_rows / self.load_seconds if self.load_seconds else 0
        parts = ", ".join(f"{name} {n:,}" for name, n in self.rows.items())
        return (
            f"{self.dossiers:,} hồ sơ ({self.date_from} → {self.date_to}) on {self.vendor}: "
            f"{self.total_rows:,} rows in {self.load_seconds:.1f} s = {rate:,.0f} rows/s "
            f"({self.dossiers / max(self.load_seconds, 1e-9):,.0f} dossiers/s); "
            f"rollups {self.rollup_seconds:.1f} s; total {self.seconds:.1f} s. [{parts}]"
        )


# --- the province --------------------------------------------------------------------------


@dataclass
class AgencyInfo:
    id: int
    eid: str
    kind: str  # centre | department | commune | province
    unit_id: int
    calendar: object = None
    officers: dict[str, int] = field(default_factory=dict)  # role -> user id
    specialists: list[int] = field(default_factory=list)
    lateness: float = 0.02  # probability a dossier decided here finishes late
    label: dict[str, str] = field(default_factory=dict)  # role -> "Họ tên"


@dataclass
class ProcInfo:
    id: int
    code: str
    name: str
    version_id: int
    variant_id: int
    level: str  # commune | province
    online_mode: str
    postal: bool
    limits: dict[str, tuple[Decimal | None, str, str]]  # channel -> (amount, unit, text)
    fees: dict[str, int]
    department_id: int | None  # province procedures: the deciding department
    weight: float = 1.0
    lateness: float = 1.0  # multiplier


@dataclass
class Province:
    province_unit_id: int
    communes: list[AgencyInfo]
    commune_weights: list[float]
    centre: AgencyInfo
    departments: dict[int, AgencyInfo]
    agencies: dict[int, AgencyInfo]
    commune_procs: list[ProcInfo]
    province_procs: list[ProcInfo]
    accounts: dict[str, str]
    commune_units: list[int]


def shared_data_dir() -> Path:
    return Path(os.environ.get("MOTCUA_SHARED_DATA", ROOT.parent / "shared" / "data"))


def _province_wards(province_code: str) -> list[dict]:
    """The real communes and wards of the province (post-2025), if the data is at hand."""
    path = shared_data_dir() / UNITS_FILE
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as fh:
        provinces = json.load(fh)
    for row in provinces:
        if row.get("Code") == province_code:
            return row.get("Wards") or []
    return []


def _commune_eid(n: int) -> str:
    return f"{n // 100:03d}.{n % 100:02d}.40.H56"


def setup_province(
    *, seed: int = 1, communes: int | None = None, extra_procedures: int = 60
) -> Province:
    """Create (if missing) the agencies, procedures, officers and accounts; return them."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from motcua.accounts.models import Membership, Role
    from motcua.agencies.calendar import calendar_for
    from motcua.agencies.models import AdministrativeUnit, Agency
    from motcua.catalog.models import Fee, Procedure, ProcedureAgency, TimeLimit, Variant
    from motcua.demo.loader import VALID_FROM, load_demo, read_json

    with transaction.atomic():
        demo_codes = [p["code"] for p in read_json("procedures.json")["procedures"]]
        if not AdministrativeUnit.objects.filter(
            level="province", code="38"
        ).exists() or Procedure.objects.filter(code__in=demo_codes).count() < len(demo_codes):
            load_demo(accounts=False, dossiers=False)
        province = AdministrativeUnit.objects.get(level="province", code="38")
        province_agency = Agency.objects.get(electronic_id=PROVINCE_UBND)
        # The province's other communes, each with its people's committee.
        wards = _province_wards("38") or [
            {
                "Code": f"{17000 + n}",
                "Name": f"Thử Nghiệm {n}",
                "FullName": f"Xã Thử Nghiệm {n}",
                "NameEn": f"Thu Nghiem {n}",
                "AdministrativeUnitShortName": "Xã",
            }
            for n in range(160)
        ]
        if communes is not None:
            demo_codes = {row["code"] for row in read_json("province.json")["communes"]}
            keep = [w for w in wards if w["Code"] in demo_codes]
            rest = [w for w in wards if w["Code"] not in demo_codes]
            wards = keep + rest[: max(0, communes - len(keep))]
        units = {u.code: u for u in AdministrativeUnit.objects.filter(parent=province)}
        for ward in wards:
            if ward["Code"] not in units:
                units[ward["Code"]] = AdministrativeUnit.objects.create(
                    level="commune",
                    code=ward["Code"],
                    valid_from=VALID_FROM,
                    name=ward["Name"],
                    full_name=ward["FullName"],
                    name_en=ward.get("NameEn", ""),
                    unit_type=ward.get("AdministrativeUnitShortName", ""),
                    parent=province,
                )
        with_agency = set(
            Agency.objects.filter(unit__parent=province).values_list("unit__code", flat=True)
        )
        taken = set(Agency.objects.values_list("electronic_id", flat=True))
        n = 5
        for ward in wards:
            if ward["Code"] in with_agency:
                continue
            while _commune_eid(n) in taken:
                n += 1
            unit = units[ward["Code"]]
            kind = unit.unit_type.lower() or "xã"
            Agency.objects.create(
                electronic_id=_commune_eid(n),
                name=f"Ủy ban nhân dân {kind} {unit.name}",
                short_name=f"UBND {kind} {unit.name}",
                level="commune",
                kind="peoples_committee",
                unit=unit,
                parent=province_agency,
            )
            taken.add(_commune_eid(n))
        for eid, name, short in EXTRA_DEPARTMENTS:
            if eid not in taken:
                Agency.objects.create(
                    electronic_id=eid,
                    name=name,
                    short_name=short,
                    level="province",
                    kind="department",
                    unit=province,
                    parent=province_agency,
                )
        _clone_procedures(random.Random(101), extra_procedures)
        all_communes = list(
            Agency.objects.filter(level="commune", unit__parent=province).order_by("pk")
        )
        # Commune procedures are applied by every commune.
        commune_codes = Procedure.objects.filter(applied_by__agency__level="commune").distinct()
        links = set(ProcedureAgency.objects.values_list("procedure_id", "agency_id"))
        ProcedureAgency.objects.bulk_create(
            [
                ProcedureAgency(procedure_id=p, agency_id=a.pk)
                for p in commune_codes.values_list("pk", flat=True)
                for a in all_communes
                if (p, a.pk) not in links
            ],
            batch_size=2000,
        )
        accounts = _officers(
            Agency.objects.filter(Q_province(province)).order_by("pk"),
            get_user_model(),
            Membership,
            Role,
            TOTPDevice,
            make_password,
        )

    rng = random.Random(seed * 7919 + 11)
    agencies: dict[int, AgencyInfo] = {}
    for agency in Agency.objects.filter(Q_province(province)).order_by("pk"):
        kind = (
            "centre"
            if agency.electronic_id == CENTRE
            else "province"
            if agency.electronic_id == PROVINCE_UBND
            else "commune"
            if agency.level == "commune"
            else "department"
        )
        agencies[agency.pk] = AgencyInfo(
            id=agency.pk,
            eid=agency.electronic_id,
            kind=kind,
            unit_id=agency.unit_id,
            calendar=calendar_for(agency),
            lateness=min(0.09, max(0.003, rng.lognormvariate(math.log(0.018), 0.7))),
        )
    from motcua.accounts.models import Membership as M

    for user_id, agency_id, role, first, last in M.objects.filter(
        agency_id__in=agencies, user__username__startswith="synth.a"
    ).values_list("user_id", "agency_id", "role", "user__first_name", "user__last_name"):
        info = agencies[agency_id]
        if role == "specialist":
            info.specialists.append(user_id)
        info.officers.setdefault(role, user_id)
        info.label.setdefault(role, f"{first} {last}")
    for info in agencies.values():
        info.specialists.sort()
    communes_info = [a for a in agencies.values() if a.kind == "commune"]
    centre = next(a for a in agencies.values() if a.kind == "centre")
    departments = {a.id: a for a in agencies.values() if a.kind == "department"}
    weights = [rng.lognormvariate(0, 0.6) for _ in communes_info]

    procs_commune: list[ProcInfo] = []
    procs_province: list[ProcInfo] = []
    procedures = list(
        Procedure.objects.filter(is_active=True, current_version__isnull=False)
        .select_related("current_version")
        .order_by("code")
    )
    variants: dict[int, int] = {}
    for version_id, variant_id in Variant.objects.filter(
        version_id__in=[p.current_version_id for p in procedures]
    ).values_list("version_id", "pk"):
        variants.setdefault(version_id, variant_id)
    limits: dict[int, dict] = {}
    for variant_id, channel, amount, unit, text in TimeLimit.objects.filter(
        variant_id__in=variants.values()
    ).values_list("variant_id", "channel", "amount", "unit", "description"):
        limits.setdefault(variant_id, {})[channel] = (amount, unit, (text or "")[:255])
    fees: dict[int, dict[str, int]] = {}
    for variant_id, channel, amount in Fee.objects.filter(
        variant_id__in=variants.values()
    ).values_list("variant_id", "channel", "amount"):
        into = fees.setdefault(variant_id, {})
        into[channel] = into.get(channel, 0) + (amount or 0)
    applied: dict[int, set[int]] = {}
    for procedure_id, agency_id in ProcedureAgency.objects.filter(is_active=True).values_list(
        "procedure_id", "agency_id"
    ):
        applied.setdefault(procedure_id, set()).add(agency_id)
    for procedure in procedures:
        variant_id = variants.get(procedure.current_version_id)
        at = applied.get(procedure.pk, set())
        if variant_id is None or not at:
            continue
        version = procedure.current_version
        is_commune = any(agencies.get(a) and agencies[a].kind == "commune" for a in at)
        departments_here = sorted(a for a in at if a in departments)
        info = ProcInfo(
            id=procedure.pk,
            code=procedure.code,
            name=procedure.name,
            version_id=version.pk,
            variant_id=variant_id,
            level="commune" if is_commune else "province",
            online_mode=version.online_mode,
            postal=version.postal_allowed,
            limits=limits.get(variant_id, {}),
            fees=fees.get(variant_id, {}),
            department_id=departments_here[0] if departments_here else None,
            lateness=rng.lognormvariate(0, 0.5),
        )
        (procs_commune if is_commune else procs_province).append(info)
    for group in (procs_commune, procs_province):
        # Zipf weights: a few procedures carry most dossiers (real codes first).
        group.sort(key=lambda p: (p.code.startswith("9."), p.code))
        order = list(range(len(group)))
        head = [i for i in order if not group[i].code.startswith("9.")]
        tail = [i for i in order if group[i].code.startswith("9.")]
        rng.shuffle(head)
        for rank, index in enumerate(head + tail, start=1):
            group[index].weight = 1 / rank**1.15
    return Province(
        province_unit_id=province.pk,
        communes=communes_info,
        commune_weights=weights,
        centre=centre,
        departments=departments,
        agencies=agencies,
        commune_procs=procs_commune,
        province_procs=procs_province,
        accounts=accounts,
        commune_units=[a.unit_id for a in communes_info],
    )


def Q_province(province):
    from django.db.models import Q

    return Q(unit=province) | Q(unit__parent=province)


def _clone_procedures(rng: random.Random, count: int) -> None:
    """Long-tail procedures: copies of the demo ones under codes 9.9xxxxx, applied by one
    department (province level) or by the communes."""
    from motcua.agencies.models import Agency
    from motcua.catalog.models import Procedure
    from motcua.catalog.services import save_procedure
    from motcua.demo.loader import read_json

    existing = Procedure.objects.filter(code__startswith="9.9").count()
    if existing >= count:
        return
    templates = read_json("procedures.json")["procedures"]
    departments = [eid for eid, _, _ in EXTRA_DEPARTMENTS]
    departments += list(
        Agency.objects.filter(kind="department", electronic_id__startswith="000.00.1")
        .order_by("electronic_id")
        .values_list("electronic_id", flat=True)
    )
    communes = list(
        Agency.objects.filter(level="commune")
        .order_by("pk")
        .values_list("electronic_id", flat=True)
    )
    for n in range(existing, count):
        content = json.loads(json.dumps(templates[n % len(templates)]))
        content["code"] = f"9.{900000 + n:06d}"
        content["name"] = f"{content['name']} (thủ tục thử nghiệm {n + 1})"
        if "province" in content["levels"]:
            department = departments[rng.randrange(len(departments))]
            content["agencies"] = [CENTRE, department]
            for variant in content["variants"]:
                for step in variant["steps"]:
                    if step.get("agency") and step["agency"] != CENTRE:
                        step["agency"] = department
                        step["department"] = None
        else:
            content["agencies"] = communes[:4]
        save_procedure(content, source="demo")


def _officers(agencies, User, Membership, Role, TOTPDevice, make_password) -> dict[str, str]:
    """Five officers per agency (synth.a<id>.<role>) and the benchmark accounts."""
    from motcua.demo.loader import DEMO_TOTP_KEY_HEX

    hashed = make_password(SYNTH_PASSWORD)
    existing = set(
        User.objects.filter(username__startswith="synth.").values_list("username", flat=True)
    )
    plan = []
    rng = random.Random(5)
    for agency in agencies:
        for role, count in (
            (Role.COUNTER_OFFICER, 1),
            (Role.SPECIALIST, 2),
            (Role.LEADER, 1),
            (Role.CLERK, 1),
        ):
            for i in range(count):
                username = f"synth.a{agency.pk}.{role}{i or ''}"
                plan.append((username, agency, role))
    named = {
        "monitor": ("synth.giamsat", PROVINCE_UBND, Role.MONITOR),
        "leader": ("synth.lanhdao", CENTRE, Role.LEADER),
        "commune_leader": ("synth.xa.lanhdao", "000.04.40.H56", Role.LEADER),
        "administrator": ("synth.quantri", PROVINCE_UBND, Role.ADMINISTRATOR),
        "specialist": ("synth.chuyenvien", CENTRE, Role.SPECIALIST),
    }
    by_eid = {a.electronic_id: a for a in agencies}
    for username, eid, role in named.values():
        if eid in by_eid:
            plan.append((username, by_eid[eid], role))
    users = []
    for username, _agency, _role in plan:
        if username in existing:
            continue
        users.append(
            User(
                username=username,
                password=hashed,
                first_name=f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)}",
                last_name=rng.choice(GIVEN),
                email=f"{username}@example.invalid",
            )
        )
    User.objects.bulk_create(users, batch_size=1000)
    ids = dict(User.objects.filter(username__startswith="synth.").values_list("username", "pk"))
    have = set(
        Membership.objects.filter(user_id__in=ids.values()).values_list(
            "user_id", "agency_id", "role"
        )
    )
    Membership.objects.bulk_create(
        [
            Membership(user_id=ids[username], agency=agency, role=role)
            for username, agency, role in plan
            if (ids[username], agency.pk, role) not in have
        ],
        batch_size=1000,
    )
    for username, _eid, role in named.values():
        needs_device = role in (Role.LEADER, Role.ADMINISTRATOR) and username in ids
        if needs_device and not TOTPDevice.objects.filter(user_id=ids[username]).exists():
            TOTPDevice.objects.create(
                user_id=ids[username], name="synth", key=DEMO_TOTP_KEY_HEX, confirmed=True
            )
    return {key: username for key, (username, _eid, _role) in named.items()}


# --- writing rows --------------------------------------------------------------------------


def _escape(value: str) -> str:
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return value


def _pg_json(value) -> str:
    return _escape(json.dumps(value, ensure_ascii=False))


def _pg_text(value) -> str:
    return _escape(value) if isinstance(value, str) else str(value)


def _pg_bool(value) -> str:
    return "t" if value else "f"


def _lite_datetime(value: dt.datetime) -> str:
    # Every time here is aware UTC: Django's SQLite column holds it naive, in UTC.
    return value.isoformat(" ")[:-6]


def _lite_json(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _converters(fields, vendor: str) -> list:
    """One function per column turning a Python value into what the database loads (None
    stays None; ``None`` in the list means "as is")."""
    out = []
    for f in fields:
        kind = f.get_internal_type()
        if vendor == "postgresql":
            if kind in ("CharField", "TextField", "FileField", "EmailField", "SlugField"):
                out.append(_pg_text)
            elif kind == "JSONField":
                out.append(_pg_json)
            elif kind == "BooleanField":
                out.append(_pg_bool)
            elif kind == "DateTimeField":
                out.append(dt.datetime.isoformat)
            else:
                out.append(str)
        else:
            if kind == "DateTimeField":
                out.append(_lite_datetime)
            elif kind == "JSONField":
                out.append(_lite_json)
            elif kind == "BooleanField":
                out.append(int)
            elif kind == "UUIDField":
                out.append(lambda v: v.hex)
            elif kind in ("DateField", "DecimalField"):
                out.append(str)
            else:
                out.append(None)
    return out


class Table:
    """One model's table: the columns the generator fills, then the others at their defaults."""

    def __init__(self, model, names: list[str], vendor: str) -> None:
        meta = model._meta
        self.model = model
        self.name = meta.db_table
        self.label = meta.model_name
        self.fields = [meta.get_field(n) for n in names]
        rest = [f for f in meta.concrete_fields if f.name not in names and not f.primary_key]
        self.columns = [f.column for f in self.fields] + [f.column for f in rest]
        defaults = [f.get_default() if f.has_default() else (None if f.null else "") for f in rest]
        self.vendor = vendor
        self.convert = _converters(self.fields, vendor)
        rest_convert = _converters(rest, vendor)
        if vendor == "postgresql":
            self.default_text = "".join(
                "\t" + ("\\N" if v is None else c(v))
                for c, v in zip(rest_convert, defaults, strict=True)
            )
        else:
            self.default_values = tuple(
                v if (v is None or c is None) else c(v)
                for c, v in zip(rest_convert, defaults, strict=True)
            )
        self.pending: list[tuple] = []
        self.count = 0

    def add(self, row: tuple) -> None:
        self.pending.append(row)

    def copy_text(self) -> str:
        convert = self.convert
        tail = self.default_text + "\n"
        lines = []
        for row in self.pending:
            lines.append(
                "\t".join(
                    ["\\N" if v is None else c(v) for c, v in zip(convert, row, strict=False)]
                )
                + tail
            )
        return "".join(lines)

    def sqlite_rows(self) -> list[tuple]:
        convert = self.convert
        tail = self.default_values
        return [
            tuple(
                v if (v is None or c is None) else c(v) for c, v in zip(convert, row, strict=False)
            )
            + tail
            for row in self.pending
        ]


UTC = dt.UTC


class Sink:
    """Buffers rows per table and writes them: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, vendor: str) -> None:
        self.vendor = vendor
        self.tables: dict[str, Table] = {}

    def table(self, key: str, model, names: list[str]) -> Table:
        table = Table(model, names, self.vendor)
        self.tables[key] = table
        return table

    def flush(self) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            for table in self.tables.values():
                if not table.pending:
                    continue
                cols = ", ".join(f'"{c}"' for c in table.columns)
                if self.vendor == "postgresql":
                    raw = cursor.cursor if hasattr(cursor, "cursor") else cursor
                    with raw.copy(f'COPY "{table.name}" ({cols}) FROM STDIN') as copy:
                        copy.write(table.copy_text())
                else:
                    marks = ", ".join("?" * len(table.columns))
                    cursor.executemany(
                        f'INSERT INTO "{table.name}" ({cols}) VALUES ({marks})',
                        table.sqlite_rows(),
                    )
                table.count += len(table.pending)
                table.pending.clear()


# --- the dossiers --------------------------------------------------------------------------


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def _spread(total: int, weights: list[float]) -> list[int]:
    """``total`` split by ``weights`` (largest remainders), deterministic."""
    s = sum(weights)
    raw = [total * w / s for w in weights]
    counts = [int(x) for x in raw]
    left = total - sum(counts)
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - counts[i]), i))
    for i in order[:left]:
        counts[i] += 1
    return counts


def _personal_id(i: int) -> str:
    century_sex = i % 2  # 0: male, 1: female, born 1900–1999
    year = 40 + (i // 2) % 60
    serial = i // 120
    return f"038{century_sex}{year:02d}{serial:06d}"


class Writer:
    """Draws and writes the dossiers of a province; one instance per ``generate`` run."""

    def __init__(self, province: Province, rng: random.Random, sink: Sink, now: dt.datetime):
        from django.conf import settings

        from motcua.dossiers import deadlines
        from motcua.dossiers.models import (
            Applicant,
            ComponentFile,
            Dossier,
            DossierCodeCounter,
            DossierEvent,
            Extension,
            Pause,
            Result,
            Step,
            SubmittedComponent,
        )
        from motcua.monitoring.models import Violation, ViolationChange

        self.p = province
        self.rng = rng
        self.sink = sink
        self.now = now
        self.deadlines = deadlines
        self.exact = getattr(settings, "MOTCUA_TIMELINESS_PRECISION", "date") == "exact"
        self.ids = {
            key: (model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0)
            for key, model in (
                ("applicant", Applicant),
                ("dossier", Dossier),
                ("step", Step),
                ("event", DossierEvent),
                ("pause", Pause),
                ("extension", Extension),
                ("result", Result),
                ("violation", Violation),
                ("vchange", ViolationChange),
                ("component", SubmittedComponent),
                ("file", ComponentFile),
            )
        }
        self.t_applicant = sink.table(
            "applicant",
            Applicant,
            [
                "id",
                "kind",
                "name",
                "personal_id",
                "phone",
                "province",
                "commune",
                "address_line",
                "search_text",
                "created_at",
                "updated_at",
            ],
        )
        self.t_dossier = sink.table(
            "dossier",
            Dossier,
            [
                "id",
                "uuid",
                "code",
                "status",
                "channel",
                "procedure",
                "version",
                "variant",
                "receiving_agency",
                "deciding_agency",
                "applicant",
                "summary",
                "delivery",
                "delivery_address",
                "time_limit_amount",
                "time_limit_unit",
                "time_limit_text",
                "fee_total",
                "fee_lines",
                "submitted_at",
                "received_at",
                "original_due_at",
                "due_at",
                "finished_at",
                "returned_at",
                "closed_at",
                "timeliness",
                "late_without_apology",
                "created_at",
                "updated_at",
            ],
        )
        self.t_step = sink.table(
            "step",
            Step,
            [
                "id",
                "dossier",
                "order",
                "kind",
                "name",
                "role",
                "agency",
                "share",
                "state",
                "assignee",
                "started_at",
                "due_at",
                "done_at",
                "done_by",
                "note",
                "timeliness",
            ],
        )
        self.t_event = sink.table(
            "event",
            DossierEvent,
            [
                "id",
                "dossier",
                "at",
                "actor",
                "actor_label",
                "agency",
                "action",
                "note",
                "status_before",
                "status_after",
                "step",
                "data",
            ],
        )
        self.t_pause = sink.table(
            "pause",
            Pause,
            [
                "id",
                "dossier",
                "kind",
                "stage",
                "items",
                "reason",
                "stops_clock",
                "resume_status",
                "requested_by",
                "started_at",
                "ended_at",
            ],
        )
        self.t_extension = sink.table(
            "extension",
            Extension,
            [
                "id",
                "dossier",
                "state",
                "reason",
                "previous_due_at",
                "new_due_at",
                "requested_by",
                "requested_at",
                "decided_by",
                "decided_at",
                "after_due",
            ],
        )
        self.t_result = sink.table(
            "result",
            Result,
            [
                "id",
                "dossier",
                "kind",
                "number",
                "signed_on",
                "signer",
                "summary",
                "file",
                "recorded_by",
                "recorded_at",
                "returned_at",
                "returned_by",
                "return_method",
                "recipient_name",
                "waybill",
            ],
        )
        self.t_violation = sink.table(
            "violation",
            Violation,
            [
                "id",
                "rule",
                "severity",
                "dossier",
                "step",
                "agency",
                "officer",
                "detail",
                "data",
                "occurred_at",
                "detected_at",
                "status",
                "explanation",
                "explained_by",
                "explained_at",
                "closed_by",
                "closed_at",
                "updated_at",
            ],
        )
        self.t_vchange = sink.table(
            "vchange",
            ViolationChange,
            ["violation", "at", "actor", "status_before", "status_after", "note"],
        )
        self.t_component = sink.table(
            "component",
            SubmittedComponent,
            ["id", "dossier", "order", "name", "originals", "copies", "in_list", "added_at"],
        )
        self.t_file = sink.table(
            "file",
            ComponentFile,
            [
                "id",
                "component",
                "file",
                "original_name",
                "content_type",
                "size",
                "sha256",
                "uploaded_at",
            ],
        )
        self.t_counter = sink.table("counter", DossierCodeCounter, ["agency", "day", "last"])
        # The applicant's rating row, where the dossiers app has one (it is counted from the
        # ``rate`` event either way).
        from django.apps import apps

        try:
            rating = apps.get_model("dossiers", "Rating")
        except LookupError:
            rating = None
        self.t_rating = (
            sink.table(
                "rating", rating, ["dossier", "agency", "officer", "score", "comment", "created_at"]
            )
            if rating is not None
            else None
        )
        self.sequences: dict[tuple[int, dt.date], int] = {}
        self.applicants = 0
        self.monitor_id = None
        self.vn = None
        from motcua.core.worktime import VN_TZ

        self.vn = VN_TZ
        from motcua.core.text import fold

        self.fold = fold
        self.folded: dict[str, str] = {}
        c_weights = list(itertools.accumulate(province.commune_weights))
        self.commune_cum = c_weights
        self.commune_procs_cum = list(
            itertools.accumulate(p.weight for p in province.commune_procs)
        )
        self.province_procs_cum = list(
            itertools.accumulate(p.weight for p in province.province_procs)
        )

    # - ids --------------------------------------------------------------------------------

    def next_id(self, key: str) -> int:
        self.ids[key] += 1
        return self.ids[key]

    # - applicants -------------------------------------------------------------------------

    def new_applicant(self, at: dt.datetime) -> int:
        rng = self.rng
        pk = self.next_id("applicant")
        name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        folded = self.folded.get(name)
        if folded is None:
            folded = self.folded[name] = self.fold(name)[:255]
        commune_unit = self.p.commune_units[rng.randrange(len(self.p.commune_units))]
        self.t_applicant.add(
            (
                pk,
                "individual",
                name,
                _personal_id(pk),
                f"09{rng.randrange(10**8):08d}",
                self.p.province_unit_id,
                commune_unit,
                f"Số {rng.randrange(1, 300)}, thôn {rng.randrange(1, 12)}",
                folded,
                at,
                at,
            )
        )
        self.applicants += 1
        return pk

    # - one dossier ------------------------------------------------------------------------

    def draw_place(self) -> tuple[ProcInfo, AgencyInfo, AgencyInfo | None]:
        rng = self.rng
        p = self.p
        if rng.random() < 0.62 and p.commune_procs:
            proc = p.commune_procs[
                bisect.bisect(self.commune_procs_cum, rng.random() * self.commune_procs_cum[-1])
            ]
            commune = p.communes[
                bisect.bisect(self.commune_cum, rng.random() * self.commune_cum[-1])
            ]
            return proc, commune, None
        proc = p.province_procs[
            bisect.bisect(self.province_procs_cum, rng.random() * self.province_procs_cum[-1])
        ]
        department = p.departments.get(proc.department_id) if proc.department_id else None
        if department is not None and rng.random() < 0.12:
            return proc, department, None  # filed at the department itself
        return proc, p.centre, department

    def draw_channel(self, proc: ProcInfo) -> str:
        r = self.rng.random()
        online = {"full": 0.66, "partial": 0.36}.get(proc.online_mode, 0.0)
        postal = 0.04 if proc.postal else 0.0
        if r < online:
            return "online"
        if r < online + postal:
            return "postal"
        return "counter"

    def dossier(self, submitted: dt.datetime) -> None:
        rng = self.rng
        d = self.deadlines
        proc, receiving, deciding = self.draw_place()
        channel = self.draw_channel(proc)
        decider = deciding or receiving
        pk = self.next_id("dossier")
        if self.applicants < 50 or rng.random() < 0.62:
            applicant = self.new_applicant(submitted)
        else:
            applicant = rng.randrange(
                self.ids["applicant"] - self.applicants + 1, self.ids["applicant"] + 1
            )
        limit = proc.limits.get(channel) or proc.limits.get("counter") or (None, "", "")
        amount, unit, limit_text = limit
        fee = proc.fees.get(channel, proc.fees.get("counter", 0))
        counter_officer = receiving.officers.get("counter_officer")
        counter_label = receiving.label.get("counter_officer", "")
        specialist = (
            decider.specialists[pk % len(decider.specialists)] if decider.specialists else None
        )
        spec_label = decider.label.get("specialist", "")
        leader = decider.officers.get("leader")
        leader_label = decider.label.get("leader", "")
        cal = receiving.calendar

        events: list[
            tuple
        ] = []  # (at, action, before, after, actor, label, agency, step, data, note)

        def ev(
            at,
            action,
            before,
            after,
            actor=None,
            label="",
            agency=None,
            step=None,
            data=None,
            note="",
        ):
            events.append(
                (
                    at,
                    action,
                    before,
                    after,
                    actor,
                    label,
                    agency or receiving.id,
                    step,
                    data or {},
                    note,
                )
            )

        applicant_label = "Công dân"
        ev(
            submitted,
            "submit",
            None,
            1,
            None,
            applicant_label if channel == "online" else counter_label,
        )
        t = submitted
        if channel == "online":
            t = t + dt.timedelta(minutes=rng.randrange(1, 20))
            ev(t, "attach_file", 1, 1, None, applicant_label, data={"component": 0})
        pauses: list[tuple] = []
        extension = None
        result = None
        steps_plan = None
        # intake: refusal, supplement before receipt
        r = rng.random()
        wait_minutes = rng.randrange(5, 90) if channel != "online" else rng.randrange(30, 60 * 20)
        t = t + dt.timedelta(minutes=wait_minutes)
        if r < 0.012:
            ev(
                t,
                "refuse",
                1,
                3,
                counter_officer,
                counter_label,
                note="Hồ sơ không thuộc thẩm quyền giải quyết của cơ quan.",
            )
        elif r < 0.016:
            ev(
                t,
                "withdraw",
                1,
                7,
                counter_officer,
                counter_label,
                note="Công dân đề nghị rút hồ sơ.",
            )
        else:
            if r < 0.05:
                pause_id = self.next_id("pause")
                items = SUPPLEMENT_ITEMS[rng.randrange(len(SUPPLEMENT_ITEMS))]
                ev(
                    t,
                    "request_supplement",
                    1,
                    5,
                    counter_officer,
                    counter_label,
                    data={"items": items, "stage": "intake", "pause": pause_id},
                )
                back = t + dt.timedelta(hours=rng.uniform(4, 24 * 6))
                pauses.append([pause_id, "intake", items, t, back, 1])
                ev(
                    back,
                    "provide_supplement",
                    5,
                    1,
                    counter_officer,
                    counter_label,
                    data={"pause": pause_id, "previous_due_at": None, "due_at": None},
                )
                t = back + dt.timedelta(minutes=rng.randrange(5, 60))
            received = t
            due = d.appointment(cal, received, amount, unit) if unit else None
            due = due.astimezone(UTC) if due is not None else None
            ev(
                received,
                "receive",
                1,
                2,
                counter_officer,
                counter_label,
                step=0,
                data={"due_at": due.isoformat() if due else None},
            )
            if channel != "online" and rng.random() < 0.62:
                ev(
                    received + dt.timedelta(minutes=rng.randrange(2, 30)),
                    "attach_file",
                    2,
                    2,
                    counter_officer,
                    counter_label,
                    data={"component": 0},
                )
            span = (due - received) if due else dt.timedelta(hours=rng.uniform(2, 30))
            if span <= dt.timedelta(0):
                span = dt.timedelta(hours=4)
            lateness = decider.lateness * proc.lateness
            outcome = rng.random()
            late = rng.random() < lateness
            # supplement during processing
            current_due = due
            status = 2
            t1 = received + span * rng.uniform(0.05, 0.35)
            supplements = 0
            if rng.random() < 0.075:
                rounds = 2 if rng.random() < 0.03 else 1
                for _ in range(rounds):
                    pause_id = self.next_id("pause")
                    items = SUPPLEMENT_ITEMS[rng.randrange(len(SUPPLEMENT_ITEMS))]
                    ev(
                        t1,
                        "request_supplement",
                        status,
                        5,
                        specialist,
                        spec_label,
                        agency=decider.id,
                        step=1,
                        data={"items": items, "stage": "processing", "pause": pause_id},
                    )
                    supplements += 1
                    back = t1 + dt.timedelta(hours=rng.uniform(6, 24 * 9))
                    pauses.append([pause_id, "processing", items, t1, back, 4])
                    previous = current_due
                    if current_due is not None:
                        current_due = d.shift_for_pause(cal, current_due, t1, back).astimezone(UTC)
                    ev(
                        back,
                        "provide_supplement",
                        5,
                        4,
                        counter_officer,
                        counter_label,
                        data={
                            "pause": pause_id,
                            "previous_due_at": previous.isoformat() if previous else None,
                            "due_at": current_due.isoformat() if current_due else None,
                        },
                    )
                    status = 4
                    t1 = back + dt.timedelta(hours=rng.uniform(1, 30))
            allowed_end = current_due if current_due is not None else received + span
            start_work = max(t1, received)
            if late:
                finish = allowed_end + dt.timedelta(days=rng.uniform(1.0, 9.0))
            else:
                room = max(allowed_end - start_work, dt.timedelta(minutes=30))
                finish = start_work + room * rng.uniform(0.25, 0.97)
            finish = max(finish, start_work + dt.timedelta(minutes=20))
            if late and current_due is not None and rng.random() < 0.45:
                # apology and extension: proposed before the appointment (timely), sometimes after
                after_due = rng.random() < 0.2
                asked = (
                    (current_due + dt.timedelta(hours=rng.uniform(2, 40)))
                    if after_due
                    else max(start_work, current_due - dt.timedelta(hours=rng.uniform(4, 30)))
                )
                new_due = finish + dt.timedelta(hours=rng.uniform(0, 48))
                ext_id = self.next_id("extension")
                ev(
                    asked,
                    "propose_extension",
                    status,
                    status,
                    specialist,
                    spec_label,
                    agency=decider.id,
                    step=2,
                    data={"extension": ext_id, "new_due_at": new_due.isoformat()},
                    note="Chờ kết quả xác minh của cơ quan phối hợp.",
                )
                decided = asked + dt.timedelta(hours=rng.uniform(0.5, 6))
                ev(
                    decided,
                    "decide_extension",
                    status,
                    status,
                    leader,
                    leader_label,
                    agency=decider.id,
                    step=2,
                    data={
                        "extension": ext_id,
                        "approved": True,
                        "previous_due_at": current_due.isoformat(),
                        "due_at": new_due.isoformat(),
                    },
                )
                extension = (
                    ext_id,
                    current_due,
                    new_due,
                    asked,
                    decided,
                    after_due or decided > current_due,
                )
                not extension[5]
                current_due = new_due
                finish = max(finish, decided + dt.timedelta(minutes=30))
            if outcome < 0.006:
                end_at = start_work + (finish - start_work) * 0.5
                ev(
                    end_at,
                    "withdraw",
                    status,
                    7,
                    counter_officer,
                    counter_label,
                    note="Công dân đề nghị rút hồ sơ.",
                )
            elif outcome < 0.009:
                end_at = start_work + (finish - start_work) * 0.6
                ev(
                    end_at,
                    "stop",
                    status,
                    8,
                    counter_officer,
                    counter_label,
                    note="Công dân đề nghị dừng giải quyết.",
                )
            else:
                step_done = start_work + (finish - start_work) * rng.uniform(0.4, 0.8)
                note = (
                    PLACEHOLDER_NOTES[rng.randrange(3)]
                    if rng.random() < 0.03
                    else GOOD_NOTES[rng.randrange(4)]
                )
                step1_due = received + (current_due - received) * 0.6 if current_due else None
                ev(
                    step_done,
                    "complete_step",
                    status,
                    4,
                    specialist,
                    spec_label,
                    agency=decider.id,
                    step=1,
                    data={"timeliness": d.classify(step_done, step1_due), "interagency": False},
                    note=note,
                )
                status = 4
                timeliness = "late" if supplements > 1 else d.classify(finish, current_due)
                eresult = rng.random() < (0.9 if channel == "online" else 0.55)
                ev(
                    finish,
                    "record_result",
                    4,
                    9,
                    leader,
                    leader_label,
                    agency=decider.id,
                    step=2,
                    data={"number": f"{pk}/KQ", "timeliness": timeliness},
                    note="Đồng ý ký kết quả giải quyết.",
                )
                back = finish + dt.timedelta(hours=rng.uniform(1, 24 * 4))
                method = channel if channel in ("online", "postal") else "counter"
                ev(
                    back,
                    "return_result",
                    9,
                    10,
                    counter_officer,
                    counter_label,
                    step=3,
                    data={"method": method, "recipient": ""},
                )
                if rng.random() < (0.32 if channel == "online" else 0.12):
                    score = (
                        1
                        if (timeliness == "late" and rng.random() < 0.5)
                        else (3 if rng.random() < 0.7 else 2)
                    )
                    ev(
                        back + dt.timedelta(hours=rng.uniform(0.2, 48)),
                        "rate",
                        10,
                        10,
                        None,
                        applicant_label,
                        data={"score": score},
                    )
                result = (eresult, timeliness, note, step_done, step1_due)
            steps_plan = (received, due, span)

        self._emit(
            pk,
            submitted,
            proc,
            channel,
            receiving,
            deciding,
            decider,
            applicant,
            amount,
            unit,
            limit_text,
            fee,
            events,
            pauses,
            extension,
            result,
            steps_plan,
            specialist,
            leader,
            counter_officer,
        )

    def _emit(
        self,
        pk,
        submitted,
        proc,
        channel,
        receiving,
        deciding,
        decider,
        applicant,
        amount,
        unit,
        limit_text,
        fee,
        events,
        pauses,
        extension,
        result,
        steps_plan,
        specialist,
        leader,
        counter_officer,
    ):
        rng = self.rng
        now = self.now
        events.sort(key=lambda e: e[0])
        kept = []
        running = None
        for event in events:
            if event[0] > now:
                break
            at, action, _before, after, *rest = event
            if action in SAME_STATUS:
                after = running
            kept.append((at, action, running, after, *rest))
            running = after
        # the dossier as of now
        status = kept[-1][3]
        received_at = due_at = original_due = finished_at = returned_at = closed_at = None
        timeliness = ""
        late_no_apology = False
        code = None
        step_ids = {}
        ext_decided = False
        for at, action, _before, _after, *_rest in kept:
            data = _rest[4]
            if action == "receive":
                received_at = at
                due_at = original_due = (
                    dt.datetime.fromisoformat(data["due_at"]) if data["due_at"] else None
                )
            elif action == "provide_supplement" and data.get("due_at"):
                due_at = dt.datetime.fromisoformat(data["due_at"])
            elif action == "decide_extension":
                due_at = dt.datetime.fromisoformat(data["due_at"])
                ext_decided = True
            elif action in ("stop", "withdraw") and received_at is not None:
                finished_at = at
                timeliness = self.deadlines.classify(at, due_at)
            elif action == "record_result":
                finished_at = at
                timeliness = data["timeliness"]
            elif action == "return_result":
                returned_at = at
            if action in ("refuse", "withdraw", "stop", "return_result"):
                closed_at = at
        if extension is not None and ext_decided and extension[5]:
            late_no_apology = True
        if timeliness == "late" and not (
            extension is not None and ext_decided and not extension[5]
        ):
            late_no_apology = True
        if received_at is not None:
            day = received_at.astimezone(self.vn).date()
            key = (receiving.id, day)
            seq = self.sequences.get(key, 0) + 1
            self.sequences[key] = seq
            code = f"{receiving.eid}-{day:%y%m%d}-{seq:04d}"
        dossier_uuid = uuid.UUID(int=rng.getrandbits(128), version=4)
        fee_lines = (
            [{"kind": "fee", "amount": fee, "description": "Phí, lệ phí theo quy định"}]
            if fee
            else []
        )
        delivery = (
            "online" if channel == "online" else ("postal" if channel == "postal" else "counter")
        )
        self.t_dossier.add(
            (
                pk,
                dossier_uuid,
                code,
                status,
                channel,
                proc.id,
                proc.version_id,
                proc.variant_id,
                receiving.id,
                deciding.id if deciding else None,
                applicant,
                proc.name[:200],
                delivery,
                "Số 12, đường Lê Lợi" if delivery == "postal" else "",
                amount,
                unit or "",
                limit_text,
                fee,
                fee_lines,
                submitted,
                received_at,
                original_due,
                due_at,
                finished_at,
                returned_at,
                closed_at,
                timeliness,
                late_no_apology,
                submitted,
                kept[-1][0],
            )
        )
        # steps
        if received_at is not None:
            received, due, _span = steps_plan
            first = self.next_id("step")
            step_ids = {0: first, 1: first + 1, 2: first + 2, 3: first + 3}
            self.ids["step"] = first + 3
            done = {
                e[7]: e
                for e in kept
                if e[1] in ("complete_step", "record_result", "return_result", "receive")
            }
            ended = status in (7, 8)
            s1_due = received + (due - received) * 0.6 if due else None
            # intake
            self.t_step.add(
                (
                    step_ids[0],
                    pk,
                    0,
                    "intake",
                    "Tiếp nhận, kiểm tra hồ sơ",
                    "counter_officer",
                    receiving.id,
                    Decimal(0),
                    "done",
                    counter_officer,
                    submitted,
                    received,
                    received,
                    counter_officer,
                    "",
                    "early",
                )
            )
            s1 = done.get(1)
            s2 = done.get(2)
            s3 = done.get(3)
            state1 = "done" if s1 else ("cancelled" if ended else "active")
            self.t_step.add(
                (
                    step_ids[1],
                    pk,
                    1,
                    "processing",
                    "Thẩm định hồ sơ, đề xuất kết quả",
                    "specialist",
                    decider.id,
                    Decimal(60),
                    state1,
                    specialist,
                    received,
                    s1_due,
                    s1[0] if s1 else None,
                    specialist if s1 else None,
                    s1[9] if s1 else "",
                    s1[8]["timeliness"] if s1 else "",
                )
            )
            state2 = "done" if s2 else "cancelled" if ended else "active" if s1 else "pending"
            self.t_step.add(
                (
                    step_ids[2],
                    pk,
                    2,
                    "processing",
                    "Lãnh đạo xem xét, ký kết quả",
                    "leader",
                    decider.id,
                    Decimal(40),
                    state2,
                    leader,
                    s1[0] if s1 else None,
                    due_at,
                    s2[0] if s2 else None,
                    leader if s2 else None,
                    s2[9] if s2 else "",
                    s2[8]["timeliness"] if s2 else "",
                )
            )
            state3 = "done" if s3 else "cancelled" if ended else "active" if s2 else "pending"
            self.t_step.add(
                (
                    step_ids[3],
                    pk,
                    3,
                    "return",
                    "Trả kết quả",
                    "counter_officer",
                    receiving.id,
                    Decimal(0),
                    state3,
                    None,
                    s2[0] if s2 else None,
                    due_at,
                    s3[0] if s3 else None,
                    counter_officer if s3 else None,
                    "",
                    self.deadlines.classify(s3[0], due_at) if s3 else "",
                )
            )
        # scans: one submitted component, a file per attach_file event
        component_id = None
        for at, action, _b, _a, _actor, _label, _agency, _step, data, _note in kept:
            if action != "attach_file":
                continue
            if component_id is None:
                component_id = self.next_id("component")
                self.t_component.add(
                    (component_id, pk, 1, "Đơn đề nghị (tờ khai) theo mẫu", 1, 0, True, at)
                )
            file_id = self.next_id("file")
            sha = f"{rng.getrandbits(256):064x}"
            self.t_file.add(
                (
                    file_id,
                    component_id,
                    f"dossiers/{dossier_uuid}/{sha[:12]}-scan.pdf",
                    "scan.pdf",
                    "application/pdf",
                    180_000 + file_id % 90_000,
                    sha,
                    at,
                )
            )
            data.update(component=component_id, file=file_id, sha256=sha)
        if self.t_rating is not None:
            for at, action, *_rest in kept:
                if action == "rate":
                    self.t_rating.add((pk, decider.id, counter_officer, _rest[6]["score"], "", at))
        # events
        status_now = None
        for at, action, before, after, actor, label, agency, step, data, note in kept:
            self.t_event.add(
                (
                    self.next_id("event"),
                    pk,
                    at,
                    actor,
                    label,
                    agency,
                    action,
                    note,
                    before,
                    after,
                    step_ids.get(step) if step is not None else None,
                    data,
                )
            )
            status_now = after
        del status_now
        for pause_id, stage, items, started, ended_at, resume in pauses:
            if started > now:
                continue
            self.t_pause.add(
                (
                    pause_id,
                    pk,
                    "supplement",
                    stage,
                    items,
                    "Hồ sơ cần bổ sung.",
                    True,
                    resume,
                    counter_officer if stage == "intake" else specialist,
                    started,
                    ended_at if ended_at <= now else (finished_at or closed_at),
                )
            )
        if extension is not None:
            ext_id, previous, new_due, asked, decided, after_due = extension
            if asked <= now:
                approved = decided <= now
                self.t_extension.add(
                    (
                        ext_id,
                        pk,
                        "approved" if approved else "proposed",
                        "Chờ kết quả xác minh của cơ quan phối hợp.",
                        previous,
                        new_due,
                        specialist,
                        asked,
                        leader if approved else None,
                        decided if approved else None,
                        after_due,
                    )
                )
        if result is not None and finished_at is not None and status in (9, 10):
            eresult, _timeliness, _note, _done, _due = result
            method = channel if channel in ("online", "postal") else "counter"
            self.t_result.add(
                (
                    self.next_id("result"),
                    pk,
                    "granted",
                    f"{pk}/KQ",
                    finished_at.astimezone(self.vn).date(),
                    "Lê Văn Bình",
                    "Kết quả giải quyết thủ tục hành chính",
                    f"results/{dossier_uuid}/ket-qua.pdf" if eresult else "",
                    leader,
                    finished_at,
                    returned_at,
                    counter_officer if returned_at else None,
                    method if returned_at else "",
                    "Chủ hồ sơ" if returned_at and method == "counter" else "",
                    f"EV{pk:09d}VN" if returned_at and method == "postal" else "",
                )
            )
        # violations
        if received_at is not None:
            officer = specialist
            late_open = (
                finished_at is None
                and status not in (7, 8)
                and due_at is not None
                and self.deadlines.classify(now, due_at) == "late"
            )
            if timeliness == "late" or late_open:
                occurred = finished_at or min(now, due_at + dt.timedelta(days=1))
                self._violation(
                    "dossier_late",
                    "high",
                    pk,
                    step_ids.get(1),
                    decider.id,
                    officer,
                    occurred,
                    "Hồ sơ giải quyết quá hạn."
                    if finished_at
                    else "Hồ sơ đang giải quyết đã quá hạn.",
                    leader,
                )
                if late_no_apology and finished_at is not None:
                    self._violation(
                        "late_without_apology",
                        "high",
                        pk,
                        None,
                        decider.id,
                        officer,
                        occurred,
                        "Hồ sơ quá hạn không có văn bản xin lỗi, gia hạn kịp thời.",
                        leader,
                    )
            if result is not None and result[2] in PLACEHOLDER_NOTES and result[3] <= now:
                self._violation(
                    "unclear_note",
                    "low",
                    pk,
                    step_ids.get(1),
                    decider.id,
                    officer,
                    result[3],
                    f"Ý kiến xử lý không rõ nội dung: «{result[2]}».",
                    leader,
                    step=True,
                )

    def _violation(
        self,
        rule,
        severity,
        dossier,
        step_id,
        agency,
        officer,
        occurred,
        detail,
        leader,
        step=False,
    ):
        rng = self.rng
        pk = self.next_id("violation")
        age = (self.now - occurred).days
        r = rng.random()
        if age > 60:
            status = "closed" if r < 0.7 else ("explained" if r < 0.9 else "open")
        elif age > 14:
            status = "closed" if r < 0.3 else ("explained" if r < 0.7 else "open")
        else:
            status = "explained" if r < 0.2 else "open"
        explained_at = closed_at = None
        explanation = ""
        if status in ("explained", "closed"):
            explained_at = min(self.now, occurred + dt.timedelta(days=rng.uniform(1, 10)))
            explanation = EXPLANATIONS[rng.randrange(len(EXPLANATIONS))]
        if status == "closed":
            closed_at = min(self.now, explained_at + dt.timedelta(days=rng.uniform(1, 15)))
        detected = occurred + dt.timedelta(minutes=5)
        self.t_violation.add(
            (
                pk,
                rule,
                severity,
                dossier,
                step_id if step else None,
                agency,
                officer,
                detail,
                {},
                occurred,
                detected,
                status,
                explanation,
                leader if explained_at else None,
                explained_at,
                self.monitor_id if closed_at else None,
                closed_at,
                closed_at or explained_at or detected,
            )
        )
        if explained_at:
            self.t_vchange.add((pk, explained_at, leader, "open", "explained", explanation))
        if closed_at:
            self.t_vchange.add(
                (pk, closed_at, self.monitor_id, "explained", "closed", "Chấp nhận giải trình.")
            )

    def counters(self) -> None:
        for (agency, day), last in sorted(self.sequences.items()):
            self.t_counter.add((agency, day, last))


# --- the run -------------------------------------------------------------------------------


BIG_TABLES = (
    "dossier",
    "event",
    "step",
    "applicant",
    "pause",
    "extension",
    "result",
    "violation",
    "component",
    "file",
)


def _drop_indexes(sink: Sink) -> list[str]:
    """PostgreSQL: drop the secondary indexes (and unique constraints) of the big tables;
    return the statements that rebuild them."""
    from django.db import connection

    restore: list[str] = []
    with connection.cursor() as cursor:
        for key in BIG_TABLES:
            name = sink.tables[key].name
            cursor.execute(
                """
                SELECT i.relname, pg_get_indexdef(i.oid), c.conname, pg_get_constraintdef(c.oid)
                FROM pg_index x
                JOIN pg_class i ON i.oid = x.indexrelid
                LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.contype IN ('u', 'x')
                WHERE x.indrelid = %s::regclass AND NOT x.indisprimary
                """,
                [name],
            )
            for index, indexdef, constraint, condef in cursor.fetchall():
                if constraint:
                    cursor.execute(f'ALTER TABLE "{name}" DROP CONSTRAINT "{constraint}"')
                    restore.append(f'ALTER TABLE "{name}" ADD CONSTRAINT "{constraint}" {condef}')
                else:
                    cursor.execute(f'DROP INDEX "{index}"')
                    restore.append(indexdef)
    return restore


def _session(vendor: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute("SET synchronous_commit = off")
            cursor.execute("SET maintenance_work_mem = '1GB'")
            try:
                cursor.execute("SET session_replication_role = replica")
            except Exception:
                connection.rollback()
        elif not connection.in_atomic_block:  # (a test's transaction: leave it as it is)
            cursor.execute("PRAGMA synchronous = OFF")


def _reset_sequences(sink: Sink) -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in sink.tables.values():
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                f'COALESCE((SELECT MAX(id) FROM "{table.name}"), 1))'
            )


def clear_dossiers() -> None:
    """Delete every dossier, applicant, violation and rollup (not the province)."""
    from django.db import connection, transaction

    from motcua.dossiers.models import (
        Applicant,
        ComponentFile,
        Dossier,
        DossierCodeCounter,
        DossierEvent,
        Extension,
        OutboxMessage,
        Pause,
        Result,
        Step,
        SubmittedComponent,
    )
    from motcua.monitoring.models import (
        DailyRollup,
        DossierTrack,
        MonthlyRollup,
        OpenSnapshot,
        SnapshotDay,
        Violation,
        ViolationChange,
    )

    models = [
        ViolationChange,
        Violation,
        DossierTrack,
        DailyRollup,
        MonthlyRollup,
        OpenSnapshot,
        SnapshotDay,
        OutboxMessage,
        DossierEvent,
        ComponentFile,
        SubmittedComponent,
        Pause,
        Extension,
        Result,
        Step,
        Dossier,
        Applicant,
        DossierCodeCounter,
    ]
    from django.apps import apps

    with contextlib.suppress(LookupError):
        models.insert(models.index(Dossier), apps.get_model("dossiers", "Rating"))
    with transaction.atomic(), connection.cursor() as cursor:
        for model in models:
            cursor.execute(f'DELETE FROM "{model._meta.db_table}"')


def generate(
    dossiers: int,
    *,
    seed: int = 1,
    months: int = 12,
    end: dt.date | None = None,
    communes: int | None = None,
    extra_procedures: int = 60,
    batch: int = 20_000,
    rollups: bool = True,
    progress: Callable[[str], None] | None = print,
) -> SynthReport:
    """Write a province and ``dossiers`` dossiers on the configured database (see the module
    docstring); return what was written."""
    from django.db import connection, transaction
    from django.utils import timezone

    from motcua.core.worktime import VN_TZ
    from motcua.monitoring.facts import day_cutoff

    say = progress or (lambda _message: None)
    started = time.perf_counter()
    vendor = connection.vendor
    province = setup_province(seed=seed, communes=communes, extra_procedures=extra_procedures)
    today = timezone.now().astimezone(VN_TZ).date()
    end = end or today
    now = min(timezone.now(), day_cutoff(end)).astimezone(UTC).replace(second=0, microsecond=0)
    index = end.year * 12 + end.month - 1 - (max(months, 1) - 1)
    first = dt.date(index // 12, index % 12 + 1, 1)
    say(
        f"synth: {len(province.agencies)} agencies, "
        f"{len(province.commune_procs) + len(province.province_procs)} procedures; "
        f"{dossiers:,} dossiers {first} → {end} on {vendor}"
    )
    rng = random.Random(seed)
    sink = Sink(vendor)
    writer = Writer(province, rng, sink, now)
    from django.contrib.auth import get_user_model

    writer.monitor_id = (
        get_user_model()
        .objects.filter(username=province.accounts.get("monitor", ""))
        .values_list("pk", flat=True)
        .first()
    )
    days = _days(first, end)
    growth = [1 + 0.25 * i / max(len(days) - 1, 1) for i in range(len(days))]
    per_day = _spread(
        dossiers, [WEEKDAY_WEIGHT[d.weekday()] * g for d, g in zip(days, growth, strict=False)]
    )
    hours = [h for h, w in HOUR_WEIGHT.items() for _ in range(w)]

    load_started = time.perf_counter()
    # Millions of small tuples: the cyclic collector would rescan them all again and again.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    _session(vendor)
    empty = writer.ids["dossier"] == 0
    restore: list[str] = []
    if vendor == "postgresql" and empty and dossiers >= 200_000:
        with transaction.atomic():
            restore = _drop_indexes(sink)
        say(f"synth: dropped {len(restore)} secondary indexes of the big tables")
    written = 0
    last_report = time.perf_counter()
    pending = 0
    for day, count in zip(days, per_day, strict=False):
        if not count:
            continue
        midnight = dt.datetime.combine(day, dt.time(), tzinfo=VN_TZ)
        times = []
        weekend = day.weekday() >= 5
        for _ in range(count):
            if weekend or rng.random() < 0.08:
                seconds = rng.randrange(6 * 3600, 23 * 3600)  # online, any hour
            else:
                seconds = hours[rng.randrange(len(hours))] * 3600 + rng.randrange(3600)
            times.append(seconds)
        times.sort()
        for seconds in times:
            submitted = (midnight + dt.timedelta(seconds=seconds)).astimezone(UTC)
            if submitted > now:
                submitted = now - dt.timedelta(minutes=1)
            writer.dossier(submitted)
        written += count
        pending += count
        if pending >= batch:
            with transaction.atomic():
                sink.flush()
            pending = 0
            if time.perf_counter() - last_report > 10:
                elapsed = time.perf_counter() - load_started
                say(f"synth: {written:,} dossiers, {written / elapsed:,.0f}/s")
                last_report = time.perf_counter()
    writer.counters()
    with transaction.atomic():
        sink.flush()
    if gc_was_enabled:
        gc.enable()
    load_seconds = time.perf_counter() - load_started
    if restore:
        say(f"synth: rebuilding {len(restore)} indexes")
        with connection.cursor() as cursor:
            for statement in restore:
                cursor.execute(statement)
    _reset_sequences(sink)
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")
            cursor.execute("ANALYZE")
    elif not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("ANALYZE")
    index_seconds = time.perf_counter() - load_started - load_seconds
    report = SynthReport(
        dossiers=written,
        rows={t.label: t.count for t in sink.tables.values()},
        load_seconds=load_seconds,
        date_from=first,
        date_to=end,
        now=now,
        agencies=len(province.agencies),
        procedures=len(province.commune_procs) + len(province.province_procs),
        accounts=province.accounts,
        vendor=vendor,
    )
    say(f"synth: loaded in {load_seconds:.1f} s, indexes and analyse {index_seconds:.1f} s")
    if rollups:
        from motcua.monitoring.rollups import rebuild

        rollup_started = time.perf_counter()
        result = rebuild(now=now, method="sql")
        report.rollup_seconds = time.perf_counter() - rollup_started
        say(
            f"synth: rollups rebuilt in {report.rollup_seconds:.1f} s "
            f"({result.rollup_rows:,} day rows)"
        )
    report.seconds = time.perf_counter() - started
    say("synth: " + report.summary())
    return report


# --- command line --------------------------------------------------------------------------


def configure(database_url: str, reset: bool) -> None:
    """Point Django at the scratch database (created or, with ``reset``, recreated) and
    migrate it."""
    if database_url.startswith("postgres"):
        import psycopg

        base, _, name = database_url.rpartition("/")
        name = name.split("?")[0]
        if name in {"test", "postgres", "template0", "template1", ""} or name.startswith("test_"):
            raise SystemExit(f"refusing to use database {name!r}: give a scratch database")
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if exists and reset:
                conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
                exists = None
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
    elif database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        if reset:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
    else:
        raise SystemExit("--database-url must be postgresql://… or sqlite:///…")
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "motcua.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dossiers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--end", type=dt.date.fromisoformat, default=None, help="YYYY-MM-DD")
    parser.add_argument("--communes", type=int, default=None, help="default: all (166)")
    parser.add_argument("--extra-procedures", type=int, default=60)
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--reset", action="store_true", help="drop and recreate the database")
    parser.add_argument("--no-rollups", action="store_true", help="skip rebuild_rollups")
    args = parser.parse_args(argv)
    configure(args.database_url, args.reset)
    from motcua.dossiers.models import Dossier

    if Dossier.objects.exists():
        raise SystemExit("the database already holds dossiers: use --reset (or another database)")
    generate(
        args.dossiers,
        seed=args.seed,
        months=args.months,
        end=args.end,
        communes=args.communes,
        extra_procedures=args.extra_procedures,
        batch=args.batch,
        rollups=not args.no_rollups,
    )


if __name__ == "__main__":
    main()
