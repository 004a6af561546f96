"""Practice settings: opening rules, visit motives and absences of an agenda.

Every service takes the staff user as `actor` and lets them through the
settings gate (carnet.scheduling.selectors.check_settings_access, over the
role matrix of carnet.accounts.roles): practice administrators and
practitioners of the agenda's practice change everything, secretaries only
absences; a second factor is required. Each change is one
transaction that also rebuilds what depends on the agenda, called explicitly
(STYLE: no signals): the next-availability index
(carnet.booking.nextslots.refresh_agenda) and the search entry
(carnet.directory.services.reindex_agendas). A refused change changes nothing.
"""

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from carnet.accounts.selectors import patient_audit_ref
from carnet.audit.services import record_event
from carnet.booking.models import Appointment
from carnet.booking.nextslots import refresh_agenda
from carnet.directory.services import reindex_agendas
from carnet.scheduling.errors import (
    AbsenceLabelInvalid,
    AbsenceNotFound,
    AbsencePeriodInvalid,
    BookingQuestionsInvalid,
    CancellationCutoffInvalid,
    ChannelInvalid,
    ColourInvalid,
    CurrencyInvalid,
    HorizonInvalid,
    MotiveDurationInvalid,
    MotiveNameInvalid,
    MotiveNotFound,
    NoticeInvalid,
    OpeningRuleNotFound,
    PriceInvalid,
)
from carnet.scheduling.models import (
    DEFAULT_MOTIVE_COLOUR,
    Absence,
    Agenda,
    Currency,
    OpeningRule,
    VisitMotive,
)
from carnet.scheduling.preview import RuleDraft, check_draft, check_no_overlap
from carnet.scheduling.selectors import (
    ABSENCES_PERMISSION,
    SETTINGS_PERMISSION,
    get_managed_agenda,
    get_managed_object,
    list_rule_drafts,
    lock_agenda,
)

MAX_BOOKING_QUESTIONS = 10
MAX_QUESTION_LENGTH = 200
MAX_PRICE_MINOR = 10_000_000  # 100 000.00 EUR
_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")


class Unset(enum.Enum):
    """Marks a motive field left unchanged by update_motive."""

    UNSET = "unset"


UNSET = Unset.UNSET


@dataclass(frozen=True, slots=True)
class AbsenceOutcome:
    """A saved absence and the booked appointments it covers (for staff to move)."""

    absence: Absence
    affected_appointments: list[Appointment]


# -- shared steps ----------------------------------------------------------


def agenda_changed(*, agenda_id: int, now: datetime) -> None:
    """Rebuild the agenda's search entry and next-availability rows, in the caller's transaction."""
    reindex_agendas(agenda_ids=[agenda_id])
    refresh_agenda(agenda_id=agenda_id, now=now)


def list_affected_appointments(
    *,
    actor: AbstractBaseUser,
    agenda: Agenda,
    periods: Sequence[tuple[datetime, datetime]],
    now: datetime,
) -> list[Appointment]:
    """Booked appointments of `agenda` meeting one of `periods` and not over at `now`.

    They show patients' names to staff: one audit read event per patient,
    in the caller's transaction.
    """
    if not periods:
        return []
    meets = Q()
    for start, end in periods:
        meets |= Q(starts_at__lt=end, ends_at__gt=start)
    appointments = list(
        Appointment.objects.filter(
            agenda=agenda, status=Appointment.Status.BOOKED, ends_at__gt=now
        )
        .filter(meets)
        .select_related("patient", "motive")
        .order_by("starts_at", "pk")
    )
    label = (actor.get_full_name() or f"#{actor.pk}")[:120]
    for patient_id in sorted({a.patient_id for a in appointments}):
        record_event(
            actor_id=actor.pk,
            actor_kind="staff",
            actor_label=label,
            action="read",
            resource=f"agenda:{agenda.pk}:absence",
            patient_ref=patient_audit_ref(patient_id),
            purpose="administration",
        )
    return appointments


# -- opening rules ---------------------------------------------------------


def _check_motive_ids(*, agenda: Agenda, motive_ids: Iterable[int]) -> set[int]:
    """The ids, if all are motives of `agenda` (active or not); else MotiveNotFound."""
    wanted = set(motive_ids)
    if not wanted:
        return wanted
    if not all(isinstance(pk, int) and not isinstance(pk, bool) for pk in wanted):
        raise MotiveNotFound()
    found = set(
        VisitMotive.objects.filter(agenda=agenda, pk__in=wanted).values_list(
            "pk", flat=True
        )
    )
    if found != wanted:
        raise MotiveNotFound()
    return wanted


