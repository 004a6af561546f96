"""Writes of the directory: the search index (SearchEntry) and its next-availability columns."""

from collections.abc import Iterable
from datetime import datetime

from django.db import connection, transaction

from carnet.directory.models import SearchEntry, Specialty
from carnet.directory.text import compose_document, key
from carnet.scheduling.models import Agenda, VisitMotive

REINDEX_BATCH_SIZE = 2000
_INDEXED_FIELDS = [
    "practitioner",
    "practice",
    "location",
    "specialty",
    "document",
    "country",
    "city",
    "city_key",
    "postcode",
    "latitude",
    "longitude",
    "languages",
    "fee_sector",
    "accepts_new_patients",
    "has_video",
    "indexed_at",
]


def record_next_availability(
    *,
    agenda_id: int,
    next_slot_at: datetime | None,
    next_new_slot_at: datetime | None,
    next_video_slot_at: datetime | None,
) -> None:
    """Store the next free slots of an agenda in its search entry (no-op when it has none).

    One UPDATE of the three `next_*` columns, in the caller's transaction;
    nothing else of the entry changes, so it never races with a reindex.
    """
    SearchEntry.objects.filter(agenda_id=agenda_id).update(
        next_slot_at=next_slot_at,
        next_new_slot_at=next_new_slot_at,
        next_video_slot_at=next_video_slot_at,
    )


def reindex_agendas(*, agenda_ids: Iterable[int] | None = None) -> int:
    """(Re)build the search entries of these agendas (of all when None); returns how many.

    Active agendas (with an active practitioner and practice) get an up-to-date
    entry; the entries of the others are deleted. The `next_*` columns of
    existing entries are kept (only `record_next_availability` writes them).
    Bulk: one upsert per batch of agendas, one transaction per batch.
    """
    indexable = Agenda.objects.filter(
        is_active=True, practitioner__is_active=True, practice__is_active=True
    )
    if agenda_ids is None:
        _ensure_sqlite_triggers()
        SearchEntry.objects.exclude(agenda__in=indexable.values("pk")).delete()
        ids = list(indexable.order_by("pk").values_list("pk", flat=True))
    else:
        wanted = sorted(set(agenda_ids))
        ids = []
        for first in range(0, len(wanted), REINDEX_BATCH_SIZE):
            chunk = wanted[first : first + REINDEX_BATCH_SIZE]
            active = set(indexable.filter(pk__in=chunk).values_list("pk", flat=True))
            SearchEntry.objects.filter(
                agenda_id__in=[pk for pk in chunk if pk not in active]
            ).delete()
            ids.extend(sorted(active))
    specialties = {
        row["pk"]: row
        for row in Specialty.objects.values(
            "pk", "name_en", "name_fr", "name_de", "name_it", "keywords"
        )
    }
    written = 0
    for first in range(0, len(ids), REINDEX_BATCH_SIZE):
        batch = ids[first : first + REINDEX_BATCH_SIZE]
        with transaction.atomic():
            written += _reindex_batch(batch, specialties)
    _refresh_vocabulary(None if agenda_ids is None else ids)
    return written


