import unicodedata
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carnet.directory.models import SearchEntry
from carnet.directory.search import (
    DistanceNeedsPlace,
    InvalidSearch,
    SearchQuery,
    search,
)
from carnet.directory.selectors import GeoPoint, distance_km
from carnet.directory.services import record_next_availability, reindex_agendas
from carnet.directory.tests.factories import (
    LocationFactory,
    PractitionerRoleFactory,
    SpecialtyFactory,
)
from carnet.scheduling.models import VisitMotive
from carnet.scheduling.tests.factories import AgendaFactory, MotiveFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
PARIS = GeoPoint(48.8566, 2.3522)


def gp():
    return SpecialtyFactory(
        code="general-practice",
        name_fr="Médecine générale",
        keywords="médecin généraliste, médecin traitant, Hausarzt, medico di base",
    )


def paediatrics():
    return SpecialtyFactory(
        code="paediatrics",
        name_en="Paediatrics",
        name_fr="Pédiatrie",
        name_de="Kinder- und Jugendmedizin",
        name_it="Pediatria",
        keywords="pédiatre, Kinderarzt, pediatra",
    )


def dermatology():
    return SpecialtyFactory(
        code="dermatology",
        name_en="Dermatology",
        name_fr="Dermatologie",
        name_de="Dermatologie",
        name_it="Dermatologia",
        keywords="dermatologue, Hautarzt, dermatologo",
    )


def bookable(
    *,
    last_name="Martin",
    first_name="Claire",
    specialty=None,
    city="Paris",
    postcode="75004",
    country="FR",
    lat=48.8556,
    lon=2.3570,
    languages=("fr",),
    fee_sector="fr_1",
    video=False,
    new_patients=True,
    practice="Cabinet médical du Marais",
):
    """An agenda with one in-person motive (and a video one when asked)."""
    location = LocationFactory(
        city=city,
        postcode=postcode,
        country=country,
        latitude=lat,
        longitude=lon,
        practice__name=practice,
        practice__country=country,
    )
    role = PractitionerRoleFactory(
        location=location,
        practice=location.practice,
        practitioner__last_name=last_name,
        practitioner__first_name=first_name,
        practitioner__specialty=specialty or gp(),
        practitioner__languages=list(languages),
        practitioner__fee_sector=fee_sector,
    )
    agenda = AgendaFactory(role=role)
    MotiveFactory(agenda=agenda, open_to_new_patients=new_patients)
    if video:
        MotiveFactory(
            agenda=agenda,
            channel=VisitMotive.Channel.VIDEO,
            open_to_new_patients=new_patients,
        )
    return agenda


def found(**query) -> list[int]:
    """Agenda ids of the first page, in order."""
    results = search(SearchQuery(page_size=100, **query))
    return [hit.entry.agenda_id for hit in results.items]


@pytest.fixture
def directory():
    """Four practitioners in Paris, Lyon and Munich, indexed."""
    agendas = {
        "gp": bookable(last_name="Lefèvre", specialty=gp()),
        "paediatrician": bookable(
            last_name="Durand",
            specialty=paediatrics(),
            city="Lyon",
            postcode="69002",
            lat=45.7578,
            lon=4.8320,
            practice="Cabinet de pédiatrie Bellecour",
        ),
        "dermatologist": bookable(
            last_name="Dubois",
            specialty=dermatology(),
            postcode="75011",
            lat=48.8590,
            lon=2.3800,
            practice="Centre dermatologique Voltaire",
        ),
        "munich": bookable(
            last_name="Müller",
            first_name="Jörg",
            specialty=gp(),
            city="München",
            postcode="80331",
            country="DE",
            lat=48.1372,
            lon=11.5756,
            languages=("de", "en"),
            fee_sector="de_gkv",
            practice="Hausarztpraxis am Marienplatz",
        ),
    }
    reindex_agendas()
    return {name: agenda.pk for name, agenda in agendas.items()}


