"""List files in other encodings through the web upload (issue 10.7): Windows-1258 and
UTF-16 stored correctly, TCVN3 and mixed files refused with a page naming the problem."""

import datetime as dt
import io

import pytest
import sqlalchemy as sa

from surveyapp.models import FrameRecord, FrameUpload
from surveyapp.models.users import Role

NAMES = ["Nguyễn Văn An", "Trần Thị Ánh", "Đặng Quốc Hưng", "Lê Thị Ửng"]
ROWS = "Họ và tên,Số điện thoại,Ngày trả kết quả\r\n" + "".join(
    f"{name},091234567{i},15/03/2024\r\n" for i, name in enumerate(NAMES)
)


@pytest.fixture
def campaign(factory):
    return factory.campaign(period_start=dt.date(2024, 1, 1), period_end=dt.date(2024, 9, 30))


@pytest.fixture
def focal(login, factory):
    unit = factory.unit(code="XA01", name="UBND xã Một")
    login(Role.FOCAL_POINT, unit=unit)
    return unit


def post_file(client, campaign, unit, data):
    return client.post(
        f"/frames/{campaign.id}/units/{unit.id}/citizens",
        data={"file": (io.BytesIO(data), "ds.csv")},
        content_type="multipart/form-data",
    )


def stored_names(db_session):
    with db_session() as session:
        return session.scalars(sa.select(FrameRecord.full_name).order_by(FrameRecord.id)).all()


@pytest.mark.parametrize(
    "encoding", ["cp1258", "utf-16-le", "utf-8-sig"], ids=["cp1258", "utf-16 without BOM", "utf-8"]
)
def test_lists_in_other_encodings_are_stored_correctly(
    client, focal, campaign, db_session, legacy_encodings, encoding
):
    data = legacy_encodings.cp1258(ROWS) if encoding == "cp1258" else ROWS.encode(encoding)
    response = post_file(client, campaign, focal, data)
    assert response.status_code == 302
    assert stored_names(db_session) == NAMES


def test_tcvn3_list_is_refused_and_nothing_stored(
    client, focal, campaign, db_session, legacy_encodings
):
    response = post_file(client, campaign, focal, legacy_encodings.tcvn3(ROWS))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "TCVN3" in page and "CSV UTF-8" in page
    with db_session() as session:
        assert session.scalar(sa.select(sa.func.count(FrameUpload.id))) == 0
