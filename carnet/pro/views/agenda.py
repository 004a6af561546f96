"""The practice's agenda for staff: the grid, moves, cancels, the day flow.

Booking by phone lives in carnet.pro.views.agenda_booking, which shares the
gate and links below (require_practice, agenda_url).

Server-rendered pages that work without JavaScript; frontend/src/agenda.js
adds drag and drop (a drop posts the same form as the Move page), motive
colours and the current-time line. Every page gets the practice through
carnet.accounts.roles.require_permission (no role there: 404; a role without
the permission or no second factor: 403, with no patient data in the
answer), and reads appointments only through the audited gates of
carnet.booking.access. Writes go through carnet.booking.staff.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from carnet.accounts.errors import MfaRequired
from carnet.accounts.roles import Permission, require_permission
from carnet.audit.models import Purpose
from carnet.booking import staff
from carnet.booking.access import record_staff_reads
from carnet.booking.models import Appointment, RunningLate
from carnet.core.errors import DomainError
from carnet.directory.models import Practice
from carnet.notifications.queries import list_messages_for_appointment
from carnet.pro import agenda_grid
from carnet.pro.forms_agenda import (
    CancelForm,
    MoveForm,
    RunningLateForm,
)
from carnet.pro.workspace import patient_phone, practice_context, refuse, see_other
from carnet.scheduling.availability import to_utc
from carnet.scheduling.models import Agenda, VisitMotive

STAFF = Appointment.Actor.STAFF
Status = Appointment.Status

STATUS_ACTIONS: dict[tuple[str, str], Any] = {
    (Status.BOOKED, Status.ARRIVED): pgettext_lazy("day flow", "Arrived"),
    (Status.ARRIVED, Status.IN_CONSULTATION): pgettext_lazy(
        "day flow", "In consultation"
    ),
    (Status.IN_CONSULTATION, Status.FULFILLED): pgettext_lazy("day flow", "Seen"),
    (Status.BOOKED, Status.NO_SHOW): pgettext_lazy("day flow", "No-show"),
    (Status.NO_SHOW, Status.BOOKED): pgettext_lazy("day flow", "Undo the no-show"),
}
"""The buttons of the day flow, per allowed transition (see booking.staff.TRANSITIONS)."""


# -- gates ------------------------------------------------------------------------


def _require(
    request: HttpRequest, practice_id: int, permission: Permission
) -> frozenset[Permission]:
    """The practice gate as pages answer: no role there 404, wrong role or no MFA 403.

    Returns all the user's permissions at the practice.
    """
    try:
        return require_permission(
            user=request.user,
            practice_id=practice_id,
            permission=permission,
            request=request,
        )
    except DomainError as exc:
        refuse(exc)


def require_practice(
    request: HttpRequest, practice_id: int, permission: Permission
) -> tuple[Practice, frozenset[Permission]]:
    """The practice behind the gate of `_require`, and the user's permissions there."""
    granted = _require(request, practice_id, permission)
    practice = Practice.objects.filter(pk=practice_id).first()
    if practice is None:  # a platform admin asking for a practice that is gone
        raise Http404
    return practice, granted


def _appointment(
    request: HttpRequest, appointment_id: int, permission: Permission
) -> Appointment:
    """The appointment once the user may act on its practice; its read recorded."""
    practice_id = (
        Appointment.objects.filter(pk=appointment_id)
        .values_list("agenda__practice_id", flat=True)
        .first()
    )
    if practice_id is None:
        raise Http404
    granted = _require(request, practice_id, permission)
    appointment = Appointment.objects.select_related(
        "agenda__practice",
        "agenda__practitioner",
        "agenda__location",
        "motive",
        "patient",
    ).get(pk=appointment_id)
    record_staff_reads(
        actor=request.user,
        actor_kind=STAFF,
        patient_ids=[appointment.patient_id],
        resource=f"appointment:{appointment.pk}",
        purpose=Purpose.CARE,
    )
    appointment.granted = granted  # type: ignore[attr-defined]
    return appointment


