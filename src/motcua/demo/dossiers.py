"""About 200 demo dossiers over the last four months, driven through the dossier services.

Every dossier is created and moved only by ``motcua.dossiers.services`` (the one write path),
dated with ``at=`` and acted on by the demo officers where they hold the role (the system
otherwise), so the data is what the pages and reports would show for real work:

* every status 1–10 in realistic proportions (most returned, some processing, a few refused,
  withdrawn, stopped, waiting for a supplement or a payment);
* the commune with demo officers (UBND xã Hoằng Thanh) and three other wards, the provincial
  service centre with its inter-agency procedures (steps at Sở Tư pháp, Công an tỉnh, …);
* supplements at intake and during processing, payments, steps sent back, extensions with
  apology approved in time, late dossiers with and without apology.

The stories are planned in *working time* on the receiving agency's calendar (the one the
services use): a dossier's clock runs from receipt, stops during a pause and is extended by an
approved extension, so "on time", "late" and "extension approved before the appointment" are
decided by the plan and then reproduced by the services. Times are relative to ``now`` at load
(the data always looks current), within working hours, increasing per dossier and never after
``now``. The choices (procedures, people, stories) come from ``random.Random(SEED)``.

Idempotent: if any dossier has an idempotency key starting with ``demo:`` nothing is done.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import Counter as Tally
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from motcua.accounts.models import Membership, Role
from motcua.agencies.calendar import calendar_for
from motcua.agencies.models import AdministrativeUnit, Agency, Counter
from motcua.catalog.models import Channel, OnlineMode, Procedure
from motcua.core.codes import validate_personal_id, validate_tax_code
from motcua.core.worktime import VN_TZ, WorkCalendar
from motcua.demo.loader import DEMO_OFFICERS, demo_accounts_allowed
from motcua.dossiers import deadlines, services
from motcua.dossiers.models import Delivery, Dossier, OutboxMessage, Result, Step
from motcua.dossiers.services import (
    SYSTEM,
    ApplicantInput,
    ComponentInput,
    ResultInput,
    SubmissionInput,
)

SEED = 38_2025
KEY_PREFIX = "demo:"
WINDOW = dt.timedelta(days=120)  # the dossiers spread over the last ~4 months
PROVINCE_CODE = "38"

HOUR = 3600
DAY = 8 * HOUR  # one working day of working time
MINUTE = 60

# --- how many dossiers of each story ---------------------------------------------------------

# (story, count). Closed stories spread over the whole window, open ones are recent.
STORIES: tuple[tuple[str, int], ...] = (
    ("returned", 128),
    ("result_ready", 14),
    ("processing", 19),
    ("processing_overdue", 3),
    ("received", 6),
    ("submitted", 6),
    ("refused", 5),
    ("supplement_intake", 3),
    ("supplement_processing", 2),
    ("payment", 4),
    ("withdrawn_before_receipt", 2),
    ("withdrawn", 3),
    ("stopped", 5),
)
COMPLETED = ("returned", "result_ready")
NOT_RECEIVED = ("submitted", "refused", "supplement_intake", "withdrawn_before_receipt")
# Closed stories spread over the whole window; the others end at ``now``.
CLOSED = ("returned", "refused", "withdrawn_before_receipt", "withdrawn", "stopped")

# Features of the 142 completed stories (each flag on that many of them).
COMPLETED_TIMING = (
    ("late", 9),  # finished after the appointment, no extension: late without apology
    ("extension", 8),  # extension approved before the appointment, finished within it
    ("extension_late", 2),  # extension approved in time, finished after the new appointment
    ("extension_after_due", 2),  # apology approved only after the appointment had passed
)
COMPLETED_FLAGS = (
    ("processing_supplement", 12),
    ("intake_supplement", 8),
    ("payment", 10),
    ("send_back", 6),
)

# --- the procedures --------------------------------------------------------------------------

# Relative frequency of the commune procedures (the commune's everyday work).
COMMUNE_WEIGHTS = {
    "1.001193": 20,  # khai sinh
    "1.000894": 8,  # kết hôn
    "1.000656": 6,  # khai tử
    "1.001022": 2,
    "1.004873": 12,  # xác nhận tình trạng hôn nhân
    "1.004859": 4,
    "2.000635": 10,  # trích lục hộ tịch
    "1.004837": 1,
    "2.000806": 1,
    "2.000528": 1,
    "2.000815": 15,  # chứng thực bản sao
    "2.000884": 8,
    "2.001035": 4,
    "2.001019": 1,
    "1.004222": 8,  # thường trú
    "1.004194": 8,  # tạm trú
    "1.002755": 3,
    "1.001612": 5,  # hộ kinh doanh
    "2.000720": 3,
    "1.001731": 2,
    "1.013225": 4,  # giấy phép xây dựng
}
# Provincial procedures, received at the service centre and handled by a department.
PROVINCE_WEIGHTS = {
    "3.000333": 22,  # lý lịch tư pháp (Công an tỉnh)
    "1.115490": 6,  # đất đai (Sở Nông nghiệp và Môi trường)
    "1.115493": 5,
    "1.115523": 10,
    "1.115508": 6,
    "2.001610": 9,  # doanh nghiệp tư nhân (Sở Tài chính)
    "2.000117": 5,  # an toàn thực phẩm (Sở Công Thương)
    "1.013236": 4,  # giấy phép xây dựng (Sở Xây dựng)
    "1.013835": 16,  # văn phòng công chứng (Sở Tư pháp: demo officers)
}
LAND = ("1.115490", "1.115493", "1.115523", "1.115508")
ORGANISATION_PROCEDURES = ("2.000117", "1.013236")
# Which commune agency receives (the first one has the demo officers).
COMMUNE_AGENCY_WEIGHTS = {
    "000.04.40.H56": 55,
    "000.01.40.H56": 20,
    "000.02.40.H56": 15,
    "000.03.40.H56": 10,
}
CENTRE_ID = "000.00.01.H56"

# --- people ----------------------------------------------------------------------------------

FAMILY = {
    "Nguyễn": 30, "Lê": 22, "Trần": 8, "Phạm": 7, "Hoàng": 5, "Trịnh": 5, "Đỗ": 4, "Bùi": 3,
    "Vũ": 3, "Mai": 3, "Phan": 2, "Hà": 2, "Đặng": 2, "Ngô": 2, "Đinh": 2, "Lương": 1,
    "Tống": 1, "Cao": 1, "Hồ": 1, "Lại": 1, "Dương": 1, "Vương": 1,
}  # fmt: skip
MIDDLE_MALE = {
    "Văn": 30, "Đình": 8, "Đức": 8, "Minh": 8, "Xuân": 6, "Hữu": 6, "Quang": 6, "Ngọc": 4,
    "Thanh": 4, "Công": 4, "Tiến": 3, "Trọng": 3, "Duy": 3, "Bá": 2, "Hoàng": 3, "Mạnh": 2,
}  # fmt: skip
MIDDLE_FEMALE = {
    "Thị": 45, "Thu": 6, "Ngọc": 5, "Thanh": 5, "Minh": 4, "Hồng": 4, "Kim": 3, "Phương": 3,
    "Hoài": 2, "Bích": 2, "Khánh": 2, "Diệu": 2, "Mai": 2,
}  # fmt: skip
GIVEN_MALE = (
    "Anh", "Bình", "Cường", "Dũng", "Dương", "Đạt", "Đức", "Giang", "Hải", "Hiếu", "Hoàng",
    "Hùng", "Huy", "Khánh", "Lâm", "Long", "Mạnh", "Minh", "Nam", "Nghĩa", "Phong", "Phúc",
    "Quân", "Quang", "Sơn", "Tài", "Thắng", "Thành", "Toàn", "Trung", "Tuấn", "Tùng", "Việt",
    "Vinh", "Hưng", "Khoa", "Lộc", "Thịnh",
)  # fmt: skip
GIVEN_FEMALE = (
    "Anh", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hiền", "Hoa", "Hồng", "Huệ", "Hương",
    "Lan", "Liên", "Linh", "Loan", "Mai", "Ngọc", "Nhung", "Oanh", "Phương", "Quỳnh", "Thảo",
    "Thủy", "Trang", "Tuyết", "Uyên", "Vân", "Yến", "Nga", "Thơm", "Lụa",
)  # fmt: skip
# Mobile network prefixes in use since the 2018 renumbering (§6.3).
PHONE_PREFIXES = (
    "032", "033", "034", "035", "036", "037", "038", "039", "086", "096", "097", "098",
    "081", "082", "083", "084", "085", "088", "091", "094", "070", "076", "077", "078",
    "079", "089", "090", "093", "056", "058", "092",
)  # fmt: skip
STREETS = (
    "Lê Lợi", "Trần Phú", "Quang Trung", "Bà Triệu", "Lê Hoàn", "Phan Chu Trinh", "Nguyễn Trãi",
    "Hàm Nghi", "Tống Duy Tân", "Lý Thường Kiệt", "Trường Thi", "Hải Thượng Lãn Ông",
    "Nguyễn Du", "Hồ Xuân Hương", "Trần Hưng Đạo", "Lê Lai", "Đào Duy Từ", "Nguyễn Chí Thanh",
)  # fmt: skip
VILLAGES = (
    "Thôn 1", "Thôn 2", "Thôn 3", "Thôn 4", "Thôn 5", "Thôn 6", "Thôn Đông", "Thôn Tây",
    "Thôn Trung", "Thôn Nam", "Thôn Bắc", "Thôn Phú Thượng", "Thôn Phú Hạ", "Thôn Yên Lạc",
)  # fmt: skip
COMPANY_WORDS = (
    "Lam Sơn", "Hàm Rồng", "Sông Mã", "Hạc Thành", "Xứ Thanh", "Nghi Sơn", "Bỉm Sơn", "Sầm Sơn",
    "Hoằng Hóa", "Đông Sơn", "Trường Xuân", "Minh Phát", "Thành Đạt", "An Khang",
)  # fmt: skip
COMPANY_KINDS = {
    "2.000117": ("Công ty TNHH Thực phẩm", "Công ty Cổ phần Chế biến thực phẩm", "Công ty TNHH"),
    "1.013236": ("Công ty Cổ phần Đầu tư Xây dựng", "Công ty TNHH Xây dựng"),
}

# --- texts -----------------------------------------------------------------------------------

SUPPLEMENT_ITEMS = {
    "land": (
        "Bản vẽ sơ đồ thửa đất có xác nhận của Văn phòng Đăng ký đất đai",
        "Bản sao có chứng thực Giấy chứng nhận quyền sử dụng đất",
        "Văn bản thỏa thuận của các đồng sở hữu về việc chuyển nhượng",
    ),
    "civil": (
        "Tờ khai ghi đầy đủ các mục theo mẫu, có chữ ký của người yêu cầu",
        "Giấy tờ chứng minh nơi cư trú",
        "Văn bản ủy quyền có chứng thực",
    ),
    "other": (
        "Bản sao có chứng thực giấy tờ chứng minh đủ điều kiện",
        "Bản thuyết minh bổ sung theo ý kiến thẩm định",
        "Giấy tờ chứng minh quyền sử dụng trụ sở",
    ),
}
REFUSE_REASONS = (
    "Yêu cầu không thuộc thẩm quyền giải quyết của cơ quan; đề nghị nộp tại cơ quan có thẩm quyền.",
    "Người nộp không phải là người có quyền yêu cầu theo quy định.",
    "Giấy tờ nộp kèm là bản chụp không rõ nét, không đủ điều kiện tiếp nhận.",
    "Hồ sơ trùng với hồ sơ đang được giải quyết.",
)
EXTENSION_REASONS = (
    "Cần xác minh thêm thông tin với cơ quan liên quan.",
    "Chờ kết quả kiểm tra thực địa.",
    "Hồ sơ phức tạp, cần lấy ý kiến phối hợp của cơ quan chuyên môn.",
    "Hệ thống cơ sở dữ liệu chuyên ngành gián đoạn, chưa tra cứu được.",
)
STOP_REASONS = (
    "Công dân có đơn đề nghị dừng giải quyết hồ sơ.",
    "Tổ chức đề nghị dừng giải quyết để hoàn thiện lại phương án.",
)
WITHDRAW_REASONS = (
    "Công dân đề nghị rút hồ sơ.",
    "Người nộp rút hồ sơ để nộp lại theo trường hợp khác.",
    "Nộp nhầm thủ tục, đề nghị rút hồ sơ.",
)
PAYMENT_REASONS = (
    ("Lệ phí trước bạ nhà, đất", "Nghị định 10/2022/NĐ-CP"),
    ("Thuế thu nhập cá nhân từ chuyển nhượng bất động sản", "Luật Thuế thu nhập cá nhân"),
    ("Tiền sử dụng đất", "Nghị định 103/2024/NĐ-CP"),
)
RESULT_SIGNS = {
    "000.00.15.H56": "PLLTP",
    "000.00.12.H56": "GCN",
    "000.00.14.H56": "ĐKKD",
    "000.00.13.H56": "GCN-SCT",
    "000.00.11.H56": "GPXD",
    "000.00.10.H56": "ĐKHĐ-STP",
}


# --- report ----------------------------------------------------------------------------------


@dataclass
class DossierReport:
    """What one run did: dossiers created, failures (one line each), time taken."""

    created: int = 0
    already_loaded: bool = False
    refused: bool = False
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    by_status: dict[int, int] = field(default_factory=dict)


# --- the catalogue as the stories need it ----------------------------------------------------


@dataclass
class VariantInfo:
    pk: int
    required: list  # required Component rows
    optional: list
    limits: dict  # channel → TimeLimit
    steps: list[tuple[int | None, str]]  # processing steps of the template: (agency pk, role)


@dataclass
class ProcedureInfo:
    code: str
    name: str
    agency_pks: set[int]
    channels: list[str]
    variants: list[VariantInfo]
    results: list[str]


def _catalogue(codes: list[str]) -> dict[str, ProcedureInfo]:
    rows = (
        Procedure.objects.filter(code__in=codes, is_active=True)
        .select_related("current_version")
        .prefetch_related(
            "applied_by",
            "current_version__variants__components",
            "current_version__variants__time_limits",
            "current_version__variants__steps",
        )
    )
    found: dict[str, ProcedureInfo] = {}
    for procedure in rows:
        version = procedure.current_version
        if version is None:
            continue
        channels = [Channel.COUNTER]
        if version.online_mode != OnlineMode.NONE:
            channels.append(Channel.ONLINE)
        if version.postal_allowed:
            channels.append(Channel.POSTAL)
        variants = []
        for variant in version.variants.all():
            components = list(variant.components.all())
            template = sorted(variant.steps.all(), key=lambda s: s.order)
            if template and template[0].role == Role.COUNTER_OFFICER:
                template = template[1:]  # the intake step (services do the same)
            if len(template) > 1 and template[-1].role == Role.COUNTER_OFFICER:
                template = template[:-1]  # the return step at the desk (services do the same)
            variants.append(
                VariantInfo(
                    pk=variant.pk,
                    required=[c for c in components if c.required],
                    optional=[c for c in components if not c.required],
                    limits={limit.channel: limit for limit in variant.time_limits.all()},
                    steps=[(s.agency_id, s.role) for s in template],
                )
            )
        found[procedure.code] = ProcedureInfo(
            code=procedure.code,
            name=version.name,
            agency_pks={row.agency_id for row in procedure.applied_by.all() if row.is_active},
            channels=channels,
            variants=variants,
            results=[r.get("name", "") for r in version.results or [] if r.get("name")],
        )
    return found


# --- actors ----------------------------------------------------------------------------------


class Officers:
    """The demo officer holding ``role`` at an agency (a whole-agency membership), if any."""

    def __init__(self) -> None:
        self._by: dict[tuple[int, str], object] = {}
        rows = Membership.objects.filter(
            is_active=True,
            department__isnull=True,
            user__is_active=True,
            user__username__in=[officer.username for officer in DEMO_OFFICERS],
        ).select_related("user")
        for row in rows.order_by("id"):
            self._by.setdefault((row.agency_id, row.role), row.user)

    def user(self, agency_id: int, role: str):
        return self._by.get((agency_id, role))

    def actor(self, agency_id: int, *roles: str):
        """The first demo officer holding one of ``roles`` there, else the system."""
        for role in roles:
            user = self._by.get((agency_id, role))
            if user is not None:
                return user
        return SYSTEM


# --- working-time clock ----------------------------------------------------------------------


class Clock:
    """Working-time positions on one calendar, anchored ``WINDOW`` × 2 before ``now``."""

    def __init__(self, calendar: WorkCalendar, now: dt.datetime) -> None:
        self.calendar = calendar
        self.base = calendar.next_working_moment(now - 2 * WINDOW)
        self.now_pos = self.seconds(self.base, now)
        self.window = self.seconds(now - WINDOW, now)

    def seconds(self, a: dt.datetime, b: dt.datetime) -> int:
        return int(self.calendar.working_time_between(a, b).total_seconds())

    def at(self, pos: int) -> dt.datetime:
        """The instant at working-time position ``pos`` (seconds after ``base``)."""
        moment = self.calendar.add_working_time(self.base, dt.timedelta(seconds=max(pos, 0)))
        return moment.replace(microsecond=0)


# --- a story ---------------------------------------------------------------------------------


@dataclass
class Story:
    n: int
    kind: str
    timing: str = "on_time"
    intake_supplement: bool = False
    processing_supplement: bool = False
    payment: bool = False
    send_back: bool = False
    late_pickup: bool = False
    extension: int = 0  # working seconds added by the extension (set by the plan)
    # Filled when the story is cast.
    procedure: ProcedureInfo | None = None
    variant: VariantInfo | None = None
    agency: Agency | None = None
    deciding: Agency | None = None
    channel: str = Channel.COUNTER
    delivery: str = Delivery.COUNTER
    applicant: ApplicantInput | None = None
    counter_id: int | None = None
    seed: int = 0
    # Filled by the plan: (instant, operation) in order.
    ops: list[tuple[dt.datetime, str]] = field(default_factory=list)


class _Draws:
    """Uniform draws replayed identically each time a plan is recomputed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.reset()

    def reset(self) -> None:
        self._rng = random.Random(self.seed)

    def u(self, a: float, b: float) -> float:
        return a + (b - a) * self._rng.random()

    def k(self, a: int, b: int) -> int:
        return self._rng.randint(a, b)


