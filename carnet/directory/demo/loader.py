"""Writes the demo data set into the database: bulk inserts, batch by batch, idempotent.

Practitioner `i` is recognised by its professional identifier, pool patient `j`
by its account's e-mail, so a second run finds everything and writes nothing,
and a run with a larger N writes only what is missing. Each batch is one
transaction of a few queries (a lookup of what exists, then one bulk insert per
table), and only one batch is held in memory at a time.

The demo data bypasses the other contexts' services on purpose (a deliberate
exception to "never write another context's model"): a million rows cannot go
through one service call each. The generator guarantees what the booking
service would check (slot grid, opening hours, no overlap, no absence); the
fixed demo accounts do go through the services (`create_patient_account`,
`add_relative`, `book_appointment`).
"""

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.db import connection, reset_queries, transaction
from django.utils import timezone

from carnet.accounts.models import Patient, StaffMembership, User
from carnet.accounts.services import (
    add_relative,
    create_patient_account,
)
from carnet.accounts.staff_patients import birth_date_index
from carnet.booking.models import Appointment
from carnet.booking.selectors import list_free_slots
from carnet.booking.services import book_appointment
from carnet.core.errors import DomainError
from carnet.directory.demo.generator import (
    PATIENT_EMAIL_DOMAIN,
    Identity,
    PatientDraft,
    PatientPool,
    PractitionerDraft,
    describe_patient,
    describe_practice,
    describe_practitioner,
    group_of,
    identify,
    patient_email,
    patient_pool_size,
    patient_profile,
    plan_calendar,
)
from carnet.directory.demo.specialties import KEYWORDS, SPECIALTIES
from carnet.directory.models import (
    Location,
    Practice,
    Practitioner,
    PractitionerRole,
    SearchEntry,
    Specialty,
)
from carnet.directory.services import reindex_agendas
from carnet.scheduling.models import Absence, Agenda, OpeningRule, VisitMotive
from carnet.vault.errors import BlindIndexValueInvalid
from carnet.vault.services import blind_index

DEFAULT_BATCH_SIZE = 2000
INSERT_BATCH_SIZE = 1000  # rows per INSERT statement (PostgreSQL; SQLite caps it lower)
# SQLite's default page cache (2 MiB) makes index maintenance re-read and
# re-write the same pages on every batch once the file outgrows it.
SQLITE_CACHE_KIB = 128 * 1024


@dataclass(frozen=True, slots=True)
class DemoAccount:
    """A fixed login of the demo data set."""

    role: str
    email: str
    password: str


PATIENT_ACCOUNT = DemoAccount("patient", "patient@carnet.test", "carnet-patient")
PRACTITIONER_ACCOUNT = DemoAccount(
    "practitioner", "practitioner@carnet.test", "carnet-practitioner"
)
SECRETARY_ACCOUNT = DemoAccount(
    "secretary", "secretary@carnet.test", "carnet-secretary"
)
ADMIN_ACCOUNT = DemoAccount("admin", "admin@carnet.test", "carnet-admin")
DEMO_ACCOUNTS = (
    PATIENT_ACCOUNT,
    PRACTITIONER_ACCOUNT,
    SECRETARY_ACCOUNT,
    ADMIN_ACCOUNT,
)

COUNTED = (
    ("specialties", Specialty),
    ("practices", Practice),
    ("locations", Location),
    ("practitioners", Practitioner),
    ("agendas", Agenda),
    ("motives", VisitMotive),
    ("opening rules", OpeningRule),
    ("absences", Absence),
    ("users", User),
    ("patients", Patient),
    ("appointments", Appointment),
    ("search entries", SearchEntry),
)


@dataclass(slots=True)
class SeedResult:
    """What a seed run created, the resulting totals, and anything worth a warning."""

    created: Counter[str] = field(default_factory=Counter)
    totals: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Pool:
    """Database ids of the patient pool, and the same pool as the generator sees it."""

    # pool index -> (patient id, account id)
    holders: dict[int, tuple[int, int]]
    # country -> [(patient id, account id of the holder)], in creation order
    children: dict[str, list[tuple[int, int]]]
    for_calendars: PatientPool = field(init=False)

    def __post_init__(self) -> None:
        holders: dict[str, list[int]] = {}
        for index in sorted(self.holders):
            holders.setdefault(patient_profile(index)[1], []).append(index)
        children = {country: len(rows) for country, rows in self.children.items()}
        self.for_calendars = PatientPool(holders=holders, children=children)

    def ids(self, patient: tuple[str, str, int]) -> tuple[int, int]:
        """(patient id, account id of the holder) of a generator patient reference."""
        kind, country, position = patient
        if kind == "holder":
            return self.holders[position]
        return self.children[country][position]


