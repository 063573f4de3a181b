"""The pure parts of recovery and agreement: which nodes keep a cluster from agreeing, and which PostgreSQL
sections without a transaction can be read back from the catalog."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.migrations import Section
from harness.stores.cassandra.agreement import NodeView, disagreement, down_note
from harness.stores.postgres.recovery import concurrent_index

A, B = "5b6962dd-3f90-4c93-8f61-eabfa4a803e2", "0f0e0d0c-0b0a-0908-0706-050403020100"


def test_nodes_that_report_one_version_agree() -> None:
    assert disagreement([NodeView("127.0.0.1", "dc1", A), NodeView("127.0.0.3", "dc2", A)]) == ""


def test_a_silent_node_and_a_lagging_node_are_named() -> None:
    text = disagreement(
        [NodeView("127.0.0.1", "dc1", A), NodeView("127.0.0.2", "dc1", A), NodeView("127.0.0.3", "dc2", None)]
    )
    assert text == "127.0.0.3 (dc2) answered when this run began but does not answer now"
    lagging = disagreement([NodeView("127.0.0.1", "dc1", A), NodeView("127.0.0.2", "dc1", A),
                            NodeView("127.0.0.3", "dc2", B)])  # fmt: skip
    assert lagging == f"127.0.0.3 (dc2) still has schema version {B[:8]} (the others {A[:8]})"


def test_the_down_note_names_every_node_once() -> None:
    one = down_note([NodeView("127.0.0.2", "dc1", None)])
    two = down_note([NodeView("127.0.0.2", "dc1", None), NodeView("127.0.0.3", "dc2", None)])
    assert "127.0.0.2 (dc1) does not answer" in one
    assert "127.0.0.2 (dc1), 127.0.0.3 (dc2) do not answer" in two


def section(text: str) -> Section:
    return Section(text=text, line=1, options={"transaction": "false"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CREATE INDEX CONCURRENTLY a_x ON a (x);\n", ("a_x", "a")),
        ("-- build it online\ncreate unique index concurrently if not exists \"A X\" on public.a using btree (x);",
         ("A X", "public.a")),
        ("CREATE INDEX CONCURRENTLY a_x ON ONLY a(x)", ("a_x", "a")),
    ],
)  # fmt: skip
def test_a_lone_concurrent_index_build_is_recognised(text: str, expected: tuple[str, str]) -> None:
    assert concurrent_index(section(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "CREATE INDEX CONCURRENTLY a_x ON a (x);\nCREATE INDEX CONCURRENTLY a_y ON a (y);",
        "CREATE INDEX a_x ON a (x);",
        "INSERT INTO t VALUES (1);",
        "CREATE INDEX CONCURRENTLY ON a (x);",
    ],
)
def test_anything_else_is_not_read_back(text: str) -> None:
    assert concurrent_index(section(text)) is None


def test_sections_are_given_as_parsed(tmp_path: Path) -> None:
    from harness.migrations import discover

    (tmp_path / "001_i.sql").write_text(
        "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY a_x ON a (x);\n-- migrate:down\n"
    )
    (migration,) = discover(tmp_path, "postgres")
    assert concurrent_index(migration.ups[0]) == ("a_x", "a")
