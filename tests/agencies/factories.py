"""factory_boy factories for the agencies models (importable by other apps' tests)."""

from __future__ import annotations

import datetime as dt

import factory

from motcua.agencies.models import (
    AdministrativeUnit,
    Agency,
    CalendarDay,
    Counter,
    Department,
    WorkingSession,
)

# Codes tests give explicitly (Hà Nội, Thanh Hóa): generated provinces never take them, so a
# test that makes "38" and then an agency with a generated province cannot collide, whatever
# number of provinces earlier tests made.
EXPLICIT_PROVINCE_CODES = {"01", "38"}
GENERATED_PROVINCE_CODES = [
    f"{n:02d}" for n in range(100) if f"{n:02d}" not in EXPLICIT_PROVINCE_CODES
]


class ProvinceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdministrativeUnit

    level = AdministrativeUnit.Level.PROVINCE
    code = factory.Sequence(lambda n: GENERATED_PROVINCE_CODES[n % len(GENERATED_PROVINCE_CODES)])
    unit_type = "Tỉnh"
    name = factory.Sequence(lambda n: f"Thử Nghiệm {n}")
    full_name = factory.LazyAttribute(lambda o: f"{o.unit_type} {o.name}")
    valid_from = dt.date(2025, 7, 1)


class CommuneFactory(ProvinceFactory):
    level = AdministrativeUnit.Level.COMMUNE
    code = factory.Sequence(lambda n: f"{n % 100000:05d}")
    unit_type = "Xã"
    name = factory.Sequence(lambda n: f"Đồng Tiến {n}")
    parent = factory.SubFactory(ProvinceFactory)


# The generic name other tests expect.
AdministrativeUnitFactory = ProvinceFactory


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency

    name = factory.Sequence(lambda n: f"Ủy ban nhân dân xã Thử Nghiệm {n}")
    short_name = factory.Sequence(lambda n: f"UBND xã {n}")
    # NNN.NN.NN.Xnn, unique per sequence number.
    electronic_id = factory.Sequence(lambda n: f"{n // 100 % 1000:03d}.{n % 100:02d}.99.H56")
    level = Agency.Level.COMMUNE
    kind = Agency.Kind.PEOPLES_COMMITTEE
    unit = factory.SubFactory(CommuneFactory)


class ProvincialAgencyFactory(AgencyFactory):
    name = factory.Sequence(lambda n: f"Trung tâm Phục vụ hành chính công tỉnh {n}")
    short_name = factory.Sequence(lambda n: f"TTPVHCC {n}")
    level = Agency.Level.PROVINCE
    kind = Agency.Kind.SERVICE_CENTRE
    unit = factory.SubFactory(ProvinceFactory)


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    agency = factory.SubFactory(AgencyFactory)
    code = factory.Sequence(lambda n: f"P{n:03d}")
    name = factory.Sequence(lambda n: f"Phòng Văn hóa – Xã hội {n}")


class CounterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Counter

    agency = factory.SubFactory(AgencyFactory)
    number = factory.Sequence(lambda n: n % 100 + 1)
    name = factory.Sequence(lambda n: f"Quầy tiếp nhận {n}")


class WorkingSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkingSession

    agency = factory.SubFactory(AgencyFactory)
    weekday = WorkingSession.Weekday.MONDAY
    start = dt.time(8)
    end = dt.time(12)


class CalendarDayFactory(factory.django.DjangoModelFactory):
    """An agency's own day off by default; pass ``agency=None`` for a national row."""

    class Meta:
        model = CalendarDay

    agency = factory.SubFactory(AgencyFactory)
    date = dt.date(2026, 3, 2)
    kind = CalendarDay.Kind.DAY_OFF
    name = "Ngày nghỉ riêng"
    basis = "Quyết định của cơ quan"
