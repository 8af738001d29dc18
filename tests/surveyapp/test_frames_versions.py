"""A unit's list in versions (issue 10.7): replacing asks for confirmation with the rows,
files, uploaders and times before and after; a second file can be added to the list
(checked together with the first: repeats named with both rows); earlier versions are
kept and one can be restored, all or nothing, by the administrator or the unit's focal
point until the sample is locked."""

import datetime as dt
import io
import re

import pytest
import sqlalchemy as sa

from surveyapp.models import Draw, FrameRecord, FrameUpload, FrameVersion
from surveyapp.models.users import Role

PERIOD = {"period_start": dt.date(2024, 1, 1), "period_end": dt.date(2024, 9, 30)}
HEADER = "Họ và tên,Số điện thoại,Mã hồ sơ,Ngày trả kết quả\n"


def citizens_csv(n, start=0, extra=""):
    rows = [f"Người {i},09{i:08d},HS-{i},15/03/2024\n" for i in range(start, start + n)]
    return (HEADER + "".join(rows) + extra).encode()


def post_file(client, campaign, unit, data, filename="ds.csv", mode=None):
    form = {"file": (io.BytesIO(data), filename)}
    if mode:
        form["mode"] = mode
    return client.post(
        f"/frames/{campaign.id}/units/{unit.id}/citizens",
        data=form,
        content_type="multipart/form-data",
    )


def current_names(db_session, unit_id):
    with db_session() as session:
        return session.scalars(
            sa.select(FrameRecord.full_name)
            .join(FrameUpload)
            .where(FrameUpload.unit_id == unit_id, FrameUpload.is_current)
            .order_by(FrameRecord.id)
        ).all()


def versions(db_session):
    with db_session() as session:
        return [
            (v.number, v.action.value, v.restored_from, v.is_current, v.rows_valid,
             [f.filename for f in v.files])
            for v in session.scalars(sa.select(FrameVersion).order_by(FrameVersion.number))
        ]  # fmt: skip


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


@pytest.fixture
def campaign(factory):
    return factory.campaign(**PERIOD)


@pytest.fixture
def focal(login, factory):
    unit = factory.unit(code="XA01", name="UBND xã Một")
    user = login(Role.FOCAL_POINT, unit=unit, full_name="Lê Thị Đầu Mối")
    return user, unit


def test_the_first_list_needs_no_confirmation(client, focal, campaign, db_session):
    _, unit = focal
    response = post_file(client, campaign, unit, citizens_csv(3))
    assert "/frames/uploads/" in response.headers["Location"]
    assert "/confirm" not in response.headers["Location"]
    assert versions(db_session) == [(1, "upload", None, True, 3, ["ds.csv"])]


def test_replacing_shows_rows_files_uploaders_and_times_then_waits(
    client, focal, campaign, db_session
):
    _, unit = focal
    post_file(client, campaign, unit, citizens_csv(5), filename="ds-thang-3.csv")
    with db_session() as session:  # uploaded at 17:30 UTC = 00:30 next day in Hồ Chí Minh
        session.execute(sa.update(FrameUpload).values(uploaded_at=dt.datetime(2024, 3, 1, 17, 30)))
    response = post_file(client, campaign, unit, citizens_csv(2, start=10), filename="moi.csv")
    assert response.status_code == 302 and response.headers["Location"].endswith("/confirm")
    page = text(client.get(response.headers["Location"]))
    assert "Xác nhận thay danh sách" in page
    assert "Số dòng hợp lệ: 5 → 2" in page
    assert "ds-thang-3.csv" in page and "moi.csv" in page and "Lê Thị Đầu Mối" in page
    assert "02/03/2024 00:30 (UTC+7)" in page
    # Nothing changed yet; a cancel drops the waiting file and its rows.
    assert len(current_names(db_session, unit.id)) == 5
    with db_session() as session:
        waiting = session.scalar(sa.select(FrameUpload.id).where(FrameUpload.filename == "moi.csv"))
    cancelled = client.post(f"/frames/uploads/{waiting}/cancel")
    assert cancelled.status_code == 302
    assert "danh sách hiện tại được giữ nguyên" in text(client.get(cancelled.headers["Location"]))
    with db_session() as session:
        assert session.scalar(sa.select(sa.func.count(FrameUpload.id))) == 1
        assert session.scalar(sa.select(sa.func.count(FrameRecord.id))) == 5
    assert versions(db_session) == [(1, "upload", None, True, 5, ["ds-thang-3.csv"])]


