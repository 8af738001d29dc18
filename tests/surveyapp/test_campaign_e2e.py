"""One whole campaign, run in a real browser by every role (issue 10, "The campaign test").

The administrator of the Department imports the units, makes the contractor's staff
accounts and the unit's focal point (one-time password, changed at first sign-in) and
creates a campaign with two respondent groups; a unit's focal point uploads a messy Excel list of citizens and a list
of its officials; the administrator uploads a second unit's list for it, previews, draws,
locks and prints the letters; a citizen opens the link read from the printed letter's QR
code on a phone; an enumerator logs attempts and a refusal, the supervisor releases a
reserve and the enumerator interviews it; the administrator closes the campaign with a
data-entry deadline, a clerk keys an official's paper form after the closing, the
administrator ends data entry, scores and downloads the file the Department imports, which
lists every sampled unit, the one nobody answered for included.

Every step goes through the pages as people click them (CSRF on, real logins, downloads
saved from the browser) and asserts on what pages and files show. Playwright drives
Debian's chromium; PostgreSQL only (the production database); skipped with the reason
when chromium, Playwright or PostgreSQL is missing, unless REQUIRE_BROWSER=1 /
REQUIRE_POSTGRES=1 (then it fails).
"""

import csv
import io
import os
import re
import subprocess
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pytest

from .conftest import CHROMIUM, browser_or_skip

PASSWORD = "correct horse battery"
PHONE = {"width": 390, "height": 844}

UNITS_CSV = (
    "code,name,level_label,parent_code\n"
    "P-TANDINH,Phường Tân Định,UBND cấp xã,\n"
    "P-BENTHANH,Phường Bến Thành,UBND cấp xã,\n"
    'SNV,Sở Nội vụ,"Sở, ban, ngành",\n'
)


