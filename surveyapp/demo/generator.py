"""Realistic units' lists for the demo: what focal points really send.

Citizens' lists (people and organisations who received a procedure's result) and
officials' lists, as CSV or XLSX bytes with Vietnamese headers, names with diacritics,
telephone numbers in the many shapes lists carry them ("0912 345 678", "+84 912...",
numbers that lost their leading zero, pre-2018 11-digit mobiles, landlines) and a few
of the faults real lists have, so that the validation report has something to say:
a missing name, a number in scientific notation, several numbers in one cell, a
malformed e-mail, an impossible date, dates outside the survey period, a repeated
dossier code, a row of another unit.

Everything is drawn from the ``numpy.random.Generator`` passed in (the demo seeds it),
so the same seed gives the same lists.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

import numpy as np

from sampling.columns import fold_header

# Family names with their approximate share in the south-east (Nguyễn first; Huỳnh and
# Võ are the southern forms of Hoàng and Vũ).
FAMILY_NAMES = {
    "Nguyễn": 36, "Trần": 11, "Lê": 9, "Phạm": 6, "Huỳnh": 5, "Võ": 4, "Phan": 4,
    "Trương": 2, "Đặng": 2, "Bùi": 2, "Đỗ": 2, "Hồ": 2, "Ngô": 2, "Dương": 1,
    "Lý": 1, "Hoàng": 1, "Vũ": 1, "Đinh": 1, "Lâm": 1, "Mai": 1, "Tô": 1, "Châu": 1,
}  # fmt: skip
MIDDLE_MALE = ("Văn", "Văn", "Văn", "Minh", "Quốc", "Hoàng", "Đức", "Thanh", "Hữu", "Công",
               "Ngọc", "Tấn", "Thành", "Trọng")  # fmt: skip
MIDDLE_FEMALE = ("Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Mỹ", "Kim", "Bích", "Phương",
                 "Hồng", "Thùy")  # fmt: skip
GIVEN_MALE = ("Hùng", "Dũng", "Tuấn", "Nam", "Phong", "Long", "Hải", "Sơn", "Thắng", "Khoa",
              "Phúc", "Tài", "Lộc", "Trí", "Hiếu", "Nghĩa", "Quang", "Toàn", "Vinh", "Bảo",
              "Đạt", "Huy", "Khánh", "Lâm", "Nhân", "Thịnh", "Tùng", "Việt", "Cường", "Định")  # fmt: skip
GIVEN_FEMALE = ("Lan", "Hương", "Hoa", "Mai", "Linh", "Trang", "Thảo", "Ngọc", "Hạnh", "Yến",
                "Nhung", "Hằng", "Phương", "Thủy", "Tuyết", "Diễm", "Oanh", "Vy", "Nga", "Loan",
                "Trinh", "Nhi", "Quyên", "Dung", "Hiền", "Vân", "Châu", "My")  # fmt: skip

ORGANISATION_FORMS = ("Công ty TNHH", "Công ty TNHH", "Công ty Cổ phần", "Doanh nghiệp tư nhân",
                      "Hợp tác xã", "Chi nhánh Công ty TNHH")  # fmt: skip
ORGANISATION_NAMES = (
    "Thương mại Dịch vụ Hải Đăng", "Xây dựng Phước Thành", "Thủy sản Bến Đình",
    "Du lịch Biển Xanh", "Vận tải Long Hải", "Cơ khí Phú Mỹ", "Nông sản Xuyên Mộc",
    "Khách sạn Sao Biển", "Đầu tư Bãi Sau", "Logistics Cái Mép", "Hải sản Phước Tỉnh",
    "Gốm sứ Bình Châu", "Điện lạnh Thắng Nhất", "Cà phê Bình Giã", "Xăng dầu Long Sơn",
    "May mặc Đông Xuyên", "Dịch vụ Cảng Sao Mai", "Thực phẩm Hồ Tràm", "Kỹ thuật Dầu khí Biển Đông",
    "In ấn Rạch Dừa", "Bất động sản Núi Lớn", "Nội thất Kim Dinh", "Tin học Thùy Vân",
)  # fmt: skip
STREETS = ("Lê Lợi", "Trần Hưng Đạo", "Hoàng Hoa Thám", "Thùy Vân", "Ba Cu", "Nam Kỳ Khởi Nghĩa",
           "Lê Hồng Phong", "Nguyễn An Ninh", "Bình Giã", "Võ Thị Sáu", "30 Tháng 4",
           "Trương Công Định", "Lê Quang Định", "Nguyễn Hữu Cảnh", "Hùng Vương", "Cách Mạng Tháng Tám",
           "Quốc lộ 55", "Quốc lộ 51", "Đường 3 Tháng 2", "Phan Chu Trinh")  # fmt: skip
HAMLETS = ("Ấp 1", "Ấp 2", "Ấp 3", "Ấp Bàu Lâm", "Ấp Phước Lợi", "Ấp Hải Lộc", "Ấp Tân Rú",
           "Ấp Bến Đá", "Ấp Bà Trao", "Tổ 5, Ấp Phước Hòa")  # fmt: skip
PLACES = ("Phường 1, Thành phố Vũng Tàu", "Phường Thắng Tam, Thành phố Vũng Tàu",
          "Phường Rạch Dừa, Thành phố Vũng Tàu", "Phường Phước Hưng, Thành phố Bà Rịa",
          "Phường Kim Dinh, Thành phố Bà Rịa", "Thị trấn Long Điền, Huyện Long Điền",
          "Phường Tân Phước, Thị xã Phú Mỹ", "Xã Bông Trang, Huyện Xuyên Mộc",
          "Thị trấn Đất Đỏ, Huyện Đất Đỏ", "Xã Long Sơn, Thành phố Vũng Tàu")  # fmt: skip
PROVINCE = "Bà Rịa - Vũng Tàu"
EMAIL_DOMAINS = ("gmail.com", "gmail.com", "gmail.com", "yahoo.com", "outlook.com", "vnpt.vn")
MOBILE_CODES = (90, 91, 93, 94, 96, 97, 98, 32, 33, 34, 35, 36, 37, 38, 39, 70, 76, 77, 78, 79,
                81, 82, 83, 84, 85, 86, 88, 89, 56, 58)  # fmt: skip
OLD_MOBILE = {"32": "0162", "33": "0163", "34": "0164", "35": "0165", "36": "0166",
              "37": "0167", "38": "0168", "39": "0169", "70": "0120", "79": "0121",
              "77": "0122", "76": "0126", "78": "0128", "83": "0123", "84": "0124",
              "85": "0125", "81": "0127", "82": "0129"}  # fmt: skip

# Procedures handled, by kind of unit: (field, procedure name).
PROCEDURES = {
    "commune": (
        ("Hộ tịch", "Đăng ký khai sinh"),
        ("Hộ tịch", "Đăng ký kết hôn"),
        ("Hộ tịch", "Đăng ký khai tử"),
        ("Hộ tịch", "Cấp bản sao trích lục hộ tịch"),
        ("Chứng thực", "Chứng thực bản sao từ bản chính"),
        ("Chứng thực", "Chứng thực chữ ký"),
        ("Chứng thực", "Chứng thực hợp đồng, giao dịch liên quan đến nhà ở"),
        ("Người có công", "Xác nhận thương binh, người hưởng chính sách như thương binh"),
        ("Bảo trợ xã hội", "Trợ cấp xã hội hằng tháng"),
    ),
    "district": (
        ("Đất đai", "Đăng ký biến động quyền sử dụng đất"),
        ("Đất đai", "Cấp Giấy chứng nhận quyền sử dụng đất lần đầu"),
        ("Xây dựng", "Cấp giấy phép xây dựng nhà ở riêng lẻ"),
        ("Đăng ký kinh doanh", "Đăng ký thành lập hộ kinh doanh"),
        ("Đăng ký kinh doanh", "Đăng ký thay đổi nội dung đăng ký hộ kinh doanh"),
        ("Hộ tịch", "Đăng ký kết hôn có yếu tố nước ngoài"),
        ("Giáo dục và Đào tạo", "Chuyển trường đối với học sinh trung học cơ sở"),
        ("Lao động, thương binh và xã hội", "Cấp giấy xác nhận khuyết tật"),
    ),
    "STP": (
        ("Lý lịch tư pháp", "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam"),
        ("Lý lịch tư pháp", "Cấp Phiếu lý lịch tư pháp cho người nước ngoài"),
        ("Quốc tịch", "Xác nhận có quốc tịch Việt Nam"),
        ("Công chứng", "Đăng ký hành nghề và cấp Thẻ công chứng viên"),
        ("Luật sư", "Đăng ký hoạt động của tổ chức hành nghề luật sư"),
        ("Đấu giá tài sản", "Đăng ký hoạt động của doanh nghiệp đấu giá tài sản"),
    ),
    "STNMT": (
        ("Đất đai", "Đăng ký đất đai, tài sản gắn liền với đất cho tổ chức"),
        ("Đất đai", "Gia hạn sử dụng đất"),
        ("Môi trường", "Cấp giấy phép môi trường"),
        ("Tài nguyên nước", "Cấp giấy phép khai thác nước dưới đất"),
        ("Khoáng sản", "Cấp giấy phép khai thác khoáng sản"),
        ("Biển và hải đảo", "Giao khu vực biển"),
    ),
}

OFFICIAL_POSITIONS = {
    "Lãnh đạo": ("Giám đốc", "Phó Giám đốc", "Trưởng phòng", "Phó Trưởng phòng", "Chánh Văn phòng",
                 "Chánh Thanh tra"),
    "Công chức": ("Chuyên viên", "Chuyên viên chính", "Cán sự", "Thanh tra viên", "Kế toán",
                  "Văn thư"),
    "Viên chức": ("Viên chức Trung tâm Phục vụ hành chính công", "Kỹ sư", "Giáo viên",
                  "Nhân viên hợp đồng chuyên môn"),
}  # fmt: skip
COMMUNE_POSITIONS = {
    "Lãnh đạo": ("Chủ tịch UBND", "Phó Chủ tịch UBND"),
    "Công chức": ("Công chức Văn phòng - Thống kê", "Công chức Tư pháp - Hộ tịch",
                  "Công chức Địa chính - Xây dựng", "Công chức Văn hóa - Xã hội",
                  "Công chức Tài chính - Kế toán"),
}  # fmt: skip
SHARES_OF_OFFICIALS = {"Lãnh đạo": 0.12, "Công chức": 0.6, "Viên chức": 0.28}

CITIZEN_HEADER = ("STT", "Họ và tên", "Đối tượng", "Số điện thoại", "Email", "Địa chỉ",
                  "Mã hồ sơ", "Lĩnh vực", "Tên thủ tục", "Ngày trả kết quả", "Đơn vị")  # fmt: skip
OFFICIAL_HEADER = ("STT", "Họ và tên", "Chức vụ", "Đối tượng", "Số điện thoại", "Email", "Đơn vị")
INDIVIDUAL = "Cá nhân"
# What units write for organisations; the upload maps it to the group (sampling.GROUP_ALIASES).
ORGANISATION = "Tổ chức"


@dataclass(frozen=True)
class ListPlan:
    """One unit's lists: sizes and the look of the file."""

    unit_code: str
    unit_name: str
    profile: str  # key of PROCEDURES
    citizens: int
    organisation_share: float
    officials: int
    file_format: str = "csv"  # csv | csv-semicolon | xlsx
    places: tuple[str, ...] = ()  # where its users live; default: the whole province
    email_domain: str = "baria-vungtau.gov.vn"
    province: str = PROVINCE
    year: int = 2024