def _agendas(practice: Practice) -> list[Agenda]:
    return list(
        Agenda.objects.filter(practice=practice, is_active=True)
        .select_related("practitioner", "location")
        .order_by("practitioner__last_name", "name", "pk")
    )


def _day_of(
    request: HttpRequest, value: str | None, zone: ZoneInfo
) -> tuple[date, bool]:
    """The date asked for (today in `zone` when missing), and whether it was readable."""
    today = timezone.now().astimezone(zone).date()
    if not value:
        return today, True
    try:
        return date.fromisoformat(value), True
    except ValueError:
        return today, False


def _safe_next(request: HttpRequest, value: str | None, fallback: str) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return fallback


def agenda_url(practice_id: int, **params: Any) -> str:
    """The agenda page of the practice, with the query `params` that are not empty."""
    url = reverse("pro:practice-agenda", kwargs={"practice_id": practice_id})
    params = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{url}?{urlencode(params)}" if params else url


# -- the grid ---------------------------------------------------------------------


@dataclass(frozen=True)
class FlowRow:
    """One line of the day's list under the grid: who, when, and the next steps."""

    appointment: Appointment
    agenda: Agenda
    starts_local: datetime
    phone: str
    phone_erased: bool
    actions: list[tuple[str, Any]]
    confirmed: str = ""


def _status_actions(appointment: Appointment, now: datetime) -> list[tuple[str, Any]]:
    found = []
    for (current, target), label in STATUS_ACTIONS.items():
        if appointment.status != current:
            continue
        if target == Status.NO_SHOW and appointment.starts_at > now:
            continue
        if target == Status.ARRIVED and (
            now.astimezone(appointment.agenda.zone).date()
            < appointment.starts_at.astimezone(appointment.agenda.zone).date()
        ):
            continue
        found.append((target, label))
    return found


def _phone_if(appointment: Appointment, show: bool) -> tuple[str, bool]:
    """The patient's phone (and whether erased) for roles that see contact details."""
    return patient_phone(appointment.patient) if show else ("", False)


