"""Reads on scheduling: an agenda's motives, windows and absences as plain values.

Also the gate of the practice settings: who may read or change an agenda's
opening hours, motives, absences and calendar feeds.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Model, Prefetch, Q
from django.http import HttpRequest

from carnet.accounts.errors import NotAllowedForRole, NotStaffOfPractice
from carnet.accounts.roles import Permission, require_permission
from carnet.core.errors import DomainError
from carnet.directory.models import Location, Practice
from carnet.scheduling.availability import Interval, Window
from carnet.scheduling.errors import (
    AgendaNotFound,
    AgendaSettingsNotFound,
    MotiveNotFound,
    SettingsForbidden,
)
from carnet.scheduling.models import (
    Absence,
    Agenda,
    AgendaFeed,
    OpeningRule,
    VisitMotive,
)
from carnet.scheduling.preview import WEEK, RuleDraft, preview_week

SETTINGS_PERMISSION = Permission.MANAGE_SETTINGS
"""Opening hours, motives, the holidays region and calendar feeds (practice
admins and practitioners, in carnet.accounts.roles.ROLE_PERMISSIONS)."""

ABSENCES_PERMISSION = Permission.MANAGE_ABSENCES
"""Absences and public holidays (the whole team, secretaries included)."""

READ_PERMISSION = Permission.VIEW_AGENDA
"""Reading the settings (the whole team)."""

M = TypeVar("M", bound=Model)


@dataclass(frozen=True, slots=True)
class MotiveSchedule:
    """What the availability engine needs about one motive of one agenda."""

    agenda: Agenda
    motive: VisitMotive
    zone: ZoneInfo
    windows: tuple[Window, ...]


def get_motive(*, agenda_id: int, motive_id: int) -> VisitMotive:
    """The active motive `motive_id` of the active agenda `agenda_id`.

    Raises AgendaNotFound or MotiveNotFound.
    """
    agenda = Agenda.objects.filter(pk=agenda_id, is_active=True).first()
    if agenda is None:
        raise AgendaNotFound()
    motive = (
        VisitMotive.objects.select_related("agenda", "agenda__practitioner")
        .filter(pk=motive_id, agenda=agenda, is_active=True)
        .first()
    )
    if motive is None:
        raise MotiveNotFound()
    return motive


def get_motive_schedule(*, motive: VisitMotive) -> MotiveSchedule:
    """The weekly windows during which `motive` may be booked on its agenda."""
    rules = (
        OpeningRule.objects.filter(agenda_id=motive.agenda_id)
        .filter(Q(motives__isnull=True) | Q(motives=motive))
        .distinct()
        .order_by("weekday", "opens_time", "pk")
    )
    windows = tuple(
        Window(
            weekday=rule.weekday,
            opens=rule.opens_time,
            closes=rule.closes_time,
            valid_from=rule.valid_on,
            valid_until=rule.valid_until_on,
        )
        for rule in rules
    )
    return MotiveSchedule(
        agenda=motive.agenda, motive=motive, zone=motive.agenda.zone, windows=windows
    )


def list_absences(*, agenda_id: int, start: datetime, end: datetime) -> list[Interval]:
    """The agenda's absences that meet [start, end), as intervals."""
    rows = Absence.objects.filter(
        agenda_id=agenda_id, starts_at__lt=end, ends_at__gt=start
    ).values_list("starts_at", "ends_at")
    return [Interval(start=s, end=e) for s, e in rows]


def list_agendas_for_practitioners(
    *, practitioner_ids: list[int]
) -> dict[int, list[Agenda]]:
    """Active agendas per practitioner, each with `active_motives` prefetched."""
    motives = VisitMotive.objects.filter(is_active=True).order_by("pk")
    agendas = (
        Agenda.objects.filter(practitioner_id__in=practitioner_ids, is_active=True)
        .order_by("pk")
        .prefetch_related(
            Prefetch("motives", queryset=motives, to_attr="active_motives")
        )
    )
    grouped: dict[int, list[Agenda]] = {pk: [] for pk in practitioner_ids}
    for agenda in agendas:
        grouped[agenda.practitioner_id].append(agenda)
    return grouped


def lock_agenda(*, agenda_id: int) -> None:
    """Take the agenda's row lock until the end of the current transaction.

    Serialises bookings and moves on one agenda line: on PostgreSQL two
    transactions inserting overlapping rows would otherwise each wait on the
    other's exclusion check and one would die in a deadlock. No-op on SQLite,
    whose IMMEDIATE transactions already serialise writers. Must be called
    inside a transaction.
    """
    list(Agenda.objects.select_for_update().filter(pk=agenda_id).values_list("pk"))


