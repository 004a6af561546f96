"""Waiting-list offers: a freed slot is offered to waiting patients in turn.

STUB — being written; the signature is the contract.
"""

from datetime import datetime

from carnet.booking.models import Appointment


def slot_freed(*, appointment: Appointment, starts_at: datetime, now: datetime) -> None:
    """`appointment`'s time `starts_at` was freed (cancelled or moved away): offer it."""
