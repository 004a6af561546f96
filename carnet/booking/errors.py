"""Refusals raised by the booking services, each with a stable code."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from carnet.core.errors import DomainError


class SlotInPast(DomainError):
    """The requested start is not in the future."""

    code = "slot_in_past"
    message = _("This time is in the past.")


class SlotTooSoon(DomainError):
    """The start is closer than the motive's minimum notice."""

    code = "slot_too_soon"
    message = _(
        "This time is too close: this visit must be booked at least {minutes} minutes ahead."
    )


class SlotTooFar(DomainError):
    """The start is beyond the motive's booking horizon."""

    code = "slot_too_far"
    message = _(
        "This time is too far ahead: this visit can be booked at most {days} days ahead."
    )


class SlotOutsideHours(DomainError):
    """The start is not an offered slot of this motive."""

    code = "slot_outside_hours"
    message = _("The practitioner does not offer this visit at this time.")


class SlotUnavailable(DomainError):
    """The slot is taken (or was just taken by someone else); carries nearby free slots."""

    code = "slot_unavailable"
    kind = "conflict"
    message = _("This time has just been taken. Please choose another one.")

    def __init__(self, *, alternatives: list[str] | None = None) -> None:
        super().__init__()
        self.alternatives = alternatives or []

    @property
    def details(self) -> dict[str, Any]:
        """The nearest free slots, ISO 8601 in the agenda's zone."""
        return {"alternatives": self.alternatives}


class MotiveClosedToNewPatients(DomainError):
    """The motive is reserved for patients the practitioner already follows."""

    code = "motive_closed_to_new_patients"
    kind = "forbidden"
    message = _(
        "This visit is reserved for patients already followed by this practitioner. "
        "Please choose a visit for new patients."
    )


class AppointmentNotFound(DomainError):
    """Missing or not the user's: the same answer either way."""

    code = "appointment_not_found"
    kind = "not_found"
    message = _("This appointment does not exist.")


class AppointmentNotActive(DomainError):
    """The appointment was already cancelled (or is closed)."""

    code = "appointment_not_active"
    kind = "conflict"
    message = _("This appointment is already cancelled or closed.")


class AppointmentInPast(DomainError):
    """The appointment has already started."""

    code = "appointment_in_past"
    kind = "conflict"
    message = _("This appointment has already started and can no longer be changed.")


class CancellationTooLate(DomainError):
    """Past the motive's cancellation cut-off."""

    code = "cancellation_too_late"
    kind = "conflict"
    message = _(
        "This appointment can no longer be cancelled or moved online: "
        "the limit is {hours} hours before. Please call the practice."
    )


class IdempotencyKeyReused(DomainError):
    """The same Idempotency-Key came with a different request."""

    code = "idempotency_key_reused"
    message = _("This Idempotency-Key was already used for a different request.")


class NaiveDatetime(DomainError):
    """A start time came without a UTC offset."""

    code = "naive_datetime"
    message = _("Times must carry a UTC offset, for example 2026-03-02T09:00:00+01:00.")


class DatetimeOutOfRange(DomainError):
    """A time so far in the past or future that it cannot be a visit."""

    code = "datetime_out_of_range"
    message = _("This date is out of range.")


class BreakGlassRequired(DomainError):
    """The patient has no appointment at this practice: a stated reason is required."""

    code = "break_glass_required"
    kind = "forbidden"
    message = _(
        "This patient has no appointment at your practice. State why you need to open "
        "their file; the access will be recorded and flagged."
    )


class HoldNotFound(DomainError):
    """No hold with this id for this visitor (missing or someone else's)."""

    code = "hold_not_found"
    kind = "not_found"
    message = _("This time is no longer reserved for you. Please choose a time again.")


class HoldExpired(DomainError):
    """The hold ran out: the slot may have been taken since."""

    code = "hold_expired"
    kind = "conflict"
    message = _(
        "The time we kept for you was released after {minutes} minutes. "
        "Please choose a time again."
    )
