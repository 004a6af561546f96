"""Audit events for tests, always written through the real service."""

from typing import Any

from carnet.audit.models import AuditEvent
from carnet.audit.services import record_event


def record(**overrides: Any) -> AuditEvent:
    """record_event with plausible defaults: a staff member reading a file for care."""
    arguments: dict[str, Any] = {
        "actor_id": 7,
        "actor_kind": "staff",
        "action": "read",
        "resource": "practice:1:patient-file",
        "patient_ref": "patient:1",
        "purpose": "care",
    }
    arguments.update(overrides)
    return record_event(**arguments)
