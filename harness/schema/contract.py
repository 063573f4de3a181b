"""Parse the schema contract: the mermaid ``classDiagram`` in a markdown file.

Pure text -> data. Each class is a table; its prefix names the store (``PG_`` -> postgres, ``C_`` ->
cassandra) and the rest, CamelCase -> snake_case, is the table name. ``A "1" --> "many" B`` relations
and ``A ..> B : label`` links are kept with their lines for the comparison. Every malformed line is
collected, then one ContractError lists them all with file and line.

Members are ``+type name`` or ``name: type``. Types may be mermaid generics (``List~string~``,
``Set~uuid~``, ``Map~string,int~``, nested ``List~Map~string,int~~``; see harness.schema.types); a
member's type is kept normalised (``Map~string, int~`` -> ``Map~string,int~``, ``list~T~`` ->
``List~T~``). Mermaid's own documentation says a comma inside a generic may not render in every
version; the contract reads it all the same. ``name: type`` may hold a type of several words
(``at: timestamp with time zone``), ``+type name`` may not (a blank is allowed only after a comma).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import HarnessError
from harness.schema.model import Store
from harness.schema.typeexpr import TypeSyntaxError, parse_type

DEFAULT_PREFIXES: Mapping[str, Store] = {"PG_": "postgres", "C_": "cassandra"}


class ContractError(HarnessError):
    """The contract diagram cannot be read; names the file and line of every problem."""

    def __init__(self, path: str, problems: list[tuple[int | None, str]]) -> None:
        self.path = path
        self.problems = problems
        self.line = problems[0][0] if problems else None
        lines = [f"{path}:{line}: {msg}" if line else f"{path}: {msg}" for line, msg in problems]
        if len(lines) == 1:
            super().__init__(lines[0])
        else:
            super().__init__(f"{len(lines)} contract errors:\n" + "\n".join(f"  {x}" for x in lines))


@dataclass(frozen=True)
class Member:
    name: str
    type: str
    line: int


@dataclass(frozen=True)
class ContractClass:
    name: str
    store: Store
    table_name: str
    members: tuple[Member, ...]
    line: int

    def member(self, name: str) -> Member | None:
        return next((m for m in self.members if m.name == name), None)


@dataclass(frozen=True)
class Relation:
    """A solid arrow (``-->``, ``--``, ...), written tail first: ``source "1" --> "many" target``."""

    source: str
    target: str
    source_mult: str | None
    target_mult: str | None
    label: str | None
    line: int
    arrow: str = "-->"


@dataclass(frozen=True)
class Link:
    """A dotted arrow (``..>``): a reference across stores that no database enforces."""

    source: str
    target: str
    label: str | None
    line: int


@dataclass(frozen=True)
class Contract:
    classes: dict[str, ContractClass]
    relations: tuple[Relation, ...] = ()
    links: tuple[Link, ...] = ()
    path: str = "<string>"

    def for_store(self, store: Store) -> list[ContractClass]:
        return [c for c in self.classes.values() if c.store == store]


def snake_case(name: str) -> str:
    """``GroupsUsersUser`` -> ``groups_users_user``; ``HTTPLogs`` -> ``http_logs``; snake stays snake."""
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z\d])([A-Z])", r"\1_\2", s)
    return re.sub(r"_+", "_", s).lower()


def split_class_name(name: str, prefixes: Mapping[str, Store] = DEFAULT_PREFIXES) -> tuple[Store, str] | None:
    """(store, table name) of a class name, or None when it has no known prefix."""
    for prefix in sorted(prefixes, key=len, reverse=True):
        if name.startswith(prefix) and len(name) > len(prefix):
            return prefixes[prefix], snake_case(name[len(prefix) :])
    return None


# --- the line grammar ------------------------------------------------------------------------------

_IDENT = r"[A-Za-z_][\w]*"
_ARROWS = [r"<\|--", r"\*--", r"o--", r"--\|>", r"--\*", r"--o", r"-->", r"<--", r"--",
           r"<\|\.\.", r"\.\.\|>", r"\.\.>", r"<\.\.", r"\.\."]  # fmt: skip
_ARROW_RE = re.compile(
    rf'^(?P<a>{_IDENT})\s*(?:"(?P<am>[^"]*)")?\s*(?P<arrow>{"|".join(_ARROWS)})\s*'
    rf'(?:"(?P<bm>[^"]*)")?\s*(?P<b>{_IDENT})\s*(?::\s*(?P<label>.*))?$'
)
_CLASS_RE = re.compile(
    rf"^class\s+(?P<name>{_IDENT})\s*(?:\[\"[^\"]*\"\])?\s*(?::::\w+)?\s*(?P<brace>\{{)?\s*(?P<close>\}})?$"
)
_MEMBER_OUTSIDE_RE = re.compile(rf"^(?P<cls>{_IDENT})\s*:\s*(?P<member>.+)$")
_NAME_TYPE_RE = re.compile(rf"^(?P<name>{_IDENT})\s*:\s*(?P<type>[^:]+)$")
_TYPE_NAME_RE = re.compile(rf"^(?P<type>[^\s:](?:[^:]*[^\s:])?)\s+(?P<name>{_IDENT})$")
_IGNORED = ("direction ", "note ", "note\t", "classDef ", "cssClass ", "style ", "click ", "callback ",
            "link ")  # fmt: skip
_FENCE_RE = re.compile(r"^(?P<fence>`{3,}|~{3,})\s*(?P<info>\S*)")


def _mermaid_blocks(text: str) -> list[tuple[int, list[str]]]:
    """(first content line number, lines) of every ```mermaid fenced block."""
    blocks: list[tuple[int, list[str]]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = _FENCE_RE.match(lines[i].strip())
        if m and m.group("info").lower() == "mermaid":
            fence = m.group("fence")
            start = i + 1
            body: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(fence):
                body.append(lines[i])
                i += 1
            blocks.append((start + 1, body))
        i += 1
    return blocks


def _parse_member(text: str) -> tuple[str, str] | str:
    """(name, type) of a member line, or the reason it is not one."""
    body = text.strip()
    if body[:1] in "+-#~":
        body = body[1:].strip()
    body = body.rstrip("$*").strip()
    if "(" in body:
        return f"'{text.strip()}' is a method; the contract lists columns only ('+type name')"
    m = _NAME_TYPE_RE.match(body)
    if m is None:
        m = _TYPE_NAME_RE.match(body)
        # '+type name' allows a blank only after a comma (Map~string, int~); '+int x y' is no member
        if m and re.search(r"\s", re.sub(r"\s*,\s*", ",", m.group("type"))):
            m = None
    if m:
        try:
            return m.group("name"), str(parse_type(m.group("type")))
        except TypeSyntaxError as exc:
            return f"member {m.group('name')}: {exc}"
    if re.fullmatch(_IDENT, body):
        return f"member '{body}' has no type; write '+type {body}' or '{body}: type'"
    return f"cannot read member '{text.strip()}'; write '+type name' or 'name: type'"


def _classdiagram_block(text: str, where: str) -> tuple[int, list[str]]:
    """The first mermaid block with a ``classDiagram``: a file may hold other diagrams before it."""
    blocks = [b for b in _mermaid_blocks(text) if any(x.strip() == "classDiagram" for x in b[1])]
    if not blocks:
        reason = "no ```mermaid block with a classDiagram; add one that defines the tables"
        raise ContractError(where, [(None, reason)])
    return blocks[0]


