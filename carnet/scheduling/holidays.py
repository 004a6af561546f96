"""Public holidays of an agenda's country and region, applied as full-day absences on request.

The calendar comes from the `holidays` package (public holidays only, not
school holidays). The region is the agenda's `subdivision`, one of the
package's codes: a Land in Germany ("BY" Bavaria), a department in France
("57" Moselle, "6AE" Alsace, overseas departments), a province or city in
Italy ("RM" Rome, "BZ" Bolzano), whose patron saint's day is a local holiday.
Names are in the country's own language (French, German, Italian).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import holidays as holidays_calendar
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from carnet.booking.models import Appointment
from carnet.scheduling.errors import (
    HolidayCountryUnsupported,
    HolidaySubdivisionUnknown,
    HolidayYearInvalid,
)
from carnet.scheduling.models import Absence, Agenda
from carnet.scheduling.selectors import (
    ABSENCES_PERMISSION,
    SETTINGS_PERMISSION,
    get_managed_agenda,
    lock_agenda,
)
from carnet.scheduling.services import agenda_changed, list_affected_appointments

SUPPORTED_COUNTRIES = ("FR", "DE", "IT")
FIRST_YEAR = 2000
LAST_YEAR = 2100


@dataclass(frozen=True, slots=True)
class PublicHoliday:
    """One public holiday: its date and its name in the country's language."""

    day: date
    name: str


@dataclass(frozen=True, slots=True)
class HolidaysApplied:
    """What applying a year's holidays did: absences added, appointments they cover."""

    absences: list[Absence]
    affected_appointments: list[Appointment]


def _calendar_class(country: str) -> type[holidays_calendar.HolidayBase]:
    if country not in SUPPORTED_COUNTRIES:
        raise HolidayCountryUnsupported()
    calendar: type[holidays_calendar.HolidayBase] = getattr(holidays_calendar, country)
    return calendar


def normalise_subdivision(*, country: str, subdivision: str) -> str:
    """The package's code for a region of `country` ("" for none).

    Accepts codes ("BY", "57", "RM") and the package's region names
    ("Bayern", "Moselle", "Roma"). Raises HolidayCountryUnsupported or
    HolidaySubdivisionUnknown.
    """
    calendar = _calendar_class(country)
    value = (subdivision or "").strip()
    if not value:
        return ""
    aliases = getattr(calendar, "subdivisions_aliases", {}) or {}
    by_name = {name.casefold(): code for name, code in aliases.items()}
    by_code = {code.casefold(): code for code in calendar.subdivisions}
    code = by_code.get(value.casefold()) or by_name.get(value.casefold())
    if code is None:
        raise HolidaySubdivisionUnknown(subdivision=value[:40])
    return code


def list_public_holidays(
    *, country: str, subdivision: str | None, year: int
) -> list[PublicHoliday]:
    """The public holidays of `country` (and region `subdivision`) in `year`, by date.

    Names are in the country's own language; two holidays on one day share
    one entry. Raises HolidayCountryUnsupported, HolidaySubdivisionUnknown or
    HolidayYearInvalid.
    """
    if isinstance(year, bool) or not isinstance(year, int):
        raise HolidayYearInvalid()
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise HolidayYearInvalid()
    calendar = _calendar_class(country)
    code = normalise_subdivision(country=country, subdivision=subdivision or "")
    days = calendar(subdiv=code or None, years=year, language=calendar.default_language)
    return [
        PublicHoliday(day=day, name=str(name)) for day, name in sorted(days.items())
    ]


def _country_of(agenda: Agenda) -> str:
    return agenda.location.country or agenda.practice.country


@transaction.atomic
def set_agenda_subdivision(
    *,
    actor: AbstractBaseUser,
    agenda_id: int,
    subdivision: str,
    request: HttpRequest | None = None,
) -> Agenda:
    """Set the region whose public holidays apply to the agenda ("" for national only).

    Stores the package's code (names like "Bayern" are accepted). Raises the
    settings gate's errors (practice admins and practitioners),
    HolidayCountryUnsupported or HolidaySubdivisionUnknown.
    """
    agenda = get_managed_agenda(
        actor=actor,
        agenda_id=agenda_id,
        permission=SETTINGS_PERMISSION,
        request=request,
    )
    code = normalise_subdivision(country=_country_of(agenda), subdivision=subdivision)
    if agenda.subdivision != code:
        agenda.subdivision = code
        agenda.save(update_fields=["subdivision", "updated_at"])
    return agenda


def _local_midnight(day: date, agenda: Agenda) -> datetime:
    return datetime.combine(day, time(0), tzinfo=agenda.zone).astimezone(UTC)


@transaction.atomic
def apply_public_holidays(
    *,
    actor: AbstractBaseUser,
    agenda_id: int,
    year: int,
    request: HttpRequest | None = None,
) -> HolidaysApplied:
    """Add one full-day absence (local midnight to midnight) per public holiday of `year`.

    Uses the agenda's location country and `subdivision`; each absence is
    labelled with the holiday's name. Idempotent: a day that already has its
    holiday absence gets nothing (a unique constraint backs this up), so a
    second call adds nothing. Booked appointments on those days are kept and
    returned (one audit read event per patient). Secretaries may do this too.
    Takes the agenda's row lock. Raises the gate's errors and those of
    list_public_holidays.
    """
    agenda = get_managed_agenda(
        actor=actor,
        agenda_id=agenda_id,
        permission=ABSENCES_PERMISSION,
        request=request,
    )
    days = list_public_holidays(
        country=_country_of(agenda), subdivision=agenda.subdivision, year=year
    )
    now = timezone.now()
    lock_agenda(agenda_id=agenda.pk)
    existing = set(
        Absence.objects.filter(
            agenda=agenda, holiday_on__in=[h.day for h in days]
        ).values_list("holiday_on", flat=True)
    )
    created: list[Absence] = []
    for holiday in days:
        if holiday.day in existing:
            continue
        created.append(
            Absence.objects.create(
                agenda=agenda,
                starts_at=_local_midnight(holiday.day, agenda),
                ends_at=_local_midnight(holiday.day + timedelta(days=1), agenda),
                label=holiday.name[:120],
                holiday_on=holiday.day,
            )
        )
    affected = list_affected_appointments(
        actor=actor,
        agenda=agenda,
        periods=[(a.starts_at, a.ends_at) for a in created],
        now=now,
    )
    if created:
        agenda_changed(agenda_id=agenda.pk, now=now)
    return HolidaysApplied(absences=created, affected_appointments=affected)


def list_subdivisions(*, country: str) -> list[tuple[str, str]]:
    """The regions of `country` the calendar knows, as (code, name) sorted by name.

    The name is the package's longest alias written in words ("Moselle",
    "Bayern", "Roma"), else the code. Raises HolidayCountryUnsupported.
    """
    calendar = _calendar_class(country)
    aliases = getattr(calendar, "subdivisions_aliases", {}) or {}
    names: dict[str, str] = {}
    for alias, code in aliases.items():
        if alias.isupper():
            continue  # another code ("GUA"), not a name
        if len(alias) > len(names.get(code, "")):
            names[code] = alias
    regions = [(code, names.get(code, code)) for code in calendar.subdivisions]
    return sorted(regions, key=lambda region: (region[1].casefold(), region[0]))


def agenda_country(agenda: Agenda) -> str:
    """The country whose public holidays apply to the agenda (its location's)."""
    return _country_of(agenda)
