"""Specialties of the demo data set and the visit motives each one typically offers.

Motive names are data in the practice's language (fr/de/it), not interface strings.
Durations are in minutes, minimum notice in minutes, horizon in days, the
cancellation cut-off in hours. `new_patients=False` marks motives only patients
already seen by the practitioner may book (follow-ups, treatment sessions).
"""

from dataclasses import dataclass

IN_PERSON = "in_person"
VIDEO = "video"
PHONE = "phone"

# Opening-hour profiles (see carnet.directory.demo.hours).
OFFICE = "office"
GP = "gp"
DENTAL = "dental"
THERAPY = "therapy"
IMAGING = "imaging"
VACCINATION = "vaccination"
NURSING = "nursing"


@dataclass(frozen=True, slots=True)
class MotiveSpec:
    """A typical visit motive, named in each practice language, with its booking rules."""

    fr: str
    de: str
    it: str
    minutes: int
    channel: str = IN_PERSON
    new_patients: bool = True
    notice: int = 60
    horizon: int = 90
    cutoff: int = 24

    def name(self, language: str) -> str:
        """The motive's name in `language` (fr, de or it)."""
        return getattr(self, language)


@dataclass(frozen=True, slots=True)
class SpecialtySpec:
    """A specialty: its names, how common it is, how its practices work and what they offer.

    `weight` is the relative share of practitioners; `titled` says whether its
    practitioners are addressed as doctors; `lanr_group` is the two-digit
    specialty suffix of a German LANR (approximate KBV Fachgruppe); `practice`
    names the kind of practice (fr, de, it).
    """

    code: str
    en: str
    fr: str
    de: str
    it: str
    weight: float
    hours: str
    titled: bool
    female_share: float
    lanr_group: str
    practice: tuple[str, str, str]
    motives: tuple[MotiveSpec, ...]


def _follow_up(minutes: int = 20, **rules: int) -> MotiveSpec:
    return MotiveSpec(
        "Consultation de suivi",
        "Kontrolltermin",
        "Visita di controllo",
        minutes,
        new_patients=False,
        **rules,
    )


_DOCTOR_OFFICE = ("Cabinet médical", "Praxis", "Studio medico")