@login_required
@require_http_methods(["GET", "HEAD"])
def practice_agenda(request: HttpRequest, practice_id: int) -> HttpResponse:
    """The practice's agenda: every practitioner's day side by side, or one agenda's week.

    GET ?date=YYYY-MM-DD (today by default), view=day|week, agenda=<id> (the
    week's agenda; the first one when missing).
    """
    practice, granted = require_practice(request, practice_id, Permission.VIEW_AGENDA)
    can_book = Permission.MANAGE_APPOINTMENTS in granted
    show_phone = Permission.VIEW_CONTACT_DETAILS in granted
    agendas = _agendas(practice)
    zone = agendas[0].zone if agendas else ZoneInfo("Europe/Paris")
    day, readable = _day_of(request, request.GET.get("date"), zone)
    view = request.GET.get("view", "day")
    if view not in ("day", "week"):
        view = "day"
    chosen: Agenda | None = None
    if request.GET.get("agenda"):
        try:
            chosen_id = int(request.GET["agenda"])
        except ValueError:
            raise Http404 from None
        chosen = next((a for a in agendas if a.pk == chosen_id), None)
        if chosen is None:
            raise Http404
    if view == "week" and chosen is None and agendas:
        chosen = agendas[0]
    if view == "week":
        monday = day - timedelta(days=day.weekday())
        days = [monday + timedelta(days=n) for n in range(7)]
        shown = [chosen] if chosen else []
        step = timedelta(days=7)
    else:
        days = [day]
        shown = [chosen] if chosen else agendas
        step = timedelta(days=1)
    now = timezone.now()
    columns = agenda_grid.read_columns(request, shown, days) if shown else []
    axis = agenda_grid.axis(columns)
    for column in columns:
        agenda_grid.fill_column(
            column, axis=axis, now=now, practice_id=practice.pk, can_book=can_book
        )
        column.links = {
            "day": reverse(
                "pro:agenda-day", args=[column.agenda.pk, column.day.isoformat()]
            ),
            "sheet": reverse(
                "pro:day-sheet", args=[column.agenda.pk, column.day.isoformat()]
            ),
            "week": agenda_url(
                practice.pk,
                view="week",
                agenda=column.agenda.pk,
                date=column.day.isoformat(),
            ),
            "book": reverse("pro:agenda-book", kwargs={"practice_id": practice.pk})
            + "?"
            + urlencode({"agenda": column.agenda.pk, "date": column.day.isoformat()}),
            "late": reverse("pro:running-late", kwargs={"agenda_id": column.agenda.pk}),
        }
    axis_rows = [
        (agenda_grid.row_of(m, axis[0]), agenda_grid.label(m))
        for m in range(axis[0], axis[1], 30)
    ]
    flow = [
        FlowRow(
            appointment=block.appointment,
            agenda=column.agenda,
            starts_local=block.starts_local,
            phone=phone,
            phone_erased=erased,
            actions=_status_actions(block.appointment, now) if can_book else [],
            confirmed=block.confirmed,
        )
        for column in columns
        for block in sorted(column.blocks, key=lambda b: b.appointment.starts_at)
        for phone, erased in [_phone_if(block.appointment, show_phone)]
    ]
    flow.sort(key=lambda r: (r.appointment.starts_at, r.agenda.pk))
    # The legend names each motive and colour once, whichever agendas share them.
    motives = list(
        {
            (motive.name, motive.colour): motive
            for motive in VisitMotive.objects.filter(
                agenda__in=shown, is_active=True
            ).order_by("-agenda_id", "-pk")
        }.values()
    )
    motives.sort(key=lambda motive: (motive.name.casefold(), motive.colour))
    here = agenda_url(
        practice.pk,
        date=day.isoformat(),
        view=view,
        agenda=chosen.pk if chosen else "",
    )
    context = {
        **practice_context(request, practice, area="agenda"),
        "day": day,
        "days": days,
        "view": view,
        "agendas": agendas,
        "chosen": chosen,
        "columns": columns,
        "axis_rows": axis_rows,
        "axis_start": axis[0],
        "row_count": (axis[1] - axis[0]) // agenda_grid.STEP_MINUTES,
        "flow": flow,
        "cancelled": [(a, c.zone) for c in columns for a in c.cancelled],
        "show_phone": show_phone,
        "can_book": can_book,
        "motives": motives,
        "date_error": not readable,
        "here": here,
        "zone": zone,
        "today": now.astimezone(zone).date(),
        "previous_url": agenda_url(
            practice.pk,
            date=(day - step).isoformat(),
            view=view,
            agenda=chosen.pk if chosen and view == "week" else "",
        ),
        "next_url": agenda_url(
            practice.pk,
            date=(day + step).isoformat(),
            view=view,
            agenda=chosen.pk if chosen and view == "week" else "",
        ),
        "today_url": agenda_url(
            practice.pk,
            view=view,
            agenda=chosen.pk if chosen and view == "week" else "",
        ),
        "day_view_url": agenda_url(practice.pk, date=day.isoformat()),
    }
    return render(
        request, "pro/agenda/agenda.html", context, status=400 if not readable else 200
    )


# -- one appointment ---------------------------------------------------------------


def _back_to_day(appointment: Appointment) -> str:
    local = appointment.starts_at.astimezone(appointment.agenda.zone)
    return agenda_url(appointment.agenda.practice_id, date=local.date().isoformat())


