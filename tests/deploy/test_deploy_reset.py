"""deploy.sh --reset: the guard (typed names, or --yes without a terminal), the one-shot token, and what it tells."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .chart import render_raw, reset_values
from .sandbox import Sandbox, make_sandbox

pytestmark = pytest.mark.deploy

PROD = (
    "postgresql:\n  env:\n    host: pg.prod\n    database: shop\n    password: hunter2-pg\n"
    "cassandra:\n  env:\n    keyspace: shop_events\n"
)


@pytest.fixture
def tools(tmp_path: Path) -> Sandbox:
    sandbox = make_sandbox(tmp_path)
    sandbox.add_standins()
    return sandbox


@pytest.fixture
def prod_values(tmp_path: Path) -> Path:
    values = tmp_path / "prod.yaml"
    values.write_text(PROD, encoding="utf-8")
    return values


def test_reset_without_confirmation_refuses_and_destroys_nothing(tools: Sandbox, prod_values: Path) -> None:
    run = tools.deploy("--reset", "-r", "prod", "-n", "db", "-f", str(prod_values))
    assert run.rc == 4
    assert "refusing --reset without confirmation" in run.err and "--yes" in run.err
    assert "DESTROYS DATA" in run.err
    assert "PostgreSQL database 'shop' on pg.prod:5432" in run.err
    assert "Cassandra keyspace 'shop_events'" in run.err
    assert "hunter2-pg" not in run.err + run.out
    assert "'prod'" in run.err and "'db'" in run.err and "test-context" in run.err
    assert run.tool_calls("docker") == [] and run.tool_calls("helm") == []
    assert run.tool_calls("kubectl") == [["config", "current-context"]], "only a read of the local kubeconfig"


def test_reset_without_confirmation_refuses_even_without_tools(tmp_path: Path) -> None:
    run = make_sandbox(tmp_path).deploy("--reset")
    assert run.rc == 4, "the refusal comes before the missing-tool check"
    assert "refusing --reset without confirmation" in run.err and "DESTROYS DATA" in run.err


def test_reset_refusal_without_a_renderer_still_says_what_it_destroys(tmp_path: Path) -> None:
    sandbox = make_sandbox(tmp_path)
    dirs = ("--postgres-migrations", "postgres/db/migrations", "--cassandra-migrations", "cassandra/migrations")
    run = sandbox.deploy("--reset", *dirs, PYTHON=str(sandbox.bin / "no-python"))
    assert run.rc == 4
    assert "every schema the PostgreSQL user owns" in run.err and "the whole Cassandra keyspace" in run.err


def test_reset_with_yes_confirms_each_target_and_sets_a_fresh_token(tools: Sandbox, prod_values: Path) -> None:
    first = tools.deploy("--reset", "--yes", "-t", "x", "-f", str(prod_values))
    assert first.rc == 0, first.err
    assert "DESTROYS DATA" in first.err and "--yes given" in first.err
    reset = first.deploy_values()["reset"]
    assert reset["enabled"] is True
    assert reset["confirm"] == {"postgresql": "shop", "cassandra": "shop_events"}
    assert reset["token"].startswith("reset-")
    second = tools.deploy("--reset", "--yes", "-t", "x", "-f", str(prod_values))
    assert second.deploy_values()["reset"]["token"] != reset["token"], "every --reset gets its own token"
    after = tools.deploy("-t", "x", "-f", str(prod_values))
    assert after.deploy_values()["reset"] == {
        "enabled": False,
        "token": "",
        "confirm": {"postgresql": "", "cassandra": ""},
    }, "a deploy without --reset never carries a reset"


def test_what_deploy_sh_confirms_is_what_the_chart_accepts(tools: Sandbox, prod_values: Path) -> None:
    run = tools.deploy("--reset", "--yes", "-t", "x", "-f", str(prod_values))
    assert run.rc == 0, run.err
    values = {"postgresql": {"env": {"database": "shop"}}, "cassandra": {"env": {"keyspace": "shop_events"}}}
    reset = run.deploy_values()["reset"]
    rendered = render_raw({**values, "reset": reset})
    assert "--yes=shop" in rendered["migrations/templates/job-postgres.yaml"]
    assert f"--once={reset['token']}" in rendered["migrations/templates/job-cassandra.yaml"]


def test_reset_prompt_with_a_wrong_name_refuses(tools: Sandbox, prod_values: Path) -> None:
    run = tools.deploy_on_tty(["shop", "yes"], "--reset", "-r", "prod", "-t", "x", "-f", str(prod_values))
    assert run.rc == 4
    assert "did not match 'shop_events'" in run.err
    assert run.tool_calls("docker") == [] and run.tool_calls("helm") == []


def test_reset_prompt_with_every_name_proceeds(tools: Sandbox, prod_values: Path) -> None:
    run = tools.deploy_on_tty(["shop", "shop_events"], "--reset", "-r", "prod", "-t", "x", "-f", str(prod_values))
    assert run.rc == 0, run.err
    assert "Type the name of the PostgreSQL database 'shop' on pg.prod:5432" in run.err
    assert run.deploy_values()["reset"]["confirm"] == {"postgresql": "shop", "cassandra": "shop_events"}


def test_reset_of_a_postgres_only_repository_asks_for_the_database_only(tools: Sandbox, prod_values: Path) -> None:
    (tools.repo / "harness.toml").write_text('postgres_migrations = "postgres/db/migrations"\n')
    shutil.rmtree(tools.repo / "cassandra")
    run = tools.deploy_on_tty(["shop"], "--reset", "-t", "x", "-f", str(prod_values))
    assert run.rc == 0, run.err
    values = run.deploy_values()
    assert values["cassandra"] == {"enabled": False}
    assert values["reset"]["confirm"] == {"postgresql": "shop", "cassandra": ""}


def test_reset_targets_without_helm_python_come_from_helm_template(tools: Sandbox, tmp_path: Path) -> None:
    """A team with helm but without helm-python-sdk: the targets are read from `helm template` output."""
    values = {"postgresql": {"env": {"database": "shop"}}, "cassandra": {"env": {"keyspace": "shop_events"}}}
    raw = render_raw({**values, **reset_values(postgresql="shop", cassandra="shop_events")})
    stream = tmp_path / "template.yaml"
    stream.write_text("".join(f"---\n{t}\n" for p, t in raw.items() if not p.endswith("NOTES.txt")))
    dirs = ("--postgres-migrations", "postgres/db/migrations", "--cassandra-migrations", "cassandra/migrations")
    run = tools.deploy(
        "--reset", "--yes", "-t", "x", *dirs, PYTHON=str(tools.bin / "no-python"), STANDIN_HELM_TEMPLATE=str(stream)
    )
    assert run.rc == 0, run.err
    assert run.deploy_values()["reset"]["confirm"] == {"postgresql": "shop", "cassandra": "shop_events"}
