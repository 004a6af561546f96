from datetime import date

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from carnet.api.auth import user_auth
from carnet.api.types import Id, InputSchema
from carnet.booking.access import access_agenda_day, access_patient_file
from carnet.booking.models import Appointment

router = Router(tags=["practice staff"], auth=user_auth)


class DayIn(InputSchema):
    day: date


class StaffAppointmentOut(Schema):
    id: int
    status: str
    start: str
    end: str
    motive: str
    patient: int
    patient_name: str


class PatientFileIn(InputSchema):
    reason: str = Field(
        default="",
        max_length=500,
        description="Required to open the file of a patient with no appointment here (break-glass)",
    )


class PatientFileOut(Schema):
    id: int
    first_name: str
    last_name: str
    break_glass: bool
    appointments: list[StaffAppointmentOut]


def _row(appointment: Appointment) -> dict:
    zone = appointment.agenda.zone
    return {
        "id": appointment.pk,
        "status": appointment.status,
        "start": appointment.starts_at.astimezone(zone).isoformat(),
        "end": appointment.ends_at.astimezone(zone).isoformat(),
        "motive": appointment.motive.name,
        "patient": appointment.patient_id,
        "patient_name": str(appointment.patient),
    }


def _staff_actor(request: HttpRequest) -> dict:
    """Actor arguments of the gates: an API client, or staff whose session is checked for MFA."""
    if getattr(request, "carnet_actor", "") == Appointment.Actor.API:
        return {
            "actor": request.auth,
            "actor_kind": Appointment.Actor.API,
            "request": None,
        }
    return {
        "actor": request.auth,
        "actor_kind": Appointment.Actor.STAFF,
        "request": request,
    }


@router.get(
    "/pro/agendas/{agenda_id}/appointments",
    response=list[StaffAppointmentOut],
    summary="An agenda's appointments on one day (staff)",
)
def agenda_day(request: HttpRequest, agenda_id: Id, params: Query[DayIn]) -> list[dict]:
    agenda, appointments = access_agenda_day(
        agenda_id=agenda_id, day=params.day, **_staff_actor(request)
    )
    for appointment in appointments:
        appointment.agenda = agenda
    return [_row(a) for a in appointments]


@router.get(
    "/pro/practices/{practice_id}/patients/{patient_id}",
    response=PatientFileOut,
    summary="A patient's file at a practice (staff)",
)
def patient_file(
    request: HttpRequest,
    practice_id: Id,
    patient_id: Id,
    params: Query[PatientFileIn],
) -> dict:
    file = access_patient_file(
        practice_id=practice_id,
        patient_id=patient_id,
        reason=params.reason,
        **_staff_actor(request),
    )
    return {
        "id": file.patient.pk,
        "first_name": file.patient.first_name,
        "last_name": file.patient.last_name,
        "break_glass": file.break_glass,
        "appointments": [_row(a) for a in file.appointments],
    }
