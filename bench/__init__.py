"""Benchmark of cardsmith builds against the genanki floor (see bench/RESULTS.md)."""
