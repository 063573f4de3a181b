"""Pure helpers over rendered chart output: find manifests and turn a Job into the commands it runs.

Why: the Jobs are proven end to end without a cluster by running exactly their containers' argv with
exactly their environment against the test databases. `job_commands` is that extraction, with the
Secret's values resolved the way the kubelet resolves secretKeyRef (data is base64, stringData plain,
a missing optional key leaves the variable unset).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import yaml

from harness.errors import ConfigError

Manifest = dict[str, Any]
Rendered = Mapping[str, str] | str | Sequence[Mapping[str, Any]]
STORES = ("postgres", "cassandra")


def manifests(rendered: Rendered) -> list[Manifest]:
    """Every Kubernetes object in rendered output.

    Accepts helm-python-sdk's `Chart.render` result (template path -> text; NOTES.txt is skipped),
    one multi-document YAML string (`deploy.sh --dry-run`, `helm template`) or already parsed objects.
    """
    if isinstance(rendered, str):
        texts: Iterable[str] = [rendered]
    elif isinstance(rendered, Mapping):
        texts = [text for path, text in rendered.items() if not path.endswith("NOTES.txt")]
    else:
        return [dict(doc) for doc in rendered if doc]
    docs: list[Manifest] = []
    for text in texts:
        for doc in yaml.safe_load_all(text):
            if doc:
                if not isinstance(doc, dict) or "kind" not in doc:
                    raise ConfigError(f"rendered output holds a document that is not a Kubernetes object: {doc!r}")
                docs.append(doc)
    return docs


def find(docs: Sequence[Manifest], kind: str, name: str | None = None) -> list[Manifest]:
    """Objects of one kind, optionally of one name."""
    return [d for d in docs if d.get("kind") == kind and (name is None or d["metadata"]["name"] == name)]


def job_for_store(docs: Sequence[Manifest], store: str) -> Manifest:
    """The one Job whose containers run `harness <store> ...`."""
    if store not in STORES:
        raise ConfigError(f"unknown store {store!r}; expected one of {', '.join(STORES)}")
    jobs = [
        job
        for job in find(docs, "Job")
        if any(store in _argv(c)[:2] for c in job["spec"]["template"]["spec"].get("containers", []))
    ]
    if len(jobs) != 1:
        names = [j["metadata"]["name"] for j in find(docs, "Job")]
        raise ConfigError(
            f"expected exactly one Job running `harness {store}`, found {len(jobs)} among Jobs {names}; "
            f"is {'postgresql' if store == 'postgres' else 'cassandra'}.enabled true?"
        )
    return jobs[0]


def secret_data(secret: Mapping[str, Any]) -> dict[str, str]:
    """A Secret's values as the container sees them: `data` base64-decoded, `stringData` wins on clashes."""
    name = secret.get("metadata", {}).get("name", "?")
    values: dict[str, str] = {}
    for key, encoded in (secret.get("data") or {}).items():
        try:
            values[key] = base64.b64decode(str(encoded or ""), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise ConfigError(f"Secret {name}: key {key} is not base64-encoded UTF-8 ({exc})") from exc
    values.update({k: str(v) for k, v in (secret.get("stringData") or {}).items()})
    return values


def _argv(container: Mapping[str, Any]) -> list[str]:
    return [str(a) for a in (container.get("command") or [])] + [str(a) for a in (container.get("args") or [])]


def _resolve_env(
    container: Mapping[str, Any],
    secrets: Mapping[str, Mapping[str, str]],
    config_maps: Mapping[str, Mapping[str, str]],
) -> dict[str, str]:
    env: dict[str, str] = {}
    where = f"container {container.get('name')}"
    for item in container.get("env") or []:
        name = item["name"]
        if "valueFrom" not in item:
            env[name] = str(item.get("value", ""))
            continue
        source = item["valueFrom"]
        if "secretKeyRef" in source:
            ref, kind, store = source["secretKeyRef"], "Secret", secrets
        elif "configMapKeyRef" in source:
            ref, kind, store = source["configMapKeyRef"], "ConfigMap", config_maps
        else:
            raise ConfigError(f"{where}: env {name} uses {sorted(source)}, which cannot be resolved offline")
        values = store.get(ref["name"])
        if values is None or ref["key"] not in values:
            if ref.get("optional"):
                continue  # the kubelet leaves an optional variable unset
            raise ConfigError(
                f"{where}: env {name} needs key {ref['key']!r} of {kind} {ref['name']!r}, which is neither "
                f"rendered nor passed in `secrets`/`config_maps` (an existingSecret must be passed in)"
            )
        env[name] = values[ref["key"]]
    return env


Values = dict[str, dict[str, str]]


def _known(docs: Sequence[Manifest], secrets: Mapping[str, Mapping[str, str]] | None) -> tuple[Values, Values]:
    known = {d["metadata"]["name"]: secret_data(d) for d in find(docs, "Secret")}
    known.update({name: dict(values) for name, values in (secrets or {}).items()})
    maps = {
        d["metadata"]["name"]: {k: str(v) for k, v in (d.get("data") or {}).items()} for d in find(docs, "ConfigMap")
    }
    return known, maps


def _from_sources(container: Mapping[str, Any], secrets: Values, config_maps: Values) -> dict[str, str]:
    """envFrom, as the kubelet applies it before `env` (a missing optional source contributes nothing)."""
    env: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        ref, store = (source["secretRef"], secrets) if "secretRef" in source else (source["configMapRef"], config_maps)
        values = store.get(ref["name"])
        if values is None:
            if ref.get("optional"):
                continue
            raise ConfigError(f"container {container.get('name')}: envFrom needs {ref['name']!r}, which is not known")
        env.update({f"{source.get('prefix', '')}{k}": v for k, v in values.items()})
    return env


def _commands(spec: Mapping[str, Any], known: Values, maps: Values) -> list[tuple[list[str], dict[str, str]]]:
    commands: list[tuple[list[str], dict[str, str]]] = []
    for container in [*spec.get("initContainers", []), *spec["containers"]]:
        argv = _argv(container)
        if not container.get("command"):
            raise ConfigError(
                f"container {container.get('name')} sets no command, so its argv depends on the image's "
                "ENTRYPOINT; the chart must set command: [harness]"
            )
        commands.append((argv, {**_from_sources(container, known, maps), **_resolve_env(container, known, maps)}))
    return commands


def job_commands(
    rendered: Rendered,
    store: str,
    secrets: Mapping[str, Mapping[str, str]] | None = None,
) -> list[tuple[list[str], dict[str, str]]]:
    """The (argv, env) of a store's Job containers in the order the kubelet runs them.

    Init containers first (wait, then reset when reset.enabled), then the main container. Credentials
    come from the rendered Secret; `secrets` (name -> key -> plain value) supplies or overrides Secrets
    the chart does not render, e.g. an existingSecret. Only the container's own env is returned: run
    it on top of a minimal base environment (PATH) to see what the pod sees.
    """
    docs = manifests(rendered)
    known, maps = _known(docs, secrets)
    return _commands(job_for_store(docs, store)["spec"]["template"]["spec"], known, maps)


def drift_commands(
    rendered: Rendered, secrets: Mapping[str, Mapping[str, str]] | None = None
) -> list[tuple[list[str], dict[str, str]]]:
    """The (argv, env) of the `helm test` pod's containers (the drift check), resolved like job_commands."""
    docs = manifests(rendered)
    pods = [p for p in find(docs, "Pod") if p["metadata"].get("annotations", {}).get("helm.sh/hook") == "test"]
    if len(pods) != 1:
        raise ConfigError(f"expected exactly one test hook Pod, found {len(pods)}; is driftTest.enabled true?")
    known, maps = _known(docs, secrets)
    return _commands(pods[0]["spec"], known, maps)
