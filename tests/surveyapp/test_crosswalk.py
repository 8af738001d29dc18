"""Crosswalk of the 2024 Bà Rịa – Vũng Tàu registry to Thành phố Hồ Chí Minh's current one.

Hand-checked successors (not only from the dataset):
* Phường Thắng Tam (Vũng Tàu city) -> Phường Vũng Tàu, with wards 1, 2, 3, 4, 5 and Thắng
  Nhì: the provincial council's arrangement adopted in April 2025 (VietNamNet, "Chi tiết
  30 đơn vị hành chính xã, phường ...", item 1; Lao Động, 16/4/2025), enacted by
  Resolution 1685/NQ-UBTVQH15 of 16/6/2025.
* Xã Bình Ba (Châu Đức district) -> Xã Ngãi Giao, "merging 3 old units including 1 town
  and 2 communes" (the town being Ngãi Giao, with Bình Ba and Suối Nghệ; Báo Đại biểu
  Nhân dân via vietnam.vn, April 2025); Xà Bang and Cù Bị -> Xã Châu Đức (2 communes).
* The 1 January 2025 step the dataset does not hold (Resolution 1256/NQ-UBTVQH15,
  VnExpress 11/2024): An Ngãi, An Nhứt, Tam Phước -> Tam An (now in Xã Long Điền);
  Lộc An -> Phước Hội and Long Mỹ -> Phước Hải (both now Xã Phước Hải); Phước Hiệp ->
  Phước Trung (now Phường Bà Rịa). The Department adds these rows by hand.
"""

import csv
import io

import pandas as pd
import pytest
import sqlalchemy as sa

from surveyapp.crosswalk import operations as ops
from surveyapp.db import transaction
from surveyapp.extensions import db
from surveyapp.models.crosswalk import Crosswalk
from surveyapp.models.users import Role
from surveyapp.units.builtin import import_builtin
from surveyapp.units.official_import import import_official

HAND_ROWS = """old_code,old_name,new_code,new_name,share,population,note
HLD-XANNGAI,,26659,,,,"Tam An (01/01/2025), nay Xã Long Điền"
HLD-XANNHUT,,26659,,,,
HLD-XTAMPHUOC,,26659,,,,
HDD-XLOCAN,,26686,,,,vào Phước Hội (01/01/2025)
HDD-XLONGMY,,26686,,,,vào TT Phước Hải (01/01/2025)
TPBR-PPHUOCHIEP,,26560,,,,vào Phước Trung (01/01/2025)
"""


@pytest.fixture
def registries(app):
    departments = (
        "code,name\nSNV,Sở Nội vụ\nSTP,Sở Tư pháp\nSTC,Sở Tài chính\nSCT,Sở Công Thương\n"
        "SNNMT,Sở Nông nghiệp và Môi trường\nSXD,Sở Xây dựng\nSKHCN,Sở Khoa học và Công nghệ\n"
        "SVHTT,Sở Văn hóa và Thể thao\nSDL,Sở Du lịch\nSGDDT,Sở Giáo dục và Đào tạo\n"
        "SYT,Sở Y tế\nSDTTG,Sở Dân tộc và Tôn giáo\nSNGV,Sở Ngoại vụ\nTT,Thanh tra Thành phố\n"
        "VPUBND,Văn phòng Ủy ban nhân dân Thành phố\n"
        "BQLKCX,Ban Quản lý các khu chế xuất và công nghiệp\n"
    ).encode()
    with app.app_context(), transaction():
        assert import_builtin("brvt-2024").ok
        assert import_official("79", departments).ok
    return "brvt-2024", "79-2025"


def proposal_rows(app):
    with app.app_context(), transaction():
        old, new = ops.registry_by_code("brvt-2024"), ops.registry_by_code("79-2025")
        outcome = ops.propose(old, new, None)
        rows = ops.export_rows(outcome.crosswalk)
        unmapped = [u.code for u in outcome.unmapped]
    return rows, unmapped