def test_a_replaced_list_is_kept_and_can_be_restored(client, focal, campaign, db_session):
    _, unit = focal
    post_file(client, campaign, unit, citizens_csv(4), filename="a.csv")
    confirm = post_file(client, campaign, unit, citizens_csv(2, start=10), filename="b.csv")
    done = client.post(confirm.headers["Location"])
    assert "phiên bản 2, 2 dòng hợp lệ (trước: 4)" in text(client.get(done.headers["Location"]))
    assert current_names(db_session, unit.id) == ["Người 10", "Người 11"]
    base = f"/frames/{campaign.id}/units/{unit.id}/citizens/versions"
    listing = text(client.get(base))
    assert "Phiên bản 2 đang dùng" in listing and "Phiên bản 1" in listing and "a.csv" in listing
    page = text(client.get(f"{base}/1/restore"))
    assert "Xác nhận khôi phục phiên bản 1" in page and "Số dòng hợp lệ: 2 → 4" in page
    restored = client.post(f"{base}/1/restore")
    assert "Đã khôi phục phiên bản 1 thành phiên bản 3" in text(
        client.get(restored.headers["Location"])
    )
    assert current_names(db_session, unit.id) == [f"Người {i}" for i in range(4)]
    assert versions(db_session) == [
        (1, "upload", None, False, 4, ["a.csv"]),
        (2, "upload", None, False, 2, ["b.csv"]),
        (3, "restore", 1, True, 4, ["a.csv"]),
    ]


def test_a_second_file_is_checked_with_the_first(client, focal, campaign, db_session):
    """Rows repeating the first file (same dossier code; same name and phone) are not added
    and each message names both rows; both files then make the list."""
    _, unit = focal
    post_file(client, campaign, unit, citizens_csv(3), filename="dot-1.csv")
    second = (
        HEADER
        + "Người 20,0900000020,HS-20,15/03/2024\n"  # new
        + "Trần Văn Khác,0900000099,hs -1,15/03/2024\n"  # dossier of dot-1.csv row 3
        + "NGƯỜI  2,0900000002,HS-77,15/03/2024\n"  # name and phone of dot-1.csv row 4
    ).encode()
    response = post_file(client, campaign, unit, second, filename="dot-2.csv", mode="add")
    page = text(client.get(response.headers["Location"]))
    assert "Xác nhận thêm tệp vào danh sách" in page and "Số dòng hợp lệ: 3 → 4" in page
    assert "Trùng mã hồ sơ với dòng 3 của tệp «dot-1.csv» đã có trong danh sách" in page
    assert "Trùng họ tên và số điện thoại với dòng 4 của tệp «dot-1.csv»" in page
    with db_session() as session:
        report = session.scalar(
            sa.select(FrameUpload.report).where(FrameUpload.filename == "dot-2.csv")
        )
    assert [(i[0], i[5]) for i in report["issues"]] == [
        (3, "duplicate_dossier"), (4, "duplicate_person"),
    ]  # fmt: skip
    client.post(response.headers["Location"])
    assert current_names(db_session, unit.id) == ["Người 0", "Người 1", "Người 2", "Người 20"]
    assert versions(db_session)[-1] == (2, "add", None, True, 4, ["dot-1.csv", "dot-2.csv"])
    # The upload page shows both files of the current list.
    upload_page = text(client.get(f"/frames/{campaign.id}/units/{unit.id}/citizens"))
    assert "phiên bản 2" in upload_page and "dot-1.csv" in upload_page
    assert "dot-2.csv" in upload_page


def test_a_confirmation_after_the_list_changed_is_refused(client, focal, campaign, db_session):
    _, unit = focal
    post_file(client, campaign, unit, citizens_csv(3), filename="a.csv")
    confirm = post_file(client, campaign, unit, citizens_csv(2, start=10), filename="b.csv")
    client.post(confirm.headers["Location"])
    late = post_file(client, campaign, unit, citizens_csv(1, start=30), filename="c.csv")
    # Meanwhile the list changes (version 1 restored): the waiting file no longer applies.
    client.post(f"/frames/{campaign.id}/units/{unit.id}/citizens/versions/1/restore")
    refused = client.post(late.headers["Location"])
    assert "Danh sách đã được thay đổi trong lúc chờ xác nhận" in text(
        client.get(refused.headers["Location"])
    )
    assert current_names(db_session, unit.id) == ["Người 0", "Người 1", "Người 2"]
    with db_session() as session:
        assert (
            session.scalar(sa.select(sa.func.count()).where(FrameUpload.filename == "c.csv")) == 0
        )


