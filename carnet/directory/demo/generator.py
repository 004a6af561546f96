"""Deterministic generator of the demo data set: plain values, no database.

Practitioner `i` is fully determined by `i`: every draw comes from a random
generator seeded with `i` (and a purpose), so a run with a larger N reproduces
the first practitioners exactly and the loader can find what already exists
from the professional identifier alone. Practices group consecutive indices:
each block of ten indices is cut into groups of one to five practitioners, and
a group's first index (its leader) decides the practice (country, city,
address). Patients work the same way with their own index.

Instants follow the availability engine's DST rule: a window's wall-clock edges
are converted to UTC (`carnet.scheduling.availability.window_edges`) and slots
are stepped in UTC from the opening edge, so every appointment lies on the
motive's slot grid.
"""

import functools
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from faker import Faker

from carnet.directory.demo.details import access, fees, presentation
from carnet.directory.demo.hours import Hours, weekly_hours
from carnet.directory.demo.places import (
    COUNTRIES,
    City,
    CountryInfo,
    city_tables,
    jitter,
    postcode,
)
from carnet.directory.demo.specialties import (
    SPECIALTIES,
    SPECIALTIES_BY_CODE,
    SpecialtySpec,
)
from carnet.scheduling.availability import Window, window_edges

BLOCK = 10
MAX_PRACTITIONERS = 1_000_000  # a German LANR holds six digits of index
PATIENT_EMAIL_DOMAIN = "patients.carnet.test"
UPCOMING_DAYS = 14
PAST_DAYS = 14

_GROUP_SIZES = (1, 2, 3, 4, 5)
_GROUP_WEIGHTS = (62, 14, 10, 8, 6)
# Professions found next to general practitioners in a multidisciplinary practice
# (maison de santé, MVZ, poliambulatorio).
_MULTIDISCIPLINARY = (
    ("general-practice", 5),
    ("nursing", 2),
    ("physiotherapy", 2),
    ("midwifery", 1),
    ("psychology", 1),
    ("podiatry", 1),
    ("dietetics", 1),
    ("speech-therapy", 1),
)
_PARTICLES = {"von", "van", "de", "De", "Le", "La", "Da", "Dos", "Del", "Di"}
_CHILD_SPECIALTIES = {"paediatrics": 1.0, "orthodontics": 0.75, "speech-therapy": 0.6}
_WOMEN_SPECIALTIES = {"gynaecology", "midwifery"}
_ITALIAN_DOTTORI = {"psychology", "dietetics"}
_ABSENCE_LABELS = {
    "holiday": {"fr": "Congés", "de": "Urlaub", "it": "Ferie"},
    "training": {"fr": "Formation", "de": "Fortbildung", "it": "Congresso"},
}
_GROUP_NAMES = {
    "fr": ("Maison de santé pluriprofessionnelle", "Centre médical", "Pôle de santé"),
    "de": ("Medizinisches Versorgungszentrum", "Gesundheitszentrum", "Ärztehaus"),
    "it": ("Poliambulatorio", "Centro medico", "Casa della salute"),
}
_LANDMARKS = {
    "fr": (
        "de la Gare",
        "du Parc",
        "du Centre",
        "de l'Hôtel de Ville",
        "des Tilleuls",
        "du Marché",
        "Pasteur",
        "Victor Hugo",
        "Jean Jaurès",
        "Saint-Michel",
    ),
    "de": (
        "am Markt",
        "am Bahnhof",
        "am Stadtpark",
        "im Zentrum",
        "am Rathaus",
        "an der Linde",
        "Altstadt",
        "am Schlossplatz",
    ),
    "it": (
        "San Marco",
        "Centro",
        "Garibaldi",
        "Mazzini",
        "della Stazione",
        "Duomo",
        "Europa",
        "Santa Maria",
        "Cavour",
    ),
}


def _rng(purpose: str, index: int) -> random.Random:
    return random.Random(f"carnet-demo:{purpose}:{index}")  # noqa: S311 (reproducible demo data)


@functools.cache
def _faker(locale: str) -> Faker:
    return Faker(locale)


def _seeded_faker(locale: str, seed: int) -> Faker:
    fake = _faker(locale)
    fake.seed_instance(seed)
    return fake


