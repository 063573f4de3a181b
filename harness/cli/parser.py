"""The argument parser: every command, its flags and its help (no behaviour here)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.config.keys import KEYS, Key
from harness.registry import STORES, StoreKind

EPILOG = """\
configuration: flags > environment > [tool.harness] in pyproject.toml (or harness.toml, found upwards from the
current directory) > detected layout > defaults. Without configuration the known layouts are detected:
migrations/{postgres,cassandra}, dbmate's db/migrations, and postgres/db/migrations + cassandra/migrations.
environment:
  PostgreSQL  DATABASE_URL (or PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD), DBMATE_MIGRATIONS_DIR,
              DBMATE_MIGRATIONS_TABLE, DBMATE_SCHEMA_FILE
  Cassandra   CASSANDRA_HOSTS, CASSANDRA_PORT, CASSANDRA_KEYSPACE, CASSANDRA_USERNAME, CASSANDRA_PASSWORD,
              CASSANDRA_LOCAL_DC, CASSANDRA_REPLICATION (SimpleStrategy:1 | NetworkTopologyStrategy:dc1=3,...)
  every setting  HARNESS_<SETTING>, e.g. HARNESS_POSTGRES_MIGRATIONS; a .env file is read as dbmate does
Passwords are read from the environment only and never printed.
exit codes: 0 success, 1 findings (or pending/failed migrations with `status --exit-code`), 2 any error.
"""


def _globals() -> argparse.ArgumentParser:
    """Flags every command accepts, before or after the subcommand (SUPPRESS keeps a later one from resetting)."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show a traceback on errors")
    p.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="configuration file (default: found upwards)")
    p.add_argument(
        "--env-file", type=Path, action="append", default=argparse.SUPPRESS,
        help="read variables from this file instead of .env (repeatable; the real environment wins)",
    )  # fmt: skip
    return p


def _common(kind: StoreKind) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False, parents=[_globals()])
    common.add_argument(
        "--migrations-dir", f"--{kind.name}-migrations", "-d", dest="migrations_dir", type=Path,
        help=f"directory of the migrations (setting {kind.name}_migrations; detected from the layout otherwise)",
    )  # fmt: skip
    common.add_argument("--max-file-size", type=int, help="largest migration file read, in bytes (10 MiB)")
    common.add_argument("--no-lock", dest="lock", action="store_false", default=None,
                        help="do not take the migration lock (unsafe with concurrent appliers)")  # fmt: skip
    common.add_argument("--lock-timeout", type=float, help="seconds to wait for the migration lock (300)")
    common.add_argument("--wait", action="store_true", help="wait for the database first (see `wait`)")
    common.add_argument("--wait-timeout", type=float, default=60.0, help="seconds for --wait / wait (60)")
    if kind.name == "postgres":
        common.add_argument("--url", "-u", help="database URL (default: $DATABASE_URL, else libpq's PG* variables)")
        common.add_argument("--migrations-table", help="ledger table, [schema.]name (schema_migrations)")
    else:
        common.add_argument("--hosts", help="comma-separated contact points ($CASSANDRA_HOSTS, 127.0.0.1)")
        common.add_argument("--port", type=int, help="native port ($CASSANDRA_PORT, 9042)")
        common.add_argument("--keyspace", "-k", help="keyspace holding the tables and the ledger ($CASSANDRA_KEYSPACE)")
        common.add_argument("--local-dc", help="local datacenter ($CASSANDRA_LOCAL_DC, datacenter1)")
        common.add_argument("--replication", help="replication when creating the keyspace (SimpleStrategy:1)")
        common.add_argument("--lock-ttl", type=int, help="lease of the migration lock in seconds (30)")
    return common


def _reset_help(kind: StoreKind) -> str:
    if kind.name == "postgres":
        return (
            "DESTROYS DATA: drop and recreate (empty, same owner and privileges) the ledger's schema (the URL's first "
            "search_path entry, else the current schema, usually public) and every --schema; refused when an object "
            "outside them depends on them. Extensions in those schemas go too. Takes the migration lock."
        )
    return (
        "DESTROYS DATA: drop every table, materialized view, index, type, function and aggregate of the keyspace, "
        "the ledger included (the keyspace and its lock table stay). Takes the migration lock."
    )