def test_restoring_is_all_or_nothing(client, focal, campaign, db_session, monkeypatch):
    from surveyapp.frames import operations

    _, unit = focal
    post_file(client, campaign, unit, citizens_csv(3), filename="a.csv")
    client.post(post_file(client, campaign, unit, citizens_csv(2, 10)).headers["Location"])
    original = operations.FrameVersion

    def failing(**kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(operations, "FrameVersion", failing)
    with pytest.raises(RuntimeError):
        client.post(f"/frames/{campaign.id}/units/{unit.id}/citizens/versions/1/restore")
    monkeypatch.setattr(operations, "FrameVersion", original)
    assert current_names(db_session, unit.id) == ["Người 10", "Người 11"]
    assert [v[3] for v in versions(db_session)] == [False, True]


def test_a_version_whose_rows_are_gone_cannot_be_restored(client, focal, campaign, db_session):
    _, unit = focal
    post_file(client, campaign, unit, citizens_csv(3), filename="a.csv")
    client.post(post_file(client, campaign, unit, citizens_csv(2, 10)).headers["Location"])
    with db_session() as session:  # as after a purge, or a replacement before versions
        first = session.scalar(sa.select(FrameUpload.id).where(FrameUpload.filename == "a.csv"))
        session.execute(sa.delete(FrameRecord).where(FrameRecord.upload_id == first))
    response = client.post(f"/frames/{campaign.id}/units/{unit.id}/citizens/versions/1/restore")
    assert "Không thể khôi phục phiên bản 1" in text(client.get(response.headers["Location"]))
    assert current_names(db_session, unit.id) == ["Người 10", "Người 11"]
    assert len(versions(db_session)) == 2


def test_restore_is_closed_once_the_sample_is_locked(client, focal, campaign, factory, db_session):
    _, unit = focal
    post_file(client, campaign, unit, citizens_csv(3))
    client.post(post_file(client, campaign, unit, citizens_csv(2, 10)).headers["Location"])
    factory.add(Draw(campaign_id=campaign.id, design={}, locked=True))
    base = f"/frames/{campaign.id}/units/{unit.id}/citizens/versions"
    assert "Khôi phục phiên bản này" not in text(client.get(base))
    response = client.post(f"{base}/1/restore")
    assert response.status_code == 409
    assert current_names(db_session, unit.id) == ["Người 10", "Người 11"]


def test_who_may_see_and_restore_versions(client, login, factory, campaign, db_session):
    unit, other = factory.unit(code="XA01"), factory.unit(code="XA02")
    admin = login(Role.ADMIN)
    post_file(client, campaign, unit, citizens_csv(3))
    client.post(post_file(client, campaign, unit, citizens_csv(2, 10)).headers["Location"])
    base = f"/frames/{campaign.id}/units/{unit.id}/citizens/versions"
    login(Role.SUPERVISOR)
    assert client.get(base).status_code == 403  # the contractor never sees the list
    assert client.post(f"{base}/1/restore").status_code == 403
    login(Role.FOCAL_POINT, unit=other)
    assert client.get(base).status_code == 403
    assert client.post(f"{base}/1/restore").status_code == 403
    login(user=admin)
    assert client.post(f"{base}/1/restore").status_code == 302
    assert current_names(db_session, unit.id) == ["Người 0", "Người 1", "Người 2"]


def test_names_are_tidied_when_the_list_is_stored(client, focal, campaign, db_session):
    _, unit = focal
    data = (HEADER + "  NGUYỄN   văn AN ,0912345601,H1,15/03/2024\n"
            + "CÔNG TY TNHH ABC,0912345602,H2,15/03/2024\n").encode()  # fmt: skip
    post_file(client, campaign, unit, data)
    assert current_names(db_session, unit.id) == ["Nguyễn Văn An", "CÔNG TY TNHH ABC"]


def xlsx_list(path, rows):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["STT", "Họ và tên", "Số ĐT", "Mã hồ sơ", "Ngày trả kết quả"])
    for i, row in enumerate(rows, start=1):
        sheet.append([i, *row])
    book.save(path)
    return str(path)