def _day(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def citizens_xlsx(path: Path, today: date) -> Path:
    """Phường Tân Định's list as a one-stop counter exports it: a title row, Vietnamese
    headers, phones written every which way (one unusable and no address: excluded; one
    unusable but with an address: kept), a dossier entered twice, a person listed twice,
    dates as Excel dates and as text."""
    done = today - timedelta(days=40)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Danh sách"
    sheet.append(["DANH SÁCH TỔ CHỨC, CÁ NHÂN ĐÃ NHẬN KẾT QUẢ GIẢI QUYẾT TTHC"])
    sheet.append(
        ["STT", "Họ và tên", "Số điện thoại", "Địa chỉ", "Mã hồ sơ", "Ngày trả kết quả",
         "Lĩnh vực"]
    )  # fmt: skip
    rows = [
        ("Nguyễn Văn An", "0912 345 678", "12 Trần Quang Khải", "HS-001", done, "Hộ tịch"),
        ("TRẦN THỊ BÌNH", "+84 98.765.4321", "", "HS-002", _day(done), "Hộ tịch"),
        ("Lê  văn   Cường", "0903-111-222", "", "HS-003", done, "Đất đai"),
        ("Phạm Thị Dung", "12345", "", "HS-004", done, "Đất đai"),  # no contact: excluded
        ("Hoàng Văn Em", "12345", "45 Hai Bà Trưng", "HS-005", done, "Xây dựng"),  # kept
        ("Võ Thị Phượng", "0934567890", "", "HS-002", done, "Hộ tịch"),  # dossier twice
        ("Nguyễn Văn An", "0912345678", "", "HS-006", done, "Hộ tịch"),  # person twice
        ("Đặng Văn Giang", "0945 678 901", "", "HS-007", _day(done), "Tư pháp"),
    ]
    for number, row in enumerate(rows, start=1):
        sheet.append([number, *row])
    book.save(path)
    return path


def late_citizens_csv(path: Path, today: date) -> Path:
    done = _day(today - timedelta(days=10))
    path.write_text(
        "Họ và tên,Số điện thoại,Mã hồ sơ,Ngày trả kết quả\n"
        f"Đinh Thị Hoa,0967 123 456,HS-101,{done}\n"
        f"Đặng Văn Giang,0945678901,HS-102,{done}\n",
        encoding="utf-8",
    )
    return path


def officials_xlsx(path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Họ và tên", "Chức vụ", "Số điện thoại"])
    for row in [
        ("Bùi Văn Hải", "Chủ tịch UBND phường", "0911000001"),
        ("Đỗ Thị Lan", "Công chức Văn phòng - Thống kê", "0911000002"),
        ("Ngô Văn Minh", "Công chức Tư pháp - Hộ tịch", "0911000003"),
        ("Trịnh Thị Ngọc", "Viên chức", "0911000004"),
    ]:
        sheet.append(list(row))
    book.save(path)
    return path


def other_unit_csv(path: Path, today: date) -> Path:
    done = _day(today - timedelta(days=30))
    lines = ["Họ và tên,Số điện thoại,Ngày trả kết quả"] + [
        f"{name},09{n:08d},{done}"
        for n, name in enumerate(["Cao Văn Quý", "Lý Thị Sen", "Mai Văn Tài", "Tạ Thị Uyên"])
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- helpers


def sign_in(browser, base: str, username: str, password: str = PASSWORD, **context):
    context = browser.new_context(**context)
    page = context.new_page()
    page.goto(f"{base}/auth/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()
    assert "/auth/login" not in page.url, page.content()[:2000]
    return page


def download(page, click, folder: Path) -> Path:
    with page.expect_download() as info:
        click()
    target = folder / info.value.suggested_filename
    info.value.save_as(target)
    return target


def flash_text(page) -> str:
    return " ".join(page.locator(".flash, .alert").all_inner_texts())


def answer_shown(page, choice: int = 3) -> None:
    """Answer every shown, unanswered question on the page: radio groups by the label of
    option ``choice`` (or the last one), number boxes with 3."""
    for question in page.locator("fieldset.question").all():
        if not question.is_visible():
            continue
        radios = question.locator("input[type=radio]")
        if radios.count() and not question.locator("input:checked").count():
            question.locator("label").nth(min(choice, radios.count() - 1)).click()
    for number in page.locator("input[type=number]").all():
        if number.is_visible() and not number.input_value():
            number.fill("3")


def pdf_text(pdf: Path) -> list[str]:
    pages = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    return pages.split("\f")[:-1]  # the text ends with a form feed


def render(pdf: Path, page: int, prefix: Path) -> Path:
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", "-f", str(page), "-l", str(page),
         str(pdf), str(prefix)],
        check=True,
    )  # fmt: skip
    return Path(f"{prefix}.png")


def qr_links(png: Path) -> list[str]:
    from PIL import Image
    from pyzbar.pyzbar import decode

    return [s.data.decode() for s in decode(Image.open(png)) if s.type == "QRCODE"]


CITIZENS = (
    "Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Hoàng Văn Em", "Đặng Văn Giang",
    "Đinh Thị Hoa",
)  # fmt: skip
OFFICIALS = ("Bùi Văn Hải", "Đỗ Thị Lan", "Ngô Văn Minh", "Trịnh Thị Ngọc")
CODE_RE = re.compile(r"\b([A-Z2-9]{5}-[A-Z2-9]{5})\b")


# ----------------------------------------------------------------------------- the test


@pytest.mark.browser
@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_one_campaign_through_every_role(app, live_server, factory, tmp_path):
    sync_playwright = browser_or_skip()
    base = live_server
    today = date.today()
    # Screenshots of each step (E2E_SHOTS=folder keeps them for a person to look at).
    shots = Path(os.environ.get("E2E_SHOTS") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    files = shots / "files"
    files.mkdir(exist_ok=True)

    # The Department's administrator exists (made at deployment, `surveyapp users`);
    # everyone else's account is made through the pages below.
    factory.user("admin", username="doha", full_name="Chuyên viên Sở Nội vụ")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        admin = sign_in(browser, base, "doha", accept_downloads=True)

        # --- the administrator imports the units and creates the campaign ----------------
        units_file = files / "don-vi.csv"
        units_file.write_text(UNITS_CSV, encoding="utf-8")
        admin.goto(f"{base}/units/import")
        admin.get_by_label("Tệp CSV").set_input_files(units_file)
        admin.get_by_role("button", name="Nhập").click()
        assert "Đã nhập: 3 đơn vị mới" in flash_text(admin)
        assert admin.get_by_text("Phường Tân Định").count()

        # The contractor's staff get their accounts.
        for username, full_name, role in (
            ("giamsat", "Giám sát viên", "supervisor"),
            ("dtv1", "Điều tra viên Một", "enumerator"),
            ("nhaplieu", "Nhân viên nhập liệu", "clerk"),
        ):
            admin.goto(f"{base}/auth/users/new")
            admin.get_by_label("Tên đăng nhập").fill(username)
            admin.get_by_label("Họ tên").fill(full_name)
            admin.get_by_label("Vai trò").select_option(role)
            admin.get_by_label(re.compile("Mật khẩu")).fill(PASSWORD)
            admin.get_by_role("button", name="Tạo", exact=True).click()
            assert "Đã tạo tài khoản." in flash_text(admin), flash_text(admin)

        # The unit's focal point gets an account with a one-time password (CSV, once).
        admin.goto(f"{base}/auth/users/focal-points")
        admin.get_by_label(re.compile("Mã đơn vị")).fill("P-TANDINH")
        accounts = download(
            admin,
            lambda: admin.get_by_role("button", name="Tạo và tải tệp CSV").click(),
            files,
        )
        (account,) = csv.DictReader(io.StringIO(accounts.read_text(encoding="utf-8-sig")))
        assert account["ma_don_vi"] == "P-TANDINH", account
        assert account["ten_don_vi"] == "Phường Tân Định", account

        admin.goto(f"{base}/campaigns/new")
        admin.get_by_label("Mã đợt").fill(f"{today.year}-HCM")
        admin.get_by_label("Tên đợt khảo sát").fill(f"Khảo sát Chỉ số CCHC năm {today.year}")
        admin.get_by_label("Bắt đầu khảo sát").fill(_day(today - timedelta(days=150)))
        admin.get_by_label("Kết thúc khảo sát").fill(_day(today + timedelta(days=30)))
        admin.get_by_role("button", name="Lưu").click()
        assert "Đã lưu đợt khảo sát." in flash_text(admin)
        campaign_url = admin.url
        campaign_id = int(campaign_url.rstrip("/").rsplit("/", 1)[1])

        for group, questionnaire in (("citizen", "sipas-citizen"), ("official", "par-officials")):
            choose_group(admin, group)
            admin.get_by_label("Bảng hỏi", exact=True).select_option(f"{questionnaire}@2025")
            admin.get_by_role("button", name="Lưu bảng hỏi").click()
            assert "Đã lưu bảng hỏi cho nhóm." in flash_text(admin)
        admin.screenshot(path=shots / "01-campaign.png", full_page=True)

        # --- the focal point uploads the unit's two lists --------------------------------
        focal = sign_in(
            browser, base, account["ten_dang_nhap"], password=account["mat_khau_mot_lan"]
        )
        # A one-time password: the first page asks for the focal point's own.
        assert "/auth/password" in focal.url, focal.url
        focal.get_by_label("Mật khẩu hiện tại").fill(account["mat_khau_mot_lan"])
        focal.get_by_label(re.compile("Mật khẩu mới")).fill("Tân Định 2026 mật khẩu")
        focal.get_by_label("Nhập lại mật khẩu mới").fill("Tân Định 2026 mật khẩu")
        focal.get_by_role("button", name="Đổi mật khẩu").click()
        assert "/auth/password" not in focal.url, flash_text(focal)
        focal.goto(f"{base}/frames/")
        focal.get_by_role("link", name="Tải lên Người dân, tổ chức").click()
        focal.get_by_label("Tệp danh sách (Excel .xlsx hoặc CSV)").set_input_files(
            citizens_xlsx(files / "danh-sach-nguoi-dan.xlsx", today)
        )
        focal.get_by_role("button", name="Tải lên và kiểm tra").click()
        report = focal.locator("main").inner_text()
        focal.screenshot(path=shots / "02-citizens-report.png", full_page=True)
        assert "5 dòng hợp lệ" in flash_text(focal), flash_text(focal)
        assert "1 dòng bị loại" in flash_text(focal)
        assert "Trùng (giữ một): 2" in report
        issues = [r.inner_text() for r in focal.locator("tbody tr").all()]
        assert any(r.startswith("6\t") and "12345" in r and "Lỗi" in r for r in issues), issues
        assert any("HS-002" in r and "Trùng mã hồ sơ" in r for r in issues), issues
        assert any("Trùng họ tên và số điện thoại" in r for r in issues), issues

        # Two more people turn up in the counter's late register: a second file, one of
        # whose rows repeats the first file's; the focal point confirms seeing 5 -> 6.
        focal.goto(f"{base}/frames/")
        focal.get_by_role("link", name="Thay hoặc thêm tệp Người dân, tổ chức").click()
        focal.get_by_label("Thêm tệp này vào danh sách hiện tại").check()
        focal.get_by_label("Tệp danh sách (Excel .xlsx hoặc CSV)").set_input_files(
            late_citizens_csv(files / "bo-sung.csv", today)
        )
        focal.get_by_role("button", name="Tải lên và kiểm tra").click()
        summary = focal.locator("#change-summary").inner_text()
        focal.screenshot(path=shots / "02-add-file.png", full_page=True)
        assert "Số dòng hợp lệ: 5 → 6" in summary, summary
        assert "Đặng Văn Giang" in focal.locator("main").inner_text()  # the repeated row
        focal.get_by_role("button", name="Thêm tệp vào danh sách").click()
        assert "6 dòng hợp lệ (trước: 5)" in flash_text(focal), flash_text(focal)

        focal.goto(f"{base}/frames/")
        focal.get_by_role("link", name="Tải lên Cán bộ, công chức, viên chức").click()
        focal.get_by_label("Tệp danh sách (Excel .xlsx hoặc CSV)").set_input_files(
            officials_xlsx(files / "danh-sach-can-bo.xlsx")
        )
        focal.get_by_role("button", name="Tải lên và kiểm tra").click()
        assert "4 dòng hợp lệ" in flash_text(focal), flash_text(focal)

        # --- the administrator uploads Phường Bến Thành's list on its behalf -------------
        admin.goto(f"{base}/frames/")
        admin.get_by_label("Tải danh sách thay cho đơn vị").select_option(
            label="P-BENTHANH — Phường Bến Thành"
        )
        admin.get_by_label("Loại danh sách").select_option("citizens")
        admin.get_by_role("button", name="Tiếp tục").click()
        admin.get_by_label("Tệp danh sách (Excel .xlsx hoặc CSV)").set_input_files(
            other_unit_csv(files / "ben-thanh.csv", today)
        )
        admin.get_by_role("button", name="Tải lên và kiểm tra").click()
        assert "4 dòng hợp lệ" in flash_text(admin), flash_text(admin)

        # --- the administrator previews, draws and locks ---------------------------------
        admin.goto(f"{base}/draws/{campaign_id}")
        frame = admin.locator("main p", has_text="Khung mẫu hiện tại").inner_text()
        assert "14 người trong danh sách của 2 đơn vị" in frame, frame  # 6 + 4 + 4
        admin.get_by_label("Cỡ mẫu n").fill("2")
        admin.get_by_label("Dự phòng", exact=True).fill("1")
        admin.get_by_role("button", name="Xem trước phân bổ").click()
        preview = admin.locator("section", has=admin.locator("#preview")).inner_text()
        admin.screenshot(path=shots / "03-preview.png", full_page=True)
        assert "P-TANDINH" in preview and "P-BENTHANH" in preview, preview
        admin.get_by_text("Chọn thử với hạt giống tự đặt").click()
        admin.get_by_label("Hạt giống ngẫu nhiên").fill("20261208")
        admin.get_by_role("button", name="Chọn mẫu", exact=True).click()
        assert "Đã chọn mẫu: 6 người chính thức và 3 dự phòng trong 3 tầng" in flash_text(admin), (
            flash_text(admin)
        )
        admin.get_by_label(re.compile("Tôi hiểu: khoá mẫu")).check()
        admin.get_by_role("button", name="Khoá mẫu").click()
        assert "Đã khoá mẫu." in flash_text(admin)

        admin.goto(campaign_url)
        admin.get_by_role("button", name="Bắt đầu khảo sát").click()
        assert "Đợt khảo sát chuyển sang" in flash_text(admin), flash_text(admin)

        # --- letters for Phường Tân Định, one print run per group --------------------------
        # Each person gets their own group's letter: officials never the citizens' one.
        # First each group's letter as previewed for a made-up recipient.
        admin.goto(f"{base}/tokens/")
        for group, title in (("citizen", "SIPAS"), ("official", "KHẢO SÁT CÁN BỘ")):
            href = admin.locator(f"a[href*='/preview/{group}.pdf'][href*='lang=vi']").get_attribute(
                "href"
            )
            answer = admin.request.get(f"{base}{href}")
            assert answer.ok and answer.headers["content-type"] == "application/pdf"
            preview = files / f"preview-{group}.pdf"
            preview.write_bytes(answer.body())
            text = pdf_text(preview)[0]
            assert "BẢN XEM TRƯỚC" in text and title in text, text
            assert not [name for name in CITIZENS + OFFICIALS if name in text]
        letters, pages = {}, {}
        for group in ("citizen", "official"):
            admin.goto(f"{base}/tokens/")
            admin.get_by_role("link", name="P-TANDINH — Phường Tân Định").click()
            admin.get_by_label("Nhóm đối tượng").select_option(group)
            admin.get_by_role("button", name="In thư (PDF)").click()
            admin.wait_for_url(re.compile(r"/tokens/jobs/"))
            assert "Đã xong: 2 thư" in admin.locator("main").inner_text()
            letters[group] = download(
                admin, lambda: admin.get_by_role("link", name="Tải tệp PDF").click(), files
            )
            pages[group] = pdf_text(letters[group])
        citizens, officials = {}, {}
        for group, names, found in (("citizen", CITIZENS, citizens),
                                    ("official", OFFICIALS, officials)):  # fmt: skip
            assert len(pages[group]) == 2, pages[group]
            for number, text in enumerate(pages[group], start=1):
                (name,) = re.findall(r"Kính gửi: (.+)", text)
                found[name.strip()] = number
                assert name.strip() in names, (name, text)
                officials_letter = "THƯ MỜI THAM GIA KHẢO SÁT CÁN BỘ" in text
                assert officials_letter == (group == "official"), text
                assert ("SIPAS" in text) == (group == "citizen"), text
                assert "Phường Tân Định" in text
        web_citizen, refusing_citizen = citizens
        png = render(letters["citizen"], citizens[web_citizen], tmp_path / "letter")
        admin.screenshot(path=shots / "04-letters-job.png", full_page=True)
        (link,) = qr_links(png)
        assert link.startswith(f"{base}/s/"), link
        official = next(iter(officials))
        (official_code,) = CODE_RE.findall(pages["official"][officials[official] - 1])

        # --- a citizen answers on a phone ------------------------------------------------
        phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        citizen = phone.new_page()
        citizen.goto(link)
        assert citizen.url == f"{base}/s/form"
        assert "Phường Tân Định" in citizen.locator(".rated-unit").inner_text()
        shown_sections, counters = [], []
        for _ in range(15):
            if citizen.get_by_role("heading", name="Cảm ơn Ông/Bà!").count():
                break
            section = citizen.locator("form#citizen-form").get_attribute("data-section")
            shown_sections.append(section)
            counter = citizen.locator(".progress-text").inner_text()
            counters.append(tuple(int(n) for n in re.findall(r"\d+", counter)))
            if section == "A":
                citizen.locator("label[for=a6-0]").click()  # in person at the counter
            if section == "B":
                # In person: the counter's grid, never the portal's (b5-b8) nor the post's.
                assert citizen.locator("#q-b1").is_visible()
                for code in ("b5", "b6", "b7", "b8", "b9"):
                    assert not citizen.locator(f"#q-{code}").is_visible(), code
            if section == "F":
                citizen.locator("label[for=f1-0]").click()  # gave feedback: asked about it
                assert citizen.locator("#q-f2").is_visible()
                citizen.locator("label[for=f1-1]").click()  # no: the follow-up goes away
                assert citizen.locator("#q-f2").is_hidden()
            answer_shown(citizen)
            citizen.screenshot(path=shots / f"04-citizen-{section}.png", full_page=True)
            send = citizen.get_by_role("button", name="Gửi phiếu")
            if send.count():
                send.click()
            else:
                citizen.get_by_role("button", name="Tiếp tục").click()
            citizen.wait_for_load_state()
        assert citizen.get_by_role("heading", name="Cảm ơn Ông/Bà!").is_visible()
        assert {"A", "B", "F"} <= set(shown_sections)
        # "Phần x / y": x goes up by one, y never grows, the last page is y / y.
        assert [x for x, _ in counters] == list(range(1, len(counters) + 1)), counters
        totals = [y for _, y in counters]
        assert totals == sorted(totals, reverse=True) and totals[-1] == len(counters), counters
        phone.close()

        # --- fieldwork: attempts, a refusal, a reserve, an interview ---------------------
        supervisor = sign_in(browser, base, "giamsat")
        supervisor.goto(f"{base}/fieldwork/campaigns/{campaign_id}")
        supervisor.get_by_role("link", name=re.compile("P-TANDINH")).first.click()
        supervisor.get_by_label(f"Chọn {refusing_citizen}").check()
        supervisor.get_by_label("Giao những người đã chọn cho").select_option(
            label="Điều tra viên Một"
        )
        supervisor.get_by_role("button", name="Giao / chuyển giao").click()
        assert "Đã cập nhật 1 người." in flash_text(supervisor)

        enumerator = sign_in(browser, base, "dtv1", viewport=PHONE)
        enumerator.goto(f"{base}/fieldwork/mine")
        enumerator.get_by_role("link", name=refusing_citizen).click()
        for result in ("no_answer", "refusal"):
            enumerator.get_by_label("Cách thức").select_option("phone")
            enumerator.get_by_label("Kết quả", exact=True).select_option(result)
            enumerator.get_by_role("button", name="Lưu").click()
            assert "Đã ghi lần liên hệ." in flash_text(enumerator), flash_text(enumerator)
        attempts = enumerator.locator("table").inner_text()
        assert "Không trả lời máy" in attempts and "Từ chối" in attempts

        supervisor.reload()
        supervisor.locator("tr", has_text=refusing_citizen).get_by_role(
            "button", name="Thay bằng dự phòng"
        ).click()
        # Releasing a reserve cannot be undone: a page asks first.
        supervisor.get_by_label("Tôi hiểu", exact=False).check()
        supervisor.get_by_role("button", name="Thay bằng người dự phòng").click()
        assert "Đã kích hoạt người dự phòng thứ 1" in flash_text(supervisor)

        enumerator.goto(f"{base}/fieldwork/mine")
        open_cases = enumerator.locator("ul.case-list").first
        reserve_link = open_cases.locator("a").first
        reserve_name = reserve_link.inner_text()
        assert reserve_name not in (web_citizen, refusing_citizen)
        reserve_link.click()
        enumerator.get_by_role("link", name="Phỏng vấn ngay").click()
        # Applied online: the portal's grid is asked, the counter's and the post's are not.
        enumerator.locator("label[for=a6-1]").click()
        assert enumerator.locator("#q-b5").is_visible()
        for code in ("a8", "b1", "b4", "b9"):
            assert enumerator.locator(f"#q-{code}").is_hidden(), code
        answer_shown(enumerator)
        enumerator.screenshot(path=shots / "05-interview.png", full_page=True)
        enumerator.get_by_role("button", name=re.compile("Lưu")).last.click()
        assert "Đã lưu phiếu." in flash_text(enumerator), flash_text(enumerator)

        # --- the administrator closes fieldwork; paper forms in hand until a deadline ------
        admin.goto(campaign_url)
        admin.get_by_label("Nhận nhập phiếu phỏng vấn, phiếu giấy đến hết ngày").fill(
            _day(today + timedelta(days=7))
        )
        admin.get_by_label(re.compile("Tôi hiểu: kết thúc đợt khảo sát")).check()
        admin.get_by_role("button", name="Kết thúc đợt khảo sát").click()
        assert "Đợt khảo sát chuyển sang" in flash_text(admin), flash_text(admin)
        entry = admin.locator("section.entry-state").inner_text()
        assert _day(today + timedelta(days=7)) in entry, entry

        # The web stops: the other official's letter now leads to "the survey has ended".
        late = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
        late_official = list(officials)[1]
        late.goto(
            qr_links(render(letters["official"], officials[late_official], tmp_path / "l"))[0]
        )
        assert late.get_by_role("heading", name="Khảo sát đã kết thúc").is_visible()
        late.context.close()

        # --- a clerk keys an official's paper form after closing ---------------------------
        clerk = sign_in(browser, base, "nhaplieu")
        clerk.goto(f"{base}/fieldwork/paper")
        clerk.get_by_label("Mã trên phiếu").fill(official_code)
        clerk.get_by_role("button", name="Mở phiếu").click()
        # The official does not handle procedures (a4 = no): the procedures grid is skipped.
        clerk.locator("label[for=a4-0]").click()
        assert clerk.locator("#q-d4").is_visible()
        clerk.locator("label[for=a4-1]").click()
        assert clerk.locator("#q-d4").is_hidden()
        answer_shown(clerk)
        clerk.screenshot(path=shots / "06-paper.png", full_page=True)
        clerk.get_by_role("button", name=re.compile("Lưu")).last.click()
        assert "Đã lưu phiếu." in flash_text(clerk), flash_text(clerk)

        # It waits in the ballot box until the administrator ends data entry.
        admin.goto(campaign_url)
        entry = admin.locator("section.entry-state").inner_text()
        assert re.search(r"\b1\s+phiếu đang chờ", entry), entry
        admin.get_by_role("button", name="Kết thúc nhập phiếu ngay").click()
        entry = admin.locator("section.entry-state").inner_text()
        assert "Đã kết thúc nhập phiếu lúc" in entry, entry

        # Response rates on the dashboard, each group over its own sample.
        admin.goto(f"{base}/dashboard/{campaign_id}")
        admin.screenshot(path=shots / "07-dashboard.png", full_page=True)
        dashboard = {}
        rates_table = admin.locator("table.figures").first
        for row in rates_table.locator("tbody tr:not(.subtotal)").all():
            unit, group, sampled, completed, rr1, _rr3 = row.locator("th, td").all_inner_texts()
            dashboard[unit.split(" — ")[0], group] = (int(sampled), int(completed), rr1)
        # Tân Định's citizens: two drawn and the reserve released for the refusal, two
        # answered (2/3); its officials: one of two; Bến Thành: none of its two.
        # Groups by their Vietnamese names, never the codes.
        assert dashboard == {
            ("P-TANDINH", "Người dân"): (3, 2, "66,7%"),
            ("P-TANDINH", "Cán bộ, công chức, viên chức"): (2, 1, "50,0%"),
            ("P-BENTHANH", "Người dân"): (2, 0, "0,0%"),
        }, dashboard

        admin.goto(f"{base}/results/{campaign_id}")
        admin.get_by_label("Số phiếu tối thiểu mỗi ô").fill("1")
        admin.get_by_role("button", name="Tính điểm").click()
        admin.wait_for_url(re.compile(r"/runs/"))
        for _ in range(60):
            if (
                admin.get_by_text("Tệp Sở Nội vụ nhập vào").count()
                or admin.locator(".alert-error").count()
            ):
                break
            admin.wait_for_timeout(1000)
            admin.reload()
        admin.screenshot(path=shots / "07-results.png", full_page=True)
        # Every sampled unit is ranked or says why not: Bến Thành, whose people nobody
        # reached, is on the citizens' table as "no responses".
        citizens_table = admin.locator("table", has=admin.get_by_text("P-BENTHANH"))
        ben_thanh = citizens_table.locator("tr", has_text="P-BENTHANH")
        assert "Không có phiếu trả lời" in ben_thanh.inner_text()
        tan_dinh_row = citizens_table.locator("tr", has_text="P-TANDINH")
        assert tan_dinh_row.get_attribute("data-status") == "scored"
        # The results page gives the dashboard's response rates.
        for questionnaire, group in (
            ("sipas-citizen", "Người dân"),
            ("par-officials", "Cán bộ, công chức, viên chức"),
        ):
            table = admin.locator(f"h2:has-text('— {questionnaire}') ~ div.table-scroll table")
            header = table.first.locator("thead th").all_inner_texts()
            for row in table.first.locator("tbody tr").all():
                cells = dict(zip(header, row.locator("td").all_inner_texts(), strict=True))
                unit = cells["Đơn vị"].split(" — ")[0]
                assert f"{cells['RR1 (%)']}%" == dashboard[unit, group][2], (unit, cells)
        import_files = {}
        for note in admin.locator("p", has_text="Tệp Sở Nội vụ nhập vào").all():
            link = note.get_by_role("link")
            import_files[link.inner_text()] = download(admin, link.click, files)
        microdata, reports = {}, {}
        for questionnaire in ("sipas-citizen", "par-officials"):
            link = admin.get_by_role("link", name=f"{questionnaire}/microdata.csv", exact=True)
            microdata[questionnaire] = download(admin, link.click, files)
            link = admin.get_by_role("link", name=f"{questionnaire}/report.pdf", exact=True)
            reports[questionnaire] = download(admin, link.click, files)
        browser.close()

    # The answers as stored: what did not apply was never kept; nobody is named.
    interview, web = sorted(csv_rows(microdata["sipas-citizen"]), key=lambda r: r["mode"])
    assert (web["mode"], interview["mode"]) == ("web", "enumerator")
    assert float(web["a6"]) == 1 and web["b1"] and web["a8"]
    assert not any(web[c] for c in ("b5", "b6", "b7", "b8", "b9")), web
    assert float(interview["a6"]) == 2 and interview["b5"]
    assert not any(interview[c] for c in ("a8", "b1", "b2", "b3", "b4", "b9")), interview
    assert not any(web[c] for c in ("f2", "f3", "f4", "f5")), web
    (paper,) = csv_rows(microdata["par-officials"])
    assert paper["mode"] == "paper" and float(paper["a4"]) == 2 and paper["d1"]
    assert not any(paper[c] for c in ("d4", "d5", "d6")), paper
    # The report: Bến Thành in the ranking with its status, the forms counted where they
    # came from.
    report = " ".join(" ".join(pdf_text(reports["sipas-citizen"])).split())
    assert "2 phiếu của 1 cơ quan, đơn vị" in report, report[:1500]
    assert "1 không có phiếu trả lời" in report and "Phường Bến Thành" in report
    for path in microdata.values():
        text = path.read_text(encoding="utf-8-sig")
        assert not [name for name in CITIZENS + OFFICIALS if name in text]

    assert set(import_files) == {"sipas-citizen/points.xlsx", "par-officials/points.xlsx"}
    # The Department's import file lists every sampled unit once per criterion, the unit
    # without responses included, with its status.
    citizens_points = points_rows(import_files["sipas-citizen/points.xlsx"])
    criteria = {r["criterion"] for r in citizens_points}
    for unit in ("P-TANDINH", "P-BENTHANH"):
        assert {r["criterion"] for r in citizens_points if r["unit"] == unit} == criteria
    ben_thanh_points = [r for r in citizens_points if r["unit"] == "P-BENTHANH"]
    assert {r["status"] for r in ben_thanh_points} == {"no_responses"}
    assert all(r["points"] is None and r["n_respondents"] == 0 for r in ben_thanh_points)
    assert any(
        r["status"] == "scored" and r["points"] for r in citizens_points if r["unit"] == "P-TANDINH"
    )
    # Officials were listed (and drawn) in Tân Định only; the paper form keyed counts.
    officials_points = points_rows(import_files["par-officials/points.xlsx"])
    assert {r["unit"] for r in officials_points} == {"P-TANDINH"}
    assert {r["n_respondents"] for r in officials_points} == {1}


def csv_rows(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def points_rows(path: Path) -> list[dict]:
    book = openpyxl.load_workbook(path, read_only=True)
    header, *body = book["points"].iter_rows(values_only=True)
    return [dict(zip(header, row, strict=False)) for row in body]


def choose_group(page, group: str) -> None:
    """The respondent group: chosen from a list where the page offers one, typed otherwise."""
    control = page.locator("#instrument-respondent_group")
    if control.evaluate("e => e.tagName") == "SELECT":
        control.select_option(group)
    else:
        control.fill(group)
