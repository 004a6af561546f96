"""One appointment for staff: its page, move (page and drop), cancel, day flow, running late."""

import pytest
import time_machine
from django.conf import settings

from carnet.accounts import roles
from carnet.accounts.models import StaffMembership
from carnet.accounts.roles import Permission
from carnet.accounts.selectors import patient_audit_ref
from carnet.audit.models import AuditEvent
from carnet.booking.models import Appointment, AppointmentChange, RunningLate, Strike
from carnet.pro.tests.conftest import paris
from carnet.scheduling.tests.factories import AgendaFactory, MotiveFactory

pytestmark = pytest.mark.django_db
SECRETARY = StaffMembership.Role.SECRETARY
Status = Appointment.Status


def body(response) -> str:
    return response.content.decode()


@pytest.fixture
def desk(staff, signed_in):
    client = signed_in(staff(SECRETARY))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def consult(agenda):
    return MotiveFactory(agenda=agenda, name="Consultation")


@pytest.fixture
def booked(frozen_now, agenda, anne, consult, visit):
    """Anne, Tuesday 2026-03-03 at 09:00 in Paris."""
    return visit(agenda, anne, paris(2026, 3, 3, 9, 0), motive=consult)


def page_of(appointment, action: str = "") -> str:
    return f"/pro/appointments/{appointment.pk}/" + (f"{action}/" if action else "")


# ---------- The appointment page ----------


def test_the_appointment_page_shows_time_patient_motive_status_and_actions(
    booked, desk, anne
):
    response = desk.get(page_of(booked))

    page = body(response)
    assert response.status_code == 200
    assert "Anne Lefebvre" in page
    assert "Consultation" in page
    assert "06 12 34 56 78" in page
    assert "Booked" in page
    assert f'href="/pro/appointments/{booked.pk}/move/"' in page
    assert f'href="/pro/appointments/{booked.pk}/cancel/"' in page
    assert 'value="noshow"' not in page  # not started yet
    assert AuditEvent.objects.filter(
        patient_ref=patient_audit_ref(anne.pk), resource=f"appointment:{booked.pk}"
    ).exists()


def test_outsiders_and_missing_appointments_get_the_same_404(
    booked, other_practice_admin, signed_in
):
    client = signed_in(other_practice_admin)

    for url in (page_of(booked), page_of(booked, "move"), page_of(booked, "cancel")):
        response = client.get(url)
        assert response.status_code == 404
        assert "Lefebvre" not in body(response)
    assert client.get("/pro/appointments/999999/").status_code == 404
    posted = client.post(page_of(booked, "cancel"), {"reason": "x"})
    assert posted.status_code == 404
    booked.refresh_from_db()
    assert booked.status == Status.BOOKED


def test_a_role_without_the_right_gets_403_and_nothing_changes(
    booked, staff, signed_in, monkeypatch
):
    client = signed_in(staff(SECRETARY))
    monkeypatch.setitem(
        roles.ROLE_PERMISSIONS, SECRETARY, frozenset({Permission.VIEW_AGENDA})
    )

    assert client.get(page_of(booked)).status_code == 200  # may look
    for action, data in (
        ("move", {"date": "2026-03-03", "time": "10:00"}),
        ("cancel", {"reason": "x"}),
        ("status", {"status": "arrived"}),
    ):
        response = client.post(page_of(booked, action), data)
        assert response.status_code == 403, action
        assert "Lefebvre" not in body(response)
    booked.refresh_from_db()
    assert booked.status == Status.BOOKED
    assert booked.starts_at == paris(2026, 3, 3, 9, 0)


# ---------- Move ----------


def test_the_move_page_moves_and_tells_the_patient(booked, desk):
    form = desk.get(page_of(booked, "move"))
    assert 'value="2026-03-03"' in body(form)
    assert 'value="09:00"' in body(form)
    assert 'name="notify" id="id_notify" checked' in body(form)

    response = desk.post(
        page_of(booked, "move"), {"date": "2026-03-04", "time": "11:20", "notify": "on"}
    )

    assert response.status_code == 303
    booked.refresh_from_db()
    assert booked.starts_at == paris(2026, 3, 4, 11, 20)
    change = AppointmentChange.objects.get(appointment=booked)
    assert change.kind == "moved"
    assert change.notify_patient
    assert change.previous_starts_at == paris(2026, 3, 3, 9, 0)
    detail = body(desk.get(response["Location"]))
    assert "Moved on" in detail
    assert "patient told" in detail


