"""The expected schema as a file, for places that have no throwaway servers (a `helm test` pod in a cluster).

`harness drift --write-expected-schema FILE` builds the schema the migrations make (on throwaway databases, as
usual) and writes it with the checksum of every migration file; teams commit it beside their migrations, as
dbmate users commit db/schema.sql, and copy it into the image. `drift` reads it instead of starting servers, and
refuses a file written for other migration files (stale), since it would compare against the wrong schema.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.drift.expected import CannotBuild, Expected
from harness.migrations import Migration
from harness.schema.model import SchemaModel

FORMAT = 1


def _checksums(migrations: Mapping[str, Sequence[Migration]]) -> dict[str, dict[str, str]]:
    return {store: {m.filename: m.checksum for m in files} for store, files in migrations.items()}


def write_expected(path: Path, expected: Expected, migrations: Mapping[str, Sequence[Migration]]) -> None:
    data: dict[str, Any] = {
        "format": FORMAT,
        "migrations": _checksums(migrations),
        "models": {store: model.to_json() for store, model in expected.models.items()},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


def read_expected(path: Path, migrations: Mapping[str, Sequence[Migration]]) -> Expected:
    """The models of a file written by write_expected for exactly these migration files."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CannotBuild(f"{path}: cannot read the expected schema ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CannotBuild(f"{path}: not an expected-schema file of this harness (format {FORMAT})")
    if data.get("migrations") != _checksums(migrations):
        raise CannotBuild(
            f"{path}: written for other migration files (stale); write it again with "
            "`harness drift --write-expected-schema` after changing a migration"
        )
    models = {store: SchemaModel.from_json(model) for store, model in data["models"].items()}
    missing = sorted(set(migrations) - set(models))
    if missing:
        raise CannotBuild(f"{path}: has no {', '.join(missing)} schema")
    return Expected(models=models, servers=[f"{path.name} (written by --write-expected-schema)"])
