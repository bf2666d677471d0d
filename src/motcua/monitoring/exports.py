"""The monitoring figures as files: Excel (openpyxl) and PDF (ReportLab through the printing
app's page furniture: Liberation Serif with full Vietnamese coverage, Decree 30 margins).

A document is a title, a subtitle (area and period) and sections, each a heading, column
headings and rows of plain values (text, numbers, ``None`` shown as "—"). The builders below
turn the dashboard, the scorecard and the period report into sections; the same sections make
both files, so the spreadsheet and the PDF always show the same figures.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from motcua.core.text import nfc

NO_DATA = "không đủ dữ liệu"


@dataclass
class Section:
    heading: str
    columns: Sequence[str]
    rows: list[Sequence[Any]] = field(default_factory=list)
    note: str = ""
    widths: Sequence[float] = ()  # relative widths (PDF) — default: first column wide


@dataclass
class Document:
    title: str
    subtitle: str
    sections: list[Section]
    issuer: str = ""  # the monitoring centre or agency printed in the header


def _cell(value: Any) -> Any:
    if value is None:
        return "—"
    if isinstance(value, str):
        return nfc(value)
    return value


def _text(value: Any) -> str:
    value = _cell(value)
    if isinstance(value, float):
        return f"{value:,.2f}".replace(",", "\u202f").replace(".", ",")
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    return str(value)


def to_xlsx(doc: Document) -> bytes:
    """One worksheet: the title rows, then each section's heading, header row and rows."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = nfc(doc.title)[:31]
    bold = Font(name="Times New Roman", bold=True, size=11)
    plain = Font(name="Times New Roman", size=11)
    thin = Side(style="thin", color="000000")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(vertical="top", wrap_text=True)
    row = 1
    if doc.issuer:
        ws.cell(row, 1, nfc(doc.issuer).upper()).font = bold
        row += 1
    ws.cell(row, 1, nfc(doc.title)).font = Font(name="Times New Roman", bold=True, size=14)
    row += 1
    ws.cell(row, 1, nfc(doc.subtitle)).font = Font(name="Times New Roman", italic=True, size=11)
    row += 2
    widths: dict[int, float] = {}
    for section in doc.sections:
        ws.cell(row, 1, nfc(section.heading)).font = Font(
            name="Times New Roman", bold=True, size=12
        )
        row += 1
        for col, heading in enumerate(section.columns, start=1):
            cell = ws.cell(row, col, nfc(heading))
            cell.font, cell.border = bold, box
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            widths[col] = max(widths.get(col, 8), min(len(heading) + 2, 30))
        row += 1
        for values in section.rows:
            for col, value in enumerate(values, start=1):
                cell = ws.cell(row, col, _cell(value))
                cell.font, cell.border, cell.alignment = plain, box, wrap
                if isinstance(value, float):
                    cell.number_format = "0.00"
                elif isinstance(value, int):
                    cell.number_format = "#,##0"
                length = len(str(_cell(value)))
                widths[col] = max(widths.get(col, 8), min(length + 2, 60 if col == 1 else 30))
            row += 1
        if section.note:
            ws.cell(row, 1, nfc(section.note)).font = Font(
                name="Times New Roman", italic=True, size=10
            )
            row += 1
        row += 1
    for col, width in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    wb.properties.title = nfc(doc.title)
    wb.properties.creator = "motcua"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def to_pdf(doc: Document) -> bytes:
    """A landscape A4 PDF: the title, the subtitle, then each section as a ruled table whose
    header row repeats on every page."""
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, Spacer

    from motcua.printing import layout

    st = layout.styles()
    width = layout.frame_width(True)
    heading = ParagraphStyle(
        "m_heading", st.body, fontName=layout.SERIF_BOLD, fontSize=12, keepWithNext=1
    )
    story: list = []
    if doc.issuer:
        story.append(layout.text(nfc(doc.issuer).upper(), st.head_bold))
    story += layout.title(doc.title, doc.subtitle)
    for section in doc.sections:
        n = len(section.columns)
        weights = list(section.widths) or [3.2] + [1.0] * (n - 1)
        total = sum(weights)
        widths = [width * w / total for w in weights]
        rows = [[layout.text(h, st.small_head) for h in section.columns]]
        for values in section.rows:
            rows.append(
                [
                    layout.text(_text(v), st.small if i == 0 else st.small_centre)
                    for i, v in enumerate(values)
                ]
            )
        story.append(Spacer(1, 6))
        story.append(Paragraph(layout.esc(section.heading), heading))
        story.append(Spacer(1, 3))
        story.append(layout.grid(rows, widths))
        if section.note:
            story.append(layout.text(section.note, st.note))
    return layout.build_pdf(
        story,
        doc_title=doc.title,
        form_label="",
        is_landscape=True,
        author=doc.issuer,
        subject=doc.subtitle,
    )


# --- builders --------------------------------------------------------------------------------

CHANNEL_LABELS = {"counter": "Trực tiếp", "online": "Trực tuyến", "postal": "Bưu chính"}


