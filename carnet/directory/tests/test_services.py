from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from carnet.directory.models import SearchEntry
from carnet.directory.services import record_next_availability, reindex_agendas
from carnet.directory.tests.factories import (
    LocationFactory,
    PractitionerRoleFactory,
    SpecialtyFactory,
)
from carnet.scheduling.models import VisitMotive
from carnet.scheduling.tests.factories import AgendaFactory, MotiveFactory

pytestmark = pytest.mark.django_db

SOON = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


def fts_rowids() -> set[int]:
    """Rows the SQLite FTS index knows (what a MATCH can return)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rowid FROM directory_searchentry_fts "
            "WHERE directory_searchentry_fts MATCH 'dupont'"
        )
        return {row[0] for row in cursor.fetchall()}


def test_reindex_creates_one_entry_per_active_agenda_with_denormalised_fields():
    munich = LocationFactory(
        city="München", postcode="80331", country="DE", latitude=48.14, longitude=11.58
    )
    role = PractitionerRoleFactory(
        location=munich,
        practice=munich.practice,
        practitioner__first_name="Jörg",
        practitioner__last_name="Weiß",
        practitioner__languages=["de", "en"],
        practitioner__fee_sector="de_gkv",
        practitioner__specialty=SpecialtyFactory(
            code="paediatrics",
            name_fr="Pédiatrie",
            name_de="Kinder- und Jugendmedizin",
            name_it="Pediatria",
            name_en="Paediatrics",
            keywords="pédiatre, Kinderarzt",
        ),
    )
    agenda = AgendaFactory(role=role)
    MotiveFactory(agenda=agenda, open_to_new_patients=False)
    MotiveFactory(agenda=agenda, channel=VisitMotive.Channel.VIDEO)
    AgendaFactory(is_active=False)

    assert reindex_agendas() == 1

    entry = SearchEntry.objects.get()
    assert entry.agenda_id == agenda.pk
    assert (entry.practitioner_id, entry.practice_id, entry.location_id) == (
        role.practitioner_id,
        role.practice_id,
        munich.pk,
    )
    assert (entry.country, entry.city, entry.city_key, entry.postcode) == (
        "DE",
        "München",
        "munchen",
        "80331",
    )
    assert entry.languages == ["de", "en"]
    assert entry.fee_sector == "de_gkv"
    assert entry.accepts_new_patients
    assert entry.has_video
    for word in ("Jörg", "Weiß", "Pédiatrie", "Kinderarzt", "München", "80331"):
        assert word in entry.document
    # Spellings the engines would not derive themselves.
    for spelling in ("muenchen", "weiss", "joerg"):
        assert spelling in entry.document.split()


def test_an_agenda_without_motives_is_indexed_as_closed_to_new_patients():
    AgendaFactory()

    reindex_agendas()

    entry = SearchEntry.objects.get()
    assert not entry.accepts_new_patients
    assert not entry.has_video


def test_record_next_availability_updates_only_that_agendas_entry():
    first, second = AgendaFactory(), AgendaFactory()
    reindex_agendas()

    record_next_availability(
        agenda_id=first.pk,
        next_slot_at=SOON,
        next_new_slot_at=SOON + timedelta(days=1),
        next_video_slot_at=None,
    )

    entry = SearchEntry.objects.get(agenda=first)
    assert (entry.next_slot_at, entry.next_new_slot_at, entry.next_video_slot_at) == (
        SOON,
        SOON + timedelta(days=1),
        None,
    )
    other = SearchEntry.objects.get(agenda=second)
    assert other.next_slot_at is None


def test_record_next_availability_of_an_unindexed_agenda_does_nothing():
    agenda = AgendaFactory()

    record_next_availability(
        agenda_id=agenda.pk,
        next_slot_at=SOON,
        next_new_slot_at=SOON,
        next_video_slot_at=SOON,
    )

    assert not SearchEntry.objects.exists()


@pytest.mark.parametrize("only_this_agenda", [True, False])
def test_reindex_keeps_the_next_availability_columns(only_this_agenda):
    agenda = AgendaFactory(role__practitioner__last_name="Dupont")
    reindex_agendas()
    record_next_availability(
        agenda_id=agenda.pk,
        next_slot_at=SOON,
        next_new_slot_at=SOON,
        next_video_slot_at=SOON + timedelta(hours=2),
    )
    practitioner = agenda.practitioner
    practitioner.last_name = "Durand"
    practitioner.save(update_fields=["last_name"])

    reindex_agendas(agenda_ids=[agenda.pk] if only_this_agenda else None)

    entry = SearchEntry.objects.get()
    assert "Durand" in entry.document
    assert "Dupont" not in entry.document
    assert (entry.next_slot_at, entry.next_new_slot_at, entry.next_video_slot_at) == (
        SOON,
        SOON,
        SOON + timedelta(hours=2),
    )


def test_reindex_removes_the_entries_of_agendas_no_longer_bookable():
    kept, closed, retired = AgendaFactory(), AgendaFactory(), AgendaFactory()
    reindex_agendas()
    closed.is_active = False
    closed.save(update_fields=["is_active"])
    retired.practitioner.is_active = False
    retired.practitioner.save(update_fields=["is_active"])

    assert reindex_agendas(agenda_ids=[closed.pk, retired.pk]) == 0

    assert list(SearchEntry.objects.values_list("agenda_id", flat=True)) == [kept.pk]


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the FTS5 table exists on SQLite only"
)
def test_sqlite_text_index_follows_inserts_updates_and_deletes():
    agenda = AgendaFactory(role__practitioner__last_name="Dupont")
    reindex_agendas()
    entry = SearchEntry.objects.get()
    assert fts_rowids() == {entry.pk}

    agenda.practitioner.last_name = "Durand"
    agenda.practitioner.save(update_fields=["last_name"])
    reindex_agendas()
    assert fts_rowids() == set()

    agenda.practitioner.last_name = "Dupont"
    agenda.practitioner.save(update_fields=["last_name"])
    reindex_agendas(agenda_ids=[agenda.pk])
    assert fts_rowids() == {entry.pk}

    SearchEntry.objects.all().delete()
    assert fts_rowids() == set()


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the FTS5 table exists on SQLite only"
)
def test_a_full_reindex_restores_dropped_sqlite_triggers():
    agenda = AgendaFactory(role__practitioner__last_name="Dupont")
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER directory_searchentry_fts_insert")
    reindex_agendas(agenda_ids=[agenda.pk])
    assert fts_rowids() == set()

    reindex_agendas()

    assert fts_rowids() == {SearchEntry.objects.get().pk}


def test_reindex_search_command_indexes_every_agenda():
    AgendaFactory(), AgendaFactory()
    out = StringIO()

    call_command("reindex_search", stdout=out)

    assert SearchEntry.objects.count() == 2
    assert "Indexed 2 agendas" in out.getvalue()