# --- words: accents, case, prefixes, typos ---------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("generaliste", {"gp", "munich"}),
        ("Généraliste", {"gp", "munich"}),
        ("GENERALISTE paris", {"gp"}),
        ("pédiatre", {"paediatrician"}),
        ("pediatre", {"paediatrician"}),
        ("Kinderarzt", {"paediatrician"}),
        ("dermatolog", {"dermatologist"}),
        ("dermato", {"dermatologist"}),
        ("Munchen", {"munich"}),
        ("München", {"munich"}),
        ("muenchen", {"munich"}),
        ("mueller", {"munich"}),
        ("lefevre", {"gp"}),
        ("lef", {"gp"}),
        ("Lefèvre Claire", {"gp"}),
        ("75011", {"dermatologist"}),
        ("bellecour", {"paediatrician"}),
    ],
)
def test_words_match_whatever_the_accents_case_or_ending(directory, q, expected):
    assert set(found(q=q)) == {directory[name] for name in expected}


@pytest.mark.parametrize(
    ("q", "expected", "correction"),
    [
        ("generalsite", {"gp", "munich"}, "generaliste"),
        ("pediatrei", {"paediatrician"}, "pediatre"),
        ("dermatolgue", {"dermatologist"}, "dermatologue"),
        ("Lefebvre", {"gp"}, "lefevre"),
    ],
)
def test_small_typos_are_corrected_and_reported(directory, q, expected, correction):
    results = search(SearchQuery(q=q))

    assert {hit.entry.agenda_id for hit in results.items} == {
        directory[name] for name in expected
    }
    assert results.corrected == {q.lower(): correction}


def test_every_word_must_match(directory):
    assert found(q="dermatologue lyon") == []
    assert found(q="zzzzqqq") == []
    assert found(q="pédiatre lyon") == [directory["paediatrician"]]


def test_punctuation_alone_is_no_text_condition(directory):
    assert len(found(q=" -- ' ")) == 4


# --- place and distances ----------------------------------------------------------


@pytest.mark.parametrize(
    ("place", "expected"),
    [
        ("Paris", {"gp", "dermatologist"}),
        ("paris", {"gp", "dermatologist"}),
        ("Pariss", {"gp", "dermatologist"}),
        ("75011", {"dermatologist"}),
        ("750", {"gp", "dermatologist"}),
        ("75004 Paris", {"gp"}),
        ("Munchen", {"munich"}),
        ("Muenchen", {"munich"}),
        ("MÜNCHEN", {"munich"}),
        ("Lyon, France", {"paediatrician"}),
    ],
)
def test_place_matches_a_city_or_a_postcode_prefix(directory, place, expected):
    assert set(found(place=place)) == {directory[name] for name in expected}


def test_a_place_sets_the_centre_and_every_hit_gets_its_distance(directory):
    results = search(SearchQuery(place="Paris", sort="distance"))

    centre = GeoPoint((48.8556 + 48.8590) / 2, (2.3570 + 2.3800) / 2)
    assert results.center.lat == pytest.approx(centre.lat)
    assert results.center.lon == pytest.approx(centre.lon)
    for hit in results.items:
        assert hit.distance_km == pytest.approx(
            distance_km(centre, GeoPoint(hit.entry.latitude, hit.entry.longitude))
        )


def test_a_misspelt_place_is_reported_as_corrected(directory):
    results = search(SearchQuery(place="Pariss"))

    assert results.corrected == {"Pariss": "Paris"}


def test_an_unknown_place_finds_nothing(directory):
    results = search(SearchQuery(place="Xyzzyville"))

    assert (results.count, results.items, results.center) == (0, [], None)


