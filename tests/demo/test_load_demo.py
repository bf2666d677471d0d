"""The demo province loader: idempotent, complete, and careful with demo accounts."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from motcua.agencies.models import AdministrativeUnit, Agency, Counter, Department
from motcua.catalog.models import OnlineMode, Procedure, ProcedureVersion
from motcua.core.codes import is_procedure_code, parse_agency_id
from motcua.demo import loader
from motcua.dossiers.models import Dossier


def _counts() -> dict[str, int]:
    return {
        "units": AdministrativeUnit.objects.count(),
        "agencies": Agency.objects.count(),
        "departments": Department.objects.count(),
        "counters": Counter.objects.count(),
        "procedures": Procedure.objects.count(),
        "versions": ProcedureVersion.objects.count(),
        "users": get_user_model().objects.count(),
    }


def _allowed_channels(version: ProcedureVersion) -> set[str]:
    channels = {"counter"}
    if version.online_mode != OnlineMode.NONE:
        channels.add("online")
    if version.postal_allowed:
        channels.add("postal")
    return channels


# --- the data files alone (no database) ----------------------------------------------------


def test_demo_data_files_use_valid_codes_and_whole_shares():
    province = loader.read_json("province.json")
    catalogue = loader.read_json("procedures.json")
    agency_ids = {row["electronic_id"] for row in province["agencies"]}
    for agency_id in agency_ids:
        parse_agency_id(agency_id)
    codes = [p["code"] for p in catalogue["procedures"]]
    assert len(codes) == len(set(codes)) >= 25
    for content in catalogue["procedures"]:
        assert is_procedure_code(content["code"]), content["code"]
        assert set(content["agencies"]) <= agency_ids
        for variant in content["variants"]:
            assert sum(Decimal(step["share"]) for step in variant["steps"]) == 100
            for step in variant["steps"]:
                assert step["agency"] is None or step["agency"] in agency_ids


def test_demo_units_are_thanh_hoa_after_the_2025_merger():
    province = loader.read_json("province.json")
    assert province["province"]["code"] == "38"
    assert len(province["communes"]) >= 6
    assert all(len(row["code"]) == 5 for row in province["communes"])


# --- loading into the database ---------------------------------------------------------------


@pytest.mark.django_db
def test_load_demo_twice_gives_the_same_counts():
    # The demo dossiers (and loading them twice) are tested in test_demo_dossiers.py.
    call_command("load_demo", "--no-dossiers", stdout=StringIO())
    first = _counts()
    call_command("load_demo", "--no-dossiers", stdout=StringIO())
    assert _counts() == first
    assert first["procedures"] >= 25
    assert first["versions"] == first["procedures"]


@pytest.mark.django_db
def test_every_demo_procedure_has_variants_components_limits_and_full_shares():
    loader.load_demo(accounts=False)
    procedures = Procedure.objects.select_related("current_version").prefetch_related(
        "current_version__variants__components",
        "current_version__variants__time_limits",
        "current_version__variants__steps",
        "applied_by",
    )
    assert procedures
    for procedure in procedures:
        assert is_procedure_code(procedure.code)
        version = procedure.current_version
        assert version is not None and version.source == ProcedureVersion.Source.DEMO
        assert procedure.applied_by.exists(), procedure.code
        variants = list(version.variants.all())
        assert variants, procedure.code
        for variant in variants:
            assert variant.components.exists(), procedure.code
            channels = {limit.channel for limit in variant.time_limits.all()}
            assert _allowed_channels(version) <= channels, procedure.code
            steps = list(variant.steps.all())
            assert 3 <= len(steps) <= 5
            assert sum(step.share for step in steps) == 100, procedure.code


@pytest.mark.django_db
def test_demo_agencies_exist_with_departments_and_counters():
    loader.load_demo(accounts=False)
    province = Agency.objects.get(electronic_id="000.00.00.H56")
    assert province.kind == Agency.Kind.PEOPLES_COMMITTEE
    assert province.unit.code == "38"
    centre = Agency.objects.get(kind=Agency.Kind.SERVICE_CENTRE, level=Agency.Level.PROVINCE)
    assert centre.counters.count() == 16
    departments = Agency.objects.filter(kind=Agency.Kind.DEPARTMENT, parent=province)
    assert departments.count() >= 4
    communes = Agency.objects.filter(level=Agency.Level.COMMUNE)
    assert communes.count() >= 3
    assert all(agency.unit.level == AdministrativeUnit.Level.COMMUNE for agency in communes)
    assert all(agency.departments.exists() for agency in communes)


@pytest.mark.django_db
def test_load_demo_prints_demo_account_and_urls():
    out = StringIO()
    call_command("load_demo", "--no-dossiers", stdout=out)
    text = out.getvalue()
    assert "Tài khoản mẫu: admin / motcua-demo" in text
    assert "/admin/" in text and "/api/v1/docs" in text
    user = get_user_model().objects.get(username="admin")
    assert user.is_superuser and user.check_password("motcua-demo")


@pytest.mark.django_db
def test_existing_admin_password_is_not_reset():
    user = get_user_model().objects.create_superuser("admin", "a@example.invalid", "changed-1")
    loader.load_demo()
    user.refresh_from_db()
    assert user.check_password("changed-1")


@pytest.mark.django_db
def test_demo_accounts_refused_without_debug_when_motcua_demo_is_0(settings, monkeypatch):
    settings.DEBUG = False
    monkeypatch.setenv("MOTCUA_DEMO", "0")
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert not get_user_model().objects.filter(username="admin").exists()
    assert not get_user_model().objects.filter(username="xa.tiepnhan").exists()
    assert "motcua-demo" not in out.getvalue()
    assert "Hồ sơ mẫu" not in out.getvalue()
    assert not Dossier.objects.exists()
