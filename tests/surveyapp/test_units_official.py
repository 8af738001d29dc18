"""Registries from the official list: a whole province imported from the dataset, its
edition recorded, departments as editable data, bad input named and nothing half-done."""

import io

import pytest
import sqlalchemy as sa

from surveyapp.models import Registry, Unit
from surveyapp.models.users import Role
from surveyapp.units.importer import import_units


def dataset_communes(province_code: str) -> dict[str, str]:
    """Read straight from the dataset's own database (not through our module)."""
    from vietnamadminunits.database import query

    rows = query(f"SELECT wardCode, ward FROM admin_units WHERE provinceCode = '{province_code}'")
    return {r["wardCode"]: r["ward"] for r in rows}


def registry_units(db_session, code: str) -> list[Unit]:
    with db_session() as session:
        registry = session.scalar(sa.select(Registry).where(Registry.code == code))
        if registry is None:
            return []
        units = session.scalars(sa.select(Unit).where(Unit.registry_id == registry.id)).all()
        session.expunge_all()
        return list(units)


def test_whole_province_from_the_dataset(app, db_session):
    result = app.test_cli_runner().invoke(
        args=["units", "import-official", "Thành phố Hồ Chí Minh"]
    )
    assert result.exit_code == 0, result.output
    expected = dataset_communes("79")
    assert len(expected) == 168  # the 2025 reform: 168 commune-level units
    units = registry_units(db_session, "79-2025")
    communes = {u.code: u for u in units if u.level_label == "UBND cấp xã"}
    assert set(communes) == set(expected)
    assert all(u.official_code == u.code and u.name == expected[u.code] for u in communes.values())
    assert communes["26506"].name == "Phường Vũng Tàu"
    assert communes["26596"].name == "Xã Châu Đức"
    departments = [u for u in units if u.level_label == "Sở, ban, ngành"]
    names = {u.name for u in departments}
    assert "Sở Nội vụ" in names and "Văn phòng Ủy ban nhân dân Thành phố" in names
    assert all(u.official_code is None and u.code.startswith("79-") for u in departments)
    with db_session() as session:
        registry = session.scalar(sa.select(Registry).where(Registry.code == "79-2025"))
        assert registry.name == "Thành phố Hồ Chí Minh" and registry.structure == "two-tier"
        assert registry.edition.startswith("vietnamadminunits 1.0.4")
        assert str(registry.valid_from) == "2025-07-01"
    assert "168" in result.output and "vietnamadminunits 1.0.4" in result.output


def test_reimport_refreshes_communes_and_keeps_the_departments_edits(app, db_session):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["units", "import-official", "79"]).exit_code == 0
    with db_session() as session:
        snv = session.scalar(sa.select(Unit).where(Unit.code == "79-SNV"))
        snv.name = "Sở Nội vụ Thành phố Hồ Chí Minh"  # the Department's edit
        session.delete(session.scalar(sa.select(Unit).where(Unit.code == "79-BQLKCN")))
        commune = session.scalar(sa.select(Unit).where(Unit.code == "26506"))
        commune.name = "Phường Vũng Tàu (gõ sai)"
    again = runner.invoke(args=["units", "import-official", "hcm"])
    assert again.exit_code == 0, again.output
    assert "0 new commune-level units, 168 updated" in again.output
    units = {u.code: u for u in registry_units(db_session, "79-2025")}
    assert units["79-SNV"].name == "Sở Nội vụ Thành phố Hồ Chí Minh"
    assert "79-BQLKCN" not in units  # removed by the Department, not brought back
    assert units["26506"].name == "Phường Vũng Tàu"  # the official name again


def test_departments_from_a_file_and_a_province_word(app, db_session, tmp_path):
    path = tmp_path / "departments.csv"
    path.write_text("code,name\nSNV,Sở Nội vụ\nVP,Văn phòng UBND {tỉnh}\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(
        args=["units", "import-official", "Cà Mau", "--departments", str(path)]
    )
    assert result.exit_code == 0, result.output
    units = {u.code: u.name for u in registry_units(db_session, "96-2025")}
    assert units["96-VP"] == "Văn phòng UBND tỉnh"
    assert len([c for c in units if not c.startswith("96-")]) == len(dataset_communes("96"))


def test_unknown_province_and_a_taken_code_import_nothing(app, factory, db_session):
    runner = app.test_cli_runner()
    unknown = runner.invoke(args=["units", "import-official", "Atlantis"])
    assert unknown.exit_code != 0 and "No province «Atlantis»" in unknown.output
    factory.unit(code="26506", name="Đơn vị tự đặt mã trùng")
    taken = runner.invoke(args=["units", "import-official", "79"])
    assert taken.exit_code != 0
    assert "The code 26506 is used by another unit" in taken.output
    assert "Nothing was imported" in taken.output
    with db_session() as session:
        assert session.scalar(sa.select(sa.func.count(Registry.id))) == 0
        assert session.scalar(sa.select(sa.func.count(Unit.id))) == 1


def test_official_codes_in_a_registry_csv_are_checked(app, db_session):
    data = (
        "code,name,level_label,parent_code,official_code\n"
        "A,Phường 1,UBND cấp xã,,26506\n"
        "B,Phường Không Có,UBND cấp xã,,99999\n"
        "C,Phường 1 lặp,UBND cấp xã,,26506\n"
    ).encode()
    with app.app_context():
        result = import_units(data)
    assert [(e.row, e.column, e.value) for e in result.errors] == [
        (3, "official_code", "99999"),
        (4, "official_code", "26506"),
    ]
    assert "not in the official list" in result.errors[0].message_en
    with db_session() as session:
        assert session.scalar(sa.select(sa.func.count(Unit.id))) == 0


def test_web_import_and_registry_tabs(client, login, db_session):
    login(Role.ADMIN)
    page = client.get("/units/import-official")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Thành phố Hồ Chí Minh (79)" in body and "vietnamadminunits 1.0.4" in body
    assert client.post("/units/import-official", data={"province": ""}).status_code == 422
    response = client.post(
        "/units/import-official",
        data={
            "province": "79",
            "departments": (
                io.BytesIO(b"code,name\nSNV,S\xe1\xbb\x9f N\xe1\xbb\x99i v\xe1\xbb\xa5\n"),
                "d.csv",
            ),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert client.post("/units/import", data={}).status_code == 422
    with client.application.app_context():
        from surveyapp.extensions import db
        from surveyapp.units.builtin import import_builtin

        assert import_builtin("brvt-2024").ok
        db.session.commit()
    index = client.get("/units/").get_data(as_text=True)
    # The newest registry is shown; the other is a link.
    assert "Tỉnh Bà Rịa - Vũng Tàu (2024)" in index and "Phường Thắng Tam" in index
    assert "Phường Tam Thắng" not in index
    registry_id = registry_units(db_session, "79-2025")[0].registry_id
    hcm = client.get(f"/units/?registry={registry_id}").get_data(as_text=True)
    assert "Phường Tam Thắng" in hcm and "Phường Thắng Tam" not in hcm
    assert "vietnamadminunits 1.0.4" in hcm


@pytest.mark.parametrize(
    "query", ["79", "hcm", "Hồ Chí Minh", "ho chi minh", "Thành phố Hồ Chí Minh"]
)
def test_province_names_people_type(query):
    from surveyapp.units import official

    assert official.find_province(query).code == "79"


@pytest.mark.parametrize("query", ["an", "ha", "x", ""])
def test_fragments_of_names_are_not_provinces(query):
    from surveyapp.units import official

    with pytest.raises(official.UnknownProvince):
        official.find_province(query)
