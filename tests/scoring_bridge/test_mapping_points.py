"""Mapping validation, points, rounding, bands and not-applicable criteria."""

from __future__ import annotations

import copy
import re
import subprocess

import numpy as np
import pandas as pd
import pytest

from scoring_bridge.errors import MappingError
from scoring_bridge.mapping import builtin_mappings, load_mapping
from scoring_bridge.points import points_for, round_half_up
from scoring_bridge.report import write_report_pdf
from scoring_bridge.scoring import score
from scoring_bridge.spec import load_spec


def _mapping(**overrides):
    base = {
        "id": "test",
        "name": "Thử",
        "total_points": 3.0,
        "rounding": 2,
        "min_responses": 2,
        "criteria": [
            {"code": "A", "name": "Tiếp cận", "max_points": 1.5, "source": {"element": "E1"}},
            {
                "code": "B",
                "name": "Công chức",
                "max_points": 1.0,
                "source": {"item": "q3"},
                "points": {"bands": [{"min": 80, "points": 1.0}, {"min": 50, "points": 0.5}]},
            },
            {"code": "C", "name": "Chung", "max_points": 0.5, "source": "overall"},
        ],
    }
    base.update(overrides)
    return base


def test_builtin_mapping_fits_both_builtin_questionnaires():
    specs = [load_spec("sipas-citizen"), load_spec("par-officials")]
    mapping = load_mapping("brvt-2024", specs)
    assert "brvt-2024" in builtin_mappings()
    assert sum(c.max_points for c in mapping.criteria) == mapping.total_points == 15.0
    citizen = mapping.for_questionnaire("sipas-citizen")
    officials = mapping.for_questionnaire("par-officials")
    assert {c.source_codes[0] for c in citizen if c.source_kind == "element"} == {
        "E1",
        "E2",
        "E3",
        "E4",
        "E5",
    }
    assert len(citizen) + len(officials) == len(mapping.criteria)


def test_unknown_element_is_named_with_a_suggestion(small_spec):
    raw = _mapping()
    raw["criteria"][0]["source"] = {"element": "EE1"}
    with pytest.raises(MappingError) as caught:
        load_mapping(raw, small_spec)
    assert caught.value.key == "criteria[0].source"
    assert "EE1" in caught.value.message_en and "did you mean 'E1'" in caught.value.message_en


def test_unknown_item_in_a_list_is_named(small_spec):
    raw = _mapping()
    raw["criteria"][1]["source"] = {"items": ["q1", "q9"]}
    with pytest.raises(MappingError) as caught:
        load_mapping(raw, small_spec)
    assert caught.value.key == "criteria[1].source" and caught.value.value == "q9"


def test_maxima_must_add_up_to_the_declared_total(small_spec):
    with pytest.raises(MappingError) as caught:
        load_mapping(_mapping(total_points=4.0), small_spec)
    assert caught.value.key == "total_points"
    assert "3" in caught.value.message_en and "4" in caught.value.message_en


def test_duplicate_codes_unknown_keys_and_bad_maxima(small_spec):
    raw = _mapping()
    raw["criteria"][2]["code"] = "A"
    with pytest.raises(MappingError) as caught:
        load_mapping(raw, small_spec)
    assert caught.value.key == "criteria[2].code"
    raw = _mapping()
    raw["criteria"][0]["max_point"] = 1
    with pytest.raises(MappingError, match="did you mean 'max_points'"):
        load_mapping(raw, small_spec)
    raw = _mapping()
    raw["criteria"][0]["max_points"] = 0
    with pytest.raises(MappingError) as caught:
        load_mapping(raw, small_spec)
    assert caught.value.key == "criteria[0].max_points"


def test_mean_score_needs_bands_and_answer_tables_cover_the_scale(small_spec):
    raw = _mapping()
    raw["criteria"][0]["formula"] = "mean_score"
    with pytest.raises(MappingError) as caught:
        load_mapping(raw, small_spec)
    assert caught.value.key == "criteria[0].points"
    raw = _mapping()
    raw["criteria"][0]["formula"] = {"answer_table": {5: 100, 4: 60, 3: 20}}
    with pytest.raises(MappingError) as caught:
        load_mapping(raw, small_spec)
    assert caught.value.value == [1, 2]


def test_band_points_cannot_exceed_the_maximum():
    raw = _mapping()
    raw["criteria"][1]["points"]["bands"][0]["points"] = 1.5
    with pytest.raises(MappingError) as caught:
        load_mapping(raw)
    assert caught.value.key == "criteria[1].points.bands[0].points"


