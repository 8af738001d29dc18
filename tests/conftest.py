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
import unicodedata
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


class HostileFiles:
    """Small files that once killed workers or filled their memory, built by hand."""

    HEADER = ("Họ và tên", "Số điện thoại", "Đơn vị")

    @staticmethod
    def xlsx(sheet_xml: str, *, extra: dict | None = None) -> bytes:
        """A minimal workbook of one sheet ("DS") whose XML is ``sheet_xml``."""
        import io
        import zipfile

        parts = {
            "[Content_Types].xml": (
                '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
                'openxmlformats.org/package/2006/content-types"><Default Extension="rels" '
                'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml" ContentType="application/xml"/><Override '
                'PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
                'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/'
                'worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
                'officedocument.spreadsheetml.worksheet+xml"/></Types>'
            ),
            "_rels/.rels": (
                '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
                'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
                'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                'officeDocument" Target="xl/workbook.xml"/></Relationships>'
            ),
            "xl/workbook.xml": (
                '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.'
                'openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.'
                'openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet '
                'name="DS" sheetId="1" r:id="rId1"/></sheets></workbook>'
            ),
            "xl/_rels/workbook.xml.rels": (
                '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
                'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
                'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                'worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
            ),
            "xl/worksheets/sheet1.xml": sheet_xml,
            **(extra or {}),
        }
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, text in parts.items():
                archive.writestr(name, text)
        return buffer.getvalue()

    @classmethod
    def sheet(cls, rows: str, dimension: str = "A1:C2", head: str = "") -> str:
        """Sheet XML: the header row, then ``rows`` (XML of row elements)."""
        cells = "".join(
            f'<c r="{col}1" t="inlineStr"><is><t>{text}</t></is></c>'
            for col, text in zip("ABC", cls.HEADER, strict=True)
        )
        return (
            f'<?xml version="1.0" encoding="UTF-8"?>{head}<worksheet xmlns="http://schemas.'
            f'openxmlformats.org/spreadsheetml/2006/main"><dimension ref="{dimension}"/>'
            f'<sheetData><row r="1">{cells}</row>{rows}</sheetData></worksheet>'
        )

    @classmethod
    def row(cls, number: int = 2) -> str:
        values = ("Nguyễn Văn An", "0912345678", "UBND xã A")
        cells = "".join(
            f'<c r="{col}{number}" t="inlineStr"><is><t>{text}</t></is></c>'
            for col, text in zip("ABC", values, strict=True)
        )
        return f'<row r="{number}">{cells}</row>'

    @classmethod
    def good_xlsx(cls) -> bytes:
        return cls.xlsx(cls.sheet(cls.row()))

    @classmethod
    def far_cell_xlsx(cls) -> bytes:
        """A list of one row whose last cell is XFD1048576 (the dimension says A1:C2)."""
        far = '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
        return cls.xlsx(cls.sheet(cls.row() + far))

    @classmethod
    def declared_xlsx(cls, dimension: str = "A1:XFD1048576") -> bytes:
        return cls.xlsx(cls.sheet(cls.row(), dimension=dimension))

    @classmethod
    def far_cell_in_near_row_xlsx(cls) -> bytes:
        """A cell naming row 1,048,576 inside row element 3, columns within limits."""
        return cls.xlsx(cls.sheet(cls.row() + '<row r="3"><c r="C1048576"><v>1</v></c></row>'))

    @classmethod
    def cells_without_references_xlsx(cls, count: int = 100_000) -> bytes:
        """A row of ``count`` cells without references (each takes the next column)."""
        return cls.xlsx(cls.sheet(cls.row() + '<row r="3">' + "<c><v>1</v></c>" * count + "</row>"))

    @classmethod
    def entity_bomb_xlsx(cls) -> bytes:
        """Billion laughs in the sheet's XML."""
        entities = '<!ENTITY a0 "lol">' + "".join(
            f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10)
        )
        head = f"<!DOCTYPE worksheet [{entities}]>"
        row = '<row r="2"><c r="A2" t="inlineStr"><is><t>&a9;</t></is></c></row>'
        return cls.xlsx(cls.sheet(row, head=head))

    @classmethod
    def zip_bomb_xlsx(cls, megabytes: int = 50) -> bytes:
        """A sheet padded with megabytes of spaces (compresses about 1000:1)."""
        padding = " " * (megabytes * 1024 * 1024)
        return cls.xlsx(cls.sheet(cls.row() + padding))

    @classmethod
    def wide_row_csv(cls, fields: int = 1_000_000) -> bytes:
        """A 2 MB list whose second row holds a million fields."""
        return (",".join(cls.HEADER) + "\r\nAn,0912345678,X\r\n" + "," * fields + "\r\n").encode()

    @classmethod
    def wide_header_csv(cls, fields: int = 1_000_000) -> bytes:
        return (",".join(cls.HEADER) + "," * fields + "\r\nAn,0912345678,X\r\n").encode()

    @classmethod
    def long_line_csv(cls, megabytes: int = 15, ragged: bool = False) -> bytes:
        """A list whose third row is a line of ``megabytes`` MB (one cell), with an extra
        field when ``ragged``."""
        cell = "x" * (megabytes * 1024 * 1024)
        extra = ",y" if ragged else ""
        return (
            ",".join(cls.HEADER) + ",Ngày trả kết quả\r\nAn,0912345678,X,15/03/2024\r\n"
            f"{cell},0912345679,X,15/03/2024{extra}\r\n"
        ).encode()

    @classmethod
    def real_list(cls) -> str:
        """A messy but real-looking unit list (CSV text)."""
        rows = ["DANH SÁCH NGƯỜI DÂN ĐÃ GIẢI QUYẾT TTHC", "Họ và tên;Số điện thoại;Địa chỉ;"
                "Mã hồ sơ;Đơn vị;Ngày trả kết quả"]  # fmt: skip
        phones = ["0912 345 678", "+84 98.765.4321", "01662345678", "12345", "", "9,12E+08"]
        for i in range(60):
            name = ["Nguyễn Văn An", "TRẦN THỊ BÌNH", '"Lê; Văn ""C"""', "Phạm  thị dung"][i % 4]
            rows.append(
                f"{name};{phones[i % len(phones)]};Thôn {i % 7};H{i % 50};UBND xã {i % 3};"
                f"{1 + i % 28:02d}/0{1 + i % 9}/2024"
            )
        return "\r\n".join(rows) + "\r\n"

    @classmethod
    def corpus(cls, legacy_encodings, seed: int = 2026) -> dict[str, bytes]:
        """Files a fuzzer would send: the hostile ones above, the real list in wrong
        encodings, truncated, with bytes flipped, inserted and deleted, its workbook
        truncated and its sheet XML mutated, and random bytes."""
        import io
        import random
        import zipfile

        rng = random.Random(seed)
        text = cls.real_list()
        csv_bytes = text.encode("utf-8-sig")
        workbook = cls.xlsx(cls.sheet("".join(cls.row(n) for n in range(2, 40))))
        files = {
            name: getattr(cls, name)()
            for name in (
                "far_cell_xlsx", "declared_xlsx", "far_cell_in_near_row_xlsx",
                "entity_bomb_xlsx", "zip_bomb_xlsx", "wide_row_csv", "wide_header_csv",
                "long_line_csv", "good_xlsx",
            )
        }  # fmt: skip
        files["long_line_ragged_csv"] = cls.long_line_csv(ragged=True)
        files["rless_cells_xlsx"] = cls.xlsx(
            cls.sheet(cls.row() + "<row>" + "<c><v>7</v></c>" * 300 + "</row>")
        )
        for encoding in ("utf-16", "utf-16-le", "utf-16-be", "latin-1", "shift_jis", "utf-32"):
            files[f"list_{encoding}"] = text.encode(encoding, errors="replace")
        files["list_cp1258"] = legacy_encodings.cp1258(text)
        files["list_tcvn3"] = legacy_encodings.tcvn3(text)
        for i in range(25):
            data = bytearray(csv_bytes)
            for _ in range(rng.randint(1, 12)):
                at = rng.randrange(len(data))
                action = rng.choice(["flip", "insert", "delete", "quote", "separator", "nul"])
                if action == "flip":
                    data[at] = rng.randrange(256)
                elif action == "insert":
                    data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 20)))
                elif action == "delete":
                    del data[at : at + rng.randint(1, 50)]
                elif action == "quote":
                    data[at:at] = b'"'
                elif action == "separator":
                    data[at:at] = b";" * rng.randint(1, 400)
                else:
                    data[at:at] = b"\x00"
            files[f"mutated_list_{i}"] = bytes(data)
        for i in range(10):
            files[f"truncated_list_{i}"] = csv_bytes[: rng.randrange(1, len(csv_bytes))]
            files[f"truncated_xlsx_{i}"] = workbook[: rng.randrange(1, len(workbook))]
        with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
            members = {name: archive.read(name) for name in archive.namelist()}
        for i in range(15):
            sheet = bytearray(members["xl/worksheets/sheet1.xml"])
            for _ in range(rng.randint(1, 8)):
                at = rng.randrange(len(sheet))
                sheet[at : at + 1] = rng.choice(
                    [b"<", b">", b'"', b"9999999", b"XFD", b"&", b"<c>", b"</row>", b"\xff"]
                )
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for name, content in members.items():
                    archive.writestr(name, bytes(sheet) if "sheet1" in name else content)
            files[f"mutated_xlsx_{i}"] = buffer.getvalue()
        for i in range(10):
            files[f"random_{i}"] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 5000)))
        files["random_zip_header"] = b"PK\x03\x04" + bytes(rng.randrange(256) for _ in range(3000))
        return files


