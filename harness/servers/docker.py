"""Throwaway PostgreSQL 15 and Cassandra 5.0 as Docker containers, through testcontainers.

Images, environment and labels come from :mod:`harness.servers.docker_config`. Ports are published on
127.0.0.1 only. Ready means a real query answered (never a log line), and every failure carries the
container's log tail. Ryuk (the reaper) is off by default because its image cannot be pulled where no
registry is reachable; containers carry ``org.harness.*`` labels instead, and containers of dead owner
processes on this host are removed at the next start.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import secrets
import socket
import sys
import time
import warnings
from collections.abc import Callable, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

from harness.errors import ServerError
from harness.servers.base import CassandraServer, PostgresServer, Provider
from harness.servers.docker_config import (
    CASSANDRA_DATACENTER,
    CASSANDRA_HEAP,
    CASSANDRA_IMAGE_ENV,
    CASSANDRA_PORT,
    DEFAULT_CASSANDRA_IMAGE,
    DEFAULT_POSTGRES_IMAGE,
    LABEL_PID,
    LABEL_PROVIDER,
    LOCAL_HINT,
    LOG_TAIL_LINES,
    POSTGRES_ARGS,
    POSTGRES_IMAGE_ENV,
    POSTGRES_PORT,
    cassandra_env,
    cassandra_jvm_extra_opts,
    container_labels,
    is_stale,
    log_tail,
    postgres_env,
    postgres_url,
    resolve_image,
    testcontainers_env_defaults,
)
from harness.servers.procutil import pid_alive, tcp_open

if TYPE_CHECKING:
    from testcontainers.core.container import DockerContainer

# The pure names come from docker_config; re-exported because callers and tests know one provider module.
__all__ = [
    "DEFAULT_CASSANDRA_IMAGE",
    "DEFAULT_POSTGRES_IMAGE",
    "LABEL_PID",
    "POSTGRES_ARGS",
    "DockerCassandra",
    "DockerPostgres",
    "apply_testcontainers_defaults",
    "cassandra_env",
    "cassandra_jvm_extra_opts",
    "container_labels",
    "docker_available",
    "image_present",
    "is_stale",
    "log_tail",
    "postgres_env",
    "postgres_url",
    "remove_stale_containers",
    "resolve_image",
    "testcontainers_env_defaults",
]


def _ignore(_message: str) -> None:
    """Default progress sink: say nothing."""


def apply_testcontainers_defaults(environ: MutableMapping[str, str] = os.environ) -> None:
    """Set our testcontainers defaults in ``environ``; for the process environment also in testcontainers'
    config if it was imported already (it reads some settings at import)."""
    missing = testcontainers_env_defaults(environ)
    for key, value in missing.items():
        environ[key] = value
    if not missing or environ is not os.environ:
        return
    config_module = sys.modules.get("testcontainers.core.config")
    if config_module is None:
        return  # read at import, which is still to come
    config: Any = config_module.testcontainers_config
    if "TESTCONTAINERS_RYUK_DISABLED" in missing:
        config.ryuk_disabled = True
    if "TESTCONTAINERS_CONNECTION_MODE" in missing and config.connection_mode_override is None:
        config.connection_mode_override = config_module.ConnectionMode.docker_host


def _docker_client(timeout: int) -> Any:
    """A docker SDK client from the environment (DOCKER_HOST, ...).

    Imported by name at run time: the repo's top-level ``docker/`` directory (build scripts) would
    otherwise shadow the SDK for type checkers run from the repo root.
    """
    return importlib.import_module("docker").from_env(timeout=timeout)


def docker_available(timeout: float = 2.0) -> bool:
    """True when a Docker engine answers a ping within ``timeout`` seconds; never raises."""
    try:
        client = _docker_client(max(1, round(timeout)))
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def image_present(image: str) -> bool:
    """True when the engine has ``image`` locally (no pull attempted); never raises."""
    try:
        client = _docker_client(5)
        try:
            client.images.get(image)
            return True
        finally:
            client.close()
    except Exception:
        return False


def remove_stale_containers(log: Callable[[str], None] = _ignore) -> int:
    """Remove harness containers whose owner process on this host died (no Ryuk to do it)."""
    try:
        client = _docker_client(10)
    except Exception:
        return 0
    removed = 0
    host = socket.gethostname()
    try:
        for container in client.containers.list(all=True, filters={"label": f"{LABEL_PROVIDER}=docker"}):
            if is_stale(container.labels, host, pid_alive):
                log(f"docker: removing leftover container {container.short_id} of a dead run")
                with contextlib.suppress(Exception):
                    container.remove(force=True, v=True)
                    removed += 1
    except Exception:
        pass
    finally:
        client.close()
    return removed


class _Container:
    """One testcontainers container: start with published ports on 127.0.0.1, logs, idempotent stop."""

    def __init__(self, kind: str, image: str, log: Callable[[str], None]) -> None:
        self.kind = kind
        self.image = image
        self._log = log
        self._container: DockerContainer | None = None

    def start(self, env: Mapping[str, str], ports: tuple[int, ...], command: list[str] | None) -> None:
        apply_testcontainers_defaults()
        if not docker_available():
            raise ServerError(
                f"{self.kind}: no Docker engine answers (DOCKER_HOST={os.environ.get('DOCKER_HOST', 'unset')}); "
                "start one (CI: `.ci/docker-engine`) or use the local provider (--provider local)"
            )
        remove_stale_containers(self._log)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            from testcontainers.core.container import DockerContainer

        container = DockerContainer(self.image)
        for key, value in env.items():
            container.with_env(key, value)
        for port in ports:
            # with_bind_ports() takes no host IP; docker-py's (ip,) means "that IP, a free port".
            container.ports[f"{port}/tcp"] = ("127.0.0.1",)  # type: ignore[assignment]
        if command:
            container.with_command(command)
        container.with_kwargs(labels=container_labels(os.getpid(), socket.gethostname()))
        self._container = container
        try:
            container.start()
        except Exception as exc:
            logs = self.logs()
            self.stop()
            if not image_present(container.image):
                raise ServerError(
                    f"{self.kind}: image {container.image!r} is not on this Docker engine and could not be "
                    f"pulled: {exc}\nNo registry reachable? {LOCAL_HINT}"
                ) from None
            raise ServerError(
                f"{self.kind}: could not start a container from image {container.image!r}: {exc}\n"
                f"--- last {LOG_TAIL_LINES} lines of the container log ---\n{logs}"
            ) from None

    def host_port(self, port: int) -> int:
        """The 127.0.0.1 port the engine published for container ``port``."""
        assert self._container is not None
        wrapped = self._container.get_wrapped_container()
        wrapped.reload()
        bindings = (wrapped.attrs.get("NetworkSettings", {}).get("Ports") or {}).get(f"{port}/tcp") or []
        for binding in bindings:
            if binding.get("HostIp") in ("127.0.0.1", "") and binding.get("HostPort"):
                return int(binding["HostPort"])
        raise ServerError(f"{self.kind}: container port {port} was not published on 127.0.0.1: {bindings}")

    def status(self) -> str:
        """``running``, ``exited``, ...; ``gone`` when the engine no longer knows the container."""
        if self._container is None:
            return "gone"
        try:
            wrapped = self._container.get_wrapped_container()
            wrapped.reload()
            return str(wrapped.status)
        except Exception:
            return "gone"

    def logs(self) -> str:
        if self._container is None:
            return ""
        try:
            raw = self._container.get_wrapped_container().logs(tail=LOG_TAIL_LINES)
            return log_tail(raw.decode(errors="replace"))
        except Exception as exc:
            return f"(container log unavailable: {exc})"

    def failure(self, reason: str) -> str:
        short = self._container.get_wrapped_container().short_id if self._container else "?"
        return (
            f"{self.kind} container {short} ({self.image}) {reason}\n"
            f"--- last {LOG_TAIL_LINES} lines of the container log ---\n{self.logs()}"
        )

    def stop(self) -> None:
        container, self._container = self._container, None
        if container is None:
            return
        with contextlib.suppress(Exception):
            container.stop(force=True, delete_volume=True)


def _wait(
    container: _Container,
    probe: Callable[[], str | None],
    timeout: float,
    began: float,
) -> str:
    """Poll ``probe`` (a real query) until it returns a version; fail fast if the container stops."""
    deadline = began + timeout
    while True:
        version = probe()
        if version is not None:
            return version
        state = container.status()
        if state not in ("running", "created", "restarting"):
            raise ServerError(container.failure(f"stopped during start-up (state: {state})"))
        if time.monotonic() > deadline:
            raise ServerError(container.failure(f"answered no query within {timeout:.0f}s"))
        time.sleep(0.2)


class DockerPostgres(Provider[PostgresServer]):
    """A throwaway PostgreSQL container; ``start()`` returns once ``SHOW server_version`` answered."""

    def __init__(
        self,
        image: str | None = None,
        log: Callable[[str], None] = _ignore,
        *,
        timeout: float = 60.0,
    ) -> None:
        self.image = resolve_image(image, POSTGRES_IMAGE_ENV, DEFAULT_POSTGRES_IMAGE, os.environ)
        self.timeout = timeout
        self._log = log
        self._container = _Container("postgres", self.image, log)
        self.info: PostgresServer | None = None

    def start(self) -> PostgresServer:
        if self.info is not None:
            return self.info
        password = secrets.token_urlsafe(18)
        began = time.monotonic()
        self._log(f"postgres: starting container {self.image}")
        self._container.start(postgres_env(password), (POSTGRES_PORT,), ["postgres", *POSTGRES_ARGS])
        try:
            url = postgres_url("127.0.0.1", self._container.host_port(POSTGRES_PORT), password)
            version = _wait(self._container, lambda: _postgres_version(url), self.timeout, began)
        except BaseException:
            self.stop()
            raise
        self._log(f"postgres: ready in {time.monotonic() - began:.1f}s ({version})")
        self.info = PostgresServer(url=url, version=version, provider="docker")
        return self.info

    def stop(self) -> None:
        """Remove the container and its anonymous volumes; safe to call twice."""
        self._container.stop()
        self.info = None


def _postgres_version(url: str) -> str | None:
    """``SHOW server_version``; None while the container does not accept connections yet."""
    import psycopg

    from harness.stores.postgres.conn import server_version

    try:
        return server_version(url, timeout=2)
    except psycopg.Error:
        return None


class DockerCassandra(Provider[CassandraServer]):
    """A throwaway Cassandra container; ``start()`` returns once ``system.local`` answered a query."""

    def __init__(
        self,
        image: str | None = None,
        log: Callable[[str], None] = _ignore,
        *,
        timeout: float = 180.0,
        heap: str = CASSANDRA_HEAP,
    ) -> None:
        self.image = resolve_image(image, CASSANDRA_IMAGE_ENV, DEFAULT_CASSANDRA_IMAGE, os.environ)
        self.timeout = timeout
        self.heap = heap
        self._log = log
        self._container = _Container("cassandra", self.image, log)
        self.info: CassandraServer | None = None

    def start(self) -> CassandraServer:
        if self.info is not None:
            return self.info
        began = time.monotonic()
        self._log(f"cassandra: starting container {self.image}")
        self._container.start(cassandra_env(self.heap), (CASSANDRA_PORT,), None)
        try:
            port = self._container.host_port(CASSANDRA_PORT)
            version = _wait(self._container, lambda: _cassandra_version(port), self.timeout, began)
        except BaseException:
            self.stop()
            raise
        self._log(f"cassandra: ready in {time.monotonic() - began:.1f}s ({version})")
        self.info = CassandraServer(
            contact_points=("127.0.0.1",),
            port=port,
            local_datacenter=CASSANDRA_DATACENTER,
            version=version,
            provider="docker",
        )
        return self.info

    def stop(self) -> None:
        """Remove the container and its anonymous volumes; safe to call twice."""
        self._container.stop()
        self.info = None


def _cassandra_version(port: int) -> str | None:
    """``SELECT release_version FROM system.local`` through the real driver; None while not ready."""
    if not tcp_open(port):  # cheap pre-check before building a driver Cluster
        return None
    from harness.stores.cassandra.conn import probe_version

    return probe_version(CassandraServer(("127.0.0.1",), port, CASSANDRA_DATACENTER), timeout=3)
