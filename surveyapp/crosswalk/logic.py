"""Crosswalk rules as plain Python (no Flask, no database): proposing successors, reading
and checking a crosswalk CSV, and writing one.

A crosswalk maps every unit of an earlier registry to zero, one or several units of the
current one:

* merged: several old units -> one new unit (each row's share empty or 1);
* split: one old unit -> several new units, with the share of the old unit that went to
  each when it is known (they must then add up to 1), all empty when it is not;
* no successor: one row with an empty new code (e.g. an abolished district-level
  People's Committee): the old unit is not compared.

Codes in a file are the units' codes in their registry, or their official codes.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from dataclasses import dataclass, field

from surveyapp.units import official
from surveyapp.units.importer import RowError, clean, decode

COLUMNS = ("old_code", "old_name", "new_code", "new_name", "share", "population", "note")
REQUIRED = ("old_code", "new_code")
MAX_ROWS = 50_000
SHARE_TOLERANCE = 0.001
DISTRICT_LEVEL = "UBND cấp huyện"

# Provincial departments merged or renamed in 2025 (Decree 45/2025/NĐ-CP and the March
# 2025 reorganisation): old name -> the department that took over most of its work.
DEPARTMENT_SUCCESSORS_2025 = {
    "Sở Kế hoạch và Đầu tư": "Sở Tài chính",
    "Sở Giao thông vận tải": "Sở Xây dựng",
    "Sở Tài nguyên và Môi trường": "Sở Nông nghiệp và Môi trường",
    "Sở Nông nghiệp và Phát triển nông thôn": "Sở Nông nghiệp và Môi trường",
    "Sở Thông tin và Truyền thông": "Sở Khoa học và Công nghệ",
    "Sở Lao động - Thương binh và Xã hội": "Sở Nội vụ",
    "Ban Dân tộc": "Sở Dân tộc và Tôn giáo",
    "Ban Quản lý các Khu công nghiệp": "Ban Quản lý các khu chế xuất và công nghiệp",
    "Thanh tra tỉnh": "Thanh tra Thành phố",
    "Văn phòng Ủy ban nhân dân tỉnh": "Văn phòng Ủy ban nhân dân Thành phố",
}
# Where a department's work was divided, the note says so (the Department may split it).
DEPARTMENT_NOTES_2025 = {
    "Sở Lao động - Thương binh và Xã hội": (
        "lao động, người có công → Sở Nội vụ; bảo trợ xã hội, trẻ em → Sở Y tế; "
        "giáo dục nghề nghiệp → Sở Giáo dục và Đào tạo"
    ),
    "Sở Thông tin và Truyền thông": "báo chí, xuất bản → Sở Văn hóa và Thể thao",
}


@dataclass(frozen=True)
class UnitRef:
    """What the rules need of a unit of either registry."""

    code: str
    name: str
    level_label: str = ""
    official_code: str | None = None


@dataclass(frozen=True)
class Link:
    old_code: str
    new_code: str | None  # None: no successor (not compared)
    share: float | None = None
    population: int | None = None
    note: str = ""


@dataclass
class Proposal:
    links: list[Link] = field(default_factory=list)
    unmapped: list[UnitRef] = field(default_factory=list)  # old units with no proposal


def _key(name: str) -> str:
    return official.plain_key(name)


def propose(old_units: list[UnitRef], new_units: list[UnitRef]) -> Proposal:
    """Successors proposed for each old unit: communes by the official dataset's
    conversion, departments by name (and the 2025 mergers), districts as abolished."""
    new_by_official = {u.official_code: u for u in new_units if u.official_code}
    new_by_name = {_key(u.name): u for u in new_units if not u.official_code}
    current = official.current_codes()
    proposal = Proposal()
    for unit in old_units:
        links = []
        if unit.level_label == DISTRICT_LEVEL:
            links = [Link(unit.code, None, note="cấp huyện không còn từ 01/07/2025")]
        elif unit.official_code:
            successors = official.successors(unit.official_code)
            inside = [s for s in successors if s.code in new_by_official]
            for successor in inside:
                note = ""
                if len(inside) > 1:
                    note = "chia tách" + (" (mặc định của bộ dữ liệu)" if successor.default else "")
                links.append(Link(unit.code, new_by_official[successor.code].code, note=note))
            outside = [s for s in successors if s.code not in new_by_official]
            if outside and not inside:
                where = ", ".join(
                    f"{current[s.code].name} ({s.code})" for s in outside if s.code in current
                )
                links = [Link(unit.code, None, note=f"đơn vị kế thừa ngoài danh mục: {where}")]
        else:
            target = new_by_name.get(_key(unit.name))
            note = ""
            if target is None and unit.name in DEPARTMENT_SUCCESSORS_2025:
                target = new_by_name.get(_key(DEPARTMENT_SUCCESSORS_2025[unit.name]))
                note = DEPARTMENT_NOTES_2025.get(unit.name, "hợp nhất năm 2025")
            if target is not None:
                links.append(Link(unit.code, target.code, note=note))
        if links:
            proposal.links.extend(links)
        else:
            proposal.unmapped.append(unit)
    return proposal


# ---------------------------------------------------------------------------- CSV files


@dataclass(frozen=True)
class CsvRow:
    row: int
    old_code: str
    new_code: str
    share: str
    population: str
    note: str


def read_csv(data: bytes) -> tuple[list[CsvRow], list[RowError]]:
    """The rows of a crosswalk CSV and the errors that need only the file."""
    try:
        text = decode(data)
    except ValueError as exc:
        return [], [RowError(0, "", "", *exc.args)]
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [clean(h).lower() for h in next(reader, [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        return [], [
            RowError(
                1,
                ", ".join(missing),
                ", ".join(header),
                f"Thiếu cột {', '.join(missing)}. Dòng tiêu đề: {', '.join(COLUMNS)}.",
                f"Missing column(s) {', '.join(missing)}. The header: {', '.join(COLUMNS)}.",
            )
        ]
    rows: list[CsvRow] = []
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(rows) >= MAX_ROWS:
            return rows, [
                RowError(number, "", "", f"Quá {MAX_ROWS} dòng.", f"More than {MAX_ROWS} rows.")
            ]
        values = dict(zip(header, (clean(c) for c in cells), strict=False))
        rows.append(
            CsvRow(
                number,
                values.get("old_code", ""),
                values.get("new_code", ""),
                values.get("share", ""),
                values.get("population", ""),
                values.get("note", "")[:255],
            )
        )
    return rows, []


def _number(text: str) -> float | None:
    """A share as people write it: 0.4, 0,4 or 40%."""
    text = text.strip().replace(",", ".")
    scale = 1.0
    if text.endswith("%"):
        text, scale = text[:-1].strip(), 0.01
    try:
        value = float(text) * scale
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _resolver(units: list[UnitRef]):
    by_code = {u.code: u for u in units}
    by_official = {u.official_code: u for u in units if u.official_code}

    def resolve(code: str) -> UnitRef | None:
        return by_code.get(code) or by_official.get(code)

    return resolve


def check_rows(
    rows: list[CsvRow],
    old_units: list[UnitRef],
    new_units: list[UnitRef],
    new_province_code: str | None = None,
) -> tuple[list[Link], list[RowError]]:
    """Links of a crosswalk file checked against both registries. Every problem is named
    by row and code: a code in neither registry nor the official list, a row pointing to
    a unit of another province, a repeated row, an old unit with no successor beside
    successors, shares that are not numbers or do not add up to 1, a cycle, and old units
    that the file does not map."""
    old_of, new_of = _resolver(old_units), _resolver(new_units)
    current = official.current_codes()
    errors: list[RowError] = []
    links: list[Link] = []
    rows_of_old: dict[str, list[tuple[CsvRow, Link]]] = defaultdict(list)
    seen: dict[tuple[str, str | None], int] = {}
    for row in rows:
        old = old_of(row.old_code)
        if not row.old_code:
            errors.append(RowError(row.row, "old_code", "", "Thiếu mã cũ.", "No old code."))
        elif old is None:
            errors.append(
                RowError(
                    row.row,
                    "old_code",
                    row.old_code,
                    f"Mã {row.old_code} không phải đơn vị của danh mục cũ.",
                    f"{row.old_code} is not a unit of the earlier registry.",
                )
            )
        new = new_of(row.new_code) if row.new_code else None
        if row.new_code and new is None:
            commune = current.get(row.new_code)
            if commune and new_province_code and commune.province_code != new_province_code:
                province = next(
                    (p.name for p in official.provinces() if p.code == commune.province_code), ""
                )
                errors.append(
                    RowError(
                        row.row,
                        "new_code",
                        row.new_code,
                        f"Mã {row.new_code} là {commune.name} của {province}, không thuộc "
                        "tỉnh, thành phố của danh mục mới.",
                        f"{row.new_code} is {commune.name} of {province}, another province "
                        "than the current registry's.",
                    )
                )
            elif commune is None and row.new_code.isdigit():
                errors.append(
                    RowError(
                        row.row,
                        "new_code",
                        row.new_code,
                        f"Mã {row.new_code} không có trong danh mục ĐVHC chính thức "
                        f"({official.edition()}).",
                        f"{row.new_code} is not in the official list ({official.edition()}).",
                    )
                )
            else:
                errors.append(
                    RowError(
                        row.row,
                        "new_code",
                        row.new_code,
                        f"Mã {row.new_code} không phải đơn vị của danh mục mới.",
                        f"{row.new_code} is not a unit of the current registry.",
                    )
                )
        share = None
        if row.share:
            share = _number(row.share)
            if share is None or not 0 < share <= 1:
                errors.append(
                    RowError(
                        row.row,
                        "share",
                        row.share,
                        "Tỷ lệ phải là số trong (0; 1], ví dụ 0,4 hoặc 40%.",
                        "The share must be a number in (0, 1], e.g. 0.4 or 40%.",
                    )
                )
                share = None
        population = None
        if row.population:
            text = row.population.replace(".", "").replace(" ", "").replace(",", "")
            if text.isdigit():
                population = int(text)
            else:
                errors.append(
                    RowError(
                        row.row,
                        "population",
                        row.population,
                        "Dân số phải là số nguyên không âm.",
                        "The population must be a whole number.",
                    )
                )
        if old is None or (row.new_code and new is None):
            continue
        link = Link(old.code, new.code if new else None, share, population, row.note)
        pair = (link.old_code, link.new_code)
        if pair in seen:
            errors.append(
                RowError(
                    row.row,
                    "new_code",
                    row.new_code,
                    f"Trùng với dòng {seen[pair]}.",
                    f"Repeats row {seen[pair]}.",
                )
            )
            continue
        seen[pair] = row.row
        rows_of_old[old.code].append((row, link))
        links.append(link)
    errors += _share_errors(rows_of_old)
    errors += _cycle_errors(rows_of_old)
    mapped = set(rows_of_old)
    for unit in old_units:
        if unit.code not in mapped:
            errors.append(
                RowError(
                    0,
                    "old_code",
                    unit.code,
                    f"Đơn vị cũ {unit.code} ({unit.name}) chưa có dòng nào: ghi đơn vị kế "
                    "thừa, hoặc một dòng để trống new_code nếu không so sánh.",
                    f"The old unit {unit.code} ({unit.name}) has no row: give its "
                    "successor(s), or one row with an empty new_code if it is not compared.",
                )
            )
    return links, errors


def _share_errors(rows_of_old) -> list[RowError]:
    errors = []
    for old_code, items in rows_of_old.items():
        last_row = items[-1][0].row
        if any(link.new_code is None for _, link in items) and len(items) > 1:
            errors.append(
                RowError(
                    last_row,
                    "new_code",
                    old_code,
                    f"{old_code}: một dòng không có đơn vị kế thừa nhưng dòng khác lại có.",
                    f"{old_code}: one row says no successor while another names one.",
                )
            )
            continue
        shares = [link.share for _, link in items]
        given = [s for s in shares if s is not None]
        if not given:
            continue  # a split whose shares are not known
        if len(given) < len(shares):
            errors.append(
                RowError(
                    last_row,
                    "share",
                    old_code,
                    f"{old_code}: tỷ lệ có ở một số dòng, thiếu ở dòng khác; ghi đủ hoặc để "
                    "trống tất cả.",
                    f"{old_code}: some rows give a share and others do not; give all or none.",
                )
            )
        elif abs(sum(given) - 1) > SHARE_TOLERANCE:
            errors.append(
                RowError(
                    last_row,
                    "share",
                    old_code,
                    f"{old_code}: tổng tỷ lệ là {sum(given):.3g}, phải bằng 1.",
                    f"{old_code}: the shares add up to {sum(given):.3g}, not 1.",
                )
            )
    return errors


def _cycle_errors(rows_of_old) -> list[RowError]:
    """Only possible within one registry (units merged again since the last campaign):
    following successors must never lead back to where it started."""
    successors = {
        old: [link.new_code for _, link in items if link.new_code and link.new_code != old]
        for old, items in rows_of_old.items()
    }
    errors, reported = [], set()
    for start, items in rows_of_old.items():
        stack, visited = list(successors.get(start, [])), set()
        while stack:
            code = stack.pop()
            if code == start:
                if start not in reported:
                    reported.add(start)
                    errors.append(
                        RowError(
                            items[0][0].row,
                            "new_code",
                            start,
                            f"Vòng lặp: đi theo đơn vị kế thừa từ {start} lại quay về {start}.",
                            f"A cycle: following successors from {start} leads back to it.",
                        )
                    )
                break
            if code in visited:
                continue
            visited.add(code)
            stack.extend(successors.get(code, []))
    return errors


def write_rows(
    links: list[Link], old_units: list[UnitRef], new_units: list[UnitRef]
) -> list[list[str]]:
    """Rows for :data:`COLUMNS` in the old registry's order; unmapped old units get a row
    with an empty new code and a note asking for a decision."""
    old_name = {u.code: u.name for u in old_units}
    new_name = {u.code: u.name for u in new_units}
    by_old: dict[str, list[Link]] = defaultdict(list)
    for link in links:
        by_old[link.old_code].append(link)
    rows = []
    for unit in old_units:
        for link in by_old.get(unit.code, []):
            rows.append(
                [
                    link.old_code,
                    old_name.get(link.old_code, ""),
                    link.new_code or "",
                    new_name.get(link.new_code, "") if link.new_code else "",
                    "" if link.share is None else f"{link.share:g}",
                    "" if link.population is None else str(link.population),
                    link.note,
                ]
            )
    return rows
