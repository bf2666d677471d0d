"""Fixtures of the citizens' account tests: the province of tests/dossiers/world.py, an SMS
gateway that records, a real SMTP server, and phone-sized browser pages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache

from tests.browser.fixtures import (  # noqa: F401  (fixtures and the screenshot-on-failure hook)
    _new_page,
    _screenshot_on_failure,
    axe,
    browser,
    chromium_path,
    pytest_runtest_makereport,
    screenshot,
)
from tests.dossiers.world import build_world
from tests.notifications.conftest import SmtpServer, free_port
from tests.portal.account import helpers

PHONE = {"width": 360, "height": 740}


@pytest.fixture(autouse=True)
def _fresh():
    helpers.SENT.clear()
    cache.clear()
    yield
    helpers.SENT.clear()
    cache.clear()


@pytest.fixture
def sms(settings):
    """SMS goes to a recording gateway; ``helpers.SENT`` holds what it was given."""
    settings.MOTCUA_NOTIFY_SMS_PROVIDER = helpers.RECORDING_SMS
    settings.MOTCUA_NOTIFY_SMS_OPTIONS = "{}"
    return helpers.SENT


@pytest.fixture
def smtp_server(settings) -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) with Django's SMTP backend pointed at it."""
    server = SmtpServer(free_port())
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "Dịch vụ công Thanh Hóa <no-reply@motcua.example>"
    server.start()
    yield server
    server.stop()


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def phone_page(browser, live_server, request) -> Iterator:  # noqa: F811
    """A fresh browser context at 360×740 (a small phone), URLs relative to the live server."""
    context, tab = _new_page(browser, live_server, PHONE)
    yield tab
    _screenshot_on_failure(request, tab)
    context.close()
