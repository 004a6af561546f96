"""The team page of a practice, and the page where an invitee accepts an invitation.

The team page is for those who may manage the team (carnet.accounts
services' gate): members with their roles and second factor, invitations
still open, and the forms that change them. Someone with no role at the
practice gets 404, a role that may not manage the team 403.

The acceptance page takes the raw token in its query string (?token=...):
the logs drop query strings (carnet.core.logging.scrub); the view moves it
into the session at once and redirects to the bare address. It works for any logged-in user, staff or not: the second
factor is asked for afterwards, before any staff page opens
(StaffMfaMiddleware).
"""

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from carnet.accounts.models import Invitation, StaffMembership
from carnet.accounts.roles import has_mfa
from carnet.accounts.selectors import (
    get_invitation_for_token,
    list_invitations,
    list_team,
)
from carnet.accounts.team import (
    accept_invitation,
    change_role,
    invite_member,
    remove_member,
    revoke_invitation,
)
from carnet.core.errors import DomainError
from carnet.core.security import no_store
from carnet.directory.models import Practice
from carnet.pro.emails import send_invitation
from carnet.pro.forms_team import InviteForm, RoleForm
from carnet.pro.workspace import practice_context, practice_zone, refuse, see_other

TOKEN_MAX_LENGTH = 200
TOKEN_SESSION_KEY = "carnet_invitation_token"  # noqa: S105 - a key, not a secret


def _team_context(request: HttpRequest, practice_id: int) -> dict[str, Any]:
    """The gate (list_team), then everything the team page shows."""
    try:
        members = list(
            list_team(actor=request.user, practice_id=practice_id, request=request)
        )
        invitations = list(
            list_invitations(
                actor=request.user, practice_id=practice_id, request=request
            )
        )
    except DomainError as exc:
        refuse(exc)
    practice = Practice.objects.get(pk=practice_id)
    now = timezone.now()
    rows = [
        {
            "invitation": invitation,
            "expired": invitation.status(now) == Invitation.Status.EXPIRED,
        }
        for invitation in invitations
    ]
    member_rows = [
        {
            "membership": membership,
            "has_mfa": has_mfa(membership.user),
            "is_you": membership.user_id == request.user.pk,
            "role_form": RoleForm(
                initial={"role": membership.role}, prefix=f"m{membership.pk}"
            ),
        }
        for membership in members
    ]
    return {
        **practice_context(request, practice, area="team"),
        "members": member_rows,
        "invitations": rows,
        "zone": practice_zone(practice.pk),
        "invite_form": InviteForm(),
        "error": None,
    }


def _render_team(
    request: HttpRequest, practice_id: int, *, status: int = 200, **overrides: Any
) -> HttpResponse:
    context = _team_context(request, practice_id)
    context.update(overrides)
    return render(request, "pro/team/team.html", context, status=status)


def _back_to_team(practice_id: int) -> HttpResponse:
    return see_other(reverse("pro:team", kwargs={"practice_id": practice_id}))


def _gate_refusal(exc: DomainError) -> bool:
    """Whether a service's refusal is the gate's (who may act), not the input's."""
    return exc.kind == "forbidden" or exc.code == "practice_not_found"


def _sent(request: HttpRequest, invitation: Invitation, raw: str) -> None:
    """Send the e-mail and say how it went."""
    if send_invitation(invitation=invitation, raw_token=raw, inviter=request.user):
        messages.success(
            request,
            _("Invitation sent to {email}.").format(email=invitation.email),
        )
    else:
        messages.warning(
            request,
            _(
                "The invitation to {email} is saved, but the e-mail could not be "
                "sent. Try “Send again” in a moment."
            ).format(email=invitation.email),
        )


@login_required
@require_GET
def team(request: HttpRequest, practice_id: int) -> HttpResponse:
    """Members and their roles, open invitations, and the invitation form."""
    return _render_team(request, practice_id)


@login_required
@require_POST
def invite(request: HttpRequest, practice_id: int) -> HttpResponse:
    """Invite someone by e-mail in a role; the e-mail carries the one-time link."""
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            invitation, raw = invite_member(
                actor=request.user,
                practice_id=practice_id,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                request=request,
            )
        except DomainError as exc:
            if _gate_refusal(exc):
                refuse(exc)
            form.add_error(
                "role" if exc.code in {"role_invalid", "already_member"} else "email",
                exc.render(),
            )
        else:
            _sent(request, invitation, raw)
            return _back_to_team(practice_id)
    return _render_team(request, practice_id, status=400, invite_form=form)


def _open_invitation(request: HttpRequest, practice_id: int, invitation_id: int):
    """One of the practice's open invitations (gate: list_invitations), or 404."""
    try:
        invitation = (
            list_invitations(
                actor=request.user, practice_id=practice_id, request=request
            )
            .filter(pk=invitation_id)
            .first()
        )
    except DomainError as exc:
        refuse(exc)
    if invitation is None:
        raise Http404
    return invitation


