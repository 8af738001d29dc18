"""Scrubbing free text, small-cell suppression, and the microdata export."""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring_bridge.inputs import prepare_responses
from scoring_bridge.microdata import microdata_frame, write_microdata
from scoring_bridge.scrub import scrub_text
from scoring_bridge.suppression import TOTAL, suppress_counts, suppression_mask


@pytest.mark.parametrize(
    "text",
    [
        "Gọi 0912345678",
        "Gọi 0912 345 678",
        "Gọi 0912.345.678",
        "Gọi 0912-345-678",
        "Gọi +84 912 345 678",
        "Gọi 84912345678",
        "Tổng đài (028) 3822 1234",
        "Máy bàn 0254 3852 123",
    ],
)
def test_phone_numbers_are_removed(text):
    cleaned = scrub_text(text)
    assert "[số điện thoại]" in cleaned
    assert not any(ch.isdigit() for ch in cleaned)


def test_emails_and_id_numbers_are_removed():
    cleaned = scrub_text("Email: nguyen.van-an@so-noivu.gov.vn, CCCD 079123456789, CMND 271234567.")
    assert cleaned == "Email: [email], CCCD [số giấy tờ], CMND [số giấy tờ]."


def test_ordinary_numbers_and_dates_stay():
    text = "Năm 2024 tôi đến 3 lần, ngày 12/10/2024, lệ phí 50.000 đồng, chờ 45 phút."
    assert scrub_text(text) == text


def test_primary_and_complementary_suppression():
    counts = pd.DataFrame(
        {"individual": [40, 3, 25], "organisation": [12, 30, 9]}, index=["U1", "U2", "U3"]
    )
    published = suppress_counts(counts, k=5)
    # U2/individual (3) is primary; its row total would give it back, so the other cell of
    # the row is hidden too; then the organisation column has one hidden cell, so its
    # smallest other cell (U3, 9) goes, and U3's row needs a second one (U3/individual).
    assert np.isnan(published.loc["U2", "individual"])
    assert np.isnan(published.loc["U2", "organisation"])
    assert np.isnan(published.loc["U3", "organisation"])
    assert np.isnan(published.loc["U3", "individual"])
    assert published.loc["U1", "individual"] == 40
    assert published.loc["U2", TOTAL] == 33  # totals stay published
    assert published.loc[TOTAL, TOTAL] == 119


def test_a_lone_cell_in_its_row_hides_the_row_total():
    counts = pd.DataFrame({"only": [2, 40, 30]}, index=["U1", "U2", "U3"])
    cells, row_totals, _ = suppression_mask(counts, k=5)
    assert cells[0, 0] and row_totals[0]
    assert cells[:, 0].sum() == 2  # the column needs a complementary cell as well


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(st.integers(min_value=0, max_value=12), min_size=2, max_size=4),
        min_size=2,
        max_size=5,
    ).filter(lambda rows: len({len(r) for r in rows}) == 1),
    st.integers(min_value=2, max_value=6),
)
def test_no_row_or_column_has_exactly_one_hidden_cell(rows, k):
    counts = pd.DataFrame(rows)
    cells, row_totals, column_totals = suppression_mask(counts, k)
    values = counts.to_numpy()
    assert cells[(values > 0) & (values < k)].all()  # every small cell is hidden
    for r in range(cells.shape[0]):
        assert cells[r].sum() != 1 or row_totals[r]
    for c in range(cells.shape[1]):
        assert cells[:, c].sum() != 1 or column_totals[c]


def test_microdata_has_no_pii_and_scrubbed_text(citizen_spec, citizen_responses):
    clean = prepare_responses(citizen_responses, citizen_spec)
    frame = microdata_frame(clean, citizen_spec)
    assert "phone" not in frame and "response_id" not in frame
    assert frame["respondent"].tolist() == list(range(1, len(frame) + 1))
    texts = " ".join(frame["k2"])
    assert "0987" not in texts and "@" not in texts and "[số điện thoại]" in texts
    assert frame["b1"].isna().sum() == 0 and set(frame["b1"].unique()) <= {1, 2, 3, 4, 5, 9}


def test_sav_reads_back_with_variable_and_value_labels(citizen_spec, citizen_responses, tmp_path):
    import pyreadstat

    clean = prepare_responses(citizen_responses, citizen_spec)
    written = write_microdata(clean, citizen_spec, tmp_path)
    assert {p.name for p in written} == {
        "microdata.csv",
        "microdata.xlsx",
        "microdata.sav",
        "replicate_weights.csv.gz",
        "codebook.xlsx",
        "codebook.pdf",
    }
    data, meta = pyreadstat.read_sav(str(tmp_path / "microdata.sav"), user_missing=True)
    assert len(data) == len(clean)
    assert meta.column_names_to_labels["d1"] == citizen_spec.item("d1").label_vi
    assert meta.variable_value_labels["d1"][4] == "Hài lòng"
    assert meta.variable_value_labels["d1"][9] == "Không biết / không áp dụng"
    # «left blank on the form» (98) is a user-missing code of its own (issue 10.9)
    assert meta.variable_value_labels["d1"][98] == "Để trống trên phiếu"
    assert meta.missing_ranges["d1"] == [{"lo": 9.0, "hi": 9.0}, {"lo": 98.0, "hi": 98.0}]
    assert meta.variable_value_labels["h1"] == {1: "Nam", 2: "Nữ", 98: "Để trống trên phiếu"}
    assert "phone" not in data.columns
    codebook = pd.read_excel(tmp_path / "codebook.xlsx", engine="calamine")
    replicates = pd.read_csv(tmp_path / "replicate_weights.csv.gz")
    reps = [c for c in replicates.columns if c.startswith("rep_")]
    assert list(codebook["variable"]) == [*data.columns, f"rep_1 … rep_{len(reps)}"]
    assert "svrepdesign" in codebook["label_en"].iloc[-1]
    d1 = codebook.set_index("variable").loc["d1"]
    assert d1["missing_codes"] == "9, 98" and "98 = Để trống trên phiếu" in d1["values"]
    from pypdf import PdfReader

    pages = PdfReader(tmp_path / "codebook.pdf").pages
    pdf_text = unicodedata.normalize(
        "NFC", " ".join(" ".join(p.extract_text().split()) for p in pages)
    )
    assert "Để trống trên phiếu" in pdf_text and "Không biết / không áp dụng" in pdf_text
    assert {"variance_stratum", "fpc", "weight"} <= set(data.columns)
    # one row per probability respondent, joined by the anonymous respondent number
    probability = data[data.is_probability == 1]
    assert sorted(replicates.respondent) == sorted(probability.respondent.astype(int))
    assert not set(replicates.respondent) & set(data[data.is_probability == 0].respondent)
