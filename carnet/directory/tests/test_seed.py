from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from io import StringIO
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.utils import timezone

from carnet.accounts.models import Patient, StaffMembership, User
from carnet.booking.models import Appointment
from carnet.directory.demo.generator import describe_practitioner, identify
from carnet.directory.demo.loader import COUNTED, DEMO_ACCOUNTS, PRACTITIONER_ACCOUNT
from carnet.directory.models import (
    Location,
    Practitioner,
    PractitionerRole,
    SearchEntry,
    Specialty,
)
from carnet.directory.search import SearchQuery, search
from carnet.scheduling.availability import Window, window_edges
from carnet.scheduling.models import Absence, Agenda, OpeningRule

pytestmark = pytest.mark.django_db

# Two weeks either side of these instants cross a DST change in Europe.
SPRING_FORWARD = datetime(2026, 3, 23, 9, 0, tzinfo=UTC)
FALL_BACK = datetime(2026, 10, 19, 9, 0, tzinfo=UTC)


def seed(practitioners: int) -> str:
    out = StringIO()
    call_command("seed", practitioners=practitioners, stdout=out, stderr=StringIO())
    return out.getvalue()


def counts() -> dict[str, int]:
    return {label: model.objects.count() for label, model in COUNTED}


def luhn_valid(number: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(number)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def test_seeding_creates_practitioners_with_an_agenda_motives_and_opening_rules():
    seed(20)

    assert Practitioner.objects.count() == 20
    assert Specialty.objects.count() >= 30
    for practitioner in Practitioner.objects.all():
        agendas = list(Agenda.objects.filter(practitioner=practitioner))
        assert len(agendas) == 1
        agenda = agendas[0]
        assert 2 <= agenda.motives.count() <= 4
        assert agenda.opening_rules.exists()
        role = PractitionerRole.objects.get(practitioner=practitioner, is_active=True)
        assert (role.practice_id, role.location_id) == (
            agenda.practice_id,
            agenda.location_id,
        )
        country = agenda.location.country
        assert (
            agenda.time_zone
            == {"FR": "Europe/Paris", "DE": "Europe/Berlin", "IT": "Europe/Rome"}[
                country
            ]
        )
        assert (
            practitioner.identifier_system
            == {"FR": "rpps", "DE": "lanr", "IT": "fnomceo"}[country]
        )
        if country == "FR":
            assert len(practitioner.identifier) == 11
            assert luhn_valid(practitioner.identifier)
        elif country == "DE":
            assert len(practitioner.identifier) == 9
        assert practitioner.identifier.isdigit()
    for opens, closes in OpeningRule.objects.values_list("opens_time", "closes_time"):
        assert opens < closes


def test_the_data_set_is_reproducible_from_the_practitioner_index():
    seed(20)

    for index in (0, 7, 19):
        draft = describe_practitioner(identify(index))
        practitioner = Practitioner.objects.get(
            identifier_system=draft.identity.identifier_system,
            identifier=draft.identity.identifier,
        )
        assert (
            practitioner.first_name,
            practitioner.last_name,
            practitioner.title,
        ) == (
            draft.person.first_name,
            draft.person.last_name,
            draft.title,
        )
        assert practitioner.specialty.code == draft.identity.specialty.code


def test_the_demo_accounts_can_log_in():
    output = seed(20)

    for account in DEMO_ACCOUNTS:
        assert authenticate(email=account.email, password=account.password) is not None
        assert account.email in output
    assert User.objects.get(email="admin@carnet.test").is_superuser
    gp = Practitioner.objects.get(account__email=PRACTITIONER_ACCOUNT.email)
    assert (gp.identifier_system, gp.specialty.code) == ("rpps", "general-practice")
    assert gp.identifier == min(
        Practitioner.objects.filter(
            identifier_system="rpps", specialty__code="general-practice"
        ).values_list("identifier", flat=True)
    )


def test_the_demo_practice_has_an_administrator_practitioner_and_a_secretary():
    seed(20)

    gp = Practitioner.objects.get(account__email=PRACTITIONER_ACCOUNT.email)
    practice_id = gp.roles.first().practice_id
    roles = set(
        StaffMembership.objects.filter(practice_id=practice_id).values_list(
            "user__email", "role"
        )
    )
    assert roles == {
        ("practitioner@carnet.test", "practitioner"),
        ("practitioner@carnet.test", "practice_admin"),
        ("secretary@carnet.test", "secretary"),
    }


def test_the_demo_patient_has_two_relatives_and_an_upcoming_appointment():
    seed(20)

    camille = Patient.objects.get(account__email="patient@carnet.test")
    assert (camille.first_name, camille.last_name, camille.account.language) == (
        "Camille",
        "Martin",
        "fr",
    )
    assert sorted(camille.relatives.values_list("relationship", flat=True)) == [
        "child",
        "parent",
    ]
    family = [camille.pk, *camille.relatives.values_list("pk", flat=True)]
    upcoming = Appointment.objects.filter(
        patient_id__in=family,
        status=Appointment.Status.BOOKED,
        starts_at__gt=timezone.now(),
    )
    assert 1 <= upcoming.count() <= 2


def test_a_second_run_creates_nothing():
    seed(20)
    before = counts()

    output = seed(20)

    assert counts() == before
    assert "Created: 0 specialties, 0 practices" in output


def test_a_larger_run_adds_only_the_missing_practitioners():
    seed(20)
    before = counts()
    first_twenty = set(Practitioner.objects.values_list("pk", "identifier"))

    seed(25)

    assert Practitioner.objects.count() == 25
    assert first_twenty <= set(Practitioner.objects.values_list("pk", "identifier"))
    assert Agenda.objects.count() == 25
    assert counts()["specialties"] == before["specialties"]
    # The next groups either open new practices or join the one of a seeded colleague.
    assert (
        PractitionerRole.objects.values("practice").distinct().count()
        == counts()["practices"]
    )


def assert_no_overlap_and_inside_opening_hours() -> None:
    rules: dict[int, list[tuple[int, object, object]]] = defaultdict(list)
    for agenda_id, weekday, opens, closes in OpeningRule.objects.values_list(
        "agenda_id", "weekday", "opens_time", "closes_time"
    ):
        rules[agenda_id].append((weekday, opens, closes))
    absences = defaultdict(list)
    for agenda_id, start, end in Absence.objects.values_list(
        "agenda_id", "starts_at", "ends_at"
    ):
        absences[agenda_id].append((start, end))
    zones = {
        pk: ZoneInfo(name) for pk, name in Agenda.objects.values_list("pk", "time_zone")
    }
    by_agenda = defaultdict(list)
    for appointment in Appointment.objects.active().select_related("motive"):
        by_agenda[appointment.agenda_id].append(appointment)
    assert by_agenda

    for agenda_id, appointments in by_agenda.items():
        appointments.sort(key=lambda a: a.starts_at)
        for earlier, later in pairwise(appointments):
            assert earlier.ends_at <= later.starts_at, (earlier, later)
        zone = zones[agenda_id]
        for appointment in appointments:
            assert appointment.ends_at - appointment.starts_at == timedelta(
                minutes=appointment.motive.duration_minutes
            )
            for start, end in absences[agenda_id]:
                assert appointment.ends_at <= start or end <= appointment.starts_at
            if appointment.status != Appointment.Status.BOOKED:
                continue
            local_start = appointment.starts_at.astimezone(zone)
            local_end = appointment.ends_at.astimezone(zone)
            windows = [
                (opens, closes)
                for weekday, opens, closes in rules[agenda_id]
                if weekday == local_start.weekday()
                and opens <= local_start.time()
                and local_end.time() <= closes
                and local_end.date() == local_start.date()
            ]
            assert windows, appointment
            # On the motive's grid: opening edge in UTC + k x duration.
            on_grid = []
            for opens, closes in windows:
                edges = window_edges(
                    window=Window(
                        weekday=local_start.weekday(), opens=opens, closes=closes
                    ),
                    day=local_start.date(),
                    zone=zone,
                )
                offset = appointment.starts_at - edges.start
                on_grid.append(offset % appointment.motive.duration == timedelta(0))
            assert any(on_grid), appointment


def test_active_appointments_never_overlap_and_booked_ones_lie_inside_opening_hours():
    seed(20)

    assert_no_overlap_and_inside_opening_hours()
    now = timezone.now()
    seeded = Appointment.objects.all()
    assert set(seeded.filter(ends_at__lte=now).values_list("status", flat=True)) <= {
        "fulfilled",
        "noshow",
    }
    assert set(seeded.filter(starts_at__gt=now).values_list("status", flat=True)) <= {
        "booked",
        "cancelled",
    }
    assert seeded.filter(
        status="booked", booked_by_kind="patient", booked_by__isnull=False
    ).exists()


def test_patients_book_practices_of_their_own_country():
    seed(20)

    languages = {"FR": "fr", "DE": "de", "IT": "it"}
    rows = Appointment.objects.values_list(
        "agenda__location__country",
        "patient__account__language",
        "patient__managed_by__account__language",
    )
    assert rows
    for country, own_language, holder_language in rows:
        assert (own_language or holder_language) == languages[country]


@pytest.mark.parametrize(
    "instant", [SPRING_FORWARD, FALL_BACK], ids=["spring-forward", "fall-back"]
)
def test_appointments_follow_wall_clock_hours_across_a_dst_change(instant):
    with time_machine.travel(instant, tick=False):
        seed(12)

        assert_no_overlap_and_inside_opening_hours()


@pytest.mark.parametrize("practitioners", [0, 1_000_001])
def test_an_out_of_range_size_is_refused_and_nothing_is_written(practitioners):
    with pytest.raises(CommandError, match="--practitioners must be between"):
        seed(practitioners)

    assert not any(counts().values())


SECTORS = {
    "FR": {"fr_1", "fr_2", "fr_nc"},
    "DE": {"de_gkv", "de_private"},
    "IT": {"it_ssn", "it_private"},
}


def test_practitioners_get_fees_of_their_country_and_places_practical_information():
    seed(20)

    for practitioner in Practitioner.objects.all():
        country = practitioner.agendas.get().location.country
        assert practitioner.fee_sector in SECTORS[country]
        assert practitioner.fees
    for location in Location.objects.all():
        assert len(location.practical_info.splitlines()) >= 3


def test_seeding_indexes_every_agenda_for_search():
    seed(20)

    assert SearchEntry.objects.count() == Agenda.objects.count() == 20
    gp = Practitioner.objects.get(account__email=PRACTITIONER_ACCOUNT.email)
    found = search(SearchQuery(q="generaliste", place="Paris", page_size=100))
    assert gp.pk in {hit.entry.practitioner_id for hit in found.items}


def test_fee_sectors_follow_each_countrys_system():
    sectors = {"FR": Counter(), "DE": Counter(), "IT": Counter()}
    for index in range(3000):
        identity = identify(index)
        sector = describe_practitioner(identity).fee_sector
        sectors[identity.country.code][sector] += 1

    for country, counts in sectors.items():
        assert set(counts) == SECTORS[country], country
    fr, de = sectors["FR"], sectors["DE"]
    assert fr["fr_1"] > fr["fr_2"] > fr["fr_nc"]
    assert de["de_gkv"] > 5 * de["de_private"]


def test_seeded_patients_can_be_found_by_phone_and_date_of_birth():
    from carnet.accounts.selectors import find_patients_by_contact
    from carnet.accounts.staff_patients import birth_date_index
    from carnet.directory.demo.generator import patient_profile

    seed(20)

    holders = Patient.objects.filter(account__isnull=False).exclude(
        account__email__endswith="@carnet.test"
    )
    indexed = holders.exclude(phone_index="")
    assert indexed.count() >= 0.9 * holders.count() > 0
    someone = indexed.select_related("account").first()
    index = int(someone.account.email.split("@")[0].removeprefix("patient"))
    country = patient_profile(index)[1]
    assert someone in find_patients_by_contact(phone=someone.phone, country=country)
    assert someone.birth_date_index == birth_date_index(someone.birth_date)
