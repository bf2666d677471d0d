"""Test data for the catalogue: canonical procedure content and saved procedures.

Procedures are created through ``services.save_procedure`` (the one write path), so tests see
exactly the rows the importer and the demo loader produce.
"""

from __future__ import annotations

import copy
import itertools

import factory

from motcua.catalog.models import Field
from motcua.catalog.services import SaveResult, save_procedure

_codes = itertools.count(1)


class FieldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Field
        django_get_or_create = ("name",)

    code = factory.Sequence(lambda n: f"G{n:02d}-TP")
    name = factory.Sequence(lambda n: f"Lĩnh vực thử nghiệm {n}")


def next_code() -> str:
    return f"9.{next(_codes):06d}"


def procedure_content(**overrides) -> dict:
    """Canonical content of a same-day civil-status procedure; override any top-level key."""
    content = {
        "code": next_code(),
        "name": "Thủ tục đăng ký khai sinh",
        "field": {"code": "G15-TP01", "name": "Hộ tịch"},
        "procedure_type": "STANDARD",
        "levels": ["commune"],
        "decision_no": "163/QĐ-BTP",
        "issuing_agency": "Bộ Tư pháp",
        "competent_agencies": "Ủy ban nhân dân cấp xã",
        "executing_agencies": "Ủy ban nhân dân cấp xã",
        "coordinating_agencies": "",
        "subjects": ["Công dân Việt Nam"],
        "online_mode": "partial",
        "postal_allowed": True,
        "same_day_cutoff": True,
        "requirements": "",
        "description": "",
        "steps_text": "Bước 1: Nộp hồ sơ.",
        "legal_basis": [{"code": "60/2014/QH13", "name": "Luật Hộ tịch"}],
        "results": [{"code": "KQ.G15.000031", "name": "Giấy khai sinh"}],
        "variants": [
            {
                "code": "",
                "name": "Đăng ký khai sinh đúng hạn",
                "components": [
                    {
                        "code": "",
                        "name": "Tờ khai đăng ký khai sinh",
                        "originals": 1,
                        "copies": 0,
                        "required": True,
                        "form_name": "Tờ khai",
                        "form_url": "",
                    }
                ],
                "time_limits": [
                    {"channel": "counter", "amount": None, "unit": "same_day", "description": ""},
                    {"channel": "online", "amount": "3", "unit": "working_days", "description": ""},
                ],
                "fees": [
                    {"channel": "counter", "kind": "charge", "amount": 0, "description": ""},
                    {"channel": "online", "kind": "charge", "amount": None, "description": "HĐND"},
                ],
            }
        ],
    }
    content.update(copy.deepcopy(overrides))
    return content


def steps(*shares: str, agency: str | None = None, department: str | None = None) -> list[dict]:
    """A process template whose steps have the given shares (roles cycle through the four)."""
    roles = itertools.cycle(["counter_officer", "specialist", "leader", "clerk"])
    return [
        {
            "name": f"Bước {i}",
            "role": next(roles),
            "agency": agency,
            "department": department,
            "share": share,
        }
        for i, share in enumerate(shares, start=1)
    ]


def saved_procedure(source: str = "demo", **overrides) -> SaveResult:
    return save_procedure(procedure_content(**overrides), source=source)
