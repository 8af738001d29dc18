"""Results: responses → the scoring library's frame, weights, N_h, scoring runs and pages."""

import io
import json
import re
import subprocess
import uuid
import zipfile
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from scoring_bridge import builtin_mappings
from surveyapp.db import transaction
from surveyapp.extensions import db
from surveyapp.models import Campaign, Job, JobStatus
from surveyapp.models.users import Role
from surveyapp.results import operations
from surveyapp.results.runs import get_run, list_runs

WEEK = date(2024, 8, 5)
SIPAS_ITEMS = ["b9", "c1", "c2", "c3", "c4", "d1", "d2", "d3", "d4", "d5", "d6"]
SIPAS_ITEMS += ["e1", "e2", "e3", "e4", "f2", "f3", "f4", "f5", "g1"]


def sipas_answers(rng, good: float, text: str = "") -> dict:
    """Answers to sipas-citizen v2024 (a6=3 makes b9 the access item, f1=1 asks f2-f5)."""
    answers = {"a1": 4, "a3": 3, "a5": 6, "a6": 3, "a7": 1, "f1": 1, "k1": [1, 3]}
    for code in SIPAS_ITEMS:
        answers[code] = int(rng.choice([5, 4, 2, 9], p=[good / 2, good / 2, 1 - good - 0.05, 0.05]))
    if text:
        answers["k2"] = text
    return answers


def response(campaign, unit, rng, *, good=0.8, weight=5.0, stratum=None, walkin=False, **kw):
    from surveyapp.models import Response, ResponseMode

    return Response(
        campaign_id=campaign.id,
        questionnaire_id="sipas-citizen",
        questionnaire_version=kw.pop("questionnaire_version", "2024"),
        rated_unit_id=unit.id,
        respondent_group="citizen",
        stratum=None if walkin else (stratum or f"{unit.code}|citizen"),
        weight=None if walkin else weight,
        mode=ResponseMode.WALKIN if walkin else ResponseMode.WEB,
        is_probability=not walkin,
        submitted_week=WEEK,
        answers=kw.pop("answers", None) or sipas_answers(rng, good, kw.pop("text", "")),
    )


@pytest.fixture
def scored_campaign(factory):
    """Three units, 6/5/2 probability responses and 2 walk-ins at the first unit."""
    rng = np.random.default_rng(20241125)
    units = [factory.unit(code=f"X{n}", name=f"UBND xã Số {n}") for n in (1, 2, 3)]
    campaign = factory.campaign(code="2024", status="fieldwork")
    factory.instrument(campaign)
    rows = [response(campaign, units[0], rng, good=0.9) for _ in range(6)]
    rows += [response(campaign, units[1], rng, good=0.6) for _ in range(5)]
    rows += [response(campaign, units[2], rng) for _ in range(2)]
    rows += [response(campaign, units[0], rng, walkin=True) for _ in range(2)]
    factory.add(*rows)
    return campaign, units


# --- the frame ----------------------------------------------------------------------------------


def test_frame_has_the_library_layout_with_choice_columns(app, factory):
    rng = np.random.default_rng(1)
    unit = factory.unit(code="F1")
    campaign = factory.campaign()
    answers = sipas_answers(rng, 0.8, text="Cần thêm ghế")
    no_k1 = {k: v for k, v in answers.items() if k != "k1"}
    probability = response(campaign, unit, rng, answers=answers, weight=2.5)
    walkin = response(campaign, unit, rng, answers=no_k1, walkin=True)
    factory.add(probability, walkin)
    with app.app_context():
        frame = operations.responses_frame(campaign.id, "sipas-citizen", "2024")
    frame = frame.set_index("response_id")
    row = frame.loc[str(probability.id)]
    assert (row.unit, row.group, row.stratum, row.weight, row["mode"]) == (
        "F1", "citizen", "F1|citizen", 2.5, "web"
    )  # fmt: skip
    assert row.is_probability
    assert [row[f"k1_{c}"] for c in range(1, 7)] == [1, 0, 1, 0, 0, 0]
    assert row.d1 == answers["d1"] and row.k2 == "Cần thêm ghế"
    other = frame.loc[str(walkin.id)]
    assert not other.is_probability and np.isnan(other.weight)
    assert other.stratum == "walkin:F1:citizen"
    assert all(pd.isna(other[f"k1_{c}"]) for c in range(1, 7))  # not answered ≠ not chosen
    # every export variable of the questionnaire is a column, nothing else besides design
    import questionnaires

    names = [v.name for v in questionnaires.load_builtin("sipas-citizen", "2024").variables()]
    assert list(frame.columns) == list(operations.DESIGN_COLUMNS[1:]) + names


def _respondent(draw, unit, *, status, selection="primary", weight=5.0, released=False, **kw):
    from surveyapp.models import Respondent, Selection

    return Respondent(
        draw_id=draw.id,
        campaign_id=draw.campaign_id,
        source_unit_id=unit.id,
        respondent_group="citizen",
        stratum=kw.pop("stratum", f"{unit.code}|citizen"),
        selection=Selection(selection),
        reserve_rank=1 if selection == "reserve" else None,
        inclusion_prob=1 / weight,
        weight=weight,
        status=status,
        released=released,
        full_name="Nguyễn Văn Bí Mật",
        phone="0912345678",
        **kw,
    )


