"""``harness diagram``: migrate throwaway databases, introspect them, print the schema as a contract diagram."""

from __future__ import annotations

from collections.abc import Callable

from harness import applier
from harness.checks.target import Project, Target
from harness.config import Settings
from harness.diagram import render_diagram
from harness.schema.model import SchemaModel
from harness.verify.run import ServerPool

Say = Callable[[str], None]


def _quiet(_message: str) -> None:
    """The applier's progress is not part of the diagram."""


def diagram(settings: Settings, progress: Say) -> str:
    """The mermaid classDiagram of the schema that the project's migrations build (both stores)."""
    project = Project.load(settings)
    pool = ServerPool(settings, progress)
    models: dict[str, SchemaModel] = {}
    try:
        for store_name in project.stores:
            with pool.databases((store_name,)) as databases:
                store = Target(project, databases).store(store_name)
                try:
                    applier.up(store, list(project.migrations[store_name]), _quiet)
                    models[store_name] = store.snapshot()
                finally:
                    store.close()
    finally:
        pool.close()
    return render_diagram(models.get("postgres"), models.get("cassandra"))


def main_diagram(settings: Settings, say: Say) -> int:
    """Print the diagram on stdout; progress lines go to stderr so the output can be redirected into a README."""
    import sys

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    say(diagram(settings, progress).rstrip("\n"))
    return 0
