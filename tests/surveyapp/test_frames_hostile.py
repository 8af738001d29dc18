"""Hostile list files through the web upload (issue 12.1): each gets a clear page, stores
nothing and leaves no traceback in the log; over-long cells and a NUL in the file name
give row-level messages and a stored list (on SQLite and PostgreSQL alike)."""

import datetime as dt
import io
import logging

import pytest
import sqlalchemy as sa

import sampling
from surveyapp.models import FrameRecord, FrameUpload
from surveyapp.models.users import Role

HOSTILE = [
    ("far_cell_xlsx", "Ctrl+End"),
    ("declared_xlsx", "Ctrl+End"),
    ("entity_bomb_xlsx", "DOCTYPE"),
    ("zip_bomb_xlsx", "bị từ chối"),
    ("wide_row_csv", "1,000,001"),
    ("wide_header_csv", "64 KB"),
    ("long_line_csv", None),  # accepted: the long row is excluded with a message
]


@pytest.fixture
def campaign(factory):
    return factory.campaign(period_start=dt.date(2024, 1, 1), period_end=dt.date(2024, 9, 30))


@pytest.fixture
def focal(login, factory):
    unit = factory.unit(code="XA01", name="UBND xã Một")
    login(Role.FOCAL_POINT, unit=unit)
    return unit


