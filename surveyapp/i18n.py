"""A tiny two-language helper: every message is written in Vietnamese and English.

``t(vi, en)`` returns the text for the visitor's language (session ``lang``, default
Vietnamese). Templates get ``t`` and ``lang``. Messages that must keep both languages
(errors in downloadable reports, CLI output) are formatted with :func:`both`.
"""

from flask import Flask, has_request_context, session

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"


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


def init_app(app: Flask) -> None:
    @app.context_processor
    def _inject_language() -> dict:
        return {"t": t, "lang": current_language()}


class LazyText:
    """Text chosen when displayed (for messages defined at import, e.g. form validators)."""

    __slots__ = ("vi", "en")

    def __init__(self, vi: str, en: str):
        self.vi, self.en = vi, en

    def __str__(self) -> str:
        return t(self.vi, self.en)

    def __html__(self) -> str:
        from markupsafe import escape

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
