"""Staff reach patient data only with a second factor, only at their practice, and leave a trace."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from carnet.accounts.models import StaffMembership
from carnet.accounts.services import (
    mint_api_token,
)
from carnet.accounts.tests.factories import PatientFactory, UserFactory
from carnet.audit.models import AuditEvent
from carnet.audit.selectors import verify_chain
from carnet.booking.services import book_appointment
from carnet.directory.tests.factories import PracticeFactory
from conftest import login_with_totp

PARIS = ZoneInfo("Europe/Paris")
pytestmark = pytest.mark.django_db
DAY = "2026-03-03"


@pytest.fixture
def booked(frozen_now, motive, patient):
    return book_appointment(
        agenda_id=motive.agenda_id,
        motive_id=motive.pk,
        patient=patient,
        starts_at=datetime(2026, 3, 3, 9, 0, tzinfo=PARIS),
        booked_by=patient.account,
    )


@pytest.fixture
def practitioner(agenda):
    user = UserFactory(email="dr@example.test", first_name="Claire", last_name="Dubois")
    StaffMembership.objects.create(
        user=user, practice=agenda.practice, role=StaffMembership.Role.PRACTITIONER
    )
    return user


def bearer(user) -> Client:
    _row, raw = mint_api_token(user=user)
    return Client(headers={"authorization": f"Bearer {raw}"})


def test_a_practitioner_without_mfa_gets_no_patient_data_through_the_api(
    booked, practitioner, agenda, patient
):
    client = bearer(practitioner)

    day = client.get(f"/api/v1/pro/agendas/{agenda.pk}/appointments", {"day": DAY})
    file = client.get(
        f"/api/v1/pro/practices/{agenda.practice_id}/patients/{patient.pk}"
    )

    for response in (day, file):
        assert response.status_code == 403
        assert response.json()["code"] == "mfa_required"
        assert patient.last_name not in response.content.decode()
    assert AuditEvent.objects.count() == 0


def test_a_practitioner_without_mfa_gets_no_patient_data_through_pages(
    booked, practitioner, agenda, patient
):
    client = Client()
    client.force_login(practitioner)

    response = client.get(f"/pro/agendas/{agenda.pk}/{DAY}/")

    assert response.status_code == 302
    assert response["location"] == "/accounts/2fa/"
    assert patient.last_name not in response.content.decode()
    assert AuditEvent.objects.count() == 0


def test_mfa_set_up_but_not_used_in_this_session_is_not_enough(
    booked, practitioner, agenda, enroll_totp
):
    enroll_totp(practitioner)
    client = Client()
    client.force_login(practitioner)  # a session that never passed the second factor

    assert client.get(f"/pro/agendas/{agenda.pk}/{DAY}/").status_code == 302
    assert AuditEvent.objects.count() == 0


def test_with_totp_the_day_list_shows_patients_and_each_read_is_audited(
    booked, practitioner, agenda, patient, enroll_totp, totp_secret
):
    practitioner.set_password("a-long-password-1")
    practitioner.save()
    enroll_totp(practitioner)
    client = Client()
    login_with_totp(
        client,
        email=practitioner.email,
        password="a-long-password-1",
        secret=totp_secret,
    )

    page = client.get(f"/pro/agendas/{agenda.pk}/{DAY}/")
    api = bearer(practitioner).get(
        f"/api/v1/pro/agendas/{agenda.pk}/appointments", {"day": DAY}
    )

    assert page.status_code == 200
    assert patient.last_name in page.content.decode()
    assert (
        page["Cache-Control"].startswith("no-store")
        or "no-store" in page["Cache-Control"]
    )
    assert api.status_code == 200
    assert [row["patient"] for row in api.json()] == [patient.pk]
    events = list(AuditEvent.objects.order_by("pk"))
    assert [(e.actor_id, e.actor_kind, e.action, e.patient_ref) for e in events] == [
        (practitioner.pk, "staff", "read", f"patient:{patient.pk}"),
        (practitioner.pk, "api", "read", f"patient:{patient.pk}"),
    ]
    assert verify_chain().ok


def test_staff_of_another_practice_see_nothing(booked, agenda, patient, enroll_totp):
    outsider = UserFactory()
    StaffMembership.objects.create(
        user=outsider, practice=PracticeFactory(), role="secretary"
    )
    enroll_totp(outsider)
    client = bearer(outsider)

    day = client.get(f"/api/v1/pro/agendas/{agenda.pk}/appointments", {"day": DAY})
    file = client.get(
        f"/api/v1/pro/practices/{agenda.practice_id}/patients/{patient.pk}"
    )

    assert day.status_code == 404
    assert file.status_code == 404
    assert patient.last_name not in day.content.decode() + file.content.decode()
    assert AuditEvent.objects.count() == 0


def test_opening_a_file_without_appointment_here_needs_a_reason_and_is_flagged(
    frozen_now, practitioner, agenda, enroll_totp
):
    stranger = PatientFactory()
    enroll_totp(practitioner)
    client = bearer(practitioner)
    url = f"/api/v1/pro/practices/{agenda.practice_id}/patients/{stranger.pk}"

    refused = client.get(url)
    opened = client.get(url, {"reason": "Patient inconscient aux urgences"})

    assert refused.status_code == 403
    assert refused.json()["code"] == "break_glass_required"
    assert opened.status_code == 200
    assert opened.json()["break_glass"] is True
    (event,) = AuditEvent.objects.all()
    assert event.flagged is True
    assert event.action == "break_glass"
    assert event.reason == "Patient inconscient aux urgences"

    seen_by_patient = bearer(stranger.account).get("/api/v1/me/access-log").json()
    assert seen_by_patient[0]["flagged"] is True
    assert seen_by_patient[0]["actor"] == "Claire Dubois"
    assert seen_by_patient[0]["patient"] == stranger.pk


def test_a_patient_sees_only_their_own_access_log(
    booked, practitioner, agenda, patient, enroll_totp
):
    enroll_totp(practitioner)
    bearer(practitioner).get(
        f"/api/v1/pro/practices/{agenda.practice_id}/patients/{patient.pk}"
    )
    other = PatientFactory()

    mine = bearer(patient.account).get("/api/v1/me/access-log").json()
    theirs = bearer(other.account).get("/api/v1/me/access-log").json()

    # The practitioner's read, and the patient's own API read of nothing else.
    assert [e["actor"] for e in mine] == ["Claire Dubois"]
    assert theirs == []


def test_every_api_read_of_appointments_is_traced(booked, patient):
    bearer(patient.account).get("/api/v1/me/appointments")

    (event,) = AuditEvent.objects.all()
    assert (event.actor_kind, event.action, event.purpose, event.patient_ref) == (
        "api",
        "read",
        "patient_request",
        f"patient:{patient.pk}",
    )
    assert event.occurred_at <= datetime.now(UTC)
