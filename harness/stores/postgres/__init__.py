"""PostgreSQL store: dbmate's ledger and file semantics, introspection into the schema model, row access."""
