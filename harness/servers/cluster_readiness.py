"""When a local Cassandra cluster counts as ready, decided from what its nodes report (pure; unit-tested).

A cluster is ready when every node lists every other one in ``system.peers_v2`` with the expected
datacenter, sees every node's gossip status NORMAL, has marked every other node UP (the failure detector's
"InetAddress ... is now UP" log line, with no later DOWN: ``nodetool status``'s U, which no CQL table
exposes), and all nodes and their peer rows report one schema version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# The failure detector's verdicts, e.g. "InetAddress /127.0.0.2:7000 is now UP" (sometimes "host/127.0.0.2:7000"),
# "Node /127.0.0.3:7000 has restarted, now UP".
_VERDICT = re.compile(
    r"(?:InetAddress|Node) (?:[^\s/]*/)?(127\.[0-9.]+)(?::\d+)? (?:is now|has restarted, now) (UP|DOWN)\b"
)


def failure_detector_verdicts(log_text: str) -> dict[str, bool]:
    """The last UP (True) or DOWN (False) verdict per peer address in a node's log text."""
    return {match.group(1): match.group(2) == "UP" for match in _VERDICT.finditer(log_text)}


@dataclass(frozen=True)
class NodeView:
    """What one node reports about the cluster, from its own system tables and its log."""

    address: str
    schema_version: str | None
    peers: dict[str, tuple[str | None, str | None]]  # peer address -> (data_center, schema_version)
    normal: frozenset[str]  # addresses whose gossip STATUS is NORMAL, itself included
    up: dict[str, bool] = field(default_factory=dict)  # the failure detector's last verdict per peer


def cluster_missing(expected: dict[str, str], views: list[NodeView]) -> str:
    """``""`` when the nodes agree (see the module doc), else the first thing still missing, for messages.

    ``expected`` maps every node's address to its datacenter.
    """
    if sorted(v.address for v in views) != sorted(expected):
        return f"answers from {sorted(v.address for v in views)}, expected {sorted(expected)}"
    schemas: set[str | None] = set()
    for view in views:
        others = {address: dc for address, dc in expected.items() if address != view.address}
        listed = {peer: dc for peer, (dc, _schema) in view.peers.items()}
        if listed != others:
            return f"{view.address} lists peers {sorted(listed.items())}, expected {sorted(others.items())}"
        if view.normal != set(expected):
            return f"{view.address} sees gossip status NORMAL for {sorted(view.normal)} only"
        down = sorted(address for address in others if not view.up.get(address))
        if down:
            return f"{view.address} has not marked {', '.join(down)} UP"
        schemas.add(view.schema_version)
        schemas.update(schema for _dc, schema in view.peers.values())
    if len(schemas) != 1 or None in schemas:
        return f"schema versions differ: {sorted(map(str, schemas))}"
    return ""
