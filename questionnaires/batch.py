"""Batch rendering of personalised questionnaire copies: one PDF, or a ZIP of PDFs.

* One PDF (``fmt="pdf"``): the questionnaire pages are laid out once as form XObjects
  (:class:`~questionnaires.pdf.PageFormCanvas`); each copy adds its QR code and code. One
  process: the work per copy is small and a single output file cannot be split over processes
  without merging, which costs more than it saves (see BENCHMARKS.md).
* A ZIP (``fmt="zip"``): one complete PDF per copy, stamped by pypdf out of a pre-rendered
  booklet (:class:`~questionnaires.pdf_template.BookletTemplate`), in one process by default;
  ``workers`` > 1 splits the copies over processes (BENCHMARKS.md has both).

Both choose the QR version and mask once for the whole batch (:class:`~questionnaires.qr.QrPlan`).
"""

from __future__ import annotations

import csv
import multiprocessing
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from questionnaires.errors import QuestionnaireError
from questionnaires.model import Questionnaire
from questionnaires.pdf import PageFormCanvas, QuestionnaireLayout
from questionnaires.pdf_layout import output_target, web_address_for
from questionnaires.pdf_personal import code_characters
from questionnaires.pdf_template import BookletTemplate
from questionnaires.qr import QrPlan

Progress = Callable[[int, int], None]
FORMATS = ("pdf", "zip")
_CHUNK = 50  # copies per task handed to a worker process


class BatchInputError(QuestionnaireError):
    """The list of URLs and codes for a batch is unusable; the message names row and column."""


@dataclass(frozen=True)
class CopyEntry:
    """One personalised copy: the URL its QR code encodes and the short code printed on it."""

    url: str
    code: str
    addressee: str | None = None
    unit: str | None = None


@dataclass(frozen=True)
class BatchResult:
    copies: int
    pages: int
    files: int


def _clean(value: object) -> str:
    return unicodedata.normalize("NFC", str(value if value is not None else "")).strip()


def read_codes_csv(source: str | Path | IO[str]) -> list[CopyEntry]:
    """Read a CSV with ``url`` and ``code`` columns (optional ``addressee``, ``unit``).

    Every problem (missing column, empty or duplicate value) raises
    :class:`BatchInputError` naming the row and column; nothing is returned partially.
    """
    if isinstance(source, (str, Path)):
        with open(source, encoding="utf-8-sig", newline="") as handle:
            return read_codes_csv(handle)
    reader = csv.DictReader(source)
    columns = {(name or "").strip().lower(): name for name in reader.fieldnames or []}
    missing = [name for name in ("url", "code") if name not in columns]
    if missing:
        raise BatchInputError(
            f"Thiếu cột {', '.join(missing)} trong tệp CSV (cần url, code). / "
            f"Missing column(s) {', '.join(missing)} in the CSV file (url and code are required)."
        )
    entries: list[CopyEntry] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for row_number, row in enumerate(reader, start=2):
        values = {key: _clean(row.get(original)) for key, original in columns.items()}
        for column in ("url", "code"):
            if not values[column]:
                problems.append(
                    f"[dòng {row_number}, cột {column}] trống / [row {row_number}, column {column}] empty"
                )
        code = values["code"]
        if code and code in seen:
            problems.append(
                f"[dòng {row_number}, cột code] mã {code!r} trùng với dòng {seen[code]} / "
                f"[row {row_number}, column code] code {code!r} repeats row {seen[code]}"
            )
        elif code:
            seen[code] = row_number
        url = values["url"]
        if url and not re.match(r"^https?://[^\s/]+", url):
            problems.append(
                f"[dòng {row_number}, cột url] {url!r} không phải địa chỉ http(s) / "
                f"[row {row_number}, column url] {url!r} is not an http(s) address"
            )
        entries.append(
            CopyEntry(url, code, values.get("addressee") or None, values.get("unit") or None)
        )
    if problems:
        shown = "\n".join(problems[:20])
        more = f"\n… (+{len(problems) - 20})" if len(problems) > 20 else ""
        raise BatchInputError(shown + more)
    if not entries:
        raise BatchInputError("Tệp CSV không có dòng nào. / The CSV file has no rows.")
    return entries


def _coerce_entries(entries: Iterable[object]) -> list[CopyEntry]:
    result = []
    for position, item in enumerate(entries, 1):
        if isinstance(item, CopyEntry):
            result.append(item)
            continue
        try:
            url, code = (item["url"], item["code"]) if isinstance(item, dict) else item[:2]
        except (TypeError, KeyError, ValueError):
            raise BatchInputError(
                f"[bản {position}] cần (url, mã). / [copy {position}] expected (url, code): {item!r}"
            ) from None
        if not url or not code:
            raise BatchInputError(
                f"[bản {position}] thiếu URL hoặc mã. / [copy {position}] URL or code missing."
            )
        result.append(CopyEntry(str(url), str(code)))
    if not result:
        raise BatchInputError("Không có bản nào để in. / No copies to render.")
    return result