@login_required
@require_POST
def resend_invitation(
    request: HttpRequest, practice_id: int, invitation_id: int
) -> HttpResponse:
    """Send an open or expired invitation again: a new link, the old one stops working."""
    previous = _open_invitation(request, practice_id, invitation_id)
    try:
        invitation, raw = invite_member(
            actor=request.user,
            practice_id=practice_id,
            email=previous.email,
            role=previous.role,
            request=request,
        )
    except DomainError as exc:
        if _gate_refusal(exc):
            refuse(exc)
        return _render_team(request, practice_id, status=400, error=exc.render())
    _sent(request, invitation, raw)
    return _back_to_team(practice_id)


@login_required
@require_POST
def withdraw_invitation(
    request: HttpRequest, practice_id: int, invitation_id: int
) -> HttpResponse:
    """Withdraw an invitation: its link stops working."""
    try:
        invitation = revoke_invitation(
            actor=request.user,
            practice_id=practice_id,
            invitation_id=invitation_id,
            request=request,
        )
    except DomainError as exc:
        if _gate_refusal(exc) or exc.code == "invitation_not_found":
            refuse(exc)
        return _render_team(request, practice_id, status=400, error=exc.render())
    messages.success(
        request,
        _("The invitation to {email} was withdrawn.").format(email=invitation.email),
    )
    return _back_to_team(practice_id)


@login_required
@require_POST
def member_role(
    request: HttpRequest, practice_id: int, membership_id: int
) -> HttpResponse:
    """Give a member another role (the last administrator stays one)."""
    form = RoleForm(request.POST, prefix=f"m{membership_id}")
    if not form.is_valid():
        return _render_team(
            request,
            practice_id,
            status=400,
            error=_(
                "Choose a role: practitioner, secretary or practice administrator."
            ),
        )
    try:
        change_role(
            actor=request.user,
            practice_id=practice_id,
            membership_id=membership_id,
            role=form.cleaned_data["role"],
            request=request,
        )
    except DomainError as exc:
        if _gate_refusal(exc) or exc.code == "membership_not_found":
            refuse(exc)
        return _render_team(request, practice_id, status=400, error=exc.render())
    messages.success(request, _("The role was changed."))
    return _back_to_team(practice_id)


@login_required
@require_POST
def member_remove(
    request: HttpRequest, practice_id: int, membership_id: int
) -> HttpResponse:
    """Take a role away from a member (the last administrator cannot leave)."""
    try:
        remove_member(
            actor=request.user,
            practice_id=practice_id,
            membership_id=membership_id,
            request=request,
        )
    except DomainError as exc:
        if _gate_refusal(exc) or exc.code == "membership_not_found":
            refuse(exc)
        return _render_team(request, practice_id, status=400, error=exc.render())
    messages.success(request, _("The member was removed from the team."))
    return _back_to_team(practice_id)


# -- the invitee's side -------------------------------------------------------------


def _invitation_problem(invitation: Invitation | None, now: datetime) -> str:
    """Why this invitation cannot be accepted, or "" when it can."""
    if invitation is None:
        return _("This invitation does not exist. Check the link you received.")
    status = invitation.status(now)
    if status == Invitation.Status.REVOKED:
        return _("This invitation was withdrawn by the practice.")
    if status == Invitation.Status.ACCEPTED:
        return _("This invitation has already been accepted.")
    if status == Invitation.Status.EXPIRED:
        return _(
            "This invitation has expired. Ask the practice administrator to send a new one."
        )
    return ""


def _after_joining(request: HttpRequest, membership: StaffMembership) -> HttpResponse:
    practice = Practice.objects.get(pk=membership.practice_id)
    messages.success(
        request,
        _("You joined the team of {practice} as {role}.").format(
            practice=practice.name, role=membership.get_role_display()
        ),
    )
    if not has_mfa(request.user):
        messages.info(
            request,
            _(
                "Set up two-factor authentication now: the practice's pages open "
                "only after it."
            ),
        )
        return redirect("mfa_index")
    return redirect("pro:home")


@no_store
@login_required
@require_http_methods(["GET", "POST"])
def accept(request: HttpRequest) -> HttpResponse:
    """GET: the practice and role the invitation offers; POST: join the team.

    The link's ?token= is moved into the session at once and the browser sent
    to the bare address, so the token leaves the address bar and the history
    and is never written into a page.
    """
    if request.method == "GET" and "token" in request.GET:
        request.session[TOKEN_SESSION_KEY] = request.GET["token"][
            : TOKEN_MAX_LENGTH + 1
        ]
        return redirect("pro:invitation-accept")
    raw = request.session.get(TOKEN_SESSION_KEY, "")
    error = ""
    if request.method == "POST":
        try:
            membership = accept_invitation(user=request.user, raw_token=raw)
        except DomainError as exc:
            error = exc.render()
        else:
            request.session.pop(TOKEN_SESSION_KEY, None)
            return _after_joining(request, membership)
    invitation = get_invitation_for_token(raw=raw)
    problem = _invitation_problem(invitation, timezone.now())
    if invitation is None:
        status = 404
    elif problem or error:
        status = 400
    else:
        status = 200
    context = {
        "invitation": None if problem else invitation,
        "problem": problem,
        "error": error,
        "needs_mfa": not has_mfa(request.user),
    }
    return render(request, "pro/team/accept.html", context, status=status)
