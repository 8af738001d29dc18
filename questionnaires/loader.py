"""Loading definitions: read YAML → validate → build the typed tree; and write YAML back.

Definition format (YAML, UTF-8)::

    id: sipas-citizen            # lower-case, digits, hyphens
    version: "2024"
    languages: [vi, en]          # every text must have each of these
    title: {vi: ..., en: ...}    # a text: a language mapping, or a plain string (vi)
    description: {vi: ..., en: ...}
    elements:                    # optional index elements (components)
      - {code: E1, title: {vi: ..., en: ...}}
    not_applicable: {code: 9, label: {vi: ..., en: ...}}   # used by `not_applicable: true`
    choice_lists:                # optional named, reusable choice lists
      gender: [{code: 1, label: {vi: Nam, en: Male}}, ...]
    sections:
      - code: A
        title: {...}
        intro: {...}             # optional
        questions:
          - code: a1             # stable export variable name
            type: single         # scale5 single multiple yesno text number date grid
            text: {...}
            hint: {...}          # optional
            choices: gender      # or a list of {code, label}; not for scale5/yesno
            required: true       # default true; ignored while not relevant
            not_applicable: true # or {code, label}
            relevant: "a0 = 1"   # see questionnaires.expressions
            element: E1          # scale5 / grid: the index element
            items: [{code, text, element}]   # grid only
            min: 0, max: 100, integer: true  # number only
            multiline: true, max_length: 2000  # text only

Built-in definitions live in ``questionnaires/library/<id>.v<version>.yaml``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from questionnaires.errors import QuestionnaireError
from questionnaires.model import (
    DEFAULT_LANGUAGE,
    DEFAULT_NOT_APPLICABLE,
    SCALE5_CHOICES,
    YESNO_CHOICES,
    Choice,
    Element,
    GridItem,
    Question,
    Questionnaire,
    QuestionType,
    Section,
    Text,
)
from questionnaires.validation import (
    DefinitionSyntaxError,
    DefinitionValidationError,
    Problem,
    validate_definition,
)

LIBRARY = Path(__file__).with_name("library")
_LIBRARY_NAME = re.compile(r"(?P<id>[a-z0-9][a-z0-9-]*)\.v(?P<version>[^/]+)\.ya?ml")


class QuestionnaireNotFoundError(QuestionnaireError):
    """No built-in questionnaire with this id (and version)."""

    def __init__(self, qid: str, version: str | None, available: list[str]):
        wanted = f"{qid} v{version}" if version else qid
        listed = ", ".join(available) or "—"
        self.message_vi = f"Không có bảng hỏi có sẵn «{wanted}». Có: {listed}"
        self.message_en = f"No built-in questionnaire «{wanted}». Available: {listed}"
        super().__init__(f"{self.message_vi} / {self.message_en}")


# --------------------------------------------------------------------------- reading YAML


class _LineDict(dict):
    """A mapping that remembers the YAML line it started on (for error messages)."""

    line: int | None = None


# libyaml's parser is about ten times faster than the pure-Python one; both are safe.
_SafeBase = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SafeBase):
    """Safe loader recording mapping lines and keys given twice."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self.duplicate_keys: list[Problem] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> _LineDict:
        self.flatten_mapping(node)
        mapping = _LineDict()
        mapping.line = node.start_mark.line + 1
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in mapping:
                self.duplicate_keys.append(
                    Problem(
                        "file",
                        "",
                        f"khoá «{key}» xuất hiện hai lần trong cùng một bảng",
                        f"key «{key}» appears twice in the same mapping",
                        key_node.start_mark.line + 1,
                    )
                )
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _LineLoader.construct_mapping
)


def read_definition(text: str, source: str | None = None) -> Any:
    """Parse YAML text into the raw definition; malformed YAML raises with its line."""
    loader = _LineLoader(text)
    try:
        raw = loader.get_single_data()
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else None
        column_vi = f", cột {mark.column + 1}" if mark else ""
        column_en = f", column {mark.column + 1}" if mark else ""
        reason = getattr(error, "problem", None) or str(error)
        raise DefinitionSyntaxError(
            [
                Problem(
                    "file",
                    "",
                    f"YAML không hợp lệ: {reason}{column_vi}",
                    f"malformed YAML: {reason}{column_en}",
                    line,
                )
            ],
            source,
        ) from None
    finally:
        loader.dispose()
    if loader.duplicate_keys:
        raise DefinitionSyntaxError(loader.duplicate_keys, source)
    return raw


