"""One error hierarchy, so the CLI can print one clean ``Error:`` line for every failure."""

from __future__ import annotations

from pathlib import Path


class HarnessError(Exception):
    """Base of every error the harness raises on purpose (never a bug)."""


class ConfigError(HarnessError):
    """Settings, options or environment that cannot work."""


class MigrationFileError(HarnessError):
    """A migration file that breaks a format rule; names the file, the line and the fix."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path = Path(path)
        self.line = line
        self.reason = message
        where = f"{self.path}:{line}" if line else f"{self.path}"
        super().__init__(f"{where}: {message}")


class StoreError(HarnessError):
    """A database refused something; carries the migration file, statement and line when known."""


class LockError(HarnessError):
    """Another applier holds the migration lock."""


class ServerError(HarnessError):
    """A throwaway database server could not be found, started or reached."""


class MigrationSetError(HarnessError):
    """Every file error of a migrations directory at once, so one run shows them all."""

    def __init__(self, errors: list[MigrationFileError]) -> None:
        self.errors = errors
        if len(errors) == 1:
            super().__init__(str(errors[0]))
            return
        lines = "\n".join(f"  {e}" for e in errors)
        super().__init__(f"{len(errors)} migration file errors:\n{lines}")