@pytest.mark.browser
@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_focal_point_adds_replaces_and_restores_in_the_browser(app, factory, tmp_path):
    """The focal point's pages in chromium: a first list, a second file added after a
    confirmation naming the repeats, a replacement cancelled, an earlier version restored."""
    import os
    import shutil
    import threading

    from werkzeug.serving import make_server

    from tests.surveyapp.conftest import PASSWORD

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if sync_playwright is None or not shutil.which("/usr/bin/chromium"):
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail("Playwright or /usr/bin/chromium is missing")
        pytest.skip("Playwright or /usr/bin/chromium is missing")
    unit = factory.unit(code="P-TANDINH", name="Phường Tân Định")
    factory.campaign(**PERIOD)
    factory.user(Role.FOCAL_POINT, username="tandinh", unit=unit, full_name="Lê Thị Đầu Mối")
    first = xlsx_list(tmp_path / "dot-1.xlsx", [
        ("NGUYỄN VĂN AN", "0912 345 601", "HS-001", "15/03/2024"),
        ("Trần Thị Bình", "+84912345602", "HS-002", "16/03/2024"),
        ("Lê Văn Cường", "12345", "HS-003", "17/03/2024"),  # no valid phone: excluded
        ("Phạm Thị Dung", "0912345604", "HS-004", "18/03/2024"),
    ])  # fmt: skip
    second = xlsx_list(tmp_path / "dot-2.xlsx", [
        ("Võ Văn Em", "0912345605", "HS-005", "19/03/2024"),
        ("Trần Thị Bình", "0912345699", "hs-002", "16/03/2024"),  # the dossier of dot-1 row 3
    ])  # fmt: skip
    replacement = xlsx_list(
        tmp_path / "moi.xlsx", [("Đỗ Văn Giang", "0912345607", "HS-9", "1/4/2024")]
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"

    def flashes(page) -> str:
        return " ".join(page.locator(".flash, .alert").all_inner_texts())

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium",
                headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--disable-component-update", "--disable-sync"],
            )  # fmt: skip
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{base}/auth/login")
            page.fill("input[name=username]", "tandinh")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.goto(f"{base}/frames/")
            page.get_by_role("link", name="Tải lên Người dân, tổ chức").click()
            assert page.get_by_text("Tệp này sẽ").count() == 0  # nothing to replace yet
            page.get_by_label("Tệp danh sách (Excel .xlsx hoặc CSV)").set_input_files(first)
            page.get_by_role("button", name="Tải lên và kiểm tra").click()
            assert "Đã lưu danh sách: 3 dòng hợp lệ, 1 dòng bị loại" in flashes(page)

            page.goto(f"{base}/frames/")
            page.get_by_role("link", name="Thay hoặc thêm tệp Người dân, tổ chức").click()
            page.get_by_label("Thêm tệp này vào danh sách hiện tại (tệp thứ hai)").check()
            page.get_by_label("Tệp danh sách (Excel .xlsx hoặc CSV)").set_input_files(second)
            page.get_by_role("button", name="Tải lên và kiểm tra").click()
            assert page.get_by_role("heading", name="Xác nhận thêm tệp vào danh sách").is_visible()
            assert "Số dòng hợp lệ: 3 → 4" in page.locator("#change-summary").inner_text()
            main = page.locator("main").inner_text()
            assert "Trùng mã hồ sơ với dòng 3 của tệp «dot-1.xlsx»" in main
            assert "Lê Thị Đầu Mối" in main and "(UTC+7)" in main
            page.screenshot(path=str(tmp_path / "confirm-add.png"), full_page=True)
            page.get_by_role("button", name="Thêm tệp vào danh sách").click()
            assert "Đã thêm tệp vào danh sách: phiên bản 2, 4 dòng hợp lệ" in flashes(page)

            page.goto(f"{base}/frames/")
            page.get_by_role("link", name="Thay hoặc thêm tệp Người dân, tổ chức").click()
            page.get_by_label("Tệp danh sách (Excel .xlsx hoặc CSV)").set_input_files(replacement)
            page.get_by_role("button", name="Tải lên và kiểm tra").click()
            assert page.get_by_role("heading", name="Xác nhận thay danh sách").is_visible()
            assert "Số dòng hợp lệ: 4 → 1" in page.locator("#change-summary").inner_text()
            page.get_by_role("button", name="Huỷ, giữ danh sách hiện tại").click()
            assert "danh sách hiện tại được giữ nguyên" in flashes(page)

            page.get_by_role("link", name="các phiên bản trước và khôi phục").click()
            page.locator("#version-1").get_by_role("link", name="Khôi phục phiên bản này").click()
            assert "Số dòng hợp lệ: 4 → 3" in page.locator("#change-summary").inner_text()
            page.get_by_role("button", name="Khôi phục phiên bản 1").click()
            assert "Đã khôi phục phiên bản 1 thành phiên bản 3" in flashes(page)
            assert page.locator("#version-3").get_by_text("đang dùng").is_visible()
            browser.close()
    finally:
        server.shutdown()
        thread.join(timeout=10)
