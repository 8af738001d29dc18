"""Small questionnaires and response sets shared by the scoring-bridge tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring_bridge.spec import ElementSpec, OtherVariable, ScaleItem, SurveySpec


@pytest.fixture(scope="session")
def small_spec() -> SurveySpec:
    """Three 5-point items (9 = don't know) in two elements, plus a choice and a text."""
    return SurveySpec(
        questionnaire_id="mini",
        title_vi="Phiếu thử",
        title_en="Test form",
        items=(
            ScaleItem("q1", "E1", "Nơi chờ đủ chỗ ngồi", "Enough seats"),
            ScaleItem("q2", "E1", "Thủ tục niêm yết", "Procedures posted"),
            ScaleItem("q3", "E2", "Công chức lịch sự", "Courteous staff"),
        ),
        elements=(
            ElementSpec("E1", "Tiếp cận dịch vụ", "Access", ("q1", "q2")),
            ElementSpec("E2", "Công chức", "Civil servants", ("q3",)),
        ),
        others=(
            OtherVariable("gender", "Giới tính", "Gender", "choice", {1: "Nam", 2: "Nữ"}),
            OtherVariable("comment", "Góp ý", "Suggestions", "text"),
        ),
    )


@pytest.fixture
def hand_responses() -> pd.DataFrame:
    """Five respondents of unit U1, strata A (weight 2) and B (weight 4); see test_estimators."""
    return pd.DataFrame(
        {
            "response_id": ["r1", "r2", "r3", "r4", "r5"],
            "unit": "U1",
            "group": "individual",
            "stratum": ["A", "A", "A", "B", "B"],
            "weight": [2.0, 2.0, 2.0, 4.0, 4.0],
            "q1": [5, 4, 2, 4, 1],
            "q2": [4, 9, 5, 3, 4],
            "q3": [5, 5, None, 1, 3],
        }
    )


@pytest.fixture
def make_responses():
    return generate_responses


def generate_responses(spec: SurveySpec, seed: int, rows: int = 600) -> pd.DataFrame:
    """Random responses: 3 units, 2 groups, strata that cut across groups, varying weights,
    don't-know answers, gaps, and a few walk-in rows."""
    rng = np.random.default_rng(seed)
    unit = rng.choice(["U1", "U2", "U3"], rows)
    group = rng.choice(["individual", "organisation"], rows, p=[0.7, 0.3])
    half = rng.integers(0, 2, rows)
    frame = pd.DataFrame(
        {
            "response_id": [f"r{i}" for i in range(rows)],
            "unit": unit,
            "group": group,
            "stratum": [f"{u}-{h}" for u, h in zip(unit, half, strict=True)],
            "weight": rng.uniform(1.0, 9.0, rows),
            "is_probability": rng.random(rows) > 0.05,
        }
    )
    for item in spec.items:
        answers = rng.choice([1, 2, 3, 4, 5, 9], rows, p=[0.05, 0.1, 0.2, 0.35, 0.25, 0.05])
        answers = answers.astype(float)
        answers[rng.random(rows) < 0.05] = np.nan
        frame[item.code] = answers
    return frame


@pytest.fixture(scope="session")
def citizen_spec():
    from scoring_bridge.spec import load_spec

    return load_spec("sipas-citizen")


@pytest.fixture
def citizen_responses(citizen_spec) -> pd.DataFrame:
    """Responses to the built-in citizen questionnaire: 4 units, U4 handles no procedures
    (element E2 all "don't know"), a free-text column with contact details, a PII column."""
    rng = np.random.default_rng(20241)
    rows = 360
    unit = rng.choice(["U1", "U2", "U3", "U4"], rows)
    group = rng.choice(["individual", "organisation"], rows, p=[0.8, 0.2])
    frame = pd.DataFrame(
        {
            "response_id": [f"R{i:04d}" for i in range(rows)],
            "unit": unit,
            "group": group,
            "stratum": [f"{u}-{g}" for u, g in zip(unit, group, strict=True)],
            "weight": rng.uniform(2.0, 6.0, rows).round(3),
            "mode": rng.choice(["phone", "web"], rows),
            "is_probability": rng.random(rows) > 0.03,
            "phone": "0912345678",
        }
    )
    quality = {"U1": 0.6, "U2": 0.0, "U3": -0.5, "U4": 0.2}
    for item in citizen_spec.items:
        latent = 3.6 + frame.unit.map(quality).to_numpy() + rng.normal(0, 1, rows)
        answers = np.clip(np.rint(latent), 1, 5)
        answers[rng.random(rows) < 0.05] = 9
        frame[item.code] = answers
    frame.loc[frame.unit == "U4", ["c1", "c2", "c3", "c4"]] = 9
    frame["h1"] = rng.choice([1, 2], rows)
    frame["k2"] = rng.choice(
        ["", "Cần thêm ghế chờ", "Gọi 0987 654 321 hoặc mai.tran@example.vn"], rows
    )
    return frame
