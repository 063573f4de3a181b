"""Constraint fuzzing on real databases: generated rows against the live schema, findings not exceptions.

``fuzz_postgres`` and ``fuzz_cassandra`` run hypothesis from inside (an ``@given`` inner function called
directly), turn each minimal falsifying example into a Finding and go on hunting, so one call returns
every distinct problem: one per column for valid values (refused, or read back changed) and one per
constraint for rule-breaking rows (accepted, rejected with another SQLSTATE, or leaving rows written).
Both pytest tests and ``harness verify`` call them.

PostgreSQL: everything happens in one transaction that is rolled back at the end; each example runs in
a savepoint rolled back after it, so no database is created and nothing is left behind. Constraints are
made IMMEDIATE and the session time zone UTC for the transaction. Cassandra: rows get fresh keys (a key
that already holds data is skipped) and are deleted after each example.

Profiles: ``dev`` (~20 examples per table and rule, random: each run explores new data) and ``ci``
(~150, derandomized: a merge gate must not pass or fail by luck, and a CI failure replays identically on
a laptop with the same profile). Both: no example database (nothing written in the work tree), no
deadline (database latency varies), too_slow / filter_too_much health checks suppressed (rows rejected
by CHECKs we cannot read are filtered out by design).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from hypothesis import HealthCheck, Phase, Verbosity, assume, given, reject, settings
from hypothesis import strategies as st
from hypothesis.errors import FailedHealthCheck, Flaky, Unsatisfiable

from harness import datagen
from harness.datagen import ColumnPlan, Kind, Ref, Row, Rule, TablePlan
from harness.errors import ConfigError
from harness.schema.compare import Finding
from harness.schema.contract import Contract
from harness.schema.model import SchemaModel

if TYPE_CHECKING:
    import psycopg

_COMMON: dict[str, Any] = {
    "database": None,
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    "verbosity": Verbosity.quiet,
    "report_multiple_bugs": False,
    "print_blob": False,
    "phases": (Phase.explicit, Phase.generate, Phase.shrink),
}
settings.register_profile("harness-dev", max_examples=20, derandomize=False, **_COMMON)
settings.register_profile("harness-ci", max_examples=150, derandomize=True, **_COMMON)
PROFILES = {"dev": "harness-dev", "ci": "harness-ci"}
MAX_FINDINGS_PER_TEST = 12


def profile_settings(profile: str) -> settings:
    """The hypothesis settings of a fuzz profile (``dev`` or ``ci``)."""
    if profile not in PROFILES:
        raise ConfigError(f"unknown fuzz profile {profile!r}; use one of {', '.join(PROFILES)}")
    return settings.get_profile(PROFILES[profile])


class _Problem(Exception):
    """One finding from one example; ``key`` names the rule or column so that repeats are recognised."""

    def __init__(self, key: str, message: str, level: str = "error", code: str = "fuzz") -> None:
        super().__init__(message)
        self.key = key
        self.finding = Finding("warning" if level == "warning" else "error", code, message)


def _show(value: object, limit: int = 40) -> str:
    """A short, readable form of a value for a finding."""
    if isinstance(value, str):
        shown = repr(value[:limit]) + ("…" if len(value) > limit else "")
        return f"length {len(value)}: {shown}"
    text = repr(value)
    return text if len(text) <= limit + 20 else text[: limit + 20] + "…"


def _find_problem(exc: BaseException) -> _Problem | None:
    if isinstance(exc, _Problem):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _find_problem(inner)
            if found is not None:
                return found
    return None


def _hunt(
    label: str,
    strategy: st.SearchStrategy[Any],
    body: Callable[[Any, st.DataObject], None],
    config: settings,
    known: set[str],
) -> list[Finding]:
    """Run ``body`` under hypothesis until it passes; each new problem becomes one Finding."""
    found: list[Finding] = []
    for _ in range(MAX_FINDINGS_PER_TEST):

        @settings(config)
        @given(strategy, st.data())
        def prop(example: Any, data: st.DataObject) -> None:
            try:
                body(example, data)
            except _Problem as p:
                if p.key not in known:
                    raise

        try:
            prop()
            return found
        except (Unsatisfiable, FailedHealthCheck) as exc:
            msg = f"{label}: no valid example could be generated ({type(exc).__name__}); the fuzz skipped it"
            found.append(Finding("warning", "fuzz-unsatisfiable", msg))
            return found
        except Exception as exc:
            problem = _find_problem(exc)
            if problem is None and isinstance(exc, Flaky):
                msg = f"{label}: a failure did not reproduce ({exc}); the fuzz gave up on it"
                found.append(Finding("warning", "fuzz-flaky", msg[:300]))
                return found
            if problem is None:
                raise
            known.add(problem.key)
            found.append(problem.finding)
    return found


# --- comparing what was written with what is read back ------------------------------------------------


def _instant(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def same(kind: Kind | None, expected: object, actual: object, *, millis: bool = False) -> bool:
    """Whether a read-back value equals the written one at the store's precision."""
    if kind is None:
        return expected == actual
    empty: tuple[object, ...] = (None, [], (), set(), frozenset(), {})
    if kind.name in ("list", "set", "map") and expected in empty and actual in empty:
        return True
    if expected is None or actual is None:
        return expected is actual
    name = kind.name
    if name == "timestamp" and isinstance(expected, datetime) and isinstance(actual, datetime):
        diff = abs(_instant(expected) - _instant(actual))
        return diff < timedelta(milliseconds=1) if millis else diff == timedelta(0)
    if name == "text" and kind.fixed_length and isinstance(expected, str) and isinstance(actual, str):
        return expected.rstrip(" ") == actual.rstrip(" ")
    if name == "date" and hasattr(actual, "date") and not isinstance(actual, date):
        actual = actual.date()
    if name == "time" and hasattr(actual, "time") and not isinstance(actual, time):
        actual = actual.time()
    if name == "inet":
        return ipaddress.ip_interface(str(expected)) == ipaddress.ip_interface(str(actual))
    if name == "set":
        return bool(set(expected) == set(actual))  # type: ignore[call-overload]
    if name == "map":
        return bool(dict(expected) == dict(actual))  # type: ignore[call-overload]
    if name == "list" and kind.element is not None:
        exp, act = list(expected), list(actual)  # type: ignore[call-overload]
        return len(exp) == len(act) and all(
            same(kind.element, e, a, millis=millis) for e, a in zip(exp, act, strict=True)
        )
    if name == "decimal":
        return Decimal(str(expected)) == Decimal(str(actual))
    return expected == actual


