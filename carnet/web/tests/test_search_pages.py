"""Home, search results and the practitioner page through Django's test client."""

import re
from datetime import time

import pytest
from django.urls import reverse

from carnet.booking.nextslots import refresh_agenda
from carnet.directory.services import reindex_agendas
from carnet.directory.tests.factories import SpecialtyFactory
from carnet.scheduling.tests.factories import MotiveFactory, OpeningRuleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pediatrician(agenda, motive, frozen_now):
    """The conftest agenda, made a paediatrician's, indexed for search."""
    practitioner = agenda.practitioner
    practitioner.specialty = SpecialtyFactory(
        code="pediatrics",
        name_fr="Pédiatre",
        name_en="Paediatrics",
        name_de="Kinderheilkunde",
        name_it="Pediatria",
    )
    practitioner.save()
    reindex_agendas(agenda_ids=[agenda.pk])
    refresh_agenda(agenda_id=agenda.pk)
    return practitioner


def test_home_has_the_search_form(client):
    page = client.get("/").content.decode()
    assert 'role="search"' in page
    assert 'name="q"' in page
    assert 'name="place"' in page


def test_results_show_next_free_slots_inline(client, pediatrician, motive):
    response = client.get(reverse("web:search"), {"q": "pediatre", "place": "Paris"})
    page = response.content.decode()

    assert response.status_code == 200
    assert pediatrician.last_name in page
    # The earliest bookable time (60 min notice from Monday 07:00:0x Paris) as a slot button.
    assert 'value="2026-03-02T08:20:00+01:00"' in page
    assert reverse("web:book-start", args=[motive.agenda_id, motive.pk]) in page


def test_a_practitioner_with_nothing_bookable_says_so(client, pediatrician, motive):
    motive.open_to_new_patients = False
    motive.save()
    refresh_agenda(agenda_id=motive.agenda_id)

    page = client.get(
        reverse("web:search"), {"q": "pédiatre"}, headers={"accept-language": "en"}
    ).content.decode()

    assert pediatrician.last_name in page
    assert 'name="start"' not in page
    assert "No time can be booked online" in page


def test_htmx_gets_only_the_results(client, pediatrician):
    response = client.get(
        reverse("web:search"), {"q": "pediatre"}, headers={"HX-Request": "true"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page
    assert 'id="results"' in page


@pytest.mark.parametrize(
    "params",
    [
        {"q": "x" * 500},
        {"q": "pediatre", "lat": "abc", "lon": "2"},
        {"q": "pediatre", "lat": "91", "lon": "2"},
        {"q": "pediatre", "sort": "cheapest"},
        {"q": "pediatre", "within": "-3"},
        {"q": "pediatre", "page": "0"},
        {"q": "\x00"},
    ],
)
def test_bad_search_input_gets_a_clear_message_not_a_crash(client, params):
    response = client.get(reverse("web:search"), params)
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()


def test_the_practitioner_page_lists_motives_for_new_or_known_patients(
    client, pediatrician, agenda, motive
):
    follow_up = MotiveFactory(agenda=agenda, name="Suivi", open_to_new_patients=False)
    url = reverse("web:practitioner", args=[pediatrician.pk])

    new = client.get(url, {"known": "0"}).content.decode()
    known = client.get(url, {"known": "1"}).content.decode()

    assert f"motive={motive.pk}" in new
    assert f"motive={follow_up.pk}" not in new
    assert f"motive={follow_up.pk}" in known


def test_the_week_picker_shows_a_week_and_pages_through_weeks(
    client, pediatrician, motive
):
    url = reverse("web:practitioner", args=[pediatrician.pk])
    page = client.get(url, {"motive": motive.pk}).content.decode()
    assert 'value="2026-03-02T08:20:00+01:00"' in page
    assert "week=2026-03-09" in page

    later = client.get(
        url, {"motive": motive.pk, "week": "2026-03-09"}
    ).content.decode()
    assert 'value="2026-03-09T08:00:00+01:00"' in later
    assert 'value="2026-03-02T08:20:00+01:00"' not in later

    for junk in ("garbage", "0001-01-01", "9999-12-31"):
        assert client.get(url, {"motive": motive.pk, "week": junk}).status_code == 200


def test_the_practitioner_page_points_at_no_other_host(client, pediatrician, agenda):
    page = client.get(
        reverse("web:practitioner", args=[pediatrician.pk])
    ).content.decode()
    map_url = reverse("web:map-link", args=[agenda.location_id])

    assert re.findall(r'(?:href|src)="(?:https?:)?//', page) == []
    assert "<iframe" not in page
    assert "<img" not in page
    link = re.search(rf'<a href="{map_url}"[^>]*>', page).group(0)
    assert 'rel="noreferrer' in link


def test_the_map_link_sends_the_visitor_to_openstreetmap_only_when_clicked(
    client, pediatrician, agenda
):
    response = client.get(reverse("web:map-link", args=[agenda.location_id]))
    location = agenda.location

    assert response.status_code == 302
    assert response["Location"].startswith(
        f"https://www.openstreetmap.org/?mlat={location.latitude:.5f}&mlon={location.longitude:.5f}"
    )
    assert response["Referrer-Policy"] == "no-referrer"
    assert client.get(reverse("web:map-link", args=[999999])).status_code == 404


def test_an_unknown_practitioner_is_a_404(client, db):
    assert client.get(reverse("web:practitioner", args=[999999])).status_code == 404


def test_an_empty_week_offers_the_next_availability(client, pediatrician, agenda):
    far = MotiveFactory(agenda=agenda, name="Bilan", min_notice_minutes=60 * 24 * 10)
    OpeningRuleFactory(
        agenda=agenda, weekday=0, opens_time=time(19), closes_time=time(20)
    )
    page = client.get(
        reverse("web:practitioner", args=[pediatrician.pk]), {"motive": far.pk}
    ).content.decode()
    assert "week=2026-03-09" in page


@pytest.mark.parametrize(
    ("lat", "lon", "shown"),
    [
        ("48.85", "2.35", True),
        ("95", "2.35", False),
        ("nan-ish", "2", False),
        ("48.85", "190", False),
    ],
)
def test_the_distance_on_the_practitioner_page_needs_a_real_position(
    client, pediatrician, lat, lon, shown
):
    page = client.get(
        reverse("web:practitioner", args=[pediatrician.pk]),
        {"lat": lat, "lon": lon},
        headers={"accept-language": "en"},
    ).content.decode()
    assert ("km from your search" in page) is shown
