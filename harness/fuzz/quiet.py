"""A warning about the database driver that hypothesis lays at our strategies' door, silenced where we draw.

cassandra-driver's own threads call the random module (reconnection jitter, load-balancing start points, a pool's
heartbeat). When that happens during a draw, hypothesis warns that a strategy used the random module; ours use
none, and its multi-line warning would land in verify's report and in every pytest run's summary.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def driver_random_ignored() -> Iterator[None]:
    from hypothesis.errors import HypothesisDeprecationWarning

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Do not use the `random` module", HypothesisDeprecationWarning)
        yield