END_OF = {"supplement": "provide_supplement", "payment": "confirm_payment"}


def _timeline(
    story: Story, span: int, draws: _Draws, can_assign: bool
) -> tuple[list[tuple[int, str]], int | None]:
    """Plan a story in working seconds: ``(ops, now_offset)``.

    ``ops`` are ``(offset, name)`` from the submission; ``span`` is the working time from
    receipt to the appointment; ``now_offset`` is where ``now`` falls for a story that is
    still open (``None`` for a closed one). Processing times are first chosen on the
    dossier's *clock*, which starts at receipt and stops during a pause; they are turned into
    plain offsets by adding the pauses before them.
    """
    draws.reset()
    u, k = draws.u, draws.k
    kind = story.kind
    ops: list[tuple[int, str]] = [(0, "submit")]

    # Before receipt.
    if kind in NOT_RECEIVED:
        if kind == "submitted":
            return ops, int(u(10 * MINUTE, 8 * HOUR))
        if kind == "supplement_intake":
            request = int(u(30 * MINUTE, 6 * HOUR))
            ops.append((request, "request_intake_supplement"))
            return ops, request + int(u(1 * HOUR, 2 * DAY))
        if kind == "refused":
            quick = story.channel == Channel.COUNTER
            at = int(u(5 * MINUTE, 20 * MINUTE) if quick else u(30 * MINUTE, 8 * HOUR))
            ops.append((at, "refuse"))
            return ops, None
        ops.append((int(u(1 * HOUR, 10 * HOUR)), "withdraw"))  # before receipt
        return ops, None

    if story.intake_supplement:
        request = int(u(30 * MINUTE, 6 * HOUR))
        provided = request + int(u(4 * HOUR, 3 * DAY))
        ops += [(request, "request_intake_supplement"), (provided, "provide_intake_supplement")]
        receipt = provided + int(u(5 * MINUTE, 60 * MINUTE))
    elif story.channel == Channel.COUNTER:
        receipt = int(u(3 * MINUTE, 20 * MINUTE))
    elif story.channel == Channel.POSTAL:
        receipt = int(u(10 * MINUTE, 3 * HOUR))
    else:
        receipt = int(u(20 * MINUTE, 10 * HOUR))
    ops.append((receipt, "receive"))

    # After receipt, on the dossier's clock: (clock, name, pause length or None for open).
    steps = len(story.variant.steps)
    clock: list[tuple[int, str, int | None]] = []

    def step_ops(count: int, start: float, end: float, with_send_back: bool = False):
        names = (["assign"] if can_assign else []) + ["complete_step"] * count
        if with_send_back and count >= 2:
            # The leader of the second step sends it back; the first step is done again.
            at = names.index("complete_step") + 1
            names[at:at] = ["send_back", "complete_step"]
        times = sorted(int(u(start, end)) for _ in names)
        return [(t, name, 0) for t, name in zip(times, names, strict=True)]

    def pause(name: str, at: int, length: int | None) -> None:
        clock.append((at, name, length))

    now_clock: int | None = None
    open_after: int | None = None  # offset of an open pause's start: now is after it
    if kind in COMPLETED:
        ext = story.extension = DAY * k(2, 5)
        timing = story.timing
        if timing == "late":
            finish = span + DAY * k(1, 3) + int(u(1 * HOUR, 7 * HOUR))
        elif timing == "extension":
            finish = span + int(u(0.1, 0.8) * ext)
        elif timing == "extension_late":
            finish = span + ext + DAY * k(1, 2) + int(u(1 * HOUR, 7 * HOUR))
        elif timing == "extension_after_due":
            finish = span + ext  # replaced below
        else:
            finish = int(u(0.3, 0.95) * span)
        if timing in ("extension", "extension_late"):
            propose = int(u(0.5, 0.75) * span)
            clock += [
                (propose, "propose_extension", 0),
                (propose + int(u(0.03, 0.12) * span), "decide_extension", 0),
            ]
        elif timing == "extension_after_due":
            propose = span + int(u(0.5 * HOUR, 6 * HOUR))
            decide = propose + int(u(10 * MINUTE, 2 * HOUR))
            finish = decide + int(u(0.1, 0.7) * (span + ext - decide))
            clock += [(propose, "propose_extension", 0), (decide, "decide_extension", 0)]
        clock += step_ops(steps - 1, 0.01 * finish, 0.97 * finish, story.send_back)
        early = min(finish, span)
        if story.processing_supplement:
            pause("request_supplement", int(u(0.05, 0.45) * early), int(u(4 * HOUR, 4 * DAY)))
        if story.payment:
            pause("request_payment", int(u(0.5, 0.9) * early), int(u(2 * HOUR, 3 * DAY)))
        clock.append((finish, "record_result", 0))
    elif kind in ("processing", "processing_overdue"):
        if kind == "processing":
            now_clock = int(u(0.3, 0.92) * span)
            done = k(0 if can_assign else 1, max(1, steps - 2))
        else:
            now_clock = span + DAY * k(1, 3) + int(u(1 * HOUR, 6 * HOUR))
            done = k(min(1, steps - 2), max(0, steps - 2))
        clock += step_ops(done, 0.02 * now_clock, 0.9 * now_clock)
        if story.processing_supplement:
            pause("request_supplement", int(u(0.05, 0.4) * now_clock), int(u(2 * HOUR, 2 * DAY)))
        if story.payment:
            pause("request_payment", int(u(0.45, 0.85) * now_clock), int(u(2 * HOUR, 2 * DAY)))
    elif kind == "received":
        now_clock = int(u(10 * MINUTE, max(20 * MINUTE, min(0.3 * span, 6 * HOUR))))
    elif kind == "supplement_processing":
        clock += step_ops(0, 0.02 * span, 0.1 * span)
        pause("request_supplement", int(u(0.15, 0.6) * span), None)
    elif kind == "payment":
        clock += step_ops(1, 0.05 * span, 0.4 * span)
        pause("request_payment", int(u(0.45, 0.8) * span), None)
    else:  # stopped, withdrawn
        clock += step_ops(k(0, 1), 0.02 * span, 0.3 * span)
        clock.append((int(u(0.35, 0.8) * span), "stop" if kind == "stopped" else "withdraw", 0))

    # Clock → offsets from the submission: add the pauses that started before.
    clock.sort(key=lambda item: item[0])
    shift = 0
    for at, name, length in clock:
        offset = receipt + at + shift
        ops.append((offset, name))
        if name in ("request_supplement", "request_payment"):
            kind_of = name.removeprefix("request_")
            if length is None:
                open_after = offset
            else:
                ops.append((offset + length, END_OF[kind_of]))
                shift += length
    last = max(offset for offset, _ in ops)
    if kind == "returned":
        if story.channel == Channel.ONLINE and story.delivery == Delivery.ONLINE:
            delay = u(5 * MINUTE, 1 * HOUR)
        else:
            delay = u(20 * MINUTE, 2 * DAY)
        ops.append((last + int(delay), "return_result"))
        return ops, None
    if kind == "result_ready":
        wait = u(2 * DAY, 4 * DAY) if story.late_pickup else u(30 * MINUTE, 16 * HOUR)
        return ops, last + int(wait)
    if now_clock is not None:
        return ops, max(last + MINUTE, receipt + now_clock + shift)
    if open_after is not None:
        return ops, open_after + int(u(2 * HOUR, 2 * DAY))
    return ops, None