def _chunks(start: int, stop: int, size: int) -> Iterable[tuple[int, int]]:
    for first in range(start, stop, size):
        yield first, min(first + size, stop)


def seed_demo(
    *,
    practitioners: int,
    batch_size: int = DEFAULT_BATCH_SIZE,
    now: datetime | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> SeedResult:
    """Create the demo data set for practitioners 0..N-1, skipping whatever exists.

    Idempotent: identical runs create nothing the second time; a larger N adds
    only the missing practitioners (and pool patients). One transaction per
    batch, so an interrupted run resumes where it stopped. `on_progress` is
    called with the number of practitioners handled after each batch.
    """
    now = now or timezone.now()
    result = SeedResult()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    specialties, keywords_changed = _ensure_specialties(result.created)
    _ensure_patient_pool(
        patient_pool_size(practitioners), now.date(), batch_size, result.created
    )
    pool = _load_pool()
    for first, stop in _chunks(0, practitioners, batch_size):
        _seed_practitioners(range(first, stop), specialties, pool, now, result.created)
        reset_queries()  # with DEBUG on, the query log would keep every INSERT
        if on_progress is not None:
            on_progress(stop - first)
    # New agendas, and those of a data set seeded before the search index
    # existed; everything when the specialties' keywords have just changed.
    if keywords_changed:
        result.created["search entries"] += reindex_agendas()
    else:
        result.created["search entries"] += reindex_agendas(
            agenda_ids=Agenda.objects.filter(
                is_active=True, search_entry__isnull=True
            ).values_list("pk", flat=True)
        )
    _ensure_demo_accounts(now, result)
    result.totals = {label: model.objects.count() for label, model in COUNTED}
    return result


def _ensure_specialties(created: Counter[str]) -> tuple[dict[str, int], bool]:
    """Specialty ids by code, creating the missing ones; and whether keywords changed."""
    existing = dict(Specialty.objects.values_list("code", "keywords"))
    missing = [
        Specialty(
            code=spec.code,
            name_en=spec.en,
            name_fr=spec.fr,
            name_de=spec.de,
            name_it=spec.it,
            keywords=KEYWORDS.get(spec.code, ""),
        )
        for spec in SPECIALTIES
        if spec.code not in existing
    ]
    Specialty.objects.bulk_create(missing)
    created["specialties"] += len(missing)
    # Keywords came after the first data sets: fill them in where still empty.
    changed = False
    for code, keywords in existing.items():
        if not keywords and KEYWORDS.get(code):
            Specialty.objects.filter(code=code).update(keywords=KEYWORDS[code])
            changed = True
    return dict(Specialty.objects.values_list("code", "pk")), changed


def _ensure_patient_pool(
    size: int, today: date, batch_size: int, created: Counter[str]
) -> None:
    for first, stop in _chunks(0, size, batch_size):
        emails = [patient_email(j) for j in range(first, stop)]
        existing = set(
            User.objects.filter(email__in=emails).values_list("email", flat=True)
        )
        drafts = [
            describe_patient(j, today)
            for j in range(first, stop)
            if patient_email(j) not in existing
        ]
        if not drafts:
            continue
        with transaction.atomic():
            users = User.objects.bulk_create(
                [
                    User(
                        email=draft.email,
                        first_name=draft.person.first_name,
                        last_name=draft.person.last_name,
                        language=draft.language,
                        # Demo patients cannot log in: only the fixed demo accounts can.
                        password=make_password(None),
                    )
                    for draft in drafts
                ],
                batch_size=INSERT_BATCH_SIZE,
            )
            holders = Patient.objects.bulk_create(
                [
                    Patient(
                        account_id=user.pk,
                        first_name=draft.person.first_name,
                        last_name=draft.person.last_name,
                        birth_date=draft.birth_date,
                        phone=draft.phone,
                        # Found by staff on the phone, as the services index them.
                        phone_index=_phone_index(draft),
                        birth_date_index=birth_date_index(draft.birth_date),
                    )
                    for draft, user in zip(drafts, users, strict=True)
                ],
                batch_size=INSERT_BATCH_SIZE,
            )
            relatives = Patient.objects.bulk_create(
                [
                    Patient(
                        managed_by_id=holder.pk,
                        relationship=relative.relationship,
                        first_name=relative.first_name,
                        last_name=relative.last_name,
                        birth_date=relative.birth_date,
                        birth_date_index=birth_date_index(relative.birth_date),
                    )
                    for draft, holder in zip(drafts, holders, strict=True)
                    for relative in draft.relatives
                ],
                batch_size=INSERT_BATCH_SIZE,
            )
        created["users"] += len(users)
        created["patients"] += len(holders) + len(relatives)


def _pool_index(email: str) -> int:
    return int(email.split("@", 1)[0].removeprefix("patient"))


def _load_pool() -> _Pool:
    suffix = "@" + PATIENT_EMAIL_DOMAIN
    holders = Patient.objects.filter(account__email__endswith=suffix).values_list(
        "account__email", "pk", "account_id"
    )
    children: dict[str, list[tuple[int, int]]] = {}
    rows = (
        Patient.objects.filter(
            managed_by__account__email__endswith=suffix,
            relationship=Patient.Relationship.CHILD,
        )
        .order_by("pk")
        .values_list("pk", "managed_by__account_id", "managed_by__account__email")
    )
    for pk, account_id, email in rows:
        children.setdefault(patient_profile(_pool_index(email))[1], []).append(
            (pk, account_id)
        )
    return _Pool(
        holders={
            _pool_index(email): (pk, account_id) for email, pk, account_id in holders
        },
        children=children,
    )


def _existing_identifiers(identities: Iterable[Identity]) -> set[tuple[str, str]]:
    """(system, identifier) of the given practitioners that already exist: one query per system."""
    by_system: dict[str, list[str]] = {}
    for identity in identities:
        by_system.setdefault(identity.identifier_system, []).append(identity.identifier)
    found: set[tuple[str, str]] = set()
    for system, identifiers in by_system.items():
        rows = Practitioner.objects.filter(
            identifier_system=system, identifier__in=identifiers
        )
        found.update(
            (system, identifier)
            for identifier in rows.values_list("identifier", flat=True)
        )
    return found


def _existing_sites(
    leaders: Iterable[int], todo: set[int]
) -> dict[int, tuple[int, int]]:
    """(practice id, location id) of groups that already have a member in the database."""
    members: dict[str, dict[str, int]] = {}  # system -> identifier -> leader
    for leader in leaders:
        _, size = group_of(leader)
        for index in range(leader, leader + size):
            if index not in todo:
                identity = identify(index)
                members.setdefault(identity.identifier_system, {})[
                    identity.identifier
                ] = leader
    sites: dict[int, tuple[int, int]] = {}
    for system, identifiers in members.items():
        roles = PractitionerRole.objects.filter(
            practitioner__identifier_system=system,
            practitioner__identifier__in=list(identifiers),
        ).values_list("practitioner__identifier", "practice_id", "location_id")
        for identifier, practice_id, location_id in roles:
            sites.setdefault(identifiers[identifier], (practice_id, location_id))
    return sites


def _seed_practitioners(
    indices: range,
    specialties: dict[str, int],
    pool: _Pool,
    now: datetime,
    created: Counter[str],
) -> None:
    identities = [identify(i) for i in indices]
    existing = _existing_identifiers(identities)
    todo = [
        x for x in identities if (x.identifier_system, x.identifier) not in existing
    ]
    if not todo:
        return
    drafts = {x.index: describe_practitioner(x) for x in todo}
    with transaction.atomic():
        sites = _create_sites(todo, drafts, created)
        practitioners = Practitioner.objects.bulk_create(
            [
                Practitioner(
                    title=draft.title,
                    first_name=draft.person.first_name,
                    last_name=draft.person.last_name,
                    identifier_system=draft.identity.identifier_system,
                    identifier=draft.identity.identifier,
                    specialty_id=specialties[draft.identity.specialty.code],
                    languages=list(draft.languages),
                    fee_sector=draft.fee_sector,
                    fees=draft.fees,
                    bio=draft.bio,
                )
                for draft in drafts.values()
            ],
            batch_size=INSERT_BATCH_SIZE,
        )
        ids = {
            draft.identity.index: p.pk
            for draft, p in zip(drafts.values(), practitioners, strict=True)
        }
        PractitionerRole.objects.bulk_create(
            [
                PractitionerRole(
                    practitioner_id=ids[index],
                    practice_id=sites[draft.identity.practice.leader][0],
                    location_id=sites[draft.identity.practice.leader][1],
                )
                for index, draft in drafts.items()
            ],
            batch_size=INSERT_BATCH_SIZE,
        )
        agendas = Agenda.objects.bulk_create(
            [
                Agenda(
                    practice_id=sites[draft.identity.practice.leader][0],
                    practitioner_id=ids[index],
                    location_id=sites[draft.identity.practice.leader][1],
                    name=draft.display_name[:120],
                    time_zone=draft.identity.country.time_zone,
                )
                for index, draft in drafts.items()
            ],
            batch_size=INSERT_BATCH_SIZE,
        )
        agenda_ids = {
            index: agenda.pk for index, agenda in zip(drafts, agendas, strict=True)
        }
        motive_ids = _create_motives(drafts, agenda_ids)
        OpeningRule.objects.bulk_create(
            [
                OpeningRule(
                    agenda_id=agenda_ids[index],
                    weekday=weekday,
                    opens_time=opens,
                    closes_time=closes,
                )
                for index, draft in drafts.items()
                for weekday, opens, closes in draft.hours
            ],
            batch_size=INSERT_BATCH_SIZE,
        )
        absences, appointments = _create_calendars(
            drafts, agenda_ids, motive_ids, pool, now
        )
    created["practitioners"] += len(practitioners)
    created["agendas"] += len(agendas)
    created["motives"] += sum(len(m) for m in motive_ids.values())
    created["opening rules"] += sum(len(d.hours) for d in drafts.values())
    created["absences"] += absences
    created["appointments"] += appointments


def _create_sites(
    todo: list[Identity], drafts: dict[int, PractitionerDraft], created: Counter[str]
) -> dict[int, tuple[int, int]]:
    """(practice id, location id) per group leader, creating the practices that do not exist."""
    leaders = {x.practice.leader: x.practice for x in todo}
    sites = _existing_sites(leaders, {x.index for x in todo})
    new = [
        describe_practice(core, drafts)
        for leader, core in leaders.items()
        if leader not in sites
    ]
    if not new:
        return sites
    practices = Practice.objects.bulk_create(
        [Practice(name=p.name, country=p.country, phone=p.phone) for p in new],
        batch_size=INSERT_BATCH_SIZE,
    )
    locations = Location.objects.bulk_create(
        [
            Location(
                practice_id=practice.pk,
                address=p.address,
                postcode=p.postcode,
                city=p.city,
                country=p.country,
                latitude=p.latitude,
                longitude=p.longitude,
                practical_info=p.practical_info,
                step_free=p.step_free,
            )
            for p, practice in zip(new, practices, strict=True)
        ],
        batch_size=INSERT_BATCH_SIZE,
    )
    for p, practice, location in zip(new, practices, locations, strict=True):
        sites[p.leader] = (practice.pk, location.pk)
    created["practices"] += len(practices)
    created["locations"] += len(locations)
    return sites


def _create_motives(
    drafts: dict[int, PractitionerDraft], agenda_ids: dict[int, int]
) -> dict[int, list[int]]:
    """Motive ids per practitioner index, in the order of the draft's motives."""
    rows = [
        (
            index,
            VisitMotive(
                agenda_id=agenda_ids[index],
                name=motive.name,
                duration_minutes=motive.minutes,
                channel=motive.channel,
                open_to_new_patients=motive.new_patients,
                min_notice_minutes=motive.notice,
                horizon_days=motive.horizon,
                cancellation_cutoff_hours=motive.cutoff,
            ),
        )
        for index, draft in drafts.items()
        for motive in draft.motives
    ]
    VisitMotive.objects.bulk_create(
        [motive for _, motive in rows], batch_size=INSERT_BATCH_SIZE
    )
    ids: dict[int, list[int]] = {}
    for index, motive in rows:
        ids.setdefault(index, []).append(motive.pk)
    return ids


def _create_calendars(
    drafts: dict[int, PractitionerDraft],
    agenda_ids: dict[int, int],
    motive_ids: dict[int, list[int]],
    pool: _Pool,
    now: datetime,
) -> tuple[int, int]:
    """Absences and appointments of the new agendas; returns how many of each."""
    absences: list[Absence] = []
    appointments: list[Appointment] = []
    sizes = pool.for_calendars
    for index, draft in drafts.items():
        agenda_id = agenda_ids[index]
        calendar = plan_calendar(draft, now=now, pool=sizes)
        absences.extend(
            Absence(
                agenda_id=agenda_id,
                starts_at=a.starts_at,
                ends_at=a.ends_at,
                label=a.label,
            )
            for a in calendar.absences
        )
        for planned in calendar.appointments:
            patient_id, account_id = pool.ids(planned.patient)
            cancelled = planned.status == Appointment.Status.CANCELLED
            appointments.append(
                Appointment(
                    agenda_id=agenda_id,
                    patient_id=patient_id,
                    motive_id=motive_ids[index][planned.motive],
                    starts_at=planned.starts_at,
                    ends_at=planned.ends_at,
                    status=planned.status,
                    booked_by_kind=(
                        Appointment.Actor.PATIENT
                        if planned.booked_by_patient
                        else Appointment.Actor.STAFF
                    ),
                    booked_by_id=account_id if planned.booked_by_patient else None,
                    cancelled_at=now if cancelled else None,
                    cancelled_by_kind=Appointment.Actor.PATIENT if cancelled else "",
                )
            )
    Absence.objects.bulk_create(absences, batch_size=INSERT_BATCH_SIZE)
    Appointment.objects.bulk_create(appointments, batch_size=INSERT_BATCH_SIZE)
    return len(absences), len(appointments)


def _phone_index(draft: PatientDraft) -> str:
    """The blind index of a pool patient's phone ("" when Faker's number is unreadable)."""
    try:
        return blind_index(
            kind="phone", value=draft.phone, country=patient_profile(draft.index)[1]
        )
    except (BlindIndexValueInvalid, ValueError):
        return ""


# --- the fixed demo accounts ----------------------------------------------------


def _ensure_demo_accounts(now: datetime, result: SeedResult) -> None:
    if not User.objects.filter(email=ADMIN_ACCOUNT.email).exists():
        User.objects.create_superuser(
            ADMIN_ACCOUNT.email,
            ADMIN_ACCOUNT.password,
            first_name="Admin",
            last_name="Carnet",
            language="en",
        )
        result.created["users"] += 1
    _ensure_demo_practitioner(result)
    _ensure_demo_patient(now, result)


def _ensure_demo_practitioner(result: SeedResult) -> None:
    """Link the practitioner account to the first French general practitioner."""
    practitioner = (
        Practitioner.objects.filter(
            identifier_system=Practitioner.IdentifierSystem.RPPS
        )
        .filter(specialty__code="general-practice")
        .order_by("identifier")
        .first()
    )
    user = User.objects.filter(email=PRACTITIONER_ACCOUNT.email).first()
    if user is None:
        user = User.objects.create_user(
            PRACTITIONER_ACCOUNT.email,
            PRACTITIONER_ACCOUNT.password,
            first_name=practitioner.first_name if practitioner else "",
            last_name=practitioner.last_name if practitioner else "",
            language=User.Language.FR,
        )
        result.created["users"] += 1
    if practitioner is None:
        result.warnings.append(
            "No French general practitioner: the practitioner account is not linked."
        )
        return
    if not Practitioner.objects.filter(account=user).exists():
        Practitioner.objects.filter(pk=practitioner.pk, account__isnull=True).update(
            account=user
        )
    # Their team roles at the practice (a practitioner running their own
    # practice is its administrator too), and the front desk's secretary;
    # staff pages then ask each for a second factor.
    secretary = User.objects.filter(email=SECRETARY_ACCOUNT.email).first()
    if secretary is None:
        secretary = User.objects.create_user(
            SECRETARY_ACCOUNT.email,
            SECRETARY_ACCOUNT.password,
            first_name="Sophie",
            last_name="Roux",
            language=User.Language.FR,
        )
        result.created["users"] += 1
    for role in practitioner.roles.all():
        for member, team_role in (
            (user, StaffMembership.Role.PRACTITIONER),
            (user, StaffMembership.Role.PRACTICE_ADMIN),
            (secretary, StaffMembership.Role.SECRETARY),
        ):
            StaffMembership.objects.get_or_create(
                user=member, practice_id=role.practice_id, role=team_role
            )


def _ensure_demo_patient(now: datetime, result: SeedResult) -> None:
    """Camille Martin, her child and her mother, and one or two upcoming appointments."""
    user = User.objects.filter(email=PATIENT_ACCOUNT.email).first()
    if user is None:
        user = create_patient_account(
            email=PATIENT_ACCOUNT.email,
            password=PATIENT_ACCOUNT.password,
            first_name="Camille",
            last_name="Martin",
            language=User.Language.FR,
            birth_date=date(1988, 4, 12),
            phone="06 12 34 56 78",
            country="FR",
        )
        result.created["users"] += 1
        result.created["patients"] += 1
    holder = Patient.objects.filter(account=user).first()
    if holder is None:
        result.warnings.append(
            f"{PATIENT_ACCOUNT.email} has no patient profile: demo patient skipped."
        )
        return
    relatives = {r.relationship: r for r in Patient.objects.filter(managed_by=holder)}
    for first_name, relationship, birth_date in (
        ("Léo", Patient.Relationship.CHILD, date(now.year - 7, 3, 14)),
        ("Françoise", Patient.Relationship.PARENT, date(1959, 9, 2)),
    ):
        if relationship not in relatives:
            relatives[relationship] = add_relative(
                holder=holder,
                first_name=first_name,
                last_name="Martin",
                relationship=relationship,
                birth_date=birth_date,
            )
            result.created["patients"] += 1
    family = [holder.pk, *(r.pk for r in relatives.values())]
    if (
        Appointment.objects.active()
        .filter(patient_id__in=family, starts_at__gt=now)
        .exists()
    ):
        return
    bookings = (
        (holder, "general-practice", 2),
        (relatives[Patient.Relationship.CHILD], "paediatrics", 5),
    )
    for patient, specialty, days_ahead in bookings:
        agenda = _first_french_agenda(specialty) or _first_french_agenda(
            "general-practice"
        )
        if agenda is None:
            continue
        if _book_demo(agenda, patient, user, now, days_ahead):
            result.created["appointments"] += 1
        else:
            result.warnings.append(
                f"No free slot found for the demo patient on agenda {agenda.pk}."
            )


def _first_french_agenda(specialty: str) -> Agenda | None:
    return (
        Agenda.objects.filter(
            practitioner__identifier_system=Practitioner.IdentifierSystem.RPPS,
            practitioner__specialty__code=specialty,
            is_active=True,
        )
        .order_by("practitioner__identifier", "pk")
        .first()
    )


def _book_demo(
    agenda: Agenda, patient: Patient, user: User, now: datetime, days_ahead: int
) -> bool:
    """Book the first free in-person slot `days_ahead` days from now through the booking service."""
    motive = (
        VisitMotive.objects.filter(
            agenda=agenda,
            is_active=True,
            open_to_new_patients=True,
            channel=VisitMotive.Channel.IN_PERSON,
        )
        .order_by("pk")
        .first()
    )
    if motive is None:
        return False
    first_day = (now + timedelta(days=days_ahead)).astimezone(agenda.zone).date()
    for slot in list_free_slots(motive=motive, first_day=first_day, days=14, now=now)[
        :5
    ]:
        try:
            book_appointment(
                agenda_id=agenda.pk,
                motive_id=motive.pk,
                patient=patient,
                starts_at=slot,
                booked_by=user,
                actor=Appointment.Actor.PATIENT,
            )
        except DomainError:
            continue
        return True
    return False
