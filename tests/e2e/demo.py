"""The small world the browser tests book in, and the patient journey they all walk.

`build_demo()` creates, through the project's factories and services, a few practices
in Paris, Lyon and München with practitioners of several specialties, agendas open
every weekday and their visit motives (one open to new patients, one for known
patients only, one by video), then builds the search index and the next-availability
index. Dates are relative to now: a live browser cannot run on a frozen clock.

`walk_patient_journey()` drives one Playwright page through every page of the patient
journey (search, results, practitioner, week picker, hold, log in, sign up, confirm,
the patient area, a 404) and calls `on_page(page, label)` at each step: the privacy
crawl and the accessibility tests share it, so they cover the same pages.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from allauth.account.models import EmailAddress
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from carnet.accounts.models import Patient, User
from carnet.accounts.services import (
    add_relative,
    create_own_patient,
)
from carnet.accounts.tests.factories import UserFactory
from carnet.booking import nextslots
from carnet.booking.models import Appointment
from carnet.booking.selectors import list_free_slots
from carnet.booking.services import book_appointment
from carnet.directory import services as directory_services
from carnet.directory.models import Practitioner, Specialty
from carnet.directory.tests.factories import (
    LocationFactory,
    PracticeFactory,
    PractitionerFactory,
    PractitionerRoleFactory,
    SpecialtyFactory,
)
from carnet.scheduling.models import Agenda, VisitMotive
from carnet.scheduling.tests.factories import (
    AgendaFactory,
    MotiveFactory,
    OpeningRuleFactory,
)

PASSWORD = "Carnet-e2e-2026!"
# Shown slots are at least this far ahead, and may be cancelled or moved up to the
# cut-off: whatever slot a journey picks can still be cancelled in the same test.
NOTICE_MINUTES = 4 * 60
CUTOFF_HOURS = 2
# Slots and the week picker move with the clock; tests wait for them, up to this.
TIMEOUT_MS = 15_000

SPECIALTIES = {
    "paediatrics": {
        "name_en": "Paediatrics",
        "name_fr": "Pédiatrie",
        "name_de": "Kinder- und Jugendmedizin",
        "name_it": "Pediatria",
        "keywords": "pédiatre, Kinderarzt, pediatra, enfant",
    },
    "general-practice": {
        "name_en": "General practice",
        "name_fr": "Médecine générale",
        "name_de": "Allgemeinmedizin",
        "name_it": "Medicina generale",
        "keywords": "médecin généraliste, généraliste, Hausarzt, medico di base",
    },
    "dermatology": {
        "name_en": "Dermatology",
        "name_fr": "Dermatologie",
        "name_de": "Dermatologie",
        "name_it": "Dermatologia",
        "keywords": "dermatologue, Hautarzt, dermatologo, peau",
    },
}

# (key, city, practice, address, postcode, lat, lon, country, zone, specialty,
#  title, first, last, languages, fee sector, fees, motive names (new, known, video))
FR_MOTIVES = ("Première consultation", "Consultation de suivi", "Téléconsultation")
DE_MOTIVES = ("Sprechstunde", "Kontrolltermin", "Videosprechstunde")
PLACES = [
    (
        "paris_paediatrician",
        "Paris",
        "Cabinet de pédiatrie des Batignolles",
        "24 rue des Dames",
        "75017",
        48.8837,
        2.3226,
        "FR",
        "Europe/Paris",
        "paediatrics",
        "Dr",
        "Claire",
        "Lefèvre",
        ["fr", "en"],
        "fr_1",
        "Consultation 30 €",
        ("Consultation pédiatrique", "Consultation de suivi", "Téléconsultation"),
    ),
    (
        "paris_gp",
        "Paris",
        "Centre médical République",
        "8 boulevard du Temple",
        "75011",
        48.8650,
        2.3650,
        "FR",
        "Europe/Paris",
        "general-practice",
        "Dr",
        "Marc",
        "Dubois",
        ["fr", "ar"],
        "fr_1",
        "Consultation 30 €",
        FR_MOTIVES,
    ),
    (
        "paris_dermatologist",
        "Paris",
        "Cabinet de dermatologie Saint-Paul",
        "12 rue de Rivoli",
        "75004",
        48.8556,
        2.3570,
        "FR",
        "Europe/Paris",
        "dermatology",
        "Dr",
        "Sophie",
        "Garnier",
        ["fr", "it"],
        "fr_2",
        "Consultation 60 €",
        FR_MOTIVES,
    ),
    (
        "lyon_paediatrician",
        "Lyon",
        "Pédiatres de la Croix-Rousse",
        "3 place de la Croix-Rousse",
        "69004",
        45.7745,
        4.8318,
        "FR",
        "Europe/Paris",
        "paediatrics",
        "Dr",
        "Julie",
        "Fontaine",
        ["fr"],
        "fr_1",
        "Consultation 30 €",
        ("Consultation pédiatrique", "Consultation de suivi", "Téléconsultation"),
    ),
    (
        "lyon_gp",
        "Lyon",
        "Cabinet médical Bellecour",
        "15 rue de la Charité",
        "69002",
        45.7560,
        4.8320,
        "FR",
        "Europe/Paris",
        "general-practice",
        "Dr",
        "Antoine",
        "Morel",
        ["fr", "en"],
        "fr_nc",
        "Consultation 50 €",
        FR_MOTIVES,
    ),
    (
        "munich_gp",
        "München",
        "Hausarztpraxis am Marienplatz",
        "Rosenstraße 6",
        "80331",
        48.1366,
        11.5748,
        "DE",
        "Europe/Berlin",
        "general-practice",
        "Dr.",
        "Thomas",
        "Huber",
        ["de", "en"],
        "de_gkv",
        "",
        DE_MOTIVES,
    ),
    (
        "munich_dermatologist",
        "München",
        "Hautarztpraxis Schwabing",
        "Leopoldstraße 40",
        "80802",
        48.1600,
        11.5860,
        "DE",
        "Europe/Berlin",
        "dermatology",
        "Dr.",
        "Anna",
        "Schmidt",
        ["de"],
        "de_private",
        "Privatpatienten",
        DE_MOTIVES,
    ),
]


BIOS = {
    "paris_paediatrician": (
        "Pédiatre aux Batignolles depuis 2009 : suivi du nourrisson et de l'enfant, "
        "vaccinations, certificats. Consultations en français et en anglais."
    ),
    "munich_gp": "Hausarzt in der Altstadt: Vorsorge, Impfungen, Hausbesuche.",
}


@dataclass(frozen=True)
class Place:
    """One practitioner at one practice: the agenda and its three motives."""

    practitioner: Practitioner
    agenda: Agenda
    new: VisitMotive
    known: VisitMotive
    video: VisitMotive


@dataclass
class Demo:
    """What `build_demo` created; `places` by key (see PLACES), plus the closed one."""

    places: dict[str, Place]
    # A Paris paediatrician who takes only known patients: "nothing bookable online".
    closed: Place

    def __getitem__(self, key: str) -> Place:
        return self.places[key]


def _specialty(code: str) -> Specialty:
    return SpecialtyFactory(code=code, **SPECIALTIES[code])


def _place(row: tuple, *, open_to_new: bool = True) -> Place:
    (
        key,
        city,
        practice_name,
        address,
        postcode,
        lat,
        lon,
        country,
        zone,
        specialty,
        title,
        first,
        last,
        languages,
        sector,
        fees,
        motive_names,
    ) = row
    practice = PracticeFactory(
        name=practice_name,
        country=country,
        phone="+33 1 42 00 00 00" if country == "FR" else "+49 89 1234567",
    )
    location = LocationFactory(
        practice=practice,
        address=address,
        postcode=postcode,
        city=city,
        country=country,
        latitude=lat,
        longitude=lon,
        practical_info="2e étage, code 4521. Métro ligne 2."
        if country == "FR"
        else "1. Stock, Aufzug vorhanden. U-Bahn Marienplatz.",
        step_free=country == "DE",
    )
    practitioner = PractitionerFactory(
        title=title,
        first_name=first,
        last_name=last,
        specialty=_specialty(specialty),
        languages=languages,
        fee_sector=sector,
        fees=fees,
        identifier_system=(
            Practitioner.IdentifierSystem.RPPS
            if country == "FR"
            else Practitioner.IdentifierSystem.LANR
        ),
        bio=BIOS.get(key, ""),
    )
    role = PractitionerRoleFactory(
        practitioner=practitioner, location=location, practice=practice
    )
    agenda = AgendaFactory(role=role, time_zone=zone)
    for weekday in range(5):  # Monday to Friday
        OpeningRuleFactory(
            agenda=agenda, weekday=weekday, opens_time=time(8), closes_time=time(12)
        )
        OpeningRuleFactory(
            agenda=agenda, weekday=weekday, opens_time=time(14), closes_time=time(19)
        )
    rules = {"cancellation_cutoff_hours": CUTOFF_HOURS, "horizon_days": 60}
    new = MotiveFactory(
        agenda=agenda,
        name=motive_names[0],
        duration_minutes=20,
        min_notice_minutes=NOTICE_MINUTES,
        open_to_new_patients=open_to_new,
        **rules,
    )
    known = MotiveFactory(
        agenda=agenda,
        name=motive_names[1],
        duration_minutes=15,
        min_notice_minutes=NOTICE_MINUTES,
        open_to_new_patients=False,
        **rules,
    )
    # Video needs a day's notice: the in-person motive offers the earliest slots,
    # so search results show it (next_slots picks the motive with the earliest one).
    video = MotiveFactory(
        agenda=agenda,
        name=motive_names[2],
        duration_minutes=15,
        channel=VisitMotive.Channel.VIDEO,
        min_notice_minutes=24 * 60,
        open_to_new_patients=open_to_new,
        **rules,
    )
    return Place(practitioner, agenda, new, known, video)


def build_demo() -> Demo:
    """Create the demo practices, index them for search and compute next slots."""
    places = {row[0]: _place(row) for row in PLACES}
    closed_row = (
        "paris_closed",
        "Paris",
        "Cabinet pédiatrique Monceau",
        "40 rue de Lévis",
        "75017",
        48.8830,
        2.3090,
        "FR",
        "Europe/Paris",
        "paediatrics",
        "Dr",
        "Paul",
        "Bernard",
        ["fr"],
        "fr_2",
        "",
        ("Consultation de suivi", "Suivi", "Téléconsultation de suivi"),
    )
    closed = _place(closed_row, open_to_new=False)
    directory_services.reindex_agendas()
    nextslots.refresh_all()
    return Demo(places=places, closed=closed)


def make_patient_user(
    *,
    email: str,
    first_name: str = "Camille",
    last_name: str = "Martin",
    language: str = "fr",
    birth_date: date | None = date(1988, 5, 17),
    phone: str = "06 12 34 56 78",
    country: str = "FR",
    with_relative: bool = False,
) -> User:
    """A user who can log in (verified e-mail, PASSWORD) with their own patient profile."""
    user = UserFactory(
        email=email,
        first_name=first_name,
        last_name=last_name,
        language=language,
        password=PASSWORD,
    )
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    own = create_own_patient(
        user=user,
        first_name=first_name,
        last_name=last_name,
        birth_date=birth_date,
        phone=phone,
        country=country,
    )
    if with_relative:
        add_relative(
            holder=own,
            first_name="Léo",
            last_name=last_name,
            relationship=Patient.Relationship.CHILD,
            birth_date=date(2019, 9, 3),
        )
    return user


def free_slots(motive: VisitMotive, *, days: int = 14) -> list[datetime]:
    """The motive's free slots (UTC) over the next `days` days, as the service sees them."""
    now = timezone.now()
    return list_free_slots(
        motive=motive,
        first_day=now.astimezone(motive.agenda.zone).date(),
        days=days,
        now=now,
    )


