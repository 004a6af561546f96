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


class BookingAnswerMissing(DomainError):
    """A required booking question of the motive was left empty."""

    code = "booking_answer_missing"
    message = _("Please answer this question: {question}")


class BookingAnswerTooLong(DomainError):
    """An answer to a booking question is longer than allowed."""

    code = "booking_answer_too_long"
    message = _(
        "The answer to “{question}” is too long: at most {max_length} characters."
    )


class BookingAnswerUnknown(DomainError):
    """An answer names a question the motive does not ask."""

    code = "booking_answer_unknown"
    message = _("This visit does not ask the question “{question}”.")


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


class OverbookingNotAllowed(DomainError):
    """Only practice staff, in person, may book on top of another appointment."""

    code = "overbooking_not_allowed"
    kind = "forbidden"
    message = _("Only the practice's staff can book on top of another appointment.")


class SlotDuringAbsence(DomainError):
    """The practitioner is absent then: not even staff may book it."""

    code = "slot_during_absence"
    kind = "conflict"
    message = _("The practitioner is absent at this time.")


class CancellationReasonRequired(DomainError):
    """Staff must say why they cancel an appointment (the patient is told)."""

    code = "cancellation_reason_required"
    message = _("Give a reason for the cancellation: the patient will be told.")


class StatusInvalid(DomainError):
    """Not one of the appointment statuses."""

    code = "status_invalid"
    message = _("Choose a valid appointment status.")


class StatusTransitionNotAllowed(DomainError):
    """The appointment cannot go from its current status to the requested one."""

    code = "status_transition_not_allowed"
    kind = "conflict"
    message = _("An appointment that is “{current}” cannot be marked “{target}”.")


class AppointmentNotToday(DomainError):
    """Arrival is marked on the appointment's day, not before."""

    code = "appointment_not_today"
    kind = "conflict"
    message = _("This appointment is on a later day: it cannot be marked yet.")


class NoShowTooEarly(DomainError):
    """A no-show is marked only once the appointment's start has passed."""

    code = "no_show_too_early"
    kind = "conflict"
    message = _(
        "The appointment has not started yet: it can be marked as a no-show "
        "only once its time has passed."
    )


class NoShowUndoTooLate(DomainError):
    """A wrong no-show is undone on the day it was marked, not later."""

    code = "no_show_undo_too_late"
    kind = "conflict"
    message = _("A no-show can only be undone on the day it was marked.")


class RunningLateInvalid(DomainError):
    """The delay must be a whole number of minutes, from 1 to the maximum."""

    code = "running_late_invalid"
    message = _("Enter a delay between 1 and {maximum} minutes.")


class BookingBlockedByNoShows(DomainError):
    """The patient missed too many appointments at this practice to book online there."""

    code = "booking_blocked_by_no_shows"
    kind = "forbidden"
    message = _(
        "Online booking at {practice} is closed to you for now, because several "
        "appointments were missed without an excuse. To book, please call the "
        "practice on {phone}. You can also send an excuse for a missed "
        "appointment from your account."
    )
    message_without_phone = _(
        "Online booking at {practice} is closed to you for now, because several "
        "appointments were missed without an excuse. To book, please contact the "
        "practice directly. You can also send an excuse for a missed appointment "
        "from your account."
    )

    def __init__(self, *, practice: str, phone: str, strikes: int) -> None:
        super().__init__(
            None if phone else self.message_without_phone,
            practice=practice,
            phone=phone,
        )
        self.strikes = strikes

    @property
    def details(self) -> dict[str, Any]:
        """The practice's phone (may be empty) and the number of strikes counted."""
        return {"phone": self.params["phone"], "strikes": self.strikes}


class NoShowPolicyInvalid(DomainError):
    """Out-of-range settings for a practice's no-show policy."""

    code = "no_show_policy_invalid"
    message = _(
        "Choose between 1 and {max_strikes} no-shows before blocking, and between "
        "1 and {max_days} days during which a no-show counts."
    )


class StrikeNotFound(DomainError):
    """Missing, or not the user's (or not their practice's): the same answer."""

    code = "strike_not_found"
    kind = "not_found"
    message = _("This missed appointment does not exist.")


class ExcuseInvalid(DomainError):
    """An excuse must say something, within the length limit."""

    code = "excuse_invalid"
    message = _("Write your excuse ({max_length} characters at most).")


class ExcuseAlreadySent(DomainError):
    """One excuse per missed appointment."""

    code = "excuse_already_sent"
    kind = "conflict"
    message = _("An excuse was already sent for this missed appointment.")


class StrikeNotCounted(DomainError):
    """An excuse is pointless for a strike that no longer counts."""

    code = "strike_not_counted"
    kind = "conflict"
    message = _("This missed appointment no longer counts (it expired or was excused).")


class ExcuseAlreadyDecided(DomainError):
    """Staff already accepted or refused this excuse."""

    code = "excuse_already_decided"
    kind = "conflict"
    message = _("A decision was already made on this missed appointment.")


class ExcuseNotPending(DomainError):
    """Refusing needs an excuse to refuse."""

    code = "excuse_not_pending"
    kind = "conflict"
    message = _("The patient has not sent an excuse for this missed appointment.")


class WaitingListDatesInvalid(DomainError):
    """The range must start today or later and end on or after its start."""

    code = "waiting_list_dates_invalid"
    message = _("Choose dates from today onwards, the second on or after the first.")


class WaitingListOutsideHorizon(DomainError):
    """The range ends beyond the motive's booking horizon."""

    code = "waiting_list_outside_horizon"
    message = _(
        "This visit can be booked at most {days} days ahead: choose an earlier end date."
    )


class WaitingListDuplicate(DomainError):
    """The patient already waits for this motive."""

    code = "waiting_list_duplicate"
    kind = "conflict"
    message = _(
        "This person is already on the waiting list for this visit. Leave it "
        "first to choose other dates."
    )


class WaitingListEntryNotFound(DomainError):
    """Missing, or not the user's: the same answer."""

    code = "waiting_list_entry_not_found"
    kind = "not_found"
    message = _("This waiting list request does not exist.")


class ActionLinkStale(DomainError):
    """A one-click link (or an SMS reply) made for an earlier version of the appointment."""

    code = "action_link_stale"
    kind = "conflict"
    message = _("This link is for an earlier time of your appointment.")


class OfferNotFound(DomainError):
    """A waiting-list offer's link that is not valid (tampered, unknown): one answer."""

    code = "offer_not_found"
    kind = "not_found"
    message = _(
        "This offer does not exist. Please use the link in your latest message "
        "or contact the practice."
    )


class OfferExpired(DomainError):
    """The offer's hold time ran out (or the offer was withdrawn) before the answer."""

    code = "offer_expired"
    kind = "conflict"
    message = _(
        "This offer has expired: the time is no longer kept for you. If you are "
        "still on the waiting list, you will be told of the next free time."
    )


class OfferAlreadyDecided(DomainError):
    """The patient already answered this offer the other way (booked, or declined)."""

    code = "offer_already_decided"
    kind = "conflict"
    message = _("You have already answered this offer.")
