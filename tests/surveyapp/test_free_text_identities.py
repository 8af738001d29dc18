"""Names, dossier codes and addresses typed into free text reach no export (issue 12.3).

Citizens' free-text answers name themselves, a neighbour from the unit's list, an
official's dossier code and a street address, with and without diacritics and in any
case. The microdata of a scoring run (CSV, XLSX, SPSS), the supervisor's ZIP and the
results bundle (its responses.jsonl and microdata) hold none of them; the purge scrubs
the stored answers and the microdata an earlier run wrote before this scrubbing existed.
"""

import hashlib
import io
import json
import unicodedata
import zipfile
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
import sqlalchemy as sa

from scoring_bridge import prepare_responses, spec_from_questionnaire
from scoring_bridge.microdata import write_microdata
from surveyapp import storage
from surveyapp.db import transaction
from surveyapp.extensions import db
from surveyapp.fieldwork.purge import purge_pii
from surveyapp.models import (
    Campaign,
    CampaignInstrument,
    Draw,
    FrameRecord,
    FrameUpload,
    Respondent,
    Response,
    ResponseMode,
    StoredFile,
)
from surveyapp.results import operations
from surveyapp.results.bundle import export_bundle
from surveyapp.results.runs import new_run, register_outputs, start_run

PEOPLE = [  # (name, dossier code, address): sampled respondents
    ("Nguyễn Văn An", "000.00.12.H57-240815-0001", "12 Lê Lợi, phường Thắng Tam, Vũng Tàu"),
    ("Trần Thị Bích Ngọc", "HS-2024-0077", "45/3 Trương Công Định, phường 3"),
]
NEIGHBOUR = ("Phạm Thị Hồng Nhung", "HS-2024-0099", "7 Hoàng Hoa Thám, phường 2")  # list only
TEXTS = [
    "Tôi là nguyen van an, cảm ơn cán bộ",
    "NGUYỄN VĂN AN ở 12 le loi hài lòng",
    "Chị Trần  Thị Bích Ngọc hướng dẫn tận tình",
    "Hồ sơ 000.00.12.H57-240815-0001 trả đúng hẹn",
    "hồ sơ hs-2024-0077 bị chậm, gọi 0912 345 678",
    "Nhờ chị pham thi hong nhung ở 7 Hoàng Hoa Thám chỉ đường; mã HS-2024-0099",
]
SEEDED = [part for person in (*PEOPLE, NEIGHBOUR) for part in person[:2]]
SEEDED += ["12 Lê Lợi", "7 Hoàng Hoa Thám", "0912 345 678"]
ITEMS = ["b9", "c1", "c2", "c3", "c4", "d1", "d2", "d3", "d4", "d5", "d6"]
ITEMS += ["e1", "e2", "e3", "e4", "f2", "f3", "f4", "f5", "g1"]


def folded(text: str) -> str:
    """Lower case, no diacritics, single spaces: how a reader would still recognise a name."""
    text = unicodedata.normalize("NFD", str(text).replace("đ", "d").replace("Đ", "D"))
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).lower().split())


def leaks(text: str) -> list[str]:
    haystack = folded(text)
    return [term for term in SEEDED if folded(term) in haystack]


@pytest.fixture
def campaign(app, factory):
    rng = np.random.default_rng(3)
    unit = factory.unit(code="T1", name="Phường Thắng Tam")
    campaign = factory.campaign(code="2024", status="fieldwork", period_start=date(2024, 1, 1))
    factory.add(
        CampaignInstrument(
            campaign_id=campaign.id,
            respondent_group="citizen",
            questionnaire_id="sipas-citizen",
            questionnaire_version="2024",
        )
    )
    draw = factory.add(Draw(campaign_id=campaign.id, design={}, locked=True))
    upload = factory.add(
        FrameUpload(
            campaign_id=campaign.id, unit_id=unit.id, list_kind="citizens", filename="l.csv"
        )
    )
    factory.add(
        *[
            FrameRecord(
                upload_id=upload.id,
                source_row=n + 2,
                full_name=name,
                dossier_code=code,
                address=address,
            )  # fmt: skip
            for n, (name, code, address) in enumerate([*PEOPLE, NEIGHBOUR])
        ],
        *[
            Respondent(
                draw_id=draw.id,
                campaign_id=campaign.id,
                source_unit_id=unit.id,
                respondent_group="citizen",
                stratum="T1|citizen",
                selection="primary",
                inclusion_prob=0.05,
                weight=20.0,
                status="completed",
                full_name=name,
                dossier_code=code,
                address=address,
            )  # fmt: skip
            for name, code, address in PEOPLE
        ],
    )
    responses = []
    for number in range(12):
        answers = {"a1": 4, "a3": 3, "a5": 6, "a6": 3, "a7": 1, "f1": 1, "k1": [1]}
        answers |= {code: int(rng.choice([5, 4, 2])) for code in ITEMS}
        answers["k2"] = TEXTS[number % len(TEXTS)]
        responses.append(
            Response(
                campaign_id=campaign.id,
                questionnaire_id="sipas-citizen",
                questionnaire_version="2024",
                rated_unit_id=unit.id,
                respondent_group="citizen",
                stratum="T1|citizen",
                weight=4.0,
                mode=ResponseMode.WEB,
                is_probability=True,
                submitted_week=date(2024, 9, 2),
                answers=answers,
            )  # fmt: skip
        )
    factory.add(*responses)
    return campaign