@dataclass
class _DiagramReader:
    """What the lines read so far declare; problems are collected, not raised, so one error lists them all."""

    problems: list[tuple[int | None, str]] = field(default_factory=list)
    members: dict[str, list[Member]] = field(default_factory=dict)
    declared: dict[str, int] = field(default_factory=dict)
    relations: list[Relation] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    current: str | None = None  # class whose body is open

    def declare(self, name: str, line: int) -> None:
        if name in self.declared:
            self.problems.append((line, f"duplicate class {name} (first declared on line {self.declared[name]})"))
            return
        self.declared[name] = line
        self.members[name] = []

    def add_member(self, cls: str, raw: str, line: int) -> None:
        parsed = _parse_member(raw)
        if isinstance(parsed, str):
            self.problems.append((line, f"class {cls}: {parsed}"))
            return
        name, type_ = parsed
        previous = next((m for m in self.members[cls] if m.name == name), None)
        if previous:
            self.problems.append((line, f"class {cls}: duplicate member {name} (first on line {previous.line})"))
            return
        self.members[cls].append(Member(name, type_, line))

    def read_lines(self, first: int, lines: list[str]) -> None:
        for offset, raw in enumerate(lines):
            line = first + offset
            s = raw.strip()
            if not s or s.startswith("%%"):
                continue
            if self.current is not None and self._read_in_body(self.current, s, line):
                continue
            self._read_top_level(s, line)
        if self.current is not None:
            reason = f"class {self.current} is not closed ('}}') before the block ends"
            self.problems.append((self.declared[self.current], reason))

    def _read_in_body(self, current: str, s: str, line: int) -> bool:
        """Whether the open class body took the line; a class or relation line closes it, with a problem."""
        if s == "}":
            self.current = None
            return True
        if s.startswith("<<") and s.endswith(">>"):
            return True
        if not (s.startswith("class ") or _ARROW_RE.match(s)):
            self.add_member(current, s, line)
            return True
        self.problems.append((self.declared[current], f"class {current} is not closed ('}}') before line {line}"))
        self.current = None  # and read this line as what it is
        return False

    def _read_top_level(self, s: str, line: int) -> None:
        if s in ("classDiagram", "classDiagram-v2") or s.startswith(_IGNORED):
            return
        if m := _CLASS_RE.match(s):
            self.declare(m.group("name"), line)
            if m.group("brace") and not m.group("close") and m.group("name") in self.members:
                self.current = m.group("name")
            return
        if m := _ARROW_RE.match(s):
            self._add_arrow(m, line)
            return
        if s == "}":
            self.problems.append((line, "'}' without an open class"))
            return
        if m := _MEMBER_OUTSIDE_RE.match(s):
            cls = m.group("cls")
            if cls not in self.declared:
                self.declare(cls, line)
            self.add_member(cls, m.group("member"), line)
            return
        self.problems.append((line, f"unrecognised line '{s}'; expected a class, a member, a relation or '%%'"))

    def _add_arrow(self, m: re.Match[str], line: int) -> None:
        a, b, am, bm, arrow = m.group("a", "b", "am", "bm", "arrow")
        label = (m.group("label") or "").strip() or None
        if arrow.startswith("<"):  # normalise so that source is the tail
            a, b, am, bm = b, a, bm, am
        if "." in arrow:
            self.links.append(Link(a, b, label, line))
        else:
            self.relations.append(Relation(a, b, am, bm, label, line, arrow))


