"""Small server-side SVG charts for the monitoring pages: no JavaScript, no external asset.

Each chart is an ``<svg role="img">`` named by its ``<title>`` and described by its ``<desc>``
(``aria-labelledby``), so a screen reader announces what it shows; the pages put a data table
next to each chart as its text alternative. Bars carry their value as text, colours are not the
only cue (values are printed, series are named in a legend with their pattern of text).

An image is not interactive (no link inside it: axe's nested-interactive rule); the table next
to it carries the links to the dossiers behind each figure.

Three kinds: horizontal bars (a rate per agency), a line chart (a monthly trend) and stacked
columns (channel mix per month). The output is markup-safe (every label is escaped).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

_ids = itertools.count(1)

# Colours with at least 3:1 contrast on white (WCAG 1.4.11 for graphics).
PALETTE = ("#1d5fa8", "#b45309", "#2f7d32", "#7b3fa0", "#b3261e")
GRID = "#c7ccd1"
TEXT = "#1f2328"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    text: str = ""  # the value as shown (default: the value with the unit)


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _open(kind: str, width: int, height: int, title: str, desc: str) -> tuple[list[str], str]:
    ident = f"chart-{kind}-{next(_ids)}"
    parts = [
        f'<svg class="chart chart-{kind}" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="{ident}-t {ident}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{ident}-t">{escape(title)}</title>',
        f'<desc id="{ident}-d">{escape(desc)}</desc>',
    ]
    return parts, ident


def bar_chart(
    title: str,
    desc: str,
    bars: Sequence[Bar],
    *,
    maximum: float = 100.0,
    unit: str = "%",
    target: float | None = None,
    target_label: str = "",
) -> SafeString:
    """Horizontal bars, one per item (a label on the left, the value at the bar's end)."""
    label_w, bar_w, row_h, top = 280, 380, 24, 8
    width = label_w + bar_w + 70
    height = top + row_h * max(len(bars), 1) + 24
    parts, _ident = _open("bar", width, height, title, desc)
    for tick in range(0, 101, 25):
        x = label_w + bar_w * tick / 100
        parts.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{height - 20}" '
            f'stroke="{GRID}" stroke-width="1"/>'
            f'<text x="{x:.1f}" y="{height - 6}" font-size="11" text-anchor="middle" '
            f'fill="{TEXT}">{_num(maximum * tick / 100)}{escape(unit)}</text>'
        )
    for index, bar in enumerate(bars):
        y = top + index * row_h
        label = bar.label if len(bar.label) <= 42 else bar.label[:41] + "…"
        text = bar.text or ("—" if bar.value is None else f"{_num(bar.value)}{unit}")
        length = 0.0 if bar.value is None else bar_w * max(0.0, min(bar.value, maximum)) / maximum
        row = (
            f'<text x="{label_w - 8}" y="{y + 16}" font-size="12" text-anchor="end" '
            f'fill="{TEXT}">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{length:.1f}" height="{row_h - 8}" '
            f'fill="{PALETTE[0]}"/>'
            f'<text x="{label_w + length + 6:.1f}" y="{y + 16}" font-size="12" '
            f'fill="{TEXT}">{escape(text)}</text>'
        )
        parts.append(row)
    if target is not None:
        x = label_w + bar_w * min(target, maximum) / maximum
        parts.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{height - 20}" stroke="{PALETTE[4]}" '
            f'stroke-width="2" stroke-dasharray="4 3"><title>{escape(target_label)}</title></line>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every caller text above is escaped


def line_chart(
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    maximum: float = 100.0,
    minimum: float = 0.0,
    unit: str = "%",
) -> SafeString:
    """One line per series over ``labels`` (months); gaps where a value is missing."""
    left, right, top, bottom = 48, 16, 12, 58
    width, height = 720, 280
    plot_w, plot_h = width - left - right, height - top - bottom
    parts, _ident = _open("line", width, height, title, desc)
    span = (maximum - minimum) or 1.0

    def y_of(value: float) -> float:
        return top + plot_h * (1 - (min(max(value, minimum), maximum) - minimum) / span)

    for tick in range(5):
        value = minimum + span * tick / 4
        y = y_of(value)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="{TEXT}">{_num(value)}{escape(unit)}</text>'
        )
    n = max(len(labels), 1)
    step = plot_w / max(n - 1, 1)
    for index, label in enumerate(labels):
        x = left + step * index if n > 1 else left + plot_w / 2
        parts.append(
            f'<text x="{x:.1f}" y="{height - bottom + 16}" font-size="11" text-anchor="middle" '
            f'fill="{TEXT}">{escape(label)}</text>'
        )
    for s_index, (name, values) in enumerate(series):
        colour = PALETTE[s_index % len(PALETTE)]
        dash = "" if s_index == 0 else ' stroke-dasharray="6 4"'
        segment: list[str] = []
        segments = []
        for index, value in enumerate(values):
            x = left + step * index if n > 1 else left + plot_w / 2
            if value is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            segment.append(f"{x:.1f},{y_of(value):.1f}")
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y_of(value):.1f}" r="3" fill="{colour}">'
                f"<title>{escape(name)} {escape(labels[index])}: {_num(value)}{escape(unit)}"
                "</title></circle>"
            )
        if segment:
            segments.append(segment)
        for points in segments:
            if len(points) > 1:
                parts.append(
                    f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" '
                    f'stroke-width="2"{dash}/>'
                )
        lx = left + 180 * s_index
        parts.append(
            f'<line x1="{lx}" y1="{height - 14}" x2="{lx + 24}" y2="{height - 14}" '
            f'stroke="{colour}" stroke-width="2"{dash}/>'
            f'<text x="{lx + 30}" y="{height - 10}" font-size="12" fill="{TEXT}">'
            f"{escape(name)}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every caller text above is escaped


def stacked_columns(
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
) -> SafeString:
    """Columns of shares (each column sums to 100%), one segment per series, with the legend."""
    left, right, top, bottom = 48, 16, 12, 58
    width, height = 720, 280
    plot_w, plot_h = width - left - right, height - top - bottom
    parts, _ident = _open("stacked", width, height, title, desc)
    for tick in range(0, 101, 25):
        y = top + plot_h * (1 - tick / 100)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="{TEXT}">{tick}%</text>'
        )
    n = max(len(labels), 1)
    slot = plot_w / n
    col_w = min(36.0, slot * 0.7)
    for index, label in enumerate(labels):
        total = sum(values[index] for _name, values in series)
        x = left + slot * index + (slot - col_w) / 2
        y = top + plot_h
        for s_index, (name, values) in enumerate(series):
            value = values[index]
            if not total or not value:
                continue
            share = value / total
            h = plot_h * share
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{col_w:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[s_index % len(PALETTE)]}" stroke="#ffffff" stroke-width="0.5">'
                f"<title>{escape(label)} — {escape(name)}: {value:,} ({share * 100:.1f}%)"
                "</title></rect>"
            )
        parts.append(
            f'<text x="{x + col_w / 2:.1f}" y="{height - bottom + 16}" font-size="11" '
            f'text-anchor="middle" fill="{TEXT}">{escape(label)}</text>'
        )
    for s_index, (name, _values) in enumerate(series):
        lx = left + 170 * s_index
        parts.append(
            f'<rect x="{lx}" y="{height - 22}" width="14" height="14" '
            f'fill="{PALETTE[s_index % len(PALETTE)]}"/>'
            f'<text x="{lx + 20}" y="{height - 10}" font-size="12" fill="{TEXT}">'
            f"{escape(name)}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every caller text above is escaped
