"""CQL statements as tokens, for the readers that classify them (lint rules, interrupted-statement effects).

A regular expression, not a grammar: those readers only need words, names, literals and brackets, and must keep
going on statements that a full parser of one Cassandra version would refuse.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Token", "group", "name_parts", "split_top_level", "tokens"]

_PART = r'(?:"(?:[^"]|"")*"|[A-Za-z0-9_]+)'
_TOKEN = re.compile(
    rf"""
      (?P<ws>\s+)
    | (?P<comment>(?:--|//)[^\n]*|/\*.*?\*/)
    | (?P<string>'(?:[^']|'')*'|\$\$.*?\$\$)
    | (?P<name>[+-]?{_PART}(?:\s*\.\s*{_PART})*)
    | (?P<punct>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_PARTS = re.compile(_PART)


@dataclass(frozen=True)
class Token:
    """`kind` is name (a word, a quoted or a `ks.table` name, a number), string, comment or punct."""

    kind: str
    text: str

    @property
    def key(self) -> str:
        """The upper-cased word, to compare with keywords; quoted names never equal a keyword."""
        return self.text.upper() if self.kind == "name" and '"' not in self.text else self.text


def tokens(text: str, *, keep_comments: bool = False) -> list[Token]:
    """The statement's tokens, without whitespace (and without comments unless asked)."""
    found: list[Token] = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "punct"
        if kind == "ws" or (kind == "comment" and not keep_comments):
            continue
        found.append(Token(kind, match.group()))
    return found


def name_parts(token: Token) -> list[str]:
    """The dot-separated parts of a name token as written (quoted parts keep their quotes)."""
    return _PARTS.findall(token.text) if token.kind == "name" else []


def split_top_level(words: Sequence[Token]) -> list[list[Token]]:
    """Split at top-level commas; commas inside (), <> and {} belong to their group."""
    parts: list[list[Token]] = [[]]
    depth = 0
    for token in words:
        if token.kind == "punct" and token.text in "(<{":
            depth += 1
        elif token.kind == "punct" and token.text in ")>}":
            depth -= 1
        if depth == 0 and token.kind == "punct" and token.text == ",":
            parts.append([])
        else:
            parts[-1].append(token)
    return [part for part in parts if part]


def group(words: Sequence[Token], start: int) -> tuple[list[Token], int]:
    """The tokens inside the parenthesis at `start` and the index past its closing one; ([], start + 1) if none."""
    if not (start < len(words) and words[start].kind == "punct" and words[start].text == "("):
        return [], start + 1
    depth = 0
    for index in range(start, len(words)):
        token = words[index]
        if token.kind == "punct" and token.text == "(":
            depth += 1
        elif token.kind == "punct" and token.text == ")":
            depth -= 1
            if depth == 0:
                return list(words[start + 1 : index]), index + 1
    return list(words[start + 1 :]), len(words)