def post_file(client, campaign, unit, data, filename):
    return client.post(
        f"/frames/{campaign.id}/units/{unit.id}/citizens",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def counts(db_session):
    with db_session() as session:
        return (
            session.scalar(sa.select(sa.func.count(FrameUpload.id))),
            session.scalar(sa.select(sa.func.count(FrameRecord.id))),
        )


def tracebacks(caplog) -> list:
    return [record for record in caplog.records if record.exc_info or "Traceback" in record.message]


@pytest.mark.app_config(MAX_CONTENT_LENGTH=32 * 1024 * 1024)
@pytest.mark.parametrize(("builder", "fragment"), HOSTILE)
def test_hostile_files_get_a_page_and_store_nothing(
    client, focal, campaign, db_session, hostile, caplog, builder, fragment
):
    caplog.set_level(logging.INFO)
    response = post_file(client, campaign, focal, getattr(hostile, builder)(), f"{builder}.bin")
    page = response.get_data(as_text=True)
    if fragment is None:  # the 15 MB line: the list is stored without its long row
        assert response.status_code == 302
        assert counts(db_session) == (1, 1)
        with db_session() as session:
            report = session.scalar(sa.select(FrameUpload.report))
        assert [issue[5] for issue in report["issues"]] == ["cell_too_long"]
    else:
        assert response.status_code == 422
        assert fragment in page and "không có gì được lưu" in page
        assert counts(db_session) == (0, 0)
    assert tracebacks(caplog) == []


def test_over_long_cells_are_row_level_messages(client, focal, campaign, db_session):
    rows = [
        "Họ và tên,Số điện thoại,Mã hồ sơ,Ngày trả kết quả,Ghi chú",
        "An,0912345678,H1,15/03/2024,ok",
        f"{'B' * 300},0912345679,H2,15/03/2024,ok",
        f"Chi,0912345670,{'H' * 200},15/03/2024,ok",
        "Dũng,0912345671,H4,15/03/2024," + "ư" * 40_000,
    ]
    response = post_file(client, campaign, focal, "\r\n".join(rows).encode(), "ds.csv")
    assert response.status_code == 302
    with db_session() as session:
        issues = session.scalar(sa.select(FrameUpload.report))["issues"]
        names = session.scalars(sa.select(FrameRecord.full_name)).all()
    assert names == ["An"]
    assert [(issue[0], issue[5]) for issue in issues] == [
        (3, "cell_too_long"), (4, "cell_too_long"), (5, "cell_too_long"),
    ]  # fmt: skip
    assert all(len(issue[2]) <= 61 for issue in issues)  # the report shows a beginning
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "vượt giới hạn 255" in page


def test_a_nul_in_the_file_name_is_dropped(client, focal, campaign, db_session):
    data = "Họ và tên,Số điện thoại,Ngày trả kết quả\r\nAn,0912345678,15/03/2024\r\n".encode()
    response = post_file(client, campaign, focal, data, "danh\x00sách.csv")
    assert response.status_code == 302
    with db_session() as session:
        assert session.scalar(sa.select(FrameUpload.filename)) == "danhsách.csv"


def test_a_file_that_runs_out_of_memory_is_refused_like_any_other(
    client, focal, campaign, db_session, monkeypatch, caplog
):
    """The worker's memory limit (gunicorn.conf.py) turns a runaway allocation into
    MemoryError: the page says so and nothing is stored."""

    def out_of_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(sampling, "read_frame", out_of_memory)
    response = post_file(client, campaign, focal, b"Ho ten,SDT\r\nA,0912345678\r\n", "ds.csv")
    assert response.status_code == 422
    assert "quá nhiều bộ nhớ" in response.get_data(as_text=True)
    assert counts(db_session) == (0, 0)
    assert tracebacks(caplog) == []


@pytest.mark.app_config(MAX_CONTENT_LENGTH=32 * 1024 * 1024)
def test_the_fuzz_corpus_through_the_upload_is_all_or_nothing(
    client, focal, campaign, db_session, hostile, legacy_encodings, caplog
):
    """Every file of the reader's fuzz corpus: either refused with a page and nothing
    changed, or stored whole (as many records as the upload says are valid)."""
    caplog.set_level(logging.INFO)
    corpus = hostile.corpus(legacy_encodings)
    names = sorted(corpus)[::3]  # a third of it: the reader test sees all of it
    outcomes = set()
    for name in names:
        before = counts(db_session)
        response = post_file(client, campaign, focal, corpus[name], name)
        assert response.status_code in (302, 422), name
        if response.status_code == 422:
            assert "không có gì được lưu" in response.get_data(as_text=True), name
            assert counts(db_session) == before, name
        else:
            with db_session() as session:
                upload = session.scalar(sa.select(FrameUpload).where(FrameUpload.is_current))
                stored = session.scalar(
                    sa.select(sa.func.count(FrameRecord.id)).where(
                        FrameRecord.upload_id == upload.id
                    )
                )
                assert stored == upload.rows_valid > 0, name
        outcomes.add(response.status_code)
    assert outcomes == {302, 422}
    assert tracebacks(caplog) == []


def test_control_characters_in_cells_are_not_stored(client, focal, campaign, db_session):
    """A NUL inside a cell (PostgreSQL refuses it in text) or other control characters:
    the cell is cleaned, the row kept."""
    data = (
        "Họ và tên,Số điện thoại,Địa chỉ,Ngày trả kết quả\r\n"
        "Nguyễn\x00 Văn An,0912345678,Thôn\x07 1,15/03/2024\r\n"
    ).encode()
    response = post_file(client, campaign, focal, data, "ds.csv")
    assert response.status_code == 302
    with db_session() as session:
        record = session.execute(sa.select(FrameRecord.full_name, FrameRecord.address)).one()
    assert tuple(record) == ("Nguyễn Văn An", "Thôn 1")


@pytest.mark.app_config(MAX_UPLOAD_CELLS=1_000)
def test_the_sheet_rectangle_is_bounded_by_the_configuration(
    client, focal, campaign, db_session, hostile
):
    far = '<row r="40"><c r="AD40"><v>1</v></c></row>'  # 40 rows x 30 columns
    response = post_file(client, campaign, focal, hostile.xlsx(hostile.sheet(far)), "ds.xlsx")
    assert response.status_code == 422
    assert "1,200" in response.get_data(as_text=True)
    assert counts(db_session) == (0, 0)
