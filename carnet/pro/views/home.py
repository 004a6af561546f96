"""The workspace's front page: the practices one works at and their agendas."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from carnet.accounts.roles import Permission, can
from carnet.pro.workspace import list_workspaces, menu_for


@login_required
@require_GET
def workspace_home(request: HttpRequest) -> HttpResponse:
    """Each practice of the user with its agendas and the areas their roles open."""
    practices = list_workspaces(user=request.user)
    rows = [
        (
            practice,
            menu_for(user=request.user, practice_id=practice.pk),
            can(request.user, Permission.MANAGE_ABSENCES, practice.pk),
        )
        for practice in practices
    ]
    return render(
        request,
        "pro/home.html",
        {"rows": rows, "today": timezone.localdate().isoformat()},
    )
