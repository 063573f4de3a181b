"""Values scenarios the chart tests share, and walkers over the pods and containers a rendering starts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import kubernetes_validate

from .chart import reset_values
from .jobs import Manifest, find

# The oldest and newest Kubernetes minor versions we promise, plus whatever the package bundles last.
KUBE_VERSIONS = sorted({"1.29.0", "1.33.0", f"{kubernetes_validate.latest_version()}.0"})

PG_PASSWORD = "pg-Pa55-wörd-xyzzy"
PG_USER = "pg-user-plugh"
CASS_PASSWORD = "cass-Pa55-wörd-xyzzy"
CASS_USER = "cass-user-plugh"
SECRET_VALUES: dict[str, Any] = {
    "postgresql": {"env": {"username": PG_USER, "password": PG_PASSWORD}},
    "cassandra": {"env": {"username": CASS_USER, "password": CASS_PASSWORD}},
}
RESET: dict[str, Any] = reset_values()
EXISTING: dict[str, Any] = {"existingSecret": "prod-db-credentials"}
DIGEST = "sha256:" + "ab" * 32
# Every value a real cluster may need, at once.
EVERYTHING: dict[str, Any] = {
    "image": {"repository": "registry.example/team/migrations", "digest": DIGEST},
    "extraEnv": [{"name": "PGSSLROOTCERT", "value": "/etc/ssl/db/ca.crt"}],
    "envFrom": [{"secretRef": {"name": "db-tls-settings"}}, {"configMapRef": {"name": "tuning"}, "prefix": "T_"}],
    "extraVolumes": [{"name": "db-ca", "configMap": {"name": "db-ca-bundle"}}],
    "extraVolumeMounts": [{"name": "db-ca", "mountPath": "/etc/ssl/db", "readOnly": True}],
    "serviceAccount": {"create": True, "name": "migrator", "annotations": {"iam.example/role": "migrator"}},
    "podLabels": {"team": "payments"},
    "priorityClassName": "batch-low",
}

SCENARIOS: dict[str, dict[str, Any]] = {
    "default": {},
    "secrets": SECRET_VALUES,
    "reset": {**SECRET_VALUES, **RESET},
    "existing-secret": {**SECRET_VALUES, **EXISTING},
    "existing-secret-reset": {**EXISTING, **RESET},
    "everything": {**SECRET_VALUES, **RESET, **EVERYTHING},
    "postgres-only": {"cassandra": {"enabled": False}},
}
CREDENTIAL_ENV = {
    "PGUSER": "postgresql-username",
    "PGPASSWORD": "postgresql-password",
    "CASSANDRA_USERNAME": "cassandra-username",
    "CASSANDRA_PASSWORD": "cassandra-password",
}


def pods(docs: list[Manifest]) -> Iterator[tuple[Manifest, dict[str, Any]]]:
    """(owner, pod spec) of every pod the chart can start: the Jobs' templates and the test pod."""
    for job in find(docs, "Job"):
        yield job, job["spec"]["template"]["spec"]
    for pod in find(docs, "Pod"):
        yield pod, pod["spec"]


def containers(docs: list[Manifest]) -> Iterator[tuple[Manifest, dict[str, Any]]]:
    for job, spec in pods(docs):
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            yield job, container


def hook(doc: Manifest) -> tuple[set[str], int, set[str]]:
    annotations = doc["metadata"].get("annotations", {})
    return (
        set(annotations["helm.sh/hook"].split(",")),
        int(annotations["helm.sh/hook-weight"]),
        set(annotations["helm.sh/hook-delete-policy"].split(",")),
    )
