"""Schema agreement, asked of every node directly: after a schema change, each node must report one schema version.

The driver's own check trusts its view of which nodes are up, and that view lags: a node whose JVM stopped
answering stays "up" until the cluster convicts it, and its peers keep reporting its old schema version. So the
applier decides itself, once per run, which nodes are part of it: every node that answers a direct query when
the run needs them first. A node that does not answer then is down: it is named, and agreement does not wait for
it (Cassandra sends it the schema when it is back). A node that answered then must agree after every schema
change; if it stops answering, or keeps an old version, agreement fails after the wait with the node named.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from harness.errors import StoreError

LOCAL_SCHEMA = "SELECT schema_version FROM system.local"
PROBE_TIMEOUT = 2.0  # seconds a node has to answer one direct query
SETTLE = 6.0  # seconds a node has to answer its first query, connection included (the store connects within 5)


class AgreementError(StoreError):
    """The nodes did not report one schema version within the wait."""


@dataclass(frozen=True)
class NodeView:
    """One node as the applier sees it: its address, datacenter and schema version (None: it did not answer)."""

    address: str
    datacenter: str
    version: str | None

    @property
    def label(self) -> str:
        return f"{self.address} ({self.datacenter})"


def disagreement(views: Sequence[NodeView]) -> str:
    """What keeps ``views`` from agreeing, in words; empty when they agree."""
    versions = Counter(v.version for v in views if v.version)
    silent = [v for v in views if not v.version]
    if not silent and len(versions) <= 1:
        return ""
    main = versions.most_common(1)[0][0] if versions else ""
    parts = [f"{v.label} answered when this run began but does not answer now" for v in silent]
    parts += [
        f"{v.label} still has schema version {str(v.version)[:8]} (the others {str(main)[:8]})"
        for v in views
        if v.version and v.version != main
    ]
    return "; ".join(parts)


def down_note(down: Sequence[NodeView]) -> str:
    """The line a run prints about nodes that did not answer when it began."""
    names = ", ".join(v.label for v in down)
    verb = "does" if len(down) == 1 else "do"
    return (
        f"Note: Cassandra node(s) {names} {verb} not answer: they are left out of schema agreement (Cassandra sends "
        "them the schema changes when they are back); ledger and lock writes still need a quorum of replicas"
    )


class Agreement:
    """The nodes of one run and the wait for them to agree; ``session`` must hold a pool to every node."""

    def __init__(self, cluster: Any, session: Any, wait: float, *, sleep: Callable[[float], None] = time.sleep):
        self.cluster = cluster
        self.session = session
        self.wait = wait
        self._sleep = sleep
        self._members: list[Any] | None = None
        self.down: list[NodeView] = []

    def _ask(self, hosts: Sequence[Any], timeout: float) -> list[NodeView]:
        """Every host's schema version, asked in parallel; None for a host that does not answer in time."""
        from cassandra.query import SimpleStatement

        statement = SimpleStatement(LOCAL_SCHEMA)
        futures = []
        for host in hosts:
            try:
                futures.append(self.session.execute_async(statement, timeout=timeout, host=host))
            except Exception:  # no pool to that host: it did not answer when the session opened
                futures.append(None)
        views = []
        for host, future in zip(hosts, futures, strict=True):
            version = None
            if future is not None:
                try:
                    row = future.result().one()
                    version = str(row[0]) if row and row[0] else None
                except Exception:  # timeout, connection refused, overloaded: it does not answer
                    version = None
            views.append(NodeView(str(host.address), str(host.datacenter or ""), version))
        return views

    def members(self) -> list[Any]:
        """The nodes this run waits for: those that answer when first asked (once per run).

        The driver returns a session once its first connection pool is up and opens the others in the background,
        so a node that does not answer yet is asked again until ``SETTLE`` seconds have passed (a node that is down
        or paused fails its connection within the connect timeout, which is shorter).
        """
        if self._members is None:
            hosts = sorted(self.cluster.metadata.all_hosts(), key=lambda h: str(h.address))
            answered: dict[str, NodeView] = {}
            deadline = time.monotonic() + SETTLE
            views = self._ask(hosts, PROBE_TIMEOUT)
            while True:
                answered.update({v.address: v for v in views if v.version})
                waiting = [h for h in hosts if str(h.address) not in answered]
                if not waiting or time.monotonic() >= deadline:
                    break
                self._sleep(0.2)
                views = self._ask(waiting, PROBE_TIMEOUT)
            if not answered:  # an empty member list would agree with itself after every change
                raise StoreError(
                    f"no Cassandra node answered `{LOCAL_SCHEMA}` within {SETTLE:g}s, so schema agreement cannot be "
                    "judged: " + ", ".join(f"{v.label} does not answer" for v in views)
                )
            self._members = [h for h in hosts if str(h.address) in answered]
            self.down = [v for v in views if not v.version and v.address not in answered]
        return self._members

    def await_agreement(self, where: str, what: str) -> None:
        """Return once every member reports one schema version; AgreementError after ``wait`` seconds."""
        members = self.members()
        deadline = time.monotonic() + self.wait
        while True:
            remaining = deadline - time.monotonic()
            views = self._ask(members, max(0.2, min(PROBE_TIMEOUT, remaining)))
            problem = disagreement(views)
            if not problem:
                return
            if time.monotonic() >= deadline:
                raise AgreementError(
                    f"{where}: schema agreement not reached within {self.wait:g}s after `{' '.join(what.split())[:80]}`"
                    f": {problem}"
                )
            self._sleep(0.1)
