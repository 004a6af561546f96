"""The permission matrix's parts: routes, the world they act on, who visits them.

Each area of the workspace lists its routes in carnet/pro/tests/routes_<area>.py
(`ROUTES`, and optionally `EXEMPT` and `extend(world)`); test_permission_matrix.py
calls every route as every role of practice A and of practice B and checks
that exactly the cells ROLE_PERMISSIONS allows succeed.

A World is one practice with something of every kind a staff page shows:
an agenda with opening rules, a motive, an absence, a calendar feed, a
patient with contact data, a future and a past appointment, a clinical note,
a flag, a waiting-list entry, a no-show strike with an excuse, an open
invitation and another member of the team. Its `secrets` are the strings no
refused response may contain.
"""

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from types import ModuleType
from typing import Any

from allauth.mfa.totp.internal.auth import TOTP
from django.utils import timezone

from carnet.accounts.models import StaffMembership
from carnet.accounts.team import (
    invite_member,
)
from carnet.accounts.tests.factories import PatientFactory, UserFactory
from carnet.booking.models import Appointment, Strike
from carnet.booking.policy import send_excuse
from carnet.booking.waitlist import join_waiting_list
from carnet.records.services import add_flag, write_note
from carnet.scheduling.feeds import create_feed
from carnet.scheduling.tests.factories import (
    AbsenceFactory,
    AgendaFactory,
    MotiveFactory,
    OpeningRuleFactory,
)
from carnet.vault.services import blind_index

TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # the root conftest's totp_secret


@dataclass(frozen=True)
class Route:
    """One staff page or endpoint, and the permission it needs at practice A.

    `permission` None: any active member of the practice. `kwargs` and `data`
    are computed from practice A's World; `data` must be valid input, so an
    allowed role succeeds (status below 400). `api`: a JSON endpoint, called
    with a bearer token instead of the session. `path` replaces the URL name
    for routes outside the "pro" namespace (e.g. "/api/v1/...").
    """

    name: str
    permission: str | None
    method: str = "GET"
    kwargs: Callable[["World"], dict[str, Any]] = lambda world: {}
    data: Callable[["World"], dict[str, Any]] | None = None
    query: Callable[["World"], dict[str, Any]] | None = None
    api: bool = False
    path: Callable[["World"], str] | None = None

    def label(self) -> str:
        return f"{self.method} {self.name}"


@dataclass
class World:
    """One practice and one of everything its staff pages show (see the module doc)."""

    tag: str
    practice: Any = None
    agenda: Any = None
    motive: Any = None
    rule: Any = None
    absence: Any = None
    feed: Any = None
    patient: Any = None
    appointment: Any = None
    past_appointment: Any = None
    note: Any = None
    flag: Any = None
    waiting_entry: Any = None
    invitation: Any = None
    member: Any = None
    strike: Any = None
    day: date | None = None
    secrets: list[str] = field(default_factory=list)


def _local(agenda: Any, day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=agenda.zone)


def _enrolled(user: Any) -> Any:
    TOTP.activate(user, TOTP_SECRET)
    return user


def _past_start(agenda: Any, now: datetime) -> datetime:
    """An appointment start that has passed, today when possible (for the day flow)."""
    local_now = now.astimezone(agenda.zone)
    start = local_now.replace(second=0, microsecond=0) - timedelta(minutes=40)
    return start.replace(minute=start.minute - start.minute % 5)


