"""What differs between the stores, as data: one entry per store instead of `if store == ...` branches.

Code that is the same for both stores looks up a :class:`StoreKind` here. The factory is a dotted path resolved
on demand, so that importing the registry never imports a database driver.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Literal, get_args

from harness.errors import ConfigError

StoreName = Literal["postgres", "cassandra"]


@dataclass(frozen=True)
class StoreKind:
    """Everything store-independent code needs to know about one store."""

    name: StoreName
    title: str  # for help texts and messages
    extension: str  # migration file extension, lowercase, with the dot
    example: str  # an example migration file name
    comment_prefixes: tuple[str, ...]  # line comments of the store's language
    prefix: str  # report prefix of findings: "PG users.email: ..."
    progress_unit: str  # what a failed migration's progress counts: sections or statements
    factory: str  # "module:function" that opens a store from settings
    admin: str  # module with create_target / drop_target (dbmate's `create` and `drop`)
    dump: bool  # whether `dump` exists for this store
    transactional: bool  # whether a migration's section can run inside one transaction
    new_version: Literal["timestamp", "sequence"]  # how `new` numbers a migration


STORES: dict[str, StoreKind] = {
    "postgres": StoreKind(
        name="postgres",
        title="PostgreSQL",
        extension=".sql",
        example="20240101120000_create_users.sql",
        comment_prefixes=("--",),
        prefix="PG",
        progress_unit="section",
        factory="harness.stores.postgres.store:open_postgres",
        admin="harness.stores.postgres.admin",
        dump=True,
        transactional=True,
        new_version="timestamp",
    ),
    "cassandra": StoreKind(
        name="cassandra",
        title="Cassandra",
        extension=".cql",
        example="001_create_users.cql",
        comment_prefixes=("--", "//"),
        prefix="C",
        progress_unit="statement",
        factory="harness.stores.cassandra.store:open_cassandra",
        admin="harness.stores.cassandra.admin",
        dump=False,
        transactional=False,
        new_version="sequence",
    ),
}
STORE_NAMES: tuple[StoreName, ...] = get_args(StoreName)


def store_kind(name: str) -> StoreKind:
    """The registry entry of a store; an unknown name is a clear error listing the known ones."""
    try:
        return STORES[name]
    except KeyError:
        raise ConfigError(f"unknown store {name!r}: use one of {', '.join(STORES)}") from None


def factory(name: str) -> Any:
    """The function that opens a live store of this kind (imported only now: it imports the driver)."""
    module, _, function = store_kind(name).factory.partition(":")
    return getattr(importlib.import_module(module), function)


def admin(name: str, function: str) -> Any:
    """``create_target`` or ``drop_target`` of a store (imported only now)."""
    return getattr(importlib.import_module(store_kind(name).admin), function)