def book(
    user: User, motive: VisitMotive, starts_at: datetime, reason: str = ""
) -> Appointment:
    """Book `starts_at` for the user's own profile through the booking service."""
    return book_appointment(
        agenda_id=motive.agenda_id,
        motive_id=motive.pk,
        patient=Patient.objects.get(account=user),
        starts_at=starts_at,
        booked_by=user,
        reason=reason,
    )


def wall_clock(instant: datetime, zone: str) -> datetime:
    """The wall-clock time of a UTC instant in an IANA zone."""
    return instant.astimezone(ZoneInfo(zone))


def parse_slot(value: str) -> datetime:
    """A slot button's value (an ISO instant) as an aware UTC datetime."""
    return datetime.fromisoformat(value).astimezone(UTC)


# ---------------------------------------------------------------------------
# The journey every page-level test walks.
# ---------------------------------------------------------------------------

OnPage = Callable[[Any, str], None]

# Paths of the patient area, each with the arguments it needs.
ME_PAGES = [
    ("web:me", ()),
    ("web:me-appointment", ("appointment",)),
    ("web:me-cancel", ("appointment",)),
    ("web:me-reschedule", ("appointment",)),
    ("web:me-profile", ()),
    ("web:me-relatives", ()),
    ("web:me-relative", ("relative",)),
    ("web:me-access-log", ()),
    ("web:me-export", ()),
    ("web:me-delete", ()),
    ("web:me-notifications", ()),
    ("web:me-security", ()),
]


