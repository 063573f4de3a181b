"""The diagram of real schemas: read back as a contract, it accepts the schema it was drawn from.

This project's migrations are applied to a database and a keyspace of the test's own (plugin fixtures),
both are introspected as the checks do, and the diagram is compared with them and with the user's
diagram in migrations/README.md. A second pair of tests draws every column type the servers print.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import psycopg
import pytest

from harness import applier
from harness.checks.target import cassandra_settings
from harness.config import CassandraSettings, PostgresSettings
from harness.diagram import render_diagram
from harness.migrations import discover
from harness.registry import factory
from harness.schema import types as schema_types
from harness.schema.compare import compare
from harness.schema.contract import Contract, load_contract, parse_contract
from harness.schema.model import SchemaModel
from harness.servers.base import CassandraServer
from harness.stores.base import Store
from harness.stores.cassandra.introspect import introspect_cassandra
from harness.stores.postgres.introspect import introspect_postgres
from tests.db.applier_support import REPO


def _migrated(settings: PostgresSettings | CassandraSettings, store: str) -> SchemaModel:
    """Apply this project's migrations of ``store`` and snapshot the result as the checks do."""
    target: Store = factory(store)(settings)
    try:
        applier.up(target, discover(REPO / "migrations" / store, store), lambda _m: None)
        return target.snapshot()
    finally:
        target.close()


@pytest.fixture
def models(pg_url: str, cassandra_server: CassandraServer, cassandra_keyspace: str) -> tuple[SchemaModel, SchemaModel]:
    pg = _migrated(PostgresSettings(url=pg_url), "postgres")
    cs = _migrated(cassandra_settings(cassandra_server, cassandra_keyspace), "cassandra")
    return pg, cs


@pytest.mark.postgres
@pytest.mark.cassandra
def test_the_diagram_of_this_projects_migrations_is_met_by_them(models: tuple[SchemaModel, SchemaModel]) -> None:
    pg, cs = models
    assert pg.tables and cs.tables
    contract = parse_contract(render_diagram(pg, cs), path="diagram.md")
    assert compare(contract, pg, cs) == []


def _shape(contract: Contract) -> dict[str, dict[str, frozenset[str]]]:
    """Class -> member -> the type's families: spellings of one kind (text/string, timestamptz/timestamp) agree."""
    return {
        name: {m.name: schema_types.contract_families(m.type) or frozenset({m.type}) for m in cls.members}
        for name, cls in contract.classes.items()
    }


@pytest.mark.postgres
@pytest.mark.cassandra
def test_the_diagram_has_the_classes_of_the_users_diagram(models: tuple[SchemaModel, SchemaModel]) -> None:
    pg, cs = models
    drawn = parse_contract(render_diagram(pg, cs))
    user = load_contract(REPO / "migrations" / "README.md")
    assert list(drawn.classes) != [] and sorted(drawn.classes) == sorted(user.classes)
    assert _shape(drawn) == _shape(user)
    assert Counter((r.source, r.target) for r in drawn.relations) == Counter(
        (r.source, r.target) for r in user.relations
    )
    assert drawn.links == ()  # no database records a link across stores: the user's diagram has them by hand
    # The user's exact spellings are accepted by the same schema (what verify checks).
    assert [f for f in compare(user, pg, cs) if f.level == "error"] == []


