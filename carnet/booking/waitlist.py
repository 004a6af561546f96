"""The waiting list: patients ask to be offered an earlier slot of one motive.

A patient (or the account holder for a relative) names a motive of an agenda
and a range of local days within the motive's booking horizon; staff see the
agenda's live requests. Offering freed slots and the cascade between
waiting patients live in carnet.booking.offers.
"""

from dataclasses import dataclass
from datetime import date

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from carnet.accounts.models import User
from carnet.accounts.roles import Permission, require_permission
from carnet.accounts.selectors import get_patient_for_user, list_patients_for_user
from carnet.audit.models import Purpose
from carnet.booking.access import record_staff_reads, require_practice_staff
from carnet.booking.errors import (
    MotiveClosedToNewPatients,
    WaitingListDatesInvalid,
    WaitingListDuplicate,
    WaitingListEntryNotFound,
    WaitingListOutsideHorizon,
)
from carnet.booking.models import Appointment, WaitingListEntry
from carnet.booking.policy import check_online_booking_allowed
from carnet.booking.services import _is_known_patient
from carnet.core.errors import NotFound
from carnet.scheduling.models import Agenda
from carnet.scheduling.selectors import get_motive

STAFF = Appointment.Actor.STAFF


@transaction.atomic
def join_waiting_list(
    *,
    user: User,
    patient_id: int | None,
    agenda_id: int,
    motive_id: int,
    earliest_on: date,
    latest_on: date,
) -> WaitingListEntry:
    """Put the user (no `patient_id`) or one of their relatives on an agenda's waiting list.

    The range of local days must start today or later, end on or after its
    start and not beyond the motive's horizon. The patient must be allowed
    to book the motive online (not blocked by no-shows, known to the
    practitioner for a motive closed to new patients). One live entry per
    patient and motive. Raises RelativeNotFound / NoPatientProfile,
    AgendaNotFound, MotiveNotFound, WaitingListDatesInvalid,
    WaitingListOutsideHorizon, BookingBlockedByNoShows,
    MotiveClosedToNewPatients or WaitingListDuplicate (nothing changed).
    """
    patient = get_patient_for_user(user=user, patient_id=patient_id)
    motive = get_motive(agenda_id=agenda_id, motive_id=motive_id)
    now = timezone.now()
    zone = motive.agenda.zone
    today = now.astimezone(zone).date()
    if not (
        isinstance(earliest_on, date)
        and isinstance(latest_on, date)
        and today <= earliest_on <= latest_on
    ):
        raise WaitingListDatesInvalid()
    if latest_on > (now + motive.horizon).astimezone(zone).date():
        raise WaitingListOutsideHorizon(days=motive.horizon_days)
    check_online_booking_allowed(
        patient=patient, practice_id=motive.agenda.practice_id, now=now
    )
    if not motive.open_to_new_patients and not _is_known_patient(
        patient=patient, motive=motive, now=now
    ):
        raise MotiveClosedToNewPatients()
    live = WaitingListEntry.objects.filter(
        patient=patient, motive=motive, status__in=WaitingListEntry.LIVE
    )
    if live.exists():
        raise WaitingListDuplicate()
    entry = WaitingListEntry(
        patient=patient,
        agenda=motive.agenda,
        motive=motive,
        earliest_on=earliest_on,
        latest_on=latest_on,
        created_by=user,
    )
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError as exc:
        # The same request twice at once: the partial unique index decides
        # (WAITLIST_LIVE_CONSTRAINT; SQLite does not name it in the error).
        if live.exists():
            raise WaitingListDuplicate() from exc
        raise
    return entry


@transaction.atomic
def leave_waiting_list(*, user: User, entry_id: int) -> WaitingListEntry:
    """Take one of the user's (or a relative's) requests off the waiting list.

    Leaving an entry that is no longer live (cancelled or fulfilled) changes
    nothing. Raises WaitingListEntryNotFound for anyone else's entry. Locks
    the entry's row.
    """
    entry = (
        WaitingListEntry.objects.select_for_update(of=("self",))
        .filter(pk=entry_id, patient__in=list_patients_for_user(user=user))
        .first()
        if isinstance(entry_id, int)
        else None
    )
    if entry is None:
        raise WaitingListEntryNotFound()
    if entry.is_live:
        entry.status = WaitingListEntry.Status.CANCELLED
        entry.cancelled_at = timezone.now()
        entry.save(update_fields=["status", "cancelled_at", "updated_at"])
    return entry


def list_waiting_entries_for_user(*, user: User) -> QuerySet[WaitingListEntry]:
    """The user's and their relatives' waiting list requests, newest first (all statuses)."""
    return (
        WaitingListEntry.objects.filter(patient__in=list_patients_for_user(user=user))
        .select_related("patient", "agenda", "agenda__practitioner", "motive")
        .order_by("-created_at", "-pk")
    )


def list_waiting_list(
    *,
    actor: AbstractBaseUser,
    agenda_id: int,
    request: HttpRequest | None = None,
    actor_kind: str = STAFF,
) -> list[WaitingListEntry]:
    """An agenda's live waiting list requests whose range has not passed, oldest first.

    For any member of the agenda's practice with a second factor. Records
    one read event per patient shown. Raises NotFound (no such agenda),
    NotStaffOfPractice or MfaRequired.
    """
    agenda = (
        Agenda.objects.filter(pk=agenda_id).first()
        if isinstance(agenda_id, int)
        else None
    )
    if agenda is None:
        raise NotFound()
    require_practice_staff(actor=actor, practice_id=agenda.practice_id, request=request)
    today = timezone.now().astimezone(agenda.zone).date()
    entries = list(
        WaitingListEntry.objects.filter(
            agenda=agenda, status__in=WaitingListEntry.LIVE, latest_on__gte=today
        )
        .select_related("patient", "motive")
        .order_by("created_at", "pk")
    )
    record_staff_reads(
        actor=actor,
        actor_kind=actor_kind,
        patient_ids=[e.patient_id for e in entries],
        resource=f"agenda:{agenda.pk}:waiting-list",
        purpose=Purpose.BOOKING,
    )
    return entries


@dataclass(frozen=True)
class AgendaWaitingList:
    """One agenda's live requests, in the order offers will go (first come, first offered)."""

    agenda: Agenda
    entries: list[WaitingListEntry]


def list_waiting_lists_for_practice(
    *,
    actor: AbstractBaseUser,
    practice_id: int,
    agenda_id: int | None = None,
    request: HttpRequest | None = None,
    actor_kind: str = STAFF,
) -> list[AgendaWaitingList]:
    """The live waiting list of each agenda of the practice (or only `agenda_id`'s).

    For members whose role grants VIEW_WAITING_LIST. Records one read event
    per patient shown (list_waiting_list). Raises NotStaffOfPractice,
    NotAllowedForRole, MfaRequired, or NotFound for an agenda of another
    practice.
    """
    require_permission(
        user=actor,
        practice_id=practice_id,
        permission=Permission.VIEW_WAITING_LIST,
        request=request,
    )
    agendas = Agenda.objects.filter(practice_id=practice_id).select_related(
        "practitioner", "location"
    )
    if agenda_id is not None:
        agendas = agendas.filter(pk=agenda_id)
    chosen = list(agendas.order_by("practitioner__last_name", "name", "pk"))
    if agenda_id is not None and not chosen:
        raise NotFound()
    return [
        AgendaWaitingList(
            agenda=agenda,
            entries=list_waiting_list(
                actor=actor,
                agenda_id=agenda.pk,
                request=request,
                actor_kind=actor_kind,
            ),
        )
        for agenda in chosen
    ]
