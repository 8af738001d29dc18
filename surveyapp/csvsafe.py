"""Spreadsheet-safe CSV (and XLSX cell) values: no formula injection.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return may be run as a
formula by Excel or LibreOffice (OWASP "CSV injection"). :func:`neutralise` prefixes such
text with an apostrophe, which spreadsheets show as plain text. Numbers are left alone
(a negative number is not a formula). Exports in every blueprint use these helpers;
the libraries' files use the same rule (``sampling.spreadsheet_safe_frame``,
``scoring_bridge.xlsx.write_csv`` and ``write_xlsx``). :func:`restore` undoes it for a file
the service reads back (the results bundle's ``units.csv``).
"""

import csv
import io
from collections.abc import Iterable, Sequence

from flask import Response

# One rule for the libraries' files and the app's downloads: sampling's.
from sampling import neutralise_formula as neutralise
from sampling.text import _FORMULA_START

# Excel opens UTF-8 CSV correctly only with a byte-order mark.
UTF8_BOM = "\ufeff"


def restore(text: str) -> str:
    """The text :func:`neutralise` was given (a quote before a formula start removed)."""
    if text.startswith("'") and text[1:].startswith(_FORMULA_START):
        return text[1:]
    return text


def safe_row(row: Iterable) -> list:
    return [neutralise("" if value is None else value) for value in row]


def write_csv(
    rows: Iterable[Sequence], header: Sequence[str] | None = None, bom: bool = True
) -> str:
    """CSV text (with a BOM for Excel by default) with every cell neutralised."""
    buffer = io.StringIO()
    if bom:
        buffer.write(UTF8_BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    if header is not None:
        writer.writerow(safe_row(header))
    for row in rows:
        writer.writerow(safe_row(row))
    return buffer.getvalue()


def csv_response(rows: Iterable[Sequence], header: Sequence[str], filename: str):
    """A Flask download response for ``rows`` (filename is ASCII-safe by the caller)."""

    return Response(
        write_csv(rows, header),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
