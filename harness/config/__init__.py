"""Settings: one object built in one place from flags, environment, pytest ini, a config file and defaults."""

from harness.config.keys import KEYS, Context, Key, spell
from harness.config.secrets import mask
from harness.config.settings import CassandraSettings, PostgresSettings, Settings, load_settings, split_hosts

__all__ = [
    "KEYS",
    "CassandraSettings",
    "Context",
    "Key",
    "PostgresSettings",
    "Settings",
    "load_settings",
    "mask",
    "spell",
    "split_hosts",
]
