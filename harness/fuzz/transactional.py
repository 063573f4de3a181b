"""The search on a store with transactions and constraints (PostgreSQL): every example undone by a trial.

Everything happens in one trial (a transaction rolled back at the end; a savepoint if one is open) and
each example in a nested one, so no database is created and nothing is left behind. Valid rows must be
accepted and read back unchanged: one finding per column refused or changed. Then, per constraint a row
can break alone, rows breaking it must be rejected with its SQLSTATE and leave nothing written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import assume, reject
from hypothesis import strategies as st

from harness.fuzz.compare import show
from harness.fuzz.hunt import Body, Problem, Run, resolve
from harness.fuzz.plan import Example, Row, Rule, TablePlan, breakable_rules
from harness.fuzz.strategies import breaking, example_strategy, store_strategy
from harness.schema.compare import Finding
from harness.stores.base import RowError

# Refusals that are not findings: uniqueness we cannot model (expression index, collation), a lock.
_NOT_ABOUT_THE_ROW = ("23505", "23P01", "40P01", "55P03")


class _Refusal(Exception):
    """A valid row the database refused; classified after the example's savepoint is rolled back."""

    def __init__(self, plan: TablePlan, row: Row, error: RowError) -> None:
        super().__init__(str(error))
        self.plan, self.row, self.error = plan, row, error


def _rule_text(rule: Rule, shown: str) -> str:
    cols = ", ".join(rule.columns)
    if rule.kind == "not_null":
        return f"{rule.table}.{cols}: a row with NULL"
    if rule.kind == "unique":
        return f"{rule.table}({cols}): a row duplicating {rule.name} ({shown})"
    if rule.kind == "foreign_key":
        return f"{rule.table}.{cols}: a row referencing a missing parent ({shown}; {rule.name})"
    return f"{rule.table}.{cols}: a value outside {rule.name} ({shown})"