@login_required
@require_http_methods(["GET", "HEAD"])
def appointment_detail(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """One appointment for staff: when, who, what, its status and history, and actions."""
    appointment = _appointment(request, appointment_id, Permission.VIEW_AGENDA)
    practice = appointment.agenda.practice
    granted = appointment.granted  # type: ignore[attr-defined]
    can_manage = Permission.MANAGE_APPOINTMENTS in granted
    show_contact = Permission.VIEW_CONTACT_DETAILS in granted
    phone, erased = _phone_if(appointment, show_contact)
    now = timezone.now()
    context = {
        **practice_context(request, practice, area="agenda"),
        "appointment": appointment,
        "zone": appointment.agenda.zone,
        "changes": list(appointment.changes.order_by("created_at", "pk")),
        "phone": phone,
        "phone_erased": erased,
        "show_contact": show_contact,
        "can_manage": can_manage,
        "can_move": can_manage
        and appointment.status == Status.BOOKED
        and appointment.starts_at > now,
        "can_cancel": can_manage and appointment.status == Status.BOOKED,
        "actions": _status_actions(appointment, now) if can_manage else [],
        "back_url": _back_to_day(appointment),
        "confirmed": agenda_grid.confirmation_label(
            appointment, appointment.agenda.zone
        ),
        "patient_messages": list(
            list_messages_for_appointment(appointment_id=appointment.pk)
        ),
    }
    return render(request, "pro/agenda/appointment.html", context)


def _grid_move(request: HttpRequest, appointment: Appointment) -> HttpResponse:
    """A drop on the grid: starts_at (UTC instant) and agenda; refusals as messages."""
    back = _safe_next(request, request.POST.get("next"), _back_to_day(appointment))
    try:
        starts_at = datetime.fromisoformat(request.POST.get("starts_at", ""))
    except ValueError:
        starts_at = None
    if starts_at is None or starts_at.tzinfo is None:
        messages.error(request, _("This time is not valid."))
        return see_other(back)
    if request.POST.get("agenda") and request.POST["agenda"] != str(
        appointment.agenda_id
    ):
        messages.error(
            request,
            _("An appointment can only be moved within its own agenda."),
        )
        return see_other(back)
    error = _move(
        request, appointment, starts_at, notify=bool(request.POST.get("notify"))
    )
    if error:
        messages.error(request, error)
    return see_other(back)


def _move(
    request: HttpRequest,
    appointment: Appointment,
    starts_at: datetime,
    *,
    notify: bool,
    overbook: bool = False,
) -> str:
    """Move; the translated refusal, or "" once done (with a success message)."""
    try:
        moved = staff.staff_move(
            actor=request.user,
            appointment_id=appointment.pk,
            starts_at=starts_at,
            overbook=overbook,
            notify_patient=notify,
            request=request,
        )
    except MfaRequired as exc:
        raise PermissionDenied(exc.render()) from exc
    except DomainError as exc:
        return exc.render()
    local = moved.starts_at.astimezone(moved.agenda.zone)
    messages.success(
        request,
        _("Appointment moved to %(time)s on %(date)s.")
        % {"time": local.strftime("%H:%M"), "date": local.strftime("%d/%m/%Y")},
    )
    return ""


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def move(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """Move an appointment: the keyboard page, and the target of a drop on the grid."""
    appointment = _appointment(request, appointment_id, Permission.MANAGE_APPOINTMENTS)
    zone = appointment.agenda.zone
    if request.method == "POST" and "starts_at" in request.POST:
        return _grid_move(request, appointment)
    local = appointment.starts_at.astimezone(zone)
    if request.method == "POST":
        form = MoveForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            starts_at = to_utc(data["date"], data["time"].replace(second=0), zone)
            if starts_at is None:
                form.add_error(
                    "time",
                    _("This time does not exist on that day (the clocks change)."),
                )
            else:
                error = _move(
                    request,
                    appointment,
                    starts_at,
                    notify=data["notify"],
                    overbook=data["overbook"],
                )
                if not error:
                    return see_other(
                        _safe_next(
                            request,
                            request.POST.get("next"),
                            reverse(
                                "pro:appointment-detail",
                                kwargs={"appointment_id": appointment.pk},
                            ),
                        )
                    )
                form.add_error(None, error)
    else:
        form = MoveForm(
            initial={"date": local.date(), "time": local.time(), "notify": True}
        )
    context = {
        **practice_context(request, appointment.agenda.practice, area="agenda"),
        "appointment": appointment,
        "zone": zone,
        "form": form,
        "back_url": reverse(
            "pro:appointment-detail", kwargs={"appointment_id": appointment.pk}
        ),
    }
    return render(request, "pro/agenda/move.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def cancel(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """Cancel an appointment with a reason (booking.staff.staff_cancel)."""
    appointment = _appointment(request, appointment_id, Permission.MANAGE_APPOINTMENTS)
    if request.method == "POST":
        form = CancelForm(request.POST)
        if form.is_valid():
            try:
                staff.staff_cancel(
                    actor=request.user,
                    appointment_id=appointment.pk,
                    reason=form.cleaned_data["reason"],
                    notify_patient=form.cleaned_data["notify"],
                    request=request,
                )
            except MfaRequired as exc:
                raise PermissionDenied(exc.render()) from exc
            except DomainError as exc:
                form.add_error(None, exc.render())
            else:
                messages.success(request, _("Appointment cancelled."))
                return see_other(_back_to_day(appointment))
    else:
        form = CancelForm(initial={"notify": True})
    context = {
        **practice_context(request, appointment.agenda.practice, area="agenda"),
        "appointment": appointment,
        "zone": appointment.agenda.zone,
        "form": form,
        "back_url": reverse(
            "pro:appointment-detail", kwargs={"appointment_id": appointment.pk}
        ),
    }
    return render(request, "pro/agenda/cancel.html", context)


@login_required
@require_POST
def set_status(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """A day-flow button: arrived, in consultation, seen, no-show, or undo a no-show."""
    appointment = _appointment(request, appointment_id, Permission.MANAGE_APPOINTMENTS)
    back = _safe_next(
        request,
        request.POST.get("next"),
        reverse("pro:appointment-detail", kwargs={"appointment_id": appointment.pk}),
    )
    try:
        changed = staff.mark_status(
            actor=request.user,
            appointment_id=appointment.pk,
            status=request.POST.get("status", ""),
            request=request,
        )
    except MfaRequired as exc:
        raise PermissionDenied(exc.render()) from exc
    except DomainError as exc:
        messages.error(request, exc.render())
    else:
        messages.success(
            request,
            _("Status: %(status)s.") % {"status": changed.get_status_display()},
        )
    return see_other(back)


# -- running late ------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def running_late(request: HttpRequest, agenda_id: int) -> HttpResponse:
    """Declare that an agenda runs N minutes late today; the day's remaining patients are told."""
    agenda = (
        Agenda.objects.select_related("practice", "practitioner")
        .filter(pk=agenda_id)
        .first()
    )
    if agenda is None:
        raise Http404
    _require(request, agenda.practice_id, Permission.MANAGE_APPOINTMENTS)
    if request.method == "POST":
        form = RunningLateForm(request.POST)
        if form.is_valid():
            try:
                late = staff.declare_running_late(
                    actor=request.user,
                    agenda_id=agenda.pk,
                    minutes=form.cleaned_data["minutes"],
                    request=request,
                )
            except MfaRequired as exc:
                raise PermissionDenied(exc.render()) from exc
            except DomainError as exc:
                form.add_error("minutes", exc.render())
            else:
                messages.success(
                    request,
                    _(
                        "Recorded: running %(minutes)s minutes late. "
                        "Patients still expected today: %(count)s."
                    )
                    % {"minutes": late.minutes, "count": late.appointments.count()},
                )
                return see_other(
                    reverse("pro:running-late", kwargs={"agenda_id": agenda.pk})
                )
    else:
        form = RunningLateForm()
    today = timezone.now().astimezone(agenda.zone).date()
    declared = [
        (late, late.appointments.count())
        for late in RunningLate.objects.filter(agenda=agenda, day=today).order_by(
            "-created_at", "-pk"
        )
    ]
    context = {
        **practice_context(request, agenda.practice, area="agenda"),
        "agenda": agenda,
        "form": form,
        "today": today,
        "zone": agenda.zone,
        "declared": declared,
        "back_url": agenda_url(agenda.practice_id),
    }
    return render(request, "pro/agenda/running_late.html", context)
