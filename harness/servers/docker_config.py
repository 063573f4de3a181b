"""The docker provider's pure parts: image names, container environment, labels (unit-tested without an engine).

Defaults are the official images (``postgres:15``, ``cassandra:5.0``); ``image=`` or
``HARNESS_POSTGRES_IMAGE`` / ``HARNESS_CASSANDRA_IMAGE`` choose others (e.g. the registry-free
``harness/postgres:15`` and ``harness/cassandra:5.0`` from ``docker/build-local-images``), and
``HARNESS_IMAGE_PREFIX`` puts a registry mirror in front of the defaults. Containers carry ``org.harness.*``
labels naming their owner process, so leftovers of a killed run can be found without Ryuk.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from harness.servers.cassandra_config import FAST_START_PROPERTIES

DEFAULT_POSTGRES_IMAGE = "postgres:15"
DEFAULT_CASSANDRA_IMAGE = "cassandra:5.0"
POSTGRES_IMAGE_ENV = "HARNESS_POSTGRES_IMAGE"
CASSANDRA_IMAGE_ENV = "HARNESS_CASSANDRA_IMAGE"
IMAGE_PREFIX_ENV = "HARNESS_IMAGE_PREFIX"
LOCAL_HINT = (
    "build the registry-free images with `docker/build-local-images` and set "
    "HARNESS_POSTGRES_IMAGE=harness/postgres:15 HARNESS_CASSANDRA_IMAGE=harness/cassandra:5.0, "
    "or set HARNESS_IMAGE_PREFIX to a registry mirror"
)

# Only where the user has not chosen: Ryuk's image cannot be pulled offline, and on machines carrying
# /.dockerenv testcontainers would otherwise dial the bridge gateway instead of the published ports.
TESTCONTAINERS_DEFAULTS: dict[str, str] = {
    "TESTCONTAINERS_RYUK_DISABLED": "true",
    "TESTCONTAINERS_CONNECTION_MODE": "docker_host",
}

LABEL_PROVIDER = "org.harness.provider"
LABEL_HOST = "org.harness.host"
LABEL_PID = "org.harness.pid"

POSTGRES_USER = "postgres"
POSTGRES_DB = "postgres"
POSTGRES_PORT = 5432
# Test-only durability shortcuts, as the local provider uses.
POSTGRES_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=200")
POSTGRES_ARGS: tuple[str, ...] = tuple(arg for setting in POSTGRES_SETTINGS for arg in ("-c", setting))

CASSANDRA_PORT = 9042
CASSANDRA_DATACENTER = "datacenter1"  # SimpleSnitch, in both the official and the harness image
CASSANDRA_HEAP = "512M"
LOG_TAIL_LINES = 40


def resolve_image(explicit: str | None, env_var: str, default: str, environ: Mapping[str, str]) -> str:
    """The image to run: argument, else ``env_var``, else ``default`` behind ``HARNESS_IMAGE_PREFIX``.

    The prefix is for a registry mirror of Docker Hub, so it applies to the default (official) names
    only; an image named explicitly is taken verbatim.
    """
    chosen = explicit or environ.get(env_var, "").strip()
    if chosen:
        return chosen
    prefix = environ.get(IMAGE_PREFIX_ENV, "").strip()
    if not prefix:
        return default
    return f"{prefix.rstrip('/')}/{default}"


def testcontainers_env_defaults(environ: Mapping[str, str]) -> dict[str, str]:
    """The testcontainers settings to add: ours, minus every one the user has set (even to empty)."""
    return {key: value for key, value in TESTCONTAINERS_DEFAULTS.items() if key not in environ}


def postgres_env(password: str) -> dict[str, str]:
    """The official postgres image's interface (the harness image honours the same variables).

    ``initdb --no-sync``: a throwaway cluster need not be flushed to disk, and it is most of start-up.
    """
    return {
        "POSTGRES_USER": POSTGRES_USER,
        "POSTGRES_PASSWORD": password,
        "POSTGRES_DB": POSTGRES_DB,
        "POSTGRES_INITDB_ARGS": "--no-sync",
    }


def postgres_url(host: str, port: int, password: str) -> str:
    """libpq URL of the superuser's database; the password is URL-safe by construction (token_urlsafe)."""
    return f"postgresql://{POSTGRES_USER}:{password}@{host}:{port}/{POSTGRES_DB}"


def cassandra_jvm_extra_opts() -> str:
    """JVM_EXTRA_OPTS: the local provider's fast-start properties, understood by both images.

    Only ``-D`` properties: the official image picks its own GC and heap flags, and a second GC flag
    would stop the JVM. ``initial_token`` pairs with CASSANDRA_NUM_TOKENS=1 (no token allocation wait).
    """
    props = [p for p in FAST_START_PROPERTIES if p.startswith("-D")]
    return " ".join([*props, "-Dcassandra.initial_token=0"])


def cassandra_env(heap: str = CASSANDRA_HEAP) -> dict[str, str]:
    """Environment for a single fast-starting test node (official names; the harness image shares them)."""
    return {
        "JVM_EXTRA_OPTS": cassandra_jvm_extra_opts(),
        "MAX_HEAP_SIZE": heap,
        "HEAP_NEWSIZE": "128M",  # the official image insists on both or neither
        "CASSANDRA_NUM_TOKENS": "1",
        "CASSANDRA_ENDPOINT_SNITCH": "SimpleSnitch",
    }


def container_labels(pid: int, host: str) -> dict[str, str]:
    """Labels naming the owner process, so leftovers of a killed run can be found without Ryuk."""
    return {LABEL_PROVIDER: "docker", LABEL_HOST: host, LABEL_PID: str(pid)}


def is_stale(labels: Mapping[str, str], host: str, pid_alive: Callable[[int], bool]) -> bool:
    """A harness container whose owner process on this host is gone."""
    if labels.get(LABEL_PROVIDER) != "docker" or labels.get(LABEL_HOST) != host:
        return False
    try:
        pid = int(labels.get(LABEL_PID, ""))
    except ValueError:
        return False
    return not pid_alive(pid)


def log_tail(text: str, lines: int = LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines of a container log, for error messages."""
    return "\n".join(text.rstrip().splitlines()[-lines:])
