"""The command line: parse arguments, call the library, print. Nothing else lives here."""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from harness import applier
from harness.errors import HarnessError
from harness.settings import CassandraSettings, PostgresSettings, open_store, secrets

EPILOG = """\
environment:
  PostgreSQL  DATABASE_URL (or PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD), DBMATE_MIGRATIONS_DIR,
              DBMATE_MIGRATIONS_TABLE
  Cassandra   CASSANDRA_HOSTS, CASSANDRA_PORT, CASSANDRA_KEYSPACE, CASSANDRA_USERNAME, CASSANDRA_PASSWORD,
              CASSANDRA_LOCAL_DC, CASSANDRA_REPLICATION (SimpleStrategy:1 | NetworkTopologyStrategy:dc1=3,...)
Passwords are read from the environment only and never printed.
exit codes: 0 success, 1 pending migrations with `status --exit-code`, 2 any error.
"""


def say(msg: str) -> None:
    print(msg, flush=True)


def _store_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], kind: str) -> None:
    title = "PostgreSQL (dbmate-compatible)" if kind == "postgres" else "Cassandra (versioned, tracked)"
    p = sub.add_parser(
        kind,
        help=f"migrate {title}",
        description=f"Apply and inspect {title} migrations.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--migrations-dir", "-d", type=Path, help=f"directory of migrations (migrations/{kind})")
    common.add_argument(
        "--no-lock",
        dest="lock",
        action="store_false",
        default=None,
        help="do not take the migration lock (unsafe with concurrent appliers)",
    )
    common.add_argument("--lock-timeout", type=float, help="seconds to wait for the migration lock (300)")
    common.add_argument("--wait", action="store_true", help="wait for the database first (see `wait`)")
    common.add_argument("--wait-timeout", type=float, default=60.0, help="seconds for --wait / wait (60)")
    if kind == "postgres":
        common.add_argument("--url", "-u", help="database URL (default: $DATABASE_URL, else libpq's PG* variables)")
        common.add_argument("--migrations-table", help="ledger table, [schema.]name (schema_migrations)")
    else:
        common.add_argument("--hosts", help="comma-separated contact points ($CASSANDRA_HOSTS, 127.0.0.1)")
        common.add_argument("--port", type=int, help="native port ($CASSANDRA_PORT, 9042)")
        common.add_argument("--keyspace", "-k", help="keyspace holding the tables and the ledger ($CASSANDRA_KEYSPACE)")
        common.add_argument("--local-dc", help="local datacenter ($CASSANDRA_LOCAL_DC, datacenter1)")
        common.add_argument("--replication", help="replication when creating the keyspace (SimpleStrategy:1)")
        common.add_argument("--lock-ttl", type=int, help="lease of the migration lock in seconds (30)")
    cmds = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    new = cmds.add_parser("new", parents=[common], help="create a new migration file")
    new.add_argument("name", help="what the migration does, e.g. add_users_nickname")
    upp = cmds.add_parser("up", parents=[common], help="apply every pending migration")
    upp.add_argument("--to", help="stop after this version")
    upp.add_argument("--allow-changed", action="store_true", help="proceed although an applied file was edited")
    upp.add_argument(
        "--allow-out-of-order", action="store_true", help="apply pending migrations older than the newest applied one"
    )
    upp.add_argument(
        "--retry-failed",
        action="store_true",
        help="resume a failed migration at its failed statement even though the file is unchanged",
    )
    dn = cmds.add_parser("down", aliases=["rollback"], parents=[common], help="roll back applied migrations")
    g = dn.add_mutually_exclusive_group()
    g.add_argument("--steps", "-s", type=int, help="how many migrations to roll back (1)")
    g.add_argument("--to", help="roll back every migration newer than this version (0 = all)")
    g.add_argument("--all", action="store_true", help="roll back every applied migration")
    st = cmds.add_parser("status", parents=[common], help="list applied and pending migrations")
    st.add_argument("--exit-code", action="store_true", help="exit 1 when migrations are pending")
    st.add_argument("--json", action="store_true", help="machine-readable output")
    rs = cmds.add_parser("reset", parents=[common], help="DROP everything the migrations created (destroys data)")
    rs.add_argument("--yes", action="store_true", help="confirm that all data may be destroyed")
    cmds.add_parser("wait", parents=[common], help="wait until the database accepts queries")
    if kind == "postgres":
        dp = cmds.add_parser("dump", parents=[common], help="write the schema (pg_dump) and the ledger, as dbmate")
        dp.add_argument("--schema-file", help="output file ($DBMATE_SCHEMA_FILE, db/schema.sql; - for stdout)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="harness",
        description="Apply PostgreSQL (dbmate-compatible) and Cassandra migrations, and prove them on real "
        "throwaway databases.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--debug", action="store_true", help="show a traceback on errors")
    sub = parser.add_subparsers(dest="area", required=True, metavar="AREA")
    _store_parser(sub, "postgres")
    _store_parser(sub, "cassandra")
    from harness.cli_servers import add_parsers

    add_parsers(sub)
    v = sub.add_parser(
        "verify",
        help="prove the migrations on throwaway databases (roundtrip, schema, fuzz)",
        description="Start databases (external if given, else docker, else local processes), run every migration up "
        "and down, check the schema against the class diagram and fuzz the constraints; print a report. "
        "Exit 0 when everything holds, 1 on any finding, 2 on an error.",
    )
    v.add_argument("--migrations", default="migrations", help="directory holding postgres/ and cassandra/ (migrations)")
    v.add_argument(
        "--contract",
        default="migrations/README.md",
        help="markdown file with the mermaid classDiagram (migrations/README.md)",
    )
    v.add_argument(
        "--provider",
        choices=("auto", "docker", "local", "external"),
        default=None,
        help="where the databases come from (auto)",
    )
    v.add_argument("--strict-links", action="store_true", help="cross-store link type mismatches are errors")
    v.add_argument("--fuzz-profile", choices=("dev", "ci"), default="dev", help="how hard to fuzz (dev)")
    v.add_argument("--minimum-downgrade", help="versions up to this one may be irreversible")
    v.set_defaults(func=lambda a: __import__("harness.verify", fromlist=["main_verify"]).main_verify(a, say))
    return parser


