from typing import Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from carnet.api.types import InputSchema
from carnet.booking.nextslots import next_slots
from carnet.directory.search import PAGE_SIZE, GeoPoint, SearchQuery, search
from carnet.scheduling.models import VisitMotive
from carnet.scheduling.selectors import list_agendas_for_practitioners

router = Router(tags=["directory"])

# The values of directory.models.FeeSector (a test keeps them in step), or "".
FeeSectorIn = Literal[
    "", "fr_1", "fr_2", "fr_nc", "de_gkv", "de_private", "it_ssn", "it_private"
]


class SearchIn(InputSchema):
    q: str = Field(
        default="",
        max_length=200,
        description="Words of a name, practice, specialty or city; accents, case "
        "and small typos do not matter; the last letters may be left out.",
    )
    specialty: str = Field(default="", max_length=64, description="Specialty code.")
    place: str = Field(
        default="",
        max_length=120,
        description="City or postcode (prefix); distances are then measured from "
        "its centre. Ignored when `near` is given.",
    )
    near: str = Field(default="", description="LAT,LON", max_length=64)
    radius_km: float = Field(
        default=10.0, gt=0, le=200, description="Only with `near`."
    )
    video: bool = Field(default=False, description="Offers video consultations.")
    language: str = Field(
        default="",
        pattern=r"^([a-z]{2})?$",
        description="Spoken language, ISO 639-1 (e.g. de).",
    )
    new_patients: bool = Field(default=False, description="Open to new patients.")
    fee_sector: FeeSectorIn = ""
    available_within_days: int | None = Field(
        default=None,
        ge=1,
        le=365,
        description="A free slot by the end of the day this many days from "
        "today (1 = today or tomorrow); video or new-patient slots when those "
        "filters are on.",
    )
    sort: Literal["", "relevance", "distance", "earliest"] = Field(
        default="",
        description="Default: distance with `near`, relevance otherwise. "
        "`distance` needs `near` or a `place`.",
    )
    page: int = Field(default=1, ge=1, le=10_000)


class PracticeOut(Schema):
    id: int
    name: str


class LocationOut(Schema):
    address: str
    city: str
    lat: float
    lon: float


class MotiveOut(Schema):
    id: int
    name: str
    duration_minutes: int
    channel: str


class AgendaOut(Schema):
    id: int
    motives: list[MotiveOut]


class NextSlotsOut(Schema):
    agenda: int
    motive: int
    motive_name: str
    slots: list[str] = Field(
        description="The next free start times (ISO 8601 in the agenda's zone), "
        "bookable now by a new patient (a video motive with `video`)."
    )


class PractitionerOut(Schema):
    id: int
    name: str
    specialty: str
    practice: PracticeOut | None
    location: LocationOut | None
    agendas: list[AgendaOut]
    distance_km: float | None = None
    languages: list[str] = []
    fee_sector: str = ""
    fees: str = ""
    video: bool = False
    new_patients: bool = False
    next_slots: NextSlotsOut | None = Field(
        default=None,
        description="Null when nothing is bookable online at this location.",
    )


class PractitionerListOut(Schema):
    count: int
    items: list[PractitionerOut]


def _parse_near(value: str) -> GeoPoint | None:
    from ninja.errors import ValidationError

    if not value:
        return None
    try:
        lat, lon = (float(part) for part in value.split(","))
    except ValueError:
        lat, lon = 999.0, 999.0
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValidationError(
            [
                {
                    "loc": ("query", "near"),
                    "type": "value_error",
                    "ctx": {
                        "message": _("Give a position as LAT,LON, e.g. 48.85,2.35.")
                    },
                }
            ]
        )
    return GeoPoint(lat, lon)


@router.get(
    "/practitioners", response=PractitionerListOut, summary="Search practitioners"
)
def list_practitioners(request: HttpRequest, filters: Query[SearchIn]) -> dict:
    near = _parse_near(filters.near)
    found = search(
        SearchQuery(
            q=filters.q,
            place=filters.place,
            near=near,
            radius_km=filters.radius_km,
            video=filters.video,
            language=filters.language,
            new_patients=filters.new_patients,
            fee_sector=filters.fee_sector,
            available_within_days=filters.available_within_days,
            sort=filters.sort or ("distance" if near else "relevance"),
            page=filters.page,
            page_size=PAGE_SIZE,
            specialty=filters.specialty,
        )
    )
    agendas = list_agendas_for_practitioners(
        practitioner_ids=[hit.entry.practitioner_id for hit in found.items]
    )
    shown = next_slots(
        agenda_ids=[hit.entry.agenda_id for hit in found.items],
        new_patient=True,
        channel=VisitMotive.Channel.VIDEO if filters.video else None,
    )
    items = []
    for hit in found.items:
        entry = hit.entry
        practitioner, location = entry.practitioner, entry.location
        items.append(
            {
                "id": practitioner.pk,
                "name": practitioner.display_name,
                "specialty": entry.specialty.name,
                "practice": {"id": entry.practice_id, "name": entry.practice.name},
                "location": {
                    "address": location.address,
                    "city": location.city,
                    "lat": location.latitude,
                    "lon": location.longitude,
                },
                "agendas": [
                    {
                        "id": agenda.pk,
                        "motives": [
                            {
                                "id": m.pk,
                                "name": m.name,
                                "duration_minutes": m.duration_minutes,
                                "channel": m.channel,
                            }
                            for m in agenda.active_motives
                        ],
                    }
                    for agenda in agendas[practitioner.pk]
                ],
                "distance_km": None
                if hit.distance_km is None
                else round(hit.distance_km, 2),
                "languages": entry.languages,
                "fee_sector": entry.fee_sector,
                "fees": practitioner.fees,
                "video": entry.has_video,
                "new_patients": entry.accepts_new_patients,
                "next_slots": _next_slots(shown.get(entry.agenda_id), entry.agenda_id),
            }
        )
    return {"count": found.count, "items": items}


def _next_slots(shown, agenda_id: int) -> dict | None:
    if shown is None or shown.motive is None:
        return None
    zone = shown.motive.agenda.zone
    return {
        "agenda": agenda_id,
        "motive": shown.motive.pk,
        "motive_name": shown.motive.name,
        "slots": [slot.astimezone(zone).isoformat() for slot in shown.slots],
    }
