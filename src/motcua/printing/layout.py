"""Page furniture shared by the forms: fonts, styles, the Decree 30/2020 header, signatures,
tables, and the document build itself (ReportLab platypus).

Every piece of caller text goes through ``esc`` (NFC + XML escape) before it meets Paragraph
markup, so a "<" in an address cannot break a form and decomposed diacritics never reach the PDF.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from motcua.core.text import nfc
from motcua.printing.contexts import AgencyHeader

FONT_DIR = Path(__file__).resolve().parent / "fonts"
SERIF = "LiberationSerif"
SERIF_BOLD = "LiberationSerif-Bold"
SERIF_ITALIC = "LiberationSerif-Italic"
SERIF_BOLD_ITALIC = "LiberationSerif-BoldItalic"

NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"

# Decree 30/2020 margins: top/bottom 20–25 mm, left 30–35 mm, right 15–20 mm.
PORTRAIT_MARGINS = {"topMargin": 20 * mm, "bottomMargin": 20 * mm}
PORTRAIT_MARGINS |= {"leftMargin": 30 * mm, "rightMargin": 15 * mm}
LANDSCAPE_MARGINS = {"topMargin": 15 * mm, "bottomMargin": 15 * mm}
LANDSCAPE_MARGINS |= {"leftMargin": 20 * mm, "rightMargin": 15 * mm}

CELL_PADDING = 6  # left + right padding of a ruled table cell
FRAME_PADDING = 6  # ReportLab's default Frame padding, which SimpleDocTemplate keeps

_fonts_lock = threading.Lock()
_fonts_ready = False


def register_fonts() -> None:
    """Register the four Liberation Serif faces with ReportLab, once per process."""
    global _fonts_ready
    if _fonts_ready:
        return
    with _fonts_lock:
        if _fonts_ready:
            return
        faces = {
            SERIF: "LiberationSerif-Regular.ttf",
            SERIF_BOLD: "LiberationSerif-Bold.ttf",
            SERIF_ITALIC: "LiberationSerif-Italic.ttf",
            SERIF_BOLD_ITALIC: "LiberationSerif-BoldItalic.ttf",
        }
        for name, filename in faces.items():
            pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / filename)))
        pdfmetrics.registerFontFamily(
            SERIF, normal=SERIF, bold=SERIF_BOLD, italic=SERIF_ITALIC, boldItalic=SERIF_BOLD_ITALIC
        )
        _fonts_ready = True


def esc(text: object) -> str:
    """Caller text made safe for Paragraph markup: NFC, XML-escaped, newlines as breaks."""
    return escape(nfc(str(text))).replace("\n", "<br/>")


class Styles:
    """The paragraph styles of the forms (built once, after the fonts are registered)."""

    def __init__(self) -> None:
        base = ParagraphStyle("body", fontName=SERIF, fontSize=12.5, leading=16, alignment=TA_LEFT)
        self.body = base
        self.justify = ParagraphStyle("justify", base, alignment=TA_JUSTIFY, firstLineIndent=0)
        # Letters (04, 05): Decree 30 body paragraphs, first line indented, a little apart.
        self.letter = ParagraphStyle("letter", self.justify, firstLineIndent=10 * mm, spaceAfter=4)
        self.centre = ParagraphStyle("centre", base, alignment=TA_CENTER)
        self.head = ParagraphStyle("head", base, fontSize=12, leading=14.5, alignment=TA_CENTER)
        self.head_bold = ParagraphStyle("head_bold", self.head, fontName=SERIF_BOLD)
        self.motto = ParagraphStyle("motto", self.head_bold, fontSize=13, leading=15.5)
        self.date_line = ParagraphStyle(
            "date_line", base, fontName=SERIF_ITALIC, fontSize=13, alignment=TA_CENTER
        )
        self.number_line = ParagraphStyle("number_line", base, fontSize=13, alignment=TA_CENTER)
        self.title = ParagraphStyle(
            "title",
            base,
            fontName=SERIF_BOLD,
            fontSize=14,
            leading=18,
            alignment=TA_CENTER,
            spaceBefore=10,
            spaceAfter=2,
        )
        self.subtitle = ParagraphStyle("subtitle", self.centre, fontSize=13, spaceAfter=6)
        self.note = ParagraphStyle("note", base, fontName=SERIF_ITALIC, fontSize=11, leading=14)
        self.sign_title = ParagraphStyle("sign_title", self.head_bold, fontSize=12.5)
        self.sign_note = ParagraphStyle(
            "sign_note", self.head, fontName=SERIF_ITALIC, fontSize=11.5, leading=14
        )
        self.sign_name = ParagraphStyle("sign_name", self.head_bold, fontSize=12.5)
        self.recipients_head = ParagraphStyle(
            "recipients_head", base, fontName=SERIF_BOLD_ITALIC, fontSize=12, leading=14
        )
        self.recipients = ParagraphStyle("recipients", base, fontSize=11, leading=13)
        self.cell = ParagraphStyle("cell", base, fontSize=11.5, leading=14)
        self.cell_centre = ParagraphStyle("cell_centre", self.cell, alignment=TA_CENTER)
        self.cell_head = ParagraphStyle(
            "cell_head", self.cell_centre, fontName=SERIF_BOLD, fontSize=11.5
        )
        self.small = ParagraphStyle("small", self.cell, fontSize=8.5, leading=10.2)
        self.small_centre = ParagraphStyle("small_centre", self.small, alignment=TA_CENTER)
        self.small_head = ParagraphStyle(
            "small_head", self.small_centre, fontName=SERIF_BOLD, fontSize=8.5
        )


_styles: Styles | None = None


def styles() -> Styles:
    """The shared styles (fonts registered on first use)."""
    global _styles
    if _styles is None:
        register_fonts()
        _styles = Styles()
    return _styles


def para(markup: str, style: ParagraphStyle) -> Paragraph:
    """A Paragraph from markup the caller has already escaped (see ``esc``)."""
    return Paragraph(markup, style)


def text(value: object, style: ParagraphStyle) -> Paragraph:
    """A Paragraph of plain caller text."""
    return Paragraph(esc(value), style)


def line(label: str, value: str, *, bold: bool = False, style: ParagraphStyle | None = None):
    """ "Label: value" — the label is ours (markup allowed), the value is caller text."""
    value_markup = esc(value)
    if bold:
        value_markup = f"<b>{value_markup}</b>"
    return Paragraph(f"{label}: {value_markup}", style or styles().body)


class Rule(Flowable):
    """A short centred line under a heading block (its own gaps, unlike HRFlowable, whose
    spacing table cells ignore)."""

    def __init__(self, width: float, *, above: float = 3, below: float = 4, thickness=0.6):
        super().__init__()
        self.rule_width = width
        self.above = above
        self.below = below
        self.thickness = thickness

    def wrap(self, avail_width, avail_height):
        self.avail_width = avail_width
        return avail_width, self.above + self.below

    def draw(self) -> None:
        x0 = (self.avail_width - self.rule_width) / 2
        self.canv.setLineWidth(self.thickness)
        self.canv.line(x0, self.below, x0 + self.rule_width, self.below)


def header(agency: AgencyHeader, *, frame_width: float, number_line: str, date_line: str) -> Table:
    """The Decree 30 header: agency block left, national motto right, number and date below."""
    st = styles()
    left_w = frame_width * 0.42
    right_w = frame_width - left_w
    agency_name = nfc(agency.agency_name).upper()
    name_w = min(pdfmetrics.stringWidth(agency_name, SERIF_BOLD, st.head_bold.fontSize), left_w)
    motto_w = pdfmetrics.stringWidth(MOTTO, SERIF_BOLD, st.motto.fontSize)
    left = [
        text(nfc(agency.governing_body).upper(), st.head),
        text(agency_name, st.head_bold),
        Rule(max(name_w / 3, 15 * mm)),
        text(number_line, st.number_line),
    ]
    right = [
        para(NATION, st.head_bold),
        para(MOTTO, st.motto),
        Rule(motto_w),
        text(date_line, st.date_line),
    ]
    table = Table([[left, right]], colWidths=[left_w, right_w])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return table


def number_line(number: str, suffix: str, unit_abbr: str) -> str:
    """ "Số: 125/PBS-TTPVHCC", or the blank to fill by hand ("Số: ……/PBS-TTPVHCC")."""
    if nfc(number).strip():
        return f"Số: {nfc(number).strip()}"
    tail = "-".join(part for part in (suffix, nfc(unit_abbr).strip()) if part)
    return f"Số: ……/{tail}" if tail else "Số: ……"


def title(value: str, subtitle: str = "") -> list[Flowable]:
    st = styles()
    out: list[Flowable] = [text(value, st.title)]
    if subtitle:
        out.append(text(subtitle, st.subtitle))
    else:
        out.append(Spacer(1, 6))
    return out


def signature(title_text: str, name: str = "", note: str = "(Ký, ghi rõ họ tên)") -> list:
    st = styles()
    return [
        text(nfc(title_text).upper(), st.sign_title),
        text(note, st.sign_note),
        Spacer(1, 20 * mm),
        text(name, st.sign_name),
    ]


def signatures(blocks: Sequence[list], *, frame_width: float) -> KeepTogether:
    """Signature blocks side by side; a single block sits in the right half."""
    cells = list(blocks)
    if len(cells) == 1:
        cells = ["", cells[0]]
    width = frame_width / len(cells)
    table = Table([cells], colWidths=[width] * len(cells))
    table.setStyle(_plain_style())
    return KeepTogether([Spacer(1, 8), table])


def recipients_and_signature(
    recipients: Sequence[str], block: list, *, frame_width: float
) -> KeepTogether:
    """Decree 30 foot: "Nơi nhận:" list on the left, the signature on the right."""
    st = styles()
    left: list[Flowable] = [para("Nơi nhận:", st.recipients_head)]
    left += [text(f"- {item}", st.recipients) for item in recipients]
    table = Table([[left, block]], colWidths=[frame_width * 0.45, frame_width * 0.55])
    table.setStyle(_plain_style())
    return KeepTogether([Spacer(1, 8), table])


def _plain_style() -> TableStyle:
    return TableStyle(
        [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("RIGHTPADDING", (0, 0), (-1, -1), 0),
        ]
    )


def grid(
    rows: list[list],
    col_widths: Sequence[float],
    *,
    header_rows: int = 1,
    spans: Sequence[tuple[tuple[int, int], tuple[int, int]]] = (),
    extra: Sequence[tuple] = (),
) -> Table:
    """A ruled table whose header rows repeat on every page it spills onto."""
    table = Table(rows, colWidths=list(col_widths), repeatRows=header_rows, splitByRow=1)
    commands = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("VALIGN", (0, header_rows), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING / 2),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING / 2),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    commands += [("SPAN", start, end) for start, end in spans]
    commands += list(extra)
    table.setStyle(TableStyle(commands))
    return table


def build_pdf(
    story: list[Flowable],
    *,
    doc_title: str,
    form_label: str,
    is_landscape: bool = False,
    author: str = "",
    subject: str = "",
) -> bytes:
    """Lay ``story`` out on A4 and return the PDF bytes.

    ``form_label`` ("Mẫu số 01") goes in the top right corner of the first page; later pages get
    their number centred at the top, as Decree 30 asks.
    """
    register_fonts()
    pagesize = landscape(A4) if is_landscape else A4
    margins = LANDSCAPE_MARGINS if is_landscape else PORTRAIT_MARGINS
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        title=nfc(doc_title),
        author=nfc(author),
        subject=nfc(subject),
        creator="motcua",
        producer="motcua (ReportLab)",
        lang="vi-VN",
        displayDocTitle=1,
        pageCompression=1,
        **margins,
    )
    width, height = pagesize

    def first_page(canvas, doc_) -> None:
        canvas.saveState()
        canvas.setFont(SERIF_BOLD, 11)
        canvas.drawRightString(width - margins["rightMargin"], height - 11 * mm, nfc(form_label))
        canvas.restoreState()

    def later_pages(canvas, doc_) -> None:
        canvas.saveState()
        canvas.setFont(SERIF, 12)
        canvas.drawCentredString(width / 2, height - 11 * mm, str(doc_.page))
        canvas.restoreState()

    doc.build(story, onFirstPage=first_page, onLaterPages=later_pages)
    return buffer.getvalue()


def frame_width(is_landscape: bool = False) -> float:
    """The usable width between the margins (less the frame's own 6 pt padding each side)."""
    margins = LANDSCAPE_MARGINS if is_landscape else PORTRAIT_MARGINS
    page_width = landscape(A4)[0] if is_landscape else A4[0]
    return page_width - margins["leftMargin"] - margins["rightMargin"] - 2 * FRAME_PADDING
