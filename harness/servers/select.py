"""Which provider serves a run, and getting one shared server per kind from it."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock

from harness.errors import ConfigError, ServerError
from harness.servers import supervisor
from harness.servers.base import CassandraServer, NodeProcessInfo, PostgresServer
from harness.servers.cassandra_config import parse_dcs

PROVIDERS = ("auto", "local", "docker", "external")


@dataclass(frozen=True)
class ServerOptions:
    """Everything that decides where the databases come from; resolved once from flags, ini and environment."""

    provider: str = "auto"
    pg_url: str | None = field(default=None, repr=False)
    cassandra_hosts: tuple[str, ...] = ()
    cassandra_port: int = 9042
    cassandra_local_dc: str = "datacenter1"
    cassandra_username: str | None = None
    cassandra_password: str | None = field(default=None, repr=False)
    pg_bindir: str | None = None
    postgres_image: str | None = None
    cassandra_image: str | None = None
    cassandra_nodes: int = 1
    cassandra_dcs: str | None = None

    def __post_init__(self) -> None:
        parse_dcs(self.cassandra_dcs, self.cassandra_nodes)  # a one-line ConfigError for a shape that cannot be

    @property
    def cassandra_cluster(self) -> bool:
        """More than a lone node is asked for (several nodes, or named datacenters)."""
        return self.cassandra_nodes > 1 or bool(self.cassandra_dcs)

    def cassandra_shape(self) -> str:
        """How the Cassandra is asked to look, for messages: '1 node' or '3 nodes (dc1:2,dc2:1)'."""
        nodes = f"{self.cassandra_nodes} node{'s' if self.cassandra_nodes > 1 else ''}"
        return f"{nodes} ({self.cassandra_dcs})" if self.cassandra_dcs else nodes

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> ServerOptions:
        env = os.environ if env is None else env
        hosts = env.get("CASSANDRA_HOSTS") or env.get("CASSANDRA_HOST") or ""
        values: dict[str, Any] = {
            "provider": env.get("HARNESS_PROVIDER", "auto"),
            "pg_url": env.get("DATABASE_URL") or None,
            "cassandra_hosts": tuple(h.strip() for h in hosts.split(",") if h.strip()),
            "cassandra_port": int(env.get("CASSANDRA_PORT", "9042")),
            "cassandra_local_dc": env.get("CASSANDRA_LOCAL_DC", "datacenter1"),
            "cassandra_username": env.get("CASSANDRA_USERNAME") or None,
            "cassandra_password": env.get("CASSANDRA_PASSWORD") or None,
            "pg_bindir": env.get("HARNESS_PG_BINDIR") or None,
            "postgres_image": env.get("HARNESS_POSTGRES_IMAGE") or None,
            "cassandra_image": env.get("HARNESS_CASSANDRA_IMAGE") or None,
        }
        values.update({k: v for k, v in overrides.items() if v not in (None, "", ())})
        opts = cls(**values)
        if opts.provider not in PROVIDERS:
            raise ConfigError(f"unknown provider {opts.provider!r}: choose one of {', '.join(PROVIDERS)}")
        return opts

    def has_external(self, kind: str) -> bool:
        return bool(self.pg_url) if kind == "postgres" else bool(self.cassandra_hosts)


def choose_provider(opts: ServerOptions, kind: str) -> tuple[str, str]:
    """Return (provider, why): external if given, else docker if an engine answers with usable images, else local."""
    if opts.provider == "external":
        if not opts.has_external(kind):
            need = "DATABASE_URL / --pg-url" if kind == "postgres" else "CASSANDRA_HOSTS / --cassandra-hosts"
            raise ConfigError(f"provider 'external' chosen but no {kind} server given: set {need}")
        return "external", "chosen"
    cluster = kind == "cassandra" and opts.cassandra_cluster
    if opts.provider == "docker" and cluster:
        raise ConfigError(
            f"a Cassandra of {opts.cassandra_shape()} needs the local provider; the docker provider starts one node"
        )
    if opts.provider in ("local", "docker"):
        return opts.provider, "chosen"
    if opts.has_external(kind):
        return "external", "server given by environment or option"
    if cluster:
        return "local", f"a Cassandra of {opts.cassandra_shape()} runs on the local provider only"
    try:
        from harness.servers import docker
    except ImportError:  # pragma: no cover - the docker extra is part of the test dependencies
        return "local", "the docker client library is not installed"
    from harness.servers import docker_config as images

    if not docker.docker_available():
        return "local", "no external server given and no Docker engine answers"
    explicit = opts.postgres_image if kind == "postgres" else opts.cassandra_image
    env_var = images.POSTGRES_IMAGE_ENV if kind == "postgres" else images.CASSANDRA_IMAGE_ENV
    default = images.DEFAULT_POSTGRES_IMAGE if kind == "postgres" else images.DEFAULT_CASSANDRA_IMAGE
    image = images.resolve_image(explicit, env_var, default, os.environ)
    if explicit or os.environ.get(env_var) or os.environ.get(images.IMAGE_PREFIX_ENV) or docker.image_present(image):
        return "docker", f"a Docker engine answers and image {image} is configured or present"
    return "local", f"a Docker engine answers but image {image} is not present (build it or set {env_var})"


def external_server(opts: ServerOptions, kind: str) -> PostgresServer | CassandraServer:
    """Describe a given server, asking it for its version (which also proves it is reachable)."""
    if kind == "postgres":
        import psycopg

        from harness.stores.postgres.conn import server_version

        assert opts.pg_url
        try:
            version = server_version(opts.pg_url, timeout=10)
        except psycopg.Error as exc:
            raise ServerError(f"external PostgreSQL not reachable: {exc}") from None
        return PostgresServer(url=opts.pg_url, version=version, provider="external")
    from harness.stores.cassandra.conn import cassandra_version

    server = CassandraServer(
        contact_points=opts.cassandra_hosts,
        port=opts.cassandra_port,
        local_datacenter=opts.cassandra_local_dc,
        provider="external",
        username=opts.cassandra_username,
        password=opts.cassandra_password,
    )
    return CassandraServer(**{**server.__dict__, "version": cassandra_version(server)})


def obtain(
    kind: str,
    opts: ServerOptions,
    state_root: Path,
    *,
    owner: int | None,
    log: Callable[[str], None] = lambda _m: None,
    timeout: float = 240.0,
) -> PostgresServer | CassandraServer:
    """One server of ``kind`` per ``state_root``: the first caller starts it, later ones (any process) reuse it."""
    provider, why = choose_provider(opts, kind)
    if provider == "external":
        server = external_server(opts, kind)
    else:
        state_dir = state_root / kind
        state_dir.mkdir(parents=True, exist_ok=True)
        with FileLock(str(state_dir) + ".lock"):
            state = supervisor.read_state(state_dir)
            if state is None:
                log(f"{kind}: starting a {provider} server ({why})")
                options = supervisor_options(opts)
                proc = supervisor.spawn(state_dir, kind, provider, owner=owner, options=options)
                try:
                    state = supervisor.wait_ready(state_dir, proc, timeout=timeout)
                except BaseException:  # Ctrl-C while waiting: a half-started server must not stay behind
                    supervisor.stop(state_dir)
                    raise
            elif kind == "cassandra":
                _check_same_shape(state, opts)
            server = supervisor.server_from_state(state)
    log(f"{kind}: {server.provider} server {server.version}")
    return server


def supervisor_options(opts: ServerOptions) -> dict[str, Any]:
    """The options a supervisor starts its server with (and records in its state file)."""
    return {
        "pg_bindir": opts.pg_bindir,
        "postgres_image": opts.postgres_image,
        "cassandra_image": opts.cassandra_image,
        "cassandra_nodes": opts.cassandra_nodes,
        "cassandra_dcs": opts.cassandra_dcs,
    }


def _check_same_shape(state: dict[str, Any], opts: ServerOptions) -> None:
    """A running Cassandra of another shape is not what was asked for: say so instead of reusing it."""
    running = state.get("options") or {}
    nodes, dcs = int(running.get("cassandra_nodes") or 1), running.get("cassandra_dcs") or None
    if (nodes, dcs) != (opts.cassandra_nodes, opts.cassandra_dcs or None):
        have = ServerOptions(cassandra_nodes=nodes, cassandra_dcs=dcs).cassandra_shape()
        raise ConfigError(
            f"a Cassandra of {have} is already running, but {opts.cassandra_shape()} was asked for: "
            "stop it first (`harness servers down`)"
        )


def running_nodes(state_root: Path, kind: str = "cassandra") -> list[NodeProcessInfo]:
    """The node processes (address, pid, datacenter) of the local server of ``kind`` under ``state_root``.

    For tests that pause (SIGSTOP/SIGCONT) or stop one node; empty when no local server of that kind runs.
    """
    state = supervisor.read_state(state_root / kind)
    return supervisor.node_processes(state) if state is not None else []


def release_all(state_root: Path) -> list[str]:
    """Stop every supervisor under ``state_root``; returns the kinds that were running."""
    return [kind for kind in supervisor.KINDS if supervisor.stop(state_root / kind)]


def servers_home() -> Path:
    """Where ``harness servers up`` keeps its state between commands."""
    base = os.environ.get("XDG_RUNTIME_DIR") or os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "harness" / "servers"