def _compare_row(prefix: str, plan: TablePlan, written: Row, stored: Mapping[str, Any], *, millis: bool) -> None:
    for name, value in written.items():
        col = plan.column(name)
        if not same(col.kind, value, stored.get(name), millis=millis):
            raise _Problem(
                f"value:{plan.name}.{name}",
                f"{prefix} {plan.name}.{name}: a valid {col.describe} ({_show(value)}) was read back as "
                f"{_show(stored.get(name))} ({col.store_type})",
                code="fuzz-changed",
            )


# --- PostgreSQL ------------------------------------------------------------------------------------------


def _pg_value(col: ColumnPlan, value: object) -> object:
    if value is not None and col.kind is not None and col.kind.name == "json":
        from psycopg.types.json import Json, Jsonb

        return Jsonb(value) if col.store_type.lower() == "jsonb" else Json(value)
    return value


def _insert_sql(plan: TablePlan, columns: Iterable[str]) -> Any:
    from psycopg import sql

    cols = list(columns)
    table = sql.Identifier(plan.name)
    overriding = any(plan.column(c).identity_always for c in cols)
    if not cols:
        return sql.SQL("INSERT INTO {} DEFAULT VALUES RETURNING ctid::text AS {}, *").format(
            table, sql.Identifier("__ctid")
        )
    return sql.SQL("INSERT INTO {} ({}){} VALUES ({}) RETURNING ctid::text AS {}, *").format(
        table,
        sql.SQL(", ").join(sql.Identifier(c) for c in cols),
        sql.SQL(" OVERRIDING SYSTEM VALUE" if overriding else ""),
        sql.SQL(", ").join(sql.Placeholder() for _ in cols),
        sql.Identifier("__ctid"),
    )


