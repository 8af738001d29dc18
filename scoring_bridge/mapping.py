"""The mapping from questionnaire items and elements to the criteria of the province's index.

YAML layout (see ``scoring_bridge/mappings/brvt-2024.yaml``)::

    id: brvt-2024
    name: {vi: "...", en: "..."}
    total_points: 10.0          # optional: the maxima must add up to this
    rounding: 2                 # default decimals of points
    min_responses: 30           # default minimum base per unit and criterion
    min_responses_basis: n      # n (valid answers) or n_eff (Kish's effective size)
    single_respondent_strata: collapse   # collapse | adjust | certainty | refuse
    criteria:
      - code: "7.1"
        name: {vi: "Mức độ hài lòng về tiếp cận dịch vụ", en: "Satisfaction: access"}
        questionnaire: sipas-citizen
        max_points: 1.0
        groups: [individual, organisation]   # optional: default all respondent groups
        source: {element: E1}                # or {item: g1}, {items: [b1, b2]}, overall
        formula: satisfaction_rate           # mean_score | rescaled_mean |
                                             # {answer_table: {5: 100, 4: 75, 3: 50, ...}}
        points: proportional                 # max × index / 100 (default), or
                                             # {bands: [{min: 90, points: 1.0}, ...]}
        rounding: 2                          # optional per criterion
        min_responses: 30                    # optional per criterion

Criteria are checked against the questionnaire they name when its spec is given: unknown
elements and items are reported with the closest known code; duplicate codes, unknown keys,
bad maxima and maxima that do not add up to ``total_points`` are errors naming the key
(``criteria[3].source``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from scoring_bridge.design import DEFAULT_SINGLE, SINGLE_RESPONDENT_METHODS
from scoring_bridge.errors import MappingError
from scoring_bridge.estimators import MIN_N_BASES, Formula
from scoring_bridge.spec import SurveySpec, nfc

BUILTIN_DIRECTORY = Path(__file__).parent / "mappings"
_TOP_KEYS = {
    "id",
    "name",
    "year",
    "total_points",
    "rounding",
    "min_responses",
    "min_responses_basis",
    "single_respondent_strata",
    "criteria",
}
_CRITERION_KEYS = {
    "code",
    "name",
    "questionnaire",
    "max_points",
    "groups",
    "source",
    "formula",
    "points",
    "rounding",
    "min_responses",
}


@dataclass(frozen=True)
class Band:
    """Points given when the index is at least ``minimum``."""

    minimum: float
    points: float


@dataclass(frozen=True)
class Criterion:
    code: str
    name_vi: str
    name_en: str
    questionnaire: str | None
    max_points: float
    groups: tuple[str, ...]  # empty: every respondent group
    source_kind: str  # element | item | items | overall
    source_codes: tuple[str, ...]
    formula: Formula
    bands: tuple[Band, ...]  # empty: proportional (max × index / 100)
    decimals: int
    min_responses: int

    @property
    def source_label(self) -> str:
        if self.source_kind == "overall":
            return "overall"
        return f"{self.source_kind}:{','.join(self.source_codes)}"

    @property
    def item_set_name(self) -> str:
        return f"criterion:{self.code}"


@dataclass(frozen=True)
class ScoringMapping:
    id: str
    name_vi: str
    name_en: str
    year: int | None
    total_points: float | None
    criteria: tuple[Criterion, ...]
    min_responses_basis: str = "n"
    single_respondent_strata: str = DEFAULT_SINGLE

    def for_questionnaire(self, questionnaire_id: str) -> tuple[Criterion, ...]:
        return tuple(c for c in self.criteria if c.questionnaire in (None, questionnaire_id))


def builtin_mappings() -> list[str]:
    return sorted(path.stem for path in BUILTIN_DIRECTORY.glob("*.yaml"))


def load_mapping(
    source: str | Path | Mapping[str, Any], specs: SurveySpec | Iterable[SurveySpec] = ()
) -> ScoringMapping:
    """Read and validate a mapping (a YAML path, a built-in name, or a parsed dict)."""
    raw = source if isinstance(source, Mapping) else _read_yaml(source)
    if isinstance(specs, SurveySpec):
        specs = [specs]
    mapping = _build(raw)
    by_id = {spec.questionnaire_id: spec for spec in specs}
    for position, criterion in enumerate(mapping.criteria):
        spec = by_id.get(criterion.questionnaire) if criterion.questionnaire else None
        if spec is None and criterion.questionnaire is None and len(by_id) == 1:
            spec = next(iter(by_id.values()))
        if spec is not None:
            _check_against_spec(criterion, position, spec)
    return mapping


def _read_yaml(source: str | Path) -> Any:
    path = Path(source)
    if not path.suffix and (BUILTIN_DIRECTORY / f"{source}.yaml").is_file():
        path = BUILTIN_DIRECTORY / f"{source}.yaml"
    if not path.is_file():
        raise MappingError(
            f"Không tìm thấy tệp ánh xạ {path}.", f"Mapping file {path} not found.", value=str(path)
        )
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (dòng {mark.line + 1})" if mark else ""
        where_en = f" (line {mark.line + 1})" if mark else ""
        raise MappingError(
            f"Tệp ánh xạ {path.name} không phải YAML hợp lệ{where}: {exc}",
            f"Mapping file {path.name} is not valid YAML{where_en}: {exc}",
        ) from exc


def _fail(key: str, vi: str, en: str, value: Any = None) -> None:
    raise MappingError(
        f"Ánh xạ, khoá '{key}': {vi}", f"Mapping, key '{key}': {en}", key=key, value=value
    )


def _check_keys(node: Mapping, allowed: set[str], where: str) -> None:
    for key in node:
        if key not in allowed:
            guess = difflib.get_close_matches(str(key), sorted(allowed), n=1)
            hint_vi = f" (có phải '{guess[0]}'?)" if guess else ""
            hint_en = f" (did you mean '{guess[0]}'?)" if guess else ""
            _fail(
                f"{where}{key}", f"khoá không được hỗ trợ{hint_vi}.", f"unknown key{hint_en}.", key
            )


def _texts(value: Any, key: str) -> tuple[str, str]:
    if isinstance(value, str) and value.strip():
        return nfc(value.strip()), nfc(value.strip())
    if isinstance(value, Mapping) and value.get("vi"):
        return nfc(value["vi"]), nfc(value.get("en") or value["vi"])
    _fail(
        key, "cần tên (chuỗi, hoặc {vi: ..., en: ...}).", "a name is required (text or {vi, en})."
    )
    raise AssertionError  # unreachable


def _number(value: Any, key: str, *, positive: bool = False, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        _fail(
            key,
            f"cần một số, không phải {value!r}.",
            f"a number is required, not {value!r}.",
            value,
        )
    if positive and not value > 0:
        _fail(
            key,
            f"phải lớn hơn 0 (đang là {value}).",
            f"must be greater than 0 (is {value}).",
            value,
        )
    if minimum is not None and value < minimum:
        _fail(
            key, f"phải ≥ {minimum} (đang là {value}).", f"must be ≥ {minimum} (is {value}).", value
        )
    return float(value)


def _build(raw: Any) -> ScoringMapping:
    if not isinstance(raw, Mapping):
        _fail(
            "(gốc)",
            "tệp ánh xạ phải là một bảng khoá–giá trị.",
            "the mapping must be a YAML mapping.",
        )
    _check_keys(raw, _TOP_KEYS, "")
    name_vi, name_en = _texts(raw.get("name", raw.get("id", "")), "name")
    decimals = int(_number(raw.get("rounding", 2), "rounding", minimum=0))
    min_responses = int(_number(raw.get("min_responses", 30), "min_responses", minimum=1))
    criteria_raw = raw.get("criteria")
    if not isinstance(criteria_raw, list) or not criteria_raw:
        _fail("criteria", "cần danh sách tiêu chí.", "a list of criteria is required.")
    criteria = [
        _criterion(node, f"criteria[{i}]", decimals, min_responses)
        for i, node in enumerate(criteria_raw)
    ]
    seen: dict[str, int] = {}
    for i, criterion in enumerate(criteria):
        if criterion.code in seen:
            _fail(
                f"criteria[{i}].code",
                f"mã tiêu chí '{criterion.code}' trùng với criteria[{seen[criterion.code]}].",
                f"criterion code '{criterion.code}' duplicates criteria[{seen[criterion.code]}].",
                criterion.code,
            )
        seen[criterion.code] = i
    total = raw.get("total_points")
    if total is not None:
        total = _number(total, "total_points", positive=True)
        declared = sum(c.max_points for c in criteria)
        if abs(declared - total) > 1e-9:
            _fail(
                "total_points",
                f"tổng điểm tối đa các tiêu chí là {declared:g}, khác tổng khai báo {total:g}.",
                f"the criteria's maxima add up to {declared:g}, not the declared {total:g}.",
                declared,
            )
    year = raw.get("year")
    return ScoringMapping(
        id=str(raw.get("id", "mapping")),
        name_vi=name_vi,
        name_en=name_en,
        year=int(year) if year is not None else None,
        total_points=total,
        criteria=tuple(criteria),
        min_responses_basis=_choice(raw, "min_responses_basis", MIN_N_BASES, "n"),
        single_respondent_strata=_choice(
            raw, "single_respondent_strata", SINGLE_RESPONDENT_METHODS, DEFAULT_SINGLE
        ),
    )


def _choice(raw: Mapping, key: str, allowed: tuple[str, ...], default: str) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str) or value.strip().lower() not in allowed:
        _fail(
            key,
            f"giá trị {value!r} không hợp lệ; dùng một trong: {', '.join(allowed)}.",
            f"{value!r} is not valid; use one of: {', '.join(allowed)}.",
            value,
        )
    return value.strip().lower()


def _criterion(node: Any, where: str, decimals: int, min_responses: int) -> Criterion:
    if not isinstance(node, Mapping):
        _fail(
            where,
            "mỗi tiêu chí phải là một bảng khoá–giá trị.",
            "each criterion must be a mapping.",
        )
    _check_keys(node, _CRITERION_KEYS, f"{where}.")
    code = str(node.get("code") or "").strip()
    if not code:
        _fail(f"{where}.code", "thiếu mã tiêu chí.", "the criterion code is missing.")
    name_vi, name_en = _texts(node.get("name"), f"{where}.name")
    max_points = _number(node.get("max_points"), f"{where}.max_points", positive=True)
    groups = node.get("groups") or []
    if isinstance(groups, str):
        groups = [groups]
    source_kind, source_codes = _source(node.get("source"), f"{where}.source")
    formula = _formula(node.get("formula", "satisfaction_rate"), f"{where}.formula")
    bands = _bands(node.get("points", "proportional"), f"{where}.points", max_points)
    if not bands and formula.kind == "mean_score":
        _fail(
            f"{where}.points",
            "công thức mean_score (thang 1–5) cần bảng điểm theo khoảng (bands).",
            "formula mean_score (a 1–5 scale) needs a band table, not proportional points.",
        )
    return Criterion(
        code=code,
        name_vi=name_vi,
        name_en=name_en,
        questionnaire=str(node["questionnaire"]) if node.get("questionnaire") else None,
        max_points=max_points,
        groups=tuple(sorted(str(g) for g in groups)),
        source_kind=source_kind,
        source_codes=source_codes,
        formula=formula,
        bands=bands,
        decimals=int(_number(node.get("rounding", decimals), f"{where}.rounding", minimum=0)),
        min_responses=int(
            _number(node.get("min_responses", min_responses), f"{where}.min_responses", minimum=1)
        ),
    )


def _source(value: Any, key: str) -> tuple[str, tuple[str, ...]]:
    if value == "overall" or (isinstance(value, Mapping) and "overall" in value):
        return "overall", ()
    if isinstance(value, Mapping) and len(value) == 1:
        kind, codes = next(iter(value.items()))
        if kind in ("element", "item") and isinstance(codes, str | int):
            return kind, (str(codes),)
        if kind == "items" and isinstance(codes, list) and codes:
            return "items", tuple(str(c) for c in codes)
    _fail(
        key,
        "nguồn phải là {element: MÃ}, {item: MÃ}, {items: [MÃ, ...]} hoặc overall.",
        "the source must be {element: CODE}, {item: CODE}, {items: [CODE, ...]} or overall.",
        value,
    )
    raise AssertionError  # unreachable


def _formula(value: Any, key: str) -> Formula:
    if isinstance(value, str):
        if value not in Formula.KINDS or value == "answer_table":
            _fail(
                key,
                f"công thức '{value}' không hợp lệ (satisfaction_rate, mean_score, rescaled_mean, "
                "{answer_table: {...}}).",
                f"unknown formula '{value}' (satisfaction_rate, mean_score, rescaled_mean, "
                "{answer_table: {...}}).",
                value,
            )
        return Formula(value)
    if isinstance(value, Mapping) and set(value) == {"answer_table"}:
        table = value["answer_table"]
        if isinstance(table, Mapping) and table:
            pairs = []
            for answer, score in table.items():
                try:
                    answer_code = int(answer)
                except (TypeError, ValueError):
                    _fail(
                        f"{key}.answer_table",
                        f"mã trả lời {answer!r} không phải số.",
                        f"answer code {answer!r} is not a number.",
                        answer,
                    )
                pairs.append(
                    (answer_code, _number(score, f"{key}.answer_table.{answer}", minimum=0))
                )
            return Formula("answer_table", tuple(sorted(pairs)))
    _fail(key, "công thức không hợp lệ.", "invalid formula.", value)
    raise AssertionError  # unreachable


def _bands(value: Any, key: str, max_points: float) -> tuple[Band, ...]:
    if value in (None, "proportional"):
        return ()
    rows = value.get("bands") if isinstance(value, Mapping) else None
    if not isinstance(rows, list) or not rows:
        _fail(
            key,
            "cần 'proportional' hoặc {bands: [{min: ..., points: ...}, ...]}.",
            "expected 'proportional' or {bands: [{min: ..., points: ...}, ...]}.",
            value,
        )
    bands = []
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping) or set(row) != {"min", "points"}:
            _fail(
                f"{key}.bands[{i}]",
                "mỗi khoảng cần đúng hai khoá min và points.",
                "each band needs exactly the keys min and points.",
                row,
            )
        points = _number(row["points"], f"{key}.bands[{i}].points", minimum=0)
        if points > max_points + 1e-12:
            _fail(
                f"{key}.bands[{i}].points",
                f"điểm {points:g} vượt điểm tối đa {max_points:g}.",
                f"points {points:g} exceed the maximum {max_points:g}.",
                points,
            )
        bands.append(Band(_number(row["min"], f"{key}.bands[{i}].min"), points))
    return tuple(sorted(bands, key=lambda b: b.minimum, reverse=True))


def _check_against_spec(criterion: Criterion, position: int, spec: SurveySpec) -> None:
    key = f"criteria[{position}].source"
    if criterion.source_kind == "element":
        known = spec.element_codes
    elif criterion.source_kind in ("item", "items"):
        known = spec.item_codes
    else:
        known = ()
    for code in criterion.source_codes:
        if code not in known:
            guess = difflib.get_close_matches(code, list(known), n=1, cutoff=0.5)
            kind_vi = "yếu tố" if criterion.source_kind == "element" else "mục thang đo"
            hint_vi = f" (có phải '{guess[0]}'?)" if guess else ""
            hint_en = f" (did you mean '{guess[0]}'?)" if guess else ""
            _fail(
                key,
                f"{kind_vi} '{code}' không có trong bảng hỏi {spec.questionnaire_id}{hint_vi}.",
                f"{criterion.source_kind} '{code}' is not in questionnaire "
                f"{spec.questionnaire_id}{hint_en}.",
                code,
            )
    if criterion.formula.kind == "answer_table":
        table = dict(criterion.formula.table)
        items = _source_items(criterion, spec)
        missing = sorted({c for code in items for c in spec.item(code).scale if c not in table})
        if missing:
            _fail(
                f"criteria[{position}].formula.answer_table",
                f"bảng quy đổi thiếu mã trả lời {missing}.",
                f"the answer table lacks answer codes {missing}.",
                missing,
            )


def _source_items(criterion: Criterion, spec: SurveySpec) -> list[str]:
    if criterion.source_kind == "element":
        return list(spec.element(criterion.source_codes[0]).items)
    if criterion.source_kind == "overall":
        return [code for e in spec.elements for code in e.items]
    return list(criterion.source_codes)
