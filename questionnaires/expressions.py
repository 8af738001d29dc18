"""A small, safe relevance (skip-logic) language: tokenizer, recursive-descent parser, AST.

Nothing is ever passed to ``eval``. Grammar (keywords in lower case)::

    expr       := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | primary
    primary    := "(" expr ")"
                | "selected" "(" CODE "," literal ")"
                | "answered" "(" CODE ")"
                | CODE ("=" | "!=" | "<" | "<=" | ">" | ">=") literal
                | CODE "in" "(" literal ("," literal)* ")"
    literal    := integer | decimal | 'string' | "string"

Example: ``q5 = 1 and (q6 != 2 or not answered(q7))``.

Unanswered semantics (the same as ODK/XLSForm XPath, so exported forms behave alike):
an unanswered question (absent, ``None``, ``""`` or an empty selection) behaves like a
NaN: ``=``, ``<``, ``<=``, ``>``, ``>=``, ``in`` and ``selected`` are false and ``!=`` is
true. ``not`` is plain boolean negation. Use ``answered(q)`` to test explicitly. Codes
compare as numbers; note that a not-applicable code (e.g. 9) is a number like any other,
so write ``q5 in (4, 5)`` rather than ``q5 >= 4``.

:meth:`Expression.to_xpath` writes the XLSForm form (``${q5} = 1``) and
:func:`parse_xpath` reads back the XPath subset that XLSForm tools produce for these
constructs (``selected(${q}, '3')``, ``${q} != ''``, ``not(...)``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from questionnaires.errors import QuestionnaireError

Literal = int | float | str


class ExpressionError(QuestionnaireError):
    """A relevance expression that cannot be parsed; ``position`` is 0-based."""

    def __init__(self, source: str, position: int, message_vi: str, message_en: str):
        self.source = source
        self.position = position
        self.message_vi = f"{message_vi} (vị trí {position + 1} trong «{source}»)"
        self.message_en = f"{message_en} (at position {position + 1} in «{source}»)"
        super().__init__(f"{self.message_vi} / {self.message_en}")


# --------------------------------------------------------------------------- AST


def _is_unanswered(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, (list, tuple, set)) and not value)


def _comparable(value: Any, literal: Literal) -> tuple[Any, Any] | None:
    """Bring an answer and a literal to one type, or ``None`` when they do not compare."""
    if isinstance(value, bool):
        value = int(value)
    if isinstance(literal, (int, float)):
        if isinstance(value, (int, float)):
            return value, literal
        if isinstance(value, str):
            try:
                return float(value), literal
            except ValueError:
                return None
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10], literal
    if isinstance(value, (int, float)):
        return str(value), literal
    if isinstance(value, str):
        return value, literal
    return None


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "=":
        return left == right
    if op == "!=":
        return left != right
    if op == "<":
        return left < right
    if op == "<=":
        return left <= right
    if op == ">":
        return left > right
    return left >= right


def _literal_source(value: Literal) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "\\'") + "'"
    return repr(value)


def _literal_xpath(value: Literal) -> str:
    if isinstance(value, str):
        # XPath 1.0 has no escapes: pick the quote the string does not contain.
        return f'"{value}"' if "'" in value else f"'{value}'"
    return repr(value)


class Expression:
    """Base of the AST nodes."""

    def evaluate(self, answers: Mapping[str, Any]) -> bool:
        raise NotImplementedError

    def references(self) -> Iterator[str]:
        """The answer codes this expression reads, in order of appearance."""
        raise NotImplementedError

    def to_source(self) -> str:
        raise NotImplementedError

    def to_xpath(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.to_source()


@dataclass(frozen=True)
class Compare(Expression):
    code: str
    op: str
    value: Literal

    def evaluate(self, answers: Mapping[str, Any]) -> bool:
        answer = answers.get(self.code)
        if _is_unanswered(answer) or isinstance(answer, (list, tuple, set)):
            return self.op == "!="
        pair = _comparable(answer, self.value)
        if pair is None:
            return self.op == "!="
        return _compare(self.op, *pair)

    def references(self) -> Iterator[str]:
        yield self.code

    def to_source(self) -> str:
        return f"{self.code} {self.op} {_literal_source(self.value)}"

    def to_xpath(self) -> str:
        return f"${{{self.code}}} {self.op} {_literal_xpath(self.value)}"


@dataclass(frozen=True)
class InList(Expression):
    code: str
    values: tuple[Literal, ...]

    def evaluate(self, answers: Mapping[str, Any]) -> bool:
        return any(Compare(self.code, "=", v).evaluate(answers) for v in self.values)

    def references(self) -> Iterator[str]:
        yield self.code

    def to_source(self) -> str:
        return f"{self.code} in ({', '.join(_literal_source(v) for v in self.values)})"

    def to_xpath(self) -> str:
        parts = [Compare(self.code, "=", v).to_xpath() for v in self.values]
        return "(" + " or ".join(parts) + ")"


@dataclass(frozen=True)
class Selected(Expression):
    code: str
    value: Literal

    def evaluate(self, answers: Mapping[str, Any]) -> bool:
        answer = answers.get(self.code)
        if _is_unanswered(answer):
            return False
        chosen = answer if isinstance(answer, (list, tuple, set)) else (answer,)
        return any(Compare(self.code, "=", self.value).evaluate({self.code: c}) for c in chosen)

    def references(self) -> Iterator[str]:
        yield self.code

    def to_source(self) -> str:
        return f"selected({self.code}, {_literal_source(self.value)})"

    def to_xpath(self) -> str:
        return f"selected(${{{self.code}}}, '{self.value}')"


@dataclass(frozen=True)
class Answered(Expression):
    code: str

    def evaluate(self, answers: Mapping[str, Any]) -> bool:
        return not _is_unanswered(answers.get(self.code))

    def references(self) -> Iterator[str]:
        yield self.code

    def to_source(self) -> str:
        return f"answered({self.code})"

    def to_xpath(self) -> str:
        return f"${{{self.code}}} != ''"


@dataclass(frozen=True)
class Not(Expression):
    operand: Expression

    def evaluate(self, answers: Mapping[str, Any]) -> bool:
        return not self.operand.evaluate(answers)

    def references(self) -> Iterator[str]:
        yield from self.operand.references()

    def to_source(self) -> str:
        return f"not {_wrapped(self.operand)}"

    def to_xpath(self) -> str:
        return f"not({self.operand.to_xpath()})"


@dataclass(frozen=True)
class BoolOp(Expression):
    op: str  # "and" | "or"
    operands: tuple[Expression, ...]

    def evaluate(self, answers: Mapping[str, Any]) -> bool:
        if self.op == "and":
            return all(o.evaluate(answers) for o in self.operands)
        return any(o.evaluate(answers) for o in self.operands)

    def references(self) -> Iterator[str]:
        for operand in self.operands:
            yield from operand.references()

    def to_source(self) -> str:
        return f" {self.op} ".join(_wrapped(o) for o in self.operands)

    def to_xpath(self) -> str:
        parts = []
        for o in self.operands:
            text = o.to_xpath()
            parts.append(f"({text})" if isinstance(o, BoolOp) else text)
        return f" {self.op} ".join(parts)


def _wrapped(node: Expression) -> str:
    if isinstance(node, BoolOp):
        return f"({node.to_source()})"
    return node.to_source()


# --------------------------------------------------------------------------- tokenizer


@dataclass(frozen=True)
class Token:
    kind: str  # "code", "ref", "number", "string", "op", "(", ")", ",", "word", "end"
    text: str
    value: Any
    position: int


_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<ref>\$\{\s*[A-Za-z_][A-Za-z0-9_.\-]*\s*\})
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<op>!=|<=|>=|==|=|<|>)
  | (?P<punct>[(),])
  | (?P<word>[A-Za-z_][A-Za-z0-9_.\-]*)
    """,
    re.VERBOSE,
)


