"""Load the demo province (Thanh Hóa): units, agencies, the demo catalogue, demo accounts and
about 200 demo dossiers (``demo.dossiers``).

Every function is idempotent: it creates what is missing, refreshes what it owns and never
deletes. Procedures go through the catalogue's one write path (``save_procedure``), which
writes a new version only when the content changed, so running the loader on every start
(``make run``) costs nothing after the first time.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from base64 import b32decode
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from motcua.accounts.models import Membership, Role
from motcua.agencies.models import AdministrativeUnit, Agency, Counter, Department

if TYPE_CHECKING:
    from motcua.demo.dossiers import DossierReport

DATA_DIR = Path(__file__).resolve().parent / "data"
# Units of the two-level administration start on the day the 2025 merger took effect.
VALID_FROM = dt.date(2025, 7, 1)

DEMO_USERNAME = "admin"
# Printed by load_demo; production never runs load_demo.
DEMO_PASSWORD = "motcua-demo"

# Demo leaders must give a TOTP code after their password. Their device holds this published
# key (base32, as authenticator apps take it), so anyone trying the demo can add it to an app or
# run `motcua demo-totp <user name>`. That command prints codes for this key only. DEMO ONLY.
DEMO_TOTP_SECRET = "MOTCUA2DEMO3LANHDAO4TOTP5SECRETS"
DEMO_TOTP_KEY_HEX = b32decode(DEMO_TOTP_SECRET).hex()
DEMO_TOTP_DEVICE_NAME = "Demo (khóa công khai)"
DEMO_OTP_ROLES = frozenset({Role.LEADER, Role.ADMINISTRATOR})

CENTRE_ID = "000.00.01.H56"  # Trung tâm Phục vụ hành chính công tỉnh
COMMUNE_ID = "000.04.40.H56"  # Ủy ban nhân dân xã Hoằng Thanh
JUSTICE_ID = "000.00.10.H56"  # Sở Tư pháp
PROVINCE_ID = "000.00.00.H56"  # Ủy ban nhân dân tỉnh (monitoring)


@dataclass(frozen=True)
class DemoOfficer:
    """A demo officer account: one membership (agency × role), the demo password."""

    username: str
    first_name: str  # family and middle names (họ và tên đệm)
    last_name: str  # given name (tên): get_full_name() gives the Vietnamese order
    agency_id: str  # electronic id
    role: str


# Same published password as the demo administrator; created only when demo accounts are
# allowed, never reset.
DEMO_OFFICERS: tuple[DemoOfficer, ...] = (
    DemoOfficer("motcua.tiepnhan", "Lê Thị", "Hương", CENTRE_ID, Role.COUNTER_OFFICER),
    DemoOfficer("motcua.chuyenvien", "Nguyễn Văn", "Hùng", CENTRE_ID, Role.SPECIALIST),
    DemoOfficer("motcua.lanhdao", "Trịnh Đình", "Thắng", CENTRE_ID, Role.LEADER),
    DemoOfficer("motcua.vanthu", "Phạm Thị", "Lan", CENTRE_ID, Role.CLERK),
    DemoOfficer("xa.tiepnhan", "Hoàng Thị", "Mai", COMMUNE_ID, Role.COUNTER_OFFICER),
    DemoOfficer("xa.chuyenvien", "Lê Văn", "Tuấn", COMMUNE_ID, Role.SPECIALIST),
    DemoOfficer("xa.lanhdao", "Nguyễn Đình", "Phúc", COMMUNE_ID, Role.LEADER),
    DemoOfficer("xa.vanthu", "Đỗ Thị", "Hạnh", COMMUNE_ID, Role.CLERK),
    DemoOfficer("stp.tiepnhan", "Mai Thị", "Thu", JUSTICE_ID, Role.COUNTER_OFFICER),
    DemoOfficer("stp.chuyenvien", "Vũ Quang", "Minh", JUSTICE_ID, Role.SPECIALIST),
    DemoOfficer("stp.lanhdao", "Lê Xuân", "Trường", JUSTICE_ID, Role.LEADER),
    DemoOfficer("stp.vanthu", "Trần Thị", "Ngọc", JUSTICE_ID, Role.CLERK),
    DemoOfficer("giamsat", "Lê Minh", "Đức", PROVINCE_ID, Role.MONITOR),
)


@dataclass
class LoadReport:
    """What one run of the loader did (numbers of rows created, versions written)."""

    units_created: int = 0
    agencies_created: int = 0
    departments_created: int = 0
    counters_created: int = 0
    procedures_created: int = 0
    versions_created: int = 0
    procedures_total: int = 0
    accounts_created: list[str] = field(default_factory=list)
    accounts_refused: bool = False
    # Filled by demo.dossiers.load_demo_dossiers (None when dossiers were not asked for).
    dossiers: DossierReport | None = None


def read_json(name: str) -> dict:
    """Read one of the demo data files shipped with the package."""
    with (DATA_DIR / name).open(encoding="utf-8") as fh:
        return json.load(fh)


def load_units(data: dict, report: LoadReport) -> dict[str, AdministrativeUnit]:
    """Create the province and its demo communes if missing; return them by GSO code."""
    units: dict[str, AdministrativeUnit] = {}
    province_row = data["province"]
    province, created = AdministrativeUnit.objects.get_or_create(
        level=AdministrativeUnit.Level.PROVINCE,
        code=province_row["code"],
        valid_from=VALID_FROM,
        defaults={key: province_row[key] for key in ("name", "full_name", "name_en", "unit_type")},
    )
    report.units_created += created
    units[province.code] = province
    for row in data["communes"]:
        unit, created = AdministrativeUnit.objects.get_or_create(
            level=AdministrativeUnit.Level.COMMUNE,
            code=row["code"],
            valid_from=VALID_FROM,
            defaults={
                **{key: row[key] for key in ("name", "full_name", "name_en", "unit_type")},
                "parent": province,
            },
        )
        report.units_created += created
        units[unit.code] = unit
    return units


def load_agencies(
    data: dict, units: dict[str, AdministrativeUnit], report: LoadReport
) -> dict[str, Agency]:
    """Create the demo agencies with their departments and counters if missing."""
    agencies: dict[str, Agency] = {}
    for row in data["agencies"]:
        agency = Agency.objects.filter(electronic_id=row["electronic_id"]).first()
        if agency is None:
            agency = Agency(electronic_id=row["electronic_id"])
            report.agencies_created += 1
            agency.name = row["name"]
            agency.short_name = row.get("short_name", "")
            agency.level = row["level"]
            agency.kind = row["kind"]
            agency.unit = units[row["unit"]]
            agency.parent = agencies.get(row["parent"]) if row.get("parent") else None
            agency.address = row.get("address", "")
            agency.full_clean()
            agency.save()
        agencies[agency.electronic_id] = agency

        for name in row.get("departments", []):
            _, created = Department.objects.get_or_create(agency=agency, name=name)
            report.departments_created += created

        counters = row.get("counters") or 0
        names = counters if isinstance(counters, list) else [""] * counters
        for number, name in enumerate(names, start=1):
            _, created = Counter.objects.get_or_create(
                agency=agency, number=number, defaults={"name": name}
            )
            report.counters_created += created
    return agencies


def load_procedures(data: dict, report: LoadReport) -> None:
    """Save every demo procedure through the catalogue's versioned write path."""
    from motcua.catalog.services import save_procedure

    for content in data["procedures"]:
        result = save_procedure(content, source="demo")
        report.procedures_created += bool(result.created_procedure)
        report.versions_created += bool(result.created_version)
        report.procedures_total += 1


