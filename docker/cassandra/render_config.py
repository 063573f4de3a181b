"""Render the harness/cassandra image's conf/ from the local provider's own settings.

Why: the container must start exactly like ``harness.servers.cassandra_local`` (same yaml keys, same
fast-start JVM flags), so the image takes them from that module at build time instead of a copy that
drifts. Addresses become placeholders the entrypoint fills with the container's IP. Every replacement
must match exactly once: if the local provider's yaml changes shape, the build fails here, loudly.

Usage: python3 docker/cassandra/render_config.py OUT_DIR   (writes cassandra.yaml, jvm.options, logback.xml)
"""

from __future__ import annotations

import sys
from pathlib import Path

from harness.servers import cassandra_local as local

STATE = Path("/var/lib/cassandra")

# (text in the local provider's yaml, placeholder the entrypoint fills)
REPLACEMENTS: tuple[tuple[str, str], ...] = (
    ("listen_address: 127.0.0.1\n", "listen_address: __LISTEN_ADDRESS__\nbroadcast_address: __BROADCAST_ADDRESS__\n"),
    ("rpc_address: 127.0.0.1\n", "rpc_address: __RPC_ADDRESS__\nbroadcast_rpc_address: __BROADCAST_RPC_ADDRESS__\n"),
    ('- seeds: "127.0.0.1:7000"', '- seeds: "__SEEDS__"'),
    (f"cluster_name: '{local.CLUSTER_NAME}'", "cluster_name: '__CLUSTER_NAME__'"),
    ("authenticator: AllowAllAuthenticator", "authenticator: __AUTHENTICATOR__"),
    ("authorizer: AllowAllAuthorizer", "authorizer: __AUTHORIZER__"),
)

# Set by the entrypoint per container (paths, heap); never taken from the local provider's list.
ENTRYPOINT_OWNED = (
    "-Dcassandra.config",
    "-Dlogback.configurationFile",
    "-Dcassandra.logdir",
    "-Dcassandra.storagedir",
    "-Djava.io.tmpdir",
    "-Djna.tmpdir",
    "-Xms",
    "-Xmx",
)


def render_yaml_template() -> str:
    """The local provider's yaml for a node under /var/lib/cassandra, with address placeholders."""
    cfg = local.NodeConfig(workdir=STATE, native_port=9042, storage_port=7000)
    text = local.render_yaml(cfg).replace("harness.servers.cassandra_local", "docker/cassandra/render_config.py")
    for old, new in REPLACEMENTS:
        count = text.count(old)
        if count != 1:
            raise SystemExit(
                f"render_config.py: expected {old!r} once in cassandra_local.render_yaml(), found {count}; "
                "update REPLACEMENTS in docker/cassandra/render_config.py to the new yaml"
            )
        text = text.replace(old, new)
    return text


def jvm_options() -> list[str]:
    """The local provider's JVM flags (tuning, JDK 17 module flags, fast-start properties), one per line."""
    flags = [*local.JVM_TUNING, *local.JDK17_MODULE_FLAGS, *local.FAST_START_PROPERTIES]
    return [f for f in flags if not f.startswith(ENTRYPOINT_OWNED)]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    (out / "cassandra.yaml").write_text(render_yaml_template())
    header = "# Rendered from harness.servers.cassandra_local by docker/cassandra/render_config.py\n"
    (out / "jvm.options").write_text(header + "\n".join(jvm_options()) + "\n")
    (out / "logback.xml").write_text(local.LOGBACK_XML)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