class Transactional:
    """The example bodies of one run; every method runs inside the run's trial."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.rows = run.rows

    def insert_valid(self, plan: TablePlan, row: Row, *, read_back: bool = True) -> Row:
        """Insert a valid row (no savepoint of its own: a refusal aborts the example, see ``guard``)."""
        try:
            stored = self.rows.insert(self.run.tables[plan.name], row, read_back=read_back)
        except RowError as exc:
            raise _Refusal(plan, row, exc) from exc
        if read_back:
            self.run.compare(plan, row, stored)
        return stored

    def insert_parents(self, rows: Example, *, read_back: bool = False) -> dict[str, list[Row]]:
        stored: dict[str, list[Row]] = {}
        for table, row in rows:
            values = resolve(row, stored)
            stored.setdefault(table, []).append(self.insert_valid(self.run.plans[table], values, read_back=read_back))
        return stored

    def guard(self, body: Body) -> Body:
        """Run an example body; a valid row refused is classified once the example's savepoint is gone."""

        def run(example: Any, data: st.DataObject) -> None:
            try:
                body(example, data)
            except _Refusal as refusal:
                self._classify(refusal)

        return run

    def _classify(self, refusal: _Refusal) -> None:
        plan, row, error = refusal.plan, refusal.row, refusal.error
        prefix = self.run.prefix
        if error.trouble:
            raise error  # the server is in trouble (connection, resources, timeout): an error, not a finding
        if error.code == "23514" and error.constraint in plan.unknown_checks:
            reject()  # a CHECK we cannot read: the row is outside the valid set
        if error.code in _NOT_ABOUT_THE_ROW:
            reject()
        name, err = self.rows.probe(self.run.tables[plan.name], row) or (None, None)
        if name is not None:
            col = plan.column(name)
            raise Problem(
                f"value:{plan.name}.{name}",
                f"{prefix} {plan.name}.{name}: a valid {col.describe} ({show(row[name])}) was refused by "
                f"{col.store_type}: {err}",
                code="fuzz-refused",
            )
        raise Problem(
            f"refused:{plan.name}:{error.code}",
            f"{prefix} {plan.name}: a valid row was refused: {error}; row {show(row, 120)}",
            code="fuzz-refused",
        )

    def valid(self, example: Example, data: st.DataObject) -> None:
        with self.rows.trial():
            self.insert_parents(example, read_back=True)

    def broken(self, rule: Rule) -> Body:
        """The body of one rule's test: valid parents, a valid row, then the same row breaking the rule."""
        plan = self.run.plans[rule.table]
        table = self.run.tables[rule.table]
        prefix = self.run.prefix

        def body(example: Example, data: st.DataObject) -> None:
            with self.rows.trial():
                *before, (_, last) = example
                stored = self.insert_parents(before)
                row = resolve(last, stored)
                with self.rows.trial():  # the row must be valid before it is broken
                    self.insert_valid(plan, row, read_back=False)
                what = _rule_text(rule, self._break(rule, plan, row, stored, data))
                count = self.rows.count(table)
                error: RowError | None = None
                try:
                    with self.rows.batch():
                        self.rows.insert(table, row)
                except RowError as exc:
                    error = exc
                written = self.rows.count(table) - count
                if error is None:
                    raise Problem(f"accepted:{rule.table}:{rule.name}", f"{prefix} {what} was accepted",
                                  code="fuzz-accepted")  # fmt: skip
                if error.trouble:
                    raise error
                if error.code != rule.expected and error.code[:2] == "22":
                    reject()  # the breaking value trips a data exception elsewhere (a generated column, say)
                if error.code != rule.expected:
                    raise Problem(
                        f"wrong:{rule.table}:{rule.name}",
                        f"{prefix} {what} was rejected with {error}, expected SQLSTATE {rule.expected}",
                        code="fuzz-wrong-error",
                    )
                if written:
                    raise Problem(f"written:{rule.table}:{rule.name}",
                                  f"{prefix} {what} was rejected but left {written} row(s) written",
                                  code="fuzz-written")  # fmt: skip

        return body

    def _break(
        self, rule: Rule, plan: TablePlan, row: Row, stored: Mapping[str, list[Row]], data: st.DataObject
    ) -> str:
        """Change ``row`` in place so that it breaks exactly ``rule``; returns the breaking value, shown."""
        if rule.kind == "not_null":
            row[rule.columns[0]] = None
            return "NULL"
        if rule.kind == "unique":
            first = stored[rule.table][-1]
            assume(all(first.get(c) is not None for c in rule.columns))
            row.update({c: first[c] for c in rule.columns})
            return ", ".join(show(row[c]) for c in rule.columns)
        if rule.kind == "foreign_key":
            fk = next(f for f in plan.foreign_keys if f.name == rule.name)
            values = [data.draw(store_strategy(plan.column(c)), label=c) for c in fk.columns]
            parent = dict(zip(fk.ref_columns, values, strict=True))
            assume(not self.rows.exists(self.run.tables[fk.ref_table], parent))
            row.update(zip(fk.columns, values, strict=True))
            return ", ".join(show(v) for v in values)
        assert rule.check is not None
        col = plan.column(rule.columns[0])
        assert col.kind is not None
        others = [r for r in col.rules if r is not rule.check]
        value = data.draw(breaking(col.kind, rule.check, others), label=col.name)
        row[col.name] = value
        return show(value)


def search(run: Run) -> list[Finding]:
    """Valid rows for every table, then rows breaking each constraint, all in one trial that is undone."""
    bodies = Transactional(run)
    plans = list(run.plans.values())
    fuzzable = [p for p in plans if p.unsupported is None]
    findings: list[Finding] = []
    with run.rows.trial():
        for plan in fuzzable:
            findings += run.hunt(plan.name, example_strategy(plans, plan.name), bodies.guard(bodies.valid))
        for plan in fuzzable:
            for rule in breakable_rules(plan):
                if rule.kind == "unique":  # two target rows: the second copies the first's key
                    strategy = example_strategy(plans, plan.name, min_rows=2, max_rows=2, non_null=rule.columns)
                else:
                    strategy = example_strategy(plans, plan.name, min_rows=1, max_rows=1)
                label = f"{plan.name} {rule.kind} {rule.name}"
                structural = rule.kind != "check"
                findings += run.hunt(label, strategy, bodies.guard(bodies.broken(rule)), structural=structural)
    return findings
