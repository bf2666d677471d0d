"""Test data of online submission: a service centre receiving a full-online procedure, its
officers, two citizens, and helpers that speak tus with the Django test client."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from django.contrib.auth import get_user_model

from motcua.accounts.models import Membership, Role
from motcua.agencies.models import Agency
from motcua.catalog.models import Component, Procedure, Variant
from motcua.submissions import services
from motcua.submissions.models import Draft
from tests.agencies.factories import CommuneFactory, ProvinceFactory, ProvincialAgencyFactory
from tests.catalog.factories import saved_procedure

User = get_user_model()
PASSWORD = "mat-khau-cong-dan-1"
PERSONAL_ID = "038090001234"  # Thanh Hóa, male, born 1990
OTHER_PERSONAL_ID = "038190004321"  # Thanh Hóa, female, born 1990
TUS = {"Tus-Resumable": "1.0.0"}
OFFSET_STREAM = "application/offset+octet-stream"


def pdf(size: int = 4096, seed: bytes = b"motcua") -> bytes:
    """A file PDF readers (and ``filetype``) take for a PDF, of exactly ``size`` bytes."""
    head = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n"
    tail = b"\ntrailer<<>>\n%%EOF\n"
    filler = hashlib.sha256(seed).digest() * (size // 32 + 1)
    return head + filler[: max(0, size - len(head) - len(tail))] + tail


def png(size: int = 2048) -> bytes:
    body = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 17
    return body + b"\x00" * max(0, size - len(body))


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def metadata(draft: Draft, slot: str, name: str, content: bytes, **extra) -> str:
    values = {
        "filename": name,
        "draft": str(draft.uuid),
        "slot": slot,
        "sha256": sha256(content),
        **extra,
    }
    return ",".join(f"{key} {b64(value)}" for key, value in values.items())


def checksum(chunk: bytes, algorithm: str = "sha256") -> str:
    digest = hashlib.new(algorithm, chunk).digest()
    return f"{algorithm} {base64.b64encode(digest).decode()}"


@dataclass
class Portal:
    centre: Agency
    procedure: Procedure
    variant: Variant
    counter: object
    specialist: object
    leader: object
    clerk: object
    citizen: object
    other: object
    province_code: str
    commune_code: str

    def components(self) -> list[Component]:
        return list(self.variant.components.order_by("order", "id"))

    def slots(self) -> list[str]:
        return [f"c{c.pk}" for c in self.components()]

    def draft(self, user=None, **data) -> Draft:
        return services.start_draft(
            user or self.citizen,
            procedure=self.procedure,
            variant=self.variant,
            agency=self.centre,
            data=data,
        )

    def applicant_post(self, **overrides) -> dict:
        values = {
            "applicant-kind": "individual",
            "applicant-personal_id": PERSONAL_ID,
            "applicant-tax_code": "",
            "applicant-name": "Nguyễn Thị Hằng",
            "applicant-phone": "0912 345 678",
            "applicant-email": "hang@example.invalid",
            "applicant-province": self.province_code,
            "applicant-commune": self.commune_code,
            "applicant-address_line": "Số 5, thôn Đông",
            "delivery": "online",
            "delivery_address": "",
            "summary": "",
        }
        values.update(overrides)
        return values


def tus_create(client, draft: Draft, slot: str, name: str, content: bytes, **headers):
    values = {
        **TUS,
        "Upload-Length": str(len(content)),
        "Upload-Metadata": metadata(draft, slot, name, content),
        **headers,
    }
    return client.post("/tai-len/", headers=values)


def tus_patch(client, location: str, offset: int, chunk: bytes, *, algorithm="sha256", **headers):
    values = {**TUS, "Upload-Offset": str(offset), **headers}
    if algorithm:
        values["Upload-Checksum"] = checksum(chunk, algorithm)
    return client.patch(location, data=chunk, content_type=OFFSET_STREAM, headers=values)


def upload_file(client, draft: Draft, slot: str, name: str, content: bytes, chunk: int = 1024):
    """Create and send a whole file in chunks; returns the upload's URL."""
    created = tus_create(client, draft, slot, name, content)
    assert created.status_code == 201, created.content
    location = created["Location"]
    for start in range(0, len(content), chunk):
        part = content[start : start + chunk]
        answer = tus_patch(client, location, start, part)
        assert answer.status_code == 204, answer.content
    return location


def _user(username: str, **names):
    return User.objects.create_user(
        username=username, password=PASSWORD, email=f"{username}@example.invalid", **names
    )


def _officer(username: str, agency: Agency, role: str):
    user = _user(username, first_name=username)
    Membership.objects.create(user=user, agency=agency, role=role)
    return user


def build_portal() -> Portal:
    province = ProvinceFactory(code="38", name="Thanh Hóa")
    commune = CommuneFactory(code="16000", name="Hạc Thành", parent=province)
    centre = ProvincialAgencyFactory(
        electronic_id="000.00.01.H56",
        name="Trung tâm Phục vụ hành chính công tỉnh",
        unit=province,
    )
    result = saved_procedure(
        code="1.001193",
        name="Thủ tục đăng ký hoạt động thử nghiệm",
        online_mode="full",
        postal_allowed=True,
        agencies=[centre.electronic_id],
        variants=[
            {
                "code": "",
                "name": "Trường hợp chung",
                "components": [
                    {"name": "Tờ khai theo mẫu", "originals": 1, "copies": 0, "required": True},
                    {
                        "name": "Bản sao giấy tờ chứng minh",
                        "originals": 0,
                        "copies": 1,
                        "required": True,
                    },
                    {"name": "Văn bản ủy quyền", "originals": 1, "copies": 0, "required": False},
                ],
                "time_limits": [
                    {"channel": "counter", "amount": "5", "unit": "working_days"},
                    {"channel": "online", "amount": "5", "unit": "working_days"},
                ],
                "fees": [
                    {"channel": "online", "kind": "charge", "amount": 25000, "description": ""}
                ],
                "steps": [
                    {"name": "Tiếp nhận hồ sơ", "role": "counter_officer", "share": "10"},
                    {"name": "Thẩm định hồ sơ", "role": "specialist", "share": "70"},
                    {"name": "Lãnh đạo phê duyệt", "role": "leader", "share": "20"},
                ],
            }
        ],
    )
    procedure = Procedure.objects.get(pk=result.procedure.pk)
    variant = procedure.current_version.variants.get()
    return Portal(
        centre=centre,
        procedure=procedure,
        variant=variant,
        counter=_officer("tiepnhan", centre, Role.COUNTER_OFFICER),
        specialist=_officer("chuyenvien", centre, Role.SPECIALIST),
        leader=_officer("lanhdao", centre, Role.LEADER),
        clerk=_officer("vanthu", centre, Role.CLERK),
        citizen=_user("congdan", first_name="Hằng", last_name="Nguyễn Thị"),
        other=_user("nguoikhac", first_name="An", last_name="Vũ Văn"),
        province_code=province.code,
        commune_code=commune.code,
    )