# --------------------------------------------------------------------------- building


def _text(value: Any) -> Text | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return Text({str(k): str(v) for k, v in value.items()})
    return Text({DEFAULT_LANGUAGE: str(value)})


def _choice(node: Mapping) -> Choice:
    return Choice(int(node["code"]), _text(node["label"]))


def _build_question(node: Mapping, raw: Mapping) -> Question:
    qtype = QuestionType(node["type"])
    choices: tuple[Choice, ...] = ()
    if qtype is QuestionType.SCALE5:
        choices = SCALE5_CHOICES
    elif qtype is QuestionType.YESNO:
        choices = YESNO_CHOICES
    elif qtype.has_choices:
        given = node.get("choices")
        if isinstance(given, str):
            given = raw["choice_lists"][given]
        choices = tuple(_choice(c) for c in given) if given else SCALE5_CHOICES
    not_applicable = None
    na = node.get("not_applicable")
    if na is True:
        default = raw.get("not_applicable")
        not_applicable = _choice(default) if default else DEFAULT_NOT_APPLICABLE
    elif isinstance(na, Mapping):
        not_applicable = _choice(na)
    return Question(
        code=str(node["code"]),
        type=qtype,
        text=_text(node["text"]),
        hint=_text(node.get("hint")),
        choices=choices,
        required=node.get("required", True),
        not_applicable=not_applicable,
        relevant=node.get("relevant") or None,
        element=str(node["element"]) if node.get("element") is not None else None,
        items=tuple(
            GridItem(
                str(i["code"]),
                _text(i["text"]),
                str(i["element"]) if i.get("element") is not None else None,
            )
            for i in node.get("items") or ()
        ),
        minimum=node.get("min"),
        maximum=node.get("max"),
        integer=node.get("integer", True),
        multiline=node.get("multiline", False),
        max_length=node.get("max_length"),
    )


def _build(raw: Mapping) -> Questionnaire:
    return Questionnaire(
        id=str(raw["id"]),
        version=str(raw["version"]),
        title=_text(raw["title"]),
        description=_text(raw.get("description")),
        languages=tuple(raw.get("languages") or (DEFAULT_LANGUAGE,)),
        sections=tuple(
            Section(
                code=str(s["code"]),
                title=_text(s["title"]),
                intro=_text(s.get("intro")),
                questions=tuple(_build_question(q, raw) for q in s["questions"]),
            )
            for s in raw["sections"]
        ),
        index_elements=tuple(
            Element(str(e["code"]), _text(e["title"])) for e in raw.get("elements") or ()
        ),
        duration_minutes=_duration(raw.get("duration_minutes")),
        letter=tuple(
            (str(k), _text(v)) for k, v in (raw.get("letter") or {}).items() if k != "groups"
        ),
        letter_groups=tuple(
            (str(group), tuple((str(k), _text(v)) for k, v in texts.items()))
            for group, texts in ((raw.get("letter") or {}).get("groups") or {}).items()
        ),
    )


def _duration(value: Any) -> tuple[int, int] | None:
    if value is None:
        return None
    low, high = (value, value) if isinstance(value, int) else value
    return int(low), int(high)


def build_questionnaire(raw: Any, source: str | None = None) -> Questionnaire:
    """Validate a raw definition (a dict as read from YAML) and build the tree."""
    problems = validate_definition(raw)
    if problems:
        raise DefinitionValidationError(problems, source)
    return _build(raw)


def parse_questionnaire(text: str, source: str | None = None) -> Questionnaire:
    """Read, validate and build a definition given as YAML text."""
    return build_questionnaire(read_definition(text, source), source)


