"""Waiting-list offers: a freed slot is offered to waiting patients, one at a time.

When an appointment is cancelled or moved away (carnet.booking.services and
carnet.booking.staff call ``slot_freed`` in their transaction, the agenda's
row lock held), its start is offered to the first matching live request of
the agenda's waiting list, in the order staff see it (oldest first). The
offer holds the slot for ``settings.CARNET_WAITLIST_OFFER_MINUTES`` (a
SlotHold whose holder is ``offer:<ref>``, busy for everyone else), the
outbox sends the patient a signed link (``offer_url_path``), and a task
expires it at the end of the hold time. The patient books the slot
(``accept_offer``) or declines it (``decline_offer``); a declined, expired or
withdrawn offer cascades to the next matching request, and when nobody is
left the hold is gone and the public can book the time.

A matching request waits for a motive of the agenda that can be booked at
exactly that start (opening windows, notice, horizon, nothing else in the
way), on a local day within its range; its patient is not the one who freed
the slot, was never offered this slot before, may book online at the
practice (no-show block, motive reserved for known patients), and has no
appointment for that motive at or before the slot. A patient with a *later*
appointment for the motive keeps it until they accept; it is then cancelled
as if they had cancelled it themselves (no cut-off: the slot they take is
earlier), which offers its time on in turn.

Every write takes the agenda's row lock first, then the offer's, like the
booking services, and answers are idempotent.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from carnet.accounts.models import User
from carnet.booking import services, tasks
from carnet.booking.errors import OfferAlreadyDecided, OfferExpired, OfferNotFound
from carnet.booking.models import (
    Appointment,
    SlotHold,
    WaitingListEntry,
    WaitlistOffer,
)
from carnet.booking.nextslots import refresh_agenda
from carnet.booking.policy import is_blocked
from carnet.booking.selectors import list_busy
from carnet.core.errors import DomainError
from carnet.notifications import links, outbox
from carnet.scheduling import availability
from carnet.scheduling.models import Agenda, VisitMotive
from carnet.scheduling.selectors import get_motive_schedule, lock_agenda

Status = WaitlistOffer.Status
EntryStatus = WaitingListEntry.Status

RELEASE_REASON = "released for an earlier slot from the waiting list"
"""The cancellation reason stored on a later appointment released by an accepted offer."""

OFFER_VERSION = 0
"""An offer never changes, it is only answered: its links carry version 0."""


def offer_minutes() -> int:
    """How long an offer keeps its slot (settings.CARNET_WAITLIST_OFFER_MINUTES, default 15)."""
    return int(getattr(settings, "CARNET_WAITLIST_OFFER_MINUTES", 15))


def make_offer_token(offer: WaitlistOffer) -> str:
    """The signed token of the offer's link (carnet.notifications.links, action "offer")."""
    return links.make_action_token(
        appointment_ref=str(offer.ref),
        version=OFFER_VERSION,
        action=links.ACTION_OFFER,
        expires_at=offer.expires_at,
    )


def offer_url_path(offer: WaitlistOffer) -> str:
    """The path of the page where the patient books or declines the offer."""
    return reverse("web:offer", args=[make_offer_token(offer)])


# -- making offers -------------------------------------------------------------------


def slot_freed(*, appointment: Appointment, starts_at: datetime, now: datetime) -> None:
    """`appointment`'s time `starts_at` was freed (cancelled or moved away): offer it.

    Offers the slot to the first matching waiting-list request (see the
    module's docstring), or does nothing. Call inside the freeing
    transaction, with the agenda's row lock held, after the agenda's
    next-availability index was rewritten.
    """
    _offer_next(
        agenda_id=appointment.agenda_id,
        starts_at=starts_at,
        now=now,
        freed=appointment,
    )


def _offer_next(
    *,
    agenda_id: int,
    starts_at: datetime,
    now: datetime,
    freed: Appointment | None,
) -> WaitlistOffer | None:
    """Offer `starts_at` to the next matching request; None when nobody matches.

    The agenda's row lock must be held.
    """
    if starts_at <= now:
        return None
    agenda = (
        Agenda.objects.select_related("practitioner", "practice", "location")
        .filter(pk=agenda_id, is_active=True)
        .first()
    )
    if agenda is None:
        return None
    day = starts_at.astimezone(agenda.zone).date()
    offered_before = WaitlistOffer.objects.filter(
        agenda_id=agenda_id, starts_at=starts_at
    ).values("entry__patient_id")
    entries = (
        WaitingListEntry.objects.filter(
            agenda_id=agenda_id,
            status=EntryStatus.ACTIVE,
            earliest_on__lte=day,
            latest_on__gte=day,
            motive__is_active=True,
        )
        .exclude(patient_id__in=offered_before)
        .select_related(
            "patient__account",
            "patient__managed_by__account",
            "created_by",
            "motive__agenda",
        )
        .order_by("created_at", "pk")
    )
    if freed is not None:
        entries = entries.exclude(patient_id=freed.patient_id)
    fits: dict[int, bool] = {}
    for entry in entries:
        motive = entry.motive
        if motive.pk not in fits:
            fits[motive.pk] = _fits(motive=motive, starts_at=starts_at, now=now)
        if not fits[motive.pk] or not _may_take(
            entry=entry, starts_at=starts_at, now=now
        ):
            continue
        offer = _make_offer(
            entry=entry, agenda=agenda, starts_at=starts_at, now=now, freed=freed
        )
        if offer is not None:
            return offer
    return None


