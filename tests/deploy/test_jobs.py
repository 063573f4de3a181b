"""job_commands: the exact (argv, env) each Job container runs, from rendered chart output."""

from __future__ import annotations

import base64
import subprocess
import sys

import pytest

from harness.errors import ConfigError

from .chart import ROOT, render, render_raw, reset_values
from .jobs import drift_commands, job_commands, manifests, secret_data

pytestmark = pytest.mark.deploy

VALUES = {
    "postgresql": {
        "env": {
            "host": "127.0.0.1",
            "port": 55432,
            "username": "app",
            "password": "pw-1",
            "database": "appdb",
            "sslmode": "disable",
        }
    },
    "cassandra": {
        "env": {
            "host": "127.0.0.1",
            "port": 59042,
            "username": "",
            "password": "",
            "keyspace": "app_ks",
            "localDc": "dc1",
        }
    },
}


def test_postgres_commands_in_order_with_resolved_secret() -> None:
    commands = job_commands(render_raw(VALUES), "postgres")
    assert [argv for argv, _ in commands] == [["harness", "postgres", "wait"], ["harness", "postgres", "up"]]
    for _, env in commands:
        assert env["PGUSER"] == "app" and env["PGPASSWORD"] == "pw-1"
        assert (env["PGHOST"], env["PGPORT"], env["PGDATABASE"], env["PGSSLMODE"]) == (
            "127.0.0.1",
            "55432",
            "appdb",
            "disable",
        )
        assert env["HOME"] == "/tmp"


def test_reset_runs_after_wait_and_before_up() -> None:
    commands = job_commands(render_raw({**VALUES, **reset_values(postgresql="appdb", cassandra="app_ks")}), "cassandra")
    assert [argv for argv, _ in commands] == [
        ["harness", "cassandra", "wait"],
        ["harness", "cassandra", "reset", "--yes=app_ks", "--once=tok-1"],
        ["harness", "cassandra", "up"],
    ]
    env = commands[1][1]
    assert env["CASSANDRA_HOSTS"] == "127.0.0.1" and env["CASSANDRA_PORT"] == "59042"
    assert env["CASSANDRA_KEYSPACE"] == "app_ks" and env["CASSANDRA_REPLICATION"] == "SimpleStrategy:1"
    # The chart's Secret holds empty strings: the kubelet sets the variables to "" (no authentication).
    assert env["CASSANDRA_USERNAME"] == "" and env["CASSANDRA_PASSWORD"] == ""


def test_all_input_shapes_agree() -> None:
    raw = render_raw({**VALUES, **reset_values(postgresql="appdb", cassandra="app_ks")})
    stream = "".join(f"---\n{text}\n" for path, text in raw.items() if not path.endswith("NOTES.txt"))
    for store in ("postgres", "cassandra"):
        expected = job_commands(raw, store)
        assert job_commands(stream, store) == expected
        assert job_commands(manifests(raw), store) == expected


def test_dry_run_output_with_shown_secrets_gives_the_same_commands() -> None:
    """deploy/render.py (what deploy.sh --dry-run prints) renders the same Jobs as the tests do."""
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "deploy" / "render.py"),
            "--show-secrets",
            "--set",
            "postgresql.env.password=pw-1,postgresql.env.username=app,postgresql.env.port=55432",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    values = {"postgresql": {"env": {"password": "pw-1", "username": "app", "port": 55432}}}
    assert job_commands(out, "postgres") == job_commands(render_raw(values, namespace="default"), "postgres")


def test_existing_secret_needs_its_values_passed_in() -> None:
    raw = render_raw({"existingSecret": "prod-creds"})
    with pytest.raises(ConfigError, match="prod-creds"):
        job_commands(raw, "postgres")
    commands = job_commands(
        raw,
        "postgres",
        secrets={
            "prod-creds": {"postgresql-username": "u", "postgresql-password": "p"},
        },
    )
    assert all(env["PGUSER"] == "u" and env["PGPASSWORD"] == "p" for _, env in commands)
    # Cassandra's credentials are optional keys: absent from the Secret means unset, as in the kubelet.
    (_, env), *_ = job_commands(raw, "cassandra", secrets={"prod-creds": {}})
    assert "CASSANDRA_USERNAME" not in env and "CASSANDRA_PASSWORD" not in env


def test_string_data_and_data_are_both_resolved() -> None:
    secret = {
        "kind": "Secret",
        "metadata": {"name": "s"},
        "data": {"a": base64.b64encode(b"from-data").decode(), "b": base64.b64encode(b"old").decode()},
        "stringData": {"b": "from-stringData"},
    }
    assert secret_data(secret) == {"a": "from-data", "b": "from-stringData"}
    with pytest.raises(ConfigError, match="not base64"):
        secret_data({"metadata": {"name": "s"}, "data": {"a": "%%%"}})


def test_disabled_store_and_unknown_store_are_clear_errors() -> None:
    with pytest.raises(ConfigError, match=r"postgresql\.enabled"):
        job_commands(render_raw({"postgresql": {"enabled": False}}), "postgres")
    with pytest.raises(ConfigError, match="unknown store"):
        job_commands(render_raw(), "mysql")


def test_a_container_without_command_is_refused() -> None:
    docs = render()
    for doc in docs:
        if doc["kind"] == "Job":
            del doc["spec"]["template"]["spec"]["containers"][0]["command"]
    with pytest.raises(ConfigError, match="sets no command"):
        job_commands(docs, "postgres")


def test_the_drift_pod_sees_both_stores() -> None:
    ((argv, env),) = drift_commands(render_raw(VALUES))
    assert argv == ["harness", "drift"]
    assert env["PGPASSWORD"] == "pw-1" and env["PGDATABASE"] == "appdb"
    assert env["CASSANDRA_KEYSPACE"] == "app_ks" and env["CASSANDRA_PORT"] == "59042"
    with pytest.raises(ConfigError, match=r"driftTest\.enabled"):
        drift_commands(render_raw({"driftTest": {"enabled": False}}))


def test_extra_env_and_env_from_are_resolved_like_the_kubelet() -> None:
    values = {
        **VALUES,
        "extraEnv": [{"name": "HARNESS_POSTGRES_MIGRATIONS", "value": "/elsewhere"}],
        "envFrom": [
            {"secretRef": {"name": "tls"}, "prefix": "X_"},
            {"configMapRef": {"name": "gone", "optional": True}},
        ],
    }
    commands = job_commands(render_raw(values), "postgres", secrets={"tls": {"PGSSLMODE_HINT": "verify"}})
    for _, env in commands:
        assert env["HARNESS_POSTGRES_MIGRATIONS"] == "/elsewhere" and env["X_PGSSLMODE_HINT"] == "verify"
    with pytest.raises(ConfigError, match="envFrom needs 'tls'"):
        job_commands(render_raw(values), "postgres")