def demo_accounts_allowed() -> bool:
    """Demo accounts with a published password are refused on a production-like set-up.

    Production does not run ``load_demo`` at all; this guard catches the case where someone
    runs it there by mistake with ``MOTCUA_DEMO=0`` and ``DEBUG`` off.
    """
    return settings.DEBUG or os.environ.get("MOTCUA_DEMO", "1").strip() != "0"


def ensure_demo_accounts(report: LoadReport) -> None:
    """Create the demo superuser and demo officers if missing (passwords are never reset).

    An officer's membership is created if it is missing; one that exists is left as it is
    (an administrator may have deactivated it).
    """
    if not demo_accounts_allowed():
        report.accounts_refused = True
        return
    User = get_user_model()
    if not User.objects.filter(username=DEMO_USERNAME).exists():
        User.objects.create_superuser(
            username=DEMO_USERNAME, email="admin@example.invalid", password=DEMO_PASSWORD
        )
        report.accounts_created.append(DEMO_USERNAME)
    # The admin asks staff for the second factor too (core.admin_site).
    admin = User.objects.filter(username=DEMO_USERNAME).first()
    if admin is not None and admin.is_staff:
        ensure_demo_totp_device(admin)
    agencies = {
        agency.electronic_id: agency
        for agency in Agency.objects.filter(
            electronic_id__in={officer.agency_id for officer in DEMO_OFFICERS}
        )
    }
    existing = {
        user.username: user
        for user in User.objects.filter(username__in=[o.username for o in DEMO_OFFICERS])
    }
    # One hash for all demo officers: the password is published anyway, and hashing it once
    # instead of thirteen times keeps ``make run`` fast.
    hashed = None
    for officer in DEMO_OFFICERS:
        agency = agencies.get(officer.agency_id)
        if agency is None:
            continue
        user = existing.get(officer.username)
        if user is None:
            hashed = hashed or make_password(DEMO_PASSWORD)
            user = User(
                username=officer.username,
                first_name=officer.first_name,
                last_name=officer.last_name,
                email=f"{officer.username}@example.invalid",
                password=hashed,
            )
            user.save()
            report.accounts_created.append(officer.username)
        Membership.objects.get_or_create(
            user=user, agency=agency, department=None, role=officer.role
        )
        if officer.role in DEMO_OTP_ROLES:
            ensure_demo_totp_device(user)


