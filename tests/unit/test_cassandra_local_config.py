"""The pure parts of the local Cassandra providers: generated yaml and rackdc, JVM command line, cluster layout.

No JVM and no Maven run here; starting a real node is the plugin's job.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from harness.errors import ConfigError, ServerError
from harness.servers.cassandra_config import (
    FAST_START_PROPERTIES,
    JDK17_MODULE_FLAGS,
    LOGBACK_XML,
    NON_SEED_PROPERTIES,
    NodeConfig,
    cds_key,
    cluster_configs,
    java_major,
    jvm_command,
    parse_dcs,
    render_rackdc,
    render_yaml,
)
from harness.servers.procutil import free_port


@pytest.fixture
def cfg(tmp_path: Path) -> NodeConfig:
    return NodeConfig(workdir=tmp_path / "node", native_port=19042, storage_port=17000, heap="384M")


def test_yaml_has_every_key_without_a_default(cfg: NodeConfig) -> None:
    conf = yaml.safe_load(render_yaml(cfg))
    for key in ("commitlog_sync", "commitlog_sync_period", "partitioner", "endpoint_snitch", "seed_provider"):
        assert conf[key], key
    assert conf["seed_provider"][0]["parameters"][0]["seeds"] == "127.0.0.1:17000"


def test_yaml_binds_only_loopback_on_chosen_ports(cfg: NodeConfig) -> None:
    conf = yaml.safe_load(render_yaml(cfg))
    assert conf["listen_address"] == conf["rpc_address"] == "127.0.0.1"
    assert conf["native_transport_port"] == 19042
    assert conf["storage_port"] == 17000


def test_yaml_fast_start_and_features(cfg: NodeConfig) -> None:
    conf = yaml.safe_load(render_yaml(cfg))
    assert conf["num_tokens"] == 1
    assert conf["initial_token"] == 0
    assert conf["auto_snapshot"] is False
    assert conf["storage_compatibility_mode"] == "NONE"
    assert conf["disk_access_mode"] == "standard"
    assert conf["crypto_provider"] == [{"class_name": "org.apache.cassandra.security.JREProvider"}]
    for flag in ("user_defined_functions_enabled", "materialized_views_enabled", "sasi_indexes_enabled"):
        assert conf[flag] is True, flag


def test_yaml_directories_live_in_the_work_dir(cfg: NodeConfig) -> None:
    conf = yaml.safe_load(render_yaml(cfg))
    dirs = [*conf["data_file_directories"]]
    dirs += [conf[k] for k in ("commitlog_directory", "saved_caches_directory", "hints_directory")]
    assert all(Path(d).is_relative_to(cfg.workdir) for d in dirs), dirs


def test_yaml_auth_switch(cfg: NodeConfig) -> None:
    open_conf = yaml.safe_load(render_yaml(cfg))
    assert open_conf["authenticator"] == "AllowAllAuthenticator"
    auth_cfg = NodeConfig(workdir=cfg.workdir, native_port=1, storage_port=2, auth=True)
    auth_conf = yaml.safe_load(render_yaml(auth_cfg))
    assert auth_conf["authenticator"] == "PasswordAuthenticator"
    assert auth_conf["authorizer"] == "CassandraAuthorizer"


def test_jvm_command_shape(cfg: NodeConfig, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    cmd = jvm_command(cfg, lib, ["a.jar", "b.jar"], java="/opt/java")
    assert cmd[0] == "/opt/java"
    assert cmd[-1] == "org.apache.cassandra.service.CassandraDaemon"
    assert cmd[cmd.index("-cp") + 1] == f"{lib / 'a.jar'}:{lib / 'b.jar'}"
    assert "-Xms384M" in cmd and "-Xmx384M" in cmd
    assert f"-Dcassandra.config=file://{cfg.yaml_file}" in cmd
    assert f"-Dlogback.configurationFile={cfg.logback_file}" in cmd
    assert f"-Dcassandra.storagedir={cfg.data_root}" in cmd
    for flag in (*JDK17_MODULE_FLAGS, *FAST_START_PROPERTIES):
        assert flag in cmd, flag
    assert "-Dcassandra-foreground=yes" in cmd
    assert not any("AlwaysPreTouch" in a for a in cmd)
    assert not any(a.startswith(("-Dcassandra.jmx", "-Dcom.sun.management.jmxremote")) for a in cmd)
    assert not any(a.startswith("-XX:SharedArchiveFile") or "ArchiveClassesAtExit" in a for a in cmd)


def test_jvm_command_cds_modes(cfg: NodeConfig, tmp_path: Path) -> None:
    archive = tmp_path / "x.jsa"
    use = jvm_command(cfg, tmp_path, ["a.jar"], cds_archive=archive)
    dump = jvm_command(cfg, tmp_path, ["a.jar"], cds_archive=archive, cds_dump=True)
    assert f"-XX:SharedArchiveFile={archive}" in use
    assert f"-XX:ArchiveClassesAtExit={archive}" in dump
    assert "-Xshare:auto" in use and "-Xshare:auto" in dump


def test_cds_key_changes_with_jdk_classpath_and_flags() -> None:
    base = cds_key("17.0.15", ["a.jar", "b.jar"], ["-Xmx512M"])
    assert base == cds_key("17.0.15", ["a.jar", "b.jar"], ["-Xmx512M"])
    assert base != cds_key("17.0.16", ["a.jar", "b.jar"], ["-Xmx512M"])
    assert base != cds_key("17.0.15", ["a.jar", "c.jar"], ["-Xmx512M"])
    assert base != cds_key("17.0.15", ["a.jar", "b.jar"], ["-Xmx1G"])


def test_logback_is_well_formed_and_skips_caller_data() -> None:
    root = ET.fromstring(LOGBACK_XML)
    pattern = root.find("./appender/encoder/pattern")
    assert pattern is not None and pattern.text
    assert "%F" not in pattern.text and "%L" not in pattern.text  # caller data costs a stack walk per line


def test_free_port_is_bindable() -> None:
    port = free_port()
    assert 1024 <= port <= 65535


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment', 17),
        ('openjdk version "11.0.24" 2024-07-16', 11),
        ('java version "1.8.0_402"', 8),
        ('openjdk version "21" 2023-09-19', 21),
    ],
)
def test_java_major(output: str, major: int) -> None:
    assert java_major(output) == major


def test_java_major_unreadable() -> None:
    with pytest.raises(ServerError, match="Java version"):
        java_major("command not found")


# --- several nodes ------------------------------------------------------------------------------------


@pytest.fixture
def two_dcs(tmp_path: Path) -> list[NodeConfig]:
    dcs = parse_dcs("dc1:2,dc2:1", 3)
    return cluster_configs(tmp_path / "cluster", dcs, native_port=19042, storage_port=17000, heap="384M")


def test_a_lone_node_keeps_the_simple_snitch_and_bootstraps_nothing(cfg: NodeConfig) -> None:
    conf = yaml.safe_load(render_yaml(cfg))
    assert conf["endpoint_snitch"] == "SimpleSnitch"
    assert "auto_bootstrap" not in conf
    assert not any(a.startswith("-Dcassandra-rackdc.properties") for a in jvm_command(cfg, Path("/lib"), ["a.jar"]))


def test_cluster_nodes_listen_on_their_own_loopback_address_with_shared_ports(two_dcs: list[NodeConfig]) -> None:
    confs = [yaml.safe_load(render_yaml(c)) for c in two_dcs]
    assert [c["listen_address"] for c in confs] == ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
    assert [c["rpc_address"] for c in confs] == ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
    assert {c["native_transport_port"] for c in confs} == {19042}
    assert {c["storage_port"] for c in confs} == {17000}
    every_node = "127.0.0.1:17000,127.0.0.2:17000,127.0.0.3:17000"
    assert {c["seed_provider"][0]["parameters"][0]["seeds"] for c in confs} == {every_node}
    assert len({c.workdir for c in two_dcs}) == 3, "each node has its own directory"
    assert all(c["auto_bootstrap"] is False for c in confs)
    assert all(c["endpoint_snitch"] == "GossipingPropertyFileSnitch" for c in confs)


def test_each_node_gets_a_rackdc_file_naming_its_datacenter(two_dcs: list[NodeConfig]) -> None:
    assert [render_rackdc(c) for c in two_dcs] == [
        "dc=dc1\nrack=rack1\n",
        "dc=dc1\nrack=rack1\n",
        "dc=dc2\nrack=rack1\n",
    ]
    cmd = jvm_command(two_dcs[2], Path("/lib"), ["a.jar"])
    assert f"-Dcassandra-rackdc.properties=file://{two_dcs[2].rackdc_file}" in cmd


def test_every_node_skips_the_shadow_round_when_all_are_seeds(two_dcs: list[NodeConfig]) -> None:
    commands = [jvm_command(c, Path("/lib"), ["a.jar"]) for c in two_dcs]
    assert all(set(NON_SEED_PROPERTIES) <= set(cmd) for cmd in commands)


def test_with_one_seed_only_the_other_nodes_skip_the_shadow_round(tmp_path: Path) -> None:
    dcs = parse_dcs("dc1:2,dc2:1", 3)
    configs = cluster_configs(tmp_path, dcs, native_port=1, storage_port=7000, heap="1G", all_seeds=False)
    assert {render_yaml(c).count('seeds: "127.0.0.1:7000"') for c in configs} == {1}
    commands = [jvm_command(c, Path("/lib"), ["a.jar"]) for c in configs]
    assert [set(NON_SEED_PROPERTIES) <= set(cmd) for cmd in commands] == [False, True, True]


def test_tokens_are_even_per_datacenter_and_unique_in_the_cluster(two_dcs: list[NodeConfig]) -> None:
    assert [c.initial_token for c in two_dcs] == [-(2**63), 0, -(2**63) + 1]
    three = [
        c.initial_token
        for c in cluster_configs(Path("/x"), parse_dcs(None, 3), native_port=1, storage_port=2, heap="1G")
    ]
    assert three == [-9223372036854775808, -3074457345618258603, 3074457345618258602]
    nine = [
        c.initial_token
        for c in cluster_configs(Path("/x"), parse_dcs("a:4,b:3,c:2", 9), native_port=1, storage_port=2, heap="1G")
    ]
    assert len(set(nine)) == 9
    assert all(-(2**63) <= t < 2**63 for t in nine)


def test_tokens_render_as_plain_integers(two_dcs: list[NodeConfig]) -> None:
    assert yaml.safe_load(render_yaml(two_dcs[0]))["initial_token"] == -(2**63)


@pytest.mark.parametrize(
    ("spec", "nodes", "expected"),
    [
        (None, 3, (("datacenter1", 3),)),
        ("", 1, (("datacenter1", 1),)),
        ("dc1:2,dc2:1", 3, (("dc1", 2), ("dc2", 1))),
        (" east-1:1 , west_2:1 ", 2, (("east-1", 1), ("west_2", 1))),
    ],
)
def test_dc_specs_that_parse(spec: str | None, nodes: int, expected: tuple[tuple[str, int], ...]) -> None:
    assert parse_dcs(spec, nodes) == expected


@pytest.mark.parametrize(
    ("spec", "nodes", "message"),
    [
        (None, 0, "cassandra_nodes must be 1 to 9 (one per 127.0.0.x address), got 0"),
        (None, 10, "cassandra_nodes must be 1 to 9 (one per 127.0.0.x address), got 10"),
        ("dc1:2,dc2:2", 3, "cassandra_dcs 'dc1:2,dc2:2' adds up to 4 nodes but cassandra_nodes is 3"),
        ("dc1", 3, "cassandra_dcs 'dc1': 'dc1' is not NAME:COUNT"),
        ("dc.1:3", 3, "cassandra_dcs 'dc.1:3': 'dc.1:3' is not NAME:COUNT"),
        ("dc1:x", 3, "'dc1:x' is not NAME:COUNT"),
        ("dc1:-1,dc2:4", 3, "'dc1:-1' is not NAME:COUNT"),
        ("dc1:0,dc2:3", 3, "datacenter dc1 needs at least one node"),
        ("dc1:1,dc1:2", 3, "datacenter dc1 is named twice"),
    ],
)
def test_dc_specs_that_are_refused_in_one_line(spec: str | None, nodes: int, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_dcs(spec, nodes)
    assert message in str(err.value)
    assert "\n" not in str(err.value)
