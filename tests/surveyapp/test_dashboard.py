"""Progress dashboard: counts and AAPOR rates per unit and stratum, CSV, chart, access."""

import csv
import io
import uuid

import pytest

from surveyapp.dashboard.figures import campaign_progress
from surveyapp.models import Draw, Respondent, Selection
from surveyapp.models.users import Role

# One unit, stratum "S" (hand-worked):
#   primaries: completed on the web (no attempt) I; completed by interview I; refused R;
#   noncontact after no answers UO; noncontact, right person never available NC;
#   ineligible NE; pending (never attempted) UO; refused then replaced R.
#   reserves: rank 1 released and completed I; rank 2 released, appointment made NC
#   (still pending); rank 3 not released (not counted).
# Sample 8, reserves released 2, completed 3, refused 2, non-contacts 2, ineligible 1,
# pending 2. Classes: I=3, R=2, NC=2, UO=2, NE=1. e = 7/8 = 0.875.
# RR1 = 3 / (7 + 2) = 0.3333; RR3 = 3 / (7 + 0.875 * 2) = 3 / 8.75 = 0.342857.
CASES = [
    # (selection, rank, released, status, replaced_status, disposition)
    ("primary", None, False, "completed", None, None),
    ("primary", None, False, "completed", None, "complete"),
    ("primary", None, False, "refused", None, "refusal"),
    ("primary", None, False, "noncontact", None, "no_answer"),
    ("primary", None, False, "noncontact", None, "unavailable"),
    ("primary", None, False, "ineligible", None, "ineligible"),
    ("primary", None, False, "pending", None, None),
    ("primary", None, False, "replaced", "refused", "refusal"),
    ("reserve", 1, True, "completed", None, None),
    ("reserve", 2, True, "contacted", None, "appointment"),
    ("reserve", 3, False, "pending", None, None),
]


def add_cases(factory, campaign, unit, cases, stratum="S", draw=None):
    draw = draw or factory.add(Draw(campaign_id=campaign.id, design={}))
    rows = [
        Respondent(
            draw_id=draw.id,
            campaign_id=campaign.id,
            source_unit_id=unit.id,
            respondent_group="citizen",
            stratum=stratum,
            selection=Selection(selection),
            reserve_rank=rank,
            released=released,
            status=status,
            replaced_status=replaced_status,
            disposition=disposition,
            inclusion_prob=0.1,
            weight=10.0,
            full_name=f"Phạm Văn {unit.code}{i}",
            phone=f"09880{i:05d}",
        )
        for i, (selection, rank, released, status, replaced_status, disposition) in enumerate(cases)
    ]
    factory.add(*rows)
    return draw


@pytest.fixture
def one_unit(factory):
    unit = factory.unit(code="P01", name="Phường Thắng Tam")
    campaign = factory.campaign(status="fieldwork")
    add_cases(factory, campaign, unit, CASES)
    return campaign, unit


def test_figures_match_the_hand_worked_example(app, one_unit):
    campaign, unit = one_unit
    with app.app_context():
        progress = campaign_progress(campaign.id)
    [row] = progress.rows
    assert (row.unit_code, row.stratum) == ("P01", "S")
    assert (row.sample_size, row.reserves_released) == (8, 2)
    assert (row.completed, row.refused, row.noncontact, row.ineligible, row.pending) == (
        3,
        2,
        2,
        1,
        2,
    )
    assert row.replaced == 1
    c = row.classes
    assert (c.I, c.P, c.R, c.NC, c.O, c.UH, c.UO, c.NE) == (3, 0, 2, 2, 0, 0, 2, 1)
    assert progress.e == pytest.approx(0.875)
    assert row.rr1 == pytest.approx(3 / 9)
    assert row.rr3 == pytest.approx(3 / 8.75)
    assert progress.total.rr1 == pytest.approx(3 / 9)


def test_page_shows_rates_chart_and_table(client, login, one_unit):
    campaign, _ = one_unit
    login(Role.SUPERVISOR)
    page = client.get(f"/dashboard/{campaign.id}").get_data(as_text=True)
    # Vietnamese writes a decimal comma (Babel's vi format); English a decimal point.
    assert "33,3%" in page and "34,3%" in page and "33.3%" not in page
    assert "<svg" in page and 'role="img"' in page and "<table" in page
    assert "Phạm Văn" not in page  # aggregates only
    # A given e replaces the estimate: RR3 = 3 / (7 + 0.5 * 2) = 37.5%.
    page = client.get(f"/dashboard/{campaign.id}?e=0.5").get_data(as_text=True)
    assert "37,5%" in page
    client.get("/lang/en")
    page = client.get(f"/dashboard/{campaign.id}").get_data(as_text=True)
    assert "33.3%" in page and "34.3%" in page and "33,3%" not in page
    assert client.get(f"/dashboard/{campaign.id}?e=7").status_code == 200  # ignored


def test_csv_export_is_spreadsheet_safe(client, login, factory):
    unit = factory.unit(code="P02")
    campaign = factory.campaign(code="2025")
    add_cases(factory, campaign, unit, CASES[:3], stratum="=SUM(A1)")
    login(Role.ADMIN)
    response = client.get(f"/dashboard/{campaign.id}/progress.csv")
    assert response.status_code == 200
    assert "progress-2025.csv" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["unit_code"] for r in rows] == ["P02", "TOTAL"]
    assert rows[0]["stratum"] == "'=SUM(A1)"
    assert (rows[0]["completed"], rows[0]["refused"], rows[0]["I"], rows[0]["R"]) == (
        "2",
        "1",
        "2",
        "1",
    )
    assert float(rows[1]["rr1"]) == pytest.approx(2 / 3, abs=1e-4)


