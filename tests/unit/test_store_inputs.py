"""Values from the environment that end up inside CQL or SQL are validated or quoted first."""

from __future__ import annotations

import pytest

from harness.errors import ConfigError
from harness.stores.cassandra.keyspace import Replication, quote
from harness.stores.postgres.url import search_path_entries, split_dbmate_url


@pytest.mark.parametrize(
    ("text", "cql"),
    [
        ("SimpleStrategy:3", "{'class': 'SimpleStrategy', 'replication_factor': 3}"),
        ("NetworkTopologyStrategy:dc1=3,dc-2.east=1", "{'class': 'NetworkTopologyStrategy', 'dc1': 3, 'dc-2.east': 1}"),
    ],
)
def test_a_valid_replication_becomes_its_cql_map(text: str, cql: str) -> None:
    assert Replication.parse(text).cql() == cql


@pytest.mark.parametrize(
    "text",
    [
        "SimpleStrategy:0",
        "SimpleStrategy:-1",
        "SimpleStrategy:101",
        "NetworkTopologyStrategy:dc1=0",
        "NetworkTopologyStrategy:dc1'}; DROP KEYSPACE x; --=1",
        "NetworkTopologyStrategy:dc 1=3",
        "NetworkTopologyStrategy:",
        "EverywhereStrategy:1",
    ],
)
def test_replication_factors_below_one_and_odd_datacenter_names_are_refused(text: str) -> None:
    with pytest.raises(ConfigError, match="not understood"):
        Replication.parse(text)


@pytest.mark.parametrize("name", ['ks"; DROP KEYSPACE system_auth; --', "", "a" * 49, "with space"])
def test_a_keyspace_name_outside_cassandras_rule_is_refused(name: str) -> None:
    with pytest.raises(ConfigError, match="keyspace name"):
        quote(name)


def test_dbmate_search_path_is_taken_out_of_the_url_and_its_names_unquoted() -> None:
    url, search_path = split_dbmate_url("postgresql://u@h/db?sslmode=disable&search_path=app,%22My+Schema%22")
    assert url == "postgresql://u@h/db?sslmode=disable"
    assert search_path is not None and search_path_entries(search_path) == ["app", "My Schema"]
