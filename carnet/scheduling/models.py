"""When a practitioner can be booked (FHIR Schedule), for what, and when not."""

import zoneinfo
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from carnet.core.models import BaseModel


def validate_time_zone(value: str) -> None:
    """Accept only IANA zone names known to this system."""
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone: %(zone)s"), params={"zone": value})


class Agenda(BaseModel):
    """One bookable line: a practitioner at a location, in one time zone (FHIR Schedule)."""

    practice = models.ForeignKey(
        "directory.Practice",
        verbose_name=_("practice"),
        on_delete=models.CASCADE,
        related_name="agendas",
    )
    practitioner = models.ForeignKey(
        "directory.Practitioner",
        verbose_name=_("practitioner"),
        on_delete=models.CASCADE,
        related_name="agendas",
    )
    location = models.ForeignKey(
        "directory.Location",
        verbose_name=_("location"),
        on_delete=models.PROTECT,
        related_name="agendas",
    )
    name = models.CharField(_("name"), max_length=120, blank=True)
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default="Europe/Paris",
        validators=[validate_time_zone],
    )
    subdivision = models.CharField(
        _("region for public holidays"),
        max_length=16,
        blank=True,
        help_text=_(
            "Region whose public holidays apply besides the national ones, "
            "e.g. BY (Bavaria), 57 (Moselle), RM (Rome)."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("agenda")
        verbose_name_plural = _("agendas")

    def __str__(self) -> str:
        return self.name or f"{self.practitioner} ({self.location.city})"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The agenda's zone as a ZoneInfo."""
        return zoneinfo.ZoneInfo(self.time_zone)


DEFAULT_MOTIVE_COLOUR = "#3D7EAA"


class Currency(models.TextChoices):
    """Currencies prices are shown in (every market Carnet serves uses the euro)."""

    EUR = "EUR", _("euro")


class VisitMotive(BaseModel):
    """What a patient books: a kind of visit with its duration and booking rules."""

    class Channel(models.TextChoices):
        IN_PERSON = "in_person", pgettext_lazy("channel", "in person")
        VIDEO = "video", pgettext_lazy("channel", "video")
        PHONE = "phone", pgettext_lazy("channel", "phone")

    agenda = models.ForeignKey(
        Agenda,
        verbose_name=_("agenda"),
        on_delete=models.CASCADE,
        related_name="motives",
    )
    name = models.CharField(_("name"), max_length=120)
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), default=20
    )
    channel = models.CharField(
        _("channel"), max_length=16, choices=Channel, default=Channel.IN_PERSON
    )
    open_to_new_patients = models.BooleanField(_("open to new patients"), default=True)
    min_notice_minutes = models.PositiveIntegerField(
        _("minimum notice (minutes)"), default=60
    )
    horizon_days = models.PositiveSmallIntegerField(
        _("booking horizon (days)"), default=90
    )
    cancellation_cutoff_hours = models.PositiveSmallIntegerField(
        _("cancellation cut-off (hours)"), default=24
    )
    colour = models.CharField(
        _("colour"),
        max_length=7,
        default=DEFAULT_MOTIVE_COLOUR,
        help_text=_("Colour of this motive's appointments in the agenda (#RRGGBB)."),
    )
    # Money as integer minor units plus an ISO 4217 currency (STYLE C3.7).
    price_minor = models.PositiveIntegerField(_("price (cents)"), null=True, blank=True)
    currency = models.CharField(
        _("currency"), max_length=3, choices=Currency, default=Currency.EUR
    )
    # [{"label": str, "required": bool}, ...] asked to the patient at booking.
    booking_questions = models.JSONField(
        _("booking questions"), default=list, blank=True
    )
    is_active = models.BooleanField(_("active"), default=True)
    reminders_enabled = models.BooleanField(
        _("send reminders for this motive"),
        default=True,
        help_text=_(
            "Turn off for motives where a reminder would itself reveal too much, "
            "or makes no sense."
        ),
    )

    class Meta:
        verbose_name = _("visit motive")
        verbose_name_plural = _("visit motives")
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=5, duration_minutes__lte=480),
                name="motive_duration_range",
            ),
            models.CheckConstraint(
                condition=Q(horizon_days__gte=1), name="motive_horizon_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def price(self) -> Decimal | None:
        """The price in major units (euros), or None when not shown."""
        if self.price_minor is None:
            return None
        return Decimal(self.price_minor).scaleb(-2)

    @property
    def duration(self) -> timedelta:
        """Length of one visit."""
        return timedelta(minutes=self.duration_minutes)

    @property
    def min_notice(self) -> timedelta:
        """How long before the start a booking must be made."""
        return timedelta(minutes=self.min_notice_minutes)

    @property
    def horizon(self) -> timedelta:
        """How far ahead a booking may be made."""
        return timedelta(days=self.horizon_days)

    @property
    def cancellation_cutoff(self) -> timedelta:
        """How long before the start a patient may still cancel or move."""
        return timedelta(hours=self.cancellation_cutoff_hours)


class OpeningRule(BaseModel):
    """Weekly wall-clock opening hours of an agenda, for some or all of its motives.

    An empty `motives` set means the rule accepts every motive of the agenda.
    """

    class Weekday(models.IntegerChoices):
        MONDAY = 0, pgettext_lazy("weekday", "Monday")
        TUESDAY = 1, pgettext_lazy("weekday", "Tuesday")
        WEDNESDAY = 2, pgettext_lazy("weekday", "Wednesday")
        THURSDAY = 3, pgettext_lazy("weekday", "Thursday")
        FRIDAY = 4, pgettext_lazy("weekday", "Friday")
        SATURDAY = 5, pgettext_lazy("weekday", "Saturday")
        SUNDAY = 6, pgettext_lazy("weekday", "Sunday")

    agenda = models.ForeignKey(
        Agenda,
        verbose_name=_("agenda"),
        on_delete=models.CASCADE,
        related_name="opening_rules",
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday)
    opens_time = models.TimeField(_("opens at"))
    closes_time = models.TimeField(_("closes at"))
    valid_on = models.DateField(_("valid from"), null=True, blank=True)
    valid_until_on = models.DateField(_("valid until"), null=True, blank=True)
    motives = models.ManyToManyField(
        VisitMotive, verbose_name=_("motives"), blank=True, related_name="opening_rules"
    )

    class Meta:
        verbose_name = _("opening rule")
        verbose_name_plural = _("opening rules")
        ordering = ["weekday", "opens_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_time__gt=F("opens_time")),
                name="opening_closes_after_opens",
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6),
                name="opening_weekday_range",
            ),
            models.CheckConstraint(
                condition=Q(valid_on__isnull=True)
                | Q(valid_until_on__isnull=True)
                | Q(valid_until_on__gte=F("valid_on")),
                name="opening_validity_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens_time:%H:%M}–{self.closes_time:%H:%M}"


class Absence(BaseModel):
    """A period when an agenda takes no booking (holiday, training...)."""

    agenda = models.ForeignKey(
        Agenda,
        verbose_name=_("agenda"),
        on_delete=models.CASCADE,
        related_name="absences",
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    label = models.CharField(_("label"), max_length=120, blank=True)
    # Set on the full-day absences created from the public holidays calendar:
    # one per agenda and day, which makes applying the calendar idempotent.
    holiday_on = models.DateField(_("public holiday"), null=True, blank=True)

    class Meta:
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        indexes = [
            models.Index(fields=["agenda", "starts_at"], name="absence_agenda_start")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="absence_ends_after_start"
            ),
            models.UniqueConstraint(
                fields=["agenda", "holiday_on"],
                condition=Q(holiday_on__isnull=False),
                name="absence_one_per_holiday",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agenda_id}: {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%Y-%m-%d %H:%M}"


class AgendaFeed(BaseModel):
    """A secret, revocable iCalendar feed URL of one agenda; only the token's SHA-256 is stored.

    The feed shows busy times with minimal content: never the visit reason,
    and the patient's name only when `show_patient_names` is set.
    """

    agenda = models.ForeignKey(
        Agenda,
        verbose_name=_("agenda"),
        on_delete=models.CASCADE,
        related_name="feeds",
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(_("prefix"), max_length=12)
    digest = models.CharField(_("digest"), max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    show_patient_names = models.BooleanField(_("show patient names"), default=False)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.agenda_id})"

    @property
    def is_active(self) -> bool:
        """Whether the feed URL still works."""
        return self.revoked_at is None
