"""CHECK constraints as pg_get_constraintdef prints them, read into per-column rules the generator can use.

Understood: a conjunction (AND) of comparisons of one column with a literal (``x >= 0``, ``x <> ''``),
of ``length(x)`` with a number, and vocabularies (``x = ANY (ARRAY[...])``, ``x = 'only'``); casts are
ignored. Anything else is "unknown": the engine filters the rows it rejects instead of reporting them.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from harness.fuzz.kinds import Kind


@dataclass(frozen=True)
class CheckRule:
    """One conjunct of a CHECK constraint on one column.

    ``op`` is ``in`` (``values`` is the vocabulary) or a comparison (``= <> < <= > >=``) against
    ``values[0]``; ``on_length`` compares ``length(column)`` instead. Literals stay text until a column
    kind coerces them.
    """

    constraint: str
    column: str
    op: str
    values: tuple[str, ...]
    on_length: bool = False


@dataclass(frozen=True)
class ParsedCheck:
    """A CHECK definition: its rules when every conjunct is understood, else ``rules`` is empty."""

    constraint: str
    rules: tuple[CheckRule, ...]
    known: bool


_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<qid>\"(?:[^\"]|\"\")*\")|(?P<num>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
    r"|(?P<cast>::)|(?P<op><>|!=|<=|>=|=|<|>)|(?P<punct>[()\[\],])|(?P<word>[A-Za-z_][\w$]*)|(?P<minus>-))"
)
_TYPE_WORDS = {"character", "varying", "double", "precision", "with", "without", "time", "zone", "timestamp"}
_LENGTH_FUNCS = {"length", "char_length", "character_length"}
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "<>": "<>", "!=": "<>"}


class _Unknown(Exception):
    """The expression is not of a form we understand."""


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise _Unknown(text[pos:])
        pos = m.end()
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
    return _strip_casts(out)


def _strip_casts(toks: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Drop ``::type`` suffixes (``::character varying(10)[]`` too): they never change a literal's text."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(toks):
        if toks[i][0] != "cast":
            out.append(toks[i])
            i += 1
            continue
        i += 1
        if i < len(toks) and toks[i][0] in ("word", "qid"):
            i += 1
            while i < len(toks) and toks[i][0] == "word" and toks[i][1].lower() in _TYPE_WORDS:
                i += 1
        if i < len(toks) and toks[i] == ("punct", "("):
            while i < len(toks) and toks[i] != ("punct", ")"):
                i += 1
            i += 1
        while i + 1 < len(toks) and toks[i] == ("punct", "[") and toks[i + 1] == ("punct", "]"):
            i += 2
    return out


class _Parser:
    """Recursive descent over cast-free tokens: AND of comparisons, ``= ANY (ARRAY[...])``, length()."""

    def __init__(self, toks: list[tuple[str, str]]) -> None:
        self.toks = toks
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, expected: tuple[str, str] | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (expected is not None and (tok[0], tok[1].upper()) != (expected[0], expected[1].upper())):
            raise _Unknown(f"expected {expected}, got {tok}")
        self.i += 1
        return tok

    def conjunction(self) -> list[Any]:
        parts = [self.comparison()]
        while (tok := self.peek()) is not None and tok[0] == "word" and tok[1].upper() == "AND":
            self.take()
            parts.append(self.comparison())
        return [p for part in parts for p in (part[1] if part[0] == "and" else [part])]

    def comparison(self) -> Any:
        left = self.operand()
        tok = self.peek()
        if tok is None or tok[0] != "op":
            return left
        op = self.take()[1]
        nxt = self.peek()
        if nxt is not None and nxt[0] == "word" and nxt[1].upper() in ("ANY", "SOME"):
            self.take()
            self.take(("punct", "("))
            arr = self.operand()
            self.take(("punct", ")"))
            if op != "=" or arr[0] != "array":
                raise _Unknown("only '= ANY (ARRAY[...])' is understood")
            return ("cmp", "in", left, arr)
        return ("cmp", _FLIP[op] if op == "!=" else op, left, self.operand())

    def operand(self) -> Any:
        kind, text = self.take()
        if (kind, text) == ("punct", "("):
            inner = self.conjunction()
            self.take(("punct", ")"))
            return inner[0] if len(inner) == 1 else ("and", inner)
        if kind == "minus":
            nxt = self.take()
            if nxt[0] != "num":
                raise _Unknown("minus before a non-number")
            return ("lit", "-" + nxt[1])
        if kind == "str":
            return ("lit", text[1:-1].replace("''", "'"))
        if kind == "num":
            return ("lit", text)
        if kind == "qid":
            return ("col", text[1:-1].replace('""', '"'))
        if kind == "word":
            upper = text.upper()
            if upper == "ARRAY":
                self.take(("punct", "["))
                items = [self.operand()]
                while self.peek() == ("punct", ","):
                    self.take()
                    items.append(self.operand())
                self.take(("punct", "]"))
                if any(item[0] != "lit" for item in items):
                    raise _Unknown("array of non-literals")
                return ("array", tuple(item[1] for item in items))
            if upper in ("TRUE", "FALSE"):
                return ("lit", text.lower())
            if upper in ("NULL", "NOT", "OR", "IS", "CASE", "AND"):
                raise _Unknown(upper)
            if self.peek() == ("punct", "("):
                self.take()
                arg = self.operand()
                self.take(("punct", ")"))
                return ("func", text.lower(), arg)
            return ("col", text)
        raise _Unknown(text)


def _rule(constraint: str, node: Any, value_name: str | None) -> CheckRule:
    if node[0] != "cmp":
        raise _Unknown("not a comparison")
    _, op, left, right = node
    if op == "in":
        if left[0] != "col":
            raise _Unknown("vocabulary on an expression")
        return CheckRule(constraint, _column_name(left[1], value_name), "in", tuple(right[1]))
    if left[0] == "lit" and right[0] in ("col", "func"):
        left, right, op = right, left, _FLIP[op]
    if right[0] != "lit":
        raise _Unknown("comparison between two columns")
    if left[0] == "col":
        return CheckRule(constraint, _column_name(left[1], value_name), op, (right[1],))
    if left[0] == "func" and left[1] in _LENGTH_FUNCS and left[2][0] == "col":
        int(right[1])
        return CheckRule(constraint, _column_name(left[2][1], value_name), op, (right[1],), on_length=True)
    raise _Unknown("comparison on an expression")


def _column_name(name: str, value_name: str | None) -> str:
    return value_name if value_name is not None and name.upper() == "VALUE" else name


def parse_check(constraint: str, definition: str, *, value_name: str | None = None) -> ParsedCheck:
    """Rules of a CHECK as pg_get_constraintdef prints it (pretty or not); ``known=False`` if not understood.

    ``value_name``: for a domain's CHECK, the column that ``VALUE`` stands for.
    """
    body = definition.strip()
    body = re.sub(r"\s+NOT\s+VALID\s*$", "", body, flags=re.IGNORECASE)
    m = re.fullmatch(r"CHECK\s*\((.*)\)", body, flags=re.IGNORECASE | re.DOTALL)
    if m is None:
        return ParsedCheck(constraint, (), False)
    try:
        parser = _Parser(_tokens(m.group(1)))
        nodes = parser.conjunction()
        if parser.peek() is not None:
            raise _Unknown("trailing tokens")
        rules = tuple(_rule(constraint, node, value_name) for node in nodes)
    except (_Unknown, ValueError):
        return ParsedCheck(constraint, (), False)
    return ParsedCheck(constraint, rules, True)


def vocabulary(rules: Iterable[CheckRule], column: str) -> tuple[str, ...] | None:
    """The allowed values of ``column`` when a rule lists them (``IN`` or ``=``), else None."""
    for r in rules:
        if r.column == column and not r.on_length and r.op in ("in", "="):
            return r.values
    return None


def _int_literal(literal: str) -> object:
    d = Decimal(literal)
    return int(d) if d == d.to_integral_value() else d


def _timestamp_literal(literal: str) -> datetime:
    value = datetime.fromisoformat(literal)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


_BOOLS = {"true": True, "false": False, "t": True, "f": False}
_LITERALS: dict[str, Callable[[str], object]] = {
    "int": _int_literal,
    "decimal": Decimal,
    "float": float,
    "text": str,
    "enum": str,
    "bool": lambda literal: _BOOLS[literal.lower()],
    "uuid": UUID,
    "date": date.fromisoformat,
    "timestamp": _timestamp_literal,
}


def coerce(kind: Kind, literal: str) -> object:
    """A CHECK literal as a value of ``kind``; ValueError when it cannot be one."""
    convert = _LITERALS.get(kind.name)
    if convert is None:
        raise ValueError(f"no literals of kind {kind.name}")
    try:
        return convert(literal)
    except (InvalidOperation, KeyError) as exc:
        raise ValueError(literal) from exc


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq, "<>": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}  # fmt: skip


def _comparable(value: object) -> object:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def satisfies(rule: CheckRule, kind: Kind, value: object) -> bool:
    """Whether a non-null value passes the rule (NULL always passes a CHECK)."""
    if value is None:
        return True
    if rule.on_length:
        return isinstance(value, str) and _OPS[rule.op](len(value), int(rule.values[0]))
    literals = [coerce(kind, v) for v in rule.values]
    if rule.op == "in":
        return value in literals
    try:
        return bool(_OPS[rule.op](_comparable(value), _comparable(literals[0])))
    except TypeError:
        return False


def rule_applies(rule: CheckRule, kind: Kind) -> bool:
    """Whether the rule's literals can be read as values of the column's kind."""
    if rule.on_length:
        return kind.name == "text"
    try:
        for v in rule.values:
            coerce(kind, v)
    except ValueError:
        return False
    return kind.name not in ("list", "set", "map", "json", "bytes", "inet", "time")
