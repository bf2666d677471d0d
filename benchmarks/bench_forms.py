"""How long one official form takes to render as a PDF (the receipt, Mẫu 01, is printed at the
counter while the citizen waits). Replaces a timed test: speed is measured here, not asserted.

    .venv/bin/python benchmarks/bench_forms.py [--repeat 50]

Prints the median and p95 per form, with a baseline (an empty reportlab page) measured in the
same run, so the figures read as ratios on a shared machine.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from reportlab.pdfgen import canvas  # noqa: E402

from motcua.printing.pdf import render_pdf  # noqa: E402
from tests.printing.test_forms import CONTEXTS  # noqa: E402


def _time(fn, repeat: int) -> tuple[float, float]:
    fn()  # fonts and layouts loaded
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(0.95 * (len(timings) - 1))]


def _empty_page() -> bytes:
    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, "motcua")
    page.save()
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    base_median, base_p95 = _time(_empty_page, args.repeat)
    print(f"{'form':<10} {'median ms':>10} {'p95 ms':>10} {'× baseline':>11}")
    print(f"{'baseline':<10} {base_median:>10.2f} {base_p95:>10.2f} {1:>11.1f}")
    for form, ctx in sorted(CONTEXTS.items()):
        median, p95 = _time(lambda ctx=ctx: render_pdf(ctx), args.repeat)
        print(f"{'Mẫu ' + form:<10} {median:>10.2f} {p95:>10.2f} {median / base_median:>11.1f}")


if __name__ == "__main__":
    main()