@dataclass(frozen=True, slots=True)
class AgendaSettings:
    """Everything a settings page shows of one agenda."""

    agenda: Agenda
    motives: list[VisitMotive]
    rules: list[OpeningRule]
    absences: list[Absence]
    feeds: list[AgendaFeed]


def check_settings_access(
    *,
    actor: AbstractBaseUser,
    practice_id: int,
    permission: str,
    request: HttpRequest | None = None,
    not_found: type[DomainError] = AgendaSettingsNotFound,
) -> None:
    """Let `actor` through if their roles at the practice grant `permission`, with a second factor.

    The role matrix is carnet.accounts.roles (platform administrators need
    no membership). Raises `not_found` when the actor is not part of the
    practice (the same answer as for a missing object), SettingsForbidden
    when their role does not allow this, MfaRequired without a second factor
    (or, for a session, when it was not used at login).
    """
    try:
        require_permission(
            user=actor, practice_id=practice_id, permission=permission, request=request
        )
    except NotStaffOfPractice:
        raise not_found() from None
    except NotAllowedForRole:
        raise SettingsForbidden() from None


def get_managed_object(
    *,
    actor: AbstractBaseUser,
    model: type[M],
    pk: int,
    permission: str,
    not_found: type[DomainError],
    request: HttpRequest | None = None,
) -> M:
    """A row of `model` that belongs to an agenda (rule, motive, absence, feed), for its staff.

    Raises `not_found` when it is missing or the actor is not part of the
    agenda's practice (the same answer), and the settings gate's errors.
    """
    row = model.objects.select_related("agenda").filter(pk=pk).first()
    if row is None:
        raise not_found()
    check_settings_access(
        actor=actor,
        practice_id=row.agenda.practice_id,
        permission=permission,
        request=request,
        not_found=not_found,
    )
    return row


def get_managed_agenda(
    *,
    actor: AbstractBaseUser,
    agenda_id: int,
    permission: str = SETTINGS_PERMISSION,
    request: HttpRequest | None = None,
) -> Agenda:
    """Agenda `agenda_id` (active or not) if `actor` may do `permission` at its practice.

    Raises AgendaSettingsNotFound (missing or another practice's),
    SettingsForbidden or MfaRequired (see check_settings_access).
    """
    agenda = (
        Agenda.objects.select_related("practice", "location")
        .filter(pk=agenda_id)
        .first()
    )
    if agenda is None:
        raise AgendaSettingsNotFound()
    check_settings_access(
        actor=actor,
        practice_id=agenda.practice_id,
        permission=permission,
        request=request,
    )
    return agenda


def get_agenda_settings(
    *,
    actor: AbstractBaseUser,
    agenda_id: int,
    now: datetime,
    request: HttpRequest | None = None,
) -> AgendaSettings:
    """An agenda's motives (active first), rules, absences not yet over and active feeds.

    For any member of the agenda's practice with a second factor (secretaries
    see the settings they cannot change). Rules come with `motives`
    prefetched. Raises as get_managed_agenda.
    """
    agenda = get_managed_agenda(
        actor=actor, agenda_id=agenda_id, permission=READ_PERMISSION, request=request
    )
    return AgendaSettings(
        agenda=agenda,
        motives=list(agenda.motives.order_by("-is_active", "name", "pk")),
        rules=list(
            agenda.opening_rules.prefetch_related("motives").order_by(
                "weekday", "opens_time", "pk"
            )
        ),
        absences=list(
            agenda.absences.filter(ends_at__gt=now).order_by("starts_at", "pk")
        ),
        feeds=list(
            agenda.feeds.filter(revoked_at__isnull=True)
            .select_related("created_by")
            .order_by("-created_at", "-pk")
        ),
    )


def list_rule_drafts(
    *, agenda_id: int, exclude_id: int | None = None
) -> list[RuleDraft]:
    """The agenda's saved opening rules as drafts (optionally without rule `exclude_id`)."""
    rules = OpeningRule.objects.filter(agenda_id=agenda_id)
    if exclude_id is not None:
        rules = rules.exclude(pk=exclude_id)
    rows = list(
        rules.order_by("pk").values_list(
            "pk", "weekday", "opens_time", "closes_time", "valid_on", "valid_until_on"
        )
    )
    motives: dict[int, set[int]] = defaultdict(set)
    through = OpeningRule.motives.through
    for rule_id, motive_id in through.objects.filter(
        openingrule_id__in=[row[0] for row in rows]
    ).values_list("openingrule_id", "visitmotive_id"):
        motives[rule_id].add(motive_id)
    return [
        RuleDraft(
            weekday=weekday,
            opens=opens,
            closes=closes,
            valid_from=valid_on,
            valid_until=valid_until,
            motive_ids=frozenset(motives[pk]),
        )
        for pk, weekday, opens, closes, valid_on, valid_until in rows
    ]


