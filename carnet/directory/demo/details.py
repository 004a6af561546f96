"""What a patient reads on a practitioner's page: fee sector and fees, a short presentation,
and practical information about the place (floor, entry code, public transport).

Plain values from a seeded random generator, in the practice's language; the
sector shares follow each country's system: in France most doctors are in
secteur 1 (regulated fees), many specialists in secteur 2 (extra fees), a few
non conventionnés; in Germany most practices treat statutory patients (GKV)
and some only private ones; in Italy general practitioners work for the SSN
and specialists either for the SSN (convenzionati) or privately.
Fees are data in the practice's language, not interface strings.
"""

import random
from dataclasses import dataclass

from carnet.directory.demo.specialties import SpecialtySpec

# Professions whose care health insurance does not refund (or only privately).
_NOT_REFUNDED = {"osteopathy", "psychology", "dietetics"}
_PARAMEDICAL = {
    "physiotherapy",
    "nursing",
    "speech-therapy",
    "midwifery",
    "podiatry",
    "vaccination-centre",
}
# Secteur 1 tariff in euros and the word for one visit (France).
_FR_TARIFF: dict[str, tuple[str, str]] = {
    "general-practice": ("Consultation", "30"),
    "paediatrics": ("Consultation", "35"),
    "dentistry": ("Consultation", "23"),
    "psychiatry": ("Consultation", "55"),
    "cardiology": ("Consultation", "51"),
    "physiotherapy": ("Séance", "16,13"),
    "nursing": ("Soin", "tarif conventionnel"),
    "speech-therapy": ("Séance", "30,40"),
    "midwifery": ("Consultation", "30"),
    "podiatry": ("Séance", "30"),
    "osteopathy": ("Séance", "60"),
    "psychology": ("Séance", "55"),
    "dietetics": ("Consultation", "45"),
    "vaccination-centre": ("Vaccination", "prise en charge à 100 %"),
}
_FR_SPECIALIST = ("Consultation", "31,50")
_IT_PRIVATE_FEE = {
    "general-practice": 60,
    "dentistry": 70,
    "physiotherapy": 50,
    "osteopathy": 60,
    "psychology": 70,
    "dietetics": 70,
    "nursing": 35,
    "speech-therapy": 50,
    "podiatry": 50,
    "midwifery": 70,
}
_METRO_CITIES = {
    "Paris",
    "Lyon",
    "Marseille",
    "Lille",
    "Toulouse",
    "Rennes",
    "Berlin",
    "Hamburg",
    "München",
    "Nürnberg",
    "Roma",
    "Milano",
    "Napoli",
    "Torino",
    "Genova",
    "Catania",
    "Brescia",
}
_STOPS = {
    "fr": (
        "Gare",
        "Mairie",
        "République",
        "Pasteur",
        "Victor Hugo",
        "Jean Jaurès",
        "Hôpital",
        "Marché",
        "Liberté",
        "Place du 8 Mai",
    ),
    "de": (
        "Rathaus",
        "Hauptbahnhof",
        "Marktplatz",
        "Stadtpark",
        "Goethestraße",
        "Schillerplatz",
        "Krankenhaus",
        "Lindenallee",
    ),
    "it": (
        "Stazione",
        "Municipio",
        "Piazza Garibaldi",
        "Ospedale",
        "Duomo",
        "Via Roma",
        "Piazza Cavour",
        "Largo Mazzini",
    ),
}
_FACULTIES = (
    "l'Université Paris Cité",
    "Sorbonne Université",
    "l'Université Claude Bernard Lyon 1",
    "Aix-Marseille Université",
    "l'Université de Bordeaux",
    "l'Université de Lille",
    "l'Université de Montpellier",
    "l'Université de Strasbourg",
    "l'Université Toulouse III",
    "Nantes Université",
)
_UNIVERSITIES_DE = (
    "LMU München",
    "Charité Berlin",
    "Universität Heidelberg",
    "Universität Hamburg",
    "Universität zu Köln",
    "Universität Leipzig",
)
_UNIVERSITIES_IT = (
    "Università di Bologna",
    "Sapienza Università di Roma",
    "Università di Padova",
    "Università degli Studi di Milano",
    "Università di Napoli Federico II",
    "Università di Torino",
)