SPECIALTIES: tuple[SpecialtySpec, ...] = (
    SpecialtySpec(
        "general-practice",
        "General practice",
        "Médecine générale",
        "Allgemeinmedizin",
        "Medicina generale",
        weight=28,
        hours=GP,
        titled=True,
        female_share=0.5,
        lanr_group="01",
        practice=("Cabinet médical", "Hausarztpraxis", "Studio medico"),
        motives=(
            MotiveSpec(
                "Consultation de médecine générale",
                "Sprechstunde",
                "Visita di medicina generale",
                20,
                horizon=60,
            ),
            _follow_up(15, horizon=90),
            MotiveSpec(
                "Téléconsultation",
                "Videosprechstunde",
                "Televisita",
                15,
                channel=VIDEO,
                horizon=30,
            ),
            MotiveSpec(
                "Renouvellement d'ordonnance",
                "Rezeptverlängerung",
                "Rinnovo ricetta",
                10,
                channel=PHONE,
                new_patients=False,
                horizon=30,
            ),
        ),
    ),
    SpecialtySpec(
        "paediatrics",
        "Paediatrics",
        "Pédiatrie",
        "Kinder- und Jugendmedizin",
        "Pediatria",
        weight=5,
        hours=GP,
        titled=True,
        female_share=0.7,
        lanr_group="34",
        practice=("Cabinet de pédiatrie", "Kinderarztpraxis", "Studio pediatrico"),
        motives=(
            MotiveSpec(
                "Consultation pédiatrique",
                "Kindersprechstunde",
                "Visita pediatrica",
                20,
            ),
            MotiveSpec("Vaccination", "Impftermin", "Vaccinazione", 15),
            MotiveSpec(
                "Examen de suivi du nourrisson",
                "Vorsorgeuntersuchung (U-Untersuchung)",
                "Bilancio di salute",
                30,
                new_patients=False,
                horizon=120,
            ),
            MotiveSpec(
                "Téléconsultation pédiatrique",
                "Videosprechstunde",
                "Televisita pediatrica",
                15,
                channel=VIDEO,
                new_patients=False,
                horizon=30,
            ),
        ),
    ),
    SpecialtySpec(
        "dentistry",
        "Dentistry",
        "Chirurgie dentaire",
        "Zahnmedizin",
        "Odontoiatria",
        weight=10,
        hours=DENTAL,
        titled=True,
        female_share=0.5,
        lanr_group="00",
        practice=("Cabinet dentaire", "Zahnarztpraxis", "Studio dentistico"),
        motives=(
            MotiveSpec(
                "Première consultation dentaire",
                "Erstuntersuchung",
                "Prima visita odontoiatrica",
                30,
                horizon=120,
            ),
            MotiveSpec(
                "Détartrage",
                "Professionelle Zahnreinigung",
                "Igiene dentale",
                45,
                horizon=180,
                cutoff=48,
            ),
            MotiveSpec(
                "Urgence dentaire",
                "Zahnärztlicher Notfall",
                "Urgenza odontoiatrica",
                20,
                horizon=30,
            ),
            MotiveSpec(
                "Soins dentaires",
                "Behandlungstermin",
                "Cure conservative",
                45,
                new_patients=False,
                horizon=180,
                cutoff=48,
            ),
        ),
    ),
    SpecialtySpec(
        "ophthalmology",
        "Ophthalmology",
        "Ophtalmologie",
        "Augenheilkunde",
        "Oftalmologia",
        weight=3,
        hours=OFFICE,
        titled=True,
        female_share=0.45,
        lanr_group="05",
        practice=("Cabinet d'ophtalmologie", "Augenarztpraxis", "Studio oculistico"),
        motives=(
            MotiveSpec(
                "Consultation ophtalmologique",
                "Augenärztliche Untersuchung",
                "Visita oculistica",
                20,
                notice=120,
                horizon=180,
            ),
            MotiveSpec(
                "Renouvellement de lunettes",
                "Brillenverordnung",
                "Prescrizione occhiali",
                15,
                horizon=180,
            ),
            MotiveSpec(
                "Fond d'œil",
                "Augenhintergrunduntersuchung",
                "Esame del fondo oculare",
                30,
                new_patients=False,
                horizon=180,
            ),
        ),
    ),
    SpecialtySpec(
        "dermatology",
        "Dermatology",
        "Dermatologie",
        "Dermatologie",
        "Dermatologia",
        weight=2.5,
        hours=OFFICE,
        titled=True,
        female_share=0.6,
        lanr_group="21",
        practice=("Cabinet de dermatologie", "Hautarztpraxis", "Studio dermatologico"),
        motives=(
            MotiveSpec(
                "Consultation dermatologique",
                "Hautärztliche Sprechstunde",
                "Visita dermatologica",
                20,
                notice=120,
                horizon=180,
            ),
            MotiveSpec(
                "Contrôle des grains de beauté",
                "Hautkrebs-Screening",
                "Mappatura dei nei",
                30,
                horizon=180,
                cutoff=48,
            ),
            MotiveSpec(
                "Téléconsultation dermatologique",
                "Video-Sprechstunde Haut",
                "Teledermatologia",
                15,
                channel=VIDEO,
                new_patients=False,
                horizon=60,
            ),
        ),
    ),
    SpecialtySpec(
        "psychiatry",
        "Psychiatry",
        "Psychiatrie",
        "Psychiatrie und Psychotherapie",
        "Psichiatria",
        weight=2,
        hours=THERAPY,
        titled=True,
        female_share=0.5,
        lanr_group="58",
        practice=(
            "Cabinet de psychiatrie",
            "Psychiatrische Praxis",
            "Studio di psichiatria",
        ),
        motives=(
            MotiveSpec(
                "Première consultation psychiatrique",
                "Psychiatrisches Erstgespräch",
                "Prima visita psichiatrica",
                45,
                notice=240,
                horizon=120,
                cutoff=48,
            ),
            _follow_up(30, horizon=120, cutoff=48),
            MotiveSpec(
                "Téléconsultation de suivi",
                "Videosprechstunde",
                "Colloquio in videochiamata",
                30,
                channel=VIDEO,
                new_patients=False,
                horizon=120,
                cutoff=48,
            ),
        ),
    ),
    SpecialtySpec(
        "physiotherapy",
        "Physiotherapy",
        "Masso-kinésithérapie",
        "Physiotherapie",
        "Fisioterapia",
        weight=8,
        hours=THERAPY,
        titled=False,
        female_share=0.55,
        lanr_group="00",
        practice=(
            "Cabinet de kinésithérapie",
            "Praxis für Physiotherapie",
            "Studio di fisioterapia",
        ),
        motives=(
            MotiveSpec(
                "Bilan kinésithérapique",
                "Befundaufnahme",
                "Valutazione fisioterapica",
                45,
                horizon=60,
            ),
            MotiveSpec(
                "Séance de kinésithérapie",
                "Krankengymnastik",
                "Seduta di fisioterapia",
                30,
                new_patients=False,
                horizon=60,
            ),
            MotiveSpec(
                "Rééducation post-opératoire",
                "Manuelle Therapie",
                "Riabilitazione post-operatoria",
                30,
                new_patients=False,
                horizon=60,
            ),
        ),
    ),
    SpecialtySpec(
        "vaccination-centre",
        "Vaccination centre",
        "Centre de vaccination",
        "Impfzentrum",
        "Centro vaccinale",
        weight=1,
        hours=VACCINATION,
        titled=False,
        female_share=0.75,
        lanr_group="00",
        practice=("Centre de vaccination", "Impfzentrum", "Centro vaccinale"),
        motives=(
            MotiveSpec(
                "Vaccination contre la grippe",
                "Grippeschutzimpfung",
                "Vaccino antinfluenzale",
                5,
                horizon=30,
                cutoff=24,
            ),
            MotiveSpec(
                "Vaccination COVID-19",
                "COVID-19-Impfung",
                "Vaccino anti COVID-19",
                10,
                horizon=30,
            ),
            MotiveSpec(
                "Vaccins du voyageur",
                "Reiseimpfung",
                "Vaccinazioni per viaggiatori",
                20,
                notice=240,
                horizon=60,
                cutoff=48,
            ),
            MotiveSpec(
                "Rappel diphtérie-tétanos-polio",
                "Tetanus-Auffrischimpfung",
                "Richiamo antitetanico",
                10,
                horizon=30,
            ),
        ),
    ),
    SpecialtySpec(
        "gynaecology",
        "Gynaecology",
        "Gynécologie",
        "Frauenheilkunde und Geburtshilfe",
        "Ginecologia",
        weight=3,
        hours=OFFICE,
        titled=True,
        female_share=0.7,
        lanr_group="15",
        practice=("Cabinet de gynécologie", "Frauenarztpraxis", "Studio ginecologico"),
        motives=(
            MotiveSpec(
                "Consultation gynécologique",
                "Gynäkologische Sprechstunde",
                "Visita ginecologica",
                20,
                notice=120,
                horizon=180,
            ),
            MotiveSpec(
                "Frottis de dépistage",
                "Krebsvorsorge",
                "Pap test",
                20,
                horizon=180,
            ),
            MotiveSpec(
                "Suivi de grossesse",
                "Schwangerschaftsvorsorge",
                "Visita di controllo in gravidanza",
                30,
                new_patients=False,
                horizon=180,
            ),
        ),
    ),
    SpecialtySpec(
        "cardiology",
        "Cardiology",
        "Cardiologie",
        "Kardiologie",
        "Cardiologia",
        weight=2,
        hours=OFFICE,
        titled=True,
        female_share=0.3,
        lanr_group="28",
        practice=(
            "Cabinet de cardiologie",
            "Kardiologische Praxis",
            "Studio cardiologico",
        ),
        motives=(
            MotiveSpec(
                "Consultation de cardiologie",
                "Kardiologische Untersuchung",
                "Visita cardiologica",
                30,
                notice=240,
                horizon=180,
                cutoff=48,
            ),
            MotiveSpec(
                "Électrocardiogramme (ECG)",
                "EKG",
                "Elettrocardiogramma",
                15,
                horizon=90,
            ),
            MotiveSpec(
                "Échographie cardiaque",
                "Herzultraschall (Echokardiographie)",
                "Ecocardiogramma",
                30,
                new_patients=False,
                horizon=180,
                cutoff=48,
            ),
        ),
    ),
    SpecialtySpec(
        "ent",
        "Ear, nose and throat (ENT)",
        "Oto-rhino-laryngologie (ORL)",
        "Hals-Nasen-Ohrenheilkunde (HNO)",
        "Otorinolaringoiatria",
        weight=1.5,
        hours=OFFICE,
        titled=True,
        female_share=0.4,
        lanr_group="19",
        practice=("Cabinet d'ORL", "HNO-Praxis", "Studio di otorinolaringoiatria"),
        motives=(
            MotiveSpec(
                "Consultation ORL",
                "HNO-Sprechstunde",
                "Visita otorinolaringoiatrica",
                20,
                horizon=120,
            ),
            MotiveSpec("Audiogramme", "Hörtest", "Esame audiometrico", 30, horizon=120),
            _follow_up(15, horizon=120),
        ),
    ),
    SpecialtySpec(
        "radiology",
        "Radiology",
        "Radiologie",
        "Radiologie",
        "Radiologia",
        weight=2,
        hours=IMAGING,
        titled=True,
        female_share=0.4,
        lanr_group="24",
        practice=(
            "Centre d'imagerie médicale",
            "Radiologische Praxis",
            "Centro di diagnostica per immagini",
        ),
        motives=(
            MotiveSpec("Radiographie", "Röntgen", "Radiografia", 10, horizon=60),
            MotiveSpec("Échographie", "Ultraschall", "Ecografia", 20, horizon=90),
            MotiveSpec(
                "IRM",
                "MRT",
                "Risonanza magnetica",
                30,
                notice=240,
                horizon=90,
                cutoff=48,
            ),
            MotiveSpec("Mammographie", "Mammographie", "Mammografia", 20, horizon=120),
        ),
    ),
    SpecialtySpec(
        "midwifery",
        "Midwifery",
        "Sage-femme",
        "Hebammenhilfe",
        "Ostetricia",
        weight=1.5,
        hours=OFFICE,
        titled=False,
        female_share=0.97,
        lanr_group="00",
        practice=("Cabinet de sage-femme", "Hebammenpraxis", "Studio ostetrico"),
        motives=(
            MotiveSpec(
                "Consultation de suivi de grossesse",
                "Schwangerenvorsorge",
                "Visita ostetrica",
                30,
                horizon=120,
            ),
            MotiveSpec(
                "Préparation à la naissance",
                "Geburtsvorbereitung",
                "Corso preparto",
                60,
                horizon=120,
                cutoff=48,
            ),
            MotiveSpec(
                "Rééducation périnéale",
                "Rückbildungsgymnastik",
                "Riabilitazione del pavimento pelvico",
                30,
                new_patients=False,
                horizon=90,
            ),
        ),
    ),
    SpecialtySpec(
        "osteopathy",
        "Osteopathy",
        "Ostéopathie",
        "Osteopathie",
        "Osteopatia",
        weight=2,
        hours=THERAPY,
        titled=False,
        female_share=0.5,
        lanr_group="00",
        practice=(
            "Cabinet d'ostéopathie",
            "Praxis für Osteopathie",
            "Studio di osteopatia",
        ),
        motives=(
            MotiveSpec(
                "Séance d'ostéopathie",
                "Osteopathische Behandlung",
                "Trattamento osteopatico",
                45,
                horizon=60,
            ),
            MotiveSpec(
                "Ostéopathie du nourrisson",
                "Osteopathie für Säuglinge",
                "Osteopatia pediatrica",
                30,
                horizon=60,
            ),
        ),
    ),
    SpecialtySpec(
        "speech-therapy",
        "Speech therapy",
        "Orthophonie",
        "Logopädie",
        "Logopedia",
        weight=1.5,
        hours=THERAPY,
        titled=False,
        female_share=0.95,
        lanr_group="00",
        practice=(
            "Cabinet d'orthophonie",
            "Praxis für Logopädie",
            "Studio di logopedia",
        ),
        motives=(
            MotiveSpec(
                "Bilan orthophonique",
                "Logopädische Diagnostik",
                "Valutazione logopedica",
                60,
                notice=240,
                horizon=180,
                cutoff=48,
            ),
            MotiveSpec(
                "Séance d'orthophonie",
                "Logopädische Therapie",
                "Seduta di logopedia",
                30,
                new_patients=False,
                horizon=90,
                cutoff=48,
            ),
        ),
    ),
    SpecialtySpec(
        "psychology",
        "Psychology",
        "Psychologie",
        "Psychologische Psychotherapie",
        "Psicologia",
        weight=3,
        hours=THERAPY,
        titled=False,
        female_share=0.8,
        lanr_group="68",
        practice=(
            "Cabinet de psychologie",
            "Psychotherapeutische Praxis",
            "Studio di psicologia",
        ),
        motives=(
            MotiveSpec(
                "Premier entretien",
                "Psychotherapeutische Sprechstunde",
                "Primo colloquio",
                50,
                notice=240,
                horizon=90,
                cutoff=48,
            ),
            MotiveSpec(
                "Séance de psychothérapie",
                "Therapiesitzung",
                "Seduta di psicoterapia",
                50,
                new_patients=False,
                horizon=90,
                cutoff=48,
            ),
            MotiveSpec(
                "Séance en visio",
                "Videositzung",
                "Seduta online",
                50,
                channel=VIDEO,
                new_patients=False,
                horizon=90,
                cutoff=48,
            ),
        ),
    ),
    SpecialtySpec(
        "rheumatology",
        "Rheumatology",
        "Rhumatologie",
        "Rheumatologie",
        "Reumatologia",
        weight=0.8,
        hours=OFFICE,
        titled=True,
        female_share=0.5,
        lanr_group="31",
        practice=_DOCTOR_OFFICE,
        motives=(
            MotiveSpec(
                "Consultation de rhumatologie",
                "Rheumatologische Sprechstunde",
                "Visita reumatologica",
                30,
                notice=240,
                horizon=180,
            ),
            MotiveSpec(
                "Infiltration",
                "Gelenkinjektion",
                "Infiltrazione articolare",
                20,
                new_patients=False,
                horizon=90,
            ),
            _follow_up(20, horizon=180),
        ),
    ),
    SpecialtySpec(
        "gastroenterology",
        "Gastroenterology",
        "Gastro-entérologie",
        "Gastroenterologie",
        "Gastroenterologia",
        weight=0.8,
        hours=OFFICE,
        titled=True,
        female_share=0.35,
        lanr_group="26",
        practice=_DOCTOR_OFFICE,
        motives=(
            MotiveSpec(
                "Consultation de gastro-entérologie",
                "Gastroenterologische Sprechstunde",
                "Visita gastroenterologica",
                30,
                notice=240,
                horizon=180,
            ),
            MotiveSpec(
                "Consultation avant coloscopie",
                "Vorgespräch Darmspiegelung",
                "Visita pre-colonscopia",
                20,
                horizon=120,
            ),
            _follow_up(20, horizon=180),
        ),
    ),
    SpecialtySpec(
        "neurology",
        "Neurology",
        "Neurologie",
        "Neurologie",
        "Neurologia",
        weight=0.8,
        hours=OFFICE,
        titled=True,
        female_share=0.45,
        lanr_group="53",
        practice=_DOCTOR_OFFICE,
        motives=(
            MotiveSpec(
                "Consultation de neurologie",
                "Neurologische Sprechstunde",
                "Visita neurologica",
                30,
                notice=240,
                horizon=180,
                cutoff=48,
            ),
            MotiveSpec(
                "Électroencéphalogramme (EEG)",
                "EEG",
                "Elettroencefalogramma",
                45,
                new_patients=False,
                horizon=120,
                cutoff=48,
            ),
            _follow_up(20, horizon=180),
        ),
    ),
    SpecialtySpec(
        "endocrinology",
        "Endocrinology",
        "Endocrinologie",
        "Endokrinologie und Diabetologie",
        "Endocrinologia",
        weight=0.7,
        hours=OFFICE,
        titled=True,
        female_share=0.6,
        lanr_group="25",
        practice=_DOCTOR_OFFICE,
        motives=(
            MotiveSpec(
                "Consultation d'endocrinologie",
                "Endokrinologische Sprechstunde",
                "Visita endocrinologica",
                30,
                notice=240,
                horizon=180,
            ),
            MotiveSpec(
                "Suivi du diabète",
                "Diabetes-Kontrolle",
                "Controllo diabetologico",
                20,
                new_patients=False,
                horizon=120,
            ),
            MotiveSpec(
                "Échographie thyroïdienne",
                "Schilddrüsen-Ultraschall",
                "Ecografia tiroidea",
                20,
                horizon=120,
            ),
        ),
    ),
    SpecialtySpec(
        "urology",
        "Urology",
        "Urologie",
        "Urologie",
        "Urologia",
        weight=0.8,
        hours=OFFICE,
        titled=True,
        female_share=0.2,
        lanr_group="67",
        practice=("Cabinet d'urologie", "Urologische Praxis", "Studio urologico"),
        motives=(
            MotiveSpec(
                "Consultation d'urologie",
                "Urologische Sprechstunde",
                "Visita urologica",
                20,
                notice=120,
                horizon=180,
            ),
            MotiveSpec(
                "Bilan prostatique",
                "Prostata-Vorsorge",
                "Controllo della prostata",
                20,
                horizon=180,
            ),
            _follow_up(15, horizon=180),
        ),
    ),
    SpecialtySpec(
        "pulmonology",
        "Pulmonology",
        "Pneumologie",
        "Pneumologie",
        "Pneumologia",
        weight=0.7,
        hours=OFFICE,
        titled=True,
        female_share=0.45,
        lanr_group="30",
        practice=_DOCTOR_OFFICE,
        motives=(
            MotiveSpec(
                "Consultation de pneumologie",
                "Pneumologische Sprechstunde",
                "Visita pneumologica",
                30,
                notice=240,
                horizon=180,
            ),
            MotiveSpec(
                "Explorations fonctionnelles respiratoires",
                "Lungenfunktionsprüfung",
                "Spirometria",
                30,
                horizon=120,
            ),
            _follow_up(20, horizon=180),
        ),
    ),
    SpecialtySpec(
        "orthopaedics",
        "Orthopaedics",
        "Chirurgie orthopédique",
        "Orthopädie und Unfallchirurgie",
        "Ortopedia",
        weight=1.5,
        hours=OFFICE,
        titled=True,
        female_share=0.2,
        lanr_group="10",
        practice=("Cabinet d'orthopédie", "Orthopädische Praxis", "Studio ortopedico"),
        motives=(
            MotiveSpec(
                "Consultation d'orthopédie",
                "Orthopädische Sprechstunde",
                "Visita ortopedica",
                20,
                notice=120,
                horizon=120,
            ),
            MotiveSpec(
                "Contrôle post-opératoire",
                "Postoperative Kontrolle",
                "Controllo post-operatorio",
                15,
                new_patients=False,
                horizon=90,
            ),
            MotiveSpec(
                "Infiltration",
                "Gelenkinjektion",
                "Infiltrazione",
                20,
                new_patients=False,
                horizon=90,
            ),
        ),
    ),
    SpecialtySpec(
        "allergology",
        "Allergology",
        "Allergologie",
        "Allergologie",
        "Allergologia",
        weight=0.5,
        hours=OFFICE,
        titled=True,
        female_share=0.6,
        lanr_group="23",
        practice=_DOCTOR_OFFICE,
        motives=(
            MotiveSpec(
                "Consultation d'allergologie",
                "Allergologische Sprechstunde",
                "Visita allergologica",
                30,
                notice=120,
                horizon=180,
            ),
            MotiveSpec(
                "Tests cutanés",
                "Allergietest (Prick-Test)",
                "Prick test",
                45,
                horizon=120,
                cutoff=48,
            ),
            MotiveSpec(
                "Désensibilisation",
                "Hyposensibilisierung",
                "Immunoterapia specifica",
                15,
                new_patients=False,
                horizon=90,
            ),
        ),
    ),
    SpecialtySpec(
        "podiatry",
        "Podiatry",
        "Pédicurie-podologie",
        "Podologie",
        "Podologia",
        weight=1.2,
        hours=OFFICE,
        titled=False,
        female_share=0.7,
        lanr_group="00",
        practice=(
            "Cabinet de pédicurie-podologie",
            "Podologische Praxis",
            "Studio podologico",
        ),
        motives=(
            MotiveSpec(
                "Soins de pédicurie",
                "Podologische Komplexbehandlung",
                "Trattamento podologico",
                30,
                horizon=60,
            ),
            MotiveSpec(
                "Bilan pour semelles orthopédiques",
                "Einlagenversorgung",
                "Plantari su misura",
                45,
                horizon=90,
            ),
        ),
    ),
    SpecialtySpec(
        "dietetics",
        "Dietetics",
        "Diététique",
        "Ernährungsberatung",
        "Dietistica",
        weight=1,
        hours=THERAPY,
        titled=False,
        female_share=0.9,
        lanr_group="00",
        practice=(
            "Cabinet de diététique",
            "Praxis für Ernährungsberatung",
            "Studio di nutrizione",
        ),
        motives=(
            MotiveSpec(
                "Bilan diététique",
                "Ernährungsberatung (Erstgespräch)",
                "Prima visita nutrizionale",
                60,
                horizon=90,
                cutoff=48,
            ),
            MotiveSpec(
                "Consultation de suivi diététique",
                "Folgeberatung",
                "Controllo nutrizionale",
                30,
                new_patients=False,
                horizon=90,
            ),
            MotiveSpec(
                "Consultation en visio",
                "Online-Beratung",
                "Consulenza online",
                30,
                channel=VIDEO,
                new_patients=False,
                horizon=90,
            ),
        ),
    ),
    SpecialtySpec(
        "nephrology",
        "Nephrology",
        "Néphrologie",
        "Nephrologie",
        "Nefrologia",
        weight=0.4,
        hours=OFFICE,
        titled=True,
        female_share=0.4,
        lanr_group="29",
        practice=_DOCTOR_OFFICE,
        motives=(
            MotiveSpec(
                "Consultation de néphrologie",
                "Nephrologische Sprechstunde",
                "Visita nefrologica",
                30,
                notice=240,
                horizon=180,
            ),
            _follow_up(20, horizon=180),
        ),
    ),
    SpecialtySpec(
        "oncology",
        "Oncology",
        "Oncologie",
        "Hämatologie und Onkologie",
        "Oncologia",
        weight=0.5,
        hours=OFFICE,
        titled=True,
        female_share=0.5,
        lanr_group="27",
        practice=_DOCTOR_OFFICE,
        motives=(
            MotiveSpec(
                "Première consultation d'oncologie",
                "Onkologisches Erstgespräch",
                "Prima visita oncologica",
                60,
                notice=240,
                horizon=60,
                cutoff=48,
            ),
            _follow_up(30, horizon=120, cutoff=48),
            MotiveSpec(
                "Téléconsultation de suivi",
                "Videosprechstunde",
                "Televisita di controllo",
                20,
                channel=VIDEO,
                new_patients=False,
                horizon=120,
            ),
        ),
    ),
    SpecialtySpec(
        "geriatrics",
        "Geriatrics",
        "Gériatrie",
        "Geriatrie",
        "Geriatria",
        weight=0.4,
        hours=OFFICE,
        titled=True,
        female_share=0.6,
        lanr_group="03",
        practice=_DOCTOR_OFFICE,
        motives=(
            MotiveSpec(
                "Consultation gériatrique",
                "Geriatrisches Assessment",
                "Visita geriatrica",
                45,
                notice=240,
                horizon=120,
            ),
            MotiveSpec(
                "Consultation mémoire",
                "Gedächtnissprechstunde",
                "Valutazione della memoria",
                60,
                notice=240,
                horizon=180,
                cutoff=48,
            ),
        ),
    ),
    SpecialtySpec(
        "sports-medicine",
        "Sports medicine",
        "Médecine du sport",
        "Sportmedizin",
        "Medicina dello sport",
        weight=0.6,
        hours=OFFICE,
        titled=True,
        female_share=0.35,
        lanr_group="01",
        practice=(
            "Cabinet de médecine du sport",
            "Sportmedizinische Praxis",
            "Centro di medicina dello sport",
        ),
        motives=(
            MotiveSpec(
                "Certificat de non contre-indication au sport",
                "Sporttauglichkeitsuntersuchung",
                "Visita medico-sportiva",
                20,
                horizon=60,
            ),
            MotiveSpec(
                "Épreuve d'effort",
                "Leistungsdiagnostik",
                "Test da sforzo",
                45,
                horizon=90,
                cutoff=48,
            ),
            MotiveSpec(
                "Consultation de traumatologie du sport",
                "Sprechstunde Sportverletzung",
                "Visita per trauma sportivo",
                20,
                horizon=30,
            ),
        ),
    ),
    SpecialtySpec(
        "orthodontics",
        "Orthodontics",
        "Orthodontie",
        "Kieferorthopädie",
        "Ortodonzia",
        weight=1,
        hours=DENTAL,
        titled=True,
        female_share=0.55,
        lanr_group="00",
        practice=(
            "Cabinet d'orthodontie",
            "Kieferorthopädische Praxis",
            "Studio ortodontico",
        ),
        motives=(
            MotiveSpec(
                "Première consultation d'orthodontie",
                "Kieferorthopädische Erstberatung",
                "Prima visita ortodontica",
                30,
                horizon=120,
            ),
            MotiveSpec(
                "Contrôle d'appareil",
                "Kontrolle Zahnspange",
                "Controllo apparecchio",
                15,
                new_patients=False,
                horizon=90,
            ),
        ),
    ),
    SpecialtySpec(
        "nursing",
        "Nursing",
        "Soins infirmiers",
        "Pflege",
        "Infermieristica",
        weight=3,
        hours=NURSING,
        titled=False,
        female_share=0.87,
        lanr_group="00",
        practice=("Cabinet infirmier", "Pflegepraxis", "Ambulatorio infermieristico"),
        motives=(
            MotiveSpec(
                "Prise de sang", "Blutabnahme", "Prelievo di sangue", 10, horizon=30
            ),
            MotiveSpec("Pansement", "Verbandswechsel", "Medicazione", 15, horizon=30),
            MotiveSpec("Injection", "Injektion", "Iniezione", 10, horizon=30),
        ),
    ),
    SpecialtySpec(
        "vascular-medicine",
        "Vascular medicine",
        "Médecine vasculaire",
        "Angiologie",
        "Angiologia",
        weight=0.4,
        hours=OFFICE,
        titled=True,
        female_share=0.5,
        lanr_group="22",
        practice=_DOCTOR_OFFICE,
        motives=(
            MotiveSpec(
                "Consultation de médecine vasculaire",
                "Angiologische Sprechstunde",
                "Visita angiologica",
                30,
                notice=120,
                horizon=180,
            ),
            MotiveSpec(
                "Écho-doppler veineux",
                "Venen-Ultraschall (Duplex)",
                "Ecocolordoppler venoso",
                30,
                horizon=120,
            ),
        ),
    ),
)