def _new(cmds: Any, common: argparse.ArgumentParser, kind: StoreKind) -> None:
    new = cmds.add_parser("new", aliases=["n"], parents=[common], help="create a new migration file")
    new.add_argument("name", help="what the migration does, e.g. add_users_nickname")


def _up_command(name: str, text: str) -> Callable[[Any, argparse.ArgumentParser, StoreKind], None]:
    def build(cmds: Any, common: argparse.ArgumentParser, kind: StoreKind) -> None:
        upp = cmds.add_parser(name, parents=[common], help=text)
        upp.add_argument("--to", help="stop after this version")
        upp.add_argument("--allow-changed", action="store_true", help="proceed although an applied file was edited")
        upp.add_argument("--allow-out-of-order", action="store_true",
                         help="apply pending migrations older than the newest applied one")  # fmt: skip
        upp.add_argument(
            "--retry-failed",
            action="store_true",
            help="resume a failed migration at its failed step even though the file is unchanged",
        )

    return build


def _down(cmds: Any, common: argparse.ArgumentParser, kind: StoreKind) -> None:
    dn = cmds.add_parser("down", aliases=["rollback"], parents=[common], help="roll back applied migrations")
    g = dn.add_mutually_exclusive_group()
    g.add_argument("--steps", "-s", type=int, help="how many migrations to roll back (1)")
    g.add_argument("--to", help="roll back every migration newer than this version (0 = all)")
    g.add_argument("--all", action="store_true", help="roll back every applied migration")


def _status(cmds: Any, common: argparse.ArgumentParser, kind: StoreKind) -> None:
    st = cmds.add_parser("status", parents=[common], help="list applied, pending and failed migrations")
    st.add_argument("--exit-code", action="store_true", help="exit 1 when migrations are pending or failed")
    st.add_argument("--json", action="store_true", help="machine-readable output")


def _reset(cmds: Any, common: argparse.ArgumentParser, kind: StoreKind) -> None:
    rs = cmds.add_parser("reset", parents=[common], help=_reset_help(kind), description=_reset_help(kind))
    rs.add_argument("--yes", nargs="?", const="", metavar="TARGET",
                    help="confirm by naming the database (PostgreSQL) or keyspace (Cassandra)")  # fmt: skip
    rs.add_argument("--once", metavar="TOKEN", help="skip if a reset with this token already ran (Jobs, retries)")
    if kind.name == "postgres":
        rs.add_argument("--schema", action="append", default=[], help="another schema to empty (repeatable)")


def _baseline(cmds: Any, common: argparse.ArgumentParser, kind: StoreKind) -> None:
    bl = cmds.add_parser(
        "baseline",
        parents=[common],
        help="record the files up to --to as applied without running them (another tool migrated)",
    )
    bl.add_argument("--to", required=True, help="the newest version the database already has")
    bl.add_argument("--force", action="store_true", help="record the missing rows although the ledger has rows")


def _resolve(cmds: Any, common: argparse.ArgumentParser, kind: StoreKind) -> None:
    unit = kind.progress_unit
    rv = cmds.add_parser(
        "resolve",
        parents=[common],
        help=f"say whether the {unit} a failed or interrupted migration stopped at took effect (then run up)",
        description=f"When up cannot read from the database whether the {unit} an interrupted migration stopped at "
        "took effect (a data change, a grant, a section without a transaction), check by hand and record the "
        f"answer: --done and the next up resumes after that {unit}, --not-done and it runs it again. Only the "
        "ledger changes. Takes the migration lock.",
    )  # fmt: skip
    rv.add_argument("migration_version", metavar="VERSION", help="the migration's version")
    answer = rv.add_mutually_exclusive_group(required=True)
    answer.add_argument("--done", dest="done", action="store_true", default=None, help=f"the {unit} took effect")
    answer.add_argument("--not-done", dest="done", action="store_false", help=f"the {unit} did not take effect")


