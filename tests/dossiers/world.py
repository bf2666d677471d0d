"""A small province for dossier tests: a service centre, a department (liên thông), a
procedure with a five-step template, and one officer per role.

Everything is created through the same write paths the application uses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model

from motcua.accounts.models import Membership, Role
from motcua.agencies.models import Agency
from motcua.catalog.models import Procedure, Variant
from motcua.core.worktime import VN_TZ
from motcua.dossiers import services
from motcua.dossiers.models import Dossier
from motcua.dossiers.services import ApplicantInput, ComponentInput, SubmissionInput
from tests.agencies.factories import CommuneFactory, ProvinceFactory, ProvincialAgencyFactory
from tests.catalog.factories import saved_procedure

User = get_user_model()

# Monday 2 March 2026, 09:00 in Việt Nam: a plain working week with no holiday.
MONDAY_9 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=VN_TZ)

PERSONAL_ID = "038090001234"  # Thanh Hóa (038), male born in the 1900s (0), 1990
PHONE = "0912345678"


def vn(day: int, hour: int, minute: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=VN_TZ)


@dataclass
class World:
    centre: Agency
    department: Agency
    procedure: Procedure
    variant: Variant
    counter: object
    specialist: object
    leader: object
    clerk: object
    dept_specialist: object
    dept_leader: object
    monitor: object
    outsider: object
    province_code: str
    commune_code: str

    def applicant(self, **overrides) -> ApplicantInput:
        values = dict(
            name="Nguyễn Thị Hằng",
            personal_id=PERSONAL_ID,
            phone=PHONE,
            email="hang@example.invalid",
            province_code=self.province_code,
            commune_code=self.commune_code,
            address_line="Số 5, thôn Đông",
        )
        values.update(overrides)
        return ApplicantInput(**values)

    def components(self, *, complete: bool = True) -> list[ComponentInput]:
        listed = list(self.variant.components.filter(required=True))
        if not complete:
            listed = listed[:1]
        return [ComponentInput(component_id=c.pk, originals=1) for c in listed]

    def submission(self, **overrides) -> SubmissionInput:
        values = dict(
            procedure_code=self.procedure.code,
            receiving_agency_id=self.centre.pk,
            applicant=self.applicant(),
            components=self.components(),
        )
        values.update(overrides)
        return SubmissionInput(**values)

    def submit(self, at: dt.datetime = MONDAY_9, **overrides) -> Dossier:
        dossier, _ = services.submit(self.submission(**overrides), actor=self.counter, at=at)
        return dossier

    def received(self, at: dt.datetime = MONDAY_9, **overrides) -> Dossier:
        dossier = self.submit(at=at, **overrides)
        return services.receive(dossier, actor=self.counter, at=at)


def _user(username: str, *memberships: tuple[Agency, str]):
    user = User.objects.create_user(username=username, password="x", first_name=username)
    for agency, role in memberships:
        Membership.objects.create(user=user, agency=agency, role=role)
    return user


def build_world() -> World:
    province = ProvinceFactory(code="38", name="Thanh Hóa")
    commune = CommuneFactory(code="16000", name="Hạc Thành", parent=province)
    centre = ProvincialAgencyFactory(
        electronic_id="000.00.01.H56", name="Trung tâm Phục vụ hành chính công tỉnh", unit=province
    )
    department = ProvincialAgencyFactory(
        electronic_id="000.00.10.H56", name="Sở Tư pháp tỉnh Thanh Hóa", unit=province
    )
    content_steps = [
        {"name": "Tiếp nhận hồ sơ", "role": "counter_officer", "share": "10"},
        {"name": "Thẩm định hồ sơ", "role": "specialist", "share": "40"},
        {
            "name": "Sở Tư pháp cho ý kiến",
            "role": "specialist",
            "agency": department.electronic_id,
            "share": "30",
        },
        {"name": "Lãnh đạo phê duyệt", "role": "leader", "share": "10"},
        {"name": "Văn thư vào sổ, đóng dấu", "role": "clerk", "share": "10"},
    ]
    result = saved_procedure(
        code="1.001193",
        name="Thủ tục đăng ký hoạt động thử nghiệm",
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
                    {
                        "channel": "counter",
                        "kind": "charge",
                        "amount": 50000,
                        "description": "Lệ phí",
                    },
                    {
                        "channel": "online",
                        "kind": "charge",
                        "amount": 25000,
                        "description": "Giảm 50%",
                    },
                ],
                "steps": content_steps,
            }
        ],
    )
    procedure = Procedure.objects.get(pk=result.procedure.pk)
    variant = procedure.current_version.variants.get()
    return World(
        centre=centre,
        department=department,
        procedure=procedure,
        variant=variant,
        counter=_user("motcua_counter", (centre, Role.COUNTER_OFFICER)),
        specialist=_user("chuyenvien", (centre, Role.SPECIALIST)),
        leader=_user("lanhdao", (centre, Role.LEADER)),
        clerk=_user("vanthu", (centre, Role.CLERK)),
        dept_specialist=_user("cv_sotuphap", (department, Role.SPECIALIST)),
        dept_leader=_user("ld_sotuphap", (department, Role.LEADER)),
        monitor=_user("giamsat", (centre, Role.MONITOR)),
        outsider=_user("nguoingoai"),
        province_code=province.code,
        commune_code=commune.code,
    )
