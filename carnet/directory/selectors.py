"""Reads on the directory: practitioner search (name, specialty, distance)."""

import math
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet

from carnet.directory.models import Practitioner, PractitionerRole

EARTH_RADIUS_KM = 6371.0088
PAGE_SIZE = 20


@dataclass(frozen=True, slots=True)
class GeoPoint:
    """A WGS 84 point."""

    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class PractitionerPage:
    """One page of a practitioner search, with the total count and distances (km)."""

    count: int
    items: list[Practitioner]
    distances_km: dict[int, float]


def distance_km(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle (haversine) distance between two points, in kilometres."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat = lat2 - lat1
    dlon = math.radians(b.lon - a.lon)
    h = (
        math.sin(dlat / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _bounding_box(center: GeoPoint, radius_km: float) -> Q:
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    cos_lat = max(math.cos(math.radians(center.lat)), 1e-6)
    dlon = min(180.0, math.degrees(radius_km / (EARTH_RADIUS_KM * cos_lat)))
    prefix = "roles__location__"
    return Q(
        **{
            f"{prefix}latitude__gte": center.lat - dlat,
            f"{prefix}latitude__lte": center.lat + dlat,
            f"{prefix}longitude__gte": center.lon - dlon,
            f"{prefix}longitude__lte": center.lon + dlon,
        }
    )


def _base_queryset(*, q: str, specialty: str) -> QuerySet[Practitioner]:
    practitioners = Practitioner.objects.filter(is_active=True, roles__is_active=True)
    if specialty:
        practitioners = practitioners.filter(specialty__code=specialty)
    for word in q.split()[:5]:
        practitioners = practitioners.filter(
            Q(last_name__icontains=word)
            | Q(first_name__icontains=word)
            | Q(roles__practice__name__icontains=word)
            | Q(specialty__name_fr__icontains=word)
            | Q(specialty__name_de__icontains=word)
            | Q(specialty__name_it__icontains=word)
            | Q(specialty__name_en__icontains=word)
            | Q(roles__location__city__icontains=word)
        )
    return practitioners


def _shaped(ids: list[int]) -> list[Practitioner]:
    roles = PractitionerRole.objects.filter(is_active=True).select_related(
        "practice", "location"
    )
    by_id = {
        p.pk: p
        for p in Practitioner.objects.filter(pk__in=ids)
        .select_related("specialty")
        .prefetch_related(
            Prefetch("roles", queryset=roles.order_by("pk"), to_attr="active_roles")
        )
    }
    return [by_id[i] for i in ids]


def search_practitioners(
    *,
    q: str = "",
    specialty: str = "",
    near: GeoPoint | None = None,
    radius_km: float = 10.0,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> PractitionerPage:
    """Active practitioners matching every word of `q`, a specialty code and a radius.

    With `near`, results are ordered by distance to their nearest location and
    limited to `radius_km`; otherwise by name. Items carry `active_roles`.
    """
    practitioners = _base_queryset(q=q.strip(), specialty=specialty.strip())
    offset = (page - 1) * page_size
    if near is None:
        ordered = (
            practitioners.order_by("last_name", "first_name", "pk")
            .values_list("pk", flat=True)
            .distinct()
        )
        count = ordered.count()
        ids = list(ordered[offset : offset + page_size])
        return PractitionerPage(count=count, items=_shaped(ids), distances_km={})
    rows = practitioners.filter(_bounding_box(near, radius_km)).values_list(
        "pk", "roles__location__latitude", "roles__location__longitude"
    )
    nearest: dict[int, float] = {}
    for pk, lat, lon in rows:
        d = distance_km(near, GeoPoint(lat, lon))
        if d <= radius_km and d < nearest.get(pk, math.inf):
            nearest[pk] = d
    ranked = sorted(nearest, key=lambda pk: (nearest[pk], pk))
    ids = ranked[offset : offset + page_size]
    return PractitionerPage(
        count=len(ranked),
        items=_shaped(ids),
        distances_km={pk: nearest[pk] for pk in ids},
    )
