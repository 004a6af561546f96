"""The front desk's patients: find a caller, or register them, for a practice's staff.

Names are in clear on Patient, so a search by name only ever looks among the
practice's own patients (an appointment there, or registered by it); phone
and e-mail are matched exactly through their keyed blind indexes, and the date
of birth through one of its own (`birth_date_index`), never in clear. Every
lookup is a staff read of patient data: one audit event per patient returned
(and one without a patient when nothing matched, so that the search itself
leaves a trace). Patients registered here have no account: their sealed
fields and blind indexes are written as `create_patient_account` does.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carnet.accounts.models import Patient
from carnet.accounts.roles import Permission, require_permission
from carnet.core.errors import DomainError
from carnet.core.text import Folded, fold
from carnet.vault.blind_index import normalise
from carnet.vault.services import blind_index

LOOKUP_PERMISSION = Permission.MANAGE_APPOINTMENTS
"""Finding or registering a patient is part of booking for them."""

LOOKUP_LIMIT = 20
NAME_MAX_LENGTH = 150
EARLIEST_BIRTH_DATE = date(1900, 1, 1)


class PatientLookupEmpty(DomainError):
    """A search with nothing to search for."""

    code = "patient_lookup_empty"
    message = _(
        "Enter a name, a phone number, an e-mail address or a date of birth to search."
    )


class PatientIdentityInvalid(DomainError):
    """A new patient's first or last name is missing or too long."""

    code = "patient_identity_invalid"
    message = _("Enter the patient's first and last names (150 characters at most).")


class PatientBirthDateInvalid(DomainError):
    """A date of birth in the future or before 1900."""

    code = "patient_birth_date_invalid"
    message = _("This date of birth is not valid.")


class PatientEmailInvalid(DomainError):
    """A contact e-mail address that cannot be one."""

    code = "patient_email_invalid"
    message = _("This e-mail address is not valid.")


class PatientContactRequired(DomainError):
    """A patient registered by phone needs a way to be told of changes."""

    code = "patient_contact_required"
    message = _("Enter a phone number or an e-mail address to reach the patient.")


def birth_date_index(birth_date: date | None) -> str:
    """Keyed blind index of a date of birth ("" for none), for exact-match lookups.

    The vault's blind index of kind "birth_date" (its own derived key).
    Services that write `Patient.birth_date` store it in
    `Patient.birth_date_index` alongside.
    """
    if birth_date is None:
        return ""
    return blind_index(kind="birth_date", value=birth_date.isoformat())


def refresh_birth_date_index(*, patient: Patient) -> None:
    """Recompute and save the patient's date-of-birth index from `patient.birth_date`.

    The one call services that change a date of birth make after saving.
    """
    patient.birth_date_index = birth_date_index(patient.birth_date)
    Patient.objects.filter(pk=patient.pk).update(
        birth_date_index=patient.birth_date_index
    )


def backfill_birth_date_indexes() -> int:
    """Fill the date-of-birth index of every patient whose date is on file; the count.

    For rows written before the index existed (run once after migrating). A
    patient whose data key was destroyed has no readable date: skipped.
    """
    from carnet.vault.errors import KeyDestroyed

    count = 0
    for patient in Patient.objects.filter(birth_date_index="").iterator():
        try:
            value = patient.birth_date
        except KeyDestroyed:
            continue
        if value is not None:
            refresh_birth_date_index(patient=patient)
            count += 1
    return count


def practice_patients(*, practice_id: int) -> QuerySet[Patient]:
    """The practice's own patients: an appointment there (any status), or registered by it."""
    from carnet.booking.models import Appointment

    with_visits = Appointment.objects.filter(agenda__practice_id=practice_id).values(
        "patient_id"
    )
    return Patient.objects.filter(
        Q(pk__in=with_visits) | Q(registered_by_practice_id=practice_id)
    )


def is_practice_patient(*, patient_id: int, practice_id: int) -> bool:
    """Whether the patient belongs to the practice's own patients (see practice_patients)."""
    return practice_patients(practice_id=practice_id).filter(pk=patient_id).exists()


@dataclass(frozen=True)
class Found:
    """One patient a lookup returned, and whether they are already the practice's."""

    patient: Patient
    known: bool


def filter_by_name(patients: QuerySet[Patient], name: str) -> QuerySet[Patient]:
    """The patients whose first or last name contains every word of `name`.

    Accents, case and spacing do not matter ("lea muller" finds "Léa Müller"),
    as on the phone. At most four words are used.
    """
    words = fold(name).split()[:4]
    if not words:
        return patients
    patients = patients.annotate(
        first_folded=Folded("first_name"), last_folded=Folded("last_name")
    )
    for word in words:
        patients = patients.filter(
            Q(first_folded__contains=word) | Q(last_folded__contains=word)
        )
    return patients


def _record_lookup(
    *, actor: AbstractBaseUser, practice_id: int, patient_ids: list[int], by: str
) -> None:
    from carnet.audit.models import Action, Purpose
    from carnet.audit.services import record_event
    from carnet.booking.access import record_staff_reads
    from carnet.booking.models import Appointment

    resource = f"practice:{practice_id}:patient-lookup:{by}"
    if patient_ids:
        record_staff_reads(
            actor=actor,
            actor_kind=Appointment.Actor.STAFF,
            patient_ids=patient_ids,
            resource=resource,
            purpose=Purpose.BOOKING,
        )
    else:
        record_event(
            actor_id=actor.pk,
            actor_kind=Appointment.Actor.STAFF,
            actor_label=(actor.get_full_name() or f"#{actor.pk}")[:100],
            action=Action.READ,
            resource=resource,
            purpose=Purpose.BOOKING,
        )


