"""Times and days in Asia/Ho_Chi_Minh, not UTC, in exports and in the rules that compare a
stored time with a day (issue 10.6)."""

import csv
import datetime as dt
import io

import sqlalchemy as sa

from surveyapp.models import FrameUpload
from surveyapp.models.users import Role

CSV = "Họ và tên,Số điện thoại,Ngày trả kết quả\n" + "".join(
    f"Nguyễn Văn {chr(65 + n)},09012345{n:02d},15/03/2024\n" for n in range(3)
)


def test_list_uploads_are_dated_in_vietnam(client, login, factory, db_session):
    unit = factory.unit(code="XA01", name="UBND xã Một")
    # Lists due on 14/07/2024 (a day in Vietnam).
    campaign = factory.campaign(
        period_start=dt.date(2024, 1, 1),
        period_end=dt.date(2024, 9, 30),
        lists_due_on=dt.date(2024, 7, 14),
    )
    login(Role.FOCAL_POINT, unit=unit)
    posted = client.post(
        f"/frames/{campaign.id}/units/{unit.id}/citizens",
        data={"file": (io.BytesIO(CSV.encode()), "ds.csv")},
        content_type="multipart/form-data",
    )
    assert posted.status_code == 302
    # 14/07 18:30 UTC is 15/07 01:30 in Hồ Chí Minh: after the due day there.
    with db_session() as session:
        session.execute(sa.update(FrameUpload).values(uploaded_at=dt.datetime(2024, 7, 14, 18, 30)))
    login(Role.ADMIN)
    text = client.get(f"/frames/{campaign.id}/status.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    citizens = next(r for r in rows[1:] if r[0] == "XA01" and r[3] == "citizens")
    assert "2024-07-15 01:30+07:00" in citizens
    assert citizens[-1] == "yes"  # late: uploaded after the due day, in Vietnam's calendar
    page = client.get(f"/frames/{campaign.id}/status").get_data(as_text=True)
    assert "15/07/2024 01:30" in page


def test_local_day_helpers(app):
    from surveyapp.i18n import local_day, local_isoformat

    with app.app_context():
        assert local_day(dt.datetime(2026, 12, 31, 17, 0)) == dt.date(2027, 1, 1)
        assert local_day(dt.datetime(2026, 12, 31, 16, 59)) == dt.date(2026, 12, 31)
        assert local_isoformat(dt.datetime(2026, 12, 31, 17, 5)) == "2027-01-01 00:05+07:00"
        assert local_isoformat(None) == ""