def test_mapping_file_errors(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("criteria: [\n  - code: 1\n", encoding="utf-8")
    with pytest.raises(MappingError, match="not valid YAML"):
        load_mapping(broken)
    with pytest.raises(MappingError, match="not found"):
        load_mapping(tmp_path / "missing.yaml")


def test_rounding_is_half_up():
    assert round_half_up(2.345, 2) == 2.35
    assert round_half_up(0.125, 2) == 0.13  # round() would give 0.12
    assert round_half_up(1.5, 0) == 2.0 and round_half_up(2.5, 0) == 3.0


def test_points_proportional_and_bands(small_spec):
    mapping = load_mapping(_mapping(), small_spec)
    access, servants, _ = mapping.criteria
    assert points_for(66.5, access) == 1.0  # 1.5 × 0.665 = 0.9975 → 1.00
    assert points_for(57.142857, access) == 0.86  # 0.857142… → 0.86
    assert points_for(85.0, servants) == 1.0
    assert points_for(80.0, servants) == 1.0  # the band minimum is inclusive
    assert points_for(79.99, servants) == 0.5
    assert points_for(10.0, servants) == 0.0


def test_points_table_marks_not_applicable_and_small_cells(small_spec, make_responses):
    raw = make_responses(small_spec, 11, rows=300)
    raw.loc[raw.unit == "U2", "q3"] = 9  # U2: nobody could judge q3
    raw.loc[(raw.unit == "U3") & (raw.index > 6), "q1"] = np.nan
    raw.loc[(raw.unit == "U3") & (raw.index > 6), "q2"] = np.nan
    mapping = load_mapping(_mapping(min_responses=5), small_spec)
    result = score(raw, small_spec, mapping)
    table = result.points.set_index(["unit", "criterion"])
    assert table.loc[("U2", "B"), "status"] == "not_applicable"
    assert np.isnan(table.loc[("U2", "B"), "points"])
    assert table.loc[("U3", "A"), "status"] == "below_min_n"
    assert np.isnan(table.loc[("U3", "A"), "points"])
    assert table.loc[("U3", "A"), "n"] < 5
    scored = table.loc[("U1", "A")]
    assert scored.status == "scored"
    assert scored.points == round_half_up(1.5 * scored["index"] / 100, 2)
    assert scored.ci_low <= scored["index"] <= scored.ci_high
    units = result.units.set_index("unit")
    # U2's applicable maximum leaves out the not-applicable criterion B
    assert units.loc["U2", "max_applicable"] == pytest.approx(2.0)
    assert units.loc["U2", "criteria_not_applicable"] == 1
    assert units.loc["U1", "points_total"] == pytest.approx(
        table.xs("U1", level="unit").query("status == 'scored'").points.sum()
    )


def test_min_n_override_and_groups_restriction(small_spec, make_responses):
    raw = make_responses(small_spec, 12, rows=300)
    spec_mapping = copy.deepcopy(_mapping())
    spec_mapping["criteria"][0]["groups"] = ["organisation"]
    result = score(raw, small_spec, spec_mapping, min_n=1000)
    assert (result.points.status == "below_min_n").all()
    access = result.points[result.points.criterion == "A"]
    assert (access.groups == "organisation").all()
    pooled = result.points[result.points.criterion == "C"]
    assert (pooled.groups == "individual+organisation").all()


def test_units_below_min_n_are_not_ranked_and_come_last(small_spec, make_responses, tmp_path):
    raw = make_responses(small_spec, 13, rows=300)
    raw = raw[(raw.unit != "U3") | (raw.index.isin(raw.index[raw.unit == "U3"][:4]))]
    result = score(raw, small_spec, _mapping(), min_n=10, units=["U4"])
    units = result.units
    assert units.unit.tolist()[-2:] == ["U3", "U4"]  # unranked, by code, after the ranked
    small = units.set_index("unit").loc["U3"]
    assert small.n_respondents < 10 and not np.isnan(small.overall_index)  # shown, not ranked
    assert small.criteria_scored == 0 and pd.isna(small.points_total)  # not "0 points"
    assert units["rank"].isna().tolist() == [False, False, True, True]
    ranked = units.iloc[:2]
    assert (ranked.n_respondents >= 10).all()
    best_first = ranked.sort_values("overall_index", ascending=False).unit.tolist()
    assert ranked.unit.tolist() == best_first and ranked["rank"].tolist() == [1, 2]
    write_report_pdf(result, tmp_path / "report.pdf")
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "report.pdf"), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    ranking = text[text.index("2. Xếp hạng") : text.index("4. Chỉ số")]
    order = [m[1] for m in re.finditer(r"\s(U\d)\s", ranking)]
    assert order == [*best_first, "U3", "U4"]
    ranked_rows = [
        line.split()[:3] for line in ranking.splitlines() if re.search(r"\sU[12]\s", line)
    ]
    assert [row[0] for row in ranked_rows] == ["1", "2"]  # then "(low–high)" and the group
    assert all(re.fullmatch(r"\(\d–\d\)", row[1]) for row in ranked_rows)
    assert "mọi tiêu chí đều đạt ngưỡng tối thiểu (10 theo số phiếu hợp lệ)" in " ".join(
        ranking.split()
    )
    words = " ".join(ranking.split())
    assert "chưa đủ số phiếu tối thiểu" in words and "không có phiếu trả lời" in words


