"""Where `verify` and the plugin get their servers, from the settings object.

Only servers given explicitly count (`pg_url` / `cassandra_hosts` as flag, ini or HARNESS_ variable): these tools
create and drop databases and keyspaces, so a DATABASE_URL that merely happens to be in the shell (perhaps a
shared or production server) is never used. `harness servers up` exports the HARNESS_ variables of its throwaway
servers, which marks them as fair game.
"""

from __future__ import annotations

from pathlib import Path

from harness.config import Settings, split_hosts
from harness.servers.select import ServerOptions


def server_options(settings: Settings) -> ServerOptions:
    env = settings.env
    bindir = settings["pg_bindir"]
    return ServerOptions(
        provider=str(settings["provider"]),
        pg_url=settings["pg_url"] or None,
        cassandra_hosts=split_hosts(settings["cassandra_hosts"] or ""),
        cassandra_port=int(settings["cassandra_port"]),
        cassandra_local_dc=env.get("CASSANDRA_LOCAL_DC", "datacenter1"),
        cassandra_username=env.get("CASSANDRA_USERNAME") or None,
        cassandra_password=env.get("CASSANDRA_PASSWORD") or None,
        pg_bindir=str(bindir) if isinstance(bindir, Path) else None,
        postgres_image=settings["postgres_image"],
        cassandra_image=settings["cassandra_image"],
    )


def ignored_variables(settings: Settings) -> list[str]:
    """Connection variables in the environment that verify deliberately does not use (said once, in the header)."""
    env = settings.env
    found = [name for name in ("DATABASE_URL", "CASSANDRA_HOSTS", "CASSANDRA_HOST") if env.get(name)]
    if settings["pg_url"]:
        found = [n for n in found if n != "DATABASE_URL"]
    if settings["cassandra_hosts"]:
        found = [n for n in found if not n.startswith("CASSANDRA_HOST")]
    return found