def _draft(
    *,
    weekday: int,
    opens_time: time,
    closes_time: time,
    valid_on: date | None,
    valid_until_on: date | None,
    motive_ids: Iterable[int],
) -> RuleDraft:
    return RuleDraft(
        weekday=weekday,
        opens=opens_time,
        closes=closes_time,
        valid_from=valid_on,
        valid_until=valid_until_on,
        motive_ids=frozenset(motive_ids),
    )


def _save_rule(
    *, agenda: Agenda, rule: OpeningRule | None, draft: RuleDraft
) -> OpeningRule:
    """Check `draft` against the agenda's other rules, then create or overwrite `rule`."""
    check_draft(draft)
    lock_agenda(agenda_id=agenda.pk)
    motive_ids = _check_motive_ids(agenda=agenda, motive_ids=draft.motive_ids)
    check_no_overlap(
        [draft],
        existing=list_rule_drafts(
            agenda_id=agenda.pk, exclude_id=rule.pk if rule is not None else None
        ),
    )
    fields = {
        "weekday": draft.weekday,
        "opens_time": draft.opens,
        "closes_time": draft.closes,
        "valid_on": draft.valid_from,
        "valid_until_on": draft.valid_until,
    }
    if rule is None:
        rule = OpeningRule.objects.create(agenda=agenda, **fields)
    else:
        for name, value in fields.items():
            setattr(rule, name, value)
        rule.save(update_fields=[*fields, "updated_at"])
    rule.motives.set(sorted(motive_ids))
    agenda_changed(agenda_id=agenda.pk, now=timezone.now())
    return rule


def _get_managed_rule(
    *, actor: AbstractBaseUser, rule_id: int, request: HttpRequest | None
) -> OpeningRule:
    return get_managed_object(
        actor=actor,
        model=OpeningRule,
        pk=rule_id,
        permission=SETTINGS_PERMISSION,
        not_found=OpeningRuleNotFound,
        request=request,
    )


@transaction.atomic
def create_opening_rule(
    *,
    actor: AbstractBaseUser,
    agenda_id: int,
    weekday: int,
    opens_time: time,
    closes_time: time,
    valid_on: date | None = None,
    valid_until_on: date | None = None,
    motive_ids: Iterable[int] = (),
    request: HttpRequest | None = None,
) -> OpeningRule:
    """Open the agenda every `weekday` from `opens_time` to `closes_time` (wall clock).

    `motive_ids` restricts the rule to some motives of the agenda (empty: all);
    `valid_on`/`valid_until_on` bound it (inclusive). Raises the gate's errors,
    WeekdayInvalid, OpeningHoursInvalid, ValidityInvalid, MotiveNotFound or
    OpeningRulesOverlap (another rule already opens one of these motives at
    that time). Takes the agenda's row lock.
    """
    agenda = get_managed_agenda(
        actor=actor,
        agenda_id=agenda_id,
        permission=SETTINGS_PERMISSION,
        request=request,
    )
    return _save_rule(
        agenda=agenda,
        rule=None,
        draft=_draft(
            weekday=weekday,
            opens_time=opens_time,
            closes_time=closes_time,
            valid_on=valid_on,
            valid_until_on=valid_until_on,
            motive_ids=motive_ids,
        ),
    )


@transaction.atomic
def update_opening_rule(
    *,
    actor: AbstractBaseUser,
    rule_id: int,
    weekday: int,
    opens_time: time,
    closes_time: time,
    valid_on: date | None = None,
    valid_until_on: date | None = None,
    motive_ids: Iterable[int] = (),
    request: HttpRequest | None = None,
) -> OpeningRule:
    """Replace every field of opening rule `rule_id` (same checks as create_opening_rule).

    Raises OpeningRuleNotFound for a missing rule or another practice's.
    """
    rule = _get_managed_rule(actor=actor, rule_id=rule_id, request=request)
    return _save_rule(
        agenda=rule.agenda,
        rule=rule,
        draft=_draft(
            weekday=weekday,
            opens_time=opens_time,
            closes_time=closes_time,
            valid_on=valid_on,
            valid_until_on=valid_until_on,
            motive_ids=motive_ids,
        ),
    )