@dataclass(frozen=True)
class ListFile:
    filename: str
    data: bytes


# ----------------------------------------------------------------------------- people


def _pick(rng: np.random.Generator, values):
    return values[int(rng.integers(len(values)))]


_FAMILY = tuple(FAMILY_NAMES)
_FAMILY_P = np.array(list(FAMILY_NAMES.values()), dtype=float) / sum(FAMILY_NAMES.values())


def person_name(rng: np.random.Generator) -> str:
    """A Vietnamese full name: family, middle and given name (NFC, with diacritics)."""
    family = _FAMILY[int(rng.choice(len(_FAMILY), p=_FAMILY_P))]
    if rng.random() < 0.5:
        return f"{family} {_pick(rng, MIDDLE_MALE)} {_pick(rng, GIVEN_MALE)}"
    return f"{family} {_pick(rng, MIDDLE_FEMALE)} {_pick(rng, GIVEN_FEMALE)}"


def organisation_name(rng: np.random.Generator) -> str:
    return f"{_pick(rng, ORGANISATION_FORMS)} {_pick(rng, ORGANISATION_NAMES)}"


def phone_number(rng: np.random.Generator) -> str:
    """A telephone number as lists write them (every shape normalises to 0xxxxxxxxx)."""
    code = str(_pick(rng, MOBILE_CODES))
    rest = f"{int(rng.integers(0, 10_000_000)):07d}"
    digits = code + rest  # 9 digits after the leading 0
    shape = rng.random()
    if shape < 0.42:
        return "0" + digits
    if shape < 0.62:
        return f"0{digits[:3]} {digits[3:6]} {digits[6:]}"
    if shape < 0.70:
        return f"0{digits[:3]}.{digits[3:6]}.{digits[6:]}"
    if shape < 0.77:
        return f"+84 {digits[:3]} {digits[3:6]} {digits[6:]}"
    if shape < 0.81:
        return "84" + digits
    if shape < 0.87:
        return digits  # an Excel number column dropped the leading zero
    if shape < 0.92 and code in OLD_MOBILE:
        return OLD_MOBILE[code] + rest  # written before the 2018 renumbering
    if shape < 0.96:
        return f"(0254) {int(rng.integers(3500000, 3899999))}"  # Bà Rịa - Vũng Tàu landline
    return f"0{digits[:4]}-{digits[4:]}"


