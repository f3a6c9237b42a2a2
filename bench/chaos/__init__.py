"""Chaos runs: the scenarios of RELIABILITY.md, each runnable as a script and in tests/chaos."""