def insert_postgres(conn: psycopg.Connection[Any], plan: TablePlan, row: Row) -> dict[str, Any]:
    """Insert one row (values as datagen makes them); returns the stored row plus its ``__ctid``."""
    from psycopg.rows import dict_row

    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_insert_sql(plan, row), [_pg_value(plan.column(c), v) for c, v in row.items()])
        stored = cur.fetchone()
    assert stored is not None
    return dict(stored)


# SQLSTATE classes that say nothing about the row: connection, resources, operator intervention, system.
_PG_TROUBLE = ("08", "40", "53", "54", "57", "58", "XX")
# Cassandra driver errors that say nothing about the row either.
_CASSANDRA_TROUBLE = ("OperationTimedOut", "WriteTimeout", "ReadTimeout", "Unavailable", "NoHostAvailable",
                      "ConnectionException", "OverloadedErrorMessage")  # fmt: skip


class _Refusal(Exception):
    """A valid row the database refused; classified after the example's savepoint is rolled back."""

    def __init__(self, plan: TablePlan, row: Row, error: Any) -> None:
        super().__init__(str(error))
        self.plan, self.row, self.error = plan, row, error


class _Postgres:
    """One fuzz run on one connection; every method runs inside the run's transaction."""

    prefix = "PG"

    def __init__(self, conn: psycopg.Connection[Any], plans: list[TablePlan]) -> None:
        self.conn = conn
        self.plans = {p.name: p for p in plans}

    def _count(self, plan: TablePlan) -> int:
        from psycopg import sql

        row = self.conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(plan.name))).fetchone()
        return int(row[0]) if row else 0

    def _read(self, plan: TablePlan, ctid: str) -> dict[str, Any]:
        from psycopg import sql
        from psycopg.rows import dict_row

        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(sql.SQL("SELECT * FROM {} WHERE ctid = %s::tid").format(sql.Identifier(plan.name)), [ctid])
            found = cur.fetchone()
        return dict(found) if found else {}

    def _probe(self, plan: TablePlan, row: Row) -> list[tuple[str, Any]]:
        """Which values the column types refuse: each into a constraint-free copy of the table."""
        import psycopg
        from psycopg import sql

        culprits: list[tuple[str, Any]] = []
        with self.conn.transaction(force_rollback=True):
            self.conn.execute(
                sql.SQL("CREATE TEMP TABLE harness_fuzz_probe AS SELECT * FROM {} WITH NO DATA").format(
                    sql.Identifier(plan.name)
                )
            )
            for name, value in row.items():
                if value is None:
                    continue
                try:
                    with self.conn.transaction():
                        self.conn.execute(
                            sql.SQL("INSERT INTO harness_fuzz_probe ({}) VALUES (%s)").format(sql.Identifier(name)),
                            [_pg_value(plan.column(name), value)],
                        )
                except psycopg.Error as exc:
                    culprits.append((name, exc))
        return culprits

    def insert_valid(self, plan: TablePlan, row: Row, *, read_back: bool = True) -> dict[str, Any]:
        """Insert a valid row (no savepoint of its own: a refusal aborts the example, see ``guard``)."""
        import psycopg

        try:
            stored = insert_postgres(self.conn, plan, row)
        except psycopg.Error as exc:
            raise _Refusal(plan, row, exc) from exc
        if read_back:
            _compare_row("PG", plan, row, self._read(plan, stored["__ctid"]), millis=False)
        return stored

    def guard(self, body: Callable[[Any, st.DataObject], None]) -> Callable[[Any, st.DataObject], None]:
        """Run an example body; a valid row refused is classified once the example's savepoint is gone."""

        def run(example: Any, data: st.DataObject) -> None:
            try:
                body(example, data)
            except _Refusal as refusal:
                self._classify(refusal)

        return run

    def _classify(self, refusal: _Refusal) -> None:
        plan, row, exc = refusal.plan, refusal.row, refusal.error
        state = exc.sqlstate or ""
        if state[:2] in _PG_TROUBLE:
            raise exc  # the server is in trouble (connection, resources, timeout): an error, not a finding
        if state == "23514" and exc.diag.constraint_name in plan.unknown_checks:
            reject()  # a CHECK we cannot read: the row is outside the valid set
        if state in ("23505", "23P01", "40P01", "55P03"):
            reject()  # uniqueness we cannot model (expression index, collation) or a lock: not a finding
        for name, err in self._probe(plan, row):
            col = plan.column(name)
            raise _Problem(
                f"value:{plan.name}.{name}",
                f"PG {plan.name}.{name}: a valid {col.describe} ({_show(row[name])}) was refused by "
                f"{col.store_type}: {_pg_error(err)}",
                code="fuzz-refused",
            )
        raise _Problem(
            f"refused:{plan.name}:{state}",
            f"PG {plan.name}: a valid row was refused: {_pg_error(exc)}; row {_show(row, 120)}",
            code="fuzz-refused",
        )

    def insert_parents(
        self, rows: list[tuple[str, Row]], *, read_back: bool = False
    ) -> dict[str, list[dict[str, Any]]]:
        stored: dict[str, list[dict[str, Any]]] = {}
        for table, row in rows:
            values = resolve(row, stored)
            stored.setdefault(table, []).append(self.insert_valid(self.plans[table], values, read_back=read_back))
        return stored

    def valid(self, example: datagen.Example, data: st.DataObject) -> None:
        with self.conn.transaction(force_rollback=True):
            self.insert_parents(example, read_back=True)

    def broken(self, rule: Rule) -> Callable[[datagen.Example, st.DataObject], None]:
        """The body of one rule's test: valid parents, a valid row, then the same row breaking the rule."""
        import psycopg

        plan = self.plans[rule.table]

        def body(example: datagen.Example, data: st.DataObject) -> None:
            with self.conn.transaction(force_rollback=True):
                *before, (_, last) = example
                stored = self.insert_parents(before)
                row = resolve(last, stored)
                with self.conn.transaction(force_rollback=True):  # the row must be valid before it is broken
                    self.insert_valid(plan, row, read_back=False)
                shown = self._break(rule, plan, row, stored, data)
                count = self._count(plan)
                state, message = None, ""
                try:
                    with self.conn.transaction():
                        self.conn.execute(
                            _insert_sql(plan, row), [_pg_value(plan.column(c), v) for c, v in row.items()]
                        )
                except psycopg.Error as exc:
                    state, message = exc.sqlstate, _pg_error(exc)
                written = self._count(plan) - count
                what = _rule_text(rule, shown)
                if state is None:
                    raise _Problem(f"accepted:{rule.table}:{rule.name}", f"PG {what} was accepted",
                                   code="fuzz-accepted")  # fmt: skip
                if state != rule.expected and state[:2] == "22":
                    reject()  # the breaking value trips a data exception elsewhere (a generated column, say)
                if state != rule.expected:
                    raise _Problem(
                        f"wrong:{rule.table}:{rule.name}",
                        f"PG {what} was rejected with {message}, expected SQLSTATE {rule.expected}",
                        code="fuzz-wrong-error",
                    )
                if written:
                    raise _Problem(f"written:{rule.table}:{rule.name}",
                                   f"PG {what} was rejected but left {written} row(s) written",
                                   code="fuzz-written")  # fmt: skip

        return body

    def _break(
        self, rule: Rule, plan: TablePlan, row: Row, stored: Mapping[str, list[dict[str, Any]]], data: st.DataObject
    ) -> str:
        """Change ``row`` in place so that it breaks exactly ``rule``; returns the breaking value, shown."""
        from psycopg import sql

        if rule.kind == "not_null":
            row[rule.columns[0]] = None
            return "NULL"
        if rule.kind == "unique":
            first = stored[rule.table][-1]
            assume(all(first.get(c) is not None for c in rule.columns))
            row.update({c: first[c] for c in rule.columns})
            return ", ".join(_show(row[c]) for c in rule.columns)
        if rule.kind == "foreign_key":
            fk = next(f for f in plan.foreign_keys if f.name == rule.name)
            values = [data.draw(datagen.store_strategy(plan.column(c)), label=c) for c in fk.columns]
            where = sql.SQL(" AND ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in fk.ref_columns)
            query = sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE {})").format(sql.Identifier(fk.ref_table), where)
            found = self.conn.execute(
                query, [_pg_value(plan.column(c), v) for c, v in zip(fk.columns, values, strict=True)]
            )
            assume(not (found.fetchone() or (False,))[0])
            row.update(zip(fk.columns, values, strict=True))
            return ", ".join(_show(v) for v in values)
        assert rule.check is not None
        col = plan.column(rule.columns[0])
        assert col.kind is not None
        others = [r for r in col.rules if r is not rule.check]
        value = data.draw(datagen.breaking(col.kind, rule.check, others), label=col.name)
        row[col.name] = value
        return _show(value)


