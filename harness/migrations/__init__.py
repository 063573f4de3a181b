"""Migration files of both stores: parsing (pure), discovery of a directory, and `new`.

The format is dbmate's (`-- migrate:up` / `-- migrate:down`, `transaction:false`, several up/down pairs per file);
Cassandra files may also be plain CQL (up-only) or hold only comments (a recorded no-op).
"""

from harness.migrations.discover import DEFAULT_MAX_BYTES, discover
from harness.migrations.model import Migration, Section
from harness.migrations.new import new_migration
from harness.migrations.parse import parse_migration

__all__ = ["DEFAULT_MAX_BYTES", "Migration", "Section", "discover", "new_migration", "parse_migration"]