# -- the settings pages of the practitioner's workspace ---------------------


@dataclass(frozen=True, slots=True)
class LocationAgendas:
    """One location of a practice and its agendas (active first)."""

    location: Location
    agendas: list[Agenda]


@dataclass(frozen=True, slots=True)
class PracticeSettings:
    """A practice's settings home: each of its locations with its agendas."""

    practice: Practice
    locations: list[LocationAgendas]


def get_practice_settings(
    *,
    actor: AbstractBaseUser,
    practice_id: int,
    permission: str = SETTINGS_PERMISSION,
    request: HttpRequest | None = None,
) -> PracticeSettings:
    """The practice's locations and their agendas, for staff who may change its settings.

    Raises AgendaSettingsNotFound (missing practice or not part of its team),
    SettingsForbidden or MfaRequired (see check_settings_access).
    """
    check_settings_access(
        actor=actor, practice_id=practice_id, permission=permission, request=request
    )
    practice = Practice.objects.filter(pk=practice_id).first()
    if practice is None:
        raise AgendaSettingsNotFound()
    agendas: dict[int, list[Agenda]] = defaultdict(list)
    for agenda in (
        Agenda.objects.filter(practice=practice)
        .select_related("practitioner", "location")
        .order_by("-is_active", "practitioner__last_name", "name", "pk")
    ):
        agendas[agenda.location_id].append(agenda)
    locations = [
        LocationAgendas(location=location, agendas=agendas.get(location.pk, []))
        for location in Location.objects.filter(practice=practice).order_by(
            "city", "name", "pk"
        )
    ]
    return PracticeSettings(practice=practice, locations=locations)


@dataclass(frozen=True, slots=True)
class PreviewSlot:
    """One slot of a previewed week, and whether the saved rules offer it already."""

    starts_at: datetime
    is_new: bool


@dataclass(frozen=True, slots=True)
class PreviewDay:
    """One local day of a previewed week: its slots and how many saved ones it loses."""

    day: date
    noon: datetime
    slots: list[PreviewSlot]
    removed: int


@dataclass(frozen=True, slots=True)
class MotivePreview:
    """The week a change of the opening rules would offer for one motive."""

    motive: VisitMotive
    days: list[PreviewDay]
    added: int
    removed: int


def preview_rule_change(
    *,
    agenda: Agenda,
    draft: RuleDraft | None,
    replacing_id: int | None,
    week_start: date,
    now: datetime,
) -> list[MotivePreview]:
    """The week from `week_start` per active motive, once `draft` replaces rule `replacing_id`.

    `draft` None previews the deletion of `replacing_id` (or the saved rules
    as they are); `replacing_id` None adds the draft. Compared with the slots
    the saved rules offer: new slots are flagged, lost ones counted. The
    agenda's absences that week are taken out, appointments are not (the
    week as offered to patients on an empty agenda). Nothing is saved; raises
    the errors saving would (carnet.scheduling.preview.check_draft and
    check_no_overlap).
    """
    saved = list_rule_drafts(agenda_id=agenda.pk)
    others = list_rule_drafts(agenda_id=agenda.pk, exclude_id=replacing_id)
    # The draft first, so that an overlap names the saved rule's hours.
    drafts = ([draft] if draft is not None else []) + others
    zone = agenda.zone
    start = datetime.combine(week_start, time(0), tzinfo=zone)
    end = datetime.combine(week_start + timedelta(days=WEEK), time(0), tzinfo=zone)
    busy = list_absences(agenda_id=agenda.pk, start=start, end=end)
    previews = []
    motives = agenda.motives.filter(is_active=True).order_by("name", "pk")
    for motive in motives:
        proposed = preview_week(
            agenda=agenda,
            rules=drafts,
            motive=motive,
            week_start=week_start,
            now=now,
            busy=busy,
        )
        current = dict(
            preview_week(
                agenda=agenda,
                rules=saved,
                motive=motive,
                week_start=week_start,
                now=now,
                busy=busy,
            )
        )
        days = []
        for day, starts in proposed:
            before = set(current.get(day, []))
            after = set(starts)
            days.append(
                PreviewDay(
                    day=day,
                    noon=datetime.combine(day, time(12), tzinfo=zone),
                    slots=[
                        PreviewSlot(starts_at=s, is_new=s not in before) for s in starts
                    ],
                    removed=len(before - after),
                )
            )
        previews.append(
            MotivePreview(
                motive=motive,
                days=days,
                added=sum(1 for d in days for s in d.slots if s.is_new),
                removed=sum(d.removed for d in days),
            )
        )
    return previews
