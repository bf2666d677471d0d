"""The 2025 set: Mẫu 01–07 of Circular 03/2025/TT-VPCP Appendix I (Decree 118/2025), in force
from 01/7/2025.

The circular's own layouts were not found; the field lists follow the best known adaptation
(Quyết định 3621/QĐ-BYT, BM.01–BM.06) and the 2018 set where that is silent — see
``shared/domain/decree-118-update.md`` §1. Mẫu 05 (stop notice) has no known layout: it carries
what TT03 Art. 7 and ND118 Art. 21 require. Each function turns a context into the flowables of
one form; ``layout`` supplies the header, signatures and tables.
"""

from __future__ import annotations

import io
from datetime import date

from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, Image, Spacer, Table, TableStyle

from motcua.core.text import nfc
from motcua.printing import fmt
from motcua.printing.contexts import FormContext, Person, RegisterContext, RegisterRow
from motcua.printing.layout import (
    CELL_PADDING,
    SERIF,
    Styles,
    esc,
    frame_width,
    grid,
    header,
    line,
    number_line,
    para,
    recipients_and_signature,
    signature,
    signatures,
    styles,
    text,
    title,
)
from motcua.printing.qr import qr_png
from motcua.printing.registry import FormRenderer, register
from motcua.printing.xlsx import RegisterColumn, register_workbook

VALID_FROM = date(2025, 7, 1)
BASIS = "Thông tư 03/2025/TT-VPCP"
YOU = "Ông (Bà)/Tổ chức"
QR_CAPTION = "Quét mã để tra cứu hồ sơ"
STOP_BASIS = "Điều 21 Nghị định số 118/2025/NĐ-CP"


def _top(ctx: FormContext | RegisterContext, spec: FormRenderer, *, subtitle: str = "") -> list:
    """Header, number and date lines, and the title: the same on every form."""
    issued = ctx.issued_at
    if issued is None:
        if isinstance(ctx, RegisterContext):
            issued = ctx.date_to
        elif ctx.form in ("01", "03"):
            issued = ctx.received_at
    place = getattr(ctx, "place", "") or ctx.agency.place
    return [
        header(
            ctx.agency,
            frame_width=frame_width(spec.landscape),
            number_line=number_line(ctx.number, spec.number_suffix, ctx.agency.unit_abbr),
            date_line=fmt.place_and_date(place, issued),
        ),
        *title(spec.title, subtitle),
    ]


def _person_lines(person: Person, *, label: str) -> list[Flowable]:
    st = styles()
    return [
        line(label, person.name, bold=True),
        line("Số định danh cá nhân/tổ chức", fmt.or_blank(person.identifier)),
        line("Địa chỉ", fmt.or_blank(person.address)),
        para(
            f"Số điện thoại: {esc(fmt.or_blank(person.phone))}"
            f"&nbsp;&nbsp;&nbsp; Email: {esc(fmt.or_blank(person.email))}",
            st.body,
        ),
    ]


def _request_markup(ctx: FormContext) -> str:
    name = fmt.or_blank(ctx.procedure_name)
    if ctx.procedure_code:
        name = f"{name} (mã thủ tục: {ctx.procedure_code})"
    return f"Nội dung yêu cầu giải quyết: {esc(name)}"


def _request_line(ctx: FormContext) -> Flowable:
    return para(_request_markup(ctx), styles().body)


# --- Mẫu 01 ------------------------------------------------------------------------------------


def _components_table(ctx: FormContext) -> Table:
    st = styles()
    fw = frame_width()
    head = ["STT", "Tên giấy tờ", "Bản chính", "Bản sao", "Ghi chú"]
    rows: list[list] = [[text(h, st.cell_head) for h in head]]
    for i, comp in enumerate(ctx.components, start=1):
        note = comp.note
        if not comp.in_list:
            note = "Ngoài danh mục" + (f"; {note}" if note else "")
        rows.append(
            [
                text(i, st.cell_centre),
                text(comp.name, st.cell),
                text(comp.originals or "", st.cell_centre),
                text(comp.copies or "", st.cell_centre),
                text(note, st.cell),
            ]
        )
    if not ctx.components:
        rows.append(["", text("(Không có giấy tờ)", st.cell), "", "", ""])
    widths = [11 * mm, 0, 17 * mm, 17 * mm, 32 * mm]
    widths[1] = fw - sum(widths)
    return grid(rows, widths)