def _expanded_items(criterion, spec):
    if criterion.source_kind == "element":
        return set(spec.element(criterion.source_codes[0]).items)
    if criterion.source_kind == "overall":
        return set()  # the overall index is a summary, not a share of the items
    return set(criterion.source_codes)


@pytest.mark.parametrize("name", ["brvt-2024", "hcm-2026"])
def test_builtin_mappings_count_no_item_in_two_criteria(name):
    specs = {q: load_spec(q) for q in ("sipas-citizen", "par-officials")}
    mapping = load_mapping(name, list(specs.values()))
    for questionnaire, spec in specs.items():
        seen: dict[str, str] = {}
        for criterion in mapping.for_questionnaire(questionnaire):
            for item in _expanded_items(criterion, spec):
                assert item not in seen, f"{item} in {seen.get(item)} and {criterion.code}"
                seen[item] = criterion.code


def _channel_responses(spec, rng, unit, channels):
    """Citizens of one unit, each answering only the access items of their channel
    (a6: 1 in person b1-b4, 2 online b5-b8, 3 by post b9), everything else for all."""
    rows = len(channels)
    frame = pd.DataFrame(
        {
            "response_id": [f"{unit}-{i}" for i in range(rows)],
            "unit": unit,
            "group": "individual",
            "stratum": unit,
            "weight": rng.uniform(2.0, 4.0, rows),
            "a6": channels,
        }
    )
    asked = {"b1": 1, "b2": 1, "b3": 1, "b4": 1, "b5": 2, "b6": 2, "b7": 2, "b8": 2, "b9": 3}
    for item in spec.items:
        answers = rng.choice([2, 3, 4, 5], rows, p=[0.1, 0.2, 0.4, 0.3]).astype(float)
        if item.code in asked:
            answers[frame.a6.to_numpy() != asked[item.code]] = np.nan
        frame[item.code] = answers
    return frame


def test_hcm_2026_scores_and_ranks_units_whose_citizens_used_different_channels():
    # As in the demo: E1 mixes in-person, online and postal items, each asked of that
    # channel's users; one postal answer must not set the unit's n (it did: n = 1).
    spec = load_spec("sipas-citizen")
    rng = np.random.default_rng(2026)
    channels = {"U1": [1] * 34 + [2] * 30 + [3] * 1, "U2": [1] * 31 + [2] * 32 + [3] * 2}
    demo_like = [1] * 22 + [2] * 8 + [3] * 2  # 32 respondents, like Phường Vũng Tàu
    raw = pd.concat(
        [_channel_responses(spec, rng, u, c) for u, c in channels.items()]
        + [_channel_responses(spec, rng, "U3", demo_like)],
        ignore_index=True,
    )
    result = score(raw, spec, "hcm-2026")
    points = result.points.set_index(["unit", "criterion"])
    assert points.loc[("U1", "8.1"), "n"] == 35  # in person and by post
    assert points.loc[("U1", "8.2"), "n"] == 30  # online, counted once
    assert points.loc[("U1", "8.1"), "status"] == "scored"
    units = result.units.set_index("unit")
    assert units.loc["U1", "overall_n"] == 65 and units.loc["U1", "overall_n_eff"] > 60
    assert units.loc[["U1", "U2"], "status"].tolist() == ["scored", "scored"]
    assert units.loc[["U1", "U2"], "rank"].notna().all()
    # The demo's unit: every respondent counts in the overall index and E1, but the
    # 8 online users are below the minimum of criterion 8.2: not ranked and no total.
    assert units.loc["U3", "overall_n"] == 32
    e1 = result.indices.query("unit == 'U3' and code == 'E1' and formula == 'satisfaction_rate'")
    assert (e1.n == 32).all()
    assert points.loc[("U3", "8.1"), "n"] == 24
    assert points.loc[("U3", "8.2"), "status"] == "below_min_n"
    assert units.loc["U3", "status"] == "below_min_n" and pd.isna(units.loc["U3", "rank"])


def test_a_unit_below_the_minimum_gets_no_total(small_spec, make_responses):
    # Some criteria of U3 reach the minimum, one does not: the scored ones keep their
    # points in the points table, but the unit gets no total the Department could import.
    raw = make_responses(small_spec, 14, rows=300)
    raw.loc[(raw.unit == "U3") & (raw.index > 20), "q3"] = 9
    result = score(raw, small_spec, _mapping(min_responses=10))
    table = result.points.set_index(["unit", "criterion"])
    assert table.loc[("U3", "B"), "status"] == "below_min_n"
    assert table.loc[("U3", "A"), "status"] == "scored"
    assert not np.isnan(table.loc[("U3", "A"), "points"])
    units = result.units.set_index("unit")
    assert units.loc["U3", "status"] == "below_min_n"
    assert pd.isna(units.loc["U3", "points_total"])
    assert units.loc["U1", "status"] == "scored" and not pd.isna(units.loc["U1", "points_total"])
