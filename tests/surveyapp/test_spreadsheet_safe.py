"""No live formula in any spreadsheet the service hands out or writes (issue 12.4).

A campaign whose unit name, respondents' details and a citizen's free-text answer are
formula injections (``=HYPERLINK(...)``, ``=cmd|' /C calc'!A0``, ``@SUM``, ``+``, ``-``, a
tab) is scored with last year's figures (so that some changes are negative numbers);
then every download route of the app is requested as the administrator and as the contractor's
supervisor with the campaign's, run's and file's ids filled in, and every CSV and XLSX
received (also inside ZIPs) and every such file left in the instance folder is read cell
by cell: no text cell may start with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return unless it is a number, and negative numbers stay numbers.
"""

import csv
import gzip
import io
import re
import zipfile
from datetime import date
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from surveyapp.db import transaction
from surveyapp.extensions import db
from surveyapp.models import (
    Campaign,
    CampaignInstrument,
    Draw,
    Respondent,
    Response,
    ResponseMode,
)
from surveyapp.results.runs import start_run

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
HOSTILE_NAME = '=HYPERLINK("http://evil.example/x","Bấm vào đây")'
HOSTILE_TEXTS = ["=cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "+1+cmd|' /C calc'!A0"]
ITEMS = ["b9", "c1", "c2", "c3", "c4", "d1", "d2", "d3", "d4", "d5", "d6"]
ITEMS += ["e1", "e2", "e3", "e4", "f2", "f3", "f4", "f5", "g1"]
# A download route: a file name with an extension, or a run's files.
DOWNLOAD = re.compile(r"\.(csv|xlsx|zip|<fmt>)$|/files/")
# The frame snapshot and the drawn sample need a list really drawn (this campaign's draw is
# made of rows); both are written by csvsafe.write_csv, checked in test_draws.py.
NEEDS_A_REAL_DRAW = {"draws.frame_file", "draws.sample_file"}
NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$|^-?inf$")


def _answers(rng, text: str) -> dict:
    answers = {"a1": 4, "a3": 3, "a5": 6, "a6": 3, "a7": 1, "f1": 1, "k1": [1, 3], "k2": text}
    for code in ITEMS:
        answers[code] = int(rng.choice([5, 4, 2]))
    return answers


@pytest.fixture
def hostile_campaign(app, factory):
    rng = np.random.default_rng(124)
    units = [
        factory.unit(code="X1", name=HOSTILE_NAME),
        factory.unit(code="X2", name="-UBND xã Hai"),
    ]
    campaign = factory.campaign(
        code="2024",
        status="fieldwork",
        period_start=date(2024, 1, 1),
        period_end=date(2024, 12, 31),
    )
    factory.add(
        CampaignInstrument(
            campaign_id=campaign.id,
            respondent_group="citizen",
            questionnaire_id="sipas-citizen",
            questionnaire_version="2024",
        )
    )
    draw = factory.add(Draw(campaign_id=campaign.id, design={}, locked=True))
    people = [
        Respondent(
            draw_id=draw.id,
            campaign_id=campaign.id,
            source_unit_id=unit.id,
            respondent_group="citizen",
            stratum=f"{unit.code}|citizen",
            selection="primary",
            inclusion_prob=0.2,
            weight=5.0,
            status="completed",
            full_name="=cmd|' /C calc'!A0",
            phone="+84912345678",
            address="@SUM(A1:A9)",
            dossier_code="-2+3",
            email="\tx@example.com",
        )
        for unit in units
        for _ in range(6)
    ]
    factory.add(*people)
    responses = [
        Response(
            campaign_id=campaign.id,
            questionnaire_id="sipas-citizen",
            questionnaire_version="2024",
            rated_unit_id=unit.id,
            respondent_group="citizen",
            stratum=f"{unit.code}|citizen",
            weight=5.0,
            mode=ResponseMode.WEB,
            is_probability=True,
            submitted_week=date(2024, 8, 5),
            answers=_answers(rng, HOSTILE_TEXTS[n % len(HOSTILE_TEXTS)]),
        )
        for unit in units
        for n in range(6)
    ]
    factory.add(*responses)
    return campaign


def _cells_of_csv(data: bytes) -> list:
    text = data.decode("utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _cells_of_xlsx(data: bytes) -> list:
    book = openpyxl.load_workbook(io.BytesIO(data))
    cells = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"a formula cell: {sheet.title}!{cell.coordinate}"
                cells.append(cell.value)
    return cells


def _cells(name: str, data: bytes) -> list | None:
    """The cells of a CSV, XLSX or a ZIP of them (None for other files)."""
    name = name.lower()
    if name.endswith(".csv"):
        return _cells_of_csv(data)
    if name.endswith(".csv.gz"):
        return _cells_of_csv(gzip.decompress(data))
    if name.endswith(".xlsx"):
        return _cells_of_xlsx(data)
    if name.endswith(".zip"):
        cells = []
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.namelist():
                cells += _cells(member, archive.read(member)) or []
        return cells
    return None


def _unsafe(cells: list) -> list[str]:
    return [
        cell
        for cell in cells
        if isinstance(cell, str) and cell.startswith(FORMULA_START) and not NUMBER.match(cell)
    ]


def _filename(response, path: str) -> str:
    disposition = response.headers.get("Content-Disposition", "")
    match = re.search(r'filename="?([^";]+)', disposition)
    return match.group(1) if match else path


def _urls(app, values: dict, files: list[str]) -> list[str]:
    """Every download route with its parameters filled from ``values`` (a file route once per
    file); routes needing a value we do not have are left out."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or not DOWNLOAD.search(rule.rule):
            continue
        if rule.endpoint in NEEDS_A_REAL_DRAW:
            continue
        arguments = set(rule.arguments)
        if not arguments <= set(values) | {"name", "fmt"}:
            continue
        fills = [{}]
        if "name" in arguments:
            fills = [{"name": f} for f in files]
        if "fmt" in arguments:
            fills = [{**f, "fmt": fmt} for f in fills for fmt in ("csv", "xlsx")]
        with app.test_request_context():
            from flask import url_for

            for fill in fills:
                params = {a: values[a] for a in arguments if a in values} | fill
                urls.append(url_for(rule.endpoint, **params))
    return urls


def test_no_download_and_no_written_file_holds_a_live_formula(app, client, login, hostile_campaign):
    campaign = hostile_campaign
    previous = b"unit,overall_index\nX1,99.5\nX2,99.0\n"  # this year is lower: negative changes
    with app.app_context(), transaction():
        run = start_run(db.session.get(Campaign, campaign.id), min_n=3, previous_csv=previous)
    with app.app_context():
        files = run.files()
        unit_id = db.session.scalar(db.select(Response.rated_unit_id).limit(1))
    assert "sipas-citizen/microdata.csv" in files and "sipas-citizen/units.csv" in files
    values = {"campaign_id": campaign.id, "run_id": run.id, "unit_id": unit_id}
    checked, negative_numbers = {}, 0
    for role in ("admin", "supervisor"):
        login(role)
        for url in _urls(app, values, files):
            response = client.get(url)
            assert response.status_code < 500, (url, response.status_code)
            if response.status_code != 200:
                continue
            assert response.headers["Cache-Control"] == "no-store", url  # issue 12.10
            name = _filename(response, url)
            cells = _cells(name, response.data)
            if cells is None:
                continue
            assert not _unsafe(cells), (role, url, _unsafe(cells)[:5])
            checked[url] = len(cells)
            negative_numbers += sum(
                1 for c in cells if isinstance(c, str) and c.startswith("-") and NUMBER.match(c)
            )
    downloads = {url.rsplit("/", 1)[-1] for url in checked}
    for expected in ("export.csv", "progress.csv", "response_rates.csv", "lists.xlsx"):
        assert expected in downloads, sorted(checked)
    for expected in ("microdata.csv", "units.csv", "download.zip", "bundle.zip"):
        assert any(url.endswith(expected) for url in checked), sorted(checked)
    assert negative_numbers, "the negative changes since last year should stay numbers"

    written = [
        path
        for path in Path(app.instance_path).rglob("*")
        if path.is_file()
        and path.name.lower().endswith((".csv", ".xlsx", ".csv.gz"))
        and path.name != "previous.csv"  # the upload kept as given, read back by the run
    ]
    assert any(p.name == "microdata.csv" for p in written)
    for path in written:
        assert not _unsafe(_cells(path.name, path.read_bytes())), path


def test_bundle_units_csv_is_safe_and_its_import_restores_the_names(app, hostile_campaign):
    from surveyapp.results import bundle

    campaign = hostile_campaign
    with app.app_context():
        path = Path(app.instance_path) / "bundle.zip"
        bundle.export_bundle(db.session.get(Campaign, campaign.id), path)
    with zipfile.ZipFile(path) as archive:
        units_csv = archive.read("units.csv")
    assert not _unsafe(_cells_of_csv(units_csv))
    names = {unit["code"]: unit["name"] for unit in bundle._units(units_csv)}
    assert names == {"X1": HOSTILE_NAME, "X2": "-UBND xã Hai"}