@transaction.atomic
def delete_opening_rule(
    *, actor: AbstractBaseUser, rule_id: int, request: HttpRequest | None = None
) -> None:
    """Delete opening rule `rule_id`; booked appointments are kept.

    Raises OpeningRuleNotFound for a missing rule or another practice's.
    """
    rule = _get_managed_rule(actor=actor, rule_id=rule_id, request=request)
    lock_agenda(agenda_id=rule.agenda_id)
    rule.delete()
    agenda_changed(agenda_id=rule.agenda_id, now=timezone.now())


@transaction.atomic
def replace_opening_rules(
    *,
    actor: AbstractBaseUser,
    agenda_id: int,
    rules: Sequence[RuleDraft],
    request: HttpRequest | None = None,
) -> list[OpeningRule]:
    """Replace all the agenda's opening rules by `rules` (what a previewed grid saves).

    All or nothing: raises like create_opening_rule (overlaps are checked
    among `rules`) and then nothing is changed. Returns the new rules in order.
    """
    agenda = get_managed_agenda(
        actor=actor,
        agenda_id=agenda_id,
        permission=SETTINGS_PERMISSION,
        request=request,
    )
    rules = list(rules)
    for draft in rules:
        check_draft(draft)
    check_no_overlap(rules)
    lock_agenda(agenda_id=agenda.pk)
    _check_motive_ids(
        agenda=agenda, motive_ids={pk for draft in rules for pk in draft.motive_ids}
    )
    OpeningRule.objects.filter(agenda=agenda).delete()
    saved = []
    for draft in rules:
        rule = OpeningRule.objects.create(
            agenda=agenda,
            weekday=draft.weekday,
            opens_time=draft.opens,
            closes_time=draft.closes,
            valid_on=draft.valid_from,
            valid_until_on=draft.valid_until,
        )
        rule.motives.set(sorted(draft.motive_ids))
        saved.append(rule)
    agenda_changed(agenda_id=agenda.pk, now=timezone.now())
    return saved


# -- visit motives ---------------------------------------------------------


def _clean_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 120:
        raise MotiveNameInvalid()
    return name.strip()


def _clean_int(value: object, low: int, high: int, error: type[Exception]) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not low <= value <= high
    ):
        raise error()
    return value


def _clean_duration(value: object) -> int:
    minutes = _clean_int(value, 5, 480, MotiveDurationInvalid)
    if minutes % 5:
        raise MotiveDurationInvalid()
    return minutes


def _clean_channel(value: object) -> str:
    if value not in VisitMotive.Channel.values:
        raise ChannelInvalid()
    return str(value)


def clean_colour(value: object) -> str:
    """A #RRGGBB colour, upper-cased; raises ColourInvalid."""
    if not isinstance(value, str) or not _COLOUR.fullmatch(value):
        raise ColourInvalid()
    return value.upper()


def _clean_price(value: object) -> int | None:
    """Minor units (cents) of a price in euros; None for no price."""
    if value is None:
        return None
    if isinstance(value, bool | float) or not isinstance(value, Decimal | int | str):
        raise PriceInvalid()  # never a float (STYLE C3.7)
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise PriceInvalid() from None
    if not amount.is_finite():
        raise PriceInvalid()
    minor = amount.scaleb(2)
    if minor != minor.to_integral_value() or not 0 <= minor <= MAX_PRICE_MINOR:
        raise PriceInvalid()
    return int(minor)


def _clean_currency(value: object) -> str:
    if value not in Currency.values:
        raise CurrencyInvalid()
    return str(value)


def clean_booking_questions(value: object) -> list[dict[str, Any]]:
    """Normalised booking questions: [{"label": str, "required": bool}, ...].

    At most 10, labels of 1 to 200 characters (inner spaces collapsed), no
    two alike; "required" defaults to False. Raises BookingQuestionsInvalid.
    """
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
        raise BookingQuestionsInvalid()
    if len(value) > MAX_BOOKING_QUESTIONS:
        raise BookingQuestionsInvalid()
    questions: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in value:
        if not isinstance(item, Mapping) or set(item) - {"label", "required"}:
            raise BookingQuestionsInvalid()
        label = item.get("label")
        required = item.get("required", False)
        if not isinstance(label, str) or not isinstance(required, bool):
            raise BookingQuestionsInvalid()
        label = " ".join(label.split())
        if not 1 <= len(label) <= MAX_QUESTION_LENGTH or label.casefold() in seen:
            raise BookingQuestionsInvalid()
        seen.add(label.casefold())
        questions.append({"label": label, "required": required})
    return questions


