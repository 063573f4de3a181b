"""Cassandra store: versioned ledger with per-statement progress, lease lock, introspection, row access."""
