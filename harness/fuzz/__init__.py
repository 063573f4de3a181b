"""Constraint fuzzing: rows generated from the contract and the live schema, written through ``Store.rows()``.

One job per module, lowest first:

- ``kinds``: what a store type or a contract type can hold (:class:`~harness.fuzz.kinds.Kind`).
- ``checkexpr``: CHECK definitions as the server prints them, read into simple per-column rules.
- ``plan``: a plan per table (columns, keys, foreign keys, rules), parents first; the rules a row can break.
- ``compare``: whether a value read back equals the one written, at the store's precision.
- ``samples``: deterministic sample rows, and seeding them to prove later that they survived.
- ``strategies``: hypothesis strategies for valid rows, rule-breaking values and foreign-key-closed examples.
- ``hunt``, ``transactional``, ``fresh_keys``, ``engine``: the search itself (``engine.fuzz`` is the entry).
- ``generated``: deterministic draws of rows that are kept (the data check, the migration runner).
- ``quiet``: the one hypothesis warning that is about the database driver, not us, silenced where we draw.

Nothing here imports a database driver; only ``strategies``, ``generated`` and the search import hypothesis, so the
modules below them (and this package) import in an install without the test extras.
"""