SPECIALTIES_BY_CODE: dict[str, SpecialtySpec] = {
    spec.code: spec for spec in SPECIALTIES
}

# What patients type for each specialty besides its names: the practitioner's
# title in each language, common synonyms and abbreviations (search keywords).
KEYWORDS: dict[str, str] = {
    "general-practice": (
        "médecin généraliste, médecin traitant, médecin de famille, généraliste, "
        "Hausarzt, Hausärztin, Allgemeinarzt, Allgemeinärztin, "
        "medico di base, medico di famiglia, medico generico, GP, family doctor"
    ),
    "paediatrics": (
        "pédiatre, médecin pour enfants, Kinderarzt, Kinderärztin, pediatra, "
        "paediatrician, pediatrician"
    ),
    "dentistry": (
        "dentiste, chirurgien-dentiste, Zahnarzt, Zahnärztin, dentista, dentist"
    ),
    "ophthalmology": (
        "ophtalmologue, ophtalmo, ophthalmologue, oculiste, Augenarzt, Augenärztin, "
        "oculista, oftalmologo, ophthalmologist, eye doctor"
    ),
    "dermatology": (
        "dermatologue, dermato, Hautarzt, Hautärztin, dermatologo, dermatologist, "
        "skin doctor"
    ),
    "psychiatry": "psychiatre, Psychiater, Psychiaterin, psichiatra, psychiatrist",
    "physiotherapy": (
        "kinésithérapeute, kiné, masseur-kinésithérapeute, Physiotherapeut, "
        "Krankengymnastik, fisioterapista, physiotherapist, physical therapist"
    ),
    "vaccination-centre": (
        "vaccin, vaccination, centre de vaccination, Impfung, Impfstelle, "
        "vaccino, vaccinazione, vaccine"
    ),
    "gynaecology": (
        "gynécologue, gynéco, Frauenarzt, Frauenärztin, Gynäkologe, ginecologo, "
        "gynaecologist, gynecologist"
    ),
    "cardiology": ("cardiologue, Kardiologe, Kardiologin, cardiologo, cardiologist"),
    "ent": (
        "ORL, oto-rhino, otorhinolaryngologiste, HNO-Arzt, HNO-Ärztin, "
        "otorino, otorinolaringoiatra, ENT doctor"
    ),
    "radiology": (
        "radiologue, radio, échographie, IRM, scanner, Radiologe, MRT, Röntgen, "
        "radiologo, ecografia, risonanza, radiologist, MRI, X-ray"
    ),
    "midwifery": "sage-femme, maïeuticien, Hebamme, ostetrica, midwife",
    "osteopathy": "ostéopathe, ostéo, Osteopath, osteopata, osteopath",
    "speech-therapy": (
        "orthophoniste, Logopäde, Logopädin, logopedista, speech therapist"
    ),
    "psychology": (
        "psychologue, psychothérapeute, Psychologe, Psychologin, Psychotherapeut, "
        "psicologo, psicoterapeuta, psychologist, therapist"
    ),
    "rheumatology": "rhumatologue, Rheumatologe, reumatologo, rheumatologist",
    "gastroenterology": (
        "gastro-entérologue, gastro, hépato-gastro-entérologue, Gastroenterologe, "
        "gastroenterologo, gastroenterologist"
    ),
    "neurology": "neurologue, Neurologe, Neurologin, neurologo, neurologist",
    "endocrinology": (
        "endocrinologue, diabétologue, Endokrinologe, Diabetologe, endocrinologo, "
        "diabetologo, endocrinologist"
    ),
    "urology": "urologue, Urologe, urologo, urologist",
    "pulmonology": ("pneumologue, Lungenarzt, Pneumologe, pneumologo, pulmonologist"),
    "orthopaedics": (
        "chirurgien orthopédiste, orthopédiste, Orthopäde, Unfallchirurg, "
        "ortopedico, orthopaedic surgeon, orthopedist"
    ),
    "allergology": "allergologue, Allergologe, allergologo, allergist",
    "podiatry": (
        "pédicure, podologue, pédicure-podologue, Podologe, Fußpflege, podologo, "
        "podiatrist, chiropodist"
    ),
    "dietetics": (
        "diététicien, diététicienne, nutritionniste, Ernährungsberater, "
        "dietista, nutrizionista, dietitian, nutritionist"
    ),
    "nephrology": "néphrologue, Nephrologe, nefrologo, nephrologist",
    "oncology": (
        "oncologue, cancérologue, cancer, Onkologe, Krebs, oncologo, tumore, oncologist"
    ),
    "geriatrics": "gériatre, Geriater, geriatra, geriatrician",
    "sports-medicine": (
        "médecin du sport, Sportarzt, Sportmediziner, medico sportivo, sports doctor"
    ),
    "orthodontics": ("orthodontiste, Kieferorthopäde, ortodontista, orthodontist"),
    "nursing": (
        "infirmier, infirmière, IDE, soins à domicile, Krankenpfleger, Pflegedienst, "
        "infermiere, infermiera, nurse"
    ),
    "vascular-medicine": (
        "angiologue, médecin vasculaire, phlébologue, Angiologe, Gefäßarzt, "
        "angiologo, flebologo, angiologist"
    ),
}
