"""Introspection on real servers: every object kind with its details, and snapshots that compare equal
exactly when the schema is the same (create + drop leaves no trace, a left-behind index is named).

Servers come from the harness pytest plugin (any provider); each test gets a database or keyspace
of its own.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from harness.schema.compare import compare
from harness.schema.contract import parse_contract
from harness.schema.diff import diff_models
from harness.schema.model import SchemaModel
from harness.servers.base import CassandraServer, PostgresServer
from harness.stores.cassandra.conn import connect
from harness.stores.cassandra.introspect import cassandra_keyspace_exists, introspect_cassandra
from harness.stores.postgres.introspect import introspect_postgres


def _new_database(server_url: str) -> tuple[str, str]:
    name = f"schema_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return name, str(psycopg.conninfo.make_conninfo(server_url, dbname=name))


def _drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def pg(pg_conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    """The plugin's autocommit connection to a fresh database of this test's own."""
    return pg_conn


@pytest.fixture
def server_url(postgres_server: PostgresServer) -> str:
    """Where extra databases of a test are created (and dropped by the test)."""
    return postgres_server.url


EVERY_KIND = """
CREATE EXTENSION citext;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN posint AS integer NOT NULL DEFAULT 1 CHECK (VALUE > 0);
CREATE TYPE pair AS (a integer, b text);
CREATE TABLE users (
    id serial PRIMARY KEY,
    email varchar(255) NOT NULL UNIQUE,
    name citext,
    m mood DEFAULT 'ok',
    amount numeric(12,2),
    created_at timestamptz NOT NULL DEFAULT now(),
    big bigint GENERATED ALWAYS AS IDENTITY,
    twice integer GENERATED ALWAYS AS (id * 2) STORED,
    p posint
);
CREATE TABLE posts (
    id bigserial PRIMARY KEY,
    user_id integer NOT NULL REFERENCES users(id) ON DELETE CASCADE ON UPDATE RESTRICT,
    body text CHECK (length(body) < 1000),
    tags text[]
);
CREATE INDEX posts_user_idx ON posts (user_id) WHERE body IS NOT NULL;
CREATE INDEX posts_lower_idx ON posts USING hash (lower(body));
CREATE SEQUENCE counter START 5 INCREMENT 2;
CREATE VIEW v_users AS SELECT id, email FROM users;
CREATE MATERIALIZED VIEW mv_posts AS SELECT user_id, count(*) AS n FROM posts GROUP BY user_id;
CREATE UNIQUE INDEX mv_posts_idx ON mv_posts (user_id);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.created_at = now(); RETURN NEW; END $$;
CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY);
"""


@pytest.mark.postgres
class TestPostgres:
    def test_every_object_kind_with_its_details(self, pg: psycopg.Connection[Any]) -> None:
        pg.execute(EVERY_KIND)
        m = introspect_postgres(pg)

        assert m.store == "postgres"
        assert m.table_names == ("posts", "users")  # schema_migrations excluded
        users = m.table("users")
        assert users is not None
        cols = {c.name: c for c in users.columns}
        assert [c.name for c in users.columns] == ["id", "email", "name", "m", "amount", "created_at", "big",
                                                   "twice", "p"]  # fmt: skip
        assert (cols["id"].type, cols["id"].nullable, cols["id"].default) == (
            "integer", False, "nextval('users_id_seq'::regclass)"
        )  # fmt: skip
        assert (cols["email"].type, cols["email"].nullable) == ("character varying(255)", False)
        assert cols["name"].type == "citext"
        assert (cols["m"].type, cols["m"].default) == ("mood", "'ok'::mood")
        assert cols["amount"].type == "numeric(12,2)"
        assert (cols["created_at"].type, cols["created_at"].default) == ("timestamp with time zone", "now()")
        assert cols["big"].identity == "always"
        assert (cols["twice"].generated, cols["twice"].default) == ("(id * 2)", None)
        assert cols["p"].type == "posint"

        cons = {c.name: c for c in users.constraints}
        assert (cons["users_pkey"].kind, cons["users_pkey"].columns) == ("primary_key", ("id",))
        assert (cons["users_email_key"].kind, cons["users_email_key"].definition) == ("unique", "UNIQUE (email)")
        posts = m.table("posts")
        assert posts is not None
        [fk] = posts.foreign_keys
        assert (fk.name, fk.columns, fk.ref_table, fk.ref_columns, fk.on_delete, fk.on_update) == (
            "posts_user_id_fkey", ("user_id",), "users", ("id",), "cascade", "restrict"
        )  # fmt: skip
        check = next(c for c in posts.constraints if c.kind == "check")
        assert check.definition == "CHECK (length(body) < 1000)"
        assert posts.column("tags") is not None and posts.column("tags").type == "text[]"  # type: ignore[union-attr]

        idx = {i.name: i for i in posts.indexes}
        assert (idx["posts_user_idx"].method, idx["posts_user_idx"].columns, idx["posts_user_idx"].predicate) == (
            "btree", ("user_id",), "body IS NOT NULL"
        )  # fmt: skip
        assert (idx["posts_lower_idx"].method, idx["posts_lower_idx"].columns) == ("hash", ("lower(body)",))
        assert idx["posts_pkey"].primary and idx["posts_pkey"].unique
        assert "USING btree (user_id) WHERE (body IS NOT NULL)" in idx["posts_user_idx"].definition
        assert {i.name for i in m.indexes} >= {"posts_user_idx", "users_email_key", "mv_posts_idx"}

        seqs = {s.name: s for s in m.sequences}
        assert set(seqs) == {"counter", "posts_id_seq", "users_big_seq", "users_id_seq"}
        assert (seqs["counter"].start, seqs["counter"].increment, seqs["counter"].owned_by) == (5, 2, None)
        assert (seqs["users_id_seq"].data_type, seqs["users_id_seq"].owned_by) == ("integer", "users.id")

        assert [(e.name, e.labels) for e in m.enums] == [("mood", ("sad", "ok", "happy"))]
        [domain] = m.domains
        assert (domain.name, domain.base_type, domain.nullable, domain.checks) == (
            "posint", "integer", False, ("CHECK (VALUE > 0)",)
        )  # fmt: skip
        assert [(t.name, t.fields) for t in m.user_types] == [("pair", (("a", "integer"), ("b", "text")))]
        [view] = m.views
        assert view.name == "v_users" and "FROM users" in view.definition
        assert [c.name for c in view.columns] == ["id", "email"]
        [mv] = m.materialized_views
        assert mv.name == "mv_posts" and [i.name for i in mv.indexes] == ["mv_posts_idx"]
        [fn] = m.functions  # citext's own functions belong to the extension, not listed
        assert (fn.name, fn.result, fn.language, fn.kind) == ("touch", "trigger", "plpgsql", "function")
        [trigger] = m.triggers
        assert (trigger.name, trigger.table) == ("users_touch", "users")
        assert "BEFORE UPDATE ON users" in trigger.definition
        assert {e.name for e in m.extensions} == {"citext", "plpgsql"}

    def test_snapshot_is_json_serialisable_and_deterministic(
        self, pg: psycopg.Connection[Any], server_url: str
    ) -> None:
        pg.execute(EVERY_KIND)
        first = introspect_postgres(pg)
        assert SchemaModel.from_json(json.loads(json.dumps(first.to_json()))) == first
        assert introspect_postgres(pg) == first
        name, url = _new_database(server_url)  # same DDL elsewhere: same model
        try:
            with psycopg.connect(url, autocommit=True) as other:
                other.execute(EVERY_KIND)
                assert introspect_postgres(other) == first
                assert hash(introspect_postgres(other)) == hash(first)
        finally:
            _drop_database(server_url, name)

    @pytest.mark.parametrize(
        ("create", "drop"),
        [
            ("CREATE INDEX users_email_idx ON users (email)", "DROP INDEX users_email_idx"),
            ("CREATE TABLE extra (id serial PRIMARY KEY, u integer REFERENCES users(id))", "DROP TABLE extra"),
            ("CREATE SEQUENCE s2", "DROP SEQUENCE s2"),
            ("ALTER TABLE users ALTER COLUMN email SET DEFAULT 'x'",
             "ALTER TABLE users ALTER COLUMN email DROP DEFAULT"),
            ("ALTER TABLE users ADD COLUMN age integer", "ALTER TABLE users DROP COLUMN age"),
            ("ALTER TABLE users ALTER COLUMN email SET NOT NULL", "ALTER TABLE users ALTER COLUMN email DROP NOT NULL"),
            ("ALTER TABLE users ADD CONSTRAINT email_len CHECK (length(email) > 3)",
             "ALTER TABLE users DROP CONSTRAINT email_len"),
            ("CREATE TYPE color AS ENUM ('red')", "DROP TYPE color"),
            ("CREATE VIEW v AS SELECT 1 AS one", "DROP VIEW v"),
            ("CREATE FUNCTION f(a integer) RETURNS integer LANGUAGE sql AS 'SELECT a'", "DROP FUNCTION f(integer)"),
            ("CREATE EXTENSION citext", "DROP EXTENSION citext"),
        ],
    )  # fmt: skip
    def test_create_then_drop_leaves_an_equal_snapshot(
        self, pg: psycopg.Connection[Any], create: str, drop: str
    ) -> None:
        pg.execute("CREATE TABLE users (id serial PRIMARY KEY, email text)")
        before = introspect_postgres(pg)
        pg.execute(create)
        during = introspect_postgres(pg)
        assert during != before
        assert diff_models(before, during), "the change must show in the diff"
        pg.execute(drop)
        after = introspect_postgres(pg)
        assert after == before
        assert diff_models(before, after) == []

    def test_diff_names_a_left_behind_index(self, pg: psycopg.Connection[Any]) -> None:
        pg.execute("CREATE TABLE users (id serial PRIMARY KEY, email text, age integer)")
        before = introspect_postgres(pg)
        pg.execute("CREATE INDEX users_email_idx ON users (email)")
        pg.execute("ALTER TABLE users ALTER COLUMN age TYPE bigint")
        pg.execute("DROP SEQUENCE users_id_seq CASCADE")
        assert diff_models(before, introspect_postgres(pg)) == [
            "column users.id: default nextval('users_id_seq'::regclass) -> (none)",
            "column users.age: type integer -> bigint",
            "index users_email_idx on users: present after, absent before",
            "sequence users_id_seq: absent after",
        ]

    def test_sees_uncommitted_ddl_and_keeps_the_callers_transaction(self, pg_url: str) -> None:
        with psycopg.connect(pg_url) as c:  # not autocommit: a transaction is open after the first statement
            c.execute("CREATE TABLE pending (id integer)")
            assert introspect_postgres(c).table_names == ("pending",)
            c.rollback()
            assert introspect_postgres(c).table_names == ()

    def test_other_schema_and_exclusions(self, pg: psycopg.Connection[Any]) -> None:
        pg.execute("CREATE SCHEMA app; CREATE TABLE app.things (id integer); CREATE TABLE ledger (v text)")
        assert introspect_postgres(pg, schema="app").table_names == ("things",)
        assert introspect_postgres(pg).table_names == ("ledger",)
        assert introspect_postgres(pg, exclude_tables=("ledger",)).table_names == ()

    def test_fast_with_many_tables(self, pg: psycopg.Connection[Any]) -> None:
        pg.execute(
            ";".join(
                f"CREATE TABLE t{i} (id serial PRIMARY KEY, name text NOT NULL UNIQUE, p integer REFERENCES t0(id),"
                f" at timestamptz DEFAULT now()); CREATE INDEX t{i}_at ON t{i} (at)"
                for i in range(100)
            )
        )
        introspect_postgres(pg)
        started = time.perf_counter()
        model = introspect_postgres(pg)
        elapsed = time.perf_counter() - started
        assert len(model.tables) == 100 and len(model.sequences) == 100
        assert elapsed < 2.0, f"introspecting 100 tables took {elapsed:.2f}s"

    def test_contract_against_a_real_schema(self, pg: psycopg.Connection[Any]) -> None:
        pg.execute(
            """
            CREATE TABLE users (id serial PRIMARY KEY, email varchar(255) NOT NULL, created_at timestamptz);
            CREATE TABLE groups (id serial PRIMARY KEY, name text);
            CREATE TABLE groups_users_user (groups_id integer REFERENCES groups(id), users_id integer);
            """
        )
        contract = parse_contract(
            "```mermaid\nclassDiagram\n"
            "class PG_Users {\n+int id\n+string email\n+timestamp created_at\n}\n"
            "class PG_Groups {\n+int id\n+string name\n}\n"
            "class PG_GroupsUsersUser {\n+int groups_id\n+int users_id\n}\n"
            'PG_Users "1" --> "many" PG_GroupsUsersUser : participates\n'
            'PG_Groups "1" --> "many" PG_GroupsUsersUser : contains\n```\n'
        )
        findings = compare(contract, introspect_postgres(pg), None)
        assert [f.message for f in findings] == [
            'PG groups_users_user -> users: no foreign key (relation "participates")'
        ]


# --- Cassandra ------------------------------------------------------------------------------------


@pytest.fixture
def schema_cassandra(cassandra_server: CassandraServer, cassandra_keyspace: str) -> Iterator[Any]:
    """A session on no keyspace; the test creates ``cassandra_keyspace`` itself (the plugin drops it)."""
    cluster, session = connect(cassandra_server)
    try:
        yield session
    finally:
        cluster.shutdown()


@pytest.mark.cassandra
class TestCassandra:
    def test_every_object_kind_and_a_create_drop_cycle(self, schema_cassandra: Any, cassandra_keyspace: str) -> None:
        s = schema_cassandra
        ks = cassandra_keyspace
        assert not cassandra_keyspace_exists(s, ks)
        assert introspect_cassandra(s, ks) == SchemaModel("cassandra")
        s.execute(f"CREATE KEYSPACE {ks} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}")
        assert cassandra_keyspace_exists(s, ks)
        s.execute(f"CREATE TYPE {ks}.address (street text, zip int)")
        s.execute(
            f"CREATE TABLE {ks}.events (user_id uuid, day date, at timestamp, kind text static, body text,"
            f" amount decimal, home frozen<address>, PRIMARY KEY ((user_id, day), at))"
            f" WITH CLUSTERING ORDER BY (at DESC) AND default_time_to_live = 3600 AND gc_grace_seconds = 60"
            f" AND compaction = {{'class': 'LeveledCompactionStrategy'}}"
        )
        s.execute(f"CREATE TABLE {ks}.schema_migrations (version text PRIMARY KEY)")
        before = introspect_cassandra(s, ks)

        assert before.table_names == ("events",)
        events = before.table("events")
        assert events is not None
        assert [(c.name, c.kind, c.position, c.clustering_order, c.type) for c in events.columns] == [
            ("user_id", "partition_key", 0, None, "uuid"),
            ("day", "partition_key", 1, None, "date"),
            ("at", "clustering", 0, "desc", "timestamp"),
            ("kind", "static", -1, None, "text"),
            ("amount", "regular", -1, None, "decimal"),
            ("body", "regular", -1, None, "text"),
            ("home", "regular", -1, None, "frozen<address>"),
        ]
        assert events.primary_key == ("user_id", "day")
        opts = dict(events.options)
        assert opts["default_time_to_live"] == "3600" and opts["gc_grace_seconds"] == "60"
        assert opts["compaction.class"].endswith("LeveledCompactionStrategy")
        assert [(t.name, t.fields) for t in before.user_types] == [("address", (("street", "text"), ("zip", "int")))]
        assert dict(before.options)["replication.replication_factor"] == "1"
        assert SchemaModel.from_json(json.loads(json.dumps(before.to_json()))) == before

        s.execute(f"CREATE INDEX events_body_idx ON {ks}.events (body)")
        s.execute(f"CREATE TABLE {ks}.by_kind (kind text, at timestamp, body text, PRIMARY KEY (kind, at))")
        s.execute(
            f"CREATE MATERIALIZED VIEW {ks}.by_body AS SELECT * FROM {ks}.by_kind"
            f" WHERE body IS NOT NULL AND kind IS NOT NULL AND at IS NOT NULL PRIMARY KEY (body, kind, at)"
        )
        s.execute(f"ALTER TABLE {ks}.events WITH gc_grace_seconds = 120")
        during = introspect_cassandra(s, ks)
        [mv] = during.materialized_views
        assert (mv.name, mv.base_table, [c.name for c in mv.columns]) == ("by_body", "by_kind", ["body", "kind", "at"])
        assert "body IS NOT NULL" in mv.definition
        diff = diff_models(before, during)
        assert "index events_body_idx on events: present after, absent before" in diff
        assert "table events option gc_grace_seconds: 60 -> 120" in diff
        [index] = during.table("events").indexes  # type: ignore[union-attr]
        assert index.columns == ("body",)

        s.execute(f"DROP MATERIALIZED VIEW {ks}.by_body")
        s.execute(f"DROP TABLE {ks}.by_kind")
        s.execute(f"DROP INDEX {ks}.events_body_idx")
        s.execute(f"ALTER TABLE {ks}.events WITH gc_grace_seconds = 60")
        assert diff_models(before, introspect_cassandra(s, ks)) == []
        s.execute(f"DROP KEYSPACE {ks}")
