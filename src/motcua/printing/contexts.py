"""What a form needs to be printed: plain frozen dataclasses, no Django.

The dossiers app adapts its models to these; printing never reads the database. Everything is
already decided by the caller: texts are labels as they should be printed (channel, delivery
method, on-time label), identifiers are masked if they must be, money is integer VND, datetimes
are timezone-aware (shown in Asia/Ho_Chi_Minh) or naive local time. An empty string or ``None``
prints as dotted leaders ("……") where the official form has a blank, or is left out where the
line is optional.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class AgencyHeader:
    """The top-left block: the governing body over the issuing agency, and the place name."""

    governing_body: str  # "UBND tỉnh Thanh Hóa" (the header prints it in capitals)
    # As written inside sentences ("Trung tâm Phục vụ hành chính công tỉnh Thanh Hóa … tiếp nhận
    # hồ sơ của"); the header prints it in capitals.
    agency_name: str
    place: str  # "Thanh Hóa" — starts the date line
    unit_abbr: str = ""  # "TTPVHCC" or "BPTNTKQ": ends the number line ("Số: …/PBS-TTPVHCC")


@dataclass(frozen=True)
class Person:
    """An applicant, a dossier owner or an authorising person."""

    name: str
    identifier: str = ""  # số định danh cá nhân / mã số tổ chức, masked by the caller if needed
    address: str = ""
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class ComponentLine:
    """One paper of the dossier (thành phần hồ sơ) as received."""

    name: str
    originals: int = 0  # bản chính
    copies: int = 0  # bản sao (chứng thực or photo)
    in_list: bool = True  # False: a paper outside the procedure's published list
    note: str = ""


@dataclass(frozen=True)
class FeeLine:
    """A fee or charge (phí, lệ phí) shown on the receipt; integer VND."""

    name: str
    amount: int


@dataclass(frozen=True)
class HandOver:
    """One row of the control slip (Mẫu 06): a hand-over from one unit to the next."""

    from_label: str  # "Bộ phận tiếp nhận và trả kết quả"
    to_label: str  # "Phòng Tư pháp"
    at: datetime | None = None  # when the dossier changed hands
    due_at: datetime | None = None  # the step's own deadline, if any
    done_at: datetime | None = None  # when the receiving side finished its step
    timeliness: str = ""  # "Trước hạn" / "Đúng hạn" / "Quá hạn", as decided by the caller
    note: str = ""
    giver: str = ""  # người giao (name under the signature)
    receiver: str = ""  # người nhận


@dataclass(frozen=True)
class FormContext:
    """Everything any of the forms 01–06 may print; each form reads the fields it needs.

    ``form`` is the form number ("01" … "06"). ``reason`` is the form's own reason: what is
    missing (02), why refused (03), why late (04), what the applicant asked (05).
    """

    form: str
    agency: AgencyHeader
    applicant: Person
    dossier_code: str = ""
    procedure_code: str = ""
    procedure_name: str = ""
    owner: Person | None = None  # chủ hồ sơ / người ủy quyền, when not the applicant
    authorisation: str = ""  # the proxy or authorisation paper, if any
    components: tuple[ComponentLine, ...] = ()
    sets: int = 1  # số lượng hồ sơ (bộ)
    time_limit: str = ""  # statutory time as printed: "05 ngày làm việc"
    received_at: datetime | None = None
    due_at: datetime | None = None  # the appointment (hẹn trả kết quả) in force
    original_due_at: datetime | None = None  # the first appointment (Mẫu 04)
    channel: str = ""  # "Trực tiếp", "Trực tuyến", "Bưu chính công ích"
    delivery: str = ""  # đăng ký nhận kết quả tại: "Tại Bộ phận Một cửa", "Qua bưu chính"
    fees: tuple[FeeLine, ...] = ()
    fee_total: int | None = None  # None: the sum of ``fees``
    officer: str = ""  # the officer who received / guided (signature name)
    lookup_url: str = ""  # encoded in the QR code of Mẫu 01
    register_book: str = ""  # "Vào Sổ theo dõi hồ sơ, Quyển số …"
    register_entry: str = ""  # "… Số thứ tự …"
    reason: str = ""
    legal_basis: str = ""
    missing_items: tuple[str, ...] = ()  # Mẫu 02: what to add or fix, one line each
    supplement_deadline: datetime | date | None = None  # Mẫu 02, if the procedure sets one
    contact: str = ""  # Mẫu 02: whom to ask ("Nguyễn Văn A, 0237 3 123 456")
    new_due_at: datetime | None = None  # Mẫu 04: the requested new appointment
    stop_requested_at: datetime | None = None  # Mẫu 05: when the request to stop arrived
    deciding_agency: str = ""  # cơ quan (bộ phận) giải quyết (04, 05, 06)
    coordinating_agencies: str = ""  # cơ quan phối hợp (06)
    hand_overs: tuple[HandOver, ...] = ()  # Mẫu 06
    recipients: tuple[str, ...] = ()  # nơi nhận (04, 05); a default is printed when empty
    issued_at: datetime | date | None = None  # the date line; None: received_at for 01 and 03
    place: str = ""  # "": agency.place
    signer_title: str = ""  # overrides the form's default signature title
    signer_name: str = ""
    number: str = ""  # the document number as issued ("125/PBS-TTPVHCC"); "" prints dots

    @property
    def total_fee(self) -> int:
        """The fee total to print: ``fee_total`` if given, else the sum of the lines."""
        if self.fee_total is not None:
            return self.fee_total
        return sum(line.amount for line in self.fees)


@dataclass(frozen=True)
class RegisterRow:
    """One line of the register (Mẫu 07)."""

    order: int
    dossier_code: str
    procedure: str  # tên TTHC or the dossier summary (trích yếu)
    owner_name: str
    sets: int = 1
    address: str = ""
    phone: str = ""
    deciding_agency: str = ""
    received_at: datetime | None = None
    due_at: datetime | None = None
    returned_at: datetime | None = None
    delivery: str = ""  # phương thức nhận kết quả
    receiver_name: str = ""  # who signed for the result (ký nhận)
    note: str = ""


@dataclass(frozen=True)
class RegisterContext:
    """The register (Sổ theo dõi hồ sơ) of one desk, optionally one field, over a period."""

    agency: AgencyHeader
    date_from: date
    date_to: date
    rows: tuple[RegisterRow, ...] = field(default_factory=tuple)
    field_name: str = ""  # lĩnh vực, when the desk keeps one register per field
    number: str = ""
    issued_at: datetime | date | None = None  # None: date_to
    form: str = "07"
