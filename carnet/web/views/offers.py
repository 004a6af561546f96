"""A waiting-list offer's page (/offers/<token>/): book the freed time, or let it go.

No login: the signed token (carnet.notifications.links, action "offer") is
the credential and names the offer. GET never acts (mail scanners and link
previews fetch URLs on their own): it shows the time, the practitioner and
the place, never the visit's motive or reason, until when the time is held,
and two buttons, forms that POST to the same address with an `action`
field ("accept" or "decline"). POST calls one service
(carnet.booking.offers.accept_offer or decline_offer) and shows the result.

The token is a bearer credential: every answer is `no-store`, without
referrer and kept out of search engines, and an answer that is not a
success is marked as already logged, so that Django's request log does not
write its path (the token) down.
"""

from datetime import datetime

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from carnet.booking import offers
from carnet.booking.errors import OfferExpired, OfferNotFound
from carnet.booking.models import WaitlistOffer
from carnet.core.errors import DomainError
from carnet.core.security import no_store
from carnet.web.bearer_pages import private

ACCEPT = "accept"
DECLINE = "decline"

STATE_OPEN = "open"
STATE_BOOKED = "booked"
STATE_DECLINED = "declined"
STATE_EXPIRED = "expired"

Status = WaitlistOffer.Status


def _state(offer: WaitlistOffer, now: datetime) -> str:
    if offer.status == Status.ACCEPTED:
        return STATE_BOOKED
    if offer.status == Status.DECLINED:
        return STATE_DECLINED
    if offer.is_open_at(now):
        return STATE_OPEN
    return STATE_EXPIRED


def _invalid(request: HttpRequest, error: DomainError) -> HttpResponse:
    """One page for every link that opens nothing: never says which check failed."""
    return render(
        request, "web/offer_invalid.html", {"message": error.render()}, status=404
    )


def _page(
    request: HttpRequest,
    offer: WaitlistOffer,
    now: datetime,
    *,
    message: str = "",
    status: int | None = None,
) -> HttpResponse:
    state = _state(offer, now)
    releasable = (
        offers.get_releasable_appointment(offer=offer) if state == STATE_OPEN else None
    )
    if status is None:
        status = 410 if state == STATE_EXPIRED else 200
    return render(
        request,
        "web/offer.html",
        {
            "offer": offer,
            "zone": offer.agenda.zone,
            "state": state,
            "message": message,
            "releasable": releasable,
            "practice": offer.agenda.practice,
            "accept": ACCEPT,
            "decline": DECLINE,
        },
        status=status,
    )


def _answer(request: HttpRequest, token: str, now: datetime) -> HttpResponse:
    """POST: the service the button names, then the offer as it is now."""
    action = request.POST.get("action", "")
    try:
        if action == ACCEPT:
            offers.accept_offer(token=token, now=now)
        elif action == DECLINE:
            offers.decline_offer(token=token, now=now)
        else:
            current = offers.get_offer(token=token, now=now)
            return _page(
                request,
                current,
                now,
                message=_("Choose “Book this time” or “No thanks”."),
                status=400,
            )
    except OfferNotFound as exc:
        return _invalid(request, exc)
    except DomainError as exc:
        # Shown as it is now: the refusal may be about a change made meanwhile.
        try:
            current = offers.get_offer(token=token, now=now)
        except OfferNotFound as missing:
            return _invalid(request, missing)
        status = 410 if isinstance(exc, OfferExpired) else 409
        return _page(request, current, now, message=exc.render(), status=status)
    return _page(request, offers.get_offer(token=token, now=now), now)


@no_store
@require_http_methods(["GET", "HEAD", "POST"])
def offer(request: HttpRequest, token: str) -> HttpResponse:
    """A waiting-list offer's link: GET shows it, POST books it or declines it."""
    now = timezone.now()
    if request.method == "POST":
        return private(_answer(request, token, now))
    try:
        found = offers.get_offer(token=token, now=now)
    except OfferNotFound as exc:
        return private(_invalid(request, exc))
    return private(_page(request, found, now))