def _fits(*, motive: VisitMotive, starts_at: datetime, now: datetime) -> bool:
    """Whether `motive` can be booked at exactly `starts_at` (every hold counts as busy)."""
    schedule = get_motive_schedule(motive=motive)
    busy = list_busy(
        agenda_id=motive.agenda_id,
        start=starts_at,
        end=starts_at + motive.duration,
        now=now,
    )
    problem = availability.check_slot(
        start=starts_at,
        windows=schedule.windows,
        busy=busy,
        zone=schedule.zone,
        duration=motive.duration,
        now=now,
        min_notice=motive.min_notice,
        horizon=motive.horizon,
    )
    return problem is None


def _may_take(*, entry: WaitingListEntry, starts_at: datetime, now: datetime) -> bool:
    """Whether the entry's patient may be offered `starts_at` for the entry's motive."""
    motive = entry.motive
    has_earlier = (
        Appointment.objects.active()
        .filter(
            patient_id=entry.patient_id,
            motive_id=motive.pk,
            starts_at__lte=starts_at,
            ends_at__gt=now,
        )
        .exists()
    )
    if has_earlier:
        return False
    if is_blocked(
        patient=entry.patient, practice_id=motive.agenda.practice_id, now=now
    ):
        return False
    return motive.open_to_new_patients or services._is_known_patient(
        patient=entry.patient, motive=motive, now=now
    )


def _make_offer(
    *,
    entry: WaitingListEntry,
    agenda: Agenda,
    starts_at: datetime,
    now: datetime,
    freed: Appointment | None,
) -> WaitlistOffer | None:
    """Offer the slot to `entry`: hold it, mark the entry offered, send, plan the expiry.

    The offer ends with its hold time, or sooner at the motive's notice (after
    that nobody could book it). None when that leaves no time or the entry
    stopped waiting meanwhile.
    """
    motive = entry.motive
    expires_at = min(
        now + timedelta(minutes=offer_minutes()), starts_at - motive.min_notice
    ).replace(microsecond=0)
    if expires_at <= now:
        return None
    # Conditional: the patient may be leaving the waiting list right now.
    claimed = WaitingListEntry.objects.filter(
        pk=entry.pk, status=EntryStatus.ACTIVE
    ).update(status=EntryStatus.OFFERED, updated_at=now)
    if not claimed:
        return None
    entry.status = EntryStatus.OFFERED
    offer = WaitlistOffer.objects.create(
        entry=entry,
        agenda=agenda,
        motive=motive,
        starts_at=starts_at,
        ends_at=starts_at + motive.duration,
        expires_at=expires_at,
        freed_appointment=freed,
    )
    SlotHold.objects.create(
        agenda=agenda,
        motive=motive,
        starts_at=offer.starts_at,
        ends_at=offer.ends_at,
        holder=offer.holder,
        expires_at=expires_at,
    )
    _plan_expiry(offer)
    refresh_agenda(agenda_id=agenda.pk, now=now)
    outbox.offer_made(offer=offer, now=now)
    return offer


def _plan_expiry(offer: WaitlistOffer) -> None:
    """Enqueue the offer's expiry for its end (in the caller's transaction)."""
    tasks.expire_waitlist_offer.using(run_after=offer.expires_at).enqueue(offer.pk)


# -- answers and expiry ----------------------------------------------------------------


def _read_ref(token: str, *, now: datetime) -> UUID:
    """The offer reference an authentic offer token names, expired or not.

    Expiry is judged on the offer itself (a booked offer stays readable).
    Raises OfferNotFound for anything else.
    """
    try:
        content = links.read_action_token(token, now=now)
    except links.ActionTokenExpired as exc:
        content = exc.token
    except links.ActionTokenError:
        raise OfferNotFound() from None
    if content.action != links.ACTION_OFFER or content.version != OFFER_VERSION:
        raise OfferNotFound()
    return UUID(content.appointment_ref)


