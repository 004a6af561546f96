"""The practice settings pages: reminders, opening hours with a preview, motives, absences, feeds.

Thin views over carnet.scheduling (services, selectors, preview, holidays,
feeds) and carnet.pro.reminder_settings (the reminder switches, which
re-plan the reminders already owed): each page first passes the settings
gate of the object it shows (get_managed_agenda / get_managed_object,
get_practice_settings for the practice's own), which answers 404 to anyone
outside the practice and 403 to a role that may not do this (a secretary
manages absences and holidays, not hours, motives nor feeds). Changes go
through the services, which rebuild search and next availability
themselves; a refused change re-renders its form with the service's
message next to the field, and nothing is saved.
"""

from datetime import date, timedelta
from typing import Any, TypeVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from carnet.accounts.roles import can
from carnet.core.errors import DomainError
from carnet.core.security import no_store
from carnet.pro import reminder_settings
from carnet.pro.forms_settings import (
    AbsenceForm,
    FeedForm,
    HolidaysYearForm,
    MotiveForm,
    OpeningRuleForm,
    PracticeRemindersForm,
    RegionForm,
    add_service_error,
    monday_of,
)
from carnet.pro.workspace import practice_context, refuse
from carnet.scheduling import feeds, holidays, services
from carnet.scheduling.errors import (
    AbsenceNotFound,
    FeedNotFound,
    MotiveNotFound,
    OpeningRuleNotFound,
)
from carnet.scheduling.models import (
    Absence,
    Agenda,
    AgendaFeed,
    OpeningRule,
    VisitMotive,
)
from carnet.scheduling.preview import RuleDraft
from carnet.scheduling.selectors import (
    ABSENCES_PERMISSION,
    SETTINGS_PERMISSION,
    PracticeSettings,
    get_agenda_settings,
    get_managed_agenda,
    get_managed_object,
    get_practice_settings,
    preview_rule_change,
)

M = TypeVar("M", bound=Model)

# The tabs of an agenda's settings: (key, label, URL name, permission).
TABS = (
    ("hours", gettext_lazy("Opening hours"), "pro:settings-hours", SETTINGS_PERMISSION),
    (
        "motives",
        gettext_lazy("Visit motives"),
        "pro:settings-motives",
        SETTINGS_PERMISSION,
    ),
    (
        "absences",
        gettext_lazy("Absences"),
        "pro:settings-absences",
        ABSENCES_PERMISSION,
    ),
    (
        "holidays",
        gettext_lazy("Public holidays"),
        "pro:settings-holidays",
        ABSENCES_PERMISSION,
    ),
    (
        "feeds",
        gettext_lazy("Calendar feeds"),
        "pro:settings-feeds",
        SETTINGS_PERMISSION,
    ),
)


# -- gates -------------------------------------------------------------------


def _agenda(request: HttpRequest, agenda_id: int, permission: str) -> Agenda:
    try:
        return get_managed_agenda(
            actor=request.user,
            agenda_id=agenda_id,
            permission=permission,
            request=request,
        )
    except DomainError as error:
        refuse(error)


def _managed(
    request: HttpRequest,
    model: type[M],
    pk: int,
    permission: str,
    not_found: type[DomainError],
) -> M:
    try:
        return get_managed_object(
            actor=request.user,
            model=model,
            pk=pk,
            permission=permission,
            not_found=not_found,
            request=request,
        )
    except DomainError as error:
        refuse(error)


def _refused_input(form: Any, error: DomainError) -> None:
    """Put a service's refusal on the form, or answer 403/404 for a gate's."""
    if not add_service_error(form, error):
        refuse(error)


# -- shared context ----------------------------------------------------------


def _tabs(request: HttpRequest, agenda: Agenda) -> list[dict[str, Any]]:
    tabs = []
    for key, label, url_name, permission in TABS:
        if can(request.user, permission, agenda.practice_id):
            tabs.append(
                {
                    "key": key,
                    "label": label,
                    "url": reverse(url_name, kwargs={"agenda_id": agenda.pk}),
                }
            )
    return tabs


