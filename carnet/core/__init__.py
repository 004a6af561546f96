"""Shared kernel: base model, domain errors, time helpers. No domain models."""
