"""One settings object: precedence (flag > environment > ini > file > layout > default), files, layouts, .env."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.config import load_settings, mask
from harness.config.keys import spell
from harness.errors import ConfigError


def project(root: Path, *dirs: str, files: dict[str, str] | None = None) -> Path:
    for d in dirs:
        (root / d).mkdir(parents=True, exist_ok=True)
    for name, text in (files or {}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_a_flag_beats_the_environment_which_beats_ini_which_beats_the_file(tmp_path: Path) -> None:
    project(tmp_path, files={"harness.toml": 'postgres_minimum_downgrade = "1"\nkeyspace = "from_file"\n'})
    env = {"HARNESS_POSTGRES_MINIMUM_DOWNGRADE": "2", "CASSANDRA_KEYSPACE": "from_env"}
    both = load_settings(flags={"postgres_minimum_downgrade": "3"}, ini={"keyspace": "from_ini"}, env=env, cwd=tmp_path)
    assert both["postgres_minimum_downgrade"] == "3" and both.sources["postgres_minimum_downgrade"] == "command line"
    assert both["keyspace"] == "from_env" and both.sources["keyspace"] == "$CASSANDRA_KEYSPACE"
    no_env = load_settings(ini={"keyspace": "from_ini"}, env={}, cwd=tmp_path)
    assert no_env["keyspace"] == "from_ini" and no_env["postgres_minimum_downgrade"] == "1"
    defaults = load_settings(env={}, cwd=tmp_path / "..")
    assert defaults["provider"] == "auto" and defaults["strict_links"] is False


def test_pyproject_tool_harness_is_found_upwards_and_paths_resolve_against_its_directory(tmp_path: Path) -> None:
    project(
        tmp_path, "db/migrations", files={"pyproject.toml": '[tool.harness]\npostgres_migrations = "db/migrations"\n'}
    )
    nested = tmp_path / "src" / "pkg"
    nested.mkdir(parents=True)
    settings = load_settings(env={}, cwd=nested)
    assert settings.migrations_dir("postgres") == tmp_path / "db" / "migrations"
    assert settings.config_file == tmp_path / "pyproject.toml" and settings.stores() == ("postgres",)


def test_a_pyproject_without_a_harness_table_is_passed_over(tmp_path: Path) -> None:
    project(tmp_path, files={"harness.toml": 'keyspace = "outer"\n', "inner/pyproject.toml": "[project]\nname = 'x'\n"})
    assert load_settings(env={}, cwd=tmp_path / "inner")["keyspace"] == "outer"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('postgres_migration = "x"\n', "unknown key 'postgres_migration'"),
        ('pg_url = "postgresql://x"\n', "unknown key 'pg_url'"),
        ("strict_links = maybe\n", "not valid TOML"),
        ('strict_links = "maybe"\n', "strict_links must be true or false"),
        ('provider = "kubernetes"\n', "provider must be one of auto, local, docker, external"),
        ('postgres_minimum_downgrade = "v1"\n', "must be a migration version"),
    ],
)
def test_a_bad_config_file_is_an_error_naming_the_file_and_the_key(tmp_path: Path, text: str, needle: str) -> None:
    project(tmp_path, files={"harness.toml": text})
    with pytest.raises(ConfigError) as info:
        load_settings(env={}, cwd=tmp_path)
    assert needle in str(info.value) and "harness.toml" in str(info.value)


@pytest.mark.parametrize(
    ("dirs", "layout", "postgres", "cassandra"),
    [
        (("migrations/postgres", "migrations/cassandra"), "harness", "migrations/postgres", "migrations/cassandra"),
        (("db/migrations",), "dbmate", "db/migrations", None),
        (("postgres/db/migrations", "cassandra/migrations"), "seed", "postgres/db/migrations", "cassandra/migrations"),
        (("cassandra/migrations",), "seed", None, "cassandra/migrations"),
    ],
)
def test_known_layouts_are_detected_when_nothing_is_configured(
    tmp_path: Path, dirs: tuple[str, ...], layout: str, postgres: str | None, cassandra: str | None
) -> None:
    project(tmp_path, *dirs)
    settings = load_settings(env={}, cwd=tmp_path)
    assert settings.detected is not None and settings.detected.layout.name == layout
    assert settings.migrations_dir("postgres") == (tmp_path / postgres if postgres else None)
    assert settings.migrations_dir("cassandra") == (tmp_path / cassandra if cassandra else None)


def test_the_seed_layout_takes_its_contract_from_the_readme_with_a_class_diagram(tmp_path: Path) -> None:
    project(tmp_path, "cassandra/migrations", files={"README.md": "```mermaid\nclassDiagram\n```\n"})
    assert load_settings(env={}, cwd=tmp_path)["contract"] == tmp_path / "README.md"
    (tmp_path / "README.md").write_text("# no diagram here\n")
    assert load_settings(env={}, cwd=tmp_path)["contract"] is None


def test_two_layouts_at_once_are_an_error_saying_how_to_choose(tmp_path: Path) -> None:
    project(tmp_path, "db/migrations", "migrations/postgres")
    settings = load_settings(env={}, cwd=tmp_path)
    with pytest.raises(ConfigError) as info:
        settings.require_dir("postgres")
    assert "two migration layouts found" in str(info.value) and "--postgres-migrations" in str(info.value)


def test_no_layout_is_an_error_listing_what_was_looked_for_in_the_readers_spelling(tmp_path: Path) -> None:
    settings = load_settings(env={}, cwd=tmp_path, context="pytest")
    with pytest.raises(ConfigError) as info:
        settings.require_dir("cassandra")
    message = str(info.value)
    assert "no migrations found" in message and "postgres/db/migrations" in message
    assert "--harness-cassandra-migrations (ini: harness_cassandra_migrations)" in message


def test_a_configured_directory_turns_detection_off(tmp_path: Path) -> None:
    project(tmp_path, "db/migrations", "mine")
    settings = load_settings(flags={"postgres_migrations": "mine"}, env={}, cwd=tmp_path)
    assert settings.detected is None and settings.migrations_dir("postgres") == tmp_path / "mine"


def test_dbmate_migrations_dir_is_honoured_as_dbmate_does(tmp_path: Path) -> None:
    settings = load_settings(env={"DBMATE_MIGRATIONS_DIR": "sql"}, cwd=tmp_path)
    assert settings.migrations_dir("postgres") == tmp_path / "sql"


def test_dot_env_is_read_as_dbmate_reads_it_and_the_real_environment_wins(tmp_path: Path) -> None:
    project(tmp_path, files={".env": "DATABASE_URL=postgresql://from-dotenv/db\nCASSANDRA_KEYSPACE=dotenv_ks\n"})
    settings = load_settings(env={"DATABASE_URL": "postgresql://real/db"}, cwd=tmp_path)
    assert settings.postgres().url == "postgresql://real/db"
    assert settings["keyspace"] == "dotenv_ks"
    other = project(tmp_path, files={"other.env": "CASSANDRA_KEYSPACE=other_ks\n"}) / "other.env"
    assert load_settings(env={}, cwd=tmp_path, env_files=[other])["keyspace"] == "other_ks"
    with pytest.raises(ConfigError, match="no such env file"):
        load_settings(env={}, cwd=tmp_path, env_files=[tmp_path / "missing.env"])


def test_a_project_with_one_store_only_is_valid(tmp_path: Path) -> None:
    project(tmp_path, "db/migrations")
    assert load_settings(env={}, cwd=tmp_path).stores() == ("postgres",)


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ("cli", "--postgres-up-only"),
        ("pytest", "--harness-postgres-up-only (ini: harness_postgres_up_only)"),
        ("file", "postgres_up_only ([tool.harness] in pyproject.toml, or harness.toml)"),
    ],
)
def test_keys_are_spelled_the_way_the_readers_context_does(context: str, expected: str) -> None:
    assert spell("postgres_up_only", context) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "connect to postgresql://app:S3cretPW@db:5432/app failed",
        "postgresql//app:S3cretPW@127.0.0.1:1/db: invalid",  # malformed: no ':' after the scheme
        "host=db user=app password=S3cretPW",
    ],
)
def test_masking_hides_passwords_even_in_malformed_urls(text: str) -> None:
    assert "S3cretPW" not in mask(text, ["S3cretPW"])
    if "@" in text:
        assert "S3cretPW" not in mask(text), "a URL's password is masked even when nobody named it as a secret"
