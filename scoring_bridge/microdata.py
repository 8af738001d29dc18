"""Anonymised microdata (CSV, XLSX, SPSS .sav) and its codebook (XLSX, PDF).

What is exported, and nothing else: a sequential ``respondent`` number (the service's
response ids are dropped: they could be joined back to tokens), ``unit``, ``group``,
``stratum``, ``weight``, the design columns ``variance_stratum`` and ``fpc``, ``mode``,
``is_probability`` (1/0), every questionnaire variable (scale items with their "don't
know" code, which SPSS marks user-missing), with free-text answers scrubbed of e-mails,
phone numbers and ID numbers (:mod:`scoring_bridge.scrub`). The jackknife replicate
weights ``rep_1`` … ``rep_R`` are in ``replicate_weights.csv.gz``, by ``respondent``
(:mod:`scoring_bridge.replicates` says how R, Stata and SPSS reproduce the published
figures and standard errors from these columns). Columns that are not questionnaire variables never leave
(names, phones, addresses and other PII are dropped on reading already). Rows are ordered
by unit, group and stratum, not by arrival, so that the order says nothing about who
answered when.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scoring_bridge.replicates import REPLICATE_FILE, design_columns, write_replicate_weights
from scoring_bridge.report import write_codebook_pdf
from scoring_bridge.scrub import scrub_series
from scoring_bridge.spec import SurveySpec
from scoring_bridge.xlsx import write_csv, write_xlsx

_DESIGN_LABELS = {
    "respondent": ("Số thứ tự phiếu (ẩn danh)", "Respondent number (anonymous)"),
    "unit": ("Cơ quan, đơn vị được đánh giá", "Rated unit"),
    "group": ("Nhóm đối tượng khảo sát", "Respondent group"),
    "stratum": ("Tầng chọn mẫu", "Sampling stratum"),
    "weight": ("Trọng số (sau điều chỉnh không trả lời)", "Weight (nonresponse-adjusted)"),
    "variance_stratum": (
        "Tầng tính phương sai (tầng chọn mẫu sau khi gộp / tách đơn vị chọn chắc chắn)",
        "Variance stratum (sampling stratum after collapsing / certainty units apart)",
    ),
    "fpc": (
        "Cỡ tổng thể của tầng tính phương sai (hiệu chỉnh tổng thể hữu hạn; inf: không hiệu chỉnh)",
        "Population size of the variance stratum (finite population correction; inf: none)",
    ),
    "mode": ("Hình thức thu thập", "Collection mode"),
    "is_probability": (
        "Thuộc mẫu xác suất (1) / tự đến (0)",
        "Probability sample (1) / walk-in (0)",
    ),
}


def microdata_frame(
    responses: pd.DataFrame, spec: SurveySpec, design: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """The exportable frame (see the module docstring) from prepared responses.

    ``design`` holds the variance options of the scoring run (``selection``,
    ``single``, ``population``: :func:`scoring_bridge.replicates.design_columns`).
    """
    ordered = responses.sort_values(["unit", "group", "stratum"], kind="stable")
    columns = design_columns(ordered, **dict(design or {}))
    frame = pd.DataFrame(
        {
            "respondent": np.arange(1, len(ordered) + 1),
            "unit": ordered["unit"].astype(str).to_numpy(),
            "group": ordered["group"].astype(str).to_numpy(),
            "stratum": ordered["stratum"].astype(str).to_numpy(),
            "weight": ordered["weight"].to_numpy(dtype=float),
            "variance_stratum": columns["variance_stratum"].to_numpy(),
            "fpc": columns["fpc"].to_numpy(dtype=float),
            "mode": ordered["mode"].astype(str).to_numpy(),
            "is_probability": ordered["is_probability"].to_numpy().astype(np.int64),
        }
    )
    for item in spec.items:
        codes = ordered[item.code].to_numpy().astype(float)
        frame[item.code] = np.where(codes == 0, np.nan, codes)
    for variable in spec.others:
        if variable.code not in ordered:
            continue
        values = ordered[variable.code]
        if variable.kind in ("text", "date"):
            values = values.astype(object).where(values.notna(), "")
            frame[variable.code] = (
                scrub_series(values).to_numpy() if variable.kind == "text" else values.to_numpy()
            )
        else:
            frame[variable.code] = pd.to_numeric(values, errors="coerce").astype(float).to_numpy()
    return frame


def variable_labels(spec: SurveySpec, columns: list[str], lang: str = "vi") -> dict[str, str]:
    labels = {name: pair[0 if lang == "vi" else 1] for name, pair in _DESIGN_LABELS.items()}
    for item in spec.items:
        labels[item.code] = item.label_vi if lang == "vi" else item.label_en
    for variable in spec.others:
        labels[variable.code] = variable.label_vi if lang == "vi" else variable.label_en
    return {c: labels[c] for c in columns if c in labels}


def value_labels(spec: SurveySpec, columns: list[str]) -> dict[str, dict[int, str]]:
    labels: dict[str, dict[int, str]] = {
        "is_probability": {1: "Mẫu xác suất", 0: "Tự đến (ngoài mẫu)"}
    }
    for item in spec.items:
        labels[item.code] = dict(item.value_labels)
    for variable in spec.others:
        if variable.value_labels:
            labels[variable.code] = dict(variable.value_labels)
    return {c: labels[c] for c in columns if c in labels and labels[c]}


def missing_codes(spec: SurveySpec, columns: list[str]) -> dict[str, list[int]]:
    codes = {item.code: list(item.not_applicable) for item in spec.items if item.not_applicable}
    for variable in spec.others:
        if variable.missing_codes:
            codes[variable.code] = list(variable.missing_codes)
    return {c: v for c, v in codes.items() if c in columns}


def write_microdata(
    responses: pd.DataFrame,
    spec: SurveySpec,
    directory: Path,
    design: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write ``microdata.csv``, ``microdata.xlsx``, ``microdata.sav`` and the codebook."""
    import pyreadstat

    frame = microdata_frame(responses, spec, design)
    columns = list(frame.columns)
    written = []
    csv_path = directory / "microdata.csv"
    write_csv(csv_path, frame)
    written.append(csv_path)
    xlsx_path = directory / "microdata.xlsx"
    write_xlsx(xlsx_path, {"microdata": frame})
    written.append(xlsx_path)
    ordered = responses.sort_values(["unit", "group", "stratum"], kind="stable")
    replicates_path = directory / REPLICATE_FILE
    options = {k: v for k, v in dict(design or {}).items() if v is not None}
    replicates = write_replicate_weights(
        ordered, frame["respondent"].to_numpy(), replicates_path, **options
    )
    if replicates:
        written.append(replicates_path)
    sav_path = directory / "microdata.sav"
    measures = dict.fromkeys(("weight", "fpc"), "scale")
    for item in spec.items:
        measures[item.code] = "ordinal"
    pyreadstat.write_sav(
        frame,
        str(sav_path),
        column_labels=variable_labels(spec, columns),
        variable_value_labels=value_labels(spec, columns),
        missing_ranges=missing_codes(spec, columns),
        variable_measure=measures,
        file_label=spec.title_vi[:64],
    )
    written.append(sav_path)
    codebook = codebook_frame(spec, frame, replicates)
    codebook_path = directory / "codebook.xlsx"
    write_xlsx(codebook_path, {"codebook": codebook})
    written.append(codebook_path)
    pdf_path = directory / "codebook.pdf"
    write_codebook_pdf(codebook, spec, pdf_path)
    written.append(pdf_path)
    return written