def _wait(cmds: Any, common: argparse.ArgumentParser, kind: StoreKind) -> None:
    cmds.add_parser("wait", parents=[common], help="wait until the database accepts queries")


def _create(cmds: Any, common: argparse.ArgumentParser, kind: StoreKind) -> None:
    cmds.add_parser("create", parents=[common], help="create the database (PostgreSQL) or keyspace (Cassandra)")


def _drop(cmds: Any, common: argparse.ArgumentParser, kind: StoreKind) -> None:
    dr = cmds.add_parser("drop", parents=[common], help="DESTROYS DATA: drop the database or keyspace")
    dr.add_argument("--yes", nargs="?", const="", metavar="TARGET", help="confirm by naming the database or keyspace")


def _dump(cmds: Any, common: argparse.ArgumentParser, kind: StoreKind) -> None:
    dp = cmds.add_parser("dump", parents=[common], help="write the schema (pg_dump) and the ledger, as dbmate")
    dp.add_argument("--schema-file", help="output file ($DBMATE_SCHEMA_FILE, db/schema.sql; - for stdout)")


# Every store command, in the order of the help, by the names (aliases too) that select it.
_STORE_COMMANDS: tuple[tuple[tuple[str, ...], Callable[[Any, argparse.ArgumentParser, StoreKind], None]], ...] = (
    (("new", "n"), _new),
    (("up",), _up_command("up", "create the database if missing, then apply every pending migration")),
    (("migrate",), _up_command("migrate", "apply every pending migration (the database must exist)")),
    (("down", "rollback"), _down),
    (("status",), _status),
    (("reset",), _reset),
    (("baseline",), _baseline),
    (("resolve",), _resolve),
    (("wait",), _wait),
    (("create",), _create),
    (("drop",), _drop),
    (("dump",), _dump),
)


def _store_parser(sub: Any, kind: StoreKind, command: str | None = None) -> None:
    """The store's commands; only ``command`` when it names one (an unknown name gets them all, for the error)."""
    title = f"{kind.title} ({'dbmate-compatible' if kind.dump else 'versioned, tracked'})"
    p = sub.add_parser(kind.name, help=f"migrate {title}", description=f"Apply and inspect {title} migrations.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    common = _common(kind)
    cmds = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    known = [(names, build) for names, build in _STORE_COMMANDS if kind.dump or names != ("dump",)]
    chosen = [build for names, build in known if command in names]
    for build in chosen or [build for _, build in known]:
        build(cmds, common, kind)


def add_key_flags(parser: argparse.ArgumentParser, keys: tuple[Key, ...]) -> None:
    """One flag per setting, spelled from its name; not given is None, so lower layers decide."""
    for k in keys:
        flag = "--" + k.name.replace("_", "-")
        if k.kind == "bool":
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=k.help)
        elif k.kind == "choice":
            parser.add_argument(flag, choices=k.choices, default=None, help=f"{k.help} ({k.default})")
        else:
            metavar = {"path": "PATH", "int": "N", "version": "VERSION"}.get(k.kind, "VALUE")
            parser.add_argument(flag, default=None, metavar=metavar, help=k.help)


# What drift reads: the project (files, contract, keyspace) and where the throwaway servers for the expected
# schema come from (as verify); not the policies of the roundtrip, the fuzz or the lint.
_DRIFT_KEYS = (
    "postgres_migrations", "cassandra_migrations", "contract", "keyspace", "strict_links", "max_file_size",
    "provider", "expected_schema", "pg_url", "cassandra_hosts", "cassandra_port", "pg_bindir", "postgres_image",
    "cassandra_image",
)  # fmt: skip


