"""The workspace's front page: one's own practices, their agendas, the areas one's roles open."""

import pytest
from django.urls import reverse

from carnet.accounts.models import StaffMembership
from carnet.directory.tests.factories import PracticeFactory
from carnet.scheduling.tests.factories import AgendaFactory

pytestmark = pytest.mark.django_db


def test_lists_only_the_visitors_practices_and_their_agendas(agenda, staff, signed_in):
    other = AgendaFactory(name="Agenda d'ailleurs")
    other.practice.name = "Cabinet d'ailleurs"
    other.practice.save()
    agenda.name = "Agenda du cabinet"
    agenda.save()
    user = staff(StaffMembership.Role.SECRETARY)

    page = signed_in(user).get(reverse("pro:home"))

    assert page.status_code == 200
    body = page.content.decode()
    assert agenda.practice.name in body
    assert reverse("pro:agenda-day", args=[agenda.pk, page.context["today"]]) in body
    assert "Agenda du cabinet" in body
    assert "Cabinet d'ailleurs" not in body
    assert "Agenda d'ailleurs" not in body


def test_menu_shows_only_areas_the_role_opens(agenda, staff, signed_in):
    secretary = staff(StaffMembership.Role.SECRETARY)
    admin = staff(StaffMembership.Role.PRACTICE_ADMIN)

    for_secretary = signed_in(secretary).get(reverse("pro:home"))
    for_admin = signed_in(admin).get(reverse("pro:home"))

    def keys(response):
        return {
            item.key
            for _practice, menu, _absences in response.context["rows"]
            for item in menu
        }

    assert "team" not in keys(for_secretary)
    assert "settings" not in keys(for_secretary)
    assert "team" in keys(for_admin)
    # The front desk records absences: linked from each agenda.
    absences = reverse("pro:settings-absences", args=[agenda.pk])
    assert absences in for_secretary.content.decode()


def test_a_user_without_practice_is_told_how_to_join(staff, signed_in, agenda):
    user = staff(StaffMembership.Role.SECRETARY, at=PracticeFactory())
    StaffMembership.objects.filter(user=user).update(is_active=False)

    page = signed_in(user).get(reverse("pro:home"))

    assert page.status_code == 200
    assert page.context["rows"] == []
    assert "invitation" in page.content.decode()