def test_near_keeps_what_lies_within_the_radius_and_wins_over_place(directory):
    lyon = GeoPoint(45.76, 4.83)

    assert set(found(near=PARIS, radius_km=10)) == {
        directory["gp"],
        directory["dermatologist"],
    }
    assert found(near=lyon, radius_km=10, place="Paris") == [directory["paediatrician"]]
    assert found(near=PARIS, radius_km=10, sort="distance") == [
        directory["gp"],
        directory["dermatologist"],
    ]
    results = search(SearchQuery(near=lyon, radius_km=500, sort="distance"))
    assert results.center == lyon
    first, *paris = results.items
    assert first.entry.agenda_id == directory["paediatrician"]
    assert first.distance_km < 1
    assert {hit.entry.agenda_id for hit in paris} == {
        directory["gp"],
        directory["dermatologist"],
    }
    assert all(385 < hit.distance_km < 400 for hit in paris)


def test_sorting_by_distance_needs_a_centre(directory):
    with pytest.raises(DistanceNeedsPlace, match="distance_needs_place"):
        search(SearchQuery(sort="distance"))


# --- filters -----------------------------------------------------------------------


def test_filters_video_language_new_patients_fee_sector_and_specialty(directory):
    video = bookable(last_name="Bernard", video=True, new_patients=False)
    private = bookable(last_name="Petit", fee_sector="fr_2", languages=("fr", "it"))
    reindex_agendas()

    assert found(video=True) == [video.pk]
    assert set(found(language="de")) == {directory["munich"]}
    assert set(found(language="it")) == {private.pk}
    assert video.pk not in found(new_patients=True)
    assert len(found(new_patients=True)) == 5
    assert found(fee_sector="fr_2") == [private.pk]
    assert found(fee_sector="de_gkv") == [directory["munich"]]
    assert found(specialty="dermatology") == [directory["dermatologist"]]
    assert found(specialty="no-such-specialty") == []
    assert found(q="bernard", video=True, language="fr") == [video.pk]


@time_machine.travel(NOW, tick=False)
def test_available_within_days_reads_the_column_the_other_filters_choose(directory):
    soon, later = NOW + timedelta(days=2), NOW + timedelta(days=20)
    record_next_availability(
        agenda_id=directory["gp"],
        next_slot_at=soon,
        next_new_slot_at=later,
        next_video_slot_at=None,
    )
    record_next_availability(
        agenda_id=directory["dermatologist"],
        next_slot_at=later,
        next_new_slot_at=soon,
        next_video_slot_at=soon,
    )
    SearchEntry.objects.filter(agenda_id=directory["dermatologist"]).update(
        has_video=True
    )

    assert found(available_within_days=7) == [directory["gp"]]
    assert found(available_within_days=7, new_patients=True) == [
        directory["dermatologist"]
    ]
    assert found(available_within_days=7, video=True) == [directory["dermatologist"]]
    assert set(found(available_within_days=30)) == {
        directory["gp"],
        directory["dermatologist"],
    }


@time_machine.travel(NOW, tick=False)
def test_within_one_day_means_today_or_tomorrow_whatever_the_hour(directory):
    tomorrow_night = datetime(2026, 3, 3, 22, 0, tzinfo=UTC)
    day_after = datetime(2026, 3, 4, 0, 30, tzinfo=UTC)
    for name, at in (("gp", tomorrow_night), ("dermatologist", day_after)):
        record_next_availability(
            agenda_id=directory[name],
            next_slot_at=at,
            next_new_slot_at=at,
            next_video_slot_at=None,
        )

    assert found(available_within_days=1) == [directory["gp"]]
    assert set(found(available_within_days=2)) == {
        directory["gp"],
        directory["dermatologist"],
    }


# --- sorts and pages ---------------------------------------------------------------


def test_earliest_puts_the_soonest_first_and_the_unknown_last(directory):
    record_next_availability(
        agenda_id=directory["munich"],
        next_slot_at=NOW + timedelta(hours=3),
        next_new_slot_at=None,
        next_video_slot_at=None,
    )
    record_next_availability(
        agenda_id=directory["paediatrician"],
        next_slot_at=NOW + timedelta(hours=1),
        next_new_slot_at=NOW + timedelta(days=9),
        next_video_slot_at=None,
    )

    ids = found(sort="earliest")
    assert ids[:2] == [directory["paediatrician"], directory["munich"]]
    assert set(ids[2:]) == {directory["gp"], directory["dermatologist"]}
    assert found(sort="earliest", new_patients=True)[0] == directory["paediatrician"]