def _rule_text(rule: Rule, shown: str) -> str:
    cols = ", ".join(rule.columns)
    if rule.kind == "not_null":
        return f"{rule.table}.{cols}: a row with NULL"
    if rule.kind == "unique":
        return f"{rule.table}({cols}): a row duplicating {rule.name} ({shown})"
    if rule.kind == "foreign_key":
        return f"{rule.table}.{cols}: a row referencing a missing parent ({shown}; {rule.name})"
    return f"{rule.table}.{cols}: a value outside {rule.name} ({shown})"


def _pg_error(exc: Any) -> str:
    primary = getattr(getattr(exc, "diag", None), "message_primary", None) or str(exc).splitlines()[0]
    return f"{primary} ({exc.sqlstate})"


def resolve(row: Row, stored: Mapping[str, list[dict[str, Any]]]) -> Row:
    """Replace each Ref by the referenced parent's stored value."""
    return {k: (stored[v.table][v.index][v.column] if isinstance(v, Ref) else v) for k, v in row.items()}


def _unsupported(prefix: str, plans: Iterable[TablePlan]) -> list[Finding]:
    return [
        Finding("warning", "fuzz-unsupported", f"{prefix} {p.name}: not fuzzed: {p.unsupported}")
        for p in plans
        if p.unsupported
    ]