def codebook_frame(
    spec: SurveySpec, frame: pd.DataFrame, replicates: int | None = None
) -> pd.DataFrame:
    """One row per exported variable: name, labels, type, values, missing codes, counts.

    With ``replicates`` (their number) one more row describes ``replicate_weights.csv.gz``.
    """
    columns = list(frame.columns)
    labels_vi = variable_labels(spec, columns, "vi")
    labels_en = variable_labels(spec, columns, "en")
    values = value_labels(spec, columns)
    missing = missing_codes(spec, columns)
    kinds = {item.code: "scale item" for item in spec.items}
    kinds.update({v.code: v.kind for v in spec.others})
    elements = {item.code: item.element or "" for item in spec.items}
    rows = []
    for column in columns:
        rows.append(
            {
                "variable": column,
                "label_vi": labels_vi.get(column, ""),
                "label_en": labels_en.get(column, ""),
                "type": kinds.get(column, "design"),
                "element": elements.get(column, ""),
                "values": "; ".join(
                    f"{code} = {label}" for code, label in values.get(column, {}).items()
                ),
                "missing_codes": ", ".join(str(c) for c in missing.get(column, [])),
                "answered": int(frame[column].replace("", np.nan).notna().sum()),
            }
        )
    if replicates:
        usage = (
            'R: svrepdesign(weights = ~weight, repweights = "rep_[0-9]+", type = "other", '
            "scale = 1, rscales = 1, mse = TRUE); Stata: svyset [pw = weight], "
            "vce(jackknife) jkrweight(rep_*, multiplier(1)) mse"
        )
        rows.append(
            {
                "variable": f"rep_1 … rep_{replicates}",
                "label_vi": f"{replicates} trọng số lặp jackknife, tệp {REPLICATE_FILE} "
                f"(ghép theo respondent); {usage}",
                "label_en": f"{replicates} jackknife replicate weights in {REPLICATE_FILE} "
                f"(join by respondent); {usage}",
                "type": "design",
                "element": "",
                "values": "",
                "missing_codes": "",
                "answered": int(frame["is_probability"].sum()),
            }
        )
    return pd.DataFrame(rows)
