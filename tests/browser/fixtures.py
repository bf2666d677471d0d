"""Real-browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

Import the fixtures into a ``conftest.py`` to use them (``tests/backoffice/conftest.py`` does)::

    @pytest.mark.browser
    def test_sign_in(page, live_server, axe, screenshot):
        page.goto("/can-bo/dang-nhap/")          # relative to the live server
        axe(page)                                  # fails on serious/critical violations
        screenshot(page, "login")                  # var/test-artifacts/screenshots/login.png

* Chromium is ``/usr/bin/chromium`` (``MOTCUA_CHROMIUM`` overrides; Playwright cannot download
  its own browser here). ``make test`` installs it with apt-get when it can. Missing, the tests
  skip with one line, except under ``CI=true`` where they fail.
* Tests using ``page`` run on the live server, hence in ``transactional_db``: data created in
  the test is committed (the server thread sees it) and every table is emptied afterwards.
* Playwright's synchronous API keeps an asyncio loop running in this thread while a browser is
  open, which Django would take for async code and refuse database access from;
  ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set only while the module's browser is open.
* A failing test leaves a full-page screenshot in ``var/test-artifacts/screenshots/failures/``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
CHROMIUM = Path(os.environ.get("MOTCUA_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = ROOT / "var" / "test-artifacts" / "screenshots"
DESK = {"width": 1366, "height": 768}
TABLET = {"width": 768, "height": 1024}
BLOCKING_IMPACTS = ("serious", "critical")


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    reason = (
        f"browser tests need Chromium at {CHROMIUM}: `make test` installs it "
        "(apt-get install -y chromium) when run as root; MOTCUA_CHROMIUM points elsewhere"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required under CI=true)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser(chromium_path: Path) -> Iterator:
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=str(chromium_path), args=["--no-sandbox"]
        )
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _new_page(browser, live_server, viewport: dict):
    context = browser.new_context(viewport=viewport, locale="vi-VN", base_url=live_server.url)
    context.set_default_timeout(10_000)
    return context, context.new_page()


@pytest.fixture
def page(browser, live_server, request) -> Iterator:
    """A fresh browser context (no cookies) at 1366×768, URLs relative to the live server."""
    context, tab = _new_page(browser, live_server, DESK)
    yield tab
    _screenshot_on_failure(request, tab)
    context.close()


@pytest.fixture
def tablet_page(browser, live_server, request) -> Iterator:
    """The same at 768×1024 (a tablet held upright)."""
    context, tab = _new_page(browser, live_server, TABLET)
    yield tab
    _screenshot_on_failure(request, tab)
    context.close()


def _screenshot_on_failure(request, tab) -> None:
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)[-150:]
        folder = SCREENSHOTS / "failures"
        folder.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(folder / f"{name}.png"), full_page=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # Import this hook into the same conftest as the fixtures: it lets ``page`` see whether
    # the test failed, to keep a screenshot.
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report


@pytest.fixture
def screenshot() -> Callable:
    """``screenshot(page, "name")`` saves var/test-artifacts/screenshots/name.png (full page)."""

    def take(tab, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        tab.screenshot(path=str(path), full_page=True)
        return path

    return take


def format_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']} "
            f"<{violation['helpUrl']}>"
        )
        for node in violation["nodes"][:5]:
            target = ", ".join(str(t) for t in node["target"])
            lines.append(f"    at {target}: {node['html'][:200]}")
    return "\n".join(lines)


@pytest.fixture
def axe() -> Callable:
    """``axe(page)`` runs axe-core (bundled by axe-playwright-python) on the page as it is now
    and fails on any serious or critical violation, listing them; returns all violations."""
    from axe_playwright_python.sync_playwright import Axe

    checker = Axe()

    def check(tab, *, context=None, impacts=BLOCKING_IMPACTS) -> list[dict]:
        violations = checker.run(tab, context=context).response["violations"]
        blocking = [v for v in violations if v.get("impact") in impacts]
        assert not blocking, (
            f"axe-core found {len(blocking)} serious/critical violation(s) on {tab.url}:\n"
            + format_violations(blocking)
        )
        return violations

    return check
