"""Benchmarks for the Exact Online settings screen: `python -m bench [--quick]`; see README "Benchmarks"."""
