"""Guards found in review: no recovery judged against edited text, a timed-out statement counted as maybe done,
TLS files named when they cannot be used, and no endless wait from a NaN setting."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from cassandra import OperationTimedOut, WriteTimeout
from cassandra.cluster import NoHostAvailable
from cassandra.protocol import SyntaxException

from harness import applier
from harness.applier import PlanError
from harness.config import load_settings
from harness.errors import ConfigError
from harness.migrations import Migration, parse_migration
from harness.servers.base import CassandraServer
from harness.stores.base import FAILED, AppliedMigration
from harness.stores.cassandra.conn import ssl_context
from harness.stores.cassandra.errors import outcome_unknown


def migration(body: str) -> Migration:
    text = f"-- migrate:up\n{body}\n-- migrate:down\nDROP TABLE a;\n"
    return parse_migration(Path("1_a.cql"), "cassandra", text.encode())


def stopped_at_2(ran: Migration, *, in_flight: bool) -> AppliedMigration:
    return AppliedMigration(
        ran.version, checksum=ran.checksum, filename=ran.filename, status=FAILED, done=1,
        done_hash=ran.progress_hash(1), interrupted=True, in_flight=in_flight,
    )  # fmt: skip


RAN = migration("CREATE TABLE a (id int PRIMARY KEY);\nALTER TABLE a ADD x int;")
EDITED = migration("CREATE TABLE a (id int PRIMARY KEY);\nALTER TABLE a ADD y int;")


def test_a_step_running_when_the_applier_died_is_not_judged_against_an_edited_file() -> None:
    with pytest.raises(PlanError, match=r"statement 2 was running when the applier stopped, and the file has changed"):
        applier._check_resumable(EDITED, stopped_at_2(RAN, in_flight=True), retry=False)


def test_the_same_file_and_a_step_that_never_started_may_go_on() -> None:
    applier._check_resumable(RAN, stopped_at_2(RAN, in_flight=True), retry=False)
    applier._check_resumable(EDITED, stopped_at_2(RAN, in_flight=False), retry=False)


def test_a_timed_out_statement_may_have_taken_effect_a_refused_one_did_not() -> None:
    assert outcome_unknown(OperationTimedOut("no answer in 30s"))
    assert outcome_unknown(WriteTimeout("coordinator timeout", write_type=0))
    assert outcome_unknown(NoHostAvailable("all tried", {"127.0.0.1:9042": OperationTimedOut("late")}))
    assert not outcome_unknown(SyntaxException(0x2000, "line 1:0 no viable alternative", None))
    assert not outcome_unknown(NoHostAvailable("all tried", {"127.0.0.1:9042": ConnectionRefusedError("refused")}))


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0"])
def test_an_agreement_wait_must_be_a_finite_positive_number(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match="CASSANDRA_SCHEMA_AGREEMENT_TIMEOUT must be a finite number"):
        load_settings(env={"CASSANDRA_SCHEMA_AGREEMENT_TIMEOUT": value}, cwd=tmp_path, detect_layout=False).cassandra()


def test_an_unreadable_ca_names_its_setting(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not a certificate\n")
    with pytest.raises(ConfigError, match=re.escape(f"CASSANDRA_SSL_CA={ca}: cannot be read")):
        ssl_context(CassandraServer(("127.0.0.1",), ssl=True, ssl_ca=str(ca)))
    with pytest.raises(ConfigError, match=r"CASSANDRA_SSL_CA=.*missing\.pem"):
        ssl_context(CassandraServer(("127.0.0.1",), ssl=True, ssl_ca=str(tmp_path / "missing.pem")))


def test_a_key_without_its_certificate_is_refused() -> None:
    with pytest.raises(ConfigError, match="CASSANDRA_SSL_KEY is set but CASSANDRA_SSL_CERT is not"):
        ssl_context(CassandraServer(("127.0.0.1",), ssl=True, ssl_key="/etc/ssl/db/client.key"))


def test_an_encrypted_client_key_is_refused_without_a_password_prompt(tmp_path: Path) -> None:
    key, cert = tmp_path / "client.key", tmp_path / "client.crt"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-days", "1", "-subj", "/CN=client",
         "-passout", "pass:secret", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    with pytest.raises(ConfigError, match="the private key is encrypted"):
        ssl_context(CassandraServer(("127.0.0.1",), ssl=True, ssl_cert=str(cert), ssl_key=str(key)))