def goto(page: Any, path: str, *, status: int = 200) -> None:
    """Open `path` (until its load event); the response must have `status`."""
    response = page.goto(path)
    assert response is not None, path
    assert response.status == status, (path, response.status)


def navigate(page: Any, action: Callable[[], Any], *, status: int = 200) -> None:
    """Run `action` (a click, a key press) and wait for the page it leads to.

    After redirects, the page reached must answer `status`.
    """
    with page.expect_navigation() as navigation:
        action()
    response = navigation.value
    assert response is not None, page.url
    assert response.status == status, (page.url, response.status)
    page.wait_for_load_state("load")


def htmx_swap(page: Any, action: Callable[[], Any], *, path: str) -> None:
    """Run `action` and wait until htmx has fetched `path` and settled the swap."""
    # The flag is an attribute that a selector waits for: wait_for_function would
    # evaluate a string in the page, which the CSP (no 'unsafe-eval') may refuse.
    page.evaluate(
        """() => {
          delete document.documentElement.dataset.carnetSettled;
          document.addEventListener(
            "htmx:afterSettle",
            () => { document.documentElement.dataset.carnetSettled = "1"; },
            {once: true}
          );
        }"""
    )
    with page.expect_response(lambda r: urlsplit(r.url).path == path):
        action()
    try:
        page.wait_for_selector(
            "html[data-carnet-settled]", state="attached", timeout=TIMEOUT_MS
        )
    except PlaywrightTimeoutError as exc:
        raise AssertionError(f"htmx did not swap {path} in on {page.url}") from exc


