"""One settings object, built in one place: flag > environment > pytest ini > config file > layout > default.

Everything the harness decides by configuration is read here, once: the project's keys (directories, contract,
policies), the connections of the store commands (dbmate's and Cassandra's variables), and where throwaway servers
come from. Nothing else reads the environment for the harness's own settings.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.config.files import ConfigFile, find_config, read_env_files
from harness.config.keys import KEYS, Context, convert, key, spell
from harness.config.layouts import Detected, detect
from harness.errors import ConfigError
from harness.registry import STORE_NAMES


@dataclass(frozen=True)
class PostgresSettings:
    """``url`` empty means libpq's own variables (PGHOST, PGUSER, PGPASSWORD, ...) decide, as in the Helm Jobs."""

    url: str = field(default="", repr=False)
    migrations_table: str = "schema_migrations"
    lock: bool = True
    lock_timeout: float = 300.0
    has_libpq_env: bool = False

    def require(self) -> PostgresSettings:
        if not self.url and not self.has_libpq_env:
            raise ConfigError("no PostgreSQL given: set DATABASE_URL (or --url), or the libpq variables PGHOST etc.")
        return self


@dataclass(frozen=True)
class CassandraSettings:
    hosts: tuple[str, ...] = ("127.0.0.1",)
    port: int = 9042
    keyspace: str = ""
    local_dc: str = "datacenter1"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    replication: str = "SimpleStrategy:1"
    lock: bool = True
    lock_ttl: int = 30
    lock_timeout: float = 300.0
    agreement_timeout: float = 30.0
    ssl: bool = False
    ssl_ca: str | None = None
    ssl_cert: str | None = None
    ssl_key: str | None = field(default=None, repr=False)
    ssl_hostname_check: bool = True
    # A keyspace the store creates skips the commit log when False: only for throwaway keyspaces (see checks.target).
    durable_writes: bool = True

    def require(self) -> CassandraSettings:
        if not self.keyspace:
            raise ConfigError("no Cassandra keyspace given: set CASSANDRA_KEYSPACE or --keyspace")
        return self


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    try:
        value = float(env.get(name, default))
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, not {env.get(name)!r}") from None
    if not math.isfinite(value) or value <= 0:  # nan would make every deadline comparison false: wait forever
        raise ConfigError(f"{name} must be a finite number of seconds, more than 0, not {env.get(name)!r}")
    return value


def split_hosts(text: str) -> tuple[str, ...]:
    """The one place a comma-separated host list is split."""
    return tuple(h.strip() for h in text.split(",") if h.strip())


@dataclass(frozen=True)
class Settings:
    """The resolved settings of one run; ``sources`` says where each value came from (for messages)."""

    values: Mapping[str, Any]
    sources: Mapping[str, str]
    context: Context
    root: Path
    config_file: Path | None
    detected: Detected | None
    env: Mapping[str, str] = field(repr=False, default_factory=dict)
    detect_error: str | None = None

    def __getitem__(self, name: str) -> Any:
        key(name)
        return self.values.get(name)

    def spell(self, name: str) -> str:
        return spell(name, self.context)

    def migrations_dir(self, store: str) -> Path | None:
        value = self.values.get(f"{store}_migrations")
        return value if isinstance(value, Path) else None

    def stores(self) -> tuple[str, ...]:
        """The stores this project has migrations for (a directory configured or detected)."""
        return tuple(s for s in STORE_NAMES if self.migrations_dir(s) is not None)

    def require_dir(self, store: str) -> Path:
        directory = self.migrations_dir(store)
        if directory is None and self.detect_error and not self.stores():
            raise ConfigError(self.detect_error)
        if directory is None:
            raise ConfigError(
                f"no {store} migrations directory: set {self.spell(f'{store}_migrations')}"
                + (f" (found {self.detected.describe()}, which has none)" if self.detected else "")
            )
        return directory

    def postgres(self, url: str | None = None, **flags: Any) -> PostgresSettings:
        """Connection settings of the PostgreSQL store commands: dbmate's variables, then the flags."""
        env = self.env
        values: dict[str, Any] = {
            "url": url or env.get("DATABASE_URL", ""),
            "migrations_table": env.get("DBMATE_MIGRATIONS_TABLE", "schema_migrations"),
            "has_libpq_env": bool(env.get("PGHOST") or env.get("PGDATABASE")),
        }
        values.update({k: v for k, v in flags.items() if v is not None})
        return PostgresSettings(**values)

    def cassandra(self, **flags: Any) -> CassandraSettings:
        """Connection settings of the Cassandra store commands: CASSANDRA_* variables, then the flags."""
        env = self.env
        try:
            port = int(env.get("CASSANDRA_PORT", "9042"))
        except ValueError:
            raise ConfigError(f"CASSANDRA_PORT must be a port number, not {env.get('CASSANDRA_PORT')!r}") from None
        values: dict[str, Any] = {
            "hosts": split_hosts(env.get("CASSANDRA_HOSTS") or env.get("CASSANDRA_HOST") or "127.0.0.1"),
            "port": port,
            "keyspace": self.values.get("keyspace") or "",
            "local_dc": env.get("CASSANDRA_LOCAL_DC", "datacenter1"),
            "username": env.get("CASSANDRA_USERNAME") or None,
            "password": env.get("CASSANDRA_PASSWORD") or None,
            "replication": env.get("CASSANDRA_REPLICATION", "SimpleStrategy:1"),
            "agreement_timeout": _seconds(env, "CASSANDRA_SCHEMA_AGREEMENT_TIMEOUT", 30.0),
            "ssl": bool(self.values.get("cassandra_ssl")),
            "ssl_hostname_check": self.values.get("cassandra_ssl_hostname_check") is not False,
        }
        for name in ("ssl_ca", "ssl_cert", "ssl_key"):
            path = self.values.get(f"cassandra_{name}")
            values[name] = str(path) if path else None
        if isinstance(flags.get("hosts"), str):
            flags["hosts"] = split_hosts(str(flags["hosts"]))
        values.update({k: v for k, v in flags.items() if v is not None})
        return CassandraSettings(**values)

    def connection(self, store: str, **flags: Any) -> PostgresSettings | CassandraSettings:
        """The connection settings of ``store``'s commands (its own variables, then ``flags``)."""
        builders: dict[str, Callable[..., PostgresSettings | CassandraSettings]] = {
            "postgres": self.postgres,
            "cassandra": self.cassandra,
        }
        if store not in builders:
            raise ConfigError(f"unknown store {store!r}: use one of {', '.join(builders)}")
        return builders[store](**flags)

    def secrets(self) -> list[str]:
        """Every password the process knows, so output can be scrubbed of it."""
        from harness.config.secrets import known_secrets

        return known_secrets(self.env)


