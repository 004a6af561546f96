"""Patient search over the search index: words, place, filters, sorts, one page of hits.

Text: every word of `q` must match a word of an entry, by prefix, ignoring case
and accents ("generaliste", "dermatolog", "Munchen"). A word that matches no
indexed word at all is taken as a typo and replaced by the closest indexed
words (reported in `SearchResults.corrected`).

* PostgreSQL: a prefix tsquery against the generated `search_vector` (GIN
  index; 'simple' configuration over `carnet_unaccent(document)`); typo
  candidates from the index vocabulary `directory_searchterm` by pg_trgm word
  similarity (`<%`, GIN trigram index). Ranked by `ts_rank`.
* SQLite: an FTS5 query (`"word"*`, unicode61 remove_diacritics 2); typo
  candidates from its fts5vocab terms with difflib. Ranked by bm25.

Place: a city (accents, spelt-out umlauts and small typos forgiven) and/or a
postcode prefix; the mean position of the matched entries becomes the centre
distances are measured from. `near` (the browser's position) wins over
`place`: the place is then ignored and entries within `radius_km` are kept.

Sorts: "relevance" (text rank, then earliest slot, then distance), "earliest"
(next free slot, entries with none last), "distance" (needs a centre: without
a place or a position it is refused with `DistanceNeedsPlace`, rather than
silently sorting otherwise). The "next slot" column follows the filters:
video -> next_video_slot_at, new patients -> next_new_slot_at, else
next_slot_at; `available_within_days` filters on the same column: a slot
before the end of the day that many days after today (1 = today or
tomorrow), in the current time zone.
"""

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from difflib import SequenceMatcher

from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Avg,
    BooleanField,
    ExpressionWrapper,
    F,
    FloatField,
    Q,
    QuerySet,
)
from django.db.models.expressions import RawSQL
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carnet.core.errors import DomainError
from carnet.directory.models import FeeSector, SearchEntry
from carnet.directory.selectors import EARTH_RADIUS_KM, GeoPoint, distance_km
from carnet.directory.text import key, words

__all__ = [
    "PAGE_SIZE",
    "DistanceNeedsPlace",
    "GeoPoint",
    "InvalidSearch",
    "SearchHit",
    "SearchQuery",
    "SearchResults",
    "search",
]

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_PAGE = 10_000
MAX_WORDS = 8
MAX_RADIUS_KM = 500.0
MAX_WITHIN_DAYS = 365
SORTS = ("relevance", "distance", "earliest")
# Typo matching: shortest word worth correcting, and how close a candidate must be.
TYPO_MIN_LENGTH = 4
TYPO_CUTOFF = 0.8
TYPO_SPREAD = 0.02
TYPO_CANDIDATES = 3
TYPO_POOL = 50  # PostgreSQL: trigram neighbours re-scored in Python
CITY_KEYS_CACHE = "carnet:directory:search:city-keys"
CITY_KEYS_SECONDS = 300
KM_PER_DEGREE = math.pi * EARTH_RADIUS_KM / 180
_LANGUAGE_CODE = re.compile(r"[a-z]{2}")
_SPELT_UMLAUTS = (("ae", "a"), ("oe", "o"), ("ue", "u"))


class InvalidSearch(DomainError):
    """A search with a value out of range or unknown."""

    code = "invalid_search"
    message = _("This search cannot be run.")


class UnknownSort(InvalidSearch):
    """A sort order other than relevance, distance or earliest."""

    code = "unknown_sort"
    message = _("Unknown sort order “{sort}”: use relevance, distance or earliest.")


class UnknownFeeSector(InvalidSearch):
    """A fee sector that is not one of FeeSector."""

    code = "unknown_fee_sector"
    message = _("Unknown fee sector “{fee_sector}”.")


class BadLanguageCode(InvalidSearch):
    """A spoken-language filter that is not an ISO 639-1 code."""

    code = "bad_language"
    message = _("“{language}” is not a language code (two letters, e.g. “fr”).")


class DistanceNeedsPlace(InvalidSearch):
    """Sorting by distance without a place or a position to measure from."""

    code = "distance_needs_place"
    message = _("To sort by distance, give a place or share your position.")


class BadPage(InvalidSearch):
    """A page number or page size out of range."""

    code = "bad_page"
    message = _(
        "Pages are numbered from 1 to {max_page}, with 1 to {max_size} results each."
    )