_CLEANERS = {
    "name": _clean_name,
    "duration_minutes": _clean_duration,
    "channel": _clean_channel,
    "open_to_new_patients": lambda value: bool(value),
    "min_notice_minutes": lambda value: _clean_int(value, 0, 43_200, NoticeInvalid),
    "horizon_days": lambda value: _clean_int(value, 1, 730, HorizonInvalid),
    "cancellation_cutoff_hours": lambda value: _clean_int(
        value, 0, 720, CancellationCutoffInvalid
    ),
    "colour": clean_colour,
    "price_minor": _clean_price,
    "currency": _clean_currency,
    "booking_questions": clean_booking_questions,
}


def _clean_motive_fields(values: Mapping[str, object]) -> dict[str, Any]:
    """Model field values from service arguments (price is given in euros)."""
    return {name: _CLEANERS[name](value) for name, value in values.items()}


def _get_managed_motive(
    *, actor: AbstractBaseUser, motive_id: int, request: HttpRequest | None
) -> VisitMotive:
    return get_managed_object(
        actor=actor,
        model=VisitMotive,
        pk=motive_id,
        permission=SETTINGS_PERMISSION,
        not_found=MotiveNotFound,
        request=request,
    )


@transaction.atomic
def create_motive(
    *,
    actor: AbstractBaseUser,
    agenda_id: int,
    name: str,
    duration_minutes: int = 20,
    channel: str = VisitMotive.Channel.IN_PERSON,
    open_to_new_patients: bool = True,
    min_notice_minutes: int = 60,
    horizon_days: int = 90,
    cancellation_cutoff_hours: int = 24,
    colour: str = DEFAULT_MOTIVE_COLOUR,
    price: Decimal | int | str | None = None,
    currency: str = Currency.EUR,
    booking_questions: Sequence[Mapping[str, Any]] = (),
    request: HttpRequest | None = None,
) -> VisitMotive:
    """Add a visit motive to the agenda, bookable as soon as a rule opens for it.

    `price` is in euros (at most two decimals, never a float), stored in cents;
    `booking_questions` is a list of {"label": str, "required": bool} asked at
    booking. Raises the gate's errors, MotiveNameInvalid,
    MotiveDurationInvalid (5 to 480 minutes, by 5), ChannelInvalid,
    NoticeInvalid, HorizonInvalid, CancellationCutoffInvalid, ColourInvalid,
    PriceInvalid, CurrencyInvalid or BookingQuestionsInvalid.
    """
    agenda = get_managed_agenda(
        actor=actor,
        agenda_id=agenda_id,
        permission=SETTINGS_PERMISSION,
        request=request,
    )
    fields = _clean_motive_fields(
        {
            "name": name,
            "duration_minutes": duration_minutes,
            "channel": channel,
            "open_to_new_patients": open_to_new_patients,
            "min_notice_minutes": min_notice_minutes,
            "horizon_days": horizon_days,
            "cancellation_cutoff_hours": cancellation_cutoff_hours,
            "colour": colour,
            "price_minor": price,
            "currency": currency,
            "booking_questions": booking_questions,
        }
    )
    lock_agenda(agenda_id=agenda.pk)
    motive = VisitMotive.objects.create(agenda=agenda, **fields)
    agenda_changed(agenda_id=agenda.pk, now=timezone.now())
    return motive


@transaction.atomic
def update_motive(
    *,
    actor: AbstractBaseUser,
    motive_id: int,
    name: str | Unset = UNSET,
    duration_minutes: int | Unset = UNSET,
    channel: str | Unset = UNSET,
    open_to_new_patients: bool | Unset = UNSET,
    min_notice_minutes: int | Unset = UNSET,
    horizon_days: int | Unset = UNSET,
    cancellation_cutoff_hours: int | Unset = UNSET,
    colour: str | Unset = UNSET,
    price: Decimal | int | str | Unset | None = UNSET,
    currency: str | Unset = UNSET,
    booking_questions: Sequence[Mapping[str, Any]] | Unset = UNSET,
    request: HttpRequest | None = None,
) -> VisitMotive:
    """Change the given fields of motive `motive_id` (the others are kept).

    Booked appointments keep their times. Same checks as create_motive;
    raises MotiveNotFound for a missing motive or another practice's.
    """
    motive = _get_managed_motive(actor=actor, motive_id=motive_id, request=request)
    given = {
        "name": name,
        "duration_minutes": duration_minutes,
        "channel": channel,
        "open_to_new_patients": open_to_new_patients,
        "min_notice_minutes": min_notice_minutes,
        "horizon_days": horizon_days,
        "cancellation_cutoff_hours": cancellation_cutoff_hours,
        "colour": colour,
        "price_minor": price,
        "currency": currency,
        "booking_questions": booking_questions,
    }
    fields = _clean_motive_fields(
        {key: value for key, value in given.items() if value is not UNSET}
    )
    lock_agenda(agenda_id=motive.agenda_id)
    for key, value in fields.items():
        setattr(motive, key, value)
    motive.save(update_fields=[*fields, "updated_at"])
    agenda_changed(agenda_id=motive.agenda_id, now=timezone.now())
    return motive


