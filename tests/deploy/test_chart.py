"""helm/migrations: lint, render, Kubernetes-schema validation and the properties that matter.

All offline: helm-python-sdk renders in-process and kubernetes-validate checks the manifests against
bundled Kubernetes schemas in strict mode (unknown fields are errors).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import kubernetes_validate
import pytest

from .chart import lint, render, render_raw
from .jobs import find
from .scenarios import (
    CASS_PASSWORD,
    CASS_USER,
    CREDENTIAL_ENV,
    DIGEST,
    EVERYTHING,
    EXISTING,
    KUBE_VERSIONS,
    PG_PASSWORD,
    PG_USER,
    RESET,
    SCENARIOS,
    SECRET_VALUES,
    containers,
    hook,
    pods,
)

pytestmark = pytest.mark.deploy


# --- lint and schema validation ------------------------------------------------------------------


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("kube_version", ["v1.29.0", "v1.33.0"])
def test_helm_lint_strict_is_clean(scenario: str, kube_version: str) -> None:
    report = lint(SCENARIOS[scenario], kube_version=kube_version)
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert report["errors"] == [] and problems == [], report


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
def test_every_manifest_validates_strictly(scenario: str, kube_version: str) -> None:
    docs = render(SCENARIOS[scenario])
    assert docs, "the chart rendered nothing"
    for doc in docs:
        kubernetes_validate.validate(doc, kube_version, strict=True)


def test_strict_validation_can_fail() -> None:
    """Guards the test above: an unknown field in a Job container is rejected."""
    job = find(render(), "Job")[0]
    job["spec"]["template"]["spec"]["containers"][0]["runAsRoot"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, KUBE_VERSIONS[0], strict=True)


# --- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_job_names_match_the_troubleshooting_line(scenario: str) -> None:
    names = {doc["metadata"]["name"] for doc in find(render(SCENARIOS[scenario]), "Job")}
    assert "migrations-postgres-migrations" in names
    assert names <= {"migrations-postgres-migrations", "migrations-cassandra-migrations"}
    notes = render_raw(SCENARIOS[scenario])["migrations/templates/NOTES.txt"]
    assert "job/migrations-postgres-migrations" in notes


def test_longest_release_name_keeps_job_names_within_63_characters() -> None:
    release = "r" * 53  # Helm's maximum release name length
    docs = render(release=release)
    for doc in docs:
        assert len(doc["metadata"]["name"]) <= 63, doc["metadata"]["name"]
    for doc in docs:
        kubernetes_validate.validate(doc, KUBE_VERSIONS[-1], strict=True)


def test_everything_goes_to_the_release_namespace() -> None:
    for doc in render(namespace="team-a"):
        assert doc["metadata"]["namespace"] == "team-a"


@pytest.mark.parametrize(("disabled", "remaining"), [("postgresql", "cassandra"), ("cassandra", "postgres")])
def test_a_store_can_be_switched_off(disabled: str, remaining: str) -> None:
    docs = render({disabled: {"enabled": False}})
    jobs = find(docs, "Job")
    assert [j["metadata"]["name"] for j in jobs] == [f"migrations-{remaining}-migrations"]
    (pod,) = find(docs, "Pod")
    env = {e["name"] for e in pod["spec"]["containers"][0]["env"]}
    assert ("PGHOST" in env) is (remaining == "postgres") and ("CASSANDRA_HOSTS" in env) is (remaining == "cassandra")


def test_no_store_enabled_renders_no_test_pod() -> None:
    assert find(render({"postgresql": {"enabled": False}, "cassandra": {"enabled": False}}), "Pod") == []


# --- credentials ---------------------------------------------------------------------------------


def _needles(*values: str) -> list[str]:
    return [n for v in values for n in (v, base64.b64encode(v.encode()).decode())]


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)
    else:
        yield str(node)


@pytest.mark.parametrize("scenario", ["secrets", "reset"])
def test_credentials_appear_only_in_the_secret(scenario: str) -> None:
    docs = render(SCENARIOS[scenario])
    for doc in docs:
        if doc["kind"] == "Secret":
            continue
        text = "\n".join(_strings(doc))
        for needle in _needles(PG_PASSWORD, CASS_PASSWORD, PG_USER, CASS_USER):
            assert needle not in text, f"{doc['kind']} {doc['metadata']['name']} carries a credential"
    assert not find(docs, "ConfigMap"), "credentials must never go through a ConfigMap"


def test_the_secret_holds_the_credentials_base64_encoded() -> None:
    (secret,) = find(render(SECRET_VALUES), "Secret")
    assert "stringData" not in secret
    decoded = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert decoded == {
        "postgresql-username": PG_USER,
        "postgresql-password": PG_PASSWORD,
        "cassandra-username": CASS_USER,
        "cassandra-password": CASS_PASSWORD,
    }


def test_existing_secret_renders_no_secret_and_no_credential() -> None:
    docs = render(SCENARIOS["existing-secret"])
    assert not find(docs, "Secret")
    text = "\n".join(s for doc in docs for s in _strings(doc))
    for needle in _needles(PG_PASSWORD, CASS_PASSWORD, PG_USER, CASS_USER):
        assert needle not in text
    for _, container in containers(docs):
        refs = [e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"] if "valueFrom" in e]
        assert refs and set(refs) == {"prod-db-credentials"}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_credentials_only_through_secret_key_refs(scenario: str) -> None:
    docs = render(SCENARIOS[scenario])
    secret_name = SCENARIOS[scenario].get("existingSecret") or "migrations-credentials"
    wanted_stores = {"postgres"} if scenario == "postgres-only" else {"postgres", "cassandra"}
    assert {c["args"][0] for _, c in containers(docs)} == {*wanted_stores, "drift"}
    for job, container in containers(docs):
        env = {e["name"]: e for e in container["env"]}
        store = container["args"][0]
        drift = tuple(p for s, p in (("postgres", "PG"), ("cassandra", "CASSANDRA")) if s in wanted_stores)
        prefixes = {"postgres": ("PG",), "cassandra": ("CASSANDRA",), "drift": drift}[store]
        wanted = [n for n in CREDENTIAL_ENV if n.startswith(prefixes)]
        for name in wanted:
            ref = env[name]["valueFrom"]["secretKeyRef"]
            assert "value" not in env[name]
            assert (ref["name"], ref["key"]) == (secret_name, CREDENTIAL_ENV[name]), job["metadata"]["name"]
        for name, item in env.items():
            if any(word in name for word in ("PASSWORD", "USER", "SECRET", "TOKEN")):
                assert "value" not in item, f"{name} is a plain value"
        assert "DATABASE_URL" not in env, "a URL would splice the password into a plain value"
        assert not any(a.startswith(("--url", "--password")) for a in container["args"])


# --- hooks ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", ["default", "reset", "everything"])
def test_the_secret_is_a_hook_created_before_the_jobs_and_the_test(scenario: str) -> None:
    docs = render(SCENARIOS[scenario])
    (secret,) = find(docs, "Secret")
    events, secret_weight, secret_policy = hook(secret)
    assert events == {"pre-install", "pre-upgrade", "test"}, "the drift test needs the credentials too"
    assert secret_policy == {"before-hook-creation", "hook-succeeded"}
    jobs = find(docs, "Job")
    assert len(jobs) == 2
    for job in jobs:
        job_events, weight, policy = hook(job)
        assert job_events == {"pre-install", "pre-upgrade"}
        assert secret_weight < weight
        # Kept after success so `kubectl logs job/...` works; replaced on the next run.
        assert policy == {"before-hook-creation"}
    (pod,) = find(docs, "Pod")
    assert hook(pod)[0] == {"test"} and secret_weight < hook(pod)[1]


def test_a_created_service_account_exists_before_every_pod_that_uses_it() -> None:
    docs = render(EVERYTHING)
    (account,) = find(docs, "ServiceAccount")
    assert account["metadata"]["name"] == "migrator"
    assert account["metadata"]["annotations"]["iam.example/role"] == "migrator"
    events, weight, policy = hook(account)
    assert events == {"pre-install", "pre-upgrade", "test"}
    assert weight < min(hook(d)[1] for d in [*find(docs, "Job"), *find(docs, "Pod"), *find(docs, "Secret")])
    assert policy == {"before-hook-creation", "hook-succeeded"}
    for _, spec in pods(docs):
        assert spec["serviceAccountName"] == "migrator"
        assert spec["automountServiceAccountToken"] is False


@pytest.mark.parametrize(
    ("account", "expected"),
    [({}, None), ({"name": "existing-sa"}, "existing-sa"), ({"create": True}, "migrations-migrations")],
)
def test_service_account_name(account: dict[str, Any], expected: str | None) -> None:
    docs = render({"serviceAccount": account})
    assert bool(find(docs, "ServiceAccount")) is bool(account.get("create"))
    for _, spec in pods(docs):
        assert spec.get("serviceAccountName") == expected


def test_hooks_are_weighted_with_the_existing_secret_too() -> None:
    for job in find(render(EXISTING), "Job"):
        assert hook(job)[0] == {"pre-install", "pre-upgrade"}


# --- job and pod settings ------------------------------------------------------------------------


def test_job_limits_come_from_values() -> None:
    values = {"job": {"backoffLimit": 3, "activeDeadlineSeconds": 1200, "ttlSecondsAfterFinished": 600}}
    for doc in [*find(render(), "Job"), *find(render(values), "Job")]:
        spec = doc["spec"]
        assert spec["backoffLimit"] >= 0
        assert spec["activeDeadlineSeconds"] > 0
        assert spec["ttlSecondsAfterFinished"] > 0
        assert spec["template"]["spec"]["restartPolicy"] == "Never"
    for doc in find(render(values), "Job"):
        assert {k: doc["spec"][k] for k in values["job"]} == values["job"]


def test_default_job_limits() -> None:
    for doc in find(render(), "Job"):
        spec = doc["spec"]
        assert (spec["backoffLimit"], spec["activeDeadlineSeconds"], spec["ttlSecondsAfterFinished"]) == (
            1,
            900,
            86400,
        )


def test_every_container_has_requests_and_limits() -> None:
    custom = {"resources": {"requests": {"cpu": "10m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}}}
    for values, expected in [({}, None), (custom, custom["resources"])]:
        for _, container in containers(render(values)):
            resources = container["resources"]
            assert set(resources) == {"requests", "limits"}
            assert set(resources["requests"]) == set(resources["limits"]) == {"cpu", "memory"}
            if expected:
                assert resources == expected


def test_image_reference() -> None:
    images = {c["image"] for _, c in containers(render())}
    assert images == {"migrations-harness:0.2.0"}, "tag defaults to the chart's appVersion"
    values = {"image": {"repository": "registry.example/team/migrations", "tag": "abc123", "pullPolicy": "Always"}}
    for _, container in containers(render(values)):
        assert container["image"] == "registry.example/team/migrations:abc123"
        assert container["imagePullPolicy"] == "Always"


def test_a_digest_pins_the_image_and_wins_over_the_tag() -> None:
    values = {"image": {"repository": "registry.example/team/migrations", "tag": "abc123", "digest": DIGEST}}
    images = {c["image"] for _, c in containers(render(values))}
    assert images == {f"registry.example/team/migrations@{DIGEST}"}


def test_image_pull_secrets_and_scheduling() -> None:
    values = {
        "imagePullSecrets": ["regcred"],
        "nodeSelector": {"pool": "jobs"},
        "tolerations": [{"key": "jobs", "operator": "Exists", "effect": "NoSchedule"}],
        "podAnnotations": {"team": "db"},
        "priorityClassName": "batch-low",
    }
    docs = render(values)
    for owner, spec in pods(docs):
        assert spec["imagePullSecrets"] == [{"name": "regcred"}]
        assert spec["nodeSelector"] == {"pool": "jobs"}
        assert spec["tolerations"] == values["tolerations"]
        assert spec["priorityClassName"] == "batch-low"
        meta = owner["spec"]["template"]["metadata"] if owner["kind"] == "Job" else owner["metadata"]
        assert meta["annotations"]["team"] == "db"
    for doc in docs:
        kubernetes_validate.validate(doc, KUBE_VERSIONS[-1], strict=True)


def test_pod_labels_are_added_but_never_replace_the_charts_own() -> None:
    values = {"podLabels": {"team": "payments", "app.kubernetes.io/instance": "hijack"}}
    docs = render(values)
    for owner, _ in pods(docs):
        meta = owner["spec"]["template"]["metadata"] if owner["kind"] == "Job" else owner["metadata"]
        assert meta["labels"]["team"] == "payments"
        assert meta["labels"]["app.kubernetes.io/instance"] == "migrations"
    (pod,) = find(docs, "Pod")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"


def test_extra_env_env_from_and_volumes_reach_every_pod_and_container() -> None:
    docs = render(EVERYTHING)
    for _, spec in pods(docs):
        assert {"name": "db-ca", "configMap": {"name": "db-ca-bundle"}} in spec["volumes"]
    for _, container in containers(docs):
        assert {"name": "PGSSLROOTCERT", "value": "/etc/ssl/db/ca.crt"} in container["env"]
        assert container["envFrom"] == EVERYTHING["envFrom"]
        assert {"name": "db-ca", "mountPath": "/etc/ssl/db", "readOnly": True} in container["volumeMounts"]


# --- what each Job runs --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "init"),
    [({}, [["wait"]]), (RESET, [["wait"], ["reset", "--yes=app", "--once=tok-1"]])],
    ids=["plain", "reset"],
)
def test_containers_run_the_harness_cli(values: dict[str, Any], init: list[list[str]]) -> None:
    docs = render(values)
    for store in ("postgres", "cassandra"):
        (job,) = [j for j in find(docs, "Job") if j["metadata"]["name"] == f"migrations-{store}-migrations"]
        spec = job["spec"]["template"]["spec"]
        assert [[*c["command"], *c["args"]] for c in spec["initContainers"]] == [
            ["harness", store, *args] for args in init
        ]
        (main,) = spec["containers"]
        assert [*main["command"], *main["args"]] == ["harness", store, "up"]


def test_the_test_pod_runs_drift_and_nothing_else() -> None:
    (pod,) = find(render(RESET), "Pod")
    assert "initContainers" not in pod["spec"], "no wait and never a reset in the read-only check"
    assert [[*c["command"], *c["args"]] for c in pod["spec"]["containers"]] == [["harness", "drift"]]


def test_the_drift_test_can_be_switched_off() -> None:
    assert find(render({"driftTest": {"enabled": False}}), "Pod") == []


def test_connection_settings_reach_the_environment() -> None:
    values = {
        "postgresql": {"env": {"host": "pg.db.svc", "port": 6432, "database": "appdb", "sslmode": "require"}},
        "cassandra": {
            "env": {"host": "c1.db.svc,c2.db.svc", "port": 9142, "keyspace": "app_ks", "localDc": "dc1"},
            "replication": "NetworkTopologyStrategy:dc1=3,dc2=3",
        },
    }
    expected = {
        "postgres": {"PGHOST": "pg.db.svc", "PGPORT": "6432", "PGDATABASE": "appdb", "PGSSLMODE": "require"},
        "cassandra": {
            "CASSANDRA_HOSTS": "c1.db.svc,c2.db.svc",
            "CASSANDRA_PORT": "9142",
            "CASSANDRA_KEYSPACE": "app_ks",
            "CASSANDRA_LOCAL_DC": "dc1",
            "CASSANDRA_REPLICATION": "NetworkTopologyStrategy:dc1=3,dc2=3",
        },
    }
    expected["drift"] = {**expected["postgres"], **expected["cassandra"]}
    for _, container in containers(render(values)):
        env = {e["name"]: e.get("value") for e in container["env"]}
        want = expected[container["args"][0]]
        assert {k: env.get(k) for k in want} == want