def _render(
    request: HttpRequest,
    template: str,
    agenda: Agenda,
    tab: str,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> HttpResponse:
    full = {
        **practice_context(request, agenda.practice, area="settings"),
        "agenda": agenda,
        "zone": agenda.time_zone,
        "tabs": _tabs(request, agenda),
        "tab": tab,
        "can_manage_settings": can(
            request.user, SETTINGS_PERMISSION, agenda.practice_id
        ),
        **context,
    }
    return render(request, template, full, status=status)


def _today(agenda: Agenda) -> date:
    return timezone.now().astimezone(agenda.zone).date()


def _default_week(agenda: Agenda) -> date:
    """The week previews show first: the coming one (this week is partly past)."""
    return monday_of(_today(agenda)) + timedelta(days=7)


# -- the practice's settings home ---------------------------------------------


def _practice_settings(request: HttpRequest, practice_id: int) -> PracticeSettings:
    try:
        return get_practice_settings(
            actor=request.user, practice_id=practice_id, request=request
        )
    except DomainError as error:
        refuse(error)


def _settings_home_page(
    request: HttpRequest,
    found: PracticeSettings,
    *,
    reminders_form: PracticeRemindersForm | None = None,
    status: int = 200,
) -> HttpResponse:
    if reminders_form is None:
        reminders_form = PracticeRemindersForm(
            initial=PracticeRemindersForm.initial_for(found.practice)
        )
    return render(
        request,
        "pro/settings/home.html",
        {
            **practice_context(request, found.practice, area="settings"),
            "locations": found.locations,
            "reminders_form": reminders_form,
        },
        status=status,
    )


@login_required
@require_GET
def settings_home(request: HttpRequest, practice_id: int) -> HttpResponse:
    """The practice's reminder switches, and its locations and agendas with their settings."""
    return _settings_home_page(request, _practice_settings(request, practice_id))


@login_required
@require_POST
def reminders(request: HttpRequest, practice_id: int) -> HttpResponse:
    """Save the practice's reminder switches (by e-mail, by SMS)."""
    # The gate first: a role that may not change settings never sees the form.
    found = _practice_settings(request, practice_id)
    form = PracticeRemindersForm(request.POST)
    if form.is_valid():
        try:
            reminder_settings.update_practice_reminders(
                actor=request.user,
                practice_id=found.practice.pk,
                now=timezone.now(),
                request=request,
                **form.cleaned_data,
            )
        except DomainError as error:
            refuse(error)
        messages.success(request, _("The reminder settings are saved."))
        return redirect("pro:settings", practice_id=found.practice.pk)
    return _settings_home_page(request, found, reminders_form=form, status=400)


# -- opening hours -------------------------------------------------------------


def _rule_form(
    motives: list[VisitMotive], data: Any = None, **kwargs: Any
) -> OpeningRuleForm:
    return OpeningRuleForm(data, motives=motives, **kwargs)


def _preview(
    agenda: Agenda, form: OpeningRuleForm | None, replacing_id: int | None
) -> dict[str, Any]:
    """The preview panel's context: the week with the draft, or why there is none.

    Without a form: the week the saved rules offer.
    """
    week = _default_week(agenda)
    draft: RuleDraft | None = None
    if form is not None:
        if not form.is_valid():
            return {"preview_invalid": True, "preview_form": form, "preview_week": week}
        week = monday_of(form.cleaned_data["week"] or week)
        draft = form.draft()
    try:
        rows = preview_rule_change(
            agenda=agenda,
            draft=draft,
            replacing_id=replacing_id,
            week_start=week,
            now=timezone.now(),
        )
    except DomainError as error:
        if form is not None:
            add_service_error(form, error)
        return {"preview_invalid": True, "preview_form": form, "preview_week": week}
    return {
        "preview": rows,
        "preview_week": week,
        "preview_is_draft": draft is not None,
        "preview_added": sum(row.added for row in rows),
        "preview_removed": sum(row.removed for row in rows),
    }


def _hours_page(
    request: HttpRequest,
    agenda: Agenda,
    form: OpeningRuleForm,
    *,
    rule: OpeningRule | None,
    preview: dict[str, Any],
    status: int = 200,
) -> HttpResponse:
    found = get_agenda_settings(
        actor=request.user, agenda_id=agenda.pk, now=timezone.now(), request=request
    )
    return _render(
        request,
        "pro/settings/hours.html",
        agenda,
        "hours",
        {
            "rules": found.rules,
            "has_motives": any(m.is_active for m in found.motives),
            "form": form,
            "rule": rule,
            "preview_url": reverse(
                "pro:settings-hours-preview", kwargs={"agenda_id": agenda.pk}
            ),
            **preview,
        },
        status=status,
    )


def _save_rule(
    request: HttpRequest, agenda: Agenda, rule: OpeningRule | None
) -> HttpResponse:
    """POST of the add or edit form: preview only, or save through the service."""
    found = get_agenda_settings(
        actor=request.user, agenda_id=agenda.pk, now=timezone.now(), request=request
    )
    form = _rule_form(found.motives, request.POST)
    replacing = rule.pk if rule is not None else None
    if "preview" in request.POST:
        preview = _preview(agenda, form, replacing)
        return _hours_page(request, agenda, form, rule=rule, preview=preview)
    if form.is_valid():
        try:
            if rule is None:
                services.create_opening_rule(
                    actor=request.user,
                    agenda_id=agenda.pk,
                    request=request,
                    **form.service_arguments(),
                )
            else:
                services.update_opening_rule(
                    actor=request.user,
                    rule_id=rule.pk,
                    request=request,
                    **form.service_arguments(),
                )
        except DomainError as error:
            _refused_input(form, error)
        else:
            messages.success(request, _("The opening hours are saved."))
            return redirect("pro:settings-hours", agenda_id=agenda.pk)
    preview = {"preview_invalid": True, "preview_form": form}
    return _hours_page(request, agenda, form, rule=rule, preview=preview, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def hours(request: HttpRequest, agenda_id: int) -> HttpResponse:
    """The agenda's opening rules, a form to add one, and the week they offer."""
    agenda = _agenda(request, agenda_id, SETTINGS_PERMISSION)
    if request.method == "POST":
        return _save_rule(request, agenda, None)
    found = get_agenda_settings(
        actor=request.user, agenda_id=agenda.pk, now=timezone.now(), request=request
    )
    form = _rule_form(found.motives, initial={"week": _default_week(agenda)})
    return _hours_page(
        request, agenda, form, rule=None, preview=_preview(agenda, None, None)
    )


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    """One opening rule's form, with the preview of the week once changed."""
    rule = _managed(
        request, OpeningRule, rule_id, SETTINGS_PERMISSION, OpeningRuleNotFound
    )
    agenda = _agenda(request, rule.agenda_id, SETTINGS_PERMISSION)
    if request.method == "POST":
        return _save_rule(request, agenda, rule)
    found = get_agenda_settings(
        actor=request.user, agenda_id=agenda.pk, now=timezone.now(), request=request
    )
    week = _default_week(agenda)
    form = _rule_form(found.motives, initial=OpeningRuleForm.initial_for(rule, week))
    return _hours_page(
        request, agenda, form, rule=rule, preview=_preview(agenda, None, None)
    )


@login_required
@require_POST
def rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    """Delete one opening rule (booked appointments are kept)."""
    rule = _managed(
        request, OpeningRule, rule_id, SETTINGS_PERMISSION, OpeningRuleNotFound
    )
    try:
        services.delete_opening_rule(
            actor=request.user, rule_id=rule.pk, request=request
        )
    except DomainError as error:
        refuse(error)
    messages.success(request, _("The opening hours are deleted."))
    return redirect("pro:settings-hours", agenda_id=rule.agenda_id)


@login_required
@require_POST
def hours_preview(request: HttpRequest, agenda_id: int) -> HttpResponse:
    """The preview panel for the rule being edited (htmx): computed, never saved.

    The form's fields are the draft; `rule` names the saved rule it would
    replace (absent for a new rule).
    """
    agenda = _agenda(request, agenda_id, SETTINGS_PERMISSION)
    found = get_agenda_settings(
        actor=request.user, agenda_id=agenda.pk, now=timezone.now(), request=request
    )
    form = _rule_form(found.motives, request.POST)
    raw = request.POST.get("rule", "")
    replacing = int(raw) if raw.isdigit() else None
    context = _preview(agenda, form, replacing)
    return render(
        request,
        "pro/settings/_preview.html",
        {"agenda": agenda, "zone": agenda.time_zone, **context},
    )


# -- visit motives ---------------------------------------------------------------


@login_required
@require_GET
def motives(request: HttpRequest, agenda_id: int) -> HttpResponse:
    """The agenda's visit motives, active first."""
    agenda = _agenda(request, agenda_id, SETTINGS_PERMISSION)
    found = get_agenda_settings(
        actor=request.user, agenda_id=agenda.pk, now=timezone.now(), request=request
    )
    return _render(
        request,
        "pro/settings/motives.html",
        agenda,
        "motives",
        {"motives": found.motives},
    )


def _motive_page(
    request: HttpRequest,
    agenda: Agenda,
    form: MotiveForm,
    motive: VisitMotive | None,
    *,
    status: int = 200,
) -> HttpResponse:
    return _render(
        request,
        "pro/settings/motive_form.html",
        agenda,
        "motives",
        {"form": form, "motive": motive},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def motive_create(request: HttpRequest, agenda_id: int) -> HttpResponse:
    """Add a visit motive to the agenda."""
    agenda = _agenda(request, agenda_id, SETTINGS_PERMISSION)
    if request.method == "GET":
        initial = MotiveForm.initial_for(VisitMotive(agenda=agenda, name=""))
        return _motive_page(request, agenda, MotiveForm(initial=initial), None)
    form = MotiveForm(request.POST)
    if form.is_valid():
        try:
            reminder_settings.create_motive(
                actor=request.user,
                agenda_id=agenda.pk,
                reminders_enabled=form.cleaned_data["reminders_enabled"],
                now=timezone.now(),
                request=request,
                **form.service_arguments(),
            )
        except DomainError as error:
            _refused_input(form, error)
        else:
            messages.success(request, _("The visit motive is added."))
            return redirect("pro:settings-motives", agenda_id=agenda.pk)
    return _motive_page(request, agenda, form, None, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def motive_edit(request: HttpRequest, motive_id: int) -> HttpResponse:
    """Change a visit motive (booked appointments keep their times)."""
    motive = _managed(
        request, VisitMotive, motive_id, SETTINGS_PERMISSION, MotiveNotFound
    )
    agenda = _agenda(request, motive.agenda_id, SETTINGS_PERMISSION)
    if request.method == "GET":
        form = MotiveForm(initial=MotiveForm.initial_for(motive))
        return _motive_page(request, agenda, form, motive)
    form = MotiveForm(request.POST)
    if form.is_valid():
        try:
            reminder_settings.update_motive(
                actor=request.user,
                motive_id=motive.pk,
                reminders_enabled=form.cleaned_data["reminders_enabled"],
                now=timezone.now(),
                request=request,
                **form.service_arguments(),
            )
        except DomainError as error:
            _refused_input(form, error)
        else:
            messages.success(request, _("The visit motive is saved."))
            return redirect("pro:settings-motives", agenda_id=agenda.pk)
    return _motive_page(request, agenda, form, motive, status=400)


def _set_motive_active(
    request: HttpRequest, motive_id: int, *, active: bool
) -> HttpResponse:
    motive = _managed(
        request, VisitMotive, motive_id, SETTINGS_PERMISSION, MotiveNotFound
    )
    change = services.reactivate_motive if active else services.deactivate_motive
    try:
        change(actor=request.user, motive_id=motive.pk, request=request)
    except DomainError as error:
        refuse(error)
    if active:
        messages.success(request, _("Patients can book this visit motive again."))
    else:
        messages.success(
            request,
            _("Patients can no longer book this visit motive; booked visits are kept."),
        )
    return redirect("pro:settings-motives", agenda_id=motive.agenda_id)


@login_required
@require_POST
def motive_deactivate(request: HttpRequest, motive_id: int) -> HttpResponse:
    """Stop offering a visit motive."""
    return _set_motive_active(request, motive_id, active=False)


@login_required
@require_POST
def motive_reactivate(request: HttpRequest, motive_id: int) -> HttpResponse:
    """Offer a deactivated visit motive again."""
    return _set_motive_active(request, motive_id, active=True)


# -- absences ----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def absences(request: HttpRequest, agenda_id: int) -> HttpResponse:
    """Absences not yet over, and a form to add one; adding lists the visits it covers."""
    agenda = _agenda(request, agenda_id, ABSENCES_PERMISSION)
    outcome = None
    status = 200
    if request.method == "POST":
        form = AbsenceForm(request.POST)
        # The times typed are wall-clock times of the agenda's zone.
        with timezone.override(agenda.zone):
            valid = form.is_valid()
        if valid:
            try:
                outcome = services.create_absence(
                    actor=request.user,
                    agenda_id=agenda.pk,
                    starts_at=form.cleaned_data["starts"],
                    ends_at=form.cleaned_data["ends"],
                    label=form.cleaned_data["label"],
                    request=request,
                )
            except DomainError as error:
                _refused_input(form, error)
                status = 400
            else:
                form = AbsenceForm()
        else:
            status = 400
    else:
        form = AbsenceForm()
    found = get_agenda_settings(
        actor=request.user, agenda_id=agenda.pk, now=timezone.now(), request=request
    )
    return _render(
        request,
        "pro/settings/absences.html",
        agenda,
        "absences",
        {"absences": found.absences, "form": form, "outcome": outcome},
        status=status,
    )


@login_required
@require_POST
def absence_delete(request: HttpRequest, absence_id: int) -> HttpResponse:
    """Delete an absence: its time can be booked again."""
    absence = _managed(
        request, Absence, absence_id, ABSENCES_PERMISSION, AbsenceNotFound
    )
    try:
        services.delete_absence(
            actor=request.user, absence_id=absence.pk, request=request
        )
    except DomainError as error:
        refuse(error)
    messages.success(request, _("The absence is deleted."))
    return redirect("pro:settings-absences", agenda_id=absence.agenda_id)


# -- public holidays -----------------------------------------------------------------


def _coming_holidays(agenda: Agenda) -> tuple[list[Any], list[int], str]:
    """The public holidays of the coming twelve months, the years they fall in, and any problem."""
    today = _today(agenda)
    until = today + timedelta(days=365)
    years = [today.year, today.year + 1]
    found = []
    try:
        for year in years:
            found.extend(
                holidays.list_public_holidays(
                    country=holidays.agenda_country(agenda),
                    subdivision=agenda.subdivision,
                    year=year,
                )
            )
    except DomainError as error:
        return [], [], error.render()
    coming = [h for h in found if today <= h.day <= until]
    return coming, sorted({h.day.year for h in coming}), ""


def _holidays_page(
    request: HttpRequest,
    agenda: Agenda,
    *,
    region_form: RegionForm | None = None,
    year_error: str = "",
    applied: Any = None,
    status: int = 200,
) -> HttpResponse:
    country = holidays.agenda_country(agenda)
    try:
        regions = holidays.list_subdivisions(country=country)
    except DomainError:
        regions = []
    if region_form is None:
        region_form = RegionForm(
            regions=regions, initial={"subdivision": agenda.subdivision}
        )
    coming, years, problem = _coming_holidays(agenda)
    region_name = dict(regions).get(agenda.subdivision, agenda.subdivision)
    return _render(
        request,
        "pro/settings/holidays.html",
        agenda,
        "holidays",
        {
            "region_form": region_form,
            "region_name": region_name,
            "has_regions": bool(regions),
            "holidays": coming,
            "years": years,
            "problem": problem,
            "year_error": year_error,
            "applied": applied,
        },
        status=status,
    )


@login_required
@require_GET
def holidays_page(request: HttpRequest, agenda_id: int) -> HttpResponse:
    """The region of the agenda and the public holidays of the coming twelve months."""
    agenda = _agenda(request, agenda_id, ABSENCES_PERMISSION)
    return _holidays_page(request, agenda)


@login_required
@require_POST
def holidays_region(request: HttpRequest, agenda_id: int) -> HttpResponse:
    """Set the region whose public holidays apply (practitioners and administrators)."""
    agenda = _agenda(request, agenda_id, SETTINGS_PERMISSION)
    try:
        regions = holidays.list_subdivisions(country=holidays.agenda_country(agenda))
    except DomainError:
        regions = []
    form = RegionForm(request.POST, regions=regions)
    if form.is_valid():
        try:
            holidays.set_agenda_subdivision(
                actor=request.user,
                agenda_id=agenda.pk,
                subdivision=form.cleaned_data["subdivision"],
                request=request,
            )
        except DomainError as error:
            _refused_input(form, error)
        else:
            messages.success(request, _("The region is saved."))
            return redirect("pro:settings-holidays", agenda_id=agenda.pk)
    return _holidays_page(request, agenda, region_form=form, status=400)


@login_required
@require_POST
def holidays_apply(request: HttpRequest, agenda_id: int) -> HttpResponse:
    """Add a full-day absence for each public holiday of the year chosen."""
    agenda = _agenda(request, agenda_id, ABSENCES_PERMISSION)
    form = HolidaysYearForm(request.POST)
    if not form.is_valid():
        return _holidays_page(
            request, agenda, year_error=_("Choose a year."), status=400
        )
    try:
        applied = holidays.apply_public_holidays(
            actor=request.user,
            agenda_id=agenda.pk,
            year=form.cleaned_data["year"],
            request=request,
        )
    except DomainError as error:
        if error.kind in ("not_found", "forbidden"):
            refuse(error)
        return _holidays_page(request, agenda, year_error=error.render(), status=400)
    return _holidays_page(request, agenda, applied=applied)


# -- calendar feeds ----------------------------------------------------------------


@no_store
@login_required
@require_http_methods(["GET", "POST"])
def feeds_page(request: HttpRequest, agenda_id: int) -> HttpResponse:
    """The agenda's calendar feeds; creating one shows its secret URL once."""
    agenda = _agenda(request, agenda_id, SETTINGS_PERMISSION)
    created_url = ""
    created: AgendaFeed | None = None
    if request.method == "POST":
        form = FeedForm(request.POST)
        if form.is_valid():
            try:
                created, raw = feeds.create_feed(
                    actor=request.user,
                    agenda_id=agenda.pk,
                    name=form.cleaned_data["name"],
                    show_patient_names=form.cleaned_data["show_patient_names"],
                    request=request,
                )
            except DomainError as error:
                refuse(error)
            created_url = request.build_absolute_uri(
                reverse("pro:agenda-feed", kwargs={"token": raw})
            )
            form = FeedForm()
    else:
        form = FeedForm()
    found = get_agenda_settings(
        actor=request.user, agenda_id=agenda.pk, now=timezone.now(), request=request
    )
    response = _render(
        request,
        "pro/settings/feeds.html",
        agenda,
        "feeds",
        {
            "feeds": found.feeds,
            "form": form,
            "created": created,
            "created_url": created_url,
        },
    )
    response["Referrer-Policy"] = "no-referrer"
    return response


@login_required
@require_POST
def feed_revoke(request: HttpRequest, feed_id: int) -> HttpResponse:
    """Revoke a feed: its URL stops working at once."""
    feed = _managed(request, AgendaFeed, feed_id, SETTINGS_PERMISSION, FeedNotFound)
    try:
        feeds.revoke_feed(actor=request.user, feed_id=feed.pk, request=request)
    except DomainError as error:
        refuse(error)
    messages.success(
        request, _("The calendar feed is revoked: its link no longer works.")
    )
    return redirect("pro:settings-feeds", agenda_id=feed.agenda_id)
