"""Every pod the chart can start meets the Pod Security "restricted" profile, checked rule by rule (pss.py)."""

from __future__ import annotations

from typing import Any

import pytest

from .chart import render
from .pss import violations
from .scenarios import SCENARIOS, containers, pods

pytestmark = pytest.mark.deploy


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_pod_meets_the_restricted_pod_security_profile(scenario: str) -> None:
    specs = list(pods(render(SCENARIOS[scenario])))
    assert len(specs) >= 2, "the Jobs' pods and the test pod"
    for owner, spec in specs:
        assert violations(spec) == [], f"{owner['kind']} {owner['metadata']['name']}"


@pytest.mark.parametrize(
    "breach",
    [
        lambda spec: spec["volumes"].append({"name": "host", "hostPath": {"path": "/"}}),
        lambda spec: spec["containers"][0]["securityContext"].update(allowPrivilegeEscalation=True),
        lambda spec: spec["containers"][0]["securityContext"]["capabilities"].update(add=["NET_ADMIN"]),
        lambda spec: spec["containers"][0]["securityContext"].update(runAsNonRoot=False),
        lambda spec: spec["containers"][0]["securityContext"].update(seccompProfile={"type": "Unconfined"}),
        lambda spec: spec.update(hostNetwork=True),
        lambda spec: spec["containers"][0]["securityContext"].update(privileged=True),
        lambda spec: spec["containers"][0].update(ports=[{"containerPort": 80, "hostPort": 80}]),
    ],
    ids=["hostPath", "escalation", "capability", "root", "seccomp", "hostNetwork", "privileged", "hostPort"],
)
def test_the_restricted_profile_check_can_fail(breach: Any) -> None:
    (_, spec), *_ = pods(render())
    breach(spec)
    assert violations(spec), "the check must catch this breach"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_security_contexts(scenario: str) -> None:
    values = SCENARIOS[scenario]
    docs = render(values)
    for _, spec in pods(docs):
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] == 10001
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
        assert spec["automountServiceAccountToken"] is False
        assert spec["enableServiceLinks"] is False
        assert spec["restartPolicy"] == "Never"
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert "emptyDir" in volumes["tmp"]
    for _, container in containers(docs):
        ctx = container["securityContext"]
        assert ctx["runAsNonRoot"] is True
        assert ctx["readOnlyRootFilesystem"] is True
        assert ctx["allowPrivilegeEscalation"] is False
        assert ctx["privileged"] is False
        assert ctx["capabilities"] == {"drop": ["ALL"]}
        assert ctx["seccompProfile"] == {"type": "RuntimeDefault"}
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        extra = {m["mountPath"]: m["name"] for m in values.get("extraVolumeMounts", [])}
        assert mounts == {"/tmp": "tmp", **extra}, "the only writable path is the /tmp emptyDir"
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["HOME"] == "/tmp" and env["TMPDIR"] == "/tmp"
