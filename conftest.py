"""Test set-up shared by the whole suite.

* ``--db-only`` keeps only the tests that touch the database (the PostgreSQL rerun).
* ``MOTCUA_REQUIRE_DB_VENDOR`` makes the run fail at once when the database it was asked to
  use is not the one configured or cannot be reached (CI must not silently test SQLite twice).
* ``shared_data`` gives the path of ../shared/data; tests that need it skip with one clear line
  when it is absent, except under CI=true where it must be present.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DB_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
}


def pytest_addoption(parser):
    parser.addoption(
        "--db-only", action="store_true", help="run only the tests that use the database"
    )


def pytest_collection_modifyitems(config, items):
    if not config.getoption("--db-only"):
        return
    keep, drop = [], []
    for item in items:
        uses_db = item.get_closest_marker("django_db") is not None or bool(
            DB_FIXTURES & set(getattr(item, "fixturenames", ()))
        )
        (keep if uses_db else drop).append(item)
    items[:] = keep
    config.hook.pytest_deselected(items=drop)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    required = os.environ.get("MOTCUA_REQUIRE_DB_VENDOR")
    if required:
        from django.db import connection

        with django_db_blocker.unblock():
            assert connection.vendor == required, (
                f"expected a {required} database, got {connection.vendor}"
            )
            connection.ensure_connection()
    yield


@pytest.fixture(scope="session")
def shared_data() -> Path:
    from django.conf import settings

    path = Path(settings.MOTCUA_SHARED_DATA)
    if not path.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"../shared/data is required in CI and was not found at {path}")
        pytest.skip(f"real data not found at {path}: set MOTCUA_SHARED_DATA to run this test")
    return path


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # Real hashers cost ~0.3 s per user; tests check behaviour, not hashing strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    # Calendars are cached per process and invalidated by signals; a rolled-back test
    # transaction sends none, so start every test from an empty cache.
    from motcua.agencies.calendar import clear_calendar_cache

    clear_calendar_cache()
    yield
    clear_calendar_cache()


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    """Per-process caches of reference rows and tokens start empty in every test, so a row
    rolled back with an earlier test's transaction is never served to a later one."""
    from motcua.accounts.auth import clear_token_cache
    from motcua.dossiers.services import clear_reference_cache

    clear_reference_cache()
    clear_token_cache()
    yield
    clear_reference_cache()
    clear_token_cache()


def login_past_second_factor(client, user):
    """Sign ``user`` in on the test ``client`` with a confirmed TOTP device recorded in the
    session, as django-otp's ``login`` does after a right code (the admin asks staff for it)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def verified_login():
    """``verified_login(client, user)``: signed in and past the second factor."""
    return login_past_second_factor


@pytest.fixture
def admin_client(db, admin_user, client):
    """pytest-django's admin client, past the admin's second factor (core.admin_site)."""
    return login_past_second_factor(client, admin_user)