EVERY_PG_TYPE = """
CREATE EXTENSION citext;
CREATE EXTENSION hstore;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE TYPE pair AS (a integer, b text);
CREATE TABLE owners (id serial PRIMARY KEY, code char(3) NOT NULL, UNIQUE (id, code));
CREATE TABLE "everything" (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    i integer, b bigint, s smallint, t text, v varchar(255), vv varchar, c char(3), qc "char", ci citext,
    tz timestamptz, ts timestamp(3), d date, tm time, ttz time(6) with time zone, iv interval,
    ivy interval year to month, u uuid, n numeric(12,2), nn numeric, r real, dp double precision, bo boolean,
    j json, jb jsonb, by bytea, ip inet, net cidr, mac macaddr, m money, bits bit(8), vbits bit varying(5),
    doc tsvector, x xml, h hstore, rng int4range, pt point,
    tags text[], ints integer[], grid integer[][], names varchar(10)[], amounts numeric(5,2)[], docs jsonb[],
    moods mood[], vbs bit varying[], e mood, p posint, pr pair,
    owner_id integer REFERENCES owners (id),
    owner_code char(3),
    parent_id bigint REFERENCES "everything" (id),
    FOREIGN KEY (owner_id, owner_code) REFERENCES owners (id, code)
);
CREATE TABLE profiles (owner_id integer PRIMARY KEY REFERENCES owners (id), bio text);
"""


@pytest.mark.postgres
def test_every_postgres_column_type_round_trips(pg_conn: psycopg.Connection[Any]) -> None:
    pg_conn.execute(EVERY_PG_TYPE)
    model = introspect_postgres(pg_conn)
    diagram = render_diagram(model, None)
    contract = parse_contract(diagram)
    assert compare(contract, model, None) == []
    everything = contract.classes["PG_Everything"]
    table = model.table("everything")
    assert (
        table is not None
        and [m.name for m in everything.members] == list(table.column_names)
        and len(table.columns) == 51
    )
    types = {m.name: m.type for m in everything.members}
    assert (types["tags"], types["grid"], types["h"], types["tz"], types["e"]) == (
        "List~text~", "List~int~", "Map~string,string~", "timestamptz", "mood"
    )  # fmt: skip
    relations = sorted((r.source, r.target, r.target_mult, r.label) for r in contract.relations)
    assert relations == [
        ("PG_Everything", "PG_Everything", "many", "parent_id"),
        ("PG_Owners", "PG_Everything", "many", "owner_id"),
        ("PG_Owners", "PG_Everything", "many", "owner_id, owner_code"),
        ("PG_Owners", "PG_Profiles", "0..1", "owner_id"),
    ]


EVERY_CASSANDRA_TYPE = [
    "CREATE TYPE address (street text, zip int)",
    "CREATE TABLE everything (id uuid, day date, at timestamp, seq int, kind text static,"
    " a ascii, b bigint, bl blob, bo boolean, de decimal, do double, du duration, f float, ip inet, i int,"
    " sm smallint, t text, tm time, tu timeuuid, ti tinyint, v varchar, vi varint,"
    " tags list<text>, ids set<uuid>, counts map<text, int>, fl frozen<list<int>>, fs frozen<set<timeuuid>>,"
    " nested map<text, frozen<list<int>>>, lm list<frozen<map<text, int>>>, tup tuple<int, text>,"
    " tup2 tuple<int, frozen<list<text>>>, home frozen<address>, home2 address, vec vector<float, 3>,"
    " byaddr map<frozen<address>, frozen<set<ascii>>>,"
    " PRIMARY KEY ((id, day), at, seq)) WITH CLUSTERING ORDER BY (at DESC, seq ASC)",
    "CREATE TABLE page_views (page text PRIMARY KEY, views counter)",
]


@pytest.mark.cassandra
def test_every_cassandra_column_type_round_trips(cassandra_session: Any, cassandra_keyspace: str) -> None:
    for statement in EVERY_CASSANDRA_TYPE:
        cassandra_session.execute(statement)
    model = introspect_cassandra(cassandra_session, cassandra_keyspace)
    diagram = render_diagram(None, model)
    contract = parse_contract(diagram)
    assert compare(contract, None, model) == []
    types = {m.name: m.type for m in contract.classes["C_Everything"].members}
    assert len(types) == 35
    assert (types["counts"], types["nested"], types["tup"], types["home"], types["vec"]) == (
        "Map~text,int~", "Map~text,List~int~~", "tuple~int,text~", "address", "vector~float,3~"
    )  # fmt: skip
    assert "%% everything: partition key (id, day); clustering at DESC, seq ASC; static kind" in diagram
