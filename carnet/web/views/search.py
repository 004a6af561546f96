"""Home, search results and the practitioner page."""

from dataclasses import replace

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from carnet.booking.nextslots import ShownSlots, next_slots
from carnet.core.errors import DomainError
from carnet.directory.search import PAGE_SIZE, GeoPoint, SearchQuery, search
from carnet.directory.selectors import distance_km
from carnet.scheduling.models import VisitMotive
from carnet.web.forms import SearchForm
from carnet.web.selectors import (
    PractitionerNotFound,
    get_public_location,
    get_public_practitioner,
)
from carnet.web.slots import build_week, parse_week

SLOTS_PER_RESULT = 4


def _query(data: dict) -> SearchQuery:
    near = None
    if data.get("lat") is not None and data.get("lon") is not None:
        near = GeoPoint(data["lat"], data["lon"])
    return SearchQuery(
        q=data.get("q") or "",
        place=data.get("place") or "",
        near=near,
        video=bool(data.get("video")),
        language=data.get("language") or "",
        new_patients=bool(data.get("new_patients")),
        fee_sector=data.get("fee_sector") or "",
        available_within_days=data.get("within"),
        sort=data.get("sort") or "relevance",
        page=data.get("page") or 1,
    )


def _local(shown: ShownSlots | None) -> ShownSlots | None:
    """The same slots as aware times in the agenda's zone (their ISO form names it)."""
    if shown is None or shown.motive is None:
        return shown
    zone = shown.motive.agenda.zone
    return replace(shown, slots=[slot.astimezone(zone) for slot in shown.slots])


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html", {"form": SearchForm()})


@require_GET
def results(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    context: dict = {"form": form, "results": None, "error": None}
    if form.is_valid() and form.has_criteria():
        query = _query(form.cleaned_data)
        try:
            found = search(query)
        except DomainError as exc:
            context["error"] = exc.render()
        else:
            shown = next_slots(
                agenda_ids=[hit.entry.agenda_id for hit in found.items],
                new_patient=True,
                channel=VisitMotive.Channel.VIDEO if query.video else None,
                limit=SLOTS_PER_RESULT,
            )
            context["results"] = found
            context["hits"] = [
                (hit, _local(shown.get(hit.entry.agenda_id))) for hit in found.items
            ]
            context["query"] = query
            context["pages"] = _pages(request, found.count, query.page)
    template = "web/search/results.html"
    if request.headers.get("HX-Request") and not request.headers.get(
        "HX-History-Restore-Request"
    ):
        template = "web/search/_results.html"
    return render(request, template, context)


def _pages(request: HttpRequest, count: int, page: int) -> dict:
    """Links to the previous and next pages of results (the same query otherwise)."""
    last = max(1, -(-count // PAGE_SIZE))
    params = request.GET.copy()

    def url(number: int) -> str:
        params["page"] = str(number)
        return "?" + params.urlencode()

    return {
        "number": page,
        "last": last,
        "previous": url(page - 1) if page > 1 else None,
        "next": url(page + 1) if page < last else None,
    }


def _coordinate(value: str | None, limit: float) -> float | None:
    """A latitude (limit 90) or longitude (limit 180) from the query string, or None."""
    try:
        number = float(value) if value else None
    except ValueError:
        return None
    return number if number is not None and abs(number) <= limit else None


@require_GET
def practitioner(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        public = get_public_practitioner(pk=pk)
    except PractitionerNotFound:
        raise Http404 from None
    now = timezone.now()
    known = request.GET.get("known") == "1"
    asked_known = request.GET.get("known") in ("0", "1")
    lat = _coordinate(request.GET.get("lat"), 90)
    lon = _coordinate(request.GET.get("lon"), 180)
    here = GeoPoint(lat, lon) if lat is not None and lon is not None else None

    places = []
    for agenda in public.agendas:
        motives = [m for m in agenda.active_motives if known or m.open_to_new_patients]
        distance = (
            distance_km(
                here, GeoPoint(agenda.location.latitude, agenda.location.longitude)
            )
            if here
            else None
        )
        places.append({"agenda": agenda, "motives": motives, "distance_km": distance})

    chosen = None
    week = None
    motive_id = request.GET.get("motive", "")
    if motive_id.isdigit():
        for place in places:
            for motive in place["motives"]:
                if motive.pk == int(motive_id):
                    chosen = motive
    if chosen is not None:
        week = build_week(
            motive=chosen, week_start=parse_week(request.GET.get("week")), now=now
        )
    summary = next_slots(
        agenda_ids=[a.pk for a in public.agendas], new_patient=not known, limit=1
    )
    context = {
        "public": public,
        "practitioner": public.practitioner,
        "places": places,
        "known": known,
        "asked_known": asked_known,
        "chosen": chosen,
        "week": week,
        "nav_url": f"?known={int(known)}&motive={chosen.pk}" if chosen else "",
        "summary": summary,
        "bookable": any(s.motive is not None for s in summary.values()),
    }
    if week is not None and request.headers.get("HX-Request"):
        return render(request, "web/practitioner/_week.html", context)
    return render(request, "web/practitioner/page.html", context)


OPENSTREETMAP = "https://www.openstreetmap.org/?mlat={lat:.5f}&mlon={lon:.5f}#map=17/{lat:.5f}/{lon:.5f}"


@require_GET
def map_link(request: HttpRequest, location_id: int) -> HttpResponse:
    """Send the visitor who clicked "open in OpenStreetMap" there.

    Our pages never point at another host: the link is ours, and only this
    redirect, followed on the visitor's explicit click, leaves the site
    (Referrer-Policy no-referrer, so OpenStreetMap learns nothing of the page).
    """
    try:
        location = get_public_location(pk=location_id)
    except PractitionerNotFound:
        raise Http404 from None
    return HttpResponseRedirect(
        OPENSTREETMAP.format(lat=location.latitude, lon=location.longitude)
    )
