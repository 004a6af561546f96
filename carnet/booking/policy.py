"""The fair no-show policy: strikes per practice, never platform-wide.

Each practice decides (NoShowPolicy): whether no-shows count, how many
active, unexcused strikes block online booking there, and for how many days a
strike counts. A no-show marked by staff (carnet.booking.staff.mark_status)
records a strike; the patient sees their strikes and may send an excuse,
which the practitioner or the practice administrator accepts (the strike
stops counting) or refuses. A blocked patient is told why and how to reach the
practice; staff can always book them.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from carnet.accounts.errors import NotStaffOfPractice
from carnet.accounts.models import Patient, StaffMembership, User
from carnet.accounts.selectors import list_patients_for_user
from carnet.audit.models import Action, Purpose
from carnet.booking.access import (
    record_staff_change,
    record_staff_reads,
    require_practice_staff,
)
from carnet.booking.errors import (
    BookingBlockedByNoShows,
    ExcuseAlreadyDecided,
    ExcuseAlreadySent,
    ExcuseInvalid,
    ExcuseNotPending,
    NoShowPolicyInvalid,
    StrikeNotCounted,
    StrikeNotFound,
)
from carnet.booking.models import EXCUSE_MAX_LENGTH, Appointment, NoShowPolicy, Strike
from carnet.core.templatetags.carnet import phone_local
from carnet.directory.models import Practice

MAX_STRIKES_TO_BLOCK = 50
MAX_STRIKE_EXPIRY_DAYS = 3650
STAFF = Appointment.Actor.STAFF

# Who decides on the policy and on excuses: not the front desk.
DECIDING_ROLES = [
    StaffMembership.Role.PRACTITIONER,
    StaffMembership.Role.PRACTICE_ADMIN,
]


def get_no_show_policy(*, practice_id: int) -> NoShowPolicy:
    """The practice's policy, or an unsaved one with the defaults when it has none."""
    policy = NoShowPolicy.objects.filter(practice_id=practice_id).first()
    return policy if policy is not None else NoShowPolicy(practice_id=practice_id)


@transaction.atomic
def update_no_show_policy(
    *,
    actor: AbstractBaseUser,
    practice_id: int,
    enabled: bool,
    strikes_to_block: int,
    strike_expiry_days: int,
    request: HttpRequest | None = None,
) -> NoShowPolicy:
    """Set the practice's no-show policy (a practitioner or administrator of it).

    Applies to strikes recorded from now on for the expiry, and at once for
    the threshold. Raises NotStaffOfPractice, MfaRequired or
    NoShowPolicyInvalid (nothing changed).
    """
    require_practice_staff(
        actor=actor, practice_id=practice_id, request=request, roles=DECIDING_ROLES
    )
    if not (
        isinstance(strikes_to_block, int)
        and isinstance(strike_expiry_days, int)
        and 1 <= strikes_to_block <= MAX_STRIKES_TO_BLOCK
        and 1 <= strike_expiry_days <= MAX_STRIKE_EXPIRY_DAYS
    ):
        raise NoShowPolicyInvalid(
            max_strikes=MAX_STRIKES_TO_BLOCK, max_days=MAX_STRIKE_EXPIRY_DAYS
        )
    policy, _created = NoShowPolicy.objects.update_or_create(
        practice_id=practice_id,
        defaults={
            "enabled": bool(enabled),
            "strikes_to_block": strikes_to_block,
            "strike_expiry_days": strike_expiry_days,
        },
    )
    return policy


def count_strikes(*, patient: Patient, practice_id: int, now: datetime) -> int:
    """The patient's strikes at the practice that count at `now`."""
    return (
        Strike.objects.counted(now)
        .filter(patient=patient, practice_id=practice_id)
        .count()
    )


def is_blocked(*, patient: Patient, practice_id: int, now: datetime) -> bool:
    """Whether the patient may no longer book online at the practice at `now`.

    True once their active, unexcused strikes there reach the practice's
    threshold, while its policy is enabled.
    """
    policy = get_no_show_policy(practice_id=practice_id)
    if not policy.enabled:
        return False
    strikes = count_strikes(patient=patient, practice_id=practice_id, now=now)
    return strikes >= policy.strikes_to_block


def check_online_booking_allowed(
    *, patient: Patient, practice_id: int, now: datetime
) -> None:
    """Raise BookingBlockedByNoShows (with the practice's phone) when the patient is blocked."""
    if not is_blocked(patient=patient, practice_id=practice_id, now=now):
        return
    practice = Practice.objects.get(pk=practice_id)
    raise BookingBlockedByNoShows(
        practice=practice.name,
        phone=phone_local(practice.phone, practice.country),
        strikes=count_strikes(patient=patient, practice_id=practice_id, now=now),
    )


