"""Names reach the Department's report as text, through the registry and an edited
results bundle alike (issue 12.7); names with control characters are refused on import."""

import io
import json
import re
import zipfile
from datetime import date
from hashlib import sha256

import numpy as np
import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from surveyapp.db import transaction
from surveyapp.extensions import db
from surveyapp.models import Campaign, Response, ResponseMode, Unit
from surveyapp.results.bundle import BundleError, export_bundle, import_bundle
from surveyapp.results.runs import start_run

LINK_NAME = '<a href="javascript:app.alert(1)">UBND xã Một</a>'
UNCLOSED = "<b>UBND xã Hai"
ITEMS = ["b9", "c1", "c2", "c3", "c4", "d1", "d2", "d3", "d4", "d5", "d6"]
ITEMS += ["e1", "e2", "e3", "e4", "f2", "f3", "f4", "f5", "g1"]


def _answers(rng) -> dict:
    answers = {"a1": 4, "a3": 3, "a5": 6, "a6": 3, "a7": 1, "f1": 1, "k1": [1]}
    return answers | {code: int(rng.choice([5, 4, 2])) for code in ITEMS}


@pytest.fixture
def bundle_bytes(app, factory, tmp_path):
    """A bundle of campaign 2024 (units A1, A2 with plain names, 5 responses each)."""
    rng = np.random.default_rng(5)
    units = [factory.unit(code="A1", name="Xã Một"), factory.unit(code="A2", name="Xã Hai")]
    campaign = factory.campaign(code="2024", status="fieldwork")
    factory.instrument(campaign)
    factory.add(
        *[
            Response(
                campaign_id=campaign.id,
                questionnaire_id="sipas-citizen",
                questionnaire_version="2024",
                rated_unit_id=unit.id,
                respondent_group="citizen",
                stratum=f"{unit.code}|citizen",
                weight=4.0,
                mode=ResponseMode.WEB,
                is_probability=True,
                submitted_week=date(2024, 9, 2),
                answers=_answers(rng),
            )
            for unit in units
            for _ in range(5)
        ]
    )
    path = tmp_path / "bundle.zip"
    with app.app_context():
        export_bundle(db.session.get(Campaign, campaign.id), path)
    return path.read_bytes()


def edited(data: bytes, member: str, change) -> bytes:
    """``member`` changed and the manifest's size and checksum rewritten to match, as
    whoever holds the file can do."""
    original = zipfile.ZipFile(io.BytesIO(data))
    contents = {info.filename: original.read(info) for info in original.infolist()}
    contents[member] = change(contents[member])
    manifest = json.loads(contents["manifest.json"])
    for entry in manifest["files"]:
        entry["size"] = len(contents[entry["path"]])
        entry["sha256"] = sha256(contents[entry["path"]]).hexdigest()
    contents["manifest.json"] = json.dumps(manifest).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in contents.items():
            archive.writestr(name, content)
    return out.getvalue()


def _recoded(content: bytes) -> bytes:
    """New unit codes (B1, B2), so that the import creates the units with these names."""
    return content.replace(b'"A1"', b'"B1"').replace(b'"A2"', b'"B2"')


def test_edited_bundle_names_print_as_text_in_the_report(app, bundle_bytes):
    def units(content: bytes) -> bytes:
        text = content.decode("utf-8-sig").replace(
            "A1,Xã Một", f'B1,"{LINK_NAME.replace(chr(34), chr(34) * 2)}"'
        )
        return text.replace("A2,Xã Hai", f"B2,{UNCLOSED}").encode("utf-8")

    data = edited(edited(bundle_bytes, "units.csv", units), "responses.jsonl", _recoded)
    with app.app_context():
        with transaction():
            db.session.execute(sa.delete(Response))  # the same response ids come back
            result = import_bundle(data, campaign_code="2025")
        assert result.inserted == 10
        names = dict(db.session.execute(sa.select(Unit.code, Unit.name)).all())
        assert names["B1"] == LINK_NAME and names["B2"] == UNCLOSED
        with transaction():
            campaign = db.session.scalar(sa.select(Campaign).where(Campaign.code == "2025"))
            run = start_run(campaign, min_n=3)
        report = run.outputs / "sipas-citizen" / "report.pdf"
        assert report.is_file(), "the scoring run failed"
    reader = PdfReader(report)
    assert not [a for page in reader.pages for a in page.get("/Annots") or []]
    text = re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))
    assert re.sub(r"\s+", "", LINK_NAME) in text and re.sub(r"\s+", "", UNCLOSED) in text


def test_bundle_with_control_characters_in_names_is_refused(app, bundle_bytes):
    def units(content: bytes) -> bytes:
        text = content.decode("utf-8-sig").replace("A1,Xã Một", "B1,Xã\x1bMột")
        return text.replace("A2,Xã Hai", "B2," + "x" * 300).encode("utf-8")

    data = edited(edited(bundle_bytes, "units.csv", units), "responses.jsonl", _recoded)
    with app.app_context():
        with pytest.raises(BundleError) as refused, transaction():
            import_bundle(data, campaign_code="2025")
        assert "row 2, column name" in refused.value.message_en
        assert "U+001B" in refused.value.message_en
        assert "row 3, column name: The value is longer than 255" in refused.value.message_en
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Unit)) == 2
