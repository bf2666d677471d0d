"""A satisfaction rating given on the portal is counted by the monitoring rollups."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db.models import Sum

from motcua.dossiers import services
from motcua.monitoring.models import DailyRollup
from tests.dossiers.world import vn
from tests.portal.account.helpers import make_citizen, returned_dossier

from .conftest import deliver

pytestmark = pytest.mark.django_db


def ratings_on(day: dt.date) -> tuple[int, int]:
    found = DailyRollup.objects.filter(day=day).aggregate(n=Sum("ratings"), s=Sum("rating_sum"))
    return found["n"] or 0, found["s"] or 0


def test_ratings_are_counted_on_the_day_given_for_the_responsible_agency(world):
    first, second = make_citizen("0912345678"), make_citizen("0987654321")
    a = returned_dossier(world, first)
    b = returned_dossier(world, second, applicant=world.applicant(personal_id="038190004321"))
    services.rate(a, actor=first, score=3, at=vn(6, 10))
    services.rate(b, actor=second, score=1, comment="Chờ lâu", at=vn(6, 15))
    deliver()
    assert ratings_on(dt.date(2026, 3, 6)) == (2, 4)
    row = DailyRollup.objects.get(day=dt.date(2026, 3, 6), ratings__gt=0)
    assert row.agency_id == world.centre.pk
    # Rebuilt from the events alone, the figures are the same.
    call_command("rebuild_rollups", verbosity=0)
    assert ratings_on(dt.date(2026, 3, 6)) == (2, 4)
