"""The search on a store without transactions (Cassandra): rows under fresh keys, deleted after each example.

Valid rows go under partitions that hold no data yet (a key that does is skipped), are read back by
their primary key (timestamps to the millisecond, static columns as the partition's last row set them)
and the partitions are deleted again. Rows missing a partition or clustering key column must be refused
with InvalidRequest.
"""

from __future__ import annotations

from hypothesis import reject
from hypothesis import strategies as st

from harness.fuzz.compare import show
from harness.fuzz.hunt import Body, Problem, Run
from harness.fuzz.plan import Example, Row, TablePlan
from harness.fuzz.strategies import example_strategy
from harness.schema.compare import Finding
from harness.stores.base import RowError

EXPECTED_FOR_MISSING_KEY = "InvalidRequest"


def _partition(plan: TablePlan, row: Row) -> Row:
    return {c: row[c] for c in plan.partition_key}


class FreshKeys:
    """The example bodies of one run."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.rows = run.rows

    def valid(self, example: Example, data: st.DataObject) -> None:
        """Insert the rows under fresh partitions, read each back by its key, delete the partitions."""
        fresh: dict[tuple[str, str], tuple[TablePlan, Row]] = {}
        written: list[tuple[TablePlan, Row]] = []
        try:
            for name, row in example:
                plan = self.run.plans[name]
                part = _partition(plan, row)
                where = (plan.name, repr(part))
                if where not in fresh:
                    if self.rows.exists(self.run.tables[name], part):
                        reject()  # someone's data lives in this partition: not a fresh key
                    fresh[where] = (plan, part)
                try:
                    self.rows.insert(self.run.tables[name], row)
                except RowError as exc:
                    self._refused(plan, row, exc)
                written.append((plan, row))
            last = {(plan.name, repr(_partition(plan, row))): row for plan, row in written}
            for plan, row in written:
                statics = last[(plan.name, repr(_partition(plan, row)))]
                expected = {c: statics[c] if plan.column(c).key == "static" else v for c, v in row.items()}
                found = self.rows.select(self.run.tables[plan.name], {c: row[c] for c in plan.row_key})
                self.run.compare(plan, expected, found[0] if found else {})
        finally:
            for plan, part in fresh.values():
                self.rows.delete(self.run.tables[plan.name], part)

    def _refused(self, plan: TablePlan, row: Row, error: RowError) -> None:
        if error.trouble:
            raise error
        name, err = self.rows.probe(self.run.tables[plan.name], row) or (None, None)
        if err is not None and err.trouble:
            raise err
        prefix = self.run.prefix
        if name is not None:
            col = plan.column(name)
            raise Problem(
                f"value:{plan.name}.{name}",
                f"{prefix} {plan.name}.{name}: a valid {col.describe} ({show(row[name])}) was refused by "
                f"{col.store_type}: {err or error}",
                code="fuzz-refused",
            ) from None
        keys = ", ".join(f"{c}={show(row[c])}" for c in plan.row_key)
        raise Problem(
            f"refused:{plan.name}:key",
            f"{prefix} {plan.name}: a valid row ({keys}) was refused: {err or error}",
            code="fuzz-refused",
        ) from None

    def missing_key(self, plan: TablePlan, column: str) -> Body:
        """A row without one key column must be refused (and, if accepted, what it wrote is deleted)."""
        table = self.run.tables[plan.name]
        prefix = self.run.prefix

        def body(example: Example, data: st.DataObject) -> None:
            (_, row), *_ = example
            partial = {c: v for c, v in row.items() if c != column}
            partition = {c: row[c] for c in plan.partition_key if c != column}
            if column in plan.clustering and self.rows.exists(table, partition):
                reject()
            try:
                self.rows.insert(table, partial)
            except RowError as exc:
                if exc.code != EXPECTED_FOR_MISSING_KEY:
                    raise Problem(
                        f"wrong:{plan.name}:{column}",
                        f"{prefix} {plan.name}: a row without key column {column} was rejected with {exc}, "
                        f"expected {EXPECTED_FOR_MISSING_KEY}",
                        code="fuzz-wrong-error",
                    ) from None
                return
            if column in plan.clustering:
                self.rows.delete(table, partition)
            raise Problem(
                f"accepted:{plan.name}:{column}",
                f"{prefix} {plan.name}: a row without key column {column} was accepted",
                code="fuzz-accepted",
            )

        return body


def search(run: Run) -> list[Finding]:
    """Valid rows for every table, then rows missing each key column; every row written is deleted again."""
    bodies = FreshKeys(run)
    plans = list(run.plans.values())
    findings: list[Finding] = []
    for plan in plans:
        if plan.unsupported:
            continue
        findings += run.hunt(plan.name, example_strategy(plans, plan.name), bodies.valid)
        one_row = example_strategy(plans, plan.name, max_rows=1)
        for column in (*plan.partition_key, *plan.clustering):
            label = f"{plan.name} missing {column}"
            findings += run.hunt(label, one_row, bodies.missing_key(plan, column), structural=True)
    return findings