def _qr_block(url: str) -> list[Flowable]:
    st = styles()
    size = 30 * mm
    image = Image(_png_stream(url), width=size, height=size)
    return [image, text(QR_CAPTION, st.small_centre)]


def _png_stream(url: str) -> io.BytesIO:
    return io.BytesIO(qr_png(url))


@register(
    form="01",
    valid_from=VALID_FROM,
    basis=BASIS,
    title="GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
    context_type=FormContext,
)
def receipt(ctx: FormContext, spec: FormRenderer) -> list[Flowable]:
    st = styles()
    fw = frame_width()
    story = _top(ctx, spec)
    story.append(para(f"Mã hồ sơ: <b>{esc(fmt.or_blank(ctx.dossier_code))}</b>", st.centre))
    story.append(Spacer(1, 4))

    first = [para(f"1. {esc(ctx.agency.agency_name)} tiếp nhận hồ sơ của:", st.body)]
    first += _person_lines(ctx.applicant, label=YOU)
    if ctx.lookup_url:
        block = Table([[first, _qr_block(ctx.lookup_url)]], colWidths=[fw - 36 * mm, 36 * mm])
        block.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ]
            )
        )
        story.append(block)
    else:
        story += first

    n = 2
    if ctx.owner is not None:
        story.append(
            para(
                f"{n}. Trường hợp nộp thay, ủy quyền — thông tin người ủy quyền (chủ hồ sơ):",
                st.body,
            )
        )
        story += _person_lines(ctx.owner, label="Họ và tên/Tên tổ chức")
        if ctx.authorisation:
            story.append(line("Văn bản ủy quyền", ctx.authorisation))
        n += 1
    story.append(para(f"{n}. {_request_markup(ctx)}", st.body))
    n += 1
    if ctx.channel:
        story.append(para(f"{n}. Hình thức nộp hồ sơ: {esc(ctx.channel)}", st.body))
        n += 1
    story.append(para(f"{n}. Thành phần hồ sơ gồm:", st.body))
    story.append(_components_table(ctx))
    n += 1
    story.append(Spacer(1, 3))
    story.append(para(f"{n}. Số lượng hồ sơ: {fmt.count(ctx.sets)} bộ.", st.body))
    n += 1
    story.append(
        para(
            f"{n}. Thời gian giải quyết hồ sơ theo quy định: {esc(fmt.or_blank(ctx.time_limit))}.",
            st.body,
        )
    )
    n += 1
    story.append(
        para(f"{n}. Thời gian nhận hồ sơ: {esc(fmt.long_datetime(ctx.received_at))}.", st.body)
    )
    n += 1
    story.append(
        para(
            f"{n}. Thời gian trả kết quả giải quyết hồ sơ: "
            f"<b>{esc(fmt.long_datetime(ctx.due_at))}</b>.",
            st.body,
        )
    )
    n += 1
    if ctx.fees or ctx.fee_total:
        parts = "; ".join(f"{esc(f.name)}: {fmt.money(f.amount)}" for f in ctx.fees)
        total = f"Tổng cộng: <b>{fmt.money(ctx.total_fee)}</b>"
        story.append(para(f"{n}. Phí, lệ phí: {parts + '. ' if parts else ''}{total}.", st.body))
        n += 1
    story.append(
        para(f"{n}. Đăng ký nhận kết quả tại: {esc(fmt.or_blank(ctx.delivery))}.", st.body)
    )
    n += 1
    if ctx.register_book or ctx.register_entry:
        story.append(
            para(
                f"{n}. Vào Sổ theo dõi hồ sơ, Quyển số: {esc(fmt.or_blank(ctx.register_book))}, "
                f"Số thứ tự: {esc(fmt.or_blank(ctx.register_entry))}.",
                st.body,
            )
        )
    note = "Kết quả có thể được trả trước thời hạn hẹn trả."
    if ctx.lookup_url:
        note += (
            f" {YOU} theo dõi tình trạng hồ sơ bằng mã hồ sơ hoặc quét mã QR, tại: "
            f"{esc(ctx.lookup_url)}"
        )
    story.append(Spacer(1, 4))
    story.append(para(f"<b>Ghi chú:</b> {note}", st.note))
    story.append(
        signatures(
            [
                signature("Người nộp hồ sơ", ctx.applicant.name),
                signature(
                    ctx.signer_title or "Người tiếp nhận hồ sơ", ctx.signer_name or ctx.officer
                ),
            ],
            frame_width=fw,
        )
    )
    return story


