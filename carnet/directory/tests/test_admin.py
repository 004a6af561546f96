import pytest
from django.test import Client

from carnet.accounts.models import User
from carnet.directory.models import SearchEntry
from carnet.directory.services import reindex_agendas
from carnet.scheduling.tests.factories import AgendaFactory
from conftest import login_with_totp

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(enroll_totp, totp_secret):
    enroll_totp(User.objects.create_superuser("root@example.test", "a-long-pw-123"))
    client = Client()
    login_with_totp(
        client, email="root@example.test", password="a-long-pw-123", secret=totp_secret
    )
    return client


def test_editing_a_location_in_the_admin_reindexes_its_agendas(admin_client):
    agenda = AgendaFactory()
    reindex_agendas()
    location = agenda.location

    response = admin_client.post(
        f"/admin/directory/location/{location.pk}/change/",
        {
            "practice": location.practice_id,
            "name": "",
            "address": "3 Marienplatz",
            "postcode": "80331",
            "city": "München",
            "country": "DE",
            "latitude": "48.1372",
            "longitude": "11.5756",
            "practical_info": "2. OG, mit Aufzug",
            "step_free": "on",
        },
    )

    assert response.status_code == 302, response.content[:2000]
    entry = SearchEntry.objects.get(agenda=agenda)
    assert (entry.city, entry.city_key, entry.postcode) == (
        "München",
        "munchen",
        "80331",
    )
    assert "München" in entry.document


def test_search_entries_are_read_only_in_the_admin(admin_client):
    AgendaFactory()
    reindex_agendas()
    entry = SearchEntry.objects.get()

    assert admin_client.get("/admin/directory/searchentry/").status_code == 200
    assert admin_client.get("/admin/directory/searchentry/add/").status_code == 403
    response = admin_client.get(f"/admin/directory/searchentry/{entry.pk}/change/")
    assert response.status_code == 200  # view only