def _project_parsers(sub: Any) -> None:
    v = sub.add_parser(
        "verify", parents=[_globals()], help="prove the migrations on throwaway databases",
        description="Start databases (given ones, else docker, else local processes), lint the migrations, run every "
        "migration up and down, check the schema against the class diagram and fuzz the constraints; print a "
        "report. Exit 0 when everything holds, 1 on any finding, 2 when the checks cannot run.",
    )  # fmt: skip
    add_key_flags(v, KEYS)
    v.add_argument("--migrations", type=Path, help=argparse.SUPPRESS)  # old: a directory with postgres/, cassandra/
    v.add_argument("--minimum-downgrade", help=argparse.SUPPRESS)  # old: one version for both stores
    v.add_argument("--junitxml", type=Path, metavar="FILE", help="also write the checks as JUnit XML test cases")
    v.add_argument("--only", action="append", metavar="CHECK", help="run only these checks (repeatable)")
    lint = sub.add_parser("lint", parents=[_globals()], help="lint the migrations for unsafe changes (no database)")
    add_key_flags(lint, tuple(k for k in KEYS if k.name in (
        "postgres_migrations", "cassandra_migrations", "max_file_size", "pg_version", "squawk_config")))  # fmt: skip
    lint.add_argument("--format", choices=("text", "json", "github"), default="text", help="output format (text)")
    dg = sub.add_parser("diagram", parents=[_globals()],
                        help="print the mermaid classDiagram of the schema the migrations build")  # fmt: skip
    add_key_flags(dg, tuple(k for k in KEYS if not k.project or k.name.endswith("_migrations") or k.name == "keyspace"))
    dr = sub.add_parser(
        "drift", parents=[_globals()],
        help="read-only: compare the live databases with the files, the ledger and the contract",
        description="Read-only: check that every migration file is applied, none failed and none was edited after "
        "it was applied; that the ledger has no row without a file; that the live schema is the schema the "
        "migrations build (on throwaway databases, as verify gets them); and that it matches the contract. The live "
        "databases are found as the store commands find them. Exit 0 when clean, 1 on drift, 2 when it cannot check.",
    )  # fmt: skip
    add_key_flags(dr, tuple(k for k in KEYS if k.name in _DRIFT_KEYS))
    dr.add_argument("--url", help="the live PostgreSQL's URL ($DATABASE_URL, else libpq's PG* variables)")
    dr.add_argument("--hosts", help="the live Cassandra's contact points ($CASSANDRA_HOSTS)")
    dr.add_argument("--format", choices=("text", "json"), default="text", help="output format (text)")
    dr.add_argument("--write-expected-schema", type=Path, metavar="FILE",
                    help="only build the schema the migrations make and write it to FILE (commit it; drift reads it "
                    "with --expected-schema where no throwaway server can run)")  # fmt: skip


def _deploy_parser(sub: Any) -> None:
    d = sub.add_parser(
        "deploy", add_help=False, help="build the migrations image and run its Jobs with Helm (the packaged deploy.sh)",
        description="Runs the deploy.sh that ships with the package, with every argument passed on (see "
        "`harness deploy --help`).",
    )  # fmt: skip
    d.add_argument("deploy_args", nargs=argparse.REMAINDER, help="arguments of deploy.sh")


def area_of(argv: list[str]) -> str | None:
    """The command area named on the line (`postgres`, `verify`, ...), skipping global flags and their values."""
    takes_value = {"--config", "--env-file"}
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif token in takes_value:
            skip = True
        elif not token.startswith("-"):
            return token
    return None


def command_of(argv: list[str], area: str | None) -> str | None:
    """The word after the area (`up` in `harness postgres up`): a store's command comes right after its name."""
    if area is None or area not in argv:
        return None
    rest = argv[argv.index(area) + 1 :]
    return rest[0] if rest and not rest[0].startswith("-") else None


def build_parser(only: str | None = None, command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser, or (``only``: a store's name) just that store's commands, or just ``command`` of them: a
    store command is what a Job runs, and building every subparser would cost it a noticeable part of its start-up
    (argparse copies the shared flags into each one)."""
    parser = argparse.ArgumentParser(
        prog="harness",
        description="Apply PostgreSQL (dbmate-compatible) and Cassandra migrations, and prove them on real "
        "throwaway databases.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[_globals()],
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="area", metavar="AREA")
    if only in STORES:
        _store_parser(sub, STORES[only], command)
        return parser
    for kind in STORES.values():
        _store_parser(sub, kind)
    _project_parsers(sub)
    _deploy_parser(sub)
    from harness.cli.servers import add_parsers

    add_parsers(sub)
    return parser