def get_offer(*, token: str, now: datetime) -> WaitlistOffer:
    """The offer a link names, with what its page shows; no lock, never acts.

    Raises OfferNotFound for a token that is not an authentic offer link or
    names no offer. An expired link still names its offer (the page says
    what became of it).
    """
    ref = _read_ref(token, now=now)
    offer = (
        WaitlistOffer.objects.select_related(
            "agenda__practitioner",
            "agenda__practice",
            "agenda__location",
            "motive",
            "entry__patient",
            "appointment",
            "released_appointment",
        )
        .filter(ref=ref)
        .first()
    )
    if offer is None:
        raise OfferNotFound()
    return offer


def get_open_offer(*, offer_id: object, now: datetime) -> WaitlistOffer | None:
    """The offer `offer_id` if the patient can still accept it at `now` (for its message)."""
    if not isinstance(offer_id, int):
        return None
    offer = (
        WaitlistOffer.objects.select_related(
            "agenda__practitioner", "agenda__practice", "agenda__location"
        )
        .filter(pk=offer_id)
        .first()
    )
    if offer is None or not offer.is_open_at(now):
        return None
    return offer


def get_releasable_appointment(*, offer: WaitlistOffer) -> Appointment | None:
    """The patient's later appointment for the offer's motive that accepting would cancel."""
    return (
        Appointment.objects.filter(
            patient_id=offer.entry.patient_id,
            motive_id=offer.motive_id,
            status=Appointment.Status.BOOKED,
            starts_at__gt=offer.starts_at,
        )
        .order_by("starts_at", "pk")
        .first()
    )


def _lock_offer(ref: UUID) -> WaitlistOffer:
    """Take the agenda's row lock, then the offer's; OfferNotFound when there is none."""
    agenda_id = (
        WaitlistOffer.objects.filter(ref=ref)
        .values_list("agenda_id", flat=True)
        .first()
    )
    if agenda_id is None:
        raise OfferNotFound()
    lock_agenda(agenda_id=agenda_id)
    return (
        WaitlistOffer.objects.select_for_update(of=("self",))
        .select_related(
            "agenda__practitioner",
            "agenda__practice",
            "agenda__location",
            "motive",
            "entry__patient__account",
            "entry__patient__managed_by__account",
            "entry__created_by",
            "freed_appointment",
        )
        .get(ref=ref)
    )


def accept_offer(*, token: str, now: datetime) -> WaitlistOffer:
    """Book the offered slot for the waiting patient; release their later appointment.

    The booking goes through booking.services.book_appointment as the
    patient (booked by their account, or the account managing the relative),
    with the offer's hold. The entry is fulfilled; the patient's next booked
    appointment for the same motive after the slot, if any, is cancelled as
    the patient (without the cut-off) and its time offered on. Idempotent:
    accepting an accepted offer returns it unchanged.

    Raises OfferNotFound (bad link), OfferAlreadyDecided (declined before),
    OfferExpired (its time ran out, or it was withdrawn), or the booking's
    own refusal (SlotUnavailable, BookingBlockedByNoShows...). An offer found
    expired, or that can no longer be booked, is closed and cascades to the
    next waiting patient; that change is committed before the error is
    raised. Takes the agenda's row lock, then the offer's.
    """
    ref = _read_ref(token, now=now)
    refusal: DomainError
    with transaction.atomic():
        offer = _lock_offer(ref)
        if offer.status == Status.ACCEPTED:
            return offer
        if offer.status == Status.DECLINED:
            raise OfferAlreadyDecided()
        if offer.status != Status.OFFERED:
            raise OfferExpired()
        if now >= offer.expires_at:
            _close(offer, status=Status.EXPIRED, now=now)
            refusal = OfferExpired()
        else:
            try:
                with transaction.atomic():
                    _book(offer, now=now)
            except DomainError as exc:
                _close(offer, status=Status.WITHDRAWN, now=now)
                refusal = exc
            else:
                return offer
    raise refusal


def _booker(entry: WaitingListEntry) -> User | None:
    """Whom the booking is made by: the patient's account, else their manager's."""
    patient = entry.patient
    if patient.account is not None:
        return patient.account
    if patient.managed_by is not None and patient.managed_by.account is not None:
        return patient.managed_by.account
    return entry.created_by


