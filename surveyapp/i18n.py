"""A tiny two-language helper: every message is written in Vietnamese and English.

``t(vi, en)`` returns the text for the visitor's language (session ``lang``, default
Vietnamese). Templates get ``t`` and ``lang``. Messages that must keep both languages
(errors in downloadable reports, CLI output) are formatted with :func:`both`.

Shown values go through one filter each, so every page writes them alike:
``{{ value|label }}`` for an enum member (tables declared next to each enum with
:func:`enum_labels`), ``{{ day|date }}`` (dd/mm/yyyy), ``{{ moment|datetime }}``
(stored naive UTC shown as local wall-clock time, with the zone stated), and numbers
in the visitor's language by Babel (Vietnamese ``3.243`` and ``10,2%``, English
``3,243`` and ``10.2%``): ``{{ count|number }}``, ``{{ index|number(1) }}`` and
``{{ share|percent(1) }}`` (a fraction, 0.102 → 10,2%).
"""

import enum
from collections.abc import Mapping
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from babel import Locale
from babel.numbers import parse_pattern
from flask import Flask, current_app, has_app_context, has_request_context, session
from markupsafe import escape

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
EMPTY = "—"
_ENUM_LABELS: dict[type[enum.Enum], Mapping[enum.Enum, tuple[str, str]]] = {}


def current_language() -> str:
    if has_request_context():
        lang = session.get("lang")
        if lang in LANGUAGES:
            return lang
    return DEFAULT_LANGUAGE


def t(vi: str, en: str) -> str:
    """The Vietnamese or English text, by the visitor's chosen language."""
    return en if current_language() == "en" else vi


def both(vi: str, en: str) -> str:
    """Both languages in one string (for reports and the command line)."""
    return f"{vi} / {en}"


def enum_labels(
    enum_class: type[enum.Enum], labels: Mapping[enum.Enum, tuple[str, str]]
) -> Mapping[enum.Enum, tuple[str, str]]:
    """Declare the (Vietnamese, English) label of every member of ``enum_class``.

    Fails at import when a member has no label, so a new member cannot reach a page raw.
    """
    missing = [member.value for member in enum_class if member not in labels]
    if missing:
        raise ValueError(f"{enum_class.__name__}: no label for {', '.join(missing)}")
    _ENUM_LABELS[enum_class] = labels
    return labels


def label(value: enum.Enum | None) -> str:
    """The visitor-language label of an enum member declared with :func:`enum_labels`."""
    if value is None:
        return EMPTY
    labels = _ENUM_LABELS.get(type(value))
    if labels is None:
        raise KeyError(f"{type(value).__name__} has no labels: declare them with enum_labels()")
    return t(*labels[value])


def timezone() -> ZoneInfo:
    """The zone staff read times in (config ``FIELDWORK_TIMEZONE``, default Vietnam)."""
    name = current_app.config.get("FIELDWORK_TIMEZONE") if has_app_context() else None
    return ZoneInfo(name or DEFAULT_TIMEZONE)


def zone_name(moment: datetime | None = None) -> str:
    """The local zone as a UTC offset, e.g. ``UTC+7`` (stated beside every time shown)."""
    offset = (moment or datetime.now(UTC)).astimezone(timezone()).utcoffset()
    minutes = int(offset.total_seconds() // 60)
    sign, minutes = ("+" if minutes >= 0 else "-"), abs(minutes)
    hours, rest = divmod(minutes, 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


DAY_FORMAT = "%d/%m/%Y"


def format_date(day: date | datetime | str | None) -> str:
    """A day as dd/mm/yyyy (the Vietnamese civil format, used in both languages)."""
    if day is None or day == "":
        return EMPTY
    if isinstance(day, str):
        day = date.fromisoformat(day[:10])
    if isinstance(day, datetime):
        day = _local(day).date()
    return day.strftime(DAY_FORMAT)


def local_day(moment: datetime) -> date:
    """The local calendar day of a stored time (naive UTC, or aware)."""
    return _local(moment).date()


def local_today() -> date:
    """Today in the local zone (Asia/Ho_Chi_Minh unless configured otherwise)."""
    return datetime.now(timezone()).date()


def local_isoformat(moment: datetime | None) -> str:
    """A stored time for CSV/XLSX cells: local, ISO 8601 with its offset, to the minute
    (``2026-12-08 11:52+07:00``), so spreadsheets sort it and nobody reads UTC as local."""
    if moment is None:
        return ""
    return _local(moment).isoformat(sep=" ", timespec="minutes")


def _local(moment: datetime) -> datetime:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(timezone())


def format_datetime(moment: datetime | str | None, zone: bool = True) -> str:
    """A stored time (naive UTC, or aware, or ISO text) as local ``dd/mm/yyyy HH:MM``.

    ``zone=False`` leaves out the ``(UTC+7)`` suffix, for table cells whose column
    heading states the zone (:func:`zone_name`).
    """
    if moment is None or moment == "":
        return EMPTY
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    local = _local(moment)
    text = local.strftime(f"{DAY_FORMAT} %H:%M")
    return f"{text} ({zone_name(moment)})" if zone else text


def _missing(value) -> bool:
    """None, text, NaN or pandas' NA (whose comparisons are neither true nor false)."""
    if value is None or isinstance(value, str):
        return True
    try:
        return bool(value != value)
    except TypeError:
        return True


def _formatted(value, digits: int, kind: str, signed: bool) -> str:
    if _missing(value):
        return EMPTY
    locale = Locale.parse(current_language())
    formats = locale.percent_formats if kind == "percent" else locale.decimal_formats
    pattern = parse_pattern(formats[None].pattern)
    pattern.frac_prec = (digits, digits)
    text = pattern.apply(value, locale)
    return f"+{text}" if signed and value > 0 else text


def format_number(value, digits: int = 0, signed: bool = False) -> str:
    """A number with ``digits`` decimals, separators of the visitor's language
    (``3.243``/``87,1`` in Vietnamese, ``3,243``/``87.1`` in English); ``signed`` adds "+"."""
    return _formatted(value, digits, "decimal", signed)


def format_percent(value, digits: int = 0, signed: bool = False) -> str:
    """A fraction as a percentage in the visitor's language (0.102 → ``10,2%`` / ``10.2%``)."""
    return _formatted(value, digits, "percent", signed)


def init_app(app: Flask) -> None:
    @app.context_processor
    def _inject_language() -> dict:
        return {"t": t, "lang": current_language(), "zone_name": zone_name}

    app.add_template_filter(label, "label")
    app.add_template_filter(format_date, "date")
    app.add_template_filter(format_datetime, "datetime")
    app.add_template_filter(format_number, "number")
    app.add_template_filter(format_percent, "percent")


class LazyText:
    """Text chosen when displayed (for messages defined at import, e.g. form validators)."""

    __slots__ = ("vi", "en")

    def __init__(self, vi: str, en: str):
        self.vi, self.en = vi, en

    def __str__(self) -> str:
        return t(self.vi, self.en)

    def __html__(self) -> str:
        return str(escape(str(self)))

    def __eq__(self, other) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash((self.vi, self.en))

    def __repr__(self) -> str:
        return f"LazyText({self.vi!r}, {self.en!r})"


def lt(vi: str, en: str) -> LazyText:
    """Lazy :func:`t`: resolved in the visitor's language when rendered."""
    return LazyText(vi, en)
