import pytest
from django.urls import reverse

from motcua.agencies.models import (
    AdministrativeUnit,
    Agency,
    CalendarDay,
    Counter,
    Department,
)

from .factories import (
    AgencyFactory,
    CalendarDayFactory,
    CounterFactory,
    DepartmentFactory,
    WorkingSessionFactory,
)

pytestmark = pytest.mark.django_db

MODELS = [AdministrativeUnit, Agency, CalendarDay, Department, Counter]


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # admin_client creates a superuser; the default hasher costs ~0.3 s per test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def populated():
    agency = AgencyFactory()
    department = DepartmentFactory(agency=agency)
    CounterFactory(agency=agency, department=department)
    WorkingSessionFactory(agency=agency)
    CalendarDayFactory(agency=agency)
    return agency


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("page", ["changelist", "add"])
def test_admin_pages_open_for_a_superuser(admin_client, populated, model, page):
    url = reverse(f"admin:agencies_{model._meta.model_name}_{page}")
    assert admin_client.get(url).status_code == 200


def test_agency_change_page_shows_its_inlines(admin_client, populated):
    response = admin_client.get(reverse("admin:agencies_agency_change", args=[populated.pk]))
    assert response.status_code == 200
    for prefix in ("departments", "counters", "sessions", "calendar_days"):
        assert f'name="{prefix}-TOTAL_FORMS"' in response.content.decode()


def test_unit_search_ignores_diacritics(admin_client, populated):
    unit = populated.unit
    query = unit.search_text.split(" ", 1)[1]  # folded name without the code
    response = admin_client.get(
        reverse("admin:agencies_administrativeunit_changelist"), {"q": query}
    )
    assert unit.full_name in response.content.decode()
    assert query != unit.full_name.lower()


def test_calendar_changelist_filters_national_rows(admin_client, populated):
    url = reverse("admin:agencies_calendarday_changelist")
    national = admin_client.get(url, {"scope": "national"}).context["cl"].queryset
    assert national.count() == CalendarDay.objects.filter(agency__isnull=True).count()
    assert not national.filter(agency__isnull=False).exists()