# --- Mẫu 02 ------------------------------------------------------------------------------------


@register(
    form="02",
    valid_from=VALID_FROM,
    basis=BASIS,
    title="PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ",
    context_type=FormContext,
    number_suffix="PBS",
)
def supplement_request(ctx: FormContext, spec: FormRenderer) -> list[Flowable]:
    st = styles()
    story = _top(ctx, spec)
    if ctx.dossier_code:
        story.append(para(f"Mã hồ sơ: <b>{esc(ctx.dossier_code)}</b>", st.centre))
        story.append(Spacer(1, 4))
    story.append(line("Hồ sơ của", ctx.applicant.name, bold=True))
    story.append(_request_line(ctx))
    if ctx.received_at:
        story.append(line("Ngày tiếp nhận", fmt.long_datetime(ctx.received_at)))
    story.append(line("Địa chỉ", fmt.or_blank(ctx.applicant.address)))
    story.append(
        para(
            f"Số điện thoại: {esc(fmt.or_blank(ctx.applicant.phone))}"
            f"&nbsp;&nbsp;&nbsp; Email: {esc(fmt.or_blank(ctx.applicant.email))}",
            st.body,
        )
    )
    story.append(Spacer(1, 4))
    story.append(para("<b>Yêu cầu hoàn thiện hồ sơ gồm những nội dung sau:</b>", st.body))
    items = ctx.missing_items or ("…………",)
    for i, item in enumerate(items, start=1):
        story.append(para(f"{i}. {esc(item)}", st.justify))
    story.append(line("Lý do", fmt.or_blank(ctx.reason), style=st.justify))
    if ctx.legal_basis:
        story.append(line("Căn cứ", ctx.legal_basis, style=st.justify))
    if ctx.supplement_deadline:
        story.append(
            line("Thời hạn bổ sung, hoàn thiện hồ sơ", fmt.long_datetime(ctx.supplement_deadline))
        )
    story.append(
        para(
            f"Trong quá trình hoàn thiện hồ sơ, nếu có vướng mắc, {YOU} liên hệ với "
            f"{esc(fmt.or_blank(ctx.contact))} để được hướng dẫn.",
            st.justify,
        )
    )
    if ctx.lookup_url:
        story.append(line("Tra cứu hồ sơ tại", ctx.lookup_url))
    story.append(
        signatures(
            [signature(ctx.signer_title or "Người hướng dẫn", ctx.signer_name or ctx.officer)],
            frame_width=frame_width(),
        )
    )
    return story


# --- Mẫu 03 ------------------------------------------------------------------------------------


