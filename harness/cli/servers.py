"""``harness servers up | status | down``: throwaway databases in the background for a working session."""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Any

from harness.config import mask
from harness.servers.base import CassandraServer, PostgresServer

# The server machinery (file locks, subprocess supervision) is imported by the commands that use it, so that
# `harness postgres up` does not pay for it at start-up.


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "servers",
        help="throwaway PostgreSQL and Cassandra for development",
        description="Start throwaway PostgreSQL and Cassandra in the background and print `export` lines for "
        'them: eval "$(harness servers up)". `down` stops them and deletes their data.',
    )
    cmds = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    up = cmds.add_parser("up", help="start both servers (no-op when running) and print export lines")
    up.add_argument(
        "--provider",
        choices=("auto", "local", "docker"),
        default="auto",
        help="where the servers come from (auto: docker if an engine answers, else local)",
    )
    up.add_argument("--only", choices=("postgres", "cassandra"), help="start just one of them")
    up.add_argument(
        "--cassandra-nodes",
        type=int,
        default=1,
        metavar="N",
        help="a local Cassandra cluster of N nodes (1-9) on 127.0.0.1..127.0.0.N (default: 1)",
    )
    up.add_argument(
        "--cassandra-dcs",
        metavar="DC:N,...",
        help="split the nodes into datacenters, e.g. dc1:2,dc2:1 (the counts add up to --cassandra-nodes)",
    )
    up.set_defaults(func=servers_up)
    st = cmds.add_parser("status", help="show the running servers")
    st.set_defaults(func=servers_status)
    dn = cmds.add_parser("down", help="stop the servers and delete their data")
    dn.set_defaults(func=servers_down)


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def export_lines(servers: dict[str, Any]) -> list[str]:
    lines = []
    pg = servers.get("postgres")
    # The HARNESS_ twins mark these throwaway servers as fair game for `verify` and the plugin, which create and
    # drop databases and so never take a server from DATABASE_URL / CASSANDRA_HOSTS alone.
    if isinstance(pg, PostgresServer):
        url = shlex.quote(pg.url)
        lines += [f"export DATABASE_URL={url}", f"export HARNESS_PG_URL={url}"]
    cs = servers.get("cassandra")
    if isinstance(cs, CassandraServer):
        hosts = shlex.quote(",".join(cs.contact_points))
        lines += [
            f"export CASSANDRA_HOSTS={hosts}",
            f"export CASSANDRA_PORT={cs.port}",
            f"export CASSANDRA_LOCAL_DC={shlex.quote(cs.local_datacenter)}",
            f"export HARNESS_CASSANDRA_HOSTS={hosts}",
            f"export HARNESS_CASSANDRA_PORT={cs.port}",
        ]
    return lines


def servers_up(args: argparse.Namespace) -> int:
    from harness.servers import supervisor
    from harness.servers.select import ServerOptions, choose_provider, obtain, servers_home

    # The environment's own DATABASE_URL / CASSANDRA_HOSTS must not turn `up` into a no-op on someone's server.
    opts = ServerOptions.from_env(
        {}, provider=args.provider, cassandra_nodes=args.cassandra_nodes, cassandra_dcs=args.cassandra_dcs
    )
    kinds = [args.only] if args.only else list(supervisor.KINDS)
    if "cassandra" in kinds and opts.cassandra_cluster:
        choose_provider(opts, "cassandra")  # refuse a cluster on docker before starting anything
    found: dict[str, Any] = {}
    import concurrent.futures as cf

    with cf.ThreadPoolExecutor(len(kinds)) as pool:
        futures = {k: pool.submit(obtain, k, opts, servers_home(), owner=None, log=_err) for k in kinds}
        for k, fut in futures.items():
            found[k] = fut.result()
    state = supervisor.read_state(servers_home() / "cassandra") if "cassandra" in kinds else None
    nodes = supervisor.node_processes(state) if state is not None else []
    if len(nodes) > 1:
        _err(f"cassandra: {len(nodes)} nodes, {_memory(nodes)}")
    for line in export_lines(found):
        print(line)
    return 0


def _memory(nodes: list[Any]) -> str:
    """The summed peak RSS of a cluster's node JVMs, from /proc."""
    from harness.servers.procutil import peak_rss_kib

    peaks = [peak_rss_kib(node.pid) for node in nodes]
    if any(peak is None for peak in peaks):
        return "peak RSS unknown (a node is not running)"
    return f"peak RSS {sum(p for p in peaks if p is not None) / 1024:.0f} MiB in all"


def servers_status(args: argparse.Namespace) -> int:
    from harness.servers import supervisor
    from harness.servers.procutil import peak_rss_kib
    from harness.servers.select import servers_home

    running = 0
    for kind in supervisor.KINDS:
        state = supervisor.read_state(servers_home() / kind)
        if state is None:
            print(f"{kind}: not running")
            continue
        running += 1
        server = supervisor.server_from_state(state)
        where = (
            mask(server.url)
            if isinstance(server, PostgresServer)
            else f"{','.join(server.contact_points)}:{server.port}"
        )
        print(f"{kind}: {server.provider} {server.version} at {where} (supervisor pid {state['pid']})")
        for node in supervisor.node_processes(state):
            peak = peak_rss_kib(node.pid)
            memory = f", peak RSS {peak / 1024:.0f} MiB" if peak is not None else ", not running"
            print(f"  node {node.address} ({node.datacenter}): pid {node.pid}{memory}")
    return 0 if running else 1


def servers_down(args: argparse.Namespace) -> int:
    from harness.servers.select import release_all, servers_home

    stopped = release_all(servers_home())
    print(f"stopped: {', '.join(stopped)}" if stopped else "no servers were running", file=sys.stderr)
    return 0
