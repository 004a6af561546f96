"""What every workspace page shares: the practice being worked on and its menu.

`practice_context(request, practice_id)` answers the menu of the shared
layout (templates pro/base.html): the practice, its agendas and the areas the
user's roles open. Views call it after their own gate, so it never decides
access; it only hides links to pages that would refuse.
"""

from dataclasses import dataclass
from typing import Any, NoReturn

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from carnet.accounts.errors import MfaRequired, NotAllowedForRole
from carnet.accounts.models import StaffMembership
from carnet.accounts.roles import Permission, permissions_for
from carnet.core.errors import DomainError
from carnet.directory.models import Practice
from carnet.scheduling.models import Agenda
from carnet.vault.errors import KeyDestroyed


def refuse(exc: DomainError) -> NoReturn:
    """A gate's refusal as a page's answer, telling nothing of what is behind it.

    403 for a role that may not, a missing second factor or any other
    "forbidden" refusal; 404 for everything else (not a member of the
    practice, no such agenda or patient there).
    """
    if isinstance(exc, NotAllowedForRole | MfaRequired) or exc.kind == "forbidden":
        raise PermissionDenied(exc.render()) from exc
    raise Http404 from exc


def patient_phone(patient: Any) -> tuple[str, bool]:
    """The patient's phone number, and whether it was erased with their data key."""
    try:
        return patient.phone, False
    except KeyDestroyed:
        return "", True


def see_other(url: str) -> HttpResponse:
    """Redirect after a POST (303: the browser follows with a GET)."""
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


@dataclass(frozen=True)
class MenuItem:
    """One entry of the workspace menu."""

    key: str
    label: Any
    url: str


# (key, label, URL name taking practice_id, permission that opens it)
AREAS: tuple[tuple[str, Any, str, Permission], ...] = (
    ("agenda", _("Agenda"), "pro:practice-agenda", Permission.VIEW_AGENDA),
    ("patients", _("Patients"), "pro:patients", Permission.VIEW_CONTACT_DETAILS),
    ("waitlist", _("Waiting list"), "pro:waiting-list", Permission.VIEW_WAITING_LIST),
    ("noshows", _("No-shows"), "pro:no-shows", Permission.MANAGE_NO_SHOW_POLICY),
    (
        "messages",
        _("Messages not delivered"),
        "pro:messages",
        Permission.VIEW_CONTACT_DETAILS,
    ),
    ("settings", _("Settings"), "pro:settings", Permission.MANAGE_SETTINGS),
    ("team", _("Team"), "pro:team", Permission.MANAGE_TEAM),
)


def _reverse_or_none(name: str, practice_id: int) -> str | None:
    from django.urls import NoReverseMatch

    try:
        return reverse(name, kwargs={"practice_id": practice_id})
    except NoReverseMatch:  # an area not built yet
        return None


def menu_for(*, user: AbstractBaseUser, practice_id: int) -> list[MenuItem]:
    """The areas of the practice this user's roles open, in menu order."""
    granted = permissions_for(user=user, practice_id=practice_id)
    items = []
    for key, label, url_name, permission in AREAS:
        if permission in granted:
            url = _reverse_or_none(url_name, practice_id)
            if url:
                items.append(MenuItem(key=key, label=label, url=url))
    return items


def list_workspaces(*, user: AbstractBaseUser) -> list[Practice]:
    """The practices where the user holds an active role, by name, agendas attached."""
    practice_ids = StaffMembership.objects.filter(
        user_id=user.pk, is_active=True
    ).values("practice_id")
    practices = list(
        Practice.objects.filter(pk__in=practice_ids).order_by("name", "pk")
    )
    agendas: dict[int, list[Agenda]] = {}
    for agenda in (
        Agenda.objects.filter(practice__in=practices)
        .select_related("practitioner", "location")
        .order_by("practitioner__last_name", "name", "pk")
    ):
        agendas.setdefault(agenda.practice_id, []).append(agenda)
    for practice in practices:
        practice.workspace_agendas = agendas.get(practice.pk, [])  # type: ignore[attr-defined]
    return practices


def practice_zone(practice_id: int) -> str:
    """The time zone the practice's dates are shown in: its first agenda's."""
    zone = (
        Agenda.objects.filter(practice_id=practice_id)
        .order_by("pk")
        .values_list("time_zone", flat=True)
        .first()
    )
    return zone or settings.TIME_ZONE


def practice_context(
    request: HttpRequest, practice: Practice, *, area: str = ""
) -> dict[str, Any]:
    """Template context of the shared layout: the practice, its menu, the current area."""
    return {
        "practice": practice,
        "workspace_menu": menu_for(user=request.user, practice_id=practice.pk),
        "workspace_area": area,
    }