@register(
    form="03",
    valid_from=VALID_FROM,
    basis=BASIS,
    title="PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ",
    context_type=FormContext,
    number_suffix="PTC",
)
def refusal(ctx: FormContext, spec: FormRenderer) -> list[Flowable]:
    st = styles()
    story = _top(ctx, spec)
    story.append(para(f"{esc(ctx.agency.agency_name)} tiếp nhận hồ sơ của:", st.body))
    story += _person_lines(ctx.applicant, label=YOU)
    story.append(line("Mã hồ sơ (nếu có)", fmt.or_blank(ctx.dossier_code)))
    story.append(_request_line(ctx))
    if ctx.received_at:
        story.append(line("Thời gian nhận hồ sơ", fmt.long_datetime(ctx.received_at)))
    story.append(Spacer(1, 4))
    story.append(
        para(
            f"Sau khi kiểm tra, đối chiếu, {esc(ctx.agency.agency_name)} không tiếp nhận, "
            "giải quyết hồ sơ này với lý do cụ thể như sau:",
            st.justify,
        )
    )
    story.append(para(f"<b>{esc(fmt.or_blank(ctx.reason))}</b>", st.justify))
    if ctx.legal_basis:
        story.append(line("Căn cứ", ctx.legal_basis, style=st.justify))
    story.append(para(f"Xin thông báo để {YOU} được biết và thực hiện./.", st.justify))
    story.append(
        signatures(
            [
                signature("Người nộp hồ sơ", ctx.applicant.name),
                signature(
                    ctx.signer_title or "Người tiếp nhận hồ sơ", ctx.signer_name or ctx.officer
                ),
            ],
            frame_width=frame_width(),
        )
    )
    return story


# --- Mẫu 04 ------------------------------------------------------------------------------------


@register(
    form="04",
    valid_from=VALID_FROM,
    basis=BASIS,
    title="VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ GIA HẠN THỜI GIAN GIẢI QUYẾT",
    context_type=FormContext,
    number_suffix="PXL",
)
def apology_and_extension(ctx: FormContext, spec: FormRenderer) -> list[Flowable]:
    st = styles()
    story = _top(ctx, spec)
    deciding = esc(ctx.deciding_agency or ctx.agency.agency_name)
    applicant = esc(ctx.applicant.name)
    ident = f" (số định danh: {esc(ctx.applicant.identifier)})" if ctx.applicant.identifier else ""
    first_due = ctx.original_due_at or ctx.due_at
    story.append(para(f"Kính gửi: {YOU} <b>{applicant}</b>", st.centre))
    story.append(Spacer(1, 6))
    story += [
        para(
            f"Ngày {esc(fmt.long_date(ctx.received_at).removeprefix('ngày '))}, "
            f"{esc(ctx.agency.agency_name)} tiếp nhận hồ sơ đề nghị giải quyết thủ tục hành chính "
            f"{esc(fmt.or_blank(ctx.procedure_name))} của {YOU} <b>{applicant}</b>{ident}, "
            f"mã số hồ sơ: <b>{esc(fmt.or_blank(ctx.dossier_code))}</b>. Thời gian hẹn trả kết "
            f"quả giải quyết hồ sơ: {esc(fmt.long_datetime(first_due))}.",
            st.letter,
        ),
        para(
            f"Tuy nhiên, đến nay {deciding} chưa trả kết quả giải quyết hồ sơ cho {YOU} theo "
            "thời hạn ghi trên Giấy tiếp nhận hồ sơ và hẹn trả kết quả.",
            st.letter,
        ),
        line("Lý do", fmt.or_blank(ctx.reason), style=st.letter),
        para(
            f"Sự chậm trễ này đã gây phiền hà, tốn kém cho {YOU}. {deciding} xin lỗi {YOU} và "
            "đề nghị gia hạn thời gian giải quyết, hẹn trả kết quả vào: "
            f"<b>{esc(fmt.long_datetime(ctx.new_due_at))}</b>.",
            st.letter,
        ),
        para(f"Rất mong nhận được sự thông cảm của {YOU}./.", st.letter),
    ]
    recipients = ctx.recipients or ("Như trên;", "Bộ phận Một cửa;", "Lưu: VT.")
    story.append(
        recipients_and_signature(
            recipients,
            signature(
                ctx.signer_title or "Thủ trưởng cơ quan, đơn vị",
                ctx.signer_name,
                note="(Ký, ghi rõ họ tên, đóng dấu)",
            ),
            frame_width=frame_width(),
        )
    )
    return story


