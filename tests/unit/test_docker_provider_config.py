"""The docker provider's pure parts: image choice, environment, leftovers, the image config and scripts.

No Docker engine needed: these check the decisions the provider and the build script make, so a wrong
image name, a lost user setting or a drifted Cassandra config fails here in milliseconds.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from harness.servers import cassandra_local
from harness.servers import docker as provider

ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = ROOT / "docker" / "build-local-images"


# --- image choice -----------------------------------------------------------------------------------


def test_the_official_images_are_the_default() -> None:
    env: dict[str, str] = {}
    assert provider.resolve_image(None, "HARNESS_POSTGRES_IMAGE", "postgres:15", env) == "postgres:15"
    assert provider.DEFAULT_POSTGRES_IMAGE == "postgres:15"
    assert provider.DEFAULT_CASSANDRA_IMAGE == "cassandra:5.0"


def test_an_argument_beats_the_environment_which_beats_the_default() -> None:
    env = {"HARNESS_POSTGRES_IMAGE": "harness/postgres:15"}
    assert provider.resolve_image("mine:1", "HARNESS_POSTGRES_IMAGE", "postgres:15", env) == "mine:1"
    assert provider.resolve_image(None, "HARNESS_POSTGRES_IMAGE", "postgres:15", env) == "harness/postgres:15"


def test_an_empty_environment_variable_means_the_default() -> None:
    env = {"HARNESS_CASSANDRA_IMAGE": "  "}
    assert provider.resolve_image(None, "HARNESS_CASSANDRA_IMAGE", "cassandra:5.0", env) == "cassandra:5.0"


@pytest.mark.parametrize("prefix", ["mirror.example:5000", "mirror.example:5000/"])
def test_the_registry_prefix_goes_in_front_of_the_default_only(prefix: str) -> None:
    env = {"HARNESS_IMAGE_PREFIX": prefix}
    got = provider.resolve_image(None, "HARNESS_POSTGRES_IMAGE", "postgres:15", env)
    assert got == "mirror.example:5000/postgres:15"
    env["HARNESS_POSTGRES_IMAGE"] = "harness/postgres:15"
    assert provider.resolve_image(None, "HARNESS_POSTGRES_IMAGE", "postgres:15", env) == "harness/postgres:15"


# --- testcontainers settings ------------------------------------------------------------------------


def test_testcontainers_defaults_fill_only_what_the_user_left_unset() -> None:
    assert provider.testcontainers_env_defaults({}) == {
        "TESTCONTAINERS_RYUK_DISABLED": "true",
        "TESTCONTAINERS_CONNECTION_MODE": "docker_host",
    }
    user = {"TESTCONTAINERS_RYUK_DISABLED": "false", "TESTCONTAINERS_CONNECTION_MODE": ""}
    assert provider.testcontainers_env_defaults(user) == {}


def test_apply_defaults_writes_into_the_given_environment_without_overwriting() -> None:
    env = {"TESTCONTAINERS_RYUK_DISABLED": "false"}
    provider.apply_testcontainers_defaults(env)
    assert env == {"TESTCONTAINERS_RYUK_DISABLED": "false", "TESTCONTAINERS_CONNECTION_MODE": "docker_host"}


# --- container environment ---------------------------------------------------------------------------


def test_postgres_gets_the_official_image_variables_and_a_url_to_match() -> None:
    env = provider.postgres_env("s3cret")
    assert env == {
        "POSTGRES_USER": "postgres",
        "POSTGRES_PASSWORD": "s3cret",
        "POSTGRES_DB": "postgres",
        "POSTGRES_INITDB_ARGS": "--no-sync",
    }
    assert (
        provider.postgres_url("127.0.0.1", 32768, "s3cret") == "postgresql://postgres:s3cret@127.0.0.1:32768/postgres"
    )


def test_postgres_runs_with_the_test_only_durability_shortcuts() -> None:
    args = " ".join(provider.POSTGRES_ARGS)
    assert "fsync=off" in args and "synchronous_commit=off" in args and "full_page_writes=off" in args


def test_cassandra_gets_the_local_providers_fast_start_properties_and_no_gc_flags() -> None:
    opts = provider.cassandra_jvm_extra_opts().split()
    for prop in cassandra_local.FAST_START_PROPERTIES:
        assert prop in opts
    assert "-Dcassandra.initial_token=0" in opts
    assert all(o.startswith("-D") for o in opts), "a GC or heap flag would clash with the official image's own"


def test_cassandra_env_sets_both_heap_variables_and_one_token() -> None:
    env = provider.cassandra_env("768M")
    assert env["MAX_HEAP_SIZE"] == "768M" and env["HEAP_NEWSIZE"]
    assert env["CASSANDRA_NUM_TOKENS"] == "1"
    assert env["JVM_EXTRA_OPTS"] == provider.cassandra_jvm_extra_opts()


# --- leftovers without Ryuk --------------------------------------------------------------------------


def test_a_container_is_stale_only_when_its_owner_on_this_host_is_dead() -> None:
    labels = provider.container_labels(4242, "box")
    assert provider.is_stale(labels, "box", lambda pid: False)
    assert not provider.is_stale(labels, "box", lambda pid: True)
    assert not provider.is_stale(labels, "other-box", lambda pid: False)
    assert not provider.is_stale({**labels, provider.LABEL_PID: "x"}, "box", lambda pid: False)
    assert not provider.is_stale({}, "box", lambda pid: False)


def test_log_tail_keeps_the_last_lines() -> None:
    text = "\n".join(f"line {i}" for i in range(100)) + "\n"
    assert provider.log_tail(text, 3) == "line 97\nline 98\nline 99"


# --- the harness/cassandra image's config, rendered from the local provider ------------------------


def _render_config() -> ModuleType:
    path = ROOT / "docker" / "cassandra" / "render_config.py"
    spec = importlib.util.spec_from_file_location("render_config", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_image_yaml_is_the_local_yaml_with_address_placeholders() -> None:
    text = _render_config().render_yaml_template()
    for placeholder in (
        "__LISTEN_ADDRESS__",
        "__RPC_ADDRESS__",
        "__BROADCAST_ADDRESS__",
        "__BROADCAST_RPC_ADDRESS__",
        "__SEEDS__",
        "__CLUSTER_NAME__",
        "__AUTHENTICATOR__",
        "__AUTHORIZER__",
    ):
        assert text.count(placeholder) == 1, placeholder
    assert "127.0.0.1" not in text
    assert "/var/lib/cassandra/data" in text
    for setting in (
        "num_tokens: 1",
        "initial_token: 0",
        "auto_snapshot: false",
        "materialized_views_enabled: true",
        "storage_compatibility_mode: NONE",
    ):
        assert setting in text


def test_the_image_jvm_options_leave_paths_and_heap_to_the_entrypoint() -> None:
    options = _render_config().jvm_options()
    assert "-XX:+UseSerialGC" in options or not any("GC" in o for o in cassandra_local.JVM_TUNING)
    assert all(not o.startswith(("-Xms", "-Xmx", "-Dcassandra.config", "-Djava.io.tmpdir")) for o in options)
    assert set(cassandra_local.JDK17_MODULE_FLAGS) <= set(options)


def test_render_config_writes_the_three_files(tmp_path: Path) -> None:
    assert _render_config().main(["render_config.py", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cassandra.yaml", "jvm.options", "logback.xml"]


# --- the build script reads this machine's apt sources ----------------------------------------------


def _print_sources(apt_etc: Path) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "HARNESS_DEBIAN_MIRROR"}
    env["HARNESS_APT_ETC"] = str(apt_etc)
    done = subprocess.run(
        [str(BUILD_SCRIPT), "--print-sources"], env=env, capture_output=True, text=True, check=False, timeout=30
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_the_mirror_comes_from_deb822_sources_and_disabled_files_are_ignored(tmp_path: Path) -> None:
    d = tmp_path / "sources.list.d"
    d.mkdir()
    (d / "debian.sources").write_text(
        "Types: deb\n# a comment\nURIs: http://mirror.test/debian\nSuites: bookworm bookworm-updates\n"
        "Components: main contrib\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
        "Types: deb-src\nURIs: http://src.test/debian\nSuites: bookworm\nComponents: main\n\n"
        "Types: deb\nURIs: http://security.test/debian-security\nSuites: bookworm-security\nComponents: main"
    )
    (d / "other.list.disabled-by-farm").write_text("deb http://nope.test/ bookworm main\n")
    (d / "node.sources").write_text("Types: deb\nURIs: http://node.test/\nSuites: nodistro\nComponents: main\n")
    assert _print_sources(tmp_path) == [
        "http://mirror.test/debian",
        "deb http://mirror.test/debian bookworm main contrib",
        "deb http://mirror.test/debian bookworm-updates main contrib",
        "deb http://security.test/debian-security bookworm-security main",
    ]


def test_the_mirror_comes_from_a_classic_sources_list(tmp_path: Path) -> None:
    (tmp_path / "sources.list").write_text(
        "# deb http://commented.test/ bookworm main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://classic.test/debian bookworm main\n"
        "deb-src http://classic.test/debian bookworm main\n"
    )
    assert _print_sources(tmp_path) == [
        "http://classic.test/debian",
        "deb http://classic.test/debian bookworm main",
    ]


def test_no_debian_source_is_a_loud_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "HARNESS_DEBIAN_MIRROR"}
    env["HARNESS_APT_ETC"] = str(tmp_path)
    done = subprocess.run(
        [str(BUILD_SCRIPT), "--print-sources"], env=env, capture_output=True, text=True, check=False, timeout=30
    )
    assert done.returncode != 0
    assert "HARNESS_DEBIAN_MIRROR" in done.stderr


# --- lint of the docker lane's scripts and Dockerfiles ----------------------------------------------

SCRIPTS = [
    ROOT / "docker" / "build-local-images",
    ROOT / "docker" / "postgres" / "docker-entrypoint.sh",
    ROOT / "docker" / "cassandra" / "docker-entrypoint.sh",
    ROOT / "docker" / "cassandra" / "build-cds-archive.sh",
    ROOT / ".ci" / "docker-engine",
]
DOCKERFILES = sorted((ROOT / "docker").glob("*/Dockerfile"))


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} not on PATH: install the lint extras (pip install -e '.[test,lint]')")
    return found


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_shell_scripts_are_shellcheck_clean(script: Path) -> None:
    done = subprocess.run([_tool("shellcheck"), str(script)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_dockerfiles_are_hadolint_clean(dockerfile: Path) -> None:
    done = subprocess.run([_tool("hadolint"), str(dockerfile)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout
