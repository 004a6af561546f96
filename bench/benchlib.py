"""Shared helpers of the bench scripts: venv, Django setup, bench data, figures.

Imported by bench/booking.py, bench/availability.py (the
scripts' own directory is on sys.path). Nothing here is used by the application.
"""

import ipaddress
import math
import os
import random
import shlex
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
BENCH_EMAIL = "bench-{}@carnet.test"
BENCH_EMAIL_LIKE = ("bench-", "@carnet.test")
FILLER_EMAIL = "bench-filler@carnet.test"
BENCH_TOKEN_NAME = "bench"  # noqa: S105 - a token label, not a secret
BENCH_IDENTIFIER = "BENCH-{:06d}"

# (city, country, time zone, latitude, longitude) of the generated bench agendas.
CITIES = [
    ("Paris", "FR", "Europe/Paris", 48.8566, 2.3522),
    ("Lyon", "FR", "Europe/Paris", 45.7640, 4.8357),
    ("Marseille", "FR", "Europe/Paris", 43.2965, 5.3698),
    ("Berlin", "DE", "Europe/Berlin", 52.5200, 13.4050),
    ("München", "DE", "Europe/Berlin", 48.1351, 11.5820),
    ("Roma", "IT", "Europe/Rome", 41.9028, 12.4964),
    ("Milano", "IT", "Europe/Rome", 45.4642, 9.1900),
]
# (name, duration, channel, open to new patients) of each generated agenda.
MOTIVES = [
    ("Consultation", 20, "in_person", True),
    ("Première consultation", 30, "in_person", True),
    ("Téléconsultation", 15, "video", True),
    ("Suivi", 20, "in_person", False),
]
# Weekly opening hours of each generated agenda (weekday, opens, closes).
OPENING = [
    *((day, time(8, 30), time(12, 30)) for day in range(5)),
    *((day, time(14, 0), time(18, 30)) for day in range(5)),
    (5, time(9, 0), time(12, 0)),
]


def ensure_venv() -> None:
    """Re-run the calling script under the project's .venv Python if needed."""
    if Path(sys.prefix).resolve() == (ROOT / ".venv").resolve():
        return
    if not VENV_PYTHON.exists():
        sys.exit(f"{VENV_PYTHON} is missing: run `make install` first")
    os.execv(VENV_PYTHON, [str(VENV_PYTHON), sys.argv[0], *sys.argv[1:]])  # noqa: S606


def setup_django() -> None:
    """Configure Django like the server: dev settings, CARNET_DATABASE_URL, no DEBUG.

    DEBUG stays off unless CARNET_DEBUG says otherwise, so that the query log
    does not grow (and slow down) during a run.
    """
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    os.environ.setdefault("CARNET_DEBUG", "0")
    import django

    django.setup()


def database_label() -> str:
    """The database in use, without its password."""
    from django.db import connection

    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite {settings['NAME']}"
    return (
        f"{connection.vendor} {settings.get('USER')}@{settings.get('HOST')}:"
        f"{settings.get('PORT')}/{settings['NAME']}"
    )


