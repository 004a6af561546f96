"""Staff sessions: 15 minutes idle, 12 hours in all, and a second factor for staff pages."""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from carnet.accounts.roles import has_mfa, is_staff_user, session_passed_mfa

STARTED = "carnet_staff_started_at"
LAST_SEEN = "carnet_staff_last_seen_at"


class StaffSessionMiddleware:
    """Log staff out after STAFF_SESSION_IDLE_SECONDS idle or STAFF_SESSION_ABSOLUTE_SECONDS.

    Patients keep Django's ordinary session lifetime. The next request after
    expiry is anonymous: pages send the user to the login page, the API
    answers 401.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and is_staff_user(user):
            now = int(time.time())
            session = request.session
            started = session.setdefault(STARTED, now)
            last_seen = session.get(LAST_SEEN, now)
            idle = now - last_seen > settings.STAFF_SESSION_IDLE_SECONDS
            too_old = now - started > settings.STAFF_SESSION_ABSOLUTE_SECONDS
            if idle or too_old:
                logout(request)
            else:
                session[LAST_SEEN] = now
        return self.get_response(request)


class StaffMfaMiddleware:
    """Staff pages (/pro/, /admin/) need a session that passed a second factor.

    A staff user without one is sent to the two-factor settings page; the
    gates in the services check the same rule again, whatever the interface.
    """

    PROTECTED = ("/pro/", "/admin/")
    EXEMPT = ("/admin/login/", "/admin/logout/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        if (
            path.startswith(self.PROTECTED)
            and not path.startswith(self.EXEMPT)
            and request.user.is_authenticated
            and is_staff_user(request.user)
            and not (has_mfa(request.user) and session_passed_mfa(request))
        ):
            messages.warning(
                request,
                _(
                    "Two-factor authentication is required before accessing patient data."
                ),
            )
            return redirect("mfa_index")
        return self.get_response(request)
