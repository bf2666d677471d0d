"""Administrative units in force, as address choices (province, then its communes)."""

from __future__ import annotations

from .models import AdministrativeUnit


def provinces() -> list[AdministrativeUnit]:
    """The provinces in force, by name."""
    return list(
        AdministrativeUnit.objects.filter(
            level=AdministrativeUnit.Level.PROVINCE, valid_to__isnull=True
        ).order_by("name")
    )


def communes(province_code: str) -> list[AdministrativeUnit]:
    """The communes in force of the province in force with this code, by name."""
    if not province_code:
        return []
    return list(
        AdministrativeUnit.objects.filter(
            level=AdministrativeUnit.Level.COMMUNE,
            valid_to__isnull=True,
            parent__code=province_code,
            parent__level=AdministrativeUnit.Level.PROVINCE,
            parent__valid_to__isnull=True,
        ).order_by("name")
    )
