"""The outbox's entry points: what the booking services call in their transaction.

STUB — being written; the signatures are the contract.
"""

from datetime import datetime

from carnet.booking.models import Appointment, RunningLate


def appointment_booked(*, appointment: Appointment, now: datetime) -> None:
    """Plan the confirmation and the reminders of a new appointment."""


def appointment_moved(
    *,
    appointment: Appointment,
    previous_starts_at: datetime,
    notify_patient: bool,
    now: datetime,
) -> None:
    """Cancel the pending messages of the old time; plan the new time's (and a notice)."""


def appointment_cancelled(
    *,
    appointment: Appointment,
    by_practice: bool,
    notify_patient: bool,
    now: datetime,
) -> None:
    """Cancel the pending messages; owe the patient a cancellation notice."""


def running_late_declared(*, event: RunningLate, now: datetime) -> None:
    """Tell the event's patients the agenda runs late."""


def offer_made(*, offer: object, now: datetime) -> None:
    """Send a waiting-list offer (carnet.booking.offers) by every channel the patient has."""


def replan_for_user(*, user_id: int, now: datetime) -> None:
    """Re-plan the reminders of the user's (and relatives') upcoming appointments."""


def replan_for_practice(*, practice_id: int, now: datetime) -> None:
    """Re-plan the reminders of the practice's upcoming appointments."""


def replan_for_motive(*, motive_id: int, now: datetime) -> None:
    """Re-plan the reminders of the motive's upcoming appointments."""