def test_a_move_can_leave_the_patient_untold(booked, desk):
    desk.post(page_of(booked, "move"), {"date": "2026-03-04", "time": "11:20"})

    assert not AppointmentChange.objects.get(appointment=booked).notify_patient


def test_a_move_onto_a_taken_time_is_refused_on_the_form(
    booked, agenda, bruno, consult, visit, desk
):
    visit(agenda, bruno, paris(2026, 3, 4, 11, 0), motive=consult)

    response = desk.post(
        page_of(booked, "move"), {"date": "2026-03-04", "time": "11:00", "notify": "on"}
    )

    assert response.status_code == 200
    assert 'role="alert"' in body(response)
    assert "This time has just been taken" in body(response)
    booked.refresh_from_db()
    assert booked.starts_at == paris(2026, 3, 3, 9, 0)
    assert not AppointmentChange.objects.exists()


def test_bad_move_input_is_explained(booked, desk):
    response = desk.post(page_of(booked, "move"), {"date": "tomorrow", "time": "25:00"})

    assert response.status_code == 200
    assert body(response).count('aria-invalid="true"') == 2
    booked.refresh_from_db()
    assert booked.starts_at == paris(2026, 3, 3, 9, 0)


def test_a_drop_on_the_grid_moves_and_comes_back_to_the_agenda(booked, agenda, desk):
    back = f"/pro/practices/{agenda.practice_id}/agenda/?date=2026-03-03"

    response = desk.post(
        page_of(booked, "move"),
        {
            "starts_at": "2026-03-03T13:40:00Z",
            "agenda": str(agenda.pk),
            "notify": "on",
            "next": back,
        },
    )

    assert response.status_code == 303
    assert response["Location"] == back
    booked.refresh_from_db()
    assert booked.starts_at == paris(2026, 3, 3, 14, 40)
    assert AppointmentChange.objects.get(appointment=booked).notify_patient
    assert "Appointment moved to 14:40" in body(desk.get(back))


def test_a_refused_drop_says_why_in_an_alert(booked, agenda, desk):
    other = AgendaFactory(practice=agenda.practice, location=agenda.location)
    back = f"/pro/practices/{agenda.practice_id}/agenda/?date=2026-03-03"

    outside = desk.post(
        page_of(booked, "move"),
        {"starts_at": "2026-03-03T19:00:00Z", "agenda": str(agenda.pk), "next": back},
        follow=True,
    )
    elsewhere = desk.post(
        page_of(booked, "move"),
        {"starts_at": "2026-03-03T10:00:00Z", "agenda": str(other.pk), "next": back},
        follow=True,
    )
    offsite = desk.post(
        page_of(booked, "move"),
        {"starts_at": "nonsense", "next": "https://evil.example/"},
    )

    assert (
        'role="alert">The practitioner does not offer this visit at this time.'
        in body(outside)
    )
    assert "only be moved within its own agenda" in body(elsewhere)
    assert offsite["Location"].startswith("/pro/practices/")
    booked.refresh_from_db()
    assert booked.starts_at == paris(2026, 3, 3, 9, 0)


# ---------- Cancel ----------


def test_cancelling_needs_a_reason(booked, desk):
    response = desk.post(page_of(booked, "cancel"), {"reason": "   ", "notify": "on"})

    assert response.status_code == 200
    assert 'aria-invalid="true"' in body(response) or 'role="alert"' in body(response)
    booked.refresh_from_db()
    assert booked.status == Status.BOOKED


def test_cancelling_with_a_reason_tells_the_patient(booked, agenda, desk):
    response = desk.post(
        page_of(booked, "cancel"), {"reason": "Praticien malade", "notify": "on"}
    )

    assert response.status_code == 303
    booked.refresh_from_db()
    assert booked.status == Status.CANCELLED
    assert booked.cancellation_reason == "Praticien malade"
    assert AppointmentChange.objects.get(appointment=booked).notify_patient
    agenda_page = body(desk.get(response["Location"]))
    assert "1 cancelled appointment" in agenda_page
    assert "Praticien malade" in agenda_page


