"""values.schema.json and the reset guard: what the chart refuses to render, and what it says."""

from __future__ import annotations

import copy
from typing import Any

import helm_python
import pytest

from .chart import CHART_DIR, render, render_raw, reset_values
from .jobs import find
from .scenarios import PG_PASSWORD, RESET, SECRET_VALUES, containers

pytestmark = pytest.mark.deploy


def test_reset_names_each_store_s_own_target() -> None:
    values = {
        "postgresql": {"env": {"database": "shop"}},
        "cassandra": {"env": {"keyspace": "shop_events"}},
        **reset_values(token="t-9", postgresql="shop", cassandra="shop_events"),
    }
    resets = {c["args"][0]: c["args"][1:] for _, c in containers(render(values)) if c["name"] == "reset"}
    assert resets == {
        "postgres": ["reset", "--yes=shop", "--once=t-9"],
        "cassandra": ["reset", "--yes=shop_events", "--once=t-9"],
    }


REFUSED_RESETS: dict[str, tuple[dict[str, Any], str]] = {
    "no confirm": (
        {"reset": {"enabled": True, "token": "t"}},
        r'reset\.confirm\.postgresql is "": it must equal postgresql\.env\.database \("app"\)',
    ),
    "wrong database": (
        reset_values(postgresql="ap"),
        r'reset\.confirm\.postgresql is "ap": it must equal postgresql\.env\.database \("app"\)',
    ),
    "wrong keyspace": (
        {**reset_values(), "cassandra": {"env": {"keyspace": "events"}}},
        r'reset\.confirm\.cassandra is "app": it must equal cassandra\.env\.keyspace \("events"\)',
    ),
    "no token": (reset_values(token=""), r"reset\.token is empty"),
}


@pytest.mark.parametrize("case", REFUSED_RESETS)
def test_a_reset_without_a_matching_confirm_or_token_fails_rendering(case: str) -> None:
    values, message = REFUSED_RESETS[case]
    with helm_python.Chart.load(CHART_DIR) as chart, pytest.raises(helm_python.HelmError, match=message):
        chart.render(copy.deepcopy(values), name="migrations")


def test_a_disabled_store_needs_no_confirm() -> None:
    values = {
        "cassandra": {"enabled": False},
        "reset": {"enabled": True, "token": "t", "confirm": {"postgresql": "app"}},
    }
    (job,) = find(render(values), "Job")
    assert job["metadata"]["name"] == "migrations-postgres-migrations"


def test_confirm_and_token_without_enabled_reset_nothing() -> None:
    values = {"reset": {"enabled": False, "confirm": {"postgresql": "app", "cassandra": "app"}, "token": "t"}}
    assert all(c["name"] != "reset" for _, c in containers(render(values)))


# --- values.schema.json --------------------------------------------------------------------------

BAD_VALUES: dict[str, dict[str, Any]] = {
    "reset as string": {"reset": "yes"},
    "reset as the old boolean": {"reset": True},
    "reset enabled as string": {"reset": {"enabled": "true"}},
    "reset token with a comma": {"reset": {"token": "a,b"}},
    "reset unknown key": {"reset": {"force": True}},
    "unknown top-level key": {"resetAll": True},
    "password typo": {"postgresql": {"env": {"pasword": "x"}}},
    "port zero": {"postgresql": {"env": {"port": 0}}},
    "port as string": {"cassandra": {"env": {"port": "9042"}}},
    "sslmode": {"postgresql": {"env": {"sslmode": "on"}}},
    "empty host": {"postgresql": {"env": {"host": ""}}},
    "keyspace with dash": {"cassandra": {"env": {"keyspace": "my-app"}}},
    "replication without factor": {"cassandra": {"replication": "SimpleStrategy"}},
    "replication dc without factor": {"cassandra": {"replication": "NetworkTopologyStrategy:dc1"}},
    "replication unknown class": {"cassandra": {"replication": "EverywhereStrategy:1"}},
    "pull policy": {"image": {"pullPolicy": "Sometimes"}},
    "empty repository": {"image": {"repository": ""}},
    "digest without algorithm": {"image": {"digest": "ab" * 32}},
    "short digest": {"image": {"digest": "sha256:abc"}},
    "negative backoff": {"job": {"backoffLimit": -1}},
    "deadline too short": {"job": {"activeDeadlineSeconds": 5}},
    "resources without cpu limit": {"resources": {"limits": {"cpu": None, "memory": "1Gi"}}},
    "memory quantity": {"resources": {"limits": {"memory": "lots"}}},
    "existingSecret not a string": {"existingSecret": True},
    "hostPath volume": {"extraVolumes": [{"name": "host", "hostPath": {"path": "/"}}]},
    "volume named tmp": {"extraVolumes": [{"name": "tmp", "emptyDir": {}}]},
    "volume without source": {"extraVolumes": [{"name": "x"}]},
    "mount over /tmp": {"extraVolumeMounts": [{"name": "x", "mountPath": "/tmp"}]},
    "relative mount": {"extraVolumeMounts": [{"name": "x", "mountPath": "etc"}]},
    "env without name": {"extraEnv": [{"value": "x"}]},
    "envFrom unknown source": {"envFrom": [{"hostRef": {"name": "x"}}]},
    "service account name": {"serviceAccount": {"name": "Not_A_Name"}},
    "pod label not a string": {"podLabels": {"tier": 1}},
    "priority class not a string": {"priorityClassName": 5},
    "drift test flag as string": {"driftTest": {"enabled": "no"}},
}


@pytest.mark.parametrize("case", BAD_VALUES)
def test_schema_rejects_bad_values(case: str) -> None:
    with helm_python.Chart.load(CHART_DIR) as chart, pytest.raises(helm_python.HelmError):
        chart.render(copy.deepcopy(BAD_VALUES[case]), name="migrations")


GOOD_VALUES: dict[str, dict[str, Any]] = {
    "network topology": {"cassandra": {"replication": "NetworkTopologyStrategy:dc1=3,dc2=3"}},
    "several hosts": {"cassandra": {"env": {"host": "10.0.0.1,10.0.0.2:9042,cass-0.cass"}}},
    "fractional cpu": {"resources": {"limits": {"cpu": "1.5", "memory": "512Mi"}}},
    "global values": {"global": {"imageRegistry": "x"}},
    "env from a secret key": {"extraEnv": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]},
    "projected volume": {"extraVolumes": [{"name": "p", "projected": {"sources": []}}]},
}


@pytest.mark.parametrize("case", GOOD_VALUES)
def test_schema_accepts_good_values(case: str) -> None:
    assert find(render(GOOD_VALUES[case]), "Job")


def test_notes_warn_about_reset_and_tell_where_credentials_live() -> None:
    default_notes = render_raw()["migrations/templates/NOTES.txt"]
    assert "WARNING: reset" not in default_notes
    assert "postgresql.env.password is empty" in default_notes
    assert "release Secret sh.helm.release.v1.migrations" in default_notes and "existingSecret" in default_notes
    assert "helm test -n db migrations" in default_notes
    reset_notes = render_raw({**SECRET_VALUES, **RESET})["migrations/templates/NOTES.txt"]
    assert "WARNING: reset.enabled=true (token tok-1)" in reset_notes
    assert 'PostgreSQL database "app" and Cassandra keyspace "app"' in reset_notes
    assert "password is empty" not in reset_notes
    assert PG_PASSWORD not in reset_notes