@pytest.fixture(scope="session")
def hostile():
    return HostileFiles


def _cp1258_bytes(text: str) -> bytes:
    """Windows' Vietnamese code page: vowel letters (â, ê, ô, ơ, ư, ă, đ) are characters of
    the page, tones are combining marks after them."""
    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            base, *marks = unicodedata.normalize("NFD", char)
            shape = "".join(m for m in marks if m not in tones)
            tone = "".join(m for m in marks if m in tones)
            out += unicodedata.normalize("NFC", base + shape).encode("cp1258")
            out += tone.encode("cp1258")
    return bytes(out)


# TCVN3 (TCVN 5712:1993, the "ABC" fonts): lower-case Vietnamese letters and the capitals
# Ă Â Đ Ê Ô Ơ Ư at single bytes (capitals with tones live in separate fonts).
_TCVN3_BYTES = bytes.fromhex(
    "b5b8b6b7b9a8bbbebcbdc6a9c7cac8c9cbaeccd0cecfd1aad2d5d3d4d6d7ddd8dcdedfe3e1e2e4abe5e8e6e7"
    "e9aceaedebeceeeff3f1f2f4adf5f8f6f7f9fafdfbfcfea1a2a7a3a4a5a6"
)
_TCVN3_LETTERS = "àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵĂÂĐÊÔƠƯ"


def _tcvn3_bytes(text: str) -> bytes:
    """Text as a TCVN3 (ABC) file holds it; capitals with tones are written lower-case."""
    table = dict(zip(_TCVN3_LETTERS, _TCVN3_BYTES, strict=True))
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        char = char if char in table or char.isascii() else char.lower()
        out.append(table[char] if char in table else ord(char))
    return bytes(out)


@pytest.fixture(scope="session")
def legacy_encodings():
    """Encoders of the legacy Vietnamese encodings lists arrive in: ``cp1258`` (Windows)
    and ``tcvn3`` (the ABC fonts), text -> bytes."""
    from types import SimpleNamespace

    return SimpleNamespace(cp1258=_cp1258_bytes, tcvn3=_tcvn3_bytes)