@dataclass(frozen=True, slots=True)
class Fees:
    """A practitioner's fee sector (FeeSector value) and fees text."""

    sector: str
    text: str


@dataclass(frozen=True, slots=True)
class Access:
    """How to reach a practice: practical information and step-free access."""

    text: str
    step_free: bool


def _euros(amount: float) -> str:
    """French and Italian style: comma decimals, no decimals when whole (30 €, 16,13 €)."""
    whole = round(amount)
    if abs(amount - whole) < 0.005:
        return f"{whole} €"
    return f"{amount:.2f} €".replace(".", ",")


def fees(specialty: SpecialtySpec, country: str, rng: random.Random) -> Fees:
    """Fee sector and fees of a practitioner of `specialty` in `country`."""
    code = specialty.code
    draw = rng.random()
    if country == "FR":
        return _fees_fr(code, specialty.titled, draw, rng)
    if country == "DE":
        return _fees_de(code, draw, rng)
    return _fees_it(code, specialty.titled, draw, rng)


def _fees_fr(code: str, doctor: bool, draw: float, rng: random.Random) -> Fees:
    word, tariff = _FR_TARIFF.get(code, _FR_SPECIALIST)
    if code in _NOT_REFUNDED:
        amount = int(tariff) + rng.choice((-10, -5, 0, 5, 10, 15))
        return Fees(
            "fr_nc", f"{word} {amount} € (non remboursée par l'Assurance Maladie)"
        )
    if not tariff[0].isdigit():
        return Fees("fr_1", f"{word} : {tariff}")
    base = float(tariff.replace(",", "."))
    if code == "general-practice":
        shares = (0.88, 0.97)
    elif doctor:
        shares = (0.55, 0.95)
    else:
        shares = (0.97, 1.0)
    if draw < shares[0]:
        return Fees("fr_1", f"{word} {_euros(base)}")
    if draw < shares[1]:
        low = 5 * round(base * rng.uniform(1.4, 1.8) / 5)
        high = low + rng.choice((10, 15, 20, 30))
        return Fees(
            "fr_2",
            f"{word} {low} € à {high} € (dépassements d'honoraires ; "
            f"base de remboursement {_euros(base)})",
        )
    amount = 5 * round(base * rng.uniform(2.2, 3.2) / 5)
    return Fees("fr_nc", f"{word} {amount} € (non remboursée par l'Assurance Maladie)")


def _fees_de(code: str, draw: float, rng: random.Random) -> Fees:
    private_share = 0.6 if code in _NOT_REFUNDED else 0.1
    if draw < private_share:
        amount = 5 * round(rng.uniform(60, 140) / 5)
        return Fees(
            "de_private",
            f"Privatpraxis: Konsultation ab {amount} € (Abrechnung nach GOÄ)",
        )
    return Fees(
        "de_gkv",
        "Konsultation für gesetzlich Versicherte über die Krankenkasse "
        "(Gesundheitskarte mitbringen); Privatpatienten nach GOÄ",
    )


def _fees_it(code: str, doctor: bool, draw: float, rng: random.Random) -> Fees:
    if code == "general-practice" and draw < 0.9:
        return Fees("it_ssn", "Visita gratuita per gli assistiti del SSN")
    if code not in _NOT_REFUNDED and draw < (0.4 if doctor else 0.3):
        return Fees(
            "it_ssn",
            "Visita con impegnativa del medico di base: ticket SSN secondo la regione",
        )
    base = _IT_PRIVATE_FEE.get(code, 110)
    first = 10 * round(base * rng.uniform(0.9, 1.4) / 10)
    follow_up = 10 * round(first * 0.7 / 10)
    return Fees(
        "it_private",
        f"Prima visita {_euros(first)}, visita di controllo {_euros(follow_up)}",
    )