def load_questionnaire(path: str | Path) -> Questionnaire:
    """Read, validate and build the definition in a YAML file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DefinitionSyntaxError(
            [
                Problem(
                    "file",
                    str(path),
                    f"không đọc được tệp: {error}",
                    f"cannot read the file: {error}",
                )
            ]
        ) from None
    return parse_questionnaire(text, str(path))


# --------------------------------------------------------------------------- library


def _version_key(version: str) -> tuple:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.\-]", version))


def _library_files() -> list[tuple[str, str, Path]]:
    found = []
    for path in sorted(LIBRARY.glob("*.y*ml")):
        match = _LIBRARY_NAME.fullmatch(path.name)
        if match:
            found.append((match["id"], match["version"], path))
    return sorted(found, key=lambda f: (f[0], _version_key(f[1])))


@functools.lru_cache(maxsize=64)
def _load_cached(path: Path, mtime_ns: int, size: int) -> Questionnaire:
    del mtime_ns, size  # part of the cache key only: an edited file is read again
    return load_questionnaire(path)


def _load_library_file(path: Path) -> Questionnaire:
    # Trees are immutable, so web requests can share one parsed copy per file version.
    stat = path.stat()
    return _load_cached(path, stat.st_mtime_ns, stat.st_size)


def list_builtin() -> list[Questionnaire]:
    """Every built-in questionnaire (all versions), sorted by id then version."""
    return [_load_library_file(path) for _, _, path in _library_files()]


def load_builtin(qid: str, version: str | None = None) -> Questionnaire:
    """A built-in questionnaire; without ``version``, its latest version."""
    files = _library_files()
    matching = [f for f in files if f[0] == qid and (version is None or f[1] == str(version))]
    if not matching:
        raise QuestionnaireNotFoundError(qid, version, [f"{i} v{v}" for i, v, _ in files])
    return _load_library_file(matching[-1][2])


# --------------------------------------------------------------------------- writing


_SCALE_TYPES = (QuestionType.SCALE5, QuestionType.GRID)


def _text_out(text: Text | None) -> Any:
    return None if text is None else text.as_dict()


def _choice_out(choice: Choice) -> dict:
    return {"code": choice.code, "label": _text_out(choice.label)}


def _question_out(q: Question, has_elements: bool) -> dict:
    out: dict[str, Any] = {"code": q.code, "type": q.type.value, "text": _text_out(q.text)}
    if q.hint is not None:
        out["hint"] = _text_out(q.hint)
    if q.type in (QuestionType.SINGLE, QuestionType.MULTIPLE) or (
        q.type is QuestionType.GRID and q.choices != SCALE5_CHOICES
    ):
        out["choices"] = [_choice_out(c) for c in q.choices]
    if not q.required:
        out["required"] = False
    if q.not_applicable is not None:
        out["not_applicable"] = _choice_out(q.not_applicable)
    if q.relevant:
        out["relevant"] = q.relevant
    if q.element is not None or (has_elements and q.type in _SCALE_TYPES):
        out["element"] = q.element  # None is written as `element: null` (opted out)
    if q.items:
        out["items"] = [
            {"code": i.code, "text": _text_out(i.text)}
            | ({"element": i.element} if i.element else {})
            for i in q.items
        ]
    if q.type is QuestionType.NUMBER:
        if q.minimum is not None:
            out["min"] = q.minimum
        if q.maximum is not None:
            out["max"] = q.maximum
        if not q.integer:
            out["integer"] = False
    if q.type is QuestionType.TEXT:
        if q.multiline:
            out["multiline"] = True
        if q.max_length is not None:
            out["max_length"] = q.max_length
    return out


def to_definition(questionnaire: Questionnaire) -> dict:
    """The raw definition (plain dicts and lists) of a tree; inverse of building."""
    q = questionnaire
    out: dict[str, Any] = {
        "id": q.id,
        "version": q.version,
        "languages": list(q.languages),
        "title": _text_out(q.title),
    }
    if q.description is not None:
        out["description"] = _text_out(q.description)
    if q.index_elements:
        out["elements"] = [{"code": e.code, "title": _text_out(e.title)} for e in q.index_elements]
    if q.duration_minutes is not None:
        low, high = q.duration_minutes
        out["duration_minutes"] = low if low == high else [low, high]
    if q.letter or q.letter_groups:
        out["letter"] = {key: _text_out(text) for key, text in q.letter}
        if q.letter_groups:
            out["letter"]["groups"] = {
                group: {key: _text_out(text) for key, text in texts}
                for group, texts in q.letter_groups
            }
    out["sections"] = []
    for s in q.sections:
        section: dict[str, Any] = {"code": s.code, "title": _text_out(s.title)}
        if s.intro is not None:
            section["intro"] = _text_out(s.intro)
        section["questions"] = [_question_out(x, bool(q.index_elements)) for x in s.questions]
        out["sections"].append(section)
    return out


def dump_questionnaire(questionnaire: Questionnaire) -> str:
    """YAML text of a definition, readable by :func:`parse_questionnaire`."""
    return yaml.safe_dump(
        to_definition(questionnaire), allow_unicode=True, sort_keys=False, width=100
    )
