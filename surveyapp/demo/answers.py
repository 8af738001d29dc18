"""Plausible answers for any questionnaire, walked from its tree.

Questions are visited in order and answered only when relevant given the answers so
far (the same relevance the web form applies), so the result passes
:func:`questionnaires.clean_answers`, which the caller runs anyway to be sure.

Satisfaction items follow a simple latent-trait model: each respondent has a mood drawn
around the rated unit's level, and each 1–5 item is the mood plus item noise, rounded
and clipped; a few items are answered "don't know / not applicable" where the question
allows it. Optional questions are left out now and then, as people do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np

from questionnaires import Question, Questionnaire, QuestionType, clean_answers

SUGGESTIONS = (
    "Cần bố trí thêm chỗ ngồi chờ tại Bộ phận một cửa.",
    "Mong cán bộ hướng dẫn kỹ hơn khi nộp hồ sơ trực tuyến.",
    "Nên gửi tin nhắn báo khi hồ sơ có kết quả.",
    "Thủ tục còn yêu cầu nhiều bản sao giấy tờ, đề nghị giảm bớt.",
    "Cán bộ tiếp nhận nhiệt tình, chu đáo. Xin cảm ơn.",
    "Cổng dịch vụ công đôi lúc bị lỗi khi tải tệp lên.",
    "Đề nghị niêm yết phí, lệ phí rõ ràng hơn.",
)
NOT_APPLICABLE_SHARE = 0.04
OPTIONAL_ANSWERED_SHARE = 0.75


def _scale(rng: np.random.Generator, mood: float, q: Question) -> int:
    if q.not_applicable is not None and rng.random() < NOT_APPLICABLE_SHARE:
        return q.not_applicable.code
    value = int(np.clip(round(mood + rng.normal(0.0, 0.7)), 1, 5))
    codes = sorted(c.code for c in q.choices)
    # Scales with other codes than 1..5 keep the same position on their own list.
    return codes[round((value - 1) / 4 * (len(codes) - 1))]


def _value(rng: np.random.Generator, q: Question, mood: float) -> Any:
    if q.type is QuestionType.SCALE5:
        return _scale(rng, mood, q)
    if q.type is QuestionType.YESNO:
        return 1 if rng.random() < 0.3 else 2
    if q.type is QuestionType.SINGLE:
        return int(rng.choice([c.code for c in q.choices]))
    if q.type is QuestionType.MULTIPLE:
        codes = [c.code for c in q.choices]
        size = int(rng.integers(1 if q.required else 0, min(3, len(codes)) + 1))
        return tuple(sorted(int(c) for c in rng.choice(codes, size=size, replace=False)))
    if q.type is QuestionType.NUMBER:
        low = int(q.minimum) if q.minimum is not None else 0
        high = int(q.maximum) if q.maximum is not None else low + 10
        return int(rng.integers(low, high + 1))
    if q.type is QuestionType.DATE:
        return dt.date(2024, 1, 1) + dt.timedelta(days=int(rng.integers(0, 270)))
    if q.type is QuestionType.TEXT:
        if q.multiline or q.required:
            return str(rng.choice(SUGGESTIONS))
        return None  # names of agencies and procedures: most people leave them blank
    raise ValueError(f"unknown question type {q.type}")


def simulate_answers(
    questionnaire: Questionnaire,
    rng: np.random.Generator,
    *,
    level: float = 4.0,
    preset: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A cleaned answer set for ``questionnaire``.

    ``level`` is the rated unit's typical satisfaction on the 1–5 scale; ``preset``
    fixes answers the caller knows (e.g. the level of the rated unit, a month in the
    survey period), used whenever the question is relevant.
    """
    preset = preset or {}
    mood = float(np.clip(rng.normal(level, 0.6), 1.0, 5.0))
    answers: dict[str, Any] = {}
    for q in questionnaire.questions():
        if not q.is_relevant(answers):
            continue
        if not q.required and q.code not in preset and rng.random() > OPTIONAL_ANSWERED_SHARE:
            continue
        if q.type is QuestionType.GRID:
            for item in q.items:
                answers[item.code] = _scale(rng, mood, q)
            continue
        value = preset.get(q.code, _value(rng, q, mood))
        if value is not None and value != ():
            answers[q.code] = value
    return clean_answers(questionnaire, answers)
