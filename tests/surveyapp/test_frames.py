"""Frame upload: validation report, atomic replacement, limits, unit scoping, status table."""

import csv
import datetime as dt
import io
import unicodedata
import zipfile

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from surveyapp.models import Campaign, CampaignStatus, Draw, FrameRecord, FrameUpload, ListKind
from surveyapp.models.users import Role

PERIOD = {"period_start": dt.date(2024, 1, 1), "period_end": dt.date(2024, 9, 30)}
HEADER = "Họ và tên,Số điện thoại,Email,Mã hồ sơ,Ngày trả kết quả,Lĩnh vực\n"


def citizens_csv(n=5, start=0, extra_rows=""):
    lines = [
        f"Người {i},09{i:08d},,HS-{i},15/0{1 + i % 9}/2024,Đất đai\n"
        for i in range(start, start + n)
    ]
    return (HEADER + "".join(lines) + extra_rows).encode("utf-8")


def xlsx_file(rows):
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def post_file(client, campaign, unit, data, filename="ds.csv", kind="citizens"):
    return client.post(
        f"/frames/{campaign.id}/units/{unit.id}/{kind}",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def current_records(db_session, unit_id):
    with db_session() as session:
        return session.execute(
            sa.select(FrameRecord.full_name, FrameRecord.phone, FrameRecord.extra)
            .join(FrameUpload)
            .where(FrameUpload.unit_id == unit_id, FrameUpload.is_current)
            .order_by(FrameRecord.source_row)
        ).all()


def status_lines(client, campaign):
    text = client.get(f"/frames/{campaign.id}/status.csv").get_data(as_text=True)
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


@pytest.fixture
def campaign(factory):
    return factory.campaign(**PERIOD)


@pytest.fixture
def focal(login, factory):
    unit = factory.unit(code="XA01", name="UBND xã Một")
    return login(Role.FOCAL_POINT, unit=unit), unit


def test_focal_point_uploads_own_list(client, focal, campaign, db_session):
    user, unit = focal
    response = post_file(client, campaign, unit, citizens_csv(5))
    assert response.status_code == 302
    records = current_records(db_session, unit.id)
    assert [r.full_name for r in records] == [f"Người {i}" for i in range(5)]
    assert records[0].phone == "0900000000"
    assert records[0].extra["field"] == "Đất đai"
    with db_session() as session:
        upload = session.scalar(sa.select(FrameUpload))
        assert (upload.rows_read, upload.rows_valid, upload.uploaded_by) == (5, 5, user.id)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Không có vấn đề nào" in page


def test_messy_rows_are_reported_and_excluded(client, focal, campaign, db_session):
    _, unit = focal
    bad = (
        "Người X,123,,HS-X,01/02/2024,Đất đai\n"  # invalid phone, no other contact: excluded
        "Người Y,0912345678,,HS-Y,01/12/2025,Đất đai\n"  # outside the survey period
        "Người 0,0900000000,,HS-0,15/01/2024,Đất đai\n"  # duplicate dossier of row 2
    )
    response = post_file(client, campaign, unit, citizens_csv(3, extra_rows=bad))
    assert response.status_code == 302
    with db_session() as session:
        upload = session.scalar(sa.select(FrameUpload))
        assert (upload.rows_read, upload.rows_valid, upload.rows_excluded) == (6, 3, 2)
        codes = {issue[5] for issue in upload.report["issues"]}
    assert {"phone_invalid", "date_outside_period", "duplicate_dossier"} <= codes
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Số điện thoại không hợp lệ" in page


def test_rejected_files_store_nothing(client, focal, campaign, db_session):
    _, unit = focal
    cases = [
        (b"%PDF-1.4 not a list", "x.pdf", "không phải CSV hoặc Excel"),
        ("Tên,Tuổi\nA,3\n".encode(), "x.csv", "Thiếu cột bắt buộc"),
        (
            (HEADER + "A,123,,,01/02/2024,x\nB,,,,01/02/2024,x\n").encode(),
            "x.csv",
            "Không còn dòng hợp lệ",
        ),
        (b"", "empty.csv", "trống"),
    ]
    for data, name, message in cases:
        response = post_file(client, campaign, unit, data, name)
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert message in page and "không có gì được lưu" in page
        assert ">nan<" not in page and "&lt;NA&gt;" not in page
    with db_session() as session:
        assert session.scalar(sa.select(sa.func.count(FrameUpload.id))) == 0
        assert session.scalar(sa.select(sa.func.count(FrameRecord.id))) == 0


def test_zip_bomb_is_rejected(client, focal, campaign, db_session):
    _, unit = focal
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", "<a>" + "0" * (20 * 1024 * 1024) + "</a>")
    response = post_file(client, campaign, unit, buffer.getvalue(), "bomb.xlsx")
    assert response.status_code == 422
    assert "bị từ chối" in response.get_data(as_text=True)
    with db_session() as session:
        assert session.scalar(sa.select(sa.func.count(FrameUpload.id))) == 0


@pytest.mark.app_config(MAX_CONTENT_LENGTH=2048)
def test_too_big_upload_gets_friendly_413(client, focal, campaign):
    _, unit = focal
    response = post_file(client, campaign, unit, citizens_csv(200))
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "Tệp quá lớn" in page and "Nothing was stored" in page


@pytest.mark.app_config(MAX_UPLOAD_ROWS=3)
def test_too_many_rows(client, focal, campaign, db_session):
    _, unit = focal
    response = post_file(client, campaign, unit, citizens_csv(5))
    assert response.status_code == 422
    assert "vượt giới hạn 3 dòng" in response.get_data(as_text=True)


def test_xlsx_upload_and_escaped_html(client, focal, campaign, db_session):
    _, unit = focal
    rows = [
        ["Họ và tên", "Số điện thoại", "Ngày trả kết quả", "Đơn vị"],
        ["<script>alert(1)</script>", "0912345678", dt.datetime(2024, 3, 1), "UBND xã Một"],
        ["Bà B", "<b>12</b>", dt.datetime(2024, 3, 2), "XA01"],
    ]
    response = post_file(client, campaign, unit, xlsx_file(rows), '<img src=x onerror="x">.xlsx')
    assert response.status_code == 302
    records = current_records(db_session, unit.id)
    assert [r.full_name for r in records] == ["<script>alert(1)</script>"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;img src=x" in page
    assert "<b>12</b>" not in page and "&lt;b&gt;12&lt;/b&gt;" in page


def test_rows_of_another_unit_are_excluded(client, focal, campaign, factory, db_session):
    _, unit = focal
    factory.unit(code="XA02", name="UBND xã Hai")
    data = (
        "Họ và tên,Số điện thoại,Đơn vị,Ngày trả kết quả\n"
        "A,0912345678,UBND xã Một,01/03/2024\n"
        "B,0912345679,ubnd xa hai,01/03/2024\n"
        "C,0912345670,Bộ phận một cửa,01/03/2024\n"
    ).encode()
    assert post_file(client, campaign, unit, data).status_code == 302
    assert [r.full_name for r in current_records(db_session, unit.id)] == ["A", "C"]
    with db_session() as session:
        issue = session.scalar(sa.select(FrameUpload)).report["issues"][0]
    assert issue[0] == 3 and issue[5] == "other_unit" and "XA02" in issue[6]


def test_new_upload_replaces_previous_atomically(client, focal, campaign, db_session):
    """A second list replaces the first once confirmed; the first is kept as version 1."""
    _, unit = focal
    post_file(client, campaign, unit, citizens_csv(4))
    response = post_file(client, campaign, unit, citizens_csv(2, start=10))
    assert "/confirm" in response.headers["Location"]
    assert len(current_records(db_session, unit.id)) == 4  # nothing changes before confirming
    client.post(response.headers["Location"])
    assert [r.full_name for r in current_records(db_session, unit.id)] == ["Người 10", "Người 11"]
    with db_session() as session:
        uploads = session.scalars(sa.select(FrameUpload).order_by(FrameUpload.id)).all()
        assert [u.is_current for u in uploads] == [False, True]
        assert session.scalar(sa.select(sa.func.count(FrameRecord.id))) == 6


def test_crash_mid_upload_keeps_previous_list(client, focal, campaign, db_session, monkeypatch):
    from surveyapp.frames import operations

    _, unit = focal
    post_file(client, campaign, unit, citizens_csv(3))
    original = operations.insert_records

    def crash_after_first_batch(rows):
        original(rows[:1])
        raise RuntimeError("disk full")

    monkeypatch.setattr(operations, "insert_records", crash_after_first_batch)
    with pytest.raises(RuntimeError):
        post_file(client, campaign, unit, citizens_csv(2, start=10))
    names = [r.full_name for r in current_records(db_session, unit.id)]
    assert names == ["Người 0", "Người 1", "Người 2"]
    with db_session() as session:
        assert session.scalar(sa.select(sa.func.count(FrameUpload.id))) == 1


def test_focal_point_cannot_touch_another_unit(client, focal, campaign, factory, db_session):
    other = factory.unit(code="XA09")
    admin = factory.user(Role.ADMIN)
    from surveyapp.models import FrameUpload as Upload

    upload = factory.add(
        Upload(
            campaign_id=campaign.id,
            unit_id=other.id,
            list_kind=ListKind.CITIZENS,
            filename="b.csv",
            uploaded_by=admin.id,
            report={"issues": []},
        )  # fmt: skip
    )
    assert client.get(f"/frames/{campaign.id}/units/{other.id}/citizens").status_code == 403
    assert post_file(client, campaign, other, citizens_csv(2)).status_code == 403
    assert client.get(f"/frames/uploads/{upload.id}").status_code == 403
    assert client.get(f"/frames/uploads/{upload.id}/report.csv").status_code == 403
    assert client.get(f"/frames/{campaign.id}/status").status_code == 403
    page = client.get("/frames/").get_data(as_text=True)
    assert "XA09" not in page


def test_admin_uploads_for_any_unit(client, login, campaign, factory, db_session):
    login(Role.ADMIN)
    unit = factory.unit(code="XA05")
    response = client.get(f"/frames/{campaign.id}/go?unit_id={unit.id}&kind=officials")
    assert response.headers["Location"].endswith(f"/frames/{campaign.id}/units/{unit.id}/officials")
    data = "Họ và tên,Chức vụ\nÔng A,Chủ tịch\nBà B,Công chức\n".encode()
    assert post_file(client, campaign, unit, data, kind="officials").status_code == 302
    with db_session() as session:
        records = session.scalars(sa.select(FrameRecord).order_by(FrameRecord.source_row)).all()
        assert [r.respondent_group for r in records] == ["official", "official"]
        assert [r.extra["subgroup"] for r in records] == ["Chủ tịch", "Công chức"]


def test_reports_download_neutralised(client, focal, campaign, db_session):
    _, unit = focal
    data = HEADER + "=HYPERLINK(1),=1+2,,HS-1,15/01/2024,x\nB,0912345678,,HS-2,15/01/2024,x\n"
    response = post_file(client, campaign, unit, data.encode())
    upload_id = int(response.headers["Location"].rsplit("/", 1)[1])
    csv_text = client.get(f"/frames/uploads/{upload_id}/report.csv").get_data(as_text=True)
    assert "'=1+2" in csv_text and ",=1+2" not in csv_text
    book = load_workbook(io.BytesIO(client.get(f"/frames/uploads/{upload_id}/report.xlsx").data))
    values = [cell.value for row in book.active.iter_rows() for cell in row]
    assert "'=1+2" in values and "=1+2" not in values
    assert values[:3] == ["Dòng", "Cột", "Giá trị"] and book.sheetnames == ["Vấn đề"]
    # Severity and action as words in the visitor's language, not codes.
    assert "Lỗi" in values and "Bị loại" in values
    assert not {"error", "warning", "excluded", "kept"} & set(values)
    with client.session_transaction() as session:
        session["lang"] = "en"  # the language switch
    book = load_workbook(io.BytesIO(client.get(f"/frames/uploads/{upload_id}/report.xlsx").data))
    values = [cell.value for row in book.active.iter_rows() for cell in row]
    assert "Error" in values and "Excluded" in values and "error" not in values
    assert (
        client.get(f"/frames/uploads/{upload_id}/report.csv")
        .get_data(as_text=True)
        .lstrip("\ufeff")
        .startswith("Row,Column,Value,Severity,Action,Problem code")
    )
    with client.session_transaction() as session:
        session["lang"] = "vi"
    # Checking a file stores nothing and returns the whole report.
    response = client.post(
        f"/frames/{campaign.id}/units/{unit.id}/citizens/check",
        data={"check-file": (io.BytesIO(data.encode()), "a.csv"), "check-format": "csv"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200 and "'=1+2" in response.get_data(as_text=True)
    with db_session() as session:
        assert session.scalar(sa.select(sa.func.count(FrameUpload.id))) == 1


def test_long_reports_are_paginated(client, focal, campaign):
    _, unit = focal
    bad = "".join(f"P{i},x{i},,H{i},15/01/2024,x\n" for i in range(130))
    response = post_file(client, campaign, unit, citizens_csv(1, extra_rows=bad))
    location = response.headers["Location"]
    first = client.get(location).get_data(as_text=True)
    assert "Trang 1 / 2" in first and ">x99<" in first and ">x100<" not in first
    assert ">x100<" in client.get(location + "?page=2").get_data(as_text=True)


def test_uploads_refused_once_draw_locked(client, focal, campaign, factory, db_session):
    _, unit = focal
    factory.add(Draw(campaign_id=campaign.id, design={}, locked=True))
    response = post_file(client, campaign, unit, citizens_csv(2))
    assert response.status_code == 409
    assert "Mẫu của đợt khảo sát đã được khoá" in response.get_data(as_text=True)
    with db_session() as session:
        session.execute(sa.update(Campaign).values(status=CampaignStatus.FIELDWORK))
    assert "không nhận thêm danh sách" in client.get(
        f"/frames/{campaign.id}/units/{unit.id}/citizens"
    ).get_data(as_text=True)


def test_status_table_and_csv(client, login, factory, db_session):
    campaign = factory.campaign(lists_due_on=dt.date(2000, 1, 1), **PERIOD)
    on_time = factory.unit(code="A1", name="Sở A", level_label="Sở, ban, ngành")
    factory.unit(code="B1", name="Xã B", level_label="UBND cấp xã")
    user = login(Role.FOCAL_POINT, unit=on_time)
    post_file(client, campaign, on_time, citizens_csv(3))
    login(Role.SUPERVISOR)
    page = client.get(f"/frames/{campaign.id}/status").get_data(as_text=True)
    assert "Sở, ban, ngành" in page and "Chưa nộp" in page and user.username in page
    lines = status_lines(client, campaign)
    assert lines[0][:4] == ["Mã đơn vị", "Tên đơn vị", "Cấp", "Danh sách"]
    a1 = {line[3]: line for line in lines if line[0] == "A1"}
    assert a1["citizens"][2] == "Sở, ban, ngành"
    assert (a1["citizens"][4], a1["citizens"][9], a1["officials"][4]) == ("yes", "3", "no")
    assert a1["citizens"][-1] == "yes"  # uploaded after the deadline
    assert [line[-1] for line in lines if line[0] == "B1"] == ["yes", "yes"]
    assert client.post(f"/frames/{campaign.id}/due", data={}).status_code == 403
    login(Role.ADMIN)
    client.post(f"/frames/{campaign.id}/due", data={"lists_due_on": "2999-01-01"})
    assert [line[-1] for line in status_lines(client, campaign)[1:]] == ["no"] * 4


def test_group_column_picks_campaign_groups(client, focal, campaign, factory, db_session):

    _, unit = focal
    factory.instrument(campaign, "organisation", "q", "1")
    data = (
        "Họ và tên,Số điện thoại,Đối tượng,Ngày trả kết quả\n"
        "Công ty A,0912345678,Organisation,01/03/2024\n"
        "Ông B,0912345679,Cá nhân,01/03/2024\n"
        "Bà C,0912345670,,01/03/2024\n"
    ).encode()
    assert post_file(client, campaign, unit, data).status_code == 302
    with db_session() as session:
        rows = session.execute(
            sa.select(FrameRecord.respondent_group, FrameRecord.extra).order_by(FrameRecord.id)
        ).all()
    assert [group for group, _ in rows] == ["organisation", "citizen", "citizen"]
    assert [(extra or {}).get("subgroup") for _, extra in rows] == ["Organisation", "Cá nhân", None]


def test_group_column_in_the_words_units_write(client, focal, campaign, factory, db_session):
    """ "Tổ chức", "Doanh nghiệp"... are organisations, "Cá nhân"... citizens, whatever the
    case, diacritics or spacing; a value naming no group of the campaign is reported."""
    _, unit = focal
    factory.instrument(campaign, "citizen", "sipas-citizen", "2025")
    factory.instrument(campaign, "organisation", "sipas-citizen", "2025")
    decomposed = unicodedata.normalize("NFD", "Doanh nghiệp")
    values = [
        ("Công ty TNHH Một", "Tổ chức", "organisation"),
        ("Công ty Cổ phần Hai", decomposed, "organisation"),
        ("Hợp tác xã Ba", "  CƠ QUAN,  tổ chức ", "organisation"),
        ("Công ty TNHH Bốn", "to chuc", "organisation"),
        ("Công ty TNHH Năm", "Organisation", "organisation"),
        ("Ông Sáu", "Cá nhân", "citizen"),
        ("Bà Bảy", "người dân", "citizen"),
        ("Ông Tám", "Công dân", "citizen"),
        ("Bà Chín", "", "citizen"),
        ("Hộ kinh doanh Mười", "Hộ kinh doanh", "citizen"),
    ]
    rows = "".join(
        f'{name},09{i:08d},"{group}",01/03/2024\n' for i, (name, group, _) in enumerate(values)
    )
    data = ("Họ và tên,Số điện thoại,Đối tượng,Ngày trả kết quả\n" + rows).encode()
    assert post_file(client, campaign, unit, data).status_code == 302
    with db_session() as session:
        groups = session.scalars(
            sa.select(FrameRecord.respondent_group).order_by(FrameRecord.source_row)
        ).all()
        report = session.scalars(sa.select(FrameUpload.report)).one()
    assert groups == [expected for _, _, expected in values]
    columns = report["columns"]
    reported = [dict(zip(columns, issue, strict=True)) for issue in report["issues"]]
    unknown = [issue for issue in reported if issue["code"] == "unknown_group"]
    assert [(issue["row"], issue["value"], issue["severity"]) for issue in unknown] == [
        (11, "Hộ kinh doanh", "warning")
    ]
    assert "citizen, organisation" in unknown[0]["reason_vi"]


def test_officials_groups_in_words_and_the_guide_names_them(client, login, campaign, factory,
                                                            db_session):  # fmt: skip
    login(Role.ADMIN)
    unit = factory.unit(code="XA05")
    factory.instrument(campaign, "citizen", "sipas-citizen", "2025")
    factory.instrument(campaign, "official", "par-officials", "2025")
    data = (
        'Họ và tên,Đối tượng\nÔng A,"Cán bộ, công chức"\nBà B,Lãnh đạo\nÔng C,CÔNG CHỨC\n'
        "Bà D,Tổ chức\n"
    ).encode()
    assert post_file(client, campaign, unit, data, kind="officials").status_code == 302
    with db_session() as session:
        groups = session.scalars(
            sa.select(FrameRecord.respondent_group).order_by(FrameRecord.source_row)
        ).all()
        report = session.scalars(sa.select(FrameUpload.report)).one()
    assert groups == ["official"] * 4
    codes = [issue[report["columns"].index("code")] for issue in report["issues"]]
    assert codes == ["unknown_group"]  # "Tổ chức": this campaign has no organisation group
    page = client.get(f"/frames/{campaign.id}/units/{unit.id}/citizens").get_data(as_text=True)
    for words in ("<strong>Tổ chức</strong>", "<strong>Doanh nghiệp</strong>",
                  "<strong>Cán bộ, công chức</strong>", "<strong>Người dân</strong>"):  # fmt: skip
        assert words in page


def test_status_page_narrows_to_units_missing_a_list(client, login, factory):
    campaign = factory.campaign(lists_due_on=dt.date(2999, 1, 1), **PERIOD)
    complete = factory.unit(code="A1", name="Sở Đủ")
    factory.unit(code="B1", name="Xã Thiếu")
    login(Role.FOCAL_POINT, unit=complete)
    post_file(client, campaign, complete, citizens_csv(3))
    officials = "Họ và tên,Chức vụ\nÔng A,Chủ tịch\nBà B,Công chức\n".encode()
    assert post_file(client, campaign, complete, officials, kind="officials").status_code == 302
    login(Role.ADMIN)
    every = client.get(f"/frames/{campaign.id}/status").get_data(as_text=True)
    assert "Sở Đủ" in every and "Xã Thiếu" in every
    missing = client.get(f"/frames/{campaign.id}/status?show=missing").get_data(as_text=True)
    assert "Xã Thiếu" in missing and "Sở Đủ" not in missing
    late = client.get(f"/frames/{campaign.id}/status?show=late").get_data(as_text=True)
    assert "Xã Thiếu" not in late and "Không có đơn vị nào" in late


def test_upload_links_only_where_uploads_are_accepted(client, focal, factory, db_session):
    """A campaign that takes no more lists offers no upload link and says why."""
    _, unit = focal
    open_campaign = factory.campaign(code="C-MO", **PERIOD)
    started = factory.campaign(code="C-BD", status="fieldwork", **PERIOD)
    closed = factory.campaign(code="C-DONG", status="closed", **PERIOD)
    locked = factory.campaign(code="C-KHOA", **PERIOD)
    factory.add(Draw(campaign_id=locked.id, design={}, locked=True))
    page = client.get("/frames/").get_data(as_text=True)
    for campaign in (open_campaign, started, closed, locked):
        link = f"/frames/{campaign.id}/units/{unit.id}/citizens"
        accepted = post_file(client, campaign, unit, citizens_csv(1)).status_code != 409
        assert (f'href="{link}"' in page) is accepted, campaign.code
    sections = page.split("<section>")[1:]
    reasons = {s.split('class="badge">')[1].split("<")[0]: s for s in sections}
    assert "không nhận thêm danh sách" in reasons["C-BD"]
    assert "không nhận thêm danh sách" in reasons["C-DONG"]
    assert "Mẫu của đợt khảo sát đã được khoá" in reasons["C-KHOA"]
    assert "không nhận" not in reasons["C-MO"] and "khoá" not in reasons["C-MO"]