def settings_from(args: argparse.Namespace) -> PostgresSettings | CassandraSettings:
    common = {"migrations_dir": args.migrations_dir, "lock": args.lock, "lock_timeout": args.lock_timeout}
    if args.area == "postgres":
        return PostgresSettings.from_env(url=args.url, migrations_table=args.migrations_table, **common)
    return CassandraSettings.from_env(
        hosts=args.hosts,
        port=args.port,
        keyspace=args.keyspace,
        local_dc=args.local_dc,
        replication=args.replication,
        lock_ttl=args.lock_ttl,
        **common,
    )


def run_store_command(args: argparse.Namespace) -> int:
    from harness.migrations import discover, new_migration

    if args.command == "new":
        default_dir = os.environ.get("DBMATE_MIGRATIONS_DIR") if args.area == "postgres" else None
        directory = args.migrations_dir or Path(default_dir or f"migrations/{args.area}")
        path = new_migration(directory, args.name, args.area)
        say(f"Creating migration: {path}")
        return 0
    settings = settings_from(args)
    where = f"{args.area} database"
    if args.command == "wait" or args.wait:
        from harness.waiting import wait_for

        waited = wait_for(settings, args.wait_timeout, say, where)
        if args.command == "wait":
            say(f"Ready: {where} answered after {waited:.1f}s")
            return 0
    if args.command == "reset" and not args.yes:
        from harness.errors import ConfigError

        raise ConfigError(
            "reset drops every table, type and row the migrations created, and the ledger; "
            "run it again with --yes to confirm"
        )
    migrations = discover(settings.migrations_dir, args.area) if args.command != "reset" else []
    if args.command == "dump":
        from harness.dump import dump

        assert isinstance(settings, PostgresSettings)
        target = args.schema_file or os.environ.get("DBMATE_SCHEMA_FILE") or "db/schema.sql"
        dump(settings, target, say)
        return 0
    store = open_store(settings, create=args.command == "up")
    try:
        if args.command == "up":
            opts = applier.Options(
                allow_changed=args.allow_changed,
                allow_out_of_order=args.allow_out_of_order,
                retry_failed=args.retry_failed,
            )
            done = applier.up(store, migrations, say, opts, target=args.to)
            if not done:
                say("No pending migrations")
            return 0
        if args.command in ("down", "rollback"):
            target = applier.DownTarget(steps=args.steps, to=args.to, all=args.all)
            applier.down(store, migrations, say, target)
            return 0
        if args.command == "status":
            st = applier.status(store, migrations)
            print(json.dumps(status_json(st), indent=2) if args.json else format_status(st))
            return 1 if args.exit_code and st.pending else 0
        if args.command == "reset":
            say(f"Resetting: {store.describe()}")
            store.reset()
            say(f"Reset: {store.describe()} is empty")
            return 0
    finally:
        store.close()
    raise AssertionError(args.command)


