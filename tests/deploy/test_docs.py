"""The values table of README.md stays in step with values.schema.json and values.yaml."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from .chart import ROOT, default_values, schema

pytestmark = pytest.mark.deploy

README = ROOT / "README.md"
VALUES_HEADING = "### Values"


def documents() -> list[Path]:
    """README.md carries the deployment sections, values table included."""
    return [README]


ROW = re.compile(r"^\| `(?P<key>[A-Za-z0-9_.]+)` \| (?P<type>\w+) \| (?P<default>[^|]*) \| (?P<desc>.*) \|$")


def schema_leaves() -> dict[str, dict[str, Any]]:
    """Dotted key -> schema node for every value a user sets (Helm's `global` excluded)."""
    root = schema()
    definitions = root.get("definitions", {})

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        if "$ref" in node:
            target = dict(definitions[node["$ref"].rsplit("/", 1)[1]])
            target.update({k: v for k, v in node.items() if k != "$ref"})
            return resolve(target)
        return node

    leaves: dict[str, dict[str, Any]] = {}

    def walk(node: dict[str, Any], prefix: str) -> None:
        node = resolve(node)
        if "properties" not in node:
            leaves[prefix] = node
            return
        for key, child in node["properties"].items():
            if prefix or key != "global":
                walk(child, f"{prefix}.{key}" if prefix else key)

    walk(root, "")
    return leaves


def table_rows(doc: Path) -> dict[str, dict[str, str]]:
    text = doc.read_text(encoding="utf-8")
    assert VALUES_HEADING in text, f"{doc} has no '{VALUES_HEADING}' section"
    section = text.split(VALUES_HEADING, 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = ROW.match(line.strip())
        if match:
            assert match["key"] not in rows, f"{match['key']} is listed twice"
            rows[match["key"]] = match.groupdict()
    return rows


def lookup(values: dict[str, Any], dotted: str) -> Any:
    node: Any = values
    for part in dotted.split("."):
        node = node[part]
    return node


def doc_default(value: Any) -> str:
    if isinstance(value, str):
        return '`""`' if value == "" else f"`{value}`"
    return f"`{json.dumps(value)}`"


@pytest.mark.parametrize("doc", documents(), ids=lambda p: p.name)
def test_table_lists_exactly_the_schema_keys(doc: Path) -> None:
    documented, schema_keys = set(table_rows(doc)), set(schema_leaves())
    assert documented == schema_keys, (
        f"{doc.name}: undocumented: {sorted(schema_keys - documented)}; "
        f"not in the schema: {sorted(documented - schema_keys)}"
    )


@pytest.mark.parametrize("doc", documents(), ids=lambda p: p.name)
def test_table_types_and_defaults_match(doc: Path) -> None:
    leaves, values = schema_leaves(), default_values()
    for key, row in table_rows(doc).items():
        assert row["type"] == leaves[key]["type"], key
        assert row["default"].strip() == doc_default(lookup(values, key)), key
        assert row["desc"].strip(), f"{key} has no description"


def test_every_values_yaml_key_is_in_the_schema() -> None:
    leaves = schema_leaves()

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict) and node and f"{prefix}" not in leaves:
            for key, child in node.items():
                walk(child, f"{prefix}.{key}" if prefix else key)
        else:
            assert prefix in leaves, f"values.yaml key {prefix} is not in values.schema.json"

    walk(default_values(), "")


@pytest.mark.parametrize("doc", documents(), ids=lambda p: p.name)
def test_seed_troubleshooting_line_is_kept(doc: Path) -> None:
    assert "kubectl logs job/migrations-postgres-migrations" in doc.read_text(encoding="utf-8")


def test_the_docs_say_where_credentials_live() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Configuring", 1)[1].split("### Values", 1)[0]
    assert "sh.helm.release.v1" in section, "Helm's release Secret keeps every value"
    assert "a failed run leaves it" in section, "the hook Secret outlives a failed run"
    assert "existingSecret" in section and "recommended" in section
    values_yaml = (ROOT / "helm" / "migrations" / "values.yaml").read_text(encoding="utf-8")
    assert "release Secret" in values_yaml and "prefer existingSecret" in values_yaml
