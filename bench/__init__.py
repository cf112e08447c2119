"""Benchmarks that anyone can rerun: ``make bench`` (minutes) or
``make bench-smoke`` (seconds, run by the test suite so the scripts never rot)."""
