"""Benchmark: personalised copies of sipas-citizen with QR codes, pages per second.

In one run, on the same N copies (URL + short code each), written to files in a temporary
directory (deleted afterwards):

* naive baseline: reportlab canvas, every page drawn text line by text line with a box
  per answer, QR code from ``qrcode`` with default settings (automatic version and mask)
  drawn as an image, one process. It prints the same number of pages per copy as ours.
* ours, one PDF: ``questionnaires.render_batch(fmt="pdf")`` (pages laid out once as form
  XObjects, QR plan fixed for the batch, QR as one vector path), one process;
* ours, one PDF with page compression off (same code through the lower-level API);
* ours, ZIP of one PDF per copy: ``render_batch(fmt="zip")`` (byte-level template), with 1
  and 2 worker processes.

Pages/s counts all pages of all copies. Each output is checked: page count, and the QR of
the last copy decoded back to its URL with zbar.

    python bench/bench_pdf.py                     # the real run: 10,000 copies
    python bench/bench_pdf.py --copies 500        # quick look
    python bench/bench_pdf.py --baseline-copies 2000   # shorter baseline (it is slow)
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path

import qrcode
from PIL import Image
from pypdf import PdfReader
from pyzbar.pyzbar import decode
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from questionnaires import fonts, load_builtin, render_batch
from questionnaires.pdf import PageFormCanvas, QuestionnaireLayout
from questionnaires.qr import QrPlan

BASE_URL = "https://khaosat.sonoivu.example.gov.vn/s/"


def entries(count: int) -> list[tuple[str, str]]:
    codes = [f"{n // 10000:04d}-{n % 10000:04d}" for n in range(count)]
    return [(BASE_URL + code, code) for code in codes]


# ------------------------------------------------------------------------- baseline


def baseline_lines(questionnaire) -> list[tuple[str, bool]]:
    """(text, is_answer) lines of the questionnaire: each question, then its answers."""
    lines = []
    for number, question in enumerate(questionnaire.questions(), 1):
        lines.append((f"Câu {number}. {question.text.get('vi')}"[:110], False))
        for item in question.items:
            lines.append((item.text.get("vi")[:100], True))
        for choice in question.all_choices():
            lines.append((f"{choice.code}. {choice.label.get('vi')}"[:100], True))
    return lines


def render_baseline(questionnaire, copies, pages_per_copy: int, path: Path) -> int:
    """The naive renderer: redraw everything for every copy, default ``qrcode``."""
    lines = baseline_lines(questionnaire)
    per_page = -(-len(lines) // pages_per_copy)
    canvas = Canvas(str(path), initialFontName=fonts.REGULAR)
    pages = 0
    for url, code in copies:
        image = qrcode.make(url).get_image()  # default settings: fitted version, best mask
        for page in range(pages_per_copy):
            canvas.setFont(fonts.BOLD, 9)
            canvas.drawString(20 * mm, 285 * mm, f"{questionnaire.id} {questionnaire.version}")
            canvas.drawRightString(
                190 * mm, 285 * mm, f"Mã phiếu: {code}  Trang {page + 1}/{pages_per_copy}"
            )
            y = 270 * mm
            if page == 0:
                canvas.drawImage(ImageReader(image), 150 * mm, 230 * mm, 40 * mm, 40 * mm)
                canvas.setFont(fonts.CODE, 14)
                canvas.drawString(150 * mm, 224 * mm, code)
                y = 215 * mm
            canvas.setFont(fonts.REGULAR, 8)
            for text, is_answer in lines[page * per_page : (page + 1) * per_page]:
                if is_answer:
                    canvas.rect(24 * mm, y - 0.5 * mm, 3 * mm, 3 * mm)
                    canvas.drawString(29 * mm, y, text)
                else:
                    canvas.drawString(20 * mm, y, text)
                y -= 4.5 * mm
            canvas.showPage()
            pages += 1
    canvas.save()
    return pages


# ------------------------------------------------------------------------- ours


def render_uncompressed(questionnaire, copies, path: Path) -> int:
    layout = QuestionnaireLayout(questionnaire, personalised=True)
    plan = QrPlan.for_texts(url for url, _ in copies)
    canvas = PageFormCanvas(str(path), pageCompression=0)
    pages = sum(
        layout.draw_copy(canvas, url=url, code=code, matrix=plan.matrix(url))
        for url, code in copies
    )
    canvas.save()
    return pages


# ------------------------------------------------------------------------- checks


def decode_page(pdf: Path, page: int) -> list[str]:
    prefix = pdf.with_suffix(f".p{page}")
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "150",
            "-png",
            "-singlefile",
            "-f",
            str(page),
            "-l",
            str(page),
            str(pdf),
            str(prefix),
        ],
        check=True,
    )
    image = Image.open(f"{prefix}.png")
    return [symbol.data.decode() for symbol in decode(image) if symbol.type == "QRCODE"]


def check_single_pdf(path: Path, copies, pages: int) -> str:
    reader = PdfReader(path)
    assert len(reader.pages) == pages, (len(reader.pages), pages)
    pages_per_copy = pages // len(copies)
    last_first_page = pages - pages_per_copy + 1
    assert decode_page(path, last_first_page) == [copies[-1][0]]
    return f"{len(reader.pages)} pages, last QR ok"


def check_zip(path: Path, copies, pages: int) -> str:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert len(names) == len(copies)
        last = path.with_name("last.pdf")
        last.write_bytes(archive.read(names[-1]))
    per_copy = len(PdfReader(last).pages)
    assert per_copy * len(copies) == pages
    assert decode_page(last, 1) == [copies[-1][0]]
    return f"{len(names)} files x {per_copy} pages, last QR ok"


def timed(label, function, check, rows):
    started = time.perf_counter()
    pages = function()
    seconds = time.perf_counter() - started
    verdict = check(pages)
    rows.append((label, pages, seconds, pages / seconds))
    print(
        f"{label:<44} {pages:>7} pages {seconds:>8.1f} s {pages / seconds:>8.0f} pages/s  ({verdict})",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=10_000)
    parser.add_argument(
        "--baseline-copies",
        type=int,
        default=None,
        help="copies for the naive baseline (default: --copies)",
    )
    args = parser.parse_args()
    questionnaire = load_builtin("sipas-citizen")
    copies = entries(args.copies)
    baseline_copies = copies[: args.baseline_copies or args.copies]
    pages_per_copy = render_batch(questionnaire, copies[:1], io.BytesIO()).pages
    print(
        f"sipas-citizen {questionnaire.version}: {pages_per_copy} pages per copy; {os.cpu_count()} cores"
    )
    rows: list = []
    with tempfile.TemporaryDirectory() as directory:
        out = Path(directory)
        timed(
            f"naive baseline ({len(baseline_copies)} copies)",
            lambda: render_baseline(
                questionnaire, baseline_copies, pages_per_copy, out / "naive.pdf"
            ),
            lambda pages: check_single_pdf(out / "naive.pdf", baseline_copies, pages),
            rows,
        )
        timed(
            f"ours: one PDF, 1 process ({len(copies)} copies)",
            lambda: render_batch(questionnaire, copies, out / "ours.pdf").pages,
            lambda pages: check_single_pdf(out / "ours.pdf", copies, pages),
            rows,
        )
        (out / "ours.pdf").unlink()
        timed(
            "ours: one PDF, page compression off",
            lambda: render_uncompressed(questionnaire, copies, out / "plain.pdf"),
            lambda pages: check_single_pdf(out / "plain.pdf", copies, pages),
            rows,
        )
        (out / "plain.pdf").unlink()
        for workers in (1, 2):
            name = f"ours{workers}.zip"
            timed(
                f"ours: ZIP of PDFs, {workers} process(es)",
                lambda name=name, workers=workers: (
                    render_batch(
                        questionnaire, copies, out / name, fmt="zip", workers=workers
                    ).pages
                ),
                lambda pages, name=name: check_zip(out / name, copies, pages),
                rows,
            )
            size = (out / name).stat().st_size
            print(f"    ZIP size {size / 1e6:.0f} MB ({size / len(copies) / 1e3:.0f} kB per copy)")
            (out / name).unlink()
    baseline_rate = rows[0][3]
    print("\n| Renderer | Pages | Seconds | Pages/s | vs baseline |\n|---|---:|---:|---:|---:|")
    for label, pages, seconds, rate in rows:
        print(
            f"| {label} | {pages:,} | {seconds:.1f} | {rate:,.0f} | {rate / baseline_rate:.1f}x |"
        )


if __name__ == "__main__":
    main()
