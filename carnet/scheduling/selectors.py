"""Reads on scheduling: an agenda's motives, windows and absences as plain values.

Also the gate of the practice settings: who may read or change an agenda's
opening hours, motives, absences and calendar feeds.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Model, Prefetch, Q
from django.http import HttpRequest

from carnet.accounts.errors import NotAllowedForRole, NotStaffOfPractice
from carnet.accounts.roles import Permission, require_permission
from carnet.core.errors import DomainError
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
from carnet.scheduling.preview import RuleDraft

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
