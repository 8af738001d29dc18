"""The report PDF, the outputs directory and ``surveyapp score``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from scoring_bridge.errors import OutputError
from scoring_bridge.outputs import write_outputs
from scoring_bridge.report import HEADINGS, TITLE
from scoring_bridge.scoring import score
from scoring_bridge.spec import load_spec
from surveyapp.cli import cli


def _fonts(reader: PdfReader) -> dict[str, bool]:
    """Font name → embedded, for every font any page uses."""
    found = {}
    for page in reader.pages:
        fonts = page["/Resources"].get("/Font", {})
        for font in fonts.values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor else {}
            embedded = any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
            found[str(font["/BaseFont"])] = embedded
    return found


def _run(citizen_responses, tmp_path, *extra):
    responses = tmp_path / "responses.csv"
    citizen_responses.to_csv(responses, index=False)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        [
            "score",
            str(responses),
            "--questionnaire",
            "sipas-citizen",
            "--mapping",
            "brvt-2024",
            "--out",
            str(out),
            "--min-n",
            "10",
            *extra,
        ],
    )
    return result, out


def test_cli_writes_every_output_and_a_vietnamese_report(citizen_responses, tmp_path):
    previous = tmp_path / "previous.csv"
    pd.DataFrame({"unit": ["U1", "U2"], "overall_index": [70.0, 75.5]}).to_csv(
        previous, index=False
    )
    units = tmp_path / "units.csv"
    pd.DataFrame(
        {
            "unit": ["U1", "U2", "U3", "U4", "U5"],
            "name": [
                "Sở Tư pháp",
                "UBND xã Long Hải",
                "UBND xã Phước Hưng",
                "Sở Y tế",
                "UBND xã Trống",
            ],
            "sampled": [150] * 5,
        }
    ).to_csv(units, index=False)
    result, out = _run(
        citizen_responses, tmp_path, "--previous", str(previous), "--units", str(units)
    )
    assert result.exit_code == 0, result.output
    assert "Wrote 16 files" in result.output
    assert "6 không có phiếu / no responses" in result.output
    sheets = pd.ExcelFile(out / "report.xlsx", engine="calamine").sheet_names
    assert sheets[:3] == ["Xếp hạng", "Yếu tố", "Điểm tiêu chí"] and "Phương pháp" in sheets
    names = {p.name for p in out.iterdir()}
    assert {
        "points.csv",
        "points.xlsx",
        "points.json",
        "report.pdf",
        "report.xlsx",
        "microdata.sav",
        "codebook.pdf",
        "indices.csv",
        "published_tables.xlsx",
    } <= names
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.partial")]
    # Tables people publish have Vietnamese titles; the machine files keep their names.
    published = pd.read_excel(out / "published_tables.xlsx", sheet_name=None, engine="calamine")
    assert list(published) == ["Số người trả lời", "Chỉ số hài lòng chung (%)"]
    assert all(table.columns[0] == "Mã đơn vị" for table in published.values())

    points = pd.read_csv(out / "points.csv", dtype={"criterion": str, "unit": str})
    assert list(points.columns[:10]) == [
        "unit",
        "criterion",
        "points",
        "max_points",
        "index",
        "n",
        "ci_low",
        "ci_high",
        "status",
        "flags",
    ]
    u4 = points[(points.unit == "U4") & (points.criterion == "8.2")].iloc[0]
    assert u4.status == "not_applicable" and np.isnan(u4.points)  # U4 handles no procedures
    u5 = points[points.unit == "U5"]  # listed, but nobody answered: missing, not "n/a"
    assert len(u5) == 6 and (u5.status == "no_responses").all()
    document = json.loads((out / "points.json").read_text(encoding="utf-8"))
    assert document["questionnaire"] == "sipas-citizen"
    assert {u["unit"] for u in document["units"]} == {"U1", "U2", "U3", "U4", "U5"}
    by_unit = {u["unit"]: u for u in document["units"]}
    assert by_unit["U5"]["status"] == "no_responses" and by_unit["U5"]["rank"] is None
    units_csv = pd.read_csv(out / "units.csv", dtype={"unit": str}).set_index("unit")
    assert units_csv.at["U5", "status"] == "no_responses"
    # RR1 = completed / sampled when only the cases released are known
    probability = citizen_responses.is_probability.astype(bool)  # walk-ins are not cases
    answered = citizen_responses[(citizen_responses.unit == "U1") & probability].shape[0]
    assert units_csv.at["U1", "rr1"] == pytest.approx(answered / 150)
    assert units_csv.at["U5", "rr1"] == 0.0
    rates = pd.read_csv(out / "response_rates.csv", dtype={"unit": str}).set_index("unit")
    assert rates.at["U1", "rr1"] == pytest.approx(units_csv.at["U1", "rr1"])

    reader = PdfReader(out / "report.pdf")
    text = "\n".join(page.extract_text() for page in reader.pages)
    for heading in (TITLE, *HEADINGS.values()):
        assert heading in text
    words = " ".join(text.split())  # table cells wrap
    assert "UBND xã Phước Hưng" in words and "Năm trước" in words and "Sở Tư pháp" in words
    # The forms came from the four units that answered, of the five in the sample.
    assert "phiếu của 4 cơ quan, đơn vị" in words and "Trong 5 đơn vị của mẫu" in words
    fonts = _fonts(reader)
    assert fonts and all(fonts.values()), fonts
    assert all("DejaVu" in name for name in fonts)


def test_cli_reports_bad_input_without_traceback(citizen_responses, tmp_path):
    broken = citizen_responses.copy()
    broken.loc[5, "d2"] = 6
    result, out = _run(broken, tmp_path)
    assert result.exit_code == 1
    assert "Column 'd2'" in result.output and "row 7" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_cli_lists_every_bad_cell_of_the_responses_file(citizen_responses, tmp_path):
    broken = citizen_responses.copy()
    broken.loc[5, "d2"] = 6
    broken.loc[9, "d2"] = 7
    broken.loc[12, "b1"] = 0
    result, out = _run(broken, tmp_path)
    assert result.exit_code == 1 and "Traceback" not in result.output
    for row, column, value in ((7, "d2", 6), (11, "d2", 7), (14, "b1", 0)):
        assert f"row {row}, cột/column '{column}'" in result.output
        assert f": '{value}" in result.output  # as the CSV has it (6 or 6.0)
    assert "3 problem(s)" in result.output
    assert not out.exists()


def test_cli_rejects_a_mapping_with_unknown_element(citizen_responses, tmp_path):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "id: x\nname: X\ncriteria:\n  - {code: '1', name: A, max_points: 1, source: {element: E9}}\n",
        encoding="utf-8",
    )
    responses = tmp_path / "r.csv"
    citizen_responses.to_csv(responses, index=False)
    result = CliRunner().invoke(
        cli,
        [
            "score",
            str(responses),
            "--questionnaire",
            "sipas-citizen",
            "--mapping",
            str(mapping),
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 1
    assert "criteria[0].source" in result.output and "E9" in result.output


def test_outputs_are_all_or_nothing(citizen_spec, citizen_responses, tmp_path, monkeypatch):
    result = score(citizen_responses, citizen_spec, "brvt-2024", min_n=10)
    target = tmp_path / "out"
    target.mkdir()
    (target / "old.txt").write_text("keep")
    with pytest.raises(OutputError):
        write_outputs(result, target)  # not empty and no overwrite
    import scoring_bridge.outputs as outputs

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(outputs, "write_report_pdf", fail)
    with pytest.raises(OutputError, match="disk full"):
        write_outputs(result, target, overwrite=True)
    assert [p.name for p in target.iterdir()] == ["old.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no partial directory left


def test_officials_mapping_scores_item_sets_and_bands():
    spec = load_spec("par-officials")
    rng = np.random.default_rng(5)
    rows = 240
    unit = rng.choice(["S1", "S2"], rows)
    group = rng.choice(["leader", "civil_servant"], rows)
    frame = pd.DataFrame(
        {
            "response_id": range(rows),
            "unit": unit,
            "group": group,
            "stratum": [f"{u}{g}" for u, g in zip(unit, group, strict=True)],
            "weight": 3.0,
        }
    )
    for item in spec.items:
        frame[item.code] = rng.choice([2, 3, 4, 5, 9], rows, p=[0.1, 0.15, 0.4, 0.3, 0.05])
    import questionnaires

    # the app can pass the questionnaire model itself
    result = score(frame, questionnaires.load_builtin("par-officials"), "brvt-2024", min_n=10)
    table = result.points.set_index(["unit", "criterion"])
    assert len(result.criteria) == 7
    item_set = table.loc[("S1", "9.4")]
    indices = result.indices
    s1 = indices[
        (indices.unit == "S1")
        & (indices.groups == "civil_servant+leader")
        & (indices.formula == "satisfaction_rate")
        & (indices.level == "item")
    ]
    expected = s1.set_index("code").loc[
        ["e1", "e2", "e3", "f1", "f2", "f3", "f4", "f5"], "estimate"
    ]
    assert item_set["index"] == pytest.approx(expected.mean())
    overall = table.loc[("S2", "9.7")]
    band = (
        2.0
        if overall["index"] >= 90
        else 1.5
        if overall["index"] >= 80
        else 1.0
        if overall["index"] >= 70
        else 0.5
        if overall["index"] >= 50
        else 0.0
    )
    assert overall.points == band


def test_cli_strata_sizes_and_walk_ins(citizen_responses, tmp_path):
    strata = tmp_path / "strata.csv"
    sizes = citizen_responses.groupby("stratum").size() * 3
    pd.DataFrame({"stratum": sizes.index, "population": sizes.to_numpy()}).to_csv(
        strata, index=False
    )
    result, out = _run(citizen_responses, tmp_path, "--strata", str(strata), "--include-walkin")
    assert result.exit_code == 0, result.output
    settings = json.loads((out / "points.json").read_text(encoding="utf-8"))["settings"]
    assert settings["finite_population_correction"] is True
    assert settings["include_nonprobability"] is True
    assert settings["responses_used"] == len(citizen_responses)
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"stratum": ["U1-individual"], "population": ["nhiều"]}).to_csv(bad, index=False)
    result = CliRunner().invoke(
        cli,
        [
            "score",
            str(tmp_path / "responses.csv"),
            "--questionnaire",
            "sipas-citizen",
            "--mapping",
            "brvt-2024",
            "--out",
            str(tmp_path / "o2"),
            "--strata",
            str(bad),
        ],
    )
    assert result.exit_code == 1 and "row 2, column population" in result.output


def test_report_title_names_the_campaigns_year_and_criteria_set(citizen_responses, tmp_path):
    from scoring_bridge.report import report_title, write_report_pdf

    result = score(citizen_responses, load_spec("sipas-citizen"), "brvt-2024", min_n=10)
    assert report_title(result) == f"{TITLE} NĂM 2024"  # the mapping's year by default
    result.settings.update(year=2025, campaign_name="Khảo sát CCHC năm 2025 – TP. Hồ Chí Minh")
    write_report_pdf(result, tmp_path / "report.pdf")
    first = " ".join(PdfReader(tmp_path / "report.pdf").pages[0].extract_text().split())
    assert f"{TITLE} NĂM 2025" in first and "NĂM 2024" not in first
    assert "Khảo sát CCHC năm 2025 – TP. Hồ Chí Minh" in first
    assert (
        "bộ tiêu chí: Bộ tiêu chí điều tra xã hội học - Chỉ số CCHC năm 2024 (brvt-2024)" in first
    )


def test_report_names_groups_and_the_questionnaire_not_their_codes(citizen_responses, tmp_path):
    from scoring_bridge.report import write_report_pdf

    result = score(citizen_responses, load_spec("sipas-citizen"), "brvt-2024", min_n=10)
    assert result.settings["groups"] == ["individual", "organisation"]
    write_report_pdf(result, tmp_path / "report.pdf")
    pages = PdfReader(tmp_path / "report.pdf").pages
    first = " ".join(pages[0].extract_text().split())
    # A usual group by its name; a campaign's own code (here "individual") as it is.
    assert "nhóm đối tượng: individual, Tổ chức;" in first
    assert "organisation" not in first
    # The footer names the questionnaire by its title (cut to the line), not its id.
    assert "– Phiếu khảo sát sự hài lòng" in first
    assert "– sipas-citizen" not in " ".join(page.extract_text() for page in pages)


def test_methods_document_in_both_languages_is_what_the_annex_refers_to(
    citizen_responses, tmp_path
):
    from pathlib import Path

    import scoring_bridge
    from scoring_bridge.report import METHODS_DOCUMENT, write_report_pdf

    document = Path(scoring_bridge.__file__).parents[1] / METHODS_DOCUMENT
    text = document.read_text(encoding="utf-8")
    vietnamese, english = text.split("## English")
    for heading in (
        "Chỉ số",
        "Sai số chuẩn",
        "Tầng chỉ có một người",
        "Hệ số thiết kế",
        "Khoảng tin cậy",
        "Điểm tiêu chí",
        "Xếp hạng",
        "Tỷ lệ trả lời",
    ):
        assert f"{heading}" in vietnamese, heading
    for heading in (
        "Indices",
        "Standard errors",
        "single respondent",
        "Design effects",
        "confidence intervals",
        "Criterion points",
        "Ranks",
        "Response rates",
        "Degrees of freedom",
        "replicate weights",
    ):
        assert heading in english, heading
    result = score(citizen_responses, load_spec("sipas-citizen"), "brvt-2024", min_n=10)
    write_report_pdf(result, tmp_path / "report.pdf")
    reader = PdfReader(tmp_path / "report.pdf")
    annex = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    annex = annex[annex.index("Phụ lục: Phương pháp tính") :]
    assert METHODS_DOCUMENT in annex
    assert "Korn–Graubard" in annex and "gộp với tầng tương tự nhất" in annex


def test_cli_rakes_to_known_totals_and_names_bad_ones(citizen_responses, tmp_path):
    totals = tmp_path / "totals.csv"
    rows = [
        (u, "group", g, 100.0 if g == "individual" else 25.0)
        for u in ("U1", "U2", "U3", "U4")
        for g in ("individual", "organisation")
    ]
    pd.DataFrame(rows, columns=["unit", "variable", "category", "total"]).to_csv(
        totals, index=False
    )
    result, out = _run(citizen_responses, tmp_path, "--totals", str(totals))
    assert result.exit_code == 0, result.output
    document = json.loads((out / "points.json").read_text(encoding="utf-8"))
    assert document["settings"]["raking"] == ["group"]
    micro = pd.read_csv(out / "microdata.csv", dtype={"unit": str})
    raked = micro[micro.is_probability == 1].groupby(["unit", "group"]).weight.sum()
    assert raked[("U2", "organisation")] == pytest.approx(25.0)
    bad = tmp_path / "bad.csv"
    pd.DataFrame(
        [("U1", "group", "individual", 100.0)], columns=["unit", "variable", "category", "total"]
    ).to_csv(bad, index=False)
    (tmp_path / "again").mkdir()
    result, _ = _run(citizen_responses, tmp_path / "again", "--totals", str(bad))
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "no total for code(s) organisation" in result.output