def fuzz_postgres(
    conn: psycopg.Connection[Any], model: SchemaModel, contract: Contract | None, *, profile: str = "dev"
) -> list[Finding]:
    """Fuzz every table of ``model`` (the live schema ``conn`` points at); every finding, never only the first.

    Runs in a transaction (a savepoint if one is open) that is always rolled back: nothing is left behind.
    """
    config = profile_settings(profile)
    plans = datagen.plan_tables(model, contract)
    runner = _Postgres(conn, plans)
    findings = _unsupported("PG", plans)
    known: set[str] = set()
    fuzzable = [p for p in plans if p.unsupported is None]
    with conn.transaction(force_rollback=True):
        conn.execute("SET LOCAL TimeZone = 'UTC'")
        conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for plan in fuzzable:
            strategy = datagen.example_strategy(plans, plan.name)
            findings += _hunt(f"PG {plan.name}", strategy, runner.guard(runner.valid), config, known)
        for plan in fuzzable:
            for rule in datagen.breakable_rules(plan):
                strategy = datagen.example_strategy(
                    plans, plan.name, min_rows=1, max_rows=1, non_null=rule.columns if rule.kind == "unique" else ()
                )
                if rule.kind == "unique":  # two target rows: the second copies the first's key
                    strategy = _with_second_row(plans, plan.name, rule.columns)
                label = f"PG {plan.name} {rule.kind} {rule.name}"
                findings += _hunt(label, strategy, runner.guard(runner.broken(rule)), config, known)
    return findings