def test_relevance_ranks_by_text_then_by_earliest_slot(directory):
    twin = bookable(
        last_name="Martin",
        first_name="Paul",
        specialty=dermatology(),
        postcode="75011",
        practice="Centre dermatologique Voltaire",
    )
    reindex_agendas()
    record_next_availability(
        agenda_id=twin.pk,
        next_slot_at=NOW,
        next_new_slot_at=NOW,
        next_video_slot_at=None,
    )

    # Same text score for both dermatologists: the one with a known slot first.
    assert found(q="dermatologie") == [twin.pk, directory["dermatologist"]]
    # "dubois" ranks the entry that holds it, whatever the slots.
    assert found(q="dermatologie dubois") == [directory["dermatologist"]]


def test_pages_split_the_results_and_keep_the_count(directory):
    for n in range(21):
        bookable(last_name=f"Robert{n:02d}")
    reindex_agendas()

    first = search(SearchQuery(q="robert", page=1, page_size=10))
    third = search(SearchQuery(q="robert", page=3, page_size=10))
    beyond = search(SearchQuery(q="robert", page=9, page_size=10))

    assert (first.count, first.pages, len(first.items)) == (21, 3, 10)
    assert (third.count, len(third.items)) == (21, 1)
    assert (beyond.count, beyond.items) == (21, [])
    every = [
        hit.entry.agenda_id
        for page in (1, 2, 3)
        for hit in search(SearchQuery(q="robert", page=page, page_size=10)).items
    ]
    assert len(set(every)) == 21


def test_hits_carry_the_practitioner_practice_location_and_specialty(
    directory, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        results = search(SearchQuery(q="pediatre"))
        (hit,) = results.items
        entry = hit.entry
        names = (
            entry.practitioner.last_name,
            entry.specialty.code,
            entry.practice.name,
            entry.location.city,
        )
    assert names == ("Durand", "paediatrics", "Cabinet de pédiatrie Bellecour", "Lyon")
    assert hit.distance_km is None


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"sort": "cheapest"}, "unknown_sort"),
        ({"fee_sector": "fr_9"}, "unknown_fee_sector"),
        ({"language": "fra"}, "bad_language"),
        ({"language": "FR"}, "bad_language"),
        ({"page": 0}, "bad_page"),
        ({"page_size": 500}, "bad_page"),
        ({"radius_km": 0}, "bad_radius"),
        ({"available_within_days": 0}, "bad_within"),
    ],
)
def test_bad_values_are_refused_with_a_clear_error(db, query, code):
    with pytest.raises(InvalidSearch) as refused:
        search(SearchQuery(**query))

    assert refused.value.code == code
    assert refused.value.render()


# --- property: any accent-stripped, case-changed or prefix form finds the entry ------

NAME = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzéèêëàâäîïôöùûüçñß", min_size=3, max_size=12
)


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    name=NAME,
    form=st.sampled_from(["same", "stripped", "upper", "title", "prefix"]),
    cut=st.integers(min_value=1, max_value=12),
)
def test_prop_a_name_is_found_by_its_stripped_cased_or_prefix_forms(
    db, name, form, cut
):
    agenda = bookable(last_name=name.capitalize())
    reindex_agendas(agenda_ids=[agenda.pk])
    typed = {
        "same": name,
        "stripped": strip_accents(name),
        "upper": name.upper(),
        "title": strip_accents(name).title(),
        "prefix": strip_accents(name)[:cut],
    }[form]
    try:
        assert agenda.pk in found(q=typed), (name, typed)
    finally:
        SearchEntry.objects.all().delete()