class BadRadius(InvalidSearch):
    """A search radius out of range."""

    code = "bad_radius"
    message = _("The radius must be more than 0 and at most {max_km} km.")


class BadWithin(InvalidSearch):
    """An availability window out of range."""

    code = "bad_within"
    message = _("Availability can be searched 1 to {max_days} days ahead.")


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """What a patient asks for (see the module docstring for the meaning of each field)."""

    q: str = ""
    place: str = ""
    near: GeoPoint | None = None
    radius_km: float = 25.0
    video: bool = False
    language: str = ""
    new_patients: bool = False
    fee_sector: str = ""
    available_within_days: int | None = None
    sort: str = "relevance"
    page: int = 1
    page_size: int = PAGE_SIZE
    specialty: str = ""


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One result: a search entry (practitioner, specialty, practice, location loaded)."""

    entry: SearchEntry
    distance_km: float | None


@dataclass(frozen=True, slots=True)
class SearchResults:
    """One page of hits, the total count, the centre of distances and typo corrections."""

    count: int
    page: int
    items: list[SearchHit]
    center: GeoPoint | None = None
    corrected: dict[str, str] = field(default_factory=dict)
    page_size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        """How many pages the results fill (at least 1)."""
        return max(1, -(-self.count // self.page_size))


@dataclass(frozen=True, slots=True)
class _TextMatch:
    condition: RawSQL
    corrected: dict[str, str]
    rank: RawSQL | None = None  # PostgreSQL: a rank expression per row
    ranks: dict[int, float] | None = None  # SQLite: rank per entry id, read once


@dataclass(frozen=True, slots=True)
class _Place:
    condition: Q
    center: GeoPoint
    corrected: dict[str, str]


def search(query: SearchQuery) -> SearchResults:
    """Search the index; raises an InvalidSearch subclass for a value out of range.

    Read-only. Each word of `q` must match (prefix, accents and case ignored,
    typos corrected); filters combine with AND. See the module docstring.
    """
    _validate(query)
    entries = SearchEntry.objects.all()
    corrected: dict[str, str] = {}
    center: GeoPoint | None = None
    nothing = False

    if query.near is not None:
        center = query.near
        entries = entries.filter(_within(center, query.radius_km))
    elif query.place.strip():
        place = _resolve_place(query.place)
        if place is None:
            nothing = True
        else:
            entries = entries.filter(place.condition)
            center = place.center
            corrected.update(place.corrected)
    if query.sort == "distance" and center is None and not nothing:
        raise DistanceNeedsPlace()

    text = None
    terms = words(query.q)[:MAX_WORDS]
    if terms and not nothing:
        text = _match_text(terms)
        if text is None:
            nothing = True
        else:
            entries = entries.filter(text.condition)
            corrected.update(text.corrected)
    if nothing:
        return SearchResults(
            count=0,
            page=query.page,
            items=[],
            center=center,
            corrected=corrected,
            page_size=query.page_size,
        )

    column = _slot_column(query)
    entries = _filtered(entries, query, column)
    if center is not None:
        entries = entries.annotate(dist2=_squared_km(center))
    if text is not None and text.ranks is not None and query.sort != "distance":
        count, page = _page_ranked_in_python(entries, query, column, text.ranks)
    else:
        count, page = _page_in_sql(entries, query, column, text, center)
    items = [
        SearchHit(
            entry=entry,
            distance_km=None
            if center is None
            else distance_km(center, GeoPoint(entry.latitude, entry.longitude)),
        )
        for entry in page
    ]
    return SearchResults(
        count=count,
        page=query.page,
        items=items,
        center=center,
        corrected=corrected,
        page_size=query.page_size,
    )


def _ordering(
    query: SearchQuery, column: str, ranked: bool, centred: bool
) -> list[str]:
    """Sort keys as (name, descending) pairs: "score", the slot column, "dist2", "pk"."""
    if query.sort == "distance":
        keys = ["dist2", column]
    elif query.sort == "earliest":
        keys = [
            column,
            *(["-score"] if ranked else []),
            *(["dist2"] if centred else []),
        ]
    else:
        keys = [
            *(["-score"] if ranked else []),
            column,
            *(["dist2"] if centred else []),
        ]
    return [*keys, "pk"]


def _page_in_sql(
    entries: QuerySet[SearchEntry],
    query: SearchQuery,
    column: str,
    text: "_TextMatch | None",
    center: GeoPoint | None,
) -> tuple[int, list[SearchEntry]]:
    ranked = text is not None and text.rank is not None and query.sort != "distance"
    if ranked:
        entries = entries.annotate(score=text.rank)  # type: ignore[union-attr]
    ordering = []
    for name in _ordering(query, column, ranked, center is not None):
        if name.startswith("-"):
            ordering.append(F(name[1:]).desc())
        elif name == column:
            ordering.append(F(name).asc(nulls_last=True))
        else:
            ordering.append(F(name).asc())
    offset = (query.page - 1) * query.page_size
    ordered = entries.order_by(*ordering)
    window = slice(offset, offset + query.page_size)
    # Ids first: sorting narrow rows stays in memory (whole rows spill to disk).
    ids = list(ordered.values_list("pk", flat=True)[window])
    count = entries.count()
    return count, _load(ids)


def _load(ids: list[int]) -> list[SearchEntry]:
    """These entries, in this order, with what a result shows (not the indexed text)."""
    by_id = (
        SearchEntry.objects.select_related(
            "practitioner", "specialty", "practice", "location"
        )
        .defer("document")
        .in_bulk(ids)
    )
    return [by_id[pk] for pk in ids]


def _page_ranked_in_python(
    entries: QuerySet[SearchEntry],
    query: SearchQuery,
    column: str,
    ranks: dict[int, float],
) -> tuple[int, list[SearchEntry]]:
    """SQLite: order the matches by the FTS ranks read once (a rank per row would re-run the MATCH)."""
    centred = "dist2" in entries.query.annotations
    fields = ["pk", column, *(["dist2"] if centred else [])]
    rows = list(entries.values_list(*fields))
    keys = _ordering(query, column, True, centred)

    def sort_key(row: tuple) -> tuple:
        values = dict(zip(fields, row, strict=True))
        key: list = []
        for name in keys:
            if name == "-score":
                key.append(-ranks.get(values["pk"], 0.0))
            elif name == column:
                key.extend((values[column] is None, values[column] or 0))
            else:
                key.append(values[name])
        return tuple(key)

    rows.sort(key=sort_key)
    offset = (query.page - 1) * query.page_size
    ids = [row[0] for row in rows[offset : offset + query.page_size]]
    return len(rows), _load(ids)


def _validate(query: SearchQuery) -> None:
    if query.sort not in SORTS:
        raise UnknownSort(sort=query.sort)
    if query.fee_sector and query.fee_sector not in FeeSector.values:
        raise UnknownFeeSector(fee_sector=query.fee_sector)
    if query.language and not _LANGUAGE_CODE.fullmatch(query.language):
        raise BadLanguageCode(language=query.language)
    if not (1 <= query.page <= MAX_PAGE and 1 <= query.page_size <= MAX_PAGE_SIZE):
        raise BadPage(max_page=MAX_PAGE, max_size=MAX_PAGE_SIZE)
    if not 0 < query.radius_km <= MAX_RADIUS_KM:
        raise BadRadius(max_km=int(MAX_RADIUS_KM))
    within = query.available_within_days
    if within is not None and not 1 <= within <= MAX_WITHIN_DAYS:
        raise BadWithin(max_days=MAX_WITHIN_DAYS)


def _slot_column(query: SearchQuery) -> str:
    if query.video:
        return "next_video_slot_at"
    if query.new_patients:
        return "next_new_slot_at"
    return "next_slot_at"


def _filtered(
    entries: QuerySet[SearchEntry], query: SearchQuery, column: str
) -> QuerySet[SearchEntry]:
    if query.video:
        entries = entries.filter(has_video=True)
    if query.new_patients:
        entries = entries.filter(accepts_new_patients=True)
    if query.fee_sector:
        entries = entries.filter(fee_sector=query.fee_sector)
    if query.specialty:
        entries = entries.filter(specialty__code=query.specialty)
    if query.language:
        entries = entries.filter(_speaks(query.language))
    if query.available_within_days is not None:
        entries = entries.filter(
            **{f"{column}__lt": _end_of_day(query.available_within_days)}
        )
    return entries


def _end_of_day(days: int) -> datetime:
    """Midnight ending the day `days` days after today, in the current time zone.

    "Within 1 day" then means today or tomorrow, whatever the hour of the search.
    """
    zone = timezone.get_current_timezone()
    last = timezone.localdate(timezone=zone) + timedelta(days=days)
    return datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)


def _speaks(language: str) -> Q | RawSQL:
    if connection.vendor == "postgresql":
        return Q(languages__contains=[language])  # jsonb @>, GIN index
    return RawSQL(
        'EXISTS (SELECT 1 FROM json_each("directory_searchentry"."languages") '
        "WHERE json_each.value = %s)",
        [language],
        output_field=BooleanField(),
    )


# --- distances ----------------------------------------------------------------


def _squared_km(center: GeoPoint) -> ExpressionWrapper:
    """Squared distance in km² (equirectangular: exact enough to order and cut a radius)."""
    shrink = math.cos(math.radians(center.lat))
    north = (F("latitude") - center.lat) * KM_PER_DEGREE
    east = (F("longitude") - center.lon) * (KM_PER_DEGREE * shrink)
    return ExpressionWrapper(north * north + east * east, output_field=FloatField())


def _within(center: GeoPoint, radius_km: float) -> Q:
    dlat = radius_km / KM_PER_DEGREE
    shrink = max(math.cos(math.radians(center.lat)), 1e-6)
    dlon = min(180.0, radius_km / (KM_PER_DEGREE * shrink))
    box = Q(
        latitude__gte=center.lat - dlat,
        latitude__lte=center.lat + dlat,
        longitude__gte=center.lon - dlon,
        longitude__lte=center.lon + dlon,
    )
    return box & Q(LessThanOrEqual(_squared_km(center), radius_km * radius_km))


# --- place --------------------------------------------------------------------


def _resolve_place(text: str) -> _Place | None:
    tokens = words(text)
    postcodes = [t for t in tokens if t.isdigit()]
    names = [t for t in tokens if not t.isdigit()]
    condition = Q()
    corrected: dict[str, str] = {}
    if postcodes:
        condition &= Q(postcode__startswith=postcodes[0])
    if names:
        found = None
        # The whole name first ("frankfurt am main"), then each word ("paris france").
        for attempt in [" ".join(names), *names] if len(names) > 1 else names:
            found = _match_city(attempt)
            if found is not None:
                break
        if found is None:
            return None
        city_keys, correction = found
        condition &= Q(city_key__in=city_keys)
        if correction:
            corrected[text.strip()] = correction
    center = SearchEntry.objects.filter(condition).aggregate(
        lat=Avg("latitude"), lon=Avg("longitude")
    )
    if center["lat"] is None:
        return None
    return _Place(condition, GeoPoint(center["lat"], center["lon"]), corrected)


def _known_city_keys() -> list[str]:
    """Every indexed city key (cached a few minutes: cities seldom change, a scan is not cheap)."""
    return cache.get_or_set(
        CITY_KEYS_CACHE,
        lambda: list(
            SearchEntry.objects.order_by().values_list("city_key", flat=True).distinct()
        ),
        CITY_KEYS_SECONDS,
    )


def _match_city(name: str) -> tuple[list[str], str] | None:
    """City keys matching `name` (exact, spelt-out umlauts, prefix, then closest), and a correction."""
    name = key(name)
    spellings = [name]
    plain = name
    for spelt, letter in _SPELT_UMLAUTS:
        plain = plain.replace(spelt, letter)
    if plain != name:
        spellings.append(plain)
    cities = SearchEntry.objects.values_list("city_key", flat=True)
    for spelling in spellings:
        if cities.filter(city_key=spelling).exists():
            return [spelling], ""
    for spelling in spellings:
        prefixed = list(
            cities.filter(city_key__startswith=spelling)
            .order_by("city_key")
            .distinct()[:50]
        )
        if prefixed:
            return prefixed, ""
    if len(name) < TYPO_MIN_LENGTH:
        return None
    best = _closest(name, _known_city_keys())
    if not best:
        return None
    shown = (
        SearchEntry.objects.filter(city_key=best[0]).values_list("city", flat=True)
    ).first()
    return best[:1], shown or best[0]


# --- text ---------------------------------------------------------------------

# The words reach these statements as query parameters, never as SQL text.
_PG_MATCH = '"directory_searchentry"."search_vector" @@ to_tsquery(\'simple\', %s)'
_PG_RANK = (
    'ts_rank("directory_searchentry"."search_vector", to_tsquery(\'simple\', %s))'
)
_SQLITE_MATCH = (
    '"directory_searchentry"."id" IN (SELECT rowid FROM directory_searchentry_fts '
    "WHERE directory_searchentry_fts MATCH %s)"
)
_SQLITE_RANKS = (
    "SELECT rowid, rank FROM directory_searchentry_fts "
    "WHERE directory_searchentry_fts MATCH %s"
)


def _match_text(terms: list[str]) -> _TextMatch | None:
    """The condition and rank for these folded words; None when a word matches nothing."""
    if connection.vendor == "postgresql":
        return _match_text_postgresql(terms)
    return _match_text_sqlite(terms)


def _match_text_postgresql(terms: list[str]) -> _TextMatch | None:
    parts = []
    corrected: dict[str, str] = {}
    with connection.cursor() as cursor:
        for term in terms:
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM directory_searchterm WHERE term LIKE %s)",
                [term + "%"],
            )
            if cursor.fetchone()[0]:
                parts.append(f"'{term}':*")
                continue
            if len(term) < TYPO_MIN_LENGTH:
                return None
            # pg_trgm finds the candidates through its index; the same scorer
            # as on SQLite picks among them, so both engines correct alike.
            cursor.execute(
                "SELECT term FROM directory_searchterm WHERE term %% %s "
                "ORDER BY similarity(term, %s) DESC, term LIMIT %s",
                [term, term, TYPO_POOL],
            )
            close = _closest(term, (row[0] for row in cursor.fetchall()))
            if not close:
                return None
            corrected[term] = close[0]
            parts.append("(" + " | ".join(f"'{t}'" for t in close) + ")")
    tsquery = " & ".join(parts)
    return _TextMatch(
        condition=RawSQL(_PG_MATCH, [tsquery], output_field=BooleanField()),  # noqa: S611 - constant SQL, words as parameters
        rank=RawSQL(_PG_RANK, [tsquery], output_field=FloatField()),  # noqa: S611
        corrected=corrected,
    )


def _match_text_sqlite(terms: list[str]) -> _TextMatch | None:
    parts = []
    corrected: dict[str, str] = {}
    with connection.cursor() as cursor:
        for term in terms:
            cursor.execute(
                "SELECT 1 FROM directory_searchentry_vocab "
                "WHERE term >= %s AND term < %s LIMIT 1",
                [term, term + "\U0010ffff"],
            )
            if cursor.fetchone():
                parts.append(f'"{term}"*')
                continue
            if len(term) < TYPO_MIN_LENGTH:
                return None
            cursor.execute(
                "SELECT term FROM directory_searchentry_vocab "
                "WHERE term >= %s AND term < %s",
                [term[0], term[0] + "\U0010ffff"],
            )
            close = _closest(term, (row[0] for row in cursor.fetchall()))
            if not close:
                return None
            corrected[term] = close[0]
            parts.append("(" + " OR ".join(f'"{t}"' for t in close) + ")")
    match = " AND ".join(parts)
    with connection.cursor() as cursor:
        cursor.execute(_SQLITE_RANKS, [match])
        # bm25: lower is better; stored negated, so that higher is better everywhere.
        ranks = {rowid: -rank for rowid, rank in cursor.fetchall()}
    return _TextMatch(
        condition=RawSQL(_SQLITE_MATCH, [match], output_field=BooleanField()),  # noqa: S611 - constant SQL, words as parameters
        ranks=ranks,
        corrected=corrected,
    )


def _closest(word: str, candidates: Iterable[str]) -> list[str]:
    """The candidates closest to `word` (whole word, or its start: typed prefixes)."""
    scored = []
    matcher = SequenceMatcher()
    matcher.set_seq2(word)
    for candidate in candidates:
        if candidate == word:
            continue
        score = 0.0
        for form in {candidate, candidate[: len(word) + 1]}:
            matcher.set_seq1(form)
            if (
                matcher.real_quick_ratio() >= TYPO_CUTOFF
                and matcher.quick_ratio() >= TYPO_CUTOFF
            ):
                score = max(score, matcher.ratio())
        if score >= TYPO_CUTOFF:
            scored.append((score, candidate))
    if not scored:
        return []
    scored.sort(key=lambda pair: (-pair[0], len(pair[1]), pair[1]))
    best = scored[0][0]
    return [c for s, c in scored if s >= best - TYPO_SPREAD][:TYPO_CANDIDATES]
