"""The practice's no-show page: its policy, patients' current strikes, pending excuses.

Per practice, never platform-wide. The gate is MANAGE_NO_SHOW_POLICY (the
practitioners and the administrator, not the front desk) with a second
factor: no role at the practice answers 404, another role 403. Every
patient listed is recorded in the audit trail (carnet.booking.policy).
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from carnet.accounts.roles import Permission, require_permission
from carnet.booking.models import Strike
from carnet.booking.policy import (
    decide_excuse,
    get_no_show_policy,
    get_practice_no_shows,
    update_no_show_policy,
)
from carnet.core.errors import DomainError
from carnet.directory.models import Practice
from carnet.pro.forms_waitlist import DecisionForm, NoShowPolicyForm
from carnet.pro.workspace import practice_context, refuse
from carnet.vault.errors import KeyDestroyed


def _gate(request: HttpRequest, practice_id: int) -> Practice:
    try:
        require_permission(
            user=request.user,
            practice_id=practice_id,
            permission=Permission.MANAGE_NO_SHOW_POLICY,
            request=request,
        )
    except DomainError as exc:
        refuse(exc)
    return Practice.objects.get(pk=practice_id)


def _excuse(strike: Strike) -> str:
    try:
        return strike.excuse_text
    except KeyDestroyed:
        return ""


def _policy_form(practice_id: int, data: Any = None) -> NoShowPolicyForm:
    policy = get_no_show_policy(practice_id=practice_id)
    return NoShowPolicyForm(
        data,
        initial={
            "enabled": policy.enabled,
            "strikes_to_block": policy.strikes_to_block,
            "strike_expiry_days": policy.strike_expiry_days,
        },
    )


def _page(
    request: HttpRequest,
    practice: Practice,
    *,
    form: NoShowPolicyForm,
    decision_error: tuple[int, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    try:
        overview = get_practice_no_shows(
            actor=request.user,
            practice_id=practice.pk,
            now=timezone.now(),
            request=request,
        )
    except DomainError as exc:
        refuse(exc)
    context = {
        **practice_context(request, practice, area="noshows"),
        "form": form,
        "overview": overview,
        "pending": [(strike, _excuse(strike)) for strike in overview.pending],
        "decision_error": decision_error,
    }
    return render(request, "pro/noshows/page.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def no_shows(request: HttpRequest, practice_id: int) -> HttpResponse:
    """The policy form (POST saves it), the current strikes and the pending excuses."""
    practice = _gate(request, practice_id)
    if request.method == "GET":
        return _page(request, practice, form=_policy_form(practice.pk))
    form = _policy_form(practice.pk, request.POST)
    if form.is_valid():
        try:
            update_no_show_policy(
                actor=request.user,
                practice_id=practice.pk,
                request=request,
                **form.cleaned_data,
            )
        except DomainError as exc:
            form.add_error(None, exc.render())
        else:
            messages.success(request, _("The no-show policy is saved."))
            return redirect("pro:no-shows", practice_id=practice.pk)
    return _page(request, practice, form=form, status=400)


@login_required
@require_POST
def decide(request: HttpRequest, practice_id: int, strike_id: int) -> HttpResponse:
    """Accept (the strike stops counting) or refuse one excuse of this practice's patients."""
    practice = _gate(request, practice_id)
    if not Strike.objects.filter(pk=strike_id, practice_id=practice.pk).exists():
        raise Http404
    form = DecisionForm(request.POST)
    if not form.is_valid():
        error = _("Choose whether to accept or refuse the excuse.")
    else:
        try:
            decide_excuse(
                actor=request.user,
                strike_id=strike_id,
                accept=form.accept,
                request=request,
            )
        except DomainError as exc:
            error = exc.render()
        else:
            messages.success(
                request,
                _("The missed appointment no longer counts.")
                if form.accept
                else _("The excuse is refused: the missed appointment still counts."),
            )
            return redirect("pro:no-shows", practice_id=practice.pk)
    return _page(
        request,
        practice,
        form=_policy_form(practice.pk),
        decision_error=(strike_id, error),
        status=400,
    )
