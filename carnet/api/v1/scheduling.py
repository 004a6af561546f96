from datetime import date

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from carnet.api.types import Id, InputSchema
from carnet.booking.selectors import MAX_DAYS, list_free_slots
from carnet.scheduling.selectors import get_motive

router = Router(tags=["availability"])


class AvailabilityIn(InputSchema):
    motive: Id
    from_: date | None = Field(default=None, alias="from")
    days: int = Field(default=7, ge=1, le=MAX_DAYS)


class AvailabilityOut(Schema):
    agenda: Id
    motive: Id
    timezone: str
    slots: list[str]


@router.get(
    "/agendas/{agenda_id}/availability",
    response=AvailabilityOut,
    summary="Free start times of a motive on an agenda",
)
def availability(
    request: HttpRequest, agenda_id: Id, params: Query[AvailabilityIn]
) -> dict:
    motive = get_motive(agenda_id=agenda_id, motive_id=params.motive)
    zone = motive.agenda.zone
    now = timezone.now()
    first_day = params.from_ or now.astimezone(zone).date()
    slots = list_free_slots(
        motive=motive, first_day=first_day, days=params.days, now=now
    )
    return {
        "agenda": agenda_id,
        "motive": motive.pk,
        "timezone": motive.agenda.time_zone,
        "slots": [slot.astimezone(zone).isoformat() for slot in slots],
    }