def _tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None:
            raise ExpressionError(
                source,
                position,
                f"ký tự không hợp lệ «{source[position]}»",
                f"unexpected character «{source[position]}»",
            )
        kind = match.lastgroup
        text = match.group()
        if kind == "number":
            tokens.append(
                Token("number", text, float(text) if "." in text else int(text), position)
            )
        elif kind == "string":
            value = re.sub(r"\\(.)", r"\1", text[1:-1])
            tokens.append(Token("string", text, value, position))
        elif kind == "ref":
            tokens.append(Token("ref", text, text[2:-1].strip(), position))
        elif kind == "op":
            tokens.append(Token("op", text, "=" if text == "==" else text, position))
        elif kind == "punct":
            tokens.append(Token(text, text, text, position))
        elif kind == "word":
            tokens.append(Token("word", text, text, position))
        position = match.end()
    tokens.append(Token("end", "", None, len(source)))
    return tokens


# --------------------------------------------------------------------------- parser


class _Parser:
    """Recursive descent over tokens; ``xpath`` switches to the XLSForm dialect."""

    def __init__(self, source: str, *, xpath: bool):
        self.source = source
        self.xpath = xpath
        self.tokens = _tokenize(source)
        self.index = 0

    # -- helpers
    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.current
        self.index += 1
        return token

    def fail(self, token: Token, vi: str, en: str) -> ExpressionError:
        return ExpressionError(self.source, token.position, vi, en)

    def is_word(self, word: str) -> bool:
        return self.current.kind == "word" and self.current.text == word

    def expect(self, kind: str) -> Token:
        token = self.current
        if token.kind != kind:
            shown = token.text or "hết biểu thức / end"
            raise self.fail(
                token, f"cần «{kind}» nhưng gặp «{shown}»", f"expected «{kind}» but found «{shown}»"
            )
        return self.advance()

    # -- grammar
    def parse(self) -> Expression:
        if self.current.kind == "end":
            raise self.fail(self.current, "biểu thức rỗng", "empty expression")
        node = self.parse_or()
        if self.current.kind != "end":
            raise self.fail(
                self.current,
                f"thừa «{self.current.text}» ở cuối biểu thức",
                f"unexpected «{self.current.text}» after the end of the expression",
            )
        return node

    def parse_or(self) -> Expression:
        operands = [self.parse_and()]
        while self.is_word("or"):
            self.advance()
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else BoolOp("or", tuple(operands))

    def parse_and(self) -> Expression:
        operands = [self.parse_not()]
        while self.is_word("and"):
            self.advance()
            operands.append(self.parse_not())
        return operands[0] if len(operands) == 1 else BoolOp("and", tuple(operands))

    def parse_not(self) -> Expression:
        if self.is_word("not"):
            self.advance()
            if self.xpath:
                self.expect("(")
                inner = self.parse_or()
                self.expect(")")
                return Not(inner)
            return Not(self.parse_not())
        return self.parse_primary()

    def parse_primary(self) -> Expression:
        token = self.current
        if token.kind == "(":
            self.advance()
            inner = self.parse_or()
            self.expect(")")
            return inner
        if self.is_word("selected"):
            self.advance()
            self.expect("(")
            code = self.parse_reference()
            self.expect(",")
            value = self.parse_literal()
            self.expect(")")
            if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
                value = int(value)
            return Selected(code, value)
        if self.is_word("answered") and not self.xpath:
            self.advance()
            self.expect("(")
            code = self.parse_reference()
            self.expect(")")
            return Answered(code)
        code = self.parse_reference()
        return self.parse_condition(code)

    def parse_condition(self, code: str) -> Expression:
        token = self.current
        if token.kind == "op":
            self.advance()
            value = self.parse_literal()
            if self.xpath and value == "" and token.value in ("=", "!="):
                return Answered(code) if token.value == "!=" else Not(Answered(code))
            if self.xpath and isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
                value = int(value)  # XLSForm writes choice names quoted: ${q} = '1'
            return Compare(code, token.value, value)
        if self.is_word("in") and not self.xpath:
            self.advance()
            self.expect("(")
            values = [self.parse_literal()]
            while self.current.kind == ",":
                self.advance()
                values.append(self.parse_literal())
            self.expect(")")
            return InList(code, tuple(values))
        shown = token.text or "hết biểu thức / end"
        raise self.fail(
            token,
            f"sau «{code}» cần một phép so sánh (=, !=, <, <=, >, >={'' if self.xpath else ', in'}), gặp «{shown}»",
            f"expected a comparison (=, !=, <, <=, >, >={'' if self.xpath else ', in'}) after «{code}», found «{shown}»",
        )

    def parse_reference(self) -> str:
        token = self.current
        if self.xpath and token.kind == "ref":
            return self.advance().value
        if not self.xpath and token.kind == "word" and token.text not in _KEYWORDS:
            return self.advance().value
        shown = token.text or "hết biểu thức / end"
        wanted = "${mã}" if self.xpath else "mã câu hỏi"
        wanted_en = "${name}" if self.xpath else "a question code"
        raise self.fail(
            token, f"cần {wanted}, gặp «{shown}»", f"expected {wanted_en}, found «{shown}»"
        )

    def parse_literal(self) -> Literal:
        token = self.current
        if token.kind in ("number", "string"):
            return self.advance().value
        shown = token.text or "hết biểu thức / end"
        raise self.fail(
            token,
            f"cần một số hoặc chuỗi trong dấu nháy, gặp «{shown}»",
            f"expected a number or a quoted string, found «{shown}»",
        )


_KEYWORDS = frozenset({"and", "or", "not", "in", "selected", "answered"})


@lru_cache(maxsize=4096)
def parse_expression(source: str) -> Expression:
    """Parse a relevance expression; raises :class:`ExpressionError` naming the position."""
    return _Parser(source, xpath=False).parse()


def parse_xpath(source: str) -> Expression:
    """Parse the XLSForm ``relevant`` subset (``${q} = 1``, ``selected(${q}, '2')``, ...)."""
    return _Parser(source, xpath=True).parse()


def evaluate(source: str, answers: Mapping[str, Any]) -> bool:
    """Convenience: parse (cached) and evaluate."""
    return parse_expression(source).evaluate(answers)