def email_for(rng: np.random.Generator, name: str, domain: str | None = None) -> str:
    parts = name.split()
    local = fold_header(parts[-1]) + "".join(fold_header(p)[:1] for p in parts[:-1])
    return f"{local}{int(rng.integers(10, 99))}@{domain or _pick(rng, EMAIL_DOMAINS)}"


def address(rng: np.random.Generator, plan: ListPlan) -> str:
    """An address where the unit's users live: in the unit's own area when it has one."""
    place = _pick(rng, plan.places or PLACES)
    if place.startswith("Xã") and rng.random() < 0.7:
        return f"{_pick(rng, HAMLETS)}, {place}, {plan.province}"
    return f"{int(rng.integers(1, 600))} {_pick(rng, STREETS)}, {place}, {plan.province}"


def completion_date(rng: np.random.Generator, period: tuple[dt.date, dt.date]) -> dt.date:
    start, end = period
    return start + dt.timedelta(days=int(rng.integers(0, (end - start).days + 1)))


def date_text(rng: np.random.Generator, day: dt.date) -> str:
    """Mostly dd/mm/yyyy; some ISO, d/m/yyyy and Excel serial numbers."""
    shape = rng.random()
    if shape < 0.75:
        return day.strftime("%d/%m/%Y")
    if shape < 0.87:
        return day.isoformat()
    if shape < 0.95:
        return f"{day.day}/{day.month}/{day.year}"
    return str((day - dt.date(1899, 12, 30)).days)


