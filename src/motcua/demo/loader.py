"""Load the demo province (Thanh Hóa): units, agencies, the demo catalogue and demo accounts.

Every function is idempotent: it creates what is missing, refreshes what it owns and never
deletes. Procedures go through the catalogue's one write path (``save_procedure``), which
writes a new version only when the content changed, so running the loader on every start
(``make run``) costs nothing after the first time.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from motcua.agencies.models import AdministrativeUnit, Agency, Counter, Department

DATA_DIR = Path(__file__).resolve().parent / "data"
# Units of the two-level administration start on the day the 2025 merger took effect.
VALID_FROM = dt.date(2025, 7, 1)

DEMO_USERNAME = "admin"
# Printed by load_demo; production never runs load_demo.
DEMO_PASSWORD = "motcua-demo"


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
    """Create the demo superuser if it is missing (its password is never reset)."""
    if not demo_accounts_allowed():
        report.accounts_refused = True
        return
    User = get_user_model()
    if not User.objects.filter(username=DEMO_USERNAME).exists():
        User.objects.create_superuser(
            username=DEMO_USERNAME, email="admin@example.invalid", password=DEMO_PASSWORD
        )
        report.accounts_created.append(DEMO_USERNAME)


def load_demo(*, accounts: bool = True) -> LoadReport:
    """Load the whole demo province in one transaction and return what was created."""
    report = LoadReport()
    province = read_json("province.json")
    catalogue = read_json("procedures.json")
    with transaction.atomic():
        units = load_units(province, report)
        load_agencies(province, units, report)
        load_procedures(catalogue, report)
        if accounts:
            ensure_demo_accounts(report)
    return report
