"""Shared test configuration.

``pdfcheck``: reading back the PDFs under test (tests are imported with
``--import-mode=importlib``, so shared helpers reach test modules as fixtures).
``rscript``: runs an R script with the ``survey`` package (independent statistical
software); skipped with the reason where Rscript or the package is missing, unless
``REQUIRE_R=1`` (set by ``.ci/run``), where that is a failure.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest


class PdfCheck:
    """Page text (pdftotext), QR codes (pdftoppm at 150 dpi, then zbar) and fonts (pypdf)."""

    @staticmethod
    def page_count(pdf: Path) -> int:
        from pypdf import PdfReader

        return len(PdfReader(pdf).pages)

    @staticmethod
    def text(pdf: Path, first: int | None = None, last: int | None = None, raw=False) -> str:
        """The text of pages ``first``..``last`` (1-based; all pages by default)."""
        pages = ["-f", str(first), "-l", str(last or first)] if first else []
        options = ["-raw"] if raw else []
        return subprocess.run(
            ["pdftotext", *options, *pages, str(pdf), "-"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    @classmethod
    def page_texts(cls, pdf: Path) -> list[str]:
        """Each page's text in content-stream order (``pdftotext -raw``)."""
        return [cls.text(pdf, n, n, raw=True) for n in range(1, cls.page_count(pdf) + 1)]

    @staticmethod
    def qr_codes(pdf: Path, page: int, workdir: Path) -> list[str]:
        """The QR codes zbar reads on ``page`` (1-based) rendered at 150 dpi."""
        from PIL import Image
        from pyzbar.pyzbar import decode

        prefix = Path(workdir) / f"{Path(pdf).stem}-{page}"
        subprocess.run(
            ["pdftoppm", "-r", "150", "-png", "-singlefile", "-f", str(page), "-l", str(page)]
            + [str(pdf), str(prefix)],
            check=True,
        )
        image = Image.open(f"{prefix}.png")
        return [symbol.data.decode("utf-8") for symbol in decode(image) if symbol.type == "QRCODE"]

    @staticmethod
    def embedded_fonts(pdf) -> dict[str, bool]:
        """BaseFont → has an embedded TrueType file, for every font the pages and forms use."""
        from pypdf import PdfReader

        found: dict[str, bool] = {}

        def visit(resources):
            resources = resources.get_object() if resources is not None else {}
            for font in (resources.get("/Font") or {}).values():
                font = font.get_object()
                descriptor = font.get("/FontDescriptor")
                embedded = descriptor is not None and "/FontFile2" in descriptor.get_object()
                found[str(font["/BaseFont"])] = embedded
            for xobject in (resources.get("/XObject") or {}).values():
                xobject = xobject.get_object()
                if xobject.get("/Subtype") == "/Form":
                    visit(xobject.get("/Resources"))

        for page in PdfReader(pdf).pages:
            visit(page.get("/Resources"))
        return found


@pytest.fixture(scope="session")
def pdfcheck() -> type[PdfCheck]:
    return PdfCheck


class RScript:
    """Runs one R script (keep it to one run per test module: R starts in ~1 s)."""

    def __init__(self, executable: str):
        self.executable = executable

    def run(self, script: str, workdir: Path) -> str:
        path = Path(workdir) / "check.R"
        path.write_text(script, encoding="utf-8")
        done = subprocess.run(
            [self.executable, "--vanilla", str(path)],
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            raise AssertionError(f"R failed:\n{done.stderr[-4000:]}")
        return done.stdout


def _r_unavailable(packages: tuple[str, ...]) -> str | None:
    executable = shutil.which("Rscript")
    if executable is None:
        return "Rscript is not installed (apt-get install r-base-core r-cran-survey)"
    check = "; ".join(f"library({p})" for p in packages)
    done = subprocess.run(
        [executable, "--vanilla", "-e", check], capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        return (
            f"R packages {', '.join(packages)} are not installed (r-cran-survey, r-cran-sampling)"
        )
    return None


@pytest.fixture(scope="session")
def rscript() -> RScript:
    reason = _r_unavailable(("survey",))
    if reason:
        if os.environ.get("REQUIRE_R") == "1":
            pytest.fail(f"REQUIRE_R=1: {reason}")
        pytest.skip(reason)
    return RScript(shutil.which("Rscript"))