def test_focal_point_sees_only_their_unit(client, login, factory, one_unit):
    campaign, unit = one_unit
    other = factory.unit(code="Q99", name="Xã Khác")
    add_cases(factory, campaign, other, CASES[:2])
    login(Role.FOCAL_POINT, unit=other)
    page = client.get(f"/dashboard/{campaign.id}").get_data(as_text=True)
    assert "Q99" in page and "P01" not in page and "Thắng Tam" not in page
    assert "Phạm Văn" not in page
    rows = list(
        csv.reader(
            io.StringIO(client.get(f"/dashboard/{campaign.id}/progress.csv").get_data(as_text=True))
        )
    )
    assert [r[0] for r in rows[1:]] == ["Q99", "TOTAL"]


@pytest.mark.parametrize("role", [Role.ENUMERATOR, Role.CLERK])
def test_contractor_staff_other_than_supervisors_have_no_dashboard(client, login, one_unit, role):
    campaign, _ = one_unit
    login(role)
    assert client.get(f"/dashboard/{campaign.id}").status_code == 403
    assert client.get(f"/dashboard/{campaign.id}/progress.csv").status_code == 403


def test_empty_campaign(client, login, factory):
    campaign = factory.campaign()
    login(Role.ADMIN)
    page = client.get(f"/dashboard/{campaign.id}")
    assert page.status_code == 200
    assert "Chưa có mẫu" in page.get_data(as_text=True)
    assert client.get("/dashboard/999999").status_code == 404


def test_unit_names_are_escaped_in_the_chart_and_table(client, login, factory):
    unit = factory.unit(code="X1", name="<script>alert(1)</script>")
    campaign = factory.campaign()
    add_cases(factory, campaign, unit, CASES[:2], stratum="<b>S</b>")
    login(Role.ADMIN)
    page = client.get(f"/dashboard/{campaign.id}").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "<b>S</b>" not in page
    assert "&lt;script&gt;alert(1)" in page


def _label_elements(svg: str):
    import xml.etree.ElementTree as ET

    ns = {"svg": "http://www.w3.org/2000/svg"}
    root = ET.fromstring(svg)
    return [e for e in root.findall("svg:text", ns) if e.get("text-anchor") == "end"], ns


@pytest.mark.parametrize(
    "labels",
    [
        ["TPVT-PTHANGTAM Phường Thắng Tam", "X1 A"],
        ["WWWWWWWWWW MMMMMMMMMM WWWWWWWWWW MMMMMMMMMM ĐĐĐ"],
        ["A"],
    ],
)
def test_chart_labels_fit_left_of_the_bars(labels):
    """Measured with Pillow's own reading of DejaVu Sans, independent of the chart's code."""
    import matplotlib
    from PIL import ImageFont

    from surveyapp.dashboard.chart import Bar, response_rate_svg

    font = ImageFont.truetype(f"{matplotlib.get_data_path()}/fonts/ttf/DejaVuSans.ttf", 12)
    svg = response_rate_svg(
        [Bar(label, 0.5, 0.6) for label in labels], "t", "d", {"rr1": "RR1", "rr3": "RR3"}
    )
    texts, ns = _label_elements(str(svg))
    assert len(texts) == len(labels)
    for element, label in zip(texts, labels, strict=True):
        shown = element.text
        assert float(element.get("x")) - font.getlength(shown) >= 0
        assert element.find("svg:title", ns).text == label
        assert shown == label or (shown.endswith("…") and label.startswith(shown[:-1]))


def test_chart_shortens_very_long_labels_with_an_ellipsis():
    from surveyapp.dashboard.chart import MAX_LABEL_CHARS, shorten

    long = "Trung tâm Phục vụ hành chính công tỉnh Bà Rịa - Vũng Tàu"
    assert shorten(long).endswith("…") and len(shorten(long)) <= MAX_LABEL_CHARS
    assert long.startswith(shorten(long)[:-1])
    assert shorten("Phường 1") == "Phường 1"


@pytest.mark.app_config(BALLOT_BOX_SIZE=10)
def test_answers_waiting_in_the_ballot_box_are_counted_never_shown(
    client, login, factory, one_unit
):
    from surveyapp.models import Ballot
    from surveyapp.responses.ballots import seal_values

    campaign, unit = one_unit
    login(Role.SUPERVISOR)
    assert 'id="ballot-box"' not in client.get(f"/dashboard/{campaign.id}").get_data(as_text=True)
    with client.application.app_context():
        key = b"k" * 32
        sealed = [seal_values({"k2": "Bí mật riêng"}, campaign.id, key) for _ in range(4)]
    factory.add(*[Ballot(id=uuid.uuid4(), campaign_id=campaign.id, sealed=s) for s in sealed])
    page = client.get(f"/dashboard/{campaign.id}").get_data(as_text=True)
    assert "<strong>4</strong> phiếu trả lời đang chờ trong hòm phiếu" in page
    assert "(mỗi đợt 10, khi có từ 20 phiếu chờ)" in page
    assert "Bí mật" not in page
    login(Role.FOCAL_POINT, unit=unit)  # a count for the whole campaign: not a unit's figure
    assert 'id="ballot-box"' not in client.get(f"/dashboard/{campaign.id}").get_data(as_text=True)


def test_strata_are_named_by_unit_and_group(client, login, factory):
    unit = factory.unit(code="P01", name="Phường Thắng Tam")
    campaign = factory.campaign(status="fieldwork")
    add_cases(factory, campaign, unit, CASES, stratum="P01 | citizen")
    login(Role.SUPERVISOR)
    page = client.get(f"/dashboard/{campaign.id}").get_data(as_text=True)
    assert '<th scope="row">Phường Thắng Tam · Người dân</th>' in page
    assert "P01 | citizen" not in page
