"""Where each SQL statement of a section starts and ends (file lines), so a suppression covers a whole statement.

Squawk reports some findings on a statement's first line and others on an inner line (a column of a
CREATE TABLE), so `-- harness:allow` above a statement must reach its last line. PostgreSQL's lexical
rules that can hide a `;` are honoured: '...' (with ''), E'...' (with backslash escapes), "...",
$tag$...$tag$, -- comments and nested /* */ comments. Nothing else of SQL is needed here.
"""

from __future__ import annotations

import re

__all__ = ["sql_spans"]

_SCAN = re.compile(
    r"""
      (?P<ws>\s+)
    | (?P<line>--[^\n]*)
    | (?P<block>/\*)
    | (?P<estring>[Ee]')
    | (?P<quote>['"])
    | (?P<dollar>\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$)
    | (?P<word>[A-Za-z0-9_$]+)
    | (?P<semi>;)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_ESTRING_END = re.compile(r"(?:[^'\\]|\\.|'')*'", re.DOTALL)


def _block_end(text: str, pos: int) -> int:
    """Offset past the /* */ comment opened at `pos` (nested, as PostgreSQL allows); end of text if open."""
    depth, pos = 1, pos + 2
    while depth:
        opens, closes = text.find("/*", pos), text.find("*/", pos)
        if closes < 0:
            return len(text)
        if 0 <= opens < closes:
            depth, pos = depth + 1, opens + 2
        else:
            depth, pos = depth - 1, closes + 2
    return pos


def _literal_end(text: str, pos: int, kind: str, opener: str) -> int:
    """Offset past the literal opened at `pos`; end of text when it never closes (Squawk reports that)."""
    if kind == "estring":
        match = _ESTRING_END.match(text, pos + 2)
        return match.end() if match else len(text)
    if kind == "dollar":
        end = text.find(opener, pos + len(opener))
        return len(text) if end < 0 else end + len(opener)
    search = pos + 1
    while True:
        end = text.find(opener, search)
        if end < 0:
            return len(text)
        if text.startswith(opener, end + 1):
            search = end + 2
            continue
        return end + 1


def sql_spans(text: str, first_line: int = 1) -> list[tuple[int, int]]:
    """(first line, last line) of every statement in `text`, which starts at file line `first_line`."""
    spans: list[tuple[int, int]] = []
    start: int | None = None
    end = line = first_line
    counted = pos = 0  # newlines are counted up to `counted` only once: linear in the text's size
    while pos < len(text):
        match = _SCAN.match(text, pos)
        assert match is not None  # `other` matches any character
        kind = match.lastgroup or "other"
        after = match.end()
        if kind == "block":
            after = _block_end(text, pos)
        elif kind in ("estring", "quote", "dollar"):
            after = _literal_end(text, pos, kind, match.group())
        if kind == "semi" and start is not None:
            spans.append((start, end))
            start = None
        elif kind not in ("ws", "line", "block", "semi"):
            line, counted = line + text.count("\n", counted, pos), pos
            start = line if start is None else start
            end = line + text.count("\n", pos, after)
        pos = after
    if start is not None:
        spans.append((start, end))
    return spans