def record_strike(*, appointment: Appointment, now: datetime) -> Strike | None:
    """Count a no-show against its patient at the appointment's practice.

    Nothing when the practice's policy is disabled. The strike expires the
    policy's number of days after the missed appointment. Called by
    mark_status inside its transaction, the appointment row locked.
    """
    practice_id = appointment.agenda.practice_id
    policy = get_no_show_policy(practice_id=practice_id)
    if not policy.enabled:
        return None
    return Strike.objects.create(
        patient_id=appointment.patient_id,
        practice_id=practice_id,
        appointment=appointment,
        expires_at=appointment.starts_at + timedelta(days=policy.strike_expiry_days),
    )


def forget_strike(*, appointment: Appointment) -> None:
    """Delete the strike of a no-show that staff undid (it never happened)."""
    Strike.objects.filter(appointment=appointment).delete()


def list_strikes_for_user(*, user: User) -> QuerySet[Strike]:
    """The strikes of the user and of their relatives, newest first.

    Expired and excused ones included: `expires_at`, `excused_at` and
    `counts_at(now)` tell which still count.
    """
    return (
        Strike.objects.filter(patient__in=list_patients_for_user(user=user))
        .select_related("patient", "practice", "appointment", "appointment__motive")
        .order_by("-created_at", "-pk")
    )


@transaction.atomic
def send_excuse(*, user: User, strike_id: int, text: str) -> Strike:
    """Send the practice an excuse for one of the user's (or a relative's) strikes.

    One excuse per strike, while it counts. The text is sealed under the
    patient's data key. Raises StrikeNotFound, ExcuseInvalid,
    ExcuseAlreadySent or StrikeNotCounted (nothing changed). Locks the
    strike row.
    """
    text = (text or "").strip()
    strike = (
        Strike.objects.select_for_update(of=("self",))
        .filter(pk=strike_id, patient__in=list_patients_for_user(user=user))
        .select_related("patient")
        .first()
    )
    if strike is None:
        raise StrikeNotFound()
    if not text or len(text) > EXCUSE_MAX_LENGTH:
        raise ExcuseInvalid(max_length=EXCUSE_MAX_LENGTH)
    if strike.excuse_sent_at is not None:
        raise ExcuseAlreadySent()
    now = timezone.now()
    if not strike.counts_at(now):
        raise StrikeNotCounted()
    strike.excuse_text = text
    strike.excuse_sent_at = now
    strike.save(update_fields=["excuse_text", "excuse_sent_at", "updated_at"])
    return strike


@transaction.atomic
def decide_excuse(
    *,
    actor: AbstractBaseUser,
    strike_id: int,
    accept: bool,
    request: HttpRequest | None = None,
    actor_kind: str = STAFF,
) -> Strike:
    """Accept (the strike stops counting) or refuse a patient's excuse.

    For the practice's practitioners and administrators. Accepting needs no
    written excuse (staff may forgive a patient who phoned); refusing needs
    one. Raises StrikeNotFound (missing or another practice's alike),
    MfaRequired, ExcuseNotPending or ExcuseAlreadyDecided. Locks the strike
    row; records an update event in the audit trail.
    """
    practice_id = (
        Strike.objects.filter(pk=strike_id)
        .values_list("practice_id", flat=True)
        .first()
    )
    if practice_id is None:
        raise StrikeNotFound()
    try:
        require_practice_staff(
            actor=actor, practice_id=practice_id, request=request, roles=DECIDING_ROLES
        )
    except NotStaffOfPractice:
        raise StrikeNotFound() from None
    strike = Strike.objects.select_for_update().get(pk=strike_id)
    if strike.excuse_decided_at is not None:
        raise ExcuseAlreadyDecided()
    if not accept and strike.excuse_sent_at is None:
        raise ExcuseNotPending()
    now = timezone.now()
    strike.excuse_decided_at = now
    strike.excuse_decided_by_id = actor.pk
    strike.excused_at = now if accept else None
    strike.save(
        update_fields=[
            "excuse_decided_at",
            "excuse_decided_by",
            "excused_at",
            "updated_at",
        ]
    )
    record_staff_change(
        actor=actor,
        actor_kind=actor_kind,
        action=Action.UPDATE,
        patient_id=strike.patient_id,
        resource=f"strike:{strike.pk}",
        purpose=Purpose.ADMINISTRATION,
    )
    return strike