# ------------------------------------------------------------------------------ lists


def citizens_rows(rng: np.random.Generator, plan: ListPlan, period, other_unit: str | None):
    """Rows of a citizens' list (header :data:`CITIZEN_HEADER`) with a few faults."""
    procedures = PROCEDURES[plan.profile]
    prefix = "".join(ch for ch in plan.unit_code if ch.isalnum())[:6]
    rows = []
    for number in range(1, plan.citizens + 1):
        is_organisation = rng.random() < plan.organisation_share
        name = organisation_name(rng) if is_organisation else person_name(rng)
        field, procedure = _pick(rng, procedures)
        day = completion_date(rng, period)
        email = ""
        if is_organisation or rng.random() < 0.08:
            email = email_for(rng, name if not is_organisation else person_name(rng))
        rows.append(
            [
                str(number), name, ORGANISATION if is_organisation else INDIVIDUAL,
                phone_number(rng) if rng.random() < 0.96 else "", email, address(rng, plan),
                f"{prefix}-{day:%y%m%d}-{number:04d}", field, procedure, date_text(rng, day),
                plan.unit_name,
            ]
        )  # fmt: skip
    _add_faults(rng, rows, period, other_unit)
    return rows


def _add_faults(rng, rows, period, other_unit) -> None:
    """The faults of real lists, a few of each, at random rows (never the same row twice)."""
    count = len(rows)
    per_fault = max(1, count // 120)
    chosen = iter(rng.permutation(count).tolist())
    start, end = period

    def some(n=per_fault):
        return [rows[next(chosen)] for _ in range(min(n, count // 12))]

    for row in some():
        row[1] = ""  # name missing: the row is excluded
    for row in some():
        # Excel showed the number in scientific notation and the list was saved like that.
        row[3] = f"{_pick(rng, (9, 8, 3, 7))}.{int(rng.integers(10_000, 99_999))}E+08"
    for row in some():
        row[3] = f"{phone_number(rng)} / {phone_number(rng)}"  # several numbers
    for row in some():
        row[3], row[4] = "0912 345", "khong.co.email@"  # too short, malformed e-mail
    for row in some(max(2, per_fault * 2)):
        # A result outside the survey period (before it, or after its end).
        outside = start - dt.timedelta(days=int(rng.integers(5, 60)))
        if rng.random() < 0.5:
            outside = end + dt.timedelta(days=int(rng.integers(1, 45)))
        row[9] = outside.strftime("%d/%m/%Y")
    for row in some():
        row[9] = f"31/02/{start.year}"  # no such day: a warning, the row stays
    for row in some():
        row[3], row[4], row[5] = "", "", ""  # no way to reach the person
    originals = some()
    for row in some(len(originals)):
        row[6] = originals.pop()[6].lower()  # the same dossier twice (case differs)
    if other_unit:
        for row in some(1):
            row[10] = other_unit  # a row of another unit, sent by mistake


def officials_rows(rng: np.random.Generator, plan: ListPlan):
    positions = COMMUNE_POSITIONS if plan.profile == "commune" else OFFICIAL_POSITIONS
    groups = list(positions)
    shares = np.array([SHARES_OF_OFFICIALS[g] for g in groups])
    shares /= shares.sum()
    rows = []
    for number in range(1, plan.officials + 1):
        group = groups[int(rng.choice(len(groups), p=shares))]
        name = person_name(rng)
        rows.append(
            [
                str(number), name, _pick(rng, positions[group]), group,
                phone_number(rng) if rng.random() < 0.7 else "",
                email_for(rng, name, plan.email_domain), plan.unit_name,
            ]
        )  # fmt: skip
    if rows:
        row = rows[int(rng.integers(len(rows)))]
        row[2] = row[3] = ""  # neither position nor group: the row is excluded
    return rows


# ------------------------------------------------------------------------------ files


def csv_bytes(header, rows, delimiter: str = ",") -> bytes:
    """UTF-8 with a BOM (what Excel writes for "CSV UTF-8")."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(header, rows, title: str) -> bytes:
    """A workbook with a title row above the header, as units' Excel lists often have."""
    # openpyxl takes a third of a second to import, and only the demo's lists need it.
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Danh sách")
    sheet.append([title])
    sheet.append([])
    sheet.append(list(header))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def citizens_file(rng, plan: ListPlan, period, other_unit: str | None = None) -> ListFile:
    rows = citizens_rows(rng, plan, period, other_unit)
    stem = f"danh-sach-nguoi-dan-to-chuc-{plan.unit_code.lower()}-{plan.year}"
    if plan.file_format == "xlsx":
        title = (
            "DANH SÁCH TỔ CHỨC, CÁ NHÂN ĐÃ NHẬN KẾT QUẢ GIẢI QUYẾT TTHC NĂM "
            f"{plan.year} — {plan.unit_name}"
        )
        return ListFile(f"{stem}.xlsx", xlsx_bytes(CITIZEN_HEADER, rows, title.upper()))
    delimiter = ";" if plan.file_format == "csv-semicolon" else ","
    return ListFile(f"{stem}.csv", csv_bytes(CITIZEN_HEADER, rows, delimiter))


def officials_file(rng, plan: ListPlan) -> ListFile:
    rows = officials_rows(rng, plan)
    stem = f"danh-sach-cbccvc-{plan.unit_code.lower()}-{plan.year}"
    if plan.file_format == "xlsx":
        title = f"DANH SÁCH CÁN BỘ, CÔNG CHỨC, VIÊN CHỨC — {plan.unit_name}"
        return ListFile(f"{stem}.xlsx", xlsx_bytes(OFFICIAL_HEADER, rows, title.upper()))
    return ListFile(f"{stem}.csv", csv_bytes(OFFICIAL_HEADER, rows))
