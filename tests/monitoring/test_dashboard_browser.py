"""The monitoring dashboard in a real browser: a monitor signs in, lands on it, reads the
charts (named SVG images with their data tables), opens the dossiers behind a figure — and
axe-core finds no serious or critical accessibility problem on either page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from motcua.dossiers import services
from motcua.dossiers.services import SYSTEM, ResultInput
from tests.browser.fixtures import (  # noqa: F401  (fixtures)
    axe,
    browser,
    chromium_path,
    page,
    screenshot,
)
from tests.dossiers.world import build_world, vn

from .conftest import deliver

pytestmark = pytest.mark.browser


def test_a_monitor_reads_the_dashboard_and_opens_the_late_dossiers(
    page,  # noqa: F811
    transactional_db,
    axe,  # noqa: F811
    screenshot,  # noqa: F811
):
    world = build_world()
    world.monitor.set_password("mat-khau-giam-sat-1")
    world.monitor.save()
    late = world.received(at=vn(2, 9))
    for _ in range(3):
        services.complete_step(late, actor=SYSTEM, note="Đã thẩm định hồ sơ đầy đủ.", at=vn(16, 9))
    result = ResultInput(number="3/GP", signed_on=vn(20, 9).date(), signer="Lê Văn Bình")
    services.record_result(late, actor=SYSTEM, result=result, at=vn(20, 9))
    world.received(at=vn(25, 9))
    deliver()

    page.goto("/can-bo/dang-nhap/")
    page.get_by_label("Tên đăng nhập").fill("giamsat")
    page.get_by_label("Mật khẩu").fill("mat-khau-giam-sat-1")
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/can-bo/giam-sat/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Giám sát, đánh giá")
    page.get_by_label("Tháng", exact=True).select_option("3")
    page.get_by_label("Năm", exact=True).fill("2026")
    page.get_by_role("button", name="Xem").click()
    page.wait_for_url(re.compile(r".*month=3.*"))
    expect(
        page.get_by_role("img", name="Tỷ lệ giải quyết trước hạn, đúng hạn theo cơ quan")
    ).to_be_visible()
    expect(page.get_by_role("img", name="Cơ cấu kênh nộp hồ sơ theo tháng")).to_be_visible()
    axe(page)
    screenshot(page, "monitoring-dashboard")

    page.locator('[data-figure="finished_late"]').click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hồ sơ giải quyết quá hạn")
    expect(page.get_by_test_id("total")).to_contain_text("1 hồ sơ")
    rows = page.get_by_test_id("dossiers").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(late.code)
    axe(page)
    screenshot(page, "monitoring-drilldown")
