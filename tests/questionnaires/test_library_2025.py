"""The 2025 versions of the built-in questionnaires: the two-tier structure (no district
level), validated, printed and still beside the 2024 versions for older campaigns."""

import subprocess

import pytest

from questionnaires import load_builtin, parse_questionnaire
from questionnaires.loader import LIBRARY
from questionnaires.pdf import render_questionnaire_pdf

LEVELS_2025 = {
    "sipas-citizen": (
        "a1",
        {
            1: "Sở, ban, ngành cấp tỉnh",
            2: "Trung tâm Phục vụ hành chính công cấp tỉnh (trụ sở chính)",
            5: "Chi nhánh Trung tâm Phục vụ hành chính công cấp tỉnh",
            4: "Ủy ban nhân dân cấp xã (xã, phường, đặc khu)",
        },
    ),
    "par-officials": (
        "a2",
        {
            1: "Sở, ban, ngành cấp tỉnh",
            4: "Trung tâm Phục vụ hành chính công cấp tỉnh hoặc chi nhánh",
            3: "Ủy ban nhân dân cấp xã (xã, phường, đặc khu)",
        },
    ),
}


def texts(questionnaire, lang):
    yield questionnaire.title.get(lang)
    yield questionnaire.description.get(lang)
    for question in questionnaire.questions():
        yield question.text.get(lang)
        if question.hint:
            yield question.hint.get(lang)
        for item in question.items:
            yield item.text.get(lang)
        for choice in question.all_choices():
            yield choice.label.get(lang)


@pytest.mark.parametrize("qid", ["sipas-citizen", "par-officials"])
def test_2025_version_validates_and_has_the_two_tier_levels(qid):
    path = LIBRARY / f"{qid}.v2025.yaml"
    questionnaire = parse_questionnaire(path.read_text(encoding="utf-8"), str(path))
    assert (questionnaire.id, questionnaire.version) == (qid, "2025")
    assert load_builtin(qid).version == "2025"  # the newest is the default
    code, levels = LEVELS_2025[qid]
    question = next(q for q in questionnaire.questions() if q.code == code)
    assert {c.code: c.label.get("vi") for c in question.all_choices()} == levels
    for lang in ("vi", "en"):
        for text in texts(questionnaire, lang):
            assert "huyện" not in text and "district" not in text.lower(), text
            assert "2024" not in text, text


@pytest.mark.parametrize("qid", ["sipas-citizen", "par-officials"])
def test_2024_versions_stay_for_older_campaigns(qid):
    old = load_builtin(qid, "2024")
    labels = [c.label.get("vi") for q in old.questions() for c in q.all_choices()]
    assert "Ủy ban nhân dân cấp huyện" in labels
    new = load_builtin(qid, "2025")
    # Same answer variables, so the two years' microdata line up.
    assert [q.code for q in old.questions()] == [q.code for q in new.questions()]


@pytest.mark.parametrize("qid", ["sipas-citizen", "par-officials"])
def test_2025_version_prints(qid, tmp_path, pdfcheck):
    questionnaire = load_builtin(qid, "2025")
    pdf = tmp_path / f"{qid}-2025.pdf"
    render_questionnaire_pdf(questionnaire, pdf)
    text = " ".join(pdfcheck.text(pdf).split())
    code, levels = LEVELS_2025[qid]
    for label in levels.values():
        assert label in text
    assert "cấp huyện" not in text
    assert all(pdfcheck.embedded_fonts(pdf).values())
    # Page images for a person to look at (pdftoppm, as the guide says).
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", str(pdf),
                    str(tmp_path / qid)], check=True)  # fmt: skip
    assert list(tmp_path.glob(f"{qid}*.png"))


def test_2026_criteria_mapping_fits_the_2025_questionnaires():
    from scoring_bridge import builtin_mappings, load_mapping, spec_from_questionnaire

    assert {"brvt-2024", "hcm-2026"} <= set(builtin_mappings())
    for qid in ("sipas-citizen", "par-officials"):
        spec = spec_from_questionnaire(load_builtin(qid, "2025"))
        mapping = load_mapping("hcm-2026", spec)
        assert mapping.year == 2026 and mapping.for_questionnaire(qid)
    online = next(c for c in mapping.criteria if c.code == "8.2")
    assert online.questionnaire == "sipas-citizen"