def build_world(tag: str) -> World:
    """Practice `tag` with one of everything (see World); services seal what is sealed."""
    now = timezone.now()
    world = World(tag=tag)
    agenda = AgendaFactory(time_zone="Europe/Paris")
    world.agenda = agenda
    world.practice = agenda.practice
    world.practice.name = f"Cabinet Matrice {tag}"
    world.practice.save(update_fields=["name"])
    rules = [
        OpeningRuleFactory(
            agenda=agenda, weekday=weekday, opens_time=time(0), closes_time=time(23, 55)
        )
        for weekday in range(7)
    ]
    world.rule = rules[0]
    world.motive = MotiveFactory(agenda=agenda, name=f"Consultation {tag}")
    today = now.astimezone(agenda.zone).date()
    world.absence = AbsenceFactory(
        agenda=agenda,
        starts_at=_local(agenda, today + timedelta(days=30), 8),
        ends_at=_local(agenda, today + timedelta(days=31), 8),
    )

    owner = _enrolled(UserFactory(first_name=f"Owner{tag}"))
    StaffMembership.objects.create(
        user=owner, practice=world.practice, role=StaffMembership.Role.PRACTITIONER
    )
    admin = _enrolled(UserFactory(first_name=f"Admin{tag}"))
    StaffMembership.objects.create(
        user=admin, practice=world.practice, role=StaffMembership.Role.PRACTICE_ADMIN
    )
    world.member = StaffMembership.objects.create(
        user=_enrolled(UserFactory(first_name=f"Desk{tag}")),
        practice=world.practice,
        role=StaffMembership.Role.SECRETARY,
    )
    world.feed, _raw = create_feed(actor=admin, agenda_id=agenda.pk, name="Matrix")

    patient = PatientFactory(first_name=f"Zephyrine{tag}", last_name=f"Quenouille{tag}")
    patient.phone = "+33698765432" if tag == "A" else "+33687654321"
    patient.email = f"zephyrine.{tag.lower()}@example.test"
    patient.birth_date = date(1984, 2, 29)
    # As the services do: keyed blind indexes for exact-match lookups.
    patient.phone_index = blind_index(kind="phone", value=patient.phone)
    patient.email_index = blind_index(kind="email", value=patient.email)
    patient.save()
    world.patient = patient

    start = _local(agenda, today + timedelta(days=3), 10)
    world.appointment = Appointment.objects.create(
        agenda=agenda,
        patient=patient,
        motive=world.motive,
        starts_at=start,
        ends_at=start + timedelta(minutes=20),
    )
    world.day = today + timedelta(days=3)
    past = _past_start(agenda, now)
    world.past_appointment = Appointment.objects.create(
        agenda=agenda,
        patient=patient,
        motive=world.motive,
        starts_at=past,
        ends_at=past + timedelta(minutes=20),
    )
    missed = _local(agenda, today - timedelta(days=2), 9)
    missed_appointment = Appointment.objects.create(
        agenda=agenda,
        patient=patient,
        motive=world.motive,
        starts_at=missed,
        ends_at=missed + timedelta(minutes=20),
        status=Appointment.Status.NO_SHOW,
        no_show_at=missed + timedelta(minutes=30),
    )
    strike = Strike.objects.create(
        patient=patient,
        practice=world.practice,
        appointment=missed_appointment,
        expires_at=missed + timedelta(days=180),
    )
    excuse = f"Excuse secrete {tag} tramway en panne"
    world.strike = send_excuse(user=patient.account, strike_id=strike.pk, text=excuse)

    note_text = f"Note clinique secrete {tag} hypertension"
    world.note = write_note(
        actor=owner,
        practice_id=world.practice.pk,
        patient_id=patient.pk,
        text=note_text,
        appointment_id=world.appointment.pk,
    )
    flag_label = f"Allergie secrete {tag} penicilline"
    world.flag = add_flag(
        actor=owner,
        practice_id=world.practice.pk,
        patient_id=patient.pk,
        kind="allergy",
        label=flag_label,
    )
    world.waiting_entry = join_waiting_list(
        user=patient.account,
        patient_id=None,
        agenda_id=agenda.pk,
        motive_id=world.motive.pk,
        earliest_on=today + timedelta(days=1),
        latest_on=today + timedelta(days=20),
    )
    invited = f"recrue.{tag.lower()}@example.test"
    world.invitation, _token = invite_member(
        actor=admin,
        practice_id=world.practice.pk,
        email=invited,
        role=StaffMembership.Role.SECRETARY,
    )
    world.secrets = [
        patient.first_name,
        patient.last_name,
        patient.phone,
        patient.phone.replace("+33", "0"),
        patient.email,
        note_text,
        flag_label,
        excuse,
        invited,
    ]
    return world


def route_modules() -> list[ModuleType]:
    """Every carnet/pro/tests/routes_<area>.py module."""
    from carnet.pro import tests

    return [
        importlib.import_module(f"carnet.pro.tests.{info.name}")
        for info in pkgutil.iter_modules(tests.__path__)
        if info.name.startswith("routes_")
    ]


def all_routes() -> list[Route]:
    return [route for module in route_modules() for route in module.ROUTES]


def exempt_names() -> dict[str, str]:
    exempt: dict[str, str] = {}
    for module in route_modules():
        exempt.update(getattr(module, "EXEMPT", {}))
    return exempt


def extend_world(world: World) -> None:
    """Let each area add what its routes need (routes_<area>.extend(world))."""
    for module in route_modules():
        extend = getattr(module, "extend", None)
        if extend is not None:
            extend(world)
