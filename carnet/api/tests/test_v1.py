import re
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from carnet.accounts.services import (
    mint_api_token,
    revoke_api_token,
)
from carnet.accounts.tests.factories import PatientFactory, RelativeFactory
from carnet.booking.models import Appointment
from carnet.directory.services import reindex_agendas
from carnet.directory.tests.factories import (
    LocationFactory,
    PractitionerRoleFactory,
    SpecialtyFactory,
)
from carnet.scheduling.tests.factories import AgendaFactory, MotiveFactory

PARIS = ZoneInfo("Europe/Paris")
pytestmark = pytest.mark.django_db


@pytest.fixture
def token(patient):
    _row, raw = mint_api_token(user=patient.account)
    return raw


@pytest.fixture
def api(token):
    return Client(headers={"authorization": f"Bearer {token}"})


def book_body(motive, start="2026-03-02T09:00:00+01:00", **extra):
    return {"agenda": motive.agenda_id, "motive": motive.pk, "start": start, **extra}


def test_practitioner_search_has_the_contract_shape(agenda, motive):
    reindex_agendas()

    response = Client().get("/api/v1/practitioners")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    (item,) = body["items"]
    assert set(item) >= {"id", "name", "specialty", "practice", "location", "agendas"}
    assert item["id"] == agenda.practitioner_id
    assert item["specialty"] == "Médecine générale"
    assert item["practice"] == {"id": agenda.practice_id, "name": agenda.practice.name}
    assert item["location"] == {
        "address": "12 rue de Rivoli",
        "city": "Paris",
        "lat": 48.8556,
        "lon": 2.357,
    }
    assert item["agendas"] == [
        {
            "id": agenda.pk,
            "motives": [
                {
                    "id": motive.pk,
                    "name": "Consultation",
                    "duration_minutes": 20,
                    "channel": "in_person",
                }
            ],
        }
    ]


def test_practitioner_search_filters_by_words_specialty_and_distance(agenda):
    versailles = LocationFactory(
        city="Versailles", postcode="78000", latitude=48.8049, longitude=2.1204
    )
    dermato = SpecialtyFactory(
        code="dermatology", name_fr="Dermatologie", name_en="Dermatology"
    )
    other = PractitionerRoleFactory(
        location=versailles,
        practice=versailles.practice,
        practitioner__specialty=dermato,
    )
    AgendaFactory(role=other)  # search lists bookable agendas
    reindex_agendas()
    client = Client()

    def ids(**params):
        response = client.get("/api/v1/practitioners", params)
        assert response.status_code == 200, response.content
        return [i["id"] for i in response.json()["items"]]

    assert ids(q="dermato") == [other.practitioner_id]
    assert ids(q="versailles") == [other.practitioner_id]
    assert ids(specialty="dermatology") == [other.practitioner_id]
    assert ids(near="48.8566,2.3522", radius_km=5) == [agenda.practitioner_id]
    assert ids(near="48.80,2.12", radius_km=5) == [other.practitioner_id]
    assert ids(near="48.8566,2.3522", radius_km=50) == [
        agenda.practitioner_id,
        other.practitioner_id,
    ]
    assert ids(q=agenda.practitioner.last_name)[0] == agenda.practitioner_id


def test_practitioner_search_rejects_a_bad_position_in_the_users_language():
    response = Client().get(
        "/api/v1/practitioners", {"near": "paris"}, headers={"accept-language": "de"}
    )

    assert response.status_code == 422
    assert response["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "invalid_request"
    assert body["errors"][0]["field"] == "near"


def test_availability_lists_slots_in_the_agenda_zone(frozen_now, agenda, motive):
    response = Client().get(
        f"/api/v1/agendas/{agenda.pk}/availability",
        {"motive": motive.pk, "from": "2026-03-02", "days": 1},
    )

    assert response.status_code == 200
    body = response.json()
    assert body["agenda"] == agenda.pk
    assert body["motive"] == motive.pk
    assert body["timezone"] == "Europe/Paris"
    # Now is just past 07:00 in Paris and notice is one hour: 08:00 is too soon.
    assert body["slots"][0] == "2026-03-02T08:20:00+01:00"
    assert body["slots"][-1] == "2026-03-02T17:40:00+01:00"
    assert len(body["slots"]) == 29


@pytest.mark.parametrize(
    ("language", "title"),
    [
        ("fr", "Ce motif de consultation n’existe pas pour cet agenda."),
        ("de", "Dieser Besuchsgrund existiert für diesen Kalender nicht."),
        ("it", "Questo motivo di visita non esiste per questa agenda."),
        ("en", "This visit motive does not exist for this agenda."),
    ],
)
def test_errors_are_problem_documents_in_the_requests_language(agenda, language, title):
    response = Client().get(
        f"/api/v1/agendas/{agenda.pk}/availability",
        {"motive": 999999},
        headers={"accept-language": language},
    )

    assert response.status_code == 404
    assert response["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "urn:carnet:problem:motive_not_found",
        "title": title,
        "status": 404,
        "code": "motive_not_found",
    }


def test_availability_refuses_too_many_days(agenda, motive):
    response = Client().get(
        f"/api/v1/agendas/{agenda.pk}/availability", {"motive": motive.pk, "days": 400}
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "days", "message": "Cette valeur est hors limites."}
    ]