def require_loopback(base_url: str) -> str:
    """`base_url` without a trailing slash; exits unless it targets a loopback address."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if parts.scheme not in {"http", "https"} or not loopback:
        sys.exit(f"refusing {base_url!r}: only http(s)://127.0.0.1[:port] is allowed")
    return base_url.rstrip("/")


def _shell_database_url() -> tuple[str | None, str]:
    """CARNET_DATABASE_URL for a copy-pastable command, and a note; no password shown.

    When the password is the one of scripts/ensure-postgres.sh (var/pg/password)
    it is written as `$(cat var/pg/password)`; any other password is masked and
    the note says so.
    """
    url = os.environ.get("CARNET_DATABASE_URL")
    if not url:
        return None, ""
    parts = urlsplit(url)
    if not parts.password:
        return shlex.quote(url), ""
    try:
        known = (ROOT / "var" / "pg" / "password").read_text().strip()
    except OSError:
        known = ""
    netloc = parts.netloc.replace(f":{parts.password}@", ":PASSWORD@", 1)
    masked = urlunsplit(parts._replace(netloc=netloc))
    if parts.password == known:
        before, after = masked.split("PASSWORD", 1)
        return f'"{before}$(cat var/pg/password){after}"', ""
    return shlex.quote(masked), "  # put the real password in place of PASSWORD"


def rerun_command(script: str, argv: Sequence[str]) -> str:
    """The shell command that repeats this run (database URL without password)."""
    url, note = _shell_database_url()
    prefix = f"CARNET_DATABASE_URL={url} " if url else ""
    words = shlex.join([f"bench/{script}", *argv])
    return f"cd {shlex.quote(str(ROOT))} && {prefix}{words}{note}"


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values (nan when empty)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def summary_ms(seconds: Sequence[float]) -> str:
    """`n=… p50=… p95=… p99=… max=… ms` for durations given in seconds."""
    values = sorted(s * 1000 for s in seconds)
    if not values:
        return "n=0"
    return (
        f"n={len(values)}  p50={percentile(values, 0.50):.1f}  "
        f"p95={percentile(values, 0.95):.1f}  p99={percentile(values, 0.99):.1f}  "
        f"max={values[-1]:.1f} ms  (mean {sum(values) / len(values):.1f})"
    )


def count_bookable_agendas() -> int:
    """Active agendas with an active motive and at least one opening rule."""
    from carnet.scheduling.models import Agenda

    return (
        Agenda.objects.filter(
            is_active=True,
            motives__is_active=True,
            opening_rules__isnull=False,
        )
        .distinct()
        .count()
    )


def ensure_bench_agendas(minimum: int, *, fill: float = 0.25, seed: int = 1) -> int:
    """Create bench practitioners until `minimum` bookable agendas exist.

    Each one gets a practice, a location, one agenda, four motives (one closed
    to new patients) and weekday opening hours; `fill` of its 20-minute grid over
    the next 28 days is booked by the filler patient, so that availability has
    busy time to skip. Returns how many agendas were created (0 when enough
    exist, e.g. after `manage.py seed`).
    """
    missing = minimum - count_bookable_agendas()
    if missing <= 0:
        return 0
    from django.db import transaction

    with transaction.atomic():
        _create_bench_agendas(missing, fill=fill, rng=random.Random(seed))
    return missing


def _create_bench_agendas(count: int, *, fill: float, rng: random.Random) -> None:
    from carnet.booking.models import Appointment
    from carnet.directory.models import (
        Location,
        Practice,
        Practitioner,
        PractitionerRole,
        Specialty,
    )
    from carnet.scheduling.models import Agenda, OpeningRule, VisitMotive

    specialty, _ = Specialty.objects.get_or_create(
        code="general-practice",
        defaults={
            "name_en": "General practice",
            "name_fr": "Médecine générale",
            "name_de": "Allgemeinmedizin",
            "name_it": "Medicina generale",
        },
    )
    taken = Practitioner.objects.filter(identifier__startswith="BENCH-").values_list(
        "identifier", flat=True
    )
    first = 1 + max((int(i.removeprefix("BENCH-")) for i in taken), default=0)
    numbers = range(first, first + count)
    cities = [CITIES[n % len(CITIES)] for n in numbers]
    practices = Practice.objects.bulk_create(
        Practice(name=f"Cabinet bench {n}", country=city[1])
        for n, city in zip(numbers, cities, strict=True)
    )
    locations = Location.objects.bulk_create(
        Location(
            practice=practice,
            address=f"{n} rue du Banc",
            postcode="00000",
            city=city,
            country=country,
            latitude=lat + rng.uniform(-0.2, 0.2),
            longitude=lon + rng.uniform(-0.3, 0.3),
        )
        for n, practice, (city, country, _, lat, lon) in zip(
            numbers, practices, cities, strict=True
        )
    )
    practitioners = Practitioner.objects.bulk_create(
        Practitioner(
            title="Dr",
            first_name="Bench",
            last_name=f"Practitioner {n}",
            identifier_system=Practitioner.IdentifierSystem.RPPS,
            identifier=BENCH_IDENTIFIER.format(n),
            specialty=specialty,
            languages=["fr", "en"],
        )
        for n in numbers
    )
    PractitionerRole.objects.bulk_create(
        PractitionerRole(practitioner=p, practice=pr, location=loc)
        for p, pr, loc in zip(practitioners, practices, locations, strict=True)
    )
    agendas = Agenda.objects.bulk_create(
        Agenda(practice=pr, practitioner=p, location=loc, time_zone=city[2])
        for p, pr, loc, city in zip(
            practitioners, practices, locations, cities, strict=True
        )
    )
    motives = VisitMotive.objects.bulk_create(
        VisitMotive(
            agenda=agenda,
            name=name,
            duration_minutes=minutes,
            channel=channel,
            open_to_new_patients=is_open,
        )
        for agenda in agendas
        for name, minutes, channel, is_open in MOTIVES
    )
    OpeningRule.objects.bulk_create(
        OpeningRule(agenda=agenda, weekday=day, opens_time=opens, closes_time=closes)
        for agenda in agendas
        for day, opens, closes in OPENING
    )
    if fill <= 0:
        return
    filler = _filler_patient()
    consultation = {m.agenda_id: m for m in motives if m.name == MOTIVES[0][0]}
    rows = [
        Appointment(
            agenda=agenda,
            motive=consultation[agenda.pk],
            patient=filler,
            starts_at=start,
            ends_at=start + timedelta(minutes=MOTIVES[0][1]),
            booked_by_kind=Appointment.Actor.STAFF,
        )
        for agenda in agendas
        for start in _grid_starts(ZoneInfo(agenda.time_zone), minutes=MOTIVES[0][1])
        if rng.random() < fill
    ]
    Appointment.objects.bulk_create(rows, batch_size=5000)


def _grid_starts(zone: ZoneInfo, *, minutes: int, days: int = 28) -> list[datetime]:
    """UTC starts of the opening-hours grid of a bench agenda, tomorrow on."""
    today = datetime.now(UTC).astimezone(zone).date()
    step = timedelta(minutes=minutes)
    starts = []
    for offset in range(1, days + 1):
        day = today + timedelta(days=offset)
        for weekday, opens, closes in OPENING:
            if weekday != day.weekday():
                continue
            start = datetime.combine(day, opens, tzinfo=zone)
            end = datetime.combine(day, closes, tzinfo=zone)
            while start + step <= end:
                starts.append(start.astimezone(UTC))
                start += step
    return starts


def _filler_patient():  # -> Patient
    from carnet.accounts.models import Patient, User
    from carnet.accounts.services import create_patient_account

    user = User.objects.filter(email=FILLER_EMAIL).first()
    if user is None:
        user = create_patient_account(
            email=FILLER_EMAIL, password=None, first_name="Bench", last_name="Filler"
        )
    return Patient.objects.get(account=user)


def ensure_bench_patients(count: int) -> list[tuple[int, str]]:
    """`count` patients bench-0…@carnet.test, each with one fresh API token.

    Idempotent: existing accounts are reused; their earlier bench tokens are
    revoked. Returns (patient id, raw token) pairs.
    """
    from django.db import transaction

    from carnet.accounts.models import ApiToken, Patient, User
    from carnet.accounts.services import create_patient_account, mint_api_token

    emails = [BENCH_EMAIL.format(n) for n in range(count)]
    with transaction.atomic():
        users = {u.email: u for u in User.objects.filter(email__in=emails)}
        for n, email in enumerate(emails):
            if email not in users:
                users[email] = create_patient_account(
                    email=email, password=None, first_name="Bench", last_name=str(n)
                )
        ApiToken.objects.filter(
            user__in=users.values(), name=BENCH_TOKEN_NAME, revoked_at__isnull=True
        ).update(revoked_at=datetime.now(UTC))
        patients = dict(
            Patient.objects.filter(account__in=users.values()).values_list(
                "account_id", "pk"
            )
        )
        result = []
        for email in emails:
            user = users[email]
            _, raw = mint_api_token(user=user, name=BENCH_TOKEN_NAME)
            result.append((patients[user.pk], raw))
    return result


def bench_appointments():  # -> QuerySet[Appointment]
    """Appointments of the bench patients (not the filler's)."""
    from carnet.booking.models import Appointment

    prefix, suffix = BENCH_EMAIL_LIKE
    return Appointment.objects.filter(
        patient__account__email__startswith=prefix,
        patient__account__email__endswith=suffix,
    ).exclude(patient__account__email=FILLER_EMAIL)


DOUBLE_BOOKING_SQL = """
SELECT a.id, b.id, a.agenda_id, a.starts_at, a.ends_at, b.starts_at, b.ends_at
FROM booking_appointment a
JOIN booking_appointment b
  ON b.agenda_id = a.agenda_id
 AND a.id < b.id
 AND a.starts_at < b.ends_at
 AND b.starts_at < a.ends_at
WHERE a.status <> 'cancelled' AND b.status <> 'cancelled'
"""


def find_double_bookings(limit: int = 10) -> tuple[int, list[tuple]]:
    """Pairs of active appointments of one agenda whose times overlap: (count, sample)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({DOUBLE_BOOKING_SQL}) pairs")  # noqa: S608
        (count,) = cursor.fetchone()
        sample: list[tuple] = []
        if count:
            cursor.execute(f"{DOUBLE_BOOKING_SQL} LIMIT %s", [limit])
            sample = cursor.fetchall()
    return count, sample


# The reminder bench (bench/reminders.py) ----------------------------------------

REMINDER_EMAIL = "bench-reminder-{}@carnet.test"
REMINDER_EMAIL_PREFIX = "bench-reminder-"
# Not "BENCH-<number>": _create_bench_agendas numbers its practitioners from those.
REMINDER_PRACTITIONER = "BENCH_REMINDERS"
REMINDER_MOTIVE = "Consultation (bench reminders)"
REMINDER_LANGUAGES = ("fr", "de", "it", "en")


def database_is_local() -> bool:
    """Whether the database is SQLite, a Unix socket or a loopback address."""
    from django.db import connection

    if connection.vendor == "sqlite":
        return True
    host = str(connection.settings_dict.get("HOST") or "")
    if not host or host.startswith("/") or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def unapplied_migrations() -> list[str]:
    """`app.migration` names the database still lacks (empty when migrated)."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]


def ensure_reminder_agenda():  # -> tuple[Agenda, VisitMotive]
    """The reminder bench's agenda (practitioner BENCH_REMINDERS) and its motive.

    It has no opening hours: it offers no slot, so no other bench books into
    it (count_bookable_agendas skips it, its availability is empty) and the
    bench's appointments are the only ones on it. Created once, then reused.
    """
    from django.db import transaction

    from carnet.directory.models import (
        Location,
        Practice,
        Practitioner,
        PractitionerRole,
        Specialty,
    )
    from carnet.scheduling.models import Agenda, VisitMotive

    with transaction.atomic():
        practitioner = Practitioner.objects.filter(
            identifier=REMINDER_PRACTITIONER
        ).first()
        if practitioner is None:
            specialty, _ = Specialty.objects.get_or_create(
                code="general-practice",
                defaults={
                    "name_en": "General practice",
                    "name_fr": "Médecine générale",
                    "name_de": "Allgemeinmedizin",
                    "name_it": "Medicina generale",
                },
            )
            city, country, zone, lat, lon = CITIES[0]
            practice = Practice.objects.create(
                name="Cabinet bench reminders", country=country
            )
            location = Location.objects.create(
                practice=practice,
                address="1 rue du Rappel",
                postcode="75001",
                city=city,
                country=country,
                latitude=lat,
                longitude=lon,
            )
            practitioner = Practitioner.objects.create(
                title="Dr",
                first_name="Bench",
                last_name="Reminders",
                identifier_system=Practitioner.IdentifierSystem.RPPS,
                identifier=REMINDER_PRACTITIONER,
                specialty=specialty,
                languages=["fr", "en"],
            )
            PractitionerRole.objects.create(
                practitioner=practitioner, practice=practice, location=location
            )
            Agenda.objects.create(
                practice=practice,
                practitioner=practitioner,
                location=location,
                time_zone=zone,
            )
        agenda = Agenda.objects.select_related("practice").get(
            practitioner=practitioner
        )
        motive, _ = VisitMotive.objects.get_or_create(
            agenda=agenda,
            name=REMINDER_MOTIVE,
            defaults={"duration_minutes": 20, "channel": "in_person"},
        )
    return agenda, motive


def ensure_reminder_patients(count: int) -> list[tuple[int, int]]:
    """`count` patients bench-reminder-0…@carnet.test: (patient id, user id) pairs.

    Idempotent: existing accounts are reused, missing ones created (each with
    its own data key, as a sign-up does). Their languages alternate between
    French, German, Italian and English, so the reminders come in all four.
    """
    from django.db import transaction

    from carnet.accounts.models import Patient, User
    from carnet.accounts.services import create_patient_account

    emails = [REMINDER_EMAIL.format(n) for n in range(count)]
    users: dict[str, int] = {}
    for start in range(0, count, 500):
        chunk = emails[start : start + 500]
        users.update(User.objects.filter(email__in=chunk).values_list("email", "pk"))
    missing = [(n, e) for n, e in enumerate(emails) if e not in users]
    for start in range(0, len(missing), 200):
        with transaction.atomic():
            for n, email in missing[start : start + 200]:
                user = create_patient_account(
                    email=email,
                    password=None,
                    first_name="Bench",
                    last_name=f"Reminder {n}",
                    language=REMINDER_LANGUAGES[n % len(REMINDER_LANGUAGES)],
                )
                users[email] = user.pk
    patients: dict[int, int] = {}
    ids = list(users.values())
    for start in range(0, len(ids), 500):
        patients.update(
            Patient.objects.filter(account_id__in=ids[start : start + 500]).values_list(
                "account_id", "pk"
            )
        )
    return [(patients[users[email]], users[email]) for email in emails]


def reminder_bench_appointments():  # -> QuerySet[Appointment]
    """Appointments of the reminder bench's patients (bench-reminder-N@carnet.test)."""
    from carnet.booking.models import Appointment

    return Appointment.objects.filter(
        patient__account__email__startswith=REMINDER_EMAIL_PREFIX,
        patient__account__email__endswith=BENCH_EMAIL_LIKE[1],
    )
