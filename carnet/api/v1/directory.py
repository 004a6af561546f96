from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from carnet.directory.selectors import GeoPoint, search_practitioners
from carnet.scheduling.selectors import list_agendas_for_practitioners

router = Router(tags=["directory"])


class SearchIn(Schema):
    q: str = Field(default="", max_length=200)
    specialty: str = Field(default="", max_length=64)
    near: str = Field(default="", description="LAT,LON", max_length=64)
    radius_km: float = Field(default=10.0, gt=0, le=200)
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


class PractitionerOut(Schema):
    id: int
    name: str
    specialty: str
    practice: PracticeOut | None
    location: LocationOut | None
    agendas: list[AgendaOut]
    distance_km: float | None = None


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
    page = search_practitioners(
        q=filters.q,
        specialty=filters.specialty,
        near=_parse_near(filters.near),
        radius_km=filters.radius_km,
        page=filters.page,
    )
    agendas = list_agendas_for_practitioners(
        practitioner_ids=[p.pk for p in page.items]
    )
    items = []
    for practitioner in page.items:
        role = practitioner.active_roles[0] if practitioner.active_roles else None
        items.append(
            {
                "id": practitioner.pk,
                "name": practitioner.display_name,
                "specialty": practitioner.specialty.name,
                "practice": {"id": role.practice_id, "name": role.practice.name}
                if role
                else None,
                "location": {
                    "address": role.location.address,
                    "city": role.location.city,
                    "lat": role.location.latitude,
                    "lon": role.location.longitude,
                }
                if role
                else None,
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
                "distance_km": round(page.distances_km[practitioner.pk], 2)
                if practitioner.pk in page.distances_km
                else None,
            }
        )
    return {"count": page.count, "items": items}
