"""Benchmarks: each prints its figures beside a baseline, as a ratio (see docs/BENCHMARKS.md)."""