def render_batch(
    questionnaire: Questionnaire,
    entries: Iterable[object],
    out: str | Path | IO[bytes],
    *,
    fmt: str = "pdf",
    lang: str = "vi",
    progress: Progress | None = None,
    workers: int = 1,
) -> BatchResult:
    """Render one personalised copy per entry (``CopyEntry`` or ``(url, code)``) into ``out``.

    ``fmt="pdf"`` writes all copies into one PDF; ``fmt="zip"`` writes a ZIP with one PDF per
    copy, named ``<n>-<code>.pdf``, using ``workers`` processes (default 1: this process).
    ``progress(done, total)`` is called as copies complete.
    """
    if fmt not in FORMATS:
        raise QuestionnaireError(
            f"Định dạng không hỗ trợ: {fmt!r} (pdf hoặc zip). / Unsupported format {fmt!r}."
        )
    copies = _coerce_entries(entries)
    plan = QrPlan.for_texts(copy.url for copy in copies)
    layout = QuestionnaireLayout(questionnaire, lang=lang, personalised=True)
    out = output_target(out)
    if fmt == "pdf":
        return _render_single_pdf(layout, copies, plan, out, progress)
    return _render_zip(layout, copies, plan, out, progress, workers)


def _render_single_pdf(layout, copies, plan, out, progress) -> BatchResult:
    canvas = PageFormCanvas(out)
    canvas.setTitle(layout.questionnaire.title.get(layout.lang))
    pages = 0
    for done, copy in enumerate(copies, 1):
        pages += layout.draw_copy(
            canvas, url=copy.url, code=copy.code, matrix=plan.matrix(copy.url)
        )
        if progress is not None:
            progress(done, len(copies))
    canvas.save()
    return BatchResult(copies=len(copies), pages=pages, files=1)


# ------------------------------------------------------------------- ZIP of separate PDFs


def _file_name(index: int, code: str, width: int) -> str:
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", code)[:40]
    return f"{index:0{width}d}-{safe}.pdf"


class _CopyStamper:
    """Renders copies from one template per web address (templates made on first use)."""

    def __init__(self, layout: QuestionnaireLayout, plan: QrPlan, characters: str) -> None:
        self.layout = layout
        self.plan = plan
        self.characters = characters
        self.templates: dict[str, BookletTemplate] = {}

    def render(self, copy: CopyEntry) -> bytes:
        web = web_address_for(copy.url)
        template = self.templates.get(web)
        if template is None:
            template = BookletTemplate(self.layout, url=copy.url, characters=self.characters)
            self.templates[web] = template
        return template.render(url=copy.url, code=copy.code, matrix=self.plan.matrix(copy.url))

    def pages(self) -> int:
        return next(iter(self.templates.values())).pages


_worker_stamper: _CopyStamper | None = None


def _init_worker(stamper: _CopyStamper) -> None:
    global _worker_stamper
    _worker_stamper = stamper


def _render_chunk(chunk: Sequence[tuple[int, CopyEntry]]) -> list[tuple[int, bytes, int]]:
    assert _worker_stamper is not None
    results = []
    for index, copy in chunk:
        data = _worker_stamper.render(copy)
        results.append((index, data, _worker_stamper.pages()))
    return results


def _render_zip(layout, copies, plan, out, progress, workers) -> BatchResult:
    stamper = _CopyStamper(layout, plan, code_characters(copy.code for copy in copies))
    width = len(str(len(copies)))
    indexed = list(enumerate(copies, 1))
    chunks = [indexed[start : start + _CHUNK] for start in range(0, len(indexed), _CHUNK)]
    workers = max(1, min(workers, len(chunks)))
    pages = 0
    done = 0
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        if workers == 1:
            results: Iterable[list[tuple[int, bytes, int]]] = (
                _render_chunk_with(stamper, chunk) for chunk in chunks
            )
            pool = None
        else:
            # fork: the workers inherit the questionnaire and the QR plan without pickling.
            context = multiprocessing.get_context("fork")
            pool = context.Pool(workers, initializer=_init_worker, initargs=(stamper,))
            results = pool.imap(_render_chunk, chunks)
        try:
            for chunk_result in results:
                for index, data, copy_pages in chunk_result:
                    archive.writestr(_file_name(index, copies[index - 1].code, width), data)
                    pages += copy_pages
                done += len(chunk_result)
                if progress is not None:
                    progress(done, len(copies))
        finally:
            if pool is not None:
                pool.close()
                pool.join()
    return BatchResult(copies=len(copies), pages=pages, files=len(copies))


def _render_chunk_with(stamper: _CopyStamper, chunk) -> list[tuple[int, bytes, int]]:
    _init_worker(stamper)
    return _render_chunk(chunk)


__all__ = [
    "BatchInputError",
    "BatchResult",
    "CopyEntry",
    "read_codes_csv",
    "render_batch",
]
