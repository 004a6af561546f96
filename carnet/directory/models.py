"""Who can be booked, and where (FHIR Organization, Location, Practitioner, PractitionerRole)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from carnet.core.models import BaseModel


class Country(models.TextChoices):
    """Markets Carnet serves."""

    FRANCE = "FR", _("France")
    GERMANY = "DE", _("Germany")
    ITALY = "IT", _("Italy")


class Specialty(models.Model):
    """A medical specialty, named in each of the platform's languages."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=120)
    name_fr = models.CharField(_("name (French)"), max_length=120)
    name_de = models.CharField(_("name (German)"), max_length=120)
    name_it = models.CharField(_("name (Italian)"), max_length=120)
    keywords = models.TextField(
        _("search keywords"),
        blank=True,
        help_text=_(
            "Other words patients type for this specialty, in any language "
            "(e.g. généraliste, Hausarzt, medico di base)."
        ),
    )

    class Meta:
        verbose_name = _("specialty")
        verbose_name_plural = _("specialties")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """The name in the active language (English as a fallback)."""
        language = (get_language() or "en")[:2]
        return getattr(self, f"name_{language}", "") or self.name_en


class Practice(BaseModel):
    """A practice, clinic or centre where practitioners work (FHIR Organization)."""

    name = models.CharField(_("name"), max_length=200)
    country = models.CharField(_("country"), max_length=2, choices=Country)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Read by the reminders engine (carnet.notifications.outbox); a patient's
    # own choice can only narrow what the practice sends.
    email_reminders_enabled = models.BooleanField(
        _("reminders by e-mail"), default=True
    )
    sms_reminders_enabled = models.BooleanField(_("reminders by SMS"), default=True)

    class Meta:
        verbose_name = _("practice")
        verbose_name_plural = _("practices")

    def __str__(self) -> str:
        return self.name