def _book(offer: WaitlistOffer, *, now: datetime) -> None:
    """Book the slot, fulfil the entry, release the later appointment (locks held)."""
    entry = offer.entry
    appointment = services.book_appointment(
        agenda_id=offer.agenda_id,
        motive_id=offer.motive_id,
        patient=entry.patient,
        starts_at=offer.starts_at,
        booked_by=_booker(entry),  # type: ignore[arg-type]
        actor=Appointment.Actor.PATIENT,
        holder=offer.holder,
    )
    later = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("motive", "agenda")
        .filter(
            patient_id=entry.patient_id,
            motive_id=offer.motive_id,
            status=Appointment.Status.BOOKED,
            starts_at__gt=offer.starts_at,
        )
        .exclude(pk=appointment.pk)
        .order_by("starts_at", "pk")
        .first()
    )
    offer.status = Status.ACCEPTED
    offer.decided_at = now
    offer.appointment = appointment
    offer.released_appointment = later
    offer.save(
        update_fields=["status", "decided_at", "appointment", "released_appointment"]
    )
    WaitingListEntry.objects.filter(
        pk=entry.pk, status__in=WaitingListEntry.LIVE
    ).update(status=EntryStatus.FULFILLED, updated_at=now)
    if later is not None:
        # The patient's own cancellation path (index, outbox, offered on),
        # without the cut-off: they are moving to an earlier time.
        services._cancel_locked(
            appointment=later,
            now=now,
            actor=Appointment.Actor.PATIENT,
            reason=RELEASE_REASON,
        )


def decline_offer(*, token: str, now: datetime) -> WaitlistOffer:
    """The patient does not want the offered slot: it goes to the next waiting patient.

    The entry waits again (for other slots). Idempotent: declining a
    declined offer returns it unchanged; an offer that expired or was
    withdrawn is returned as it is (expired, and cascaded, if its time ran
    out and the task has not run yet). Raises OfferNotFound (bad link) or
    OfferAlreadyDecided (the slot was booked). Takes the agenda's row lock,
    then the offer's.
    """
    ref = _read_ref(token, now=now)
    with transaction.atomic():
        offer = _lock_offer(ref)
        if offer.status == Status.ACCEPTED:
            raise OfferAlreadyDecided()
        if offer.status == Status.OFFERED:
            status = Status.DECLINED if now < offer.expires_at else Status.EXPIRED
            _close(offer, status=status, now=now)
        return offer


@transaction.atomic
def expire_offer(*, offer_id: int, now: datetime) -> WaitlistOffer | None:
    """Expire an unanswered offer at the end of its hold time, and cascade.

    Safe to run twice: an offer already answered, expired or gone is left
    as it is; one run before its end is planned again for its end. Takes
    the agenda's row lock, then the offer's.
    """
    ref = (
        WaitlistOffer.objects.filter(pk=offer_id).values_list("ref", flat=True).first()
    )
    if ref is None:
        return None
    offer = _lock_offer(ref)
    if offer.status != Status.OFFERED:
        return offer
    if now < offer.expires_at:
        _plan_expiry(offer)
        return offer
    _close(offer, status=Status.EXPIRED, now=now)
    return offer


def expire_lapsed_offers(*, now: datetime, grace: timedelta, limit: int = 100) -> int:
    """Expire offers whose expiry task was lost (its worker died): `grace` past their end.

    The outbox's sweep calls it, so a lost task delays the cascade by at most
    `grace` plus a sweep. Returns how many offers it expired.
    """
    lapsed = list(
        WaitlistOffer.objects.filter(
            status=Status.OFFERED, expires_at__lt=now - grace
        ).values_list("pk", flat=True)[:limit]
    )
    for offer_id in lapsed:
        expire_offer(offer_id=offer_id, now=now)
    return len(lapsed)


def _close(offer: WaitlistOffer, *, status: str, now: datetime) -> None:
    """End a live offer: the entry waits again, the hold goes, the slot goes on.

    The agenda's row lock and the offer's must be held.
    """
    offer.status = status
    offer.decided_at = now
    offer.save(update_fields=["status", "decided_at"])
    WaitingListEntry.objects.filter(
        pk=offer.entry_id, status=EntryStatus.OFFERED
    ).update(status=EntryStatus.ACTIVE, updated_at=now)
    SlotHold.objects.filter(holder=offer.holder).delete()
    following = _offer_next(
        agenda_id=offer.agenda_id,
        starts_at=offer.starts_at,
        now=now,
        freed=offer.freed_appointment,
    )
    if following is None:
        # Nobody left: the slot is the public's again.
        refresh_agenda(agenda_id=offer.agenda_id, now=now)


# -- staff -----------------------------------------------------------------------------


def get_live_offer_expiries(
    *, entry_ids: Iterable[int], now: datetime
) -> dict[int, datetime]:
    """Until when each of these entries' live offer keeps its slot (entries without one left out)."""
    return dict(
        WaitlistOffer.objects.filter(
            entry_id__in=list(entry_ids), status=Status.OFFERED, expires_at__gt=now
        ).values_list("entry_id", "expires_at")
    )