def ensure_demo_totp_device(user) -> None:
    """Give a demo leader a confirmed TOTP device with the published demo key, unless they
    already have a device (one set up by hand is left alone)."""
    if not TOTPDevice.objects.filter(user=user).exists():
        TOTPDevice.objects.create(
            user=user, name=DEMO_TOTP_DEVICE_NAME, key=DEMO_TOTP_KEY_HEX, confirmed=True
        )


def demo_officer_rows() -> list[tuple[str, str, str]]:
    """(user name, role label, agency short name) of every demo officer, for printing."""
    names = {
        agency.electronic_id: agency.short_name or agency.name
        for agency in Agency.objects.filter(
            electronic_id__in={officer.agency_id for officer in DEMO_OFFICERS}
        )
    }
    return [
        (officer.username, str(Role(officer.role).label), names.get(officer.agency_id, ""))
        for officer in DEMO_OFFICERS
    ]


def load_demo(*, accounts: bool = True, dossiers: bool = False) -> LoadReport:
    """Load the whole demo province in one transaction and return what was created.

    ``dossiers`` adds the demo dossiers (``manage.py load_demo`` asks for them; they are
    refused, like the accounts, on a production-like set-up). Each dossier's story is its own
    savepoint: one that fails is reported in ``report.dossiers.failures``, not silently lost.
    """
    report = LoadReport()
    province = read_json("province.json")
    catalogue = read_json("procedures.json")
    with transaction.atomic():
        units = load_units(province, report)
        load_agencies(province, units, report)
        load_procedures(catalogue, report)
        if accounts:
            ensure_demo_accounts(report)
        if dossiers:
            from motcua.demo.dossiers import load_demo_dossiers

            report.dossiers = load_demo_dossiers()
    return report
