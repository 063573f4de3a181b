"""The one table of settings: each key is a config-file key, a pytest ini option and a flag, by the same name.

`postgres_migrations` is `postgres_migrations = "db/migrations"` in `[tool.harness]` / `harness.toml`,
`harness_postgres_migrations` in pytest's ini, `--postgres-migrations` on the command line (`--harness-postgres-
migrations` under pytest, whose flags share one namespace with every other plugin) and `HARNESS_POSTGRES_MIGRATIONS`
in the environment. Messages spell a key the way the reader's context does (see `spell`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from harness.errors import ConfigError

Context = Literal["cli", "pytest", "file"]
Kind = Literal["path", "text", "bool", "int", "choice", "version", "list"]

MiB = 1024 * 1024


@dataclass(frozen=True)
class Key:
    name: str
    kind: Kind
    default: object
    help: str
    env: tuple[str, ...] = ()  # environment variables, first found wins (HARNESS_<NAME> is always first)
    choices: tuple[str, ...] = ()
    project: bool = True  # a key of the project (config file); False: where the servers are (flags, env, ini)

    @property
    def envs(self) -> tuple[str, ...]:
        return (f"HARNESS_{self.name.upper()}", *self.env)


KEYS: tuple[Key, ...] = (
    Key("postgres_migrations", "path", None, "directory of the PostgreSQL migrations (dbmate format)",
        env=("DBMATE_MIGRATIONS_DIR",)),
    Key("cassandra_migrations", "path", None, "directory of the Cassandra migrations (.cql)"),
    Key("contract", "path", None, "markdown file whose mermaid classDiagram is the schema contract"),
    Key("keyspace", "text", None, "Cassandra keyspace of the migrations (the applier's target)",
        env=("CASSANDRA_KEYSPACE",)),
    Key("cassandra_ssl", "bool", False, "client-to-node TLS for the Cassandra store commands (on by itself when a "
        "CA or client certificate is given)", env=("CASSANDRA_SSL",)),
    Key("cassandra_ssl_ca", "path", None, "PEM file of the CA that signed the Cassandra nodes' certificates",
        env=("CASSANDRA_SSL_CA",)),
    Key("cassandra_ssl_cert", "path", None, "client certificate (PEM) for nodes that require one",
        env=("CASSANDRA_SSL_CERT",)),
    Key("cassandra_ssl_key", "path", None, "private key (PEM) of the client certificate", env=("CASSANDRA_SSL_KEY",)),
    Key("cassandra_ssl_hostname_check", "bool", True, "the node's certificate must name the address connected to",
        env=("CASSANDRA_SSL_HOSTNAME_CHECK",)),
    Key("postgres_minimum_downgrade", "version", None,
        "oldest PostgreSQL version the roundtrip must be able to go down to; older ones may be irreversible"),
    Key("cassandra_minimum_downgrade", "version", None,
        "oldest Cassandra version the roundtrip must be able to go down to; older ones may be irreversible"),
    Key("postgres_up_only", "bool", False, "PostgreSQL migrations need no down section (the roundtrip checks the ups)"),
    Key("cassandra_up_only", "bool", False, "Cassandra migrations need no down section (the roundtrip checks the ups)"),
    Key("strict_links", "bool", False, "cross-store link type mismatches in the contract are errors, not warnings"),
    Key("provider", "choice", "auto", "where throwaway databases come from",
        choices=("auto", "local", "docker", "external")),
    Key("fuzz_profile", "choice", "dev", "fuzz effort: dev (quick, random) or ci (thorough, derandomized)",
        choices=("dev", "ci")),
    Key("max_file_size", "int", 10 * MiB, "largest migration file read, in bytes"),
    Key("verify_jobs", "int", 0, "checks `harness verify` runs at once, each in a worker process on databases of "
        "its own (0: one more than the cores; 1: one after another in the verify process)"),
    Key("pg_version", "text", None, "PostgreSQL version the lint assumes (e.g. 15.0); Squawk's own default else"),
    Key("expected_schema", "path", None, "the schema the migrations build, as a file (`harness drift "
        "--write-expected-schema`): drift uses it instead of throwaway servers, e.g. in a cluster"),
    Key("squawk_config", "path", None, "Squawk configuration file for the lint (default: .squawk.toml found upwards)"),
    Key("lint_allow", "list", (), "lint suppressions for files that cannot carry a comment (applied files keep their "
        "checksum): '<file pattern> <rule-id>[,<rule-id>] <reason>', one per entry (';' between them in a flag)"),
    # Where the databases of `verify` and the plugin come from: not project settings, so not in the config file.
    Key("pg_url", "text", None, "an existing PostgreSQL server to create throwaway databases on", project=False),
    Key("cassandra_hosts", "text", None, "an existing Cassandra (comma-separated contact points) for throwaway "
        "keyspaces", project=False),
    Key("cassandra_port", "int", 9042, "native port of --cassandra-hosts", project=False),
    Key("cassandra_nodes", "int", 1, "nodes of a local throwaway Cassandra cluster (127.0.0.1..N)", project=False),
    Key("cassandra_dcs", "text", None, "datacenters of the local cluster, e.g. dc1:2,dc2:1", project=False),
    Key("pg_bindir", "path", None, "directory of initdb/postgres for the local provider", project=False),
    Key("postgres_image", "text", None, "PostgreSQL image for the docker provider", project=False),
    Key("cassandra_image", "text", None, "Cassandra image for the docker provider", project=False),
    Key("no_skip", "bool", False, "a skipped database test fails the run (CI sets it)", project=False),
)  # fmt: skip

BY_NAME = {k.name: k for k in KEYS}


def key(name: str) -> Key:
    try:
        return BY_NAME[name]
    except KeyError:
        raise ConfigError(f"unknown setting {name!r}: known settings are {', '.join(BY_NAME)}") from None


def spell(name: str, context: Context) -> str:
    """How a user in ``context`` writes the key: a flag, an ini option or a config-file key."""
    if context == "cli":
        return "--" + name.replace("_", "-")
    if context == "pytest":
        return f"--harness-{name.replace('_', '-')} (ini: harness_{name})"
    return f"{name} ([tool.harness] in pyproject.toml, or harness.toml)"


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


def convert(k: Key, value: object, where: str, base: Path) -> object:
    """A raw value (text from a flag, ini or environment; TOML types from a file) as the key's type."""
    if value is None:
        return None
    if k.kind == "list":
        items = value if isinstance(value, list | tuple) else str(value).replace("\n", ";").split(";")
        return tuple(str(item).strip() for item in items if str(item).strip())
    if k.kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise ConfigError(f"{where}: {k.name} must be true or false, not {value!r}")
    if k.kind == "int":
        try:
            number = int(str(value).strip())
        except ValueError:
            raise ConfigError(f"{where}: {k.name} must be a whole number, not {value!r}") from None
        if number < 0:
            raise ConfigError(f"{where}: {k.name} must not be negative")
        return number
    text = str(value).strip()
    if k.kind == "choice" and text not in k.choices:
        raise ConfigError(f"{where}: {k.name} must be one of {', '.join(k.choices)}, not {text!r}")
    if k.kind == "version" and not text.isdigit():
        raise ConfigError(f"{where}: {k.name} must be a migration version (its leading digits), not {text!r}")
    if k.kind == "path":
        return (base / Path(text).expanduser()) if text else None
    return text or None
