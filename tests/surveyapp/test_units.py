"""Unit registry: the shipped registries, CSV import/export, the tree page and the form."""

import csv
import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from markupsafe import escape

from surveyapp.models import Registry, Unit
from surveyapp.models.users import Role
from surveyapp.units.importer import import_units

DATA = Path(__file__).resolve().parents[2] / "surveyapp" / "units" / "data"
HEADER = "code,name,level_label,parent_code\n"


def csv_bytes(*lines: str) -> bytes:
    return (HEADER + "\n".join(lines) + "\n").encode("utf-8")


def upload(client, data: bytes, filename="units.csv"):
    return client.post(
        "/units/import",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def all_units(db_session) -> dict[str, tuple]:
    with db_session() as session:
        units = session.scalars(sa.select(Unit)).all()
        code_of = {u.id: u.code for u in units}
        return {u.code: (u.name, u.level_label, code_of.get(u.parent_id)) for u in units}


def test_brvt_2024_registry(client, login, db_session):
    login(Role.ADMIN)
    response = upload(client, (DATA / "brvt-2024.csv").read_bytes())
    assert response.status_code == 302
    units = all_units(db_session)
    districts = {c for c, (_, level, _) in units.items() if level == "UBND cấp huyện"}
    assert len(districts) == 8
    departments = [n for n, level, _ in units.values() if level == "Sở, ban, ngành"]
    assert "Sở Nội vụ" in departments and "Sở Văn hóa và Thể thao" in departments
    communes = [c for c, (_, level, _) in units.items() if level == "UBND cấp xã"]
    assert all(units[c][2] in districts for c in communes)
    by_name = {(name, units[parent][0] if parent else None) for name, _, parent in units.values()}
    assert ("Phường Thắng Nhất", "Thành phố Vũng Tàu") in by_name
    assert ("Xã Long Sơn", "Thành phố Vũng Tàu") in by_name
    assert ("Xã Bưng Riềng", "Huyện Xuyên Mộc") in by_name
    # Every district except Côn Đảo (which has no commune-level units) has communes.
    with_communes = {units[c][2] for c in communes}
    assert districts - with_communes == {"HCDAO"}
    page = client.get("/units/").get_data(as_text=True)
    assert "Phường Thắng Nhất" in page and "Huyện Côn Đảo" in page


def test_registry_files_are_nfc_utf8():
    import unicodedata

    for path in DATA.glob("*.csv"):
        text = path.read_text(encoding="utf-8")
        assert unicodedata.normalize("NFC", text) == text, path.name


def test_two_tier_registry_without_district_level(client, login, db_session):
    login(Role.ADMIN)
    assert upload(client, (DATA / "two-tier-sample.csv").read_bytes()).status_code == 302
    units = all_units(db_session)
    assert {level for _, level, _ in units.values()} == {"Sở, ban, ngành", "UBND cấp xã"}
    assert all(parent is None for _, _, parent in units.values())
    page = client.get("/units/")
    assert page.status_code == 200 and "Phường Tam Thắng" in page.get_data(as_text=True)
    export = client.get("/units/export.csv").get_data(as_text=True)
    assert "Phường Tam Thắng" in export


def test_parents_may_come_after_children(app, db_session):
    data = csv_bytes("X1,Xã Một,UBND cấp xã,H1", "H1,Huyện Một,UBND cấp huyện,")
    with app.app_context():
        result = import_units(data)
        from surveyapp.extensions import db

        db.session.commit()
    assert result.ok and result.created == 2
    assert all_units(db_session)["X1"][2] == "H1"


@pytest.mark.parametrize(
    ("lines", "row", "column", "fragment"),
    [
        (["A,Đơn vị A,,", "A,Trùng,,"], 4, "code", "The code repeats row 3"),
        (["A,Đơn vị A,,NOPE"], 3, "parent_code", "No parent unit with code 'NOPE'"),
        (["A,Đơn vị A,,B", "B,Đơn vị B,,A"], 3, "parent_code", "The parent links form a cycle"),
        (["A,Đơn vị A,,A"], 3, "parent_code", "A unit cannot be its own parent"),
        ([",Không mã,,"], 3, "code", "The unit code is empty"),
        (["A,,,"], 3, "name", "The unit name is empty"),
        (["A," + "x" * 300 + ",,"], 3, "name", "longer than 255"),
        (["A,Xã\x00Một,,"], 3, "name", "A control or hidden character U+0000 at position 3"),
        (["A,\u202eẤX,,"], 3, "name", "hidden character U+202E at position 1"),
        (["A\x07,Xã Bảy,,"], 3, "code", "control or hidden character U+0007"),
    ],
)
def test_bad_rows_are_reported_and_nothing_is_imported(
    client, login, db_session, lines, row, column, fragment
):
    login(Role.ADMIN)
    data = csv_bytes("OK1,Một đơn vị tốt,,", *lines)  # row 2 is fine, the bad rows follow
    response = upload(client, data)
    assert response.status_code == 422
    assert "Không nhập gì cả" in response.get_data(as_text=True)
    assert all_units(db_session) == {}
    client.get("/lang/en")
    body = upload(client, data).get_data(as_text=True)
    assert "Nothing was imported" in body
    assert f"<tr><td>{row}</td><td>{column}</td>" in body
    assert str(escape(fragment)) in body


def test_cycle_through_the_existing_registry_is_refused(app, factory, db_session):
    parent = factory.unit(code="P")
    factory.unit(code="C", parent=parent)
    with app.app_context():
        result = import_units(csv_bytes("P,Cha,,C"))
    assert not result.ok and "cycle" in result.errors[0].message_en
    assert all_units(db_session)["P"][2] is None


def test_import_updates_existing_units(app, factory, db_session):
    factory.unit(code="A", name="Tên cũ")
    factory.unit(code="KEEP", name="Không có trong tệp")
    with app.app_context():
        from surveyapp.extensions import db

        result = import_units(csv_bytes("B,Cấp trên,,", "A,Tên mới,UBND cấp xã,B"))
        db.session.commit()
    assert (result.created, result.updated) == (1, 1)
    units = all_units(db_session)
    assert units["A"] == ("Tên mới", "UBND cấp xã", "B")
    assert "KEEP" in units


def test_wrong_encoding_is_explained(client, login, db_session):
    login(Role.ADMIN)
    data = HEADER.encode() + "A,Tư pháp,,\n".encode("cp1258")  # a Windows code page
    response = upload(client, data)
    assert response.status_code == 422
    assert "UTF-8" in response.get_data(as_text=True)
    assert all_units(db_session) == {}


def test_missing_columns_are_explained(client, login):
    login(Role.ADMIN)
    response = upload(client, b"ma,ten\nA,B\n")
    assert response.status_code == 422
    assert "code, name" in response.get_data(as_text=True)


def test_text_is_normalised_to_nfc(app, db_session):
    decomposed = "Xa\u0303 Long So\u031bn"  # "Xã Long Sơn" with combining marks
    with app.app_context():
        from surveyapp.extensions import db

        import_units(csv_bytes(f"LS,{decomposed},  UBND   cấp xã ,"))
        db.session.commit()
    assert all_units(db_session)["LS"][:2] == ("Xã Long Sơn", "UBND cấp xã")


def test_export_neutralises_formulas_and_round_trips(client, login, factory, db_session):
    login(Role.ADMIN)
    parent = factory.unit(code="H", name='=HYPERLINK("http://evil")', level_label="@cmd")
    factory.unit(code="X", name="-1+2", level_label="UBND cấp xã", parent=parent)
    response = client.get("/units/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["code", "name", "level_label", "parent_code", "official_code"]
    assert rows[1] == ["H", '\'=HYPERLINK("http://evil")', "'@cmd", "", ""]
    assert rows[2] == ["X", "'-1+2", "UBND cấp xã", "H", ""]


def test_export_then_import_gives_the_same_registry(client, login, db_session):
    login(Role.ADMIN)
    upload(client, (DATA / "brvt-2024.csv").read_bytes())
    before = all_units(db_session)
    exported = client.get("/units/export.csv").get_data()
    with client.application.app_context():
        from surveyapp.extensions import db

        db.session.execute(sa.update(Unit).values(parent_id=None))
        db.session.execute(sa.delete(Unit))
        db.session.commit()
    assert upload(client, exported).status_code == 302
    assert all_units(db_session) == before


def test_html_in_names_is_escaped(client, login, factory):
    factory.unit(code="XSS", name="<script>alert(1)</script>")
    login(Role.ADMIN)
    body = client.get("/units/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_focal_point_sees_only_their_unit(client, login, factory):
    own, other = factory.unit(name="Đơn vị của tôi"), factory.unit(name="Đơn vị khác")
    login(Role.FOCAL_POINT, unit=own)
    body = client.get("/units/").get_data(as_text=True)
    assert "Đơn vị của tôi" in body and "Đơn vị khác" not in body
    assert other.id != own.id


def test_unit_form_creates_and_edits(client, login, factory, db_session):
    login(Role.ADMIN)
    parent = factory.unit(code="HCD", name="Huyện Châu Đức", level_label="UBND cấp huyện")
    response = client.post(
        "/units/new",
        data={
            "code": "HCD-XBC",
            "name": "Xã Bàu Chinh",
            "level_label": "UBND cấp xã",
            "parent_id": parent.id,
            "active": "y",
        },
    )
    assert response.status_code == 302
    assert all_units(db_session)["HCD-XBC"] == ("Xã Bàu Chinh", "UBND cấp xã", "HCD")
    duplicate = client.post("/units/new", data={"code": "HCD", "name": "x", "parent_id": 0})
    assert duplicate.status_code == 422
    assert "Mã này đã được dùng" in duplicate.get_data(as_text=True)
    empty = client.post("/units/new", data={"code": "", "name": "", "parent_id": 0})
    assert empty.status_code == 422
    assert "Nhập mã đơn vị" in empty.get_data(as_text=True)


def test_a_unit_cannot_be_moved_under_its_descendant(client, login, factory):
    login(Role.ADMIN)
    parent = factory.unit(code="H")
    child = factory.unit(code="X", parent=parent)
    response = client.post(
        f"/units/{parent.id}/edit", data={"code": "H", "name": "H", "parent_id": child.id}
    )
    assert response.status_code == 422
    assert "Not a valid choice" in response.get_data(as_text=True) or "hợp lệ" in response.get_data(
        as_text=True
    )


def test_cli_import_of_the_shipped_registry(app, db_session):
    result = app.test_cli_runner().invoke(args=["units", "import", "brvt-2024"])
    assert result.exit_code == 0, result.output
    assert len(all_units(db_session)) == 111
    with db_session() as session:
        registry = session.scalar(sa.select(Registry).where(Registry.code == "brvt-2024"))
        assert registry.structure == "three-tier" and registry.province_code == "77"
        thang_tam = session.scalar(sa.select(Unit).where(Unit.code == "TPVT-PTHANGTAM"))
        assert (thang_tam.official_code, thang_tam.registry_id) == ("26508", registry.id)
    bad = app.test_cli_runner().invoke(args=["units", "import", "/no/such/file.csv"])
    assert bad.exit_code != 0 and "No file" in bad.output


def test_tree_groups_levels_and_sorts_names_naturally(client, login):
    login(Role.ADMIN)
    upload(client, (DATA / "brvt-2024.csv").read_bytes())
    page = client.get("/units/").get_data(as_text=True)
    position = {
        name: page.index(f">{name}<")
        for name in (
            "Phường 2",
            "Phường 10",
            "Phường Thắng Nhất",
            "Sở Y tế",
            "Thành phố Vũng Tàu",
            "Huyện Đất Đỏ",
            "Huyện Long Điền",
            "Huyện Châu Đức",
        )
    }
    assert position["Phường 2"] < position["Phường 10"] < position["Phường Thắng Nhất"]
    # Siblings of one level label stay together; "Đ" sorts with "D".
    assert position["Sở Y tế"] < position["Huyện Châu Đức"]
    assert position["Huyện Châu Đức"] < position["Huyện Đất Đỏ"] < position["Huyện Long Điền"]
    assert position["Huyện Long Điền"] < position["Thành phố Vũng Tàu"]
