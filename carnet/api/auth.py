"""Who is calling: the site's session, or a bearer token minted by `mint_token`."""

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from carnet.accounts.selectors import get_user_for_token
from carnet.booking.models import Appointment


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = get_user_for_token(raw=token)
        if user is not None:
            request.carnet_actor = Appointment.Actor.API  # type: ignore[attr-defined]
            request.carnet_client = "API"  # type: ignore[attr-defined]
        return user


class Session(SessionAuth):
    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is not None:
            request.carnet_actor = Appointment.Actor.PATIENT  # type: ignore[attr-defined]
        return user


user_auth = [BearerToken(), Session()]


def actor_of(request: HttpRequest) -> str:
    """The kind of actor for the audit and the appointment: API client or patient."""
    return getattr(request, "carnet_actor", Appointment.Actor.PATIENT)
