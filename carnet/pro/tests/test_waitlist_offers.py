"""The practice's waiting list shows until when a freed slot is offered to a request."""

from datetime import date

import pytest
from django.urls import reverse

from carnet.accounts.models import StaffMembership
from carnet.booking.services import book_appointment, cancel_appointment
from carnet.booking.waitlist import join_waiting_list
from carnet.notifications import outbox
from carnet.pro.tests.conftest import paris
from carnet.scheduling.tests.factories import MotiveFactory

pytestmark = pytest.mark.django_db


def test_a_live_offer_shows_until_when_it_runs(
    frozen_now, agenda, anne, bruno, staff, signed_in, monkeypatch
):
    monkeypatch.setattr(outbox, "offer_made", lambda *, offer, now: None)
    motive = MotiveFactory(agenda=agenda, name="Consultation")
    slot = paris(2026, 3, 3, 10, 0)
    appointment = book_appointment(
        agenda_id=agenda.pk,
        motive_id=motive.pk,
        patient=anne,
        starts_at=slot,
        booked_by=anne.account,
    )
    join_waiting_list(
        user=bruno.account,
        patient_id=None,
        agenda_id=agenda.pk,
        motive_id=motive.pk,
        earliest_on=date(2026, 3, 2),
        latest_on=date(2026, 3, 20),
    )
    cancel_appointment(user=anne.account, appointment_id=appointment.pk)
    client = signed_in(staff(StaffMembership.Role.SECRETARY, language="en"))

    response = client.get(
        reverse("pro:waiting-list", kwargs={"practice_id": agenda.practice_id})
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "Bruno Garnier" in page
    # Offered at 07:00 in Paris (NOW) for 15 minutes.
    assert "offered until 07:15" in page