def test_proposal_for_the_2024_brvt_registry(app, registries):
    rows, unmapped = proposal_rows(app)
    successors = {}
    for old_code, _, new_code, new_name, *_ in rows:
        successors.setdefault(old_code, []).append((new_code, new_name))
    assert successors["TPVT-PTHANGTAM"] == [("26506", "Phường Vũng Tàu")]
    assert {successors[f"TPVT-P{n}"][0] for n in (1, 2, 3, 4, 5)} == {("26506", "Phường Vũng Tàu")}
    assert successors["HCD-XBINHBA"] == [("26575", "Xã Ngãi Giao")]
    assert (
        successors["HCD-TTNGAIGIAO"] == successors["HCD-XSUOINGHE"] == [("26575", "Xã Ngãi Giao")]
    )
    assert successors["HCD-XXABANG"] == successors["HCD-XCUBI"] == [("26596", "Xã Châu Đức")]
    assert successors["TPVT-XLONGSON"] == [("26545", "Xã Long Sơn")]  # kept as it was
    # District-level units were abolished: no successor, not compared.
    assert successors["TPVT"] == [("", "")] and successors["HCD"] == [("", "")]
    # Departments: same name, or the 2025 mergers.
    assert successors["STP"] == [("79-STP", "Sở Tư pháp")]
    assert successors["SKHDT"] == [("79-STC", "Sở Tài chính")]
    assert (
        successors["STNMT"]
        == successors["SNNPTNT"]
        == [("79-SNNMT", "Sở Nông nghiệp và Môi trường")]
    )
    # Merged before the reform (1/1/2025): the dataset does not know them.
    assert {"HLD-XANNGAI", "HLD-XANNHUT", "HLD-XTAMPHUOC", "HDD-XLOCAN", "HDD-XLONGMY",
            "TPBR-PPHUOCHIEP"} <= set(unmapped)  # fmt: skip


def test_the_department_completes_and_confirms_it(app, registries, client, login):
    proposal_rows(app)
    with app.app_context():
        first = db.session.scalar(sa.select(Crosswalk))
        first_id = first.id
        assert ops.confirm(first, None)  # refused: old units without a row
    login(Role.ADMIN)
    page = client.get(f"/crosswalks/{first_id}").get_data(as_text=True)
    assert "Xã An Ngãi" in page and "gộp" in page
    assert client.post(f"/crosswalks/{first_id}/confirm").status_code == 422
    exported = client.get(f"/crosswalks/{first_id}.csv").get_data(as_text=True).lstrip("\ufeff")
    completed = exported.rstrip("\n") + "\n" + "\n".join(HAND_ROWS.splitlines()[1:]) + "\n"
    # The edited file's rows for unmapped units were empty: drop the proposal's blanks.
    response = client.post(
        "/crosswalks/import",
        data={"import-old": _registry_id(app, "brvt-2024"), "import-new": _registry_id(app, "79-2025"),
              "import-file": (io.BytesIO(completed.encode()), "crosswalk-edited.csv")},
        content_type="multipart/form-data",
    )  # fmt: skip
    body = response.get_data(as_text=True)
    assert response.status_code == 302, body[body.find("alert") :][:3000]
    with app.app_context():
        second = db.session.scalar(sa.select(Crosswalk).where(Crosswalk.version == 2))
        second_id = second.id
        assert second.source == "CSV crosswalk-edited.csv"
    assert client.post(f"/crosswalks/{second_id}/confirm").status_code == 302
    with app.app_context():
        latest = ops.latest_confirmed(_registry_id(app, "brvt-2024"))
        assert latest.version == 2
        by_old = {}
        for link in latest.links:
            by_old.setdefault(link.old_unit.code, []).append(
                link.new_unit.code if link.new_unit else None
            )
        assert by_old["HLD-XANNGAI"] == ["26659"] and by_old["TPVT-PTHANGTAM"] == ["26506"]
        # version 1 is kept as it was
        assert db.session.get(Crosswalk, first_id).confirmed_at is None


def _registry_id(app, code):
    with app.app_context():
        return ops.registry_by_code(code).id


def test_bad_crosswalk_files_are_refused_whole(app, registries):
    rows, _ = proposal_rows(app)
    by_old = {r[0]: r for r in rows}
    lines = ["old_code,new_code,share,population,note"]
    lines.append("TPVT-PTHANGTAM,99999,,,")  # row 2: not in the official list
    lines.append("TPVT-P1,00004,,,")  # row 3: Phường Ba Đình of Hà Nội
    lines.append("HXM-XBONGTRANG,26632,0.5,,")  # rows 4-5: split shares add up to 0.8
    lines.append("HXM-XBONGTRANG,26638,0.3,,")
    lines.append("NOPE,26506,,,")  # row 6: not an old unit
    lines.append("TPVT-P2,26506,abc,,")  # row 7: share not a number
    # HCD-XBINHBA and every other old unit are missing
    outcome_errors = None
    with app.app_context():
        old, new = ops.registry_by_code("brvt-2024"), ops.registry_by_code("79-2025")
        before = db.session.scalar(sa.select(sa.func.count(Crosswalk.id)))
        outcome = ops.import_csv(old, new, ("\n".join(lines) + "\n").encode(), None)
        outcome_errors = [(e.row, e.column, e.value) for e in outcome.errors]
        messages = [e.message_en for e in outcome.errors]
        assert db.session.scalar(sa.select(sa.func.count(Crosswalk.id))) == before
    assert not outcome.ok
    assert (2, "new_code", "99999") in outcome_errors
    assert (3, "new_code", "00004") in outcome_errors
    assert any("Phường Ba Đình of Thành phố Hà Nội, another province" in m for m in messages)
    assert (5, "share", "HXM-XBONGTRANG") in outcome_errors
    assert any("add up to 0.8, not 1" in m for m in messages)
    assert (6, "old_code", "NOPE") in outcome_errors
    assert (7, "share", "abc") in outcome_errors
    assert (0, "old_code", "HCD-XBINHBA") in outcome_errors
    assert len(by_old) > 100  # the proposal itself was complete enough to compare with


