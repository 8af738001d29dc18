"""No personal data in logs (issue 12.8): list cells longer than the columns that store
them are caught by the list validation (row and column named, the row's data never reaches
the database), and a database error that does happen is logged without its SQL parameters
or the values the database quotes."""

import datetime as dt
import io
import logging

import pytest
import sqlalchemy as sa

from sampling.validation import CELL_LIMITS
from surveyapp.extensions import db
from surveyapp.frames.operations import PII_COLUMNS
from surveyapp.models import FrameRecord, FrameUpload
from surveyapp.models.users import Role

NAMES = [f"Nguyễn Thị Riêng{chr(0x41 + i)}" for i in range(10)]
PHONES = [f"09876543{i:02d}" for i in range(10)]
EMAILS = [f"rieng{i}@thu.vn" for i in range(10)]
DOSSIERS = [f"HS-RIENG-{i:03d}" for i in range(10)]
LONG_NAME = "Nguyễn Thị Dài " * 19 + "Nguyễn Văn Út"  # 298 characters: the column holds 255


@pytest.fixture
def campaign(factory):
    return factory.campaign(period_start=dt.date(2024, 1, 1), period_end=dt.date(2024, 9, 30))


@pytest.fixture
def focal(login, factory):
    unit = factory.unit(code="XA01", name="UBND xã Một")
    login(Role.FOCAL_POINT, unit=unit)
    return unit


def list_file(long_row: int) -> bytes:
    """Ten people; the one on file row ``long_row`` has a 300-character name."""
    rows = ["Họ và tên,Số điện thoại,Email,Mã hồ sơ,Ngày trả kết quả"]
    for i in range(10):
        name = LONG_NAME if i + 2 == long_row else NAMES[i]
        rows.append(f"{name},{PHONES[i]},{EMAILS[i]},{DOSSIERS[i]},15/03/2024")
    return "\n".join(rows).encode()


def post_file(client, campaign, unit, data, filename="ds.csv"):
    return client.post(
        f"/frames/{campaign.id}/units/{unit.id}/citizens",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def personal_data_in(caplog) -> list[str]:
    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    return [v for v in (*NAMES, *PHONES, *EMAILS, *DOSSIERS, LONG_NAME[:40]) if v in logged]


def test_the_validation_limits_fit_the_columns_that_store_the_cells():
    """Every text column a list cell is stored in has room for what the validation lets
    through (phones are stored normalised, ten or eleven digits, or not at all)."""
    for name in PII_COLUMNS:
        column = FrameRecord.__table__.c[name]
        if isinstance(column.type, sa.String) and column.type.length and name != "phone":
            assert CELL_LIMITS[name] <= column.type.length, name


def test_an_over_long_cell_is_named_and_its_row_never_reaches_the_database(
    client, focal, campaign, db_session, caplog
):
    caplog.set_level(logging.DEBUG)
    response = post_file(client, campaign, focal, list_file(long_row=6))
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Họ và tên" in page and "Ô dài 298 ký tự, vượt giới hạn 255; dòng bị loại." in page
    with db_session() as session:
        report = session.scalar(sa.select(FrameUpload.report))
        stored = session.scalars(sa.select(FrameRecord.full_name)).all()
    assert [(i[0], i[5]) for i in report["issues"]] == [(6, "cell_too_long")]
    assert sorted(stored) == sorted(NAMES[:4] + NAMES[5:])
    assert personal_data_in(caplog) == []


def test_a_list_whose_only_row_is_too_long_stores_nothing(client, focal, campaign, db_session):
    data = f"Họ và tên,Số điện thoại,Ngày trả kết quả\n{LONG_NAME},{PHONES[0]},1/3/2024\n"
    response = post_file(client, campaign, focal, data.encode())
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "không có gì được lưu" in page and "vượt giới hạn 255" in page
    with db_session() as session:
        assert session.scalar(sa.select(sa.func.count(FrameUpload.id))) == 0
        assert session.scalar(sa.select(sa.func.count(FrameRecord.id))) == 0


@pytest.mark.app_config(PROPAGATE_EXCEPTIONS=False)
def test_a_database_error_is_logged_without_the_rows(
    client, app, backend, focal, campaign, db_session, caplog, monkeypatch
):
    """Were the validation ever to let a cell through that the database refuses, the
    error page says nothing was changed and the log names the failure, not the rows."""
    if backend != "postgresql":
        pytest.skip("SQLite does not enforce the length of a text column")
    caplog.set_level(logging.DEBUG)
    monkeypatch.setitem(CELL_LIMITS, "full_name", 10_000)
    response = post_file(client, campaign, focal, list_file(long_row=6))
    assert response.status_code == 500
    assert "Nothing was changed" in response.get_data(as_text=True)
    assert "Database error on /frames/" in caplog.text
    assert "value too long for type character varying(255)" in caplog.text
    assert personal_data_in(caplog) == []
    with db_session() as session:
        assert session.scalar(sa.select(sa.func.count(FrameRecord.id))) == 0
    # The engine itself leaves the parameters out of the exception's message.
    with app.app_context():
        rows = [{"upload_id": 0, "source_row": 2, "full_name": LONG_NAME, "phone": PHONES[0]}]
        with pytest.raises(sa.exc.DBAPIError) as raised:
            db.session.execute(FrameRecord.__table__.insert(), rows)
        db.session.rollback()
    assert PHONES[0] not in str(raised.value) and "parameters hidden" in str(raised.value)


def test_a_logged_database_error_leaves_out_the_values_it_quotes(app, backend, factory, caplog):
    """PostgreSQL's DETAIL line quotes the values of a refused row (a duplicate key): a job
    or view that logs such an error through the app's logger writes no value."""
    if backend != "postgresql":
        pytest.skip("the DETAIL line is PostgreSQL's")
    from surveyapp.models import Unit

    factory.unit(code=PHONES[3], name=NAMES[3])
    caplog.set_level(logging.DEBUG)
    with app.app_context():
        try:
            db.session.add(Unit(code=PHONES[3], name=NAMES[4], level_label="UBND cấp xã"))
            db.session.flush()
        except sa.exc.IntegrityError as error:
            assert PHONES[3] in str(error.orig)  # the database quotes it ...
            db.session.rollback()
            app.logger.exception("Inline job 7 failed")
    assert "Inline job 7 failed: IntegrityError (UniqueViolation, SQLSTATE 23505)" in caplog.text
    assert personal_data_in(caplog) == []  # ... the log does not
