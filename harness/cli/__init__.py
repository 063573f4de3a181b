"""The command line: parse arguments, build the settings, call one function of `harness.commands`, print."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from harness import __version__, applier, commands
from harness.cli.output import format_status, status_json
from harness.cli.parser import area_of, build_parser, command_of
from harness.config import Settings, load_settings, mask
from harness.config.secrets import url_passwords
from harness.errors import ConfigError, HarnessError


def say(msg: str) -> None:
    print(msg, flush=True)


def err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _settings(args: argparse.Namespace, flags: dict[str, Any]) -> Settings:
    return load_settings(
        flags=flags, config=getattr(args, "config", None), env_files=getattr(args, "env_file", None), context="cli"
    )


# The connection flags each store's commands take (see cli.parser), by store.
_CONNECTION_FLAGS = {
    "postgres": ("url", "migrations_table"),
    "cassandra": ("hosts", "port", "local_dc", "replication", "lock_ttl"),
}


def _store_settings(args: argparse.Namespace) -> commands.Target:
    store = args.area
    flags = {f"{store}_migrations": args.migrations_dir, "max_file_size": args.max_file_size}
    flags["keyspace"] = getattr(args, "keyspace", None)
    settings = _settings(args, flags)
    if getattr(args, "url", None) and url_passwords(args.url):
        err("Warning: --url carries a password, which other users can read in the process list; "
            "prefer DATABASE_URL or PGPASSWORD")  # fmt: skip
    connection = {name: getattr(args, name) for name in _CONNECTION_FLAGS[store]}
    return commands.target(settings, store, lock=args.lock, lock_timeout=args.lock_timeout, **connection)


def run_store_command(args: argparse.Namespace) -> int:
    t = _store_settings(args)
    command = {"n": "new", "rollback": "down"}.get(args.command, args.command)
    if command == "new":
        say(f"Creating migration: {commands.new(t, args.name)}")
        return 0
    if command == "wait" or args.wait:
        waited = commands.wait(t, timeout=args.wait_timeout, say=say)
        if command == "wait":
            say(f"Ready: the {t.store} database answered after {waited:.1f}s")
            return 0
    handler = _STORE_COMMANDS[command]
    return handler(t, args)


def _up(t: commands.Target, args: argparse.Namespace) -> int:
    opts = applier.Options(
        allow_changed=args.allow_changed, allow_out_of_order=args.allow_out_of_order, retry_failed=args.retry_failed
    )
    commands.up(t, options=opts, to=args.to, create=args.command == "up", say=say)
    return 0


def _down(t: commands.Target, args: argparse.Namespace) -> int:
    commands.down(t, target=applier.DownTarget(steps=args.steps, to=args.to, all=args.all), say=say)
    return 0


def _status(t: commands.Target, args: argparse.Namespace) -> int:
    st = commands.status(t, say=say)
    if args.json:
        import json

        print(json.dumps(status_json(st), indent=2))
    else:
        print(format_status(st))
    return 1 if args.exit_code and (st.pending or st.failed) else 0


def _reset(t: commands.Target, args: argparse.Namespace) -> int:
    commands.reset(t, confirm=args.yes, scope=tuple(getattr(args, "schema", ())), once=args.once, say=say)
    return 0


def _baseline(t: commands.Target, args: argparse.Namespace) -> int:
    done = commands.baseline(t, to=args.to, force=args.force, say=say)
    say(f"Baselined {len(done)} migration(s) up to {args.to}")
    return 0


def _resolve(t: commands.Target, args: argparse.Namespace) -> int:
    commands.resolve(t, version=args.migration_version, done=bool(args.done), say=say)
    return 0


def _dump(t: commands.Target, args: argparse.Namespace) -> int:
    commands.dump(t, schema_file=args.schema_file, say=say)
    return 0


def _create(t: commands.Target, args: argparse.Namespace) -> int:
    commands.create(t, say=say)
    return 0


def _drop(t: commands.Target, args: argparse.Namespace) -> int:
    commands.drop(t, confirm=args.yes, say=say)
    return 0


_STORE_COMMANDS: dict[str, Callable[[commands.Target, argparse.Namespace], int]] = {
    "up": _up,
    "migrate": _up,
    "down": _down,
    "status": _status,
    "reset": _reset,
    "baseline": _baseline,
    "resolve": _resolve,
    "dump": _dump,
    "create": _create,
    "drop": _drop,
}


def _project_flags(args: argparse.Namespace) -> dict[str, Any]:
    from harness.config.keys import KEYS

    flags = {k.name: getattr(args, k.name, None) for k in KEYS}
    old = getattr(args, "migrations", None)
    if old is not None:  # the first release's --migrations DIR: a directory holding postgres/ and cassandra/
        found = {s: old / s for s in ("postgres", "cassandra") if (old / s).is_dir()}
        if not found:
            raise ConfigError(f"{old}: holds neither postgres/ nor cassandra/; use --postgres-migrations DIR and "
                              "--cassandra-migrations DIR")  # fmt: skip
        for store, directory in found.items():
            flags.setdefault(f"{store}_migrations", None)
            flags[f"{store}_migrations"] = flags[f"{store}_migrations"] or directory
    if getattr(args, "minimum_downgrade", None):
        raise ConfigError("--minimum-downgrade is per store now: use --postgres-minimum-downgrade and/or "
                          "--cassandra-minimum-downgrade")  # fmt: skip
    return flags


def run_project_command(args: argparse.Namespace) -> int:
    settings = _settings(args, _project_flags(args))
    if args.area == "verify":
        from harness.verify import main_verify

        return int(main_verify(settings, say, junitxml=args.junitxml, only=args.only))
    if args.area == "lint":
        from harness.lint.cli import main_lint

        return int(main_lint(settings, args.format, say))
    if args.area == "diagram":
        from harness.verify.diagram import main_diagram

        return int(main_diagram(settings, say))
    from harness.drift import main_drift

    return int(main_drift(settings, say, url=args.url, hosts=args.hosts, fmt=args.format,
                          write_expected_to=args.write_expected_schema))  # fmt: skip


def _secrets_of(args: argparse.Namespace) -> list[str]:
    url = getattr(args, "url", None)
    return url_passwords(url) if url else []


def _fail(args: argparse.Namespace, message: str, secrets: Sequence[str]) -> int:
    from harness.config.secrets import known_secrets

    secrets = [*secrets, *known_secrets(os.environ)]
    if getattr(args, "debug", False):
        import traceback

        err(mask(traceback.format_exc(), secrets))
    err(f"Error: {mask(message, secrets)}")
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["deploy"]:  # every argument is deploy.sh's own, --help included
        from harness.deploy import exec_deploy

        exec_deploy(argv[1:])
    area = area_of(argv)
    parser = build_parser(only=area, command=command_of(argv, area))
    args = parser.parse_args(argv)
    if args.version:
        say(f"harness {__version__}")
        return 0
    if not args.area:
        parser.print_help()
        return 2
    secrets = _secrets_of(args)
    try:
        if args.area in ("postgres", "cassandra"):
            return run_store_command(args)
        if args.area in ("verify", "lint", "diagram", "drift"):
            return run_project_command(args)
        return int(args.func(args))
    except (HarnessError, OSError) as exc:
        return _fail(args, str(exc), secrets)
    except KeyboardInterrupt:
        err("Error: interrupted")
        return 130
    except ModuleNotFoundError as exc:
        return _fail(args, _missing_extra(exc), secrets)
    except Exception as exc:  # a bug or an unexpected driver error: still one line unless --debug
        first = (str(exc).strip().splitlines() or [""])[0]
        return _fail(args, f"{type(exc).__name__}: {first} (--debug shows a traceback)", secrets)


_EXTRAS = {
    "pytest": "verify",
    "hypothesis": "verify",
    "xdist": "verify",
    "testcontainers": "docker",
    "docker": "docker",
}


def _missing_extra(exc: ModuleNotFoundError) -> str:
    """A command that needs an optional extra names it, in one line."""
    top = (exc.name or "").split(".")[0]
    extra = _EXTRAS.get(top)
    if extra is None:
        return f"ModuleNotFoundError: {exc} (--debug shows a traceback)"
    return (
        f"this command needs the '{extra}' extra (module {top} is missing): pip install 'migrations-harness[{extra}]'"
    )


if __name__ == "__main__":
    sys.exit(main())
