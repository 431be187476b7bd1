"""The small part of OData v2 Exact uses: $select, simple $filter, literals, row rendering."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

SELECT_MISSING = "Please add a $select or a $top=1 statement to the query string."
OPERATORS = ("eq", "ne", "gt", "ge", "lt", "le")

_TOKEN = re.compile(
    r"\s*(?:(?P<literal>(?:guid|datetime|datetimeoffset)?'(?:[^']|'')*')"
    r"|(?P<paren>[()])|(?P<word>[^\s()']+))",
    re.IGNORECASE,
)
_DATE = re.compile(r"^/Date\((-?\d+)\)/$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?[LlMmDdFf]?$")


class ODataError(Exception):
    """A query the sandbox (and Exact) refuses: HTTP 400 with this message."""


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: object
    kind: str  # guid, datetime, string, number, bool, null

    def test(self, row: dict) -> bool:
        return _compare(row.get(self.field), self.op, self.value, self.kind)


@dataclass(frozen=True)
class Junction:
    """``and`` / ``or`` over conditions and nested junctions."""

    op: str
    parts: tuple[Condition | Junction, ...]

    def test(self, row: dict) -> bool:
        if self.op == "and":
            return all(part.test(row) for part in self.parts)
        return any(part.test(row) for part in self.parts)


class Filter:
    """A parsed $filter. ``conditions`` lists them when they are only joined by ``and``."""

    def __init__(self, tree: Condition | Junction | None) -> None:
        self.tree = tree
        self.conditions = _and_conditions(tree)

    def test(self, row: dict) -> bool:
        return self.tree is None or self.tree.test(row)


def _and_conditions(tree: Condition | Junction | None) -> list[Condition] | None:
    if tree is None:
        return []
    if isinstance(tree, Condition):
        return [tree]
    if tree.op != "and":
        return None
    result: list[Condition] = []
    for part in tree.parts:
        found = _and_conditions(part)
        if found is None:
            return None
        result += found
    return result


def parse_select(text: str | None, fields: tuple[str, ...], type_name: str) -> list[str] | None:
    """The requested fields in order; None when no $select was given."""
    if text is None or not text.strip():
        return None
    names = [name.strip() for name in text.split(",") if name.strip()]
    if names == ["*"]:
        return list(fields)
    known = {name.lower(): name for name in fields}
    result = []
    for name in names:
        real = known.get(name.split("/")[0].lower())
        if real is None:
            raise ODataError(f"Property '{name}' does not exist on type '{type_name}'.")
        if real not in result:
            result.append(real)
    return result


def parse_filter(text: str | None, fields: tuple[str, ...], type_name: str) -> Filter:
    """Comparisons (eq ne gt ge lt le) joined by ``and`` / ``or``, with parentheses.

    No functions (substringof, startswith, ...): those answer 400 in the sandbox.
    """
    if text is None or not text.strip():
        return Filter(None)
    parser = _Parser(_tokens(text), {name.lower(): name for name in fields}, type_name)
    tree = parser.expression()
    if parser.position != len(parser.tokens):
        raise ODataError(f"Syntax error in $filter at '{parser.tokens[parser.position]}'.")
    return Filter(tree)


def _tokens(text: str) -> list[str]:
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ODataError(f"Syntax error in $filter near '{text[position : position + 20]}'.")
        tokens.append(match.group(match.lastgroup))
        position = match.end()
    return tokens


class _Parser:
    """expression := term ('or' term)*; term := factor ('and' factor)*;
    factor := '(' expression ')' | Field op literal"""

    def __init__(self, tokens: list[str], known: dict[str, str], type_name: str) -> None:
        self.tokens, self.known, self.type_name = tokens, known, type_name
        self.position = 0

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise ODataError("The $filter ends too early.")
        self.position += 1
        return token

    def expression(self) -> Condition | Junction:
        return self._joined("or", self.term)

    def term(self) -> Condition | Junction:
        return self._joined("and", self.factor)

    def _joined(self, word: str, part) -> Condition | Junction:
        parts = [part()]
        while (self.peek() or "").lower() == word:
            self.take()
            parts.append(part())
        return parts[0] if len(parts) == 1 else Junction(word, tuple(parts))

    def factor(self) -> Condition | Junction:
        if self.peek() == "(":
            self.take()
            inner = self.expression()
            if self.take() != ")":
                raise ODataError("Missing ')' in $filter.")
            return inner
        name, op, literal = self.take(), self.take().lower(), self.take()
        if op not in OPERATORS:
            raise ODataError(f"The filter near '{name} {op}' is not supported by the sandbox.")
        real = self.known.get(name.lower())
        if real is None:
            raise ODataError(f"No property '{name}' exists in type '{self.type_name}'.")
        value, kind = parse_literal(literal)
        return Condition(real, op, value, kind)


def parse_literal(text: str) -> tuple[object, str]:
    text = text.strip()
    lower = text.lower()
    if lower.startswith("guid'") and text.endswith("'"):
        return text[5:-1].strip("{}").lower(), "guid"
    if lower.startswith("datetime'") and text.endswith("'"):
        return _iso_ms(text[9:-1]), "datetime"
    if text.startswith("'") and text.endswith("'") and len(text) >= 2:
        return text[1:-1].replace("''", "'"), "string"
    if lower in ("true", "false"):
        return lower == "true", "bool"
    if lower == "null":
        return None, "null"
    if _NUMBER.match(text):
        digits = text.rstrip("LlMmDdFf")
        return (float(digits) if "." in digits else int(digits)), "number"
    raise ODataError(f"Unrecognized literal '{text}' in $filter.")


def _iso_ms(text: str) -> int:
    try:
        moment = datetime.fromisoformat(text.replace("Z", ""))
    except ValueError as error:
        raise ODataError(f"Unrecognized datetime literal '{text}'.") from error
    return int(moment.replace(tzinfo=UTC).timestamp() * 1000)


def date_ms(value: object) -> int | None:
    """Milliseconds from a stored '/Date(ms)/' value."""
    if not isinstance(value, str):
        return None
    match = _DATE.match(value)
    return int(match.group(1)) if match else None


def _compare(actual: object, op: str, expected: object, kind: str) -> bool:
    if kind == "null" or actual is None:
        same = actual is None and expected is None
        return same if op == "eq" else (not same if op == "ne" else False)
    if kind == "guid":
        actual = str(actual).lower()
    elif kind == "datetime":
        actual = date_ms(actual)
        if actual is None:
            return False
    elif kind == "string":
        actual, expected = str(actual).lower(), str(expected).lower()
    try:
        return _OPS[op](actual, expected)
    except TypeError:
        return False


_OPS: dict[str, Callable[[object, object], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
}


def odata_now(epoch: float) -> str:
    return f"/Date({int(epoch * 1000)})/"


def parse_int(text: str | None, name: str) -> int | None:
    if text is None or text == "":
        return None
    try:
        value = int(text)
    except ValueError as error:
        raise ODataError(f"Invalid value for {name}: '{text}'.") from error
    if value < 0:
        raise ODataError(f"Invalid value for {name}: '{text}'.")
    return value
