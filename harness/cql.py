"""Split a CQL script into statements the way cqlsh does, so each one can be sent to the driver alone.

The driver executes one statement per request, so a migration file must be cut at every `;` that is
not inside a string, a quoted identifier, a `$$` body or a comment, and not inside
`BEGIN [UNLOGGED|COUNTER] BATCH ... APPLY BATCH` (one statement holding several `;`).
cqlsh's lexer (cqlshlib cql3handling / cqlhandling.cql_split_statements) is the reference; the
differences are deliberate: a final statement without `;` is kept (cqlsh reports "Incomplete
statement"), and a batch must open with `BEGIN [UNLOGGED|COUNTER] BATCH` and close with exactly
`APPLY BATCH` (cqlsh checks only the words BEGIN and APPLY). An unclosed string, `$$`, block
comment or batch raises CqlSyntaxError with the line where it started instead of being sent to
the server half-cut. The scanner is one token loop over backtracking-free patterns: linear time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.errors import HarnessError

__all__ = ["CqlSyntaxError", "Statement", "split_cql"]


@dataclass(frozen=True)
class Statement:
    """One CQL statement: text without leading/trailing comments and without its `;`."""

    text: str
    line: int


class CqlSyntaxError(HarnessError):
    """The script cannot be split: something opened (string, comment, batch) is never closed."""

    def __init__(self, line: int, reason: str) -> None:
        self.line = line
        self.reason = reason
        super().__init__(f"line {line}: {reason}")


# Each alternative is a single linear pattern (no nested quantifiers), so matching never backtracks.
_TOKEN = re.compile(
    r"""
      (?P<ws>\s+)
    | (?P<word>[A-Za-z0-9_]+)
    | (?P<comment>(?:--|//)[^\n\r]*)
    | (?P<block>/\*)
    | (?P<open>'|"|\$\$)
    | (?P<semi>;)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

# Stands for every token that is not a bare word (literals, punctuation); can never equal a keyword.
_OPAQUE = "\0"

_WHAT = {"'": "string literal", '"': "quoted identifier", "$$": "$$ string"}


def _opens_batch(head: list[str]) -> bool:
    """`BEGIN BATCH`, `BEGIN UNLOGGED BATCH` or `BEGIN COUNTER BATCH` at the start of a statement."""
    if len(head) < 2 or head[0] != "BEGIN":
        return False
    if head[1] == "BATCH":
        return True
    return head[1] in ("UNLOGGED", "COUNTER") and len(head) > 2 and head[2] == "BATCH"


class _Lines:
    """Offset -> 1-based line, for offsets asked in increasing order (keeps the whole scan linear)."""

    def __init__(self, text: str, first_line: int) -> None:
        self._text = text
        self._pos = 0
        self._line = first_line

    def at(self, offset: int) -> int:
        self._line += self._text.count("\n", self._pos, offset)
        self._pos = offset
        return self._line


def _close(text: str, start: int, opener: str, lines: _Lines) -> int:
    """Offset just past the literal or block comment opened at `start`; raise if it never closes."""
    if opener in ("'", '"'):
        pos = start + 1
        while True:
            end = text.find(opener, pos)
            if end < 0:
                break
            if text.startswith(opener, end + 1):  # '' or "" is an escaped quote, not the end
                pos = end + 2
                continue
            return end + 1
        what, fix = _WHAT[opener], f"add the closing {opener} (write {opener * 2} for a literal {opener})"
    else:
        closer = "$$" if opener == "$$" else "*/"
        end = text.find(closer, start + 2)
        if end >= 0:
            return end + 2
        what = _WHAT.get(opener, "block comment")
        fix = f"add the closing {closer}"
    raise CqlSyntaxError(lines.at(start), f"unterminated {what} starting here: {fix}")


def split_cql(text: str, *, first_line: int = 1) -> list[Statement]:
    """Statements of `text` in order; `first_line` is the file line where `text` begins."""
    statements: list[Statement] = []
    lines = _Lines(text, first_line)
    start: int | None = None  # offset of the current statement's first token
    start_line = first_line
    last_end = 0  # offset just past the current statement's last token
    head: list[str] = []  # first three tokens, to recognise BEGIN ... BATCH
    tail: tuple[str, str] = (_OPAQUE, _OPAQUE)  # last two tokens, to recognise APPLY BATCH
    in_batch = False
    pos, size = 0, len(text)
    while pos < size:
        match = _TOKEN.match(text, pos)
        assert match is not None  # `other` matches any character
        kind, end = match.lastgroup, match.end()
        if kind in ("ws", "comment"):
            pos = end
            continue
        if kind == "block":
            pos = _close(text, pos, "/*", lines)
            continue
        if kind == "semi" and start is not None:
            if not in_batch and _opens_batch(head):
                in_batch = True
            if not in_batch or tail == ("APPLY", "BATCH"):
                statements.append(Statement(text[start:last_end], start_line))
                start, head, tail, in_batch = None, [], (_OPAQUE, _OPAQUE), False
                pos = end
                continue
        if kind == "semi" and start is None:  # empty statement: `;;` or a `;` after comments
            pos = end
            continue
        if kind == "open":
            end = _close(text, pos, match.group(), lines)
        token = match.group().upper() if kind == "word" else _OPAQUE
        if start is None:
            start, start_line = pos, lines.at(pos)
        if len(head) < 3:
            head.append(token)
        tail = (tail[1], token)
        last_end = pos = end
    if start is not None:
        if (in_batch or _opens_batch(head)) and tail != ("APPLY", "BATCH"):
            raise CqlSyntaxError(start_line, "BEGIN BATCH starting here is never closed: end it with APPLY BATCH;")
        statements.append(Statement(text[start:last_end], start_line))
    return statements