def _reindex_batch(ids: list[int], specialties: dict[int, dict]) -> int:
    rows = Agenda.objects.filter(pk__in=ids).values(
        "pk",
        "practitioner_id",
        "practice_id",
        "location_id",
        "practitioner__title",
        "practitioner__first_name",
        "practitioner__last_name",
        "practitioner__specialty_id",
        "practitioner__languages",
        "practitioner__fee_sector",
        "practice__name",
        "location__name",
        "location__city",
        "location__postcode",
        "location__country",
        "location__latitude",
        "location__longitude",
    )
    new_patients: set[int] = set()
    video: set[int] = set()
    motives = VisitMotive.objects.filter(agenda_id__in=ids, is_active=True)
    for agenda_id, channel, open_to_new in motives.values_list(
        "agenda_id", "channel", "open_to_new_patients"
    ):
        if open_to_new:
            new_patients.add(agenda_id)
        if channel == VisitMotive.Channel.VIDEO:
            video.add(agenda_id)
    entries = []
    for row in rows:
        specialty = specialties[row["practitioner__specialty_id"]]
        document = compose_document(
            [
                row["practitioner__title"],
                row["practitioner__first_name"],
                row["practitioner__last_name"],
                specialty["name_fr"],
                specialty["name_de"],
                specialty["name_it"],
                specialty["name_en"],
                specialty["keywords"],
                row["practice__name"],
                row["location__name"],
                row["location__city"],
                row["location__postcode"],
            ]
        )
        entries.append(
            SearchEntry(
                agenda_id=row["pk"],
                practitioner_id=row["practitioner_id"],
                practice_id=row["practice_id"],
                location_id=row["location_id"],
                specialty_id=row["practitioner__specialty_id"],
                document=document,
                country=row["location__country"],
                city=row["location__city"],
                city_key=key(row["location__city"])[:120],
                postcode=row["location__postcode"],
                latitude=row["location__latitude"],
                longitude=row["location__longitude"],
                languages=list(row["practitioner__languages"] or []),
                fee_sector=row["practitioner__fee_sector"],
                accepts_new_patients=row["pk"] in new_patients,
                has_video=row["pk"] in video,
            )
        )
    SearchEntry.objects.bulk_create(
        entries,
        batch_size=500,
        update_conflicts=True,
        unique_fields=["agenda"],
        update_fields=_INDEXED_FIELDS,
    )
    return len(entries)


# Same triggers as migration 0003: Django drops them when it rebuilds the table
# (SQLite ALTER TABLE), so a full reindex puts them back.
_SQLITE_TRIGGERS = (
    """CREATE TRIGGER IF NOT EXISTS directory_searchentry_fts_insert
        AFTER INSERT ON directory_searchentry BEGIN
        INSERT INTO directory_searchentry_fts (rowid, document)
        VALUES (new.id, new.document);
    END""",
    """CREATE TRIGGER IF NOT EXISTS directory_searchentry_fts_delete
        AFTER DELETE ON directory_searchentry BEGIN
        INSERT INTO directory_searchentry_fts (directory_searchentry_fts, rowid, document)
        VALUES ('delete', old.id, old.document);
    END""",
    """CREATE TRIGGER IF NOT EXISTS directory_searchentry_fts_update
        AFTER UPDATE OF document ON directory_searchentry BEGIN
        INSERT INTO directory_searchentry_fts (directory_searchentry_fts, rowid, document)
        VALUES ('delete', old.id, old.document);
        INSERT INTO directory_searchentry_fts (rowid, document)
        VALUES (new.id, new.document);
    END""",
)


def _ensure_sqlite_triggers() -> None:
    """SQLite: re-create missing FTS sync triggers; rebuild the FTS index if any was missing."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
            "AND name LIKE 'directory_searchentry_fts_%'"
        )
        if cursor.fetchone()[0] == len(_SQLITE_TRIGGERS):
            return
        with transaction.atomic():
            for statement in _SQLITE_TRIGGERS:
                cursor.execute(statement)
            cursor.execute(
                "INSERT INTO directory_searchentry_fts (directory_searchentry_fts) "
                "VALUES ('rebuild')"
            )


def _refresh_vocabulary(agenda_ids: list[int] | None) -> None:
    """PostgreSQL: add the words of these entries (all: rebuild) to the typo vocabulary.

    SQLite needs nothing: its fts5vocab table reads the FTS index itself.
    """
    if connection.vendor != "postgresql":
        return
    with transaction.atomic(), connection.cursor() as cursor:
        if agenda_ids is None:
            cursor.execute("TRUNCATE directory_searchterm")
            cursor.execute(
                "INSERT INTO directory_searchterm (term) "
                "SELECT DISTINCT unnest(tsvector_to_array(search_vector)) "
                "FROM directory_searchentry"
            )
        elif agenda_ids:
            cursor.execute(
                "INSERT INTO directory_searchterm (term) "
                "SELECT DISTINCT unnest(tsvector_to_array(search_vector)) "
                "FROM directory_searchentry WHERE agenda_id = ANY(%s) "
                "ON CONFLICT DO NOTHING",
                [agenda_ids],
            )