def _last_name(fake: Faker) -> str:
    """A last name, skipping odd de_DE entries such as "Koch II" or "Dussen van"."""
    for _ in range(10):
        name = fake.last_name()
        if " " not in name or name.split(" ", 1)[0] in _PARTICLES:
            break
    return name


# --- identity: cheap, enough to find what already exists ----------------------


@dataclass(frozen=True, slots=True)
class PracticeCore:
    """What a group's leader decides: where the practice is and what it does."""

    leader: int
    size: int
    country: CountryInfo
    specialty: str
    multidisciplinary: bool
    city: City


@dataclass(frozen=True, slots=True)
class Identity:
    """Practitioner `index`: its group, country, specialty and professional identifier."""

    index: int
    practice: PracticeCore
    specialty: SpecialtySpec
    identifier_system: str
    identifier: str

    @property
    def country(self) -> CountryInfo:
        """The practice's country."""
        return self.practice.country

    @property
    def is_leader(self) -> bool:
        """Whether this practitioner founds the practice of its group."""
        return self.practice.leader == self.index


@functools.lru_cache(maxsize=1024)
def _groups(block: int) -> tuple[tuple[int, int], ...]:
    """(leader, size) of the groups that cut block `block` of BLOCK consecutive indices."""
    rng = _rng("block", block)
    groups, position = [], 0
    while position < BLOCK:
        size = min(rng.choices(_GROUP_SIZES, _GROUP_WEIGHTS)[0], BLOCK - position)
        groups.append((block * BLOCK + position, size))
        position += size
    return tuple(groups)


