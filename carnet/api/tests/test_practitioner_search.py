from datetime import time
from typing import get_args

import pytest
from django.test import Client

from carnet.api.v1.directory import FeeSectorIn
from carnet.booking.nextslots import refresh_agenda
from carnet.directory.models import FeeSector
from carnet.directory.services import reindex_agendas
from carnet.directory.tests.factories import (
    LocationFactory,
    PractitionerRoleFactory,
    SpecialtyFactory,
)
from carnet.scheduling.models import VisitMotive
from carnet.scheduling.tests.factories import (
    AgendaFactory,
    MotiveFactory,
    OpeningRuleFactory,
)

pytestmark = pytest.mark.django_db


def bookable(*, city, postcode, lat, lon, country="FR", video=False, **practitioner):
    location = LocationFactory(
        city=city,
        postcode=postcode,
        country=country,
        latitude=lat,
        longitude=lon,
        practice__country=country,
    )
    role = PractitionerRoleFactory(
        location=location,
        practice=location.practice,
        **{f"practitioner__{k}": v for k, v in practitioner.items()},
    )
    agenda = AgendaFactory(role=role)
    MotiveFactory(agenda=agenda)
    if video:
        MotiveFactory(agenda=agenda, channel=VisitMotive.Channel.VIDEO)
    return agenda


@pytest.fixture
def two():
    paediatrics = SpecialtyFactory(
        code="paediatrics",
        name_fr="Pédiatrie",
        name_en="Paediatrics",
        keywords="pédiatre, Kinderarzt",
    )
    paris = bookable(
        city="Paris",
        postcode="75004",
        lat=48.8556,
        lon=2.3570,
        last_name="Lefèvre",
        fee_sector="fr_2",
        fees="Consultation 50 € à 70 €",
        languages=["fr", "en"],
    )
    munich = bookable(
        city="München",
        postcode="80331",
        country="DE",
        lat=48.1372,
        lon=11.5756,
        video=True,
        last_name="Müller",
        fee_sector="de_gkv",
        languages=["de"],
        specialty=paediatrics,
    )
    reindex_agendas()
    return paris, munich


def ids(**params):
    response = Client().get("/api/v1/practitioners", params)
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def test_new_filters_reach_the_search(two):
    paris, munich = two
    # Only Paris opens: the index (kept truthful by each search) has its next slots.
    for weekday in range(7):
        OpeningRuleFactory(
            agenda=paris, weekday=weekday, opens_time=time(0), closes_time=time(23, 59)
        )
    refresh_agenda(agenda_id=paris.pk)
    refresh_agenda(agenda_id=munich.pk)

    assert ids(q="Munchen") == [munich.practitioner_id]
    assert ids(q="pediatre") == [munich.practitioner_id]
    assert ids(place="Muenchen") == [munich.practitioner_id]
    assert ids(video="true") == [munich.practitioner_id]
    assert ids(language="en") == [paris.practitioner_id]
    assert ids(fee_sector="de_gkv") == [munich.practitioner_id]
    assert ids(new_patients="true", available_within_days=7) == [paris.practitioner_id]
    assert ids(sort="earliest") == [paris.practitioner_id, munich.practitioner_id]


def test_items_carry_fees_languages_and_the_distance_from_the_place(two):
    paris, _munich = two

    response = Client().get("/api/v1/practitioners", {"place": "75004"})

    (item,) = response.json()["items"]
    assert item["id"] == paris.practitioner_id
    assert item["distance_km"] == 0.0
    assert item["fee_sector"] == "fr_2"
    assert item["fees"] == "Consultation 50 € à 70 €"
    assert item["languages"] == ["fr", "en"]
    assert (item["video"], item["new_patients"]) == (False, True)
    assert item["agendas"][0]["id"] == paris.pk


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sort": "cheapest"}, "sort"),
        ({"fee_sector": "fr_9"}, "fee_sector"),
        ({"language": "fra"}, "language"),
        ({"available_within_days": "0"}, "available_within_days"),
        ({"video": "perhaps"}, "video"),
        # PostgreSQL refuses a NUL in a string: a 422, never a 500 (found by
        # the API fuzz test).
        ({"specialty": "gp\x00"}, "specialty"),
        ({"q": "dupont\x00"}, "q"),
        ({"place": "\x00Paris"}, "place"),
    ],
)
def test_bad_filter_values_are_problem_documents(db, params, field):
    response = Client().get(
        "/api/v1/practitioners", params, headers={"accept-language": "fr"}
    )

    assert response.status_code == 422
    assert response["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "invalid_request"
    assert [e["field"] for e in body["errors"]] == [field]


def test_sorting_by_distance_without_a_place_is_refused_clearly(db):
    response = Client().get("/api/v1/practitioners", {"sort": "distance"})

    assert response.status_code == 422
    assert response["content-type"] == "application/problem+json"
    assert response.json()["code"] == "distance_needs_place"


def test_the_fee_sector_parameter_follows_the_model_choices():
    assert set(get_args(FeeSectorIn)) == {"", *FeeSector.values}


def test_items_carry_the_next_free_slots_a_new_patient_can_book(
    agenda, motive, frozen_now
):
    closed = MotiveFactory(agenda=agenda, name="Suivi", open_to_new_patients=False)
    reindex_agendas()
    refresh_agenda(agenda_id=agenda.pk)

    (item,) = Client().get("/api/v1/practitioners").json()["items"]

    assert item["next_slots"]["motive"] == motive.pk != closed.pk
    assert item["next_slots"]["agenda"] == agenda.pk
    # 60 minutes' notice from Monday 07:00:0x in Paris: 08:20 is the first start.
    assert item["next_slots"]["slots"][0] == "2026-03-02T08:20:00+01:00"


def test_nothing_bookable_is_said_with_null(agenda, motive, frozen_now):
    motive.open_to_new_patients = False
    motive.save()
    reindex_agendas()
    refresh_agenda(agenda_id=agenda.pk)

    (item,) = Client().get("/api/v1/practitioners").json()["items"]

    assert item["next_slots"] is None