def _set_motive_active(
    *,
    actor: AbstractBaseUser,
    motive_id: int,
    active: bool,
    request: HttpRequest | None,
) -> VisitMotive:
    motive = _get_managed_motive(actor=actor, motive_id=motive_id, request=request)
    lock_agenda(agenda_id=motive.agenda_id)
    if motive.is_active != active:
        motive.is_active = active
        motive.save(update_fields=["is_active", "updated_at"])
    agenda_changed(agenda_id=motive.agenda_id, now=timezone.now())
    return motive


@transaction.atomic
def deactivate_motive(
    *, actor: AbstractBaseUser, motive_id: int, request: HttpRequest | None = None
) -> VisitMotive:
    """Stop offering motive `motive_id` (idempotent); booked appointments are kept.

    Raises MotiveNotFound for a missing motive or another practice's.
    """
    return _set_motive_active(
        actor=actor, motive_id=motive_id, active=False, request=request
    )


@transaction.atomic
def reactivate_motive(
    *, actor: AbstractBaseUser, motive_id: int, request: HttpRequest | None = None
) -> VisitMotive:
    """Offer a deactivated motive again (idempotent).

    Raises MotiveNotFound for a missing motive or another practice's.
    """
    return _set_motive_active(
        actor=actor, motive_id=motive_id, active=True, request=request
    )


# -- absences --------------------------------------------------------------


def _is_aware(value: object) -> bool:
    return (
        isinstance(value, datetime)
        and value.tzinfo is not None
        and value.utcoffset() is not None
    )


@transaction.atomic
def create_absence(
    *,
    actor: AbstractBaseUser,
    agenda_id: int,
    starts_at: datetime,
    ends_at: datetime,
    label: str = "",
    request: HttpRequest | None = None,
) -> AbsenceOutcome:
    """Close the agenda over [starts_at, ends_at) (aware instants) for new bookings.

    Allowed over booked appointments: they are kept and returned (with one
    audit read event per patient) so that staff can move them. Secretaries
    may do this too. Raises the gate's errors, AbsencePeriodInvalid (naive
    times, end not after start) or AbsenceLabelInvalid.
    """
    agenda = get_managed_agenda(
        actor=actor,
        agenda_id=agenda_id,
        permission=ABSENCES_PERMISSION,
        request=request,
    )
    if not (_is_aware(starts_at) and _is_aware(ends_at)) or ends_at <= starts_at:
        raise AbsencePeriodInvalid()
    if not isinstance(label, str) or len(label.strip()) > 120:
        raise AbsenceLabelInvalid()
    now = timezone.now()
    lock_agenda(agenda_id=agenda.pk)
    absence = Absence.objects.create(
        agenda=agenda, starts_at=starts_at, ends_at=ends_at, label=label.strip()
    )
    affected = list_affected_appointments(
        actor=actor, agenda=agenda, periods=[(starts_at, ends_at)], now=now
    )
    agenda_changed(agenda_id=agenda.pk, now=now)
    return AbsenceOutcome(absence=absence, affected_appointments=affected)


@transaction.atomic
def delete_absence(
    *, actor: AbstractBaseUser, absence_id: int, request: HttpRequest | None = None
) -> None:
    """Delete absence `absence_id`: its time can be booked again.

    Raises AbsenceNotFound for a missing absence or another practice's.
    """
    absence = get_managed_object(
        actor=actor,
        model=Absence,
        pk=absence_id,
        permission=ABSENCES_PERMISSION,
        not_found=AbsenceNotFound,
        request=request,
    )
    lock_agenda(agenda_id=absence.agenda_id)
    absence.delete()
    agenda_changed(agenda_id=absence.agenda_id, now=timezone.now())
