"""Canonical column names of a frame and the Vietnamese/English headers that map to them.

Units send lists with whatever headers their staff typed ("Họ và tên", "HỌ TÊN",
"Ho ten", "Full name", "SĐT", ...). Headers are compared after folding: lower case,
Vietnamese diacritics removed (đ -> d), every character other than a letter or a digit
dropped, so "Số điện thoại", "SO DIEN THOAI" and "so_dien_thoai" are the same header.
"""

import unicodedata

CANONICAL_ALIASES: dict[str, tuple[str, ...]] = {
    "full_name": (
        "full_name",
        "full name",
        "name",
        "họ và tên",
        "họ tên",
        "họ và tên công dân",
        "họ và tên người nộp",
        "họ tên người nộp",
        "người nộp hồ sơ",
        "tên người nộp hồ sơ",
        "tên công dân",
        "tên cá nhân, tổ chức",
        "tên tổ chức, cá nhân",
        "tổ chức, cá nhân",
        "tổ chức/cá nhân",
        "cá nhân/tổ chức",
        "chủ hồ sơ",
        "họ và tên cán bộ",
        "người được khảo sát",
    ),
    "phone": (
        "phone",
        "phone number",
        "mobile",
        "mobile phone",
        "tel",
        "telephone",
        "số điện thoại",
        "điện thoại",
        "sđt",
        "số đt",
        "đt",
        "di động",
        "số di động",
        "điện thoại liên hệ",
        "số điện thoại liên hệ",
        "điện thoại di động",
    ),
    "email": (
        "email",
        "e-mail",
        "email address",
        "thư điện tử",
        "địa chỉ email",
        "địa chỉ thư điện tử",
    ),
    "address": (
        "address",
        "địa chỉ",
        "địa chỉ liên hệ",
        "địa chỉ thường trú",
        "nơi cư trú",
        "nơi ở",
        "nơi ở hiện nay",
        "địa chỉ cư trú",
    ),
    "dossier_code": (
        "dossier_code",
        "dossier code",
        "dossier",
        "dossier number",
        "application id",
        "mã hồ sơ",
        "số hồ sơ",
        "mã số hồ sơ",
        "số biên nhận",
        "mã biên nhận",
        "số giấy biên nhận",
    ),
    "unit": (
        "unit",
        "agency",
        "đơn vị",
        "cơ quan",
        "cơ quan, đơn vị",
        "cơ quan/đơn vị",
        "đơn vị giải quyết",
        "cơ quan giải quyết",
        "nơi giải quyết",
        "đơn vị công tác",
        "cơ quan công tác",
        "tên đơn vị",
        "tên cơ quan",
    ),
    "group": (
        "group",
        "respondent group",
        "đối tượng",
        "nhóm đối tượng",
        "loại đối tượng",
        "đối tượng khảo sát",
        "nhóm",
    ),
    "completed_on": (
        "completed_on",
        "completed on",
        "completion date",
        "date completed",
        "result date",
        "ngày trả kết quả",
        "ngày trả kq",
        "ngày trả",
        "ngày hoàn thành",
        "ngày giải quyết",
        "ngày có kết quả",
        "ngày trả hồ sơ",
    ),
    "received_on": (
        "received_on",
        "received on",
        "date received",
        "ngày tiếp nhận",
        "ngày nhận hồ sơ",
        "ngày nộp",
        "ngày nộp hồ sơ",
    ),
    "position": (
        "position",
        "job title",
        "chức vụ",
        "chức danh",
        "vị trí việc làm",
        "vị trí",
        "chức vụ, chức danh",
    ),
    "procedure": (
        "procedure",
        "procedure name",
        "thủ tục",
        "thủ tục hành chính",
        "tên thủ tục",
        "tên thủ tục hành chính",
        "tên tthc",
        "tthc",
    ),
    "field": (
        "field",
        "sector",
        "procedure field",
        "lĩnh vực",
        "lĩnh vực tthc",
        "lĩnh vực thủ tục",
        "lĩnh vực giải quyết",
    ),
    "size_measure": (
        "size_measure",
        "size measure",
        "size",
        "measure of size",
        "quy mô",
        "số lượng hồ sơ",
        "số hồ sơ đã giải quyết",
    ),
    "gender": ("gender", "sex", "giới tính"),
    "birth_year": ("birth_year", "birth year", "year of birth", "năm sinh"),
}

CONTACT_COLUMNS = ("phone", "email", "address")


def fold_header(text: object) -> str:
    """Header comparison key: lower case, no diacritics, letters and digits only."""
    decomposed = unicodedata.normalize("NFD", str(text).casefold().replace("đ", "d"))
    return "".join(ch for ch in decomposed if ch.isascii() and ch.isalnum())


_ALIAS_TO_CANONICAL: dict[str, str] = {
    fold_header(alias): canonical
    for canonical, aliases in CANONICAL_ALIASES.items()
    for alias in aliases
}


def canonical_name(header: object) -> str | None:
    """The canonical column a header stands for, or None when it is not a known one."""
    return _ALIAS_TO_CANONICAL.get(fold_header(header))


def clean_header(header: object) -> str:
    """A header as shown to people: NFC, trimmed, inner whitespace collapsed."""
    if header is None:
        return ""
    return " ".join(unicodedata.normalize("NFC", str(header)).split())


def map_headers(headers: list[object]) -> tuple[list[str], dict[str, str]]:
    """Column names for a frame and, for each of them, the header the user wrote.

    Known headers become canonical names; the first column claiming a canonical name wins
    and later ones keep their own header, so no data is lost. Empty headers become
    "column_<n>" (n counted from 1, as in the user's spreadsheet) and repeated headers get
    " (2)", " (3)", ... so that every name is unique.
    """
    names: list[str] = []
    originals: dict[str, str] = {}
    taken: set[str] = set()
    for position, header in enumerate(headers, start=1):
        shown = clean_header(header)
        canonical = canonical_name(shown) if shown else None
        name = canonical if canonical and canonical not in taken else shown
        name = name or f"column_{position}"
        unique, copy = name, 1
        while unique in taken:
            copy += 1
            unique = f"{name} ({copy})"
        taken.add(unique)
        names.append(unique)
        originals[unique] = shown or unique
    return names, originals


def known_header_count(cells: list[object]) -> int:
    """How many cells of a row are known headers (used to find the header row)."""
    return len({canonical_name(cell) for cell in cells if cell is not None} - {None})
