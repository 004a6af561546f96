"""The one-click answers to a reminder: "I'll be there" and "Cancel" (/a/<token>/).

No login: the signed token (carnet.notifications.links) is the credential,
and it says which appointment, which version of it and which action. GET
never acts (mail scanners and link previews fetch URLs on their own): it
shows the appointment's time, practitioner and place, never the visit's
motive or reason, and one button, a form that POSTs to the same address
(CSRF-protected: it is our own page). POST acts through one booking service
(carnet.booking.patient_actions), which judges the version and the cut-off
again at that moment.

The token is a bearer credential: every answer is `no-store`, without
referrer and kept out of search engines, and an answer that is not a
success is marked as already logged, so that Django's request log does not
write its path (the token) down.
"""

from datetime import datetime

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from carnet.booking.errors import (
    ActionLinkStale,
    AppointmentNotFound,
    CancellationTooLate,
)
from carnet.booking.models import Appointment, ConfirmedVia
from carnet.booking.patient_actions import (
    cancel_appointment_by_patient,
    check_can_cancel,
    check_can_confirm,
    confirm_appointment_by_patient,
    get_appointment_by_reference,
)
from carnet.core.errors import DomainError
from carnet.core.security import no_store
from carnet.notifications.links import (
    ACTION_CANCEL,
    ACTION_CONFIRM,
    ActionToken,
    ActionTokenError,
    ActionTokenExpired,
    ActionTokenInvalid,
    read_action_token,
)
from carnet.web.bearer_pages import private

RESULT_CONFIRMED = "confirmed"
RESULT_CANCELLED = "cancelled"
RESULT_TOO_LATE = "too_late"
RESULT_STALE = "stale"
RESULT_CLOSED = "closed"


def _details(appointment: Appointment) -> dict[str, object]:
    return {"appointment": appointment, "zone": appointment.agenda.zone}


def _invalid(request: HttpRequest, error: ActionTokenError) -> HttpResponse:
    """One page for every link that opens nothing: never says which check failed."""
    return render(
        request, "web/action_invalid.html", {"message": error.render()}, status=404
    )


def _expired(request: HttpRequest, error: ActionTokenExpired) -> HttpResponse:
    """An authentic link past its time: which practice to call, when it is still known."""
    try:
        appointment = get_appointment_by_reference(
            vault_row=error.token.appointment_ref
        )
    except AppointmentNotFound:
        practice = None
    else:
        practice = appointment.agenda.practice
    return render(
        request,
        "web/action_invalid.html",
        {"message": error.render(), "practice": practice},
        status=410,
    )


def _result(
    request: HttpRequest,
    appointment: Appointment,
    result: str,
    *,
    message: str = "",
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "web/action_result.html",
        {
            **_details(appointment),
            "result": result,
            "message": message,
            "practice": appointment.agenda.practice,
        },
        status=status,
    )


def _refused(
    request: HttpRequest, appointment: Appointment, error: DomainError
) -> HttpResponse:
    """The booking rules' refusal, as a result page (the appointment as it is now)."""
    if isinstance(error, AppointmentNotFound):
        return _invalid(request, ActionTokenInvalid())
    if isinstance(error, ActionLinkStale):
        result = RESULT_STALE
    elif isinstance(error, CancellationTooLate):
        result = RESULT_TOO_LATE
    else:
        result = RESULT_CLOSED
    return _result(request, appointment, result, message=error.render(), status=409)


def _show(
    request: HttpRequest, link: ActionToken, appointment: Appointment, now: datetime
) -> HttpResponse:
    """GET: what pressing the button would do, or why it cannot; never acts."""
    try:
        if link.action == ACTION_CONFIRM:
            check_can_confirm(appointment=appointment, version=link.version, now=now)
        elif appointment.status == Appointment.Status.CANCELLED:
            return _result(request, appointment, RESULT_CANCELLED)
        else:
            check_can_cancel(appointment=appointment, version=link.version, now=now)
    except DomainError as exc:
        return _refused(request, appointment, exc)
    if link.action == ACTION_CONFIRM and appointment.confirmed_at is not None:
        return _result(request, appointment, RESULT_CONFIRMED)
    return render(
        request,
        "web/action.html",
        {**_details(appointment), "action": link.action},
    )


def _act(request: HttpRequest, link: ActionToken, now: datetime) -> HttpResponse:
    """POST: the one service the token names, then its result page."""
    try:
        if link.action == ACTION_CONFIRM:
            done = confirm_appointment_by_patient(
                vault_row=link.appointment_ref,
                version=link.version,
                via=ConfirmedVia.LINK,
                now=now,
            )
            result = RESULT_CONFIRMED
        else:
            done = cancel_appointment_by_patient(
                vault_row=link.appointment_ref, version=link.version, now=now
            )
            result = RESULT_CANCELLED
    except DomainError as exc:
        # Shown as it is now: a refusal may be about a change made meanwhile.
        try:
            current = get_appointment_by_reference(vault_row=link.appointment_ref)
        except AppointmentNotFound:
            return _invalid(request, ActionTokenInvalid())
        return _refused(request, current, exc)
    return _result(request, done, result)


@no_store
@require_http_methods(["GET", "HEAD", "POST"])
def appointment_action(request: HttpRequest, token: str) -> HttpResponse:
    """A reminder's link: GET shows one button, POST confirms or cancels."""
    now = timezone.now()
    try:
        link = read_action_token(token, now=now)
    except ActionTokenExpired as exc:
        return private(_expired(request, exc))
    except ActionTokenError as exc:
        return private(_invalid(request, exc))
    if link.action not in (ACTION_CONFIRM, ACTION_CANCEL):
        # Another kind of link (a waiting-list offer has its own page).
        return private(_invalid(request, ActionTokenInvalid()))
    if request.method == "POST":
        return private(_act(request, link, now))
    try:
        appointment = get_appointment_by_reference(vault_row=link.appointment_ref)
    except AppointmentNotFound:
        return private(_invalid(request, ActionTokenInvalid()))
    return private(_show(request, link, appointment, now))