def dashboard_document(data: dict[str, Any], issuer: str = "") -> Document:
    area, period = data["area"], data["period"]
    totals = data["totals"]
    sections = [
        Section(
            "Tổng hợp",
            ["Chỉ tiêu", "Số lượng"],
            [
                ["Hồ sơ tiếp nhận", totals["received"]],
                ["Đã giải quyết", totals["finished"]],
                ["Giải quyết trước hạn", totals["finished_early"]],
                ["Giải quyết đúng hạn", totals["finished_on_time"]],
                ["Giải quyết quá hạn", totals["finished_late"]],
                ["Tỷ lệ giải quyết trước hạn, đúng hạn (%)", totals["rate"]],
                ["Đang giải quyết trong hạn (cuối kỳ)", totals["open_in_time"]],
                ["Đang giải quyết quá hạn (cuối kỳ)", totals["open_late"]],
            ],
            widths=[4, 1],
        ),
        Section(
            "Tỷ lệ giải quyết đúng hạn theo cơ quan",
            [
                "Cơ quan",
                "Tiếp nhận",
                "Đã giải quyết",
                "Trước hạn",
                "Đúng hạn",
                "Quá hạn",
                "Tỷ lệ đúng hạn (%)",
                "Đang giải quyết trong hạn",
                "Đang giải quyết quá hạn",
            ],
            [
                [
                    r["name"],
                    r["received"],
                    r["finished"],
                    r["finished_early"],
                    r["finished_on_time"],
                    r["finished_late"],
                    r["rate"],
                    r["open_in_time"],
                    r["open_late"],
                ]
                for r in data["agencies"]
            ],
        ),
        Section(
            "Diễn biến theo tháng",
            [
                "Tháng",
                "Tiếp nhận",
                *CHANNEL_LABELS.values(),
                "Đã giải quyết",
                "Quá hạn",
                "Tỷ lệ (%)",
            ],
            [
                [
                    f"{r['month']:%m/%Y}",
                    r["received"],
                    r["received_counter"],
                    r["received_online"],
                    r["received_postal"],
                    r["finished"],
                    r["finished_late"],
                    r["rate"],
                ]
                for r in data["trend"]
            ],
            widths=[1.2] + [1.0] * 7,
        ),
        Section(
            "Thủ tục có nhiều hồ sơ quá hạn",
            ["Thủ tục", "Mã", "Đã giải quyết", "Quá hạn", "Tỷ lệ đúng hạn (%)"],
            [
                [r["name"], r["code"], r["finished"], r["finished_late"], r["rate"]]
                for r in data["late_procedures"]
            ],
            widths=[5, 1.2, 1, 1, 1],
        ),
        Section(
            "Vi phạm chưa kết thúc",
            ["Quy tắc", "Chưa giải trình", "Đã giải trình"],
            [[r["label"], r["open"], r["explained"]] for r in data["violations"]["rules"]],
            widths=[4, 1, 1],
        ),
    ]
    return Document(
        title="Báo cáo giám sát giải quyết thủ tục hành chính",
        subtitle=f"{area.name} — {period.label}",
        sections=sections,
        issuer=issuer,
    )


def scorecard_document(
    card: dict[str, Any], trend: list[dict[str, Any]], issuer: str = ""
) -> Document:
    total = card["total"]
    rule_set = card["rule_set"]
    rows = []
    for group in card["groups"]:
        rows.append([f"{group['code']}. {group['name']}", "", "", "", group["max"], group["score"]])
        for i in group["indicators"]:
            if i["status"] == "no_data":
                rows.append([f"   {i['code']} {i['name']}", "", "", NO_DATA, i["max"], NO_DATA])
            else:
                rows.append(
                    [
                        f"   {i['code']} {i['name']}",
                        i["numerator"],
                        i["denominator"],
                        i["rate"],
                        i["max"],
                        i["score"],
                    ]
                )
    sections = [
        Section(
            "Điểm theo nhóm và chỉ số",
            ["Nhóm / chỉ số", "Tử số", "Mẫu số", "Tỷ lệ (%)", "Điểm tối đa", "Điểm"],
            rows,
            note=(
                f"Tổng điểm {total['score']} trên {total['max_computed']} điểm tính được "
                f"(tối đa {total['max']}). Bộ quy tắc {rule_set['id']} phiên bản "
                f"{rule_set['version']}."
            ),
            widths=[6, 1, 1, 1, 1, 1],
        ),
        Section(
            "Diễn biến theo tháng",
            ["Tháng", "Tổng điểm (phần tính được)", "Điểm tối đa tính được", "Chỉ số 2.1 (%)"],
            [[t["label"], t["score"], t["max_computed"], t["rate_21"]] for t in trend],
            widths=[1.5, 1, 1, 1],
        ),
    ]
    return Document(
        title="Kết quả đánh giá theo Bộ chỉ số 766",
        subtitle=f"{card['area']['name']} — {card['period']['label']}",
        sections=sections,
        issuer=issuer,
    )


def report_document(report: dict[str, Any], issuer: str = "") -> Document:
    columns = [
        "Tiếp nhận",
        "Trực tuyến",
        "Bưu chính",
        "Trước hạn",
        "Đúng hạn",
        "Quá hạn",
        "Tỷ lệ (%)",
        "Đang giải quyết trong hạn",
        "Đang giải quyết quá hạn",
        "Đã trả kết quả",
    ]

    def line(label, r):
        return [
            label,
            r["received"],
            r["received_online"],
            r["received_postal"],
            r["finished_early"],
            r["finished_on_time"],
            r["finished_late"],
            r["rate"],
            r["open_in_time"],
            r["open_late"],
            r["returned"],
        ]

    agencies = [line(r["name"], r) for r in report["agencies"]]
    agencies.append(line("Tổng cộng", report["totals"]))
    procedures = [line(f"{r['code']} {r['name']}", r) for r in report["procedures"]]
    return Document(
        title="Báo cáo tổng hợp tình hình giải quyết thủ tục hành chính",
        subtitle=f"{report['area'].name} — {report['period'].label}",
        sections=[
            Section("Theo cơ quan", ["Cơ quan", *columns], agencies),
            Section("Theo thủ tục", ["Thủ tục", *columns], procedures),
        ],
        issuer=issuer,
    )
