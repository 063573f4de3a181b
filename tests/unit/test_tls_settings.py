"""Cassandra's TLS settings: from the environment or a config file to the driver's SSL context."""

from __future__ import annotations

import ssl
from pathlib import Path

from harness.config import load_settings
from harness.servers.base import CassandraServer
from harness.stores.cassandra.conn import endpoint, ssl_context


def test_tls_settings_come_from_the_environment(tmp_path: Path) -> None:
    env = {
        "CASSANDRA_KEYSPACE": "app",
        "CASSANDRA_SSL_CA": "/etc/ssl/db/ca.crt",
        "CASSANDRA_SSL_CERT": "/etc/ssl/db/client.crt",
        "CASSANDRA_SSL_KEY": "/etc/ssl/db/client.key",
        "CASSANDRA_SSL_HOSTNAME_CHECK": "false",
        "CASSANDRA_SCHEMA_AGREEMENT_TIMEOUT": "12.5",
    }
    settings = load_settings(env=env, cwd=tmp_path, detect_layout=False).cassandra()
    assert (settings.ssl_ca, settings.ssl_cert, settings.ssl_key) == (
        "/etc/ssl/db/ca.crt", "/etc/ssl/db/client.crt", "/etc/ssl/db/client.key",
    )  # fmt: skip
    assert settings.ssl_hostname_check is False and settings.agreement_timeout == 12.5
    server = endpoint(settings)
    assert server.tls and server.ssl_ca == "/etc/ssl/db/ca.crt" and not server.ssl_hostname_check


def test_a_config_file_names_the_ca_relative_to_itself(tmp_path: Path) -> None:
    (tmp_path / "harness.toml").write_text('cassandra_ssl_ca = "certs/ca.crt"\n')
    settings = load_settings(env={}, cwd=tmp_path, detect_layout=False).cassandra()
    assert settings.ssl_ca == str(tmp_path / "certs" / "ca.crt")
    assert settings.ssl_hostname_check is True, "the hostname check is on unless turned off"


def test_without_tls_settings_the_connection_is_plain_text(tmp_path: Path) -> None:
    settings = load_settings(env={}, cwd=tmp_path, detect_layout=False).cassandra()
    assert not endpoint(settings).tls and ssl_context(endpoint(settings)) is None


def test_the_ssl_context_checks_certificates_and_by_default_the_hostname() -> None:
    checked = ssl_context(CassandraServer(("127.0.0.1",), ssl=True))
    assert checked is not None and checked.check_hostname and checked.verify_mode == ssl.CERT_REQUIRED
    unchecked = ssl_context(CassandraServer(("127.0.0.1",), ssl=True, ssl_hostname_check=False))
    assert unchecked is not None and not unchecked.check_hostname and unchecked.verify_mode == ssl.CERT_REQUIRED