def group_of(index: int) -> tuple[int, int]:
    """(leader, size) of the practice group of practitioner `index`."""
    for leader, size in _groups(index // BLOCK):
        if leader <= index < leader + size:
            return leader, size
    raise AssertionError(index)  # the groups cover the whole block


_COUNTRY_CODES = tuple(COUNTRIES)
_COUNTRY_SHARES = tuple(COUNTRIES[code].share for code in _COUNTRY_CODES)
_SPECIALTY_CODES = tuple(spec.code for spec in SPECIALTIES)
_SPECIALTY_WEIGHTS = tuple(spec.weight for spec in SPECIALTIES)


@functools.lru_cache(maxsize=4096)
def practice_core(leader: int) -> PracticeCore:
    """Country, city and specialty of the practice founded by practitioner `leader`.

    Practitioner 0 is pinned to a general practice in Paris: it is the demo
    practitioner account.
    """
    _, size = group_of(leader)
    rng = _rng("practice", leader)
    country = COUNTRIES[rng.choices(_COUNTRY_CODES, _COUNTRY_SHARES)[0]]
    specialty = rng.choices(_SPECIALTY_CODES, _SPECIALTY_WEIGHTS)[0]
    tables = city_tables()
    if leader == 0:
        country, specialty = COUNTRIES["FR"], "general-practice"
        city = tables["FR"].named("Paris")
    else:
        city = tables[country.code].pick(rng)
    multidisciplinary = (
        size > 1 and specialty == "general-practice" and rng.random() < 0.4
    )
    return PracticeCore(leader, size, country, specialty, multidisciplinary, city)


def _luhn_digit(digits: str) -> str:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def professional_identifier(index: int, system: str, specialty: SpecialtySpec) -> str:
    """The identifier of practitioner `index` in `system`, unique per index.

    RPPS: "10" + eight digits + a Luhn key (11 digits). LANR: six digits, the
    KBV check digit (weights 4 and 9), the two-digit specialty group (9 digits).
    FNOMCeO: the register number, eight digits.
    """
    if not 0 <= index < MAX_PRACTITIONERS:
        raise ValueError(f"practitioner index out of range: {index}")
    if system == "rpps":
        body = f"10{index:08d}"
        return body + _luhn_digit(body)
    if system == "lanr":
        body = f"{index:06d}"
        check = (
            10 - sum(int(d) * w for d, w in zip(body, (4, 9) * 3, strict=True)) % 10
        ) % 10
        return f"{body}{check}{specialty.lanr_group}"
    return f"{index:08d}"


def identify(index: int) -> Identity:
    """The identity of practitioner `index` (no Faker call: cheap)."""
    leader, _ = group_of(index)
    core = practice_core(leader)
    code = core.specialty
    if index != leader and core.multidisciplinary:
        codes, weights = zip(*_MULTIDISCIPLINARY, strict=True)
        code = _rng("member", index).choices(codes, weights)[0]
    spec = SPECIALTIES_BY_CODE[code]
    system = core.country.identifier_system
    return Identity(
        index, core, spec, system, professional_identifier(index, system, spec)
    )


# --- full description: names, practice, agenda --------------------------------


@dataclass(frozen=True, slots=True)
class Person:
    """Generated civil identity."""

    female: bool
    first_name: str
    last_name: str


def practitioner_person(identity: Identity) -> Person:
    """First and last name of a practitioner, from its country's locale."""
    rng = _rng("person", identity.index)
    female = rng.random() < identity.specialty.female_share
    fake = _seeded_faker(identity.country.locale, identity.index)
    first = fake.first_name_female() if female else fake.first_name_male()
    return Person(female, first, _last_name(fake))


def _title(identity: Identity, person: Person, rng: random.Random) -> str:
    spec, country = identity.specialty, identity.country.code
    if country == "FR":
        return "Dr" if spec.titled else ""
    if country == "DE":
        if spec.code == "psychology":
            return "Dipl.-Psych." if rng.random() < 0.4 else ""
        return "Dr." if spec.titled and rng.random() < 0.65 else ""
    if spec.titled or spec.code in _ITALIAN_DOTTORI:
        return "Dott.ssa" if person.female else "Dott."
    return ""


@dataclass(frozen=True, slots=True)
class MotiveDraft:
    """A visit motive of one agenda."""

    name: str
    minutes: int
    channel: str
    new_patients: bool
    notice: int
    horizon: int
    cutoff: int


@dataclass(frozen=True, slots=True)
class PractitionerDraft:
    """Everything about practitioner `identity.index` except what depends on today."""

    identity: Identity
    title: str
    person: Person
    languages: tuple[str, ...]
    hours: tuple[Hours, ...]
    motives: tuple[MotiveDraft, ...]
    fee_sector: str = ""
    fees: str = ""
    bio: str = ""

    @property
    def display_name(self) -> str:
        """Title and full name."""
        parts = (self.title, self.person.first_name, self.person.last_name)
        return " ".join(part for part in parts if part)


def _motives(identity: Identity, rng: random.Random) -> tuple[MotiveDraft, ...]:
    language = identity.country.language
    specs = identity.specialty.motives
    chosen = [specs[0], *(spec for spec in specs[1:] if rng.random() < 0.85)]
    if len(chosen) < 2:
        chosen.append(specs[1])
    drafts = []
    for spec in chosen:
        minutes = spec.minutes
        if minutes >= 15 and rng.random() < 0.25:
            minutes = min(60, max(5, minutes + rng.choice((-5, 5))))
        drafts.append(
            MotiveDraft(
                name=spec.name(language),
                minutes=minutes,
                channel=spec.channel,
                new_patients=spec.new_patients,
                notice=spec.notice,
                horizon=spec.horizon,
                cutoff=spec.cutoff,
            )
        )
    return tuple(drafts)


def describe_practitioner(identity: Identity) -> PractitionerDraft:
    """The full, deterministic description of one practitioner and its agenda."""
    rng = _rng("practitioner", identity.index)
    person = practitioner_person(identity)
    country = identity.country
    languages = [country.language]
    if rng.random() < (0.65 if country.code == "DE" else 0.5):
        languages.append("en")
    if rng.random() < 0.15:
        languages.append(rng.choice(country.other_languages))
    hours = weekly_hours(
        _rng("hours", identity.index),
        country=country.code,
        profile=identity.specialty.hours,
    )
    title = _title(identity, person, rng)
    # Own random streams: adding them changed none of the draws above.
    charged = fees(identity.specialty, country.code, _rng("fees", identity.index))
    display_name = " ".join(
        part for part in (title, person.first_name, person.last_name) if part
    )
    return PractitionerDraft(
        identity=identity,
        title=title,
        person=person,
        languages=tuple(languages),
        hours=tuple(hours),
        motives=_motives(identity, rng),
        fee_sector=charged.sector,
        fees=charged.text,
        bio=presentation(
            specialty=identity.specialty,
            country=country.code,
            female=person.female,
            display_name=display_name,
            city=identity.practice.city.name,
            languages=tuple(languages),
            rng=_rng("bio", identity.index),
        ),
    )


@dataclass(frozen=True, slots=True)
class PracticeDraft:
    """A practice with its single location."""

    leader: int
    name: str
    phone: str
    address: str
    postcode: str
    city: str
    country: str
    latitude: float
    longitude: float
    practical_info: str = ""
    step_free: bool = False


def _french_of(place: str) -> str:
    """`place` after "de", with French elision and contraction (du Havre, d'Amiens)."""
    for article, contracted in (
        ("Le ", "du "),
        ("Les ", "des "),
        ("La ", "de la "),
        ("L'", "de l'"),
    ):
        if place.startswith(article):
            return contracted + place[len(article) :]
    if place[:1].lower() in "aeiouyéèêâîôûh":
        return f"d'{place}"
    return f"de {place}"


def describe_practice(
    core: PracticeCore, drafts: Mapping[int, PractitionerDraft] | None = None
) -> PracticeDraft:
    """Name, phone and address of the practice founded by `core.leader`.

    `drafts` may hold already computed practitioner drafts, to spare recomputing
    the names the practice is named after.
    """
    drafts = drafts or {}

    def draft_of(index: int) -> PractitionerDraft:
        return drafts.get(index) or describe_practitioner(identify(index))

    rng = _rng("address", core.leader)
    country = core.country
    language = country.language
    fake = _seeded_faker(country.locale, 10_000_000 + core.leader)
    address, phone = fake.street_address(), fake.phone_number()
    latitude, longitude = jitter(core.city.latitude, core.city.longitude, rng)
    noun = SPECIALTIES_BY_CODE[core.specialty].practice[
        ("fr", "de", "it").index(language)
    ]
    if core.size == 1:
        leader = draft_of(core.leader)
        name = " ".join(
            part for part in (noun, leader.title, leader.person.last_name) if part
        )
    elif core.multidisciplinary:
        group = rng.choice(_GROUP_NAMES[language])
        city = _french_of(core.city.name) if language == "fr" else core.city.name
        name = f"{group} {city}"
    elif core.size == 2:
        pair = (draft_of(core.leader), draft_of(core.leader + 1))
        name = f"{noun} " + " & ".join(
            " ".join(part for part in (draft.title, draft.person.last_name) if part)
            for draft in pair
        )
    else:
        name = f"{noun} {rng.choice(_LANDMARKS[language])}"
    reach = access(
        language=language,
        city=core.city.name,
        contact=name[:60],
        rng=_rng("access", core.leader),
    )
    return PracticeDraft(
        leader=core.leader,
        name=name[:200],
        phone=phone[:32],
        address=address[:255],
        postcode=postcode(core.city, rng),
        city=core.city.name,
        country=country.code,
        latitude=latitude,
        longitude=longitude,
        practical_info=reach.text,
        step_free=reach.step_free,
    )


# --- patients -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RelativeDraft:
    """A relative an account holder books for."""

    first_name: str
    last_name: str
    relationship: str
    birth_date: date


@dataclass(frozen=True, slots=True)
class PatientDraft:
    """Pool patient `index`: an account holder (who cannot log in) and their relatives."""

    index: int
    email: str
    language: str
    person: Person
    birth_date: date
    phone: str
    relatives: tuple[RelativeDraft, ...]


def patient_email(index: int) -> str:
    """The e-mail address identifying pool patient `index`."""
    return f"patient{index:06d}@{PATIENT_EMAIL_DOMAIN}"


def patient_profile(index: int) -> tuple[bool, str]:
    """(is a woman, country code) of pool patient `index`: the first draws of describe_patient."""
    rng = _rng("patient", index)
    female = rng.random() < 0.52
    return female, rng.choices(_COUNTRY_CODES, _COUNTRY_SHARES)[0]


def _birth_date(today: date, rng: random.Random, youngest: int, oldest: int) -> date:
    return today - timedelta(days=rng.randint(youngest * 365 + 1, oldest * 365 + 364))


def describe_patient(index: int, today: date) -> PatientDraft:
    """Pool patient `index`: names from its locale, adult, sometimes with relatives."""
    rng = _rng("patient", index)
    female = rng.random() < 0.52
    country = COUNTRIES[
        rng.choices(_COUNTRY_CODES, _COUNTRY_SHARES)[0]
    ]  # as in patient_profile
    fake = _seeded_faker(country.locale, 20_000_000 + index)
    first = fake.first_name_female() if female else fake.first_name_male()
    last = _last_name(fake)
    age = min(95, max(18, round(rng.gauss(45, 17))))
    birth = _birth_date(today, rng, age, age)
    relatives: list[RelativeDraft] = []
    if 24 <= age <= 55 and rng.random() < 0.35:
        for _ in range(rng.choice((1, 1, 2, 2, 3))):
            child_female = rng.random() < 0.5
            child_first = (
                fake.first_name_female() if child_female else fake.first_name_male()
            )
            child_age = rng.randint(0, min(17, age - 20))
            relatives.append(
                RelativeDraft(
                    child_first,
                    last,
                    "child",
                    _birth_date(today, rng, child_age, child_age),
                )
            )
    if age <= 60 and rng.random() < 0.1:
        parent_age = min(100, age + rng.randint(22, 38))
        parent_first = (
            fake.first_name_female() if rng.random() < 0.6 else fake.first_name_male()
        )
        relatives.append(
            RelativeDraft(
                parent_first,
                last,
                "parent",
                _birth_date(today, rng, parent_age, parent_age),
            )
        )
    if rng.random() < 0.08:
        spouse_first = fake.first_name_male() if female else fake.first_name_female()
        spouse_age = min(95, max(18, age + rng.randint(-5, 5)))
        relatives.append(
            RelativeDraft(
                spouse_first,
                last,
                "spouse",
                _birth_date(today, rng, spouse_age, spouse_age),
            )
        )
    return PatientDraft(
        index=index,
        email=patient_email(index),
        language=country.language,
        person=Person(female, first, last),
        birth_date=birth,
        phone=fake.phone_number()[:32],
        relatives=tuple(relatives),
    )


def patient_pool_size(practitioners: int) -> int:
    """How many pool patients a data set of `practitioners` practitioners has."""
    return max(50, practitioners // 5)


# --- calendar: absences and appointments, relative to now ---------------------


@dataclass(frozen=True, slots=True)
class AbsenceDraft:
    """A closed period of an agenda, in UTC."""

    starts_at: datetime
    ends_at: datetime
    label: str


@dataclass(frozen=True, slots=True)
class AppointmentDraft:
    """An appointment on the grid of `motive` (an index into the agenda's motives).

    `patient` is ("holder", country, i) for pool patient i, or ("child", country,
    i) for the i-th child relative of that country's pool patients;
    `booked_by_patient` means the account holder booked it, otherwise the
    practice staff did.
    """

    starts_at: datetime
    ends_at: datetime
    motive: int
    patient: tuple[str, str, int]
    status: str
    booked_by_patient: bool


@dataclass(slots=True)
class PatientPool:
    """Patients the calendar draws from, per country: holders' pool indices, child count."""

    holders: dict[str, list[int]]
    children: dict[str, int]


@dataclass(slots=True)
class Calendar:
    """What happens on one agenda around now."""

    absences: list[AbsenceDraft] = field(default_factory=list)
    appointments: list[AppointmentDraft] = field(default_factory=list)


@functools.lru_cache(maxsize=32768)
def _edges(
    zone_name: str, day: date, opens: time, closes: time
) -> tuple[datetime, datetime] | None:
    """UTC edges of a wall-clock window on `day` (DST-safe; None if nothing is left)."""
    window = Window(weekday=day.weekday(), opens=opens, closes=closes)
    interval = window_edges(window=window, day=day, zone=ZoneInfo(zone_name))
    return None if interval is None else (interval.start, interval.end)


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _absences(
    draft: PractitionerDraft, zone: ZoneInfo, today: date, rng: random.Random
) -> list[AbsenceDraft]:
    labels = {
        kind: names[draft.identity.country.language]
        for kind, names in _ABSENCE_LABELS.items()
    }
    absences = []
    if rng.random() < 0.3:
        first = today + timedelta(days=rng.randint(5, 42))
        last = first + timedelta(days=rng.randint(4, 13))
        absences.append(
            AbsenceDraft(
                _local_midnight(first, zone),
                _local_midnight(last + timedelta(days=1), zone),
                labels["holiday"],
            )
        )
    if rng.random() < 0.15:
        day = today + timedelta(days=rng.randint(1, UPCOMING_DAYS - 1))
        if not any(
            a.starts_at <= _local_midnight(day, zone) < a.ends_at for a in absences
        ):
            absences.append(
                AbsenceDraft(
                    _local_midnight(day, zone),
                    _local_midnight(day + timedelta(days=1), zone),
                    labels["training"],
                )
            )
    return absences


def plan_calendar(
    draft: PractitionerDraft, *, now: datetime, pool: PatientPool
) -> Calendar:
    """Absences and already-booked appointments of a practitioner's agenda around `now`.

    Guarantees: every appointment starts at a window's opening edge (in UTC)
    plus a whole number of its motive's durations and ends inside that window;
    no two appointments overlap each other or an absence; upcoming ones start
    after `now`, past ones end by `now`. Patients are drawn from `pool`; a
    motive closed to new patients only goes to a patient seen in the past.
    """
    index = draft.identity.index
    zone_name = draft.identity.country.time_zone
    zone = ZoneInfo(zone_name)
    today = now.astimezone(zone).date()
    rng = _rng("calendar", index)
    calendar = Calendar(absences=_absences(draft, zone, today, rng))
    busy = [(a.starts_at, a.ends_at) for a in calendar.absences]
    windows: dict[int, list[tuple[time, time]]] = {}
    for weekday, opens, closes in draft.hours:
        windows.setdefault(weekday, []).append((opens, closes))
    motives = draft.motives
    open_motives = [i for i, motive in enumerate(motives) if motive.new_patients]
    code = draft.identity.specialty.code
    busy_centre = code in ("vaccination-centre", "radiology")
    seen: list[tuple[str, str, int]] = []

    country = draft.identity.country.code
    holders = pool.holders.get(country) or max(pool.holders.values(), key=len)
    children = pool.children.get(country, 0)

    def draw_patient() -> tuple[str, str, int]:
        if children and rng.random() < _CHILD_SPECIALTIES.get(code, 0.0):
            return ("child", country, rng.randrange(children))
        holder = rng.choice(holders)
        if code in _WOMEN_SPECIALTIES:
            for _ in range(8):
                if patient_profile(holder)[0]:
                    break
                holder = rng.choice(holders)
        return ("holder", country, holder)

    def place(count: int, first_day: int, last_day: int, past: bool) -> None:
        for _ in range(count * 4):
            if count <= 0:
                return
            day = today + timedelta(days=rng.randint(first_day, last_day))
            day_windows = windows.get(day.weekday())
            if not day_windows:
                continue
            opens, closes = rng.choice(day_windows)
            edges = _edges(zone_name, day, opens, closes)
            if edges is None:
                continue
            motive = rng.randrange(len(motives))
            patient = None
            if not motives[motive].new_patients:
                if past or not seen:
                    if not open_motives:
                        continue
                    motive = rng.choice(open_motives)
                else:
                    patient = rng.choice(seen)
            duration = timedelta(minutes=motives[motive].minutes)
            slots = (edges[1] - edges[0]) // duration
            if slots <= 0:
                continue
            start = edges[0] + rng.randrange(slots) * duration
            end = start + duration
            if (past and end > now) or (not past and start <= now):
                continue
            if any(start < b_end and b_start < end for b_start, b_end in busy):
                continue
            busy.append((start, end))
            if patient is None:
                patient = draw_patient()
            if past:
                status = "noshow" if rng.random() < 0.07 else "fulfilled"
                seen.append(patient)
            else:
                status = "cancelled" if rng.random() < 0.05 else "booked"
            calendar.appointments.append(
                AppointmentDraft(
                    start,
                    end,
                    motive,
                    patient,
                    status,
                    booked_by_patient=rng.random() < 0.8,
                )
            )
            count -= 1

    scale = 3 if busy_centre else 1
    place(rng.randint(1, 6) * scale, -PAST_DAYS, 0, past=True)
    place(rng.randint(3, 16) * scale, 0, UPCOMING_DAYS - 1, past=False)
    return calendar