def list_strikes_for_practice(
    *,
    actor: AbstractBaseUser,
    practice_id: int,
    pending_only: bool = False,
    request: HttpRequest | None = None,
    actor_kind: str = STAFF,
    limit: int = 500,
) -> list[Strike]:
    """The practice's strikes, newest first (with `pending_only`, those awaiting a decision).

    For any member of the practice. Records one read event per patient shown.
    Raises NotStaffOfPractice or MfaRequired.
    """
    require_practice_staff(actor=actor, practice_id=practice_id, request=request)
    strikes = Strike.objects.filter(practice_id=practice_id).select_related(
        "patient",
        "practice",
        "appointment",
        "appointment__agenda",
        "appointment__motive",
    )
    if pending_only:
        strikes = strikes.filter(
            excuse_sent_at__isnull=False, excuse_decided_at__isnull=True
        )
    shown = list(strikes.order_by("-created_at", "-pk")[:limit])
    record_staff_reads(
        actor=actor,
        actor_kind=actor_kind,
        patient_ids=[s.patient_id for s in shown],
        resource=f"practice:{practice_id}:no-shows",
        purpose=Purpose.CARE,
    )
    return shown


@dataclass(frozen=True)
class NoShowStanding:
    """One patient's missed appointments at one practice, and what they mean now."""

    patient: Patient
    practice: Practice
    policy: NoShowPolicy
    strikes: list[Strike]
    counted: int
    blocked: bool


def _standings(strikes: Iterable[Strike], *, now: datetime) -> list[NoShowStanding]:
    """Group strikes per (patient, practice), in the order first met; one policy query."""
    groups: dict[tuple[int, int], list[Strike]] = {}
    for strike in strikes:
        groups.setdefault((strike.patient_id, strike.practice_id), []).append(strike)
    practice_ids = {practice_id for _patient_id, practice_id in groups}
    policies = {
        p.practice_id: p
        for p in NoShowPolicy.objects.filter(practice_id__in=practice_ids)
    }
    standings = []
    for (_patient_id, practice_id), group in groups.items():
        policy = policies.get(practice_id) or NoShowPolicy(practice_id=practice_id)
        counted = sum(1 for s in group if s.counts_at(now))
        standings.append(
            NoShowStanding(
                patient=group[0].patient,
                practice=group[0].practice,
                policy=policy,
                strikes=group,
                counted=counted,
                blocked=policy.enabled and counted >= policy.strikes_to_block,
            )
        )
    return standings


def list_no_show_standings_for_user(
    *, user: User, now: datetime
) -> list[NoShowStanding]:
    """The user's and relatives' strikes grouped per patient and practice, blocked first.

    Each group says how many strikes count at `now` and whether online
    booking at that practice is blocked for that patient (the practice's own
    policy decides). Expired and excused strikes are included.
    """
    standings = _standings(list_strikes_for_user(user=user), now=now)
    return sorted(standings, key=lambda s: (not s.blocked, -s.counted))


@dataclass(frozen=True)
class PracticeNoShows:
    """What a practice's no-show page shows: its policy, who has strikes, pending excuses."""

    policy: NoShowPolicy
    standings: list[NoShowStanding]
    pending: list[Strike]


def get_practice_no_shows(
    *,
    actor: AbstractBaseUser,
    practice_id: int,
    now: datetime,
    request: HttpRequest | None = None,
    actor_kind: str = STAFF,
) -> PracticeNoShows:
    """The practice's policy, its patients' counting strikes and the excuses awaiting a decision.

    For the practice's practitioners and administrators. Reads through
    list_strikes_for_practice (one read event per patient shown). Raises
    NotStaffOfPractice or MfaRequired.
    """
    require_practice_staff(
        actor=actor, practice_id=practice_id, request=request, roles=DECIDING_ROLES
    )
    strikes = list_strikes_for_practice(
        actor=actor, practice_id=practice_id, request=request, actor_kind=actor_kind
    )
    current = [s for s in strikes if s.counts_at(now)]
    standings = sorted(
        _standings(current, now=now),
        key=lambda s: (not s.blocked, -s.counted, s.patient.last_name, s.patient.pk),
    )
    pending = sorted(
        (s for s in strikes if s.excuse_pending),
        key=lambda s: (s.excuse_sent_at, s.pk),
    )
    return PracticeNoShows(
        policy=get_no_show_policy(practice_id=practice_id),
        standings=standings,
        pending=pending,
    )
