"""Year on year across a reorganisation of units: the previous year's index of each
current unit, combined from its predecessors through a crosswalk.

``links`` has one row per (old unit, new unit): columns ``old``, ``new``, ``share`` (the
part of the old unit that went to the new one; empty = all of it, or equal parts when
the old unit went to several new units and nobody knows the shares) and ``population``
(people of that part, for the population rule). The combination rule is stated with
every figure:

* ``responses``: the predecessors' indices weighted by their valid responses last year
  (times the share for a part of a split unit). It treats last year's respondents as
  this year's unit's respondents would have been.
* ``population``: weighted by the people of each part; every part needs its population.
* ``not_comparable``: no previous figure (the Department decides the change of
  structure makes any comparison misleading).

A current unit is compared like for like only when it has exactly one predecessor, which
went wholly to it. Otherwise the note says how the figure was made: merged from which
units, part of a split unit, predecessors without results.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd

from scoring_bridge.errors import ScoringError

RULES = ("responses", "population", "not_comparable")
RULE_LABELS = {
    "responses": ("bình quân theo số phiếu", "weighted by responses"),
    "population": ("bình quân theo dân số", "weighted by population"),
    "not_comparable": ("không so sánh", "not comparable"),
}
COLUMNS = [
    "unit",
    "overall_index",
    "previous_units",
    "previous_basis",
    "like_for_like",
    "previous_note",
    "previous_note_en",
]


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def combine_previous(
    previous: pd.DataFrame,
    links: pd.DataFrame,
    rule: str = "responses",
    *,
    names: dict[str, str] | None = None,
    current_units: Iterable[str] = (),
    partial: Iterable[str] = (),
) -> pd.DataFrame:
    """One row per current unit (those in ``links`` and ``current_units``): the combined
    previous ``overall_index`` (NaN when there is none) and how it was made.

    ``previous`` has columns ``unit`` and ``overall_index`` and, for the responses rule,
    ``responses``. ``partial`` names current units that also took in units the crosswalk
    does not cover (e.g. a department of a merged province): never like for like.
    """
    if rule not in RULES:
        raise ScoringError(
            f"Quy tắc so sánh không hợp lệ: {rule}.",
            f"Unknown comparison rule: {rule} (one of {', '.join(RULES)}).",
            value=rule,
        )
    if rule == "responses" and "responses" not in previous.columns:
        raise ScoringError(
            "Kết quả năm trước cần cột 'responses' để bình quân theo số phiếu.",
            "The previous results need a 'responses' column to weight by responses.",
            column="responses",
        )
    names = names or {}
    indexed = previous.assign(unit=previous["unit"].astype(str)).set_index("unit")
    index_of = pd.to_numeric(indexed["overall_index"], errors="coerce").to_dict()
    responses_of = (
        pd.to_numeric(indexed["responses"], errors="coerce").to_dict()
        if "responses" in indexed
        else {}
    )
    links = links.assign(old=links["old"].astype(str))
    successors = links[links["new"].notna()].groupby("old")["new"].nunique().to_dict()
    partial = {str(u) for u in partial}
    rows = []
    by_new = {str(new): group for new, group in links[links["new"].notna()].groupby("new")}
    for unit in sorted(set(by_new) | {str(u) for u in current_units}):
        group = by_new.get(unit)
        if group is None:
            rows.append(_row(unit, math.nan, [], rule, False, "Đơn vị mới, không có đơn vị tiền thân.",
                             "A new unit with no predecessor."))  # fmt: skip
            continue
        row = _combine(unit, group, rule, index_of, responses_of, successors, names)
        if unit in partial:
            row["like_for_like"] = False
            extra_vi = "chỉ gồm phần đơn vị tiền thân có trong danh mục cũ"
            extra_en = "covers only the predecessors in the earlier registry"
            row["previous_note"] = "; ".join(x for x in (row["previous_note"], extra_vi) if x)
            row["previous_note_en"] = "; ".join(x for x in (row["previous_note_en"], extra_en) if x)
            row["previous_note"] = row["previous_note"][:1].upper() + row["previous_note"][1:]
            row["previous_note_en"] = (
                row["previous_note_en"][:1].upper() + row["previous_note_en"][1:]
            )
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def _row(unit, value, predecessors, rule, like, note_vi, note_en) -> dict:
    return {
        "unit": unit,
        "overall_index": value,
        "previous_units": "; ".join(predecessors),
        "previous_basis": rule,
        "like_for_like": like,
        "previous_note": note_vi,
        "previous_note_en": note_en,
    }


def _combine(unit, group, rule, index_of, responses_of, successors, names) -> dict:
    parts = []  # (old code, share, population, index, responses)
    for link in group.itertuples():
        count = successors.get(link.old, 1)
        share = link.share if not _missing(getattr(link, "share", None)) else None
        assumed = share is None and count > 1
        share = share if share is not None else 1.0 / count
        population = getattr(link, "population", None)
        population = None if _missing(population) else float(population)
        parts.append(
            (
                link.old,
                share,
                assumed,
                population,
                index_of.get(link.old),
                responses_of.get(link.old),
            )
        )
    predecessors = [p[0] for p in parts]
    label = [f"{names.get(p[0], p[0])}" for p in parts]
    like = len(parts) == 1 and parts[0][1] == 1.0 and successors.get(parts[0][0], 1) == 1
    notes_vi, notes_en = [], []
    if len(parts) > 1:
        notes_vi.append(f"Gộp từ {len(parts)} đơn vị: {', '.join(label)}")
        notes_en.append(f"Merged from {len(parts)} units: {', '.join(label)}")
    for old, share, assumed, *_ in parts:
        if share < 1.0:
            how = "chia đều, chưa rõ tỷ lệ" if assumed else f"tỷ lệ {share:g}"
            how_en = "equal parts, shares unknown" if assumed else f"share {share:g}"
            notes_vi.append(f"một phần của {names.get(old, old)} ({how})")
            notes_en.append(f"part of {names.get(old, old)} ({how_en})")
    if rule == "not_comparable":
        return _row(unit, math.nan, predecessors, rule, False,
                    "; ".join(["Không so sánh (theo quyết định của Sở)", *notes_vi]),
                    "; ".join(["Not compared (the Department's decision)", *notes_en]))  # fmt: skip
    with_results = [p for p in parts if not _missing(p[4])]
    without = [names.get(p[0], p[0]) for p in parts if _missing(p[4])]
    if len(without) > 3:
        notes_vi.append(f"{len(without)}/{len(parts)} đơn vị tiền thân không có kết quả năm trước")
        notes_en.append(f"{len(without)} of {len(parts)} predecessors had no previous result")
    elif without:
        notes_vi.append(f"không có kết quả năm trước: {', '.join(without)}")
        notes_en.append(f"no previous result: {', '.join(without)}")
    weights = []
    for old, share, _, population, _, responses in with_results:
        if rule == "population":
            if population is None:
                return _row(unit, math.nan, predecessors, rule, False,
                            "; ".join([*notes_vi, f"thiếu dân số của {names.get(old, old)}: không so sánh"]),
                            "; ".join([*notes_en, f"no population for {names.get(old, old)}: not compared"]))  # fmt: skip
            weights.append(population)
        else:
            weights.append(share * (0.0 if _missing(responses) else float(responses)))
    total = sum(weights)
    if not with_results or total <= 0:
        return _row(unit, math.nan, predecessors, rule, False,
                    "; ".join([*notes_vi, "không có số liệu để so sánh"]),
                    "; ".join([*notes_en, "nothing to compare with"]))  # fmt: skip
    value = sum(w * p[4] for w, p in zip(weights, with_results, strict=True)) / total
    like = like and not without
    if not like:
        basis_vi, basis_en = RULE_LABELS[rule]
        notes_vi.append(basis_vi)
        notes_en.append(basis_en)
    note_vi = "; ".join(notes_vi)
    note_en = "; ".join(notes_en)
    return _row(unit, value, predecessors, rule, like,
                note_vi[:1].upper() + note_vi[1:], note_en[:1].upper() + note_en[1:])  # fmt: skip
