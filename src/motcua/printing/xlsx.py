"""The register (Sổ theo dõi hồ sơ) as an Excel workbook (openpyxl).

The columns come from the register layout in force (see ``forms_2025.REGISTER_COLUMNS``), so the
PDF and the spreadsheet of one layout always agree. Dates are real Excel dates shown
dd/mm/yyyy hh:mm (local time, since Excel has no time zones).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from motcua.core.text import nfc
from motcua.printing import fmt
from motcua.printing.contexts import RegisterContext, RegisterRow

DATETIME_FORMAT = "dd/mm/yyyy hh:mm"


@dataclass(frozen=True)
class RegisterColumn:
    """One column of the register: its heading, its group heading, widths, and its value."""

    heading: str
    value: Callable[[RegisterRow], Any]
    weight: float  # share of the PDF table width
    excel_width: float  # Excel column width (characters)
    group: str = ""  # a heading spanning several columns ("Nhận và trả kết quả")
    kind: str = "text"  # "text" (wraps), "code" (one line), "int" or "datetime"
    fixed_mm: float = 0  # a fixed PDF width (codes, dates) instead of a share by weight


def register_workbook(
    ctx: RegisterContext, columns: Sequence[RegisterColumn], *, title: str, subtitle: str
) -> bytes:
    """The workbook bytes: agency and title rows, a two-row grouped heading, then the rows."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Sổ theo dõi hồ sơ"
    n = len(columns)
    last = get_column_letter(n)
    thin = Side(style="thin", color="000000")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    wrap = Alignment(vertical="top", wrap_text=True)
    bold = Font(name="Times New Roman", bold=True, size=11)
    plain = Font(name="Times New Roman", size=11)

    ws["A1"] = nfc(ctx.agency.governing_body).upper()
    ws["A2"] = nfc(ctx.agency.agency_name).upper()
    ws["A3"] = nfc(title)
    ws["A4"] = nfc(subtitle)
    for ref, font in (
        ("A1", plain),
        ("A2", bold),
        ("A3", Font(name="Times New Roman", bold=True, size=14)),
        ("A4", Font(name="Times New Roman", italic=True, size=11)),
    ):
        ws[ref].font = font
    for row in (3, 4):
        ws.merge_cells(f"A{row}:{last}{row}")
        ws[f"A{row}"].alignment = Alignment(horizontal="center")

    head_top, head_bottom = 6, 7
    col = 1
    while col <= n:
        column = columns[col - 1]
        if column.group:
            end = col
            while end < n and columns[end].group == column.group:
                end += 1
            ws.cell(head_top, col, nfc(column.group))
            ws.merge_cells(start_row=head_top, start_column=col, end_row=head_top, end_column=end)
            for c in range(col, end + 1):
                ws.cell(head_bottom, c, nfc(columns[c - 1].heading))
            col = end + 1
        else:
            ws.cell(head_top, col, nfc(column.heading))
            ws.merge_cells(
                start_row=head_top, start_column=col, end_row=head_bottom, end_column=col
            )
            col += 1
    for r in (head_top, head_bottom):
        for c in range(1, n + 1):
            cell = ws.cell(r, c)
            cell.font, cell.alignment, cell.border = bold, centre, box
    ws.row_dimensions[head_top].height = 30
    ws.row_dimensions[head_bottom].height = 30

    first_data = head_bottom + 1
    for offset, row in enumerate(ctx.rows):
        r = first_data + offset
        for c, column in enumerate(columns, start=1):
            value = column.value(row)
            if column.kind == "datetime":
                value = fmt.naive_local(value)
            elif isinstance(value, str):
                value = nfc(value)
            cell = ws.cell(r, c, value)
            cell.font, cell.border = plain, box
            cell.alignment = wrap if column.kind == "text" else centre
            if column.kind == "datetime":
                cell.number_format = DATETIME_FORMAT

    for c, column in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(c)].width = column.excel_width
    ws.freeze_panes = ws.cell(first_data, 3)
    ws.print_title_rows = f"{head_top}:{head_bottom}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    wb.properties.title = nfc(title)
    wb.properties.creator = "motcua"

    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
