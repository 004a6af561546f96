from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.errors import ValidationError
from pydantic import AwareDatetime

from carnet.accounts.selectors import get_patient_for_user
from carnet.api.auth import actor_of, user_auth
from carnet.api.types import Id, InputSchema
from carnet.booking.access import access_own_appointments, list_access_events_for_user
from carnet.booking.models import Appointment
from carnet.booking.services import (
    book_appointment,
    cancel_appointment,
    reschedule_appointment,
)

router = Router(tags=["appointments"], auth=user_auth)


class BookIn(InputSchema):
    agenda: Id
    motive: Id
    start: AwareDatetime
    patient: Id | None = Field(default=None, description="A relative's patient id")
    reason: str = Field(default="", max_length=2000)
    answers: dict[str, str] = Field(
        default_factory=dict,
        description="Answers to the motive's booking questions, by question label",
    )


class CancelIn(InputSchema):
    reason: str = Field(default="", max_length=255)


class RescheduleIn(InputSchema):
    start: AwareDatetime


class AppointmentOut(Schema):
    id: int
    status: str
    start: str
    end: str
    agenda: Id
    motive: Id
    patient: int


def _out(appointment: Appointment) -> dict:
    zone = appointment.agenda.zone
    return {
        "id": appointment.pk,
        "status": appointment.status,
        "start": appointment.starts_at.astimezone(zone).isoformat(),
        "end": appointment.ends_at.astimezone(zone).isoformat(),
        "agenda": appointment.agenda_id,
        "motive": appointment.motive_id,
        "patient": appointment.patient_id,
    }


def _idempotency_key(request: HttpRequest) -> str | None:
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > 255:
        raise ValidationError(
            [
                {
                    "loc": ("header", "Idempotency-Key"),
                    "type": "value_error",
                    "ctx": {
                        "message": _("The Idempotency-Key is too long (255 at most).")
                    },
                }
            ]
        )
    return key or None


@router.post(
    "/appointments", response={201: AppointmentOut}, summary="Book an appointment"
)
def book(request: HttpRequest, payload: BookIn) -> Status:
    patient = get_patient_for_user(user=request.auth, patient_id=payload.patient)
    appointment = book_appointment(
        agenda_id=payload.agenda,
        motive_id=payload.motive,
        patient=patient,
        starts_at=payload.start,
        booked_by=request.auth,
        actor=actor_of(request),
        reason=payload.reason,
        answers=payload.answers,
        idempotency_key=_idempotency_key(request),
    )
    return Status(201, _out(appointment))


@router.post(
    "/appointments/{appointment_id}/cancel",
    response=AppointmentOut,
    summary="Cancel an appointment",
)
def cancel(
    request: HttpRequest, appointment_id: Id, payload: CancelIn | None = None
) -> dict:
    appointment = cancel_appointment(
        user=request.auth,
        appointment_id=appointment_id,
        actor=actor_of(request),
        reason=payload.reason if payload else "",
    )
    return _out(appointment)


@router.post(
    "/appointments/{appointment_id}/reschedule",
    response=AppointmentOut,
    summary="Move an appointment to another free time",
)
def reschedule(request: HttpRequest, appointment_id: Id, payload: RescheduleIn) -> dict:
    appointment = reschedule_appointment(
        user=request.auth,
        appointment_id=appointment_id,
        starts_at=payload.start,
        actor=actor_of(request),
    )
    return _out(appointment)


@router.get(
    "/me/appointments", response=list[AppointmentOut], summary="My appointments"
)
def my_appointments(request: HttpRequest) -> list[dict]:
    appointments = access_own_appointments(
        user=request.auth,
        actor_kind=actor_of(request),
        actor_label=getattr(request, "carnet_client", ""),
    )
    return [_out(a) for a in appointments]


class AccessEventOut(Schema):
    at: str
    patient: int
    actor_kind: str
    actor: str
    action: str
    purpose: str
    flagged: bool


@router.get(
    "/me/access-log",
    response=list[AccessEventOut],
    summary="Who accessed my data (and my relatives')",
)
def my_access_log(request: HttpRequest) -> list[dict]:
    return [
        {
            "at": event.occurred_at.isoformat(),
            "patient": patient_id,
            "actor_kind": event.actor_kind,
            "actor": event.actor_label,
            "action": event.get_action_display(),
            "purpose": event.get_purpose_display(),
            "flagged": event.flagged,
        }
        for patient_id, event in list_access_events_for_user(user=request.auth)
    ]