def test_nonresponse_adjustment_population_and_sample_sizes(app, factory):
    """Hand-worked: 10 primaries of weight 5 (N_h = 50): 4 complete, 1 ineligible,
    3 refused, 2 never reached; an unreleased reserve counts nowhere. Eligible base
    weight 45 over respondents' 20 gives the factor 2.25 (weight 11.25 each)."""
    from surveyapp.models import Draw

    rng = np.random.default_rng(2)
    unit = factory.unit(code="W1")
    campaign = factory.campaign()
    draw = factory.add(
        Draw(
            campaign_id=campaign.id,
            design={},
            manifest={"strata": {"stratum": ["W1|citizen", "W9|citizen"], "N_h": [52, 70]}},
        )
    )
    statuses = ["completed"] * 4 + ["ineligible"] + ["refused"] * 3 + ["pending", "noncontact"]
    factory.add(*[_respondent(draw, unit, status=s) for s in statuses])
    factory.add(_respondent(draw, unit, status="pending", selection="reserve"))
    factory.add(*[response(campaign, unit, rng) for _ in range(4)])
    with app.app_context():
        cases = operations.fieldwork_cases(campaign.id)
        factors, dropped = operations.nonresponse_factors(cases)
        assert factors == {("W1|citizen", unit.id): pytest.approx(2.25)} and dropped == []
        frame = operations.responses_frame(
            campaign.id, "sipas-citizen", "2024", weight_factors=factors
        )
        assert frame.weight.tolist() == pytest.approx([11.25] * 4)
        assert frame.weight.sum() == pytest.approx(45.0)  # 50 minus the ineligible's 5
        # N_h from the manifest wins over Σ primary weights (50)
        assert operations.stratum_population(campaign.id, cases)["W1|citizen"] == 52


def test_population_falls_back_to_primary_weights_and_replaced_cases(app, factory):
    from surveyapp.models import Draw

    unit = factory.unit(code="R1")
    campaign = factory.campaign()
    draw = factory.add(Draw(campaign_id=campaign.id, design={}))
    factory.add(
        _respondent(draw, unit, status="completed", weight=4.0),
        _respondent(draw, unit, status="replaced", replaced_status="refused", weight=4.0),
        _respondent(draw, unit, status="completed", selection="reserve", released=True, weight=4),
    )
    with app.app_context():
        cases = operations.fieldwork_cases(campaign.id)
        assert sorted(cases.outcome) == ["nonrespondent", "respondent", "respondent"]
        # release factor 8/12, then eligible 8 over respondents 16/3: factor 1.5 × 2/3 = 1
        factors, _ = operations.nonresponse_factors(cases)
        assert factors[("R1|citizen", unit.id)] == pytest.approx(1.0)
        assert operations.stratum_population(campaign.id, cases) == {"R1|citizen": 8.0}


def test_officials_rating_several_units_get_a_stratum_per_rated_unit(app, factory, tmp_path):
    """4 officials (N_h = 4, a census) each rate 2 units: 8 responses in one source stratum.
    Each rated unit gets its own copy of the stratum with N_h = 4, so the census has no
    sampling variance instead of failing with "8 responses but N_h = 4"."""
    from surveyapp.models import Draw, RespondentTarget

    rng = np.random.default_rng(4)
    source, rated = factory.unit(code="S1"), [factory.unit(code="T1"), factory.unit(code="T2")]
    campaign = factory.campaign()
    draw = factory.add(
        Draw(
            campaign_id=campaign.id,
            design={},
            manifest={"strata": {"stratum": ["S1|o"], "N_h": [4]}},
        )
    )
    people = factory.add(
        *[
            _respondent(draw, source, status="completed", stratum="S1|o", weight=1.0)
            for _ in range(4)
        ]
    )
    factory.add(
        *[
            RespondentTarget(respondent_id=p.id, rated_unit_id=u.id, status="completed")
            for p in people
            for u in rated
        ]
    )
    factory.add(
        *[response(campaign, u, rng, weight=1.0, stratum="S1|o") for u in rated for _ in range(4)]
    )
    with app.app_context():
        inputs = operations.scoring_inputs(db.session.get(Campaign, campaign.id))
        frame = inputs.frames["sipas-citizen"]
        assert sorted(frame.stratum.unique()) == ["S1|o#T1", "S1|o#T2"]
        assert inputs.stratum_population["S1|o#T1"] == 4
        assert frame.weight.tolist() == [1.0] * 8  # every case responded: factor 1
        operations.score_campaign(
            db.session.get(Campaign, campaign.id), tmp_path / "o", mapping="brvt-2024", min_n=3
        )
    indices = pd.read_csv(tmp_path / "o" / "sipas-citizen" / "indices.csv", dtype={"unit": str})
    overall = indices[(indices.level == "overall") & (indices.formula == "satisfaction_rate")]
    assert set(overall.unit) == {"T1", "T2"} and (overall.se.fillna(0) == 0).all()


