from collections.abc import Iterator

import pytest

from tests.browser.fixtures import (  # noqa: F401  (fixtures and the screenshot-on-failure hook)
    _new_page,
    _screenshot_on_failure,
    axe,
    browser,
    chromium_path,
    pytest_runtest_makereport,
    screenshot,
)

from .world import build_portal

PHONE = {"width": 360, "height": 740}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MOTCUA_PARTIAL_UPLOAD_ROOT = None
    return settings.MEDIA_ROOT


@pytest.fixture
def portal(db):
    return build_portal()


@pytest.fixture
def phone(browser, live_server, request) -> Iterator:  # noqa: F811
    """A fresh browser context at 360×740 (a small phone), URLs relative to the live server."""
    context, tab = _new_page(browser, live_server, PHONE)
    context.set_default_timeout(20_000)
    yield tab
    _screenshot_on_failure(request, tab)
    context.close()