def test_booking_returns_201_with_the_contract_shape(frozen_now, api, motive, patient):
    response = api.post(
        "/api/v1/appointments",
        book_body(motive, reason="toux"),
        content_type="application/json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    appointment = Appointment.objects.get()
    assert body == {
        "id": appointment.pk,
        "status": "booked",
        "start": "2026-03-02T09:00:00+01:00",
        "end": "2026-03-02T09:20:00+01:00",
        "agenda": motive.agenda_id,
        "motive": motive.pk,
        "patient": patient.pk,
    }
    assert appointment.booked_by_kind == Appointment.Actor.API


def test_a_taken_slot_answers_409_with_alternatives(frozen_now, api, motive):
    api.post("/api/v1/appointments", book_body(motive), content_type="application/json")
    _row, other = mint_api_token(user=PatientFactory().account)

    response = Client().post(
        "/api/v1/appointments",
        book_body(motive),
        content_type="application/json",
        headers={"authorization": f"Bearer {other}", "accept-language": "en"},
    )

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "slot_unavailable"
    assert body["title"] == "This time has just been taken. Please choose another one."
    assert len(body["alternatives"]) == 5
    assert "2026-03-02T09:20:00+01:00" in body["alternatives"]
    assert Appointment.objects.count() == 1


def test_same_idempotency_key_twice_books_once(frozen_now, api, motive):
    first = api.post(
        "/api/v1/appointments",
        book_body(motive),
        content_type="application/json",
        headers={"idempotency-key": "abc"},
    )
    second = api.post(
        "/api/v1/appointments",
        book_body(motive),
        content_type="application/json",
        headers={"idempotency-key": "abc"},
    )

    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert Appointment.objects.count() == 1


def test_naive_start_is_refused_clearly(frozen_now, api, motive):
    response = api.post(
        "/api/v1/appointments",
        book_body(motive, start="2026-03-02T09:00:00"),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "start"
    assert Appointment.objects.count() == 0


def test_booking_needs_authentication(frozen_now, motive):
    response = Client().post(
        "/api/v1/appointments", book_body(motive), content_type="application/json"
    )

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_required"
    assert Appointment.objects.count() == 0


def test_a_revoked_token_no_longer_authenticates(frozen_now, patient, motive):
    row, raw = mint_api_token(user=patient.account)
    revoke_api_token(token=row)

    response = Client().post(
        "/api/v1/appointments",
        book_body(motive),
        content_type="application/json",
        headers={"authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 401


def test_session_authentication_requires_csrf(frozen_now, patient, motive):
    client = Client(enforce_csrf_checks=True)
    client.force_login(patient.account)

    refused = client.post(
        "/api/v1/appointments", book_body(motive), content_type="application/json"
    )
    client.get("/accounts/email/")  # a page with a form: sets the CSRF cookie
    accepted = client.post(
        "/api/v1/appointments",
        book_body(motive),
        content_type="application/json",
        headers={"x-csrftoken": client.cookies["csrftoken"].value},
    )

    assert refused.status_code in (401, 403)
    assert accepted.status_code == 201
    assert Appointment.objects.get().booked_by_kind == Appointment.Actor.PATIENT


def test_a_patient_books_for_a_relative_but_not_for_a_stranger(
    frozen_now, api, motive, patient
):
    child = RelativeFactory(managed_by=patient)
    stranger = PatientFactory()

    ok = api.post(
        "/api/v1/appointments",
        book_body(motive, patient=child.pk),
        content_type="application/json",
    )
    refused = api.post(
        "/api/v1/appointments",
        book_body(motive, start="2026-03-02T10:00:00+01:00", patient=stranger.pk),
        content_type="application/json",
    )

    assert ok.status_code == 201
    assert ok.json()["patient"] == child.pk
    assert refused.status_code == 404
    assert Appointment.objects.count() == 1


def test_me_lists_only_my_and_my_relatives_appointments(
    frozen_now, api, motive, patient
):
    child = RelativeFactory(managed_by=patient)
    api.post("/api/v1/appointments", book_body(motive), content_type="application/json")
    api.post(
        "/api/v1/appointments",
        book_body(motive, start="2026-03-02T10:00:00+01:00", patient=child.pk),
        content_type="application/json",
    )
    _row, other = mint_api_token(user=PatientFactory().account)
    Client().post(
        "/api/v1/appointments",
        book_body(motive, start="2026-03-02T11:00:00+01:00"),
        content_type="application/json",
        headers={"authorization": f"Bearer {other}"},
    )

    mine = api.get("/api/v1/me/appointments").json()

    assert Appointment.objects.count() == 3
    assert [a["start"] for a in mine] == [
        "2026-03-02T10:00:00+01:00",
        "2026-03-02T09:00:00+01:00",
    ]


def test_cancel_and_reschedule_through_the_api(frozen_now, api, motive):
    booked = api.post(
        "/api/v1/appointments",
        book_body(motive, start="2026-03-05T09:00:00+01:00"),
        content_type="application/json",
    ).json()

    moved = api.post(
        f"/api/v1/appointments/{booked['id']}/reschedule",
        {"start": "2026-03-06T10:00:00+01:00"},
        content_type="application/json",
    )
    cancelled = api.post(
        f"/api/v1/appointments/{booked['id']}/cancel",
        {"reason": "empêchement"},
        content_type="application/json",
    )
    again = api.post(
        f"/api/v1/appointments/{booked['id']}/cancel",
        {},
        content_type="application/json",
    )

    assert moved.status_code == 200
    assert moved.json()["start"] == "2026-03-06T10:00:00+01:00"
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert again.status_code == 409
    assert again.json()["code"] == "appointment_not_active"


def test_another_patients_appointment_is_not_found(frozen_now, api, motive):
    _row, other = mint_api_token(user=PatientFactory().account)
    theirs = (
        Client()
        .post(
            "/api/v1/appointments",
            book_body(motive, start="2026-03-05T09:00:00+01:00"),
            content_type="application/json",
            headers={"authorization": f"Bearer {other}"},
        )
        .json()
    )

    response = api.post(
        f"/api/v1/appointments/{theirs['id']}/cancel",
        {},
        content_type="application/json",
    )

    assert response.status_code == 404
    assert Appointment.objects.get().status == "booked"


def test_openapi_documentation_is_served_from_our_own_origin(db):
    client = Client()
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    links = re.findall(r'(?:src|href)="([^"]+)"', docs.content.decode())
    assert links
    assert all(link.startswith("/static/") for link in links), links
    schema = client.get("/api/openapi.json").json()
    assert "/api/v1/agendas/{agenda_id}/availability" in schema["paths"]
    assert "/api/v1/appointments" in schema["paths"]


def test_an_agenda_without_opening_rules_answers_in_its_own_zone_with_no_slot(
    frozen_now,
):
    agenda = AgendaFactory(time_zone="Europe/Berlin")
    motive = MotiveFactory(agenda=agenda)
    response = Client().get(
        f"/api/v1/agendas/{agenda.pk}/availability", {"motive": motive.pk}
    )
    assert response.json()["timezone"] == "Europe/Berlin"
    assert response.json()["slots"] == []


@pytest.mark.parametrize(
    "start", ["9999-12-31T23:59:00+00:00", "0001-01-01T00:00:00+00:00"]
)
def test_absurd_dates_get_a_clear_refusal(frozen_now, api, motive, start):
    response = api.post(
        "/api/v1/appointments",
        book_body(motive, start=start),
        content_type="application/json",
    )

    assert response.status_code == 422
    assert response.json()["code"] in {
        "slot_too_far",
        "slot_in_past",
        "invalid_request",
    }
    assert Appointment.objects.count() == 0


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2026-02-01"])
def test_availability_for_far_dates_is_empty_not_an_error(
    frozen_now, agenda, motive, day
):
    response = Client().get(
        f"/api/v1/agendas/{agenda.pk}/availability",
        {"motive": motive.pk, "from": day, "days": 62},
    )

    assert response.status_code == 200
    slots = response.json()["slots"]
    assert (
        slots == [] if day != "2026-02-01" else slots[0] == "2026-03-02T08:20:00+01:00"
    )


def test_a_start_beyond_datetime_limits_is_refused_clearly(frozen_now, api, motive):
    response = api.post(
        "/api/v1/appointments",
        book_body(motive, start="0001-01-01T00:00:11+16:00"),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["code"] == "datetime_out_of_range"