def test_a_cancel_can_leave_the_patient_untold(booked, desk):
    desk.post(page_of(booked, "cancel"), {"reason": "Doublon"})

    assert not AppointmentChange.objects.get(appointment=booked).notify_patient


# ---------- Day flow ----------


def test_the_day_flow_goes_arrived_in_consultation_seen(booked, desk):
    with time_machine.travel(paris(2026, 3, 3, 8, 55), tick=True):
        for status in ("arrived", "in_consultation", "fulfilled"):
            response = desk.post(page_of(booked, "status"), {"status": status})
            assert response.status_code == 303
            booked.refresh_from_db()
            assert booked.status == status
        page = body(desk.get(page_of(booked)))
    assert "Seen" in page
    assert "Arrived at 08:55" in page


def test_a_no_show_counts_a_strike_and_can_be_undone_the_same_day(booked, desk):
    with time_machine.travel(paris(2026, 3, 3, 9, 40), tick=True):
        response = desk.post(
            page_of(booked, "status"), {"status": "noshow", "next": "/pro/"}
        )
        assert response.status_code == 303
        assert response["Location"] == "/pro/"
        booked.refresh_from_db()
        assert booked.status == Status.NO_SHOW
        assert (
            Strike.objects.filter(appointment=booked, patient=booked.patient).count()
            == 1
        )
        assert 'value="booked"' in body(desk.get(page_of(booked)))  # the undo button

        desk.post(page_of(booked, "status"), {"status": "booked"})
    booked.refresh_from_db()
    assert booked.status == Status.BOOKED
    assert not Strike.objects.filter(appointment=booked).exists()


def test_a_no_show_before_the_start_is_refused_with_a_message(booked, desk):
    response = desk.post(page_of(booked, "status"), {"status": "noshow"}, follow=True)

    assert 'role="alert"' in body(response)
    booked.refresh_from_db()
    assert booked.status == Status.BOOKED
    assert not Strike.objects.exists()


def test_an_unknown_status_changes_nothing(booked, desk):
    response = desk.post(
        page_of(booked, "status"), {"status": "teleported"}, follow=True
    )

    assert 'role="alert"' in body(response)
    booked.refresh_from_db()
    assert booked.status == Status.BOOKED


def test_status_changes_need_post(booked, desk):
    assert desk.get(page_of(booked, "status")).status_code == 405


# ---------- Running late ----------


def test_running_late_is_recorded_with_the_patients_still_expected(
    agenda, anne, bruno, consult, visit, desk
):
    with time_machine.travel(paris(2026, 3, 3, 10, 0), tick=True):
        visit(agenda, anne, paris(2026, 3, 3, 11, 0), motive=consult)
        visit(agenda, bruno, paris(2026, 3, 3, 15, 0), motive=consult)
        visit(agenda, bruno, paris(2026, 3, 3, 9, 0), motive=consult)  # over already
        url = f"/pro/running-late/{agenda.pk}/"

        bad = desk.post(url, {"minutes": "0"})
        assert bad.status_code == 200
        assert 'aria-invalid="true"' in body(bad)
        assert not RunningLate.objects.exists()

        response = desk.post(url, {"minutes": "20"}, follow=True)

    late = RunningLate.objects.get()
    assert late.minutes == 20
    assert late.appointments.count() == 2
    assert (
        "Recorded: running 20 minutes late. Patients still expected today: 2."
        in body(response)
    )
    assert "2 patients to tell" in body(response)


def test_running_late_for_another_practice_is_not_found(
    agenda, other_practice_admin, signed_in
):
    response = signed_in(other_practice_admin).post(
        f"/pro/running-late/{agenda.pk}/", {"minutes": "10"}
    )

    assert response.status_code == 404
    assert not RunningLate.objects.exists()


def test_history_times_are_in_the_agendas_zone(booked, desk):
    booked.changes.create(
        kind="moved", previous_starts_at=paris(2026, 3, 2, 23, 30), notify_patient=False
    )

    page = body(desk.get(page_of(booked)))

    assert "23:30" in page
    assert "patient not told" in page