# --- Mẫu 05 ------------------------------------------------------------------------------------


@register(
    form="05",
    valid_from=VALID_FROM,
    basis=BASIS,
    title="THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ",
    context_type=FormContext,
    number_suffix="TB",
)
def stop_notice(ctx: FormContext, spec: FormRenderer) -> list[Flowable]:
    st = styles()
    story = _top(ctx, spec)
    agency = esc(ctx.agency.agency_name)
    applicant = esc(ctx.applicant.name)
    ident = f" (số định danh: {esc(ctx.applicant.identifier)})" if ctx.applicant.identifier else ""
    story.append(para(f"Kính gửi: {YOU} <b>{applicant}</b>", st.centre))
    story.append(Spacer(1, 6))
    requested = fmt.long_date(ctx.stop_requested_at).removeprefix("ngày ")
    story.append(
        para(
            f"Ngày {esc(requested)}, {agency} nhận được đề nghị dừng giải quyết hồ sơ của {YOU} "
            f"<b>{applicant}</b>{ident} đối với hồ sơ mã số "
            f"<b>{esc(fmt.or_blank(ctx.dossier_code))}</b>, đề nghị giải quyết thủ tục hành chính "
            f"{esc(fmt.or_blank(ctx.procedure_name))}, tiếp nhận lúc "
            f"{esc(fmt.long_datetime(ctx.received_at))}.",
            st.letter,
        )
    )
    if ctx.reason:
        story.append(line("Nội dung đề nghị", ctx.reason, style=st.letter))
    story.append(
        para(
            "Tại thời điểm nhận được đề nghị, hồ sơ chưa có quyết định giải quyết hoặc thông báo "
            "kết quả giải quyết.",
            st.letter,
        )
    )
    story.append(
        para(
            f"Căn cứ {esc(ctx.legal_basis or STOP_BASIS)}, {agency} thông báo dừng giải quyết "
            "hồ sơ nêu trên.",
            st.letter,
        )
    )
    if ctx.contact:
        story.append(para(f"Mọi vướng mắc, {YOU} liên hệ với {esc(ctx.contact)}.", st.letter))
    story.append(para(f"Xin thông báo để {YOU} được biết./.", st.letter))
    recipients = ctx.recipients or ("Như trên;", "Lưu: VT.")
    story.append(
        recipients_and_signature(
            recipients,
            signature(
                ctx.signer_title or "Thủ trưởng cơ quan, đơn vị",
                ctx.signer_name,
                note="(Ký, ghi rõ họ tên, đóng dấu)",
            ),
            frame_width=frame_width(),
        )
    )
    return story


# --- Mẫu 06 ------------------------------------------------------------------------------------


