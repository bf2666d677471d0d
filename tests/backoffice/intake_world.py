"""Test data of the counter intake: one desk, its procedure, and a complete intake post."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from motcua.accounts.models import Role
from motcua.agencies.models import Agency
from motcua.catalog.models import Procedure, Variant
from motcua.core.worktime import VN_TZ
from tests.agencies.factories import CommuneFactory, ProvinceFactory, ProvincialAgencyFactory
from tests.catalog.factories import saved_procedure

from .conftest import make_officer

PERSONAL_ID = "038090001234"  # Thanh Hóa, male, born 1990
TAX_CODE = "0100109106"
# Monday 2 March 2026, 09:00 in Việt Nam: a plain working week.
MONDAY_9 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=VN_TZ)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass
class Desk:
    agency: Agency
    counter: object
    specialist: object
    procedure: Procedure
    variant: Variant
    other_variant: Variant

    def components(self, *, required: bool | None = None):
        rows = self.variant.components.order_by("order")
        return list(rows if required is None else rows.filter(required=required))


def _variant(name: str, components: list[tuple[str, bool]], *, days: str, fee: int) -> dict:
    return {
        "code": "",
        "name": name,
        "components": [
            {"name": label, "originals": 1, "copies": 0, "required": required}
            for label, required in components
        ],
        "time_limits": [{"channel": "counter", "amount": days, "unit": "working_days"}],
        "fees": [{"channel": "counter", "kind": "charge", "amount": fee, "description": "Lệ phí"}],
    }


def build_desk() -> Desk:
    """A service centre receiving a two-variant birth registration, with a counter officer and a
    specialist; another agency's procedure with the same words is never offered here."""
    province = ProvinceFactory(code="38", name="Thanh Hóa")
    CommuneFactory(code="16000", name="Hạc Thành", parent=province)
    agency = ProvincialAgencyFactory(
        electronic_id="000.00.01.H56", name="Trung tâm Phục vụ hành chính công tỉnh", unit=province
    )
    elsewhere = ProvincialAgencyFactory(
        electronic_id="000.00.10.H56", name="Sở Tư pháp", unit=province
    )
    result = saved_procedure(
        code="1.001193",
        name="Thủ tục đăng ký khai sinh",
        agencies=[agency.electronic_id],
        variants=[
            _variant(
                "Đăng ký khai sinh đúng hạn",
                [
                    ("Tờ khai đăng ký khai sinh", True),
                    ("Giấy chứng sinh", True),
                    ("Văn bản ủy quyền", False),
                ],
                days="3",
                fee=50000,
            ),
            _variant(
                "Đăng ký khai sinh quá hạn",
                [("Tờ khai đăng ký khai sinh", True), ("Giấy tờ chứng minh nơi cư trú", True)],
                days="5",
                fee=0,
            ),
        ],
    )
    # Same words, but another agency's: never offered at this desk.
    saved_procedure(
        code="1.000894",
        name="Thủ tục đăng ký khai sinh có yếu tố nước ngoài",
        agencies=[elsewhere.electronic_id],
    )
    procedure = Procedure.objects.get(pk=result.procedure.pk)
    variants = list(procedure.current_version.variants.order_by("order"))
    return Desk(
        agency=agency,
        counter=make_officer(
            "tiepnhan", agency, Role.COUNTER_OFFICER, first_name="Lê Thị", last_name="Hương"
        ),
        specialist=make_officer("chuyenvien", agency, Role.SPECIALIST),
        procedure=procedure,
        variant=variants[0],
        other_variant=variants[1],
    )


def form_data(desk: Desk, outcome: str = "receive", *, received=None, token=None, **overrides):
    """A complete intake post: every required paper handed in unless ``received`` says."""
    data = {
        "token": str(token or uuid.uuid4()),
        "procedure": desk.procedure.code,
        "variant": str(desk.variant.pk),
        "applicant-kind": "individual",
        "applicant-personal_id": PERSONAL_ID,
        "applicant-tax_code": "",
        "applicant-name": "Nguyễn Thị Hằng",
        "applicant-phone": "0912 345 678",
        "applicant-email": "hang@example.invalid",
        "applicant-province": "38",
        "applicant-commune": "16000",
        "applicant-address_line": "Số 5, thôn Đông",
        "delivery": "counter",
        "sets": "1",
        "x-TOTAL_FORMS": "1",
        "x-INITIAL_FORMS": "0",
        "x-MIN_NUM_FORMS": "0",
        "x-MAX_NUM_FORMS": "30",
        "x-0-name": "",
        "x-0-reason": "",
        "x-0-originals": "1",
        "x-0-copies": "0",
        "outcome": outcome,
    }
    for component in desk.components():
        prefix = f"c{component.pk}"
        data[f"{prefix}-originals"] = "1"
        data[f"{prefix}-copies"] = "0"
        wanted = component.required if received is None else component.pk in received
        if wanted:
            data[f"{prefix}-received"] = "on"
    data.update(overrides)
    return data
