"""Fuzzing harness for aigc-tag's parsers (see fuzz/run.py and docs/security.md)."""