def search(page: Any, *, q: str, place: str) -> None:
    """Type a search in the page's search form and wait for htmx to show the results."""
    page.fill("input[name=q]", q)
    page.fill("input[name=place]", place)
    htmx_swap(
        page,
        page.locator("form[role=search] button[type=submit]").first.click,
        path="/search/",
    )
    page.wait_for_selector("#results h2", timeout=TIMEOUT_MS)


def log_in(page: Any, *, email: str, password: str = PASSWORD) -> None:
    """Fill allauth's log-in form on the current page and submit it."""
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    navigate(
        page, page.locator("form[action*='/accounts/login/'] [type=submit]").first.click
    )


def _me_args(appointment: Appointment, relative: Patient | None) -> dict[str, int]:
    args = {"appointment": appointment.pk}
    if relative is not None:
        args["relative"] = relative.pk
    return args


def walk_patient_journey(
    page: Any, *, demo: Demo, user: User, on_page: OnPage
) -> list[str]:
    """Walk every page of the patient journey on `page`; return the URLs visited.

    `page` belongs to a context whose base_url is the live server. The user must
    have been made by `make_patient_user(with_relative=True)`. Steps: home; a
    search for "cancer du sein"; a normal search; a filter changed (htmx); the
    practitioner page, a motive chosen, the next week (htmx); a slot held; the
    log-in and sign-up pages; log in; confirm for "me"; the confirmation; a time
    taken meanwhile; a hold that is gone; every page of the patient area; a page
    that does not exist.
    """
    visited: list[str] = []

    def step(label: str) -> None:
        visited.append(page.url)
        on_page(page, label)

    goto(page, "/")
    step("home")

    search(page, q="cancer du sein", place="Paris")
    step("search: cancer du sein")

    search(page, q="pediatre", place="Paris")
    step("search results")

    # A filter changed: htmx swaps the results in place.
    htmx_swap(
        page,
        lambda: page.select_option("select[name=sort]", "earliest"),
        path="/search/",
    )
    assert "sort=earliest" in page.url  # hx-push-url
    step("search results, filter changed (htmx)")

    # The practitioner page, from the result's link.
    paediatrician = demo["paris_paediatrician"]
    practitioner_path = reverse(
        "web:practitioner", args=[paediatrician.practitioner.pk]
    )
    navigate(page, page.locator(f"#results a[href^='{practitioner_path}']").first.click)
    step("practitioner page")

    motive = paediatrician.new
    navigate(page, page.locator(f"main a[href*='motive={motive.pk}']").first.click)
    # (This week may have no free time left: on a Friday evening, a weekend.)
    page.wait_for_selector("#week-picker", timeout=TIMEOUT_MS)
    step("practitioner page, motive chosen (week picker)")

    title = page.locator("#week-picker-title").inner_text()
    # The "next week" link (htmx): the last of the picker's navigation links.
    htmx_swap(
        page,
        page.locator("#week-picker a[hx-get*='week=']").last.click,
        path=practitioner_path,
    )
    assert page.locator("#week-picker-title").inner_text() != title
    page.wait_for_selector("#week-picker button[name=start]", timeout=TIMEOUT_MS)
    step("week picker, next week (htmx)")

    # Hold a slot of that week.
    navigate(page, page.locator("#week-picker button[name=start]").first.click)
    step("hold page, logged out")
    hold_url = page.url

    goto(page, f"/accounts/signup/?next={urlsplit(hold_url).path}")
    step("sign-up page")

    goto(page, hold_url)
    navigate(page, page.locator("main a[href*='/accounts/login/']").first.click)
    step("log-in page")

    log_in(page, email=user.email)
    step("hold page, logged in")

    navigate(
        page, page.locator("main form[method=post] button[type=submit]").last.click
    )
    step("confirmation page")
    appointment = Appointment.objects.filter(patient__account=user).latest("pk")

    # A page left open while the time was booked: choosing it says it was taken
    # and offers the nearest free times (the button is pointed at that time, as
    # it was when the page was drawn).
    week = wall_clock(appointment.starts_at, paediatrician.agenda.time_zone).date()
    goto(page, f"{practitioner_path}?known=0&motive={motive.pk}&week={week}")
    slot = page.locator("#week-picker button[name=start]").first
    slot.evaluate(
        "(button, value) => { button.value = value; }",
        appointment.starts_at.isoformat(),
    )
    navigate(page, slot.click, status=409)
    step("slot taken meanwhile")

    # A hold that is no longer there (expired and gone, or someone else's).
    goto(page, "/book/hold/00000000-0000-4000-8000-000000000000/", status=410)
    step("hold not found")

    relative = Patient.objects.filter(managed_by__account=user).first()
    args = _me_args(appointment, relative)
    for name, needs in ME_PAGES:
        if any(arg not in args for arg in needs):
            continue
        path = reverse(name, args=[args[arg] for arg in needs])
        goto(page, path)
        step(f"patient area: {name}")

    goto(page, "/this-page-does-not-exist/", status=404)
    step("404 page")
    return visited
