"""The practice's messages not delivered: reminders and notices that failed, for its team.

A failed delivery must be visible to staff, who can then reach the patient
another way. The list goes through carnet.notifications.selectors, which
checks the role and the second factor (any role of the team: the front desk
calls patients too) and records one read event per patient listed. No role
at the practice answers 404; nothing of the list is shown then.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from carnet.core.errors import DomainError
from carnet.core.security import no_store
from carnet.directory.models import Practice
from carnet.notifications.selectors import list_failed_messages
from carnet.pro.workspace import practice_context, practice_zone, refuse


def _page_number(raw: str) -> int:
    """The page asked for; anything but a positive number is the first page."""
    if not (raw.isdecimal() and len(raw) <= 9):
        return 1
    return max(int(raw), 1)


@login_required
@no_store
@require_GET
def failed_messages(request: HttpRequest, practice_id: int) -> HttpResponse:
    """The practice's failed messages, most recent first, with the outbox's last and next day."""
    try:
        found = list_failed_messages(
            actor=request.user,
            practice_id=practice_id,
            now=timezone.now(),
            page=_page_number(request.GET.get("page", "")),
            request=request,
        )
    except DomainError as exc:
        refuse(exc)
    practice = Practice.objects.filter(pk=practice_id).first()
    if practice is None:  # a platform admin asking for a practice that is gone
        raise Http404
    return render(
        request,
        "pro/messages/failed.html",
        {
            **practice_context(request, practice, area="messages"),
            "found": found,
            "zone": practice_zone(practice_id),
        },
    )