MARKS = {
    applier.APPLIED: "[X]",
    applier.PENDING: "[ ]",
    applier.OUT_OF_ORDER: "[ ]",
    applier.CHANGED: "[!]",
    applier.MISSING: "[?]",
    applier.PARTIAL: "[F]",
}


def format_status(st: applier.Status) -> str:
    """dbmate's status table, with marks for what dbmate cannot see."""
    lines = []
    for e in st.entries:
        name = e.filename or f"{e.version} (no file)"
        note = f"  ({e.state}: {e.detail})" if e.detail else ""
        lines.append(f"{MARKS[e.state]} {name}{note}")
    lines += ["", f"Applied: {len(st.applied)}", f"Pending: {len(st.pending)}"]
    problems = st.problems()
    if problems:
        lines.append(f"Problems: {len(problems)}")
    return "\n".join(lines)


def status_json(st: applier.Status) -> dict[str, object]:
    return {
        "applied": len(st.applied),
        "pending": len(st.pending),
        "migrations": [
            {
                "version": e.version,
                "file": e.filename,
                "state": e.state,
                "applied_at": e.applied_at.isoformat() if e.applied_at else None,
                "detail": e.detail or None,
            }
            for e in st.entries
        ],
    }


def scrub(text: str, extra: Sequence[str] = ()) -> str:
    """Mask every password the process knows: the environment's and one given on the command line."""
    for secret in [*secrets(), *extra]:
        if secret:
            text = text.replace(secret, "***")
    return text


def _flag_secrets(args: argparse.Namespace) -> list[str]:
    from urllib.parse import unquote, urlsplit

    url = getattr(args, "url", None)
    if not url:
        return []
    try:
        password = urlsplit(url).password or ""
    except ValueError:
        return []
    return [password, unquote(password)]


def _fail(args: argparse.Namespace, message: str) -> int:
    extra = _flag_secrets(args)
    if args.debug:
        print(scrub(traceback.format_exc(), extra), file=sys.stderr, end="")
    print(f"Error: {scrub(message, extra)}", file=sys.stderr, flush=True)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.area in ("postgres", "cassandra"):
            return run_store_command(args)
        return int(args.func(args))
    except (HarnessError, OSError) as exc:
        return _fail(args, str(exc))
    except KeyboardInterrupt:
        print("Error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug or an unexpected driver error: still one line unless --debug
        first = (str(exc).strip().splitlines() or [""])[0]
        return _fail(args, f"{type(exc).__name__}: {first} (--debug shows a traceback)")


if __name__ == "__main__":
    sys.exit(main())
