"""The pytest plugin (entry point ``harness.plugin``): real throwaway PostgreSQL and Cassandra for every test.

Split by role: :mod:`harness.plugin.options` (options and hooks), :mod:`harness.plugin.fixtures` (servers,
per-test databases, check targets). Servers start lazily, once per run, the first time a test asks for one, and
are shared by every xdist worker; nothing outlives the run, even after Ctrl-C or kill -9.
"""

from harness.plugin.fixtures import (
    cassandra_keyspace,
    cassandra_server,
    cassandra_session,
    harness_config,
    harness_databases,
    harness_fresh_databases,
    harness_keyspace_dropper,
    harness_project,
    migration_runner,
    pg_conn,
    pg_template,
    pg_url,
    postgres_server,
)
from harness.plugin.options import (
    HarnessConfig,
    pytest_addoption,
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_report_header,
    pytest_runtest_makereport,
    pytest_terminal_summary,
    pytest_unconfigure,
)

__all__ = [
    "HarnessConfig",
    "cassandra_keyspace",
    "cassandra_server",
    "cassandra_session",
    "harness_config",
    "harness_databases",
    "harness_fresh_databases",
    "harness_keyspace_dropper",
    "harness_project",
    "migration_runner",
    "pg_conn",
    "pg_template",
    "pg_url",
    "postgres_server",
    "pytest_addoption",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_report_header",
    "pytest_runtest_makereport",
    "pytest_terminal_summary",
    "pytest_unconfigure",
]