def _layer_values(
    raw: Mapping[str, Any], where: str, base: Path, values: dict[str, Any], sources: dict[str, str]
) -> None:
    for name, value in raw.items():
        if name in values or value is None or value == "":
            continue
        values[name] = convert(key(name), value, where, base)
        sources[name] = where


def load_settings(
    *,
    flags: Mapping[str, Any] | None = None,
    ini: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    context: Context = "cli",
    config: Path | None = None,
    env_files: Sequence[Path] | None = None,
    detect_layout: bool = True,
) -> Settings:
    """Resolve every key once. ``flags`` / ``ini`` hold raw values by key name (None or absent: not given)."""
    cwd = (cwd or Path.cwd()).resolve()
    real_env = dict(os.environ if env is None else env)
    dotenv = read_env_files(list(env_files) if env_files else [cwd / ".env"], explicit=bool(env_files))
    merged_env = {**dotenv, **real_env}  # dbmate's rule: the real environment wins over env files
    if env is None:  # as dbmate does: the drivers (libpq's PG* variables) see the env file's variables too
        for name, value in dotenv.items():
            os.environ.setdefault(name, value)
    file = find_config(cwd, config)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    _layer_values(flags or {}, "command line" if context == "cli" else "pytest option", cwd, values, sources)
    for k in KEYS:
        for variable in k.envs:
            if k.name not in values and merged_env.get(variable):
                values[k.name] = convert(k, merged_env[variable], f"${variable}", cwd)
                sources[k.name] = f"${variable}"
    _layer_values(ini or {}, "pytest ini", cwd, values, sources)
    _layer_values(file.values, str(file.path), file.root, values, sources)
    detected, error = _detect(values, sources, file, context) if detect_layout else (None, None)
    for k in KEYS:
        values.setdefault(k.name, k.default)
    return Settings(values, sources, context, file.root, file.path, detected, merged_env, error)


def _detect(
    values: dict[str, Any], sources: dict[str, str], file: ConfigFile, context: Context
) -> tuple[Detected | None, str | None]:
    """Known layouts fill the directories (and the contract) only when no directory is configured at all."""
    if any(values.get(f"{s}_migrations") is not None for s in STORE_NAMES):
        return None, None
    how = " or ".join(spell(f"{s}_migrations", context) for s in STORE_NAMES)
    try:
        found = detect(file.root, how)
    except ConfigError as exc:
        return None, str(exc)  # commands that need a directory say so (require_dir); others do not care
    for store, directory in (("postgres", found.postgres), ("cassandra", found.cassandra)):
        if directory is not None:
            values[f"{store}_migrations"] = directory
            sources[f"{store}_migrations"] = found.describe()
    if found.contract is not None and values.get("contract") is None:
        values["contract"] = found.contract
        sources["contract"] = found.describe()
    return found, None