def presentation(
    *,
    specialty: SpecialtySpec,
    country: str,
    female: bool,
    display_name: str,
    city: str,
    languages: tuple[str, ...],
    rng: random.Random,
) -> str:
    """A short presentation in the practice's language, or "" (three in ten say nothing)."""
    if rng.random() < 0.3:
        return ""
    year = rng.randint(1992, 2022)
    english = "en" in languages
    if country == "FR":
        graduated = "Diplômée" if female else "Diplômé"
        lines = [
            f"{graduated} de {rng.choice(_FACULTIES)}, "
            f"{display_name} exerce à {city} depuis {year}.",
            f"Spécialité : {specialty.fr}.",
            rng.choice(
                (
                    "Consultations sur rendez-vous uniquement.",
                    "Merci de prévenir au moins 24 h à l'avance en cas d'empêchement.",
                    "Pensez à apporter votre carte Vitale et vos derniers examens.",
                )
            ),
        ]
        if english:
            lines.append("Consultations possibles en anglais.")
    elif country == "DE":
        lines = [
            f"{display_name} ist seit {year} in {city} niedergelassen "
            f"(Studium: {rng.choice(_UNIVERSITIES_DE)}).",
            f"Fachgebiet: {specialty.de}.",
            rng.choice(
                (
                    "Termine nur nach Vereinbarung.",
                    "Bitte bringen Sie Ihre Gesundheitskarte und Vorbefunde mit.",
                    "Bitte sagen Sie Termine mindestens 24 Stunden vorher ab.",
                )
            ),
        ]
        if english:
            lines.append("Sprechstunde auch auf Englisch.")
    else:
        lines = [
            f"{display_name} esercita a {city} dal {year} "
            f"(laurea: {rng.choice(_UNIVERSITIES_IT)}).",
            f"Specializzazione: {specialty.it}.",
            rng.choice(
                (
                    "Si riceve solo su appuntamento.",
                    "Portare la tessera sanitaria e gli esami recenti.",
                    "In caso di disdetta, avvisare almeno 24 ore prima.",
                )
            ),
        ]
        if english:
            lines.append("Si parla inglese.")
    return " ".join(lines)


def access(*, language: str, city: str, contact: str, rng: random.Random) -> Access:
    """Floor, lift, entry code or bell, public transport and parking of a practice."""
    floor = rng.choices((0, 1, 2, 3, 4), (40, 25, 18, 10, 7))[0]
    lift = floor > 0 and rng.random() < 0.7
    step_free = (floor == 0 or lift) and rng.random() < 0.9
    stop = rng.choice(_STOPS[language])
    line = rng.randint(1, 14)
    bus = rng.randint(2, 99)
    metro = city in _METRO_CITIES
    parking = rng.random() < 0.4
    code = rng.random() < 0.5
    lines: list[str] = []
    if language == "fr":
        where = (
            "Rez-de-chaussée"
            if floor == 0
            else ("1er étage" if floor == 1 else f"{floor}e étage")
        )
        if floor:
            where += ", avec ascenseur" if lift else ", sans ascenseur"
        lines.append(where)
        lines.append(
            f"Code d'entrée : {rng.randint(1000, 9999)}{rng.choice('ABC')}"
            if code
            else f"Interphone : {contact}"
        )
        lines.append(
            f"Métro ligne {line}, station {stop}"
            if metro
            else f"Bus {bus}, arrêt {stop}"
        )
        if parking:
            lines.append("Parking public à proximité")
        if not step_free:
            lines.append("Cabinet non accessible en fauteuil roulant")
    elif language == "de":
        where = "Erdgeschoss" if floor == 0 else f"{floor}. OG"
        if floor:
            where += ", mit Aufzug" if lift else ", kein Aufzug"
        lines.append(where)
        lines.append(f"Klingel: {contact}")
        lines.append(
            f"U-Bahn U{min(line, 9)}, Haltestelle {stop}"
            if metro
            else f"Bus {bus}, Haltestelle {stop}"
        )
        if parking:
            lines.append("Parkplätze im Hof")
        if not step_free:
            lines.append("Praxis nicht barrierefrei")
    else:
        where = "Piano terra" if floor == 0 else f"{floor}° piano"
        if floor:
            where += ", con ascensore" if lift else ", senza ascensore"
        lines.append(where)
        lines.append(f"Citofono: {contact}")
        lines.append(
            f"Metro linea M{min(line, 5)}, fermata {stop}"
            if metro
            else f"Autobus {bus}, fermata {stop}"
        )
        if parking:
            lines.append("Parcheggio nelle vicinanze")
        if not step_free:
            lines.append("Studio non accessibile in sedia a rotelle")
    return Access("\n".join(lines), step_free)