def _with_second_row(plans: list[TablePlan], table: str, non_null: tuple[str, ...]) -> st.SearchStrategy[Any]:
    return datagen.example_strategy(plans, table, min_rows=2, max_rows=2, non_null=non_null)


def insert_rows_postgres(
    conn: psycopg.Connection[Any], model: SchemaModel, rows: Iterable[tuple[str, Row]], contract: Contract | None = None
) -> None:
    """Insert rows such as ``datagen.sample_rows`` makes (parents first) into the tables of ``model``."""
    plans = {p.name: p for p in datagen.plan_tables(model, contract)}
    for table, row in rows:
        insert_postgres(conn, plans[table], row)


def missing_rows_postgres(conn: psycopg.Connection[Any], rows: Iterable[tuple[str, Row]]) -> list[str]:
    """Which of ``rows`` are no longer there with every value equal (one message per row)."""
    import psycopg
    from psycopg import sql

    missing: list[str] = []
    for table, row in rows:
        conds = [sql.SQL("{} IS NULL" if v is None else "{} = %s").format(sql.Identifier(c)) for c, v in row.items()]
        query = sql.SQL("SELECT count(*) FROM {} WHERE {}").format(
            sql.Identifier(table), sql.SQL(" AND ").join(conds) if conds else sql.SQL("true")
        )
        params = [v for v in row.values() if v is not None]
        try:
            with conn.transaction():
                found = conn.execute(query, params).fetchone()
        except psycopg.Error as exc:
            missing.append(f"PG {table}: row {_show(row, 120)} cannot be read back: {_pg_error(exc)}")
            continue
        if not found or not found[0]:
            missing.append(f"PG {table}: row {_show(row, 120)} is gone or changed")
    return missing


# --- Cassandra --------------------------------------------------------------------------------------------