def test_a_cycle_within_one_registry_is_named(app, factory):
    # Departments merged again within the current registry: A -> B and B -> A is a cycle.
    from surveyapp.crosswalk.logic import CsvRow, UnitRef, check_rows

    units = [UnitRef("A", "Sở A"), UnitRef("B", "Sở B"), UnitRef("C", "Sở C")]
    rows = [CsvRow(2, "A", "B", "", "", ""), CsvRow(3, "B", "A", "", "", ""),
            CsvRow(4, "C", "C", "", "", "")]  # fmt: skip
    with app.app_context():
        _, errors = check_rows(rows, units, units)
    cycles = [(e.row, e.value) for e in errors if "cycle" in e.message_en]
    assert cycles == [(2, "A"), (3, "B")]


def test_year_on_year_through_the_confirmed_crosswalk(app, registries):
    """Two 2024 wards merged into Phường Vũng Tàu; Long Sơn unchanged."""
    from surveyapp.crosswalk.yoy import through_crosswalk

    with app.app_context(), transaction():
        old, new = ops.registry_by_code("brvt-2024"), ops.registry_by_code("79-2025")
        proposed = ops.propose(old, new, None).crosswalk
        hand = ops.import_csv(old, new, _completed(ops.export_rows(proposed)), None)
        assert hand.ok, hand.errors[:3]
        assert not ops.confirm(hand.crosswalk, None)
    previous = pd.DataFrame(
        {"unit": ["TPVT-PTHANGTAM", "TPVT-P1", "TPVT-XLONGSON", "STP"],
         "overall_index": [90.0, 80.0, 75.0, 88.0], "responses": [30, 10, 20, 40],
         "questionnaire": ["sipas-citizen"] * 4}
    )  # fmt: skip
    with app.app_context():
        combined, how = through_crosswalk(previous, "responses")
    rows = combined.set_index("unit")
    # Phường Vũng Tàu: (30·90 + 10·80) / 40 = 87.5, from 2 of its 7 predecessors.
    assert rows.loc["26506", "overall_index"] == pytest.approx(87.5)
    assert not rows.loc["26506", "like_for_like"]
    assert "Merged from 7 units" in rows.loc["26506", "previous_note_en"]
    assert "5 of 7 predecessors had no previous result" in rows.loc["26506", "previous_note_en"]
    assert rows.loc["26545", "overall_index"] == 75.0 and rows.loc["26545", "like_for_like"]
    assert rows.loc["79-STP", "overall_index"] == 88.0
    # Thành phố Hồ Chí Minh's Sở Tư pháp also took in the city's and Bình Dương's own.
    assert not rows.loc["79-STP", "like_for_like"]
    assert (
        "covers only the predecessors in the earlier registry"
        in rows.loc["79-STP", "previous_note_en"].lower()
    )
    assert "crosswalk version 2" in how and "weighted by responses" in how


def _completed(rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["old_code", "old_name", "new_code", "new_name", "share", "population", "note"])
    writer.writerows(rows)
    return (out.getvalue() + "\n".join(HAND_ROWS.splitlines()[1:]) + "\n").encode()


def test_last_years_units_without_a_confirmed_crosswalk_are_named(app, registries):
    from surveyapp.crosswalk.yoy import NoCrosswalk, through_crosswalk

    previous = pd.DataFrame({"unit": ["TPVT-PTHANGTAM"], "overall_index": [90.0],
                             "responses": [30]})  # fmt: skip
    with app.app_context(), transaction():
        old, new = ops.registry_by_code("brvt-2024"), ops.registry_by_code("79-2025")
        ops.propose(old, new, None)  # proposed, never confirmed
        with pytest.raises(NoCrosswalk) as raised:
            through_crosswalk(previous, "responses", new.id)
        assert "no confirmed crosswalk" in raised.value.message_en
        assert "Tỉnh Bà Rịa - Vũng Tàu (2024)" in raised.value.message_vi
        same, how = through_crosswalk(previous, "responses", old.id)  # same registry
        assert same is previous and "same units" in how
