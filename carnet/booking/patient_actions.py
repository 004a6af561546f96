"""The patient's one-click answers to a reminder: "I'll be there" and "Cancel".

They come from a signed link (carnet.notifications.links) or an SMS reply
("1", "2"), with no login: the appointment is named by its opaque
``vault_row`` and by the version (carnet.booking.selectors.calendar_sequence)
the link or message was made for. A link for an older version is stale (the
appointment moved since) and never acts. Both writes take the agenda's row
lock, then the appointment's, like every booking service, and are idempotent.
Like the other patient services (carnet.booking.services), they record no
audit event: the patient acts on their own appointment.
"""

from datetime import datetime
from uuid import UUID

from django.db import transaction

from carnet.booking.errors import (
    ActionLinkStale,
    AppointmentInPast,
    AppointmentNotActive,
    AppointmentNotFound,
)
from carnet.booking.models import Appointment, AppointmentChange, ConfirmedVia
from carnet.booking.selectors import calendar_sequence
from carnet.booking.services import _cancel_locked, _check_may_change, lock_appointment

Status = Appointment.Status


def get_appointment_by_reference(*, vault_row: UUID | str) -> Appointment:
    """The appointment a link names, with what its page shows; AppointmentNotFound otherwise."""
    appointment = (
        Appointment.objects.select_related(
            "agenda__practice", "agenda__practitioner", "agenda__location", "motive"
        )
        .filter(vault_row=_as_uuid(vault_row))
        .first()
    )
    if appointment is None:
        raise AppointmentNotFound()
    return appointment


def appointment_version_at(*, appointment: Appointment, instant: datetime) -> int:
    """The version a booked appointment had at `instant` (what a message sent then showed).

    Counts its moves up to `instant`, as calendar_sequence counts them all.
    """
    return AppointmentChange.objects.filter(
        appointment_id=appointment.pk, created_at__lte=instant
    ).count()


def check_can_confirm(*, appointment: Appointment, version: int, now: datetime) -> None:
    """Raise why the patient cannot confirm `version` of the appointment now; no lock.

    AppointmentNotActive (cancelled or closed), ActionLinkStale (an earlier
    version) or AppointmentInPast. confirm_appointment_by_patient checks the
    same once locked; a page may call this first, to show the answer before
    the patient presses a button.
    """
    if appointment.status != Status.BOOKED:
        raise AppointmentNotActive()
    _check_version(appointment=appointment, version=version)
    if appointment.starts_at <= now:
        raise AppointmentInPast()


def check_can_cancel(*, appointment: Appointment, version: int, now: datetime) -> None:
    """Raise why the patient cannot cancel `version` of a booked appointment now; no lock.

    AppointmentNotActive (closed; a cancelled one too: the caller decides
    whether that is done already), ActionLinkStale, AppointmentInPast or
    CancellationTooLate (past the motive's cut-off).
    """
    if appointment.status != Status.BOOKED:
        raise AppointmentNotActive()
    _check_version(appointment=appointment, version=version)
    _check_may_change(appointment=appointment, now=now, actor=Appointment.Actor.PATIENT)


@transaction.atomic
def confirm_appointment_by_patient(
    *, vault_row: UUID | str, version: int, via: str, now: datetime
) -> Appointment:
    """Record that the patient will come (`via` a reminder's "link" or an "sms" reply).

    Idempotent: an appointment already confirmed keeps its first confirmation.
    Raises AppointmentNotFound, AppointmentNotActive (cancelled or closed),
    ActionLinkStale (`version` is not the current one) or AppointmentInPast.
    Takes the agenda's row lock, then the appointment's.
    """
    if via not in ConfirmedVia.values:
        raise ValueError(f"via must be one of {ConfirmedVia.values}, not {via!r}.")
    appointment = _lock(vault_row=vault_row)
    check_can_confirm(appointment=appointment, version=version, now=now)
    if appointment.confirmed_at is None:
        appointment.confirmed_at = now
        appointment.confirmed_via = via
        appointment.save(update_fields=["confirmed_at", "confirmed_via", "updated_at"])
    return appointment


@transaction.atomic
def cancel_appointment_by_patient(
    *, vault_row: UUID | str, version: int, now: datetime
) -> Appointment:
    """Cancel the appointment for its patient, within the motive's cut-off.

    Idempotent: an appointment already cancelled (by anyone) is returned as
    it is. Otherwise as carnet.booking.services.cancel_appointment (the
    patient is sent a notice, the time is offered to the waiting list).
    Raises AppointmentNotFound, AppointmentNotActive (closed), ActionLinkStale,
    AppointmentInPast or CancellationTooLate. Takes the agenda's row lock,
    then the appointment's.
    """
    appointment = _lock(vault_row=vault_row)
    if appointment.status == Status.CANCELLED:
        return appointment
    check_can_cancel(appointment=appointment, version=version, now=now)
    return _cancel_locked(
        appointment=appointment, now=now, actor=Appointment.Actor.PATIENT, reason=""
    )


def _as_uuid(vault_row: UUID | str) -> UUID:
    if isinstance(vault_row, UUID):
        return vault_row
    try:
        return UUID(str(vault_row))
    except ValueError:
        raise AppointmentNotFound() from None


def _lock(*, vault_row: UUID | str) -> Appointment:
    """The appointment `vault_row` names, locked after its agenda (see the module docstring)."""
    return lock_appointment(Appointment.objects.filter(vault_row=_as_uuid(vault_row)))


def _check_version(*, appointment: Appointment, version: int) -> None:
    if calendar_sequence(appointment) != version:
        raise ActionLinkStale()