def _cql_value(kind: Kind | None, value: object) -> object:
    if value is None or kind is None:
        return value
    if kind.name == "inet":
        return str(value)
    if kind.name in ("list", "set") and kind.element is not None:
        items = [_cql_value(kind.element, v) for v in value]  # type: ignore[attr-defined]
        return set(items) if kind.name == "set" else items
    if kind.name == "map" and kind.key is not None and kind.element is not None:
        return {_cql_value(kind.key, k): _cql_value(kind.element, v) for k, v in value.items()}  # type: ignore[attr-defined]
    return value


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _Cassandra:
    prefix = "C"

    def __init__(self, session: Any, keyspace: str, plans: list[TablePlan]) -> None:
        self.session = session
        self.keyspace = keyspace
        self.plans = {p.name: p for p in plans}
        self._prepared: dict[tuple[str, str, tuple[str, ...]], Any] = {}

    def _table(self, plan: TablePlan) -> str:
        return f"{_q(self.keyspace)}.{_q(plan.name)}"

    def _statement(self, verb: str, plan: TablePlan, cols: tuple[str, ...]) -> Any:
        key = (verb, plan.name, cols)
        if key not in self._prepared:
            if verb == "insert":
                text = (f"INSERT INTO {self._table(plan)} ({', '.join(_q(c) for c in cols)}) "
                        f"VALUES ({', '.join('?' for _ in cols)})")  # fmt: skip
            else:
                where = " AND ".join(f"{_q(c)} = ?" for c in cols)
                head = "SELECT *" if verb == "select" else "DELETE"
                text = f"{head} FROM {self._table(plan)} WHERE {where}"
            self._prepared[key] = self.session.prepare(text)
        return self._prepared[key]

    def _keys(self, plan: TablePlan) -> tuple[str, ...]:
        return (*plan.partition_key, *plan.clustering)

    def _run(self, verb: str, plan: TablePlan, row: Mapping[str, object]) -> Any:
        cols = tuple(row)
        values = [_cql_value(plan.column(c).kind, row[c]) for c in cols]
        return self.session.execute(self._statement(verb, plan, cols), values)

    def _exists(self, plan: TablePlan, key: Mapping[str, object]) -> bool:
        return self._run("select", plan, key).one() is not None

    def _probe(self, plan: TablePlan, row: Row) -> tuple[str | None, Exception | None]:
        """The first column whose value alone (with the key) is refused, else (None, the key's error)."""
        keys = {c: row[c] for c in self._keys(plan)}
        try:
            self._run("insert", plan, keys)
        except Exception as exc:
            return None, exc
        try:
            for name, value in row.items():
                if name in keys or value is None:
                    continue
                try:
                    self._run("insert", plan, {**keys, name: value})
                except Exception as exc:
                    return name, exc
        finally:
            self._run("delete", plan, self._partition(plan, row))  # the partition was fresh
        return None, None

    def _partition(self, plan: TablePlan, row: Mapping[str, object]) -> dict[str, object]:
        return {c: row[c] for c in plan.partition_key}

    def valid(self, example: datagen.Example, data: st.DataObject) -> None:
        """Insert the rows under fresh partitions, read each back by its key, delete the partitions."""
        fresh: dict[tuple[str, str], tuple[TablePlan, dict[str, object]]] = {}
        written: list[tuple[TablePlan, Row]] = []
        try:
            for table, row in example:
                plan = self.plans[table]
                part = self._partition(plan, row)
                where = (plan.name, repr(part))
                if where not in fresh:
                    if self._run("select", plan, part).one() is not None:
                        reject()  # someone's data lives in this partition: not a fresh key
                    fresh[where] = (plan, part)
                try:
                    self._run("insert", plan, row)
                except Exception as exc:
                    self._refused(plan, row, exc)
                written.append((plan, row))
            last = {(plan.name, repr(self._partition(plan, row))): row for plan, row in written}
            for plan, row in written:
                statics = last[(plan.name, repr(self._partition(plan, row)))]
                expected = {c: statics[c] if plan.column(c).key == "static" else v for c, v in row.items()}
                stored = self._run("select", plan, {c: row[c] for c in self._keys(plan)}).one()
                stored_map = dict(stored._asdict()) if hasattr(stored, "_asdict") else dict(stored or {})
                _compare_row("C", plan, expected, stored_map, millis=True)
        finally:
            for plan, part in fresh.values():
                self._run("delete", plan, part)

    def _refused(self, plan: TablePlan, row: Row, exc: Exception) -> None:
        if type(exc).__name__ in _CASSANDRA_TROUBLE:
            raise exc
        name, err = self._probe(plan, row)
        if err is not None and type(err).__name__ in _CASSANDRA_TROUBLE:
            raise err
        if name is not None:
            col = plan.column(name)
            raise _Problem(
                f"value:{plan.name}.{name}",
                f"C {plan.name}.{name}: a valid {col.describe} ({_show(row[name])}) was refused by "
                f"{col.store_type}: {_cql_error(err or exc)}",
                code="fuzz-refused",
            ) from None
        keys = ", ".join(f"{c}={_show(row[c])}" for c in self._keys(plan))
        raise _Problem(
            f"refused:{plan.name}:key",
            f"C {plan.name}: a valid row ({keys}) was refused: {_cql_error(err or exc)}",
            code="fuzz-refused",
        ) from None

    def missing_key(self, plan: TablePlan, column: str) -> Callable[[datagen.Example, st.DataObject], None]:
        def body(example: datagen.Example, data: st.DataObject) -> None:
            (_, row), *_ = example
            partial = {c: v for c, v in row.items() if c != column}
            partition = {c: row[c] for c in plan.partition_key if c != column}
            if column in plan.clustering and self._run("select", plan, partition).one() is not None:
                reject()
            cols = tuple(partial)
            text = (f"INSERT INTO {self._table(plan)} ({', '.join(_q(c) for c in cols)}) "
                    f"VALUES ({', '.join('?' for _ in cols)})")  # fmt: skip
            try:
                self.session.execute(
                    self.session.prepare(text), [_cql_value(plan.column(c).kind, partial[c]) for c in cols]
                )
            except Exception as exc:
                if type(exc).__name__ != "InvalidRequest":
                    raise _Problem(
                        f"wrong:{plan.name}:{column}",
                        f"C {plan.name}: a row without key column {column} was rejected with {_cql_error(exc)}, "
                        "expected InvalidRequest",
                        code="fuzz-wrong-error",
                    ) from None
                return
            if column in plan.clustering:
                self._run("delete", plan, partition)
            raise _Problem(
                f"accepted:{plan.name}:{column}",
                f"C {plan.name}: a row without key column {column} was accepted",
                code="fuzz-accepted",
            )

        return body


