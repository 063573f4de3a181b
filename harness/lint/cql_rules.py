"""The CQL rules: each a small pure function over the up statements of a migration set, in version order.

A rule yields `(statement, message)` pairs; `check_cql` turns them into findings with the rule's fix.
Rules read up sections only: a down section undoes its up, so it drops what the up created by design.
`RULES` is the one table of ids, reasons and fixes (the README's list is written from it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

from harness.lint.cql_parse import Token, alter_table, comments, create_table, name_of, tokens
from harness.lint.model import Level, LintFinding
from harness.migrations import Migration

__all__ = ["LARGE_DML", "RULES", "TIME_TYPES", "CqlRule", "CqlStatement", "check_cql", "statements_of"]

LARGE_DML = 20  # data statements (rows) in one migration beside schema changes that make it "large"
TIME_TYPES = frozenset({"timestamp", "timeuuid", "date", "time"})
_DDL = frozenset({"CREATE", "ALTER", "DROP"})
_DML = frozenset({"INSERT", "UPDATE", "DELETE"})


@dataclass(frozen=True)
class CqlStatement:
    """One statement of an up section, with its tokens; `note` is read only by the rules that need it."""

    migration: Migration
    line: int
    words: tuple[Token, ...]
    section_lines: Sequence[str]  # the section's text, split (shared by its statements)
    first: int  # index of the statement's first and last line in `section_lines`
    last: int

    @cached_property
    def keys(self) -> tuple[str, ...]:
        return tuple(t.key for t in self.words)

    def starts(self, *keys: str) -> bool:
        return self.keys[: len(keys)] == keys

    @cached_property
    def note(self) -> str:
        """Comment lines directly above the statement, plus the comments on its own lines."""
        lines, top = self.section_lines, self.first
        while top > 0 and lines[top - 1].strip().startswith(("--", "//")):
            top -= 1
        return "\n".join([*lines[top : self.first], *comments("\n".join(lines[self.first : self.last + 1]))])


Found = Iterator[tuple[CqlStatement, str]]


@dataclass(frozen=True)
class CqlRule:
    id: str
    level: Level
    why: str  # why it matters (README, and the finding's message tail)
    fix: str
    check: Callable[[Sequence[CqlStatement]], Found]


def statements_of(migrations: Iterable[Migration]) -> list[CqlStatement]:
    """Every up statement of `migrations` (already in version order), tokenised once for all rules."""
    found: list[CqlStatement] = []
    for migration in migrations:
        for section in migration.ups:
            lines = section.text.split("\n")
            for statement in section.statements:
                first = statement.line - section.line
                last = first + statement.text.count("\n")
                words = tuple(tokens(statement.text))
                found.append(CqlStatement(migration, statement.line, words, lines, first, last))
    return found


def _after(statement: CqlStatement, count: int) -> str:
    """The name `count` words in, skipping IF [NOT] EXISTS: the object a DROP/CREATE names."""
    words = [t for t in statement.words if t.key not in ("IF", "NOT", "EXISTS")]
    return name_of(words[count]) if len(words) > count else "?"


def _drop_table(statements: Sequence[CqlStatement]) -> Found:
    for s in statements:
        if s.starts("DROP", "TABLE") or s.starts("DROP", "COLUMNFAMILY"):
            yield s, f"DROP TABLE {_after(s, 2)} in an up section deletes the table and all its rows"


def _drop_keyspace(statements: Sequence[CqlStatement]) -> Found:
    for s in statements:
        if s.starts("DROP", "KEYSPACE"):
            yield s, f"DROP KEYSPACE {_after(s, 2)} in an up section deletes every table in it and all their rows"


def _truncate(statements: Sequence[CqlStatement]) -> Found:
    for s in statements:
        if s.starts("TRUNCATE"):
            table = _after(s, 2) if s.starts("TRUNCATE", "TABLE") else _after(s, 1)
            yield s, f"TRUNCATE {table} in an up section deletes all its rows"


def _readd_column(statements: Sequence[CqlStatement]) -> Found:
    """Replays CREATE/ALTER/DROP TABLE from the first migration on, so it sees columns dropped long ago."""
    columns: dict[str, dict[str, str]] = defaultdict(dict)
    dropped: dict[str, dict[str, tuple[str, CqlStatement]]] = defaultdict(dict)
    for s in statements:
        if s.starts("DROP", "TABLE") or s.starts("DROP", "COLUMNFAMILY"):
            table = _after(s, 2)
            columns.pop(table, None)
            dropped.pop(table, None)  # a re-created table is a new table to Cassandra: no dropped columns
        elif shape := create_table(s.words):
            columns[shape.name] = {c.name: c.type for c in shape.columns}
            dropped.pop(shape.name, None)
        elif alter := alter_table(s.words):
            for column in alter.columns:
                if alter.action == "DROP" and column.name in columns[alter.table]:
                    dropped[alter.table][column.name] = (columns[alter.table].pop(column.name), s)
                elif alter.action == "ADD":
                    old = dropped[alter.table].get(column.name)
                    if old and old[0] != column.type:
                        where = f"{old[1].migration.filename}:{old[1].line}"
                        yield (
                            s,
                            (
                                f"column {alter.table}.{column.name} was dropped as {old[0]} ({where}) and is added "
                                f"back as {column.type}"
                            ),
                        )
                    columns[alter.table][column.name] = column.type


def _alter_type(statements: Sequence[CqlStatement]) -> Found:
    for s in statements:
        alter = alter_table(s.words)
        if alter and alter.action == "ALTER":
            for column in alter.columns:
                yield s, f"ALTER TABLE {alter.table} ALTER {column.name} TYPE {column.type} changes a column's type"


def _materialized_view(statements: Sequence[CqlStatement]) -> Found:
    for s in statements:
        if s.starts("CREATE", "MATERIALIZED", "VIEW"):
            yield s, f"materialized view {_after(s, 3)}: experimental, and disabled by default in Cassandra 5.0"


def _is_sasi(s: CqlStatement) -> bool:
    return any(t.kind == "string" and "sasiindex" in t.text.lower() for t in s.words)


def _sasi_index(statements: Sequence[CqlStatement]) -> Found:
    for s in statements:
        if s.starts("CREATE", "CUSTOM", "INDEX") and _is_sasi(s):
            yield s, "SASI index: experimental, and disabled by default in Cassandra 5.0"


def _index_cardinality(statements: Sequence[CqlStatement]) -> Found:
    for s in statements:
        index = s.starts("CREATE", "INDEX") or s.starts("CREATE", "CUSTOM", "INDEX")
        if index and not _is_sasi(s) and "cardinality" not in s.note.lower():
            yield s, "secondary index without a note on the cardinality of the indexed column"


def _allow_filtering(statements: Sequence[CqlStatement]) -> Found:
    for s in statements:
        keys = s.keys
        if any(keys[i : i + 2] == ("ALLOW", "FILTERING") for i in range(len(keys) - 1)):
            yield s, "ALLOW FILTERING in a migration statement: a query that scans the whole table"


def _simple_strategy(statements: Sequence[CqlStatement]) -> Found:
    for s in statements:
        keyspace = s.starts("CREATE", "KEYSPACE") or s.starts("ALTER", "KEYSPACE")
        if keyspace and any(t.kind == "string" and "simplestrategy" in t.text.lower() for t in s.words):
            yield s, f"keyspace {_after(s, 2)} uses SimpleStrategy, which ignores data centres and racks"


def _clustering_order(statements: Sequence[CqlStatement]) -> Found:
    for s in statements:
        shape = create_table(s.words)
        if shape is None:
            continue
        types = {c.name: c.type for c in shape.columns}
        for column in shape.clustering:
            if types.get(column) in TIME_TYPES and column not in shape.ordered:
                yield (
                    s,
                    (
                        f"table {shape.name}: clustering column {column} ({types[column]}) has no CLUSTERING ORDER; "
                        "it sorts oldest first"
                    ),
                )


def _rows(s: CqlStatement) -> int:
    """Rows a data statement writes: 1, or the statements inside a BATCH."""
    if s.starts("BEGIN"):
        return sum(1 for t in s.words if t.key in _DML)
    return 1 if s.words and s.words[0].key in _DML else 0


def _mixed_ddl_dml(statements: Sequence[CqlStatement]) -> Found:
    by_file: dict[str, list[CqlStatement]] = defaultdict(list)
    for s in statements:
        by_file[s.migration.filename].append(s)
    for group in by_file.values():
        rows = sum(_rows(s) for s in group)
        schema = [s for s in group if s.words and s.words[0].key in _DDL]
        if schema and rows > LARGE_DML:
            first = next(s for s in group if _rows(s))
            yield (
                first,
                (
                    f"this migration writes {rows} rows beside {len(schema)} schema change(s) "
                    f"(more than {LARGE_DML} rows counts as large)"
                ),
            )


RULES: tuple[CqlRule, ...] = (
    CqlRule(
        "cql-drop-table",
        "error",
        "The rows are gone for good, and every running release that still reads the table starts failing.",
        "Stop reading the table first, snapshot it, and drop it in its own later migration with a suppression "
        "that says why it is safe.",
        _drop_table,
    ),
    CqlRule(
        "cql-drop-keyspace",
        "error",
        "Deletes every table of the keyspace and their rows, including the migration ledger if it lives there.",
        "Drop keyspaces by hand (with a snapshot), not from a migration.",
        _drop_keyspace,
    ),
    CqlRule(
        "cql-truncate",
        "error",
        "Deletes all rows on every node (and needs every node up); no down section can bring them back.",
        "Delete the rows you mean with a bounded DELETE, or truncate by hand after a snapshot.",
        _truncate,
    ),
    CqlRule(
        "cql-readd-column",
        "error",
        "Cassandra remembers dropped columns: adding the name back with an incompatible type is refused, and "
        "with a compatible one, values written before the drop can come back (a known problem in several versions).",
        "Give the new column a new name.",
        _readd_column,
    ),
    CqlRule(
        "cql-alter-column-type",
        "error",
        "Cassandra 3.10 and later refuse ALTER ... TYPE (it could corrupt data: SSTables keep the old encoding).",
        "Add a column of the new type, write both, backfill, then switch readers and drop the old column.",
        _alter_type,
    ),
    CqlRule(
        "cql-materialized-view",
        "error",
        "Materialized views are experimental (they can silently diverge from their base table) and are off by "
        "default in Cassandra 5.0 (materialized_views_enabled: false), so the migration fails there.",
        "Maintain a second table written by the application, or use a storage-attached index (USING 'sai').",
        _materialized_view,
    ),
    CqlRule(
        "cql-sasi-index",
        "error",
        "SASI indexes are experimental and off by default in Cassandra 5.0 (sasi_indexes_enabled: false), so "
        "the migration fails there.",
        "Use a storage-attached index: CREATE INDEX ... USING 'sai'.",
        _sasi_index,
    ),
    CqlRule(
        "cql-index-cardinality",
        "warning",
        "A secondary index is fast only for the right cardinality (legacy indexes: not too high, not too low); "
        "queries on it fan out to every node.",
        "Write a comment right above the statement, e.g. '-- cardinality: ~50 states per table, queried with the "
        "partition key', or model the query as its own table.",
        _index_cardinality,
    ),
    CqlRule(
        "cql-allow-filtering",
        "warning",
        "ALLOW FILTERING reads the whole table (every partition, every node) to answer one query.",
        "Restrict by the partition key, or add a table or index that serves the query.",
        _allow_filtering,
    ),
    CqlRule(
        "cql-simple-strategy",
        "warning",
        "SimpleStrategy places replicas without regard to data centres or racks: one rack failure can take "
        "every replica, and switching strategy later means moving data and a full repair.",
        "Use {'class': 'NetworkTopologyStrategy', '<datacenter>': 3}.",
        _simple_strategy,
    ),
    CqlRule(
        "cql-clustering-order",
        "warning",
        "Without CLUSTERING ORDER a time column sorts oldest first, so the usual 'latest first' read goes "
        "backwards through the partition (slower), and the order cannot be changed once the table exists.",
        "State it: WITH CLUSTERING ORDER BY (<column> DESC) (or ASC, if oldest first is what you read).",
        _clustering_order,
    ),
    CqlRule(
        "cql-mixed-ddl-dml",
        "warning",
        "Cassandra has no transactions: a failure half-way leaves part of the data written, and large writes "
        "beside schema changes make the migration slow and hard to resume.",
        "Put schema changes and data loads in separate migrations, or load large data outside migrations.",
        _mixed_ddl_dml,
    ),
)


def check_cql(migrations: Sequence[Migration]) -> list[LintFinding]:
    """Every CQL rule over `migrations` (one store's whole set, in version order)."""
    statements = statements_of(migrations)
    findings: list[LintFinding] = []
    for rule in RULES:
        for statement, message in rule.check(statements):
            findings.append(
                LintFinding(
                    path=statement.migration.path,
                    line=statement.line,
                    rule=rule.id,
                    message=message,
                    fix=rule.fix,
                    source="harness",
                    level=rule.level,
                )
            )
    return findings
