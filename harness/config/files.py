"""Where settings files are: `[tool.harness]` in pyproject.toml or `harness.toml`, and dbmate's `.env`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.config.keys import BY_NAME
from harness.errors import ConfigError


@dataclass(frozen=True)
class ConfigFile:
    """The settings of one file; ``path`` None when no file was found. Relative paths resolve against ``root``."""

    path: Path | None
    root: Path
    values: Mapping[str, Any] = field(default_factory=dict)


def _read(path: Path) -> dict[str, Any]:
    import tomllib  # only when a configuration file exists: a store command without one skips its import

    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror})") from None


def _section(path: Path) -> dict[str, Any] | None:
    """The harness table of a file: all of harness.toml, or [tool.harness] of pyproject.toml (None if absent)."""
    data = _read(path)
    if path.name == "pyproject.toml":
        tool = data.get("tool")
        section = tool.get("harness") if isinstance(tool, dict) else None
        return section if isinstance(section, dict) else None
    return data


def _checked(path: Path, values: dict[str, Any]) -> dict[str, Any]:
    for name in values:
        known = BY_NAME.get(name)
        if known is None or not known.project:
            project_keys = ", ".join(k for k, v in BY_NAME.items() if v.project)
            raise ConfigError(f"{path}: unknown key {name!r}; the known keys are {project_keys}")
    return values


def find_config(start: Path, explicit: Path | None = None) -> ConfigFile:
    """``explicit`` if given, else the nearest harness.toml or pyproject.toml with [tool.harness], upwards."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"{explicit}: no such configuration file")
        section = _section(explicit)
        if section is None:
            raise ConfigError(f"{explicit}: has no [tool.harness] table")
        return ConfigFile(explicit, explicit.resolve().parent, _checked(explicit, section))
    for directory in [start, *start.parents]:
        for name in ("harness.toml", "pyproject.toml"):
            candidate = directory / name
            if candidate.is_file():
                section = _section(candidate)
                if section is not None:
                    return ConfigFile(candidate, directory, _checked(candidate, section))
    return ConfigFile(None, start)


def read_env_files(paths: Sequence[Path], *, explicit: bool) -> dict[str, str]:
    """Variables of dbmate-style env files; the first file that sets a key wins (as in dbmate).

    A missing default `.env` is fine; a missing file named with --env-file is an error (dbmate silently ignores it,
    which hides typos).
    """
    found: dict[str, str] = {}
    for path in paths:
        if not path.is_file():
            if explicit:
                raise ConfigError(f"{path}: no such env file (--env-file)")
            continue
        from dotenv import dotenv_values  # only when there is a file: most runs have none

        for name, value in dotenv_values(path).items():
            if value is not None:
                found.setdefault(name, value)
    return found
