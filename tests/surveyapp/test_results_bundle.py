"""Results bundles: export → import into another instance, idempotence, integrity, safety."""

import hashlib
import io
import json
import shutil
import zipfile
from datetime import date

import numpy as np
import pyreadstat
import pytest
import sqlalchemy as sa

from surveyapp.app import create_app
from surveyapp.extensions import db
from surveyapp.models import Campaign, CampaignInstrument, Response, ResponseMode, Unit
from surveyapp.models.users import Role
from surveyapp.results.bundle import BundleError, import_bundle

OTHER_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "another-instance",
    "WTF_CSRF_ENABLED": False,
    "REDIS_URL": None,
}


@pytest.fixture(scope="module")
def migrated_sqlite(tmp_path_factory):
    from flask_migrate import upgrade

    path = tmp_path_factory.mktemp("other-instance") / "template.sqlite"
    app = create_app({**OTHER_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return path


@pytest.fixture
def other_app(migrated_sqlite, tmp_path):
    """A second instance with its own (fresh, migrated) SQLite database."""
    path = tmp_path / "other.sqlite"
    shutil.copy(migrated_sqlite, path)
    app = create_app({**OTHER_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    app.instance_path = str(tmp_path / "other-instance")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def answers(rng, text=""):
    values = {"a1": 4, "a3": 3, "a5": 6, "a6": 3, "a7": 1, "f1": 1, "k1": [2, 5]}
    for code in ("b9", "c1", "c2", "c3", "c4", "d1", "d2", "d3", "d4", "d5", "d6", "e1", "e2"):
        values[code] = int(rng.choice([2, 3, 4, 5, 9]))
    for code in ("e3", "e4", "f2", "f3", "f4", "f5", "g1"):
        values[code] = int(rng.choice([3, 4, 5]))
    if text:
        values["k2"] = text
    return values


@pytest.fixture
def source(factory):
    """Campaign 2024 with 4 + 3 probability responses and one walk-in; a phone in one text."""
    rng = np.random.default_rng(7)
    parent = factory.unit(code="H1", name="Huyện Một", level_label="UBND cấp huyện")
    units = [
        factory.unit(code="B1", name="Xã Bình Một", parent=parent),
        factory.unit(code="B2", name="Xã Bình Hai"),
    ]
    factory.unit(code="UNUSED")
    campaign = factory.campaign(code="2024", name="Khảo sát năm 2024", status="fieldwork")
    factory.instrument(campaign)
    rows = []
    for unit, count in ((units[0], 4), (units[1], 3)):
        for n in range(count):
            text = "Gọi tôi 0912 345 678 nhé" if n == 0 and unit is units[0] else "Tốt"
            rows.append(
                Response(
                    campaign_id=campaign.id,
                    questionnaire_id="sipas-citizen",
                    questionnaire_version="2024",
                    rated_unit_id=unit.id,
                    respondent_group="citizen",
                    stratum=f"{unit.code}|citizen",
                    weight=12.5,
                    mode=ResponseMode.WEB,
                    is_probability=True,
                    submitted_week=date(2024, 9, 2),
                    answers=answers(rng, text),
                )
            )
    rows.append(
        Response(
            campaign_id=campaign.id,
            questionnaire_id="sipas-citizen",
            questionnaire_version="2024",
            rated_unit_id=units[1].id,
            respondent_group="citizen",
            stratum=None,
            weight=None,
            mode=ResponseMode.WALKIN,
            is_probability=False,
            submitted_week=date(2024, 9, 9),
            answers=answers(rng),
        )
    )
    factory.add(*rows)
    return campaign


def export(app, tmp_path, name="bundle.zip") -> bytes:
    path = tmp_path / name
    result = app.test_cli_runner().invoke(
        args=["results", "export", "--campaign", "2024", "--out", str(path)]
    )
    assert result.exit_code == 0, result.output
    return path.read_bytes()


def snapshot(app) -> dict:
    with app.app_context():
        rows = db.session.execute(
            sa.select(Response, Unit.code).join(Unit, Unit.id == Response.rated_unit_id)
        ).all()
        return {
            "responses": {
                str(r.id): (
                    code,
                    r.respondent_group,
                    r.stratum,
                    r.weight,
                    r.mode.value,
                    r.is_probability,
                    r.submitted_week,
                    r.answers,
                )
                for r, code in rows
            },
            "units": sorted(db.session.scalars(sa.select(Unit.code))),
            "campaigns": sorted(db.session.scalars(sa.select(Campaign.code))),
        }


def test_export_writes_checksummed_anonymous_bundle(app, source, tmp_path):
    archive = zipfile.ZipFile(io.BytesIO(export(app, tmp_path)))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["counts"]["responses"] == 8 and manifest["counts"]["walk_in"] == 1
    assert manifest["counts"]["units"] == 2
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(archive.namelist()) == set(listed) | {"manifest.json"}
    for path, entry in listed.items():
        content = archive.read(path)
        assert (len(content), hashlib.sha256(content).hexdigest()) == (
            entry["size"],
            entry["sha256"],
        )
    for name in ("microdata.csv", "microdata.sav", "codebook.xlsx", "codebook.pdf"):
        assert f"microdata/sipas-citizen/{name}" in listed
    records = [json.loads(line) for line in archive.read("responses.jsonl").splitlines()]
    texts = " ".join(str(r["answers"].get("k2", "")) for r in records)
    assert "0912" not in texts and "Tốt" in texts  # phone scrubbed, other text kept
    everything = b"".join(archive.read(n) for n in archive.namelist())
    assert b"0912 345 678" not in everything
    units = archive.read("units.csv").decode()
    assert units.splitlines()[1:] == [
        "B2,Xã Bình Hai,UBND cấp xã,,1",
        "H1,Huyện Một,UBND cấp huyện,,0",
        "B1,Xã Bình Một,UBND cấp xã,H1,1",
    ]
    sav = tmp_path / "m.sav"
    sav.write_bytes(archive.read("microdata/sipas-citizen/microdata.sav"))
    frame, meta = pyreadstat.read_sav(str(sav))
    assert len(frame) == 8 and meta.variable_value_labels["g1"][5] == "Rất hài lòng"


def test_round_trip_into_another_instance_is_idempotent(app, other_app, source, tmp_path):
    bundle = tmp_path / "bundle.zip"
    bundle.write_bytes(export(app, tmp_path))
    result = other_app.test_cli_runner().invoke(args=["results", "import", str(bundle)])
    assert result.exit_code == 0, result.output
    assert "8 responses imported" in result.output
    before, after = snapshot(app), snapshot(other_app)
    assert after["campaigns"] == ["2024"] and after["units"] == ["B1", "B2", "H1"]
    assert set(after["responses"]) == set(before["responses"])
    for response_id, (code, group, stratum, weight, mode, probability, week, ans) in before[
        "responses"
    ].items():
        other = after["responses"][response_id]
        assert other[:3] == (code, group, stratum) and other[4:7] == (mode, probability, week)
        # no respondents table on either side: the final weight is the stored weight
        assert other[3] == weight
        expected = dict(ans)
        if "0912" in str(ans.get("k2")):
            assert "0912" not in other[7]["k2"]
            expected["k2"] = other[7]["k2"]
        assert other[7] == expected
    with other_app.app_context():
        campaign = db.session.scalar(sa.select(Campaign))
        assert campaign.status.value == "closed"
        assert [(i.respondent_group, i.questionnaire_id) for i in campaign.instruments] == [
            ("citizen", "sipas-citizen")
        ]
        parent = db.session.scalar(sa.select(Unit).where(Unit.code == "H1"))
        child = db.session.scalar(sa.select(Unit).where(Unit.code == "B1"))
        assert child.parent_id == parent.id
    again = other_app.test_cli_runner().invoke(args=["results", "import", str(bundle)])
    assert again.exit_code == 0 and "0 responses imported, 8 already present" in again.output
    assert snapshot(other_app) == after


def tampered(data: bytes, member: str, change) -> bytes:
    """The same archive with ``member``'s content changed (a valid zip: CRCs recomputed)."""
    original = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in original.infolist():
            content = original.read(info)
            archive.writestr(info.filename, change(content) if info.filename == member else content)
    return out.getvalue()


def test_tampered_bundle_is_refused_with_nothing_written(app, other_app, source, tmp_path):
    data = export(app, tmp_path)
    empty = snapshot(other_app)

    def flip_one_byte(content: bytes) -> bytes:
        position = content.index(b'"weight": 12.5') + len('"weight": 1')
        return content[:position] + b"3" + content[position + 1 :]  # 12.5 → 13.5

    altered = tampered(data, "responses.jsonl", flip_one_byte)
    with other_app.app_context(), pytest.raises(BundleError) as refused:
        import_bundle(altered)
    assert "responses.jsonl" in refused.value.message_en
    assert "SHA-256" in refused.value.message_en
    # a byte flipped inside a member's compressed data: the zip's CRC check stops it
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo("responses.jsonl")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    raw = bytearray(data)
    raw[start + info.compress_size // 2] ^= 0x01
    path = tmp_path / "damaged.zip"
    path.write_bytes(bytes(raw))
    result = other_app.test_cli_runner().invoke(args=["results", "import", str(path)])
    assert result.exit_code == 1
    assert "damaged" in result.output and "Traceback" not in result.output
    assert snapshot(other_app) == empty


def _with_extra_member(data: bytes, name: str, content: bytes, *, listed: bool) -> bytes:
    original = zipfile.ZipFile(io.BytesIO(data))
    manifest = json.loads(original.read("manifest.json"))
    if listed:
        manifest["files"].append(
            {"path": name, "size": len(content), "sha256": hashlib.sha256(content).hexdigest()}
        )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in original.infolist():
            if info.filename == "manifest.json":
                archive.writestr("manifest.json", json.dumps(manifest))
            else:
                archive.writestr(info.filename, original.read(info))
        archive.writestr(name, content)
    return out.getvalue()


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/evil", "microdata/../../evil", "a\\..\\b"])
def test_path_traversal_is_refused(app, other_app, source, tmp_path, name):
    data = _with_extra_member(export(app, tmp_path), name, b"x", listed=True)
    with other_app.app_context(), pytest.raises(BundleError) as refused:
        import_bundle(data)
    assert "unsafe path" in refused.value.message_en
    assert snapshot(other_app)["responses"] == {}


def test_unlisted_file_and_zip_bomb_are_refused(app, other_app, source, tmp_path):
    data = export(app, tmp_path)
    with other_app.app_context():
        with pytest.raises(BundleError, match="does not match its manifest"):
            import_bundle(_with_extra_member(data, "extra.txt", b"hello", listed=False))
        bomb = _with_extra_member(data, "bomb.txt", b"\0" * (20 * 1024 * 1024), listed=True)
        with pytest.raises(BundleError, match="zip bomb"):
            import_bundle(bomb)
        with pytest.raises(BundleError, match="not a valid .zip"):
            import_bundle(b"PK\x03\x04 this is not a zip")


def test_import_into_existing_campaign_with_other_questionnaire_is_refused(
    app, other_app, source, tmp_path
):
    data = export(app, tmp_path)
    with other_app.app_context():
        campaign = Campaign(code="2024", name="x")
        db.session.add(campaign)
        db.session.flush()
        db.session.add(
            CampaignInstrument(
                campaign_id=campaign.id,
                respondent_group="citizen",
                questionnaire_id="par-officials",
                questionnaire_version="2024",
            )
        )
        db.session.commit()
        with pytest.raises(BundleError, match="group citizen uses par-officials"):
            import_bundle(data)
        db.session.rollback()
    assert snapshot(other_app)["responses"] == {}


def test_admin_uploads_a_bundle_in_the_browser(app, client, login, source, tmp_path):
    data = export(app, tmp_path)
    with app.app_context():
        db.session.execute(sa.delete(Response))
        db.session.commit()
    login(Role.ADMIN)
    page = client.post(
        "/results/import",
        data={"bundle": (io.BytesIO(data), "bundle.zip"), "campaign_code": ""},
        content_type="multipart/form-data",
    )
    assert page.status_code == 200 and "8" in page.get_data(as_text=True)
    assert len(snapshot(app)["responses"]) == 8
    bad = client.post(
        "/results/import",
        data={"bundle": (io.BytesIO(b"not a zip"), "b.zip"), "campaign_code": ""},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and "không phải gói" in bad.get_data(as_text=True)
    download = client.get(f"/results/{source.id}/bundle.zip")
    assert download.status_code == 200
    assert "manifest.json" in zipfile.ZipFile(io.BytesIO(download.data)).namelist()


def test_any_flipped_byte_is_refused_or_harmless(app, other_app, source, tmp_path):
    """Bytes flipped across the whole archive: a clear BundleError, or (in zip metadata the
    checksums do not cover, e.g. a timestamp) an import of exactly the exported data."""
    data = export(app, tmp_path)
    expected = snapshot(app)["responses"]
    refused = 0
    for position in range(0, len(data), max(1, len(data) // 40)):
        raw = bytearray(data)
        raw[position] ^= 0x5A
        with other_app.app_context():
            try:
                import_bundle(bytes(raw))
            except BundleError:
                refused += 1
            else:
                imported = {str(i) for i in db.session.scalars(sa.select(Response.id))}
                assert imported == set(expected)
            finally:
                db.session.rollback()
    assert refused > 30
    assert snapshot(other_app)["responses"] == {}


def test_import_into_another_campaign_code(app, other_app, source, tmp_path):
    bundle = tmp_path / "bundle.zip"
    bundle.write_bytes(export(app, tmp_path))
    result = other_app.test_cli_runner().invoke(
        args=["results", "import", str(bundle), "--campaign", "2024-NT"]
    )
    assert result.exit_code == 0, result.output
    assert snapshot(other_app)["campaigns"] == ["2024-NT"]
    assert len(snapshot(other_app)["responses"]) == 8
    # the same responses cannot be filed under a second campaign
    again = other_app.test_cli_runner().invoke(args=["results", "import", str(bundle)])
    assert again.exit_code == 1 and "already belongs to another campaign" in again.output
    assert snapshot(other_app)["campaigns"] == ["2024-NT"]


def test_a_bundle_with_bad_responses_names_every_line(app, other_app, source, tmp_path):
    """A contractor's bundle whose responses.jsonl (checksums redone) has several bad lines:
    one refusal naming each line, nothing imported."""
    data = export(app, tmp_path)
    original = zipfile.ZipFile(io.BytesIO(data))
    lines = original.read("responses.jsonl").decode().splitlines()
    first, third = json.loads(lines[0]), json.loads(lines[2])
    first["weight"] = -1
    third["unit"] = "NOWHERE"
    lines[0], lines[2] = json.dumps(first), json.dumps(third)
    lines[4] = "{not json"
    content = ("\n".join(lines) + "\n").encode()
    manifest = json.loads(original.read("manifest.json"))
    for entry in manifest["files"]:
        if entry["path"] == "responses.jsonl":
            entry["size"], entry["sha256"] = len(content), hashlib.sha256(content).hexdigest()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in original.infolist():
            if info.filename == "manifest.json":
                archive.writestr(info.filename, json.dumps(manifest))
            elif info.filename == "responses.jsonl":
                archive.writestr(info.filename, content)
            else:
                archive.writestr(info.filename, original.read(info))
    path = tmp_path / "edited.zip"
    path.write_bytes(out.getvalue())
    empty = snapshot(other_app)
    result = other_app.test_cli_runner().invoke(args=["results", "import", str(path)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "3 problem(s), nothing imported" in result.output
    for text in ("line 1: ", "invalid weight: -1", "line 3: ", "NOWHERE", "line 5: "):
        assert text in result.output
    assert snapshot(other_app) == empty
