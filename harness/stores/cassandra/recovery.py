"""Resuming an interrupted Cassandra migration without a person: did the statement that was running take effect?

The ledger records a statement as done only after it ran and the nodes agreed, so after a kill the ledger says
"statements 1..d done, d + 1 running". Statement d + 1 either took effect or did not; for a schema statement the
schema itself says which (:mod:`harness.migrations.effects`), read once every node agrees. A statement that is
harmless to run twice runs again. A data change or a grant cannot be read back: that stops, and the applier
prints the two commands that settle it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.migrations import Migration
from harness.migrations.effects import Rerun, effect_of
from harness.migrations.effects_check import judge
from harness.stores.base import AppliedMigration, Resolution, UnresolvedStep

if TYPE_CHECKING:
    from harness.schema.model import SchemaModel
    from harness.stores.cassandra.store import CassandraStore


def _label(k: int, line: int, text: str) -> str:
    short = " ".join(text.split())
    return f"statement {k} (line {line}: `{short[:60]}{'...' if len(short) > 60 else ''}`)"


def resolve(store: CassandraStore, migration: Migration, record: AppliedMigration) -> Resolution:
    """Where ``migration`` resumes; UnresolvedStep when the schema cannot tell."""
    statements = migration.up_statements
    done = min(record.done, len(statements))
    if not record.in_flight:  # stopped cleanly after statement `done` (no agreement, or resolved by hand)
        store.await_agreement(f"resuming {migration.filename}")
        return Resolution(done, "")
    if done >= len(statements):
        return Resolution(done, "every statement had run; recording it as applied")
    k = done + 1
    statement = statements[done]
    label = _label(k, statement.line, statement.text)
    effect = effect_of(statement.text)
    if effect is None:
        raise UnresolvedStep(k, f"{label} changes data or permissions (or is not a statement the schema shows)")
    if isinstance(effect, Rerun):
        return Resolution(done, f"{label} was running; {effect.why}, so it runs again")
    store.await_agreement(f"reading what {migration.filename} did")  # a lagging node must not answer for the others
    verdict = judge(effect, lambda keyspace: _snapshot(store, keyspace), store.keyspace)
    if verdict.took_effect is None:
        raise UnresolvedStep(k, f"{label} was running, and the schema shows neither its effect nor the state before "
                                f"it: {verdict.reason}")  # fmt: skip
    if verdict.took_effect:
        return Resolution(k, f"{label} was running and took effect ({verdict.reason})")
    return Resolution(done, f"{label} was running and did not take effect ({verdict.reason})")


def _snapshot(store: CassandraStore, keyspace: str) -> SchemaModel | None:
    """The keyspace as system_schema shows it now; None when it does not exist."""
    from harness.stores.cassandra.introspect import cassandra_keyspace_exists, introspect_cassandra
    from harness.stores.cassandra.lease import LOCK_TABLE
    from harness.stores.cassandra.store import LEDGER, RESETS

    if not cassandra_keyspace_exists(store.session, keyspace):
        return None
    return introspect_cassandra(store.session, keyspace, exclude_tables=(LEDGER, LOCK_TABLE, RESETS))
