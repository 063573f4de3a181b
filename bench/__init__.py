"""Benchmarks: speed is measured here, never asserted in tests.

Run ``python -m bench.servers`` and ``python -m bench.applier``; see bench/README.md.
"""
