"""Reads on scheduling: an agenda's motives, windows and absences as plain values."""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, Q

from carnet.scheduling.availability import Interval, Window
from carnet.scheduling.errors import AgendaNotFound, MotiveNotFound
from carnet.scheduling.models import Absence, Agenda, OpeningRule, VisitMotive


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