def _increasing(ops: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Order by offset and keep at least a minute between two operations."""
    out: list[tuple[int, str]] = []
    for offset, name in sorted(ops, key=lambda item: item[0]):
        if out and offset < out[-1][0] + MINUTE:
            offset = out[-1][0] + MINUTE
        out.append((offset, name))
    return out


def _plan(story: Story, clock: Clock, officers: Officers) -> None:
    """Date the story's operations so that it ends as planned, and never after ``now``.

    The appointment depends on the receipt instant (same-day and calendar-day limits), which
    depends on where the story is placed: the placement is recomputed until the two agree
    (the draws are replayed identically).
    """
    variant = story.variant
    draws = _Draws(story.seed)
    limit = variant.limits.get(story.channel) or variant.limits.get(Channel.COUNTER)
    first_agency, first_role = variant.steps[0] if variant.steps else (None, Role.SPECIALIST)
    first_agency = first_agency or (story.deciding or story.agency).pk
    can_assign = (
        officers.user(first_agency, Role.LEADER) is not None
        and officers.user(first_agency, first_role) is not None
    )

    def span_from(receipt: dt.datetime) -> int:
        due = None
        if limit is not None:
            due = deadlines.appointment(clock.calendar, receipt, limit.amount, limit.unit)
        return clock.seconds(receipt, due) if due is not None else 5 * DAY

    place = random.Random(story.seed + 1).random()

    def placed(ops: list[tuple[int, str]], now_offset: int | None) -> int:
        last = ops[-1][0]
        if story.kind in CLOSED:
            # Anywhere in the window that leaves room for the whole story before now.
            start = clock.now_pos - clock.window + int(place * max(0, clock.window - last))
            return min(start, clock.now_pos - last - MINUTE)
        return clock.now_pos - max(now_offset or 0, last + MINUTE)

    def receipt_of(ops: list[tuple[int, str]]) -> int | None:
        return next((offset for offset, name in ops if name == "receive"), None)

    span = span_from(clock.at(clock.now_pos - DAY))
    for _ in range(8):
        ops, now_offset = _timeline(story, span, draws, can_assign)
        ops = _increasing(ops)
        start = placed(ops, now_offset)
        receipt = receipt_of(ops)
        if receipt is None:
            break
        actual = span_from(clock.at(start + receipt))
        if actual == span:
            break
        span = actual
    else:
        # No fixed point (a same-day limit flips at 15:00): time the story on the span where
        # it stands, moving it back whole working days (same time of day) until it ends
        # before now.
        for _ in range(20):
            span = span_from(clock.at(start + receipt))
            ops = _increasing(_timeline(story, span, draws, can_assign)[0])
            if start + ops[-1][0] <= clock.now_pos - MINUTE:
                break
            start -= DAY
        start = min(start, clock.now_pos - MINUTE - ops[-1][0])
    story.ops = [(clock.at(start + offset), name) for offset, name in ops]


# --- casting ---------------------------------------------------------------------------------


def _weighted(rng: random.Random, weights: dict):
    keys = list(weights)
    return rng.choices(keys, weights=[weights[key] for key in keys])[0]


class People:
    """Applicants: Vietnamese names, valid personal ids (Thanh Hóa, 038), phones, addresses."""

    def __init__(self, rng: random.Random, communes: list[AdministrativeUnit], year: int):
        self.rng = rng
        self.communes = communes
        self.year = year
        self.ids: set[str] = set()
        self.tax_codes: set[str] = set()

    def name(self, female: bool) -> str:
        rng = self.rng
        middle = _weighted(rng, MIDDLE_FEMALE if female else MIDDLE_MALE)
        given = rng.choice(GIVEN_FEMALE if female else GIVEN_MALE)
        return f"{_weighted(rng, FAMILY)} {middle} {given}"

    def personal_id(self, female: bool, birth_year: int) -> str:
        century = (birth_year // 100 - 19) * 2 + (1 if female else 0)
        while True:
            value = f"038{century}{birth_year % 100:02d}{self.rng.randrange(10**6):06d}"
            if value not in self.ids:
                self.ids.add(value)
                return validate_personal_id(value)

    def tax_code(self) -> str:
        weights = (31, 29, 23, 19, 17, 13, 7, 5, 3)
        while True:
            head = "28" + f"{self.rng.randrange(10**7):07d}"
            r = sum(int(d) * w for d, w in zip(head, weights, strict=True)) % 11
            if r == 0:
                continue
            value = head + str(10 - r)
            if value not in self.tax_codes:
                self.tax_codes.add(value)
                return validate_tax_code(value)

    def phone(self) -> str:
        return self.rng.choice(PHONE_PREFIXES) + f"{self.rng.randrange(10**7):07d}"

    def address(self, commune: AdministrativeUnit) -> str:
        rng = self.rng
        if commune.unit_type == "Xã":
            return rng.choice(VILLAGES)
        if rng.random() < 0.3:
            return f"Số {rng.randint(1, 60)}, ngõ {rng.randint(2, 120)}, {rng.choice(STREETS)}"
        return f"Số {rng.randint(1, 350)}, đường {rng.choice(STREETS)}"

    def person(self, home: AdministrativeUnit | None) -> ApplicantInput:
        rng = self.rng
        female = rng.random() < 0.52
        birth_year = rng.randint(1952, min(2005, self.year - 18))
        commune = home if home is not None and rng.random() < 0.85 else rng.choice(self.communes)
        name = self.name(female)
        return ApplicantInput(
            kind="individual",
            name=name,
            personal_id=self.personal_id(female, birth_year),
            phone=self.phone(),
            email=(
                f"{_ascii(name).split()[-1].lower()}{rng.randint(10, 99)}@example.invalid"
                if rng.random() < 0.35
                else ""
            ),
            province_code=PROVINCE_CODE,
            commune_code=commune.code,
            address_line=self.address(commune),
        )

    def organisation(self, procedure_code: str) -> ApplicantInput:
        rng = self.rng
        commune = rng.choice(self.communes)
        kinds = COMPANY_KINDS.get(procedure_code, ("Công ty TNHH",))
        return ApplicantInput(
            kind="organisation",
            name=f"{rng.choice(kinds)} {rng.choice(COMPANY_WORDS)}",
            tax_code=self.tax_code(),
            phone=self.phone(),
            email=f"lienhe{rng.randint(100, 999)}@example.invalid",
            province_code=PROVINCE_CODE,
            commune_code=commune.code,
            address_line=self.address(commune),
        )


_ASCII = str.maketrans(
    "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"
    "ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴĐ",
    "aaaaaaaaaaaaaaaaaeeeeeeeeeeeiiiiiooooooooooooooooouuuuuuuuuuuyyyyyd"
    "AAAAAAAAAAAAAAAAAEEEEEEEEEEEIIIIIOOOOOOOOOOOOOOOOOUUUUUUUUUUUYYYYYD",
)


def _ascii(text: str) -> str:
    return text.translate(_ASCII)


def _stories(rng: random.Random) -> list[Story]:
    """The stories with their features, in a shuffled but reproducible order."""
    kinds = [kind for kind, count in STORIES for _ in range(count)]
    rng.shuffle(kinds)
    stories = [Story(n=0, kind=kind) for kind in kinds]
    completed = [s for s in stories if s.kind in COMPLETED]
    timings = [name for name, count in COMPLETED_TIMING for _ in range(count)]
    for story, timing in zip(rng.sample(completed, len(timings)), timings, strict=True):
        story.timing = timing
    for flag, count in COMPLETED_FLAGS:
        for story in rng.sample(completed, count):
            setattr(story, flag, True)
    ready = [s for s in stories if s.kind == "result_ready"]
    for story in rng.sample(ready, 3):
        story.late_pickup = True
    processing = [s for s in stories if s.kind == "processing"]
    for story in processing[:3]:
        story.processing_supplement = True
    for story in processing[3:5]:
        story.payment = True
    return stories


def _cast(
    story: Story,
    rng: random.Random,
    catalogue: dict[str, ProcedureInfo],
    agencies: dict[str, Agency],
    counters: dict[int, list[Counter]],
    people: People,
    officers: Officers,
) -> None:
    """Choose the agency, procedure, variant, channel, applicant of a story."""
    centre = agencies[CENTRE_ID]
    needs_officers = story.timing != "on_time" or story.send_back or story.processing_supplement
    # An extension, a wait or an open dossier needs a time limit longer than the day (an open
    # same-day dossier would be overdue whenever now is after 17:00).
    needs_time = story.timing != "on_time" or story.kind in (
        "processing",
        "received",
        "supplement_processing",
        "payment",
    )
    if story.payment or story.kind == "payment":
        code = rng.choice([c for c in LAND if c in catalogue])
        agency = centre
    else:
        provincial = rng.random() < 0.42
        if needs_officers and rng.random() < 0.8:
            provincial = rng.random() < 0.3
            weights = {"1.013835": 1} if provincial else COMMUNE_WEIGHTS
            agency = centre if provincial else agencies["000.04.40.H56"]
        elif provincial:
            weights, agency = PROVINCE_WEIGHTS, centre
        else:
            weights = COMMUNE_WEIGHTS
            agency = agencies[_weighted(rng, COMMUNE_AGENCY_WEIGHTS)]
        weights = {c: w for c, w in weights.items() if c in catalogue}
        if needs_time:
            weights = {
                c: w
                for c, w in weights.items()
                if any(
                    limit.unit != "same_day"
                    for v in catalogue[c].variants
                    for limit in v.limits.values()
                )
            } or weights
        code = _weighted(rng, weights)
    procedure = catalogue[code]
    if agency.pk not in procedure.agency_pks:
        agency = centre if centre.pk in procedure.agency_pks else agency
    variant = rng.choice(procedure.variants)

    channels = list(procedure.channels)
    if story.kind in ("submitted", "supplement_intake") or story.intake_supplement:
        channels = [c for c in channels if c != Channel.COUNTER] or channels
    weights = {Channel.COUNTER: 55, Channel.ONLINE: 35, Channel.POSTAL: 10}
    channel = rng.choices(channels, weights=[weights[c] for c in channels])[0]
    if channel == Channel.POSTAL:
        delivery = Delivery.POSTAL
    elif channel == Channel.ONLINE:
        delivery = rng.choice([Delivery.ONLINE, Delivery.COUNTER, Delivery.COUNTER])
    else:
        postal = Channel.POSTAL in channels and rng.random() < 0.15
        delivery = Delivery.POSTAL if postal else Delivery.COUNTER

    deciding = None
    if variant.steps and variant.steps[0][0] not in (None, agency.pk):
        deciding = next(
            (a for a in agencies.values() if a.pk == variant.steps[0][0]), None
        )  # the department that decides (liên thông)

    counter_id = None
    if channel == Channel.COUNTER and counters.get(agency.pk):
        rows = counters[agency.pk]
        if deciding is not None:
            short = deciding.short_name or deciding.name
            rows = (
                [c for c in rows if c.name == short]
                or [c for c in rows if c.name == "Tiếp nhận chung"]
                or rows
            )
        counter_id = rng.choice(rows).pk

    if code in ORGANISATION_PROCEDURES:
        applicant = people.organisation(code)
    else:
        applicant = people.person(agency.unit if agency.level == Agency.Level.COMMUNE else None)

    story.procedure = procedure
    story.variant = variant
    story.agency = agency
    story.deciding = deciding
    story.channel = channel
    story.delivery = delivery
    story.applicant = applicant
    story.counter_id = counter_id
    story.seed = rng.randrange(2**31)


# --- playing a story through the services ----------------------------------------------------


class Player:
    """Run a planned story through ``motcua.dossiers.services``."""

    def __init__(self, officers: Officers, calendars: dict[int, WorkCalendar]):
        self.officers = officers
        self.calendars = calendars
        self.signers: dict[int, str] = {}

    def counter(self, story: Story):
        return self.officers.actor(story.agency.pk, Role.COUNTER_OFFICER)

    def active_step(self, dossier: Dossier) -> Step | None:
        return (
            Step.objects.filter(dossier=dossier, state=Step.State.ACTIVE)
            .exclude(kind=Step.Kind.INTAKE)
            .order_by("order", "id")
            .first()
        )

    def step_actor(self, step: Step):
        if step.assignee_id is not None:
            return step.assignee
        return self.officers.actor(step.agency_id, step.role, Role.LEADER)

    def play(self, story: Story, rng: random.Random) -> Dossier:
        dossier = None
        missing: list = []
        items: list[str] = []
        for at, name in story.ops:
            if name == "submit":
                dossier, missing = self.submit(story, rng, at)
            else:
                items = getattr(self, name)(story, dossier, at, rng, missing, items) or items
        return dossier

    # Intake.

    def submit(self, story: Story, rng: random.Random, at: dt.datetime):
        variant = story.variant
        handed = list(variant.required)
        missing = []
        if story.intake_supplement or story.kind == "supplement_intake":
            missing = [handed.pop(rng.randrange(len(handed)))]
        handed += [c for c in variant.optional if rng.random() < 0.2]
        components = [
            ComponentInput(component_id=c.pk, originals=c.originals, copies=c.copies)
            for c in sorted(handed, key=lambda c: c.order)
        ]
        applicant = story.applicant
        address = ""
        if story.delivery == Delivery.POSTAL:
            commune = AdministrativeUnit.objects.filter(code=applicant.commune_code).first()
            parts = [applicant.address_line, commune.full_name if commune else "", "Thanh Hóa"]
            address = ", ".join(p for p in parts if p)
        data = SubmissionInput(
            procedure_code=story.procedure.code,
            receiving_agency_id=story.agency.pk,
            applicant=applicant,
            channel=story.channel,
            variant_id=variant.pk,
            components=components,
            delivery=story.delivery,
            delivery_address=address,
            counter_id=story.counter_id,
            deciding_agency_id=story.deciding.pk if story.deciding else None,
        )
        actor = self.counter(story) if story.channel != Channel.ONLINE else SYSTEM
        dossier, created = services.submit(
            data, actor=actor, idempotency_key=f"{KEY_PREFIX}{story.n}", at=at
        )
        if not created:
            raise RuntimeError(f"{KEY_PREFIX}{story.n} already exists")
        return dossier, missing

    def request_intake_supplement(self, story, dossier, at, rng, missing, items):
        names = [c.name for c in missing] or ["Tờ khai ghi đầy đủ thông tin theo mẫu"]
        services.request_supplement(
            dossier,
            actor=self.counter(story),
            items=names,
            reason="Hồ sơ nộp trực tuyến chưa đủ thành phần theo quy định.",
            at=at,
        )

    def provide_intake_supplement(self, story, dossier, at, rng, missing, items):
        services.provide_supplement(
            dossier,
            actor=self.counter(story),
            components=[
                ComponentInput(component_id=c.pk, originals=c.originals, copies=c.copies)
                for c in missing
            ],
            note="Người nộp đã bổ sung đầy đủ giấy tờ.",
            at=at,
        )

    def receive(self, story, dossier, at, rng, missing, items):
        services.receive(dossier, actor=self.counter(story), at=at)

    def refuse(self, story, dossier, at, rng, missing, items):
        services.refuse(
            dossier, actor=self.counter(story), reason=rng.choice(REFUSE_REASONS), at=at
        )

    def withdraw(self, story, dossier, at, rng, missing, items):
        services.withdraw(
            dossier, actor=self.counter(story), reason=rng.choice(WITHDRAW_REASONS), at=at
        )

    def stop(self, story, dossier, at, rng, missing, items):
        # The leader of the receiving agency signs the stop notice (Mẫu 05).
        actor = self.officers.actor(story.agency.pk, Role.LEADER, Role.COUNTER_OFFICER)
        services.stop(dossier, actor=actor, reason=rng.choice(STOP_REASONS), at=at)

    # Processing.

    def assign(self, story, dossier, at, rng, missing, items):
        step = self.active_step(dossier)
        assignee = self.officers.user(step.agency_id, step.role)
        leader = self.officers.actor(step.agency_id, Role.LEADER)
        services.assign(
            dossier, actor=leader, assignee=assignee, note="Đề nghị xử lý đúng hạn.", at=at
        )

    def complete_step(self, story, dossier, at, rng, missing, items):
        step = self.active_step(dossier)
        notes = {
            Role.SPECIALIST: "Hồ sơ đủ điều kiện, đề xuất giải quyết.",
            Role.LEADER: "Đồng ý.",
            Role.CLERK: "Đã vào sổ, đóng dấu.",
        }
        services.complete_step(
            dossier,
            actor=self.step_actor(step),
            note=notes.get(step.role, "Đã xử lý."),
            at=at,
        )

    def send_back(self, story, dossier, at, rng, missing, items):
        step = self.active_step(dossier)
        previous = (
            Step.objects.filter(
                dossier=dossier,
                kind=Step.Kind.PROCESSING,
                state=Step.State.DONE,
                order__lt=step.order,
            )
            .order_by("-order", "-id")
            .first()
        )
        services.send_back(
            dossier,
            actor=self.step_actor(step),
            to_step_id=previous.pk,
            reason="Đề nghị rà soát lại nội dung thẩm định.",
            at=at,
        )

    def request_supplement(self, story, dossier, at, rng, missing, items):
        step = self.active_step(dossier)
        actor = SYSTEM
        if step is not None:
            actor = self.officers.actor(step.agency_id, Role.SPECIALIST, Role.LEADER)
        if actor is SYSTEM:
            actor = self.counter(story)
        group = "land" if story.procedure.code in LAND else "other"
        if story.agency.level == Agency.Level.COMMUNE:
            group = "civil"
        chosen = [rng.choice(SUPPLEMENT_ITEMS[group])]
        services.request_supplement(
            dossier,
            actor=actor,
            items=chosen,
            reason="Qua thẩm định, hồ sơ cần bổ sung, hoàn thiện.",
            legal_basis="Khoản 2 Điều 16 Nghị định 118/2025/NĐ-CP",
            at=at,
        )
        return chosen

    def provide_supplement(self, story, dossier, at, rng, missing, items):
        services.provide_supplement(
            dossier,
            actor=self.counter(story),
            components=[
                ComponentInput(
                    name=item,
                    copies=1,
                    outside_reason="Nộp bổ sung theo Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ.",
                )
                for item in items
            ],
            note="Đã nhận đủ giấy tờ bổ sung.",
            at=at,
        )

    def request_payment(self, story, dossier, at, rng, missing, items):
        reason, basis = rng.choice(PAYMENT_REASONS)
        services.request_payment(
            dossier,
            actor=self.counter(story),
            amount=rng.randint(5, 400) * 10_000,
            reason=reason,
            legal_basis=basis,
            at=at,
        )

    def confirm_payment(self, story, dossier, at, rng, missing, items):
        services.confirm_payment(
            dossier,
            actor=self.counter(story),
            receipt=f"Biên lai số {rng.randint(1000, 99999):07d}",
            at=at,
        )

    def propose_extension(self, story, dossier, at, rng, missing, items):
        step = self.active_step(dossier)
        actor = self.officers.actor(step.agency_id, Role.SPECIALIST, Role.LEADER)
        calendar = self.calendars[story.agency.pk]
        due = Dossier.objects.values_list("due_at", flat=True).get(pk=dossier.pk)
        new_due = calendar.add_working_time(due, dt.timedelta(seconds=story.extension))
        services.propose_extension(
            dossier, actor=actor, reason=rng.choice(EXTENSION_REASONS), new_due_at=new_due, at=at
        )

    def decide_extension(self, story, dossier, at, rng, missing, items):
        step = self.active_step(dossier)
        leader = self.officers.actor(step.agency_id, Role.LEADER)
        services.decide_extension(
            dossier, actor=leader, approve=True, note="Đồng ý gia hạn, gửi văn bản xin lỗi.", at=at
        )

    def record_result(self, story, dossier, at, rng, missing, items):
        step = self.active_step(dossier)
        deciding = story.deciding or story.agency
        sign = RESULT_SIGNS.get(deciding.electronic_id, "UBND")
        denied = rng.random() < 0.03
        result = ResultInput(
            number=f"{rng.randint(12, 2400)}/{sign}",
            signed_on=at.astimezone(VN_TZ).date(),
            signer=self.signer(deciding, rng),
            kind=Result.Kind.DENIED if denied else Result.Kind.GRANTED,
            summary=(story.procedure.results or [story.procedure.name])[0],
        )
        services.record_result(dossier, actor=self.step_actor(step), result=result, at=at)

    def return_result(self, story, dossier, at, rng, missing, items):
        applicant = story.applicant
        method = story.delivery
        services.return_result(
            dossier,
            actor=self.counter(story),
            method=method,
            recipient_name=applicant.name if method == Delivery.COUNTER else "",
            recipient_id=applicant.personal_id if method == Delivery.COUNTER else "",
            waybill=f"EL{rng.randrange(10**9):09d}VN" if method == Delivery.POSTAL else "",
            at=at,
        )

    def signer(self, agency: Agency, rng: random.Random) -> str:
        leader = self.officers.user(agency.pk, Role.LEADER)
        if leader is not None:
            return leader.get_full_name()
        if agency.pk not in self.signers:
            family = _weighted(rng, FAMILY)
            middle = _weighted(rng, MIDDLE_MALE)
            self.signers[agency.pk] = f"{family} {middle} {rng.choice(GIVEN_MALE)}"
        return self.signers[agency.pk]


# --- entry point -----------------------------------------------------------------------------


def demo_dossiers_exist() -> bool:
    return Dossier.objects.filter(idempotency_key__startswith=KEY_PREFIX).exists()


def load_demo_dossiers(*, now: dt.datetime | None = None, seed: int = SEED) -> DossierReport:
    """Create the demo dossiers unless they are there; return what was done."""
    report = DossierReport()
    if not demo_accounts_allowed():
        report.refused = True
        return report
    if demo_dossiers_exist():
        report.already_loaded = True
        return report
    started = time.perf_counter()
    now = (now or timezone.now()).replace(microsecond=0)
    rng = random.Random(seed)

    agencies = {a.electronic_id: a for a in Agency.objects.select_related("unit")}
    counters: dict[int, list[Counter]] = {}
    for row in Counter.objects.filter(is_active=True).order_by("agency_id", "number"):
        counters.setdefault(row.agency_id, []).append(row)
    codes = sorted(set(COMMUNE_WEIGHTS) | set(PROVINCE_WEIGHTS))
    catalogue = _catalogue(codes)
    if CENTRE_ID not in agencies or not catalogue:
        report.failures.append("Chưa có cơ quan hoặc thủ tục mẫu: không tạo hồ sơ mẫu.")
        return report
    communes = list(
        AdministrativeUnit.objects.filter(
            level=AdministrativeUnit.Level.COMMUNE, parent__code=PROVINCE_CODE
        ).order_by("code")
    )
    officers = Officers()
    people = People(rng, communes, now.astimezone(VN_TZ).year)

    stories = _stories(rng)
    clocks: dict[int, Clock] = {}
    for story in stories:
        _cast(story, rng, catalogue, agencies, counters, people, officers)
        agency = story.agency
        if agency.pk not in clocks:
            clocks[agency.pk] = Clock(calendar_for(agency), now)
        _plan(story, clocks[agency.pk], officers)

    # Receive in time order so that each agency's daily sequence follows the clock.
    stories.sort(key=lambda s: (s.ops[0][0], s.seed))
    player = Player(officers, {pk: clock.calendar for pk, clock in clocks.items()})
    statuses: Tally = Tally()
    for number, story in enumerate(stories, start=1):
        story.n = number
        story_rng = random.Random(story.seed)
        try:
            with transaction.atomic():
                dossier = player.play(story, story_rng)
                # In the story's own transaction: a worker running meanwhile (run_huey) must
                # never find demo history to send to a real channel.
                OutboxMessage.objects.filter(
                    dossier=dossier, topic__startswith="notify", delivered_at__isnull=True
                ).update(delivered_at=timezone.now(), last_error="demo: not sent")
        except Exception as exc:  # one story failing must not hide the others
            report.failures.append(
                f"{KEY_PREFIX}{number} ({story.procedure.code}, {story.kind}): "
                f"{type(exc).__name__}: {exc}"
            )
            continue
        report.created += 1
        statuses[Dossier.objects.values_list("status", flat=True).get(pk=dossier.pk)] += 1
    report.by_status = {int(s): statuses[s] for s in sorted(statuses)}
    # Demo history must never reach a real notification channel or the national portal.
    OutboxMessage.objects.filter(
        dossier__idempotency_key__startswith=KEY_PREFIX, delivered_at__isnull=True
    ).update(delivered_at=timezone.now(), last_error="demo: not sent")
    report.seconds = time.perf_counter() - started
    return report


__all__ = ["DossierReport", "demo_dossiers_exist", "load_demo_dossiers"]