def test_no_personal_column_reaches_the_frame(app, factory):
    from surveyapp.models import Draw

    rng = np.random.default_rng(3)
    unit = factory.unit(code="P1")
    campaign = factory.campaign()
    draw = factory.add(Draw(campaign_id=campaign.id, design={}))
    factory.add(_respondent(draw, unit, status="completed"), response(campaign, unit, rng))
    with app.app_context():
        frame = operations.scoring_inputs(db.session.get(Campaign, campaign.id)).frames[
            "sipas-citizen"
        ]
    text = frame.to_csv()
    assert "Bí Mật" not in text and "0912345678" not in text


# --- scoring ------------------------------------------------------------------------------------


def test_score_campaign_writes_outputs_and_excludes_walkins(app, scored_campaign, tmp_path):
    campaign, units = scored_campaign
    with app.app_context():
        outcomes = operations.score_campaign(
            db.session.get(Campaign, campaign.id), tmp_path / "out", mapping="brvt-2024", min_n=3
        )
    assert [(o.questionnaire_id, o.responses) for o in outcomes] == [("sipas-citizen", 15)]
    folder = tmp_path / "out" / "sipas-citizen"
    points = pd.read_csv(folder / "points.csv", dtype={"unit": str, "criterion": str})
    criteria = {"8.1", "8.2", "8.3", "8.4", "8.5", "8.6"}  # the mapping's SIPAS criteria
    assert set(points.criterion) == criteria
    assert len(points) == 3 * len(criteria)
    assert points.groupby("unit").size().to_dict() == {"X1": 6, "X2": 6, "X3": 6}
    # X3 has 2 responses < min_n 3: flagged, not scored
    assert set(points[points.unit == "X3"].status) == {"below_min_n"}
    units_table = pd.read_csv(folder / "units.csv", dtype={"unit": str}).set_index("unit")
    assert units_table.loc["X1", "responses"] == 6  # the 2 walk-ins are left out
    assert units_table.loc["X1", "walk_in"] == 2
    settings = json.loads((folder / "points.json").read_text())["settings"]
    assert settings["walk_in_excluded"] == 2 and settings["campaign"] == "2024"
    pdf_text = subprocess.run(
        ["pdftotext", str(folder / "report.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "BÁO CÁO KẾT QUẢ ĐIỀU TRA XÃ HỘI HỌC" in pdf_text
    assert "UBND xã Số 1" in pdf_text  # unit names from the registry


def test_population_correction_with_walkins_included(app, factory, scored_campaign, tmp_path):
    """N_h from the draw for X1 only: X2, X3 and the walk-ins get no correction (N = ∞)."""
    from surveyapp.models import Draw

    campaign, _ = scored_campaign
    factory.add(
        Draw(
            campaign_id=campaign.id,
            design={},
            manifest={"strata": {"stratum": ["X1|citizen"], "N_h": [6]}},
        )
    )
    with app.app_context():
        operations.score_campaign(
            db.session.get(Campaign, campaign.id),
            tmp_path / "out",
            mapping="brvt-2024",
            min_n=3,
            include_walkin=True,
        )
    indices = pd.read_csv(tmp_path / "out" / "sipas-citizen" / "indices.csv", dtype={"unit": str})
    overall = indices[(indices.level == "overall") & (indices.formula == "satisfaction_rate")]
    se = overall.groupby("unit")["se"].first()
    assert se["X2"] > 0  # no correction there
    units = pd.read_csv(tmp_path / "out" / "sipas-citizen" / "units.csv", dtype={"unit": str})
    assert units.set_index("unit").loc["X1", "walk_in"] == 2


def test_walkins_weigh_as_an_average_respondent_of_their_unit():
    frame = pd.DataFrame(
        {
            "unit": ["A", "A", "A", "B", "A"],
            "group": ["citizen", "citizen", "citizen", "citizen", "firm"],
            "weight": [4.0, 6.0, np.nan, np.nan, np.nan],
            "is_probability": [True, True, False, False, False],
        }
    )
    filled = operations.with_walkin_weights(frame)
    assert filled.weight.tolist() == [4.0, 6.0, 5.0, 1.0, 1.0]
    assert np.isnan(frame.weight[2])  # the input is left as it was


def test_every_questionnaire_is_scored_and_one_without_criteria_skipped(
    app, factory, scored_campaign, tmp_path
):
    import yaml

    from scoring_bridge.mapping import BUILTIN_DIRECTORY
    from surveyapp.models import Response, ResponseMode

    campaign, units = scored_campaign
    officials = [
        Response(
            campaign_id=campaign.id,
            questionnaire_id="par-officials",
            questionnaire_version="2024",
            rated_unit_id=unit.id,
            respondent_group="official",
            stratum=f"{unit.code}|official",
            weight=2.0,
            mode=ResponseMode.PAPER,
            is_probability=True,
            submitted_week=WEEK,
            answers={"a1": 1, "b1": 4, "b2": 5, "c1": 3, "l1": [1, 4]},
        )
        for unit in units
        for _ in range(3)
    ]
    factory.add(*officials)
    full = yaml.safe_load((BUILTIN_DIRECTORY / "brvt-2024.yaml").read_text(encoding="utf-8"))
    with app.app_context():
        campaign_row = db.session.get(Campaign, campaign.id)
        both = operations.score_campaign(campaign_row, tmp_path / "a", mapping=full, min_n=3)
        assert [(o.questionnaire_id, o.responses, o.directory is not None) for o in both] == [
            ("par-officials", 9, True),
            ("sipas-citizen", 15, True),
        ]
        citizens_only = {
            **{k: v for k, v in full.items() if k != "total_points"},
            "criteria": [c for c in full["criteria"] if c["questionnaire"] == "sipas-citizen"],
        }
        one = operations.score_campaign(campaign_row, tmp_path / "b", mapping=citizens_only)
    assert one[0].directory is None and "no criteria for questionnaire par-officials" in (
        one[0].skipped_en
    )
    assert (tmp_path / "b" / "sipas-citizen" / "points.csv").is_file()
    assert not (tmp_path / "b" / "par-officials").exists()
    frame = pd.read_csv(tmp_path / "a" / "par-officials" / "microdata.csv")
    assert frame[["l1_1", "l1_2", "l1_4"]].iloc[0].tolist() == [1, 0, 1]


def test_cli_results_score_uses_the_criteria_set_of_the_campaigns_year(app, factory, tmp_path):
    """Without --mapping the command scores with the criteria set the web form proposes."""
    rng = np.random.default_rng(2026)
    unit = factory.unit(code="H1", name="UBND phường Số 1")
    campaign = factory.campaign(code="2026-hcm", period_start=date(2026, 9, 1))
    factory.instrument(campaign, questionnaire_version="2025")
    factory.add(*[response(campaign, unit, rng, questionnaire_version="2025") for _ in range(4)])
    out = tmp_path / "out"
    result = app.test_cli_runner().invoke(
        args=["results", "score", "--campaign", "2026-hcm", "--out", str(out), "--min-n", "3"]
    )
    assert result.exit_code == 0, result.output
    points = json.loads((out / "sipas-citizen" / "points.json").read_text(encoding="utf-8"))
    assert points["mapping"]["id"] == "hcm-2026"
    with app.app_context():
        assert operations.default_mapping(db.session.get(Campaign, campaign.id)) == "hcm-2026"
    assert operations.default_mapping(None) == builtin_mappings()[0]


def test_cli_results_score(app, scored_campaign, tmp_path):
    out = tmp_path / "cli-out"
    result = app.test_cli_runner().invoke(
        args=["results", "score", "--campaign", "2024", "--out", str(out), "--min-n", "3"]
    )
    assert result.exit_code == 0, result.output
    assert (out / "sipas-citizen" / "points.xlsx").is_file()
    missing = app.test_cli_runner().invoke(
        args=["results", "score", "--campaign", "NOPE", "--out", str(tmp_path / "x")]
    )
    assert missing.exit_code == 1 and "No campaign with code NOPE" in missing.output


# --- web: running, progress, downloads ----------------------------------------------------------


def _start(client, campaign, **data):
    form = {"mapping": "brvt-2024", "min_n": "3", "k": "5", **data}
    return client.post(f"/results/{campaign.id}/run", data=form, content_type="multipart/form-data")


def test_admin_runs_scoring_and_downloads(app, client, login, scored_campaign):
    campaign, _ = scored_campaign
    login(Role.ADMIN)
    started = _start(client, campaign)
    assert started.status_code == 302
    with app.app_context():
        (run,) = list_runs(campaign.id)
        assert run.job().status == JobStatus.DONE, run.job().message
    page = client.get(started.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "UBND xã Số 1" in html
    assert 'http-equiv="refresh"' not in html  # finished: no more refreshing
    single = client.get(f"/results/{campaign.id}/runs/{run.id}/files/sipas-citizen/points.csv")
    assert single.status_code == 200 and b"criterion" in single.data
    archive = zipfile.ZipFile(
        io.BytesIO(client.get(f"/results/{campaign.id}/runs/{run.id}/download.zip").data)
    )
    assert "sipas-citizen/report.pdf" in archive.namelist()
    assert "sipas-citizen/microdata.sav" in archive.namelist()
    outside = client.get(f"/results/{campaign.id}/runs/{run.id}/files/sipas-citizen/../run.json")
    assert outside.status_code == 404
    # The campaigns list shows the latest run's time as staff read times, not ISO text.
    listing = client.get("/results/").get_data(as_text=True)
    assert run.meta["created_at"] not in listing
    assert re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d \(UTC\+7\)", listing)


def test_results_page_ranks_only_units_with_enough_responses(app, client, login, scored_campaign):
    campaign, _ = scored_campaign
    login(Role.ADMIN)
    page = client.get(_start(client, campaign).headers["Location"]).get_data(as_text=True)
    rows = re.findall(
        r'<tr( class="small-cell")? data-status="[a-z_]+">\s*<td>([^<(]*?)(?: \(\d+–\d+\))?</td>'
        r"\s*<td>[^<]*</td>\s*<td>(X\d)",
        page,
    )
    with app.app_context():
        (run,) = list_runs(campaign.id)
        units = pd.read_csv(run.outputs / "sipas-citizen" / "units.csv", dtype={"unit": str})
    enough = units[units.n_respondents >= 3].sort_values("overall_index", ascending=False)
    assert sorted(enough.unit) == ["X1", "X2"]
    # X3 (2 responses < min_n 3) is flagged, unranked and last, in the file and on the page
    assert units.unit.tolist()[-1] == "X3" and pd.isna(units["rank"].iloc[-1])
    assert rows == [
        ("", "1", enough.unit.iloc[0]),
        ("", "2", enough.unit.iloc[1]),
        (' class="small-cell"', "Chưa đủ số phiếu tối thiểu", "X3"),
    ]
    # The ranking is headed by the questionnaire's title, not its code.
    title = "Phiếu khảo sát sự hài lòng của người dân, tổ chức"
    assert re.search(rf"Xếp hạng theo chỉ số chung — {title}[^<]*</h2>", page)
    assert "— sipas-citizen" not in page
    # Points in Vietnamese figures (decimal comma), like the indices beside them.
    total = units.set_index("unit").loc[enough.unit.iloc[0], "points_total"]
    assert f"{total:.2f}".replace(".", ",") + " / " in page
    assert f"{total:.2f} / " not in page


def test_every_sampled_unit_is_in_every_result_with_its_status_and_the_dashboards_rates(
    app, client, login, factory, scored_campaign, pdfcheck
):
    """X1–X3 answered (6/5/2); X4 was sampled (5 people) and nobody answered. The
    Department's import file, units.csv, the report and the page all list X4 as "no
    responses", and the response rates are the dashboard's, per unit and group."""
    from surveyapp.dashboard.figures import response_rates
    from surveyapp.models import Draw

    campaign, units = scored_campaign
    silent = factory.unit(code="X4", name="UBND xã Số 4")
    draw = factory.add(Draw(campaign_id=campaign.id, design={}))
    plan = {
        units[0]: ["completed"] * 6 + ["refused"] * 2,
        units[1]: ["completed"] * 5 + ["noncontact"] * 3,
        units[2]: ["completed"] * 2 + ["pending"] * 4,
        silent: ["refused"] * 2 + ["pending"] * 3,
    }
    factory.add(*[_respondent(draw, u, status=s) for u, statuses in plan.items() for s in statuses])
    login(Role.ADMIN)
    page = client.get(_start(client, campaign).headers["Location"]).get_data(as_text=True)
    with app.app_context():
        (run,) = list_runs(campaign.id)
        out = run.outputs / "sipas-citizen"
        dashboard = response_rates(campaign.id).frame()
    units_csv = pd.read_csv(out / "units.csv", dtype={"unit": str}).set_index("unit")
    assert units_csv.at["X4", "status"] == "no_responses" and pd.isna(units_csv.at["X4", "rank"])
    assert units_csv.at["X4", "rr1"] == 0.0
    points = pd.read_excel(out / "points.xlsx", sheet_name="points", engine="calamine")
    assert set(points.unit.astype(str)) == {"X1", "X2", "X3", "X4"}
    assert (points[points.unit.astype(str) == "X4"].status == "no_responses").all()
    document = json.loads((out / "points.json").read_text(encoding="utf-8"))
    assert {u["unit"]: u["status"] for u in document["units"]}["X4"] == "no_responses"
    report = " ".join(pdfcheck.text(out / "report.pdf").split())
    assert "UBND xã Số 4" in report and "không có phiếu trả lời" in report
    assert "BÁO CÁO KẾT QUẢ ĐIỀU TRA XÃ HỘI HỌC NĂM" in report
    # the page: X4 with its status, and which file the Department imports
    assert re.search(r'data-status="no_responses">\s*<td>Không có phiếu trả lời</td>', page)
    assert "UBND xã Số 4" in page and "sipas-citizen/points.xlsx" in page
    # the same response rates everywhere: RR1 of X1 = 6/8, of X3 = 2/6
    rates = pd.read_csv(out / "response_rates.csv", dtype={"unit": str})
    rates["group"] = rates["group"].fillna("")  # the unit's total
    merged = rates.merge(dashboard, on=["unit", "group"], suffixes=("", "_dashboard"))
    assert len(merged) == len(dashboard) == 8  # 4 units × (citizen + the unit's total)
    np.testing.assert_allclose(merged.rr1, merged.rr1_dashboard)
    np.testing.assert_allclose(merged.rr3, merged.rr3_dashboard)
    x1 = rates[(rates.unit == "X1") & (rates.group == "citizen")].iloc[0]
    assert x1.rr1 == pytest.approx(6 / 8) and x1.sampled == 8
    assert units_csv.at["X3", "rr1"] == pytest.approx(2 / 6)
    dashboard_page = client.get(f"/dashboard/{campaign.id}").get_data(as_text=True)
    assert "75,0%" in dashboard_page and "33,3%" in dashboard_page


def test_supervisor_gets_only_microdata_and_other_roles_nothing(
    app, client, login, factory, scored_campaign
):
    campaign, _ = scored_campaign
    login(Role.ADMIN)
    _start(client, campaign)
    with app.app_context():
        (run,) = list_runs(campaign.id)
    base = f"/results/{campaign.id}/runs/{run.id}"
    login(Role.SUPERVISOR)
    assert client.get(f"{base}/files/sipas-citizen/microdata.sav").status_code == 200
    assert client.get(f"{base}/files/sipas-citizen/codebook.pdf").status_code == 200
    assert client.get(f"{base}/files/sipas-citizen/points.csv").status_code == 404
    assert client.get(f"{base}/files/sipas-citizen/report.pdf").status_code == 404
    names = zipfile.ZipFile(io.BytesIO(client.get(f"{base}/download.zip").data)).namelist()
    assert names and all(n.rsplit("/", 1)[1].startswith(("microdata", "codebook")) for n in names)
    page = client.get(base).get_data(as_text=True)
    assert "UBND xã Số 1" not in page  # no ranking for the contractor
    assert _start(client, campaign).status_code == 403
    for role in (Role.FOCAL_POINT, Role.ENUMERATOR, Role.CLERK):
        login(role)
        assert client.get(f"{base}/files/sipas-citizen/microdata.csv").status_code == 403


def test_bad_uploaded_mapping_is_reported_per_key(app, client, login, scored_campaign):
    campaign, _ = scored_campaign
    login(Role.ADMIN)
    bad = (
        b"id: bad\nname: {vi: X, en: X}\ncriteria:\n"
        b"  - {code: '1', name: {vi: A, en: A}, questionnaire: sipas-citizen, max_points: 1,"
        b" source: {element: E9}}\n"
        b"  - {code: '2', name: {vi: B, en: B}, questionnaire: sipas-citizen, max_points: -1,"
        b" source: {item: g1}}\n"
    )
    answer = _start(client, campaign, mapping="upload", mapping_file=(io.BytesIO(bad), "m.yaml"))
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "criteria[0].source" in html and "criteria[1].max_points" in html
    assert "E9" in html
    with app.app_context():
        assert list_runs(campaign.id) == [] and db.session.scalar(sa.select(Job.id)) is None


def test_uploaded_mapping_is_used(app, client, login, scored_campaign):
    from scoring_bridge.mapping import BUILTIN_DIRECTORY

    campaign, _ = scored_campaign
    text = (BUILTIN_DIRECTORY / "brvt-2024.yaml").read_text(encoding="utf-8")
    text = text.replace("id: brvt-2024", "id: province-own").replace(
        "min_responses: 30", "min_responses: 5"
    )
    login(Role.ADMIN)
    answer = _start(
        client,
        campaign,
        mapping="upload",
        min_n="",
        mapping_file=(io.BytesIO(text.encode()), "m.yaml"),
    )
    assert answer.status_code == 302
    with app.app_context():
        (run,) = list_runs(campaign.id)
        assert run.meta["mapping"] == "uploaded" and run.input_path("mapping.yaml").is_file()
        document = json.loads((run.outputs / "sipas-citizen" / "points.json").read_text())
    assert document["mapping"]["id"] == "province-own" and document["settings"]["min_n"] == 5


def test_previous_year_file_is_compared_and_checked(app, client, login, scored_campaign):
    campaign, _ = scored_campaign
    login(Role.ADMIN)
    previous = b"unit,overall_index\nX1,70.5\nX2,81\n"
    _start(client, campaign, previous_file=(io.BytesIO(previous), "units.csv"))
    with app.app_context():
        (run,) = list_runs(campaign.id)
        units = pd.read_csv(run.outputs / "sipas-citizen" / "units.csv", dtype={"unit": str})
    before = units.set_index("unit")["previous_overall_index"]
    assert before["X1"] == 70.5 and before["X2"] == 81 and np.isnan(before["X3"])
    bad = "unit,overall_index\nX1,70.5\nX2,tốt\n".encode()
    answer = _start(client, campaign, previous_file=(io.BytesIO(bad), "units.csv"))
    assert answer.status_code == 422
    assert "Dòng 3, cột overall_index: &#39;tốt&#39; không phải số" in answer.get_data(as_text=True)
    with app.app_context():
        assert len(list_runs(campaign.id)) == 1


def test_failed_run_shows_the_error(app, client, login, factory):
    campaign = factory.campaign(code="EMPTY")
    login(Role.ADMIN)
    started = _start(client, campaign)
    html = client.get(started.headers["Location"]).get_data(as_text=True)
    assert "has no responses yet" in html or "chưa có phiếu" in html


def test_run_page_refreshes_while_queued(app, client, login, scored_campaign):
    campaign, _ = scored_campaign
    user = login(Role.ADMIN)
    with app.app_context(), transaction():
        from surveyapp.results.runs import new_run

        run = new_run(db.session.get(Campaign, campaign.id), {"mapping": "brvt-2024"}, user.id)
        job = Job(kind="results", created_by=user.id)
        db.session.add(job)
        db.session.flush()
        run.record.job_id = job.id
    html = client.get(f"/results/{campaign.id}/runs/{run.id}").get_data(as_text=True)
    assert 'http-equiv="refresh"' in html
    with app.app_context():
        assert get_run(campaign.id, uuid.uuid4()) is None


def test_a_run_started_on_one_host_is_listed_shown_and_downloaded_on_another(
    app, client, login, scored_campaign, tmp_path
):
    """Two application instances on one database and one storage location, as two hosts:
    each has its own instance folder; runs are records, their files in the storage."""
    from surveyapp.app import create_app

    campaign, _ = scored_campaign
    storage_dir = tmp_path / "shared-storage"
    app.config["STORAGE_DIR"] = str(storage_dir)
    other = create_app({**{k: app.config[k] for k in BASE_KEYS}, "STORAGE_DIR": str(storage_dir)})
    other.instance_path = str(tmp_path / "other-host")
    login(Role.ADMIN)
    started = _start(client, campaign)
    run_path = started.headers["Location"]
    with client.session_transaction() as session:
        signed_in = dict(session)
    second = other.test_client()
    with second.session_transaction() as session:
        session.update(signed_in)

    listing = second.get(f"/results/{campaign.id}").get_data(as_text=True)
    assert run_path in listing
    page = second.get(run_path).get_data(as_text=True)
    assert "UBND xã Số 1" in page and "sipas-citizen/points.xlsx" in page
    single = second.get(f"{run_path}/files/sipas-citizen/points.csv")
    assert single.status_code == 200
    assert single.data == client.get(f"{run_path}/files/sipas-citizen/points.csv").data
    archive = zipfile.ZipFile(io.BytesIO(second.get(f"{run_path}/download.zip").data))
    assert "sipas-citizen/report.pdf" in archive.namelist()
    # Nothing of the run lies in either host's instance folder, and no run.json anywhere.
    for folder in (app.instance_path, other.instance_path, storage_dir):
        assert not list(Path(folder).rglob("run.json"))
    assert not list(Path(app.instance_path).rglob("points.csv"))
    assert list(storage_dir.rglob("points.csv"))
    with other.app_context():
        db.engine.dispose()


BASE_KEYS = ("TESTING", "SECRET_KEY", "WTF_CSRF_ENABLED", "REDIS_URL", "SQLALCHEMY_DATABASE_URI")
BASE_KEYS += ("ARGON2_TIME_COST", "ARGON2_MEMORY_COST", "ARGON2_PARALLELISM", "BALLOT_BOX_SIZE")


def test_runs_kept_as_folders_before_the_migration_are_imported(tmp_path):
    """A deployment upgraded from run.json folders keeps its runs (listed, downloadable)."""
    from flask_migrate import upgrade

    from surveyapp.app import create_app
    from surveyapp.models import ScoringRun, StoredFile

    uri = f"sqlite:///{tmp_path / 'upgrade.sqlite'}"
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": uri})
    app.instance_path = str(tmp_path / "instance")
    run_id = uuid.uuid4()
    with app.app_context():
        for parent in _parents_of(MIGRATION):  # the schema before scoring runs were records
            upgrade(revision=parent)
        db.session.execute(sa.text("INSERT INTO campaigns (id, code, name, status, created_at)"
                                   " VALUES (7, '2024', 'Đợt 2024', 'closed', '2024-11-01')"))  # fmt: skip
        db.session.commit()
        folder = Path(app.instance_path) / "results" / "campaign-7" / str(run_id)
        (folder / "outputs" / "sipas-citizen").mkdir(parents=True)
        (folder / "outputs" / ".sipas-officials-partial").mkdir()
        (folder / "outputs" / "sipas-citizen" / "units.csv").write_text("unit\nX1\n")
        (folder / "mapping.yaml").write_text("criteria: []\n")
        meta = {"run_id": str(run_id), "campaign_id": 7, "campaign_code": "2024",
                "created_at": "2024-11-20T03:00:00", "created_by": None, "mapping": "uploaded",
                "min_n": 3, "job_id": str(uuid.uuid4())}  # fmt: skip
        (folder / "run.json").write_text(json.dumps(meta))
        upgrade()
        record = db.session.get(ScoringRun, run_id)
        assert record.settings == {"mapping": "uploaded", "min_n": 3} and record.job_id is None
        files = {f.name: f.kind for f in db.session.scalars(sa.select(StoredFile))}
        assert files == {"sipas-citizen/units.csv": "output", "mapping.yaml": "input"}
        (run,) = list_runs(7)
        assert run.files() == ["sipas-citizen/units.csv"]
        assert run.file_path("sipas-citizen/units.csv").read_text() == "unit\nX1\n"
        db.engine.dispose()


MIGRATION = "d7e3a1b5c9f2"  # scoring runs and stored files


def _parents_of(revision: str) -> tuple[str, ...]:
    from alembic.script import ScriptDirectory
    from flask import current_app

    script = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
    parents = script.get_revision(revision).down_revision
    return parents if isinstance(parents, tuple) else (parents,)


def test_a_failed_run_is_run_again_from_its_page(app, client, login, factory):
    """The scoring failed (no answers yet); once the answers are in, «Run again» on the
    run's page scores the same run (administrator only)."""
    rng = np.random.default_rng(7)
    unit = factory.unit(code="X1", name="UBND xã Số 1")
    campaign = factory.campaign(code="2024", status="fieldwork")
    factory.instrument(campaign)
    login(Role.ADMIN)
    run_path = _start(client, campaign).headers["Location"]
    page = client.get(run_path).get_data(as_text=True)
    assert "Chạy lại" in page and f"{run_path}/retry" in page
    factory.add(*[response(campaign, unit, rng) for _ in range(4)])
    login(Role.SUPERVISOR)
    assert client.post(f"{run_path}/retry").status_code == 403
    login(Role.ADMIN)
    assert client.post(f"{run_path}/retry").headers["Location"].endswith(run_path)
    page = client.get(run_path).get_data(as_text=True)
    assert "Chạy lại" not in page and "UBND xã Số 1" in page
    with app.app_context():
        (run,) = list_runs(campaign.id)
        assert run.job().status is JobStatus.DONE and run.job().attempts == 2
        assert "sipas-citizen/points.xlsx" in run.files()


# --- raking to known totals from the web form (issue 14.7) ---------------------------------------


def test_totals_uploaded_on_the_web_rake_the_weights_as_the_command_line_does(
    app, client, login, scored_campaign, tmp_path
):
    from surveyapp.models import Response

    campaign, _ = scored_campaign
    with app.app_context():
        seen: dict[int, int] = {}
        for row in db.session.scalars(sa.select(Response).where(Response.is_probability)):
            # every unit has individuals (1) and organisations (2)
            seen[row.rated_unit_id] = seen.get(row.rated_unit_id, 0) + 1
            row.answers = {**row.answers, "a7": 1 + seen[row.rated_unit_id] % 2}
        db.session.commit()
    totals = tmp_path / "totals.csv"
    totals.write_text(
        "unit,variable,category,total\nX1,a7,1,300\nX1,a7,2,100\nX2,a7,1,50\nX2,a7,2,150\n"
        "X3,a7,1,20\nX3,a7,2,80\n",
        encoding="utf-8",
    )
    login(Role.ADMIN)
    assert _start(client, campaign).status_code == 302
    started = _start(client, campaign, totals_file=(io.BytesIO(totals.read_bytes()), "tổng.csv"))
    assert started.status_code == 302
    out = tmp_path / "cli"
    args = ["results", "score", "--campaign", "2024", "--out", str(out), "--mapping", "brvt-2024"]
    args += ["--min-n", "3", "--k", "5", "--totals", str(totals)]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    with app.app_context():
        runs = list_runs(campaign.id)
        (raked,) = [run for run in runs if run.meta["raking"]]
        (plain,) = [run for run in runs if run is not raked]
        assert raked.job().status == JobStatus.DONE, raked.job().message
        assert raked.meta["raking"] == ["a7"]
        assert raked.input_path("totals.csv").is_file() and plain.input_path("totals.csv") is None
        web = pd.read_csv(raked.outputs / "sipas-citizen" / "indices.csv", dtype={"unit": str})
        before = pd.read_csv(plain.outputs / "sipas-citizen" / "indices.csv", dtype={"unit": str})
        report = json.loads((raked.outputs / "sipas-citizen" / "points.json").read_text())
    cli = pd.read_csv(out / "sipas-citizen" / "indices.csv", dtype={"unit": str})
    pd.testing.assert_frame_equal(web, cli)
    assert not web.equals(before)  # the totals changed the figures
    assert report["settings"]["raking"] == ["a7"]
    page = client.get(started.headers["Location"]).get_data(as_text=True)
    assert "Trọng số đã được điều chỉnh theo tổng số đã biết của Sở (raking) theo: a7" in page


def test_a_bad_totals_file_names_its_rows_and_starts_no_run(app, client, login, scored_campaign):
    campaign, _ = scored_campaign
    login(Role.ADMIN)
    bad = b"unit,variable,category,total\nX1,a7,1,300\nX1,a7,2,-5\nX2,a7,1,abc\n"
    answer = _start(client, campaign, totals_file=(io.BytesIO(bad), "totals.csv"))
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "Tệp tổng số đã biết có lỗi; chưa tính điểm." in html
    assert "row 3: &#39;-5&#39;; row 4: &#39;abc&#39;" in html and "dòng 3: &#39;-5&#39;" in html
    assert "Column total must hold positive numbers" in html
    no_column = b"unit,variable,total\nX1,a7,300\n"
    answer = _start(client, campaign, totals_file=(io.BytesIO(no_column), "totals.csv"))
    assert answer.status_code == 422 and "category" in answer.get_data(as_text=True)
    with app.app_context():
        assert list_runs(campaign.id) == [] and db.session.scalar(sa.select(Job.id)) is None