class Location(BaseModel):
    """A physical place of a practice (FHIR Location)."""

    practice = models.ForeignKey(
        Practice,
        verbose_name=_("practice"),
        on_delete=models.CASCADE,
        related_name="locations",
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    address = models.CharField(_("address"), max_length=255)
    postcode = models.CharField(_("postcode"), max_length=16)
    city = models.CharField(_("city"), max_length=120, db_index=True)
    country = models.CharField(_("country"), max_length=2, choices=Country)
    latitude = models.FloatField(_("latitude"))
    longitude = models.FloatField(_("longitude"))
    practical_info = models.TextField(
        _("practical information"),
        blank=True,
        help_text=_("Floor, entry code, public transport, parking..."),
    )
    step_free = models.BooleanField(
        _("step-free access"),
        default=False,
        help_text=_("Patients in a wheelchair can reach the consulting room."),
    )

    class Meta:
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        indexes = [
            models.Index(fields=["latitude", "longitude"], name="location_coords")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__gte=-90, latitude__lte=90)
                & Q(longitude__gte=-180, longitude__lte=180),
                name="location_coordinates_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.address}, {self.postcode} {self.city}"


class FeeSector(models.TextChoices):
    """How a practitioner's fees are set and refunded, per country."""

    FR_1 = "fr_1", _("Secteur 1 (regulated fees)")
    FR_2 = "fr_2", _("Secteur 2 (extra fees allowed)")
    FR_NC = "fr_nc", _("Non conventionné (barely refunded by health insurance)")
    DE_GKV = "de_gkv", _("Statutory health insurance")
    DE_PRIVATE = "de_private", _("Private patients only")
    IT_SSN = "it_ssn", _("National health service (SSN)")
    IT_PRIVATE = "it_private", _("Private")


class Practitioner(BaseModel):
    """A health professional (FHIR Practitioner)."""

    class IdentifierSystem(models.TextChoices):
        RPPS = "rpps", _("RPPS (France)")
        LANR = "lanr", _("LANR (Germany)")
        FNOMCEO = "fnomceo", _("FNOMCeO register (Italy)")

    account = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="practitioner",
    )
    title = models.CharField(_("title"), max_length=20, blank=True)
    first_name = models.CharField(_("first name"), max_length=150)
    last_name = models.CharField(_("last name"), max_length=150, db_index=True)
    identifier_system = models.CharField(
        _("identifier system"), max_length=16, choices=IdentifierSystem
    )
    identifier = models.CharField(_("professional identifier"), max_length=32)
    specialty = models.ForeignKey(
        Specialty,
        verbose_name=_("specialty"),
        on_delete=models.PROTECT,
        related_name="practitioners",
    )
    languages = models.JSONField(
        _("spoken languages"), default=list, blank=True, help_text=_("ISO 639-1 codes")
    )
    fee_sector = models.CharField(
        _("fee sector"), max_length=16, choices=FeeSector, blank=True
    )
    fees = models.CharField(
        _("fees"),
        max_length=255,
        blank=True,
        help_text=_("Short text shown to patients, e.g. “Consultation 30 €”."),
    )
    bio = models.TextField(_("presentation"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("practitioner")
        verbose_name_plural = _("practitioners")
        constraints = [
            models.UniqueConstraint(
                fields=["identifier_system", "identifier"],
                name="practitioner_identifier_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """Title and full name, as shown to patients."""
        return " ".join(p for p in (self.title, self.first_name, self.last_name) if p)


class PractitionerRole(BaseModel):
    """A practitioner working at a practice, at one of its locations (FHIR PractitionerRole)."""

    practitioner = models.ForeignKey(
        Practitioner,
        verbose_name=_("practitioner"),
        on_delete=models.CASCADE,
        related_name="roles",
    )
    practice = models.ForeignKey(
        Practice,
        verbose_name=_("practice"),
        on_delete=models.CASCADE,
        related_name="roles",
    )
    location = models.ForeignKey(
        Location,
        verbose_name=_("location"),
        on_delete=models.PROTECT,
        related_name="roles",
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("practitioner role")
        verbose_name_plural = _("practitioner roles")
        constraints = [
            models.UniqueConstraint(
                fields=["practitioner", "practice", "location"],
                name="practitioner_role_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.practitioner} @ {self.practice}"


class SearchEntry(models.Model):
    """One bookable agenda as search sees it: denormalised text, filters, next free slots.

    Derived data, rebuilt by `services.reindex_agendas` (never edited by hand);
    the `next_*` columns are written only by `services.record_next_availability`
    (booking keeps them fresh) and survive a reindex. The text index lives
    beside the table: a generated tsvector with GIN indexes on PostgreSQL, an
    FTS5 table kept in sync by triggers on SQLite (see migrations 0003).
    """

    agenda = models.OneToOneField(
        "scheduling.Agenda",
        verbose_name=_("agenda"),
        on_delete=models.CASCADE,
        related_name="search_entry",
    )
    practitioner = models.ForeignKey(
        Practitioner,
        verbose_name=_("practitioner"),
        on_delete=models.CASCADE,
        related_name="search_entries",
    )
    practice = models.ForeignKey(
        Practice,
        verbose_name=_("practice"),
        on_delete=models.CASCADE,
        related_name="search_entries",
    )
    location = models.ForeignKey(
        Location,
        verbose_name=_("location"),
        on_delete=models.CASCADE,
        related_name="search_entries",
    )
    specialty = models.ForeignKey(
        Specialty,
        verbose_name=_("specialty"),
        on_delete=models.CASCADE,
        related_name="search_entries",
    )
    document = models.TextField(_("indexed text"))
    country = models.CharField(_("country"), max_length=2, choices=Country)
    city = models.CharField(_("city"), max_length=120)
    city_key = models.CharField(
        _("city (folded)"),
        max_length=120,
        help_text=_("Lower case, without accents: what place searches compare."),
    )
    postcode = models.CharField(_("postcode"), max_length=16)
    latitude = models.FloatField(_("latitude"))
    longitude = models.FloatField(_("longitude"))
    languages = models.JSONField(_("spoken languages"), default=list, blank=True)
    fee_sector = models.CharField(
        _("fee sector"), max_length=16, choices=FeeSector, blank=True
    )
    accepts_new_patients = models.BooleanField(_("open to new patients"), default=False)
    has_video = models.BooleanField(_("video consultations"), default=False)
    next_slot_at = models.DateTimeField(_("next free slot"), null=True, blank=True)
    next_new_slot_at = models.DateTimeField(
        _("next free slot for a new patient"), null=True, blank=True
    )
    next_video_slot_at = models.DateTimeField(
        _("next free video slot"), null=True, blank=True
    )
    indexed_at = models.DateTimeField(_("indexed at"), auto_now=True)

    class Meta:
        verbose_name = _("search entry")
        verbose_name_plural = _("search entries")
        indexes = [
            # city_key and postcode (prefix searches) are indexed by migration
            # 0004, per vendor: covering indexes on PostgreSQL.
            models.Index(fields=["latitude", "longitude"], name="search_coords"),
            models.Index(fields=["specialty", "next_slot_at"], name="search_specialty"),
            models.Index(fields=["fee_sector"], name="search_fee_sector"),
            models.Index(fields=["next_slot_at"], name="search_next_slot"),
            models.Index(fields=["next_new_slot_at"], name="search_next_new_slot"),
            models.Index(
                fields=["next_video_slot_at"],
                name="search_next_video_slot",
                condition=Q(has_video=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.practitioner_id}@{self.agenda_id}"
