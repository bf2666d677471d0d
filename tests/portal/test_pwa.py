"""The installable web app (manifest, service worker, offline page) and the public lookup page
on a phone: without JavaScript, and offline once visited."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from tests.browser.fixtures import axe, browser, chromium_path  # noqa: F401  (fixtures)
from tests.dossiers.world import PHONE, build_world
from tests.portal.account.conftest import PHONE as PHONE_SIZE
from tests.portal.account.conftest import phone_page  # noqa: F401  (fixture)

LOOKUP = "/tra-cuu-ho-so/"


@pytest.fixture
def client_db(db):
    return Client()


def test_the_manifest_describes_an_installable_app(client_db):
    response = client_db.get("/tai-khoan/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["lang"] == "vi" and manifest["display"] == "standalone"
    assert manifest["start_url"] == "/" and manifest["scope"] == "/"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"any", "192x192", "512x512"} <= sizes
    assert any(icon.get("purpose") == "maskable" for icon in manifest["icons"])
    for icon in manifest["icons"]:
        served = client_db.get(icon["src"])
        assert served.status_code == 200, icon["src"]
        assert served["Content-Type"] == icon["type"]
    assert {s["url"] for s in manifest["shortcuts"]} == {LOOKUP, "/tai-khoan/"}


def test_the_service_worker_controls_the_whole_site_from_its_url(client_db):
    response = client_db.get("/tai-khoan/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response["Cache-Control"]
    body = response.content.decode()
    config = json.loads(re.search(r"const CONFIG = (\{.*\});", body).group(1))
    assert LOOKUP in config["precache"] and "/tai-khoan/ngoai-tuyen/" in config["precache"]
    assert config["public"] == [LOOKUP] and config["private"] == ["/ho-so-cua-toi/"]
    assert "/can-bo/" in config["skip"] and "/api/" in config["skip"]
    assert "__VERSION__" not in body
    for asset in config["precache"]:
        assert client_db.get(asset).status_code == 200, asset


def test_every_portal_page_links_the_manifest_and_registers_the_worker(client_db):
    html = client_db.get(LOOKUP).content.decode()
    assert '<link rel="manifest" href="/tai-khoan/manifest.webmanifest">' in html
    assert 'data-service-worker="/tai-khoan/sw.js"' in html
    assert '<meta name="theme-color"' in html


def test_the_offline_page_is_in_vietnamese(client_db):
    html = client_db.get("/tai-khoan/ngoai-tuyen/").content.decode()
    assert "Không có kết nối mạng" in html
    assert 'href="/tra-cuu-ho-so/"' in html


# --- in the browser, at phone size -------------------------------------------------------------


@pytest.fixture
def dossier(transactional_db):
    return build_world().received()


@pytest.fixture
def nojs_page(browser, live_server):  # noqa: F811
    context = browser.new_context(
        viewport=PHONE_SIZE, locale="vi-VN", base_url=live_server.url, java_script_enabled=False
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.mark.browser
def test_the_lookup_page_works_without_javascript(nojs_page, dossier):
    page = nojs_page
    page.goto(LOOKUP)
    page.get_by_label("Mã hồ sơ").fill(dossier.code)
    page.get_by_role("button", name="Tra cứu").click()
    page.wait_for_load_state()
    expect(page.get_by_role("heading", level=2)).to_have_text(f"Hồ sơ {dossier.code}")
    expect(page.locator(".status")).to_contain_text("Đã tiếp nhận")
    expect(page.get_by_role("heading", name="Quá trình xử lý")).to_have_count(0)
    # The second factor opens the timeline; a wrong one says so.
    page.get_by_label("4 số cuối").fill("0000")
    page.get_by_role("button", name="Tra cứu").click()
    expect(page.get_by_role("alert")).to_have_text("Thông tin xác thực không đúng.")
    page.get_by_label("4 số cuối").fill(PHONE[-4:])
    page.get_by_role("button", name="Tra cứu").click()
    expect(page.get_by_role("heading", name="Quá trình xử lý")).to_be_visible()
    expect(page.locator(".timeline li").first).to_contain_text("Nộp hồ sơ")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0


@pytest.mark.browser
def test_the_lookup_page_stays_available_offline(phone_page, dossier, axe):  # noqa: F811
    page = phone_page
    url = f"{LOOKUP}?code={dossier.code}"
    page.goto(url)
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller")
    page.reload()  # now through the service worker, which keeps a copy
    expect(page.locator(".status")).to_contain_text("Đã tiếp nhận")

    # A lookup with the second factor shows the timeline: never kept for the next user.
    with_factor = f"{url}&factor={dossier.applicant.phone[-4:]}"
    page.goto(with_factor)
    expect(page.get_by_role("heading", name="Quá trình xử lý")).to_be_visible()
    assert not any("factor=" in path for paths in _kept(page).values() for path in paths)

    page.context.set_offline(True)
    page.goto(url)
    expect(page.get_by_role("heading", level=2)).to_have_text(f"Hồ sơ {dossier.code}")
    expect(page.locator(".status")).to_contain_text("Đã tiếp nhận")
    page.goto(with_factor)
    expect(page.get_by_role("heading", level=1)).to_have_text("Không có kết nối mạng")
    page.goto(LOOKUP)  # the bare form, kept when the worker was installed
    expect(page.get_by_role("heading", level=1)).to_have_text("Tra cứu hồ sơ")
    page.goto("/thu-tuc/")  # never visited: the offline page
    expect(page.get_by_role("heading", level=1)).to_have_text("Không có kết nối mạng")
    axe(page)
    page.context.set_offline(False)
    page.goto("/thu-tuc/")
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Không có kết nối mạng")


# What the worker keeps: pages of the two shells only, never a download, never an asset marked
# no-store or private (tests/portal/sw_urls.py serves such answers).

KEPT = """async () => {
  const kept = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      const url = new URL(request.url);
      kept.push([name, url.pathname + url.search]);
    }
  }
  return kept;
}"""


def _kept(page) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for name, path in page.evaluate(KEPT):
        found.setdefault("private" if name == "motcua-private" else "other", set()).add(path)
    return found


def _private_copies_gone(page) -> bool:
    for _poll in range(50):
        if not page.evaluate("caches.has('motcua-private')"):
            return True
        page.wait_for_timeout(100)
    return False


@pytest.mark.browser
@pytest.mark.urls("tests.portal.sw_urls")
def test_the_worker_keeps_only_pages_of_the_two_shells(phone_page, transactional_db):  # noqa: F811
    page = phone_page
    page.goto(LOOKUP)
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller")

    page.goto("/ho-so-cua-toi/thu-trang/")  # an HTML page of "my dossiers" (no-store, private)
    page.goto("/ho-so-cua-toi/thu-du-lieu/")  # JSON, marked no-store and private
    page.goto("/ho-so-cua-toi/thu-trang/bo-sung/")  # a form below a dossier's page
    with page.expect_download():  # a download, even of HTML
        page.evaluate("location.assign('/ho-so-cua-toi/thu-tai-ve/')")
    page.goto("/thu-tuc/")  # a page outside the two shells
    kept = _kept(page)
    assert kept["private"] == {"/ho-so-cua-toi/thu-trang/"}
    for path in ("/ho-so-cua-toi/thu-du-lieu/", "/ho-so-cua-toi/thu-tai-ve/", "/thu-tuc/"):
        assert path not in kept["other"], path
    assert "/ho-so-cua-toi/thu-trang/bo-sung/" not in kept["other"]

    # Offline: the kept page is there; what was not kept gives the offline page.
    page.context.set_offline(True)
    page.goto("/ho-so-cua-toi/thu-trang/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Trang thử")
    for path in ("/ho-so-cua-toi/thu-du-lieu/", "/ho-so-cua-toi/thu-trang/bo-sung/"):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_have_text("Không có kết nối mạng")
    page.context.set_offline(False)

    # Assets: the worker's own rule, on real answers of the server.
    page.goto(LOOKUP)
    page.add_script_tag(url="/tai-khoan/sw.js")
    verdicts = page.evaluate(
        """async (kinds) => {
          const verdicts = {};
          for (const kind of kinds) {
            verdicts[kind] = keepable(await fetch(`/thu-tai-nguyen/${kind}/`), false);
          }
          return verdicts;
        }""",
        ["no-store", "private", "attachment", "public"],
    )
    assert verdicts == {"no-store": False, "private": False, "attachment": False, "public": True}


@pytest.mark.browser
@pytest.mark.urls("tests.portal.sw_urls")
def test_the_copy_of_my_dossiers_goes_when_someone_else_may_use_the_phone(
    phone_page,  # noqa: F811
    transactional_db,
):
    """The session ended ("my dossiers" sends to the sign-in page) or anybody signs in — in the
    portal or the back office: the last citizen's copies are deleted."""
    page = phone_page
    page.goto(LOOKUP)
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller")
    for where in ("/ho-so-cua-toi/", "/tai-khoan/dang-nhap/", "/can-bo/dang-nhap/"):
        page.goto("/ho-so-cua-toi/thu-trang/")
        assert page.evaluate("caches.has('motcua-private')") is True
        page.goto(where)
        assert _private_copies_gone(page), where
    page.context.set_offline(True)
    page.goto("/ho-so-cua-toi/thu-trang/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Không có kết nối mạng")
    page.context.set_offline(False)