def _contract_classes(
    declared: Mapping[str, int], members: Mapping[str, list[Member]], prefixes: Mapping[str, Store]
) -> tuple[dict[str, ContractClass], list[tuple[int | None, str]]]:
    """The classes that name a store, and a problem for each that does not: every table belongs to a store."""
    classes: dict[str, ContractClass] = {}
    problems: list[tuple[int | None, str]] = []
    for name, line in declared.items():
        split = split_class_name(name, prefixes)
        if split is None:
            known = ", ".join(sorted(prefixes))
            problems.append((line, f"class {name} has no store prefix; start its name with one of {known}"))
            continue
        store, table = split
        classes[name] = ContractClass(name, store, table, tuple(members[name]), line)
    return classes, problems


def _unknown_ends(refs: list[Relation | Link], declared: Collection[str]) -> list[tuple[int | None, str]]:
    """A relation's ends must be declared classes, or the comparison would have nothing to check them against."""
    problems: list[tuple[int | None, str]] = []
    for ref in refs:
        for end in (ref.source, ref.target):
            if end not in declared:
                reason = f"relation to unknown class {end}; declare it with 'class {end} {{ ... }}'"
                problems.append((ref.line, reason))
    return problems


def _shared_tables(classes: Mapping[str, ContractClass]) -> list[tuple[int | None, str]]:
    """Two classes may not name one table (``PG_UserLog`` and ``PG_User_Log``): which would it be?"""
    problems: list[tuple[int | None, str]] = []
    tables: dict[tuple[Store, str], str] = {}
    for cls in classes.values():
        other = tables.setdefault((cls.store, cls.table_name), cls.name)
        if other != cls.name:
            problems.append((cls.line, f"classes {other} and {cls.name} both name table {cls.table_name}"))
    return problems


def parse_contract(
    text: str, *, path: str | Path = "<string>", prefixes: Mapping[str, Store] = DEFAULT_PREFIXES
) -> Contract:
    """Parse the first mermaid block containing ``classDiagram`` in markdown ``text``."""
    where = str(path)
    first, lines = _classdiagram_block(text, where)
    reader = _DiagramReader()
    reader.read_lines(first, lines)
    classes, prefix_problems = _contract_classes(reader.declared, reader.members, prefixes)
    problems = [
        *reader.problems,
        *prefix_problems,
        *_unknown_ends([*reader.relations, *reader.links], reader.declared),
        *_shared_tables(classes),
    ]
    if problems:
        raise ContractError(where, sorted(problems, key=lambda p: p[0] or 0))
    return Contract(classes, tuple(reader.relations), tuple(reader.links), where)


def load_contract(path: str | Path, prefixes: Mapping[str, Store] = DEFAULT_PREFIXES) -> Contract:
    """Read and parse a markdown file; a missing file is a ContractError too."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ContractError(str(path), [(None, f"cannot read the contract: {exc.strerror}")]) from exc
    return parse_contract(text, path=path, prefixes=prefixes)
