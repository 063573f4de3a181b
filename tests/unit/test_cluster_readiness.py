"""When a local Cassandra cluster counts as ready: the decision over what its nodes report, without a cluster."""

from __future__ import annotations

import pytest

from harness.servers.cluster_readiness import NodeView, cluster_missing, failure_detector_verdicts

EXPECTED = {"127.0.0.1": "dc1", "127.0.0.2": "dc1", "127.0.0.3": "dc2"}
SCHEMA = "d03783d7-b468-3c1a-82f1-8e30b2edde8b"


def agreed_view(address: str, **changes: object) -> NodeView:
    """What a node of a ready 3-node, 2-datacenter cluster reports; ``changes`` spoil one part."""
    values: dict[str, object] = {
        "address": address,
        "schema_version": SCHEMA,
        "peers": {a: (dc, SCHEMA) for a, dc in EXPECTED.items() if a != address},
        "normal": frozenset(EXPECTED),
        "up": {a: True for a in EXPECTED if a != address},
    }
    values.update(changes)
    return NodeView(**values)  # type: ignore[arg-type]


def views(**spoiled: dict[str, object]) -> list[NodeView]:
    return [agreed_view(a, **spoiled.get(a.replace(".", "_"), {})) for a in EXPECTED]


def test_a_cluster_whose_nodes_all_agree_is_ready() -> None:
    assert cluster_missing(EXPECTED, views()) == ""


@pytest.mark.parametrize(
    ("spoiled", "missing"),
    [
        (
            {"127_0_0_2": {"peers": {"127.0.0.1": ("dc1", SCHEMA)}}},
            "127.0.0.2 lists peers [('127.0.0.1', 'dc1')], expected [('127.0.0.1', 'dc1'), ('127.0.0.3', 'dc2')]",
        ),
        (
            {"127_0_0_1": {"peers": {"127.0.0.2": ("dc1", SCHEMA), "127.0.0.3": ("datacenter1", SCHEMA)}}},
            "127.0.0.1 lists peers [('127.0.0.2', 'dc1'), ('127.0.0.3', 'datacenter1')]",
        ),
        (
            {"127_0_0_3": {"normal": frozenset({"127.0.0.1", "127.0.0.3"})}},
            "127.0.0.3 sees gossip status NORMAL for ['127.0.0.1', '127.0.0.3'] only",
        ),
        ({"127_0_0_1": {"up": {"127.0.0.2": True}}}, "127.0.0.1 has not marked 127.0.0.3 UP"),
        ({"127_0_0_1": {"up": {"127.0.0.2": True, "127.0.0.3": False}}}, "127.0.0.1 has not marked 127.0.0.3 UP"),
        ({"127_0_0_2": {"schema_version": "other"}}, "schema versions differ"),
        (
            {"127_0_0_3": {"peers": {"127.0.0.1": ("dc1", None), "127.0.0.2": ("dc1", SCHEMA)}}},
            "schema versions differ",
        ),
    ],
)
def test_what_is_still_missing_is_named(spoiled: dict[str, dict[str, object]], missing: str) -> None:
    assert missing in cluster_missing(EXPECTED, views(**spoiled))


def test_a_node_that_did_not_report_means_not_ready() -> None:
    assert "expected ['127.0.0.1', '127.0.0.2', '127.0.0.3']" in cluster_missing(EXPECTED, views()[:2])


def test_a_single_node_cluster_is_ready_on_its_own() -> None:
    alone = NodeView("127.0.0.1", SCHEMA, {}, frozenset({"127.0.0.1"}))
    assert cluster_missing({"127.0.0.1": "datacenter1"}, [alone]) == ""


def test_the_last_failure_detector_verdict_per_peer_counts() -> None:
    log = "\n".join(
        [
            "INFO  [GossipStage:1] 2026-12-01 05:46:22,755 Gossiper - InetAddress /127.0.0.2:50269 is now UP",
            "INFO  [GossipStage:1] 2026-12-01 05:46:22,762 Gossiper - Node /127.0.0.3:50269 is now part of the cluster",
            "INFO  [GossipStage:1] 2026-12-01 05:46:24,578 Gossiper - InetAddress 127.0.0.3/127.0.0.3:50269 is now UP",
            "INFO  [GossipStage:1] 2026-12-01 05:46:49,866 Gossiper - InetAddress /127.0.0.2:50269 is now DOWN",
            "INFO  [GossipStage:1] Gossiper - Node localhost/127.0.0.4:7000 has restarted, now UP",
        ]
    )
    assert failure_detector_verdicts(log) == {"127.0.0.2": False, "127.0.0.3": True, "127.0.0.4": True}
