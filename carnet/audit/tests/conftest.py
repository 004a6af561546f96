"""Audit tests load the audit fixtures (tamper, delete_row, purge_audit_trail)."""

from carnet.audit.tests.fixtures import (  # noqa: F401 - fixtures, found by name
    delete_row,
    purge_audit_trail,
    tamper,
)