@register(
    form="06",
    valid_from=VALID_FROM,
    basis=BASIS,
    title="PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ",
    context_type=FormContext,
    number_suffix="PKS",
)
def control_slip(ctx: FormContext, spec: FormRenderer) -> list[Flowable]:
    st = styles()
    fw = frame_width()
    story = _top(ctx, spec)
    story += [
        para(f"Mã số hồ sơ: <b>{esc(fmt.or_blank(ctx.dossier_code))}</b>", st.body),
        line("Kèm theo hồ sơ của", ctx.applicant.name, bold=True),
        _request_line(ctx),
        line("Cơ quan (bộ phận) giải quyết", fmt.or_blank(ctx.deciding_agency)),
        line("Cơ quan phối hợp giải quyết", fmt.or_blank(ctx.coordinating_agencies)),
        line("Thời gian nhận hồ sơ", fmt.long_datetime(ctx.received_at)),
        line("Thời gian hẹn trả kết quả", fmt.long_datetime(ctx.due_at), bold=True),
        Spacer(1, 6),
    ]
    head = [
        "TÊN ĐƠN VỊ",
        "THỜI GIAN GIAO, NHẬN HỒ SƠ",
        "KẾT QUẢ GIẢI QUYẾT HỒ SƠ (Trước hạn/Đúng hạn/Quá hạn)",
        "GHI CHÚ",
    ]
    rows: list[list] = [[text(h, st.cell_head) for h in head]]
    for hand in ctx.hand_overs:
        result = f"<b>{esc(hand.timeliness)}</b>" if hand.timeliness else ""
        extra = []
        if hand.due_at:
            extra.append(f"Hạn: {fmt.short_datetime(hand.due_at)}")
        if hand.done_at:
            extra.append(f"Hoàn thành: {fmt.short_datetime(hand.done_at)}")
        if extra:
            result += ("<br/>" if result else "") + "<br/>".join(esc(x) for x in extra)
        rows.append(
            [
                para(f"1. Giao: {esc(hand.from_label)}<br/>2. Nhận: {esc(hand.to_label)}", st.cell),
                para(
                    f"{esc(fmt.long_datetime(hand.at))}<br/>"
                    f"Người giao: {esc(fmt.or_blank(hand.giver))}<br/>"
                    f"Người nhận: {esc(fmt.or_blank(hand.receiver))}",
                    st.cell,
                ),
                para(result, st.cell_centre),
                text(hand.note, st.cell),
            ]
        )
    if not ctx.hand_overs:
        rows.append([para("1. Giao: Bộ phận tiếp nhận và trả kết quả<br/>2. Nhận:", st.cell)])
        rows[-1] += ["", "", ""]
    widths = [46 * mm, 54 * mm, 35 * mm, 0]
    widths[3] = fw - sum(widths)
    story.append(grid(rows, widths))
    story.append(Spacer(1, 4))
    story.append(
        para(
            "<b>Ghi chú:</b> Bên nhận ghi kết quả giải quyết tại mỗi lần giao, nhận hồ sơ; quá "
            "trình giao, nhận được Hệ thống thông tin giải quyết thủ tục hành chính ghi lại tự "
            "động và thể hiện trên biểu mẫu điện tử.",
            st.note,
        )
    )
    return story


# --- Mẫu 07 ------------------------------------------------------------------------------------


def _address_phone(row: RegisterRow) -> str:
    return "; ".join(part for part in (row.address, row.phone) if part)


# One list drives both the PDF table and the workbook, so they cannot drift apart. Codes and
# dates get a fixed width that fits them on one line; the rest share what is left.
_IO = "Nhận và trả kết quả"
REGISTER_COLUMNS: tuple[RegisterColumn, ...] = (
    RegisterColumn("STT", lambda r: r.order, 0, 6, kind="int", fixed_mm=9),
    RegisterColumn("Mã hồ sơ", lambda r: r.dossier_code, 0, 26, kind="code", fixed_mm=38),
    RegisterColumn("Tên thủ tục hành chính", lambda r: r.procedure, 40, 40),
    RegisterColumn("Số lượng hồ sơ (bộ)", lambda r: r.sets, 0, 9, kind="int", fixed_mm=11),
    RegisterColumn("Tên tổ chức, cá nhân", lambda r: r.owner_name, 26, 24),
    RegisterColumn("Địa chỉ, số điện thoại", _address_phone, 30, 32),
    RegisterColumn("Cơ quan chủ trì giải quyết", lambda r: r.deciding_agency, 24, 24),
    RegisterColumn("Nhận hồ sơ", lambda r: r.received_at, 0, 17, _IO, "datetime", 18),
    RegisterColumn("Hẹn trả kết quả", lambda r: r.due_at, 0, 17, _IO, "datetime", 18),
    RegisterColumn("Trả kết quả", lambda r: r.returned_at, 0, 17, _IO, "datetime", 18),
    RegisterColumn("Phương thức nhận kết quả", lambda r: r.delivery, 16, 18, _IO),
    RegisterColumn("Ký nhận", lambda r: r.receiver_name, 14, 16),
    RegisterColumn("Ghi chú", lambda r: r.note, 12, 16),
)
REGISTER_TITLE = "SỔ THEO DÕI HỒ SƠ"


