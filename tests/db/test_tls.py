"""The applier over TLS on servers that accept nothing else, with certificates made now (openssl; keytool for
Cassandra's key stores): PostgreSQL with sslmode=verify-full, Cassandra with a CA, a client certificate and
PasswordAuthenticator. A wrong CA, a plain-text client or a missing client certificate is one clear line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
import pytest

from harness.servers.base import CassandraServer, PostgresServer
from harness.servers.cassandra_local import LocalCassandra
from harness.servers.certs import Certificates, make_certificates
from harness.servers.local_postgres import LocalPostgres
from tests.recovery_support import Run, cli, write

MIGRATION = "-- migrate:up\nCREATE TABLE t (id int PRIMARY KEY);\n-- migrate:down\nDROP TABLE t;\n"


@pytest.fixture(scope="module")
def tls_postgres() -> Iterator[PostgresServer]:
    with LocalPostgres(tls=True) as server:
        yield server


@pytest.fixture(scope="module")
def tls_cassandra() -> Iterator[CassandraServer]:
    with LocalCassandra(tls=True, client_auth=True, auth=True) as server:
        yield server


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("other-ca"), name="some other CA")


def with_query(url: str, database: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {**dict(parse_qsl(parts.query)), **changes}
    return urlunsplit(parts._replace(path=f"/{database}", query=urlencode(query)))


def one_error(run: Run) -> str:
    errors = [line for line in run.err.splitlines() if line.strip()]
    assert run.code == 2 and len(errors) == 1 and errors[0].startswith("Error: "), run
    return errors[0]


@pytest.mark.postgres
def test_the_postgres_applier_migrates_over_verify_full_tls(tls_postgres, tmp_path):
    write(tmp_path, "001_t.sql", MIGRATION)
    url = with_query(tls_postgres.url, "app")
    assert "sslmode=verify-full" in url
    run = cli({"DATABASE_URL": url, "DBMATE_MIGRATIONS_DIR": str(tmp_path)}, "postgres", "up")
    assert run.code == 0 and "Applied: 001_t.sql" in run.out, run
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone() == (True,)
        assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone() == (1,)


@pytest.mark.postgres
def test_libpqs_own_variables_carry_the_tls_settings_as_in_the_jobs(tls_postgres, tmp_path):
    write(tmp_path, "001_t.sql", MIGRATION)
    parts = urlsplit(tls_postgres.url)
    ca = dict(parse_qsl(parts.query))["sslrootcert"]
    env = {
        "DATABASE_URL": urlunsplit(parts._replace(path="/jobs", query="")),
        "PGSSLMODE": "verify-full",
        "PGSSLROOTCERT": ca,
        "DBMATE_MIGRATIONS_DIR": str(tmp_path),
    }
    assert cli(env, "postgres", "up").code == 0


@pytest.mark.postgres
def test_a_wrong_ca_is_one_clear_line(tls_postgres, other_ca, tmp_path):
    url = with_query(tls_postgres.url, "postgres", sslrootcert=str(other_ca.ca))
    line = one_error(cli({"DATABASE_URL": url, "DBMATE_MIGRATIONS_DIR": str(tmp_path)}, "postgres", "status"))
    assert "certificate verify failed" in line and "sslrootcert" in line
    assert tls_postgres.url.split("@")[0].split(":")[-1] not in line, "no password in the message"


@pytest.mark.postgres
def test_a_plain_text_client_is_refused_in_one_clear_line(tls_postgres, tmp_path):
    url = with_query(tls_postgres.url, "postgres", sslmode="disable")
    line = one_error(cli({"DATABASE_URL": url, "DBMATE_MIGRATIONS_DIR": str(tmp_path)}, "postgres", "status"))
    assert "accepts TLS connections only" in line


def cassandra_env(server: CassandraServer, keyspace: str, directory: Path, **changes: str) -> dict[str, str]:
    env = {
        "CASSANDRA_HOSTS": "127.0.0.1",
        "CASSANDRA_PORT": str(server.port),
        "CASSANDRA_KEYSPACE": keyspace,
        "CASSANDRA_USERNAME": server.username or "",
        "CASSANDRA_PASSWORD": server.password or "",
        "CASSANDRA_SSL_CA": server.ssl_ca or "",
        "CASSANDRA_SSL_CERT": server.ssl_cert or "",
        "CASSANDRA_SSL_KEY": server.ssl_key or "",
        "HARNESS_CASSANDRA_MIGRATIONS": str(directory),
    }
    return {**env, **changes}


@pytest.mark.cassandra
def test_the_cassandra_applier_migrates_over_tls_with_a_client_certificate_and_a_password(tls_cassandra, tmp_path):
    write(tmp_path, "001_t.cql", "CREATE TABLE t (id int PRIMARY KEY);\n")
    env = cassandra_env(tls_cassandra, "tls_app", tmp_path)
    up = cli(env, "cassandra", "up")
    assert up.code == 0 and "Applied: 001_t.cql" in up.out, up
    status = cli(env, "cassandra", "status")
    assert status.code == 0 and "[X] 001_t.cql" in status.out, status


@pytest.mark.cassandra
@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"CASSANDRA_SSL_CA": "OTHER"}, "TLS: the node's certificate is not accepted"),
        ({"CASSANDRA_SSL_CA": "", "CASSANDRA_SSL_CERT": "", "CASSANDRA_SSL_KEY": ""}, "it may accept TLS only"),
        ({"CASSANDRA_SSL_CERT": "", "CASSANDRA_SSL_KEY": ""}, "does the node require a client certificate?"),
        ({"CASSANDRA_PASSWORD": "not-the-password"}, "authentication failed"),
    ],
    ids=["wrong-ca", "plain-text", "no-client-certificate", "wrong-password"],
)
def test_a_cassandra_connection_that_cannot_work_is_one_clear_line(
    tls_cassandra, other_ca, tmp_path, changes, expected
):
    if changes.get("CASSANDRA_SSL_CA") == "OTHER":
        changes = {**changes, "CASSANDRA_SSL_CA": str(other_ca.ca)}
    line = one_error(cli(cassandra_env(tls_cassandra, "tls_app", tmp_path, **changes), "cassandra", "status"))
    assert expected in line, line
    assert "not-the-password" not in line
