"""Audit: the append-only, hash-chained trail of every access to health data."""