def _register_period(ctx: RegisterContext) -> str:
    period = f"Từ ngày {fmt.short_date(ctx.date_from)} đến ngày {fmt.short_date(ctx.date_to)}"
    if ctx.field_name:
        return f"Lĩnh vực: {ctx.field_name}. {period}"
    return period


def _register_widths(columns: tuple[RegisterColumn, ...], total: float) -> list[float]:
    fixed = sum(c.fixed_mm * mm for c in columns)
    share = (total - fixed) / sum(c.weight for c in columns if not c.fixed_mm)
    return [c.fixed_mm * mm if c.fixed_mm else c.weight * share for c in columns]


def _register_cell(column: RegisterColumn, row: RegisterRow, width: float, st: Styles) -> object:
    """Wrapping text gets a Paragraph; codes, numbers and dates are plain strings (far faster
    to lay out), unless an unusually long code would not fit its column on one line."""
    value = column.value(row)
    if column.kind == "datetime":
        return fmt.short_datetime(value).replace(" ", "\n")
    if column.kind in ("int", "code"):
        value = "" if value is None else nfc(str(value))
        if stringWidth(value, SERIF, st.small.fontSize) <= width - CELL_PADDING:
            return value
    return text(value, st.small) if value else ""


@register(
    form="07",
    valid_from=VALID_FROM,
    basis=BASIS,
    title=REGISTER_TITLE,
    context_type=RegisterContext,
    landscape=True,
    number_suffix="STD",
    xlsx=lambda ctx: register_workbook(
        ctx, REGISTER_COLUMNS, title=REGISTER_TITLE, subtitle=_register_period(ctx)
    ),
)
def register_book(ctx: RegisterContext, spec: FormRenderer) -> list[Flowable]:
    st = styles()
    fw = frame_width(True)
    story = _top(ctx, spec, subtitle=_register_period(ctx))
    columns = REGISTER_COLUMNS
    widths = _register_widths(columns, fw)

    top: list = []
    bottom: list = []
    spans = []
    i = 0
    while i < len(columns):
        column = columns[i]
        if column.group:
            end = i
            while end + 1 < len(columns) and columns[end + 1].group == column.group:
                end += 1
            top.append(text(column.group, st.small_head))
            top += [""] * (end - i)
            bottom += [text(c.heading, st.small_head) for c in columns[i : end + 1]]
            spans.append(((i, 0), (end, 0)))
            i = end + 1
        else:
            top.append(text(column.heading, st.small_head))
            bottom.append("")
            spans.append(((i, 0), (i, 1)))
            i += 1
    numbers = [f"({k})" for k in range(1, len(columns) + 1)]
    rows: list[list] = [top, bottom, numbers]
    rows += [
        [_register_cell(c, row, w, st) for c, w in zip(columns, widths, strict=True)]
        for row in ctx.rows
    ]
    centred = [
        ("ALIGN", (k, 2), (k, -1), "CENTER")
        for k, c in enumerate(columns)
        if c.kind in ("int", "datetime")
    ]
    story.append(
        grid(
            rows,
            widths,
            header_rows=3,
            spans=spans,
            extra=[
                ("FONTNAME", (0, 2), (-1, -1), SERIF),
                ("FONTSIZE", (0, 2), (-1, -1), st.small.fontSize),
                ("LEADING", (0, 2), (-1, -1), st.small.leading),
                ("ALIGN", (0, 2), (-1, 2), "CENTER"),
                *centred,
            ],
        )
    )
    return story
