"""QR codes for personalised questionnaires and invitations, drawn as vector paths.

``qrcode`` spends most of its time choosing the symbol version and the mask pattern
(it tries each one in turn). A batch therefore chooses both once, from its
longest URL (:class:`QrPlan`), and makes every code with them; a URL that does not fit the
chosen version falls back to automatic fitting. The modules are drawn in reportlab as one path
of rectangles (one rectangle per horizontal run of dark modules), never as an image, so the
code stays sharp at any print resolution and costs a few hundred path operators.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import qrcode
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q
from qrcode.exceptions import DataOverflowError

from questionnaires.errors import QuestionnaireError

#: Light modules around the symbol required by ISO/IEC 18004 for reliable scanning.
QUIET_ZONE_MODULES = 4

_ERROR_CORRECTION = {
    "L": ERROR_CORRECT_L,
    "M": ERROR_CORRECT_M,
    "Q": ERROR_CORRECT_Q,
    "H": ERROR_CORRECT_H,
}

Matrix = list[list[bool]]


class QrCodeError(QuestionnaireError):
    """The text cannot be encoded as a QR code (empty, or too long for any version)."""


def _error_correction_constant(level: str) -> int:
    try:
        return _ERROR_CORRECTION[level.upper()]
    except (KeyError, AttributeError):
        raise QrCodeError(
            f"Mức sửa lỗi QR không hợp lệ: {level!r} (dùng L, M, Q hoặc H). / "
            f"Invalid QR error-correction level {level!r} (use L, M, Q or H)."
        ) from None


def _new_code(data: str, level: str, version: int | None, mask_pattern: int | None):
    if not data:
        raise QrCodeError("Nội dung mã QR trống. / The QR code text is empty.")
    code = qrcode.QRCode(
        version=version,
        error_correction=_error_correction_constant(level),
        border=0,
        mask_pattern=mask_pattern,
    )
    # Byte mode only (optimize=0): the encoded length then grows with the text length, which
    # is what lets a batch size its version from the longest URL.
    code.add_data(data, optimize=0)
    return code


def qr_matrix(
    data: str,
    *,
    error_correction: str = "M",
    version: int | None = None,
    mask_pattern: int | None = None,
) -> Matrix:
    """Return the module matrix (True = dark) of the QR code for ``data``, without quiet zone.

    With ``version`` and ``mask_pattern`` given, ``qrcode`` skips its search (fast path);
    a ``version`` too small for the data raises :class:`QrCodeError`.
    """
    code = _new_code(data, error_correction, version, mask_pattern)
    try:
        code.make(fit=version is None)
    except (DataOverflowError, ValueError) as exc:
        raise QrCodeError(
            f"Nội dung quá dài cho mã QR ({len(data)} ký tự). / "
            f"Text too long for a QR code ({len(data)} characters): {exc}"
        ) from exc
    return [list(row) for row in code.modules]


@dataclass(frozen=True)
class QrPlan:
    """A version and mask pattern chosen once and reused for a whole batch of codes."""

    error_correction: str = "M"
    version: int | None = None
    mask_pattern: int | None = None

    @classmethod
    def for_texts(cls, texts: Iterable[str], *, error_correction: str = "M") -> QrPlan:
        """Size the plan for the longest text (in UTF-8 bytes) among ``texts``."""
        longest = max(texts, key=lambda text: len(text.encode("utf-8")), default="")
        if not longest:
            return cls(error_correction=error_correction)
        code = _new_code(longest, error_correction, None, None)
        try:
            code.make(fit=True)  # one full search: best version and mask for the longest text
        except DataOverflowError as exc:
            raise QrCodeError(
                f"URL quá dài cho mã QR ({len(longest)} ký tự). / "
                f"URL too long for a QR code ({len(longest)} characters)."
            ) from exc
        return cls(
            error_correction=error_correction,
            version=code.version,
            mask_pattern=code.mask_pattern if code.mask_pattern is not None else _mask_of(code),
        )

    def matrix(self, data: str) -> Matrix:
        """The matrix for ``data`` with this plan, or automatic fitting if it does not fit."""
        if self.version is None:
            return qr_matrix(data, error_correction=self.error_correction)
        try:
            return qr_matrix(
                data,
                error_correction=self.error_correction,
                version=self.version,
                mask_pattern=self.mask_pattern,
            )
        except QrCodeError:
            return qr_matrix(data, error_correction=self.error_correction)


def _mask_of(code) -> int:
    # qrcode chooses the mask inside make() without storing it; best_mask_pattern() repeats
    # that choice for the data already added.
    return code.best_mask_pattern()


_DARK_RUN = re.compile(rb"\x01+")


def dark_runs(matrix: Sequence[Sequence[bool]]) -> list[tuple[int, int, int]]:
    """Horizontal runs of dark modules as ``(row, first_column, length)``."""
    runs = []
    for row_index, row in enumerate(matrix):
        # bytes([True, False]) == b"\x01\x00": the regex engine finds the runs in C.
        for run in _DARK_RUN.finditer(bytes(row)):
            runs.append((row_index, run.start(), run.end() - run.start()))
    return runs


@functools.lru_cache(maxsize=32)
def _coordinates(count: int, x: float, y: float, size: float):
    """Formatted module coordinates for a symbol of ``count`` modules: every code of a batch
    has the same size and place, so the numbers are formatted once, not per rectangle."""
    module = size / (count + 2 * QUIET_ZONE_MODULES)
    top = y + size - QUIET_ZONE_MODULES * module
    left = x + QUIET_ZONE_MODULES * module
    columns = tuple(f"{left + column * module:.3f}" for column in range(count))
    rows = tuple(f"{top - (row + 1) * module:.3f}" for row in range(count))
    lengths = tuple(f"{length * module:.3f}" for length in range(count + 1))
    return columns, rows, lengths, f"{module:.3f}"


def qr_operators(matrix: Sequence[Sequence[bool]], x: float, y: float, size: float) -> str:
    """PDF content operators drawing ``matrix`` with its quiet zone in the square of side
    ``size`` at (x, y) (bottom left): a white square, then one filled path of rectangles.

    The quiet zone is painted white so the code scans on a tinted background too. The
    operators are self-contained (``q ... Q``), so they can go into any content stream.
    """
    columns, rows, lengths, module = _coordinates(len(matrix), x, y, size)
    parts = [f"q 1 g {x:.3f} {y:.3f} {size:.3f} {size:.3f} re f 0 g"]
    parts.extend(
        f"{columns[column]} {rows[row]} {lengths[length]} {module} re"
        for row, column, length in dark_runs(matrix)
    )
    parts.append("f Q")
    return "\n".join(parts)


def draw_qr(canvas, matrix: Sequence[Sequence[bool]], x: float, y: float, size: float) -> None:
    """Draw ``matrix`` (see :func:`qr_operators`) on a reportlab canvas, as vector paths."""
    canvas.addLiteral(qr_operators(matrix, x, y, size))