def _microdata_texts(folder: Path) -> list[str]:
    texts = [(folder / "microdata.csv").read_text(encoding="utf-8-sig")]
    texts.append(pd.read_excel(folder / "microdata.xlsx", engine="calamine").to_csv())
    frame, _ = pyreadstat.read_sav(str(folder / "microdata.sav"))
    texts.append(frame.to_csv())
    return texts


def test_no_seeded_identity_reaches_any_export(app, client, login, campaign):
    with app.app_context(), transaction():
        run = start_run(db.session.get(Campaign, campaign.id), min_n=3)
    folder = run.outputs / "sipas-citizen"
    texts = _microdata_texts(folder)
    assert "[họ tên]" in texts[0] and "[mã hồ sơ]" in texts[0] and "[địa chỉ]" in texts[0]
    login("supervisor")
    archive = client.get(f"/results/{campaign.id}/runs/{run.id}/download.zip")
    with zipfile.ZipFile(io.BytesIO(archive.data)) as bundle:
        texts += [bundle.read(n).decode("utf-8", "replace") for n in bundle.namelist()]
    with app.app_context():
        path = Path(app.instance_path) / "bundle.zip"
        export_bundle(db.session.get(Campaign, campaign.id), path)
    with zipfile.ZipFile(path) as bundle:
        texts.append(bundle.read("responses.jsonl").decode())
        texts.append(bundle.read("microdata/sipas-citizen/microdata.csv").decode("utf-8-sig"))
    for text in texts:
        assert not leaks(text), leaks(text)


def test_purge_scrubs_stored_answers_and_earlier_run_outputs(app, campaign):
    with app.app_context():
        record = db.session.get(Campaign, campaign.id)
        # An earlier run, written before names were scrubbed: only phones went.
        run = new_run(record, {"mapping": "brvt-2024"}, None)
        frame = operations.responses_frame(campaign.id, "sipas-citizen", "2024")
        spec = spec_from_questionnaire(operations.load_questionnaire("sipas-citizen", "2024"))
        folder = run.outputs / "sipas-citizen"
        folder.mkdir(parents=True)
        write_microdata(prepare_responses(frame, spec), spec, folder)
        register_outputs(run)
        assert any(leaks(text) for text in _microdata_texts(folder))
        with transaction():
            record.status = "closed"
        with transaction():
            counts = purge_pii(db.session.get(Campaign, campaign.id))
        assert counts.free_texts == 12 and counts.output_files == 3
        stored = db.session.scalars(sa.select(Response.answers)).all()
        assert not leaks(json.dumps(stored, ensure_ascii=False))
        for text in _microdata_texts(folder):
            assert not leaks(text), leaks(text)
        stored_files = db.session.scalars(sa.select(StoredFile)).all()
        assert {f.name for f in stored_files} == {
            f"sipas-citizen/{p.name}" for p in folder.iterdir()
        }
        for stored in stored_files:  # the records follow the rewritten files
            data = storage.path(stored.key).read_bytes()
            assert (stored.size, stored.sha256) == (len(data), hashlib.sha256(data).hexdigest())
        meta = pyreadstat.read_sav(str(folder / "microdata.sav"))[1]
        assert meta.column_names_to_labels["k2"]  # labels kept
        with transaction():  # again: nothing left to purge
            again = purge_pii(db.session.get(Campaign, campaign.id))
        assert again.free_texts == 0 and again.output_files == 0
