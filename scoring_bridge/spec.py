"""What the scoring bridge needs to know about a questionnaire, in one flat structure.

:class:`SurveySpec` lists the scale items (with their element, valid scale codes, the
not-applicable codes that leave denominators, and value labels), the index elements, and
the other export variables (choices, numbers, free text). It is built from a
:class:`questionnaires.model.Questionnaire` with :func:`spec_from_questionnaire`, or by
hand (tests, custom surveys).

Answer codes of scale items must lie in 1..120: code 0 is reserved for "no answer" in the
compact ``int8`` matrix the estimators read (see :mod:`scoring_bridge.inputs`).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

from scoring_bridge.errors import QuestionnaireSpecError

#: Largest answer code a scale item may use (codes are stored as int8, 0 = no answer).
MAX_CODE = 120


def nfc(text: Any) -> str:
    return unicodedata.normalize("NFC", str(text))


@dataclass(frozen=True)
class ScaleItem:
    """A scale question or grid item that enters the indices.

    ``scale`` holds the valid answer codes from worst to best (SIPAS: 1..5);
    ``satisfied`` the codes counted as satisfied (SIPAS: 4 "Hài lòng" and 5 "Rất hài
    lòng"); ``not_applicable`` the codes that leave the denominator (SIPAS: 9).
    """

    code: str
    element: str | None
    label_vi: str
    label_en: str
    scale: tuple[int, ...] = (1, 2, 3, 4, 5)
    not_applicable: tuple[int, ...] = (9,)
    value_labels: dict[int, str] = field(default_factory=dict)
    satisfied: tuple[int, ...] | None = None

    def satisfied_codes(self) -> tuple[int, ...]:
        return self.satisfied if self.satisfied is not None else tuple(self.scale[-2:])

    def allowed_codes(self) -> frozenset[int]:
        return frozenset(self.scale) | frozenset(self.not_applicable)


@dataclass(frozen=True)
class ElementSpec:
    code: str
    name_vi: str
    name_en: str
    items: tuple[str, ...]


@dataclass(frozen=True)
class OtherVariable:
    """A non-scale export variable: ``kind`` is ``choice``, ``number``, ``text`` or ``date``."""

    code: str
    label_vi: str
    label_en: str
    kind: str
    value_labels: dict[int, str] = field(default_factory=dict)
    missing_codes: tuple[int, ...] = ()


@dataclass(frozen=True)
class SurveySpec:
    questionnaire_id: str
    title_vi: str
    title_en: str
    items: tuple[ScaleItem, ...]
    elements: tuple[ElementSpec, ...]
    others: tuple[OtherVariable, ...] = ()

    def __post_init__(self) -> None:
        if not self.items:
            raise QuestionnaireSpecError(
                f"Bảng hỏi {self.questionnaire_id} không có câu hỏi thang đo nào để tính chỉ số.",
                f"Questionnaire {self.questionnaire_id} has no scale items to score.",
            )
        for item in self.items:
            bad = [c for c in item.allowed_codes() if not 1 <= c <= MAX_CODE]
            if bad:
                raise QuestionnaireSpecError(
                    f"Mục {item.code}: mã trả lời {bad} nằm ngoài 1..{MAX_CODE}.",
                    f"Item {item.code}: answer codes {bad} are outside 1..{MAX_CODE}.",
                    key=item.code,
                    value=bad,
                )

        codes = set(self.item_codes)
        for element in self.elements:
            unknown = [c for c in element.items if c not in codes]
            if unknown:
                raise QuestionnaireSpecError(
                    f"Yếu tố {element.code} chứa mục không phải thang đo: {unknown}.",
                    f"Element {element.code} lists items that are not scale items: {unknown}.",
                    key=element.code,
                    value=unknown,
                )

    def item(self, code: str) -> ScaleItem:
        for item in self.items:
            if item.code == code:
                return item
        raise KeyError(code)

    def element(self, code: str) -> ElementSpec:
        for element in self.elements:
            if element.code == code:
                return element
        raise KeyError(code)

    @property
    def item_codes(self) -> tuple[str, ...]:
        return tuple(item.code for item in self.items)

    @property
    def element_codes(self) -> tuple[str, ...]:
        return tuple(element.code for element in self.elements)


def spec_from_questionnaire(questionnaire: Any) -> SurveySpec:
    """Flatten a :class:`questionnaires.model.Questionnaire` into a :class:`SurveySpec`.

    Scale items are the ordinal export variables (5-point questions and grid items);
    their not-applicable choice becomes the code that leaves denominators.
    """
    items: list[ScaleItem] = []
    others: list[OtherVariable] = []
    for variable in questionnaire.variables():
        labels = {c.code: nfc(c.label.get("vi")) for c in variable.value_labels}
        if variable.measure == "ordinal":
            missing = tuple(variable.missing_codes)
            scale = tuple(c.code for c in variable.value_labels if c.code not in missing)
            items.append(
                ScaleItem(
                    code=variable.name,
                    element=variable.element,
                    label_vi=nfc(variable.label.get("vi")),
                    label_en=nfc(variable.label.get("en")),
                    scale=scale,
                    not_applicable=missing,
                    value_labels=labels,
                )
            )
        else:
            others.append(
                OtherVariable(
                    code=variable.name,
                    label_vi=nfc(variable.label.get("vi")),
                    label_en=nfc(variable.label.get("en")),
                    kind=_kind_of(variable),
                    value_labels=labels,
                    missing_codes=tuple(variable.missing_codes),
                )
            )
    elements = tuple(
        ElementSpec(e.code, nfc(e.title.get("vi")), nfc(e.title.get("en")), tuple(e.variables))
        for e in questionnaire.elements()
    )
    return SurveySpec(
        questionnaire_id=questionnaire.id,
        title_vi=nfc(questionnaire.title.get("vi")),
        title_en=nfc(questionnaire.title.get("en")),
        items=tuple(items),
        elements=elements,
        others=tuple(others),
    )


def _kind_of(variable: Any) -> str:
    type_name = str(getattr(variable.type, "value", variable.type))
    if type_name in ("text", "date"):
        return type_name
    if type_name == "number":
        return "number"
    return "choice"


def load_spec(questionnaire_id: str) -> SurveySpec:
    """The spec of a built-in questionnaire (``questionnaires.load_builtin``)."""
    # Deferred: questionnaires brings reportlab and qrcode, which scoring itself never needs.
    import questionnaires

    try:
        questionnaire = questionnaires.load_builtin(questionnaire_id)
    except (KeyError, LookupError, questionnaires.QuestionnaireError) as exc:
        raise QuestionnaireSpecError(
            f"Không nạp được bảng hỏi '{questionnaire_id}': {exc}",
            f"Cannot load questionnaire '{questionnaire_id}': {exc}",
            key="questionnaire",
            value=questionnaire_id,
        ) from exc
    return spec_from_questionnaire(questionnaire)