def _cql_error(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:200]


def insert_rows_cassandra(
    session: Any, keyspace: str, model: SchemaModel, rows: Iterable[tuple[str, Row]], contract: Contract | None = None
) -> None:
    """Insert rows such as ``datagen.sample_rows`` makes into the tables of the Cassandra ``keyspace``."""
    runner = _Cassandra(session, keyspace, datagen.plan_tables(model, contract))
    for table, row in rows:
        runner._run("insert", runner.plans[table], row)


def missing_rows_cassandra(
    session: Any, keyspace: str, model: SchemaModel, rows: Iterable[tuple[str, Row]], contract: Contract | None = None
) -> list[str]:
    """Which of ``rows`` are no longer there (read by primary key) with every value equal to the millisecond."""
    runner = _Cassandra(session, keyspace, datagen.plan_tables(model, contract))
    missing: list[str] = []
    for table, row in rows:
        plan = runner.plans.get(table)
        if plan is None:
            missing.append(f"C {table}: table is gone")
            continue
        try:
            found = runner._run("select", plan, {c: row[c] for c in runner._keys(plan)}).one()
        except Exception as exc:
            missing.append(f"C {table}: row {_show(row, 120)} cannot be read back: {_cql_error(exc)}")
            continue
        stored = dict(found._asdict()) if hasattr(found, "_asdict") else dict(found or {})
        if not found or not all(same(plan.column(c).kind, v, stored.get(c), millis=True) for c, v in row.items()):
            missing.append(f"C {table}: row {_show(row, 120)} is gone or changed")
    return missing


def fuzz_cassandra(
    session: Any, keyspace: str, model: SchemaModel, contract: Contract | None, *, profile: str = "dev"
) -> list[Finding]:
    """Fuzz every table of the Cassandra ``keyspace`` described by ``model``; every finding at once.

    Valid rows under fresh keys must read back identical (timestamps to the millisecond); rows missing a
    partition or clustering key column must be refused. Every row written is deleted again.
    """
    config = profile_settings(profile)
    plans = datagen.plan_tables(model, contract)
    runner = _Cassandra(session, keyspace, plans)
    findings = _unsupported("C", plans)
    known: set[str] = set()
    for plan in plans:
        if plan.unsupported:
            continue
        findings += _hunt(f"C {plan.name}", datagen.example_strategy(plans, plan.name), runner.valid, config, known)
        one_row = datagen.example_strategy(plans, plan.name, max_rows=1)
        for column in (*plan.partition_key, *plan.clustering):
            label = f"C {plan.name} missing {column}"
            findings += _hunt(label, one_row, runner.missing_key(plan, column), config, known)
    return findings


__all__ = [
    "PROFILES",
    "fuzz_cassandra",
    "fuzz_postgres",
    "insert_postgres",
    "insert_rows_cassandra",
    "insert_rows_postgres",
    "missing_rows_cassandra",
    "missing_rows_postgres",
    "profile_settings",
    "resolve",
    "same",
]