def find_patients_for_practice(
    *,
    actor: AbstractBaseUser,
    practice_id: int,
    country: str | None,
    name: str = "",
    phone: str = "",
    email: str = "",
    birth_date: date | None = None,
    request: HttpRequest | None = None,
) -> list[Found]:
    """Patients matching a caller's details, for a member of the practice who books.

    Every criterion given must match. A name alone or a date of birth alone
    only finds the practice's own patients; an exact phone number or e-mail
    address also finds a patient of Carnet who never came (the caller gave
    it), marked `known=False`. At most LOOKUP_LIMIT, by name. Raises
    NotStaffOfPractice, NotAllowedForRole, MfaRequired, PatientLookupEmpty or
    BlindIndexValueInvalid (an unreadable phone number). Recorded in the
    audit trail: one read event per patient returned (one without a patient
    when none matched).
    """
    require_permission(
        user=actor,
        practice_id=practice_id,
        permission=LOOKUP_PERMISSION,
        request=request,
    )
    name, phone, email = name.strip()[:NAME_MAX_LENGTH], phone.strip(), email.strip()
    if not (name or phone or email or birth_date):
        raise PatientLookupEmpty()
    own = practice_patients(practice_id=practice_id)
    if phone or email:
        found = Patient.objects.all()
        if phone:
            found = found.filter(
                phone_index=blind_index(kind="phone", value=phone, country=country)
            )
        if email:
            found = found.filter(email_index=blind_index(kind="email", value=email))
    else:
        found = own
    if name:
        found = filter_by_name(found, name)
    if birth_date is not None:
        found = found.filter(birth_date_index=birth_date_index(birth_date))
    patients = list(found.order_by("last_name", "first_name", "pk")[:LOOKUP_LIMIT])
    known_ids = set(
        own.filter(pk__in=[p.pk for p in patients]).values_list("pk", flat=True)
    )
    by = "+".join(
        label
        for label, given in (
            ("name", name),
            ("phone", phone),
            ("email", email),
            ("birth-date", birth_date),
        )
        if given
    )
    _record_lookup(
        actor=actor,
        practice_id=practice_id,
        patient_ids=[p.pk for p in patients],
        by=by,
    )
    return [Found(patient=p, known=p.pk in known_ids) for p in patients]


def _clean_identity(first_name: str, last_name: str) -> tuple[str, str]:
    first, last = first_name.strip(), last_name.strip()
    if not first or not last or max(len(first), len(last)) > NAME_MAX_LENGTH:
        raise PatientIdentityInvalid()
    return first, last


def _clean_birth_date(birth_date: date | None) -> None:
    if birth_date is None:
        return
    latest = (timezone.now() + timedelta(days=1)).date()
    if not EARLIEST_BIRTH_DATE <= birth_date <= latest:
        raise PatientBirthDateInvalid()


def _clean_email(email: str) -> str:
    email = email.strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise PatientEmailInvalid() from None
    return email


@transaction.atomic
def register_practice_patient(
    *,
    actor: AbstractBaseUser,
    practice_id: int,
    first_name: str,
    last_name: str,
    birth_date: date | None,
    phone: str = "",
    email: str = "",
    country: str | None = None,
    request: HttpRequest | None = None,
) -> Patient:
    """Register a patient without an account (e.g. a caller), for the practice's staff.

    Date of birth, phone and e-mail are sealed under the new patient's own
    data key; phone, e-mail and date of birth get keyed blind indexes. The
    phone is stored in E.164 form (a national number is read with the
    practice's `country`). A phone or an e-mail is required. The patient
    counts among the practice's own from now on. Raises NotStaffOfPractice,
    NotAllowedForRole, MfaRequired, PatientIdentityInvalid,
    PatientBirthDateInvalid, PatientEmailInvalid, PatientContactRequired or
    BlindIndexValueInvalid: nothing is created then. Records a create event
    in the audit trail.
    """
    from carnet.audit.models import Action, Purpose
    from carnet.booking.access import record_staff_change
    from carnet.booking.models import Appointment

    require_permission(
        user=actor,
        practice_id=practice_id,
        permission=LOOKUP_PERMISSION,
        request=request,
    )
    first, last = _clean_identity(first_name, last_name)
    _clean_birth_date(birth_date)
    email = _clean_email(email)
    phone = phone.strip()
    if phone:
        phone = normalise(kind="phone", value=phone, country=country)
    if not phone and not email:
        raise PatientContactRequired()
    patient = Patient.objects.create(
        first_name=first,
        last_name=last,
        birth_date=birth_date,
        phone=phone,
        email=email,
        phone_index=blind_index(kind="phone", value=phone) if phone else "",
        email_index=blind_index(kind="email", value=email) if email else "",
        birth_date_index=birth_date_index(birth_date),
        registered_by_practice_id=practice_id,
    )
    record_staff_change(
        actor=actor,
        actor_kind=Appointment.Actor.STAFF,
        action=Action.CREATE,
        patient_id=patient.pk,
        resource=f"practice:{practice_id}:patient",
        purpose=Purpose.BOOKING,
    )
    return patient
