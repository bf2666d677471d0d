"""The form registry picks a layout by date; dates and money are written the Decree 30 way."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from motcua.printing import fmt
from motcua.printing.registry import Registry, UnknownForm


def _registry() -> Registry:
    reg = Registry()

    @reg.register(form="01", valid_from=date(2018, 8, 21), basis="Thông tư 01/2018/TT-VPCP")
    def old(ctx, spec):
        return "2018"

    @reg.register(form="01", valid_from=date(2025, 7, 1), basis="Thông tư 03/2025/TT-VPCP")
    def new(ctx, spec):
        return "2025"

    return reg


@pytest.mark.parametrize(
    ("on", "basis"),
    [
        (date(2018, 8, 21), "Thông tư 01/2018/TT-VPCP"),
        (date(2025, 6, 30), "Thông tư 01/2018/TT-VPCP"),
        (date(2025, 7, 1), "Thông tư 03/2025/TT-VPCP"),
        (datetime(2026, 1, 1, 8, 0), "Thông tư 03/2025/TT-VPCP"),
    ],
)
def test_the_latest_layout_in_force_on_the_day_is_chosen(on, basis):
    renderer = _registry().renderer_for("01", on)
    assert renderer.basis == basis
    assert renderer.build(None, renderer) == ("2018" if "2018" in basis else "2025")


def test_before_the_first_layout_and_unknown_numbers_raise_unknown_form():
    reg = _registry()
    for form, on in (("01", date(2018, 8, 20)), ("02", date(2025, 7, 14))):
        with pytest.raises(UnknownForm) as caught:
            reg.renderer_for(form, on)
        assert caught.value.code == "unknown_form"
        assert caught.value.as_dict()["details"]["form"] == form


def test_two_layouts_of_a_form_cannot_start_the_same_day():
    reg = _registry()
    with pytest.raises(ValueError):
        reg.register(form="01", valid_from=date(2025, 7, 1), basis="x")(lambda c, s: None)


def test_decree_30_dates_pad_days_below_10_and_january_february():
    assert fmt.long_date(date(2025, 7, 14)) == "ngày 14 tháng 7 năm 2025"
    assert fmt.long_date(date(2026, 2, 5)) == "ngày 05 tháng 02 năm 2026"
    assert fmt.long_date(date(2025, 12, 1)) == "ngày 01 tháng 12 năm 2025"
    assert fmt.place_and_date("Thanh Hóa", date(2025, 7, 14)) == (
        "Thanh Hóa, ngày 14 tháng 7 năm 2025"
    )
    assert fmt.long_date(None) == "ngày …… tháng …… năm ……"


def test_times_are_shown_in_vietnam_time():
    utc = datetime(2025, 7, 14, 17, 5, tzinfo=UTC)  # 00:05 on 15/7 in Việt Nam
    assert fmt.long_datetime(utc) == "00 giờ 05 phút, ngày 15 tháng 7 năm 2025"
    assert fmt.short_datetime(utc) == "15/07/2025 00:05"
    assert fmt.naive_local(utc) == datetime(2025, 7, 15, 0, 5)
    assert fmt.long_datetime(datetime(2025, 7, 14, 8, 30)) == (
        "08 giờ 30 phút, ngày 14 tháng 7 năm 2025"
    )


def test_money_is_integer_dong_with_dot_thousands():
    assert fmt.money(1_250_000) == "1.250.000 đồng"
    assert fmt.money(0) == "0 đồng"
